//! Progress changes by name: a [`Transition`] is one change the store's state machine knows
//! (the same ones the journal records). The app's screens ask for them
//! (`Effect::Record`), the app's step runner and `exec`/`auto` make them as a step runs, and
//! all of them reach the store through [`Store::record`].

use super::steps::StartedAttempt;
use super::{Store, StoreError};
use crate::core::progress::{AppliedEdit, Exit, Status};
use crate::core::runner::RunOutcome;

/// One named change of a run's progress.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// An attempt of the step starts (its programs are about to run).
    Started {
        /// Step id.
        step: String,
    },
    /// The running attempt runs under the supervisor `pid`.
    Detached {
        /// Step id.
        step: String,
        /// Supervisor pid.
        pid: u32,
    },
    /// The running attempt ended as the runner judged it.
    Finished {
        /// Step id.
        step: String,
        /// Status, exit, failing program and words.
        outcome: RunOutcome,
    },
    /// The technician skipped the step, for a reason.
    Skipped {
        /// Step id.
        step: String,
        /// Why.
        reason: String,
    },
    /// The step is done without a run of it: confirmed (`reason` `None`: a manual step, a form
    /// saved, an edit applied) or marked done by hand for a reason.
    MarkedDone {
        /// Step id.
        step: String,
        /// Why, when it was not simply confirmed.
        reason: Option<String>,
    },
    /// A note on the step.
    Noted {
        /// Step id.
        step: String,
        /// The note.
        text: String,
    },
    /// Values of the runbook's variables (a form saved).
    ValuesSet {
        /// Name and value, in order.
        values: Vec<(String, String)>,
    },
    /// A file edit was applied (with its diff and backup).
    EditApplied {
        /// The edit.
        edit: AppliedEdit,
    },
    /// Recorded edit `index` was undone (restored from its backup).
    EditUndone {
        /// Index into `Run::edits`.
        index: usize,
    },
    /// The step is back to pending (its edits were undone).
    Undone {
        /// Step id.
        step: String,
        /// Why.
        reason: String,
    },
}

impl Store {
    /// Makes one named change, journalled and saved before it returns. `Started` answers with
    /// the new attempt's log.
    pub fn record(&mut self, t: &Transition) -> Result<Option<StartedAttempt>, StoreError> {
        match t {
            Transition::Started { step } => return self.start(step).map(Some),
            Transition::Detached { step, pid } => self.set_pid(step, *pid)?,
            Transition::Finished { step, outcome } => self.end_by(step, outcome)?,
            Transition::Skipped { step, reason } => self.skip(step, reason)?,
            Transition::MarkedDone { step, reason } => match reason {
                Some(r) => self.mark_done(step, r)?,
                None => self.complete(step)?,
            },
            Transition::Noted { step, text } => self.note(step, text)?,
            Transition::ValuesSet { values } => {
                for (name, value) in values {
                    self.set_value(name, value)?;
                }
            }
            Transition::EditApplied { edit } => {
                self.record_edit(edit.clone())?;
            }
            Transition::EditUndone { index } => self.mark_edit_undone(*index)?,
            Transition::Undone { step, reason } => self.reopen(step, reason)?,
        }
        Ok(None)
    }

    /// Ends the running attempt as the runner reported it: done, failed (with the failing
    /// program), cancelled or interrupted.
    fn end_by(&mut self, step: &str, outcome: &RunOutcome) -> Result<(), StoreError> {
        let message = &outcome.message;
        match outcome.status {
            Status::Done => {
                let exit = outcome.exit.unwrap_or(Exit::Code(0));
                self.end_with(step, exit, true, None, message)
            }
            Status::Cancelled => self.cancel(step, outcome.exit),
            Status::Interrupted => {
                self.mark_interrupted(step, message.trim_start_matches("interrupted: "))
            }
            _ => {
                // A program that could not start has no exit; 127 is the shell's "not found".
                let exit = outcome.exit.unwrap_or(Exit::Code(127));
                self.end_with(step, exit, false, outcome.failed_program, message)
            }
        }
    }
}
