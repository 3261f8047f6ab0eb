//! Shell assignments (`KEY="value"`, possibly over several lines) found, quoted and rewritten,
//! and word lists in them (`USE="a -b"`) added to or taken from.

use super::{Lines, TextEditError, is_commented};

/// A shell assignment `KEY=...` found in the file, possibly spanning lines (a quoted value
/// with newlines, as `GENTOO_MIRRORS` often is).
struct Assignment {
    /// First and last line index.
    first: usize,
    last: usize,
    /// Indentation and `export ` before the key.
    lead: String,
    /// The value as the shell would see it (quotes removed, escapes resolved).
    value: String,
    /// Text after the value on the last line (a trailing comment), kept when rewriting.
    trailing: String,
}

/// Finds the last active assignment of `key` (the one the shell ends up with). A quote that
/// never closes is an error: guessing where the value ends could swallow later lines.
fn find_assignment(
    doc: &Lines,
    key: &str,
    comment: &str,
) -> Result<Option<Assignment>, TextEditError> {
    let mut found = None;
    let mut i = 0;
    while i < doc.lines.len() {
        let line = &doc.lines[i];
        if is_commented(line, comment) {
            i += 1;
            continue;
        }
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let (export, rest) = match trimmed.strip_prefix("export") {
            Some(r) if r.starts_with([' ', '\t']) => {
                let r2 = r.trim_start();
                (&trimmed[..trimmed.len() - r2.len()], r2)
            }
            _ => ("", trimmed),
        };
        let Some(after) = rest.strip_prefix(key).and_then(|r| r.strip_prefix('=')) else {
            i += 1;
            continue;
        };
        // Join following lines while a quote is open.
        let mut text = after.to_string();
        let mut last = i;
        let parsed = loop {
            match parse_value(&text) {
                Some(p) => break Some(p),
                None if last + 1 < doc.lines.len() => {
                    last += 1;
                    text.push('\n');
                    text.push_str(&doc.lines[last]);
                }
                None => break None,
            }
        };
        match parsed {
            Some((value, trailing)) => {
                found = Some(Assignment {
                    first: i,
                    last,
                    lead: format!("{indent}{export}"),
                    value,
                    trailing,
                });
                i = last + 1;
            }
            None => {
                return Err(TextEditError::OpenQuote {
                    key: key.to_string(),
                    line: i + 1,
                });
            }
        }
    }
    Ok(found)
}

/// Parses a shell value at the start of `text`: returns the value and the rest, or `None` when
/// a quote is still open.
fn parse_value(text: &str) -> Option<(String, String)> {
    let mut value = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            '"' => {
                chars.next();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, '\n')) => {}
                            Some((_, e)) if "\"\\$`".contains(e) => value.push(e),
                            Some((_, e)) => {
                                value.push('\\');
                                value.push(e);
                            }
                            None => return None,
                        },
                        other => value.push(other),
                    }
                }
                if !closed {
                    return None;
                }
            }
            '\'' => {
                chars.next();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '\'' {
                        closed = true;
                        break;
                    }
                    value.push(c);
                }
                if !closed {
                    return None;
                }
            }
            c if c.is_whitespace() || c == ';' => return Some((value, text[i..].to_string())),
            '\\' => {
                chars.next();
                match chars.next() {
                    Some((_, e)) => value.push(e),
                    None => return None,
                }
            }
            other => {
                value.push(other);
                chars.next();
            }
        }
    }
    Some((value, String::new()))
}

/// Double-quotes a value for a shell-style file. `$` stays live on purpose so values such as
/// `${CFLAGS}` keep working in make.conf; quotes, backslashes and backticks are escaped.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn write_assignment(
    doc: &mut Lines,
    key: &str,
    value: &str,
    comment: &str,
) -> Result<bool, TextEditError> {
    Ok(match find_assignment(doc, key, comment)? {
        Some(a) if a.value == value => false,
        Some(a) => {
            let line = format!("{}{key}={}{}", a.lead, quote(value), a.trailing);
            doc.lines.splice(a.first..=a.last, [line]);
            true
        }
        None => {
            doc.push(format!("{key}={}", quote(value)));
            true
        }
    })
}

pub(super) fn set_var(
    doc: &mut Lines,
    key: &str,
    value: &str,
    comment: &str,
) -> Result<bool, TextEditError> {
    write_assignment(doc, key, value, comment)
}

/// The word that cancels `w` in a Portage-style list (`-gtk` for `gtk` and the reverse).
/// A word and its negation in one list to add (`pae` and `-pae`): each would undo the other,
/// and the file would change on every run.
pub fn contradicting_words(words: &[String]) -> Option<(String, String)> {
    words.iter().find_map(|w| {
        let neg = negation(w);
        words.contains(&neg).then(|| (w.clone(), neg))
    })
}

fn negation(w: &str) -> String {
    match w.strip_prefix('-') {
        Some(pos) => pos.to_string(),
        None => format!("-{w}"),
    }
}

pub(super) fn add_words(
    doc: &mut Lines,
    key: &str,
    add: &[String],
    comment: &str,
) -> Result<bool, TextEditError> {
    let current = find_assignment(doc, key, comment)?.map(|a| a.value);
    let mut words: Vec<String> = current
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    for w in add {
        // Adding `pae` to USE="-pae" means turning the flag on: drop the negation.
        let neg = negation(w);
        words.retain(|x| *x != neg);
        if !words.contains(w) {
            words.push(w.clone());
        }
    }
    let joined = words.join(" ");
    match current {
        Some(old) if old.split_whitespace().eq(joined.split_whitespace()) => Ok(false),
        _ => write_assignment(doc, key, &joined, comment),
    }
}

pub(super) fn remove_words(
    doc: &mut Lines,
    key: &str,
    remove: &[String],
    comment: &str,
) -> Result<bool, TextEditError> {
    let Some(current) = find_assignment(doc, key, comment)?.map(|a| a.value) else {
        return Ok(false);
    };
    let words: Vec<&str> = current
        .split_whitespace()
        .filter(|w| !remove.iter().any(|r| r == w))
        .collect();
    if words.len() == current.split_whitespace().count() {
        return Ok(false);
    }
    write_assignment(doc, key, &words.join(" "), comment)
}
