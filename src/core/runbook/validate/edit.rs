//! Validation of an edit: its action, the fields that action takes, word lists and modes.

use std::collections::BTreeSet;
use std::ops::Range;

use toml::Spanned;

use super::*;

impl Validator<'_> {
    pub(super) fn edit(&mut self, e: &RawEdit, declared: &BTreeSet<String>) -> Option<Edit> {
        self.refs(&e.path, declared);
        if e.path.get_ref().trim().is_empty() {
            self.problem(e.path.span(), "an edit needs a file `path`");
        }
        let allowed = self.edit_fields(e)?;
        self.check_edit_fields(e, allowed);
        let action = self.edit_action(e, declared)?;
        let mode = match &e.mode {
            Some(m) if creates_with_mode(e) => Some(self.new_file_mode(m, e.create)?),
            _ => None,
        };
        if let Some(m) = &e.missing
            && (m.get_ref().trim().is_empty() || m.get_ref().contains(char::is_control))
        {
            self.problem(
                m.span(),
                "`missing` must be one line of text saying what was expected",
            );
        }
        Some(Edit {
            path: e.path.get_ref().clone(),
            comment: e
                .comment
                .as_ref()
                .map_or_else(|| "#".to_string(), |c| c.get_ref().clone()),
            create: e.create,
            mode,
            missing: e.missing.as_ref().map(|m| m.get_ref().clone()),
            action,
        })
    }

    /// The optional fields the edit's action takes (`None`, reported, for an unknown action).
    pub(super) fn edit_fields(&mut self, e: &RawEdit) -> Option<&'static [&'static str]> {
        Some(match e.action.get_ref().as_str() {
            "ensure_line" => &["line", "replace"],
            "comment_out" | "uncomment" => &["pattern"],
            "set_var" => &["key", "value"],
            "add_words" | "remove_words" => &["key", "words"],
            "ensure_block" => &["marker", "block"],
            "chmod" => &["mode"],
            "symlink" => &["target"],
            "comment_form" => &["key"],
            "python_list_item" => &["key", "pattern", "value"],
            "python_add_words" => &["key", "words"],
            "python_line" => &["line"],
            other => {
                self.problem(
                    e.action.span(),
                    format!("unknown edit action '{other}' (one of: ensure_line, comment_out, uncomment, set_var, add_words, remove_words, ensure_block, comment_form, python_list_item, python_add_words, python_line, chmod, symlink)"),
                );
                return None;
            }
        })
    }

    /// Reports every field the action does not use, and a `comment` prefix that is not one.
    pub(super) fn check_edit_fields(&mut self, e: &RawEdit, allowed: &[&str]) {
        let action_name = e.action.get_ref().as_str();
        let given: [(&str, Option<Range<usize>>); 9] = [
            ("line", e.line.as_ref().map(Spanned::span)),
            ("replace", e.replace.as_ref().map(Spanned::span)),
            ("pattern", e.pattern.as_ref().map(Spanned::span)),
            ("key", e.key.as_ref().map(Spanned::span)),
            ("value", e.value.as_ref().map(Spanned::span)),
            ("words", e.words.as_ref().map(Spanned::span)),
            ("marker", e.marker.as_ref().map(Spanned::span)),
            ("block", e.block.as_ref().map(Spanned::span)),
            ("mode", e.mode.as_ref().map(Spanned::span)),
        ];
        for (field, span) in given {
            if let Some(span) = span
                && !allowed.contains(&field)
                && !(field == "mode" && creates_with_mode(e))
            {
                self.problem(
                    span,
                    format!("`{field}` is not used by the {action_name} action"),
                );
            }
        }
        if let Some(t) = &e.target
            && action_name != "symlink"
        {
            self.problem(
                t.span(),
                format!("`target` is not used by the {action_name} action"),
            );
        }
        if let Some(c) = &e.comment
            && (c.get_ref().trim().is_empty()
                || c.get_ref().contains(char::is_control)
                || !c
                    .get_ref()
                    .starts_with(|ch: char| ch.is_ascii_punctuation()))
        {
            self.problem(
                c.span(),
                "`comment` must be a prefix on one line starting with punctuation (like # or ;), \
                 without control characters"
                    .to_string(),
            );
        }
    }

    /// The action with its fields; every field it needs and lacks is reported.
    pub(super) fn edit_action(
        &mut self,
        e: &RawEdit,
        declared: &BTreeSet<String>,
    ) -> Option<EditAction> {
        let mut need = |field: &str, value: &Option<Spanned<String>>| {
            self.edit_field(e, field, value, declared)
        };
        Some(match e.action.get_ref().as_str() {
            "ensure_line" => {
                let line = need("line", &e.line)?;
                let replace = match &e.replace {
                    Some(r) => {
                        self.refs(r, declared);
                        Some(r.get_ref().clone())
                    }
                    None => None,
                };
                EditAction::EnsureLine { line, replace }
            }
            "comment_out" => EditAction::CommentOut {
                pattern: need("pattern", &e.pattern)?,
            },
            "uncomment" => EditAction::Uncomment {
                pattern: need("pattern", &e.pattern)?,
            },
            "set_var" => {
                let key = need("key", &e.key);
                let value = need("value", &e.value);
                EditAction::SetVar {
                    key: key?,
                    value: value?,
                }
            }
            "add_words" => {
                let key = need("key", &e.key)?;
                let words = self.word_list(e, declared)?;
                if let (Some(w), Some((a, b))) =
                    (&e.words, crate::core::edit::contradicting_words(&words))
                {
                    self.problem(
                        w.span(),
                        format!("'{a}' and '{b}' contradict each other: add one of them"),
                    );
                }
                EditAction::AddWords { key, words }
            }
            "remove_words" => {
                let key = need("key", &e.key)?;
                let words = self.word_list(e, declared)?;
                EditAction::RemoveWords { key, words }
            }
            "comment_form" => EditAction::CommentForm {
                key: need("key", &e.key)?,
            },
            "python_list_item" => {
                let key = need("key", &e.key);
                let pattern = need("pattern", &e.pattern);
                let value = need("value", &e.value);
                EditAction::PythonListItem {
                    key: key?,
                    pattern: pattern?,
                    value: value?,
                }
            }
            "python_line" => EditAction::PythonLine {
                line: need("line", &e.line)?,
            },
            "python_add_words" => {
                let key = need("key", &e.key)?;
                let words = self.word_list(e, declared)?;
                EditAction::PythonAddWords { key, words }
            }
            "ensure_block" => {
                let marker = need("marker", &e.marker);
                let block = need("block", &e.block);
                EditAction::EnsureBlock {
                    marker: marker?,
                    block: block?,
                }
            }
            "chmod" => {
                let mode = need("mode", &e.mode)?;
                self.chmod_action(e, &mode)?
            }
            _ => EditAction::Symlink {
                target: need("target", &e.target)?,
            },
        })
    }

    /// A field the edit's action needs: its value (with its `{name}`s checked), or reported.
    pub(super) fn edit_field(
        &mut self,
        e: &RawEdit,
        field: &str,
        value: &Option<Spanned<String>>,
        declared: &BTreeSet<String>,
    ) -> Option<String> {
        match value {
            Some(v) => {
                self.refs(v, declared);
                Some(v.get_ref().clone())
            }
            None => {
                self.problem(
                    e.action.span(),
                    format!("the {} action needs `{field}`", e.action.get_ref()),
                );
                None
            }
        }
    }

    /// The edit's non-empty `words` list (with its `{name}`s checked), or reported.
    pub(super) fn word_list(
        &mut self,
        e: &RawEdit,
        declared: &BTreeSet<String>,
    ) -> Option<Vec<String>> {
        match &e.words {
            Some(w) if !w.get_ref().is_empty() => {
                for word in w.get_ref() {
                    self.refs(word, declared);
                }
                Some(w.get_ref().iter().map(|x| x.get_ref().clone()).collect())
            }
            _ => {
                self.problem(
                    e.action.span(),
                    format!(
                        "the {} action needs a non-empty `words` list",
                        e.action.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// `chmod`'s mode: `+x` or `-x`.
    pub(super) fn chmod_action(&mut self, e: &RawEdit, mode: &str) -> Option<EditAction> {
        match mode {
            "+x" => Some(EditAction::Chmod { executable: true }),
            "-x" => Some(EditAction::Chmod { executable: false }),
            _ => {
                let span = e.mode.as_ref().map_or(e.action.span(), Spanned::span);
                self.problem(
                    span,
                    format!("chmod mode '{mode}' must be \"+x\" or \"-x\""),
                );
                None
            }
        }
    }

    /// The `mode` of a file a text edit creates: octal permission bits (`"0640"`), only with
    /// `create = true`.
    pub(super) fn new_file_mode(&mut self, m: &Spanned<String>, create: bool) -> Option<u32> {
        let text = m.get_ref().trim();
        let digits = text.strip_prefix("0o").unwrap_or(text);
        let parsed = (3..=4)
            .contains(&digits.len())
            .then(|| u32::from_str_radix(digits, 8).ok())
            .flatten()
            .filter(|&v| v <= 0o777);
        let Some(mode) = parsed else {
            self.problem(
                m.span(),
                format!(
                    "`mode` of a new file must be octal permission bits like \"0640\" (not '{text}')"
                ),
            );
            return None;
        };
        if !create {
            self.problem(
                m.span(),
                "`mode` sets the mode of a file the edit creates; add `create = true`".to_string(),
            );
            return None;
        }
        Some(mode)
    }
}
