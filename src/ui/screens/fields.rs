//! Drawing one labelled text field with its message line, shared by the form, the subnet
//! calculator and the quiz. Returns where the text cursor goes when the field has focus.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;

use crate::ui::model::Field;
use crate::ui::text::printable;
use crate::ui::theme::Theme;
use crate::ui::widgets::put;

/// One field to draw.
pub struct FieldView<'a> {
    /// Label before the box.
    pub label: &'a str,
    /// The text and cursor.
    pub field: &'a Field,
    /// Show `*` instead of the text (secrets).
    pub masked: bool,
    /// The line under the field: an error (shown as a warning) or help.
    pub note: Option<(String, bool)>,
    /// Has focus.
    pub focused: bool,
}

/// Rows a field takes: label + input on one row, the note on the next.
pub const FIELD_ROWS: u16 = 2;

/// Draws `view` at row `y` of `inner`; returns the cursor position when focused.
pub fn draw_field(
    buf: &mut Buffer,
    theme: &Theme,
    inner: Rect,
    y: u16,
    label_width: u16,
    view: &FieldView<'_>,
) -> Option<Position> {
    if y >= inner.bottom() || inner.width < 4 {
        return None;
    }
    let mark = if view.focused { ">" } else { " " };
    let label_style = if view.focused {
        theme.emphasis()
    } else {
        Style::new()
    };
    put(buf, inner.x, y, mark, 1, theme.emphasis());
    let label = printable(view.label);
    put(buf, inner.x + 1, y, &label, label_width, label_style);
    let fx = inner.x + 1 + label_width + 1;
    let fw = inner.right().saturating_sub(fx + 1);
    if fw == 0 {
        return None;
    }
    let text: String = if view.masked {
        "*".repeat(view.field.value.chars().count())
    } else {
        printable(&view.field.value)
    };
    let chars: Vec<char> = text.chars().collect();
    let width = usize::from(fw);
    // Keep the cursor in view: scroll the text left when it runs past the field.
    let start = view.field.cursor.saturating_sub(width.saturating_sub(1));
    let shown: String = chars.iter().skip(start).take(width).collect();
    put(buf, fx, y, &"_".repeat(width), fw, theme.quiet());
    put(buf, fx, y, &shown, fw, Style::new());
    if let Some((note, is_error)) = &view.note
        && y + 1 < inner.bottom()
    {
        let style = if *is_error {
            theme.warning()
        } else {
            theme.quiet()
        };
        put(buf, fx, y + 1, &printable(note), fw, style);
    }
    view.focused.then(|| {
        let x = u16::try_from(view.field.cursor.saturating_sub(start)).unwrap_or(0);
        Position::new(fx + x.min(fw.saturating_sub(1)), y)
    })
}
