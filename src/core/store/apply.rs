//! Saving a whole run handed back by the app's model (which keeps its own copy and returns it
//! in an `Effect::Save`): the store checks that recorded history only grew, derives the
//! journal events from the difference, keeps secrets out, and saves atomically as usual.

use super::{Store, StoreError};
use crate::core::journal::Event;
use crate::core::progress::{Attempt, Run, Status, StepState};

impl Store {
    /// Replaces the run with `new` if it only adds to what is recorded: attempts and notes may
    /// be appended, the last open attempt may be ended, statuses and reasons may change, edits
    /// may be appended or marked undone, values may change. Removing or rewriting history is
    /// refused ([`StoreError::History`]). Secret values are dropped. Returns the number of
    /// journal events written.
    pub fn apply(&mut self, new: &Run) -> Result<usize, StoreError> {
        if new.runbook != self.run.runbook || new.target != self.run.target {
            return Err(history(format!(
                "it is the run of '{}' on '{}', not '{}' on '{}'",
                new.runbook, new.target, self.run.runbook, self.run.target
            )));
        }
        let mut events = Vec::new();
        if let Some(id) = self
            .run
            .steps
            .keys()
            .find(|id| !new.steps.contains_key(*id))
        {
            return Err(history(format!("step '{id}' would be dropped")));
        }
        for (id, st) in &new.steps {
            let old = self.run.steps.get(id).cloned().unwrap_or_default();
            if !self.facts.titles.contains_key(id) && !self.run.steps.contains_key(id) {
                return Err(StoreError::UnknownStep(id.clone()));
            }
            step_events(id, &old, st, &mut events)?;
        }
        let mut values = new.values.clone();
        values.retain(|k, _| !self.facts.secrets.contains(k));
        for (k, v) in &new.values {
            let secret = self.facts.secrets.contains(k);
            let changed = if secret {
                self.secret_changed(k, v)
            } else {
                self.run.values.get(k) != Some(v)
            };
            if changed {
                events.push(Event::ValueSet {
                    name: k.clone(),
                    value: (!secret).then(|| v.clone()),
                });
            }
        }
        let old_edits = &self.run.edits;
        if new.edits.len() < old_edits.len() {
            return Err(history("an applied edit would be dropped".into()));
        }
        for (i, e) in new.edits.iter().enumerate() {
            match old_edits.get(i) {
                Some(o) => {
                    let mut same = o.clone();
                    same.undone = e.undone;
                    if &same != e || (o.undone && !e.undone) {
                        return Err(history(format!("edit of {} would be rewritten", o.path)));
                    }
                    if !o.undone && e.undone {
                        events.push(Event::EditUndone {
                            step: e.step.clone(),
                            path: e.path.clone(),
                        });
                    }
                }
                None => events.push(Event::EditApplied {
                    step: e.step.clone(),
                    path: e.path.clone(),
                    backup: e.backup.clone(),
                }),
            }
        }
        let mut steps = new.steps.clone();
        for (id, st) in &mut steps {
            if let Some(t) = self.facts.titles.get(id) {
                st.title.clone_from(t);
            }
        }
        let count = events.len();
        self.run.steps = steps;
        self.run.values = values;
        self.run.edits = new.edits.clone();
        if count > 0 {
            self.commit_many(events)?;
        }
        Ok(count)
    }
}

fn history(what: String) -> StoreError {
    StoreError::History(what)
}

/// Compares one step's record before and after, pushing the events that explain the change.
fn step_events(
    id: &str,
    old: &StepState,
    new: &StepState,
    events: &mut Vec<Event>,
) -> Result<(), StoreError> {
    if new.attempts.len() < old.attempts.len() || new.notes.len() < old.notes.len() {
        return Err(history(format!("step '{id}' would lose attempts or notes")));
    }
    if new.notes[..old.notes.len()] != old.notes[..] {
        return Err(history(format!("a note of step '{id}' would be rewritten")));
    }
    for (i, a) in new.attempts.iter().enumerate() {
        match old.attempts.get(i) {
            Some(o) => closing_events(id, o, a, new.status, events)?,
            None => {
                events.push(Event::Started {
                    step: id.to_string(),
                    attempt: a.number,
                    log: a.log.clone(),
                });
                closing_events(id, &open_part(a), a, new.status, events)?;
            }
        }
    }
    for n in &new.notes[old.notes.len()..] {
        events.push(Event::Noted {
            step: id.to_string(),
            text: n.text.clone(),
        });
    }
    let attempts_changed = new.attempts != old.attempts;
    if new.status != old.status || new.reason != old.reason {
        let reason = new.reason.clone().unwrap_or_default();
        match new.status {
            Status::Skipped => events.push(Event::Skipped {
                step: id.to_string(),
                reason,
            }),
            Status::Done if !attempts_changed => events.push(Event::MarkedDone {
                step: id.to_string(),
                reason,
            }),
            _ if attempts_changed => {}
            status => events.push(Event::Finished {
                step: id.to_string(),
                attempt: new.attempts.last().map_or(0, |a| a.number),
                status,
                exit: None,
                outcome: Some(format!("set to {}", status.name())),
            }),
        }
    }
    Ok(())
}

/// An attempt as it was when it started (nothing about its end), to derive its end events.
fn open_part(a: &Attempt) -> Attempt {
    Attempt {
        ended: None,
        exit: None,
        failed_program: None,
        outcome: None,
        pid: None,
        ..a.clone()
    }
}

/// Events for an existing attempt that gained its pid or its end; anything else changing is
/// a rewrite of history.
fn closing_events(
    id: &str,
    old: &Attempt,
    new: &Attempt,
    status: Status,
    events: &mut Vec<Event>,
) -> Result<(), StoreError> {
    if old == new {
        return Ok(());
    }
    let fixed_same = old.number == new.number
        && old.started == new.started
        && old.log == new.log
        && old.who == new.who
        && old.boot_id == new.boot_id;
    let end_kept = old.ended.is_none() || (old.ended == new.ended && old.exit == new.exit);
    let pid_kept = old.pid.is_none() || old.pid == new.pid;
    if !fixed_same || !end_kept || !pid_kept {
        return Err(history(format!(
            "attempt {} of step '{id}' would be rewritten",
            old.number
        )));
    }
    if old.pid.is_none()
        && let Some(pid) = new.pid
    {
        events.push(Event::Detached {
            step: id.to_string(),
            attempt: new.number,
            pid,
        });
    }
    if old.ended.is_none() && new.ended.is_some() {
        events.push(Event::Finished {
            step: id.to_string(),
            attempt: new.number,
            status,
            exit: new.exit,
            outcome: new.outcome.clone(),
        });
    }
    Ok(())
}
