//! Validation: the raw structs become the model, every problem located as FILE:LINE:COL.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;

use super::raw::*;
use super::*;
use crate::core::location::LineCol;
use crate::core::vars::{self, VarType};

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
        types: BTreeMap::new(),
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
    /// Each declared variable's type: a `shows` text may not use a `secret` (its verdict would
    /// show it), and only a `cidr` has `{name.address}` and `{name.prefix}`.
    types: BTreeMap<String, VarType>,
}

/// Every step kind the format knows, for messages.
const KINDS: &str = "manual, command, script, edit, form, tool";

/// A text action may give the mode of the file it creates (`chmod` and `symlink` use `mode`
/// and `target` for themselves).
fn creates_with_mode(e: &RawEdit) -> bool {
    !matches!(e.action.get_ref().as_str(), "chmod" | "symlink")
}

impl Validator<'_> {
    pub(super) fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_string(),
            at: LineCol::of(self.source, span.start),
            message: message.into(),
        });
    }

    pub(super) fn identifier(&mut self, what: &str, id: &Spanned<String>) {
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

    pub(super) fn runbook(&mut self, raw: RawRunbook) -> Runbook {
        self.identifier("runbook", &raw.id);
        let mut variables = Vec::new();
        let mut declared = BTreeSet::new();
        for rv in raw.variables {
            if let Some(v) = self.variable(rv, &mut declared) {
                if v.ty == VarType::Choice {
                    self.choices.insert(v.name.clone(), v.choices.clone());
                }
                self.types.insert(v.name.clone(), v.ty);
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

    pub(super) fn variable(
        &mut self,
        rv: RawVariable,
        declared: &mut BTreeSet<String>,
    ) -> Option<Variable> {
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
    pub(super) fn refs(&mut self, text: &Spanned<String>, declared: &BTreeSet<String>) {
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
        for (offset, name, part) in vars::cidr_part_references(text.get_ref()) {
            match self.types.get(&name) {
                Some(VarType::Cidr) | None => {}
                Some(ty) => {
                    let start = text.span().start + quote + offset;
                    self.problem(
                        start..start,
                        format!(
                            "{{{name}.{}}}: '{name}' is of type {}; only a cidr variable has .address and .prefix",
                            part.name(),
                            ty.name()
                        ),
                    );
                }
            }
        }
    }

    pub(super) fn argv(
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
    pub(super) fn command(
        &mut self,
        argv: SpannedCommand,
        declared: &BTreeSet<String>,
    ) -> Option<Vec<Arg>> {
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

    pub(super) fn optional_arg(
        &mut self,
        table: toml::Table,
        at: Range<usize>,
    ) -> Option<OptionalArg> {
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

mod edit;
mod step;
