//! `fieldbook auto ID`: run forward from the first unfinished step through every step that
//! needs nobody (not manual, not interactive, not destructive) and stop at the first one that
//! does, or at a failure, saying which and why. For serial consoles and for running the same
//! runbook on many machines.

use std::collections::BTreeMap;

use super::exec::{find_runbook, open};
use super::{GlobalOpts, UsageError, exit};
use crate::core::catalog::Catalog;
use crate::core::exec::headless::StepEnd;
use crate::core::runbook::{Runbook, WhenTest};

/// `fieldbook auto ID [--var NAME=VALUE]... [--answer STEP=yes|no]... [--force]`.
pub(super) fn auto(
    global: &GlobalOpts,
    catalog: &Catalog,
    id: &str,
    (given, answers): (&[String], &[String]),
    force: bool,
) -> anyhow::Result<u8> {
    let runbook = find_runbook(catalog, id)?;
    let answers = parse_answers(runbook, answers)?;
    // `auto` never confirms destructive steps on the technician's behalf, and never answers
    // a step's question for them: only the answers they gave with --answer.
    let mut ctx = open(global, runbook, given, false)?;
    ctx.force = force;
    ctx.ask_stops = true;
    ctx.answers = answers;
    let mut ran = 0;
    for (_, step) in runbook.steps() {
        if ctx.status(&step.id).is_finished() {
            continue;
        }
        if step.reboot {
            crate::core::stdio::eprint_line(&format!(
                "fieldbook: stopped at '{}' ({}): it reboots the machine; do it from the app",
                step.id, step.title
            ));
            return Ok(exit::NEEDS_TERMINAL);
        }
        match ctx.run_step(step)? {
            StepEnd::Done => ran += 1,
            StepEnd::NotNeeded(_) => {}
            StepEnd::OutOfOrder(message) => {
                crate::core::stdio::eprint_line(&format!(
                    "fieldbook: stopped at '{}' ({}): {message}. {ran} step(s) done by auto.",
                    step.id, step.title
                ));
                return Ok(exit::FAILURE);
            }
            StepEnd::NeedsTerminal(reason) => {
                crate::core::stdio::eprint_line(&format!(
                    "fieldbook: stopped at '{}' ({}): {reason}. {ran} step(s) done by auto.",
                    step.id, step.title
                ));
                return Ok(exit::NEEDS_TERMINAL);
            }
            StepEnd::StillRunning(message) => {
                crate::core::stdio::eprint_line(&format!(
                    "fieldbook: stopped at '{}' ({}): {message}. {ran} step(s) done by auto.",
                    step.id, step.title
                ));
                return Ok(exit::STILL_RUNNING);
            }
            StepEnd::NotDone(message) => {
                crate::core::stdio::eprint_line(&format!(
                    "fieldbook: stopped at '{}' ({}): it did not succeed: {message}. Read its \
                     why with `fieldbook show {id}`; retry with `fieldbook exec {id} {}`.",
                    step.id, step.title, step.id
                ));
                return Ok(exit::FAILURE);
            }
        }
    }
    crate::core::stdio::eprint_line(&format!(
        "fieldbook: every step of '{id}' is finished ({ran} run by auto)."
    ));
    Ok(exit::OK)
}

/// Parses `--answer STEP=yes|no` against the runbook: the step must exist and ask a question.
fn parse_answers(
    runbook: &Runbook,
    given: &[String],
) -> Result<BTreeMap<String, bool>, UsageError> {
    let mut answers = BTreeMap::new();
    for item in given {
        let Some((step_id, answer)) = item.split_once('=') else {
            return Err(UsageError(format!(
                "--answer '{item}' must be STEP=yes or STEP=no"
            )));
        };
        let yes = match answer {
            "yes" => true,
            "no" => false,
            _ => {
                return Err(UsageError(format!(
                    "--answer '{item}': the answer must be yes or no"
                )));
            }
        };
        let asks = runbook
            .step(step_id)
            .and_then(|s| s.when.as_ref())
            .is_some_and(|w| matches!(w.test, WhenTest::Ask(_)));
        if !asks {
            let asking: Vec<&str> = runbook
                .steps()
                .filter(|(_, s)| {
                    s.when
                        .as_ref()
                        .is_some_and(|w| matches!(w.test, WhenTest::Ask(_)))
                })
                .map(|(_, s)| s.id.as_str())
                .collect();
            return Err(UsageError(format!(
                "--answer '{item}': runbook '{}' has no step '{step_id}' that asks a question \
                 (steps that do: {})",
                runbook.id,
                if asking.is_empty() {
                    "none".to_string()
                } else {
                    asking.join(", ")
                }
            )));
        }
        answers.insert(step_id.to_string(), yes);
    }
    Ok(answers)
}
