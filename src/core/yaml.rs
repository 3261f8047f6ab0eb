//! A small YAML writer for the playbooks fieldbook exports.
//!
//! Why hand-written: serde_yaml is deprecated and its forks are young; fieldbook only ever
//! *writes* YAML, from a tree it builds itself, so the whole risk is in quoting scalars. Here a
//! string is written plain only when it matches a conservative pattern that no YAML 1.1 or 1.2
//! reader takes for anything but that string; multi-line text becomes a literal block; the rest
//! is double-quoted with every special character escaped.

use std::fmt::Write as _;

/// A YAML value as the exporter builds it. Mappings keep their insertion order (Ansible tasks
/// read best as `name`, then the module, then its options).
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// A string.
    Str(String),
    /// A string Ansible must not template (`!unsafe`): literal `{{` stays literal.
    Unsafe(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A sequence.
    Seq(Vec<Yaml>),
    /// A mapping with ordered keys.
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }

    /// A mapping from `(key, value)` pairs.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Yaml)>) -> Yaml {
        Yaml::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A sequence of strings.
    pub fn strs<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Yaml {
        Yaml::Seq(items.into_iter().map(|s| Yaml::Str(s.into())).collect())
    }
}

/// Writes `value` as a YAML document body (no `---`), ending with a newline.
pub fn to_string(value: &Yaml) -> String {
    let mut out = String::new();
    match value {
        Yaml::Seq(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        Yaml::Map(pairs) if !pairs.is_empty() => write_map(&mut out, pairs, 0),
        scalar => {
            write_scalar(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, pairs: &[(String, Yaml)], indent: usize) {
    for (i, (key, value)) in pairs.iter().enumerate() {
        // The first pair of a map inside a sequence item continues the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            pad(out, indent);
        }
        out.push_str(&quote_key(key));
        out.push(':');
        write_value(out, value, indent);
    }
}

fn write_seq(out: &mut String, items: &[Yaml], indent: usize) {
    for item in items {
        if !out.ends_with("- ") {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Yaml::Map(pairs) if !pairs.is_empty() => write_map(out, pairs, indent + 2),
            Yaml::Seq(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2),
            scalar => {
                write_scalar(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

/// Writes what follows `key:` — a nested block on the next lines, or a scalar on this one.
fn write_value(out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Map(pairs) if !pairs.is_empty() => {
            out.push('\n');
            write_map(out, pairs, indent + 2);
        }
        Yaml::Seq(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, indent + 2);
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Writes a scalar (or an empty collection). `indent` is where block-scalar lines go.
fn write_scalar(out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Str(s) => out.push_str(&quote_str(s, indent)),
        // Ansible resolves the type of a `!unsafe` scalar as if it were plain, quotes or not
        // (`!unsafe "false"` is the boolean false, `!unsafe "0755"` the number 493). Text that
        // could be read so has no `{` and so no template syntax: it is written quoted, untagged.
        Yaml::Unsafe(s) if may_resolve_implicitly(s) => out.push_str(&quote_str(s, indent)),
        Yaml::Unsafe(s) => {
            out.push_str("!unsafe ");
            out.push_str(&quote_str(s, indent));
        }
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Yaml::Seq(_) => out.push_str("[]"),
        Yaml::Map(_) => out.push_str("{}"),
    }
}

/// Keys are written plain when safe (`ansible.builtin.command`, `FB_gateway`), else quoted.
fn quote_key(key: &str) -> String {
    if is_plain_safe(key) {
        key.to_string()
    } else {
        double_quoted(key)
    }
}

/// Words some YAML reader turns into something other than a string (YAML 1.1 booleans and null).
fn is_special_word(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    WORDS.contains(&s.to_ascii_lowercase().as_str())
}

/// True for text a YAML 1.1 reader could take for something other than a string when written
/// plain: null, booleans, numbers (also `.inf`, hex, sexagesimal), dates, `<<`, `=` and the
/// lone indicators `!`, `&`, `*` (PyYAML's `tag:yaml.org,2002:yaml`). A
/// superset of PyYAML's implicit resolvers; none of these strings contains `{`.
fn may_resolve_implicitly(s: &str) -> bool {
    let numberish = s.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '+' | '-' | ' '))
        && (s.contains(|c: char| c.is_ascii_digit())
            || matches!(
                s.trim_start_matches(['+', '-'])
                    .to_ascii_lowercase()
                    .as_str(),
                ".inf" | ".nan"
            ));
    s.is_empty() || is_special_word(s) || matches!(s, "<<" | "=" | "!" | "&" | "*") || numberish
}

/// Plain style only for strings that start with a letter or `/` and contain only letters,
/// digits, and `_ . / - ,` plus single inner spaces: no indicator, no `: `, no ` #`, nothing a
/// reader could take for a number, date, boolean or null.
fn is_plain_safe(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '/' || first == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | ',' | ' '))
        && !s.ends_with(' ')
        && !s.contains("  ")
        && !is_special_word(s)
}

/// Quotes a string value; multi-line text becomes a literal block indented to `indent`.
fn quote_str(s: &str, indent: usize) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else if s.contains('\n') && block_ok(s) {
        literal_block(s, indent)
    } else {
        double_quoted(s)
    }
}

/// A literal block keeps text exactly only when it has no characters YAML forbids or folds in
/// block scalars (other control characters, carriage returns, unicode line breaks, a BOM), and
/// no line is made only of whitespace that could be read as indentation.
fn block_ok(s: &str) -> bool {
    let printable = s.chars().all(|c| {
        c == '\n'
            || c == '\t'
            || (!c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
    });
    let body = s.trim_end_matches('\n');
    printable
        && !body.is_empty()
        && body
            .split('\n')
            .all(|l| l.is_empty() || !l.chars().all(|c| c == ' ' || c == '\t'))
        && !body.starts_with('\n')
}

fn literal_block(s: &str, indent: usize) -> String {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    // An explicit indentation indicator when the first line starts with a space (or a tab,
    // which YAML does not allow as indentation but does allow as content).
    let indicator = if body.starts_with([' ', '\t']) {
        "2"
    } else {
        ""
    };
    let mut out = format!("|{indicator}{chomp}");
    for line in s
        .split('\n')
        .take(body.split('\n').count() + trailing.saturating_sub(1))
    {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    out
}

/// A double-quoted scalar with every character that is special in one escaped.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\ufeff"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_stay_plain_and_tricky_ones_are_quoted() {
        assert_eq!(quote_str("rc-update", 0), "rc-update");
        assert_eq!(quote_str("net.eth0", 0), "net.eth0");
        for tricky in [
            "yes",
            "No",
            "null",
            "1.0",
            "0755",
            "",
            " x",
            "a: b",
            "a #b",
            "- x",
            "@x",
            "*x",
            "!x",
            "%x",
            "2001-01-01",
            "{x}",
            "[x]",
            "a  b",
        ] {
            assert!(quote_str(tricky, 0).starts_with('"'), "{tricky}");
        }
    }

    #[test]
    fn unsafe_text_ansible_would_retype_is_quoted_without_the_tag() {
        for typed in [
            "false",
            "yes",
            "0755",
            "1.0",
            "",
            "~",
            "2001-01-01",
            "-.inf",
            "<<",
            "1:20",
            "!",
            "*",
        ] {
            let doc = to_string(&Yaml::Unsafe(typed.into()));
            assert!(doc.starts_with('"'), "{typed}: {doc}");
        }
        for text in ["{{ x }}", "-{x}", "eth0", "1 {{x}}", "--deep"] {
            let doc = to_string(&Yaml::Unsafe(text.into()));
            assert!(doc.starts_with("!unsafe "), "{text}: {doc}");
        }
    }

    #[test]
    fn escapes_in_double_quotes() {
        assert_eq!(double_quoted("a\"b\\c\td\u{1}"), "\"a\\\"b\\\\c\\td\\x01\"");
    }

    #[test]
    fn nested_structures() {
        let doc = Yaml::Seq(vec![Yaml::map([
            ("name", Yaml::str("Demo play")),
            ("hosts", Yaml::str("all")),
            ("gather_facts", Yaml::Bool(false)),
            ("vars", Yaml::Map(vec![])),
            (
                "tasks",
                Yaml::Seq(vec![Yaml::map([
                    ("name", Yaml::str("a: b")),
                    (
                        "ansible.builtin.command",
                        Yaml::map([("argv", Yaml::strs(["echo", "yes"]))]),
                    ),
                ])]),
            ),
        ])]);
        assert_eq!(
            to_string(&doc),
            "- name: Demo play\n  hosts: all\n  gather_facts: false\n  vars: {}\n  tasks:\n    - name: \"a: b\"\n      ansible.builtin.command:\n        argv:\n          - echo\n          - \"yes\"\n"
        );
    }

    #[test]
    fn literal_blocks_keep_text_exactly() {
        let doc = Yaml::map([("s", Yaml::str("echo a\n  b\n"))]);
        assert_eq!(to_string(&doc), "s: |\n  echo a\n    b\n");
        let doc = Yaml::map([("s", Yaml::str("x\ny"))]);
        assert_eq!(to_string(&doc), "s: |-\n  x\n  y\n");
        let doc = Yaml::map([("s", Yaml::str(" x\n\ny\n\n"))]);
        assert_eq!(to_string(&doc), "s: |2+\n   x\n\n  y\n\n");
        // Carriage returns cannot live in a block scalar.
        let doc = Yaml::map([("s", Yaml::str("x\r\ny"))]);
        assert_eq!(to_string(&doc), "s: \"x\\r\\ny\"\n");
    }
}
