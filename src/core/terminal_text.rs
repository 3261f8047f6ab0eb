//! The filter every byte a child prints goes through before it is shown: colours become styled
//! spans, every other escape sequence is dropped, control bytes are made visible, carriage-return
//! progress lines collapse to their last state, and very long lines are cut for the screen (the
//! log on disk keeps the raw bytes). Nothing that comes out of here can move the cursor, set a
//! title or switch screens on the technician's terminal.

/// Characters kept per line for display; the rest is counted in [`StyledLine::cut`].
pub const MAX_LINE_CHARS: usize = 4096;

/// Lines the screen keeps by default (the complete output is in the attempt's log).
pub const DEFAULT_SCROLLBACK: usize = 10_000;

/// Longest escape-sequence parameter list remembered; longer ones are malformed on purpose.
const MAX_PARAM_BYTES: usize = 256;

/// A colour a child asked for with SGR, independent of any terminal library (the UI maps it to
/// its own theme, and drops it in monochrome mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextColor {
    /// One of the 256 indexed colours (0–7 normal, 8–15 bright).
    Indexed(u8),
    /// A 24-bit colour.
    Rgb(u8, u8, u8),
}

/// The look of a run of child text, as far as fieldbook honours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TextStyle {
    /// Foreground colour, `None` for the default.
    pub fg: Option<TextColor>,
    /// Background colour, `None` for the default.
    pub bg: Option<TextColor>,
    /// Bold / bright.
    pub bold: bool,
    /// Faint.
    pub dim: bool,
    /// Italic.
    pub italic: bool,
    /// Underlined.
    pub underline: bool,
    /// Reverse video.
    pub reverse: bool,
}

/// A run of text in one style, borrowed from its line. The text never contains control
/// characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextSpan<'a> {
    /// Printable text.
    pub text: &'a str,
    /// How the child wanted it to look.
    pub style: TextStyle,
}

/// One line of child output, safe to draw. The text is kept whole, with the places where the
/// style changes beside it: a plain line is one allocation (a million-line build log made two
/// each).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StyledLine {
    text: String,
    /// Byte offsets where a style starts, each different from the one before; the text before
    /// the first is in the default style.
    runs: Vec<(usize, TextStyle)>,
    /// Characters beyond [`MAX_LINE_CHARS`] that were not kept for display.
    pub cut: usize,
    chars: usize,
}

impl StyledLine {
    /// The text without styles.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text, given up whole (no copy).
    pub fn into_text(self) -> String {
        self.text
    }

    /// True when the whole line is in the default style.
    pub fn is_plain(&self) -> bool {
        self.runs.is_empty()
    }

    /// The text without styles, owned (for searching and for plain output).
    pub fn text(&self) -> String {
        self.text.clone()
    }

    /// The spans in order; adjacent spans have different styles, none is empty.
    pub fn spans(&self) -> impl Iterator<Item = TextSpan<'_>> {
        let mut start = 0;
        let mut style = TextStyle::default();
        let ends = self
            .runs
            .iter()
            .copied()
            .chain(std::iter::once((self.text.len(), TextStyle::default())));
        ends.filter_map(move |(end, next)| {
            let span = TextSpan {
                text: &self.text[start..end],
                style,
            };
            (start, style) = (end, next);
            (!span.text.is_empty()).then_some(span)
        })
    }

    /// What a line cut for display says after its text (`None` when nothing was cut).
    pub fn cut_note(&self) -> Option<String> {
        (self.cut > 0).then(|| format!(" [... {} more characters in the log]", self.cut))
    }

    /// Number of characters kept.
    pub fn char_count(&self) -> usize {
        self.chars
    }

    /// True when nothing was printed on the line.
    pub fn is_empty(&self) -> bool {
        self.chars == 0 && self.cut == 0
    }

    /// The style text pushed now continues in.
    fn style_at_end(&self) -> TextStyle {
        self.runs.last().map_or(TextStyle::default(), |r| r.1)
    }

    /// Makes `style` the style of the text pushed next.
    fn set_style(&mut self, style: TextStyle) {
        if style != self.style_at_end() {
            self.runs.push((self.text.len(), style));
        }
    }

    fn push_char(&mut self, c: char, style: TextStyle) {
        if self.chars >= MAX_LINE_CHARS {
            self.cut += 1;
            return;
        }
        self.chars += 1;
        self.set_style(style);
        self.text.push(c);
    }

    /// Appends `s` whole (the common case: a run of plain text), cutting at [`MAX_LINE_CHARS`].
    fn push_str(&mut self, s: &str, style: TextStyle) {
        let room = MAX_LINE_CHARS.saturating_sub(self.chars);
        let (end, kept) = if s.is_ascii() {
            (s.len().min(room), s.len().min(room))
        } else {
            s.char_indices()
                .nth(room)
                .map_or((s.len(), s.chars().count()), |(i, _)| (i, room))
        };
        let (text, rest) = s.split_at(end);
        self.cut += rest.chars().count();
        if text.is_empty() {
            return;
        }
        self.chars += kept;
        self.set_style(style);
        self.text.push_str(text);
    }

    fn pop_char(&mut self) {
        if self.cut > 0 {
            self.cut -= 1;
            return;
        }
        if self.text.pop().is_some() {
            self.chars = self.chars.saturating_sub(1);
            // A style whose text is all gone goes with it.
            if self.runs.last().is_some_and(|r| r.0 >= self.text.len()) {
                self.runs.pop();
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    /// After ESC.
    Escape,
    /// ESC followed by intermediate bytes (charset selection and the like).
    EscapeIntermediate,
    /// Inside `ESC [` … final byte.
    Csi,
    /// Inside a string sequence (OSC, DCS, SOS, PM, APC) until BEL or ST.
    Text,
    /// ESC seen inside a string sequence (maybe the start of ST).
    TextEscape,
}

/// The streaming filter: feed it bytes as they arrive, collect finished lines.
#[derive(Debug, Clone)]
pub struct TerminalText {
    state: State,
    style: TextStyle,
    line: StyledLine,
    /// Printable bytes not yet decoded (may end in an incomplete UTF-8 sequence).
    pending: Vec<u8>,
    /// A carriage return was seen; the next printable output starts the line afresh.
    after_cr: bool,
    params: Vec<u8>,
    csi_private: bool,
    csi_intermediate: bool,
    changed: bool,
}

impl Default for TerminalText {
    fn default() -> Self {
        TerminalText::new()
    }
}

impl TerminalText {
    /// A filter at the start of a stream, with the default style.
    pub fn new() -> TerminalText {
        TerminalText {
            state: State::Ground,
            style: TextStyle::default(),
            line: StyledLine::default(),
            pending: Vec::new(),
            after_cr: false,
            params: Vec::new(),
            csi_private: false,
            csi_intermediate: false,
            changed: false,
        }
    }

    /// Filters `bytes`, appending every line they complete to `lines`.
    pub fn feed(&mut self, bytes: &[u8], lines: &mut Vec<StyledLine>) {
        let mut at = 0;
        while at < bytes.len() {
            if self.state == State::Ground {
                // A run of printable ASCII (most of a build log) is taken whole, not byte by byte.
                let run = bytes[at..]
                    .iter()
                    .position(|b| !(0x20..=0x7e).contains(b))
                    .unwrap_or(bytes.len() - at);
                if run > 0 {
                    self.plain_run(&bytes[at..at + run]);
                    at += run;
                    continue;
                }
            }
            self.byte(bytes[at], lines);
            at += 1;
        }
        self.flush_text(false);
    }

    /// Takes printable ASCII bytes: straight onto the line, or after undecoded bytes waiting
    /// before them.
    fn plain_run(&mut self, run: &[u8]) {
        if !self.pending.is_empty() {
            self.pending.extend_from_slice(run);
            return;
        }
        self.start_of_output();
        // Printable ASCII is always UTF-8.
        if let Ok(text) = std::str::from_utf8(run) {
            self.line.push_str(text, self.style);
        }
        self.changed = true;
    }

    /// Ends the stream: an unfinished last line becomes a line of its own.
    pub fn finish(&mut self, lines: &mut Vec<StyledLine>) {
        self.flush_text(true);
        self.after_cr = false;
        if !self.line.is_empty() {
            lines.push(std::mem::take(&mut self.line));
        }
        self.state = State::Ground;
        self.changed = false;
    }

    /// The line being printed now (a prompt or a progress bar), if it has any text.
    pub fn partial(&self) -> Option<&StyledLine> {
        (!self.line.is_empty()).then_some(&self.line)
    }

    /// True once since the last call when the partial line changed; lets a reader send progress
    /// updates only when there is something new to show.
    pub fn take_partial_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    fn byte(&mut self, b: u8, lines: &mut Vec<StyledLine>) {
        match self.state {
            State::Ground => self.ground(b, lines),
            State::Escape => self.escape(b, lines),
            State::EscapeIntermediate => match b {
                0x20..=0x2f => {}
                0x30..=0x7e => self.state = State::Ground,
                _ => self.abort_sequence(b, lines),
            },
            State::Csi => self.csi(b, lines),
            State::Text => match b {
                0x07 | 0x18 | 0x1a => self.state = State::Ground,
                0x1b => self.state = State::TextEscape,
                // A newline ends an unterminated string for display purposes, so one stray OSC
                // cannot swallow the rest of a build log.
                b'\n' => {
                    self.state = State::Ground;
                    self.ground(b, lines);
                }
                _ => {}
            },
            State::TextEscape => match b {
                b'\\' => self.state = State::Ground,
                0x1b => {}
                _ => self.state = State::Text,
            },
        }
    }

    fn abort_sequence(&mut self, b: u8, lines: &mut Vec<StyledLine>) {
        self.state = State::Ground;
        if b == 0x1b {
            self.state = State::Escape;
        } else if b != 0x18 && b != 0x1a {
            self.ground(b, lines);
        }
    }

    fn start_of_output(&mut self) {
        if self.after_cr {
            self.after_cr = false;
            self.line = StyledLine::default();
            self.changed = true;
        }
    }

    fn ground(&mut self, b: u8, lines: &mut Vec<StyledLine>) {
        match b {
            b'\n' => {
                self.flush_text(true);
                self.after_cr = false;
                lines.push(std::mem::take(&mut self.line));
                self.changed = true;
            }
            b'\r' => {
                self.flush_text(true);
                self.after_cr = true;
            }
            0x1b => {
                self.flush_text(true);
                self.state = State::Escape;
            }
            0x08 => {
                self.flush_text(true);
                self.line.pop_char();
                self.changed = true;
            }
            b'\t' => {
                self.flush_text(true);
                self.start_of_output();
                let spaces = 8 - (self.line.char_count() % 8);
                for _ in 0..spaces {
                    self.line.push_char(' ', self.style);
                }
                self.changed = true;
            }
            0x00..=0x1f | 0x7f => {
                self.flush_text(true);
                self.start_of_output();
                self.line.push_str(&caret(b), self.style);
                self.changed = true;
            }
            _ => self.pending.push(b),
        }
    }

    fn escape(&mut self, b: u8, lines: &mut Vec<StyledLine>) {
        self.state = State::Ground;
        match b {
            b'[' => {
                self.state = State::Csi;
                self.params.clear();
                self.csi_private = false;
                self.csi_intermediate = false;
            }
            b']' | b'P' | b'X' | b'^' | b'_' => self.state = State::Text,
            0x20..=0x2f => self.state = State::EscapeIntermediate,
            0x30..=0x7e => {}
            _ => self.abort_sequence(b, lines),
        }
    }

    fn csi(&mut self, b: u8, lines: &mut Vec<StyledLine>) {
        match b {
            0x30..=0x3f => {
                if self.params.is_empty() && matches!(b, b'<' | b'=' | b'>' | b'?') {
                    self.csi_private = true;
                }
                if self.params.len() < MAX_PARAM_BYTES {
                    self.params.push(b);
                } else {
                    self.csi_private = true;
                }
            }
            0x20..=0x2f => self.csi_intermediate = true,
            0x40..=0x7e => {
                self.state = State::Ground;
                if b == b'm' && !self.csi_private && !self.csi_intermediate {
                    let params = std::mem::take(&mut self.params);
                    self.apply_sgr(&params);
                    self.params = params;
                }
            }
            // Terminals run C0 controls found inside a sequence; here they are simply dropped,
            // except those that cancel or restart it.
            0x1b | 0x18 | 0x1a => self.abort_sequence(b, lines),
            0x00..=0x1f | 0x7f => {}
            _ => self.abort_sequence(b, lines),
        }
    }

    fn apply_sgr(&mut self, params: &[u8]) {
        let text = String::from_utf8_lossy(params);
        let nums: Vec<Option<u16>> = if text.is_empty() {
            vec![Some(0)]
        } else {
            text.split([';', ':'])
                .map(|p| {
                    if p.is_empty() {
                        Some(0)
                    } else {
                        p.parse().ok()
                    }
                })
                .collect()
        };
        let mut i = 0;
        let s = &mut self.style;
        while i < nums.len() {
            let Some(n) = nums[i] else {
                i += 1;
                continue;
            };
            match n {
                0 => *s = TextStyle::default(),
                1 => s.bold = true,
                2 => s.dim = true,
                3 => s.italic = true,
                4 => s.underline = true,
                7 => s.reverse = true,
                22 => {
                    s.bold = false;
                    s.dim = false;
                }
                23 => s.italic = false,
                24 => s.underline = false,
                27 => s.reverse = false,
                30..=37 => s.fg = Some(TextColor::Indexed((n - 30) as u8)),
                39 => s.fg = None,
                40..=47 => s.bg = Some(TextColor::Indexed((n - 40) as u8)),
                49 => s.bg = None,
                90..=97 => s.fg = Some(TextColor::Indexed((n - 90 + 8) as u8)),
                100..=107 => s.bg = Some(TextColor::Indexed((n - 100 + 8) as u8)),
                38 | 48 => {
                    let (color, used) = extended_color(&nums[i + 1..]);
                    if n == 38 {
                        s.fg = color.or(s.fg);
                    } else {
                        s.bg = color.or(s.bg);
                    }
                    i += used;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// Decodes buffered printable bytes. With `all` false an incomplete UTF-8 sequence at the end
    /// waits for the next read (a multi-byte character split across two reads stays whole).
    fn flush_text(&mut self, all: bool) {
        if self.pending.is_empty() {
            return;
        }
        let keep = if all {
            0
        } else {
            incomplete_tail(&self.pending)
        };
        let take = self.pending.len() - keep;
        if take == 0 {
            return;
        }
        self.start_of_output();
        let bytes: Vec<u8> = self.pending.drain(..take).collect();
        let text = String::from_utf8_lossy(&bytes);
        for c in text.chars() {
            if c.is_control() {
                // C1 controls (U+0080–U+009F) act as escapes on some terminals: show their code.
                self.line
                    .push_str(&format!("<{:02X}>", c as u32), self.style);
            } else {
                self.line.push_char(c, self.style);
            }
        }
        self.changed = true;
    }
}

/// Reads the colour after SGR 38/48: `5;N` or `2;R;G;B`. Returns the colour and how many
/// parameters it used.
fn extended_color(rest: &[Option<u16>]) -> (Option<TextColor>, usize) {
    let byte = |i: usize| rest.get(i).copied().flatten().map(|v| v.min(255) as u8);
    match rest.first().copied().flatten() {
        Some(5) => (byte(1).map(TextColor::Indexed), 2),
        Some(2) => match (byte(1), byte(2), byte(3)) {
            (Some(r), Some(g), Some(b)) => (Some(TextColor::Rgb(r, g, b)), 4),
            _ => (None, rest.len()),
        },
        _ => (None, rest.len()),
    }
}

/// Length of an incomplete UTF-8 sequence at the end of `bytes` (0 when there is none).
fn incomplete_tail(bytes: &[u8]) -> usize {
    let n = bytes.len();
    for back in 1..=3.min(n) {
        let b = bytes[n - back];
        if b & 0xc0 == 0x80 {
            continue; // continuation byte: keep looking for the lead
        }
        let need = match b {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => return 0,
        };
        return if need > back { back } else { 0 };
    }
    0
}

/// Caret notation for a C0 control or DEL (`^@` for NUL, `^?` for DEL).
fn caret(b: u8) -> String {
    if b == 0x7f {
        "^?".to_string()
    } else {
        format!("^{}", (b + 0x40) as char)
    }
}

/// The one filter for text from runbooks, values, tools or hosts on its way to a terminal:
/// control characters (C0, DEL and C1, which some terminals obey as escapes) become `?`, so
/// such text can never drive the terminal it is printed on. Newlines and tabs stay, for text
/// of several lines (notes, messages on stderr).
pub fn terminal_safe(text: &str) -> String {
    safe(text, true)
}

/// [`terminal_safe`] for text shown as one line or in one cell: a newline becomes `?` too and
/// a tab a space.
pub fn terminal_safe_line(text: &str) -> String {
    safe(text, false)
}

/// [`terminal_safe`] that shows which control character was there, for text whose every byte
/// matters (a diff of a config file): caret notation for C0 and DEL (`^[`, `^?`), `<U+009B>`
/// for C1. Newlines and tabs stay.
pub fn terminal_visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_ascii_control() => out.push_str(&caret(c as u8)),
            c if c.is_control() => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn safe(text: &str, lines: bool) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' if lines => c,
            '\t' => ' ',
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Vec<StyledLine> {
        let mut f = TerminalText::new();
        let mut out = Vec::new();
        f.feed(bytes, &mut out);
        f.finish(&mut out);
        out
    }

    fn texts(bytes: &[u8]) -> Vec<String> {
        run(bytes).iter().map(StyledLine::text).collect()
    }

    #[test]
    fn sgr_colours_become_styles() {
        let lines = run(b" \x1b[32m*\x1b[0m Final size\n");
        assert_eq!(lines.len(), 1);
        let spans: Vec<_> = lines[0].spans().collect();
        assert_eq!(spans[0].text, " ");
        assert_eq!(spans[1].text, "*");
        assert_eq!(spans[1].style.fg, Some(TextColor::Indexed(2)));
        assert_eq!(spans[2].text, " Final size");
        assert_eq!(spans[2].style, TextStyle::default());
    }

    #[test]
    fn quickpkg_colours_from_real_output() {
        let raw = b"\x1b[32m * \x1b[39;49;00mBuilding package for app-misc/hello-1.1 ...  \x1b[34;01m[ \x1b[39;49;00m\x1b[32;01mok\x1b[39;49;00m\x1b[34;01m ]\x1b[39;49;00m\n";
        let lines = run(raw);
        assert_eq!(
            lines[0].text(),
            " * Building package for app-misc/hello-1.1 ...  [ ok ]"
        );
        let ok = lines[0].spans().find(|s| s.text == "ok").unwrap();
        assert!(ok.style.bold);
        assert_eq!(ok.style.fg, Some(TextColor::Indexed(2)));
    }

    #[test]
    fn extended_colours() {
        let lines = run(b"\x1b[38;5;196mred\x1b[48;2;1;2;3mrgb\n");
        let spans: Vec<_> = lines[0].spans().collect();
        assert_eq!(spans[0].style.fg, Some(TextColor::Indexed(196)));
        assert_eq!(spans[1].style.bg, Some(TextColor::Rgb(1, 2, 3)));
    }

    #[test]
    fn other_escapes_are_dropped() {
        let hostile = b"a\x1b[2Jb\x1b[10;20Hc\x1b]0;title\x07d\x1b]2;t2\x1b\\e\x1bP1;2qsixel\x1b\\f\x1b[?1049hg\x1b(Bh\x1b7i\n";
        assert_eq!(texts(hostile), vec!["abcdefghi"]);
    }

    #[test]
    fn carriage_returns_keep_the_last_segment() {
        assert_eq!(
            texts(b"progress 10%\rprogress 50%\rprogress 100%\nnext\r\n"),
            vec!["progress 100%", "next"]
        );
        // Trailing CR before the end: the text stays.
        assert_eq!(texts(b"done\r"), vec!["done"]);
    }

    #[test]
    fn carriage_return_split_across_reads() {
        let mut f = TerminalText::new();
        let mut out = Vec::new();
        f.feed(b"10%\r", &mut out);
        assert_eq!(f.partial().unwrap().text(), "10%");
        f.feed(b"\n", &mut out);
        assert_eq!(out[0].text(), "10%");
        f.feed(b"20%\r", &mut out);
        f.feed(b"30%", &mut out);
        assert_eq!(f.partial().unwrap().text(), "30%");
    }

    #[test]
    fn backspace_spinner() {
        assert_eq!(
            texts(b"Calculating dependencies .../\x08-\x08\\\x08|\x08 done!\n"),
            vec!["Calculating dependencies ... done!"]
        );
    }

    #[test]
    fn controls_are_visible_and_utf8_is_lossy() {
        assert_eq!(texts(b"a\x00b\x07c\x7fd\x0e\n"), vec!["a^@b^Gc^?d^N"]);
        assert_eq!(texts(b"caf\xc3\xa9 \xff!\n"), vec!["caf\u{e9} \u{fffd}!"]);
        // U+009B (encoded) is a C1 CSI: shown by code, never passed through.
        assert_eq!(texts("x\u{9b}31my\n".as_bytes()), vec!["x<9B>31my"]);
        // A raw 0x9b byte is invalid UTF-8.
        assert_eq!(texts(b"x\x9b2Jy\n"), vec!["x\u{fffd}2Jy"]);
    }

    #[test]
    fn utf8_split_across_reads_stays_whole() {
        let mut f = TerminalText::new();
        let mut out = Vec::new();
        f.feed(b"caf\xc3", &mut out);
        f.feed(b"\xa9\n", &mut out);
        assert_eq!(out[0].text(), "caf\u{e9}");
    }

    #[test]
    fn tabs_expand() {
        assert_eq!(texts(b"cups\t0:off\n"), vec!["cups    0:off"]);
    }

    #[test]
    fn long_lines_are_cut_for_display() {
        let long = vec![b'x'; 100_000];
        let lines = run(&long);
        assert_eq!(lines[0].char_count(), MAX_LINE_CHARS);
        assert_eq!(lines[0].cut, 100_000 - MAX_LINE_CHARS);
    }

    #[test]
    fn terminal_safe_text_has_no_control_characters() {
        assert_eq!(terminal_safe("a\u{1b}[2Jb\tc\nd\u{9b}e"), "a?[2Jb\tc\nd?e");
        assert_eq!(terminal_safe_line("a\u{1b}[2Jb\tc\nd\u{7f}"), "a?[2Jb c?d?");
    }

    #[test]
    fn unterminated_osc_ends_at_newline() {
        assert_eq!(texts(b"\x1b]0;never ends\nvisible\n"), vec!["", "visible"]);
    }

    /// xorshift: arbitrary bytes without a property-testing crate.
    fn random_bytes(seed: &mut u64, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                // Bias towards the interesting bytes: ESC, brackets, controls, high bytes.
                match *seed % 8 {
                    0 => 0x1b,
                    1 => {
                        let special = b"[]P;?m\x07\\\r\n\x08";
                        special[(*seed >> 8) as usize % special.len()]
                    }
                    2 => 0x80 + ((*seed >> 8) % 0x40) as u8,
                    _ => (*seed >> 16) as u8,
                }
            })
            .collect()
    }

    #[test]
    fn arbitrary_bytes_never_yield_controls() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..2000 {
            let bytes = random_bytes(&mut seed, 1 + round % 300);
            let mut f = TerminalText::new();
            let mut out = Vec::new();
            // Feed in uneven pieces to exercise the streaming state.
            for chunk in bytes.chunks(1 + round % 7) {
                f.feed(chunk, &mut out);
                if let Some(p) = f.partial() {
                    assert_clean(p, &bytes);
                }
            }
            f.finish(&mut out);
            for line in &out {
                assert_clean(line, &bytes);
            }
        }
    }

    fn assert_clean(line: &StyledLine, input: &[u8]) {
        for c in line.text().chars() {
            assert!(!c.is_control(), "control {c:?} from input {input:?}");
        }
    }
}
