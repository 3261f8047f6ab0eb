//! Turning a running step's events into messages, a bounded number each turn, and recording how it ended.

use super::*;
use crate::app::recorder::Recorder;
use crate::core::conditions::Applicability;
use crate::core::machine::remote_orphans::HostCheck;
use crate::core::progress::Status;
use crate::core::runner::{CheckResult, RunEvent, RunOutcome, RunningStep};
use crate::ui::Msg;
use crate::ui::model::OUTPUT_LIMIT;
use crate::ui::output_line::OutputLine;
use std::sync::mpsc::{Receiver, TryRecvError};

impl StepRunner {
    /// Drains what the running step reported since the last call, without blocking; records
    /// its end.
    pub(crate) fn poll(&mut self, recorder: &mut Recorder) -> Vec<Msg> {
        match self.active.take() {
            None => Vec::new(),
            Some(Active::Probing {
                answer,
                runbook,
                step,
            }) => self.on_probe(answer, runbook, step),
            Some(Active::HostOrphans {
                answer,
                runbook,
                step,
            }) => self.on_host_check(answer, runbook, step),
            Some(Active::CheckingInteractive {
                answer,
                runbook,
                step,
                check,
            }) => self.on_interactive_check(answer, runbook, step, check),
            Some(Active::Checking {
                answer,
                prepared,
                check,
            }) => self.on_check(recorder, answer, prepared, check),
            Some(Active::Running {
                running,
                supervised,
                owner,
            }) => self.on_running(recorder, running, supervised, owner),
        }
    }

    /// The `when` probe's answer: not needed, unknown, or the step starts again (unprobed).
    fn on_probe(
        &mut self,
        answer: Receiver<Applicability>,
        runbook: String,
        step: String,
    ) -> Vec<Msg> {
        match answer.try_recv() {
            Err(TryRecvError::Empty) => {
                self.active = Some(Active::Probing {
                    answer,
                    runbook,
                    step,
                });
                Vec::new()
            }
            Ok(Applicability::NotNeeded(why)) => {
                vec![Msg::NotNeeded { runbook, step, why }]
            }
            Ok(Applicability::Unknown(why)) => vec![Msg::NotStarted(format!(
                "cannot tell whether the step applies here: {why}"
            ))],
            Ok(Applicability::Applies | Applicability::Ask(_)) => {
                self.probe_answered = Some((runbook.clone(), step.clone()));
                vec![Msg::Applies { runbook, step }]
            }
            Err(TryRecvError::Disconnected) => vec![Msg::NotStarted(
                "the step's probe ended without an answer".into(),
            )],
        }
    }

    /// The host's answer about the last attempt: its program still runs there (offered for stopping), or the step starts again.
    fn on_host_check(
        &mut self,
        answer: Receiver<HostCheck>,
        runbook: String,
        step: String,
    ) -> Vec<Msg> {
        match answer.try_recv() {
            Err(TryRecvError::Empty) => {
                self.active = Some(Active::HostOrphans {
                    answer,
                    runbook,
                    step,
                });
                Vec::new()
            }
            Ok(HostCheck::Found(found)) => vec![
                Msg::NotStarted(format!(
                    "the program of its last attempt still runs on {} without its supervisor",
                    found.destination
                )),
                Msg::Orphaned {
                    message: found.refusal(&step),
                    runbook,
                    step,
                },
            ],
            Ok(answer) => {
                let mut msgs = Vec::new();
                if let HostCheck::Unknown(why) = answer {
                    msgs.push(Msg::OutputLine(format!("fieldbook: {why}")));
                }
                self.host_answered = Some((runbook.clone(), step.clone()));
                msgs.push(Msg::Applies { runbook, step });
                msgs
            }
            Err(TryRecvError::Disconnected) => vec![Msg::NotStarted(
                "asking the host about the last attempt ended without an answer".into(),
            )],
        }
    }

    /// An interactive step's check: already done, or the step starts again and gets the terminal.
    fn on_interactive_check(
        &mut self,
        answer: Receiver<CheckResult>,
        runbook: String,
        step: String,
        check: String,
    ) -> Vec<Msg> {
        match answer.try_recv() {
            Err(TryRecvError::Empty) => {
                self.active = Some(Active::CheckingInteractive {
                    answer,
                    runbook,
                    step,
                    check,
                });
                Vec::new()
            }
            Ok(CheckResult::AlreadyDone) => {
                self.check_answered = Some((runbook, step));
                vec![
                    Msg::OutputLine(format!(
                        "fieldbook: `{check}` succeeded: the step looks already done; nothing was run."
                    )),
                    Msg::AlreadyDone { check },
                ]
            }
            Ok(other) => {
                let mut msgs = Vec::new();
                if let CheckResult::Unknown(why) = other {
                    msgs.push(Msg::OutputLine(format!(
                        "fieldbook: the check was not conclusive ({why}); running the step"
                    )));
                }
                self.check_cleared = Some((runbook.clone(), step.clone()));
                msgs.push(Msg::Applies { runbook, step });
                msgs
            }
            Err(TryRecvError::Disconnected) => {
                self.check_cleared = Some((runbook.clone(), step.clone()));
                vec![Msg::Applies { runbook, step }]
            }
        }
    }

    /// A step's check: already done, or the programs start.
    fn on_check(
        &mut self,
        recorder: &mut Recorder,
        answer: Receiver<CheckResult>,
        prepared: Box<Prepared>,
        check: String,
    ) -> Vec<Msg> {
        match answer.try_recv() {
            Err(TryRecvError::Empty) => {
                self.active = Some(Active::Checking {
                    answer,
                    prepared,
                    check,
                });
                Vec::new()
            }
            Ok(CheckResult::AlreadyDone) => {
                self.check_answered = Some((prepared.owner.runbook, prepared.owner.step));
                vec![
                    Msg::OutputLine(format!(
                        "fieldbook: `{check}` succeeded: the step looks already done; nothing was run."
                    )),
                    Msg::AlreadyDone { check },
                ]
            }
            Ok(CheckResult::Unknown(why)) => {
                let mut m = vec![Msg::OutputLine(format!(
                    "fieldbook: the check was not conclusive ({why}); running the step"
                ))];
                m.extend(self.launch(recorder, *prepared));
                m
            }
            Ok(CheckResult::NotDone) | Err(TryRecvError::Disconnected) => {
                self.launch(recorder, *prepared)
            }
        }
    }

    /// The running step's output since the last turn, and its end recorded once it ends.
    fn on_running(
        &mut self,
        recorder: &mut Recorder,
        running: RunningStep,
        supervised: bool,
        owner: Box<Owner>,
    ) -> Vec<Msg> {
        let (mut msgs, finished) = drain(&running);
        match finished {
            Some(outcome) => {
                msgs.push(owner.finished(recorder, &outcome));
                msgs.push(Msg::StepEnded(outcome));
            }
            None => {
                self.active = Some(Active::Running {
                    running,
                    supervised,
                    owner,
                })
            }
        }
        msgs
    }
}

/// The output a running step reported since the last turn (bounded), and its outcome once it
/// has ended.
pub(super) fn drain(running: &RunningStep) -> (Vec<Msg>, Option<RunOutcome>) {
    let mut lines = Vec::new();
    let mut partial = None;
    let mut finished = None;
    for _ in 0..EVENTS_PER_TURN {
        match running.events.try_recv() {
            Ok(RunEvent::Started { command, .. }) => {
                lines.push(OutputLine::plain(format!("$ {command}")))
            }
            Ok(RunEvent::Output {
                lines: l,
                partial: p,
            }) => {
                if !l.is_empty() {
                    // Completed lines end the unfinished one shown so far.
                    partial = partial.or(Some(OutputLine::default()));
                }
                lines.extend(l.into_iter().map(OutputLine::from_child));
                if lines.len() >= 2 * OUTPUT_LIMIT {
                    // The screen keeps only the last OUTPUT_LIMIT lines: a flood drained in
                    // one turn must not hold more than that in memory.
                    lines.drain(..lines.len() - OUTPUT_LIMIT);
                }
                if let Some(p) = p {
                    partial = Some(OutputLine::from_child(p));
                }
            }
            Ok(RunEvent::Notice(n)) => lines.push(OutputLine::plain(format!("fieldbook: {n}"))),
            Ok(RunEvent::Finished(outcome)) => {
                finished = Some(outcome);
                break;
            }
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                finished = Some(RunOutcome {
                    status: Status::Interrupted,
                    exit: None,
                    failed_program: None,
                    message: "lost track of the command".into(),
                });
                break;
            }
        }
    }
    let mut msgs = Vec::new();
    if !lines.is_empty() {
        msgs.push(Msg::Output(lines));
    }
    if let Some(p) = partial {
        msgs.push(Msg::OutputPartial(p));
    }
    (msgs, finished)
}
