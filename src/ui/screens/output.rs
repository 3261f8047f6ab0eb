//! Output: the lines of the running or last command, scrollable; follows new lines unless the
//! technician scrolled up. The runner fills the buffer with sanitised lines; the command's
//! colours are drawn through the theme (the 8 basic colours, or nothing at all in mono).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::terminal::profile::ColorMode;
use crate::ui::keys::Scope;
use crate::ui::model::Model;
use crate::ui::text::printable;
use crate::ui::widgets::{self, put};

/// Draws the output buffer from line `scroll`.
pub fn draw(model: &Model, scroll: usize, area: Rect, buf: &mut Buffer) {
    let title = if model.output_title.is_empty() {
        "Output".to_string()
    } else {
        format!("Output: {}", model.output_title)
    };
    let right = match &model.running {
        Some(r) => match running_for(model, r) {
            Some(secs) => format!("running {}", crate::core::clock::duration_words(secs)),
            None => "running".to_string(),
        },
        None => format!("{} lines", model.output.len()),
    };
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        &title,
        &right,
        Scope::Output,
        model.message.as_deref(),
    );
    if model.output.is_empty() {
        put(
            buf,
            inner.x + 1,
            inner.y,
            "(no output yet)",
            inner.width.saturating_sub(1),
            Style::new(),
        );
        return;
    }
    let h = usize::from(inner.height);
    let width = inner.width.saturating_sub(1);
    let mono = model.theme.color == ColorMode::Mono;
    for (dy, line) in model.output.iter().skip(scroll).take(h).enumerate() {
        let y = inner.y + dy as u16;
        if mono || line.is_plain() {
            // Exactly the cells of plain text: in mono a coloured command costs nothing more.
            put(
                buf,
                inner.x + 1,
                y,
                &printable(line.text()),
                width,
                Style::new(),
            );
            continue;
        }
        let end = inner.x.saturating_add(1).saturating_add(width);
        let mut x = inner.x + 1;
        for (text, style) in line.pieces() {
            if x >= end {
                break;
            }
            let style = model.theme.command_output(style);
            x = buf
                .set_stringn(x, y, printable(text), usize::from(end - x), style)
                .0;
        }
    }
    widgets::scroll_marks(buf, area, &model.theme, scroll, h, model.output.len());
}

/// How long the running step's current attempt has run, for the title: whole minutes under
/// `--low-bandwidth`, so a slow line redraws it once a minute instead of every second.
fn running_for(model: &Model, running: &crate::ui::model::Running) -> Option<i64> {
    let started = &model
        .run(&running.runbook)?
        .steps
        .get(&running.step)?
        .attempts
        .last()?
        .started;
    let secs = crate::core::clock::between(started, &model.now)?.max(0);
    Some(if model.settings.terminal.low_bandwidth {
        secs - secs % 60
    } else {
        secs
    })
}
