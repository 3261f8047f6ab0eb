//! The runbook model: TOML files become a validated [`Runbook`] that the engine can trust.
//!
//! Loading happens in two passes, as ripgrep does with its arguments: serde reads the file into
//! loose "raw" structs that remember where each value stood, then [`validate`] turns them into
//! the model and reports every problem as `FILE:LINE:COL: message` for the person fixing it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;

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

// ---------------------------------------------------------------------------------------------
// Raw file structures (serde), remembering where values stood.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    applies_to: Vec<String>,
    #[serde(default, rename = "variable")]
    variables: Vec<RawVariable>,
    #[serde(rename = "section")]
    sections: Spanned<Vec<RawSection>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    name: Spanned<String>,
    #[serde(rename = "type")]
    ty: VarType,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    help: String,
    default: Option<Spanned<String>>,
    #[serde(default)]
    choices: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    title: String,
    #[serde(rename = "step")]
    steps: Spanned<Vec<RawStep>>,
}

type SpannedArgv = Spanned<Vec<Spanned<String>>>;

/// A command's argv: words, and options present by a variable's value.
type SpannedCommand = Spanned<Vec<Spanned<RawArg>>>;

/// An argv element as written: a string, or a table (`{ arg, if, is, practice }`) read by
/// hand so each mistake gets its own message.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum RawArg {
    Word(String),
    Optional(toml::Table),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    title: String,
    why: Spanned<String>,
    kind: Spanned<String>,
    confirm: Option<String>,
    #[serde(default)]
    reboot: bool,
    when: Option<Spanned<RawWhen>>,
    after: Option<Spanned<Vec<Spanned<String>>>>,
    // command / script
    commands: Option<Spanned<Vec<SpannedCommand>>>,
    script: Option<Spanned<String>>,
    shell: Option<String>,
    expect: Option<Vec<i32>>,
    ok_output: Option<Vec<String>>,
    shows: Option<Spanned<Vec<Spanned<String>>>>,
    check: Option<SpannedArgv>,
    interactive: Option<bool>,
    long: Option<bool>,
    resume: Option<SpannedArgv>,
    practice: Option<String>,
    // edit
    edit: Option<Spanned<Vec<RawEdit>>>,
    // form
    fields: Option<Spanned<Vec<Spanned<String>>>>,
    // tool
    tool: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    probe: Option<SpannedArgv>,
    script: Option<Spanned<String>>,
    shell: Option<String>,
    ask: Option<Spanned<String>>,
    not_needed: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdit {
    path: Spanned<String>,
    action: Spanned<String>,
    comment: Option<Spanned<String>>,
    #[serde(default)]
    create: bool,
    line: Option<Spanned<String>>,
    replace: Option<Spanned<String>>,
    pattern: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    value: Option<Spanned<String>>,
    words: Option<Spanned<Vec<Spanned<String>>>>,
    marker: Option<Spanned<String>>,
    block: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
    missing: Option<Spanned<String>>,
}

// ---------------------------------------------------------------------------------------------
// Loading and validation.

/// Parses and validates one runbook file. `file` names it in problems.
pub fn load_str(file: &str, source: &str) -> Result<Runbook, Vec<Problem>> {
    let raw: RawRunbook = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            return Err(vec![Problem {
                file: file.to_string(),
                at: LineCol::of(source, offset),
                message: tidy_toml_message(e.message(), source, offset),
            }]);
        }
    };
    let mut v = Validator {
        file,
        source,
        problems: Vec::new(),
        choices: BTreeMap::new(),
        secrets: BTreeSet::new(),
    };
    let runbook = v.runbook(raw);
    if v.problems.is_empty() {
        Ok(runbook)
    } else {
        v.problems.sort_by_key(|p| (p.at.line, p.at.col));
        Err(v.problems)
    }
}

/// toml's messages end with a newline and sometimes repeat the location; keep one clean line.
/// A wrong value type ("invalid type: string \"yes\", expected a boolean") does not say which
/// key; name the key written on that line so the technician knows what to fix.
fn tidy_toml_message(message: &str, source: &str, offset: usize) -> String {
    let message = message
        .trim()
        .replace('\n', "; ")
        .replace("expected i32", "expected a whole number");
    if !(message.starts_with("invalid type") || message.starts_with("invalid value")) {
        return message;
    }
    let line_start = source
        .get(..offset)
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line = source.get(line_start..).unwrap_or("");
    let key = line.split_once('=').map(|(k, _)| k.trim()).filter(|k| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    match key {
        Some(k) => format!("`{k}`: {message}"),
        None => message,
    }
}

struct Validator<'a> {
    file: &'a str,
    source: &'a str,
    problems: Vec<Problem>,
    /// The allowed values of each `choice` variable, for optional arguments.
    choices: BTreeMap<String, Vec<String>>,
    /// The `secret` variables, which a `shows` text may not use (its verdict would show them).
    secrets: BTreeSet<String>,
}

/// Every step kind the format knows, for messages.
const KINDS: &str = "manual, command, script, edit, form, tool";

/// A text action may give the mode of the file it creates (`chmod` and `symlink` use `mode`
/// and `target` for themselves).
fn creates_with_mode(e: &RawEdit) -> bool {
    !matches!(e.action.get_ref().as_str(), "chmod" | "symlink")
}

impl Validator<'_> {
    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_string(),
            at: LineCol::of(self.source, span.start),
            message: message.into(),
        });
    }

    fn identifier(&mut self, what: &str, id: &Spanned<String>) {
        let ok = !id.get_ref().is_empty()
            && id
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            self.problem(
                id.span(),
                format!(
                    "{what} id '{}' must be lowercase letters, digits, '-' or '_'",
                    id.get_ref()
                ),
            );
        }
    }

    fn runbook(&mut self, raw: RawRunbook) -> Runbook {
        self.identifier("runbook", &raw.id);
        let mut variables = Vec::new();
        let mut declared = BTreeSet::new();
        for rv in raw.variables {
            if let Some(v) = self.variable(rv, &mut declared) {
                if v.ty == VarType::Choice {
                    self.choices.insert(v.name.clone(), v.choices.clone());
                }
                if v.ty == VarType::Secret {
                    self.secrets.insert(v.name.clone());
                }
                variables.push(v);
            }
        }
        if raw.sections.get_ref().is_empty() {
            self.problem(raw.sections.span(), "a runbook needs at least one section");
        }
        let mut step_ids = BTreeSet::new();
        let mut section_ids = BTreeSet::new();
        let mut sections = Vec::new();
        let mut afters: Vec<(String, Spanned<String>)> = Vec::new();
        for rs in raw.sections.into_inner() {
            self.identifier("section", &rs.id);
            if !section_ids.insert(rs.id.get_ref().clone()) {
                self.problem(
                    rs.id.span(),
                    format!("duplicate section id '{}'", rs.id.get_ref()),
                );
            }
            if rs.steps.get_ref().is_empty() {
                self.problem(rs.steps.span(), "a section needs at least one step");
            }
            let mut steps = Vec::new();
            for st in rs.steps.into_inner() {
                if let Some(after) = &st.after {
                    for a in after.get_ref() {
                        afters.push((st.id.get_ref().clone(), a.clone()));
                    }
                }
                if let Some(step) = self.step(st, &declared, &mut step_ids) {
                    steps.push(step);
                }
            }
            sections.push(Section {
                id: rs.id.into_inner(),
                title: rs.title,
                steps,
            });
        }
        for (step, after) in afters {
            if after.get_ref() == &step {
                self.problem(
                    after.span(),
                    format!("step '{step}' cannot come after itself"),
                );
            } else if !step_ids.contains(after.get_ref()) {
                self.problem(
                    after.span(),
                    format!(
                        "`after` names '{}', which is not a step of this runbook",
                        after.get_ref()
                    ),
                );
            }
        }
        Runbook {
            id: raw.id.into_inner(),
            title: raw.title,
            summary: raw.summary,
            applies_to: raw.applies_to,
            variables,
            sections,
        }
    }

    fn variable(&mut self, rv: RawVariable, declared: &mut BTreeSet<String>) -> Option<Variable> {
        let name = rv.name.get_ref().clone();
        if !vars::is_var_name(&name) {
            self.problem(
                rv.name.span(),
                format!("variable name '{name}' must be letters, digits and '_'"),
            );
            return None;
        }
        if !declared.insert(name.clone()) {
            self.problem(rv.name.span(), format!("duplicate variable '{name}'"));
            return None;
        }
        if rv.ty == VarType::Choice && rv.choices.is_empty() {
            self.problem(
                rv.name.span(),
                format!("choice variable '{name}' needs a list of `choices`"),
            );
        }
        if rv.ty != VarType::Choice && !rv.choices.is_empty() {
            self.problem(
                rv.name.span(),
                format!(
                    "variable '{name}' has `choices` but is of type {}",
                    rv.ty.name()
                ),
            );
        }
        if let Some(d) = &rv.default {
            if rv.ty == VarType::Secret {
                self.problem(d.span(), "a secret variable cannot have a default");
            } else if let Err(msg) = rv.ty.validate(d.get_ref(), &rv.choices) {
                self.problem(
                    d.span(),
                    format!("default of '{name}' ({}): {msg}", rv.ty.name()),
                );
            }
        }
        Some(Variable {
            label: rv.label.unwrap_or_else(|| name.clone()),
            name,
            ty: rv.ty,
            help: rv.help,
            default: rv.default.map(Spanned::into_inner),
            choices: rv.choices,
        })
    }

    /// Reports every `{name}` in `text` that is not a declared variable.
    fn refs(&mut self, text: &Spanned<String>, declared: &BTreeSet<String>) {
        // Spans of strings include the opening quote(s); offsets inside are approximate for
        // escaped strings but always land on the right line.
        let quote = quote_len(self.source, text.span().start);
        for (offset, name) in vars::references(text.get_ref()) {
            if !declared.contains(&name) {
                let start = text.span().start + quote + offset;
                self.problem(
                    start..start,
                    format!("variable '{name}' is used but not declared (add a [[variable]])"),
                );
            }
        }
    }

    fn argv(
        &mut self,
        argv: SpannedArgv,
        what: &str,
        declared: &BTreeSet<String>,
    ) -> Option<Vec<String>> {
        let span = argv.span();
        let argv = argv.into_inner();
        match argv.first() {
            None => {
                self.problem(span, format!("{what} is an empty argv: name a program"));
                return None;
            }
            Some(p) if p.get_ref().trim().is_empty() => {
                self.problem(p.span(), format!("{what} has an empty program name"));
                return None;
            }
            Some(_) => {}
        }
        for a in &argv {
            self.refs(a, declared);
        }
        Some(argv.into_iter().map(Spanned::into_inner).collect())
    }

    /// A command's argv: its words as any argv, each optional element checked against the
    /// `choice` variable that decides it.
    fn command(&mut self, argv: SpannedCommand, declared: &BTreeSet<String>) -> Option<Vec<Arg>> {
        let span = argv.span();
        let elements = argv.into_inner();
        let words: Vec<Spanned<String>> = elements
            .iter()
            .filter_map(|e| match e.get_ref() {
                RawArg::Word(w) => Some(Spanned::new(e.span(), w.clone())),
                RawArg::Optional(_) => None,
            })
            .collect();
        if matches!(
            elements.first().map(Spanned::get_ref),
            Some(RawArg::Optional(_))
        ) {
            self.problem(
                span.clone(),
                "a command's program name cannot be optional: make the first element a word",
            );
            return None;
        }
        self.argv(Spanned::new(span, words), "a command", declared)?;
        let mut out = Vec::new();
        for e in elements {
            let at = e.span();
            match e.into_inner() {
                RawArg::Word(w) => out.push(Arg::Word(w)),
                RawArg::Optional(o) => {
                    out.push(Arg::Optional(self.optional_arg(o, at)?));
                }
            }
        }
        Some(out)
    }

    fn optional_arg(&mut self, table: toml::Table, at: Range<usize>) -> Option<OptionalArg> {
        if let Some(k) = table
            .keys()
            .find(|k| !["arg", "if", "is", "practice"].contains(&k.as_str()))
        {
            self.problem(
                at,
                format!(
                    "unknown key `{k}` in an optional argument (expected arg, if, is, practice)"
                ),
            );
            return None;
        }
        let text = |key: &str, required: bool| -> Result<Option<String>, String> {
            match table.get(key) {
                Some(toml::Value::String(v)) => Ok(Some(v.clone())),
                Some(_) => Err(format!("`{key}` of an optional argument must be a string")),
                None if required => Err(format!(
                    "an optional argument needs `{key}`: {{ arg = \"--flag\", if = \"VARIABLE\", is = \"VALUE\" }}"
                )),
                None => Ok(None),
            }
        };
        let fields = (|| {
            Ok::<_, String>((
                text("arg", true)?.unwrap_or_default(),
                text("if", true)?.unwrap_or_default(),
                text("is", true)?.unwrap_or_default(),
                text("practice", false)?,
            ))
        })();
        let (arg, var, is, practice) = match fields {
            Ok(f) => f,
            Err(message) => {
                self.problem(at, message);
                return None;
            }
        };
        let o = OptionalArg {
            arg,
            var,
            is,
            practice,
        };
        if o.arg.is_empty() {
            self.problem(
                at,
                "an optional argument needs its text: `arg = \"--flag\"`",
            );
            return None;
        }
        if o.arg.contains(['{', '}']) {
            self.problem(
                at,
                format!(
                    "optional argument '{}' must be literal text: put a variable in an argument of its own",
                    o.arg
                ),
            );
            return None;
        }
        let Some(choices) = self.choices.get(&o.var) else {
            self.problem(
                at,
                format!(
                    "optional argument '{}' depends on '{}', which is not a declared `choice` variable",
                    o.arg, o.var
                ),
            );
            return None;
        };
        if !choices.contains(&o.is) {
            let list = choices.join(", ");
            self.problem(
                at,
                format!(
                    "optional argument '{}': '{}' is not one of {}'s choices ({list})",
                    o.arg, o.is, o.var
                ),
            );
            return None;
        }
        Some(o)
    }

    fn step(
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
        // Fields that belong to other kinds are mistakes worth pointing at, but only when the
        // kind itself is known: after a typo in `kind` they would be noise.
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
        let action = match kind {
            "manual" => Some(Action::Manual),
            "command" | "script" => self.run_spec(&st, declared),
            "edit" => match &st.edit {
                None => {
                    self.problem(
                        st.kind.span(),
                        "an edit step needs at least one [[section.step.edit]]",
                    );
                    None
                }
                Some(edits) => {
                    let mut out = Vec::new();
                    for e in edits.get_ref() {
                        if let Some(e) = self.edit(e, declared) {
                            out.push(e);
                        }
                    }
                    Some(Action::Edit { edits: out })
                }
            },
            "form" => match &st.fields {
                Some(fields) if !fields.get_ref().is_empty() => {
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
                _ => {
                    self.problem(
                        st.kind.span(),
                        "a form step needs `fields = [\"name\", ...]`",
                    );
                    None
                }
            },
            "tool" => match &st.tool {
                Some(t) => match ToolKind::ALL.iter().find(|k| k.name() == t.get_ref()) {
                    Some(k) => Some(Action::Tool { tool: *k }),
                    None => {
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
                },
                None => {
                    self.problem(st.kind.span(), "a tool step needs `tool = \"...\"`");
                    None
                }
            },
            other => {
                self.problem(
                    st.kind.span(),
                    format!("unknown step kind '{other}' (one of: {KINDS})"),
                );
                None
            }
        };
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
    fn when(
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
            if script.get_ref().trim().is_empty() {
                self.problem(script.span(), "the `when` script is empty");
            }
            if let Some((offset, name)) = vars::references(script.get_ref()).into_iter().next() {
                let start =
                    script.span().start + quote_len(self.source, script.span().start) + offset;
                self.problem(
                    start..start,
                    format!("a script never splices variables: use \"$FB_{name}\", which fieldbook exports to the script"),
                );
            }
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

    fn run_spec(&mut self, st: &RawStep, declared: &BTreeSet<String>) -> Option<Action> {
        let mut programs = Vec::new();
        if st.kind.get_ref() == "script" {
            let Some(script) = &st.script else {
                self.problem(st.kind.span(), "a script step needs `script = \"...\"`");
                return None;
            };
            if script.get_ref().trim().is_empty() {
                self.problem(script.span(), "the script is empty");
            }
            if let Some((offset, name)) = vars::references(script.get_ref()).into_iter().next() {
                let start =
                    script.span().start + quote_len(self.source, script.span().start) + offset;
                self.problem(
                    start..start,
                    format!("a script never splices variables: use \"$FB_{name}\", which fieldbook exports to the script"),
                );
            }
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
    fn shows(&mut self, st: &RawStep, declared: &BTreeSet<String>) -> Vec<String> {
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
                if self.secrets.contains(&name) {
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

    fn edit(&mut self, e: &RawEdit, declared: &BTreeSet<String>) -> Option<Edit> {
        self.refs(&e.path, declared);
        if e.path.get_ref().trim().is_empty() {
            self.problem(e.path.span(), "an edit needs a file `path`");
        }
        let allowed = self.edit_fields(e)?;
        self.check_edit_fields(e, allowed);
        let action = self.edit_action(e, declared)?;
        let mode = match &e.mode {
            Some(m) if creates_with_mode(e) => Some(self.new_file_mode(m, e.create)?),
            _ => None,
        };
        if let Some(m) = &e.missing
            && (m.get_ref().trim().is_empty() || m.get_ref().contains(char::is_control))
        {
            self.problem(
                m.span(),
                "`missing` must be one line of text saying what was expected",
            );
        }
        Some(Edit {
            path: e.path.get_ref().clone(),
            comment: e
                .comment
                .as_ref()
                .map_or_else(|| "#".to_string(), |c| c.get_ref().clone()),
            create: e.create,
            mode,
            missing: e.missing.as_ref().map(|m| m.get_ref().clone()),
            action,
        })
    }

    /// The optional fields the edit's action takes (`None`, reported, for an unknown action).
    fn edit_fields(&mut self, e: &RawEdit) -> Option<&'static [&'static str]> {
        Some(match e.action.get_ref().as_str() {
            "ensure_line" => &["line", "replace"],
            "comment_out" | "uncomment" => &["pattern"],
            "set_var" => &["key", "value"],
            "add_words" | "remove_words" => &["key", "words"],
            "ensure_block" => &["marker", "block"],
            "chmod" => &["mode"],
            "symlink" => &["target"],
            "comment_form" => &["key"],
            "python_list_item" => &["key", "pattern", "value"],
            "python_add_words" => &["key", "words"],
            "python_line" => &["line"],
            other => {
                self.problem(
                    e.action.span(),
                    format!("unknown edit action '{other}' (one of: ensure_line, comment_out, uncomment, set_var, add_words, remove_words, ensure_block, comment_form, python_list_item, python_add_words, python_line, chmod, symlink)"),
                );
                return None;
            }
        })
    }

    /// Reports every field the action does not use, and a `comment` prefix that is not one.
    fn check_edit_fields(&mut self, e: &RawEdit, allowed: &[&str]) {
        let action_name = e.action.get_ref().as_str();
        let given: [(&str, Option<Range<usize>>); 9] = [
            ("line", e.line.as_ref().map(Spanned::span)),
            ("replace", e.replace.as_ref().map(Spanned::span)),
            ("pattern", e.pattern.as_ref().map(Spanned::span)),
            ("key", e.key.as_ref().map(Spanned::span)),
            ("value", e.value.as_ref().map(Spanned::span)),
            ("words", e.words.as_ref().map(Spanned::span)),
            ("marker", e.marker.as_ref().map(Spanned::span)),
            ("block", e.block.as_ref().map(Spanned::span)),
            ("mode", e.mode.as_ref().map(Spanned::span)),
        ];
        for (field, span) in given {
            if let Some(span) = span
                && !allowed.contains(&field)
                && !(field == "mode" && creates_with_mode(e))
            {
                self.problem(
                    span,
                    format!("`{field}` is not used by the {action_name} action"),
                );
            }
        }
        if let Some(t) = &e.target
            && action_name != "symlink"
        {
            self.problem(
                t.span(),
                format!("`target` is not used by the {action_name} action"),
            );
        }
        if let Some(c) = &e.comment
            && (c.get_ref().trim().is_empty()
                || c.get_ref().contains(char::is_control)
                || !c
                    .get_ref()
                    .starts_with(|ch: char| ch.is_ascii_punctuation()))
        {
            self.problem(
                c.span(),
                "`comment` must be a prefix on one line starting with punctuation (like # or ;), \
                 without control characters"
                    .to_string(),
            );
        }
    }

    /// The action with its fields; every field it needs and lacks is reported.
    fn edit_action(&mut self, e: &RawEdit, declared: &BTreeSet<String>) -> Option<EditAction> {
        let mut need = |field: &str, value: &Option<Spanned<String>>| {
            self.edit_field(e, field, value, declared)
        };
        Some(match e.action.get_ref().as_str() {
            "ensure_line" => {
                let line = need("line", &e.line)?;
                let replace = match &e.replace {
                    Some(r) => {
                        self.refs(r, declared);
                        Some(r.get_ref().clone())
                    }
                    None => None,
                };
                EditAction::EnsureLine { line, replace }
            }
            "comment_out" => EditAction::CommentOut {
                pattern: need("pattern", &e.pattern)?,
            },
            "uncomment" => EditAction::Uncomment {
                pattern: need("pattern", &e.pattern)?,
            },
            "set_var" => {
                let key = need("key", &e.key);
                let value = need("value", &e.value);
                EditAction::SetVar {
                    key: key?,
                    value: value?,
                }
            }
            "add_words" => {
                let key = need("key", &e.key)?;
                let words = self.word_list(e, declared)?;
                if let (Some(w), Some((a, b))) =
                    (&e.words, crate::core::edit::contradicting_words(&words))
                {
                    self.problem(
                        w.span(),
                        format!("'{a}' and '{b}' contradict each other: add one of them"),
                    );
                }
                EditAction::AddWords { key, words }
            }
            "remove_words" => {
                let key = need("key", &e.key)?;
                let words = self.word_list(e, declared)?;
                EditAction::RemoveWords { key, words }
            }
            "comment_form" => EditAction::CommentForm {
                key: need("key", &e.key)?,
            },
            "python_list_item" => {
                let key = need("key", &e.key);
                let pattern = need("pattern", &e.pattern);
                let value = need("value", &e.value);
                EditAction::PythonListItem {
                    key: key?,
                    pattern: pattern?,
                    value: value?,
                }
            }
            "python_line" => EditAction::PythonLine {
                line: need("line", &e.line)?,
            },
            "python_add_words" => {
                let key = need("key", &e.key)?;
                let words = self.word_list(e, declared)?;
                EditAction::PythonAddWords { key, words }
            }
            "ensure_block" => {
                let marker = need("marker", &e.marker);
                let block = need("block", &e.block);
                EditAction::EnsureBlock {
                    marker: marker?,
                    block: block?,
                }
            }
            "chmod" => {
                let mode = need("mode", &e.mode)?;
                self.chmod_action(e, &mode)?
            }
            _ => EditAction::Symlink {
                target: need("target", &e.target)?,
            },
        })
    }

    /// A field the edit's action needs: its value (with its `{name}`s checked), or reported.
    fn edit_field(
        &mut self,
        e: &RawEdit,
        field: &str,
        value: &Option<Spanned<String>>,
        declared: &BTreeSet<String>,
    ) -> Option<String> {
        match value {
            Some(v) => {
                self.refs(v, declared);
                Some(v.get_ref().clone())
            }
            None => {
                self.problem(
                    e.action.span(),
                    format!("the {} action needs `{field}`", e.action.get_ref()),
                );
                None
            }
        }
    }

    /// The edit's non-empty `words` list (with its `{name}`s checked), or reported.
    fn word_list(&mut self, e: &RawEdit, declared: &BTreeSet<String>) -> Option<Vec<String>> {
        match &e.words {
            Some(w) if !w.get_ref().is_empty() => {
                for word in w.get_ref() {
                    self.refs(word, declared);
                }
                Some(w.get_ref().iter().map(|x| x.get_ref().clone()).collect())
            }
            _ => {
                self.problem(
                    e.action.span(),
                    format!(
                        "the {} action needs a non-empty `words` list",
                        e.action.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// `chmod`'s mode: `+x` or `-x`.
    fn chmod_action(&mut self, e: &RawEdit, mode: &str) -> Option<EditAction> {
        match mode {
            "+x" => Some(EditAction::Chmod { executable: true }),
            "-x" => Some(EditAction::Chmod { executable: false }),
            _ => {
                let span = e.mode.as_ref().map_or(e.action.span(), Spanned::span);
                self.problem(
                    span,
                    format!("chmod mode '{mode}' must be \"+x\" or \"-x\""),
                );
                None
            }
        }
    }

    /// The `mode` of a file a text edit creates: octal permission bits (`"0640"`), only with
    /// `create = true`.
    fn new_file_mode(&mut self, m: &Spanned<String>, create: bool) -> Option<u32> {
        let text = m.get_ref().trim();
        let digits = text.strip_prefix("0o").unwrap_or(text);
        let parsed = (3..=4)
            .contains(&digits.len())
            .then(|| u32::from_str_radix(digits, 8).ok())
            .flatten()
            .filter(|&v| v <= 0o777);
        let Some(mode) = parsed else {
            self.problem(
                m.span(),
                format!(
                    "`mode` of a new file must be octal permission bits like \"0640\" (not '{text}')"
                ),
            );
            return None;
        };
        if !create {
            self.problem(
                m.span(),
                "`mode` sets the mode of a file the edit creates; add `create = true`".to_string(),
            );
            return None;
        }
        Some(mode)
    }
}

/// Length of the quote that opens the string value at `start` (0, 1 or 3 bytes), plus the
/// newline a multi-line string skips right after its opening quotes.
fn quote_len(source: &str, start: usize) -> usize {
    let rest = source.get(start..).unwrap_or("");
    for q in ["\"\"\"", "'''"] {
        if let Some(after) = rest.strip_prefix(q) {
            return 3 + if after.starts_with('\n') {
                1
            } else if after.starts_with("\r\n") {
                2
            } else {
                0
            };
        }
    }
    usize::from(rest.starts_with('"') || rest.starts_with('\''))
}

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
