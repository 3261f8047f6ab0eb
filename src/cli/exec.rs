//! `fieldbook exec ID STEP`: run one non-interactive step without the app (over a serial
//! console, from a script), printing the filtered output and recording progress and the log
//! exactly as the app does. Also the shared machinery `auto` uses.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::runs::terminal_safe;
use super::{GlobalOpts, UsageError, exit};
use crate::catalog::Catalog;
use crate::core::apply::{self, EditContext};
use crate::core::progress::{Exit, Status};
use crate::core::runbook::{Action, Program, RunSpec, Runbook, Step};
use crate::core::runner::{self, CheckResult, RunEvent, RunOptions, RunOutcome, StepJob};
use crate::core::store::Store;
use crate::core::terminal_text::StyledLine;
use crate::core::{clock, machine, practice, vars};

/// How long a `check` command may take before it is given up on.
const CHECK_LIMIT: Duration = Duration::from_secs(120);

/// Everything a headless step run needs: the runbook, where progress goes, the values.
pub(super) struct Context<'a> {
    pub runbook: &'a Runbook,
    /// The run's store (holds the run's lock while `exec`/`auto` works on it).
    pub store: RefCell<Store>,
    pub practice: bool,
    /// `--root`: edits are applied under it.
    pub root: Option<PathBuf>,
    pub values: BTreeMap<String, String>,
    /// Confirmation given on the command line (`--yes`) for steps that ask for it.
    pub yes: bool,
    signals: Signals,
}

/// How a headless step ended, mapped to an exit status by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StepEnd {
    /// Done (ran, or found done by its check).
    Done,
    /// Failed, cancelled or interrupted; the message says which.
    NotDone(String),
    /// Needs the app; the reason in words.
    NeedsTerminal(String),
}

impl StepEnd {
    /// The exit status `exec` uses for this end.
    pub fn code(&self) -> u8 {
        match self {
            StepEnd::Done => exit::OK,
            StepEnd::NotDone(_) => exit::FAILURE,
            StepEnd::NeedsTerminal(_) => exit::NEEDS_TERMINAL,
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

/// Parses `--var NAME=VALUE` options against the runbook's variables (usage errors name the
/// variable and say what is wrong).
pub(super) fn parse_vars(
    runbook: &Runbook,
    given: &[String],
) -> Result<BTreeMap<String, String>, UsageError> {
    let mut values = BTreeMap::new();
    for item in given {
        let Some((name, value)) = item.split_once('=') else {
            return Err(UsageError(format!("--var '{item}' must be NAME=VALUE")));
        };
        let Some(var) = runbook.variable(name) else {
            let known: Vec<&str> = runbook.variables.iter().map(|v| v.name.as_str()).collect();
            return Err(UsageError(format!(
                "runbook '{}' has no variable '{name}' (its variables: {})",
                runbook.id,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        if let Err(msg) = var.ty.validate(value, &var.choices) {
            return Err(UsageError(format!("variable '{name}': {msg}")));
        }
        values.insert(name.to_string(), value.to_string());
    }
    Ok(values)
}

impl<'a> Context<'a> {
    /// The values of this run's `secret` variables, never to be recorded.
    fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.runbook
            .variables
            .iter()
            .filter(|v| v.ty == crate::core::vars::VarType::Secret)
            .filter_map(|v| self.values.get(&v.name).map(String::as_str))
    }

    /// Opens the run of `runbook` on the target and merges the values: defaults, then saved
    /// values, then `--var` (which are saved, except secrets).
    pub fn open(
        global: &GlobalOpts,
        runbook: &'a Runbook,
        given: &[String],
        yes: bool,
    ) -> anyhow::Result<Context<'a>> {
        let cli_values = parse_vars(runbook, given)?;
        // An unreadable state file is moved aside; a fresh run needs --yes or a "y" answer.
        let mut store = super::runs::open_store(global, runbook, yes)?;
        for (k, v) in &cli_values {
            store.set_value(k, v)?;
        }
        let mut values = runbook.default_values();
        values.extend(store.run().values.clone());
        values.extend(cli_values);
        Ok(Context {
            runbook,
            store: RefCell::new(store),
            practice: global.practice,
            root: global.root.clone(),
            values,
            yes,
            signals: Signals::register(),
        })
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
            Action::Run(spec) if spec.interactive && !self.practice => Some(
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
        let mut args: Vec<&String> = Vec::new();
        for p in &spec.programs {
            if let Program::Argv(argv) = p {
                args.extend(argv);
            }
        }
        if let Some(c) = &spec.check {
            args.extend(c);
        }
        for a in args {
            for (_, name) in vars::references(a) {
                if !self.values.contains_key(&name) {
                    let label = self
                        .runbook
                        .variable(&name)
                        .map(|v| format!(" ({})", v.label))
                        .unwrap_or_default();
                    return Err(UsageError(format!(
                        "step '{}' needs variable '{name}'{label}: give it with --var {name}=VALUE",
                        step.id
                    )));
                }
            }
        }
        Ok(())
    }

    /// Status of a step in the run.
    pub fn status(&self, step: &str) -> Status {
        self.store.borrow().run().status(step)
    }

    /// Runs one step to its end, recording it; prints output to stdout, notes to stderr.
    pub fn run_step(&self, step: &Step) -> anyhow::Result<StepEnd> {
        if let Some(reason) = self.blocker(step)? {
            return Ok(StepEnd::NeedsTerminal(reason));
        }
        let spec = match &step.action {
            Action::Run(spec) => spec,
            Action::Form { .. } => {
                self.store
                    .borrow_mut()
                    .mark_done(&step.id, "values given on the command line")?;
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
            let running = machine::follow_long(&machine::current(), live.pid, &log);
            return self.follow_and_record(step, &running, true);
        }
        let job = StepJob::from_spec(spec, &self.values);
        if !self.practice
            && let Some(check) = StepJob::check(spec, &self.values)
        {
            match runner::run_check_on(&*machine::current(), &check, CHECK_LIMIT) {
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
        let started = self.store.borrow_mut().start(&step.id)?;
        let log = started.log.clone();
        let supervised = spec.long && !self.practice;
        let running = if self.practice {
            practice::start(
                job,
                spec.practice.clone(),
                Some(log.clone()),
                Duration::ZERO,
            )
        } else if supervised {
            let exe = std::env::current_exe()?;
            let secrets: Vec<String> = self.secret_values().map(str::to_string).collect();
            match machine::start_long_with_secrets(&machine::current(), &exe, &job, &log, &secrets)
            {
                Ok((pid, running)) => {
                    self.store.borrow_mut().set_pid(&step.id, pid)?;
                    running
                }
                Err(e) => {
                    let outcome = RunOutcome {
                        status: Status::Failed,
                        exit: None,
                        failed_program: None,
                        message: e.to_string(),
                    };
                    record(&mut self.store.borrow_mut(), &step.id, &outcome)?;
                    return Ok(StepEnd::NotDone(outcome.message));
                }
            }
        } else {
            runner::start(job, log.clone(), RunOptions::on(machine::current()))
        };
        if self.practice {
            say("PRACTICE: nothing is executed");
        }
        say(&format!("{} (log: {})", step.title, log.display()));
        self.follow_and_record(step, &running, supervised)
    }

    fn follow_and_record(
        &self,
        step: &Step,
        running: &runner::RunningStep,
        supervised: bool,
    ) -> anyhow::Result<StepEnd> {
        let Some(outcome) = self.follow(running, supervised) else {
            // Hung up while a supervised step runs: it carries on; the next fieldbook
            // re-attaches to it.
            return Ok(StepEnd::NotDone(
                "hung up; the step keeps running under its supervisor".into(),
            ));
        };
        record(&mut self.store.borrow_mut(), &step.id, &outcome)?;
        say(&format!(
            "{}: {} ({})",
            step.id,
            outcome.status.name(),
            outcome.message
        ));
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
            root: self.root.as_deref(),
            state_dir: &base,
            archive: &archive,
            values: &self.values,
            follow_symlinks: false,
        };
        let machine = machine::current();
        let remote = machine.ssh();
        let previewed = match remote {
            Some(session) => {
                machine::remote_files::preview(session, self.root.as_deref(), edits, &ctx)
            }
            None => apply::preview(edits, &ctx),
        };
        let preview = match previewed {
            Ok(p) => p,
            Err(e) => {
                say(&format!("{}: {e}", step.id));
                return Ok(StepEnd::NotDone(e.to_string()));
            }
        };
        print!("{}", preview.diff_for_terminal());
        if preview.already_applied() {
            say(&format!("{}: already applied; nothing to change", step.id));
            self.store.borrow_mut().complete(&step.id)?;
            return Ok(StepEnd::Done);
        }
        if self.practice {
            say("PRACTICE: no file was touched");
            self.store.borrow_mut().complete(&step.id)?;
            return Ok(StepEnd::Done);
        }
        let result = match remote {
            Some(session) => machine::remote_files::apply(
                session,
                self.root.as_deref(),
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
        apply::mask_secrets(&mut applied, self.secret_values());
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
                say(&format!("{}: {e}", step.id));
                Ok(StepEnd::NotDone(e))
            }
        }
    }

    /// Prints a running step's output until it finishes. `None` when a hang-up left a
    /// supervised step running.
    fn follow(&self, running: &runner::RunningStep, supervised: bool) -> Option<RunOutcome> {
        let mut out = std::io::stdout().lock();
        let mut hung_up = false;
        loop {
            if self.signals.interrupt.swap(false, Ordering::SeqCst) {
                say("cancelling (SIGINT, then SIGTERM, then SIGKILL)...");
                running.cancel.cancel();
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
                }
                Ok(RunEvent::Output { lines, .. }) => {
                    for line in &lines {
                        let _ = writeln!(out, "{}", display(line));
                    }
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

/// Records how a run ended in the store, by the state machine's rules.
pub(super) fn record(store: &mut Store, step: &str, outcome: &RunOutcome) -> anyhow::Result<()> {
    let message = &outcome.message;
    match outcome.status {
        Status::Done => {
            let exit = outcome.exit.unwrap_or(Exit::Code(0));
            store.end_with(step, exit, true, None, message)?
        }
        Status::Cancelled => store.cancel(step, outcome.exit)?,
        Status::Interrupted => store.mark_interrupted(step, message)?,
        _ => {
            // A program that could not start has no exit; 127 is the shell's "not found".
            let exit = outcome.exit.unwrap_or(Exit::Code(127));
            store.end_with(step, exit, false, outcome.failed_program, message)?
        }
    }
    Ok(())
}

/// A filtered line as plain text, saying when it was cut.
fn display(line: &StyledLine) -> String {
    if line.cut > 0 {
        format!(
            "{} [... {} more characters in the log]",
            line.text(),
            line.cut
        )
    } else {
        line.text()
    }
}

/// Finds a runbook by id or says which exist.
pub(super) fn find_runbook<'c>(catalog: &'c Catalog, id: &str) -> Result<&'c Runbook, UsageError> {
    catalog.get(id).map(|e| &e.runbook).ok_or_else(|| {
        UsageError(format!(
            "unknown runbook '{id}' (known: {})",
            catalog.ids().join(", ")
        ))
    })
}

/// `fieldbook exec ID STEP [--var NAME=VALUE]... [--yes]`.
pub(super) fn exec(
    global: &GlobalOpts,
    catalog: &Catalog,
    id: &str,
    step_id: &str,
    given: &[String],
    yes: bool,
) -> anyhow::Result<u8> {
    let runbook = find_runbook(catalog, id)?;
    let Some(step) = runbook.step(step_id) else {
        let ids: Vec<&str> = runbook.steps().map(|(_, s)| s.id.as_str()).collect();
        return Err(UsageError(format!(
            "runbook '{id}' has no step '{step_id}' (its steps: {})",
            ids.join(", ")
        ))
        .into());
    };
    let ctx = Context::open(global, runbook, given, yes)?;
    let end = ctx.run_step(step)?;
    if let StepEnd::NeedsTerminal(reason) = &end {
        say(&format!(
            "step '{}' needs the terminal: {reason}. Run it in the app: fieldbook \
             run {} (it opens at the first unfinished step)",
            step.id, runbook.id
        ));
    }
    Ok(end.code())
}

/// A `fieldbook: ` line on stderr. Runbook text and values in it (titles, commands, messages
/// quoting them) are made visible, never sent to the terminal raw.
fn say(text: &str) {
    eprintln!("fieldbook: {}", terminal_safe(text));
}
