//! Validation of a step: its kind, `when`, `after`, commands and `shows`.

use std::collections::BTreeSet;
use std::ops::Range;

use super::*;
use crate::core::vars::{self, VarType};

impl Validator<'_> {
    pub(super) fn step(
        &mut self,
        st: RawStep,
        declared: &BTreeSet<String>,
        ids: &mut BTreeSet<String>,
    ) -> Option<Step> {
        self.identifier("step", &st.id);
        if !ids.insert(st.id.get_ref().clone()) {
            self.problem(
                st.id.span(),
                format!("duplicate step id '{}'", st.id.get_ref()),
            );
        }
        if st.why.get_ref().trim().is_empty() {
            self.problem(
                st.why.span(),
                "`why` is empty: explain the reason for the step",
            );
        }
        let kind = st.kind.get_ref().as_str();
        self.fields_of_other_kinds(&st, kind);
        let action = self.action(&st, kind, declared);
        let when = match &st.when {
            Some(w) => Some(self.when(w.get_ref(), w.span(), declared)?),
            None => None,
        };
        let after = st
            .after
            .as_ref()
            .map(|a| a.get_ref().iter().map(|x| x.get_ref().clone()).collect())
            .unwrap_or_default();
        Some(Step {
            id: st.id.into_inner(),
            title: st.title,
            why: st.why.into_inner(),
            confirm: st.confirm,
            reboot: st.reboot,
            when,
            after,
            action: action?,
        })
    }

    /// A `when = { probe = [...] | script = "..." | ask = "...", not_needed = "..." }` table:
    /// exactly one of probe, script and ask; probes are checked like commands.
    pub(super) fn when(
        &mut self,
        w: &RawWhen,
        span: Range<usize>,
        declared: &BTreeSet<String>,
    ) -> Option<When> {
        if w.not_needed.get_ref().trim().is_empty() {
            self.problem(
                w.not_needed.span(),
                "`not_needed` is empty: say why the step is not needed when the answer is no",
            );
        }
        let given = [w.probe.is_some(), w.script.is_some(), w.ask.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            self.problem(
                span.clone(),
                "`when` needs exactly one of `probe` (an argv), `script` or `ask` (a question)",
            );
            return None;
        }
        if w.shell.is_some() && w.script.is_none() {
            self.problem(
                w.not_needed.span(),
                "`shell` in `when` belongs with `script`",
            );
        }
        let test = if let Some(p) = &w.probe {
            let argv = self.argv(p.clone(), "the `when` probe", declared)?;
            WhenTest::Probe(Program::Argv(argv.into_iter().map(Arg::Word).collect()))
        } else if let Some(script) = &w.script {
            self.script_text(script, "the `when` script is empty");
            WhenTest::Probe(Program::Script {
                shell: w.shell.clone().unwrap_or_else(|| "/bin/sh".to_string()),
                script: script.get_ref().clone(),
            })
        } else {
            let ask = w.ask.as_ref()?;
            if ask.get_ref().trim().is_empty() {
                self.problem(ask.span(), "the `when` question is empty");
            }
            WhenTest::Ask(ask.get_ref().clone())
        };
        Some(When {
            test,
            not_needed: w.not_needed.get_ref().clone(),
        })
    }

    pub(super) fn run_spec(&mut self, st: &RawStep, declared: &BTreeSet<String>) -> Option<Action> {
        let mut programs = Vec::new();
        if st.kind.get_ref() == "script" {
            let Some(script) = &st.script else {
                self.problem(st.kind.span(), "a script step needs `script = \"...\"`");
                return None;
            };
            self.script_text(script, "the script is empty");
            programs.push(Program::Script {
                shell: st.shell.clone().unwrap_or_else(|| "/bin/sh".to_string()),
                script: script.get_ref().clone(),
            });
        } else {
            let Some(commands) = &st.commands else {
                self.problem(
                    st.kind.span(),
                    "a command step needs `commands = [[\"program\", \"arg\", ...]]`",
                );
                return None;
            };
            if commands.get_ref().is_empty() {
                self.problem(
                    commands.span(),
                    "`commands` is empty: give at least one argv",
                );
            }
            for argv in commands.get_ref() {
                if let Some(a) = self.command(argv.clone(), declared) {
                    programs.push(Program::Argv(a));
                }
            }
        }
        let check = match &st.check {
            Some(c) => Some(self.argv(c.clone(), "`check`", declared)?),
            None => None,
        };
        let resume = match &st.resume {
            Some(c) => Some(self.argv(c.clone(), "`resume`", declared)?),
            None => None,
        };
        let interactive = st.interactive.unwrap_or(false);
        let long = st.long.unwrap_or(false);
        let shows = self.shows(st, declared);
        Some(Action::Run(RunSpec {
            programs,
            expect: st.expect.clone().unwrap_or_else(|| vec![0]),
            ok_output: st.ok_output.clone().unwrap_or_default(),
            shows,
            check,
            interactive,
            long,
            resume,
            practice: st.practice.clone(),
        }))
    }

    /// The `shows` texts: each one line of text, its variables declared; refused on a step whose
    /// output is not captured and judged when it ends (`long`, `interactive`).
    pub(super) fn shows(&mut self, st: &RawStep, declared: &BTreeSet<String>) -> Vec<String> {
        let Some(shows) = &st.shows else {
            return Vec::new();
        };
        if shows.get_ref().is_empty() {
            self.problem(
                shows.span(),
                "`shows` is empty: give the text the output must show",
            );
        }
        for (flag, why) in [
            (
                st.long,
                "a long step's output is followed for hours, not judged as a readout",
            ),
            (
                st.interactive,
                "an interactive step's output goes to the terminal, not to fieldbook",
            ),
        ] {
            if flag == Some(true) {
                self.problem(shows.span(), format!("`shows` cannot be used here: {why}"));
            }
        }
        for text in shows.get_ref() {
            let t = text.get_ref();
            if t.trim().is_empty() || t.contains(char::is_control) {
                self.problem(
                    text.span(),
                    "each `shows` text must be one line of text that is not blank",
                );
            }
            self.refs(text, declared);
            let quote = quote_len(self.source, text.span().start);
            for (offset, name) in vars::references(t) {
                if self.types.get(&name) == Some(&VarType::Secret) {
                    let start = text.span().start + quote + offset;
                    self.problem(
                        start..start,
                        format!(
                            "`shows` cannot use the secret '{name}': its verdict would show the value"
                        ),
                    );
                }
            }
        }
        shows
            .get_ref()
            .iter()
            .map(|t| t.get_ref().clone())
            .collect()
    }

    /// A script's text: not empty, and never a `{name}` (a script gets values as `$FB_name`).
    fn script_text(&mut self, script: &Spanned<String>, empty: &str) {
        if script.get_ref().trim().is_empty() {
            self.problem(script.span(), empty);
        }
        if let Some((offset, name)) = vars::references(script.get_ref()).into_iter().next() {
            let start = script.span().start + quote_len(self.source, script.span().start) + offset;
            self.problem(
                start..start,
                format!(
                    "a script never splices variables: use \"$FB_{name}\", which fieldbook \
                     exports to the script"
                ),
            );
        }
    }

    /// Fields that belong to other kinds are mistakes worth pointing at, but only when the
    /// kind itself is known: after a typo in `kind` they would be noise.
    fn fields_of_other_kinds(&mut self, st: &RawStep, kind: &str) {
        let known_kind = matches!(
            kind,
            "manual" | "command" | "script" | "edit" | "form" | "tool"
        );
        let run_options: Vec<&str> = [
            ("expect", st.expect.is_some()),
            ("ok_output", st.ok_output.is_some()),
            ("shows", st.shows.is_some()),
            ("check", st.check.is_some()),
            ("interactive", st.interactive.is_some()),
            ("long", st.long.is_some()),
            ("resume", st.resume.is_some()),
            ("practice", st.practice.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, there)| there.then_some(name))
        .collect();
        let present: [(&str, bool, &[&str]); 6] = [
            ("commands", st.commands.is_some(), &["command"]),
            ("script", st.script.is_some(), &["script"]),
            ("shell", st.shell.is_some(), &["script"]),
            ("edit", st.edit.is_some(), &["edit"]),
            ("fields", st.fields.is_some(), &["form"]),
            ("tool", st.tool.is_some(), &["tool"]),
        ];
        for (field, is_there, kinds) in present {
            if known_kind && is_there && !kinds.contains(&kind) {
                self.problem(
                    st.kind.span(),
                    format!(
                        "a {kind} step cannot have `{field}` (that belongs to a {} step)",
                        kinds.join("/")
                    ),
                );
            }
        }
        if known_kind && !run_options.is_empty() && !matches!(kind, "command" | "script") {
            self.problem(
                st.kind.span(),
                format!(
                    "a {kind} step cannot have command options ({}); only command and script steps run programs",
                    run_options.join(", ")
                ),
            );
        }
    }

    /// What the step does, by its kind.
    fn action(&mut self, st: &RawStep, kind: &str, declared: &BTreeSet<String>) -> Option<Action> {
        match kind {
            "manual" => Some(Action::Manual),
            "command" | "script" => self.run_spec(st, declared),
            "edit" => self.edit_action_list(st, declared),
            "form" => self.form(st, declared),
            "tool" => self.tool(st),
            other => {
                self.problem(
                    st.kind.span(),
                    format!("unknown step kind '{other}' (one of: {KINDS})"),
                );
                None
            }
        }
    }

    /// An edit step's `[[section.step.edit]]` tables; a bad one is left out after its problem.
    fn edit_action_list(&mut self, st: &RawStep, declared: &BTreeSet<String>) -> Option<Action> {
        let Some(edits) = &st.edit else {
            self.problem(
                st.kind.span(),
                "an edit step needs at least one [[section.step.edit]]",
            );
            return None;
        };
        let edits = edits
            .get_ref()
            .iter()
            .filter_map(|e| self.edit(e, declared))
            .collect();
        Some(Action::Edit { edits })
    }

    /// A form step's fields, each a declared variable.
    fn form(&mut self, st: &RawStep, declared: &BTreeSet<String>) -> Option<Action> {
        let Some(fields) = st.fields.as_ref().filter(|f| !f.get_ref().is_empty()) else {
            self.problem(
                st.kind.span(),
                "a form step needs `fields = [\"name\", ...]`",
            );
            return None;
        };
        for f in fields.get_ref() {
            if !declared.contains(f.get_ref()) {
                self.problem(
                    f.span(),
                    format!("form field '{}' is not a declared variable", f.get_ref()),
                );
            }
        }
        Some(Action::Form {
            fields: fields
                .get_ref()
                .iter()
                .map(|f| f.get_ref().clone())
                .collect(),
        })
    }

    /// A tool step's tool, one fieldbook knows.
    fn tool(&mut self, st: &RawStep) -> Option<Action> {
        let Some(t) = &st.tool else {
            self.problem(st.kind.span(), "a tool step needs `tool = \"...\"`");
            return None;
        };
        if let Some(k) = ToolKind::ALL.iter().find(|k| k.name() == t.get_ref()) {
            return Some(Action::Tool { tool: *k });
        }
        let names: Vec<_> = ToolKind::ALL.iter().map(|k| k.name()).collect();
        self.problem(
            t.span(),
            format!(
                "unknown tool '{}' (one of: {})",
                t.get_ref(),
                names.join(", ")
            ),
        );
        None
    }
}
