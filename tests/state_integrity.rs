//! The record never believes what is not its own (issue 17): a verdict belongs to its own
//! attempt (item 3), a supervisor is known by pid, start time and nonce and a killed one's
//! program is found before a retry (item 10), and the state directory is checked before it is
//! trusted (item 11). Real supervisors (this build's binary) and real processes throughout.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fieldbook::core::progress::{Exit, Status};
use fieldbook::core::runbook::{self, Runbook};
use fieldbook::core::runner::{self, Command, RunEvent, RunOutcome, RunningStep, StepJob};
use fieldbook::core::state_dir::{self, StateDir};
use fieldbook::core::store::{IfCorrupt, Reconciled, Store};
use fieldbook::core::supervisor;

mod common;

const TARGET: &str = "box1";

fn rb() -> Runbook {
    runbook::load_str(
        "integrity.toml",
        "id = \"integrity\"\ntitle = \"Integrity\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n\
         [[section.step]]\nid = \"build\"\ntitle = \"Build\"\nwhy = \"w\"\nkind = \"command\"\n\
         commands = [[\"true\"]]\n",
    )
    .expect("runbook")
}

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fieldbook"))
}

fn sh(script: &str) -> StepJob {
    StepJob {
        commands: vec![Command {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: Vec::new(),
        }],
        expect: vec![0],
        ok_output: Vec::new(),
        shows: Vec::new(),
    }
}

fn wait_finished(step: RunningStep, limit: Duration) -> RunOutcome {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match step.events.recv_timeout(Duration::from_millis(100)) {
            Ok(RunEvent::Finished(outcome)) => return outcome,
            Ok(_) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    panic!("the step did not finish within {limit:?}");
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, r)| r.split_whitespace().next().map(str::to_string));
    matches!(state.as_deref(), Some(s) if s != "Z" && s != "X")
}

/// Kills a process group, whatever happens to the test (no orphans left behind).
struct GroupGuard(u32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // SAFETY: killpg only sends a signal.
        unsafe {
            libc::killpg(self.0 as i32, libc::SIGKILL);
        }
    }
}

/// Item 3: after an unreadable state file and a fresh run, the old attempt's `<log>.exit`
/// ("code 0") is not the new attempt's verdict: the real program fails later with exit 1.
#[test]
fn a_fresh_run_never_reads_an_old_attempts_exit_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let old = s.start("build").unwrap();
    let file = s.file().to_path_buf();
    drop(s);
    // The old attempt's supervisor ended well; then the state file became unreadable.
    std::fs::write(state_dir::exit_file(&old.log), "code 0\n").unwrap();
    std::fs::write(&file, "not = [toml").unwrap();
    assert!(Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).is_err());
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::StartFresh).unwrap();
    let new = s.start("build").unwrap();
    assert_ne!(
        new.log, old.log,
        "a new attempt must not reuse an old attempt's paths"
    );
    let pid = supervisor::launch(&exe(), &sh("sleep 0.5; exit 1"), &new.log).unwrap();
    let _guard = GroupGuard(pid);
    s.set_pid("build", pid).unwrap();
    let outcome = wait_finished(
        supervisor::watch(pid, new.log.clone(), None),
        Duration::from_secs(20),
    );
    assert_eq!(outcome.status, Status::Failed, "{outcome:?}");
    assert_eq!(outcome.exit, Some(Exit::Code(1)));
}

/// Item 3: an exit file written for another attempt at this attempt's path is not believed
/// when the run is opened again.
#[test]
fn an_exit_file_of_another_attempt_is_not_this_attempts_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let started = s.start("build").unwrap();
    let gone = std::process::Command::new("true").spawn().unwrap().id();
    s.set_pid("build", gone).unwrap();
    drop(s);
    std::fs::write(
        state_dir::exit_file(&started.log),
        "code 0\nverdict done\nattempt 0123456789abcdef\n",
    )
    .unwrap();
    let s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    assert_eq!(s.run().status("build"), Status::Interrupted);
}

/// Item 10: a supervisor killed with SIGKILL leaves its program running; the step is not
/// blamed on a kill or a reboot alone, and a retry is refused while the program runs.
#[test]
fn a_killed_supervisors_program_is_found_before_a_retry() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let started = s.start("build").unwrap();
    let job = sh("echo started; sleep 30");
    let pid = supervisor::launch(&exe(), &job, &started.log).unwrap();
    let _guard = GroupGuard(pid);
    s.set_pid("build", pid).unwrap();
    wait_for("the program to start", Duration::from_secs(20), || {
        std::fs::read_to_string(&started.log).is_ok_and(|l| l.contains("started"))
    });
    // SAFETY: kill only sends a signal to the supervisor we started.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    wait_for("the supervisor to end", Duration::from_secs(10), || {
        !alive(pid)
    });
    drop(s);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    assert_eq!(s.run().status("build"), Status::Interrupted);
    let outcome = s.run().steps["build"].attempts[0].outcome.clone();
    assert!(
        outcome
            .as_deref()
            .is_some_and(|o| o.contains("still running")),
        "{outcome:?}"
    );
    let retry = s.start("build");
    assert!(
        retry
            .as_ref()
            .is_err_and(|e| e.to_string().contains("still running")),
        "a retry must not start a second copy: {retry:?}"
    );
    let stopped = s.stop_orphans("build", Duration::from_millis(500));
    assert!(!stopped.is_empty());
    s.start("build").expect("retry once the program is stopped");
}

/// Item 10: an attempt that ran on a host over ssh (`<log>.remote`) is never judged by this
/// machine's processes: a local orphaned group that happens to carry its pid number is not its
/// program, so it neither blocks a retry nor is stopped.
#[test]
fn a_hosts_attempt_is_never_judged_by_this_machines_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let started = s.start("build").unwrap();
    // A local group left behind by a killed supervisor...
    let pid = supervisor::launch(&exe(), &sh("echo started; sleep 30"), &started.log).unwrap();
    let _guard = GroupGuard(pid);
    s.set_pid("build", pid).unwrap();
    wait_for("the program to start", Duration::from_secs(20), || {
        std::fs::read_to_string(&started.log).is_ok_and(|l| l.contains("started"))
    });
    // SAFETY: kill only sends a signal to the supervisor we started.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    wait_for("the supervisor to end", Duration::from_secs(10), || {
        !alive(pid)
    });
    drop(s);
    let s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    assert_eq!(s.run().status("build"), Status::Interrupted);
    let local = s.orphans("build");
    assert!(!local.is_empty(), "the local group is there");
    drop(s);
    // ...but the attempt is recorded as one that ran on a host.
    let mut sidecar = started.log.clone().into_os_string();
    sidecar.push(".remote");
    std::fs::write(
        &sidecar,
        format!("{{\"destination\":\"fb@gw\",\"dir\":\"/var/tmp/x\",\"pid\":{pid}}}"),
    )
    .unwrap();
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    assert_eq!(s.run().status("build"), Status::Interrupted);
    assert_eq!(s.orphans("build"), Vec::<u32>::new());
    assert_eq!(
        s.stop_orphans("build", Duration::from_millis(100)),
        Vec::<u32>::new()
    );
    assert!(
        local.iter().all(|p| alive(*p)),
        "a local process was stopped"
    );
    s.start("build")
        .expect("a retry is not blocked by a local group");
}

/// Item 10: a dead supervisor's pid now belongs to another run's supervisor. The dead step
/// must not look running, and cancelling it must not touch the other run's program.
#[test]
fn a_recycled_pid_is_neither_running_nor_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    // Run B: a real supervisor running a long program.
    let dir_b = StateDir::at(tmp.path().join("b"), false);
    let mut b = Store::open(&dir_b, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let started_b = b.start("build").unwrap();
    let pid_b = supervisor::launch(&exe(), &sh("echo started; sleep 30"), &started_b.log).unwrap();
    let _guard = GroupGuard(pid_b);
    b.set_pid("build", pid_b).unwrap();
    wait_for("run B's program", Duration::from_secs(20), || {
        std::fs::read_to_string(&started_b.log).is_ok_and(|l| l.contains("started"))
    });
    // Run A: its supervisor is dead and its recorded pid is B's (the kernel reused it).
    let dir_a = StateDir::at(tmp.path().join("a"), false);
    let mut a = Store::open(&dir_a, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let started_a = a.start("build").unwrap();
    let file_a = a.file().to_path_buf();
    drop(a);
    let text = std::fs::read_to_string(&file_a).unwrap();
    let text = text.replace("who = ", &format!("pid = {pid_b}\nwho = "));
    std::fs::write(&file_a, text).unwrap();
    let a = Store::open(&dir_a, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    assert!(a.live_steps().is_empty(), "{:?}", a.live_steps());
    assert!(
        !matches!(a.reconciled().first(), Some(Reconciled::Live(_))),
        "{:?}",
        a.reconciled()
    );
    drop(a);
    // Watching and cancelling A's step (as a stale screen would) leaves B's program alone.
    let watch = supervisor::watch(pid_b, started_a.log.clone(), None);
    watch.cancel.cancel();
    std::thread::sleep(Duration::from_millis(500));
    assert!(alive(pid_b), "run B's supervisor was killed");
    let log_b = std::fs::read_to_string(&started_b.log).unwrap();
    assert!(
        supervisor::read_exit(&started_b.log).is_none(),
        "run B's program was stopped: {log_b}"
    );
}

/// Item 11: a state directory owned by another user is refused.
#[test]
fn a_state_dir_of_another_user_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    std::fs::create_dir(&root).unwrap();
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    let other = if me == 0 { 65534 } else { 0 };
    if me == 0 {
        std::os::unix::fs::chown(&root, Some(other), Some(other)).unwrap();
    }
    let dir = StateDir::at(if me == 0 { root.clone() } else { "/".into() }, false);
    let err = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("refusing the state directory"), "{text}");
    assert!(text.contains(&format!("uid {other}")), "{text}");
}

/// Item 11: a state directory others may write to is refused.
#[test]
fn a_state_dir_others_may_write_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
    let dir = StateDir::at(&root, false);
    let err = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap_err();
    assert!(err.to_string().contains("other users may write"), "{err}");
    // A runs/ directory that is a link is refused too.
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, root.join("runs")).unwrap();
    let err = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
}

/// Item 11: files in the state directory are never opened through a link planted there.
#[test]
fn a_link_planted_in_the_state_dir_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path().join("state"), false);
    dir.ensure().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let victim_new = tmp.path().join("victim-new");
    std::os::unix::fs::symlink(&victim, dir.journal_file("integrity", TARGET)).unwrap();
    std::os::unix::fs::symlink(&victim_new, dir.lock_file("integrity", TARGET)).unwrap();
    let _ = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!victim_new.exists(), "a file was created through a link");
}

/// Item 11: attempt logs are owner-only (0600), as the README promises.
#[test]
fn attempt_logs_are_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let direct = s.start("build").unwrap();
    let outcome = wait_finished(
        runner::start(
            sh("echo secret-ish output"),
            direct.log.clone(),
            Default::default(),
        ),
        Duration::from_secs(20),
    );
    assert_eq!(outcome.status, Status::Done);
    s.finish("build", Exit::Code(0), true).unwrap();
    let supervised = s.start("build").unwrap();
    let pid = supervisor::launch(&exe(), &sh("echo hi"), &supervised.log).unwrap();
    let _guard = GroupGuard(pid);
    wait_finished(
        supervisor::watch(pid, supervised.log.clone(), None),
        Duration::from_secs(20),
    );
    for log in [&direct.log, &supervised.log] {
        let mode = std::fs::metadata(log).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", log.display());
    }
}

/// Item 11: the read-only `status` and `report` refuse an untrusted state directory too (exit 1,
/// the reason on stderr): one others may write, and links planted as `runs/`, `archive/` or
/// `locks/`.
#[test]
fn status_and_report_refuse_an_untrusted_state_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("state");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("runs")).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(exe())
            .arg("--state-dir")
            .arg(&root)
            .args(args)
            .output()
            .unwrap()
    };
    let refused = |why: &str| {
        for args in [&["status"][..], &["report", "xen4-migration"][..]] {
            let out = run(args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} ({why}): {err}");
            assert!(
                err.contains("refusing the state directory") && err.contains(why),
                "{args:?}: {err}"
            );
        }
    };
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
    refused("other users may write");
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
    for part in ["runs", "archive", "locks"] {
        let link = root.join(part);
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        refused("symbolic link");
        std::fs::remove_file(&link).unwrap();
    }
    std::fs::create_dir(root.join("archive")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, root.join("archive/runs")).unwrap();
    refused("symbolic link");
    std::fs::remove_file(root.join("archive/runs")).unwrap();
    // A trusted directory is read as before.
    let out = run(&["status"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Item 10: `fieldbook exec` refuses to retry a step whose killed supervisor left its program
/// running, naming `--stop-orphans`; with the flag it stops that program and runs the step.
#[test]
fn exec_stops_an_orphaned_program_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let books = tmp.path().join("books");
    std::fs::create_dir(&books).unwrap();
    std::fs::write(
        books.join("integrity.toml"),
        "id = \"integrity\"\ntitle = \"Integrity\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n\
         [[section.step]]\nid = \"build\"\ntitle = \"Build\"\nwhy = \"w\"\nkind = \"command\"\n\
         commands = [[\"true\"]]\n",
    )
    .unwrap();
    let dir = StateDir::at(&state, false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let started = s.start("build").unwrap();
    let pid = supervisor::launch(&exe(), &sh("echo started; sleep 30"), &started.log).unwrap();
    let _guard = GroupGuard(pid);
    s.set_pid("build", pid).unwrap();
    wait_for("the program to start", Duration::from_secs(20), || {
        std::fs::read_to_string(&started.log).is_ok_and(|l| l.contains("started"))
    });
    let program = s.orphans("build");
    // SAFETY: kill only sends a signal to the supervisor we started.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    wait_for("the supervisor to end", Duration::from_secs(10), || {
        !alive(pid)
    });
    drop(s);
    let exec = |extra: &[&str]| {
        std::process::Command::new(exe())
            .arg("--checklists")
            .arg(&books)
            .arg("--state-dir")
            .arg(&state)
            .args(["--target", TARGET, "exec", "integrity", "build"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = exec(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("still running") && err.contains("--stop-orphans"),
        "{err}"
    );
    let dir_after = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let orphans = dir_after.orphans("build");
    assert!(
        !orphans.is_empty(),
        "the refusal must leave the program alone"
    );
    drop(dir_after);
    let out = exec(&["--stop-orphans"]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("stopped the program"), "{text}");
    for p in orphans.iter().chain(&program) {
        wait_for("the orphan to end", Duration::from_secs(10), || !alive(*p));
    }
    let s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    assert_eq!(s.run().status("build"), Status::Done);
    // What was stopped is in the record, as the app records it.
    assert!(
        s.run().steps["build"].notes.iter().any(|n| n
            .text
            .contains("stopped the program a killed supervisor left running")),
        "{:?}",
        s.run().steps["build"].notes
    );
}

/// Issue 17 item 10 in the app: a retry of a step whose killed supervisor left its program
/// running offers to stop that program, asks first, stops it on yes, records what was done on
/// the step, and the retry then runs.
#[test]
fn the_app_offers_to_stop_an_orphaned_program_and_records_it() {
    use common::pty::{App, Spawn};
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let books = tmp.path().join("books");
    std::fs::create_dir(&books).unwrap();
    std::fs::write(
        books.join("integrity.toml"),
        "id = \"integrity\"\ntitle = \"Integrity\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n\
         [[section.step]]\nid = \"build\"\ntitle = \"Build\"\nwhy = \"w\"\nkind = \"command\"\n\
         commands = [[\"true\"]]\n",
    )
    .unwrap();
    let dir = StateDir::at(&state, false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let started = s.start("build").unwrap();
    let pid = supervisor::launch(&exe(), &sh("echo started; sleep 30"), &started.log).unwrap();
    let _guard = GroupGuard(pid);
    s.set_pid("build", pid).unwrap();
    wait_for("the program to start", Duration::from_secs(20), || {
        std::fs::read_to_string(&started.log).is_ok_and(|l| l.contains("started"))
    });
    // SAFETY: kill only sends a signal to the supervisor we started.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    wait_for("the supervisor to end", Duration::from_secs(10), || {
        !alive(pid)
    });
    drop(s);
    let books_arg = books.display().to_string();
    let mut app = App::spawn(Spawn {
        args: &[
            "--checklists",
            &books_arg,
            "--target",
            TARGET,
            "run",
            "integrity",
        ],
        state: Some(&state),
        ..Spawn::default()
    });
    let flat = |s: &[String]| {
        s.iter()
            .map(|l| l.replace(['|', '+'], " "))
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    app.wait_for("Integrity");
    app.send(b"\r");
    app.wait_for("Build");
    app.send(b"r");
    app.wait_until(|s| flat(s).contains("Stop it now?"), "the offer to stop it");
    let orphans = {
        // The app holds the run: read its state file.
        let run = state_dir::read_run(&dir.run_file("integrity", TARGET)).unwrap();
        assert_eq!(run.status("build"), Status::Interrupted);
        assert_eq!(
            run.steps["build"].attempts.len(),
            1,
            "nothing started beside it"
        );
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| {
                let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
                stat.rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().nth(2).map(str::to_string))
                    == Some(pid.to_string())
                    && alive(*p)
            })
            .collect::<Vec<u32>>()
    };
    assert!(
        !orphans.is_empty(),
        "the question must leave the program alone"
    );
    app.send(b"y");
    app.wait_until(|s| flat(s).contains("Stopped pid"), "the program stopped");
    for p in &orphans {
        wait_for("the orphan to end", Duration::from_secs(10), || !alive(*p));
    }
    let run = state_dir::read_run(&dir.run_file("integrity", TARGET)).unwrap();
    let notes: Vec<&str> = run.steps["build"]
        .notes
        .iter()
        .map(|n| n.text.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("stopped the program a killed supervisor left running")),
        "{notes:?}"
    );
    app.send(b"r");
    wait_for(
        "the retry to be recorded done",
        Duration::from_secs(20),
        || {
            state_dir::read_run(&dir.run_file("integrity", TARGET))
                .is_ok_and(|r| r.status("build") == Status::Done)
        },
    );
    // Output, step, runbook, list, then quit.
    for _ in 0..4 {
        app.send(b"q");
    }
    assert!(app.wait_exit().success());
}
