//! Issue 17 items 12 and 16: runbook files are untrusted input. A FIFO named `*.toml` never
//! hangs `list`, a link to `/dev/zero` is not read into memory, anything that is not a regular
//! file is skipped with a message, and two files with one runbook id are an error, not silent
//! shadowing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn runbook(id: &str) -> String {
    format!(
        "id = \"{id}\"\ntitle = \"T\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.step]]\nid = \"a\"\ntitle = \"A\"\nwhy = \"w\"\nkind = \"manual\"\n"
    )
}

/// Runs fieldbook with a deadline; a hang is a failure, not a stuck test.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env_remove("FIELDBOOK_STATE_DIR")
        .arg("--checklists")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("fieldbook {args:?} hung on the runbook directory");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn fifos_devices_and_huge_files_are_skipped_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("good.toml"), runbook("good")).unwrap();
    let fifo = std::ffi::CString::new(d.join("fifo.toml").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.toml")).unwrap();
    std::fs::create_dir(d.join("dir.toml")).unwrap();
    let mut big = runbook("big");
    big.push_str(&"# padding\n".repeat(500_000));
    std::fs::write(d.join("big.toml"), big).unwrap();
    let (code, out, err) = run(d, &["list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("good"), "{out}");
    assert!(!out.contains("big"), "{out}");
    for (file, says) in [
        ("fifo.toml", "a FIFO, not a regular file; skipped"),
        ("zero.toml", "a device, not a regular file; skipped"),
        ("dir.toml", "a directory, not a regular file; skipped"),
        ("big.toml", "larger than 4194304 bytes"),
    ] {
        assert!(
            err.lines().any(|l| l.contains(file) && l.contains(says)),
            "{file}: {err}"
        );
    }
    // `check` on them directly says the same, and fails.
    let fifo_path = d.join("fifo.toml");
    let (code, out, _) = run(d, &["check", fifo_path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("a FIFO"), "{out}");
}

#[test]
fn two_files_with_one_runbook_id_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.toml"), runbook("same")).unwrap();
    std::fs::write(d.join("b.toml"), runbook("same")).unwrap();
    let a = d.join("a.toml");
    let b = d.join("b.toml");
    let (code, out, _) = run(d, &["check", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "{}:1:1: duplicate runbook id 'same': {} has it already",
            b.display(),
            a.display()
        )),
        "{out}"
    );
    let (_, _, err) = run(d, &["list"]);
    assert!(err.contains("duplicate runbook id 'same'"), "{err}");
}
