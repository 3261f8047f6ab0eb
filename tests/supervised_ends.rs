//! A long step ends the same whether fieldbook watched it to the end or found it finished
//! later: the supervisor records its verdict (which program ended the run, an `ok_output` text
//! seen) in `<log>.exit`, and `status`, `report`, a re-opened run and a re-attached app all
//! record what a direct run would (status, exit, failed program).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::pty::{App, Spawn};
use fieldbook::core::progress::{Exit, Run, Status};
use fieldbook::core::state_dir::{self, StateDir};
use fieldbook::core::store::{IfCorrupt, Store};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn checklists() -> PathBuf {
    root().join("tests/fixtures/runbooks-supervise")
}

fn path_with_stubs() -> String {
    format!(
        "{}:{}",
        root().join("tests/stubs").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A slow first program, so the app can be killed while it runs.
const SLOW: [(&str, &str); 2] = [("STUB_TICKS", "6"), ("STUB_SLEEP", "0.3")];

fn spawn_app(state: &Path, exit: &str) -> App {
    let checklists = checklists().display().to_string();
    let path = path_with_stubs();
    let mut env: Vec<(&str, &str)> = vec![
        ("TERM", "vt100"),
        ("LANG", "C.UTF-8"),
        ("PATH", path.as_str()),
        ("STUB_EXIT", exit),
    ];
    env.extend_from_slice(&SLOW);
    let args = [
        "--checklists",
        checklists.as_str(),
        "--target",
        "t1",
        "run",
        "supervise",
    ];
    App::spawn(Spawn {
        args: &args,
        env: &env,
        state: Some(state),
        ..Spawn::default()
    })
}

fn fieldbook(state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fieldbook"));
    c.env("PATH", path_with_stubs())
        .env_remove("FIELDBOOK_STATE_DIR")
        .envs(SLOW)
        .arg("--checklists")
        .arg(checklists())
        .arg("--state-dir")
        .arg(state)
        .arg("--target")
        .arg("t1")
        .args(args)
        .stdin(Stdio::null());
    c
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn run_file(state: &Path) -> PathBuf {
    StateDir::at(state, false).run_file("supervise", "t1")
}

fn saved_run(state: &Path) -> Option<Run> {
    state_dir::read_run(&run_file(state)).ok()
}

/// Waits until the step's supervisor is recorded (pid) and returns its attempt's log.
fn supervised_log(state: &Path, step: &str) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(run) = saved_run(state)
            && let Some(a) = run.steps.get(step).and_then(|s| s.attempts.last())
            && a.pid.is_some()
            && let Some(log) = &a.log
        {
            return state.join(log);
        }
        assert!(
            Instant::now() < deadline,
            "no supervisor recorded for {step}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_exit_file(log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while fieldbook::core::supervisor::read_exit(log).is_none() {
        assert!(
            Instant::now() < deadline,
            "the supervisor never wrote .exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill_9(pid: u32) {
    // SAFETY: killing a process this test spawned.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
}

/// Opens the step `down` places below the first one in the app and presses r.
fn run_step(app: &mut App, down: usize) {
    app.wait_for("Long step accepted");
    for _ in 0..down {
        app.send(b"j");
    }
    app.send(b"\r");
    app.wait_for("Why");
    app.send(b"r");
}

/// The step as `status --json` shows it.
fn status_of(state: &Path, step: &str) -> String {
    let v = json_of(
        &fieldbook(state, &["status", "supervise", "--json"])
            .output()
            .unwrap(),
    );
    let steps = v["runs"][0]["steps"].as_array().unwrap().clone();
    let s = steps.iter().find(|s| s["id"] == step).unwrap();
    s["status"].as_str().unwrap().to_string()
}

/// The step's last attempt as `report --format json` shows it.
fn reported_attempt(state: &Path, step: &str) -> serde_json::Value {
    let v = json_of(
        &fieldbook(state, &["report", "supervise", "--format", "json"])
            .output()
            .unwrap(),
    );
    let steps = v["steps"].as_array().unwrap().clone();
    let s = steps.iter().find(|s| s["id"] == step).unwrap();
    s["attempts"].as_array().unwrap().last().unwrap().clone()
}

/// Opens the run as every front end does (it reconciles and saves) and returns what it recorded.
fn reopened(state: &Path) -> Run {
    let catalog = fieldbook::core::runbook::load_str(
        "supervise.toml",
        &std::fs::read_to_string(checklists().join("supervise.toml")).unwrap(),
    )
    .unwrap();
    let store = Store::open(&StateDir::at(state, false), &catalog, "t1", IfCorrupt::Stop).unwrap();
    store.run().clone()
}

#[test]
fn an_ok_output_step_found_finished_after_kill_9_is_done() {
    let state = tempfile::tempdir().unwrap();
    let mut app = spawn_app(state.path(), "1");
    run_step(&mut app, 0);
    app.wait_for("tick 2");
    let log = supervised_log(state.path(), "ok-text");
    kill_9(app.pid());
    app.wait_exit();
    drop(app);
    // The program exits 1 but prints its ok_output text: a direct run records it done.
    wait_exit_file(&log);
    assert_eq!(status_of(state.path(), "ok-text"), "done");
    let a = reported_attempt(state.path(), "ok-text");
    assert_eq!(a["exit"]["code"], 1, "{a}");
    assert!(a.get("failed_command").is_none(), "{a}");
    // status only looked; a new fieldbook records it.
    assert_eq!(
        saved_run(state.path()).unwrap().status("ok-text"),
        Status::Running
    );
    let mut app = spawn_app(state.path(), "1");
    app.wait_for("Long step accepted");
    let deadline = Instant::now() + Duration::from_secs(30);
    while saved_run(state.path()).unwrap().status("ok-text") != Status::Done {
        assert!(Instant::now() < deadline, "the new app did not record it");
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = saved_run(state.path()).unwrap();
    let a = &run.steps["ok-text"].attempts[0];
    assert_eq!(a.exit, Some(Exit::Code(1)));
    assert_eq!(a.failed_program, None);
    assert_eq!(a.outcome.as_deref(), Some("finished (exit 1)"));
    app.send(b"q");
}

#[test]
fn a_failed_second_program_found_finished_later_records_failed_program_1() {
    let state = tempfile::tempdir().unwrap();
    let mut exec = fieldbook(state.path(), &["exec", "supervise", "two"])
        .env("STUB_EXIT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = supervised_log(state.path(), "two");
    exec.kill().unwrap(); // SIGKILL while the first program runs
    exec.wait().unwrap();
    wait_exit_file(&log);
    assert_eq!(status_of(state.path(), "two"), "failed");
    let a = reported_attempt(state.path(), "two");
    assert_eq!(a["failed_command"], 2, "{a}");
    assert_eq!(a["exit"]["code"], 1, "{a}");
    let run = reopened(state.path());
    assert_eq!(run.status("two"), Status::Failed);
    let a = &run.steps["two"].attempts[0];
    assert_eq!(
        a.failed_program,
        Some(1),
        "0-based, as a direct run records it"
    );
    assert_eq!(a.exit, Some(Exit::Code(1)));
    assert_eq!(
        a.outcome.as_deref(),
        Some("command 2 of 2 failed (exit 1): false")
    );
    // The same programs run directly (not long) record the same.
    let direct = fieldbook(state.path(), &["exec", "supervise", "two-direct"])
        .env("STUB_EXIT", "0")
        .env("STUB_TICKS", "1")
        .output()
        .unwrap();
    assert_eq!(direct.status.code(), Some(1));
    let run = saved_run(state.path()).unwrap();
    let d = &run.steps["two-direct"].attempts[0];
    assert_eq!(run.status("two-direct"), Status::Failed);
    assert_eq!(
        (d.exit, d.failed_program, &d.outcome),
        (a.exit, a.failed_program, &a.outcome)
    );
}

#[test]
fn a_reattached_app_records_which_program_failed() {
    let state = tempfile::tempdir().unwrap();
    let mut app = spawn_app(state.path(), "0");
    run_step(&mut app, 1);
    app.wait_for("tick 2");
    supervised_log(state.path(), "two");
    kill_9(app.pid());
    app.wait_exit();
    drop(app);
    let mut app = spawn_app(state.path(), "0");
    app.wait_for("re-attached");
    let deadline = Instant::now() + Duration::from_secs(30);
    let run = loop {
        if let Some(run) = saved_run(state.path())
            && run.status("two") == Status::Failed
        {
            break run;
        }
        assert!(Instant::now() < deadline, "never recorded failed");
        std::thread::sleep(Duration::from_millis(50));
    };
    let a = &run.steps["two"].attempts[0];
    assert_eq!(a.exit, Some(Exit::Code(1)));
    assert_eq!(a.failed_program, Some(1));
    assert_eq!(
        a.outcome.as_deref(),
        Some("command 2 of 2 failed (exit 1): false")
    );
    app.wait_for("command 2 of 2 failed");
    app.send(b"q");
}
