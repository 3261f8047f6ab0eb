//! Before a step runs: its order and `when` (answered beforehand or probed), and the values it needs.

use super::*;
use crate::core::conditions::{self, Gate};
use crate::core::exit::UsageError;
use crate::core::runbook::{Action, RunSpec, Step};
use crate::core::runner::CheckResult;

impl Context<'_> {
    /// Order and condition before anything else (`core::conditions::gate`): `Err` is how the
    /// step ends without starting; `Ok` the prerequisites run past with `--force`.
    pub(super) fn gate(&self, step: &Step) -> anyhow::Result<Result<Vec<String>, StepEnd>> {
        let practice = self.settings.practice;
        let gate = conditions::gate(
            step,
            &self.values,
            |id| self.status(id),
            self.force,
            // Practice mode runs nothing, probes included: every step is walked through.
            |cmd| {
                if practice {
                    CheckResult::AlreadyDone
                } else {
                    crate::core::exec::run_check(&self.settings.machine.0, cmd)
                }
            },
        );
        Ok(match gate {
            Gate::Go { forced } => Ok(forced),
            Gate::OutOfOrder(unmet) => {
                let ids: Vec<&str> = unmet.iter().map(String::as_str).collect();
                Err(StepEnd::OutOfOrder(conditions::out_of_order_message(
                    step, &ids,
                )))
            }
            Gate::NotNeeded(why) => {
                let reason = conditions::not_needed_outcome(&why);
                self.store.borrow_mut().skip(&step.id, &reason)?;
                say(&format!("[-] {}: {reason}", step.id));
                Err(StepEnd::NotNeeded(reason))
            }
            Gate::Ask(question) if self.answers.contains_key(&step.id) => {
                let yes = self.answers.get(&step.id).copied().unwrap_or(false);
                self.answered(step, &question, yes)?
            }
            Gate::Ask(question) if self.ask_stops => Err(StepEnd::NeedsTerminal(format!(
                "it applies only sometimes (\"{}\"): answer in the app, or run it with \
                 `fieldbook exec {} {}`",
                question.trim(),
                self.runbook.id,
                step.id
            ))),
            Gate::Ask(question) => {
                say(&format!(
                    "{} applies only if: {} (running it because you asked for it)",
                    step.id,
                    question.trim()
                ));
                Ok(Vec::new())
            }
            Gate::ProbeFailed(why) => Err(StepEnd::NotDone(format!(
                "cannot tell whether the step applies here: {why}"
            ))),
        })
    }

    /// A question the technician answered beforehand: the answer is noted on the step; yes
    /// goes on to run it, no records it skipped as not needed, as a probe's no is.
    pub(super) fn answered(
        &self,
        step: &Step,
        question: &str,
        yes: bool,
    ) -> anyhow::Result<Result<Vec<String>, StepEnd>> {
        let note = format!(
            "answered {} to \"{}\" (--answer)",
            if yes { "yes" } else { "no" },
            question.trim()
        );
        self.store.borrow_mut().note(&step.id, &note)?;
        if yes {
            say(&format!("{}: {note}", step.id));
            return Ok(Ok(Vec::new()));
        }
        let why = step.when.as_ref().map_or("", |w| w.not_needed.as_str());
        let reason = conditions::not_needed_outcome(why);
        self.store.borrow_mut().skip(&step.id, &reason)?;
        say(&format!("[-] {}: {reason}", step.id));
        Ok(Err(StepEnd::NotNeeded(reason)))
    }

    /// Why a step cannot run here, if it cannot (manual, interactive, a tool, a form without
    /// its values, a confirmation not given, a missing variable).
    pub fn blocker(&self, step: &Step) -> Result<Option<String>, UsageError> {
        let reason = match &step.action {
            Action::Manual => Some("it is a manual step: read it and confirm it in the app".into()),
            Action::Tool { tool } => Some(format!(
                "it opens the {} tool screen, which needs the app",
                tool.name()
            )),
            Action::Form { fields } => {
                let missing: Vec<&String> = fields
                    .iter()
                    .filter(|f| !self.values.contains_key(*f))
                    .collect();
                if missing.is_empty() {
                    None
                } else {
                    Some(format!(
                        "it asks for values ({}); give them with --var NAME=VALUE or use the app",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
            Action::Edit { .. } => None,
            Action::Run(spec) if spec.interactive && !self.settings.practice => Some(
                "it is interactive (it asks questions on the terminal): run it from the app".into(),
            ),
            Action::Run(spec) => {
                self.check_values(step, spec)?;
                None
            }
        };
        if reason.is_some() {
            return Ok(reason);
        }
        if let Some(confirm) = &step.confirm {
            if !self.yes {
                return Ok(Some(format!(
                    "it asks for confirmation (\"{}\"): add --yes to confirm, or use the app",
                    confirm.trim()
                )));
            }
        }
        Ok(None)
    }

    pub(super) fn check_values(&self, step: &Step, spec: &RunSpec) -> Result<(), UsageError> {
        match crate::core::exec::plan(self.runbook, spec, &self.values) {
            Ok(_) => Ok(()),
            Err(m) => Err(UsageError(format!(
                "step '{}' needs variable '{}'{}: give it with --var {}=VALUE",
                step.id, m.name, m.label, m.name
            ))),
        }
    }
}
