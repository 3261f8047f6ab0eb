//! Runbook: its sections and steps, one line each, a status marker that reads without colour,
//! and a one-character cursor mark in a gutter.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::core::progress::Status;
use crate::ui::keys::Scope;
use crate::ui::model::{Cursor, Model, Progress};
use crate::ui::widgets::{self, put};

/// Draws a runbook's step list.
pub fn draw(model: &Model, id: &str, cursor: Cursor, area: Rect, buf: &mut Buffer) {
    let theme = &model.theme;
    let Some(rb) = model.runbook(id) else {
        return;
    };
    let p = Progress::of(rb, model.run(id));
    let title = format!("{} {}/{}", rb.title, p.finished, p.total);
    let read_only = if model.read_only_why(id).is_some() {
        "READ-ONLY "
    } else {
        ""
    };
    let right = format!(
        "{read_only}target {}{}",
        model.settings.target,
        super::home::on_host(model)
    );
    let inner = widgets::frame(
        buf,
        area,
        theme,
        &title,
        &right,
        Scope::Runbook,
        model.message.as_deref(),
    );
    // Rows: (section heading or step index).
    let mut rows: Vec<Result<&str, (usize, &crate::core::runbook::Step)>> = Vec::new();
    let mut n = 0;
    for section in &rb.sections {
        rows.push(Ok(section.title.as_str()));
        for step in &section.steps {
            rows.push(Err((n, step)));
            n += 1;
        }
    }
    let selected_row = rows
        .iter()
        .position(|r| matches!(r, Err((i, _)) if *i == cursor.index))
        .unwrap_or(0);
    let h = usize::from(inner.height);
    let offset = widgets::page_offset(selected_row, h);
    for (dy, row) in rows.iter().skip(offset).take(h).enumerate() {
        let y = inner.y + dy as u16;
        match row {
            Ok(heading) => put(
                buf,
                inner.x + 1,
                y,
                heading,
                inner.width.saturating_sub(1),
                theme.emphasis(),
            ),
            Err((i, step)) => {
                if *i == cursor.index {
                    put(buf, inner.x, y, theme.glyphs.cursor, 1, Style::new());
                }
                let status = model.status(id, &step.id);
                put(
                    buf,
                    inner.x + 2,
                    y,
                    status.marker(),
                    inner.width.saturating_sub(2),
                    theme.status(status),
                );
                // A step its probe ruled out reads `[-] Title: not needed (why)`.
                let mut title = model.filled(id, &step.title);
                if let Some(reason) = model
                    .run(id)
                    .and_then(|r| r.steps.get(&step.id))
                    .filter(|s| s.status == Status::Skipped)
                    .and_then(|s| s.reason.as_deref())
                    .filter(|r| r.starts_with("not needed ("))
                {
                    title = format!("{title}: {reason}");
                }
                put(
                    buf,
                    inner.x + 6,
                    y,
                    &title,
                    inner.width.saturating_sub(6),
                    Style::new(),
                );
            }
        }
    }
    let (boxed, _, _) = crate::ui::layout::frame(area);
    widgets::more_marks(buf, boxed, theme, offset > 0, offset + h < rows.len());
}
