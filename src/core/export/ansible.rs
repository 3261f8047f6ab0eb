//! The Ansible playbook of a runbook: one play for `hosts: all`, the runbook's variables as play
//! vars checked by `assert` tasks, then one task (or one named block) per step, named
//! `<step id>: <title>`.

use std::collections::BTreeSet;

use crate::core::runbook::{Action, Arg, Program, Runbook, Step, Variable};
use crate::core::vars::{self, VarType};
use crate::core::yaml::{self, Yaml};

use super::jinja::jinja_string;
use super::{commands, edits, tools};

/// Which Python the managed hosts have, which decides which Ansible modules can run there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetPython {
    /// A Python that current Ansible modules support: the natural modules are used.
    Modern,
    /// An old Python (ClearOS 5 ships 2.4) that current Ansible cannot drive: every action on
    /// the host is an `ansible.builtin.raw` shell command, each argument shell-quoted.
    Old,
}

/// One task: ordered `key: value` pairs.
pub(super) type Task = Vec<(String, Yaml)>;

/// Builds a task `name` that calls `module` with `args`.
pub(super) fn task(name: impl Into<String>, module: &str, args: Yaml) -> Task {
    vec![
        ("name".into(), literal(&name.into())),
        (module.into(), args),
    ]
}

/// Builds a `raw` task: one shell command line run by `/bin/sh -c` on the host, no Python.
/// The command says "already applied" / "already done" when it changed nothing, which is what
/// Ansible reports as unchanged. The line is given as `_raw_params`, not free-form: Ansible
/// splits a free-form line at parse time and refuses one with an unbalanced `{{` or `{#`.
pub(super) fn raw(name: impl Into<String>, line: Yaml) -> Task {
    let mut t = task(
        name,
        "ansible.builtin.raw",
        Yaml::map([("_raw_params", line)]),
    );
    t.push(("register".into(), Yaml::str("fb_raw")));
    t.push((
        "changed_when".into(),
        Yaml::str("'already applied' not in fb_raw.stdout and 'already done' not in fb_raw.stdout"),
    ));
    t
}

/// A pause that shows `prompt` and waits for Enter (skipped when Ansible has no terminal).
pub(super) fn pause(name: impl Into<String>, prompt: impl Into<String>) -> Task {
    task(
        name,
        "ansible.builtin.pause",
        Yaml::map([("prompt", Yaml::Unsafe(prompt.into()))]),
    )
}

/// What the exporter knows while it writes one runbook.
pub(super) struct Export<'a> {
    /// The runbook.
    pub rb: &'a Runbook,
    /// Old or modern targets.
    pub python: TargetPython,
    /// The variables the exported steps use (a one-section export needs only its own).
    pub used: Vec<&'a Variable>,
}

impl Export<'_> {
    /// True for `--target-python old`: everything on the host through `raw`.
    pub fn old(&self) -> bool {
        self.python == TargetPython::Old
    }

    /// `FB_<name>` environment for a script, as Ansible `environment`.
    pub fn script_env(&self) -> Yaml {
        Yaml::Map(
            self.used
                .iter()
                .map(|v| {
                    (
                        format!("FB_{}", v.name),
                        Yaml::str(format!("{{{{ {} }}}}", v.name)),
                    )
                })
                .collect(),
        )
    }
}

/// Writes the playbook performing `rb` on every host of the inventory.
pub fn playbook(rb: &Runbook, python: TargetPython) -> String {
    let names = used_variables(rb);
    let used: Vec<&Variable> = rb
        .variables
        .iter()
        .filter(|v| names.contains(&v.name))
        .collect();
    let ex = Export { rb, python, used };
    let mut tasks = Vec::new();
    if !ex.used.is_empty() {
        tasks.push(Yaml::Map(assert_task(
            "variables: check every value before anything changes",
            &ex.used,
        )));
    }
    for (_, step) in rb.steps() {
        tasks.push(step_task(&ex, step));
    }
    let mut vars: Vec<(String, Yaml)> = ex
        .used
        .iter()
        .filter_map(|v| v.default.as_ref().map(|d| (v.name.clone(), literal(d))))
        .collect();
    // Conditional advice stays off unless asked for: questions, conditional services, SIDs
    // the article is unsure of.
    vars.extend(
        super::conditions::switches(rb)
            .into_iter()
            .map(|(name, _)| (name, Yaml::Bool(false))),
    );
    let play = Yaml::map([
        (
            "name",
            literal(&format!("{} (fieldbook runbook {})", rb.title, rb.id)),
        ),
        ("hosts", Yaml::str("all")),
        ("gather_facts", Yaml::Bool(false)),
        ("vars", Yaml::Map(vars)),
        ("tasks", Yaml::Seq(tasks)),
    ]);
    let mut out = header(&ex);
    out.push_str(&yaml::to_string(&Yaml::Seq(vec![play])));
    out
}

/// A value that must reach Ansible as written, never templated.
pub(super) fn literal(s: &str) -> Yaml {
    Yaml::Unsafe(s.to_string())
}

/// Runbook text made safe for a `# ` comment line: one line, with control characters and every
/// character some YAML reader takes for a line break (`\r`, NEL, LS, PS) replaced, so the text
/// can never end the comment and start YAML of its own.
fn comment_text(s: &str) -> String {
    one_line(s)
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') {
                '?'
            } else {
                c
            }
        })
        .collect()
}

fn header(ex: &Export) -> String {
    let rb = ex.rb;
    let mut lines = vec![
        "---".to_string(),
        format!(
            "# {} — exported by fieldbook from runbook '{}'.",
            comment_text(&rb.title),
            comment_text(&rb.id)
        ),
        "# One task per step, named '<step id>: <title>'. Manual steps pause with the step's"
            .into(),
        "# explanation (a run without a terminal does not wait at pauses).".into(),
    ];
    if ex.old() {
        lines.extend([
            "#".to_string(),
            "# TARGET PYTHON: OLD. These hosts have a Python that Ansible's modules cannot use (ClearOS 5".into(),
            "# ships Python 2.4), so every action on a host is an ansible.builtin.raw shell command with".into(),
            "# each argument single-quoted, and facts are not gathered. Assert and pause run on the".into(),
            "# controller. The hosts need a POSIX /bin/sh, and awk, cat, ls, ln and chmod for edits.".into(),
        ]);
    }
    let switches = super::conditions::switches(rb);
    if !switches.is_empty() {
        lines.push("#".into());
        lines.push(
            "# Conditional steps and advice, off unless you say so (-e NAME=true), each a question:"
                .into(),
        );
        for (name, question) in &switches {
            lines.push(format!("#   {name}: {}", comment_text(question)));
        }
    }
    if !ex.used.is_empty() {
        lines.push("#".into());
        lines.push(
            "# Variables (override with -e NAME=VALUE; each is checked before anything changes):"
                .into(),
        );
        for v in &ex.used {
            let need = if v.default.is_none() {
                " — REQUIRED, no default"
            } else {
                ""
            };
            lines.push(format!(
                "#   {} ({}): {}{}",
                comment_text(&v.name),
                v.ty.name(),
                comment_text(&v.label),
                need
            ));
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Names of the variables the runbook's steps refer to: `{name}` in commands, `shows` and edits, the
/// fields of forms, and `$FB_name` in scripts.
fn used_variables(rb: &Runbook) -> BTreeSet<String> {
    let mut texts: Vec<&str> = Vec::new();
    let mut names = BTreeSet::new();
    for (_, step) in rb.steps() {
        match &step.action {
            Action::Run(spec) => {
                for p in &spec.programs {
                    match p {
                        Program::Argv(argv) => {
                            for a in argv {
                                match a {
                                    Arg::Word(w) => texts.push(w),
                                    Arg::Optional(o) => {
                                        names.insert(o.var.clone());
                                    }
                                }
                            }
                        }
                        Program::Script { script, .. } => {
                            for v in &rb.variables {
                                if script.contains(&format!("FB_{}", v.name)) {
                                    names.insert(v.name.clone());
                                }
                            }
                        }
                    }
                }
                texts.extend(spec.check.iter().flatten().map(String::as_str));
                texts.extend(spec.shows.iter().map(String::as_str));
            }
            Action::Edit { edits } => {
                for e in edits {
                    texts.extend(e.texts());
                }
            }
            Action::Form { fields } => names.extend(fields.iter().cloned()),
            Action::Manual | Action::Tool { .. } => {}
        }
    }
    for t in texts {
        names.extend(vars::references(t).into_iter().map(|(_, n)| n));
    }
    names
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The task name of a step.
pub(super) fn step_name(step: &Step) -> String {
    format!("{}: {}", step.id, one_line(&step.title))
}

/// One step as one task, or as one block named after the step when it needs several.
fn step_task(ex: &Export, step: &Step) -> Yaml {
    let name = step_name(step);
    let mut tasks: Vec<Task> = Vec::new();
    if let Some(question) = &step.confirm {
        tasks.push(pause(
            format!("{name} (confirm)"),
            format!(
                "{}\n\n{question}\nPress Enter to go on, or Ctrl-C then A to stop.",
                one_line(&step.title)
            ),
        ));
    }
    let mut body = match &step.action {
        Action::Manual => vec![pause(
            name.clone(),
            format!(
                "{}\n\n{}\n\nDo this by hand on the host, then press Enter.",
                one_line(&step.title),
                step.why.trim()
            ),
        )],
        Action::Run(spec) => commands::run_step(ex, step, spec),
        Action::Edit { edits } => edits::edit_step(ex, &name, edits),
        Action::Form { fields } => {
            let vars: Vec<&Variable> = fields.iter().filter_map(|f| ex.rb.variable(f)).collect();
            vec![assert_task(&name, &vars)]
        }
        Action::Tool { tool } => tools::tool_step(ex, step, *tool),
    };
    if step.reboot {
        // Ansible's reboot waits for the host to come back, as the run resumes after a reboot.
        body.push(task(
            format!("{name} (reboot and wait)"),
            "ansible.builtin.reboot",
            Yaml::map([("msg", literal(&format!("fieldbook step {}", step.id)))]),
        ));
    }
    tasks.extend(body);
    if let Some(when) = &step.when {
        return super::conditions::conditional_step(ex, step, when, tasks);
    }
    one_task_or_block(&name, tasks)
}

/// One task named `name`, or a block of several under that name.
pub(super) fn one_task_or_block(name: &str, mut tasks: Vec<Task>) -> Yaml {
    if tasks.len() == 1 {
        let mut only = tasks.remove(0);
        only[0] = ("name".into(), literal(name));
        return Yaml::Map(only);
    }
    let block: Vec<Yaml> = tasks.into_iter().map(Yaml::Map).collect();
    Yaml::map([("name", literal(name)), ("block", Yaml::Seq(block))])
}

/// An `assert` task checking each variable the way fieldbook's form does.
fn assert_task(name: &str, vars: &[&Variable]) -> Task {
    let mut that = Vec::new();
    for v in vars {
        that.push(Yaml::str(format!("{} is defined", v.name)));
        that.push(Yaml::str(condition(v)));
    }
    let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    let mut t = task(
        name,
        "ansible.builtin.assert",
        Yaml::map([
            ("that", Yaml::Seq(that)),
            (
                "fail_msg",
                Yaml::str(format!(
                    "a variable is missing or invalid (pass it with -e NAME=VALUE): {}",
                    names.join(", ")
                )),
            ),
            ("quiet", Yaml::Bool(true)),
        ]),
    );
    if vars.iter().any(|v| v.ty == VarType::Secret) {
        t.push(("no_log".into(), Yaml::Bool(true)));
    }
    // The choices are data from the runbook: task vars tagged `!unsafe`, referred to by name in
    // the conditions (ansible-core 2.19 templates string constants inside a conditional).
    let choices: Vec<(String, Yaml)> = vars
        .iter()
        .filter(|v| v.ty == VarType::Choice)
        .map(|v| {
            let list = v.choices.iter().map(|c| literal(c)).collect();
            (choices_var(v), Yaml::Seq(list))
        })
        .collect();
    if !choices.is_empty() {
        t.push(("vars".into(), Yaml::Map(choices)));
    }
    t
}

/// The task var holding a choice variable's allowed values.
fn choices_var(v: &Variable) -> String {
    format!("fb_choices_{}", v.name)
}

const IPV4: &str = r"((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV6: &str = r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*";

/// The Jinja test that matches what [`VarType::validate`] accepts (IPv6 is checked loosely).
fn condition(v: &Variable) -> String {
    let n = &v.name;
    let s = format!("({n} | string)");
    // One line without control characters, as `VarType::validate` wants for text.
    let single_line = format!(
        "({s} is not search({}))",
        jinja_string(r"[\x00-\x1f\x7f-\x9f]")
    );
    let re = |pattern: String| format!("{s} is match({})", jinja_string(&pattern));
    match v.ty {
        VarType::Text | VarType::Secret => single_line,
        VarType::Ip => re(format!("^({IPV4}|{IPV6})$")),
        VarType::Cidr => re(format!(
            "^({IPV4}/(3[0-2]|[12]?[0-9])|{IPV6}/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))$"
        )),
        VarType::Netmask => {
            let masks: Vec<String> = (0..=32u32)
                .map(|bits| {
                    let m = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                    jinja_string(&std::net::Ipv4Addr::from(m).to_string())
                })
                .collect();
            format!("{s} in [{}]", masks.join(", "))
        }
        VarType::Mac => re("^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$".into()),
        VarType::Hostname => format!(
            "({} and ({s} | length) <= 253)",
            re(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$".into())
        ),
        VarType::Interface => re("^[A-Za-z0-9_.:-]{1,15}$".into()),
        VarType::Port => format!(
            "({} and ({s} | int) >= 1 and ({s} | int) <= 65535)",
            re("^[0-9]{1,5}$".into())
        ),
        VarType::Path => format!("(({s} | length) > 0 and {single_line})"),
        VarType::Choice => format!("{s} in {}", choices_var(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::runbook::load_str;

    pub(crate) fn rb(toml: &str) -> Runbook {
        let src = format!("id = \"t\"\ntitle = \"T\"\n{toml}");
        load_str("t.toml", &src).unwrap()
    }

    #[test]
    fn manual_step_pauses_with_its_why() {
        let rb = rb(r#"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "partition"
title = "Partition the disk"
why = "Swap on small flash wears it out."
kind = "manual"
"#);
        let out = playbook(&rb, TargetPython::Modern);
        assert!(out.contains("    - name: !unsafe \"partition: Partition the disk\"\n      ansible.builtin.pause:\n        prompt: !unsafe |-\n          Partition the disk\n\n          Swap on small flash wears it out.\n"), "{out}");
        assert!(out.contains("gather_facts: false"));
        assert!(!out.contains("TARGET PYTHON: OLD"));
        assert!(playbook(&rb, TargetPython::Old).contains("TARGET PYTHON: OLD"));
    }

    #[test]
    fn variables_become_vars_and_asserts() {
        let rb = rb(r#"
[[variable]]
name = "gw"
type = "ip"
default = "192.168.1.1"
[[variable]]
name = "mask"
type = "netmask"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "ask"
title = "Ask"
why = "w"
kind = "form"
fields = ["mask", "gw"]
"#);
        let out = playbook(&rb, TargetPython::Modern);
        assert!(out.contains("  vars:\n    gw: \"192.168.1.1\"\n"), "{out}");
        assert!(out.contains("REQUIRED"), "{out}");
        assert!(
            out.contains("- name: !unsafe \"ask: Ask\"\n      ansible.builtin.assert:"),
            "{out}"
        );
        assert!(out.contains("'255.255.255.0'"), "{out}");
    }

    #[test]
    fn confirm_adds_a_pause_in_a_block() {
        let rb = rb(r#"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "wipe"
title = "Wipe"
why = "w"
kind = "command"
confirm = "This erases the disk."
commands = [["true"]]
"#);
        let out = playbook(&rb, TargetPython::Modern);
        assert!(out.contains("- name: !unsafe \"wipe: Wipe\"\n      block:\n        - name: !unsafe \"wipe: Wipe (confirm)\"\n          ansible.builtin.pause:"), "{out}");
    }
}
