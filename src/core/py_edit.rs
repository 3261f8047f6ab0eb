//! Format-aware edits of Xen guest configuration files, which `xm create` reads as Python:
//! assignments are found as `NAME\s*=` at the start of a statement, with the whole value read
//! (brackets, strings, line continuations) however many lines it spans.
//!
//! A file the reader cannot follow (a bracket or string that never closes) is refused with the
//! line shown, never half-edited. Values written are quoted here, so a typed MAC or bridge name
//! can never become Python code.

use super::edit::TextEditError;
use super::sexp_edit::shown;

/// A Python string literal found in the file: byte range of the whole literal and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StrLit {
    start: usize,
    end: usize,
    value: String,
}

/// One top-level `NAME = value` statement.
#[derive(Debug, Clone)]
struct Assign {
    name: String,
    /// Byte range of the value (after `=` and blanks, up to the end of the statement, without
    /// a trailing comment or line break).
    value: std::ops::Range<usize>,
}

fn refuse(content: &str, offset: usize, reason: &str) -> TextEditError {
    let line_no = content[..offset.min(content.len())].matches('\n').count();
    TextEditError::Unsure {
        line: line_no + 1,
        text: shown(content.lines().nth(line_no).unwrap_or("")),
        reason: reason.to_string(),
    }
}

/// Reads a string literal starting at `i` (at its opening quote, after any prefix letters).
fn string_at(content: &str, i: usize, raw: bool) -> Result<(usize, String), TextEditError> {
    let b = content.as_bytes();
    let q = b[i];
    let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    let mut value = String::new();
    loop {
        let Some(&c) = b.get(j) else {
            return Err(refuse(content, i, "a string that never closes"));
        };
        if c == q && (!triple || (b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q))) {
            return Ok((if triple { j + 3 } else { j + 1 }, value));
        }
        if c == b'\n' && !triple {
            return Err(refuse(content, i, "a string that never closes"));
        }
        if c == b'\\' && !raw {
            match b.get(j + 1) {
                Some(b'\n') => {}
                Some(&e @ (b'\\' | b'\'' | b'"')) => value.push(e as char),
                Some(b'n') => value.push('\n'),
                Some(b't') => value.push('\t'),
                Some(_) => {
                    let ch = content[j + 1..].chars().next().unwrap_or('\\');
                    value.push('\\');
                    value.push(ch);
                    j += ch.len_utf8() + 1;
                    continue;
                }
                None => return Err(refuse(content, i, "a string that never closes")),
            }
            j += 2;
            continue;
        }
        let ch = content[j..].chars().next().unwrap_or(' ');
        value.push(ch);
        j += ch.len_utf8();
    }
}

/// Length of a string prefix (`r`, `u`, `b`, `rb`...) at `i` followed by a quote, if any.
fn prefix_len(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i;
    let mut raw = false;
    while j < b.len() && j - i < 2 && matches!(b[j].to_ascii_lowercase(), b'r' | b'u' | b'b') {
        raw |= b[j].eq_ignore_ascii_case(&b'r');
        j += 1;
    }
    (j < b.len() && matches!(b[j], b'\'' | b'"')).then_some((j - i, raw))
}

/// Reads the file into its top-level assignments and string literals.
fn read(content: &str) -> Result<(Vec<Assign>, Vec<StrLit>), TextEditError> {
    let b = content.as_bytes();
    let mut assigns = Vec::new();
    let mut strings = Vec::new();
    let mut depth: Vec<(u8, usize)> = Vec::new();
    let mut stmt_start = true;
    let mut current: Option<(String, usize)> = None;
    let mut value_end = 0;
    let mut i = 0;
    let close = |current: &mut Option<(String, usize)>, assigns: &mut Vec<Assign>, end: usize| {
        if let Some((name, start)) = current.take() {
            assigns.push(Assign {
                name,
                value: start..end.max(start),
            });
        }
    };
    while i < b.len() {
        let c = b[i];
        let word_start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if stmt_start && depth.is_empty() && (c.is_ascii_alphabetic() || c == b'_') {
            stmt_start = false;
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let name = &content[i..j];
            let mut k = j;
            while k < b.len() && (b[k] == b' ' || b[k] == b'\t') {
                k += 1;
            }
            let is_assign = b.get(k) == Some(&b'=') && b.get(k + 1) != Some(&b'=');
            let at_line_start = content[..i].rfind('\n').map_or(0, |p| p + 1) == i;
            if is_assign && at_line_start {
                let mut v = k + 1;
                while v < b.len() && (b[v] == b' ' || b[v] == b'\t') {
                    v += 1;
                }
                current = Some((name.to_string(), v));
                value_end = v;
                i = v;
                continue;
            }
            i = j;
            value_end = j;
            continue;
        }
        match c {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\\' if b.get(i + 1) == Some(&b'\n') => {
                i += 2;
                continue;
            }
            b'\n' => {
                if depth.is_empty() {
                    close(&mut current, &mut assigns, value_end);
                    stmt_start = true;
                }
            }
            b';' if depth.is_empty() => {
                close(&mut current, &mut assigns, value_end);
                return Err(refuse(
                    content,
                    i,
                    "two statements on one line (';'); split them by hand first",
                ));
            }
            b'(' | b'[' | b'{' => {
                stmt_start = false;
                depth.push((c, i));
            }
            b')' | b']' | b'}' => {
                let want = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                match depth.pop() {
                    Some((open, _)) if open == want => {}
                    _ => return Err(refuse(content, i, "a closing bracket that does not match")),
                }
                value_end = i + 1;
            }
            b' ' | b'\t' | b'\r' => {}
            _ if word_start && prefix_len(b, i).is_some() || matches!(c, b'\'' | b'"') => {
                let (p, raw) = prefix_len(b, i).unwrap_or((0, false));
                let (end, value) = string_at(content, i + p, raw)?;
                strings.push(StrLit {
                    start: i,
                    end,
                    value,
                });
                stmt_start = false;
                value_end = end;
                i = end;
                continue;
            }
            _ => {
                stmt_start = false;
                value_end = i + 1;
            }
        }
        i += 1;
    }
    if let Some(&(_, open)) = depth.last() {
        return Err(refuse(content, open, "a bracket that never closes"));
    }
    close(&mut current, &mut assigns, value_end);
    Ok((assigns, strings))
}

/// Quotes a value as a Python string. Refuses what would need escaping: a quote, a backslash
/// or a control character has no business in a MAC, a bridge name or a kernel argument.
fn py_quote(value: &str, quote: char) -> Result<String, TextEditError> {
    if value.contains(|c: char| c == '\'' || c == '"' || c == '\\' || c.is_control()) {
        return Err(TextEditError::BadPythonValue(value.to_string()));
    }
    Ok(format!("{quote}{value}{quote}"))
}

fn splice(content: &str, range: std::ops::Range<usize>, with: &str) -> String {
    format!("{}{with}{}", &content[..range.start], &content[range.end..])
}

fn append_line(content: &str, line: &str) -> String {
    let mut out = content.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(line);
    out.push('\n');
    out
}

/// The effective (last) assignment of `name`, if any.
fn last_assign<'a>(assigns: &'a [Assign], name: &str) -> Option<&'a Assign> {
    assigns.iter().rev().find(|a| a.name == name)
}

/// In the list assigned to `name` (`vif = [ '...', '...' ]`), makes the string item that
/// contains `pattern` read exactly `item`; appends it when no item contains `pattern`; writes
/// `name = [ 'item' ]` when there is no such assignment. Other items are kept as they are.
pub(crate) fn list_item(
    content: &str,
    name: &str,
    pattern: &str,
    item: &str,
) -> Result<String, TextEditError> {
    if pattern.is_empty() {
        return Err(TextEditError::EmptyPattern("python_list_item"));
    }
    let (assigns, strings) = read(content)?;
    let new_item = py_quote(item, '\'')?;
    let Some(a) = last_assign(&assigns, name) else {
        return Ok(append_line(content, &format!("{name} = [ {new_item} ]")));
    };
    let value = &content[a.value.clone()];
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| {
            refuse(
                content,
                a.value.start,
                &format!("{name} is not a [ ... ] list"),
            )
        })?;
    let items: Vec<&StrLit> = strings
        .iter()
        .filter(|s| s.start >= a.value.start && s.end <= a.value.end)
        .collect();
    // Only strings, commas, blanks and comments may be in the list: anything else (a
    // variable, a call) is something this edit cannot reason about.
    let mut rest = inner.to_string();
    for s in items.iter().rev() {
        let (from, to) = (s.start - a.value.start - 1, s.end - a.value.start - 1);
        rest.replace_range(from..to, "");
    }
    let leftover: String = rest
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<String>()
        .replace([',', ' ', '\t', '\r', '\\'], "");
    if !leftover.is_empty() {
        return Err(refuse(
            content,
            a.value.start,
            &format!("{name} holds something other than quoted items"),
        ));
    }
    let hits: Vec<&&StrLit> = items.iter().filter(|s| s.value.contains(pattern)).collect();
    match hits.as_slice() {
        [one] if one.value == item => Ok(content.to_string()),
        [one] => Ok(splice(content, one.start..one.end, &new_item)),
        [] => {
            let out = match items.last() {
                Some(last) => splice(content, last.end..last.end, &format!(", {new_item}")),
                None => splice(content, a.value.clone(), &format!("[ {new_item} ]")),
            };
            Ok(out)
        }
        _ => Err(refuse(
            content,
            hits[1].start,
            &format!("more than one item of {name} contains '{pattern}'"),
        )),
    }
}

/// Makes `line`, one `NAME = literal` assignment, the assignment of NAME in the file: the
/// existing statement (however spaced, `NAME=` or `NAME = `, over however many lines) is
/// replaced whole, keeping a trailing comment; with none the line is appended. The line must
/// assign a literal (strings, numbers, lists or tuples of them): `xm create` runs the file as
/// Python, so anything else typed would be code.
pub(crate) fn assign_line(content: &str, line: &str) -> Result<String, TextEditError> {
    let line = line.trim();
    let bad = || TextEditError::BadPythonLine(line.to_string());
    let (assigns, strings) = read(line).map_err(|_| bad())?;
    let [one] = assigns.as_slice() else {
        return Err(bad());
    };
    if one.value.is_empty() || one.value.end != line.len() {
        return Err(bad());
    }
    let mut rest = line[one.value.clone()].to_string();
    for s in strings.iter().rev() {
        rest.replace_range(s.start - one.value.start..s.end - one.value.start, "");
    }
    let literal = rest
        .chars()
        .all(|c| c.is_ascii_digit() || " \t[](),.+-".contains(c));
    if !literal {
        return Err(bad());
    }
    let name = one.name.as_str();
    let (assigns, _) = read(content)?;
    let Some(a) = last_assign(&assigns, name) else {
        return Ok(append_line(content, line));
    };
    let start = content[..a.value.start].rfind('\n').map_or(0, |p| p + 1);
    Ok(splice(content, start..a.value.end, line))
}

/// Makes each word part of the string assigned to `name` (`extra = "3"` becomes
/// `extra = "3 xencons=tty"`), keeping the words already there and the quote style.
pub(crate) fn add_words(
    content: &str,
    name: &str,
    words: &[String],
) -> Result<String, TextEditError> {
    let (assigns, strings) = read(content)?;
    let Some(a) = last_assign(&assigns, name) else {
        return Ok(append_line(
            content,
            &format!("{name} = {}", py_quote(&words.join(" "), '"')?),
        ));
    };
    let lit = strings
        .iter()
        .find(|s| s.start == a.value.start && s.end == a.value.end)
        .ok_or_else(|| {
            refuse(
                content,
                a.value.start,
                &format!("{name} is not one quoted string"),
            )
        })?;
    let mut have: Vec<String> = lit.value.split_whitespace().map(str::to_string).collect();
    let before = have.len();
    for w in words {
        if !have.contains(w) {
            have.push(w.clone());
        }
    }
    if have.len() == before {
        return Ok(content.to_string());
    }
    let quote = match content.as_bytes().get(lit.start) {
        Some(b'"') => '"',
        _ => '\'',
    };
    Ok(splice(
        content,
        lit.start..lit.end,
        &py_quote(&have.join(" "), quote)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vif(src: &str) -> String {
        let once = list_item(
            src,
            "vif",
            "mac=00:16:3e:00:00:01",
            "mac=00:16:3e:00:00:01,bridge=xenbr0",
        )
        .unwrap();
        assert_eq!(
            list_item(
                &once,
                "vif",
                "mac=00:16:3e:00:00:01",
                "mac=00:16:3e:00:00:01,bridge=xenbr0"
            )
            .unwrap(),
            once
        );
        once
    }

    #[test]
    fn vif_lists_in_every_layout() {
        assert_eq!(
            vif("vif = [ 'mac=00:16:3e:00:00:01,bridge=eth0' ]\n"),
            "vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0' ]\n"
        );
        assert_eq!(
            vif("vif=['mac=00:16:3e:00:00:01']\nname='r'\n"),
            "vif=['mac=00:16:3e:00:00:01,bridge=xenbr0']\nname='r'\n"
        );
        assert_eq!(
            vif(
                "vif = [\n  'mac=00:16:3e:00:00:02,bridge=extbr0',\n  \"mac=00:16:3e:00:00:01\",\n]\n"
            ),
            "vif = [\n  'mac=00:16:3e:00:00:02,bridge=extbr0',\n  'mac=00:16:3e:00:00:01,bridge=xenbr0',\n]\n"
        );
        assert_eq!(
            vif("vif = [ 'mac=00:16:3e:00:00:02,bridge=extbr0' ]\n"),
            "vif = [ 'mac=00:16:3e:00:00:02,bridge=extbr0', 'mac=00:16:3e:00:00:01,bridge=xenbr0' ]\n"
        );
        assert_eq!(
            vif("name = 'r'"),
            "name = 'r'\nvif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0' ]\n"
        );
        assert_eq!(
            vif("vif = []\n"),
            "vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0' ]\n"
        );
    }

    #[test]
    fn extra_keeps_its_words() {
        let w = vec!["xencons=tty".to_string(), "console=tty1".to_string()];
        assert_eq!(
            add_words("extra = \"3\"\n", "extra", &w).unwrap(),
            "extra = \"3 xencons=tty console=tty1\"\n"
        );
        assert_eq!(
            add_words("kernel='/k'\n", "extra", &w).unwrap(),
            "kernel='/k'\nextra = \"xencons=tty console=tty1\"\n"
        );
        let done = "extra='xencons=tty console=tty1'\n";
        assert_eq!(add_words(done, "extra", &w).unwrap(), done);
    }

    #[test]
    fn unreadable_files_are_refused_with_their_line() {
        for (src, line) in [
            ("name = 'r'\nvif = [ 'mac=1'\n", 2),
            ("vif = [ 'mac=1 ]\n", 1),
            ("a = 1; vif = []\n", 1),
            ("vif = [ x ]\n", 1),
            ("vif = ( 'a' ]\n", 1),
        ] {
            match list_item(src, "vif", "mac=1", "mac=1,bridge=b") {
                Err(TextEditError::Unsure { line: l, .. }) => assert_eq!(l, line, "{src:?}"),
                other => panic!("{src:?}: {other:?}"),
            }
        }
        assert!(matches!(
            list_item("", "vif", "mac=1", "mac=1',bridge=b"),
            Err(TextEditError::BadPythonValue(_))
        ));
    }
}
