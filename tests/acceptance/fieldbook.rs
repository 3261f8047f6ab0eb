//! Drives the real `fieldbook` binary the way a script or a technician's shell would:
//! `fieldbook --state-dir D exec RUNBOOK STEP --var NAME=VALUE...`, with PATH wrappers first.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What one `fieldbook` invocation did.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

impl Outcome {
    /// stdout and stderr together, for "the technician saw this" assertions.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The raw bytes the step's programs wrote, from the attempt log fieldbook names on stderr
    /// (`(log: PATH)`), to show what the filter had to clean.
    pub fn raw_log(&self) -> Vec<u8> {
        let at = self
            .stderr
            .find("(log: ")
            .expect("fieldbook names the attempt log")
            + 6;
        let end = self.stderr[at..].find(')').expect("closing parenthesis") + at;
        std::fs::read(&self.stderr[at..end]).expect("the attempt log exists")
    }
}

/// How `fieldbook` is started for a test: its state directory and what goes first on PATH.
pub struct Fieldbook {
    /// `--state-dir`.
    pub state_dir: PathBuf,
    /// Directories put before the inherited PATH.
    pub path_first: Vec<PathBuf>,
    /// Extra environment for fieldbook and so for the steps it runs.
    pub env: Vec<(String, String)>,
}

impl Fieldbook {
    /// A fieldbook with a fresh state directory under `state_dir`.
    pub fn new(state_dir: &Path, path_first: &[PathBuf]) -> Fieldbook {
        Fieldbook {
            state_dir: state_dir.to_path_buf(),
            path_first: path_first.to_vec(),
            env: Vec::new(),
        }
    }

    /// Runs `fieldbook --state-dir D ARGS...` to its end (killed after 10 minutes).
    pub fn run(&self, args: &[&str]) -> Outcome {
        let mut path: Vec<PathBuf> = self.path_first.clone();
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin")),
        ));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fieldbook"));
        cmd.arg("--state-dir")
            .arg(&self.state_dir)
            .args(args)
            .env("PATH", std::env::join_paths(path).expect("PATH joins"))
            .env_remove("FIELDBOOK_CHECKLISTS")
            .env_remove("FIELDBOOK_ROOT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("fieldbook starts");
        let mut out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let reader = thread::spawn(move || {
            let mut b = Vec::new();
            let _ = out.read_to_end(&mut b);
            b
        });
        let mut stderr = Vec::new();
        let err_reader = thread::spawn(move || {
            let _ = err.read_to_end(&mut stderr);
            stderr
        });
        let deadline = Instant::now() + Duration::from_secs(600);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("fieldbook {args:?} still running after 10 minutes");
            }
            thread::sleep(Duration::from_millis(20));
        };
        Outcome {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&reader.join().expect("reader")).into_owned(),
            stderr: String::from_utf8_lossy(&err_reader.join().expect("reader")).into_owned(),
        }
    }

    /// `fieldbook exec RUNBOOK STEP --var NAME=VALUE...`.
    pub fn exec(&self, runbook: &str, step: &str, vars: &[(&str, &str)]) -> Outcome {
        self.exec_with(runbook, step, vars, &[])
    }

    /// `fieldbook exec RUNBOOK STEP --var NAME=VALUE... EXTRA...` (e.g. `--yes`).
    pub fn exec_with(
        &self,
        runbook: &str,
        step: &str,
        vars: &[(&str, &str)],
        extra: &[&str],
    ) -> Outcome {
        let mut args = vec!["exec".to_string(), runbook.to_string(), step.to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        for (k, v) in vars {
            args.push("--var".into());
            args.push(format!("{k}={v}"));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&refs)
    }
}

/// The id of the command step of `runbook` whose (single) argv is `argv` once `vars` are
/// filled in, read from `fieldbook show RUNBOOK --json`, so the tests follow the runbook's
/// own ids instead of hard-coding them.
pub fn step_running(runbook: &str, argv: &[&str], vars: &[(&str, &str)]) -> String {
    let fb = Fieldbook::new(Path::new("/nonexistent-state"), &[]);
    let shown = fb.run(&["show", runbook, "--json"]);
    assert_eq!(shown.code, 0, "show {runbook} --json: {}", shown.stderr);
    let json: serde_json::Value = serde_json::from_str(&shown.stdout).expect("show --json");
    let fill = |s: &str| {
        vars.iter()
            .fold(s.to_string(), |s, (k, v)| s.replace(&format!("{{{k}}}"), v))
    };
    let mut found = Vec::new();
    for section in json["sections"].as_array().into_iter().flatten() {
        for step in section["steps"].as_array().into_iter().flatten() {
            for command in step["commands"].as_array().into_iter().flatten() {
                let words: Vec<String> = command
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|w| w.as_str().map(fill))
                    .collect();
                if words == argv {
                    found.push(step["id"].as_str().unwrap_or_default().to_string());
                }
            }
        }
    }
    assert!(
        !found.is_empty(),
        "no step of {runbook} runs {argv:?} (with {vars:?}); see `fieldbook show {runbook} --json`"
    );
    found.remove(0)
}

/// Asserts that nothing but plain text, newlines, tabs and well-formed SGR colour sequences
/// (`ESC [ digits;... m`) is in what fieldbook printed: no cursor movement, no titles, no
/// stray control bytes from the child can reach the technician's terminal.
pub fn assert_clean(what: &str, text: &str) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b {
            let mut j = i + 1;
            assert!(
                j < bytes.len() && bytes[j] == b'[',
                "{what}: a non-CSI escape at byte {i}: {:?}",
                &text[i..text.len().min(i + 16)]
            );
            j += 1;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b';') {
                j += 1;
            }
            assert!(
                j < bytes.len() && bytes[j] == b'm',
                "{what}: an escape sequence other than SGR at byte {i}: {:?}",
                &text[i..text.len().min(i + 16)]
            );
            i = j + 1;
            continue;
        }
        assert!(
            !(b < 0x20 && b != b'\n' && b != b'\t') && b != 0x7f,
            "{what}: control byte {b:#04x} at byte {i} in {:?}",
            &text[i.saturating_sub(20)..text.len().min(i + 20)]
        );
        i += 1;
    }
}

/// `text` with SGR sequences removed, for comparing with what the tool printed.
pub fn without_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\u{1b}[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(after.len());
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}
