//! The app's side of running a step: turns `Effect::RunStep` into a real run (direct, under the
//! supervisor for long steps, or a practice transcript), feeds the runner's events back to the
//! loop as `Msg`s without ever blocking it, and hands the real terminal to interactive steps.
//! The loop owns one [`StepRunner`]; `app.rs` only calls it.

use crate::core::conditions::{self, Applicability};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use crate::core::exec::{self, Mode};
use crate::core::host;
use crate::core::progress::Status;
use crate::core::runbook::Action;
use crate::core::runner::{self, CheckResult, RunEvent, RunOutcome, RunningStep, StepJob};
use crate::core::state_dir;
use crate::terminal::{self, Session, Signals};
use crate::ui::Msg;
use crate::ui::model::{Model, OUTPUT_LIMIT, StepOutcome};
use crate::ui::output_line::OutputLine;

/// Most runner events turned into messages per loop turn, so keys stay responsive while a
/// command floods its output.
const EVENTS_PER_TURN: usize = 512;

/// Delay between lines of a practice transcript, so it reads like a real run.
const PRACTICE_PACE: Duration = Duration::from_millis(40);

/// Everything needed to start a step once its `check` has answered.
struct Prepared {
    job: StepJob,
    mode: Mode,
    log: PathBuf,
    log_stored: String,
}

enum Active {
    /// The step's `check` runs on a thread.
    Checking {
        answer: Receiver<CheckResult>,
        prepared: Box<Prepared>,
        check: String,
        step: (String, String),
    },
    /// The programs run (or a supervisor, or a transcript).
    Running {
        running: RunningStep,
        supervised: bool,
    },
}

/// What the loop must do after asking to start a step.
pub enum Start {
    /// Queue these messages (the run goes on in the background, or it could not start).
    Messages(Vec<Msg>),
    /// The step needs the real terminal: call [`hand_over`] with this.
    Interactive(Box<Interactive>),
}

/// An interactive step waiting for the terminal.
pub struct Interactive {
    job: StepJob,
    log: PathBuf,
}

/// Runs at most one step at a time for the app.
#[derive(Default)]
pub struct StepRunner {
    active: Option<Active>,
    /// The step whose passing `check` the technician was just told about: running it again
    /// means "run it anyway", so its check is not asked twice.
    check_answered: Option<(String, String)>,
}

impl StepRunner {
    /// True while a step runs (the loop then wakes more often to show its output).
    pub fn busy(&self) -> bool {
        self.active.is_some()
    }

    /// The log of the step's newest attempt (the one `update` just recorded): its path as the
    /// run stores it and on disk, with its directory created owner-only. Steps and tool
    /// commands both log this way.
    fn attempt_log(
        &self,
        model: &Model,
        runbook: &str,
        step: &str,
    ) -> Result<(String, std::path::PathBuf), String> {
        let dir = model.settings.state().map_err(|e| e.to_string())?;
        let number = model
            .run(runbook)
            .and_then(|r| r.steps.get(step))
            .and_then(|s| s.attempts.last())
            .map_or(1, |a| a.number);
        let stored = state_dir::attempt_log(runbook, &model.settings.target, step, number);
        let log = dir.resolve_path(&stored);
        if let Some(parent) = log.parent() {
            crate::core::atomic::create_private_dir(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        Ok((stored, log))
    }

    /// Starts the step `update` just marked running (its last attempt is the new one).
    pub fn start(&mut self, model: &Model, runbook: &str, step: &str) -> Start {
        let not_started =
            |why: String| Start::Messages(vec![Msg::StepFinished(StepOutcome::NotStarted(why))]);
        let Some((rb, st)) = model.step(runbook, step) else {
            return not_started(format!("no step '{step}' in '{runbook}'"));
        };
        let Action::Run(spec) = &st.action else {
            return not_started("only command steps run".into());
        };
        let mut values: BTreeMap<String, String> = rb.default_values();
        if let Some(run) = model.run(runbook) {
            values.extend(run.values.clone());
        }
        let plan = match exec::plan(rb, spec, &values) {
            Ok(plan) => plan,
            Err(m) => {
                return not_started(format!(
                    "the step needs a value for '{}'{}; fill in the runbook's form first",
                    m.name, m.label
                ));
            }
        };
        let practice = model.settings.practice;
        // The step's `when` probe first: a step that does not apply here is not run.
        if !practice {
            match conditions::probe_here(st, &values) {
                Applicability::NotNeeded(why) => {
                    return Start::Messages(vec![Msg::NotNeeded {
                        runbook: runbook.into(),
                        step: step.into(),
                        why,
                    }]);
                }
                Applicability::Unknown(why) => {
                    return not_started(format!(
                        "cannot tell whether the step applies here: {why}"
                    ));
                }
                Applicability::Applies | Applicability::Ask(_) => {}
            }
        }
        let (log_stored, log) = match self.attempt_log(model, runbook, step) {
            Ok(paths) => paths,
            Err(why) => return not_started(why),
        };
        let mut msgs = vec![Msg::Attached {
            log: log_stored.clone(),
            pid: None,
            boot_id: host::boot_id(),
        }];
        if spec.interactive && !practice {
            return Start::Interactive(Box::new(Interactive { job: plan.job, log }));
        }
        if spec.long && !practice && !in_multiplexer() {
            msgs.push(Msg::OutputLine(
                "fieldbook: this long step runs under a supervisor and survives a dropped link; \
                 screen or tmux is still the safer place (screen -S work, later screen -r work)."
                    .into(),
            ));
        }
        let prepared = Prepared {
            job: plan.job,
            mode: Mode::of(spec, practice, PRACTICE_PACE),
            log,
            log_stored,
        };
        let answered = self.check_answered.take() == Some((runbook.to_string(), step.to_string()));
        match plan.check.filter(|_| !practice && !answered) {
            Some(check) => {
                let (tx, rx) = mpsc::channel();
                let shown = check.display();
                std::thread::spawn(move || {
                    let _ = tx.send(exec::run_check(&check));
                });
                msgs.push(Msg::OutputLine(format!(
                    "fieldbook: checking first: {shown}"
                )));
                self.active = Some(Active::Checking {
                    answer: rx,
                    prepared: Box::new(prepared),
                    check: shown,
                    step: (runbook.to_string(), step.to_string()),
                });
            }
            None => msgs.extend(self.launch(prepared)),
        }
        Start::Messages(msgs)
    }

    /// Runs commands a tool screen built (exact argv, e.g. `chkconfig --level 2345 cups off`)
    /// as the running attempt of `step`, with the same log, cancel and recording as a step.
    pub fn start_commands(
        &mut self,
        model: &Model,
        runbook: &str,
        step: &str,
        commands: Vec<Vec<String>>,
        env: Vec<(String, String)>,
    ) -> Vec<Msg> {
        let (log_stored, log) = match self.attempt_log(model, runbook, step) {
            Ok(paths) => paths,
            Err(why) => return vec![Msg::StepFinished(StepOutcome::NotStarted(why))],
        };
        let mut msgs = vec![Msg::Attached {
            log: log_stored.clone(),
            pid: None,
            boot_id: host::boot_id(),
        }];
        let (job, on) = exec::tool_job(commands, &env);
        let mode = if model.settings.practice {
            Mode::Practice {
                key: None,
                pace: PRACTICE_PACE,
            }
        } else {
            Mode::Direct(Some(on))
        };
        msgs.extend(self.launch(Prepared {
            job,
            mode,
            log,
            log_stored,
        }));
        msgs
    }

    fn launch(&mut self, p: Prepared) -> Vec<Msg> {
        let mut msgs = Vec::new();
        if matches!(p.mode, Mode::Practice { .. }) {
            msgs.push(Msg::OutputLine(
                "fieldbook: PRACTICE: nothing is executed; this is a simulated transcript.".into(),
            ));
        }
        let supervised = p.mode.is_supervised();
        match exec::launch(p.job, p.log, p.mode) {
            Ok(launched) => {
                if launched.pid.is_some() {
                    msgs.push(Msg::Attached {
                        log: p.log_stored,
                        pid: launched.pid,
                        boot_id: exec::boot_id(),
                    });
                }
                self.active = Some(Active::Running {
                    running: launched.running,
                    supervised,
                });
            }
            Err(message) => {
                self.active = None;
                msgs.push(Msg::StepEnded(RunOutcome {
                    status: Status::Failed,
                    exit: None,
                    failed_program: None,
                    message,
                }));
            }
        }
        msgs
    }

    /// Drains what the running step reported since the last call, without blocking.
    pub fn poll(&mut self) -> Vec<Msg> {
        match self.active.take() {
            None => Vec::new(),
            Some(Active::Checking {
                answer,
                prepared,
                check,
                step,
            }) => match answer.try_recv() {
                Err(TryRecvError::Empty) => {
                    self.active = Some(Active::Checking {
                        answer,
                        prepared,
                        check,
                        step,
                    });
                    Vec::new()
                }
                Ok(CheckResult::AlreadyDone) => {
                    self.check_answered = Some(step);
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
                    m.extend(self.launch(*prepared));
                    m
                }
                Ok(CheckResult::NotDone) | Err(TryRecvError::Disconnected) => {
                    self.launch(*prepared)
                }
            },
            Some(Active::Running {
                running,
                supervised,
            }) => {
                let mut lines = Vec::new();
                let mut partial = None;
                let mut msgs = Vec::new();
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
                            lines.extend(l.iter().map(OutputLine::from_child));
                            if lines.len() >= 2 * OUTPUT_LIMIT {
                                // The screen keeps only the last OUTPUT_LIMIT lines: a flood
                                // drained in one turn must not hold more than that in memory.
                                lines.drain(..lines.len() - OUTPUT_LIMIT);
                            }
                            if let Some(p) = p {
                                partial = Some(OutputLine::from_child(&p));
                            }
                        }
                        Ok(RunEvent::Notice(n)) => {
                            lines.push(OutputLine::plain(format!("fieldbook: {n}")))
                        }
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
                if !lines.is_empty() {
                    msgs.push(Msg::Output(lines));
                }
                if let Some(p) = partial {
                    msgs.push(Msg::OutputPartial(p));
                }
                match finished {
                    Some(outcome) => msgs.push(Msg::StepEnded(outcome)),
                    None => {
                        self.active = Some(Active::Running {
                            running,
                            supervised,
                        })
                    }
                }
                msgs
            }
        }
    }

    /// Finds a long step of the current target still running under a live supervisor (after
    /// fieldbook was killed, crashed or lost its terminal) and follows it again. Returns the
    /// message that tells the model, or nothing.
    pub fn reattach(&mut self, model: &Model) -> Option<Msg> {
        if self.active.is_some() || model.running.is_some() {
            return None;
        }
        for run in model
            .runs
            .iter()
            .filter(|r| r.target == model.settings.target && r.practice == model.settings.practice)
        {
            for (id, st) in &run.steps {
                if st.status != Status::Running {
                    continue;
                }
                let Some(a) = st.attempts.last() else {
                    continue;
                };
                let (Some(pid), Some(log)) = (a.pid, a.log.as_deref()) else {
                    continue;
                };
                let Ok(dir) = model.settings.state() else {
                    continue;
                };
                let log = dir.resolve_path(log);
                if !exec::is_remote(&log) && !exec::is_alive(a) {
                    continue;
                }
                self.active = Some(Active::Running {
                    running: exec::follow_supervised(pid, &log),
                    supervised: true,
                });
                return Some(Msg::Reattached {
                    runbook: run.runbook.clone(),
                    step: id.clone(),
                });
            }
        }
        None
    }

    /// Cancels the running step (SIGINT, SIGTERM, SIGKILL to its process group).
    pub fn cancel(&mut self) {
        match &self.active {
            Some(Active::Running { running, .. }) => running.cancel.cancel(),
            Some(Active::Checking { .. }) => {
                self.active = None;
            }
            None => {}
        }
    }

    /// The app is ending (hang-up, SIGTERM, quit while running): a short step's process group
    /// is ended and the step recorded interrupted; a long step keeps running under its
    /// supervisor (a later fieldbook re-attaches). Returns the messages to apply before saving.
    pub fn stop_for_exit(&mut self, why: &str) -> Vec<Msg> {
        match self.active.take() {
            Some(Active::Running {
                running,
                supervised: false,
            }) => {
                running.cancel.end_now();
                vec![Msg::StepEnded(RunOutcome {
                    status: Status::Interrupted,
                    exit: None,
                    failed_program: None,
                    message: format!("{why}; the command's process group was ended"),
                })]
            }
            Some(Active::Checking { .. }) => vec![Msg::StepFinished(StepOutcome::NotStarted(
                format!("{why} before the step started"),
            ))],
            // A supervised step keeps running; its attempt stays `running` with the pid.
            Some(Active::Running {
                supervised: true, ..
            })
            | None => Vec::new(),
        }
    }
}

fn in_multiplexer() -> bool {
    std::env::var_os("STY").is_some() || std::env::var_os("TMUX").is_some()
}

/// Gives the real terminal to an interactive step (`emerge --ask`, `etc-update`): leaves raw
/// mode and the alternate screen, runs the programs with the terminal as stdin/stdout/stderr in
/// the foreground, waits, then takes the terminal back and forces a full redraw. The output
/// went to the terminal, so the log only records what ran and how it ended.
pub fn hand_over(session: &mut Session, signals: &Signals, step: Interactive) -> Vec<Msg> {
    use std::io::Write;
    let alt = session.alt_screen;
    terminal::restore_all();
    let terminate_before = signals.terminate.load(Ordering::SeqCst);
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&step.log)
        .ok();
    let mut outcome = RunOutcome {
        status: Status::Done,
        exit: None,
        failed_program: None,
        message: "finished".into(),
    };
    let mut lines = Vec::new();
    let started = Instant::now();
    let size_env = terminal::child_size_env_here((session.size.cols, session.size.rows));
    for (index, command) in step.job.commands.iter().enumerate() {
        println!("\r\n$ {}", command.display());
        if let Some(l) = log.as_mut() {
            let _ = writeln!(
                l,
                "$ {} (interactive: every byte it printed follows)",
                command.display()
            );
        }
        lines.push(OutputLine::plain(format!(
            "$ {} (interactive)",
            command.display()
        )));
        let size = (session.size.cols, session.size.rows);
        let ran = exec::run_foreground(
            command,
            size,
            &size_env,
            log.as_mut().map(|l| l as &mut dyn Write),
            &signals.hangup,
        );
        let exit = match ran {
            Ok(done) => {
                // What it printed, as the Output screen shows any command's output.
                lines.extend(tail_lines(&done.tail));
                if done.hung_up {
                    if let Some(l) = log.as_mut() {
                        let _ = writeln!(l, "\nfieldbook: the terminal hung up");
                    }
                    outcome = RunOutcome {
                        status: Status::Interrupted,
                        exit: None,
                        failed_program: Some(index),
                        message: "interrupted: the terminal hung up while the interactive \
                                  program ran; its own result is unknown"
                            .into(),
                    };
                    break;
                }
                done.exit
            }
            Err(message) => {
                outcome = RunOutcome {
                    status: Status::Failed,
                    exit: None,
                    failed_program: Some(index),
                    message,
                };
                break;
            }
        };
        // ssh's own exit 255 (the link dropped) is not the program's result.
        if let Some(message) = exec::link_dropped(exit) {
            outcome = RunOutcome {
                status: Status::Interrupted,
                exit: None,
                failed_program: Some(index),
                message,
            };
            break;
        }
        if let Some(l) = log.as_mut() {
            let _ = writeln!(l, "\nfieldbook: {exit}");
        }
        outcome.exit = Some(exit);
        if let Some(why) = runner::judge(exit, &step.job.expect, false) {
            outcome = RunOutcome {
                status: Status::Failed,
                exit: Some(exit),
                failed_program: Some(index),
                message: format!("{} failed ({why})", command.display()),
            };
            break;
        }
        outcome.message = format!("finished ({exit})");
    }
    let _ = std::io::stdout().flush();
    // Ctrl-C typed while the child had the terminal reached us too (same process group);
    // it was meant for the child, not for fieldbook.
    if !terminate_before {
        signals.terminate.store(false, Ordering::SeqCst);
    }
    let _ = session.reenter(alt);
    lines.push(OutputLine::plain(format!(
        "fieldbook: back from the interactive step after {} s",
        started.elapsed().as_secs()
    )));
    vec![Msg::Output(lines), Msg::StepEnded(outcome), Msg::Resumed]
}

/// The lines an interactive program left, for the Output screen (the screen keeps its own
/// bound; the log has every byte).
fn tail_lines(tail: &[u8]) -> Vec<OutputLine> {
    let mut filter = crate::core::terminal_text::TerminalText::new();
    let mut styled = Vec::new();
    filter.feed(tail, &mut styled);
    filter.finish(&mut styled);
    styled.iter().map(OutputLine::from_child).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::runner::CancelHandle;
    use crate::core::terminal_text::TerminalText;

    /// A runner following a step whose events are already waiting in its channel.
    fn following(events: Vec<RunEvent>) -> StepRunner {
        let (tx, rx) = mpsc::channel();
        for e in events {
            tx.send(e).unwrap();
        }
        StepRunner {
            active: Some(Active::Running {
                running: RunningStep {
                    events: rx,
                    cancel: CancelHandle::default(),
                },
                supervised: false,
            }),
            check_answered: None,
        }
    }

    fn batch(from: usize, n: usize) -> RunEvent {
        let mut filter = TerminalText::new();
        let mut lines = Vec::new();
        for i in from..from + n {
            filter.feed(format!("\x1b[32mline {i}\x1b[0m\n").as_bytes(), &mut lines);
        }
        RunEvent::Output {
            lines,
            partial: None,
        }
    }

    #[test]
    fn a_flood_drained_in_one_turn_keeps_only_what_the_screen_keeps() {
        let mut runner = following((0..300).map(|b| batch(b * 1000, 1000)).collect());
        let msgs = runner.poll();
        let Some(Msg::Output(lines)) = msgs.first() else {
            panic!("{msgs:?}");
        };
        assert!(lines.len() < 2 * OUTPUT_LIMIT, "{} lines held", lines.len());
        assert!(lines.len() >= OUTPUT_LIMIT);
        assert_eq!(lines.last().unwrap().text(), "line 299999");
        assert!(!lines.last().unwrap().is_plain(), "colours are kept");
    }
}
