//! kill -9 at random moments while a child process applies file edits through the real store
//! (issue 17, item 8): every time, the run opened afterwards records the edit that made the
//! file what it is (the last recorded edit's "after" hash is the file's hash), so a re-run never
//! says "already applied" about an edit the report does not show, and undo stays possible.
//!
//! The child is this test binary re-invoked on the `edit_crash_child` test with
//! `FIELDBOOK_EDIT_CRASH_DIR` set, as in `tests/progress_crash.rs`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fieldbook::core::apply::{EditSite, Node};
use fieldbook::core::clock;
use fieldbook::core::runbook::{self, Action, Edit, Runbook};
use fieldbook::core::state_dir::StateDir;
use fieldbook::core::store::{IfCorrupt, Store};

const CHILD_ENV: &str = "FIELDBOOK_EDIT_CRASH_DIR";
const TARGET: &str = "crash-box";
const START: &str = "flag=1\n";

fn runbook() -> Runbook {
    let step = |id: &str, action: &str| {
        format!(
            "[[section.step]]\nid = \"{id}\"\ntitle = \"{id}\"\nwhy = \"w\"\nkind = \"edit\"\n\
             [[section.step.edit]]\npath = \"/etc/app.conf\"\naction = \"{action}\"\n\
             pattern = \"flag\"\n"
        )
    };
    let text = format!(
        "id = \"editcrash\"\ntitle = \"Edit crash\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n{}{}",
        step("off", "comment_out"),
        step("on", "uncomment")
    );
    runbook::load_str("editcrash.toml", &text).unwrap()
}

fn edits_of(rb: &Runbook, id: &str) -> Vec<Edit> {
    rb.steps()
        .find(|(_, s)| s.id == id)
        .and_then(|(_, s)| match &s.action {
            Action::Edit { edits } => Some(edits.clone()),
            _ => None,
        })
        .unwrap()
}

fn dirs(top: &Path) -> (PathBuf, StateDir) {
    (top.join("root"), StateDir::at(top.join("state"), false))
}

/// The child: open the run, then toggle the file for ever, recording every edit.
#[test]
fn edit_crash_child() {
    let Some(top) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let (root, dir) = dirs(Path::new(&top));
    let rb = runbook();
    let mut store = Store::open(&dir, &rb, TARGET, IfCorrupt::Stop).unwrap();
    let site = EditSite {
        root: Some(root),
        state_dir: dir.base(),
        machine: Default::default(),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "opened").unwrap();
    out.flush().unwrap();
    let secrets = BTreeMap::new();
    for i in 0..1_000_000usize {
        let step = if i % 2 == 0 { "off" } else { "on" };
        let edits = edits_of(&rb, step);
        let applied = site
            .apply(store.run(), step, &edits, &secrets, false, &clock::now())
            .unwrap();
        for a in applied {
            store.record_edit(a).unwrap();
        }
        writeln!(out, "applied {i}").unwrap();
        out.flush().unwrap();
    }
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn a_kill_during_an_edit_never_loses_its_record() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (root, dir) = dirs(tmp.path());
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/app.conf"), START).unwrap();
    let exe = std::env::current_exe().unwrap();
    let rb = runbook();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut checked_after_edits = 0;
    for iteration in 0..60 {
        let mut child = Command::new(&exe)
            .args([
                "edit_crash_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("opened") || line.starts_with("applied") {
                    let _ = tx.send(());
                }
            }
        });
        // Kill once the child is editing, after a random number of edits and a random pause.
        let wait_for = 1 + rng.below(4);
        for _ in 0..wait_for {
            rx.recv_timeout(Duration::from_secs(30))
                .expect("the child stopped editing");
        }
        std::thread::sleep(Duration::from_micros(rng.below(25_000)));
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = reader.join();

        let store = Store::open(&dir, &rb, TARGET, IfCorrupt::Stop).unwrap();
        let content = std::fs::read_to_string(root.join("etc/app.conf")).unwrap();
        assert!(
            content == START || content == "#flag=1\n" || content == "# flag=1\n",
            "iteration {iteration}: torn file {content:?}"
        );
        let now = Node::File {
            content: content.clone(),
            mode: 0,
        }
        .hash();
        let expected = store.run().edits.iter().rfind(|e| !e.undone).map_or_else(
            || {
                Node::File {
                    content: START.to_string(),
                    mode: 0,
                }
                .hash()
            },
            |e| e.hash_after.clone(),
        );
        assert_eq!(
            now,
            expected,
            "iteration {iteration}: the file changed ({content:?}) but the run does not record \
             the edit ({} edits recorded)",
            store.run().edits.len()
        );
        checked_after_edits += usize::from(!store.run().edits.is_empty());
        // Every recorded edit can be undone: its backup is there.
        let last = store.run().edits.last().cloned();
        drop(store);
        if let Some(last) = last {
            let site = EditSite {
                root: Some(root.clone()),
                state_dir: dir.base(),
                machine: Default::default(),
            };
            site.undo_preview(&last)
                .unwrap_or_else(|e| panic!("iteration {iteration}: {e}"));
        }
    }
    assert!(checked_after_edits > 0, "no edit was ever made");
}

/// Issue 17 item 8, before the run is opened again: `status` and `report` only look (no lock,
/// nothing saved), yet an edit a kill left made but unrecorded is shown by both, and `status`
/// says it is not recorded yet; neither writes anything, and the next open records it.
#[test]
fn status_and_report_show_an_edit_a_kill_left_unrecorded() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (root, dir) = dirs(tmp.path());
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/app.conf"), START).unwrap();
    let books = tmp.path().join("books");
    std::fs::create_dir(&books).unwrap();
    let rb = runbook();
    std::fs::write(
        books.join("editcrash.toml"),
        "id = \"editcrash\"\ntitle = \"Edit crash\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n\
         [[section.step]]\nid = \"off\"\ntitle = \"off\"\nwhy = \"w\"\nkind = \"edit\"\n\
         [[section.step.edit]]\npath = \"/etc/app.conf\"\naction = \"comment_out\"\n\
         pattern = \"flag\"\n",
    )
    .unwrap();
    // The edit is made (file replaced, intent journalled) but fieldbook dies before recording.
    let store = Store::open(&dir, &rb, TARGET, IfCorrupt::Stop).unwrap();
    let site = EditSite {
        root: Some(root.clone()),
        state_dir: dir.base(),
        machine: Default::default(),
    };
    let applied = site
        .apply(
            store.run(),
            "off",
            &edits_of(&rb, "off"),
            &BTreeMap::new(),
            false,
            &clock::now(),
        )
        .unwrap();
    assert_eq!(applied.len(), 1);
    let run_file = dir.run_file("editcrash", TARGET);
    drop(store);
    let saved = std::fs::read(&run_file).unwrap();
    let journal = fieldbook::core::edit_journal::journal_path(
        &dir.base(),
        &fieldbook::core::apply::archive_for(
            &fieldbook::core::state_dir::read_run(&run_file).unwrap(),
        ),
    );
    let journalled = std::fs::read(&journal).unwrap();
    let fb = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .arg("--checklists")
            .arg(&books)
            .arg("--state-dir")
            .arg(dir.base())
            .args(["--target", TARGET])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for args in [&["status"][..], &["status", "editcrash"][..]] {
        let text = fb(args);
        assert!(
            text.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .contains("1 edit(s) made but not recorded"),
            "{args:?}:\n{text}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&fb(&["status", "--json"])).unwrap();
    assert_eq!(json["runs"][0]["unrecorded_edits"], 1, "{json:#}");
    let report = fb(&["report", "editcrash"]);
    assert!(
        report.contains("app.conf"),
        "the report leaves the edit out:\n{report}"
    );
    // Looking wrote nothing; the next open records the edit.
    assert_eq!(std::fs::read(&run_file).unwrap(), saved);
    assert_eq!(std::fs::read(&journal).unwrap(), journalled);
    let store = Store::open(&dir, &rb, TARGET, IfCorrupt::Stop).unwrap();
    assert_eq!(store.run().edits.len(), 1);
    drop(store);
    assert!(!fb(&["status"]).contains("not recorded"));
}
