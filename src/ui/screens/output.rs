//! Output: the lines of the running or last command, scrollable; follows new lines unless the
//! technician scrolled up. The runner fills the buffer with sanitised lines; the command's
//! colours are drawn through the theme (the 8 basic colours, or nothing at all in mono).
//!
//! Long lines wrap (fieldbook's own advice, a FAILED line and practice teaching text must be
//! read whole at 78 columns); `w` switches to one row per line, cut at the edge, for tables.
//! `scroll` is the first *line* shown; with wrapping a line takes as many rows as it needs.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::core::terminal_text::terminal_safe_line;
use crate::terminal::profile::ColorMode;
use crate::ui::keys::Scope;
use crate::ui::model::Model;
use crate::ui::output_line::OutputLine;
use crate::ui::text::wrap;
use crate::ui::widgets::{self, put};

/// Most rows the "lines dropped" note above the output takes.
const DROPPED_ROWS: usize = 2;

/// Columns an output row has at `size` (inside the frame, after the one-column margin).
pub fn text_width(size: (u16, u16)) -> usize {
    usize::from(size.0.saturating_sub(3)).max(1)
}

/// The note above the output when old lines were dropped from the screen: how many, and where
/// the whole output is kept.
pub fn dropped_note(model: &Model, width: usize) -> Vec<String> {
    if model.output_dropped == 0 {
        return Vec::new();
    }
    let state_dir = model.settings.state().ok().map(|d| d.base());
    let log = match (&model.output_log, &state_dir) {
        (Some(log), Some(dir)) => dir.join(log).display().to_string(),
        (Some(log), None) => format!("{log} in the state directory"),
        (None, _) => "the step's log in the state directory".to_string(),
    };
    let text = format!(
        "[{} earlier lines are not shown here; the full log is {log}]",
        model.output_dropped
    );
    let mut lines = wrap(&terminal_safe_line(&text), width);
    lines.truncate(DROPPED_ROWS);
    lines
}

/// Rows of output shown at `size` (the page, less the dropped-lines note).
pub fn body_rows(model: &Model, size: (u16, u16)) -> usize {
    let page = crate::ui::layout::page(size);
    page.saturating_sub(dropped_note(model, text_width(size)).len())
        .max(1)
}

/// Rows one line takes at `width`: one when not wrapping.
fn rows_of(line: &OutputLine, width: usize, wrapping: bool) -> usize {
    if !wrapping {
        return 1;
    }
    row_starts(&terminal_safe_line(line.text()), width).len()
}

/// Where each row of a wrapped line starts (char indexes; the first is 0). A row breaks after
/// the last space that fits when there is one in its second half, so words stay whole; a long
/// run without spaces (a path, a URL) is cut at the edge.
fn row_starts(text: &str, width: usize) -> Vec<usize> {
    let width = width.max(1);
    let mut starts = vec![0];
    let (mut col, mut last_space) = (0usize, None::<(usize, usize)>);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let w = unicode_width::UnicodeWidthChar::width(chars[i]).unwrap_or(0);
        if col + w > width && col > 0 {
            let start = match last_space {
                Some((at, at_col)) if at_col * 2 >= width => at + 1,
                _ => i,
            };
            starts.push(start);
            i = start;
            col = 0;
            last_space = None;
            continue;
        }
        if chars[i] == ' ' {
            last_space = Some((i, col));
        }
        col += w;
        i += 1;
    }
    starts
}

/// The first line of the last page: the lines from it to the end fill at most `rows` rows.
pub fn last_page_start(model: &Model, width: usize, rows: usize) -> usize {
    let mut used = 0;
    let mut first = model.output.len();
    for line in model.output.iter().rev() {
        let r = rows_of(line, width, model.output_wrap);
        if used + r > rows && first < model.output.len() {
            break;
        }
        used += r;
        first -= 1;
        if used >= rows {
            break;
        }
    }
    first
}

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
        None => format!("{} lines", model.output.len() + model.output_dropped),
    };
    let inner = widgets::frame_while(
        buf,
        area,
        &model.theme,
        (&title, &right),
        Scope::Output,
        model.message.as_deref(),
        model.running.is_some(),
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
    let width = inner.width.saturating_sub(1);
    let mut y = inner.y;
    for note in dropped_note(model, usize::from(width.max(1))) {
        if y >= inner.bottom() {
            break;
        }
        put(buf, inner.x + 1, y, &note, width, model.theme.quiet());
        y += 1;
    }
    let mono = model.theme.color == ColorMode::Mono;
    let mut shown = 0;
    let mut cut = false;
    for line in model.output.iter().skip(scroll) {
        if y >= inner.bottom() {
            break;
        }
        (y, cut) = draw_line(
            model,
            line,
            mono,
            (inner.x + 1, y, width),
            inner.bottom(),
            buf,
        );
        shown += 1;
    }
    let more_below = cut || scroll + shown < model.output.len();
    let (boxed, _, _) = crate::ui::layout::frame(area);
    widgets::more_marks(buf, boxed, &model.theme, scroll > 0, more_below);
}

/// Draws one output line from row `y` (several rows when wrapping, stopping at `bottom`);
/// returns the row after it, and whether the bottom cut the line short.
fn draw_line(
    model: &Model,
    line: &OutputLine,
    mono: bool,
    (x0, y, width): (u16, u16, u16),
    bottom: u16,
    buf: &mut Buffer,
) -> (u16, bool) {
    let end = x0.saturating_add(width);
    let (mut x, mut y) = (x0, y);
    let breaks = if model.output_wrap {
        row_starts(&terminal_safe_line(line.text()), usize::from(width))
    } else {
        vec![0]
    };
    let mut next_break = breaks.iter().skip(1).copied().peekable();
    let mut index = 0usize;
    let pieces: Vec<(String, Style)> = if mono || line.is_plain() {
        // Exactly the cells of plain text: in mono a coloured command costs nothing more.
        vec![(terminal_safe_line(line.text()), Style::new())]
    } else {
        line.pieces()
            .map(|(text, style)| (terminal_safe_line(text), model.theme.command_output(style)))
            .collect()
    };
    for (text, style) in pieces {
        for c in text.chars() {
            let w =
                u16::try_from(unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)).unwrap_or(0);
            if next_break.peek() == Some(&index) {
                next_break.next();
                y += 1;
                x = x0;
                if y >= bottom {
                    return (y, true);
                }
            }
            index += 1;
            if x.saturating_add(w) > end {
                // Not wrapping: one row per line, cut at the edge.
                return (y + 1, false);
            }
            let mut tmp = [0u8; 4];
            buf.set_stringn(x, y, c.encode_utf8(&mut tmp), usize::from(w.max(1)), style);
            x = x.saturating_add(w);
        }
    }
    (y + 1, false)
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
