//! Drawing pieces every screen shares: the standard frame with its hint line, and a list with a
//! one-character cursor mark in a gutter (cheap to move on a serial line).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};
use unicode_width::UnicodeWidthStr;

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
    frame_while(buf, area, theme, (title, right), scope, message, true)
}

/// [`frame`] for a screen whose cancel key means something only while a command runs: without
/// one, `c:cancel` is left off the hint line.
pub fn frame_while(
    buf: &mut Buffer,
    area: Rect,
    theme: &Theme,
    (title, right): (&str, &str),
    scope: Scope,
    message: Option<&str>,
    running: bool,
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
        Some(m) if m.width() <= usize::from(hint.width) => {
            buf.set_stringn(hint.x, hint.y, m, hint.width.into(), theme.warning());
        }
        // Too long for the line: the hints stay, and `long_message` boxes the text above them
        // once the screen is drawn.
        _ => hint_line_while(buf, hint, theme, scope, running),
    }
    inner
}

/// Most lines a message box takes; a message longer than that is cut (the whole text is in
/// the output or the log of whatever produced it).
const MESSAGE_LINES: usize = 4;

/// A message too long for the hint line (an error naming a long path), wrapped in a box just
/// above the hint line, over the bottom of the screen, so a technician reads all of it instead
/// of a line cut at the terminal's edge. It goes away with the message, on the next key.
pub fn long_message(buf: &mut Buffer, area: Rect, theme: &Theme, message: &str) {
    let (_, _, hint) = layout::frame(area);
    if message.width() <= usize::from(hint.width) || area.width < 8 {
        return;
    }
    let lines = super::text::wrap(message, usize::from(area.width.saturating_sub(4)));
    let shown = lines.len().min(MESSAGE_LINES);
    let height = u16::try_from(shown + 2).unwrap_or(u16::MAX);
    if hint.y < height {
        return;
    }
    let rect = Rect {
        x: area.x,
        y: hint.y - height,
        width: area.width,
        height,
    };
    ratatui::widgets::Clear.render(rect, buf);
    Block::bordered()
        .border_set(theme.glyphs.border)
        .border_style(theme.warning())
        .render(rect, buf);
    for (i, line) in lines.iter().take(shown).enumerate() {
        buf.set_stringn(
            rect.x + 2,
            rect.y + 1 + i as u16,
            line,
            usize::from(rect.width.saturating_sub(4)),
            theme.warning(),
        );
    }
}

/// The `key:label` hints of a scope, as many as fit.
pub fn hint_line(buf: &mut Buffer, area: Rect, theme: &Theme, scope: Scope) {
    hint_line_while(buf, area, theme, scope, true);
}

fn hint_line_while(buf: &mut Buffer, area: Rect, theme: &Theme, scope: Scope, running: bool) {
    let mut spans = Vec::new();
    for (key, label) in keys::hints_while(scope, running) {
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

/// The "more above/below" marks of a screen whose body scrolls inside the standard frame:
/// `scroll` lines hidden above, `shown` on screen, `total` in all.
pub fn scroll_marks(
    buf: &mut Buffer,
    area: Rect,
    theme: &Theme,
    scroll: usize,
    shown: usize,
    total: usize,
) {
    let (boxed, _, _) = layout::frame(area);
    more_marks(buf, boxed, theme, scroll > 0, scroll + shown < total);
}

/// Lines of plain text from line `scroll` into `rows` (one column in from its left edge, cut
/// at its right), as the report and reference screens show them. Returns how many fit.
pub fn text_rows<S: AsRef<str>>(
    buf: &mut Buffer,
    rows: Rect,
    lines: &[S],
    scroll: usize,
    style: Style,
) -> usize {
    let h = usize::from(rows.height);
    for (dy, line) in lines.iter().skip(scroll).take(h).enumerate() {
        put(
            buf,
            rows.x + 1,
            rows.y + dy as u16,
            line.as_ref(),
            rows.width.saturating_sub(1),
            style,
        );
    }
    h
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
