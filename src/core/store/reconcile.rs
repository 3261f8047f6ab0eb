//! Steps found `running` when a run is opened: the app that started them is gone (we hold the
//! run's lock), so each one either finished under its supervisor (an exit file exists: its
//! verdict is recorded as a direct run would have recorded it), is
//! still running detached (re-attach), or is interrupted with its outcome unknown.

use std::path::PathBuf;

use super::Store;
use crate::core::attempt_id::Supervisor;
use crate::core::clock;
use crate::core::disk_space;
use crate::core::exec;
use crate::core::host;
use crate::core::journal::Event;
use crate::core::machine::remote_long;
use crate::core::progress::{Attempt, Exit, Run, Status};
use crate::core::runbook::{Action, Runbook};
use crate::core::state_dir::{self, StateDir};
use crate::core::supervisor;

/// A step still running under its detached supervisor: the TUI can follow its log and wait
/// for its exit file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStep {
    /// Step id.
    pub step: String,
    /// Attempt number.
    pub attempt: u32,
    /// Supervisor pid.
    pub pid: u32,
    /// Absolute path of the attempt's log.
    pub log: Option<PathBuf>,
    /// Absolute path of the exit file the supervisor will write.
    pub exit_file: Option<PathBuf>,
}

/// What reconciling found for one step that was `running`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// It ended while no fieldbook was watching; its exit file gave the outcome.
    Finished {
        /// Step id.
        step: String,
        /// How it ended (the program that ended the run).
        exit: Option<Exit>,
        /// Done or Failed, as the supervisor judged it (expected codes and `ok_output`).
        status: Status,
        /// Which program (0-based) failed, as a direct run records it.
        failed_program: Option<usize>,
    },
    /// It is still running under its supervisor; re-attach.
    Live(LiveStep),
    /// A step that reboots the machine (`reboot = true`) was running before the boot id
    /// changed: it did its job and is done.
    Rebooted {
        /// Step id.
        step: String,
    },
    /// Its process is gone with no exit recorded (crash, hang-up, reboot): ask the
    /// technician what happened.
    Interrupted {
        /// Step id.
        step: String,
        /// Why we think so, in words.
        why: String,
    },
}

impl Store {
    /// Checks every `running` step again (exit file, pid, boot id) and records finished or
    /// interrupted ones. Called by `open`; the TUI may call it to poll a detached step.
    /// Returns what it found and saves if anything changed.
    pub fn reconcile(&mut self) -> Result<Vec<Reconciled>, super::StoreError> {
        let events = self.reconcile_running();
        let found = self.reconciled.clone();
        if !events.is_empty() {
            self.commit_many(events)?;
        }
        Ok(found)
    }

    /// Steps running detached right now, for re-attaching (pid alive, same boot).
    pub fn live_steps(&self) -> Vec<LiveStep> {
        self.run
            .steps
            .iter()
            .filter(|(_, st)| st.status == Status::Running)
            .filter_map(|(id, st)| {
                let a = st.attempts.last()?;
                let pid = a.pid?;
                let remote = a
                    .log
                    .as_deref()
                    .is_some_and(|l| exec::is_remote(&self.dir.resolve_path(l)));
                (remote || exec::is_alive(a)).then(|| self.live(id, a, pid))
            })
            .collect()
    }

    fn live(&self, id: &str, a: &Attempt, pid: u32) -> LiveStep {
        let log = a.log.as_deref().map(|l| self.dir.resolve_path(l));
        LiveStep {
            step: id.to_string(),
            attempt: a.number,
            pid,
            exit_file: log.as_deref().map(state_dir::exit_file),
            log,
        }
    }

    /// The work of `reconcile`, without saving: changes the run, sets `self.reconciled` and
    /// returns the journal events.
    pub(super) fn reconcile_running(&mut self) -> Vec<Event> {
        let boot = host::boot_id();
        let running: Vec<String> = self
            .run
            .steps
            .iter()
            .filter(|(_, st)| st.status == Status::Running)
            .map(|(id, _)| id.clone())
            .collect();
        let mut found = Vec::new();
        let mut events = Vec::new();
        for id in running {
            let Some(attempt) = self
                .run
                .steps
                .get(&id)
                .and_then(|st| st.attempts.last())
                .cloned()
            else {
                // Running with no attempt: only a hand-edited file does this.
                let why = "no attempt was recorded".to_string();
                events.push(self.set_interrupted(&id, &why));
                found.push(Reconciled::Interrupted { step: id, why });
                continue;
            };
            // The supervisor recorded its verdict: record what a direct run would have.
            let log = attempt.log.as_deref().map(|l| self.dir.resolve_path(l));
            let expect = self.expect_of(&id);
            let nonce = attempt.nonce.as_deref();
            if let Some(outcome) = log
                .as_deref()
                .and_then(|l| supervisor::ended(l, &expect, nonce))
            {
                let event = self.set_ended(
                    &id,
                    outcome.status,
                    outcome.exit,
                    Some(outcome.message.clone()),
                );
                let ended = log.as_deref().and_then(supervisor::ended_at);
                if let Some(a) = self
                    .run
                    .steps
                    .get_mut(&id)
                    .and_then(|s| s.attempts.last_mut())
                {
                    a.failed_program = outcome.failed_program;
                    // It ended when the supervisor said so, not when we noticed.
                    a.ended = ended.or(a.ended.take());
                }
                events.push(event);
                found.push(Reconciled::Finished {
                    step: id,
                    exit: outcome.exit,
                    status: outcome.status,
                    failed_program: outcome.failed_program,
                });
                continue;
            }
            // Started on a host over ssh: only that host can tell; whoever follows it (with
            // --host) records the outcome, or interrupted if its supervisor is gone there.
            if let (Some(pid), Some(l)) = (attempt.pid, log.as_deref())
                && remote_long::read_sidecar(l).is_some()
            {
                found.push(Reconciled::Live(self.live(&id, &attempt, pid)));
                continue;
            }
            let rebooted =
                matches!((&boot, &attempt.boot_id), (Some(now), Some(then)) if now != then);
            if rebooted && self.facts.reboots.contains(&id) {
                // The step's job was to reboot the machine: the new boot is its success, and
                // the run resumes at the next step.
                let outcome = "the machine rebooted, as this step intended".to_string();
                events.push(self.set_ended(&id, Status::Done, None, Some(outcome)));
                found.push(Reconciled::Rebooted { step: id });
                continue;
            }
            let why = match supervisor_of(&attempt) {
                _ if rebooted => "the machine rebooted while it ran".to_string(),
                Some(sup) if exec::is_alive(&attempt) => {
                    found.push(Reconciled::Live(self.live(&id, &attempt, sup.pid)));
                    continue;
                }
                Some(sup) => gone_why(&sup, log.as_deref()),
                None => "fieldbook ended while it ran".to_string(),
            };
            events.push(self.set_interrupted(&id, &why));
            found.push(Reconciled::Interrupted { step: id, why });
        }
        self.reconciled = found;
        events
    }

    /// The exit codes that mean success for `step` (default 0).
    fn expect_of(&self, step: &str) -> Vec<i32> {
        match self.facts.expect.get(step) {
            Some(codes) if !codes.is_empty() => codes.clone(),
            _ => vec![0],
        }
    }

    fn set_interrupted(&mut self, id: &str, why: &str) -> Event {
        self.set_ended(
            id,
            Status::Interrupted,
            None,
            Some(format!("interrupted: {why}")),
        )
    }

    /// Ends the last attempt of a running step with `status`; shared by every way a run ends.
    pub(super) fn set_ended(
        &mut self,
        id: &str,
        status: Status,
        exit: Option<Exit>,
        outcome: Option<String>,
    ) -> Event {
        let now = clock::now();
        let st = self.run.steps.entry(id.to_string()).or_default();
        st.status = status;
        let mut number = 0;
        if let Some(a) = st.attempts.last_mut() {
            a.ended = Some(now);
            a.exit = exit.or(a.exit);
            if outcome.is_some() {
                a.outcome.clone_from(&outcome);
            }
            number = a.number;
        }
        Event::Finished {
            step: id.to_string(),
            attempt: number,
            status,
            exit,
            outcome,
        }
    }
}

/// The supervisor an attempt recorded (pid, start time, nonce), if it ran under one.
pub(super) fn supervisor_of(a: &Attempt) -> Option<Supervisor> {
    Some(Supervisor {
        pid: a.pid?,
        started: a.pid_start,
        nonce: a.nonce.clone(),
    })
}

/// Why a supervised step is over without an exit status, in words: its programs may still run
/// (the supervisor was killed), or everything is gone.
fn gone_why(sup: &Supervisor, log: Option<&std::path::Path>) -> String {
    let orphans = sup.orphans();
    let full = log.is_some_and(|l| disk_space::no_space_at(l.parent().unwrap_or(l)));
    if orphans.is_empty() && full {
        return format!(
            "its supervisor (pid {}) ended without recording an exit status: the disk is full \
             (free some space; its log may be cut)",
            sup.pid
        );
    }
    if orphans.is_empty() {
        return format!(
            "its supervisor (pid {}) is gone and left no exit status",
            sup.pid
        );
    }
    let pids: Vec<String> = orphans.iter().map(u32::to_string).collect();
    format!(
        "its supervisor (pid {}) was killed, but its program is still running (pid {}); \
         stop it before retrying",
        sup.pid,
        pids.join(", ")
    )
}

/// Adds to `run`, in memory only, the edits a kill left made but unrecorded (see
/// [`edit_journal::unrecorded`]), as the next fieldbook opening the run records them; returns
/// how many. For `status` and `report`, which only look (no lock, nothing saved), so the
/// handover never leaves out an edit that was made.
pub fn show_unrecorded_edits(run: &mut Run, dir: &StateDir) -> usize {
    if dir.is_practice() {
        return 0;
    }
    let recorded: std::collections::BTreeSet<String> =
        run.edits.iter().filter_map(|e| e.backup.clone()).collect();
    let archive = crate::core::apply::archive_for(run);
    let found = crate::core::edit_journal::unrecorded(&dir.base(), &archive, &recorded);
    let n = found.len();
    run.edits.extend(found);
    n
}

/// Shows the steps whose supervisor finished while nobody watched as ended, in memory only:
/// the same status, exit, failed program and words that the next fieldbook opening the run
/// records. For `status` and `report`, which only look (no lock, nothing saved), so they never
/// say "running" about a step that is over.
pub fn show_finished(run: &mut Run, dir: &StateDir, runbook: Option<&Runbook>) {
    for (id, st) in run.steps.iter_mut() {
        if st.status != Status::Running {
            continue;
        }
        let expect = runbook
            .and_then(|rb| rb.steps().find(|(_, s)| &s.id == id))
            .and_then(|(_, s)| match &s.action {
                Action::Run(spec) if !spec.expect.is_empty() => Some(spec.expect.clone()),
                _ => None,
            })
            .unwrap_or_else(|| vec![0]);
        let Some(a) = st.attempts.last_mut() else {
            continue;
        };
        let log = a.log.as_deref().map(|l| dir.resolve_path(l));
        let nonce = a.nonce.clone();
        let Some(outcome) = log
            .as_deref()
            .and_then(|l| supervisor::ended(l, &expect, nonce.as_deref()))
        else {
            continue;
        };
        st.status = outcome.status;
        a.ended = log
            .as_deref()
            .and_then(supervisor::ended_at)
            .or_else(|| Some(clock::now()));
        a.exit = outcome.exit.or(a.exit);
        a.failed_program = outcome.failed_program;
        a.outcome = Some(outcome.message);
    }
}
