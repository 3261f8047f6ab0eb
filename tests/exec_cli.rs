//! `fieldbook exec` and `fieldbook auto` as a technician runs them: exit codes, recorded
//! progress and logs, the supervisor of long steps, practice mode.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Env {
    state: tempfile::TempDir,
    argv_log: PathBuf,
}

impl Env {
    fn new() -> Env {
        let state = tempfile::tempdir().unwrap();
        let argv_log = state.path().join("argv.log");
        Env { state, argv_log }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fieldbook"));
        let path = format!(
            "{}:{}",
            root().join("tests/stubs").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env("PATH", path)
            .env("STUB_LOG", &self.argv_log)
            .env_remove("FIELDBOOK_STATE_DIR")
            .arg("--checklists")
            .arg(root().join("tests/fixtures/runbooks"))
            .arg("--state-dir")
            .arg(self.state.path())
            .arg("--target")
            .arg("web1")
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn run_file(&self, practice: bool) -> PathBuf {
        fieldbook::core::state_dir::StateDir::at(self.state.path(), practice)
            .run_file("runner-test", "web1")
    }

    fn state_json(&self, practice: bool) -> serde_json::Value {
        let run = fieldbook::core::state_dir::read_run(&self.run_file(practice)).unwrap();
        serde_json::to_value(run).unwrap()
    }

    fn recorded(&self) -> String {
        std::fs::read_to_string(&self.argv_log)
            .unwrap_or_default()
            .replace(['\x1f'], " ")
            .replace("\x1e\n", "\n")
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn exec_runs_records_and_logs() {
    let env = Env::new();
    let o = env.run(&["exec", "runner-test", "yum-clean"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("$ yum clean all"));
    assert!(out.contains("Cleaning up Everything"));
    assert!(out.contains("Complete!"));
    assert_eq!(env.recorded(), "yum clean all\nyum -y update\n");
    let state = env.state_json(false);
    let step = &state["steps"]["yum-clean"];
    assert_eq!(step["status"], "done");
    let attempt = &step["attempts"][0];
    assert_eq!(attempt["exit"]["code"], 0);
    let log = env.state.path().join(attempt["log"].as_str().unwrap());
    assert_eq!(
        log,
        env.state
            .path()
            .join("logs/runner-test@web1/yum-clean.1.log")
    );
    let log_text = std::fs::read_to_string(log).unwrap();
    assert!(log_text.starts_with("Loaded plugins: fastestmirror\nCleaning up Everything\n"));
}

#[test]
fn exec_failure_exits_1_and_records_it() {
    let env = Env::new();
    let o = env
        .cmd(&["exec", "runner-test", "sync"])
        .env("STUB_EXIT", "4")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("exit 4"), "{}", stderr(&o));
    let state = env.state_json(false);
    assert_eq!(state["steps"]["sync"]["status"], "failed");
    assert_eq!(state["steps"]["sync"]["attempts"][0]["exit"]["code"], 4);
    // A retry is a second attempt with its own log.
    let o = env.run(&["exec", "runner-test", "sync"]);
    assert_eq!(code(&o), 0);
    let state = env.state_json(false);
    assert_eq!(state["steps"]["sync"]["status"], "done");
    assert_eq!(
        state["steps"]["sync"]["attempts"][1]["log"],
        "logs/runner-test@web1/sync.2.log"
    );
}

#[test]
fn exec_usage_errors_exit_2_and_name_the_problem() {
    let env = Env::new();
    let o = env.run(&["exec", "nosuch", "sync"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown runbook 'nosuch'"));
    let o = env.run(&["exec", "runner-test", "nosuch"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no step 'nosuch'"));
    let o = env.run(&["exec", "runner-test", "counted"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("needs variable 'count'"),
        "{}",
        stderr(&o)
    );
    let o = env.run(&["exec", "runner-test", "counted", "--var", "count=70000"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("variable 'count'"), "{}", stderr(&o));
    let o = env.run(&["exec", "runner-test", "sync", "--var", "colour=red"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no variable 'colour'"));
    assert_eq!(env.recorded(), "", "nothing may run on a usage error");
}

#[test]
fn exec_refuses_steps_that_need_the_terminal() {
    let env = Env::new();
    for (step, why) in [
        ("look", "manual"),
        ("merge", "interactive"),
        ("depclean", "--yes"),
    ] {
        let o = env.run(&["exec", "runner-test", step]);
        assert_eq!(code(&o), 3, "{step}");
        assert!(stderr(&o).contains(why), "{step}: {}", stderr(&o));
        // It says exactly how to get there.
        assert!(
            stderr(&o).contains("fieldbook run runner-test"),
            "{step}: {}",
            stderr(&o)
        );
    }
    assert_eq!(env.recorded(), "");
    let o = env.run(&["exec", "runner-test", "depclean", "--yes"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(env.recorded(), "emerge --depclean\n");
}

/// An interactive step whose check says it is done needs nobody: `exec` runs the check
/// first (as the app does before handing over the terminal), records the step done and runs
/// nothing; without a check, or when the check says not done, it still needs the app.
#[test]
fn exec_of_an_interactive_step_runs_its_check_first() {
    let env = Env::new();
    let o = env.run(&["exec", "runner-test", "merge-checked"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("already done: `test -d /` succeeded"),
        "{}",
        stderr(&o)
    );
    assert_eq!(env.recorded(), "", "etc-update never ran");
    let state = env.state_json(false);
    assert_eq!(state["steps"]["merge-checked"]["status"], "done", "{state}");
    let o = env.run(&["exec", "runner-test", "merge"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("interactive"), "{}", stderr(&o));
}

#[test]
fn exec_names_a_missing_program() {
    let env = Env::new();
    let o = env
        .cmd(&["exec", "runner-test", "yum-clean"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let e = stderr(&o);
    assert!(e.contains("'yum' was not found"), "{e}");
    assert!(e.contains("PATH (/nonexistent)"), "{e}");
    assert!(e.contains("--practice"), "{e}");
}

#[test]
fn practice_runs_nothing_and_is_stored_apart() {
    let env = Env::new();
    let o = env.run(&["--practice", "exec", "runner-test", "yum-clean"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Cleaning up Everything"));
    assert!(stderr(&o).contains("PRACTICE"));
    assert_eq!(env.recorded(), "", "practice must not execute anything");
    let practice = env.state_json(true);
    assert_eq!(practice["steps"]["yum-clean"]["status"], "done");
    assert_eq!(practice["practice"], true);
    assert!(!env.run_file(false).exists());
}

fn supervisor_pid(env: &Env, step: &str) -> Option<u32> {
    let run = fieldbook::core::state_dir::read_run(&env.run_file(false)).ok()?;
    let v = serde_json::to_value(run).ok()?;
    v["steps"][step]["attempts"][0]["pid"]
        .as_u64()
        .map(|p| p as u32)
}

#[test]
fn a_long_step_survives_the_death_of_exec() {
    let env = Env::new();
    let mut child = env
        .cmd(&["exec", "runner-test", "world"])
        .env("STUB_TICKS", "4")
        .env("STUB_SLEEP", "0.5")
        .env("STUB_EXIT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        if let Some(pid) = supervisor_pid(&env, "world") {
            break pid;
        }
        assert!(Instant::now() < deadline, "no supervisor recorded");
        std::thread::sleep(Duration::from_millis(20));
    };
    // The UI dies hard (kill -9); the step must carry on and record its exit.
    child.kill().unwrap();
    child.wait().unwrap();
    let run = fieldbook::core::state_dir::read_run(&env.run_file(false)).unwrap();
    let attempt = run.steps["world"].attempts.last().unwrap();
    assert_eq!(attempt.pid, Some(pid));
    assert!(fieldbook::core::exec::is_alive(attempt));
    let log = env.state.path().join("logs/runner-test@web1/world.1.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    while fieldbook::core::supervisor::read_exit(&log).is_none() {
        assert!(
            Instant::now() < deadline,
            "the supervisor never wrote .exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        fieldbook::core::supervisor::read_exit(&log),
        Some(fieldbook::core::progress::Exit::Code(0))
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "tick 1\ntick 2\ntick 3\ntick 4\nslow: finished\n"
    );
    // The run still says running with the supervisor's pid, for the app to reconcile.
    let state = env.state_json(false);
    assert_eq!(state["steps"]["world"]["status"], "running");
    assert_eq!(state["steps"]["world"]["attempts"][0]["pid"], pid);
}

#[test]
fn a_long_step_records_a_real_failure() {
    let env = Env::new();
    let o = env
        .cmd(&["exec", "runner-test", "world"])
        .env("STUB_TICKS", "1")
        .env("STUB_SLEEP", "0")
        .env("STUB_EXIT", "7")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("slow: finished"));
    let state = env.state_json(false);
    assert_eq!(state["steps"]["world"]["status"], "failed");
    assert_eq!(state["steps"]["world"]["attempts"][0]["exit"]["code"], 7);
}

#[test]
fn ctrl_c_cancels_a_running_step() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let mut c = env.cmd(&["exec", "runner-test", "hang"]);
    c.env("STUB_PIDS", &pids)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&pids).map_or(true, |s| s.trim().is_empty()) {
        assert!(Instant::now() < deadline, "stub never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(
        env.state_json(false)["steps"]["hang"]["status"],
        "cancelled"
    );
}

#[test]
fn auto_runs_forward_and_stops_where_a_person_is_needed() {
    let env = Env::new();
    let o = env
        .cmd(&["auto", "runner-test", "--var", "count=161"])
        .env("STUB_TICKS", "1")
        .env("STUB_SLEEP", "0")
        .output()
        .unwrap();
    // sync, install, yum-clean, counted run; world (long) runs; merge is interactive: stop.
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("stopped at 'merge'"), "{e}");
    assert!(e.contains("interactive"), "{e}");
    let state = env.state_json(false);
    for step in ["sync", "install", "yum-clean", "counted", "world"] {
        assert_eq!(state["steps"][step]["status"], "done", "{step}");
    }
    let rec = env.recorded();
    assert!(
        rec.starts_with("emerge --sync\nemerge --oneshot app-misc/hello\n"),
        "{rec}"
    );
}

#[test]
fn auto_stops_at_a_failure() {
    let env = Env::new();
    let o = env
        .cmd(&["auto", "runner-test"])
        .env("STUB_EXIT", "1")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("stopped at 'sync'"), "{}", stderr(&o));
    assert_eq!(env.recorded(), "emerge --sync\n");
}

#[test]
fn exec_applies_an_edit_step_with_a_backup() {
    let env = Env::new();
    let root = tempfile::tempdir().unwrap();
    let conf = root.path().join("etc/portage/make.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(&conf, "CFLAGS=\"-O2\"\n").unwrap();
    let root_arg = root.path().to_str().unwrap();
    let o = env.run(&[
        "--practice",
        "--root",
        root_arg,
        "exec",
        "runner-test",
        "conf",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("+FEATURES=\"buildpkg\""));
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "CFLAGS=\"-O2\"\n");
    let o = env.run(&["--root", root_arg, "exec", "runner-test", "conf"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "CFLAGS=\"-O2\"\nFEATURES=\"buildpkg\"\n"
    );
    let state = env.state_json(false);
    assert_eq!(state["steps"]["conf"]["status"], "done");
    assert_eq!(state["edits"][0]["step"], "conf");
    // Again: already applied, nothing changes.
    let o = env.run(&["--root", root_arg, "exec", "runner-test", "conf"]);
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).contains("already applied"), "{}", stderr(&o));
}

#[test]
fn practice_plays_interactive_steps_too() {
    let env = Env::new();
    let o = env.run(&["--practice", "exec", "runner-test", "merge"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Scanning Configuration files..."));
    assert_eq!(env.recorded(), "");
}

/// Issue 17 item 16: a file the app would ask about (a symbolic link) makes `exec` exit 3,
/// "needs the app", not 1, and nothing is written through the link.
#[test]
fn exec_exits_3_on_a_symlinked_file_the_app_would_ask_about() {
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("books");
    std::fs::create_dir_all(&books).unwrap();
    std::fs::create_dir_all(dir.path().join("root/etc")).unwrap();
    std::fs::write(dir.path().join("real.conf"), "a\n").unwrap();
    std::os::unix::fs::symlink("../../real.conf", dir.path().join("root/etc/app.conf")).unwrap();
    std::fs::write(
        books.join("link.toml"),
        "id = \"link\"\ntitle = \"L\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.step]]\nid = \"e\"\ntitle = \"E\"\nwhy = \"w\"\nkind = \"edit\"\n[[section.step.edit]]\npath = \"/etc/app.conf\"\naction = \"ensure_line\"\nline = \"b\"\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env_remove("FIELDBOOK_STATE_DIR")
        .arg("--checklists")
        .arg(&books)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--root")
        .arg(dir.path().join("root"))
        .args(["exec", "link", "e", "--yes"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("real.conf")).unwrap(),
        "a\n"
    );
}
