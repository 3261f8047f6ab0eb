//! Whether a step applies on this machine (its `when` probe or question) and whether the steps
//! it comes `after` are finished. The decisions live here; app, `exec` and `auto` only ask.

use std::collections::BTreeMap;

use super::progress::Status;
use super::runbook::{Program, Step, When, WhenTest};
use super::runner::{CheckResult, Command, script_env};

/// How long the app waits for a `when` probe (it runs where the step starts, before anything
/// else; a probe is meant to be a quick test such as `test -f /etc/rc.conf`).
pub const PROBE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Answers a step's `when` probe on the machine the session works on, `on` (this host, or the
/// `--host` over ssh: the same seam as a step's check), quietly, with [`PROBE_LIMIT`]; a
/// question or no `when` at all is `Applies` here: questions are asked before the step starts.
pub fn probe_here(
    on: &dyn super::machine::Machine,
    step: &Step,
    values: &BTreeMap<String, String>,
) -> Applicability {
    match decide(step, values, |c| {
        super::runner::run_check_on(on, c, PROBE_LIMIT)
    }) {
        Applicability::Ask(_) => Applicability::Applies,
        other => other,
    }
}

/// What a step's `when` says about this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicability {
    /// No condition, or the probe said yes (exit 0), or the technician answered yes.
    Applies,
    /// The probe said no: the reason the runbook gives (`not_needed`).
    NotNeeded(String),
    /// A question only the technician can answer.
    Ask(String),
    /// The probe could not run (missing program, time limit): the reason.
    Unknown(String),
}

/// The probe of a `when`, ready to run with the run's values (`None` for a question).
pub fn probe_command(when: &When, values: &BTreeMap<String, String>) -> Option<Command> {
    match &when.test {
        WhenTest::Probe(Program::Argv(argv)) => Some(Command {
            argv: super::runbook::resolve_argv(argv, values),
            env: Vec::new(),
        }),
        WhenTest::Probe(Program::Script { shell, script }) => Some(Command {
            argv: vec![shell.clone(), "-c".to_string(), script.clone()],
            env: script_env(values),
        }),
        WhenTest::Ask(_) => None,
    }
}

/// Decides whether `step` applies, running its probe (if any) with `run_probe`, which returns
/// what a check returns: success means "applies".
pub fn decide(
    step: &Step,
    values: &BTreeMap<String, String>,
    run_probe: impl FnOnce(&Command) -> CheckResult,
) -> Applicability {
    let Some(when) = &step.when else {
        return Applicability::Applies;
    };
    match probe_command(when, values) {
        None => match &when.test {
            WhenTest::Ask(q) => Applicability::Ask(q.clone()),
            WhenTest::Probe(_) => Applicability::Applies,
        },
        Some(cmd) => match run_probe(&cmd) {
            CheckResult::AlreadyDone => Applicability::Applies,
            CheckResult::NotDone => Applicability::NotNeeded(when.not_needed.clone()),
            CheckResult::Unknown(why) => Applicability::Unknown(why),
        },
    }
}

/// What a runner (app, `exec`, `auto`) must do with a step before starting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Start it. `forced` names the prerequisites run past with `--force` (to be recorded).
    Go {
        /// Prerequisites not done or skipped, run past on purpose.
        forced: Vec<String>,
    },
    /// Refuse: these prerequisites are not done or skipped.
    OutOfOrder(Vec<String>),
    /// Do not run it: record it skipped with [`not_needed_outcome`] of this reason.
    NotNeeded(String),
    /// A question for the technician decides.
    Ask(String),
    /// The probe could not run; the reason (the step is neither run nor skipped).
    ProbeFailed(String),
}

/// The one decision before a step starts: prerequisites first (unless `force`), then the
/// step's `when`. The probe runs only when the order allows the step.
pub fn gate(
    step: &Step,
    values: &BTreeMap<String, String>,
    status: impl Fn(&str) -> Status,
    force: bool,
    run_probe: impl FnOnce(&Command) -> CheckResult,
) -> Gate {
    let unmet: Vec<String> = unmet_prerequisites(step, status)
        .into_iter()
        .map(str::to_string)
        .collect();
    if !unmet.is_empty() && !force {
        return Gate::OutOfOrder(unmet);
    }
    match decide(step, values, run_probe) {
        Applicability::Applies => Gate::Go { forced: unmet },
        Applicability::NotNeeded(why) => Gate::NotNeeded(why),
        Applicability::Ask(q) => Gate::Ask(q),
        Applicability::Unknown(why) => Gate::ProbeFailed(why),
    }
}

/// The note recorded on a step run out of order with `--force`.
pub fn forced_note(unmet: &[String]) -> String {
    let ids: Vec<&str> = unmet.iter().map(String::as_str).collect();
    format!(
        "forced: run before {} (not done or skipped) with --force",
        quoted_list(&ids)
    )
}

/// The outcome recorded for a step skipped because it does not apply; shown after its `[-]`.
pub fn not_needed_outcome(why: &str) -> String {
    format!("not needed ({why})")
}

/// The steps named in `after` that are neither done nor skipped, in the order written.
pub fn unmet_prerequisites(step: &Step, status: impl Fn(&str) -> Status) -> Vec<&str> {
    step.after
        .iter()
        .map(String::as_str)
        .filter(|id| !status(id).is_finished())
        .collect()
}

/// The refusal for a step run out of order, naming what must come first.
pub fn out_of_order_message(step: &Step, unmet: &[&str]) -> String {
    format!(
        "'{}' must come after {} (not done or skipped yet); run {} first, or pass --force to \
         run it anyway (recorded as forced)",
        step.id,
        quoted_list(unmet),
        if unmet.len() == 1 { "it" } else { "them" }
    )
}

fn quoted_list(ids: &[&str]) -> String {
    let q: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
    match q.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::runbook::load_str;

    const BOOK: &str = r#"
id = "d"
title = "D"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "world"
title = "W"
why = "w"
kind = "manual"
[[section.step]]
id = "revdep"
title = "R"
why = "w"
kind = "manual"
[[section.step]]
id = "perl"
title = "P"
why = "w"
kind = "command"
commands = [["perl-cleaner", "all"]]
when = { probe = ["test", "-e", "/x"], not_needed = "perl was not upgraded" }
[[section.step]]
id = "blocked"
title = "B"
why = "w"
kind = "manual"
when = { ask = "Did emerge report blocked packages?", not_needed = "nothing was blocked" }
[[section.step]]
id = "depclean"
title = "D"
why = "w"
kind = "manual"
after = ["world", "revdep"]
"#;

    #[test]
    fn probes_and_questions_decide() {
        let rb = load_str("d.toml", BOOK).unwrap();
        let v = BTreeMap::new();
        let perl = rb.step("perl").unwrap();
        assert_eq!(
            decide(perl, &v, |c| {
                assert_eq!(c.argv, ["test", "-e", "/x"]);
                CheckResult::NotDone
            }),
            Applicability::NotNeeded("perl was not upgraded".into())
        );
        assert_eq!(
            decide(perl, &v, |_| CheckResult::AlreadyDone),
            Applicability::Applies
        );
        assert!(matches!(
            decide(rb.step("blocked").unwrap(), &v, |_| unreachable!()),
            Applicability::Ask(q) if q.starts_with("Did emerge")
        ));
        assert_eq!(
            decide(rb.step("world").unwrap(), &v, |_| unreachable!()),
            Applicability::Applies
        );
    }

    #[test]
    fn prerequisites_must_be_finished() {
        let rb = load_str("d.toml", BOOK).unwrap();
        let dep = rb.step("depclean").unwrap();
        assert_eq!(
            unmet_prerequisites(dep, |_| Status::Pending),
            ["world", "revdep"]
        );
        assert_eq!(
            unmet_prerequisites(dep, |id| if id == "world" {
                Status::Done
            } else {
                Status::Skipped
            }),
            Vec::<&str>::new()
        );
        let msg = out_of_order_message(dep, &["world", "revdep"]);
        assert!(msg.contains("'world' and 'revdep'"), "{msg}");
    }

    #[test]
    fn the_gate_checks_order_before_the_probe() {
        let rb = load_str("d.toml", BOOK).unwrap();
        let v = BTreeMap::new();
        let dep = rb.step("depclean").unwrap();
        assert_eq!(
            gate(dep, &v, |_| Status::Pending, false, |_| unreachable!()),
            Gate::OutOfOrder(vec!["world".into(), "revdep".into()])
        );
        assert_eq!(
            gate(dep, &v, |_| Status::Pending, true, |_| unreachable!()),
            Gate::Go {
                forced: vec!["world".into(), "revdep".into()]
            }
        );
        assert_eq!(
            gate(dep, &v, |_| Status::Done, false, |_| unreachable!()),
            Gate::Go { forced: vec![] }
        );
        let perl = rb.step("perl").unwrap();
        assert_eq!(
            gate(
                perl,
                &v,
                |_| Status::Pending,
                false,
                |_| CheckResult::NotDone
            ),
            Gate::NotNeeded("perl was not upgraded".into())
        );
        assert!(matches!(
            gate(
                perl,
                &v,
                |_| Status::Pending,
                false,
                |_| CheckResult::Unknown("x".into())
            ),
            Gate::ProbeFailed(_)
        ));
        assert_eq!(
            forced_note(&["world".into()]),
            "forced: run before 'world' (not done or skipped) with --force"
        );
    }

    #[test]
    fn the_format_reports_bad_conditions_where_they_are() {
        let bad = BOOK.replace("after = [\"world\", \"revdep\"]", "after = [\"wrold\"]");
        let p = load_str("d.toml", &bad).unwrap_err();
        assert!(p[0].message.contains("'wrold'"), "{p:?}");
        let line = bad.lines().position(|l| l.contains("wrold")).unwrap() + 1;
        assert_eq!(p[0].at.line, line);
        let bad = BOOK.replace("probe = [\"test\", \"-e\", \"/x\"], ", "");
        let p = load_str("d.toml", &bad).unwrap_err();
        assert!(p[0].message.contains("exactly one of"), "{p:?}");
        let bad = BOOK.replace("[\"test\", \"-e\", \"/x\"]", "[\"test\", \"{nope}\"]");
        let p = load_str("d.toml", &bad).unwrap_err();
        assert!(
            p[0].message.contains("'nope' is used but not declared"),
            "{p:?}"
        );
        let bad = BOOK.replace("[\"test\", \"-e\", \"/x\"]", "[]");
        let p = load_str("d.toml", &bad).unwrap_err();
        assert!(p[0].message.contains("empty argv"), "{p:?}");
    }
}
