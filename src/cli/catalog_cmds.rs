//! `list`, `show` and `check`: reading runbooks without opening the app (fine over a serial
//! console, and scriptable with `--json`).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::runs::terminal_safe;
use super::{UsageError, exit};
use crate::core::catalog::{self, Catalog, Entry};
use crate::core::runbook::{Action, Arg, EditAction, Program, Runbook};
use crate::core::stdio::print;

/// Prints problems of user runbook files that were skipped, so a typo never hides silently.
fn warn_problems(catalog: &Catalog) {
    for p in &catalog.problems {
        crate::core::stdio::eprint_line(&format!(
            "fieldbook: skipped: {}",
            terminal_safe(&p.to_string())
        ));
    }
}

/// Runbook text is printed through [`terminal_safe`]: a title or a command cannot set the
/// terminal's title, write its clipboard (OSC 52) or hide a line behind a carriage return.
pub(super) fn list(catalog: &Catalog, json: bool) -> anyhow::Result<u8> {
    warn_problems(catalog);
    let mut out = String::new();
    if json {
        let items: Vec<Value> = catalog
            .entries
            .iter()
            .map(|e| {
                json!({
                    "id": e.runbook.id,
                    "title": e.runbook.title,
                    "steps": e.runbook.step_count(),
                    "origin": e.origin.to_string(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
    } else {
        let width = catalog
            .entries
            .iter()
            .map(|e| e.runbook.id.len())
            .max()
            .unwrap_or(2)
            .max(2);
        writeln!(out, "{:<width$}  {:>5}  TITLE", "ID", "STEPS")?;
        for e in &catalog.entries {
            writeln!(
                out,
                "{:<width$}  {:>5}  {}",
                e.runbook.id,
                e.runbook.step_count(),
                e.runbook.title
            )?;
        }
    }
    print(&terminal_safe(&out))?;
    Ok(exit::OK)
}

fn find<'a>(catalog: &'a Catalog, id: &str) -> anyhow::Result<&'a Entry> {
    catalog.get(id).ok_or_else(|| {
        UsageError(format!(
            "unknown runbook '{id}' (known: {})",
            catalog.ids().join(", ")
        ))
        .into()
    })
}

/// The JSON form of a runbook that `show --json` prints: stable keys for scripts.
pub(crate) fn runbook_json(rb: &Runbook) -> Value {
    let sections: Vec<Value> = rb
        .sections
        .iter()
        .map(|s| {
            let steps: Vec<Value> = s.steps.iter().map(step_json).collect();
            json!({"id": s.id, "title": s.title, "steps": steps})
        })
        .collect();
    json!({
        "id": rb.id,
        "title": rb.title,
        "summary": rb.summary,
        "applies_to": rb.applies_to,
        "variables": rb.variables,
        "sections": sections,
    })
}

fn step_json(step: &crate::core::runbook::Step) -> Value {
    let mut v = json!({
        "id": step.id,
        "title": step.title,
        "kind": step.action.kind_name(),
        "why": step.why,
        "confirm": step.confirm,
        "reboot": step.reboot,
        // What decides whether the step applies (a probe, or the question `auto --answer`
        // answers) and what it comes after: a script driving `auto` needs both.
        "when": step.when,
        "after": step.after,
    });
    match &step.action {
        Action::Run(spec) => {
            let commands: Vec<Value> = spec
                .programs
                .iter()
                .map(|p| match p {
                    Program::Argv(argv) => json!(argv),
                    Program::Script { shell, script } => json!([shell, "-c", script]),
                })
                .collect();
            v["commands"] = json!(commands);
            v["expect"] = json!(spec.expect);
            v["check"] = json!(spec.check);
            v["interactive"] = json!(spec.interactive);
            v["long"] = json!(spec.long);
            if let Some(r) = &spec.resume {
                v["resume"] = json!(r);
            }
        }
        Action::Edit { edits } => {
            v["edits"] = json!(edits);
        }
        Action::Form { fields } => v["fields"] = json!(fields),
        Action::Tool { tool } => v["tool"] = json!(tool.name()),
        Action::Manual => {}
    }
    v
}

pub(super) fn show(catalog: &Catalog, id: &str, json: bool, why: bool) -> anyhow::Result<u8> {
    let entry = find(catalog, id)?;
    let rb = &entry.runbook;
    let mut out = String::new();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&runbook_json(rb))?)?;
        print(&terminal_safe(&out))?;
        return Ok(exit::OK);
    }
    writeln!(out, "{} ({}, {} steps)", rb.title, rb.id, rb.step_count())?;
    for line in crate::ui::text::wrap(rb.summary.trim(), 79)
        .iter()
        .filter(|l| !l.is_empty())
    {
        writeln!(out, "{line}")?;
    }
    let mut n = 0;
    for section in &rb.sections {
        writeln!(out, "\n== {} ==", section.title)?;
        for step in &section.steps {
            n += 1;
            let head = format!(
                "[{}] {}  ({})",
                step.action.kind_name(),
                step.title,
                step.id
            );
            if why {
                // A handout for an 80-column console: long titles wrap under themselves.
                for (i, line) in crate::ui::text::wrap(&head, WHY_WIDTH + 2)
                    .iter()
                    .enumerate()
                {
                    if i == 0 {
                        writeln!(out, "{n:>3}. {line}")?;
                    } else {
                        writeln!(out, "     {line}")?;
                    }
                }
            } else {
                writeln!(out, "{n:>3}. {head}")?;
            }
            match &step.action {
                Action::Run(spec) => {
                    for p in &spec.programs {
                        match p {
                            Program::Argv(argv) => {
                                writeln!(out, "       $ {}", show_command(argv))?
                            }
                            Program::Script { shell, script } => {
                                writeln!(out, "       {shell} script:")?;
                                for line in script.lines() {
                                    writeln!(out, "         {line}")?;
                                }
                            }
                        }
                    }
                }
                Action::Edit { edits } => {
                    for e in edits {
                        let line = format!("edit {} ({})", e.path, describe_edit(&e.action));
                        if why {
                            for (i, l) in crate::ui::text::wrap(&line, WHY_WIDTH).iter().enumerate()
                            {
                                let indent = if i == 0 { "       " } else { "         " };
                                writeln!(out, "{indent}{l}")?;
                            }
                        } else {
                            writeln!(out, "       {line}")?;
                        }
                    }
                }
                _ => {}
            }
            if why && !step.why.trim().is_empty() {
                for line in crate::ui::text::wrap(step.why.trim(), WHY_WIDTH) {
                    writeln!(out, "       {line}")?;
                }
            }
        }
    }
    print(&terminal_safe(&out))?;
    Ok(exit::OK)
}

/// Columns of the wrapped why under each step in `show --why`: with the 7-column indent the
/// lines fit an 80-column console.
const WHY_WIDTH: usize = 72;

/// A command as written in the runbook: an optional element is shown in brackets with the
/// value that puts it in (`[--keep-going if unattended=yes]`).
fn show_command(argv: &[Arg]) -> String {
    argv.iter()
        .map(|a| match a {
            Arg::Word(w) => show_argv(std::slice::from_ref(w)),
            Arg::Optional(o) => format!(
                "[{} if {}={}]",
                show_argv(std::slice::from_ref(&o.arg)),
                o.var,
                show_argv(std::slice::from_ref(&o.is))
            ),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An argv shown the way a technician would type it: each element that needs it is quoted,
/// so the boundaries between arguments stay visible.
pub(crate) fn show_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,{}".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One short phrase for an edit, for listings.
pub(crate) fn describe_edit(action: &EditAction) -> String {
    match action {
        EditAction::EnsureLine { line, .. } => format!("ensure line: {line}"),
        EditAction::CommentOut { pattern } => format!("comment out lines with: {pattern}"),
        EditAction::Uncomment { pattern } => format!("uncomment lines with: {pattern}"),
        EditAction::SetVar { key, value } => format!("set {key}=\"{value}\""),
        EditAction::AddWords { key, words } => format!("add to {key}: {}", words.join(" ")),
        EditAction::RemoveWords { key, words } => {
            format!("remove from {key}: {}", words.join(" "))
        }
        EditAction::EnsureBlock { marker, .. } => format!("ensure block '{marker}'"),
        EditAction::CommentForm { key } => format!("comment out every ({key} ...) form"),
        EditAction::PythonListItem { key, value, .. } => format!("ensure {key} item: '{value}'"),
        EditAction::PythonAddWords { key, words } => {
            format!("add to {key} string: {}", words.join(" "))
        }
        EditAction::PythonLine { line } => format!("set the Python assignment: {line}"),
        EditAction::Chmod { executable: true } => "chmod +x".into(),
        EditAction::Chmod { executable: false } => "chmod -x".into(),
        EditAction::Symlink { target } => format!("symlink to {target}"),
    }
}

pub(super) fn check(files: &[PathBuf]) -> u8 {
    let mut bad = false;
    let mut seen: Vec<(String, &PathBuf)> = Vec::new();
    for f in files {
        match catalog::load_file(f) {
            Ok(rb) if seen.iter().any(|(id, _)| *id == rb.id) => {
                bad = true;
                let first = seen.iter().find(|(id, _)| *id == rb.id).map(|(_, p)| *p);
                let p = catalog::duplicate_id(f, &rb.id, first.map_or(f.as_path(), |p| p));
                crate::core::stdio::print_line(&terminal_safe(&p.to_string()));
            }
            Ok(rb) => {
                seen.push((rb.id.clone(), f));
                crate::core::stdio::print_line(&terminal_safe(&format!(
                    "{}: ok ({}, {} steps)",
                    f.display(),
                    rb.id,
                    rb.step_count()
                )))
            }
            Err(problems) => {
                bad = true;
                for p in problems {
                    crate::core::stdio::print_line(&terminal_safe(&p.to_string()));
                }
            }
        }
    }
    if bad { exit::FAILURE } else { exit::OK }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `show --json` says which steps ask a question (the ones `auto --answer STEP=yes|no`
    /// answers), which are probed, and what each step comes after.
    #[test]
    fn show_json_carries_when_and_after() {
        let rb = crate::core::runbook::load_str(
            "w.toml",
            "id = \"w\"\ntitle = \"W\"\nsummary = \"s\"\n[[section]]\nid = \"s\"\n\
             title = \"S\"\n[[section.step]]\nid = \"a\"\ntitle = \"A\"\nkind = \"manual\"\n\
             why = \"w\"\nwhen = { ask = \"Did it fail?\", not_needed = \"it did not\" }\n\
             [[section.step]]\nid = \"b\"\ntitle = \"B\"\nkind = \"command\"\n\
             commands = [[\"true\"]]\nwhy = \"w\"\nafter = [\"a\"]\n\
             when = { probe = [\"test\", \"-d\", \"/proc/xen\"], not_needed = \"no xen\" }\n",
        )
        .unwrap();
        let steps: Vec<Value> = rb.steps().map(|(_, s)| step_json(s)).collect();
        assert_eq!(
            steps[0]["when"]["test"]["ask"], "Did it fail?",
            "{}",
            steps[0]
        );
        assert_eq!(steps[0]["when"]["not_needed"], "it did not");
        assert_eq!(steps[0]["after"], json!([]));
        assert_eq!(
            steps[1]["when"]["test"]["probe"],
            json!(["test", "-d", "/proc/xen"]),
            "{}",
            steps[1]
        );
        assert_eq!(steps[1]["after"], json!(["a"]));
    }
}
