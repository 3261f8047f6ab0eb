//! Running steps without the app (`fieldbook exec`, `fieldbook auto`): the same plan, check,
//! practice, supervisor and recording as the app's runner, printing the filtered output to
//! stdout and fieldbook's notes to stderr.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::Mode;
use crate::core::conditions::{self};
use crate::core::exit::{self};
use crate::core::progress::Status;
use crate::core::runbook::{Action, Runbook, Step};
use crate::core::runner::{CheckResult, RunOutcome};
use crate::core::settings::Settings;
use crate::core::store::{Store, StoreError, Transition};
use crate::core::terminal_text::{StyledLine, terminal_safe};

mod edit;
mod follow;
mod gate;

/// How long orphaned programs get after SIGTERM before SIGKILL (`--stop-orphans`).
pub const ORPHAN_GRACE: Duration = Duration::from_secs(5);

/// Everything a headless step run needs: the runbook, where progress goes, the values.
pub struct Context<'a> {
    pub runbook: &'a Runbook,
    /// The run's store (holds the run's lock while `exec`/`auto` works on it).
    pub store: RefCell<Store>,
    /// The session's settings (practice, `--root`).
    pub settings: Settings,
    pub values: BTreeMap<String, String>,
    /// Confirmation given on the command line (`--yes`) for steps that ask for it.
    pub yes: bool,
    /// `--force`: run a step before the steps it comes `after` (recorded as forced).
    pub force: bool,
    /// `--stop-orphans`: stop the programs a killed supervisor of the step's last attempt left
    /// running before the retry; without it such a retry is refused, naming the flag.
    pub stop_orphans: bool,
    /// A step whose `when` is a question stops the run (`auto`) instead of running because
    /// the technician named it (`exec`).
    pub ask_stops: bool,
    /// The technician's answers to steps' questions given beforehand (`auto --answer`), by
    /// step id: yes runs the step, no skips it as not needed; either is recorded.
    pub answers: BTreeMap<String, bool>,
    signals: Signals,
}

/// How a headless step ended, mapped to an exit status by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepEnd {
    /// Done (ran, or found done by its check).
    Done,
    /// Failed, cancelled or interrupted; the message says which.
    NotDone(String),
    /// Needs the app; the reason in words.
    NeedsTerminal(String),
    /// A long step left running under its supervisor (Ctrl-C once, or a hang-up).
    StillRunning(String),
    /// Its `when` says it does not apply here: recorded as skipped with this reason.
    NotNeeded(String),
    /// Refused: steps it comes `after` are not done or skipped (the message names them).
    OutOfOrder(String),
}

impl StepEnd {
    /// The exit status `exec` uses for this end.
    pub fn code(&self) -> u8 {
        match self {
            StepEnd::Done | StepEnd::NotNeeded(_) => exit::OK,
            StepEnd::NotDone(_) | StepEnd::OutOfOrder(_) => exit::FAILURE,
            StepEnd::NeedsTerminal(_) => exit::NEEDS_TERMINAL,
            StepEnd::StillRunning(_) => exit::STILL_RUNNING,
        }
    }
}

/// Signals seen while a headless step runs: Ctrl-C and SIGTERM cancel the step, a hang-up ends
/// a short step's process group and leaves a long (supervised) one running.
#[derive(Clone, Default)]
struct Signals {
    interrupt: Arc<AtomicBool>,
    hangup: Arc<AtomicBool>,
}

impl Signals {
    fn register() -> Signals {
        let s = Signals::default();
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let _ = signal_hook::flag::register(sig, s.interrupt.clone());
        }
        let _ = signal_hook::flag::register(signal_hook::consts::SIGHUP, s.hangup.clone());
        s
    }
}

impl<'a> Context<'a> {
    /// A headless runner over an open run; `values` are the merged values (defaults, saved,
    /// given); `yes` confirms steps that ask for it.
    pub fn new(
        runbook: &'a Runbook,
        store: Store,
        settings: Settings,
        values: BTreeMap<String, String>,
        yes: bool,
    ) -> Context<'a> {
        Context {
            runbook,
            store: RefCell::new(store),
            settings,
            values,
            yes,
            force: false,
            stop_orphans: false,
            ask_stops: false,
            answers: BTreeMap::new(),
            signals: Signals::register(),
        }
    }

    /// Status of a step in the run.
    pub fn status(&self, step: &str) -> Status {
        self.store.borrow().run().status(step)
    }

    /// Runs one step to its end, recording it; prints output to stdout, notes to stderr.
    pub fn run_step(&self, step: &Step) -> anyhow::Result<StepEnd> {
        let forced = match self.gate(step)? {
            Ok(forced) => forced,
            Err(end) => return Ok(end),
        };
        if let Some(reason) = self.blocker(step)? {
            // An interactive step whose check says it is done already needs nobody: it is
            // recorded done, as the app does before it would hand over the terminal.
            if self.interactive_done_by_check(step)? {
                return Ok(StepEnd::Done);
            }
            return Ok(StepEnd::NeedsTerminal(reason));
        }
        if !forced.is_empty() {
            let note = conditions::forced_note(&forced);
            say(&format!("{}: {note}", step.id));
            self.store.borrow_mut().note(&step.id, &note)?;
        }
        let spec = match &step.action {
            Action::Run(spec) => spec,
            Action::Form { fields } => return self.form_step(step, fields),
            Action::Edit { edits } => return self.edit_step(step, edits),
            _ => return Ok(StepEnd::NeedsTerminal("it needs the app".into())),
        };
        // A long step still running under its supervisor (started earlier, by the app or by
        // another exec): follow it instead of starting it twice.
        if let Some(end) = self.follow_live(step)? {
            return Ok(end);
        }
        let plan = match super::plan(self.runbook, spec, &self.values) {
            Ok(plan) => plan,
            Err(m) => return Ok(StepEnd::NotDone(format!("no value for '{}'", m.name))),
        };
        if self.already_done(step, &plan)? {
            return Ok(StepEnd::Done);
        }
        self.host_orphans(step)?;
        self.stop_orphans_first(step)?;
        let started = self
            .store
            .borrow_mut()
            .start(&step.id)
            .map_err(|e| match e {
                StoreError::Orphaned { .. } => anyhow::anyhow!(
                    "{e}, or let fieldbook stop it: fieldbook exec {} {} --stop-orphans",
                    self.runbook.id,
                    step.id
                ),
                e => e.into(),
            })?;
        let log = started.log.clone();
        let on = self.settings.machine.shared();
        let mode = Mode::of(
            spec,
            &self.values,
            self.settings.practice,
            Duration::ZERO,
            &on,
        );
        let supervised = mode.is_supervised();
        let launched = match super::launch_with_secrets(plan.job, log.clone(), mode, &plan.secrets)
        {
            Ok(launched) => launched,
            Err(message) => {
                let outcome = RunOutcome {
                    status: Status::Failed,
                    exit: None,
                    failed_program: None,
                    message,
                };
                self.finished(&step.id, &outcome)?;
                return Ok(StepEnd::NotDone(outcome.message));
            }
        };
        if let Some(pid) = launched.pid {
            self.store.borrow_mut().set_pid(&step.id, pid)?;
        }
        if self.settings.practice {
            say("PRACTICE: nothing is executed");
        }
        say(&format!("{} (log: {})", step.title, log.display()));
        self.follow_and_record(step, &launched.running, supervised)
    }

    /// A form step given its values on the command line: done, saying what was saved (a form
    /// step that printed nothing looked like one that did nothing).
    fn form_step(&self, step: &Step, fields: &[String]) -> anyhow::Result<StepEnd> {
        self.store
            .borrow_mut()
            .mark_done(&step.id, "values given on the command line")?;
        let mut out = std::io::stdout().lock();
        for name in fields {
            let secret = self
                .runbook
                .variable(name)
                .is_some_and(|v| v.ty == crate::core::vars::VarType::Secret);
            let shown = match self.values.get(name) {
                Some(_) if secret => "(secret: used now, never saved)".to_string(),
                Some(v) => v.clone(),
                None => "(no value)".to_string(),
            };
            let _ = writeln!(out, "{name} = {}", terminal_safe(&shown));
        }
        say(&format!(
            "{}: done; values saved for the later steps",
            step.id
        ));
        Ok(StepEnd::Done)
    }

    /// Follows the step when it is still running under its supervisor; None when it is not.
    fn follow_live(&self, step: &Step) -> anyhow::Result<Option<StepEnd>> {
        let live = self
            .store
            .borrow()
            .live_steps()
            .into_iter()
            .find(|l| l.step == step.id);
        if let Some(live) = live {
            let Some(log) = live.log else {
                return Ok(Some(StepEnd::NotDone(
                    "running, but its log is unknown".into(),
                )));
            };
            say(&format!(
                "{} is still running (supervisor pid {}); following its log {}",
                step.id,
                live.pid,
                log.display()
            ));
            let running = super::follow_supervised(&self.settings.machine.0, live.pid, &log);
            return self.follow_and_record(step, &running, true).map(Some);
        }
        Ok(None)
    }

    /// An interactive step (confirmed, when it asks) whose check, run here, says it is done
    /// already: recorded so. False for any other step, or when its values are missing.
    fn interactive_done_by_check(&self, step: &Step) -> anyhow::Result<bool> {
        let Action::Run(spec) = &step.action else {
            return Ok(false);
        };
        if !spec.interactive || spec.check.is_none() || (step.confirm.is_some() && !self.yes) {
            return Ok(false);
        }
        match super::plan(self.runbook, spec, &self.values) {
            Ok(plan) => self.already_done(step, &plan),
            Err(_) => Ok(false),
        }
    }

    /// True when the step's check says it is done already (recorded so); a check that cannot
    /// tell is said and the step runs.
    fn already_done(&self, step: &Step, plan: &super::Plan) -> anyhow::Result<bool> {
        if self.settings.practice {
            return Ok(false);
        }
        if let Some(check) = &plan.check {
            match super::run_check(&self.settings.machine.0, check) {
                CheckResult::AlreadyDone => {
                    let reason = format!("already done: `{}` succeeded", check.display());
                    say(&format!("{}: {reason}", step.id));
                    self.store.borrow_mut().mark_done(&step.id, &reason)?;
                    return Ok(true);
                }
                CheckResult::NotDone => {}
                CheckResult::Unknown(why) => {
                    say(&format!("{}: check not conclusive: {why}", step.id));
                }
            }
        }
        Ok(false)
    }

    /// `--stop-orphans`: stops what a killed supervisor left running before the step starts
    /// again, and records it as the app does.
    fn stop_orphans_first(&self, step: &Step) -> anyhow::Result<()> {
        if !self.stop_orphans {
            return Ok(());
        }
        let stopped = self.store.borrow().stop_orphans(&step.id, ORPHAN_GRACE);
        if !stopped.is_empty() {
            let pids: Vec<String> = stopped.iter().map(u32::to_string).collect();
            let text = format!(
                "stopped the program a killed supervisor left running (pid {}): SIGTERM, \
                 then SIGKILL if needed",
                pids.join(", ")
            );
            say(&format!("{}: {text}", step.id));
            // On the record too, as the app records it.
            self.store.borrow_mut().note(&step.id, &text)?;
        }
        Ok(())
    }

    /// Records how the step's attempt ended.
    fn finished(&self, step: &str, outcome: &RunOutcome) -> anyhow::Result<()> {
        self.store.borrow_mut().record(&Transition::Finished {
            step: step.to_string(),
            outcome: outcome.clone(),
        })?;
        Ok(())
    }
}

/// How long after a first Ctrl-C on a long step a second one cancels it.
const SECOND_CTRL_C: Duration = Duration::from_secs(2);

/// Writes a filtered line as plain text, saying when it was cut.
fn write_line(out: &mut impl Write, line: &StyledLine) {
    let _ = out.write_all(line.as_str().as_bytes());
    if let Some(note) = line.cut_note() {
        let _ = out.write_all(note.as_bytes());
    }
    let _ = out.write_all(b"\n");
}

/// A `fieldbook: ` line on stderr. Runbook text and values in it (titles, commands, messages
/// quoting them) are made visible, never sent to the terminal raw.
pub fn say(text: &str) {
    crate::core::stdio::eprint_line(&format!("fieldbook: {}", terminal_safe(text)));
}
