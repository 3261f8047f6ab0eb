//! A question over the current screen: yes/no (only `y` says yes; `n`, `q` and Esc say no), and
//! leaving a tool screen with changes not applied (apply, discard, or stay: Esc stays).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Widget};

use crate::ui::layout;
use crate::ui::model::Model;
use crate::ui::text::wrap;

/// Draws the yes/no question box.
pub fn draw(model: &Model, question: &str, area: Rect, buf: &mut Buffer) {
    draw_box(model, " Confirm ", question, "y: yes    n: no", area, buf);
}

/// Draws the question asked when leaving a tool screen with changes not applied.
pub fn draw_leave(model: &Model, changes: usize, area: Rect, buf: &mut Buffer) {
    let question = format!(
        "{changes} change(s) chosen here are not applied yet. Apply them, discard them, or stay?"
    );
    let answers = format!("a: apply {changes}   d: discard   s: stay");
    draw_box(model, " Leave ", &question, &answers, area, buf);
}

fn draw_box(
    model: &Model,
    title: &str,
    question: &str,
    answers: &str,
    area: Rect,
    buf: &mut Buffer,
) {
    let width = area.width.saturating_sub(4).min(60);
    let text = wrap(question, width.saturating_sub(4).into());
    let height = (text.len() as u16).saturating_add(4);
    let boxed = layout::centered(area, width, height);
    Clear.render(boxed, buf);
    let block = Block::bordered()
        .border_set(model.theme.glyphs.border)
        .title(Line::styled(title, model.theme.title()));
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
            answers,
            inner.width.saturating_sub(1).into(),
            ratatui::style::Style::new(),
        );
    }
}
