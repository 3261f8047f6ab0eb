//! What the technician sees when programs misbehave or input is hostile, through the real
//! binary (`fieldbook exec`): the rows of docs/bad-input.md that no other test covers.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Env {
    state: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            state: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .env_remove("FIELDBOOK_STATE_DIR")
            .arg("--checklists")
            .arg(root().join("tests/fixtures/bad-input"))
            .arg("--state-dir")
            .arg(self.state.path())
            .arg("--target")
            .arg("t1")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn log(&self, step: &str) -> Vec<u8> {
        std::fs::read(
            self.state
                .path()
                .join(format!("logs/bad-input@t1/{step}.1.log")),
        )
        .unwrap()
    }

    fn status(&self, step: &str) -> String {
        let file = fieldbook::core::state_dir::StateDir::at(self.state.path(), false)
            .run_file("bad-input", "t1");
        let run = fieldbook::core::state_dir::read_run(&file).unwrap();
        serde_json::to_value(run).unwrap()["steps"][step]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("fieldbook's own output is valid UTF-8")
}

/// Nothing fieldbook writes may carry a control character other than newline and tab.
fn assert_no_controls(out: &str) {
    for c in out.chars() {
        assert!(
            !c.is_control() || c == '\n' || c == '\t',
            "control {c:?} in {out:?}"
        );
    }
}

#[test]
fn a_command_killed_by_a_signal_fails_and_says_which_signal() {
    let env = Env::new();
    let o = env.run(&["exec", "bad-input", "signal"]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(e.contains("killed by signal 9"), "{e}");
    assert_eq!(env.status("signal"), "failed");
}

#[test]
fn ten_megabytes_on_one_line_is_cut_on_screen_and_whole_in_the_log() {
    let env = Env::new();
    let o = env.run(&["exec", "bad-input", "long-line"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.len() < 64 * 1024, "{} bytes printed", out.len());
    assert!(out.contains("after"), "the next line still shows");
    let log = env.log("long-line");
    let xs = log.iter().filter(|&&b| b == b'x').count();
    assert_eq!(xs, 10 * 1024 * 1024, "the log keeps every byte");
}

#[test]
fn nul_bytes_and_invalid_utf8_are_shown_visibly_and_logged_raw() {
    let env = Env::new();
    let o = env.run(&["exec", "bad-input", "nul"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_no_controls(&out);
    assert!(out.contains("a^@b^Ac\u{fffd}d"), "{out:?}");
    assert!(env.log("nul").starts_with(b"a\0b\x01c\xffd\n"));
}

#[test]
fn escape_sequence_injection_never_reaches_the_terminal() {
    let env = Env::new();
    let o = env.run(&["exec", "bad-input", "inject"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_no_controls(&out);
    assert!(!out.contains("pwned"), "{out:?}");
    assert!(out.contains("red done"), "{out:?}");
}

#[test]
fn shell_metacharacters_in_a_value_stay_one_literal_argument() {
    let env = Env::new();
    let hostile = "x; touch /tmp/fb-pwned $(id) `id` | & > * ' \" \\ {word}";
    let o = env.run(&[
        "exec",
        "bad-input",
        "echo",
        "--var",
        &format!("word={hostile}"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains(&format!("[{hostile}]")),
        "{}",
        text(&o.stdout)
    );
}
