//! The app's progress store: every change of progress is a named [`Transition`] (asked for by
//! the screens with `Effect::Record`, or made by the step runner as a step starts and ends)
//! that [`Recorder::record`] hands to the run's [`Store`], so every change is journalled and
//! saved atomically and the store's state machine has the last word. The store's run is then
//! handed back to the model as the truth.

use std::collections::BTreeMap;

use std::path::PathBuf;

use crate::core::progress::Run;
use crate::core::runbook::Runbook;
use crate::core::settings::Settings;
use crate::core::state_dir;
use crate::core::store::{IfCorrupt, Store, StoreError, Transition};
use crate::ui::Msg;

use super::follow::Follower;

/// Opens one [`Store`] per run the technician touches (holding its lock while the app runs)
/// and reads every other run from disk for the runbook list.
pub(crate) struct Recorder {
    runbooks: Vec<Runbook>,
    open: BTreeMap<(bool, String, String), Store>,
    /// The run another fieldbook holds that is followed read-only, if any.
    pub(super) follower: Follower,
}

/// The message that answers opening a run: the run, the question about an unreadable state
/// file, or the problem in words.
pub(crate) fn opened(runbook: String, result: anyhow::Result<Run>) -> Msg {
    match result {
        Ok(run) => Msg::RunOpened(Box::new(run)),
        Err(e) => match e.downcast_ref::<StoreError>() {
            Some(corrupt @ StoreError::Corrupt { .. }) => Msg::RunCorrupt {
                runbook,
                message: corrupt.to_string(),
            },
            Some(held @ StoreError::InUse { .. }) => Msg::RunHeld {
                runbook,
                message: held.to_string(),
            },
            _ => Msg::Problem(format!("{e:#}")),
        },
    }
}

impl Recorder {
    /// A recorder for these runbooks.
    pub(crate) fn new(runbooks: Vec<Runbook>) -> Recorder {
        Recorder {
            runbooks,
            open: BTreeMap::new(),
            follower: Follower::default(),
        }
    }

    /// The store of a run of the current settings' mode and target, opened (and reconciled)
    /// on first use.
    fn store_or(
        &mut self,
        settings: &Settings,
        runbook: &str,
        if_corrupt: IfCorrupt,
    ) -> Result<&mut Store, StoreError> {
        let key = (
            settings.practice,
            runbook.to_string(),
            settings.target.clone(),
        );
        if !self.open.contains_key(&key) {
            let rb = self
                .runbooks
                .iter()
                .find(|r| r.id == runbook)
                .ok_or_else(|| StoreError::UnknownStep(format!("runbook {runbook}")))?;
            let mut store = Store::open(&settings.state()?, rb, &settings.target, if_corrupt)?;
            // An edit a kill left unrecorded on `--host` is settled from the host's file (only
            // after such a kill is anything read there).
            if !settings.practice
                && let Some(session) = settings.machine.ssh()
            {
                store.recover_host_edits(session);
            }
            self.open.insert(key.clone(), store);
        }
        self.open
            .get_mut(&key)
            .ok_or_else(|| StoreError::UnknownStep(runbook.to_string()))
    }

    /// Every run on disk, real and practice (all targets); unreadable files are skipped here
    /// and reported when their run is opened.
    pub(crate) fn load_all(&mut self, settings: &Settings) -> Vec<Run> {
        let mut runs = Vec::new();
        for practice in [false, true] {
            let mode = Settings {
                practice,
                ..settings.clone()
            };
            let Ok(dir) = mode.state() else {
                continue;
            };
            for file in dir.run_files().unwrap_or_default() {
                if let Ok(mut run) = state_dir::read_run(&file) {
                    run.practice = practice;
                    runs.push(run);
                }
            }
        }
        runs
    }

    /// Makes one named change to the run of `runbook` in the mode and for the target of
    /// `settings`, journalled and saved; returns the stored run and, for a start, the new
    /// attempt's log.
    pub(crate) fn record(
        &mut self,
        settings: &Settings,
        runbook: &str,
        t: &Transition,
    ) -> anyhow::Result<(Run, Option<PathBuf>)> {
        let store = self.store_or(settings, runbook, IfCorrupt::Stop)?;
        let started = store.record(t)?;
        let mut run = store.run().clone();
        run.practice = settings.practice;
        Ok((run, started.map(|s| s.log)))
    }

    /// Closes the run of `runbook` (mode and target of `settings`): its lock is released. A
    /// later change opens it again.
    pub(crate) fn close(&mut self, settings: &Settings, runbook: &str) {
        let key = (
            settings.practice,
            runbook.to_string(),
            settings.target.clone(),
        );
        self.open.remove(&key);
    }

    /// What the last change of the run of `runbook` left to say (a full disk), for the status
    /// line.
    pub(crate) fn save_problem(&self, settings: &Settings, runbook: &str) -> Option<String> {
        let key = (
            settings.practice,
            runbook.to_string(),
            settings.target.clone(),
        );
        self.open.get(&key).and_then(|s| s.save_problem())
    }

    /// The dead supervisor of `step`, when programs it left still run (see
    /// [`Store::orphaned_supervisor`]).
    pub(crate) fn orphaned_supervisor(
        &mut self,
        settings: &Settings,
        runbook: &str,
        step: &str,
    ) -> Option<crate::core::attempt_id::Supervisor> {
        let store = self.store_or(settings, runbook, IfCorrupt::Stop).ok()?;
        store.orphaned_supervisor(step)
    }

    /// `step`'s last attempt when it ran on a host and was interrupted (see
    /// [`Store::host_attempt`]).
    pub(crate) fn host_attempt(
        &mut self,
        settings: &Settings,
        runbook: &str,
        step: &str,
    ) -> Option<crate::core::machine::remote_orphans::HostAttempt> {
        let store = self.store_or(settings, runbook, IfCorrupt::Stop).ok()?;
        store.host_attempt(step)
    }

    /// Opens a run after the technician agreed to start fresh because its state file was
    /// unreadable (it has been moved aside).
    pub(crate) fn open_run_fresh(
        &mut self,
        settings: &Settings,
        runbook: &str,
    ) -> anyhow::Result<Run> {
        self.store_or(settings, runbook, IfCorrupt::StartFresh)?;
        self.open_run(settings, runbook)
    }

    /// Opens a run when its runbook is opened (locking it and reconciling steps left
    /// running); returns the run as stored.
    pub(crate) fn open_run(&mut self, settings: &Settings, runbook: &str) -> anyhow::Result<Run> {
        let store = self.store_or(settings, runbook, IfCorrupt::Stop)?;
        let mut r = store.run().clone();
        r.practice = settings.practice;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::{Exit, Status};
    use crate::core::runbook::load_str;
    use crate::core::runner::RunOutcome;

    fn setup() -> (tempfile::TempDir, Recorder, Settings) {
        let rb = load_str(
            "tui-runbook.toml",
            include_str!("../../tests/fixtures/tui-runbook.toml"),
        )
        .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let settings = Settings {
            state_dir: Some(tmp.path().to_path_buf()),
            target: "gw1".into(),
            ..Settings::default()
        };
        (tmp, Recorder::new(vec![rb]), settings)
    }

    fn step(id: &str) -> String {
        id.to_string()
    }

    /// Issue 15 item 1: opening a run another fieldbook holds offers to follow it (naming the
    /// holder), and following shows that fieldbook's changes as it saves them, without ever
    /// taking the lock or writing.
    #[test]
    fn a_held_run_is_offered_and_followed_as_its_holder_saves_it() {
        use crate::core::state_dir::StateDir;
        let (tmp, mut recorder, settings) = setup();
        let rb = recorder.runbooks[0].clone();
        let dir = StateDir::at(tmp.path(), false);
        let mut holder = Store::open(&dir, &rb, "gw1", IfCorrupt::Stop).unwrap();
        let msg = opened("demo".into(), recorder.open_run(&settings, "demo"));
        let Msg::RunHeld { runbook, message } = msg else {
            panic!("not offered to follow: {msg:?}")
        };
        assert_eq!(runbook, "demo");
        assert!(message.contains("since"), "{message}");
        let (tx, rx) = std::sync::mpsc::channel();
        recorder.follower.start(&settings, "demo", tx);
        let first = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
        assert!(
            matches!(first, Msg::Followed { run: Some(_), .. }),
            "{first:?}"
        );
        holder
            .record(&Transition::MarkedDone {
                step: step("read"),
                reason: None,
            })
            .unwrap();
        let next = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
        let Msg::Followed { run: Some(run), .. } = next else {
            panic!("{next:?}")
        };
        assert_eq!(run.status("read"), Status::Done);
        // Following never took the lock: the holder still has it.
        assert!(matches!(
            recorder.open_run(&settings, "demo").map_err(|e| e.to_string()),
            Err(e) if e.contains("another fieldbook")
        ));
        // The holder lets go: the follower is told (without having taken the lock).
        drop(holder);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
            if matches!(left, Msg::HolderLeft { .. }) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no HolderLeft");
        }
        recorder.follower.stop();
        assert!(recorder.open_run(&settings, "demo").is_ok());
    }

    #[test]
    fn mark_done_skip_and_notes_are_recorded_and_survive_a_reopen() {
        let (tmp, mut rec, settings) = setup();
        for t in [
            Transition::MarkedDone {
                step: step("read"),
                reason: None,
            },
            Transition::Noted {
                step: step("read"),
                text: "checked the cabling".into(),
            },
            Transition::Skipped {
                step: step("wipe"),
                reason: "no old config".into(),
            },
        ] {
            rec.record(&settings, "demo", &t).unwrap();
        }
        drop(rec);
        let (_, mut again, _) = setup();
        let runs = again.load_all(&settings);
        drop(tmp);
        assert_eq!(runs.len(), 1);
        let r = &runs[0];
        assert_eq!(r.status("read"), Status::Done);
        assert_eq!(r.steps["read"].notes[0].text, "checked the cabling");
        assert_eq!(r.status("wipe"), Status::Skipped);
        assert_eq!(r.steps["wipe"].reason.as_deref(), Some("no old config"));
    }

    #[test]
    fn an_attempt_starts_with_its_log_and_ends_with_the_runners_verdict() {
        let (_tmp, mut rec, settings) = setup();
        let (run, log) = rec
            .record(
                &settings,
                "demo",
                &Transition::Started {
                    step: step("update"),
                },
            )
            .unwrap();
        assert_eq!(run.status("update"), Status::Running);
        assert!(log.unwrap().parent().unwrap().is_dir());
        let outcome = RunOutcome {
            status: Status::Failed,
            exit: Some(Exit::Code(2)),
            failed_program: Some(1),
            message: "command 2 of 2 failed (exit 2)".into(),
        };
        let t = Transition::Finished {
            step: step("update"),
            outcome,
        };
        let (run, _) = rec.record(&settings, "demo", &t).unwrap();
        assert_eq!(run.status("update"), Status::Failed);
        let a = &run.steps["update"].attempts[0];
        assert_eq!((a.exit, a.failed_program), (Some(Exit::Code(2)), Some(1)));
    }

    /// Issue 15 item 2: leaving a runbook releases its lock.
    #[test]
    fn closing_a_run_releases_its_lock() {
        let (_tmp, mut rec, settings) = setup();
        rec.open_run(&settings, "demo").unwrap();
        let dir = settings.state().unwrap();
        let rb = rec.runbooks[0].clone();
        let other = |rb| Store::open(&dir, rb, "gw1", IfCorrupt::Stop);
        assert!(matches!(other(&rb), Err(StoreError::InUse { .. })));
        rec.close(&settings, "demo");
        assert!(other(&rb).is_ok());
    }

    #[test]
    fn a_transition_the_state_machine_refuses_changes_nothing() {
        let (_tmp, mut rec, settings) = setup();
        rec.record(
            &settings,
            "demo",
            &Transition::Started {
                step: step("update"),
            },
        )
        .unwrap();
        let skip = Transition::Skipped {
            step: step("update"),
            reason: "x".into(),
        };
        assert!(rec.record(&settings, "demo", &skip).is_err());
        let run = rec.open_run(&settings, "demo").unwrap();
        assert_eq!(run.status("update"), Status::Running);
    }
}
