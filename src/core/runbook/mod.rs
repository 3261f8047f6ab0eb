//! The runbook model: TOML files become a validated [`Runbook`] that the engine can trust.
//!
//! Loading happens in two passes, as ripgrep does with its arguments: serde reads the file into
//! loose "raw" structs that remember where each value stood, then [`validate`] turns them into
//! the model and reports every problem as `FILE:LINE:COL: message` for the person fixing it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::location::LineCol;
use super::vars::{self, VarType};

/// One problem found in a runbook file, located so an editor can jump to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file name as given (or `builtin:ID.toml` for an embedded runbook).
    pub file: String,
    /// Where in the file.
    pub at: LineCol,
    /// What is wrong, written for the technician.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.at, self.message)
    }
}

/// A runbook: a titled list of sections of steps, with the variables its steps use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Runbook {
    /// Stable identifier; progress is stored under it, so it must not change between versions.
    pub id: String,
    /// Human title shown on the home screen.
    pub title: String,
    /// One paragraph: what the runbook achieves.
    pub summary: String,
    /// Files whose existence marks a system this runbook is for (any one is enough).
    pub applies_to: Vec<String>,
    /// Variables in the order a form asks for them.
    pub variables: Vec<Variable>,
    /// Sections in order.
    pub sections: Vec<Section>,
}

/// A typed value a technician supplies (an address, a bridge name…), filled into later steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    /// Name used as `{name}` in commands and edits.
    pub name: String,
    /// What may be typed.
    #[serde(rename = "type")]
    pub ty: VarType,
    /// Short label for the form.
    pub label: String,
    /// Longer help shown under the field.
    pub help: String,
    /// Suggested value; `None` means the technician must type one.
    pub default: Option<String>,
    /// Allowed values of a `choice` variable.
    pub choices: Vec<String>,
}

/// A group of steps with a heading (e.g. "Networking the Gentoo way").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Identifier, unique in the runbook.
    pub id: String,
    /// Heading.
    pub title: String,
    /// Steps in order.
    pub steps: Vec<Step>,
}

/// One thing the technician does, with the reason for doing it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Identifier, unique in the runbook; progress is matched by it when a runbook changes.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// The training explanation: why this step exists and what can go wrong.
    pub why: String,
    /// Asked before running, for destructive steps; `None` for harmless ones.
    pub confirm: Option<String>,
    /// The step reboots the machine; the run resumes after it.
    pub reboot: bool,
    /// When the step applies only sometimes: how to tell (a probe or a question).
    pub when: Option<When>,
    /// Steps that must be done (or skipped) before this one may run.
    pub after: Vec<String>,
    /// What the step does.
    pub action: Action,
}

/// How to tell whether a conditional step applies on this machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct When {
    /// The probe or the question.
    pub test: WhenTest,
    /// Why the step is not needed when the answer is no (shown as `[-] not needed (...)`).
    pub not_needed: String,
}

/// A probe whose exit status says whether the step applies, or a question for the technician
/// where no probe is possible.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenTest {
    /// Exit 0 means the step applies; any other exit means it is not needed.
    Probe(Program),
    /// A yes/no question; yes means the step applies.
    Ask(String),
}

/// The one kind of action a step carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Read, do it yourself, confirm.
    Manual,
    /// Run programs (argv vectors or one explicit shell script).
    Run(RunSpec),
    /// Change configuration files.
    Edit {
        /// The edits, applied in order.
        edits: Vec<Edit>,
    },
    /// Ask for variables.
    Form {
        /// Names of the variables asked for, in order.
        fields: Vec<String>,
    },
    /// Open one of the built-in tool screens.
    Tool {
        /// Which tool.
        tool: ToolKind,
    },
}

impl Action {
    /// The `kind` word used in runbook files and in `show --json`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Action::Manual => "manual",
            Action::Run(spec) if spec.is_script() => "script",
            Action::Run(_) => "command",
            Action::Edit { .. } => "edit",
            Action::Form { .. } => "form",
            Action::Tool { .. } => "tool",
        }
    }
}

/// How to run a command step and how to judge its result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSpec {
    /// Run in order; the first failure stops the step.
    pub programs: Vec<Program>,
    /// Exit codes that mean success (default `[0]`).
    pub expect: Vec<i32>,
    /// Output text that means "already done" even with an unexpected exit code (real
    /// `rc-update del` exits 1 with "not in the runlevel" when run twice).
    pub ok_output: Vec<String>,
    /// Texts of which the last program's output must show one (on one line) for the step to
    /// pass, `{name}` filled in as data (`inet {int_address} ` after `ip addr show`). Only for
    /// captured steps: never with `long` or `interactive`.
    pub shows: Vec<String>,
    /// A command whose success means the step is already done.
    pub check: Option<Vec<String>>,
    /// Needs the real terminal (`emerge --ask`, `etc-update`).
    pub interactive: bool,
    /// Runs for a long time (hours); runs detached so a dropped link cannot kill it.
    pub long: bool,
    /// The re-run to offer after an interruption (`emerge --resume`).
    pub resume: Option<Vec<String>>,
    /// Key of the simulated transcript used in practice mode.
    pub practice: Option<String>,
}

impl RunSpec {
    /// The practice transcript for these values: a present optional element's own (the
    /// unattended build's failures), else the step's.
    pub fn practice_key(&self, values: &BTreeMap<String, String>) -> Option<String> {
        let chosen = self
            .programs
            .iter()
            .filter_map(|p| match p {
                Program::Argv(argv) => Some(argv),
                Program::Script { .. } => None,
            })
            .flatten()
            .filter_map(Arg::optional)
            .filter(|o| o.present(values))
            .find_map(|o| o.practice.clone());
        chosen.or_else(|| self.practice.clone())
    }

    /// True when the step is an explicit shell script rather than argv vectors.
    pub fn is_script(&self) -> bool {
        self.programs
            .iter()
            .any(|p| matches!(p, Program::Script { .. }))
    }
}

/// One program to run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Program {
    /// An argv vector; `{name}` placeholders are filled per element, never split.
    Argv(Vec<Arg>),
    /// A script for an explicit shell. Variables are never spliced into it; they reach it as
    /// environment variables `FB_<name>`.
    Script {
        /// Interpreter, e.g. `/bin/sh`.
        shell: String,
        /// The script text.
        script: String,
    },
}

/// One element of a command's argv.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    /// Always there; `{name}` placeholders are filled inside it.
    Word(String),
    /// An option that is there or not, by a `choice` variable's value
    /// (`{ arg = "--keep-going", if = "unattended", is = "yes" }`): when the value differs the
    /// element is absent, never an empty argument. Its text is literal.
    Optional(OptionalArg),
}

/// An argv element that is present only when a variable has one value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionalArg {
    /// The argument, exactly as passed (`--keep-going`).
    pub arg: String,
    /// The `choice` variable deciding it.
    #[serde(rename = "if")]
    pub var: String,
    /// The value that puts the argument in.
    pub is: String,
    /// A practice transcript to play instead of the step's when the argument is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub practice: Option<String>,
}

impl OptionalArg {
    /// True when the run's values put the argument in.
    pub fn present(&self, values: &BTreeMap<String, String>) -> bool {
        values.get(&self.var) == Some(&self.is)
    }
}

impl From<&str> for Arg {
    fn from(word: &str) -> Arg {
        Arg::Word(word.to_string())
    }
}

impl Arg {
    /// The element as written: the template of a word, the text of an option.
    pub fn text(&self) -> &str {
        match self {
            Arg::Word(w) => w,
            Arg::Optional(o) => &o.arg,
        }
    }

    /// The optional element, if this is one.
    pub fn optional(&self) -> Option<&OptionalArg> {
        match self {
            Arg::Word(_) => None,
            Arg::Optional(o) => Some(o),
        }
    }
}

/// The argv the run's values give: words filled in, options present or absent (never `""`).
pub fn resolve_argv(argv: &[Arg], values: &BTreeMap<String, String>) -> Vec<String> {
    argv.iter()
        .filter_map(|a| match a {
            Arg::Word(w) => Some(vars::substitute(w, values)),
            Arg::Optional(o) => o.present(values).then(|| o.arg.clone()),
        })
        .collect()
}

/// Every element's text, for an argv known to hold only words (probes, checks).
pub fn words(argv: &[Arg]) -> Vec<String> {
    argv.iter().map(|a| a.text().to_string()).collect()
}

/// A change to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// The file (absolute, resolved under `--root` when given). May contain `{name}`.
    pub path: String,
    /// Comment prefix for comment/uncomment/marker actions (default `#`).
    pub comment: String,
    /// Create the file when missing (for actions that can).
    pub create: bool,
    /// Permission bits of a file the edit creates (`mode = "0640"`); 0644 when not given.
    pub mode: Option<u32>,
    /// What to tell the technician when the file does not exist (which system was expected,
    /// e.g. "only baselayout-1 has /etc/conf.d/rc").
    pub missing: Option<String>,
    /// What to change.
    pub action: EditAction,
}

/// The edit actions the engine implements. Text fields may contain `{name}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum EditAction {
    /// Ensure `line` is present; when `replace` is given, the first line containing that text is
    /// replaced, otherwise the line is appended.
    EnsureLine {
        /// The exact line wanted.
        line: String,
        /// Text identifying the line to replace.
        replace: Option<String>,
    },
    /// Comment out every active line containing `pattern`.
    CommentOut {
        /// Text to look for.
        pattern: String,
    },
    /// Uncomment every commented line containing `pattern`.
    Uncomment {
        /// Text to look for.
        pattern: String,
    },
    /// Set `KEY="value"` in a shell-style file.
    SetVar {
        /// Variable name.
        key: String,
        /// Value, without quotes.
        value: String,
    },
    /// Add words to a word list such as `USE="..."`.
    AddWords {
        /// Variable name.
        key: String,
        /// Words to be present.
        words: Vec<String>,
    },
    /// Remove words from a word list.
    RemoveWords {
        /// Variable name.
        key: String,
        /// Words to be absent.
        words: Vec<String>,
    },
    /// Ensure a block of lines between `# BEGIN fieldbook MARKER` / `# END fieldbook MARKER`.
    EnsureBlock {
        /// Marker naming the block.
        marker: String,
        /// The block's lines.
        block: String,
    },
    /// Comment out every active `(key ...)` form of an s-expression file (xend-config.sxp),
    /// however it is quoted, spaced or split over lines.
    CommentForm {
        /// The form's name (its first symbol), e.g. `network-script`.
        key: String,
    },
    /// In a Python-syntax file (a Xen guest config), make the string item of the list `key`
    /// that contains `pattern` read `value`, or add it.
    PythonListItem {
        /// The list variable, e.g. `vif`.
        key: String,
        /// Text identifying the item, e.g. `mac=00:16:3e:...`.
        pattern: String,
        /// The item's text, written as a quoted Python string.
        value: String,
    },
    /// In a Python-syntax file, make `line` (one `NAME = literal` assignment) the assignment of
    /// its name: an existing one, however spaced and over however many lines, is replaced
    /// whole; otherwise the line is appended.
    PythonLine {
        /// The whole assignment, e.g. `serial = 'pty'`.
        line: String,
    },
    /// In a Python-syntax file, make each word part of the string assigned to `key`.
    PythonAddWords {
        /// The string variable, e.g. `extra`.
        key: String,
        /// Words to be present.
        words: Vec<String>,
    },
    /// Set or clear the execute bits.
    Chmod {
        /// `true` for `+x`, `false` for `-x`.
        executable: bool,
    },
    /// Create a symbolic link at `path` pointing to `target`.
    Symlink {
        /// Where the link points.
        target: String,
    },
}

impl Edit {
    /// Every template text of the edit: its path and each text it writes or looks for (not a
    /// mode), for whoever needs the `{name}`s it uses.
    pub(crate) fn texts(&self) -> Vec<&str> {
        let mut texts: Vec<&str> = vec![&self.path];
        match &self.action {
            EditAction::EnsureLine { line, replace } => {
                texts.push(line);
                texts.extend(replace.as_deref());
            }
            EditAction::CommentOut { pattern } | EditAction::Uncomment { pattern } => {
                texts.push(pattern)
            }
            EditAction::SetVar { key, value } => texts.extend([key.as_str(), value]),
            EditAction::AddWords { key, words }
            | EditAction::RemoveWords { key, words }
            | EditAction::PythonAddWords { key, words } => {
                texts.push(key);
                texts.extend(words.iter().map(String::as_str));
            }
            EditAction::EnsureBlock { marker, block } => texts.extend([marker.as_str(), block]),
            EditAction::CommentForm { key } => texts.push(key),
            EditAction::PythonListItem {
                key,
                pattern,
                value,
            } => texts.extend([key.as_str(), pattern, value]),
            EditAction::PythonLine { line } => texts.push(line),
            EditAction::Chmod { .. } => {}
            EditAction::Symlink { target } => texts.push(target),
        }
        texts
    }
}

impl EditAction {
    /// The action word used in runbook files.
    pub fn name(&self) -> &'static str {
        match self {
            EditAction::EnsureLine { .. } => "ensure_line",
            EditAction::CommentOut { .. } => "comment_out",
            EditAction::Uncomment { .. } => "uncomment",
            EditAction::SetVar { .. } => "set_var",
            EditAction::AddWords { .. } => "add_words",
            EditAction::RemoveWords { .. } => "remove_words",
            EditAction::EnsureBlock { .. } => "ensure_block",
            EditAction::CommentForm { .. } => "comment_form",
            EditAction::PythonListItem { .. } => "python_list_item",
            EditAction::PythonAddWords { .. } => "python_add_words",
            EditAction::PythonLine { .. } => "python_line",
            EditAction::Chmod { .. } => "chmod",
            EditAction::Symlink { .. } => "symlink",
        }
    }
}

/// The built-in tool screens a step can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToolKind {
    /// ClearOS service pruning from `chkconfig --list`.
    Services,
    /// OpenRC runlevels from `rc-update show`.
    Runlevels,
    /// Choose the GCC profile from `gcc-config -l`.
    GccProfile,
    /// Disable the known bad snort rules.
    SnortRules,
    /// The subnet calculator.
    Subnet,
}

impl ToolKind {
    /// Every tool, for messages listing the valid names.
    pub const ALL: [ToolKind; 5] = [
        ToolKind::Services,
        ToolKind::Runlevels,
        ToolKind::GccProfile,
        ToolKind::SnortRules,
        ToolKind::Subnet,
    ];

    /// The name used in runbook files.
    pub fn name(self) -> &'static str {
        match self {
            ToolKind::Services => "services",
            ToolKind::Runlevels => "runlevels",
            ToolKind::GccProfile => "gcc-profile",
            ToolKind::SnortRules => "snort-rules",
            ToolKind::Subnet => "subnet",
        }
    }
}

impl Runbook {
    /// All steps in order, with the section each belongs to.
    pub fn steps(&self) -> impl Iterator<Item = (&Section, &Step)> {
        self.sections
            .iter()
            .flat_map(|s| s.steps.iter().map(move |st| (s, st)))
    }

    /// Number of steps.
    pub fn step_count(&self) -> usize {
        self.sections.iter().map(|s| s.steps.len()).sum()
    }

    /// Finds a step by id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps().map(|(_, s)| s).find(|s| s.id == id)
    }

    /// Finds a variable by name.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// The defaults of every variable that has one, as the starting values of a run.
    pub fn default_values(&self) -> BTreeMap<String, String> {
        self.variables
            .iter()
            .filter_map(|v| v.default.clone().map(|d| (v.name.clone(), d)))
            .collect()
    }
}

mod raw;
mod validate;
pub use validate::load_str;

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "demo"
title = "Demo"

[[variable]]
name = "atom"
type = "text"
default = "x11-drivers/ati-drivers"

[[section]]
id = "one"
title = "One"

[[section.step]]
id = "keep"
title = "Keep a binary package"
why = "So the old version can come back."
kind = "command"
commands = [["quickpkg", "{atom}"]]
"#;

    #[test]
    fn loads_a_minimal_runbook() {
        let rb = load_str("demo.toml", MINIMAL).expect("valid");
        assert_eq!(rb.step_count(), 1);
        let step = rb.step("keep").expect("step");
        match &step.action {
            Action::Run(spec) => {
                assert_eq!(
                    spec.programs,
                    vec![Program::Argv(vec!["quickpkg".into(), "{atom}".into()])]
                );
                assert_eq!(spec.expect, vec![0]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn undeclared_variable_points_into_the_string() {
        let src = MINIMAL.replace("{atom}", "{pkg}");
        let problems = load_str("d.toml", &src).expect_err("invalid");
        let line = src.lines().position(|l| l.contains("{pkg}")).map(|i| i + 1);
        assert_eq!(Some(problems[0].at.line), line);
        let col = src
            .lines()
            .find(|l| l.contains("{pkg}"))
            .and_then(|l| l.find("{pkg}"))
            .map(|c| c + 1);
        assert_eq!(Some(problems[0].at.col), col);
        assert!(
            problems[0]
                .message
                .contains("'pkg' is used but not declared")
        );
    }

    const OPTIONAL: &str = r#"
id = "demo"
title = "Demo"

[[variable]]
name = "unattended"
type = "choice"
choices = ["no", "yes"]
default = "no"

[[section]]
id = "one"
title = "One"

[[section.step]]
id = "world"
title = "World"
why = "w"
kind = "command"
commands = [["emerge", "world", { arg = "--keep-going", if = "unattended", is = "yes", practice = "kg" }]]
practice = "plain"
"#;

    /// An optional element is in the argv or not, by the choice's value: never an empty
    /// argument, never spliced into another element.
    #[test]
    fn an_optional_argument_is_present_or_absent() {
        let rb = load_str("d.toml", OPTIONAL).expect("valid");
        let Action::Run(spec) = &rb.step("world").unwrap().action else {
            panic!()
        };
        let Program::Argv(argv) = &spec.programs[0] else {
            panic!()
        };
        let v = |x: &str| BTreeMap::from([("unattended".to_string(), x.to_string())]);
        assert_eq!(resolve_argv(argv, &v("no")), ["emerge", "world"]);
        assert_eq!(
            resolve_argv(argv, &v("yes")),
            ["emerge", "world", "--keep-going"]
        );
        assert_eq!(resolve_argv(argv, &BTreeMap::new()), ["emerge", "world"]);
        assert_eq!(spec.practice_key(&v("yes")).as_deref(), Some("kg"));
        assert_eq!(spec.practice_key(&v("no")).as_deref(), Some("plain"));
    }

    #[test]
    fn a_bad_optional_argument_is_located() {
        for (from, to, says) in [
            (
                "if = \"unattended\"",
                "if = \"nope\"",
                "'nope', which is not a declared `choice` variable",
            ),
            (
                "is = \"yes\"",
                "is = \"maybe\"",
                "'maybe' is not one of unattended's choices (no, yes)",
            ),
            (
                "arg = \"--keep-going\"",
                "arg = \"--x={unattended}\"",
                "must be literal text",
            ),
            ("arg = \"--keep-going\"", "arg = \"\"", "needs its text"),
            (
                "[[\"emerge\", \"world\", {",
                "[[{ arg = \"emerge\", if = \"unattended\", is = \"yes\" }, {",
                "program name cannot be optional",
            ),
            (
                "is = \"yes\", practice",
                "is = \"yes\", typo = 1, practice",
                "typo",
            ),
        ] {
            let src = OPTIONAL.replace(from, to);
            let problems = load_str("d.toml", &src).expect_err(to);
            let line = src.lines().position(|l| l.starts_with("commands")).unwrap() + 1;
            assert_eq!(problems[0].at.line, line, "{to}: {problems:?}");
            assert!(problems[0].message.contains(says), "{to}: {problems:?}");
        }
    }

    #[test]
    fn a_wrong_value_type_names_its_key() {
        let src = MINIMAL.replace(
            "commands = [[\"quickpkg\", \"{atom}\"]]",
            "commands = [[\"quickpkg\", \"{atom}\"]]\nlong = \"hours\"",
        );
        let problems = load_str("d.toml", &src).expect_err("invalid");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .starts_with("`long`: invalid type: string \"hours\""),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn an_unknown_kind_is_one_problem_not_three() {
        let src = MINIMAL.replace("kind = \"command\"", "kind = \"shell\"");
        let problems = load_str("d.toml", &src).expect_err("invalid");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.starts_with("unknown step kind 'shell'"));
    }

    #[test]
    fn command_options_on_a_manual_step_are_named() {
        let src = MINIMAL.replace(
            "kind = \"command\"\ncommands = [[\"quickpkg\", \"{atom}\"]]",
            "kind = \"manual\"\nlong = true",
        );
        let problems = load_str("d.toml", &src).expect_err("invalid");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("command options (long)"));
    }
}
