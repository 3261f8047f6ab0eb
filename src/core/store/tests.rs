//! Unit tests of the store: transitions, saves, reconcile; crash tests live in tests/.
use super::*;
use crate::core::progress::Exit;
use crate::core::runbook;

pub(crate) const RUNBOOK: &str = r#"
id = "demo"
title = "Demo"

[[variable]]
name = "host"
type = "hostname"

[[variable]]
name = "pw"
type = "secret"

[[section]]
id = "s"
title = "S"

[[section.step]]
id = "one"
title = "First"
why = "w"
kind = "manual"

[[section.step]]
id = "two"
title = "Second"
why = "w"
kind = "command"
commands = [["true"]]
expect = [0, 3]
"#;

fn rb() -> Runbook {
    runbook::load_str("demo.toml", RUNBOOK).unwrap()
}

fn open(dir: &StateDir) -> Store {
    Store::open(dir, &rb(), "web1", IfCorrupt::Stop).unwrap()
}

use crate::core::runbook::Runbook;

#[test]
fn open_creates_private_files_and_saves_every_change() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    assert!(s.file().exists());
    let a = s.start("two").unwrap();
    assert_eq!(a.number, 1);
    assert_eq!(a.log_stored, "logs/demo@web1/two.1.log");
    assert!(a.log.parent().unwrap().is_dir());
    s.finish("two", Exit::Code(3), true).unwrap();
    let on_disk = crate::core::state_dir::read_run(s.file()).unwrap();
    assert_eq!(on_disk.status("two"), Status::Done);
    assert_eq!(on_disk.steps["two"].attempts[0].exit, Some(Exit::Code(3)));
    assert_eq!(on_disk.steps["two"].title, "Second");
    use std::os::unix::fs::PermissionsExt;
    for p in [s.file(), s.journal_file()] {
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    let journal = std::fs::read_to_string(s.journal_file()).unwrap();
    let (entries, bad) = crate::core::journal::parse(&journal);
    assert_eq!(bad, 0);
    let kinds: Vec<_> = entries
        .iter()
        .map(|e| {
            serde_json::to_value(&e.event).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["created", "started", "finished"]);
}

#[test]
fn transitions_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = open(&StateDir::at(tmp.path(), false));
    assert!(matches!(
        s.finish("two", Exit::Code(0), true),
        Err(StoreError::Transition { .. })
    ));
    assert!(matches!(
        s.cancel("two", None),
        Err(StoreError::Transition { .. })
    ));
    s.start("two").unwrap();
    assert!(matches!(s.start("two"), Err(StoreError::Transition { .. })));
    assert!(matches!(
        s.skip("two", "no"),
        Err(StoreError::Transition { .. })
    ));
    assert!(matches!(
        s.mark_done("two", "x"),
        Err(StoreError::Transition { .. })
    ));
    s.cancel("two", Some(Exit::Signal(15))).unwrap();
    assert_eq!(s.run().status("two"), Status::Cancelled);
    assert!(matches!(
        s.skip("two", "  "),
        Err(StoreError::EmptyReason(_))
    ));
    s.skip("two", "done by hand yesterday").unwrap();
    assert_eq!(
        s.run().steps["two"].reason.as_deref(),
        Some("done by hand yesterday")
    );
    assert_eq!(s.start("two").unwrap().number, 2);
    s.fail_at("two", Exit::Code(1), 0).unwrap();
    assert_eq!(s.run().status("two"), Status::Failed);
    assert_eq!(s.run().steps["two"].attempts[1].failed_program, Some(0));
    s.mark_done("two", "fixed the mirror and ran it by hand")
        .unwrap();
    assert_eq!(s.run().status("two"), Status::Done);
    assert!(matches!(s.start("nope"), Err(StoreError::UnknownStep(_))));
    assert!(matches!(
        s.note("nope", "x"),
        Err(StoreError::UnknownStep(_))
    ));
    s.complete("one").unwrap();
    s.note("one", "checked the cabling").unwrap();
    assert_eq!(s.run().steps["one"].notes[0].text, "checked the cabling");
    assert_eq!(s.run().first_unfinished(), None);
}

#[test]
fn secret_values_never_reach_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = open(&StateDir::at(tmp.path(), false));
    s.set_value("host", "web1.example.org").unwrap();
    s.set_value("pw", "hunter2-secret").unwrap();
    s.set_value("pw", "hunter2-secret").unwrap();
    assert!(matches!(
        s.set_value("nope", "x"),
        Err(StoreError::UnknownVariable(_))
    ));
    let state = std::fs::read_to_string(s.file()).unwrap();
    let journal = std::fs::read_to_string(s.journal_file()).unwrap();
    assert!(state.contains("web1.example.org"));
    assert!(!state.contains("hunter2") && !journal.contains("hunter2"));
    assert_eq!(journal.matches(r#""name":"pw""#).count(), 1, "{journal}");
}

#[test]
fn second_open_is_refused_while_first_holds_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let s = open(&dir);
    let refused = Store::open(&dir, &rb(), "web1", IfCorrupt::Stop);
    assert!(matches!(refused, Err(StoreError::InUse { .. })));
    // It says who holds the run and since when, and that it is read-only here.
    let said = refused.unwrap_err().to_string();
    let me = format!("pid {} on ", std::process::id());
    assert!(said.contains(&me) && said.contains("since 20"), "{said}");
    assert!(said.contains("read-only"), "{said}");
    drop(s);
    open(&dir);
}

/// A follower asks whether the run is still held without taking its lock.
#[test]
fn whether_a_run_is_held_is_read_without_taking_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    assert_eq!(
        super::run_lock_held(&dir, &rb().id, "web1"),
        None,
        "no lock file yet"
    );
    let s = open(&dir);
    assert_eq!(super::run_lock_held(&dir, &rb().id, "web1"), Some(true));
    assert_eq!(
        super::run_lock_held(&dir, &rb().id, "web1"),
        Some(true),
        "asking took nothing"
    );
    drop(s);
    assert_eq!(
        held_once_settled(&dir),
        Some(false),
        "released with its holder"
    );
    open(&dir);
}

/// Whether the run's lock is held, asked again for a moment while it reads as held: a command
/// forked by another thread holds a copy of the descriptor until its exec closes it, so a lock
/// just released can read as held for milliseconds. The follower polls the same way.
fn held_once_settled(dir: &StateDir) -> Option<bool> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut held = super::run_lock_held(dir, &rb().id, "web1");
    while held == Some(true) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
        held = super::run_lock_held(dir, &rb().id, "web1");
    }
    held
}

/// CI once read a lock as held just after its holder dropped it: another test's thread was
/// starting a command at that moment. With commands starting all the time, a released lock
/// still reads as free once settled. (With two threads starting commands, one read alone said
/// "held" for 128 to 181 of 500 released locks here.)
#[test]
fn a_released_lock_reads_free_while_other_threads_start_commands() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let starters: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = std::process::Command::new("true").status();
                }
            })
        })
        .collect();
    let held_after_drop = (0..200).filter(|_| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::at(tmp.path(), false);
        drop(open(&dir));
        held_once_settled(&dir) != Some(false)
    });
    let held_after_drop = held_after_drop.count();
    stop.store(true, Ordering::Relaxed);
    for starter in starters {
        starter.join().unwrap();
    }
    assert_eq!(held_after_drop, 0, "of 200 released locks");
}

#[test]
fn reopen_reconciles_running_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.start("two").unwrap();
    drop(s);
    let s = open(&dir);
    assert_eq!(s.run().status("two"), Status::Interrupted);
    assert!(matches!(&s.reconciled()[0], Reconciled::Interrupted { step, .. } if step == "two"));
    let a = &s.run().steps["two"].attempts[0];
    assert!(a.ended.is_some());
    assert_eq!(
        a.outcome.as_deref(),
        Some("interrupted: fieldbook ended while it ran")
    );
}

#[test]
fn exit_file_finishes_a_detached_step_and_a_live_one_is_reattachable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    let started = s.start("two").unwrap();
    let mut sup = crate::core::host::spawn_fake_supervisor();
    s.set_pid("two", sup.id()).unwrap();
    drop(s);

    // Still running: live, re-attachable, status unchanged.
    let s = open(&dir);
    assert_eq!(s.run().status("two"), Status::Running);
    let live = s.live_steps();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].log.as_deref(), Some(started.log.as_path()));
    assert!(matches!(&s.reconciled()[0], Reconciled::Live(l) if l.pid == sup.id()));
    drop(s);

    // The supervisor wrote the exit (3 is expected for this step) and ended.
    let record = crate::core::exit_record::ExitRecord {
        attempt: Some(started.nonce.clone()),
        ..crate::core::exit_record::ExitRecord::from(Exit::Code(3))
    };
    crate::core::state_dir::write_exit_record(
        &crate::core::state_dir::exit_file(&started.log),
        &record,
    )
    .unwrap();
    sup.kill().unwrap();
    sup.wait().unwrap();
    let s = open(&dir);
    assert_eq!(s.run().status("two"), Status::Done);
    assert_eq!(s.run().steps["two"].attempts[0].exit, Some(Exit::Code(3)));
    assert!(s.live_steps().is_empty());
}

#[test]
fn supervisor_gone_without_exit_file_is_interrupted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.start("two").unwrap();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    s.set_pid("two", gone.id()).unwrap();
    drop(s);
    let s = open(&dir);
    assert_eq!(s.run().status("two"), Status::Interrupted);
}

#[test]
fn interrupt_attached_leaves_detached_steps_running() {
    let tmp = tempfile::tempdir().unwrap();
    let text = RUNBOOK.replace(
        "expect = [0, 3]",
        "expect = [0, 3]\n\n[[section.step]]\nid = \"three\"\ntitle = \"T\"\nwhy = \"w\"\nkind = \"command\"\ncommands = [[\"true\"]]\n",
    );
    let rb = runbook::load_str("demo.toml", &text).unwrap();
    let mut s = Store::open(
        &StateDir::at(tmp.path(), false),
        &rb,
        "web1",
        IfCorrupt::Stop,
    )
    .unwrap();
    s.start("two").unwrap();
    s.start("three").unwrap();
    s.set_pid("three", 1).unwrap();
    assert_eq!(s.interrupt_attached("hang-up").unwrap(), ["two"]);
    assert_eq!(s.run().status("two"), Status::Interrupted);
    assert_eq!(s.run().status("three"), Status::Running);
}

#[test]
fn practice_runs_are_stored_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(&StateDir::at(tmp.path(), true));
    assert!(s.file().starts_with(tmp.path().join("practice")));
    assert!(s.run().practice);
}

#[test]
fn archive_moves_everything_and_a_new_run_starts_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    let a = s.start("two").unwrap();
    std::fs::write(&a.log, "output\n").unwrap();
    s.finish("two", Exit::Code(0), true).unwrap();
    assert!(matches!(
        archive_run(&dir, "demo", "web1"),
        Err(StoreError::InUse { .. })
    ));
    drop(s);
    let dest = archive_run(&dir, "demo", "web1").unwrap();
    assert!(dest.join("demo@web1.toml").exists());
    assert!(dest.join("demo@web1.jsonl").exists());
    assert!(dest.join("demo@web1/two.1.log").exists());
    let journal = std::fs::read_to_string(dest.join("demo@web1.jsonl")).unwrap();
    assert!(journal.lines().last().unwrap().contains("archived"));
    let s = open(&dir);
    assert_eq!(s.run().status("two"), Status::Pending);
    drop(s);
    let second = archive_run(&dir, "demo", "web1").unwrap();
    assert_ne!(dest, second);
    assert!(matches!(
        archive_run(&dir, "demo", "other"),
        Err(StoreError::NoRun { .. })
    ));
}

#[test]
fn every_status_round_trips_through_the_state_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let s = open(&dir);
    let mut run = s.run().clone();
    drop(s);
    for (i, status) in Status::ALL.iter().enumerate() {
        let st = StepState {
            status: *status,
            title: format!("Step {i}"),
            reason: Some(format!("because {i}")),
            attempts: vec![crate::core::progress::Attempt {
                number: 1,
                started: "2026-11-26T10:00:00Z".into(),
                ended: Some("2026-11-26T10:01:00Z".into()),
                exit: Some(if i % 2 == 0 {
                    Exit::Code(i as i32)
                } else {
                    Exit::Signal(9)
                }),
                failed_program: Some(i),
                log: Some(format!("logs/demo@web1/s{i}.1.log")),
                pid: Some(100 + i as u32),
                pid_start: Some(4242),
                nonce: Some("0011223344556677".into()),
                boot_id: Some("b".into()),
                who: "ana".into(),
                outcome: Some("why \"quoted\"\nand two lines".into()),
            }],
            notes: vec![crate::core::progress::Note {
                at: "2026-11-26T10:02:00Z".into(),
                who: "bo".into(),
                text: "note = [tricky] 'toml'".into(),
            }],
        };
        run.steps.insert(format!("s{i}.dotted key"), st);
    }
    let text = toml::to_string(&run).unwrap();
    let back =
        crate::core::state_dir::parse_run(std::path::Path::new("x.toml"), text.as_bytes()).unwrap();
    assert_eq!(back, run);
    for status in Status::ALL {
        assert!(
            text.contains(&format!("status = \"{}\"", status.name())),
            "{text}"
        );
    }
}

use crate::core::progress::StepState;

fn corrupt_case(content: &[u8]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.complete("one").unwrap();
    let file = s.file().to_path_buf();
    drop(s);
    std::fs::write(&file, content).unwrap();
    let err = Store::open(&dir, &rb(), "web1", IfCorrupt::Stop).unwrap_err();
    let StoreError::Corrupt { moved_to, .. } = &err else {
        panic!("expected Corrupt, got {err:?}");
    };
    // Moved aside byte for byte, never overwritten; the message says where.
    assert_eq!(std::fs::read(moved_to).unwrap(), content);
    assert!(err.to_string().contains(&moved_to.display().to_string()));
    assert!(!file.exists());
    // Until the technician agrees, no fresh run is created.
    assert!(matches!(
        Store::open(&dir, &rb(), "web1", IfCorrupt::Stop),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(!file.exists());
    let s = Store::open(&dir, &rb(), "web1", IfCorrupt::StartFresh).unwrap();
    assert_eq!(s.run().status("one"), Status::Pending);
    assert_eq!(std::fs::read(moved_to).unwrap(), content);
    drop(s);
    open(&dir);
}

#[test]
fn corrupt_state_file_is_moved_aside_and_fresh_needs_consent() {
    corrupt_case(b"runbook = \"demo\"\n[steps.one\nstatus = ");
}

#[test]
fn truncated_state_file_is_moved_aside() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.start("two").unwrap();
    s.finish("two", Exit::Code(0), true).unwrap();
    let full = std::fs::read(s.file()).unwrap();
    drop(s);
    // Cut inside the last table so the file is no longer valid TOML.
    let cut = full.iter().rposition(|&b| b == b'=').unwrap() + 1;
    corrupt_case(&full[..cut]);
}

#[test]
fn empty_and_binary_state_files_are_moved_aside() {
    corrupt_case(b"");
    corrupt_case(b"\xff\xfe\x00garbage");
    corrupt_case(b"just = \"toml but not a run\"\n");
}

#[test]
fn failed_saves_keep_the_old_file_and_memory_and_retry() {
    fn disk_full(_: &Path, _: &[u8]) -> io::Result<()> {
        Err(io::Error::from_raw_os_error(libc::ENOSPC))
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.complete("one").unwrap();
    let before = std::fs::read(s.file()).unwrap();
    s.set_writer(disk_full);
    let err = s.skip("two", "not needed").unwrap_err();
    assert!(matches!(err, StoreError::Save { .. }));
    assert!(err.to_string().contains("No space left on device"), "{err}");
    // The status names a full disk as such (the reserve was given up and did not help here).
    let problem = s.save_problem().unwrap();
    assert!(
        problem.starts_with("disk full: last save failed: "),
        "{problem}"
    );
    assert_eq!(
        std::fs::read(s.file()).unwrap(),
        before,
        "old file must be intact"
    );
    assert_eq!(s.run().status("two"), Status::Skipped, "kept in memory");
    s.set_writer(crate::core::atomic::write_atomic);
    s.note("one", "disk cleaned").unwrap();
    assert_eq!(s.save_problem(), None);
    let on_disk = crate::core::state_dir::read_run(s.file()).unwrap();
    assert_eq!(
        on_disk.status("two"),
        Status::Skipped,
        "earlier change saved by the retry"
    );
}

/// Tests run as root, where chmod does not stop writes and bind mounts are unavailable. So a
/// real unwritable directory is made by putting a plain file where the `runs` directory is
/// expected: every write under it fails with ENOTDIR, like EROFS would, through the real
/// writer and journal code.
#[test]
fn unwritable_directory_keeps_the_old_file_and_retries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.complete("one").unwrap();
    let runs = dir.runs_dir();
    let aside = tmp.path().join("runs-aside");
    std::fs::rename(&runs, &aside).unwrap();
    std::fs::write(&runs, b"not a directory").unwrap();
    let err = s.note("one", "written while the disk is away").unwrap_err();
    assert!(matches!(err, StoreError::Save { .. }), "{err:?}");
    assert!(s.save_problem().is_some());
    assert_eq!(s.run().steps["one"].notes.len(), 1);
    std::fs::remove_file(&runs).unwrap();
    std::fs::rename(&aside, &runs).unwrap();
    let old = crate::core::state_dir::read_run(s.file()).unwrap();
    assert!(old.steps["one"].notes.is_empty(), "previous file intact");
    s.retry_save().unwrap();
    let new = crate::core::state_dir::read_run(s.file()).unwrap();
    assert_eq!(
        new.steps["one"].notes[0].text,
        "written while the disk is away"
    );
    let journal = std::fs::read_to_string(s.journal_file()).unwrap();
    assert!(
        journal.contains("written while the disk is away"),
        "journal line retried"
    );
}

#[test]
fn runbook_changes_match_by_id_and_keep_removed_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.complete("one").unwrap();
    s.start("two").unwrap();
    s.finish("two", Exit::Code(1), false).unwrap();
    drop(s);
    // New version: "one" removed, "zero" added before, "two" kept.
    let changed = RUNBOOK.replace(
        "id = \"one\"\ntitle = \"First\"",
        "id = \"zero\"\ntitle = \"New first\"",
    );
    let rb2 = runbook::load_str("demo.toml", &changed).unwrap();
    let mut s = Store::open(&dir, &rb2, "web1", IfCorrupt::Stop).unwrap();
    assert_eq!(s.run().step_order, ["zero", "two"]);
    assert_eq!(s.run().status("two"), Status::Failed);
    assert_eq!(s.run().status("one"), Status::Done, "kept");
    assert_eq!(s.run().removed_steps(), ["one"]);
    assert_eq!(s.run().steps["one"].title, "First");
    assert_eq!(s.run().first_unfinished(), Some("zero"));
    let t = s.run().tally();
    assert_eq!(
        (t.total, t.done, t.failed, t.pending, t.removed),
        (2, 0, 1, 1, 1)
    );
    assert!(matches!(s.start("one"), Err(StoreError::UnknownStep(_))));
    s.note("one", "still visible").unwrap();
    drop(s);
    let on_disk = crate::core::state_dir::read_run(&dir.run_file("demo", "web1")).unwrap();
    assert_eq!(on_disk.status("one"), Status::Done);
}

#[test]
fn a_reboot_step_found_running_after_a_reboot_is_done_and_the_run_moves_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let text = RUNBOOK.replace("kind = \"manual\"", "kind = \"manual\"\nreboot = true");
    let rb = runbook::load_str("demo.toml", &text).unwrap();
    let mut s = Store::open(&dir, &rb, "web1", IfCorrupt::Stop).unwrap();
    s.start("one").unwrap();
    drop(s);
    // Pretend the attempt started in an earlier boot.
    let file = dir.run_file("demo", "web1");
    let mut run = crate::core::state_dir::read_run(&file).unwrap();
    run.steps.get_mut("one").unwrap().attempts[0].boot_id = Some("an-earlier-boot".into());
    std::fs::write(&file, toml::to_string(&run).unwrap()).unwrap();
    let s = Store::open(&dir, &rb, "web1", IfCorrupt::Stop).unwrap();
    if crate::core::host::boot_id().is_none() {
        return; // no boot id on this system: a reboot cannot be told apart
    }
    assert_eq!(s.run().status("one"), Status::Done);
    assert!(matches!(&s.reconciled()[0], Reconciled::Rebooted { step } if step == "one"));
    assert_eq!(s.run().first_unfinished(), Some("two"));

    // The same on a step that does not reboot: interrupted, with the reboot named.
    drop(s);
    let mut s = open(&dir);
    s.start("two").unwrap();
    drop(s);
    let mut run = crate::core::state_dir::read_run(&file).unwrap();
    run.steps.get_mut("two").unwrap().attempts[0].boot_id = Some("an-earlier-boot".into());
    std::fs::write(&file, toml::to_string(&run).unwrap()).unwrap();
    let s = open(&dir);
    assert_eq!(s.run().status("two"), Status::Interrupted);
    assert!(
        matches!(&s.reconciled()[0], Reconciled::Interrupted { why, .. } if why.contains("rebooted"))
    );
}

#[test]
fn state_directories_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("new/state");
    let dir = StateDir::at(&root, false);
    let _s = open(&dir);
    for d in [root.clone(), root.join("runs"), root.join("logs")] {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", d.display());
    }
}

/// Writes what a supervisor leaves beside a log: the job it ran and its exit record.
fn supervisor_left(log: &std::path::Path, programs: &[&[&str]], ok_output: &[&str], exit: &str) {
    let job = crate::core::runner::StepJob {
        commands: programs
            .iter()
            .map(|argv| crate::core::runner::Command {
                argv: argv.iter().map(|a| a.to_string()).collect(),
                env: Vec::new(),
            })
            .collect(),
        expect: vec![0],
        ok_output: ok_output.iter().map(|o| o.to_string()).collect(),
        shows: Vec::new(),
    };
    let job_file = crate::core::supervisor::job_path(log);
    let nonce = crate::core::attempt_id::read_nonce(log).unwrap();
    let mut json = serde_json::to_value(&job).unwrap();
    json["attempt"] = serde_json::Value::String(nonce.clone());
    std::fs::write(job_file, serde_json::to_vec(&json).unwrap()).unwrap();
    let exit = format!("{exit}attempt {nonce}\n");
    std::fs::write(crate::core::state_dir::exit_file(log), exit).unwrap();
}

#[test]
fn a_supervisors_ok_output_verdict_makes_a_nonzero_exit_done_on_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    let started = s.start("two").unwrap();
    drop(s);
    // rc-update exits 1 but says "already installed": the supervisor judged it done.
    supervisor_left(
        &started.log,
        &[&["rc-update", "add", "sshd", "default"]],
        &["already installed"],
        "code 1\nprogram 1 of 1\nok_output seen\nverdict done\n",
    );
    let s = open(&dir);
    assert_eq!(s.run().status("two"), Status::Done);
    let a = &s.run().steps["two"].attempts[0];
    assert_eq!(a.exit, Some(Exit::Code(1)));
    assert_eq!(a.failed_program, None);
    assert_eq!(a.outcome.as_deref(), Some("finished (exit 1)"));
    assert!(matches!(
        &s.reconciled()[0],
        Reconciled::Finished {
            status: Status::Done,
            exit: Some(Exit::Code(1)),
            ..
        }
    ));
}

#[test]
fn a_failed_second_program_found_later_is_recorded_as_a_direct_run_records_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    let started = s.start("two").unwrap();
    drop(s);
    // Exit 3 is expected for this step, but the supervisor judged program 2 failed (its job's
    // expect is [0]): its verdict wins over the runbook's codes.
    supervisor_left(
        &started.log,
        &[&["true"], &["emerge", "--sync"]],
        &[],
        "code 3\nprogram 2 of 2\nverdict failed\n",
    );
    // It ended long before anyone looked: the report's duration must say so.
    let exit_file = crate::core::state_dir::exit_file(&started.log);
    let then = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    std::fs::File::options()
        .write(true)
        .open(&exit_file)
        .unwrap()
        .set_modified(then)
        .unwrap();
    let s = open(&dir);
    assert_eq!(s.run().status("two"), Status::Failed);
    let a = &s.run().steps["two"].attempts[0];
    assert_eq!(
        a.ended.as_deref(),
        Some(crate::core::clock::format_unix(1_800_000_000).as_str())
    );
    assert_eq!(a.exit, Some(Exit::Code(3)));
    assert_eq!(a.failed_program, Some(1));
    assert_eq!(
        a.outcome.as_deref(),
        Some("command 2 of 2 failed (exit 3): emerge --sync")
    );
}

#[test]
fn an_old_exit_file_is_still_judged_by_the_expected_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    let started = s.start("two").unwrap();
    let file = s.file().to_path_buf();
    drop(s);
    // An older fieldbook: no nonce in the run, no `.attempt` file.
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text.replace(&format!("nonce = \"{}\"\n", started.nonce), "");
    std::fs::write(&file, text).unwrap();
    std::fs::remove_file(crate::core::attempt_id::nonce_path(&started.log)).unwrap();
    // An older supervisor: exit status only, and no job file.
    std::fs::write(crate::core::state_dir::exit_file(&started.log), "code 2\n").unwrap();
    let s = open(&dir);
    assert_eq!(s.run().status("two"), Status::Failed);
    let a = &s.run().steps["two"].attempts[0];
    assert_eq!(a.exit, Some(Exit::Code(2)));
    assert_eq!(a.outcome.as_deref(), Some("failed (exit 2)"));
}

#[test]
fn show_finished_reads_a_finished_step_as_ended_without_saving() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    let started = s.start("two").unwrap();
    let file = s.file().to_path_buf();
    drop(s);
    supervisor_left(
        &started.log,
        &[&["true"], &["false"]],
        &[],
        "code 1\nprogram 2 of 2\nverdict failed\n",
    );
    let mut run = crate::core::state_dir::read_run(&file).unwrap();
    show_finished(&mut run, &dir, Some(&rb()));
    assert_eq!(run.status("two"), Status::Failed);
    assert_eq!(run.steps["two"].attempts[0].failed_program, Some(1));
    // Only looked: the file still says running, for the next fieldbook to record.
    let on_disk = crate::core::state_dir::read_run(&file).unwrap();
    assert_eq!(on_disk.status("two"), Status::Running);
}

#[test]
fn end_with_keeps_the_runners_words_and_failed_program() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.start("two").unwrap();
    s.end_with(
        "two",
        Exit::Code(1),
        false,
        Some(1),
        "command 2 of 2 failed (exit 1): false",
    )
    .unwrap();
    let a = &s.run().steps["two"].attempts[0];
    assert_eq!(a.failed_program, Some(1));
    assert_eq!(
        a.outcome.as_deref(),
        Some("command 2 of 2 failed (exit 1): false")
    );
    s.start("two").unwrap();
    // Done never names a failed program.
    s.end_with("two", Exit::Code(0), true, Some(0), "finished (exit 0)")
        .unwrap();
    let a = &s.run().steps["two"].attempts[1];
    assert_eq!(
        (s.run().status("two"), a.failed_program),
        (Status::Done, None)
    );
}

#[test]
fn a_journal_line_cut_by_a_kill_is_ended_so_the_next_event_survives() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.complete("one").unwrap();
    let journal = dir.journal_file("demo", "web1");
    drop(s);
    // A writer killed mid-append left half a line.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    std::io::Write::write_all(
        &mut f,
        b"{\"at\":\"2026-11-26T20:00:00Z\",\"who\":\"x\",\"ev",
    )
    .unwrap();
    drop(f);
    let mut s = open(&dir);
    s.note("one", "after the crash").unwrap();
    drop(s);
    let text = std::fs::read_to_string(&journal).unwrap();
    let (entries, bad) = crate::core::journal::parse(&text);
    assert_eq!(bad, 1, "only the fragment is unreadable: {text}");
    assert!(
        entries
            .iter()
            .any(|e| matches!(&e.event, crate::core::journal::Event::Noted { text, .. } if text == "after the crash")),
        "{text}"
    );
}

/// Issue 17 item 16: the attempt counter never wraps, whatever the state file says.
#[test]
fn the_attempt_counter_never_wraps() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let mut s = open(&dir);
    s.start("two").unwrap();
    s.finish("two", Exit::Code(1), false).unwrap();
    let file = s.file().to_path_buf();
    drop(s);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("number = 1"), "{text}");
    std::fs::write(&file, text.replace("number = 1", "number = 4294967295")).unwrap();
    let mut s = open(&dir);
    let err = s.start("two").unwrap_err();
    assert!(matches!(err, StoreError::AttemptLimit(_)), "{err}");
    assert!(err.to_string().contains("fieldbook reset"), "{err}");
    assert_eq!(s.run().steps["two"].attempts.len(), 1);
}
