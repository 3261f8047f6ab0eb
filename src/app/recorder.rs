//! The app's progress store: the screens change their copy of a run and hand the whole run to
//! [`Recorder::save`], which replays the differences through the progress [`Store`]'s
//! transitions (start, finish, skip, mark done, note, values, edits), so every change is
//! journalled and saved atomically and the store's state machine has the last word. The
//! store's run is then handed back to the model as the truth.

use std::collections::BTreeMap;

use crate::core::progress::{Exit, Run, Status};
use crate::core::runbook::Runbook;
use crate::core::settings::Settings;
use crate::core::state_dir;
use crate::core::store::{IfCorrupt, Store, StoreError};
use crate::ui::Msg;

/// Opens one [`Store`] per run the technician touches (holding its lock while the app runs)
/// and reads every other run from disk for the runbook list.
pub struct Recorder {
    runbooks: Vec<Runbook>,
    open: BTreeMap<(bool, String, String), Store>,
}

/// The message that answers opening a run: the run, the question about an unreadable state
/// file, or the problem in words.
pub fn opened(runbook: String, result: anyhow::Result<Run>) -> Msg {
    match result {
        Ok(run) => Msg::RunOpened(Box::new(run)),
        Err(e) => match e.downcast_ref::<StoreError>() {
            Some(corrupt @ StoreError::Corrupt { .. }) => Msg::RunCorrupt {
                runbook,
                message: corrupt.to_string(),
            },
            _ => Msg::Problem(format!("{e:#}")),
        },
    }
}

impl Recorder {
    /// A recorder for these runbooks.
    pub fn new(runbooks: Vec<Runbook>) -> Recorder {
        Recorder {
            runbooks,
            open: BTreeMap::new(),
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
            let store = Store::open(&settings.state()?, rb, &settings.target, if_corrupt)?;
            self.open.insert(key.clone(), store);
        }
        self.open
            .get_mut(&key)
            .ok_or_else(|| StoreError::UnknownStep(runbook.to_string()))
    }

    /// Every run on disk, real and practice (all targets); unreadable files are skipped here
    /// and reported when their run is opened.
    pub fn load_all(&mut self, settings: &Settings) -> Vec<Run> {
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

    /// Saves a run the screens changed, as transitions of its store.
    pub fn save(&mut self, settings: &Settings, run: &Run) -> anyhow::Result<()> {
        let of_run = Settings {
            practice: run.practice,
            target: run.target.clone(),
            ..settings.clone()
        };
        let store = self.store_or(&of_run, &run.runbook, IfCorrupt::Stop)?;
        replay(store, run)?;
        Ok(())
    }

    /// What the last save of `run` left to say (a full disk), for the status line.
    pub fn save_problem(&self, run: &Run) -> Option<String> {
        let key = (run.practice, run.runbook.clone(), run.target.clone());
        self.open.get(&key).and_then(|s| s.save_problem())
    }

    /// The stored truth about a run after a save.
    pub fn current(&mut self, run: &Run) -> Option<Run> {
        let key = (run.practice, run.runbook.clone(), run.target.clone());
        self.open.get(&key).map(|s| {
            let mut r = s.run().clone();
            r.practice = run.practice;
            r
        })
    }

    /// Opens a run after the technician agreed to start fresh because its state file was
    /// unreadable (it has been moved aside).
    pub fn open_run_fresh(&mut self, settings: &Settings, runbook: &str) -> anyhow::Result<Run> {
        self.store_or(settings, runbook, IfCorrupt::StartFresh)?;
        self.open_run(settings, runbook)
    }

    /// Opens a run when its runbook is opened (locking it and reconciling steps left
    /// running); returns the run as stored.
    pub fn open_run(&mut self, settings: &Settings, runbook: &str) -> anyhow::Result<Run> {
        let store = self.store_or(settings, runbook, IfCorrupt::Stop)?;
        let mut r = store.run().clone();
        r.practice = settings.practice;
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
        let rec = Recorder::new(vec![rb.clone()]);
        (tmp, rec, rb)
    }

    fn settings(tmp: &tempfile::TempDir) -> Settings {
        Settings {
            state_dir: Some(tmp.path().to_path_buf()),
            target: "gw1".into(),
            ..Settings::default()
        }
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
        rec.save(
            &settings(&tmp),
            &run_with(&[("read", done), ("wipe", skipped)]),
        )
        .unwrap();
        drop(rec);
        let mut again = Recorder::new(vec![rb]);
        let runs = again.load_all(&settings(&tmp));
        assert_eq!(runs.len(), 1);
        let r = &runs[0];
        assert_eq!(r.status("read"), Status::Done);
        assert_eq!(r.steps["read"].notes[0].text, "checked the cabling");
        assert_eq!(r.status("wipe"), Status::Skipped);
        assert_eq!(r.steps["wipe"].reason.as_deref(), Some("no old config"));
    }

    #[test]
    fn an_attempt_starts_and_ends_through_the_store() {
        let (tmp, mut rec, _) = setup();
        let mut st = StepState {
            status: Status::Running,
            attempts: vec![Attempt {
                number: 1,
                ..Attempt::default()
            }],
            ..StepState::default()
        };
        rec.save(&settings(&tmp), &run_with(&[("update", st.clone())]))
            .unwrap();
        let r = rec.open_run(&settings(&tmp), "demo").unwrap();
        assert_eq!(r.status("update"), Status::Running);
        assert!(r.steps["update"].attempts[0].log.is_some());
        st.status = Status::Failed;
        st.attempts[0].exit = Some(Exit::Code(2));
        rec.save(&settings(&tmp), &run_with(&[("update", st)]))
            .unwrap();
        let r = rec.open_run(&settings(&tmp), "demo").unwrap();
        assert_eq!(r.status("update"), Status::Failed);
        assert_eq!(r.steps["update"].attempts[0].exit, Some(Exit::Code(2)));
    }

    #[test]
    fn a_step_the_app_moved_on_from_while_running_ends_as_cancelled() {
        let (tmp, mut rec, _) = setup();
        let running = StepState {
            status: Status::Running,
            attempts: vec![Attempt::default()],
            ..StepState::default()
        };
        rec.save(&settings(&tmp), &run_with(&[("update", running)]))
            .unwrap();
        let skip = StepState {
            status: Status::Skipped,
            reason: Some("x".into()),
            attempts: vec![Attempt::default()],
            ..StepState::default()
        };
        let mut want = run_with(&[("update", skip)]);
        want.steps.get_mut("update").unwrap().status = Status::Skipped;
        // The store refuses to skip a running step: the replay ends the attempt instead.
        rec.save(&settings(&tmp), &want).unwrap();
        let r = rec.open_run(&settings(&tmp), "demo").unwrap();
        assert_eq!(r.status("update"), Status::Cancelled);
    }
}
