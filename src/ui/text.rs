//! Small text helpers the screens share: word wrapping by display width, and showing an argv
//! the way a technician would type it.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Wraps `text` into lines of at most `width` columns, breaking at spaces and cutting words
/// longer than a line. Blank lines in the text are kept (paragraphs).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        let mut line_w = 0;
        for word in para.split_whitespace() {
            let w = word.width();
            if line_w > 0 && line_w + 1 + w > width {
                out.push(std::mem::take(&mut line));
                line_w = 0;
            }
            if w > width {
                // Cut an over-long word (a URL, a path) across lines.
                for c in word.chars() {
                    let cw = c.width().unwrap_or(0);
                    if line_w + cw > width && line_w > 0 {
                        out.push(std::mem::take(&mut line));
                        line_w = 0;
                    }
                    line.push(c);
                    line_w += cw;
                }
                continue;
            }
            if line_w > 0 {
                line.push(' ');
                line_w += 1;
            }
            line.push_str(word);
            line_w += w;
        }
        out.push(line);
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// An argv as shown on screen: POSIX-quoted by the one quoter (`core::shell_quote::join`), so
/// a command copied from the screen is safe to paste into a shell (`{}` and `^` quoted too).
pub fn show_argv(argv: &[String]) -> String {
    crate::core::shell_quote::join(argv)
}

/// Replaces control characters so text from files and tools cannot move the cursor.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_cuts_long_ones() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("x y", 0), vec!["x", "y"]);
    }

    #[test]
    fn argv_display_quotes_what_needs_it() {
        let argv: Vec<String> = ["echo", "a b", "it's", ""].map(String::from).into();
        assert_eq!(show_argv(&argv), r"echo 'a b' 'it'\''s' ''");
    }
}
