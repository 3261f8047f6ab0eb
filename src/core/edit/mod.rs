//! Pure, idempotent text edits of configuration files: (content, action) → new content.
//!
//! Every function here returns the input unchanged when the edit is already present, so
//! applying a step twice does nothing and a step whose edit is already in the file can be
//! offered as done. Nothing here touches the disk; `core::apply` does that.

use std::collections::BTreeMap;

use similar::TextDiff;

use super::runbook::{Edit, EditAction};
use super::vars;

mod assign;
mod code;

pub use assign::contradicting_words;
use assign::{add_words, remove_words, set_var};
pub use code::{CODE_CHARS, code_syntax, value_as_code};

/// Why an edit cannot be computed. These are runbook or file problems, shown to the technician.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextEditError {
    /// chmod and symlink change the file system, not the text.
    #[error("the {0} action does not change file text")]
    NotText(&'static str),
    /// An empty pattern would match every line.
    #[error("the {0} action needs a non-empty text to look for")]
    EmptyPattern(&'static str),
    /// An empty comment prefix cannot mark anything as commented.
    #[error("the comment prefix cannot be empty")]
    EmptyComment,
    /// A comment prefix must be printable text on one line, starting with punctuation.
    #[error(
        "the comment prefix must be one line starting with punctuation (like # or ;), without \
         control characters"
    )]
    BadComment,
    /// The key of a shell assignment must be a shell name.
    #[error("'{0}' is not a variable name (letters, digits and _)")]
    BadKey(String),
    /// A word list entry cannot contain spaces or quotes.
    #[error("'{0}' is not a single word")]
    BadWord(String),
    /// The block's text contains its own BEGIN or END marker line.
    #[error("the block contains its own BEGIN or END marker line")]
    BlockHoldsMarker,
    /// A list of words to add holds a word and its negation.
    #[error("'{0}' and '{1}' contradict each other: add one of them")]
    Contradicts(String, String),
    /// The text to insert contains a line break where one line is required.
    #[error("the {0} must be a single line")]
    MultiLine(&'static str),
    /// A marker must be one line so the BEGIN/END lines can be found again.
    #[error("the block marker must be one line of printable text without blanks around it")]
    BadMarker,
    /// A `KEY="...` whose quote never closes: the shell would not read it either.
    #[error(
        "line {line}: the value of {key} opens a quote that never closes; fix it by hand first"
    )]
    OpenQuote {
        /// The variable.
        key: String,
        /// 1-based line number.
        line: usize,
    },
    /// The file has a BEGIN marker without its END (or the reverse): editing would guess.
    #[error("the file has a '{0}' line without its matching end marker; fix it by hand first")]
    BrokenBlock(String),
    /// The format-aware reader cannot be sure what the file means: nothing is changed.
    #[error("line {line}: {reason}: `{text}`; fix it by hand first, nothing was changed")]
    Unsure {
        /// 1-based line number.
        line: usize,
        /// The line as written (control characters replaced, shortened).
        text: String,
        /// What the reader could not be sure of.
        reason: String,
    },
    /// A form name must be one symbol.
    #[error("'{0}' is not the name of an s-expression form")]
    BadFormName(String),
    /// After commenting, a form of that name is still active (the post-condition failed).
    #[error("an active ({0} ...) form remains after the edit; nothing was changed")]
    StillActive(String),
    /// A value written into a Python file may not need escaping.
    #[error(
        "'{0}' cannot be written as a Python string (no quotes, backslashes or control characters)"
    )]
    BadPythonValue(String),
    /// A `python_line` that is not one assignment of a literal.
    #[error(
        "'{0}' is not one Python assignment of a literal (NAME = 'text', a number, or a [ ... ] list of them); nothing was changed"
    )]
    BadPythonLine(String),
}

/// The first `{name}` an edit uses (in its path or any text it writes or looks for) that has no
/// value yet: writing the placeholder itself into a config file would be worse than stopping.
pub fn missing_value(edit: &Edit, values: &BTreeMap<String, String>) -> Option<String> {
    edit.texts()
        .into_iter()
        .flat_map(vars::references)
        .map(|(_, name)| name)
        .find(|name| !values.contains_key(name))
}

/// Returns a copy of `edit` with every `{name}` in its text fields replaced by the run's values.
/// Edits are always substituted before they are previewed, applied or compared.
pub fn substituted(edit: &Edit, values: &BTreeMap<String, String>) -> Edit {
    let s = |t: &str| vars::substitute(t, values);
    let action = match &edit.action {
        EditAction::EnsureLine { line, replace } => EditAction::EnsureLine {
            line: s(line),
            replace: replace.as_deref().map(s),
        },
        EditAction::CommentOut { pattern } => EditAction::CommentOut {
            pattern: s(pattern),
        },
        EditAction::Uncomment { pattern } => EditAction::Uncomment {
            pattern: s(pattern),
        },
        EditAction::SetVar { key, value } => EditAction::SetVar {
            key: s(key),
            value: s(value),
        },
        EditAction::AddWords { key, words } => EditAction::AddWords {
            key: s(key),
            words: words.iter().map(|w| s(w)).collect(),
        },
        EditAction::RemoveWords { key, words } => EditAction::RemoveWords {
            key: s(key),
            words: words.iter().map(|w| s(w)).collect(),
        },
        EditAction::EnsureBlock { marker, block } => EditAction::EnsureBlock {
            marker: s(marker),
            block: s(block),
        },
        EditAction::CommentForm { key } => EditAction::CommentForm { key: s(key) },
        EditAction::PythonListItem {
            key,
            pattern,
            value,
        } => EditAction::PythonListItem {
            key: s(key),
            pattern: s(pattern),
            value: s(value),
        },
        EditAction::PythonAddWords { key, words } => EditAction::PythonAddWords {
            key: s(key),
            words: words.iter().map(|w| s(w)).collect(),
        },
        EditAction::PythonLine { line } => EditAction::PythonLine { line: s(line) },
        EditAction::Chmod { executable } => EditAction::Chmod {
            executable: *executable,
        },
        EditAction::Symlink { target } => EditAction::Symlink { target: s(target) },
    };
    Edit {
        path: s(&edit.path),
        comment: edit.comment.clone(),
        create: edit.create,
        mode: edit.mode,
        missing: edit.missing.clone(),
        action,
    }
}

/// True for actions that rewrite the file's text (everything but chmod and symlink).
pub fn is_text_action(action: &EditAction) -> bool {
    !matches!(
        action,
        EditAction::Chmod { .. } | EditAction::Symlink { .. }
    )
}

/// Applies one text action to `content`. The result equals `content` byte for byte when the
/// edit is already present.
pub fn edit_text(
    content: &str,
    action: &EditAction,
    comment: &str,
) -> Result<String, TextEditError> {
    if comment.trim().is_empty() {
        return Err(TextEditError::EmptyComment);
    }
    // A prefix with a line break (found by fuzzing) would write lines the next run cannot
    // recognise as its own, and add them again every time.
    // Nor may it start like a line's content (`U` would make `USE="..."` look commented, and
    // the line be added again on every run) or with a blank (lines are compared after their
    // leading blanks); both found by fuzzing.
    if comment.contains(char::is_control)
        || !comment.starts_with(|c: char| c.is_ascii_punctuation())
    {
        return Err(TextEditError::BadComment);
    }
    // The format-aware actions read the whole file in its own syntax (see their modules).
    match action {
        EditAction::CommentForm { key } => {
            return super::sexp_edit::comment_forms(content, key, comment);
        }
        EditAction::PythonListItem {
            key,
            pattern,
            value,
        } => {
            check_key(key)?;
            return super::py_edit::list_item(content, key, pattern, value);
        }
        EditAction::PythonAddWords { key, words } => {
            check_key(key)?;
            check_words(words)?;
            return super::py_edit::add_words(content, key, words);
        }
        EditAction::PythonLine { line } => {
            single_line(line, "line")?;
            return super::py_edit::assign_line(content, line);
        }
        _ => {}
    }
    let mut doc = Lines::parse(content);
    let changed = match action {
        EditAction::EnsureLine { line, replace } => {
            single_line(line, "line")?;
            ensure_line(&mut doc, line, replace.as_deref(), comment)?
        }
        EditAction::CommentOut { pattern } => comment_out(&mut doc, pattern, comment)?,
        EditAction::Uncomment { pattern } => uncomment(&mut doc, pattern, comment)?,
        EditAction::SetVar { key, value } => {
            check_key(key)?;
            single_line(value, "value")?;
            set_var(&mut doc, key, value, comment)?
        }
        EditAction::AddWords { key, words } => {
            check_key(key)?;
            check_words(words)?;
            if let Some((w, neg)) = contradicting_words(words) {
                return Err(TextEditError::Contradicts(w, neg));
            }
            add_words(&mut doc, key, words, comment)?
        }
        EditAction::RemoveWords { key, words } => {
            check_key(key)?;
            check_words(words)?;
            remove_words(&mut doc, key, words, comment)?
        }
        EditAction::EnsureBlock { marker, block } => {
            ensure_block(&mut doc, marker, block, comment)?
        }
        EditAction::Chmod { .. } => return Err(TextEditError::NotText("chmod")),
        EditAction::Symlink { .. } => return Err(TextEditError::NotText("symlink")),
        EditAction::CommentForm { .. }
        | EditAction::PythonListItem { .. }
        | EditAction::PythonLine { .. }
        | EditAction::PythonAddWords { .. } => return Ok(content.to_string()),
    };
    Ok(if changed {
        doc.render()
    } else {
        content.to_string()
    })
}

/// True when `action` would not change `content`: the step can be offered as already done.
pub fn is_present(
    content: &str,
    action: &EditAction,
    comment: &str,
) -> Result<bool, TextEditError> {
    Ok(edit_text(content, action, comment)? == content)
}

/// A unified diff (3 lines of context) labelled with the file path, empty when nothing changes.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let diff = TextDiff::from_lines(old, new);
    let mut out = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a{path}"), &format!("b{path}"))
        .to_string();
    // `similar` marks a missing final newline the way diff(1) does; keep it readable.
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// New permission bits for chmod ±x. `+x` adds execute for each class that may read (the
/// usual outcome of `chmod +x` under umask 022 without making a private file world-executable);
/// `-x` clears every execute bit.
pub fn chmod_mode(mode: u32, executable: bool) -> u32 {
    let perms = mode & 0o7777;
    if executable {
        perms | ((perms & 0o444) >> 2)
    } else {
        perms & !0o111
    }
}

// ---------------------------------------------------------------------------------------------

/// A file as lines without their terminators, remembering whether it ended with a newline.
struct Lines {
    lines: Vec<String>,
    final_newline: bool,
}

impl Lines {
    fn parse(content: &str) -> Lines {
        let final_newline = content.ends_with('\n');
        let body = content.strip_suffix('\n').unwrap_or(content);
        let lines = if content.is_empty() {
            Vec::new()
        } else {
            body.split('\n').map(str::to_string).collect()
        };
        Lines {
            lines,
            final_newline,
        }
    }

    fn render(&self) -> String {
        let mut out = self.lines.join("\n");
        // A changed file always ends with a newline; an appended line must not be glued to a
        // last line that lacked one.
        if !self.lines.is_empty() || self.final_newline {
            out.push('\n');
        }
        out
    }

    fn push(&mut self, line: String) {
        self.lines.push(line);
        self.final_newline = true;
    }
}

fn single_line(text: &str, what: &'static str) -> Result<(), TextEditError> {
    if text.contains(['\n', '\r']) {
        Err(TextEditError::MultiLine(what))
    } else {
        Ok(())
    }
}

fn check_key(key: &str) -> Result<(), TextEditError> {
    if vars::is_var_name(key) {
        Ok(())
    } else {
        Err(TextEditError::BadKey(key.to_string()))
    }
}

fn check_words(words: &[String]) -> Result<(), TextEditError> {
    for w in words {
        if w.is_empty()
            || w.contains(|c: char| c.is_whitespace() || c.is_control() || "\"'`\\$".contains(c))
        {
            return Err(TextEditError::BadWord(w.clone()));
        }
    }
    Ok(())
}

/// A line is commented when its first non-blank text is the comment prefix.
fn is_commented(line: &str, comment: &str) -> bool {
    line.trim_start().starts_with(comment)
}

fn ensure_line(
    doc: &mut Lines,
    line: &str,
    replace: Option<&str>,
    comment: &str,
) -> Result<bool, TextEditError> {
    if doc.lines.iter().any(|l| l == line) {
        return Ok(false);
    }
    if let Some(pattern) = replace {
        if pattern.is_empty() {
            return Err(TextEditError::EmptyPattern("ensure_line replace"));
        }
        // An active line is the one that matters; a commented one is the fallback (a file
        // that ships the setting commented out, as conf.d files often do).
        let found = doc
            .lines
            .iter()
            .position(|l| !is_commented(l, comment) && l.contains(pattern))
            .or_else(|| doc.lines.iter().position(|l| l.contains(pattern)));
        if let Some(i) = found {
            doc.lines[i] = line.to_string();
            return Ok(true);
        }
    }
    doc.push(line.to_string());
    Ok(true)
}

fn comment_out(doc: &mut Lines, pattern: &str, comment: &str) -> Result<bool, TextEditError> {
    if pattern.is_empty() {
        return Err(TextEditError::EmptyPattern("comment_out"));
    }
    let mut changed = false;
    // A line continued with a trailing backslash (a long snort rule) is one logical line:
    // commenting only the line holding the pattern would leave the rest active.
    for group in continued_groups(&doc.lines, |l| !is_commented(l, comment)) {
        if group.clone().any(|i| doc.lines[i].contains(pattern)) {
            for i in group {
                doc.lines[i] = format!("{comment}{}", doc.lines[i]);
            }
            changed = true;
        }
    }
    Ok(changed)
}

/// Groups of consecutive lines (indices) that `keep` accepts, joined while a line ends with a
/// backslash: one group per logical line.
fn continued_groups(lines: &[String], keep: impl Fn(&str) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !keep(&lines[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < lines.len() && lines[i].trim_end().ends_with('\\') && keep(&lines[i + 1]) {
            i += 1;
        }
        groups.push(start..i + 1);
        i += 1;
    }
    groups
}

fn uncomment(doc: &mut Lines, pattern: &str, comment: &str) -> Result<bool, TextEditError> {
    if pattern.is_empty() {
        return Err(TextEditError::EmptyPattern("uncomment"));
    }
    let mut changed = false;
    let groups = continued_groups(&doc.lines, |l| is_commented(l, comment));
    for group in groups {
        if !group.clone().any(|i| doc.lines[i].contains(pattern)) {
            continue;
        }
        for (k, l) in doc.lines[group].iter_mut().enumerate() {
            let indent_len = l.len() - l.trim_start().len();
            let mut rest = &l[indent_len..];
            // "# (vif-script ...)" → "(vif-script ...)", and "## # x" → "x": strip every
            // prefix (with the spaces people put after it) so the line really is active and a
            // second uncomment finds nothing to do.
            while let Some(r) = rest.strip_prefix(comment) {
                let trimmed = r.trim_start();
                // A continuation line keeps its own indentation.
                rest = if trimmed.starts_with(comment) {
                    trimmed
                } else if k > 0 {
                    r
                } else {
                    r.strip_prefix(' ').unwrap_or(r)
                };
            }
            *l = format!("{}{rest}", &l[..indent_len]);
            changed = true;
        }
    }
    Ok(changed)
}

fn block_markers(marker: &str, comment: &str) -> (String, String) {
    (
        format!("{comment} BEGIN fieldbook {marker}"),
        format!("{comment} END fieldbook {marker}"),
    )
}

fn ensure_block(
    doc: &mut Lines,
    marker: &str,
    block: &str,
    comment: &str,
) -> Result<bool, TextEditError> {
    // The BEGIN/END lines are found again with their trailing blanks ignored, so a marker
    // with surrounding blanks or a control character (a vertical tab, found by fuzzing) could
    // never be matched and the block would be appended on every apply.
    if marker.trim().is_empty() || marker != marker.trim() || marker.contains(char::is_control) {
        return Err(TextEditError::BadMarker);
    }
    let (begin, end) = block_markers(marker, comment);
    let body: Vec<String> = block
        .strip_suffix('\n')
        .unwrap_or(block)
        .split('\n')
        .map(str::to_string)
        .collect();
    // A block holding its own BEGIN or END line would end (or open) itself early, and the
    // next run would find a different block (found by fuzzing).
    if body
        .iter()
        .any(|l| l.trim_end() == begin || l.trim_end() == end)
    {
        return Err(TextEditError::BlockHoldsMarker);
    }
    let start = doc.lines.iter().position(|l| l.trim_end() == begin);
    let stop = doc.lines.iter().position(|l| l.trim_end() == end);
    match (start, stop) {
        (Some(s), Some(e)) if s < e => {
            if doc.lines[s + 1..e] == body[..] {
                return Ok(false);
            }
            doc.lines.splice(s + 1..e, body);
            Ok(true)
        }
        (None, None) => {
            doc.push(begin);
            for l in body {
                doc.push(l);
            }
            doc.push(end);
            Ok(true)
        }
        (Some(_), _) => Err(TextEditError::BrokenBlock(begin)),
        (None, Some(_)) => Err(TextEditError::BrokenBlock(end)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(content: &str, action: EditAction) -> String {
        let once = edit_text(content, &action, "#").unwrap();
        let twice = edit_text(&once, &action, "#").unwrap();
        assert_eq!(once, twice, "applying twice must change nothing");
        assert!(is_present(&once, &action, "#").unwrap());
        once
    }

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ensure_line_appends_once() {
        let a = EditAction::EnsureLine {
            line: "s0:12345:respawn:/sbin/mingetty ttyS0".into(),
            replace: None,
        };
        assert_eq!(
            apply("id:3:initdefault:\n", a.clone()),
            "id:3:initdefault:\ns0:12345:respawn:/sbin/mingetty ttyS0\n"
        );
        // No final newline: the new line is not glued to the last one.
        assert_eq!(
            apply("a", a.clone()),
            "a\ns0:12345:respawn:/sbin/mingetty ttyS0\n"
        );
        assert_eq!(apply("", a), "s0:12345:respawn:/sbin/mingetty ttyS0\n");
    }

    #[test]
    fn ensure_line_replaces_active_line_first() {
        let a = EditAction::EnsureLine {
            line: "RC_PLUG_SERVICES=\"!net.*\"".into(),
            replace: Some("RC_PLUG_SERVICES=".into()),
        };
        let src = "#RC_PLUG_SERVICES=\"net.eth0\"\nRC_PLUG_SERVICES=\"\"\nX=1\n";
        assert_eq!(
            apply(src, a.clone()),
            "#RC_PLUG_SERVICES=\"net.eth0\"\nRC_PLUG_SERVICES=\"!net.*\"\nX=1\n"
        );
        // Only a commented one: it is replaced (uncommented with the new value).
        assert_eq!(
            apply("# RC_PLUG_SERVICES=\"\"\n", a.clone()),
            "RC_PLUG_SERVICES=\"!net.*\"\n"
        );
        // Pattern absent: appended.
        assert_eq!(apply("X=1\n", a), "X=1\nRC_PLUG_SERVICES=\"!net.*\"\n");
    }

    #[test]
    fn comment_out_and_uncomment() {
        let c = EditAction::CommentOut {
            pattern: "(network-script network-bridge)".into(),
        };
        let src = "(network-script network-bridge)\n# (network-script network-bridge) old\n";
        assert_eq!(
            apply(src, c),
            "#(network-script network-bridge)\n# (network-script network-bridge) old\n"
        );
        let u = EditAction::Uncomment {
            pattern: "vif-bridge".into(),
        };
        assert_eq!(
            apply("  ## (vif-script vif-bridge)\nx\n", u),
            "  (vif-script vif-bridge)\nx\n"
        );
    }

    #[test]
    fn other_comment_prefix() {
        let c = EditAction::CommentOut {
            pattern: "sid:1394;".into(),
        };
        let out = edit_text("alert tcp any (sid:1394;)\n", &c, ";").unwrap();
        assert_eq!(out, ";alert tcp any (sid:1394;)\n");
        assert_eq!(edit_text(&out, &c, ";").unwrap(), out);
        assert_eq!(edit_text("x", &c, " "), Err(TextEditError::EmptyComment));
    }

    #[test]
    fn set_var_replaces_last_active_and_keeps_trailing_comment() {
        let a = EditAction::SetVar {
            key: "MAKEOPTS".into(),
            value: "-j4".into(),
        };
        let src = "MAKEOPTS=\"-j1\"\n#MAKEOPTS=\"-j8\"\nexport MAKEOPTS='-j2' # cores\n";
        assert_eq!(
            apply(src, a.clone()),
            "MAKEOPTS=\"-j1\"\n#MAKEOPTS=\"-j8\"\nexport MAKEOPTS=\"-j4\" # cores\n"
        );
        // Same value written differently is already applied.
        assert_eq!(
            edit_text("MAKEOPTS=-j4\n", &a, "#").unwrap(),
            "MAKEOPTS=-j4\n"
        );
        assert_eq!(apply("", a), "MAKEOPTS=\"-j4\"\n");
    }

    #[test]
    fn set_var_quotes_hostile_values() {
        let a = EditAction::SetVar {
            key: "X".into(),
            value: "a\"b`c\\d ${CFLAGS}".into(),
        };
        let out = apply("X=1\n", a);
        assert_eq!(out, "X=\"a\\\"b\\`c\\\\d ${CFLAGS}\"\n");
        let bad = EditAction::SetVar {
            key: "X".into(),
            value: "a\nb".into(),
        };
        assert!(edit_text("", &bad, "#").is_err());
        let bad = EditAction::SetVar {
            key: "X Y".into(),
            value: "1".into(),
        };
        assert!(matches!(
            edit_text("", &bad, "#"),
            Err(TextEditError::BadKey(_))
        ));
    }

    #[test]
    fn multi_line_value_is_collapsed() {
        let src = "GENTOO_MIRRORS=\"http://a/\n  http://b/ \"\nSYNC=x\n";
        let a = EditAction::RemoveWords {
            key: "GENTOO_MIRRORS".into(),
            words: words(&["http://b/"]),
        };
        assert_eq!(apply(src, a), "GENTOO_MIRRORS=\"http://a/\"\nSYNC=x\n");
    }

    #[test]
    fn an_open_quote_is_refused_not_guessed() {
        let a = EditAction::SetVar {
            key: "KEY".into(),
            value: "1".into(),
        };
        let e = edit_text("A=1\nKEY=\"open\nB=2\n", &a, "#").unwrap_err();
        assert_eq!(
            e,
            TextEditError::OpenQuote {
                key: "KEY".into(),
                line: 2
            }
        );
    }

    #[test]
    fn add_and_remove_words() {
        let src = "USE=\"-alsa gtk -pae xen\"\n";
        let add = EditAction::AddWords {
            key: "USE".into(),
            words: words(&["pae", "pygrub", "xen"]),
        };
        assert_eq!(apply(src, add), "USE=\"-alsa gtk xen pae pygrub\"\n");
        let rm = EditAction::RemoveWords {
            key: "USE".into(),
            words: words(&["gtk", "absent"]),
        };
        assert_eq!(apply(src, rm.clone()), "USE=\"-alsa -pae xen\"\n");
        assert_eq!(apply("", rm), "");
        let add = EditAction::AddWords {
            key: "FEATURES".into(),
            words: words(&["-collision-protect"]),
        };
        assert_eq!(
            apply(
                "FEATURES=\"parallel-fetch collision-protect\"\n",
                add.clone()
            ),
            "FEATURES=\"parallel-fetch -collision-protect\"\n"
        );
        assert_eq!(apply("", add), "FEATURES=\"-collision-protect\"\n");
        let bad = EditAction::AddWords {
            key: "USE".into(),
            words: words(&["a b"]),
        };
        assert!(matches!(
            edit_text("", &bad, "#"),
            Err(TextEditError::BadWord(_))
        ));
    }

    #[test]
    fn ensure_block_inserts_then_updates() {
        let a = EditAction::EnsureBlock {
            marker: "syn-flood".into(),
            block: "echo 1 > /proc/sys/net/ipv4/tcp_syncookies\n".into(),
        };
        let once = apply("#!/bin/sh\n", a);
        assert_eq!(
            once,
            "#!/bin/sh\n# BEGIN fieldbook syn-flood\necho 1 > /proc/sys/net/ipv4/tcp_syncookies\n# END fieldbook syn-flood\n"
        );
        let b = EditAction::EnsureBlock {
            marker: "syn-flood".into(),
            block: "echo 2 > x\necho 3 > y".into(),
        };
        assert_eq!(
            apply(&once, b),
            "#!/bin/sh\n# BEGIN fieldbook syn-flood\necho 2 > x\necho 3 > y\n# END fieldbook syn-flood\n"
        );
        let broken = "# BEGIN fieldbook syn-flood\nx\n";
        assert!(matches!(
            edit_text(
                broken,
                &EditAction::EnsureBlock {
                    marker: "syn-flood".into(),
                    block: "y".into()
                },
                "#"
            ),
            Err(TextEditError::BrokenBlock(_))
        ));
    }

    /// A tiny xorshift so the property test needs no extra crate and can replay a seed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 33) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.next() % items.len()]
        }
    }

    #[test]
    fn property_every_action_is_idempotent_on_random_files() {
        let lines = [
            "USE=\"a -b c\"",
            "#USE=\"x\"",
            "export USE='q r'",
            "KEY=1 # note",
            "KEY=\"open",
            "still open\"",
            "# BEGIN fieldbook m",
            "# END fieldbook m",
            "(network-script network-bridge)",
            "# (network-script network-bridge)",
            "## # (vif-script vif-bridge)",
            "  indented # thing",
            "",
            "plain line",
            "tab\tline",
            "KEY=\\$x\\\\y",
        ];
        let texts = [
            "a", "KEY=", "vif", "#", "-b", "network", "x y", "$HOME", "\\",
        ];
        let words = ["a", "-b", "b", "new", "-new", "c"];
        for seed in 1..=10u64 {
            let mut rng = Rng(0x5eed_1234_abcd_0001 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            for round in 0..2000 {
                let n = rng.next() % 12;
                let mut content: String =
                    (0..n).map(|_| format!("{}\n", rng.pick(&lines))).collect();
                if rng.next() % 4 == 0 {
                    content.pop();
                }
                let action = match rng.next() % 7 {
                    0 => EditAction::EnsureLine {
                        line: rng.pick(&texts).to_string(),
                        replace: (rng.next() % 2 == 0).then(|| rng.pick(&texts).to_string()),
                    },
                    1 => EditAction::CommentOut {
                        pattern: rng.pick(&texts).to_string(),
                    },
                    2 => EditAction::Uncomment {
                        pattern: rng.pick(&texts).to_string(),
                    },
                    3 => EditAction::SetVar {
                        key: rng.pick(&["KEY", "USE", "NEW"]).to_string(),
                        value: rng.pick(&texts).to_string(),
                    },
                    4 => EditAction::AddWords {
                        key: rng.pick(&["USE", "NEW"]).to_string(),
                        words: vec![rng.pick(&words).to_string(), rng.pick(&words).to_string()],
                    },
                    5 => EditAction::RemoveWords {
                        key: rng.pick(&["USE", "NEW"]).to_string(),
                        words: vec![rng.pick(&words).to_string()],
                    },
                    _ => EditAction::EnsureBlock {
                        marker: rng.pick(&["m", "other"]).to_string(),
                        block: rng.pick(&texts).to_string(),
                    },
                };
                let comment = rng.pick(&["#", ";"]);
                let Ok(once) = edit_text(&content, &action, comment) else {
                    continue;
                };
                let twice = edit_text(&once, &action, comment).unwrap_or_else(|e| {
                    panic!("seed {seed} round {round}: second apply failed: {e}")
                });
                assert_eq!(
                    once, twice,
                    "seed {seed} round {round}: {action:?} with {comment:?} is not idempotent on {content:?}"
                );
                assert!(once.is_empty() || once.ends_with('\n') || once == content);
            }
        }
    }

    #[test]
    fn chmod_bits() {
        assert_eq!(chmod_mode(0o755, false), 0o644);
        assert_eq!(chmod_mode(0o644, true), 0o755);
        assert_eq!(chmod_mode(0o600, true), 0o700);
        assert_eq!(chmod_mode(0o100644, true), 0o755);
        assert!(matches!(
            edit_text("", &EditAction::Chmod { executable: true }, "#"),
            Err(TextEditError::NotText(_))
        ));
    }

    #[test]
    fn diff_is_unified_and_empty_when_same() {
        assert_eq!(unified_diff("/etc/x", "a\n", "a\n"), "");
        let d = unified_diff("/etc/x", "a\nb\n", "a\nc\n");
        assert!(d.starts_with("--- a/etc/x\n+++ b/etc/x\n@@"), "{d}");
        assert!(d.contains("-b\n+c\n"));
    }

    #[test]
    fn substitution_fills_every_text_field() {
        let mut values = BTreeMap::new();
        values.insert("gw".to_string(), "10.0.0.1".to_string());
        let e = Edit {
            path: "/etc/conf.d/net".into(),
            comment: "#".into(),
            create: false,
            mode: None,
            missing: None,
            action: EditAction::EnsureLine {
                line: "routes_xenbr0=(\"default via {gw}\")".into(),
                replace: Some("routes_xenbr0=".into()),
            },
        };
        let s = substituted(&e, &values);
        assert_eq!(
            s.action,
            EditAction::EnsureLine {
                line: "routes_xenbr0=(\"default via 10.0.0.1\")".into(),
                replace: Some("routes_xenbr0=".into()),
            }
        );
    }
}
