//! `fieldbook exec` never fails silently (issue 15 item 6) and treats Ctrl-C on a long step as
//! "stop watching", not "cancel" (item 10): every end says what happened, exit codes follow
//! the documented contract, and the record matches.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fieldbook::core::state_dir::{self, StateDir};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fieldbook(state: &Path, target_root: Option<&Path>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fieldbook"));
    let path = format!(
        "{}:{}",
        root().join("tests/stubs").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    c.env("PATH", path)
        .env_remove("FIELDBOOK_STATE_DIR")
        .env_remove("FIELDBOOK_ROOT")
        .arg("--checklists")
        .arg(root().join("tests/fixtures/runbooks-exec"))
        .arg("--state-dir")
        .arg(state)
        .arg("--target")
        .arg("t1");
    if let Some(r) = target_root {
        c.arg("--root").arg(r);
    }
    c.args(args).stdin(Stdio::null());
    c
}

fn run(state: &Path, target_root: Option<&Path>, args: &[&str]) -> Output {
    fieldbook(state, target_root, args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn state_of(state: &Path) -> fieldbook::core::progress::Run {
    state_dir::read_run(&StateDir::at(state, false).run_file("exec-truth", "t1")).unwrap()
}

/// A root with /etc/hosts and /etc/conf.d (a directory).
fn target_root() -> tempfile::TempDir {
    let r = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(r.path().join("etc/conf.d")).unwrap();
    std::fs::write(r.path().join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
    r
}

#[test]
fn an_edit_step_missing_a_variable_exits_2_naming_it() {
    let state = tempfile::tempdir().unwrap();
    let r = target_root();
    let o = run(
        state.path(),
        Some(r.path()),
        &["exec", "exec-truth", "hosts"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("'host_ip'"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--var host_ip="), "{}", stderr(&o));
}

#[test]
fn a_refused_edit_exits_1_says_why_and_where_and_is_recorded_as_failed() {
    let state = tempfile::tempdir().unwrap();
    let r = target_root();
    for (step, why) in [("missing", "does not exist"), ("dir", "is a directory")] {
        let o = run(state.path(), Some(r.path()), &["exec", "exec-truth", step]);
        assert_eq!(o.status.code(), Some(1), "{step}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(why), "{step}: {err}");
        // The path as resolved under --root, so the technician sees which file was meant.
        let resolved = match step {
            "missing" => r.path().join("etc/missing.conf"),
            _ => r.path().join("etc/conf.d"),
        };
        assert!(
            err.contains(&resolved.display().to_string()),
            "{step}: {err}"
        );
        let run = state_of(state.path());
        assert_eq!(
            run.status(step),
            fieldbook::core::progress::Status::Failed,
            "{step}"
        );
        let attempt = &run.steps[step].attempts[0];
        assert!(
            attempt.outcome.as_deref().unwrap_or_default().contains(why),
            "{step}: {:?}",
            attempt.outcome
        );
        assert_eq!(attempt.exit, None, "no program ran, so no exit status");
    }
}

#[test]
fn a_form_step_prints_the_values_it_saved() {
    let state = tempfile::tempdir().unwrap();
    let o = run(
        state.path(),
        None,
        &[
            "exec",
            "exec-truth",
            "form",
            "--var",
            "host_ip=10.0.0.1",
            "--var",
            "pw=hunter2",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("host_ip = 10.0.0.1"), "{out}");
    assert!(out.contains("lan_if = eth1"), "{out}");
    assert!(!out.contains("hunter2"), "a secret is never printed: {out}");
    assert!(out.contains("pw = (secret"), "{out}");
    assert!(stderr(&o).contains("done"), "{}", stderr(&o));
}

fn supervisor_pid(state: &Path) -> Option<u32> {
    let run = state_dir::read_run(&StateDir::at(state, false).run_file("exec-truth", "t1")).ok()?;
    run.steps.get("slow")?.attempts.last()?.pid
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

fn start_slow(state: &Path) -> (Child, u32) {
    let child = fieldbook(state, None, &["exec", "exec-truth", "slow"])
        .env("STUB_TICKS", "60")
        .env("STUB_SLEEP", "0.5")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        if let Some(pid) = supervisor_pid(state) {
            break pid;
        }
        assert!(Instant::now() < deadline, "no supervisor recorded");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let exec settle into following the log.
    std::thread::sleep(Duration::from_millis(300));
    (child, pid)
}

fn interrupt(child: &Child) {
    // SAFETY: signalling our own child, as Ctrl-C on its terminal would.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
}

/// The first Ctrl-C stops watching a long step and leaves it running under its supervisor
/// (exit 4, and it says so); a second Ctrl-C within 2 s cancels it.
#[test]
fn ctrl_c_on_a_long_step_stops_watching_and_twice_cancels() {
    let state = tempfile::tempdir().unwrap();
    let (child, pid) = start_slow(state.path());
    interrupt(&child);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("keeps running under its supervisor"), "{err}");
    assert!(alive(pid), "the supervisor was stopped");
    assert_eq!(
        state_of(state.path()).status("slow"),
        fieldbook::core::progress::Status::Running
    );
    // exec again follows the same supervisor; two Ctrl-Cs in a row cancel it.
    let child = fieldbook(state.path(), None, &["exec", "exec-truth", "slow"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(300));
    interrupt(&child);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cancelling"), "{}", stderr(&o));
    assert_eq!(
        state_of(state.path()).status("slow"),
        fieldbook::core::progress::Status::Cancelled
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the supervisor survived the cancel"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
