//! Reads the byte-exact transcripts of the real tools in `tests/fixtures/real-output/`:
//! blocks of `$ command`, `[stdout]`, `[stderr]` and `[exit N]`, stdout and stderr kept apart.

use std::path::Path;

/// One recorded run of a real tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The command line as typed (`chkconfig --list sshd`).
    pub command: String,
    /// Exactly what it wrote to stdout.
    pub stdout: String,
    /// Exactly what it wrote to stderr.
    pub stderr: String,
    /// Its exit code.
    pub exit: i32,
}

/// Loads `tests/fixtures/real-output/NAME`.
pub fn load(name: &str) -> Vec<Run> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real-output")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse(&text)
}

/// Splits a transcript into runs. Text between runs (directory listings) is ignored.
pub fn parse(text: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("$ ") {
        if at != 0 && !rest[..at].ends_with('\n') {
            rest = &rest[at + 2..];
            continue;
        }
        let block = &rest[at + 2..];
        let Some(cmd_end) = block.find('\n') else {
            break;
        };
        let command = block[..cmd_end].to_string();
        let body = &block[cmd_end + 1..];
        let Some(body) = body.strip_prefix("[stdout]\n") else {
            rest = body;
            continue;
        };
        let err_at = body.find("[stderr]\n").expect("[stderr] after [stdout]");
        let after_err = &body[err_at + "[stderr]\n".len()..];
        let exit_at = after_err.find("[exit ").expect("[exit N] after [stderr]");
        let exit_end = after_err[exit_at..].find("]\n").expect("] after [exit") + exit_at;
        runs.push(Run {
            command,
            stdout: body[..err_at].to_string(),
            stderr: after_err[..exit_at].to_string(),
            exit: after_err[exit_at + "[exit ".len()..exit_end]
                .parse()
                .expect("exit code"),
        });
        rest = &after_err[exit_end + 2..];
    }
    runs
}

/// The `nth` (0-based) run of `command` in `runs`.
pub fn find<'a>(runs: &'a [Run], command: &str, nth: usize) -> &'a Run {
    runs.iter()
        .filter(|r| r.command == command)
        .nth(nth)
        .unwrap_or_else(|| panic!("no run {nth} of {command:?} in the transcript"))
}
