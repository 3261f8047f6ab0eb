//! Format-aware edit of s-expression files (Xen's `xend-config.sxp`): find every active
//! `(NAME ...)` form however it is quoted, spaced or split over lines, and comment it out.
//!
//! The reader follows Xen's own `sxp.py`: `#` outside a string starts a comment to the end of
//! the line, `'...'` and `"..."` are strings with backslash escapes, parentheses nest. When it
//! cannot be sure (an unbalanced form, a string that never closes, a form sharing its line with
//! other text, a nested form) the edit is refused with the line shown, never half-made.

use super::edit::TextEditError;

/// One active top-level form: its head symbol and the lines (0-based, inclusive) it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Form {
    pub head: String,
    pub first: usize,
    pub last: usize,
    /// Byte offsets of `(` and one past `)` in the whole text.
    pub start: usize,
    pub end: usize,
    /// Depth of the form (0 = top level).
    pub depth: usize,
}

fn unsure(content: &str, offset: usize, reason: &str) -> TextEditError {
    let line_no = content[..offset.min(content.len())].matches('\n').count();
    let text = content.lines().nth(line_no).unwrap_or("");
    TextEditError::Unsure {
        line: line_no + 1,
        text: shown(text),
        reason: reason.to_string(),
    }
}

/// A line as shown in a refusal: control characters replaced, at most 100 characters.
pub(crate) fn shown(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.chars().count() > 100 {
        let cut: String = clean.chars().take(97).collect();
        format!("{cut}...")
    } else {
        clean
    }
}

/// Reads every form of the file. Errors say where the reader lost its footing.
pub(crate) fn forms(content: &str) -> Result<Vec<Form>, TextEditError> {
    let b = content.as_bytes();
    let mut out = Vec::new();
    // Stack of (start offset, index into `out`).
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            q @ (b'\'' | b'"') => {
                let open = i;
                i += 1;
                loop {
                    // A string running past its line is not something xend-config holds:
                    // the quote is a typo, and where the form ends would be a guess.
                    match b.get(i) {
                        None | Some(b'\n') => {
                            return Err(unsure(
                                content,
                                open,
                                "a string that never closes on its line",
                            ));
                        }
                        Some(b'\\') => i += 2,
                        Some(&c) if c == q => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'(' => {
                let head = head_at(content, i + 1);
                out.push(Form {
                    head,
                    first: 0,
                    last: 0,
                    start: i,
                    end: i,
                    depth: stack.len(),
                });
                stack.push((i, out.len() - 1));
            }
            b')' => {
                let Some((_, idx)) = stack.pop() else {
                    return Err(unsure(content, i, "a ')' without its '('"));
                };
                out[idx].end = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(&(open, _)) = stack.last() {
        return Err(unsure(content, open, "a '(' that never closes"));
    }
    for f in &mut out {
        f.first = content[..f.start].matches('\n').count();
        f.last = content[..f.end].matches('\n').count();
    }
    Ok(out)
}

/// The head symbol after `(`: blanks and line breaks skipped, quotes removed.
fn head_at(content: &str, from: usize) -> String {
    let rest = content.get(from..).unwrap_or("").trim_start();
    let rest = rest.strip_prefix(['\'', '"']).unwrap_or(rest);
    rest.chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '\'' | '"' | '#'))
        .collect()
}

/// Comments out every active `(head ...)` form with `comment`, each of its lines. Returns the
/// content unchanged when none is active. Afterwards no active form may remain (checked).
pub(crate) fn comment_forms(
    content: &str,
    head: &str,
    comment: &str,
) -> Result<String, TextEditError> {
    if head.is_empty() || head.contains(|c: char| c.is_whitespace() || "()'\"#".contains(c)) {
        return Err(TextEditError::BadFormName(head.to_string()));
    }
    let all = forms(content)?;
    let wanted: Vec<&Form> = all.iter().filter(|f| f.head == head).collect();
    if wanted.is_empty() {
        return Ok(content.to_string());
    }
    let lines: Vec<&str> = content.split('\n').collect();
    let mut to_comment = vec![false; lines.len()];
    for f in &wanted {
        if f.depth > 0 {
            return Err(unsure(
                content,
                f.start,
                &format!("a ({head} ...) form inside another form"),
            ));
        }
        // Nothing else may share its lines: commenting them would hide that text too.
        let line_start = content[..f.start].rfind('\n').map_or(0, |p| p + 1);
        if !content[line_start..f.start].trim().is_empty() {
            return Err(unsure(
                content,
                f.start,
                &format!("the ({head} ...) form shares its line with other text"),
            ));
        }
        let line_end = content[f.end..]
            .find('\n')
            .map_or(content.len(), |p| f.end + p);
        let after = content[f.end..line_end].trim();
        if !(after.is_empty() || after.starts_with('#')) {
            return Err(unsure(
                content,
                f.start,
                &format!("the ({head} ...) form shares its line with other text"),
            ));
        }
        for flag in &mut to_comment[f.first..=f.last] {
            *flag = true;
        }
    }
    let out: Vec<String> = lines
        .iter()
        .zip(&to_comment)
        .map(|(l, c)| {
            if *c {
                format!("{comment}{l}")
            } else {
                l.to_string()
            }
        })
        .collect();
    let out = out.join("\n");
    // Post-condition: the reader finds no active form of that name any more.
    if forms(&out)?.iter().any(|f| f.head == head) {
        return Err(TextEditError::StillActive(head.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twice(src: &str) -> String {
        let once = comment_forms(src, "network-script", "#").unwrap();
        assert_eq!(comment_forms(&once, "network-script", "#").unwrap(), once);
        once
    }

    #[test]
    fn every_spelling_is_commented() {
        for (src, want) in [
            (
                "(network-script network-bridge)\n",
                "#(network-script network-bridge)\n",
            ),
            (
                "(network-script 'network-bridge netdev=eth1')\n",
                "#(network-script 'network-bridge netdev=eth1')\n",
            ),
            (
                "  ( network-script   \"network-bridge bridge=xenbr0\" ) # mine\n",
                "#  ( network-script   \"network-bridge bridge=xenbr0\" ) # mine\n",
            ),
            (
                "(network-script\n    network-route)\n(other x)\n",
                "#(network-script\n#    network-route)\n(other x)\n",
            ),
            (
                "# (network-script network-bridge)\n",
                "# (network-script network-bridge)\n",
            ),
        ] {
            assert_eq!(twice(src), want, "{src:?}");
        }
    }

    #[test]
    fn unsure_files_are_refused_with_the_line() {
        for (src, line) in [
            ("(a 1)\n(network-script 'network-bridge\n", 2),
            ("(x)(network-script network-bridge)\n", 1),
            ("(network-script network-bridge) (x)\n", 1),
            ("(outer\n (network-script network-bridge))\n", 2),
            ("(a\n", 1),
            ("a)\n", 1),
        ] {
            match comment_forms(src, "network-script", "#") {
                Err(TextEditError::Unsure { line: l, .. }) => assert_eq!(l, line, "{src:?}"),
                other => panic!("{src:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn strings_and_comments_do_not_confuse_the_reader() {
        let src = "(xend-address '(not a form')\n# (network-script x\n(network-script y)\n";
        assert_eq!(
            twice(src),
            "(xend-address '(not a form')\n# (network-script x\n#(network-script y)\n"
        );
    }
}
