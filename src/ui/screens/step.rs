//! Step: why it exists (wrapped, scrollable), the exact commands with the variables filled in,
//! the file and change of an edit, the status, every attempt and the notes.

use std::collections::BTreeMap;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::core::progress::StepState;
use crate::core::runbook::{Action, Edit, EditAction, Program, RunSpec, Runbook, Step, WhenTest};
use crate::core::terminal_text::terminal_safe_line;
use crate::core::vars::substitute;
use crate::ui::keys::Scope;
use crate::ui::model::Model;
use crate::ui::text::{show_argv, wrap};
use crate::ui::theme::Theme;
use crate::ui::widgets::{self};

fn heading(out: &mut Vec<Line<'static>>, theme: &Theme, text: &str) {
    out.push(Line::raw(""));
    out.push(Line::styled(text.to_string(), theme.emphasis()));
}

fn para(out: &mut Vec<Line<'static>>, text: &str, width: usize, indent: usize, style: Style) {
    let pad = " ".repeat(indent);
    for l in wrap(&printable_keep_newlines(text), width.saturating_sub(indent)) {
        out.push(Line::styled(format!("{pad}{l}"), style));
    }
}

fn printable_keep_newlines(text: &str) -> String {
    text.split('\n')
        .map(terminal_safe_line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// What an edit does, in one sentence, with the variables filled in.
pub fn describe_edit(edit: &Edit, values: &BTreeMap<String, String>) -> String {
    let s = |t: &str| substitute(t, values);
    let change = match &edit.action {
        EditAction::EnsureLine { line, replace } => match replace {
            Some(r) => format!(
                "replace the line containing \"{}\" with \"{}\"",
                s(r),
                s(line)
            ),
            None => format!("make sure the line \"{}\" is present", s(line)),
        },
        EditAction::CommentOut { pattern } => {
            format!("comment out lines containing \"{}\"", s(pattern))
        }
        EditAction::Uncomment { pattern } => {
            format!("uncomment lines containing \"{}\"", s(pattern))
        }
        EditAction::SetVar { key, value } => format!("set {}=\"{}\"", s(key), s(value)),
        EditAction::AddWords { key, words } => {
            format!("add {} to {}", s(&words.join(" ")), s(key))
        }
        EditAction::RemoveWords { key, words } => {
            format!("remove {} from {}", s(&words.join(" ")), s(key))
        }
        EditAction::EnsureBlock { marker, block } => {
            format!("make sure the block \"{}\" holds:\n{}", s(marker), s(block))
        }
        EditAction::Chmod { executable } => {
            if *executable {
                "make it executable".into()
            } else {
                "make it not executable".into()
            }
        }
        EditAction::Symlink { target } => format!("make it a link to {}", s(target)),
        EditAction::CommentForm { key } => {
            format!("comment out every active ({} ...) form", s(key))
        }
        EditAction::PythonListItem {
            key,
            pattern,
            value,
        } => format!(
            "make the {} item containing \"{}\" read '{}'",
            s(key),
            s(pattern),
            s(value)
        ),
        EditAction::PythonAddWords { key, words } => {
            format!("add {} to the {} string", s(&words.join(" ")), s(key))
        }
        EditAction::PythonLine { line } => format!("set the assignment {}", s(line)),
    };
    format!("{}: {change}", s(&edit.path))
}

fn values_for(model: &Model, rb: &Runbook) -> BTreeMap<String, String> {
    model.values(&rb.id)
}

/// The scrollable body of a step screen, wrapped to `width`. `update` uses its length to
/// clamp scrolling, so it must be exactly what `draw` shows.
pub fn body_lines(model: &Model, runbook: &str, step: &str, width: usize) -> Vec<Line<'static>> {
    let theme = &model.theme;
    let mut out = Vec::new();
    let Some((rb, st)) = model.step(runbook, step) else {
        return out;
    };
    let section = rb
        .steps()
        .find(|(_, s)| s.id == st.id)
        .map(|(sec, _)| sec.title.clone())
        .unwrap_or_default();
    let status = model.status(runbook, step);
    let state = model.run(runbook).and_then(|r| r.steps.get(step));
    out.push(Line::from(vec![
        Span::raw("Status: "),
        Span::styled(status.marker(), theme.status(status)),
        Span::raw(format!(" {}", status.name())),
    ]));
    para(
        &mut out,
        &format!("Section: {section}; kind: {}", st.action.kind_name()),
        width,
        0,
        Style::new(),
    );
    if let Some(reason) = state.and_then(|s| s.reason.as_deref()) {
        para(
            &mut out,
            &format!("Reason: {reason}"),
            width,
            0,
            Style::new(),
        );
    }
    condition_lines(&mut out, model, runbook, st, width);
    heading(&mut out, theme, "Why");
    para(
        &mut out,
        &model.filled(runbook, &st.why),
        width,
        2,
        Style::new(),
    );
    action_lines(&mut out, model, rb, st, width);
    if let Some(q) = &st.confirm {
        heading(&mut out, theme, "Asks first");
        para(&mut out, q, width, 2, Style::new());
    }
    if st.reboot {
        para(
            &mut out,
            "This step reboots the machine; the run resumes after it.",
            width,
            0,
            theme.warning(),
        );
    }
    if let Some(state) = state {
        history_lines(&mut out, theme, state, width);
    }
    out
}

/// When the step applies (its `when`) and what it comes after, with their status.
fn condition_lines(
    out: &mut Vec<Line<'static>>,
    model: &Model,
    runbook: &str,
    st: &Step,
    width: usize,
) {
    if let Some(when) = &st.when {
        let test = match &when.test {
            WhenTest::Probe(Program::Argv(argv)) => {
                let text = crate::core::runbook::words(argv).join(" ");
                format!("`{}` succeeds", model.filled(runbook, &text))
            }
            WhenTest::Probe(Program::Script { .. }) => "its probe script succeeds".to_string(),
            WhenTest::Ask(q) => format!("you answer yes to \"{}\"", q.trim()),
        };
        para(
            out,
            &format!(
                "Applies only when {test}; otherwise not needed ({}).",
                when.not_needed.trim()
            ),
            width,
            0,
            Style::new(),
        );
    }
    if !st.after.is_empty() {
        let after: Vec<String> = st
            .after
            .iter()
            .map(|id| format!("{} {id}", model.status(runbook, id).marker()))
            .collect();
        para(
            out,
            &format!("Comes after: {}", after.join(", ")),
            width,
            0,
            Style::new(),
        );
    }
}

/// The step's attempts and notes, oldest first.
fn history_lines(out: &mut Vec<Line<'static>>, theme: &Theme, state: &StepState, width: usize) {
    if !state.attempts.is_empty() {
        heading(out, theme, "Attempts");
        for a in &state.attempts {
            let mut t = format!("#{} {}", a.number, super::home::when(&a.started));
            if let Some(e) = &a.exit {
                t.push_str(&format!(", {e}"));
            }
            if let Some(o) = &a.outcome {
                t.push_str(&format!(", {o}"));
            }
            if !a.who.is_empty() {
                t.push_str(&format!(" ({})", a.who));
            }
            para(out, &t, width, 2, Style::new());
        }
    }
    if !state.notes.is_empty() {
        heading(out, theme, "Notes");
        for n in &state.notes {
            let who = if n.who.is_empty() {
                String::new()
            } else {
                format!(" {}", n.who)
            };
            para(
                out,
                &format!("{}{who}: {}", super::home::when(&n.at), n.text),
                width,
                2,
                Style::new(),
            );
        }
    }
}

fn action_lines(
    out: &mut Vec<Line<'static>>,
    model: &Model,
    rb: &Runbook,
    st: &Step,
    width: usize,
) {
    let theme = &model.theme;
    let values = values_for(model, rb);
    match &st.action {
        Action::Manual => {
            heading(out, theme, "What to do");
            para(
                out,
                "Do it by hand, then mark it done (d).",
                width,
                2,
                Style::new(),
            );
        }
        Action::Run(spec) => {
            run_lines(out, theme, spec, &values, width);
        }
        Action::Edit { edits } => {
            edit_lines(out, model, rb, st, edits, &values, width);
        }
        Action::Form { fields } => {
            form_lines(out, theme, rb, fields, &values, width);
        }
        Action::Tool { tool } => {
            heading(out, theme, "Tool");
            para(
                out,
                &format!("Opens the {} screen.", tool.name()),
                width,
                2,
                Style::new(),
            );
        }
    }
}

/// A command or script step: its programs as they will run, its check, and how it runs.
fn run_lines(
    out: &mut Vec<Line<'static>>,
    theme: &Theme,
    spec: &RunSpec,
    values: &BTreeMap<String, String>,
    width: usize,
) {
    heading(out, theme, "Commands");
    for p in &spec.programs {
        match p {
            Program::Argv(argv) => {
                let filled = crate::core::runbook::resolve_argv(argv, values);
                para(
                    out,
                    &format!("$ {}", show_argv(&filled)),
                    width,
                    2,
                    theme.command(),
                );
            }
            Program::Script { shell, script } => {
                para(
                    out,
                    &format!("{shell} script (variables arrive as FB_<name>):"),
                    width,
                    2,
                    Style::new(),
                );
                for l in script.lines() {
                    out.push(Line::styled(
                        format!("    {}", terminal_safe_line(l)),
                        theme.command(),
                    ));
                }
            }
        }
    }
    if let Some(check) = &spec.check {
        let filled: Vec<String> = check.iter().map(|a| substitute(a, values)).collect();
        para(
            out,
            &format!("Already done when this succeeds: {}", show_argv(&filled)),
            width,
            2,
            Style::new(),
        );
    }
    let mut flags = Vec::new();
    match (spec.interactive, spec.long) {
        // It gets the terminal itself, so it cannot run detached: a dropped link ends
        // it unless fieldbook runs inside screen or tmux.
        (true, true) => flags.push(
            "needs the terminal (interactive) and takes long: run fieldbook inside \
             screen or tmux, a dropped link would end it",
        ),
        (true, false) => flags.push("needs the terminal (interactive)"),
        (false, true) => flags.push("long: runs detached, survives a dropped link"),
        (false, false) => {}
    }
    if !flags.is_empty() {
        para(out, &flags.join("; "), width, 2, Style::new());
    }
}

/// An edit step: what it changes, and the edits applied so far with their backups.
fn edit_lines(
    out: &mut Vec<Line<'static>>,
    model: &Model,
    rb: &Runbook,
    st: &Step,
    edits: &[Edit],
    values: &BTreeMap<String, String>,
    width: usize,
) {
    let theme = &model.theme;
    heading(out, theme, "Changes");
    for e in edits {
        para(out, &describe_edit(e, values), width, 2, Style::new());
    }
    para(
        out,
        "r shows the diff first; nothing is written before you answer yes.",
        width,
        2,
        theme.quiet(),
    );
    let applied: Vec<_> = model
        .run(&rb.id)
        .map(|r| r.edits.iter().filter(|e| e.step == st.id).collect())
        .unwrap_or_default();
    if !applied.is_empty() {
        heading(out, theme, "Applied (u undoes)");
        for a in applied {
            let state = if a.undone { ", undone" } else { "" };
            let backup = a.backup.as_deref().unwrap_or("none");
            para(
                out,
                &format!(
                    "{} {}{state}; backup {backup}",
                    super::home::when(&a.at),
                    a.path
                ),
                width,
                2,
                Style::new(),
            );
        }
    }
}

/// A form step: each field with its label and value (a secret never shown).
fn form_lines(
    out: &mut Vec<Line<'static>>,
    theme: &Theme,
    rb: &Runbook,
    fields: &[String],
    values: &BTreeMap<String, String>,
    width: usize,
) {
    heading(out, theme, "Asks for");
    for f in fields {
        let label = rb.variable(f).map_or(f.as_str(), |v| v.label.as_str());
        let value = values.get(f).map_or("(not set)".to_string(), |v| {
            if rb
                .variable(f)
                .is_some_and(|v| v.ty == crate::core::vars::VarType::Secret)
            {
                "(secret)".to_string()
            } else {
                v.clone()
            }
        });
        para(
            out,
            &format!("{label} ({f}): {value}"),
            width,
            2,
            Style::new(),
        );
    }
}

/// Draws one step.
pub fn draw(model: &Model, runbook: &str, step: &str, scroll: usize, area: Rect, buf: &mut Buffer) {
    let Some((rb, st)) = model.step(runbook, step) else {
        return;
    };
    let index = rb.steps().position(|(_, s)| s.id == st.id).unwrap_or(0) + 1;
    let status = model.status(runbook, step);
    let title = format!("{} {}", status.marker(), model.filled(runbook, &st.title));
    let read_only = if model.read_only_why(runbook).is_some() {
        "READ-ONLY "
    } else {
        ""
    };
    let right = format!("{read_only}step {index}/{}", rb.step_count());
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        &title,
        &right,
        Scope::Step,
        model.message.as_deref(),
    );
    let width = crate::ui::layout::text_width(model.size);
    let lines = body_lines(model, runbook, step, width);
    let h = usize::from(inner.height);
    for (dy, line) in lines.iter().skip(scroll).take(h).enumerate() {
        let area = Rect {
            x: inner.x + 1,
            y: inner.y + dy as u16,
            width: inner.width.saturating_sub(1),
            height: 1,
        };
        line.clone().render(area, buf);
    }
    widgets::scroll_marks(buf, area, &model.theme, scroll, h, lines.len());
}
