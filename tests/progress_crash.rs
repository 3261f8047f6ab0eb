//! kill -9 at random moments while a child process drives step transitions through the real
//! store, saving after each: every time, the state file loads and holds every transition the
//! child had reported saved (at most the one in flight is extra), and the journal, written
//! before the state, holds at least as many.
//!
//! The child is this test binary re-invoked on the `crash_child` test with
//! `FIELDBOOK_CRASH_CHILD_DIR` set. Longer stress run (see README):
//! `FIELDBOOK_CRASH_ITERATIONS=3000 cargo test --release --test progress_crash`
//! or `scripts/progress-stress.sh`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use fieldbook::core::journal;
use fieldbook::core::progress::{Exit, Run, Status};
use fieldbook::core::runbook::{self, Runbook};
use fieldbook::core::state_dir::{self, StateDir};
use fieldbook::core::store::{IfCorrupt, Store};

const CHILD_ENV: &str = "FIELDBOOK_CRASH_CHILD_DIR";
const ITERATIONS_ENV: &str = "FIELDBOOK_CRASH_ITERATIONS";
const TARGET: &str = "crash-box";

fn runbook() -> Runbook {
    let mut text =
        String::from("id = \"crash\"\ntitle = \"Crash\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n");
    for i in 0..12 {
        text.push_str(&format!(
            "[[section.step]]\nid = \"s{i}\"\ntitle = \"Step {i}\"\nwhy = \"w\"\nkind = \"command\"\ncommands = [[\"true\"]]\n"
        ));
    }
    runbook::load_str("crash.toml", &text).unwrap()
}

/// Completed transitions recorded in a run: attempts started, attempts ended, notes. Every
/// operation of the child adds exactly one, so the count never goes down.
fn transitions(run: &Run) -> i64 {
    run.steps
        .values()
        .map(|s| {
            let started = s.attempts.len();
            let ended = s.attempts.iter().filter(|a| a.ended.is_some()).count();
            (started + ended + s.notes.len()) as i64
        })
        .sum()
}

/// The child: open (reconciling a step left running), then make `limit` transitions, reporting
/// the count after each successful save.
fn transition(dir: &Path, limit: usize, out: &mut impl Write) {
    let rb = runbook();
    let dir = StateDir::at(dir, false);
    let mut store = Store::open(&dir, &rb, TARGET, IfCorrupt::Stop).unwrap();
    writeln!(out, "opened {}", transitions(store.run())).unwrap();
    out.flush().unwrap();
    let ids: Vec<String> = rb.steps().map(|(_, s)| s.id.clone()).collect();
    for i in 0..limit {
        let step = &ids[(i / 3) % ids.len()];
        if store.run().status(step) == Status::Running {
            store
                .finish(step, Exit::Code((i % 3) as i32), i % 2 == 0)
                .unwrap();
        } else if i % 5 == 0 {
            store.note(step, &format!("note {i}")).unwrap();
        } else {
            store.start(step).unwrap();
        }
        writeln!(out, "saved {}", transitions(store.run())).unwrap();
        out.flush().unwrap();
    }
}

/// Re-invoked by the kill -9 test with `FIELDBOOK_CRASH_CHILD_DIR` set, it transitions until
/// killed. Run on its own, it checks the child's sequence without a kill: every transition it
/// reports saved is in the state a fresh open loads, and each save adds exactly one.
#[test]
fn crash_child() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        transition(Path::new(&dir), 1_000_000, &mut std::io::stdout().lock());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    transition(tmp.path(), 60, &mut out);
    let counts: Vec<i64> = String::from_utf8(out)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("saved ")?.parse().ok())
        .collect();
    assert_eq!(counts, (1..=60).collect::<Vec<i64>>());
    let rb = runbook();
    let dir = StateDir::at(tmp.path(), false);
    let store = Store::open(&dir, &rb, TARGET, IfCorrupt::Stop).unwrap();
    // Opening again closes the steps left running (more transitions), never loses one.
    let loaded = transitions(store.run());
    assert!(loaded >= 60, "loaded {loaded} of 60 saved");
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
fn kill_9_at_random_moments_never_loses_a_saved_transition() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let iterations: usize = std::env::var(ITERATIONS_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::at(tmp.path(), false);
    let file = dir.run_file("crash", TARGET);
    let journal_file = dir.journal_file("crash", TARGET);
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let began = std::time::Instant::now();
    let mut last_total = 0;
    let mut mid_run_kills = 0;
    for iteration in 0..iterations {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reported = Arc::new(AtomicI64::new(-1));
        let (opened_tx, opened_rx) = mpsc::channel();
        let reader = {
            let reported = Arc::clone(&reported);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let n = line
                        .strip_prefix("saved ")
                        .or_else(|| line.strip_prefix("opened "));
                    if let Some(n) = n.and_then(|n| n.trim().parse::<i64>().ok()) {
                        reported.store(n, Ordering::SeqCst);
                        let _ = opened_tx.send(());
                    }
                }
            })
        };
        // Kill at a random moment once the child is transitioning (a few iterations kill it
        // during start-up too, which must be just as harmless).
        if iteration % 10 != 9 {
            opened_rx
                .recv_timeout(Duration::from_secs(20))
                .expect("child never opened the run");
            std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        } else {
            std::thread::sleep(Duration::from_micros(rng.below(3_000)));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let last = reported.load(Ordering::SeqCst);

        let run = match state_dir::read_run(&file) {
            Ok(run) => run,
            Err(e) if last < 0 && !file.exists() => {
                let _ = e; // killed before the very first save
                continue;
            }
            Err(e) => panic!("iteration {iteration}: state did not load: {e}"),
        };
        let saved = transitions(&run);
        assert!(
            saved >= last,
            "iteration {iteration}: child reported {last} saved, file has {saved}"
        );
        if last >= 0 {
            assert!(
                saved <= last + 1,
                "iteration {iteration}: more than one transition in flight ({last} -> {saved})"
            );
            mid_run_kills += 1;
        }
        assert!(
            saved >= last_total,
            "iteration {iteration}: progress went backwards"
        );
        last_total = saved;
        let text = std::fs::read_to_string(&journal_file).unwrap_or_default();
        let (entries, bad) = journal::parse(&text);
        // A kill can cut the line being appended (Linux may stop a write between pages on
        // SIGKILL); the next open ends it, so at most one fragment per kill, and no later
        // event is lost with it (checked below).
        assert!(
            bad <= iteration + 1,
            "iteration {iteration}: {bad} unreadable journal lines"
        );
        let journalled = entries
            .iter()
            .filter(|e| {
                matches!(
                    e.event,
                    journal::Event::Started { .. }
                        | journal::Event::Finished { .. }
                        | journal::Event::Noted { .. }
                )
            })
            .count() as i64;
        assert!(
            journalled >= saved,
            "iteration {iteration}: journal has {journalled} events, state {saved}"
        );
    }
    eprintln!(
        "{iterations} kills ({mid_run_kills} mid-run), {last_total} transitions saved, {:.1}s",
        began.elapsed().as_secs_f64()
    );
    assert!(
        mid_run_kills >= iterations / 2,
        "too few kills landed mid-run"
    );
    assert!(
        last_total > iterations as i64,
        "the children made too little progress"
    );
    // The figures bench/run reports (every assertion above held, so none was lost).
    eprintln!(
        "crash stress: {iterations} kill -9s ({mid_run_kills} mid-transition), \
         {last_total} step transitions saved, 0 unloadable state files, 0 lost transitions"
    );
    // Whatever was in flight, a normal open still works and reconciles a running step.
    let store = Store::open(&dir, &runbook(), TARGET, IfCorrupt::Stop).unwrap();
    assert!(
        store
            .run()
            .steps
            .values()
            .all(|s| s.status != Status::Running)
    );
}
