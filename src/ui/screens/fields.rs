//! Drawing one labelled text field with its message line, shared by the form, the subnet
//! calculator and the quiz. Returns where the text cursor goes when the field has focus.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;

use crate::core::terminal_text::terminal_safe_line;
use crate::ui::model::Field;
use crate::ui::text::wrap;
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

/// Rows a field takes at least: label + input on one row, the note on the next.
pub const FIELD_ROWS: u16 = 2;

/// The label's lines (wrapped to the label column) and the note's (wrapped under the input),
/// so nothing is cut: two labels that start alike ("Physical interface on the ...") must both
/// be read whole.
fn wrapped(view: &FieldView<'_>, inner: Rect, label_width: u16) -> (Vec<String>, Vec<String>) {
    let label = wrap(
        &terminal_safe_line(view.label),
        usize::from(label_width.max(1)),
    );
    let fx = inner.x + 1 + label_width + 1;
    let fw = inner.right().saturating_sub(fx + 1).max(1);
    let note = view
        .note
        .as_ref()
        .map(|(n, _)| wrap(&terminal_safe_line(n), usize::from(fw)))
        .unwrap_or_default();
    (label, note)
}

/// Rows `view` needs with its label and note wrapped (at least [`FIELD_ROWS`]).
pub fn field_rows(view: &FieldView<'_>, inner: Rect, label_width: u16) -> u16 {
    let (label, note) = wrapped(view, inner, label_width);
    let rows = label.len().max(1 + note.len()).max(usize::from(FIELD_ROWS));
    u16::try_from(rows).unwrap_or(u16::MAX)
}

/// Draws `view` at row `y` of `inner` in at most `rows` rows (label and note wrapped); returns
/// the cursor position when focused.
pub fn draw_field(
    buf: &mut Buffer,
    theme: &Theme,
    inner: Rect,
    (y, rows): (u16, u16),
    label_width: u16,
    view: &FieldView<'_>,
) -> Option<Position> {
    if y >= inner.bottom() || inner.width < 4 {
        return None;
    }
    let last = inner.bottom().min(y.saturating_add(rows.max(1)));
    let (label_lines, note_lines) = wrapped(view, inner, label_width);
    let mark = if view.focused { ">" } else { " " };
    let label_style = if view.focused {
        theme.emphasis()
    } else {
        Style::new()
    };
    put(buf, inner.x, y, mark, 1, theme.emphasis());
    for (dy, line) in label_lines.iter().enumerate() {
        let Some(ly) = u16::try_from(dy).ok().and_then(|d| y.checked_add(d)) else {
            break;
        };
        if ly >= last {
            break;
        }
        put(buf, inner.x + 1, ly, line, label_width, label_style);
    }
    let fx = inner.x + 1 + label_width + 1;
    let fw = inner.right().saturating_sub(fx + 1);
    if fw == 0 {
        return None;
    }
    let text: String = if view.masked {
        "*".repeat(view.field.value.chars().count())
    } else {
        terminal_safe_line(&view.field.value)
    };
    let chars: Vec<char> = text.chars().collect();
    let width = usize::from(fw);
    // Keep the cursor in view: scroll the text left when it runs past the field.
    let start = view.field.cursor.saturating_sub(width.saturating_sub(1));
    let shown: String = chars.iter().skip(start).take(width).collect();
    put(buf, fx, y, &"_".repeat(width), fw, theme.quiet());
    put(buf, fx, y, &shown, fw, Style::new());
    if let Some((_, is_error)) = &view.note {
        let style = if *is_error {
            theme.warning()
        } else {
            theme.quiet()
        };
        for (dy, line) in note_lines.iter().enumerate() {
            let Some(ny) = u16::try_from(dy + 1).ok().and_then(|d| y.checked_add(d)) else {
                break;
            };
            if ny >= last {
                break;
            }
            put(buf, fx, ny, line, fw, style);
        }
    }
    view.focused.then(|| {
        let x = u16::try_from(view.field.cursor.saturating_sub(start)).unwrap_or(0);
        Position::new(fx + x.min(fw.saturating_sub(1)), y)
    })
}
