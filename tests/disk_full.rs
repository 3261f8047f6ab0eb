//! A full disk is said plainly (issue 17, item 13), on a real small tmpfs the test mounts (it
//! needs root): the step's log says where it was cut, the outcome is saved at once (in
//! fieldbook's reserve space) instead of being lost, a long step's supervisor records its real
//! exit instead of being blamed later on a kill or a reboot, and the status says "disk full".

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use fieldbook::core::progress::{Exit, Status};
use fieldbook::core::runbook::{self, Runbook};
use fieldbook::core::runner::{self, Command, RunEvent, RunOutcome, RunningStep, StepJob};
use fieldbook::core::state_dir::StateDir;
use fieldbook::core::store::{IfCorrupt, Store};
use fieldbook::core::supervisor;

mod common;
use common::skip::{is_root, skip};

const TARGET: &str = "box1";

fn rb() -> Runbook {
    runbook::load_str(
        "full.toml",
        "id = \"full\"\ntitle = \"Full\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n\
         [[section.step]]\nid = \"build\"\ntitle = \"Build\"\nwhy = \"w\"\nkind = \"command\"\n\
         commands = [[\"true\"]]\n",
    )
    .expect("runbook")
}

/// A tmpfs of `size` mounted over a fresh directory, unmounted when dropped.
struct SmallDisk {
    _dir: tempfile::TempDir,
    mount: PathBuf,
}

impl SmallDisk {
    /// `None` (the test says why and passes) when not root, unless FIELDBOOK_ACCEPTANCE=require.
    fn mount(size: &str) -> Option<SmallDisk> {
        if !is_root() {
            return skip("disk_full", "mounting a small tmpfs needs root");
        }
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("disk");
        std::fs::create_dir(&mount).unwrap();
        let status = Process::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("tmpfs")
            .arg(&mount)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed");
        Some(SmallDisk { _dir: dir, mount })
    }

    /// Fills the disk with a file (until the write fails).
    fn fill(&self, name: &str) {
        let _ = Process::new("dd")
            .args(["if=/dev/zero", "bs=64k"])
            .arg(format!("of={}", self.mount.join(name).display()))
            .stderr(std::process::Stdio::null())
            .status();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Process::new("umount").arg("-l").arg(&self.mount).status();
    }
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

/// Runs a step to its end, returning its notices and outcome.
fn finish(step: RunningStep, limit: Duration) -> (Vec<String>, RunOutcome) {
    let deadline = Instant::now() + limit;
    let mut notices = Vec::new();
    while Instant::now() < deadline {
        match step.events.recv_timeout(Duration::from_millis(100)) {
            Ok(RunEvent::Finished(outcome)) => return (notices, outcome),
            Ok(RunEvent::Notice(n)) => notices.push(n),
            Ok(_) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    panic!("the step did not finish within {limit:?}");
}

/// A program that fills the disk through its own output, then fails with exit 3.
const FLOODS: &str = "yes 'a line of build output' | head -c 20000000; exit 3";

fn log_tail(log: &Path) -> String {
    let bytes = std::fs::read(log).unwrap();
    let start = bytes.len().saturating_sub(300);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

#[test]
fn a_direct_steps_log_says_where_the_full_disk_cut_it() {
    let Some(disk) = SmallDisk::mount("2m") else {
        return;
    };
    let dir = StateDir::at(&disk.mount, false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let started = s.start("build").unwrap();
    let (notices, outcome) = finish(
        runner::start(sh(FLOODS), started.log.clone(), Default::default()),
        Duration::from_secs(60),
    );
    assert_eq!(outcome.exit, Some(Exit::Code(3)));
    assert!(
        notices
            .iter()
            .any(|n| n.contains("the log is cut at byte") && n.contains("the disk is full")),
        "{notices:?}"
    );
    let tail = log_tail(&started.log);
    assert!(
        tail.contains("[fieldbook: the log was cut here, at byte")
            && tail.contains("the disk is full"),
        "{tail}"
    );
    // The outcome is saved at once, and the status says why the disk matters.
    s.end_with("build", Exit::Code(3), false, Some(0), &outcome.message)
        .expect("the outcome must be saved, not only kept in memory");
    drop(s);
    let s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    assert_eq!(s.run().status("build"), Status::Failed);
}

#[test]
fn a_save_on_a_full_disk_is_kept_on_disk_and_the_status_says_disk_full() {
    let Some(disk) = SmallDisk::mount("2m") else {
        return;
    };
    let dir = StateDir::at(&disk.mount, false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    disk.fill("filler");
    s.note("build", "written on a full disk")
        .expect("the change must be saved, not only kept in memory");
    let problem = s.save_problem().unwrap_or_default();
    assert!(problem.contains("disk full"), "{problem:?}");
    drop(s);
    let s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    assert_eq!(s.run().steps["build"].notes.len(), 1);
}

#[test]
fn a_long_step_on_a_full_disk_records_its_real_exit() {
    let Some(disk) = SmallDisk::mount("2m") else {
        return;
    };
    let dir = StateDir::at(&disk.mount, false);
    let mut s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    let started = s.start("build").unwrap();
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_fieldbook"));
    let pid = supervisor::launch(&exe, &sh(FLOODS), &started.log).unwrap();
    s.set_pid("build", pid).unwrap();
    drop(s);
    let (_, outcome) = finish(
        supervisor::watch(pid, started.log.clone(), None),
        Duration::from_secs(60),
    );
    assert_eq!(outcome.status, Status::Failed, "{outcome:?}");
    assert_eq!(outcome.exit, Some(Exit::Code(3)));
    assert!(outcome.message.contains("the disk was full"), "{outcome:?}");
    assert!(
        log_tail(&started.log).contains("the disk is full; this log may be cut"),
        "{}",
        log_tail(&started.log)
    );
    // Opened later, the run records the real exit, not "killed, or the machine rebooted".
    let s = Store::open(&dir, &rb(), TARGET, IfCorrupt::Stop).unwrap();
    assert_eq!(s.run().status("build"), Status::Failed);
    let a = &s.run().steps["build"].attempts[0];
    assert_eq!(a.exit, Some(Exit::Code(3)));
    assert!(
        a.outcome.as_deref().is_some_and(|o| o.contains("disk")),
        "{:?}",
        a.outcome
    );
}

#[test]
fn exec_on_a_full_disk_saves_the_outcome_and_says_disk_full() {
    let Some(disk) = SmallDisk::mount("2m") else {
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let exec = |step: &str| {
        Process::new(env!("CARGO_BIN_EXE_fieldbook"))
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    root.join("tests/stubs").display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("STUB_LOG", "/dev/null")
            .env_remove("FIELDBOOK_STATE_DIR")
            .arg("--checklists")
            .arg(root.join("tests/fixtures/runbooks"))
            .arg("--state-dir")
            .arg(&disk.mount)
            .args(["--target", "web1", "exec", "runner-test", step])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let first = exec("sync");
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    disk.fill("filler");
    let o = exec("yum-clean");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("the log is cut at byte"), "{err}");
    assert!(err.contains("disk full"), "{err}");
    // The outcome is on disk, not only in the memory of a process that has ended.
    let dir = StateDir::at(&disk.mount, false);
    let run = fieldbook::core::state_dir::read_run(&dir.run_file("runner-test", "web1")).unwrap();
    assert_eq!(run.status("yum-clean"), Status::Done);
}
