//! Conditional steps in the playbook: a step's `when` probe runs first and its result becomes
//! the step's `when:`; a question becomes a play variable that defaults to off. Conditional
//! service advice and SIDs the article is unsure of stay behind such variables too.

use crate::core::runbook::{Action, Program, Runbook, Step, ToolKind, When, WhenTest, words};
use crate::core::services::ServicePolicy;
use crate::core::shell_quote;
use crate::core::snort;
use crate::core::yaml::Yaml;

use super::ansible::{Export, Task, one_task_or_block, step_name, task};
use super::jinja::{self, Piece};

/// The play variable that stands for a step's question.
pub(super) fn question_var(step: &Step) -> String {
    format!("when_{}", step.id.replace('-', "_"))
}

/// Variable of the conditional services (off unless asked).
pub(super) const CONDITIONAL_SERVICES: &str = "prune_conditional_services";
/// Variable of the SIDs the article is unsure of (left enabled unless asked).
pub(super) const MAYBE_SIDS: &str = "disable_maybe_sids";

/// Every off-by-default switch of the playbook, with the question it answers.
pub(super) fn switches(rb: &Runbook) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (_, step) in rb.steps() {
        if let Some(When {
            test: WhenTest::Ask(q),
            ..
        }) = &step.when
        {
            out.push((question_var(step), format!("{} (step {})", q, step.id)));
        }
        match &step.action {
            Action::Tool {
                tool: ToolKind::Services,
            } if has_conditional_services() => out.push((
                CONDITIONAL_SERVICES.to_string(),
                "Also turn off the services whose advice is conditional (iSCSI, LVM, NFS...): \
                 does none of them apply here?"
                    .to_string(),
            )),
            Action::Tool {
                tool: ToolKind::SnortRules,
            } if !maybe_sids().is_empty() => out.push((
                MAYBE_SIDS.to_string(),
                format!(
                    "Also disable the SIDs the article is unsure of ({}): do they block you too?",
                    maybe_sids()
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            _ => {}
        }
    }
    out.dedup();
    out
}

fn has_conditional_services() -> bool {
    ServicePolicy::clearos().is_ok_and(|p| p.services.iter().any(|s| s.unless.is_some()))
}

/// The article's SIDs marked `maybe`.
pub(super) fn maybe_sids() -> Vec<u64> {
    snort::article_sids()
        .map(|l| l.iter().filter(|s| s.maybe).map(|s| s.sid).collect())
        .unwrap_or_default()
}

/// A conditional step: the probe (if any) as a task that never fails or changes, then the
/// step's tasks in a block whose `when:` is the probe's exit status or the question's variable.
pub(super) fn conditional_step(ex: &Export, step: &Step, when: &When, tasks: Vec<Task>) -> Yaml {
    let name = step_name(step);
    let inner = one_task_or_block(&name, tasks);
    let (probe, condition) = match &when.test {
        WhenTest::Ask(_) => (None, format!("{} | bool", question_var(step))),
        WhenTest::Probe(program) => (
            Some(probe_task(ex, &name, program)),
            "fb_when.rc == 0".to_string(),
        ),
    };
    let guarded = match inner {
        Yaml::Map(mut pairs) => {
            pairs.push(("when".into(), Yaml::str(condition)));
            Yaml::Map(pairs)
        }
        other => other,
    };
    match probe {
        None => guarded,
        Some(p) => Yaml::map([
            (
                "name",
                super::ansible::literal(&format!("{name} (if it applies)")),
            ),
            ("block", Yaml::Seq(vec![Yaml::Map(p), guarded])),
        ]),
    }
}

fn probe_task(ex: &Export, name: &str, program: &Program) -> Task {
    let sub = format!("{name} (does it apply?)");
    let mut t = if ex.old() {
        let mut line: Vec<Piece> = Vec::new();
        match program {
            Program::Argv(argv) => line.extend(jinja::shell_line(&words(argv))),
            Program::Script { shell, script } => {
                for v in &ex.used {
                    line.push(Piece::Lit(format!("FB_{}=", v.name)));
                    line.push(Piece::Expr(format!("{} | quote", v.name)));
                    line.push(Piece::Lit(" ".into()));
                }
                line.push(Piece::Lit(format!(
                    "{} -c {}",
                    shell_quote::quote(shell),
                    shell_quote::quote(script)
                )));
            }
        }
        task(
            sub,
            "ansible.builtin.raw",
            Yaml::map([("_raw_params", jinja::render(&line))]),
        )
    } else {
        let argv: Vec<Yaml> = match program {
            Program::Argv(argv) => argv.iter().map(|a| jinja::template(a.text())).collect(),
            Program::Script { shell, script } => vec![
                super::ansible::literal(shell),
                Yaml::str("-c"),
                super::ansible::literal(script),
            ],
        };
        let mut t = task(
            sub,
            "ansible.builtin.command",
            Yaml::map([("argv", Yaml::Seq(argv))]),
        );
        if matches!(program, Program::Script { .. }) {
            t.push(("environment".into(), ex.script_env()));
        }
        t
    };
    t.push(("register".into(), Yaml::str("fb_when")));
    t.push(("failed_when".into(), Yaml::Bool(false)));
    t.push(("changed_when".into(), Yaml::Bool(false)));
    t
}

#[cfg(test)]
mod tests {
    use super::super::ansible::{TargetPython, playbook};
    use crate::core::runbook::load_str;

    const BOOK: &str = r#"
id = "t"
title = "T"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "perl-cleaner"
title = "Perl"
why = "w"
kind = "command"
commands = [["perl-cleaner", "all"]]
when = { probe = ["test", "-e", "/x"], not_needed = "no perl" }
[[section.step]]
id = "blocked"
title = "Blocked"
why = "w"
kind = "manual"
when = { ask = "Blocked?", not_needed = "nothing blocked" }
"#;

    #[test]
    fn probes_become_when_and_questions_default_off() {
        let rb = load_str("t.toml", BOOK).unwrap();
        let out = playbook(&rb, TargetPython::Modern);
        assert!(out.contains("(does it apply?)"), "{out}");
        assert!(out.contains("register: fb_when"), "{out}");
        assert!(out.contains("when: \"fb_when.rc == 0\""), "{out}");
        assert!(out.contains("when_blocked: false"), "{out}");
        assert!(out.contains("when: \"when_blocked | bool\""), "{out}");
        assert!(out.contains("#   when_blocked: Blocked?"), "{out}");
        let old = playbook(&rb, TargetPython::Old);
        assert!(old.contains("_raw_params: !unsafe test -e /x"), "{old}");
    }
}
