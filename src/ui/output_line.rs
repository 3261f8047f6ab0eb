//! One line of the Output screen: the text as shown and, when the command coloured it, where
//! each of its styles starts. Kept compact (one string, no allocation for a plain line) because
//! the screen holds 10,000 of them while a command floods its output.

use std::fmt;

use crate::core::terminal_text::{StyledLine, TextStyle};

/// Where one of the command's styles starts in a line, so the screen can draw it in colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StyleRun {
    /// Byte offset in the line's text where this style starts; it lasts until the next run.
    pub start: u32,
    /// The style the command asked for (mapped to the terminal's colours when drawn).
    pub style: TextStyle,
}

/// A line of command output or one of fieldbook's own lines, ready for the Output screen.
/// Searching, copying and mono drawing use [`OutputLine::text`]; colour drawing uses
/// [`OutputLine::pieces`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutputLine {
    text: String,
    /// Empty for a plain line; otherwise ascending, the first starting at 0.
    runs: Box<[StyleRun]>,
}

impl OutputLine {
    /// A line without styles (fieldbook's own messages, tool and practice lines).
    pub fn plain(text: impl Into<String>) -> OutputLine {
        OutputLine {
            text: text.into(),
            runs: Box::default(),
        }
    }

    /// A line the command printed, with its styles; a line cut for display says how much more
    /// is in the log.
    pub fn from_child(line: StyledLine) -> OutputLine {
        // The common case, a plain line shown whole, keeps the line's own text.
        if line.is_plain() && line.cut == 0 {
            return OutputLine::plain(line.into_text());
        }
        let suffix = line.cut_note();
        let len = line.as_str().len() + suffix.as_ref().map_or(0, String::len);
        let mut text = String::with_capacity(len);
        let mut runs: Vec<StyleRun> = Vec::new();
        for span in line.spans() {
            if span.text.is_empty() {
                continue;
            }
            let same = runs.last().map_or(TextStyle::default(), |r| r.style) == span.style;
            if !same {
                runs.push(StyleRun {
                    start: u32::try_from(text.len()).unwrap_or(u32::MAX),
                    style: span.style,
                });
            }
            text.push_str(span.text);
        }
        if let Some(s) = suffix {
            if runs.last().is_some_and(|r| r.style != TextStyle::default()) {
                runs.push(StyleRun {
                    start: u32::try_from(text.len()).unwrap_or(u32::MAX),
                    style: TextStyle::default(),
                });
            }
            text.push_str(&s);
        }
        if !runs.is_empty() && runs[0].start > 0 {
            runs.insert(
                0,
                StyleRun {
                    start: 0,
                    style: TextStyle::default(),
                },
            );
        }
        OutputLine {
            text,
            runs: runs.into_boxed_slice(),
        }
    }

    /// The text without styles.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when the line has no style at all (drawn exactly like plain text).
    pub fn is_plain(&self) -> bool {
        self.runs.is_empty()
    }

    /// True when the line has no text.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The line's text in pieces of one style each, in order.
    pub fn pieces(&self) -> impl Iterator<Item = (&str, TextStyle)> {
        let plain = self
            .runs
            .is_empty()
            .then_some((self.text.as_str(), TextStyle::default()));
        let styled = self.runs.iter().enumerate().filter_map(|(i, run)| {
            let start = run.start as usize;
            let end = self
                .runs
                .get(i + 1)
                .map_or(self.text.len(), |next| next.start as usize);
            self.text
                .get(start..end)
                .filter(|t| !t.is_empty())
                .map(|t| (t, run.style))
        });
        plain.into_iter().chain(styled)
    }
}

impl From<String> for OutputLine {
    fn from(text: String) -> OutputLine {
        OutputLine::plain(text)
    }
}

impl From<&str> for OutputLine {
    fn from(text: &str) -> OutputLine {
        OutputLine::plain(text)
    }
}

impl PartialEq<str> for OutputLine {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for OutputLine {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl fmt::Display for OutputLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::terminal_text::{TerminalText, TextColor};

    fn child(bytes: &[u8]) -> OutputLine {
        let mut f = TerminalText::new();
        let mut lines = Vec::new();
        f.feed(bytes, &mut lines);
        f.finish(&mut lines);
        OutputLine::from_child(lines[0].clone())
    }

    #[test]
    fn an_uncoloured_child_line_is_plain() {
        let l = child(b"line 1 of the flood\n");
        assert!(l.is_plain());
        assert_eq!(l, "line 1 of the flood");
        assert_eq!(
            l.pieces().collect::<Vec<_>>(),
            [("line 1 of the flood", TextStyle::default())]
        );
    }

    #[test]
    fn colours_are_kept_in_pieces_that_make_up_the_text() {
        let l = child(b" \x1b[32m*\x1b[0m Final size \x1b[1;31m!!!\x1b[0m\n");
        assert_eq!(l.text(), " * Final size !!!");
        let pieces: Vec<_> = l.pieces().collect();
        assert_eq!(pieces.iter().map(|p| p.0).collect::<String>(), l.text());
        assert_eq!(pieces[0], (" ", TextStyle::default()));
        assert_eq!(pieces[1].0, "*");
        assert_eq!(pieces[1].1.fg, Some(TextColor::Indexed(2)));
        assert_eq!(pieces[2], (" Final size ", TextStyle::default()));
        assert_eq!(pieces[3].0, "!!!");
        assert!(pieces[3].1.bold);
        assert_eq!(pieces[3].1.fg, Some(TextColor::Indexed(1)));
    }

    #[test]
    fn a_cut_line_says_so_in_plain_text_after_its_colours() {
        let mut bytes = b"\x1b[31m".to_vec();
        bytes.extend(vec![b'x'; 5000]);
        bytes.push(b'\n');
        let l = child(&bytes);
        assert!(l.text().ends_with(" [... 904 more characters in the log]"));
        let last = l.pieces().last().unwrap();
        assert_eq!(last.1, TextStyle::default());
        assert!(last.0.contains("more characters"));
    }

    #[test]
    fn a_plain_line_costs_one_string() {
        assert_eq!(std::mem::size_of::<OutputLine>(), 40);
        assert!(OutputLine::plain("x").runs.is_empty());
    }
}
