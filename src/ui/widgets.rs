//! Drawing pieces every screen shares: the standard frame with its hint line, and a list with a
//! one-character cursor mark in a gutter (cheap to move on a serial line).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

use super::keys::{self, Scope};
use super::layout;
use super::theme::Theme;

/// Draws the bordered frame with `title` left and `right` right in the top border, and the
/// hint line (or the current message) under it. Returns the inside of the box.
pub fn frame(
    buf: &mut Buffer,
    area: Rect,
    theme: &Theme,
    title: &str,
    right: &str,
    scope: Scope,
    message: Option<&str>,
) -> Rect {
    let (boxed, inner, hint) = layout::frame(area);
    let mut block = Block::bordered()
        .border_set(theme.glyphs.border)
        .title(Line::from(Span::styled(
            format!(" {title} "),
            theme.title(),
        )));
    if !right.is_empty() {
        block = block.title(Line::from(format!(" {right} ")).right_aligned());
    }
    block.render(boxed, buf);
    match message {
        Some(m) => {
            buf.set_stringn(hint.x, hint.y, m, hint.width.into(), theme.warning());
        }
        None => hint_line(buf, hint, theme, scope),
    }
    inner
}

/// The `key:label` hints of a scope, as many as fit.
pub fn hint_line(buf: &mut Buffer, area: Rect, theme: &Theme, scope: Scope) {
    let mut spans = Vec::new();
    for (key, label) in keys::hints(scope) {
        spans.push(Span::styled(key, theme.emphasis()));
        spans.push(Span::raw(format!(":{label}  ")));
    }
    Line::from(spans).render(area, buf);
}

/// Writes `text` at (x, y), cut to `width` columns.
pub fn put(buf: &mut Buffer, x: u16, y: u16, text: &str, width: u16, style: Style) {
    if width > 0 {
        buf.set_stringn(x, y, text, width.into(), style);
    }
}

/// The first row shown so that `row` is visible, scrolling by whole pages: a page turn costs
/// one repaint, where line-by-line scrolling at the edge would repaint the list on every key.
pub fn page_offset(row: usize, height: usize) -> usize {
    let h = height.max(1);
    (row / h) * h
}

/// Draws "more above/below" marks on the right border when a list continues.
pub fn more_marks(buf: &mut Buffer, boxed: Rect, theme: &Theme, above: bool, below: bool) {
    if boxed.width < 2 || boxed.height < 3 {
        return;
    }
    let x = boxed.right() - 1;
    if above {
        put(buf, x, boxed.y + 1, theme.glyphs.more_up, 1, Style::new());
    }
    if below {
        put(
            buf,
            x,
            boxed.bottom() - 2,
            theme.glyphs.more_down,
            1,
            Style::new(),
        );
    }
}
