//! Following a running step: its output printed, Ctrl-C handled (once: stop watching a long step; twice: cancel), the outcome recorded.

use super::*;
use crate::core::machine;
use crate::core::progress::Status;
use crate::core::runbook::Step;
use crate::core::runner::{self, RunEvent, RunOutcome};
use crate::core::terminal_text::terminal_safe;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Context<'_> {
    /// A last attempt that ran on a host over ssh: what its killed supervisor may have left
    /// running is looked for on that host, never here (without that host it is said that it
    /// cannot be checked). Found, it is stopped with `--stop-orphans` (and that is recorded on
    /// the step), else the step is refused as a local one is.
    pub(super) fn host_orphans(&self, step: &Step) -> anyhow::Result<()> {
        use machine::remote_orphans::{self, HostCheck};
        let Some(at) = self.store.borrow().host_attempt(&step.id) else {
            return Ok(());
        };
        match remote_orphans::check(&*self.settings.machine, &at) {
            HostCheck::Clear => Ok(()),
            HostCheck::Unknown(why) => {
                say(&format!("{}: {why}", step.id));
                Ok(())
            }
            HostCheck::Found(found) if !self.stop_orphans => Err(anyhow::anyhow!(
                "{}, or let fieldbook stop it: fieldbook --host {} exec {} {} --stop-orphans",
                found.refusal(&step.id),
                found.destination,
                self.runbook.id,
                step.id
            )),
            HostCheck::Found(_) => {
                let session = remote_orphans::session_for(&*self.settings.machine, &at)
                    .map_err(anyhow::Error::msg)?;
                let stopped = remote_orphans::stop(session, &at, ORPHAN_GRACE)?;
                let Some(found) = stopped.found else {
                    return Ok(());
                };
                let text = remote_orphans::stopped_note(&found, &stopped.left);
                say(&format!("{}: {text}", step.id));
                self.store.borrow_mut().note(&step.id, &text)?;
                if stopped.left.is_empty() {
                    Ok(())
                } else {
                    Err(anyhow::anyhow!("{}: {text}", step.id))
                }
            }
        }
    }

    pub(super) fn follow_and_record(
        &self,
        step: &Step,
        running: &runner::RunningStep,
        supervised: bool,
    ) -> anyhow::Result<StepEnd> {
        let Some(outcome) = self.follow(running, supervised) else {
            // Stopped watching a supervised step (Ctrl-C once, or a hang-up): it carries on;
            // `exec` again or the app re-attaches to it.
            return Ok(StepEnd::StillRunning(format!(
                "{} keeps running under its supervisor",
                step.id
            )));
        };
        self.finished(&step.id, &outcome)?;
        say(&format!(
            "{}: {} ({})",
            step.id,
            outcome.status.name(),
            outcome.message
        ));
        if let Some(problem) = self.store.borrow().save_problem() {
            // A full disk, said plainly: the outcome is saved (in the reserve) or not.
            say(&problem);
        }
        Ok(match outcome.status {
            Status::Done => StepEnd::Done,
            _ => StepEnd::NotDone(outcome.message),
        })
    }

    /// Prints a running step's output until it finishes. `None` when a hang-up left a
    /// supervised step running.
    pub(super) fn follow(
        &self,
        running: &runner::RunningStep,
        supervised: bool,
    ) -> Option<RunOutcome> {
        // Written a batch at a time (a flush per event), not a write per line: a million-line
        // build log cost a system call a line.
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
        let mut hung_up = false;
        // A long step: the first Ctrl-C stops watching (after a grace for a second one, which
        // cancels); a stray Ctrl-C must not end a six-hour emerge.
        let mut first_interrupt: Option<std::time::Instant> = None;
        loop {
            if self.signals.interrupt.swap(false, Ordering::SeqCst) {
                match first_interrupt {
                    Some(at) if supervised && at.elapsed() <= SECOND_CTRL_C => {
                        first_interrupt = None;
                        say("second Ctrl-C: cancelling (SIGINT, then SIGTERM, then SIGKILL)...");
                        running.cancel.cancel();
                    }
                    _ if supervised => {
                        first_interrupt = Some(std::time::Instant::now());
                        let _ = out.flush();
                        say(&format!(
                            "Ctrl-C: the step keeps running under its supervisor; press Ctrl-C \
                             again within {} s to cancel it instead",
                            SECOND_CTRL_C.as_secs()
                        ));
                    }
                    _ => {
                        say("cancelling (SIGINT, then SIGTERM, then SIGKILL)...");
                        running.cancel.cancel();
                    }
                }
            }
            if first_interrupt.is_some_and(|at| at.elapsed() > SECOND_CTRL_C) {
                let _ = out.flush();
                say(
                    "stopped watching: the step keeps running under its supervisor; `fieldbook \
                     exec` with the same step follows it again, `fieldbook status` shows it",
                );
                return None;
            }
            if !hung_up && self.signals.hangup.load(Ordering::SeqCst) {
                hung_up = true;
                if supervised {
                    return None;
                }
                running.cancel.end_now();
            }
            match running.events.recv_timeout(Duration::from_millis(100)) {
                Ok(RunEvent::Started { command, .. }) => {
                    let _ = writeln!(out, "$ {}", terminal_safe(&command));
                    let _ = out.flush();
                }
                Ok(RunEvent::Output { lines, .. }) => {
                    for line in &lines {
                        write_line(&mut out, line);
                    }
                    let _ = out.flush();
                }
                Ok(RunEvent::Notice(n)) => {
                    let _ = out.flush();
                    say(&n);
                }
                Ok(RunEvent::Finished(mut outcome)) => {
                    let _ = out.flush();
                    if hung_up && outcome.status != Status::Done {
                        outcome.status = Status::Interrupted;
                        outcome.message = "interrupted: the terminal hung up".into();
                    }
                    return Some(outcome);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Some(RunOutcome {
                        status: Status::Interrupted,
                        exit: None,
                        failed_program: None,
                        message: "lost track of the command".into(),
                    });
                }
            }
        }
    }
}
