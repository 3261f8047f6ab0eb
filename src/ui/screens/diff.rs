//! Change preview: the unified diff of an edit step before it is applied, or the reverse diff
//! before an undo, scrollable; `a` asks and then applies.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::core::terminal_text::terminal_safe_line;
use crate::ui::keys::Scope;
use crate::ui::model::{EditPreview, Model};
use crate::ui::widgets::{self, put};

/// The lines shown: a one-line summary, then the diff. `update` clamps scrolling with its length.
pub fn body_lines(preview: &EditPreview) -> Vec<String> {
    let mut out = Vec::with_capacity(preview.diff.len() + 2);
    match &preview.undo {
        Some(_) if preview.changed_since => out.push(
            "UNDO. Warning: the files changed after the edit; undo loses those changes.".into(),
        ),
        Some(_) => out.push("UNDO: restoring the backup makes these changes:".into()),
        None => out.push("Nothing is written until you press a and answer yes.".into()),
    }
    if preview.follow_symlinks {
        out.push("(editing through a symbolic link, as confirmed)".into());
    }
    out.push(String::new());
    out.extend(preview.diff.iter().map(|l| terminal_safe_line(l)));
    out
}

/// Draws the preview from line `scroll`.
pub fn draw(
    model: &Model,
    runbook: &str,
    step: &str,
    preview: &EditPreview,
    scroll: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let title = model
        .step(runbook, step)
        .map_or_else(|| step.to_string(), |(_, s)| s.title.clone());
    let title = match preview.undo {
        Some(_) => format!("Undo: {title}"),
        None => format!("Changes: {title}"),
    };
    let lines = body_lines(preview);
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        &title,
        &format!("{} lines", preview.diff.len()),
        Scope::Diff,
        model.message.as_deref(),
    );
    let h = usize::from(inner.height);
    for (dy, line) in lines.iter().skip(scroll).take(h).enumerate() {
        // Monochrome first: added lines bold, removed lines plain; the +/- says it anyway.
        let style = if line.starts_with('+') && !line.starts_with("+++") {
            model.theme.emphasis()
        } else if line.starts_with("UNDO. Warning") {
            model.theme.warning()
        } else {
            Style::new()
        };
        put(
            buf,
            inner.x + 1,
            inner.y + dy as u16,
            line,
            inner.width.saturating_sub(1),
            style,
        );
    }
    widgets::scroll_marks(buf, area, &model.theme, scroll, h, lines.len());
}
