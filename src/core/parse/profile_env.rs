//! `/etc/profile.env` as env-update writes it (`export KEY='value'`), read without a shell.
//!
//! After `gcc-config N` and `env-update`, PATH and friends change in that file, and a shell
//! only sees them after `source /etc/profile`. fieldbook cannot source anything into its own
//! process, so it reads the assignments itself and hands them to the commands it runs later.
//! Only literal values are accepted: single quotes, `$'...'` (env-update writes values that
//! start with `$` that way), double quotes and bare words without expansions. A line that would
//! need a shell to evaluate (`$VAR`, backticks) is skipped and reported, never guessed.

use serde::Serialize;

/// The assignments read from a profile.env, and the lines that were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProfileEnv {
    /// `(KEY, value)` in file order; a key set twice appears twice (the last one wins when
    /// applied, as in a shell).
    pub vars: Vec<(String, String)>,
    /// `(line number, reason)` for each non-comment line that was not a literal assignment.
    pub skipped: Vec<(usize, String)>,
}

impl ProfileEnv {
    /// The final value of `key`, as a shell would see it after sourcing the file.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses profile.env text. Never fails; see [`ProfileEnv::skipped`].
pub fn parse(text: &str) -> ProfileEnv {
    let mut env = ProfileEnv::default();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match assignment(t) {
            Ok(pair) => env.vars.push(pair),
            Err(reason) => env.skipped.push((i + 1, reason.to_string())),
        }
    }
    env
}

fn assignment(line: &str) -> Result<(String, String), &'static str> {
    let rest = line
        .strip_prefix("export")
        .filter(|r| r.starts_with([' ', '\t']))
        .map_or(line, str::trim_start);
    let (key, value) = rest.split_once('=').ok_or("not an assignment")?;
    let valid_key = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_key {
        return Err("not a variable name");
    }
    let (value, tail) = word(value)?;
    let tail = tail.trim_start();
    if !(tail.is_empty() || tail.starts_with('#')) {
        return Err("more than one word (needs a shell)");
    }
    Ok((key.to_string(), value))
}

/// Reads one shell word made of literal pieces; returns it and the text after it.
fn word(s: &str) -> Result<(String, &str), &'static str> {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            ' ' | '\t' | ';' => return Ok((out, &s[i..])),
            '\'' => {
                chars.next();
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, c)) => out.push(c),
                        None => return Err("unterminated quote"),
                    }
                }
            }
            '$' if s[i..].starts_with("$'") => {
                chars.next();
                chars.next();
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => out.push('\n'),
                            Some((_, 't')) => out.push('\t'),
                            Some((_, c @ ('\\' | '\'' | '"'))) => out.push(c),
                            Some((_, c)) => {
                                out.push('\\');
                                out.push(c);
                            }
                            None => return Err("unterminated quote"),
                        },
                        Some((_, c)) => out.push(c),
                        None => return Err("unterminated quote"),
                    }
                }
            }
            '"' => {
                chars.next();
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c @ ('"' | '\\' | '$' | '`'))) => out.push(c),
                            Some((_, c)) => {
                                out.push('\\');
                                out.push(c);
                            }
                            None => return Err("unterminated quote"),
                        },
                        Some((_, '$' | '`')) => return Err("expansion (needs a shell)"),
                        Some((_, c)) => out.push(c),
                        None => return Err("unterminated quote"),
                    }
                }
            }
            '$' | '`' | '(' | ')' | '<' | '>' | '|' | '&' | '*' | '?' | '[' | '~' => {
                return Err("expansion or operator (needs a shell)");
            }
            '\\' => {
                chars.next();
                match chars.next() {
                    Some((_, c)) => out.push(c),
                    None => return Err("trailing backslash"),
                }
            }
            c => {
                chars.next();
                out.push(c);
            }
        }
    }
    Ok((out, ""))
}

#[cfg(test)]
mod tests {
    use super::super::fuzz;
    use super::*;

    const SAMPLE: &str = "# THIS FILE IS AUTOMATICALLY GENERATED BY env-update.\n\
# DO NOT EDIT THIS FILE. CHANGES TO STARTUP PROFILES\n\
# GO INTO /etc/profile NOT /etc/profile.env\n\
\n\
export CONFIG_PROTECT='/usr/share/gnupg/qualified.txt'\n\
export GCC_SPECS=''\n\
export LESS='-R -M --shift 5'\n\
export PATH='/usr/local/sbin:/usr/local/bin:/usr/bin:/opt/bin:/usr/x86_64-pc-linux-gnu/gcc-bin/4.3.4'\n\
export QUOTED='it'\\''s'\n\
export PS='$'\\''x'\n\
export ANSI=$'a\\tb'\n";

    #[test]
    fn env_update_output() {
        let env = parse(SAMPLE);
        assert!(env.skipped.is_empty(), "{:?}", env.skipped);
        assert_eq!(env.get("GCC_SPECS"), Some(""));
        assert_eq!(env.get("LESS"), Some("-R -M --shift 5"));
        assert!(env.get("PATH").unwrap().ends_with("gcc-bin/4.3.4"));
        assert_eq!(env.get("QUOTED"), Some("it's"));
        assert_eq!(env.get("PS"), Some("$'x"));
        assert_eq!(env.get("ANSI"), Some("a\tb"));
        assert_eq!(env.vars.len(), 7);
    }

    #[test]
    fn anything_needing_a_shell_is_skipped() {
        let env = parse(
            "export A=\"$HOME/bin\"\nexport B=`id`\nexport C=$(id)\nexport D='x\nexport 1E=x\n\
             echo hi\nexport F=a b\nexport G=\"ok \\$ here\"\nexport H=plain # note\nI=x;rm -rf /\n",
        );
        assert_eq!(
            env.vars,
            [
                ("G".to_string(), "ok $ here".to_string()),
                ("H".to_string(), "plain".to_string())
            ]
        );
        let lines: Vec<usize> = env.skipped.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5, 6, 7, 10]);
    }

    #[test]
    fn last_assignment_wins() {
        let env = parse("export A=1\nexport A=2\n");
        assert_eq!(env.get("A"), Some("2"));
    }

    #[test]
    fn arbitrary_input_never_panics() {
        for input in fuzz::inputs(SAMPLE, 3000, 17) {
            let _ = parse(&input);
        }
    }
}
