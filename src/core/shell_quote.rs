//! POSIX shell quoting, for the two places where fieldbook must hand a command line to a shell
//! it does not control: `ssh` (which joins its arguments into one remote shell string) and
//! Ansible's `raw` module (which runs one string through `/bin/sh -c` on the target).
//!
//! Everything else in fieldbook runs argv vectors and never needs this.

/// Characters that mean nothing to a POSIX shell in any position of a word, so a word made only
/// of them may stay bare (`=` is left out: `A=b` as the first word is an assignment).
fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '%' | '+' | ':' | ',' | '.' | '/' | '-')
}

/// Shell reserved words: harmless after the first word, but `if` as a command name would open a
/// compound command, so they are always quoted.
const RESERVED: &[&str] = &[
    "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then",
    "until", "while", "function", "select", "time",
];

/// Quotes one argument so that a POSIX shell reads it back as exactly that one word, whatever it
/// contains. Plain words stay bare for readability; anything else is put in single quotes, with
/// each embedded `'` written as `'\''` (single quotes are the only POSIX quoting in which no
/// character is special).
pub fn quote(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(is_safe) && !RESERVED.contains(&arg) {
        return arg.to_string();
    }
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('\'');
    for c in arg.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Quotes every element of an argv vector and joins them with spaces: the one string a shell
/// splits back into the same argv. After the first word a `=` is left bare (`--level=2345`):
/// only a first word can be an assignment. This is also how every argv is shown on screens and
/// in logs, so a command copied from them is safe to paste (`{}`, `^`, `*` quoted).
pub fn join<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .enumerate()
        .map(|(i, a)| {
            let a = a.as_ref();
            let bare_after_first = i > 0
                && !a.is_empty()
                && !a.starts_with('=')
                && a.chars().all(|c| c == '=' || is_safe(c));
            if bare_after_first {
                a.to_string()
            } else {
                quote(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "; rm -rf / $(reboot) \"quoted\" 'single'";

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(quote("rc-update"), "rc-update");
        assert_eq!(quote("/etc/init.d/net.lo"), "/etc/init.d/net.lo");
        assert_eq!(quote("app-misc/hello-1.0"), "app-misc/hello-1.0");
    }

    #[test]
    fn hostile_text_is_one_literal_word() {
        assert_eq!(
            quote(HOSTILE),
            "'; rm -rf / $(reboot) \"quoted\" '\\''single'\\'''"
        );
    }

    #[test]
    fn empty_reserved_and_special_words_are_quoted() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("if"), "'if'");
        assert_eq!(quote("A=b"), "'A=b'");
        assert_eq!(quote("~root"), "'~root'");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("*"), "'*'");
        assert_eq!(quote("two\nlines"), "'two\nlines'");
        assert_eq!(quote("'"), "''\\'''");
    }

    /// The real test of quoting: a real shell must split the joined string back into the argv.
    #[test]
    fn a_real_shell_reads_back_the_same_argv() {
        let argv = [
            HOSTILE,
            "",
            "'",
            "\\",
            "$HOME",
            "`id`",
            "a\nb",
            "tab\there",
            "*",
            "if",
            "--opt=x y",
            "ünïcödé",
            "!",
            "#comment",
        ];
        let script = format!("for a in {}; do printf '%s\\0' \"$a\"; done", join(&argv));
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_string)
            .collect();
        assert_eq!(got, argv);
    }

    /// Issue 14 item 5: what the screens show as copyable is POSIX-safe: `{}` (find -exec,
    /// brace expansion in bash) and `^` (history in some shells) are quoted; `=` after the
    /// first word stays bare.
    #[test]
    fn shown_commands_quote_braces_and_carets() {
        let argv = [
            "find",
            "/etc",
            "-exec",
            "cat",
            "{}",
            ";",
            "^x",
            "--level=2345",
        ];
        assert_eq!(
            join(&argv),
            "find /etc -exec cat '{}' ';' '^x' --level=2345"
        );
        assert_eq!(join(&["A=b", "c"]), "'A=b' c");
    }
}
