//! Spotting that a frame is the previous one with a band of rows moved up or down (output
//! following a command, a text scrolled by a line), so the backend can let the terminal move
//! the rows itself (a scroll region and a few line feeds) and send only the rows that are new.
//! On a 9600-baud console that turns a ~1.2 kB redraw per new output line into a few dozen
//! bytes. Pure: it compares cells, the backend writes the bytes.

use ratatui::buffer::Cell;

/// A band of rows to move: rows `top..=bottom` (0-based, inclusive) scroll by `by` rows, up
/// (content moves towards the top, new blank rows at the bottom) when positive, down when
/// negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    /// First row of the region.
    pub top: u16,
    /// Last row of the region.
    pub bottom: u16,
    /// Rows to move: positive up, negative down.
    pub by: i32,
}

/// Bytes a scroll costs at most (margins, a cursor move, the line feeds, margins reset); a
/// scroll must save more cells than this, counting a cell as a byte.
const OVERHEAD: usize = 20;

/// Rows a band must keep, at the least, to be worth scrolling.
const MIN_ROWS: usize = 3;

fn row(cells: &[Cell], width: usize, r: usize) -> &[Cell] {
    &cells[r * width..(r + 1) * width]
}

/// Bytes a cursor move costs, about: what the backend pays to reach a run of changed cells.
const MOVE: usize = 5;

/// About what the backend sends to turn row `a` into row `b`: cell by cell, or erasing to the
/// end of the line from the first change and drawing what is left, whichever is less (as the
/// backend chooses).
fn row_cost(a: &[Cell], b: &[Cell]) -> usize {
    let cells = cell_cost(a, b);
    let Some(first) = a.iter().zip(b).position(|(x, y)| x != y) else {
        return 0;
    };
    let blank = vec![Cell::default(); b.len() - first];
    let erased = MOVE + 3 + cell_cost(&blank, &b[first..]);
    cells.min(erased)
}

/// [`row_cost`] without the erase: each changed cell, and for each run of them either a
/// cursor move or the unchanged cells rewritten, whichever is less.
fn cell_cost(a: &[Cell], b: &[Cell]) -> usize {
    let mut cost = 0;
    let mut gap: Option<usize> = None;
    for (x, y) in a.iter().zip(b) {
        if x == y {
            gap = gap.map(|g| g + 1);
        } else {
            cost += 1 + gap.map_or(MOVE, |g| g.min(MOVE));
            gap = Some(0);
        }
    }
    cost
}

fn blank_cost(r: &[Cell]) -> usize {
    let blank = vec![Cell::default(); r.len()];
    cell_cost(&blank, r)
}

/// The best scroll from `old` to `new` (both `width` x `height`, row-major), if one saves more
/// than it costs. A band never includes the first or last row of the screen, so the terminal
/// never pushes a line into its scrollback.
pub fn plan(old: &[Cell], new: &[Cell], width: u16, height: u16) -> Option<Scroll> {
    let (w, h) = (usize::from(width), usize::from(height));
    if w == 0 || h < MIN_ROWS + 2 || old.len() != w * h || new.len() != w * h {
        return None;
    }
    // What drawing `new` over `old` row by row would cost, per row.
    let plain: Vec<usize> = (0..h)
        .map(|r| row_cost(row(old, w, r), row(new, w, r)))
        .collect();
    let mut best: Option<(usize, Scroll)> = None;
    for k in 1..h - MIN_ROWS {
        for up in [true, false] {
            // Rows of `new` that equal the row k away in `old`, in runs.
            let mut r = 1;
            while r < h - 1 {
                let src = |r: usize| if up { r + k } else { r.wrapping_sub(k) };
                // Blank rows never count: erasing is cheap without moving anything.
                let matches = |r: usize| {
                    let s = src(r);
                    s >= 1
                        && s < h - 1
                        && row(new, w, r) == row(old, w, s)
                        && row(new, w, r).iter().any(|c| *c != Cell::default())
                };
                if !matches(r) {
                    r += 1;
                    continue;
                }
                let start = r;
                while r < h - 1 && matches(r) {
                    r += 1;
                }
                let run = start..r;
                if run.len() < MIN_ROWS {
                    continue;
                }
                // The region: the run plus the k rows the scroll uncovers.
                let (top, bottom) = if up {
                    (run.start, (run.end - 1 + k).min(h - 2))
                } else {
                    (run.start.saturating_sub(k).max(1), run.end - 1)
                };
                let before: usize = (top..=bottom).map(|r| plain[r]).sum();
                // After the scroll: the run is right; the uncovered rows are blank.
                let after: usize = (top..=bottom)
                    .filter(|r| !run.contains(r))
                    .map(|r| blank_cost(row(new, w, r)))
                    .sum();
                let cost = after + OVERHEAD + k;
                // The estimate is rough: demand a clear gain.
                if cost + OVERHEAD < before {
                    let saved = before - cost;
                    if best.is_none_or(|(b, _)| saved > b) {
                        let by = i32::try_from(k).unwrap_or(i32::MAX);
                        best = Some((
                            saved,
                            Scroll {
                                top: u16::try_from(top).unwrap_or(u16::MAX),
                                bottom: u16::try_from(bottom).unwrap_or(u16::MAX),
                                by: if up { by } else { -by },
                            },
                        ));
                    }
                }
            }
        }
    }
    best.map(|(_, s)| s)
}

/// What the terminal shows after `scroll`: the band's rows moved, the uncovered rows blank.
pub fn apply(cells: &mut [Cell], width: u16, scroll: Scroll) {
    let w = usize::from(width);
    let (top, bottom) = (usize::from(scroll.top), usize::from(scroll.bottom));
    let k = usize::try_from(scroll.by.unsigned_abs()).unwrap_or(usize::MAX);
    if bottom < top || bottom * w + w > cells.len() {
        return;
    }
    let band = &mut cells[top * w..(bottom + 1) * w];
    let rows = bottom - top + 1;
    let k = k.min(rows);
    if scroll.by > 0 {
        band.rotate_left(k * w);
        band[(rows - k) * w..].fill(Cell::default());
    } else {
        band.rotate_right(k * w);
        band[..k * w].fill(Cell::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u16 = 40;

    /// A screen of `h` rows of `W` cells; row r shows `label(r)` (None: blank).
    fn screen(h: usize, label: impl Fn(usize) -> Option<String>) -> Vec<Cell> {
        let w = usize::from(W);
        let mut cells = vec![Cell::default(); w * h];
        for r in 0..h {
            if let Some(text) = label(r) {
                for (x, ch) in text.chars().take(w).enumerate() {
                    cells[r * w + x].set_char(ch);
                }
            }
        }
        cells
    }

    /// An output line as a command prints it.
    fn line(n: usize) -> String {
        let words = [
            "checking",
            "compiling",
            ">>> Emerging",
            "libtool:",
            "make[2]:",
            "gcc -O2",
        ];
        let pad = "xyzzy-".repeat(n % 4);
        format!("{} {pad}{}", words[n % words.len()], n * 7919 % 10007)
    }

    #[test]
    fn output_moving_up_by_two_lines_is_one_scroll_of_the_body() {
        // Row 0 a title, rows 1..=10 output lines n.., row 11 a hint.
        let frame = |first: usize| {
            screen(12, move |r| match r {
                0 => Some("title".into()),
                11 => Some("hint".into()),
                _ => Some(line(first + r)),
            })
        };
        let (old, new) = (frame(0), frame(2));
        let s = plan(&old, &new, W, 12).expect("a scroll");
        assert_eq!(
            s,
            Scroll {
                top: 1,
                bottom: 10,
                by: 2
            }
        );
        let mut shown = old.clone();
        apply(&mut shown, W, s);
        // Only the two uncovered rows are left to draw.
        let left: Vec<usize> = (0..12)
            .filter(|&r| row(&shown, W.into(), r) != row(&new, W.into(), r))
            .collect();
        assert_eq!(left, [9, 10]);
    }

    #[test]
    fn scrolling_back_up_moves_the_band_down() {
        let frame = |first: usize| {
            screen(12, move |r| match r {
                0 | 11 => Some("frame".into()),
                _ => Some(line(first + r)),
            })
        };
        let s = plan(&frame(5), &frame(2), W, 12).expect("a scroll");
        assert_eq!(s.by, -3);
        let mut shown = frame(5);
        apply(&mut shown, W, s);
        let left = (0..12)
            .filter(|&r| row(&shown, W.into(), r) != row(&frame(2), W.into(), r))
            .count();
        assert_eq!(left, 3);
    }

    #[test]
    fn unrelated_frames_and_small_moves_are_drawn_plainly() {
        let a = screen(12, |r| Some(format!("a{r}")));
        let b = screen(12, |r| Some(format!("b{r}")));
        assert_eq!(plan(&a, &b, W, 12), None);
        assert_eq!(plan(&a, &a, W, 12), None, "nothing changed");
        // Blank rows moving gain nothing.
        let blank = screen(12, |_| None);
        assert_eq!(plan(&blank, &blank, W, 12), None);
        // Wrong sizes are refused, not indexed out of bounds.
        assert_eq!(plan(&a, &b[..50], W, 12), None);
        assert_eq!(plan(&a, &b, 0, 12), None);
    }

    #[test]
    fn the_first_and_last_rows_never_scroll() {
        let frame = |first: usize| screen(12, move |r| Some(line(first + r)));
        // Every row moved, the first and last too: the band still stops short of them.
        let s = plan(&frame(0), &frame(1), W, 12).expect("a scroll");
        assert!(s.top >= 1 && s.bottom <= 10, "{s:?}");
    }
}
