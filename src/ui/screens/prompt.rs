//! A one-line text prompt (skip reason, note). Esc closes it only when it is empty: a split
//! escape sequence on a slow line must never throw typed text away.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Widget};
use tui_input::Input;

use crate::ui::layout;
use crate::ui::model::Model;

/// Draws the prompt; returns where the text cursor goes.
pub fn draw(
    model: &Model,
    title: &str,
    input: &Input,
    area: Rect,
    buf: &mut Buffer,
) -> Option<Position> {
    let boxed = layout::centered(area, area.width.saturating_sub(4).min(70), 5);
    Clear.render(boxed, buf);
    let block = Block::bordered()
        .border_set(model.theme.glyphs.border)
        .title(Line::styled(format!(" {title} "), model.theme.title()));
    let inner = block.inner(boxed);
    block.render(boxed, buf);
    if inner.height < 3 || inner.width < 3 {
        return None;
    }
    let field = inner.width.saturating_sub(2);
    let scroll = input.visual_scroll(field.into());
    let shown: String = input.value().chars().skip(scroll).collect();
    buf.set_stringn(inner.x + 1, inner.y, &shown, field.into(), Style::new());
    let hint = match &model.message {
        Some(m) => m.as_str(),
        None => "Enter: save   Ctrl-U: clear   Esc: close if empty",
    };
    buf.set_stringn(inner.x + 1, inner.y + 2, hint, field.into(), Style::new());
    let x = input.visual_cursor().saturating_sub(scroll);
    let x = u16::try_from(x)
        .unwrap_or(u16::MAX)
        .min(field.saturating_sub(1));
    Some(Position::new(inner.x + 1 + x, inner.y))
}
