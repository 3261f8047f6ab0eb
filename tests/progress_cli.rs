//! The progress subcommands through the real binary: golden `status`, `status --json` and
//! `report` (Markdown and JSON) on a fixed state file, and `reset` archiving with consent.
//! The fixture run (tests/fixtures/progress/state) has fixed times and host, so only the
//! temporary state-directory path needs normalising.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const FIXTURE: &str = "tests/fixtures/progress";

/// A private copy of the fixture state directory (commands must never need write access to
/// the repository, and reset moves files).
fn state_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(FIXTURE).join("state"), tmp.path());
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn fieldbook(state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .env("FIELDBOOK_CHECKLISTS", Path::new(FIXTURE).join("runbooks"))
        .env_remove("FIELDBOOK_STATE_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(out: &Output, state: &Path) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .replace(&state.display().to_string(), "[STATE]")
}

#[test]
fn status_table_golden() {
    let st = state_copy();
    insta::assert_snapshot!(
        "status",
        stdout(&fieldbook(st.path(), &["status"]), st.path())
    );
}

#[test]
fn status_of_one_runbook_lists_every_step_golden() {
    let st = state_copy();
    let out = fieldbook(st.path(), &["status", "handover-demo"]);
    insta::assert_snapshot!("status_id", stdout(&out, st.path()));
}

#[test]
fn status_json_golden() {
    let st = state_copy();
    let out = fieldbook(st.path(), &["status", "--json"]);
    insta::assert_snapshot!("status_json", stdout(&out, st.path()));
}

#[test]
fn report_markdown_golden() {
    let st = state_copy();
    let out = fieldbook(st.path(), &["report", "handover-demo"]);
    insta::assert_snapshot!("report_md", stdout(&out, st.path()));
}

#[test]
fn report_json_golden() {
    let st = state_copy();
    let out = fieldbook(st.path(), &["report", "handover-demo", "--format", "json"]);
    insta::assert_snapshot!("report_json", stdout(&out, st.path()));
    // --json, as every other read-out command spells it.
    let short = fieldbook(st.path(), &["report", "handover-demo", "--json"]);
    assert_eq!(stdout(&short, st.path()), stdout(&out, st.path()));
}

#[test]
fn target_filters_and_missing_runs_are_clear() {
    let st = state_copy();
    let out = fieldbook(st.path(), &["--target", "db2", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out, st.path())).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 0);
    let out = fieldbook(st.path(), &["--target", "db2", "report", "handover-demo"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no run of 'handover-demo' for target 'db2'"),
        "{err}"
    );
}

#[test]
fn unreadable_state_file_is_named_and_left_alone_by_status() {
    let st = state_copy();
    let bad = st.path().join("runs/other@web1.toml");
    std::fs::write(&bad, "runbook = \"other\"\n[steps.x\n").unwrap();
    let out = fieldbook(st.path(), &["status"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("other@web1.toml:2:"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("handover-demo"));
    assert!(bad.exists(), "status only looks; it never moves files");
}

#[test]
fn reset_needs_consent_and_archives_everything() {
    let st = state_copy();
    let logs = st.path().join("logs/handover-demo@web1");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("sync.1.log"), "timeout\n").unwrap();

    // No terminal to ask on and no --yes: usage error, nothing moved.
    let out = fieldbook(st.path(), &["reset", "handover-demo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --yes"));
    let run_file = st.path().join("runs/handover-demo@web1.toml");
    assert!(run_file.exists());

    let out = fieldbook(st.path(), &["reset", "handover-demo", "--yes"]);
    let text = stdout(&out, st.path());
    assert!(
        text.starts_with("Archived to [STATE]/archive/runs/handover-demo@web1-"),
        "{text}"
    );
    assert!(!run_file.exists());
    let archived: Vec<PathBuf> = std::fs::read_dir(st.path().join("archive/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(archived.len(), 1);
    assert!(archived[0].join("handover-demo@web1.toml").exists());
    assert!(archived[0].join("handover-demo@web1/sync.1.log").exists());
    let out = fieldbook(st.path(), &["status"]);
    assert!(stdout(&out, st.path()).starts_with("No runs in [STATE]."));
}

#[test]
fn practice_runs_are_listed_apart() {
    let st = state_copy();
    let out = fieldbook(st.path(), &["--practice", "status"]);
    assert_eq!(stdout(&out, st.path()), "No runs in [STATE]/practice.\n");
}

#[test]
fn corrupt_state_needs_consent_before_a_fresh_run() {
    let st = tempfile::tempdir().unwrap();
    let runs = st.path().join("practice/runs");
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::write(runs.join("handover-demo@web1.toml"), "garbage [\n").unwrap();
    let args = [
        "--practice",
        "--target",
        "web1",
        "exec",
        "handover-demo",
        "backup",
    ];
    // No terminal and no --yes: moved aside, reported, nothing fresh written.
    let out = fieldbook(st.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("it was moved to") && err.contains(".corrupt-"),
        "{err}"
    );
    assert!(err.contains("pass --yes"), "{err}");
    assert!(!runs.join("handover-demo@web1.toml").exists());
    // Asking again still refuses: the moved-aside copy is remembered.
    assert_eq!(fieldbook(st.path(), &args).status.code(), Some(2));
    // With consent, a fresh run starts and the corrupt copy stays.
    let mut with_yes = args.to_vec();
    with_yes.push("--yes");
    let out = fieldbook(st.path(), &with_yes);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(runs.join("handover-demo@web1.toml").exists());
    let corrupt: Vec<_> = std::fs::read_dir(&runs)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(corrupt.len(), 1);
    assert_eq!(std::fs::read(corrupt[0].path()).unwrap(), b"garbage [\n");
}

#[test]
fn a_run_nobody_has_worked_on_says_so_plainly() {
    let st = tempfile::tempdir().unwrap();
    // `auto` opens the run and stops at the first step, which asks for values.
    let _ = fieldbook(
        st.path(),
        &["--target", "fresh", "auto", "gentoo-world-update"],
    );
    let out = fieldbook(
        st.path(),
        &["--target", "fresh", "status", "gentoo-world-update"],
    );
    let text = stdout(&out, st.path());
    assert!(text.contains("; nobody has worked on a step yet"), "{text}");
    assert!(!text.contains("by nobody"), "{text}");
}
