//! The step state machine as methods: each checks the transition, changes the run, journals
//! the event and saves before returning.
//!
//! ```text
//!   pending/failed/cancelled/interrupted/done/skipped --start--> running
//!   running --finish--> done | failed      running --cancel--> cancelled
//!   running --mark_interrupted--> interrupted
//!   anything but running --skip(reason)--> skipped
//!   anything but running --complete / mark_done(reason)--> done
//!   anything but running --reopen(reason)--> pending
//! ```

use std::path::PathBuf;

use super::{Store, StoreError};
use crate::core::atomic;
use crate::core::attempt_id;
use crate::core::clock;
use crate::core::host;
use crate::core::journal::Event;
use crate::core::progress::{AppliedEdit, Attempt, Exit, Note, Status, StepState};
use crate::core::state_dir;

/// What the runner needs to run a freshly started attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedAttempt {
    /// Attempt number (1-based).
    pub number: u32,
    /// Absolute path to write the output to (its directory exists).
    pub log: PathBuf,
    /// The same path as stored in the run, relative to the state directory.
    pub log_stored: String,
    /// The attempt's nonce (also in `<log>.attempt`): its supervisor and files carry it.
    pub nonce: String,
}

impl Store {
    fn known_step(&self, step: &str) -> Result<(), StoreError> {
        if self.facts.titles.contains_key(step) || self.run.steps.contains_key(step) {
            Ok(())
        } else {
            Err(StoreError::UnknownStep(step.to_string()))
        }
    }

    fn refuse(&self, step: &str, action: &'static str) -> StoreError {
        StoreError::Transition {
            step: step.to_string(),
            from: self.status_of(step).name(),
            action,
        }
    }

    /// The step's record, created on first touch, with its current title remembered.
    fn step_mut(&mut self, step: &str) -> &mut StepState {
        let title = self.facts.titles.get(step).cloned();
        let st = self.run.steps.entry(step.to_string()).or_default();
        if let Some(t) = title {
            st.title = t;
        }
        st
    }

    /// Starts a new attempt: the step becomes `running` with who, boot id and its log path
    /// (see [`state_dir::attempt_log`]; the log directory is created). Refused while the step
    /// is already running or when it is no longer in the runbook.
    pub fn start(&mut self, step: &str) -> Result<StartedAttempt, StoreError> {
        if !self.facts.titles.contains_key(step) {
            return Err(StoreError::UnknownStep(step.to_string()));
        }
        if self.status_of(step) == Status::Running {
            return Err(self.refuse(step, "start"));
        }
        let orphans = self.orphans(step);
        if !orphans.is_empty() {
            let group = self
                .run
                .steps
                .get(step)
                .and_then(|s| s.attempts.last())
                .and_then(|a| a.pid)
                .unwrap_or_default();
            return Err(StoreError::Orphaned {
                step: step.to_string(),
                group,
                pids: orphans,
            });
        }
        // Never wraps: a number read from the state file may be the largest there is.
        let number = match self.run.steps.get(step).and_then(|s| s.attempts.last()) {
            None => 1,
            Some(a) => a
                .number
                .checked_add(1)
                .ok_or_else(|| StoreError::AttemptLimit(step.to_string()))?,
        };
        let nonce = attempt_id::new_nonce();
        let (log_stored, log) = self.fresh_log(step, number, &nonce)?;
        let base = self.dir.base();
        crate::core::disk_space::with_reserve(&base, || attempt_id::write_nonce(&log, &nonce))
            .0
            .map_err(|e| StoreError::io(&log, e))?;
        let who = self.who.clone();
        let st = self.step_mut(step);
        st.status = Status::Running;
        st.reason = None;
        st.attempts.push(Attempt {
            number,
            started: clock::now(),
            log: Some(log_stored.clone()),
            boot_id: host::boot_id(),
            nonce: Some(nonce.clone()),
            who,
            ..Attempt::default()
        });
        self.commit(Event::Started {
            step: step.to_string(),
            attempt: number,
            log: Some(log_stored.clone()),
        })?;
        Ok(StartedAttempt {
            number,
            log,
            log_stored,
            nonce,
        })
    }

    /// A log path no earlier attempt used: `<step>.<n>.log`, or with the nonce in its name
    /// when files of that name are left (a run started fresh after an unreadable state file,
    /// a hand-edited run), so an old `<log>.exit` is never taken for this attempt's. The log
    /// directory is created.
    fn fresh_log(
        &self,
        step: &str,
        number: u32,
        nonce: &str,
    ) -> Result<(String, PathBuf), StoreError> {
        let (runbook, target) = (&self.run.runbook, &self.run.target);
        let plain = state_dir::attempt_log(runbook, target, step, number);
        let log = self.dir.resolve_path(&plain);
        if let Some(parent) = log.parent() {
            atomic::create_private_dir(parent).map_err(|e| StoreError::io(parent, e))?;
        }
        let used = |log: &std::path::Path| {
            [
                log.to_path_buf(),
                state_dir::exit_file(log),
                crate::core::supervisor::job_path(log),
                attempt_id::nonce_path(log),
            ]
            .iter()
            .any(|p| p.symlink_metadata().is_ok())
        };
        if !used(&log) {
            return Ok((plain, log));
        }
        let unique = state_dir::attempt_log_unique(runbook, target, step, number, nonce);
        let log = self.dir.resolve_path(&unique);
        Ok((unique, log))
    }

    /// Programs of `step`'s last attempt still running after their supervisor died (looked
    /// for only when that attempt was interrupted: one that ended has no programs left).
    pub fn orphans(&self, step: &str) -> Vec<u32> {
        if self.status_of(step) != Status::Interrupted {
            return Vec::new();
        }
        self.local_supervisor(step)
            .map(|s| s.orphans())
            .unwrap_or_default()
    }

    /// The supervisor `step`'s last attempt recorded, when it ran on this machine: an attempt
    /// started on a host over ssh (`<log>.remote`) has its pid there, and this machine's
    /// `/proc` says nothing about it (a local group of that number is someone else's).
    fn local_supervisor(&self, step: &str) -> Option<crate::core::attempt_id::Supervisor> {
        let a = self.run.steps.get(step).and_then(|s| s.attempts.last())?;
        let remote = a
            .log
            .as_deref()
            .is_some_and(|l| crate::core::exec::is_remote(&self.dir.resolve_path(l)));
        if remote {
            return None;
        }
        super::reconcile::supervisor_of(a)
    }

    /// `step`'s last attempt when it ran on a host over ssh and was interrupted: only that
    /// host can tell whether its program still runs (see `core::machine::remote_orphans`).
    pub fn host_attempt(
        &self,
        step: &str,
    ) -> Option<crate::core::machine::remote_orphans::HostAttempt> {
        crate::core::machine::remote_orphans::host_attempt(&self.run, &self.dir, step)
    }

    /// The dead supervisor of `step`'s last attempt, when programs it left still run: what
    /// [`crate::core::attempt_id::Supervisor::stop_orphans`] needs, for a caller that stops
    /// them off its own thread (the app).
    pub fn orphaned_supervisor(&self, step: &str) -> Option<crate::core::attempt_id::Supervisor> {
        if self.orphans(step).is_empty() {
            return None;
        }
        self.local_supervisor(step)
    }

    /// Stops the programs a killed supervisor of `step`'s last attempt left running (SIGTERM,
    /// then SIGKILL after `grace`), so the step can be retried. Returns their pids.
    pub fn stop_orphans(&self, step: &str, grace: std::time::Duration) -> Vec<u32> {
        self.local_supervisor(step)
            .map(|s| s.stop_orphans(grace))
            .unwrap_or_default()
    }

    /// Records the pid of the supervisor a long step runs under, so a later fieldbook can
    /// tell whether it is still alive and re-attach.
    pub fn set_pid(&mut self, step: &str, pid: u32) -> Result<(), StoreError> {
        if self.status_of(step) != Status::Running {
            return Err(self.refuse(step, "record the pid of"));
        }
        let started = attempt_id::start_time(pid);
        let st = self.step_mut(step);
        let mut number = 0;
        if let Some(a) = st.attempts.last_mut() {
            a.pid = Some(pid);
            a.pid_start = started;
            number = a.number;
        }
        self.commit(Event::Detached {
            step: step.to_string(),
            attempt: number,
            pid,
        })
    }

    /// Ends the running attempt with the process's exit: `done` if `ok` (the runner judged
    /// the exit code and output), `failed` otherwise.
    pub fn finish(&mut self, step: &str, exit: Exit, ok: bool) -> Result<(), StoreError> {
        self.end(step, exit, ok, None)
    }

    #[cfg(test)]
    /// Ends the running attempt as failed because program `program` (0-based) of a
    /// multi-command step failed with `exit`.
    pub fn fail_at(&mut self, step: &str, exit: Exit, program: usize) -> Result<(), StoreError> {
        self.end(step, exit, false, Some(program))
    }

    /// Ends the running attempt as the runner reported it: done if `ok`, else failed (at
    /// `program`, 0-based, when known), with the runner's words (`command 2 of 2 failed (exit
    /// 1): ...`). The same record whether the step ran directly, was re-attached or was found
    /// finished under its supervisor.
    pub fn end_with(
        &mut self,
        step: &str,
        exit: Exit,
        ok: bool,
        program: Option<usize>,
        outcome: &str,
    ) -> Result<(), StoreError> {
        let outcome = Some(outcome.to_string()).filter(|o| !o.trim().is_empty());
        self.end_as(step, exit, ok, if ok { None } else { program }, outcome)
    }

    fn end(
        &mut self,
        step: &str,
        exit: Exit,
        ok: bool,
        program: Option<usize>,
    ) -> Result<(), StoreError> {
        self.end_as(step, exit, ok, program, None)
    }

    fn end_as(
        &mut self,
        step: &str,
        exit: Exit,
        ok: bool,
        program: Option<usize>,
        outcome: Option<String>,
    ) -> Result<(), StoreError> {
        if self.status_of(step) != Status::Running {
            return Err(self.refuse(step, "finish"));
        }
        let status = if ok { Status::Done } else { Status::Failed };
        let event = self.set_ended(step, status, Some(exit), outcome);
        if let Some(a) = self.step_mut(step).attempts.last_mut() {
            a.failed_program = program;
        }
        self.commit(event)
    }

    /// A running attempt that failed before any program ran (an edit the engine refused: a
    /// missing file, a directory): failed, with `why` as its outcome and no exit status.
    pub fn fail_without_exit(&mut self, step: &str, why: &str) -> Result<(), StoreError> {
        if self.status_of(step) != Status::Running {
            return Err(self.refuse(step, "fail"));
        }
        let event = self.set_ended(step, Status::Failed, None, Some(why.to_string()));
        self.commit(event)
    }

    /// The technician stopped a running step (`exit` is how the process ended, if known).
    pub fn cancel(&mut self, step: &str, exit: Option<Exit>) -> Result<(), StoreError> {
        if self.status_of(step) != Status::Running {
            return Err(self.refuse(step, "cancel"));
        }
        let event = self.set_ended(step, Status::Cancelled, exit, Some("cancelled".into()));
        self.commit(event)
    }

    /// A running step whose outcome is unknown (the app is being hung up or terminated and
    /// ends the step's process group): becomes `interrupted`, to be asked about on resume.
    pub fn mark_interrupted(&mut self, step: &str, why: &str) -> Result<(), StoreError> {
        if self.status_of(step) != Status::Running {
            return Err(self.refuse(step, "interrupt"));
        }
        let event = self.set_ended(
            step,
            Status::Interrupted,
            None,
            Some(format!("interrupted: {why}")),
        );
        self.commit(event)
    }

    #[cfg(test)]
    /// On SIGHUP/SIGTERM: every running step that is not detached (no supervisor pid) becomes
    /// `interrupted`, saved once; detached ones keep running and are re-attached later.
    /// Returns the steps interrupted.
    pub fn interrupt_attached(&mut self, why: &str) -> Result<Vec<String>, StoreError> {
        let ids: Vec<String> = self
            .run
            .steps
            .iter()
            .filter(|(_, st)| {
                st.status == Status::Running && st.attempts.last().is_none_or(|a| a.pid.is_none())
            })
            .map(|(id, _)| id.clone())
            .collect();
        let events = ids
            .iter()
            .map(|id| {
                self.set_ended(
                    id,
                    Status::Interrupted,
                    None,
                    Some(format!("interrupted: {why}")),
                )
            })
            .collect();
        self.commit_many(events)?;
        Ok(ids)
    }

    /// Skips a step on purpose; the reason goes in the report.
    pub fn skip(&mut self, step: &str, reason: &str) -> Result<(), StoreError> {
        self.known_step(step)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::EmptyReason("skip a step"));
        }
        if self.status_of(step) == Status::Running {
            return Err(self.refuse(step, "skip"));
        }
        let st = self.step_mut(step);
        st.status = Status::Skipped;
        st.reason = Some(reason.to_string());
        self.commit(Event::Skipped {
            step: step.to_string(),
            reason: reason.to_string(),
        })
    }

    /// The technician confirms a step is done (a manual step, a form filled in, an edit
    /// applied): no reason needed.
    pub fn complete(&mut self, step: &str) -> Result<(), StoreError> {
        self.set_done(step, None)
    }

    /// The technician overrides the recorded outcome (a failed or interrupted step they fixed
    /// or ran by hand): `done`, with the reason in the report.
    pub fn mark_done(&mut self, step: &str, reason: &str) -> Result<(), StoreError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::EmptyReason("mark a step done"));
        }
        self.set_done(step, Some(reason.to_string()))
    }

    fn set_done(&mut self, step: &str, reason: Option<String>) -> Result<(), StoreError> {
        self.known_step(step)?;
        if self.status_of(step) == Status::Running {
            return Err(self.refuse(step, "mark done"));
        }
        let st = self.step_mut(step);
        st.status = Status::Done;
        st.reason.clone_from(&reason);
        self.commit(Event::MarkedDone {
            step: step.to_string(),
            reason: reason.unwrap_or_default(),
        })
    }

    /// Puts a finished step back to pending (its edits were undone), with the reason in the
    /// journal; its attempts and notes stay in the record.
    pub fn reopen(&mut self, step: &str, reason: &str) -> Result<(), StoreError> {
        self.known_step(step)?;
        if self.status_of(step) == Status::Running {
            return Err(self.refuse(step, "put back"));
        }
        let st = self.step_mut(step);
        st.status = Status::Pending;
        st.reason = None;
        self.commit(Event::Reopened {
            step: step.to_string(),
            reason: reason.trim().to_string(),
        })
    }

    /// Attaches a note to a step (any status, removed steps included).
    pub fn note(&mut self, step: &str, text: &str) -> Result<(), StoreError> {
        self.known_step(step)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::EmptyReason("add a note"));
        }
        let note = Note {
            at: clock::now(),
            who: self.who.clone(),
            text: text.to_string(),
        };
        self.step_mut(step).notes.push(note);
        self.commit(Event::Noted {
            step: step.to_string(),
            text: text.to_string(),
        })
    }

    /// Records a variable's value. A `secret` variable's value is never stored (any old
    /// value is removed) and the journal only says it was set (once per new value); the caller
    /// keeps it in memory.
    pub fn set_value(&mut self, name: &str, value: &str) -> Result<(), StoreError> {
        if !self.facts.variables.contains(name) {
            return Err(StoreError::UnknownVariable(name.to_string()));
        }
        let stored = if self.facts.secrets.contains(name) {
            // Callers that re-save the whole model pass the same secret again and again:
            // journal it once per new value, and never the value itself.
            if !self.secret_changed(name, value) && !self.run.values.contains_key(name) {
                return Ok(());
            }
            self.run.values.remove(name);
            None
        } else {
            self.run.values.insert(name.to_string(), value.to_string());
            Some(value.to_string())
        };
        self.commit(Event::ValueSet {
            name: name.to_string(),
            value: stored,
        })
    }

    /// Records an applied file edit (with its diff and backup) for the report. Returns its
    /// index, for [`Store::mark_edit_undone`].
    pub fn record_edit(&mut self, edit: AppliedEdit) -> Result<usize, StoreError> {
        self.known_step(&edit.step)?;
        let event = Event::EditApplied {
            step: edit.step.clone(),
            path: edit.path.clone(),
            backup: edit.backup.clone(),
        };
        self.run.edits.push(edit);
        let index = self.run.edits.len() - 1;
        self.commit(event)?;
        Ok(index)
    }

    /// Records that edit `index` was undone (the file restored from its backup).
    pub fn mark_edit_undone(&mut self, index: usize) -> Result<(), StoreError> {
        let Some(edit) = self.run.edits.get_mut(index) else {
            return Err(StoreError::UnknownStep(format!("edit #{index}")));
        };
        edit.undone = true;
        let event = Event::EditUndone {
            step: edit.step.clone(),
            path: edit.path.clone(),
        };
        self.commit(event)
    }
}
