//! The app's side of running a step: turns `Effect::RunStep` into a real run through the one
//! step executor (`core::exec`: direct, under the supervisor for long steps, or a practice
//! transcript), records the attempt's transitions in the progress store as it starts and ends
//! (the same ones `exec` records), feeds the runner's events back to the loop as `Msg`s
//! without ever blocking it, and hands the real terminal to interactive steps. The loop owns
//! one [`StepRunner`].

use crate::core::conditions::{self, Applicability};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use super::recorder::Recorder;
use crate::core::exec::{self, Mode};
use crate::core::machine::remote_orphans::{self, HostCheck};
use crate::core::progress::Status;
use crate::core::runbook::{Action, Step};
use crate::core::runner::{CheckResult, RunOutcome, RunningStep, StepJob};
use crate::core::settings::Settings;
use crate::core::store::{StoreError, Transition};
use crate::core::supervisor;
use crate::terminal::{Session, Signals};
use crate::ui::Msg;
use crate::ui::model::Model;

mod handover;
mod poll;
pub(crate) use handover::hand_over;
use handover::in_multiplexer;

/// Most runner events turned into messages per loop turn, so keys stay responsive while a
/// command floods its output.
const EVENTS_PER_TURN: usize = 512;

/// Delay between lines of a practice transcript, so it reads like a real run.
const PRACTICE_PACE: Duration = Duration::from_millis(40);

/// Which run and step a job belongs to: the settings it started with name the run's mode and
/// target, so its end is recorded in the run it started in.
#[derive(Debug, Clone)]
struct Owner {
    settings: Settings,
    runbook: String,
    step: String,
}

impl Owner {
    /// Records one transition of this step; the stored truth (or the problem) for the model.
    fn record(&self, recorder: &mut Recorder, t: Transition) -> (Msg, Option<PathBuf>) {
        match recorder.record(&self.settings, &self.runbook, &t) {
            Ok((run, started)) => (Msg::RunLoaded(Box::new(run)), started),
            Err(e) => match e.downcast_ref::<StoreError>() {
                Some(orphaned @ StoreError::Orphaned { .. }) => (
                    Msg::Orphaned {
                        runbook: self.runbook.clone(),
                        step: self.step.clone(),
                        message: orphaned.to_string(),
                    },
                    None,
                ),
                _ => (Msg::Problem(format!("progress not saved: {e:#}")), None),
            },
        }
    }

    fn finished(&self, recorder: &mut Recorder, outcome: &RunOutcome) -> Msg {
        let t = Transition::Finished {
            step: self.step.clone(),
            outcome: outcome.clone(),
        };
        self.record(recorder, t).0
    }
}

/// Everything needed to start a step once its `check` has answered.
struct Prepared {
    owner: Owner,
    work: StepJob,
    mode: Mode,
}

enum Active {
    /// The step's `when` probe runs on a thread; its answer comes back as a message.
    Probing {
        answer: Receiver<Applicability>,
        runbook: String,
        step: String,
    },
    /// The host its last attempt ran on is asked, on a thread, whether that attempt's killed
    /// supervisor left its program running there.
    HostOrphans {
        answer: Receiver<HostCheck>,
        runbook: String,
        step: String,
    },
    /// An interactive step's `check` runs on a thread before the terminal is handed over;
    /// not done, its answer starts the step again, unchecked.
    CheckingInteractive {
        answer: Receiver<CheckResult>,
        runbook: String,
        step: String,
        check: String,
    },
    /// The step's `check` runs on a thread.
    Checking {
        answer: Receiver<CheckResult>,
        prepared: Box<Prepared>,
        check: String,
    },
    /// The programs run (or a supervisor, or a transcript).
    Running {
        running: RunningStep,
        supervised: bool,
        owner: Box<Owner>,
    },
}

/// What the loop must do after asking to start a step.
pub(crate) enum Start {
    /// Queue these messages (the run goes on in the background, or it could not start).
    Messages(Vec<Msg>),
    /// The step needs the real terminal: call [`StepRunner::run_interactive`] with this.
    Interactive(Box<Interactive>),
}

/// An interactive step waiting for the terminal.
pub(crate) struct Interactive {
    owner: Owner,
    job: StepJob,
    log: PathBuf,
}

/// Runs at most one step at a time for the app.
#[derive(Default)]
pub(crate) struct StepRunner {
    active: Option<Active>,
    /// The step whose passing `check` the technician was just told about: running it again
    /// means "run it anyway", so its check is not asked twice.
    check_answered: Option<(String, String)>,
    /// The step whose `when` probe just said yes: its start goes on without probing again.
    probe_answered: Option<(String, String)>,
    /// The step whose last attempt's host was just asked for programs left running (none):
    /// its start goes on without asking again.
    host_answered: Option<(String, String)>,
    /// The interactive step whose `check` just said not done: its start goes on to the
    /// terminal without checking again.
    check_cleared: Option<(String, String)>,
}

impl StepRunner {
    /// True while a step runs (the loop then wakes more often to show its output).
    pub(crate) fn busy(&self) -> bool {
        self.active.is_some()
    }

    /// Starts the step `update` just marked running, with the settings in force now.
    pub(crate) fn start(
        &mut self,
        model: &Model,
        recorder: &mut Recorder,
        runbook: &str,
        step: &str,
    ) -> Start {
        let not_started = |why: String| Start::Messages(vec![Msg::NotStarted(why)]);
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
        if let Some(start) = self.ask_host_first(model, runbook, step) {
            return start;
        }
        if let Some(start) = self.probe_first(model, runbook, st, &values) {
            return start;
        }
        let owner = Owner {
            settings: model.settings.clone(),
            runbook: runbook.to_string(),
            step: step.to_string(),
        };
        let key = (runbook.to_string(), step.to_string());
        let answered = self.check_answered.take().as_ref() == Some(&key);
        let cleared = self.check_cleared.take().as_ref() == Some(&key);
        if spec.interactive && !practice {
            return self.start_interactive(model, recorder, owner, plan, answered || cleared);
        }
        let mut msgs = Vec::new();
        if spec.long && !practice && !in_multiplexer() {
            msgs.push(Msg::OutputLine(
                "fieldbook: this long step runs under a supervisor and survives a dropped link; \
                 screen or tmux is still the safer place (screen -S work, later screen -r work)."
                    .into(),
            ));
        }
        let prepared = Prepared {
            owner,
            work: plan.job,
            mode: Mode::of(
                spec,
                &values,
                practice,
                PRACTICE_PACE,
                &model.settings.machine.shared(),
            ),
        };
        match plan.check.filter(|_| !practice && !answered) {
            Some(check) => {
                let (tx, rx) = mpsc::channel();
                let shown = check.display();
                let on = model.settings.machine.shared();
                std::thread::spawn(move || {
                    let _ = tx.send(exec::run_check(&on, &check));
                });
                msgs.push(Msg::OutputLine(format!(
                    "fieldbook: checking first: {shown}"
                )));
                self.active = Some(Active::Checking {
                    answer: rx,
                    prepared: Box::new(prepared),
                    check: shown,
                });
            }
            None => msgs.extend(self.launch(recorder, prepared)),
        }
        Start::Messages(msgs)
    }

    /// Its last attempt ran on a host and was interrupted: that host is asked first, off the
    /// loop, whether the program still runs there (never this machine's processes). None when
    /// the host answered already, in practice, or when no host attempt is left.
    fn ask_host_first(&mut self, model: &Model, runbook: &str, step: &str) -> Option<Start> {
        let asked = self.host_answered.take() == Some((runbook.to_string(), step.to_string()));
        if asked || model.settings.practice {
            return None;
        }
        let at = model.run(runbook).and_then(|run| {
            let dir = model.settings.state().ok()?;
            remote_orphans::host_attempt(run, &dir, step)
        })?;
        let (tx, rx) = mpsc::channel();
        let dest = at.step.destination.clone();
        let on = model.settings.machine.shared();
        std::thread::spawn(move || {
            let _ = tx.send(remote_orphans::check(&*on, &at));
        });
        self.active = Some(Active::HostOrphans {
            answer: rx,
            runbook: runbook.to_string(),
            step: step.to_string(),
        });
        Some(Start::Messages(vec![Msg::OutputLine(format!(
            "fieldbook: its last attempt ran on {dest}; asking there whether its program \
             still runs"
        ))]))
    }

    /// The step's `when` probe first, off the loop: a step that does not apply here is not
    /// run. Its answer comes back as a message; a yes starts the step again, unprobed. None
    /// when it was probed already, in practice, or when the step has no probe.
    fn probe_first(
        &mut self,
        model: &Model,
        runbook: &str,
        st: &Step,
        values: &BTreeMap<String, String>,
    ) -> Option<Start> {
        let probed = self.probe_answered.take() == Some((runbook.to_string(), st.id.clone()));
        if probed || model.settings.practice {
            return None;
        }
        let probe = st
            .when
            .as_ref()
            .and_then(|w| conditions::probe_command(w, values))?;
        let (tx, rx) = mpsc::channel();
        let (step, values) = (st.clone(), values.clone());
        let on = model.settings.machine.shared();
        std::thread::spawn(move || {
            let _ = tx.send(conditions::probe_here(&*on, &step, &values));
        });
        self.active = Some(Active::Probing {
            answer: rx,
            runbook: runbook.to_string(),
            step: st.id.clone(),
        });
        Some(Start::Messages(vec![Msg::OutputLine(format!(
            "fieldbook: does the step apply here? asking: {}",
            probe.display()
        ))]))
    }

    /// An interactive step: its check first, as for any step (`yum install screen` is not run
    /// again when `rpm -q screen` says it is installed), off the loop, unless its answer is in
    /// already (`check_settled`); the terminal is handed over only once it says not done.
    fn start_interactive(
        &mut self,
        model: &Model,
        recorder: &mut Recorder,
        owner: Owner,
        plan: exec::Plan,
        check_settled: bool,
    ) -> Start {
        if let Some(check) = plan.check.as_ref().filter(|_| !check_settled) {
            let (tx, rx) = mpsc::channel();
            let shown = check.display();
            let (check, on) = (check.clone(), model.settings.machine.shared());
            std::thread::spawn(move || {
                let _ = tx.send(exec::run_check(&on, &check));
            });
            self.active = Some(Active::CheckingInteractive {
                answer: rx,
                runbook: owner.runbook.clone(),
                step: owner.step.clone(),
                check: shown.clone(),
            });
            return Start::Messages(vec![Msg::OutputLine(format!(
                "fieldbook: checking first: {shown}"
            ))]);
        }
        let (loaded, log) = owner.record(
            recorder,
            Transition::Started {
                step: owner.step.clone(),
            },
        );
        match log {
            Some(log) => Start::Interactive(Box::new(Interactive {
                owner,
                job: plan.job,
                log,
            })),
            None => Start::Messages(vec![loaded, unsaved()]),
        }
    }

    /// Runs commands a tool screen built (exact argv, e.g. `chkconfig --level 2345 cups off`)
    /// as an attempt of `step`, with the same log, cancel and recording as a step.
    pub(crate) fn start_commands(
        &mut self,
        model: &Model,
        recorder: &mut Recorder,
        (runbook, step): (&str, &str),
        commands: Vec<Vec<String>>,
        env: Vec<(String, String)>,
    ) -> Vec<Msg> {
        let (work, on) = exec::tool_job(&model.settings.machine.shared(), commands, &env);
        let mode = if model.settings.practice {
            Mode::Practice {
                key: None,
                pace: PRACTICE_PACE,
            }
        } else {
            Mode::Direct(on)
        };
        let owner = Owner {
            settings: model.settings.clone(),
            runbook: runbook.to_string(),
            step: step.to_string(),
        };
        self.launch(recorder, Prepared { owner, work, mode })
    }

    /// Records the attempt's start and starts its programs; nothing runs when the start
    /// cannot be recorded.
    fn launch(&mut self, recorder: &mut Recorder, p: Prepared) -> Vec<Msg> {
        let owner = p.owner;
        let (loaded, log) = owner.record(
            recorder,
            Transition::Started {
                step: owner.step.clone(),
            },
        );
        let Some(log) = log else {
            return match loaded {
                // Programs a killed supervisor left still run: nothing starts beside them, and
                // the technician is offered to stop them.
                orphaned @ Msg::Orphaned { .. } => vec![
                    Msg::NotStarted(
                        "the program of its last attempt still runs without its supervisor".into(),
                    ),
                    orphaned,
                ],
                loaded => vec![loaded, unsaved()],
            };
        };
        let mut msgs = vec![loaded];
        if matches!(p.mode, Mode::Practice { .. }) {
            msgs.push(Msg::OutputLine(
                "fieldbook: PRACTICE: nothing is executed; this is a simulated transcript.".into(),
            ));
        }
        let supervised = p.mode.is_supervised();
        match exec::launch(p.work, log, p.mode) {
            Ok(launched) => {
                if let Some(pid) = launched.pid {
                    let t = Transition::Detached {
                        step: owner.step.clone(),
                        pid,
                    };
                    msgs.push(owner.record(recorder, t).0);
                }
                self.active = Some(Active::Running {
                    running: launched.running,
                    supervised,
                    owner: Box::new(owner),
                });
            }
            Err(message) => {
                self.active = None;
                let outcome = RunOutcome {
                    status: Status::Failed,
                    exit: None,
                    failed_program: None,
                    message,
                };
                msgs.push(owner.finished(recorder, &outcome));
                msgs.push(Msg::StepEnded(outcome));
            }
        }
        msgs
    }

    /// Finds a long step of the current target still running under a live supervisor (after
    /// fieldbook was killed, crashed or lost its terminal) and follows it again. Returns the
    /// message that tells the model, or nothing.
    pub(crate) fn reattach(&mut self, model: &Model) -> Option<Msg> {
        if self.active.is_some() || model.running.is_some() {
            return None;
        }
        let dir = model.settings.state().ok()?;
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
                let log = dir.resolve_path(log);
                // A supervisor that ended after `open` reconciled the run (alive then, its
                // verdict written since) is followed too: the watch reads the verdict at once
                // and it is recorded. Skipped, the step was shown running for good.
                let verdict = || supervisor::read_exit_record_of(&log, a.nonce.as_deref());
                if !exec::is_remote(&log) && !exec::is_alive(a) && verdict().is_none() {
                    continue;
                }
                self.active = Some(Active::Running {
                    running: exec::follow_supervised(&model.settings.machine.0, pid, &log),
                    supervised: true,
                    owner: Box::new(Owner {
                        settings: model.settings.clone(),
                        runbook: run.runbook.clone(),
                        step: id.clone(),
                    }),
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
    pub(crate) fn cancel(&mut self) {
        match &self.active {
            Some(Active::Running { running, .. }) => running.cancel.cancel(),
            Some(
                Active::Checking { .. }
                | Active::CheckingInteractive { .. }
                | Active::Probing { .. }
                | Active::HostOrphans { .. },
            ) => {
                self.active = None;
            }
            None => {}
        }
    }

    /// The app is ending (hang-up, SIGTERM, quit while running): a short step's process group
    /// is ended and the step recorded interrupted; a long step keeps running under its
    /// supervisor (a later fieldbook re-attaches).
    pub(crate) fn stop_for_exit(&mut self, recorder: &mut Recorder, why: &str) -> Vec<Msg> {
        match self.active.take() {
            Some(Active::Running {
                running,
                supervised: false,
                owner,
            }) => {
                running.cancel.end_now();
                let outcome = RunOutcome {
                    status: Status::Interrupted,
                    exit: None,
                    failed_program: None,
                    message: format!("{why}; the command's process group was ended"),
                };
                vec![owner.finished(recorder, &outcome), Msg::StepEnded(outcome)]
            }
            Some(
                Active::Checking { .. }
                | Active::CheckingInteractive { .. }
                | Active::Probing { .. }
                | Active::HostOrphans { .. },
            ) => {
                vec![Msg::NotStarted(format!("{why} before the step started"))]
            }
            // A supervised step keeps running; its attempt stays `running` with the pid.
            Some(Active::Running {
                supervised: true, ..
            })
            | None => Vec::new(),
        }
    }

    /// Gives the terminal to an interactive step (see [`hand_over`]) and records how it ended.
    pub(crate) fn run_interactive(
        &mut self,
        recorder: &mut Recorder,
        session: &mut Session,
        signals: &Signals,
        step: Interactive,
    ) -> Vec<Msg> {
        let owner = step.owner.clone();
        let mut msgs = hand_over(session, signals, step);
        let ended = msgs.iter().find_map(|m| match m {
            Msg::StepEnded(outcome) => Some(outcome.clone()),
            _ => None,
        });
        if let Some(outcome) = ended {
            let loaded = owner.finished(recorder, &outcome);
            msgs.insert(0, loaded);
        }
        msgs
    }
}

/// Why nothing ran: the start could not be recorded.
fn unsaved() -> Msg {
    Msg::NotStarted("its start could not be recorded (see the message), so nothing was run".into())
}

/// Stops, on its host, what the killed supervisor of a host's attempt left running (SIGTERM,
/// then SIGKILL after the grace); run off the loop. The answer is the message for the model.
pub(crate) fn stop_on_host(
    on: &dyn crate::core::machine::Machine,
    runbook: String,
    step: String,
    at: &remote_orphans::HostAttempt,
) -> Msg {
    let stopped = remote_orphans::session_for(on, at).and_then(|session| {
        remote_orphans::stop(session, at, exec::headless::ORPHAN_GRACE).map_err(|e| e.to_string())
    });
    match stopped {
        Ok(stopped) => Msg::OrphansStopped {
            runbook,
            step,
            stopped: stopped.found.map(|f| f.pids).unwrap_or_default(),
            left: stopped.left,
            on: Some(at.step.destination.clone()),
        },
        Err(why) => Msg::Problem(format!("the program on the host was not stopped: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::poll::drain;
    use super::*;
    use crate::core::runbook::Runbook;
    use crate::core::runner::{CancelHandle, RunEvent};
    use crate::core::terminal_text::TerminalText;
    use crate::ui::model::OUTPUT_LIMIT;

    /// A model with one runbook, its state under `dir` and target gw1, its recorder and a runner.
    fn session(rb: Runbook, dir: &std::path::Path) -> (Model, Recorder, StepRunner) {
        let mut model = Model::new(vec![rb.clone()], Default::default(), Vec::new());
        model.settings.state_dir = Some(dir.join("state"));
        model.settings.target = "gw1".into();
        (model, Recorder::new(vec![rb]), StepRunner::default())
    }

    /// Polls until the runner says something (10 s at most): the answer of `what`.
    fn poll_until(runner: &mut StepRunner, recorder: &mut Recorder, what: &str) -> Vec<Msg> {
        for _ in 0..400 {
            let msgs = runner.poll(recorder);
            if !msgs.is_empty() {
                return msgs;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("no answer from {what}");
    }

    /// A running step whose events are already waiting in its channel.
    fn following(events: Vec<RunEvent>) -> RunningStep {
        let (tx, rx) = mpsc::channel();
        for e in events {
            tx.send(e).unwrap();
        }
        RunningStep {
            events: rx,
            cancel: CancelHandle::default(),
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
        let running = following((0..300).map(|b| batch(b * 1000, 1000)).collect());
        let (msgs, _) = drain(&running);
        let Some(Msg::Output(lines)) = msgs.first() else {
            panic!("{msgs:?}");
        };
        assert!(lines.len() < 2 * OUTPUT_LIMIT, "{} lines held", lines.len());
        assert!(lines.len() >= OUTPUT_LIMIT);
        assert_eq!(lines.last().unwrap().text(), "line 299999");
        assert!(!lines.last().unwrap().is_plain(), "colours are kept");
    }

    /// A long step whose supervisor was alive when the run was opened (so `open` left it
    /// running) and ended before the loop's first look: its verdict is followed and recorded,
    /// never left showing running. Before the fix it was skipped as dead, for good.
    #[test]
    fn a_supervisor_that_ended_after_open_is_followed_to_its_verdict() {
        use crate::core::exit_record::ExitRecord;
        use crate::core::progress::Exit;
        use crate::core::runbook::load_str;
        use crate::core::state_dir;
        use crate::core::store::{IfCorrupt, Store};
        let tmp = tempfile::tempdir().unwrap();
        let rb = load_str(
            "long.toml",
            "id = \"long\"\ntitle = \"L\"\nsummary = \"s\"\n[[section]]\nid = \"s\"\n\
             title = \"S\"\n[[section.step]]\nid = \"build\"\ntitle = \"Build\"\n\
             kind = \"command\"\nlong = true\ncommands = [[\"true\"]]\nwhy = \"w\"\n",
        )
        .unwrap();
        let (mut model, _recorder, mut runner) = session(rb.clone(), tmp.path());
        let dir = model.settings.state().unwrap();
        let mut store = Store::open(&dir, &rb, "gw1", IfCorrupt::Stop).unwrap();
        let started = store.start("build").unwrap();
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        gone.wait().unwrap();
        store.set_pid("build", gone.id()).unwrap();
        let record = ExitRecord {
            attempt: Some(started.nonce.clone()),
            ..ExitRecord::from(Exit::Code(0))
        };
        state_dir::write_exit_record(&state_dir::exit_file(&started.log), &record).unwrap();
        model.runs = vec![store.run().clone()];
        assert!(
            matches!(runner.reattach(&model), Some(Msg::Reattached { step, .. }) if step == "build"),
            "the ended step is followed"
        );
    }

    /// Issue 15 item 1: a run another fieldbook holds runs nothing and marks nothing.
    #[test]
    fn a_run_held_by_another_fieldbook_runs_nothing_and_marks_nothing() {
        use crate::core::runbook::load_str;
        use crate::core::state_dir::StateDir;
        use crate::core::store::{IfCorrupt, Store, Transition};
        let tmp = tempfile::tempdir().unwrap();
        let ran = tmp.path().join("ran");
        let rb = load_str(
            "held.toml",
            &format!(
                "id = \"held\"\ntitle = \"H\"\nsummary = \"s\"\n[[section]]\nid = \"s\"\n\
                 title = \"S\"\n[[section.step]]\nid = \"touch\"\ntitle = \"Touch\"\n\
                 kind = \"command\"\ncommands = [[\"touch\", \"{}\"]]\nwhy = \"w\"\n",
                ran.display()
            ),
        )
        .unwrap();
        let state = tmp.path().join("state");
        let _other =
            Store::open(&StateDir::at(&state, false), &rb, "gw1", IfCorrupt::Stop).unwrap();
        let mut model = Model::new(vec![rb.clone()], Default::default(), Vec::new());
        model.settings.state_dir = Some(state);
        model.settings.target = "gw1".into();
        let mut recorder = Recorder::new(vec![rb]);
        let mut runner = StepRunner::default();
        let Start::Messages(msgs) = runner.start(&model, &mut recorder, "held", "touch") else {
            panic!("not a command step?");
        };
        assert!(
            msgs.iter().any(|m| matches!(m, Msg::NotStarted(_))),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| matches!(m, Msg::Problem(p) if p.contains("another fieldbook"))),
            "{msgs:?}"
        );
        assert!(!runner.busy());
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !ran.exists(),
            "the command ran on a run that cannot be saved"
        );
        let done = Transition::MarkedDone {
            step: "touch".into(),
            reason: None,
        };
        assert!(recorder.record(&model.settings, "held", &done).is_err());
    }

    /// A step's `when` probe runs off the loop: `start` returns at once while the probe still
    /// waits, the answer comes back from `poll` as a message (no: `NotNeeded`; yes: `Applies`,
    /// and the next start runs the step without probing again).
    #[test]
    fn a_when_probe_runs_off_the_loop_and_answers_by_message() {
        use crate::core::runbook::load_str;
        let tmp = tempfile::tempdir().unwrap();
        let gate = tmp.path().join("gate");
        let ran = tmp.path().join("ran");
        let rb = load_str(
            "probe.toml",
            &format!(
                "id = \"probe\"\ntitle = \"P\"\nsummary = \"s\"\n[[section]]\nid = \"s\"\n\
                 title = \"S\"\n[[section.step]]\nid = \"slow\"\ntitle = \"Slow\"\n\
                 kind = \"command\"\ncommands = [[\"touch\", \"{ran}\"]]\nwhy = \"w\"\n\
                 when = {{ probe = [\"sh\", \"-c\", \"while [ ! -e {gate} ]; do sleep 0.05; done; \
                 test -s {gate}\"], not_needed = \"gate empty\" }}\n",
                ran = ran.display(),
                gate = gate.display()
            ),
        )
        .unwrap();
        let (model, mut recorder, mut runner) = session(rb, tmp.path());
        // The probe waits for the gate: start must not wait with it.
        let Start::Messages(msgs) = runner.start(&model, &mut recorder, "probe", "slow") else {
            panic!("not a command step?");
        };
        assert!(
            matches!(&msgs[..], [Msg::OutputLine(l)] if l.contains("does the step apply here")),
            "{msgs:?}"
        );
        assert!(runner.busy());
        assert!(
            runner.poll(&mut recorder).is_empty(),
            "answered before the probe ended"
        );
        std::fs::write(&gate, "").unwrap();
        let msgs = poll_until(&mut runner, &mut recorder, "the probe");
        assert!(
            matches!(&msgs[..], [Msg::NotNeeded { why, .. }] if why == "gate empty"),
            "{msgs:?}"
        );
        assert!(!runner.busy());
        // Yes: a message, then the step starts without asking the probe again.
        std::fs::write(&gate, "yes").unwrap();
        runner.start(&model, &mut recorder, "probe", "slow");
        let msgs = poll_until(&mut runner, &mut recorder, "the probe");
        assert!(
            matches!(&msgs[..], [Msg::Applies { step, .. }] if step == "slow"),
            "{msgs:?}"
        );
        std::fs::remove_file(&gate).unwrap();
        let Start::Messages(msgs) = runner.start(&model, &mut recorder, "probe", "slow") else {
            panic!("not a command step?");
        };
        assert!(
            msgs.iter().any(|m| matches!(m, Msg::RunLoaded(_))),
            "probed again instead of starting: {msgs:?}"
        );
        for _ in 0..400 {
            if runner
                .poll(&mut recorder)
                .iter()
                .any(|m| matches!(m, Msg::StepEnded(_)))
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        assert!(ran.exists(), "the step did not run");
    }

    /// An interactive step's `check` runs first, off the loop, as any step's does: passing, the
    /// step is offered as already done and the terminal is never handed over (`yum install
    /// screen` is not run when `rpm -q screen` says it is there); not done, the answer starts
    /// the step again and it goes to the terminal without checking twice.
    #[test]
    fn an_interactive_steps_check_runs_before_the_terminal_is_handed_over() {
        use crate::core::runbook::load_str;
        let tmp = tempfile::tempdir().unwrap();
        let there = tmp.path().join("installed");
        std::fs::write(&there, "").unwrap();
        let step = |id: &str, path: &std::path::Path| {
            format!(
                "[[section.step]]\nid = \"{id}\"\ntitle = \"{id}\"\nkind = \"command\"\n\
                 commands = [[\"sh\", \"-c\", \"read a\"]]\ninteractive = true\n\
                 check = [\"test\", \"-e\", \"{}\"]\nwhy = \"w\"\n",
                path.display()
            )
        };
        let rb = load_str(
            "ask.toml",
            &format!(
                "id = \"ask\"\ntitle = \"A\"\nsummary = \"s\"\n[[section]]\nid = \"s\"\n\
                 title = \"S\"\n{}{}",
                step("present", &there),
                step("absent", &tmp.path().join("missing"))
            ),
        )
        .unwrap();
        let (model, mut recorder, mut runner) = session(rb, tmp.path());
        let checking = |start: Start| match start {
            Start::Messages(msgs) => assert!(
                matches!(&msgs[..], [Msg::OutputLine(l)] if l.contains("checking first")),
                "{msgs:?}"
            ),
            Start::Interactive(_) => panic!("the terminal was handed over before the check ran"),
        };
        let terminal = |start: Start| match start {
            Start::Interactive(_) => {}
            Start::Messages(msgs) => panic!("not handed the terminal: {msgs:?}"),
        };
        // Not done: the check's answer starts the step again, which then gets the terminal.
        checking(runner.start(&model, &mut recorder, "ask", "absent"));
        let msgs = poll_until(&mut runner, &mut recorder, "the check");
        assert!(
            matches!(&msgs[..], [Msg::Applies { step, .. }] if step == "absent"),
            "{msgs:?}"
        );
        terminal(runner.start(&model, &mut recorder, "ask", "absent"));
        // Done already: offered as done; the terminal is never asked for.
        checking(runner.start(&model, &mut recorder, "ask", "present"));
        let msgs = poll_until(&mut runner, &mut recorder, "the check");
        assert!(
            msgs.iter().any(|m| matches!(m, Msg::AlreadyDone { .. })),
            "{msgs:?}"
        );
        assert!(!runner.busy());
        // "Run it anyway" after that: straight to the terminal, not checked twice.
        terminal(runner.start(&model, &mut recorder, "ask", "present"));
    }
}
