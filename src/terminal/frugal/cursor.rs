//! The cursor moves of the frugal backend: the shortest of an absolute move (CUP), a relative
//! one, or rewriting the few cells in between.

use std::io::Write;

use unicode_width::UnicodeWidthStr;

use super::FrugalBackend;

impl<W: Write> FrugalBackend<W> {
    /// Moves the cursor with the shortest sequence this backend knows.
    pub(super) fn move_to(&mut self, x: u16, y: u16) {
        if self.cursor == Some((x, y)) {
            return;
        }
        if let Some(wy) = self.wrap_row.take()
            && x == 0
            && y >= wy
            && y - wy <= 2
        {
            // From a pending wrap, CR goes to column 0 of the same row; LF never scrolls here
            // because row y exists.
            self.buf.push(b'\r');
            self.buf.extend(std::iter::repeat_n(b'\n', (y - wy).into()));
            self.cursor = Some((x, y));
            return;
        }
        let abs_len = cup_len(x, y);
        let rel: Option<Vec<u8>> = self.cursor.and_then(|(cx, cy)| relative_move(cx, cy, x, y));
        let best = rel.as_ref().map_or(abs_len, |r| r.len().min(abs_len));
        if let Some(fill) = self.gap_fill(x, y, best) {
            self.buf.extend_from_slice(&fill);
        } else {
            match rel {
                Some(seq) if seq.len() < abs_len => self.buf.extend_from_slice(&seq),
                _ => self.write_cup(x, y),
            }
        }
        self.cursor = Some((x, y));
    }

    /// The bytes of the cells between the cursor and (x, y) on the same row, when the terminal
    /// is known to show them in the current pen and rewriting them costs less than `limit`.
    pub(super) fn gap_fill(&self, x: u16, y: u16, limit: usize) -> Option<Vec<u8>> {
        let (cx, cy) = self.cursor?;
        let shadow = self.shadow.as_ref()?;
        let pen = self.pen?;
        if cy != y || x <= cx {
            return None;
        }
        let mut out = Vec::new();
        for gx in cx..x {
            let cell =
                shadow.get(usize::from(y) * usize::from(self.size.width) + usize::from(gx))?;
            let sym = cell.symbol();
            if self.pen_of(cell) != pen || sym.width() != 1 {
                return None;
            }
            out.extend_from_slice(sym.as_bytes());
            if out.len() >= limit {
                return None;
            }
        }
        Some(out)
    }

    pub(super) fn write_cup(&mut self, x: u16, y: u16) {
        self.buf.extend_from_slice(b"\x1b[");
        if (x, y) != (0, 0) {
            if y != 0 {
                self.push_num(u32::from(y) + 1);
            }
            if x != 0 {
                self.buf.push(b';');
                self.push_num(u32::from(x) + 1);
            }
        }
        self.buf.push(b'H');
    }
}

fn digits(n: u32) -> usize {
    n.to_string().len()
}

/// Length of `ESC [ row ; col H` with the defaults left out.
fn cup_len(x: u16, y: u16) -> usize {
    let mut n = 3;
    if y != 0 {
        n += digits(u32::from(y) + 1);
    }
    if x != 0 {
        n += 1 + digits(u32::from(x) + 1);
    }
    n
}

/// A relative move from (cx, cy) to (x, y) when one is simple: CR, LF, BS, CUU/CUD/CUF/CUB;
/// the shortest of going down by line feeds and then across, or back to column 0 first.
/// LF never scrolls here because the target row exists on screen, and in raw mode (no
/// output post-processing) it keeps the column.
fn relative_move(cx: u16, cy: u16, x: u16, y: u16) -> Option<Vec<u8>> {
    let across = |from: u16, seq: &mut Vec<u8>| {
        if x > from {
            let d = x - from;
            if d == 1 {
                seq.extend_from_slice(b"\x1b[C");
            } else {
                seq.extend_from_slice(format!("\x1b[{d}C").as_bytes());
            }
        } else if x < from {
            let d = from - x;
            if d <= 3 {
                seq.extend(std::iter::repeat_n(b'\x08', d.into()));
            } else {
                seq.extend_from_slice(format!("\x1b[{d}D").as_bytes());
            }
        }
    };
    let vertical = |seq: &mut Vec<u8>| {
        if y > cy {
            let d = y - cy;
            if d <= 2 {
                seq.extend(std::iter::repeat_n(b'\n', d.into()));
            } else {
                seq.extend_from_slice(format!("\x1b[{d}B").as_bytes());
            }
        } else if y < cy {
            let d = cy - y;
            if d == 1 {
                seq.extend_from_slice(b"\x1b[A");
            } else {
                seq.extend_from_slice(format!("\x1b[{d}A").as_bytes());
            }
        }
    };
    let mut straight = Vec::new();
    vertical(&mut straight);
    across(cx, &mut straight);
    if cx == 0 {
        return Some(straight);
    }
    let mut from_margin = vec![b'\r'];
    vertical(&mut from_margin);
    across(0, &mut from_margin);
    Some(if from_margin.len() < straight.len() {
        from_margin
    } else {
        straight
    })
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Size;

    use super::*;
    use crate::terminal::profile::{ColorMode, SgrSet};

    #[test]
    fn cup_is_shortest_form() {
        let mut b = FrugalBackend::new(
            Vec::new(),
            Size::new(80, 24),
            ColorMode::Mono,
            SgrSet::Vt100,
        );
        b.write_cup(0, 0);
        b.write_cup(0, 4);
        b.write_cup(9, 0);
        b.write_cup(9, 4);
        assert_eq!(b.buf, b"\x1b[H\x1b[5H\x1b[;10H\x1b[5;10H");
        assert_eq!(cup_len(9, 4), 7);
    }
}
