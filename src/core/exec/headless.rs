//! Running steps without the app (`fieldbook exec`, `fieldbook auto`): the same plan, check,
//! practice, supervisor and recording as the app's runner, printing the filtered output to
//! stdout and fieldbook's notes to stderr.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Mode;
use crate::core::apply::{self, EditContext};
use crate::core::conditions::{self, Gate};
use crate::core::exit::{self, UsageError};
use crate::core::progress::Status;
use crate::core::runbook::{Action, RunSpec, Runbook, Step};
use crate::core::runner::{self, CheckResult, RunEvent, RunOutcome};
use crate::core::settings::Settings;
use crate::core::store::{Store, StoreError, Transition};
use crate::core::terminal_text::{StyledLine, terminal_safe};
use crate::core::{clock, machine};

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

    /// Order and condition before anything else (`core::conditions::gate`): `Err` is how the
    /// step ends without starting; `Ok` the prerequisites run past with `--force`.
    fn gate(&self, step: &Step) -> anyhow::Result<Result<Vec<String>, StepEnd>> {
        let practice = self.settings.practice;
        let gate = conditions::gate(
            step,
            &self.values,
            |id| self.status(id),
            self.force,
            // Practice mode runs nothing, probes included: every step is walked through.
            |cmd| {
                if practice {
                    CheckResult::AlreadyDone
                } else {
                    super::run_check(&self.settings.machine.0, cmd)
                }
            },
        );
        Ok(match gate {
            Gate::Go { forced } => Ok(forced),
            Gate::OutOfOrder(unmet) => {
                let ids: Vec<&str> = unmet.iter().map(String::as_str).collect();
                Err(StepEnd::OutOfOrder(conditions::out_of_order_message(
                    step, &ids,
                )))
            }
            Gate::NotNeeded(why) => {
                let reason = conditions::not_needed_outcome(&why);
                self.store.borrow_mut().skip(&step.id, &reason)?;
                say(&format!("[-] {}: {reason}", step.id));
                Err(StepEnd::NotNeeded(reason))
            }
            Gate::Ask(question) if self.answers.contains_key(&step.id) => {
                let yes = self.answers.get(&step.id).copied().unwrap_or(false);
                self.answered(step, &question, yes)?
            }
            Gate::Ask(question) if self.ask_stops => Err(StepEnd::NeedsTerminal(format!(
                "it applies only sometimes (\"{}\"): answer in the app, or run it with \
                 `fieldbook exec {} {}`",
                question.trim(),
                self.runbook.id,
                step.id
            ))),
            Gate::Ask(question) => {
                say(&format!(
                    "{} applies only if: {} (running it because you asked for it)",
                    step.id,
                    question.trim()
                ));
                Ok(Vec::new())
            }
            Gate::ProbeFailed(why) => Err(StepEnd::NotDone(format!(
                "cannot tell whether the step applies here: {why}"
            ))),
        })
    }

    /// A question the technician answered beforehand: the answer is noted on the step; yes
    /// goes on to run it, no records it skipped as not needed, as a probe's no is.
    fn answered(
        &self,
        step: &Step,
        question: &str,
        yes: bool,
    ) -> anyhow::Result<Result<Vec<String>, StepEnd>> {
        let note = format!(
            "answered {} to \"{}\" (--answer)",
            if yes { "yes" } else { "no" },
            question.trim()
        );
        self.store.borrow_mut().note(&step.id, &note)?;
        if yes {
            say(&format!("{}: {note}", step.id));
            return Ok(Ok(Vec::new()));
        }
        let why = step.when.as_ref().map_or("", |w| w.not_needed.as_str());
        let reason = conditions::not_needed_outcome(why);
        self.store.borrow_mut().skip(&step.id, &reason)?;
        say(&format!("[-] {}: {reason}", step.id));
        Ok(Err(StepEnd::NotNeeded(reason)))
    }

    /// Why a step cannot run here, if it cannot (manual, interactive, a tool, a form without
    /// its values, a confirmation not given, a missing variable).
    pub fn blocker(&self, step: &Step) -> Result<Option<String>, UsageError> {
        let reason = match &step.action {
            Action::Manual => Some("it is a manual step: read it and confirm it in the app".into()),
            Action::Tool { tool } => Some(format!(
                "it opens the {} tool screen, which needs the app",
                tool.name()
            )),
            Action::Form { fields } => {
                let missing: Vec<&String> = fields
                    .iter()
                    .filter(|f| !self.values.contains_key(*f))
                    .collect();
                if missing.is_empty() {
                    None
                } else {
                    Some(format!(
                        "it asks for values ({}); give them with --var NAME=VALUE or use the app",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
            Action::Edit { .. } => None,
            Action::Run(spec) if spec.interactive && !self.settings.practice => Some(
                "it is interactive (it asks questions on the terminal): run it from the app".into(),
            ),
            Action::Run(spec) => {
                self.check_values(step, spec)?;
                None
            }
        };
        if reason.is_some() {
            return Ok(reason);
        }
        if let Some(confirm) = &step.confirm {
            if !self.yes {
                return Ok(Some(format!(
                    "it asks for confirmation (\"{}\"): add --yes to confirm, or use the app",
                    confirm.trim()
                )));
            }
        }
        Ok(None)
    }

    fn check_values(&self, step: &Step, spec: &RunSpec) -> Result<(), UsageError> {
        match super::plan(self.runbook, spec, &self.values) {
            Ok(_) => Ok(()),
            Err(m) => Err(UsageError(format!(
                "step '{}' needs variable '{}'{}: give it with --var {}=VALUE",
                step.id, m.name, m.label, m.name
            ))),
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
            return Ok(StepEnd::NeedsTerminal(reason));
        }
        if !forced.is_empty() {
            let note = conditions::forced_note(&forced);
            say(&format!("{}: {note}", step.id));
            self.store.borrow_mut().note(&step.id, &note)?;
        }
        let spec = match &step.action {
            Action::Run(spec) => spec,
            Action::Form { fields } => {
                self.store
                    .borrow_mut()
                    .mark_done(&step.id, "values given on the command line")?;
                // Say what was saved: a form step that printed nothing looked like one that
                // did nothing.
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
                return Ok(StepEnd::Done);
            }
            Action::Edit { edits } => return self.edit_step(step, edits),
            _ => return Ok(StepEnd::NeedsTerminal("it needs the app".into())),
        };
        // A long step still running under its supervisor (started earlier, by the app or by
        // another exec): follow it instead of starting it twice.
        let live = self
            .store
            .borrow()
            .live_steps()
            .into_iter()
            .find(|l| l.step == step.id);
        if let Some(live) = live {
            let Some(log) = live.log else {
                return Ok(StepEnd::NotDone("running, but its log is unknown".into()));
            };
            say(&format!(
                "{} is still running (supervisor pid {}); following its log {}",
                step.id,
                live.pid,
                log.display()
            ));
            let running = super::follow_supervised(&self.settings.machine.0, live.pid, &log);
            return self.follow_and_record(step, &running, true);
        }
        let plan = match super::plan(self.runbook, spec, &self.values) {
            Ok(plan) => plan,
            Err(m) => return Ok(StepEnd::NotDone(format!("no value for '{}'", m.name))),
        };
        if !self.settings.practice
            && let Some(check) = &plan.check
        {
            match super::run_check(&self.settings.machine.0, check) {
                CheckResult::AlreadyDone => {
                    let reason = format!("already done: `{}` succeeded", check.display());
                    say(&format!("{}: {reason}", step.id));
                    self.store.borrow_mut().mark_done(&step.id, &reason)?;
                    return Ok(StepEnd::Done);
                }
                CheckResult::NotDone => {}
                CheckResult::Unknown(why) => {
                    say(&format!("{}: check not conclusive: {why}", step.id));
                }
            }
        }
        self.host_orphans(step)?;
        if self.stop_orphans {
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
        }
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

    /// Records how the step's attempt ended.
    fn finished(&self, step: &str, outcome: &RunOutcome) -> anyhow::Result<()> {
        self.store.borrow_mut().record(&Transition::Finished {
            step: step.to_string(),
            outcome: outcome.clone(),
        })?;
        Ok(())
    }

    /// A last attempt that ran on a host over ssh: what its killed supervisor may have left
    /// running is looked for on that host, never here (without that host it is said that it
    /// cannot be checked). Found, it is stopped with `--stop-orphans` (and that is recorded on
    /// the step), else the step is refused as a local one is.
    fn host_orphans(&self, step: &Step) -> anyhow::Result<()> {
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

    fn follow_and_record(
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

    /// Applies an edit step through the edit engine (backups into the state directory's
    /// archive, atomic writes); in practice mode only shows the diff.
    fn edit_step(
        &self,
        step: &Step,
        edits: &[crate::core::runbook::Edit],
    ) -> anyhow::Result<StepEnd> {
        let (base, archive) = {
            let store = self.store.borrow();
            (store.state_dir().base(), apply::archive_for(store.run()))
        };
        let ctx = EditContext {
            root: self.settings.root.as_deref(),
            state_dir: &base,
            archive: &archive,
            values: &self.values,
            follow_symlinks: false,
        };
        let remote = self.settings.machine.ssh();
        let previewed = match remote {
            Some(session) => {
                machine::remote_files::preview(session, self.settings.root.as_deref(), edits, &ctx)
            }
            None => apply::preview(edits, &ctx),
        };
        let preview = match previewed {
            Ok(p) => p,
            // The app asks before it edits through a link; exec cannot ask, so it says so with
            // the exit status of a step that needs the app.
            Err(e @ apply::EditError::Symlink { .. }) => {
                return Ok(StepEnd::NeedsTerminal(format!(
                    "{e}: the app asks for that confirmation"
                )));
            }
            Err(apply::EditError::NoValue { name: variable, .. }) => {
                // Exit 2, as for a command step: the value is missing, not the file.
                let label = self
                    .runbook
                    .variable(&variable)
                    .map(|v| format!(" ({})", v.label))
                    .unwrap_or_default();
                return Err(UsageError(format!(
                    "step '{}' needs variable '{variable}'{label}: give it with --var \
                     {variable}=VALUE (or do its form step first)",
                    step.id
                ))
                .into());
            }
            Err(e) => return self.edit_failed(step, edits, &e.to_string()),
        };
        print!("{}", preview.diff_for_terminal());
        if preview.already_applied() {
            say(&format!("{}: already applied; nothing to change", step.id));
            self.store.borrow_mut().complete(&step.id)?;
            return Ok(StepEnd::Done);
        }
        if self.settings.practice {
            say("PRACTICE: no file was touched");
            self.store.borrow_mut().complete(&step.id)?;
            return Ok(StepEnd::Done);
        }
        let result = match remote {
            Some(session) => machine::remote_files::apply(
                session,
                self.settings.root.as_deref(),
                &step.id,
                edits,
                &ctx,
                &clock::now(),
            ),
            None => apply::apply(&step.id, &preview, &ctx, &clock::now()),
        };
        let (mut applied, error) = match result {
            Ok(applied) => (applied, None),
            Err(f) => (f.applied, Some(f.error.to_string())),
        };
        let secrets = self
            .runbook
            .variables
            .iter()
            .filter(|v| v.ty == crate::core::vars::VarType::Secret)
            .filter_map(|v| self.values.get(&v.name).map(String::as_str));
        apply::mask_secrets(&mut applied, secrets);
        let mut store = self.store.borrow_mut();
        for a in applied {
            store.record_edit(a)?;
        }
        match error {
            None => {
                store.complete(&step.id)?;
                Ok(StepEnd::Done)
            }
            Some(e) => {
                drop(store);
                self.edit_failed(step, edits, &e)
            }
        }
    }

    /// An edit step the engine refused or that failed part-way: says why and which files (as
    /// resolved under `--root`), and records the attempt as failed (no program ran, so no exit
    /// status) with the reason in its log.
    fn edit_failed(
        &self,
        step: &Step,
        edits: &[crate::core::runbook::Edit],
        reason: &str,
    ) -> anyhow::Result<StepEnd> {
        say(&format!("{}: edit failed: {reason}", step.id));
        if let Some(root) = &self.settings.root {
            let files: Vec<String> = edits
                .iter()
                .map(|e| {
                    let path = crate::core::vars::substitute(&e.path, &self.values);
                    root.join(path.trim_start_matches('/'))
                        .display()
                        .to_string()
                })
                .collect();
            say(&format!(
                "{}: files resolved under --root {}: {}",
                step.id,
                root.display(),
                files.join(", ")
            ));
        }
        let mut store = self.store.borrow_mut();
        let started = store.start(&step.id)?;
        let _ = std::fs::write(&started.log, format!("fieldbook: edit failed: {reason}\n"));
        store.fail_without_exit(&step.id, &format!("edit failed: {reason}"))?;
        Ok(StepEnd::NotDone(reason.to_string()))
    }

    /// Prints a running step's output until it finishes. `None` when a hang-up left a
    /// supervised step running.
    fn follow(&self, running: &runner::RunningStep, supervised: bool) -> Option<RunOutcome> {
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
    eprintln!("fieldbook: {}", terminal_safe(text));
}
