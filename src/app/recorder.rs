//! The app's progress store: the screens change their copy of a run and hand the whole run to
//! [`Recorder::save`], which replays the differences through the progress [`Store`]'s
//! transitions (start, finish, skip, mark done, note, values, edits), so every change is
//! journalled and saved atomically and the store's state machine has the last word. The
//! store's run is then handed back to the model as the truth.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::core::progress::{Exit, Run, Status};
use crate::core::runbook::Runbook;
use crate::core::state_dir::{self, StateDir};
use crate::core::store::{IfCorrupt, Store, StoreError};

use super::ProgressStore;

/// Opens one [`Store`] per run the technician touches (holding its lock while the app runs)
/// and reads every other run from disk for the runbook list.
pub struct Recorder {
    state_dir: Option<PathBuf>,
    runbooks: Vec<Runbook>,
    open: BTreeMap<(bool, String, String), Store>,
}

impl Recorder {
    /// A recorder over the state directory (`--state-dir`, or the default) for these runbooks.
    pub fn new(state_dir: Option<PathBuf>, runbooks: Vec<Runbook>) -> Recorder {
        Recorder {
            state_dir,
            runbooks,
            open: BTreeMap::new(),
        }
    }

    fn dir(&self, practice: bool) -> Result<StateDir, StoreError> {
        Ok(StateDir::resolve(self.state_dir.as_deref(), practice)?)
    }

    /// The store of a run, opened (and reconciled) on first use.
    pub fn store(
        &mut self,
        practice: bool,
        runbook: &str,
        target: &str,
    ) -> Result<&mut Store, StoreError> {
        self.store_or(practice, runbook, target, IfCorrupt::Stop)
    }

    fn store_or(
        &mut self,
        practice: bool,
        runbook: &str,
        target: &str,
        if_corrupt: IfCorrupt,
    ) -> Result<&mut Store, StoreError> {
        let key = (practice, runbook.to_string(), target.to_string());
        if !self.open.contains_key(&key) {
            let rb = self
                .runbooks
                .iter()
                .find(|r| r.id == runbook)
                .ok_or_else(|| StoreError::UnknownStep(format!("runbook {runbook}")))?;
            let store = Store::open(&self.dir(practice)?, rb, target, if_corrupt)?;
            self.open.insert(key.clone(), store);
        }
        self.open
            .get_mut(&key)
            .ok_or_else(|| StoreError::UnknownStep(runbook.to_string()))
    }
}

impl ProgressStore for Recorder {
    fn load_all(&mut self) -> anyhow::Result<Vec<Run>> {
        let mut runs = Vec::new();
        for practice in [false, true] {
            let Ok(dir) = self.dir(practice) else {
                continue;
            };
            for file in dir.run_files().unwrap_or_default() {
                // An unreadable file is reported when its run is opened; the list skips it.
                if let Ok(mut run) = state_dir::read_run(&file) {
                    run.practice = practice;
                    runs.push(run);
                }
            }
        }
        Ok(runs)
    }

    fn save(&mut self, run: &Run) -> anyhow::Result<()> {
        let store = self.store(run.practice, &run.runbook, &run.target)?;
        replay(store, run)?;
        Ok(())
    }

    fn current(&mut self, run: &Run) -> Option<Run> {
        let key = (run.practice, run.runbook.clone(), run.target.clone());
        self.open.get(&key).map(|s| {
            let mut r = s.run().clone();
            r.practice = run.practice;
            r
        })
    }

    fn open_run_fresh(
        &mut self,
        practice: bool,
        runbook: &str,
        target: &str,
    ) -> anyhow::Result<Run> {
        self.store_or(practice, runbook, target, IfCorrupt::StartFresh)?;
        self.open_run(practice, runbook, target)
    }

    fn open_run(&mut self, practice: bool, runbook: &str, target: &str) -> anyhow::Result<Run> {
        let store = self.store(practice, runbook, target)?;
        let mut r = store.run().clone();
        r.practice = practice;
        Ok(r)
    }
}

/// Applies to `store` whatever `want` has that the store's run does not, as transitions.
pub fn replay(store: &mut Store, want: &Run) -> Result<(), StoreError> {
    for (name, value) in &want.values {
        if store.run().values.get(name) != Some(value) {
            // Values of variables the runbook does not declare stay in memory only.
            match store.set_value(name, value) {
                Err(StoreError::UnknownVariable(_)) => {}
                other => other?,
            }
        }
    }
    for (id, w) in &want.steps {
        let have = store.run().steps.get(id).cloned().unwrap_or_default();
        for note in w.notes.iter().skip(have.notes.len()) {
            store.note(id, &note.text)?;
        }
        let new_attempt = w.attempts.len() > have.attempts.len();
        if new_attempt && have.status != Status::Running {
            store.start(id)?;
        }
        let running = store.run().status(id) == Status::Running;
        let last = w.attempts.last();
        if running
            && let Some(pid) = last.and_then(|a| a.pid)
            && store
                .run()
                .steps
                .get(id)
                .and_then(|s| s.attempts.last())
                .is_none_or(|a| a.pid != Some(pid))
        {
            store.set_pid(id, pid)?;
        }
        if w.status == store.run().status(id) {
            continue;
        }
        let exit = last.and_then(|a| a.exit);
        // The runner's words, as a run found finished under its supervisor records them too.
        let words = last.and_then(|a| a.outcome.as_deref()).unwrap_or_default();
        let failed_program = last.and_then(|a| a.failed_program);
        match (w.status, running) {
            (Status::Running, _) => {}
            (Status::Done, true) => {
                store.end_with(id, exit.unwrap_or(Exit::Code(0)), true, None, words)?
            }
            (Status::Failed, true) => {
                let exit = exit.unwrap_or(Exit::Code(1));
                store.end_with(id, exit, false, failed_program, words)?
            }
            (Status::Interrupted, true) => {
                let why = last.and_then(|a| a.outcome.as_deref()).unwrap_or("unknown");
                store.mark_interrupted(id, why.trim_start_matches("interrupted: "))?;
            }
            // Cancelled, or a run that could not start: the attempt ends as cancelled.
            (_, true) => store.cancel(id, exit)?,
            (Status::Done, false) => match w.reason.as_deref() {
                Some(r) if !r.trim().is_empty() => store.mark_done(id, r)?,
                _ => store.complete(id)?,
            },
            (Status::Skipped, false) => store.skip(id, w.reason.as_deref().unwrap_or("skipped"))?,
            // Anything else (back to pending, failed without running) is not a transition the
            // store knows; the store's state wins when the run is handed back.
            _ => {}
        }
    }
    for (i, edit) in want.edits.iter().enumerate() {
        match store.run().edits.get(i) {
            None => {
                store.record_edit(edit.clone())?;
            }
            Some(have) if edit.undone && !have.undone => store.mark_edit_undone(i)?,
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::{Attempt, Note, StepState};
    use crate::core::runbook::load_str;

    fn setup() -> (tempfile::TempDir, Recorder, Runbook) {
        let rb = load_str(
            "tui-runbook.toml",
            include_str!("../../tests/fixtures/tui-runbook.toml"),
        )
        .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let rec = Recorder::new(Some(tmp.path().to_path_buf()), vec![rb.clone()]);
        (tmp, rec, rb)
    }

    fn run_with(steps: &[(&str, StepState)]) -> Run {
        Run {
            runbook: "demo".into(),
            target: "gw1".into(),
            steps: steps
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            ..Run::default()
        }
    }

    #[test]
    fn mark_done_skip_and_notes_go_through_the_store_and_survive_a_reopen() {
        let (tmp, mut rec, rb) = setup();
        let done = StepState {
            status: Status::Done,
            notes: vec![Note {
                at: String::new(),
                who: String::new(),
                text: "checked the cabling".into(),
            }],
            ..StepState::default()
        };
        let skipped = StepState {
            status: Status::Skipped,
            reason: Some("no old config".into()),
            ..StepState::default()
        };
        rec.save(&run_with(&[("read", done), ("wipe", skipped)]))
            .unwrap();
        drop(rec);
        let mut again = Recorder::new(Some(tmp.path().to_path_buf()), vec![rb]);
        let runs = again.load_all().unwrap();
        assert_eq!(runs.len(), 1);
        let r = &runs[0];
        assert_eq!(r.status("read"), Status::Done);
        assert_eq!(r.steps["read"].notes[0].text, "checked the cabling");
        assert_eq!(r.status("wipe"), Status::Skipped);
        assert_eq!(r.steps["wipe"].reason.as_deref(), Some("no old config"));
    }

    #[test]
    fn an_attempt_starts_and_ends_through_the_store() {
        let (_tmp, mut rec, _) = setup();
        let mut st = StepState {
            status: Status::Running,
            attempts: vec![Attempt {
                number: 1,
                ..Attempt::default()
            }],
            ..StepState::default()
        };
        rec.save(&run_with(&[("update", st.clone())])).unwrap();
        let r = rec.open_run(false, "demo", "gw1").unwrap();
        assert_eq!(r.status("update"), Status::Running);
        assert!(r.steps["update"].attempts[0].log.is_some());
        st.status = Status::Failed;
        st.attempts[0].exit = Some(Exit::Code(2));
        rec.save(&run_with(&[("update", st)])).unwrap();
        let r = rec.open_run(false, "demo", "gw1").unwrap();
        assert_eq!(r.status("update"), Status::Failed);
        assert_eq!(r.steps["update"].attempts[0].exit, Some(Exit::Code(2)));
    }

    #[test]
    fn a_step_the_app_moved_on_from_while_running_ends_as_cancelled() {
        let (_tmp, mut rec, _) = setup();
        let running = StepState {
            status: Status::Running,
            attempts: vec![Attempt::default()],
            ..StepState::default()
        };
        rec.save(&run_with(&[("update", running)])).unwrap();
        let skip = StepState {
            status: Status::Skipped,
            reason: Some("x".into()),
            attempts: vec![Attempt::default()],
            ..StepState::default()
        };
        let mut want = run_with(&[("update", skip)]);
        want.steps.get_mut("update").unwrap().status = Status::Skipped;
        // The store refuses to skip a running step: the replay ends the attempt instead.
        rec.save(&want).unwrap();
        let r = rec.open_run(false, "demo", "gw1").unwrap();
        assert_eq!(r.status("update"), Status::Cancelled);
    }
}
