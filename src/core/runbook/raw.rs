//! The runbook file as serde reads it: loose structs that remember where each value stood.

use serde::Deserialize;
use toml::Spanned;

use crate::core::vars::VarType;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRunbook {
    pub(super) id: Spanned<String>,
    pub(super) title: String,
    #[serde(default)]
    pub(super) summary: String,
    #[serde(default)]
    pub(super) applies_to: Vec<String>,
    #[serde(default, rename = "variable")]
    pub(super) variables: Vec<RawVariable>,
    #[serde(rename = "section")]
    pub(super) sections: Spanned<Vec<RawSection>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVariable {
    pub(super) name: Spanned<String>,
    #[serde(rename = "type")]
    pub(super) ty: VarType,
    #[serde(default)]
    pub(super) label: Option<String>,
    #[serde(default)]
    pub(super) help: String,
    pub(super) default: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) choices: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSection {
    pub(super) id: Spanned<String>,
    pub(super) title: String,
    #[serde(rename = "step")]
    pub(super) steps: Spanned<Vec<RawStep>>,
}

pub(super) type SpannedArgv = Spanned<Vec<Spanned<String>>>;

/// A command's argv: words, and options present by a variable's value.
pub(super) type SpannedCommand = Spanned<Vec<Spanned<RawArg>>>;

/// An argv element as written: a string, or a table (`{ arg, if, is, practice }`) read by
/// hand so each mistake gets its own message.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum RawArg {
    Word(String),
    Optional(toml::Table),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) id: Spanned<String>,
    pub(super) title: String,
    pub(super) why: Spanned<String>,
    pub(super) kind: Spanned<String>,
    pub(super) confirm: Option<String>,
    #[serde(default)]
    pub(super) reboot: bool,
    pub(super) when: Option<Spanned<RawWhen>>,
    pub(super) after: Option<Spanned<Vec<Spanned<String>>>>,
    // command / script
    pub(super) commands: Option<Spanned<Vec<SpannedCommand>>>,
    pub(super) script: Option<Spanned<String>>,
    pub(super) shell: Option<String>,
    pub(super) expect: Option<Vec<i32>>,
    pub(super) ok_output: Option<Vec<String>>,
    pub(super) shows: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) check: Option<SpannedArgv>,
    pub(super) interactive: Option<bool>,
    pub(super) long: Option<bool>,
    pub(super) resume: Option<SpannedArgv>,
    pub(super) practice: Option<String>,
    // edit
    pub(super) edit: Option<Spanned<Vec<RawEdit>>>,
    // form
    pub(super) fields: Option<Spanned<Vec<Spanned<String>>>>,
    // tool
    pub(super) tool: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWhen {
    pub(super) probe: Option<SpannedArgv>,
    pub(super) script: Option<Spanned<String>>,
    pub(super) shell: Option<String>,
    pub(super) ask: Option<Spanned<String>>,
    pub(super) not_needed: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEdit {
    pub(super) path: Spanned<String>,
    pub(super) action: Spanned<String>,
    pub(super) comment: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) create: bool,
    pub(super) line: Option<Spanned<String>>,
    pub(super) replace: Option<Spanned<String>>,
    pub(super) pattern: Option<Spanned<String>>,
    pub(super) key: Option<Spanned<String>>,
    pub(super) value: Option<Spanned<String>>,
    pub(super) words: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) marker: Option<Spanned<String>>,
    pub(super) block: Option<Spanned<String>>,
    pub(super) mode: Option<Spanned<String>>,
    pub(super) target: Option<Spanned<String>>,
    pub(super) missing: Option<Spanned<String>>,
}
