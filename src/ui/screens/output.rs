//! Output: the lines of the running or last command, scrollable; follows new lines unless the
//! technician scrolled up. The runner fills the buffer with sanitised lines.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

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
        Some(_) => "running".to_string(),
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
    for (dy, line) in model.output.iter().skip(scroll).take(h).enumerate() {
        put(
            buf,
            inner.x + 1,
            inner.y + dy as u16,
            &printable(line),
            inner.width.saturating_sub(1),
            Style::new(),
        );
    }
    let (boxed, _, _) = crate::ui::layout::frame(area);
    widgets::more_marks(
        buf,
        boxed,
        &model.theme,
        scroll > 0,
        scroll + h < model.output.len(),
    );
}
