//! A yes/no question over the current screen: only `y` says yes; `n`, `q` and Esc say no.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Widget};

use crate::ui::layout;
use crate::ui::model::Model;
use crate::ui::text::wrap;

/// Draws the question box.
pub fn draw(model: &Model, question: &str, area: Rect, buf: &mut Buffer) {
    let width = area.width.saturating_sub(4).min(60);
    let text = wrap(question, width.saturating_sub(4).into());
    let height = (text.len() as u16).saturating_add(4);
    let boxed = layout::centered(area, width, height);
    Clear.render(boxed, buf);
    let block = Block::bordered()
        .border_set(model.theme.glyphs.border)
        .title(Line::styled(" Confirm ", model.theme.title()));
    let inner = block.inner(boxed);
    block.render(boxed, buf);
    for (dy, l) in text.iter().take(inner.height.into()).enumerate() {
        buf.set_stringn(
            inner.x + 1,
            inner.y + dy as u16,
            l,
            inner.width.saturating_sub(1).into(),
            model.theme.emphasis(),
        );
    }
    if inner.height > 0 {
        buf.set_stringn(
            inner.x + 1,
            inner.bottom() - 1,
            "y: yes    n: no",
            inner.width.saturating_sub(1).into(),
            ratatui::style::Style::new(),
        );
    }
}
