//! A ratatui backend that writes as few bytes as possible, for 9600-baud serial consoles.
//!
//! ratatui's crossterm backend ends every frame with `ESC[39m ESC[49m ESC[59m ESC[0m` and hides
//! the cursor on every draw, even when one character changed. This backend remembers what the
//! terminal is showing (the pen: colours and attributes; the cursor position and visibility)
//! across frames and writes only the difference, with the shortest cursor move it knows, and
//! only SGR codes the terminal understands (a VT100 gets 0/1/4/5/7 and nothing else). It never
//! asks the terminal anything: `get_cursor_position` answers from memory, because a query
//! blocks for 2 s on a console that does not answer.

use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

use super::profile::{ColorMode, SgrSet};

mod cursor;

/// The attributes we emit; everything else (italic, dim, strike) is dropped.
const KEPT: Modifier = Modifier::BOLD
    .union(Modifier::UNDERLINED)
    .union(Modifier::REVERSED)
    .union(Modifier::SLOW_BLINK);

/// Colour and attribute state of the terminal's pen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Option<u8>,
    bg: Option<u8>,
    mods: Modifier,
}

const DEFAULT_PEN: Pen = Pen {
    fg: None,
    bg: None,
    mods: Modifier::empty(),
};

/// A [`Backend`] that writes minimal escape sequences to `W`, buffering each frame into one
/// write.
#[derive(Debug)]
pub struct FrugalBackend<W: Write> {
    out: W,
    buf: Vec<u8>,
    size: Size,
    color: ColorMode,
    sgr: SgrSet,
    /// What the terminal's pen is; `None` when unknown (start, after a hand-off).
    pen: Option<Pen>,
    /// Where the terminal's cursor is; `None` when unknown (after writing the last column).
    cursor: Option<(u16, u16)>,
    /// The row whose last column was just written: the cursor waits there with a wrap pending,
    /// and CR / LF are the cheap, well-defined ways out.
    wrap_row: Option<u16>,
    /// What the terminal shows, cell by cell, when known (after a full clear): lets a short
    /// gap be crossed by rewriting the cells it holds, cheaper than a cursor move.
    shadow: Option<Vec<Cell>>,
    /// Whether the cursor is visible; `None` when unknown.
    visible: Option<bool>,
}

impl<W: Write> FrugalBackend<W> {
    /// A backend drawing a `size` screen for a terminal with these capabilities.
    pub fn new(out: W, size: Size, color: ColorMode, sgr: SgrSet) -> Self {
        FrugalBackend {
            out,
            buf: Vec::with_capacity(4096),
            size,
            color,
            sgr,
            pen: None,
            cursor: None,
            wrap_row: None,
            shadow: None,
            visible: None,
        }
    }

    /// Sets the size `size()` reports (the resolved size, not the kernel's 0x0).
    pub fn set_size(&mut self, size: Size) {
        self.size = size;
        self.shadow = None;
    }

    /// Forgets what the terminal shows (after a child program or a suspend used it), so the
    /// next frame re-establishes pen, cursor and visibility.
    pub fn forget_state(&mut self) {
        self.pen = None;
        self.cursor = None;
        self.wrap_row = None;
        self.shadow = None;
        self.visible = None;
    }

    /// The writer (tests read the bytes from it).
    pub fn writer(&self) -> &W {
        &self.out
    }

    /// The writer, mutably (tests reset their byte count).
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn color_code(&self, c: Color) -> Option<u8> {
        if self.color == ColorMode::Mono {
            return None;
        }
        match c {
            Color::Black | Color::DarkGray => Some(0),
            Color::Red | Color::LightRed => Some(1),
            Color::Green | Color::LightGreen => Some(2),
            Color::Yellow | Color::LightYellow => Some(3),
            Color::Blue | Color::LightBlue => Some(4),
            Color::Magenta | Color::LightMagenta => Some(5),
            Color::Cyan | Color::LightCyan => Some(6),
            Color::Gray | Color::White => Some(7),
            Color::Indexed(i) if i < 8 => Some(i),
            _ => None,
        }
    }

    fn pen_of(&self, cell: &Cell) -> Pen {
        let mut mods = cell.modifier & KEPT;
        // Reverse video without colours must still read as a selection.
        if self.sgr == SgrSet::Vt100 {
            mods &= KEPT;
        }
        Pen {
            fg: self.color_code(cell.fg),
            bg: self.color_code(cell.bg),
            mods,
        }
    }

    fn blank_screen(&self) -> Vec<Cell> {
        vec![Cell::default(); usize::from(self.size.width) * usize::from(self.size.height)]
    }

    fn push_num(&mut self, n: u32) {
        let _ = write!(self.buf, "{n}");
    }

    fn set_pen(&mut self, want: Pen) {
        if self.pen == Some(want) {
            return;
        }
        let mut params: Vec<u32> = Vec::new();
        let reset = match self.pen {
            None => true,
            Some(have) => {
                let removed = have.mods - want.mods;
                let colour_dropped = (have.fg.is_some() && want.fg.is_none())
                    || (have.bg.is_some() && want.bg.is_none());
                match self.sgr {
                    SgrSet::Vt100 => !removed.is_empty() || colour_dropped,
                    // Turning one attribute off costs as much as a reset plus re-applying when
                    // several would follow; keep it simple: reset when leaving bold (22 also
                    // clears dim) would need more than one code.
                    SgrSet::Ecma48 => false,
                }
            }
        };
        let base = if reset {
            DEFAULT_PEN
        } else {
            self.pen.unwrap_or(DEFAULT_PEN)
        };
        if reset {
            params.push(0);
        } else {
            let removed = base.mods - want.mods;
            if removed.contains(Modifier::BOLD) {
                params.push(22);
            }
            if removed.contains(Modifier::UNDERLINED) {
                params.push(24);
            }
            if removed.contains(Modifier::SLOW_BLINK) {
                params.push(25);
            }
            if removed.contains(Modifier::REVERSED) {
                params.push(27);
            }
        }
        let added = want.mods - base.mods;
        if added.contains(Modifier::BOLD) {
            params.push(1);
        }
        if added.contains(Modifier::UNDERLINED) {
            params.push(4);
        }
        if added.contains(Modifier::SLOW_BLINK) {
            params.push(5);
        }
        if added.contains(Modifier::REVERSED) {
            params.push(7);
        }
        if want.fg != base.fg {
            params.push(want.fg.map_or(39, |c| 30 + u32::from(c)));
        }
        if want.bg != base.bg {
            params.push(want.bg.map_or(49, |c| 40 + u32::from(c)));
        }
        // A lone reset is written as ESC[m (3 bytes).
        self.buf.extend_from_slice(b"\x1b[");
        if params != [0] {
            for (i, p) in params.iter().enumerate() {
                if i > 0 {
                    self.buf.push(b';');
                }
                self.push_num(*p);
            }
        }
        self.buf.push(b'm');
        self.pen = Some(want);
    }

    /// When this frame is the last one with a band of rows moved (output following a
    /// command), lets the terminal move them: a scroll region, line feeds (or reverse index)
    /// at its edge, the region reset. Returns the whole new frame, for drawing what is left
    /// against the moved shadow; `None` when scrolling would not pay (or the screen is not
    /// known cell by cell).
    fn scrolled_frame(&mut self, changes: &[(u16, u16, &Cell)]) -> Option<Vec<Cell>> {
        let (w, h) = (self.size.width, self.size.height);
        // A scroll pays only when several rows change.
        let rows_changed = changes.chunk_by(|a, b| a.1 == b.1).count();
        if rows_changed < 3 {
            return None;
        }
        let old = self.shadow.as_ref()?;
        let mut new = old.clone();
        for &(x, y, cell) in changes {
            new[usize::from(y) * usize::from(w) + usize::from(x)] = cell.clone();
        }
        let plan = super::scroll::plan(old, &new, w, h)?;
        // Erased and inserted rows take the current background: start from the default pen.
        self.set_pen(DEFAULT_PEN);
        self.buf.extend_from_slice(b"\x1b[");
        self.push_num(u32::from(plan.top) + 1);
        self.buf.push(b';');
        self.push_num(u32::from(plan.bottom) + 1);
        self.buf.push(b'r');
        // Setting the margins homes the cursor, to the screen's corner or the region's
        // (emulators differ): only an absolute move is sure from here, and after the reset.
        self.cursor = None;
        self.wrap_row = None;
        let k = plan.by.unsigned_abs() as usize;
        if plan.by > 0 {
            self.write_cup(0, plan.bottom);
            self.buf.extend(std::iter::repeat_n(b'\n', k));
        } else {
            self.write_cup(0, plan.top);
            for _ in 0..k {
                self.buf.extend_from_slice(b"\x1bM");
            }
        }
        self.buf.extend_from_slice(b"\x1b[r");
        if let Some(shadow) = self.shadow.as_mut() {
            super::scroll::apply(shadow, w, plan);
        }
        Some(new)
    }

    /// Writes one cell at (x, y) and keeps the cursor, wrap and shadow bookkeeping.
    fn put_cell(&mut self, x: u16, y: u16, cell: &Cell) {
        self.move_to(x, y);
        let pen = self.pen_of(cell);
        self.set_pen(pen);
        let sym = cell.symbol();
        let (text, w) = if sym.is_empty() {
            (" ", 1)
        } else {
            (sym, sym.width().max(1))
        };
        self.buf.extend_from_slice(text.as_bytes());
        if let Some(shadow) = self.shadow.as_mut() {
            let i = usize::from(y) * usize::from(self.size.width) + usize::from(x);
            match shadow.get_mut(i) {
                Some(c) if w == 1 => *c = cell.clone(),
                // Wide characters: stop trusting the copy rather than model them.
                _ => self.shadow = None,
            }
        }
        let nx = x.saturating_add(w as u16);
        // Writing the last column leaves the cursor waiting for a wrap: only CR, LF and
        // absolute moves are sure from there.
        if nx >= self.size.width {
            self.cursor = None;
            self.wrap_row = Some(y);
        } else {
            self.cursor = Some((nx, y));
            self.wrap_row = None;
        }
    }

    /// A cell that shows nothing: a space in the default pen, what an erase leaves behind.
    fn is_blank(&self, cell: &Cell) -> bool {
        cell.symbol() == " " && self.pen_of(cell) == DEFAULT_PEN
    }

    /// Writes one row's changes, cell by cell or, when it is shorter, by erasing the rest of
    /// the line (`ESC [ K`, known to every VT100) from the start of a run of blanks and
    /// redrawing what must stay to its right (typically the frame's border): a long title
    /// replaced by a short one then costs a few bytes instead of one space per cell.
    fn draw_row(&mut self, changes: &[(u16, u16, &Cell)]) {
        let Some(&(_, y, _)) = changes.first() else {
            return;
        };
        let width = usize::from(self.size.width);
        let row = usize::from(y) * width..usize::from(y) * width + width;
        let start = self.buf.len();
        let before = (self.pen, self.cursor, self.wrap_row);
        let old_row: Option<Vec<Cell>> = self
            .shadow
            .as_ref()
            .and_then(|s| s.get(row.clone()))
            .map(<[Cell]>::to_vec);
        for &(x, y, cell) in changes {
            self.put_cell(x, y, cell);
        }
        // Erasing needs to know what the row holds, and only pays for a run of blanks.
        let (Some(old_row), Some(new_row)) = (
            old_row,
            self.shadow
                .as_ref()
                .and_then(|s| s.get(row.clone()))
                .map(<[Cell]>::to_vec),
        ) else {
            return;
        };
        let starts: Vec<usize> = changes
            .iter()
            .enumerate()
            .filter(|&(i, &(x, _, cell))| {
                self.is_blank(cell)
                    && (i == 0 || changes[i - 1].0 + 1 != x || !self.is_blank(changes[i - 1].2))
            })
            .map(|(i, _)| i)
            .collect();
        if starts.is_empty() {
            return;
        }
        let mut best = self.buf.split_off(start);
        let mut best_state = (self.pen, self.cursor, self.wrap_row);
        for first_blank in starts {
            let x0 = changes[first_blank].0;
            (self.pen, self.cursor, self.wrap_row) = before;
            if let Some(s) = self.shadow.as_mut() {
                s[row.clone()].clone_from_slice(&old_row);
            }
            for &(x, y, cell) in &changes[..first_blank] {
                self.put_cell(x, y, cell);
            }
            self.move_to(x0, y);
            self.set_pen(DEFAULT_PEN);
            self.buf.extend_from_slice(b"\x1b[K");
            if let Some(s) = self.shadow.as_mut() {
                for c in &mut s[row.start + usize::from(x0)..row.end] {
                    *c = Cell::default();
                }
            }
            for (x, cell) in new_row.iter().enumerate().skip(usize::from(x0)) {
                if !self.is_blank(cell) {
                    self.put_cell(x as u16, y, cell);
                }
            }
            let tried = self.buf.split_off(start);
            if tried.len() < best.len() {
                best = tried;
                best_state = (self.pen, self.cursor, self.wrap_row);
            }
        }
        // Either way the row ends up showing `new_row`.
        (self.pen, self.cursor, self.wrap_row) = best_state;
        if let Some(s) = self.shadow.as_mut() {
            s[row].clone_from_slice(&new_row);
        }
        self.buf.extend_from_slice(&best);
    }

    fn emit(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.out.flush()
    }
}

impl<W: Write> Backend for FrugalBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let (width, height) = (self.size.width, self.size.height);
        let cells: Vec<(u16, u16, &Cell)> = content
            .filter(|&(x, y, _)| x < width && y < height)
            .collect();
        if let Some(new) = self.scrolled_frame(&cells) {
            // The terminal moved the rows; what is left is the difference to the new frame.
            let old = self.shadow.as_deref().unwrap_or(&[]);
            let w = usize::from(width);
            let rest: Vec<(u16, u16, &Cell)> = new
                .iter()
                .enumerate()
                .filter(|(i, c)| old.get(*i) != Some(*c))
                .map(|(i, c)| ((i % w) as u16, (i / w) as u16, c))
                .collect();
            for row in rest.chunk_by(|a, b| a.1 == b.1) {
                self.draw_row(row);
            }
            return Ok(());
        }
        // ratatui hands the changes over in screen order: one row at a time.
        for row in cells.chunk_by(|a, b| a.1 == b.1) {
            self.draw_row(row);
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.visible != Some(false) {
            self.buf.extend_from_slice(b"\x1b[?25l");
            self.visible = Some(false);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.visible != Some(true) {
            self.buf.extend_from_slice(b"\x1b[?25h");
            self.visible = Some(true);
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        let (x, y) = self.cursor.unwrap_or((0, 0));
        Ok(Position { x, y })
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let p = position.into();
        self.move_to(p.x, p.y);
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        // Erasing fills with the current background: reset the pen first.
        if self.pen != Some(DEFAULT_PEN) {
            self.set_pen(DEFAULT_PEN);
        }
        let seq: &[u8] = match clear_type {
            ClearType::All => {
                self.buf.extend_from_slice(b"\x1b[H");
                self.cursor = Some((0, 0));
                self.wrap_row = None;
                self.shadow = Some(self.blank_screen());
                b"\x1b[J"
            }
            ClearType::AfterCursor if self.cursor == Some((0, 0)) => {
                self.shadow = Some(self.blank_screen());
                b"\x1b[J"
            }
            ClearType::AfterCursor => {
                self.shadow = None;
                b"\x1b[J"
            }
            ClearType::BeforeCursor => {
                self.shadow = None;
                b"\x1b[1J"
            }
            ClearType::CurrentLine => {
                self.shadow = None;
                b"\x1b[2K"
            }
            ClearType::UntilNewLine => {
                self.shadow = None;
                b"\x1b[K"
            }
        };
        self.buf.extend_from_slice(seq);
        Ok(())
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size,
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::layout::Rect;
    use ratatui::style::Style;
    use ratatui::{TerminalOptions, Viewport};

    fn term(color: ColorMode, sgr: SgrSet) -> Terminal<FrugalBackend<Vec<u8>>> {
        let size = Size::new(80, 24);
        let b = FrugalBackend::new(Vec::new(), size, color, sgr);
        Terminal::with_options(
            b,
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
            },
        )
        .unwrap()
    }

    fn take(t: &mut Terminal<FrugalBackend<Vec<u8>>>) -> Vec<u8> {
        std::mem::take(t.backend_mut().writer_mut())
    }

    #[test]
    fn identical_frame_writes_nothing() {
        let mut t = term(ColorMode::Mono, SgrSet::Vt100);
        let draw = |f: &mut ratatui::Frame| {
            f.buffer_mut()
                .set_string(3, 3, "hello", Style::new().add_modifier(Modifier::BOLD));
        };
        t.draw(draw).unwrap();
        take(&mut t);
        t.draw(draw).unwrap();
        assert_eq!(take(&mut t), b"");
    }

    #[test]
    fn moving_a_mark_is_a_few_bytes_and_no_resets() {
        let mut t = term(ColorMode::Basic8, SgrSet::Ecma48);
        t.draw(|f| f.buffer_mut().set_string(2, 5, ">", Style::new()))
            .unwrap();
        take(&mut t);
        t.draw(|f| f.buffer_mut().set_string(2, 6, ">", Style::new()))
            .unwrap();
        let bytes = take(&mut t);
        assert!(bytes.len() <= 16, "{:?}", String::from_utf8_lossy(&bytes));
        let s = String::from_utf8_lossy(&bytes);
        for bad in ["39m", "49m", "59m", "?25"] {
            assert!(!s.contains(bad), "{s:?}");
        }
    }

    #[test]
    fn vt100_never_gets_ecma48_only_codes() {
        let mut t = term(ColorMode::Mono, SgrSet::Vt100);
        t.draw(|f| {
            let b = f.buffer_mut();
            b.set_string(
                0,
                0,
                "a",
                Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            );
            b.set_string(1, 0, "b", Style::new().add_modifier(Modifier::REVERSED));
            b.set_string(2, 0, "c", Style::new().fg(Color::Red));
            b.set_string(3, 0, "d", Style::new());
        })
        .unwrap();
        let s = String::from_utf8(take(&mut t)).unwrap();
        // Every SGR parameter is one of 0, 1, 4, 5, 7.
        for part in s.split("\x1b[").skip(1) {
            if let Some(params) = part.split_once('m').map(|(p, _)| p)
                && params.chars().all(|c| c.is_ascii_digit() || c == ';')
            {
                for p in params.split(';').filter(|p| !p.is_empty()) {
                    assert!(["0", "1", "4", "5", "7"].contains(&p), "SGR {p} in {s:?}");
                }
            }
        }
        assert!(
            s.contains("\x1b[0;7mb") || s.contains("\x1b[;7mb") || s.contains("\x1b[0;7m"),
            "{s:?}"
        );
    }

    #[test]
    fn cursor_visibility_is_only_written_on_change() {
        let mut t = term(ColorMode::Mono, SgrSet::Ecma48);
        t.draw(|_| {}).unwrap();
        assert_eq!(take(&mut t), b"\x1b[?25l");
        t.draw(|_| {}).unwrap();
        assert_eq!(take(&mut t), b"");
    }

    #[test]
    fn short_gaps_are_rewritten_and_full_rows_end_with_crlf() {
        let mut t = term(ColorMode::Mono, SgrSet::Vt100);
        // First frame after the start-up clear: the terminal is known blank.
        t.resize(Rect::new(0, 0, 80, 24)).unwrap();
        take(&mut t);
        t.draw(|f| {
            let b = f.buffer_mut();
            b.set_string(0, 0, "one two", Style::new());
            b.set_string(79, 0, "|", Style::new());
            b.set_string(0, 1, "|", Style::new());
        })
        .unwrap();
        let s = String::from_utf8(take(&mut t)).unwrap();
        assert!(s.contains("one two"), "{s:?}");
        assert!(s.contains("|\r\n|"), "{s:?}");
        // A later change in the middle of known text rewrites the gap, never guesses.
        t.draw(|f| {
            let b = f.buffer_mut();
            b.set_string(0, 0, "One twO", Style::new());
            b.set_string(79, 0, "|", Style::new());
            b.set_string(0, 1, "|", Style::new());
        })
        .unwrap();
        let s = String::from_utf8(take(&mut t)).unwrap();
        assert_eq!(s, "\x1b[HO\x1b[5CO", "{s:?}");
    }

    /// Draws `frames` through the backend into a VT100 emulator and checks, after every
    /// frame, that the emulator shows exactly the buffer ratatui asked for (text, bold,
    /// reverse): the byte-saving tricks may never change what the technician sees.
    fn assert_renders_faithfully(sgr: SgrSet, frames: &[Vec<(u16, u16, String, Style)>]) {
        let mut t = term(ColorMode::Mono, sgr);
        t.resize(Rect::new(0, 0, 80, 24)).unwrap();
        let mut screen = vt100::Parser::new(24, 80, 0);
        for (n, frame) in frames.iter().enumerate() {
            let completed = t
                .draw(|f| {
                    for (x, y, text, style) in frame {
                        f.buffer_mut().set_string(*x, *y, text, *style);
                    }
                })
                .unwrap();
            let want = completed.buffer.clone();
            screen.process(&take(&mut t));
            for y in 0..24u16 {
                for x in 0..80u16 {
                    let cell = &want[(x, y)];
                    let got = screen.screen().cell(y, x).unwrap();
                    let shown = if got.contents().is_empty() {
                        " ".to_string()
                    } else {
                        got.contents().to_string()
                    };
                    assert_eq!(shown, cell.symbol(), "frame {n}, cell ({x}, {y})");
                    assert_eq!(
                        got.bold(),
                        cell.modifier.contains(Modifier::BOLD),
                        "frame {n}, bold at ({x}, {y})"
                    );
                    assert_eq!(
                        got.inverse(),
                        cell.modifier.contains(Modifier::REVERSED),
                        "frame {n}, reverse at ({x}, {y})"
                    );
                }
            }
        }
    }

    /// A small deterministic random source for the frame generators: `next(n)` is in `0..n`.
    fn xorshift(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut state = seed;
        move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        }
    }

    /// A list in a box, as the screens draw it: rows of random length and style between
    /// borders, so rows get shorter, longer, blank and restyled from frame to frame.
    fn random_frames(seed: u64, count: usize) -> Vec<Vec<(u16, u16, String, Style)>> {
        let mut next = xorshift(seed);
        let words = [
            "emerge",
            "--update",
            "world",
            "[x]",
            "ok",
            "rc-update",
            "  ",
            "a",
        ];
        (0..count)
            .map(|_| {
                let mut frame = Vec::new();
                for y in 0..24u16 {
                    frame.push((0, y, "|".to_string(), Style::new()));
                    frame.push((79, y, "|".to_string(), Style::new()));
                    let mut text = String::new();
                    for _ in 0..next(12) {
                        text.push_str(words[next(words.len() as u64) as usize]);
                        text.push(' ');
                    }
                    text.truncate(76);
                    let style = match next(6) {
                        0 => Style::new().add_modifier(Modifier::BOLD),
                        1 => Style::new().add_modifier(Modifier::REVERSED),
                        _ => Style::new(),
                    };
                    frame.push((2 + next(3) as u16, y, text, style));
                }
                frame
            })
            .collect()
    }

    /// Output following a command, as the Output screen draws it: a box whose body shows a
    /// window of numbered lines that moves down (new output) or back up (scrolling), by a
    /// random number of lines, sometimes with a changed title or mark.
    fn scrolling_frames(seed: u64, count: usize) -> Vec<Vec<(u16, u16, String, Style)>> {
        let mut next = xorshift(seed);
        let words = [
            "checking for gcc",
            ">>> Emerging",
            "libtool: link",
            "make[2]: Entering",
        ];
        let mut first: i64 = 100;
        (0..count)
            .map(|_| {
                first += next(9) as i64 - 3;
                let mut frame = vec![
                    (0, 0, format!("+ Output {} ", next(3)), Style::new()),
                    (0, 23, "?:help  q:back".to_string(), Style::new()),
                    (0, 22, "+".repeat(80), Style::new()),
                ];
                for y in 1..22u16 {
                    let n = first + i64::from(y);
                    frame.push((0, y, "|".to_string(), Style::new()));
                    frame.push((79, y, "|".to_string(), Style::new()));
                    let pad = "=".repeat((n.unsigned_abs() % 30) as usize);
                    let text = format!("{} {n} {pad}", words[(n.unsigned_abs() % 4) as usize]);
                    let style = if n % 11 == 0 {
                        Style::new().add_modifier(Modifier::BOLD)
                    } else {
                        Style::new()
                    };
                    frame.push((2, y, text, style));
                }
                if next(4) == 0 {
                    frame.push((79, 1, "^".to_string(), Style::new()));
                }
                frame
            })
            .collect()
    }

    #[test]
    fn scrolled_output_is_shown_exactly_and_costs_only_the_new_lines() {
        for seed in [3, 11, 99] {
            let frames = scrolling_frames(seed, 60);
            assert_renders_faithfully(SgrSet::Vt100, &frames);
            assert_renders_faithfully(SgrSet::Ecma48, &frames);
        }
        // One new line at the bottom: a scroll and that line, not the 20 lines above it.
        let mut t = term(ColorMode::Mono, SgrSet::Vt100);
        t.resize(Rect::new(0, 0, 80, 24)).unwrap();
        let body = |first: usize| {
            move |f: &mut ratatui::Frame| {
                let b = f.buffer_mut();
                for y in 1..22u16 {
                    let n = first + usize::from(y);
                    let text = format!("line {n}: {}", "abcdefghij".repeat(n % 5 + 1));
                    b.set_string(0, y, "|", Style::new());
                    b.set_string(2, y, &text, Style::new());
                    b.set_string(79, y, "|", Style::new());
                }
            }
        };
        t.draw(body(0)).unwrap();
        take(&mut t);
        t.draw(body(1)).unwrap();
        let bytes = take(&mut t);
        let s = String::from_utf8_lossy(&bytes);
        assert!(s.contains("\x1b[2;22r"), "{s:?}");
        assert!(bytes.len() < 120, "{} bytes: {s:?}", bytes.len());
    }

    #[test]
    fn what_the_terminal_shows_is_the_buffer_after_every_frame() {
        for seed in [1, 7, 42, 2024] {
            let frames = random_frames(seed, 40);
            assert_renders_faithfully(SgrSet::Vt100, &frames);
            assert_renders_faithfully(SgrSet::Ecma48, &frames);
        }
    }

    #[test]
    fn a_shorter_row_is_erased_to_the_end_and_its_border_redrawn() {
        let mut t = term(ColorMode::Mono, SgrSet::Vt100);
        t.resize(Rect::new(0, 0, 80, 24)).unwrap();
        let row = |text: &'static str| {
            move |f: &mut ratatui::Frame| {
                let b = f.buffer_mut();
                b.set_string(0, 3, "|", Style::new());
                b.set_string(2, 3, text, Style::new());
                b.set_string(79, 3, "|", Style::new());
            }
        };
        t.draw(row(
            "Update world: emerge --update --deep --newuse world --ask",
        ))
        .unwrap();
        take(&mut t);
        t.draw(row("Sync the tree")).unwrap();
        let bytes = take(&mut t);
        let s = String::from_utf8_lossy(&bytes);
        // The new text, an erase, and the border back: not 45 spaces.
        assert!(s.contains("\x1b[K"), "{s:?}");
        assert!(bytes.len() < 30, "{} bytes: {s:?}", bytes.len());
        let mut screen = vt100::Parser::new(24, 80, 0);
        screen.process(b"\x1b[4;1H|");
        screen.process(b"\x1b[4;3HUpdate world: emerge --update --deep --newuse world --ask");
        screen.process(b"\x1b[4;80H|");
        screen.process(&bytes);
        assert_eq!(
            screen.screen().rows(0, 80).nth(3).unwrap().trim_end(),
            format!("| Sync the tree{}|", " ".repeat(64))
        );
    }
}
