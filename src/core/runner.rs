//! Running a step's programs for real: argv vectors through duct (never a shell, unless the step
//! is an explicit script), output merged and streamed to whoever watches as filtered lines, every
//! raw byte kept in the attempt's log, and a cancel that reaches grandchildren.
//!
//! The runner owns a thread per step; the UI only ever reads a channel, so it never blocks on a
//! child. Long steps go through [`super::supervisor`] instead, practice runs through
//! [`super::practice`]; all three speak the same [`RunEvent`]s.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::machine::{How, Local, Machine, Shared, Spawn};
use super::progress::{Exit, Status};
use super::runbook::{Program, RunSpec};
use super::terminal_text::{StyledLine, TerminalText};
use super::vars;

/// One program ready to start: the argv after variable substitution, and extra environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Program and arguments; each element is exactly one argument.
    pub argv: Vec<String>,
    /// Extra environment (`FB_<name>` for scripts).
    #[serde(default)]
    pub env: Vec<(String, String)>,
}

impl Command {
    /// The command as a technician would type it, for screens and logs (display only; nothing
    /// ever parses this text back).
    pub fn display(&self) -> String {
        super::shell_quote::join(&self.argv)
    }

    /// The program's base name (`yum` for `/usr/bin/yum`).
    pub fn program_name(&self) -> &str {
        let p = self.argv.first().map_or("", String::as_str);
        p.rsplit('/').next().unwrap_or(p)
    }
}

/// Everything needed to run a step's programs and judge the result, without the runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepJob {
    /// Programs in order; the first failure stops the step.
    pub commands: Vec<Command>,
    /// Exit codes meaning success.
    pub expect: Vec<i32>,
    /// Output text meaning "fine" whatever the exit code.
    #[serde(default)]
    pub ok_output: Vec<String>,
    /// Texts of which the last program's output must show one, on one line, for the step to
    /// pass (the runbook's `shows`, values filled in as plain text).
    #[serde(default)]
    pub shows: Vec<String>,
}

impl StepJob {
    /// Prepares a step's programs with the run's variable values: `{name}` is filled inside each
    /// argv element (which stays one argument); a script gets the values as `FB_<name>`.
    pub fn from_spec(spec: &RunSpec, values: &BTreeMap<String, String>) -> StepJob {
        let commands = spec
            .programs
            .iter()
            .map(|p| match p {
                Program::Argv(argv) => Command {
                    argv: super::runbook::resolve_argv(argv, values),
                    env: Vec::new(),
                },
                Program::Script { shell, script } => Command {
                    argv: vec![shell.clone(), "-c".to_string(), script.clone()],
                    env: script_env(values),
                },
            })
            .collect();
        StepJob {
            commands,
            expect: if spec.expect.is_empty() {
                vec![0]
            } else {
                spec.expect.clone()
            },
            ok_output: spec.ok_output.clone(),
            shows: spec
                .shows
                .iter()
                .map(|t| vars::substitute(t, values))
                .collect(),
        }
    }

    /// The step's `check` command with values filled in, when it has one.
    pub fn check(spec: &RunSpec, values: &BTreeMap<String, String>) -> Option<Command> {
        spec.check.as_ref().map(|argv| Command {
            argv: argv.iter().map(|a| vars::substitute(a, values)).collect(),
            env: Vec::new(),
        })
    }
}

/// Variables as the environment of a script step: `FB_<name>=value`.
pub fn script_env(values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    values
        .iter()
        .map(|(k, v)| (format!("FB_{k}"), v.clone()))
        .collect()
}

/// How a run ended, in the step state machine's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// Done, failed, cancelled or interrupted.
    pub status: Status,
    /// How the deciding program ended, when it ran.
    pub exit: Option<Exit>,
    /// Which program (0-based) failed, for multi-command steps.
    pub failed_program: Option<usize>,
    /// One sentence for the technician (also stored as the attempt's outcome).
    pub message: String,
}

/// What a running step reports, in order; `Finished` is always last.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// Program `index` of the step is starting.
    Started {
        /// 0-based position in the step.
        index: usize,
        /// The command, for display.
        command: String,
    },
    /// New output: finished lines, and the line being printed now (progress bars, prompts).
    Output {
        /// Lines completed since the last event.
        lines: Vec<StyledLine>,
        /// The current unfinished line, if it changed; `None` when it did not.
        partial: Option<StyledLine>,
    },
    /// A message from fieldbook itself (not the child), e.g. which program failed.
    Notice(String),
    /// The step ended.
    Finished(RunOutcome),
}

/// Lets the UI (or a signal handler) cancel a running step from another thread.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle {
    inner: Arc<CancelState>,
}

#[derive(Default)]
struct CancelState {
    requested: AtomicBool,
    /// Process group of the program running now (0 when none).
    pgid: AtomicI32,
    grace: std::sync::Mutex<Option<(Duration, Duration)>>,
    /// For a supervised step: the supervisor whose group this is. The group is signalled only
    /// while it still owns that pid (never another process that got the pid later).
    owner: std::sync::Mutex<Option<super::attempt_id::Supervisor>>,
    /// The program's group on another machine (over ssh), reached by the machine's own
    /// `kill` instead of a local `killpg`.
    remote: std::sync::Mutex<Option<Arc<dyn RemoteGroup>>>,
}

impl std::fmt::Debug for CancelState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelState")
            .field("requested", &self.requested)
            .field("pgid", &self.pgid)
            .finish_non_exhaustive()
    }
}

/// A process group on another machine: cancel signals it there and waits until it is gone.
pub trait RemoteGroup: Send + Sync {
    /// Sends signal `sig` to the group.
    fn signal(&self, sig: i32);
    /// True while any process of the group is left.
    fn exists(&self) -> bool;
}

impl CancelHandle {
    /// A handle for a process group that already exists (a supervised step found on start-up).
    pub fn for_group(pgid: u32) -> CancelHandle {
        let h = CancelHandle::default();
        h.set_group(pgid as i32);
        h
    }

    /// A handle for the process group of a supervised step's supervisor, which is signalled
    /// only while that pid is still this supervisor or its orphaned programs.
    pub fn for_supervisor(supervisor: super::attempt_id::Supervisor) -> CancelHandle {
        let h = CancelHandle::for_group(supervisor.pid);
        if let Ok(mut o) = h.inner.owner.lock() {
            *o = Some(supervisor);
        }
        h
    }

    /// True once cancel was asked for.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    fn set_group(&self, pgid: i32) {
        self.inner.pgid.store(pgid, Ordering::SeqCst);
    }

    /// Cancel reaches the running program through `group` (a remote process group).
    pub fn set_remote(&self, group: Option<Arc<dyn RemoteGroup>>) {
        if let Ok(mut r) = self.inner.remote.lock() {
            *r = group;
        }
    }

    fn remote(&self) -> Option<Arc<dyn RemoteGroup>> {
        self.inner.remote.lock().ok().and_then(|r| r.clone())
    }

    fn set_grace(&self, grace: (Duration, Duration)) {
        if let Ok(mut g) = self.inner.grace.lock() {
            *g = Some(grace);
        }
    }

    /// Asks the program to stop: SIGINT to its process group, then SIGTERM, then SIGKILL, each
    /// after a short wait. Returns at once; the step then finishes as cancelled.
    pub fn cancel(&self) {
        if self.inner.requested.swap(true, Ordering::SeqCst) {
            return;
        }
        let inner = self.inner.clone();
        let (int_wait, term_wait) = self
            .inner
            .grace
            .lock()
            .ok()
            .and_then(|g| *g)
            .unwrap_or((Duration::from_secs(3), Duration::from_secs(3)));
        if let Some(remote) = self.remote() {
            let local = self.clone();
            thread::spawn(move || cancel_remote(&*remote, &local, (int_wait, term_wait)));
            return;
        }
        thread::spawn(move || {
            for (sig, wait) in [
                (libc::SIGINT, int_wait),
                (libc::SIGTERM, term_wait),
                (libc::SIGKILL, Duration::ZERO),
            ] {
                let pgid = inner.pgid.load(Ordering::SeqCst);
                if pgid <= 0 || !group_exists(pgid) || !inner.owns_group() {
                    return;
                }
                signal_group(pgid, sig);
                let deadline = Instant::now() + wait;
                while Instant::now() < deadline {
                    let pgid = inner.pgid.load(Ordering::SeqCst);
                    if pgid <= 0 || !group_exists(pgid) {
                        return;
                    }
                    thread::sleep(Duration::from_millis(20));
                }
            }
        });
    }

    /// Ends the group at once with SIGTERM then SIGKILL (on hang-up of the UI for a short step,
    /// where nobody is left to watch it). Blocks for at most about a second.
    pub fn end_now(&self) {
        self.inner.requested.store(true, Ordering::SeqCst);
        if let Some(remote) = self.remote() {
            remote.signal(libc::SIGTERM);
            remote.signal(libc::SIGKILL);
        }
        let pgid = self.inner.pgid.load(Ordering::SeqCst);
        if pgid <= 0 || !self.inner.owns_group() {
            return;
        }
        signal_group(pgid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_millis(800);
        while Instant::now() < deadline && group_exists(pgid) {
            thread::sleep(Duration::from_millis(20));
        }
        if group_exists(pgid) && self.inner.owns_group() {
            signal_group(pgid, libc::SIGKILL);
        }
    }
}

/// Cancel of a program on another machine: SIGINT, SIGTERM, SIGKILL to its remote group, each
/// after its wait, then the local ssh client's group is ended too.
fn cancel_remote(remote: &dyn RemoteGroup, local: &CancelHandle, waits: (Duration, Duration)) {
    for (sig, wait) in [
        (libc::SIGINT, waits.0),
        (libc::SIGTERM, waits.1),
        (libc::SIGKILL, Duration::ZERO),
    ] {
        if !remote.exists() {
            break;
        }
        remote.signal(sig);
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline && remote.exists() {
            thread::sleep(Duration::from_millis(100));
        }
    }
    let pgid = local.inner.pgid.load(Ordering::SeqCst);
    if pgid > 0 && group_exists(pgid) {
        signal_group(pgid, libc::SIGKILL);
    }
}

impl CancelState {
    /// False when the group belongs to a supervisor whose pid is now another process's.
    fn owns_group(&self) -> bool {
        self.owner
            .lock()
            .map(|o| {
                o.as_ref()
                    .is_none_or(super::attempt_id::Supervisor::owns_group)
            })
            .unwrap_or(true)
    }
}

/// Sends `sig` to every process of group `pgid`.
fn signal_group(pgid: i32, sig: i32) {
    // SAFETY: killpg only sends a signal; a stale group gives ESRCH, which is fine.
    unsafe {
        libc::killpg(pgid, sig);
    }
}

/// True while any process of the group exists.
pub fn group_exists(pgid: i32) -> bool {
    // SAFETY: signal 0 performs only the existence and permission check.
    let r = unsafe { libc::killpg(pgid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Knobs of a direct run (tests shorten the waits).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Wait after SIGINT before SIGTERM, and after SIGTERM before SIGKILL.
    pub cancel_grace: (Duration, Duration),
    /// How long to keep reading after a program exits while a background process it started
    /// still holds the output pipe (a daemon started by an init script).
    pub drain_after_exit: Duration,
    /// The machine the programs run on.
    pub machine: Shared,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            cancel_grace: (Duration::from_secs(3), Duration::from_secs(3)),
            drain_after_exit: Duration::from_secs(2),
            machine: Arc::new(Local),
        }
    }
}

impl RunOptions {
    /// The defaults, on `machine`.
    pub fn on(machine: Shared) -> RunOptions {
        RunOptions {
            machine,
            ..RunOptions::default()
        }
    }
}

/// A step that is running: read [`events`](Self::events) until `Finished`.
#[derive(Debug)]
pub struct RunningStep {
    /// The step's events, in order.
    pub events: Receiver<RunEvent>,
    /// Cancels it.
    pub cancel: CancelHandle,
}

/// Events waiting in the channel before the reader waits for the watcher; keeps memory bounded
/// when a command prints faster than the screen drains. One event can hold a whole 64 KiB read
/// as parsed lines (about 1 MB in memory for short lines), so the depth is small: 256 let a
/// 1,000,000-line flood on a pty reach 98.5 MiB of RSS (bench/RESULTS.md).
pub(crate) const CHANNEL_DEPTH: usize = 8;

/// Starts a step's programs on a thread of their own; output goes to `log` (created, with its
/// directory) and, filtered, to the returned channel.
pub fn start(job: StepJob, log: PathBuf, options: RunOptions) -> RunningStep {
    let (tx, rx) = mpsc::sync_channel(CHANNEL_DEPTH);
    let cancel = CancelHandle::default();
    cancel.set_grace(options.cancel_grace);
    let c = cancel.clone();
    thread::spawn(move || {
        let outcome = run_job(&job, &log, &options, &c, &tx);
        let _ = tx.send(RunEvent::Finished(outcome));
    });
    RunningStep { events: rx, cancel }
}

fn run_job(
    job: &StepJob,
    log: &Path,
    options: &RunOptions,
    cancel: &CancelHandle,
    tx: &SyncSender<RunEvent>,
) -> RunOutcome {
    if let Err(e) = create_log(log) {
        return RunOutcome {
            status: Status::Failed,
            exit: None,
            failed_program: None,
            message: format!("cannot write the log {}: {e}", log.display()),
        };
    }
    let mut last_exit = None;
    for (index, command) in job.commands.iter().enumerate() {
        if cancel.is_requested() {
            return cancelled(last_exit, index);
        }
        let _ = tx.send(RunEvent::Started {
            index,
            command: command.display(),
        });
        let last = index + 1 == job.commands.len();
        let watch = Watch::of(job, last);
        let result = run_one(command, &watch, log, options, cancel, tx);
        let (exit, seen) = match result {
            Ok(r) => r,
            Err(NotRun::Failed(message)) => {
                let _ = tx.send(RunEvent::Notice(message.clone()));
                return RunOutcome {
                    status: Status::Failed,
                    exit: None,
                    failed_program: Some(index),
                    message,
                };
            }
            // The link to the machine broke: that is not the program's result.
            Err(NotRun::Interrupted(message)) => {
                let _ = tx.send(RunEvent::Notice(message.clone()));
                return RunOutcome {
                    status: Status::Interrupted,
                    exit: None,
                    failed_program: Some(index),
                    message,
                };
            }
        };
        last_exit = Some(exit);
        if cancel.is_requested() {
            return cancelled(last_exit, index);
        }
        let why = judge(exit, &job.expect, seen.ok_output)
            .or_else(|| judge_shows(&watch.shows, seen.shows));
        if let Some(why) = why {
            let message = failure_message(&job.commands, index, &why);
            let _ = tx.send(RunEvent::Notice(message.clone()));
            return RunOutcome {
                status: Status::Failed,
                exit: Some(exit),
                failed_program: Some(index),
                message,
            };
        }
    }
    RunOutcome {
        status: Status::Done,
        exit: last_exit,
        failed_program: None,
        message: done_message(last_exit),
    }
}

/// How a failed program is reported, the same whether the step ran directly or under its
/// supervisor: `command 2 of 3 failed (exit 1): emerge ...` for a step of several programs,
/// `emerge ... failed (exit 1)` for one.
pub fn failure_message(commands: &[Command], index: usize, why: &str) -> String {
    let display = commands
        .get(index)
        .map(Command::display)
        .unwrap_or_default();
    if commands.len() > 1 {
        format!(
            "command {} of {} failed ({why}): {display}",
            index + 1,
            commands.len()
        )
    } else {
        format!("{display} failed ({why})")
    }
}

/// How a finished step is reported: `finished (exit 0)`.
pub fn done_message(last_exit: Option<Exit>) -> String {
    match last_exit {
        Some(e) => format!("finished ({e})"),
        None => "finished".to_string(),
    }
}

fn cancelled(exit: Option<Exit>, index: usize) -> RunOutcome {
    RunOutcome {
        status: Status::Cancelled,
        exit,
        failed_program: Some(index),
        message: "cancelled".to_string(),
    }
}

/// `None` when the exit counts as success, else the reason in words. An `ok_output` match turns
/// an unexpected exit code into success (a second `rc-update del` exits 1 but is fine).
pub fn judge(exit: Exit, expect: &[i32], ok_output_seen: bool) -> Option<String> {
    match exit {
        Exit::Code(c) if expect.contains(&c) => None,
        Exit::Code(_) if ok_output_seen => None,
        Exit::Code(c) => Some(format!("exit {c}")),
        Exit::Signal(s) => Some(format!("killed by signal {s}")),
    }
}

/// `None` when the output showed what the step's `shows` asks for (or it asks for nothing),
/// else what was missing, in words: `the output does not show "inet 10.0.0.1/24 "`.
pub fn judge_shows(shows: &[String], seen: bool) -> Option<String> {
    if shows.is_empty() || seen {
        return None;
    }
    let texts: Vec<String> = shows.iter().map(|t| format!("\"{t}\"")).collect();
    Some(format!("the output does not show {}", texts.join(" or ")))
}

/// What one program's output is watched for: the step's `ok_output` texts and, for its last
/// program, its `shows` texts. Each is looked for inside one line of the filtered output.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watch {
    pub(crate) ok_output: Vec<String>,
    pub(crate) shows: Vec<String>,
}

/// Which of a [`Watch`]'s texts were seen.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Seen {
    pub(crate) ok_output: bool,
    pub(crate) shows: bool,
}

impl Watch {
    /// The watch for one program of `job`; `shows` belongs to the last one.
    pub(crate) fn of(job: &StepJob, last: bool) -> Watch {
        Watch {
            ok_output: job.ok_output.clone(),
            shows: if last { job.shows.clone() } else { Vec::new() },
        }
    }

    /// Marks in `seen` the texts that finished `lines` show.
    pub(crate) fn look(&self, lines: &[StyledLine], seen: &mut Seen) {
        let any = |texts: &[String]| {
            !texts.is_empty()
                && lines.iter().any(|l| {
                    let text = l.text();
                    texts.iter().any(|o| text.contains(o.as_str()))
                })
        };
        seen.ok_output |= any(&self.ok_output);
        seen.shows |= any(&self.shows);
    }
}

fn create_log(log: &Path) -> std::io::Result<()> {
    if let Some(dir) = log.parent() {
        super::atomic::create_private_dir(dir)?;
    }
    super::atomic::open_append(log).map(|_| ())
}

/// Why a program gave no exit of its own.
enum NotRun {
    /// It could not start (missing program, refused by the machine): the step failed.
    Failed(String),
    /// The link to the machine broke: the step is interrupted, not failed.
    Interrupted(String),
}

impl From<String> for NotRun {
    fn from(s: String) -> NotRun {
        NotRun::Failed(s)
    }
}

/// A remote program's group as cancel sees it: signalled through its machine, and there while
/// the machine finds any of its processes (a `sleep` the program left behind counts).
struct SpawnedGroup {
    machine: Shared,
    spawn: Spawn,
    local_pgid: i32,
}

impl RemoteGroup for SpawnedGroup {
    fn signal(&self, sig: i32) {
        self.machine.signal(&self.spawn, sig);
    }

    fn exists(&self) -> bool {
        self.machine
            .group_alive(&self.spawn)
            .unwrap_or_else(|| group_exists(self.local_pgid))
    }
}

/// Runs one program to its end. Ok((exit, which watched texts were seen)).
fn run_one(
    command: &Command,
    watch: &Watch,
    log: &Path,
    options: &RunOptions,
    cancel: &CancelHandle,
    tx: &SyncSender<RunEvent>,
) -> Result<(Exit, Seen), NotRun> {
    let spawn = options
        .machine
        .program(command, How::Captured)
        .map_err(|e| NotRun::Failed(e.to_string()))?;
    let local = spawn.command();
    let program = find_program(&local)?;
    let (reader, writer) = os_pipe::pipe().map_err(|e| format!("cannot create a pipe: {e}"))?;
    // SAFETY: fcntl on a pipe we own; a refusal (an old kernel, a lower limit) is harmless.
    unsafe {
        libc::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&reader),
            libc::F_SETPIPE_SZ,
            PIPE_BYTES,
        );
    }
    let mut expr = duct::cmd(program, &local.argv[1..])
        .stdin_null()
        // duct applies the outer redirection first: stdout to the pipe, then stderr joins it.
        .stderr_to_stdout()
        .stdout_file(writer)
        .unchecked()
        .before_spawn(|c| {
            // Its own process group, so cancel reaches everything it starts.
            c.process_group(0);
            Ok(())
        });
    for (k, v) in &local.env {
        expr = expr.env(k, v);
    }
    let handle = expr
        .start()
        .map_err(|e| format!("cannot start {}: {e}", command.display()))?;
    // The expression holds a copy of the pipe's write end; drop it so EOF can arrive.
    drop(expr);
    if let Some(&pid) = handle.pids().first() {
        cancel.set_group(pid as i32);
        if spawn.remote_mark.is_some() {
            cancel.set_remote(Some(Arc::new(SpawnedGroup {
                machine: options.machine.clone(),
                spawn: spawn.clone(),
                local_pgid: pid as i32,
            })));
        }
    }
    let log_file = super::atomic::open_append(log)
        .map_err(|e| format!("cannot write the log {}: {e}", log.display()))?;
    let (done_tx, done_rx) = mpsc::channel();
    let tx2 = tx.clone();
    let watch = watch.clone();
    let log_path = log.to_path_buf();
    thread::spawn(move || {
        let result = pump(reader, log_file, &log_path, &watch, &tx2);
        let _ = done_tx.send(result);
    });
    let status = handle.wait().map(|o| o.status);
    cancel.set_group(0);
    cancel.set_remote(None);
    let status = status.map_err(|e| format!("lost track of {}: {e}", command.display()))?;
    let exit = match (status.code(), status.signal()) {
        (Some(c), _) => Exit::Code(c),
        (None, Some(s)) => Exit::Signal(s),
        (None, None) => Exit::Code(-1),
    };
    let exit = if cancel.is_requested() {
        exit
    } else {
        options
            .machine
            .settle(&spawn, exit)
            .map_err(|e| NotRun::Interrupted(e.to_string()))?
    };
    let seen = match done_rx.recv_timeout(options.drain_after_exit) {
        Ok(seen) => seen,
        Err(_) => {
            let _ = tx.send(RunEvent::Notice(
                "a background process the command started still holds its output; \
                 not waiting for it"
                    .to_string(),
            ));
            Seen::default()
        }
    };
    Ok((exit, seen))
}

/// Read size: big enough that 200,000 fast lines cost few wake-ups.
const READ_CHUNK: usize = 64 * 1024;

/// A read at least this big that emptied the pipe means a flood: the pump pauses
/// [`FLOOD_PAUSE`] so the next read finds a pipe's worth, instead of waking (and waking the
/// screen) for every 4 KiB the child writes.
const FLOOD_READ: usize = 16 * 1024;

/// See [`FLOOD_READ`]; unnoticeable on screen, and a trickle of output never waits.
const FLOOD_PAUSE: Duration = Duration::from_millis(1);

/// The pipe a command writes into holds this much (Linux allows 1 MiB unprivileged), so a
/// flooding child is not stopped while the pump pauses.
const PIPE_BYTES: libc::c_int = 1024 * 1024;

/// Copies a program's output to the log byte for byte and, filtered, to the channel. Returns
/// which watched texts were seen (matched on filtered text, so colours cannot hide them).
/// A log that cannot be written (full disk) never stops the command: the output goes on on
/// screen, a notice says at which byte the log was cut, and the log ends with a line saying so
/// (written in fieldbook's reserve space if need be).
pub(crate) fn pump(
    mut reader: impl Read,
    log: File,
    log_path: &Path,
    watch: &Watch,
    tx: &SyncSender<RunEvent>,
) -> Seen {
    let mut log = LogWriter {
        written: log.metadata().map_or(0, |m| m.len()),
        file: log,
        dir: log_path.parent().map(Path::to_path_buf),
        cut: None,
        unchecked: 0,
    };
    let mut filter = TerminalText::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut seen = Seen::default();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if let Some(notice) = log.write(&buf[..n]) {
            let _ = tx.send(RunEvent::Notice(notice));
        }
        let mut lines = Vec::new();
        filter.feed(&buf[..n], &mut lines);
        watch.look(&lines, &mut seen);
        send_output(&mut filter, lines, tx);
        if (FLOOD_READ..buf.len()).contains(&n) {
            thread::sleep(FLOOD_PAUSE);
        }
    }
    log.mark_cut(log_path);
    let mut lines = Vec::new();
    filter.finish(&mut lines);
    watch.look(&lines, &mut seen);
    if !lines.is_empty() {
        let _ = tx.send(RunEvent::Output {
            lines,
            partial: None,
        });
    }
    seen
}

/// A step's log as the pump writes it: how many bytes got there, and where and why it was
/// cut if it was.
struct LogWriter {
    file: File,
    /// The log's directory, whose file system is watched for room.
    dir: Option<std::path::PathBuf>,
    written: u64,
    cut: Option<String>,
    /// Bytes that may still be written before the room on the disk is asked again.
    unchecked: u64,
}

impl LogWriter {
    /// Writes `bytes`; the first failure cuts the log and returns the notice saying so.
    fn write(&mut self, mut bytes: &[u8]) -> Option<String> {
        if self.cut.is_some() {
            return None;
        }
        // The log stops short of filling the disk, so the step's outcome can still be saved.
        // The room is asked again once half of what was left above the margin is used (not on
        // every read: a flood of output cost a statvfs per 4 KiB).
        let len = bytes.len() as u64;
        if self.unchecked < len
            && let Some(dir) = &self.dir
            && let Some(room) = super::disk_space::room_left(dir)
        {
            if room < super::disk_space::LOG_MARGIN.saturating_add(len) {
                return self.cut_at(std::io::Error::from_raw_os_error(libc::ENOSPC));
            }
            self.unchecked = (room - super::disk_space::LOG_MARGIN) / 2;
        }
        self.unchecked = self.unchecked.saturating_sub(len);
        while !bytes.is_empty() {
            match self.file.write(bytes) {
                Ok(0) => return self.cut_at(std::io::Error::from(std::io::ErrorKind::WriteZero)),
                Ok(n) => {
                    self.written += n as u64;
                    bytes = &bytes[n..];
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return self.cut_at(e),
            }
        }
        None
    }

    fn cut_at(&mut self, e: std::io::Error) -> Option<String> {
        let why = if super::disk_space::is_full(&e) {
            "the disk is full".to_string()
        } else {
            e.to_string()
        };
        let notice = format!(
            "the log is cut at byte {}: {why}; the output goes on on screen only",
            self.written
        );
        self.cut = Some(why);
        Some(notice)
    }

    /// Ends a cut log with a line saying where and why it was cut.
    fn mark_cut(&mut self, path: &Path) {
        let Some(why) = &self.cut else {
            return;
        };
        let line = format!(
            "\n[fieldbook: the log was cut here, at byte {}: {why}]\n",
            self.written
        );
        let mut write = || self.file.write_all(line.as_bytes());
        match super::disk_space::base_of_log(path) {
            Some(base) => {
                let _ = super::disk_space::with_reserve(&base, write).0;
            }
            None => {
                let _ = write();
            }
        }
    }
}

/// Sends finished lines and, when it changed, the current partial line.
pub(crate) fn send_output(
    filter: &mut TerminalText,
    lines: Vec<StyledLine>,
    tx: &SyncSender<RunEvent>,
) {
    let partial_changed = filter.take_partial_changed();
    if lines.is_empty() && !partial_changed {
        return;
    }
    let partial = if partial_changed {
        Some(filter.partial().cloned().unwrap_or_default())
    } else {
        None
    };
    let _ = tx.send(RunEvent::Output { lines, partial });
}

/// Resolves the program on PATH (or as a path), so a missing tool gives a clear message naming
/// it and the PATH searched instead of a bare "No such file or directory".
pub fn find_program(command: &Command) -> Result<PathBuf, String> {
    let name = command.argv.first().map_or("", String::as_str);
    // A PATH given to the command itself wins, as it would for the child.
    let path_var = command
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| OsString::from(v))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    resolve(name, &path_var).ok_or_else(|| missing_program_message(name, &path_var))
}

/// The message for a program that is not on this machine.
pub fn missing_program_message(name: &str, path_var: &std::ffi::OsStr) -> String {
    if name.contains('/') {
        format!(
            "'{name}' does not exist or is not executable. Is this the machine the runbook is \
             for? To rehearse without running anything, start fieldbook with --practice."
        )
    } else {
        format!(
            "'{name}' was not found: no executable '{name}' in PATH ({}). Is this the kind of \
             machine the runbook is for? To rehearse without running anything, start fieldbook \
             with --practice.",
            path_var.to_string_lossy()
        )
    }
}

fn resolve(name: &str, path_var: &std::ffi::OsStr) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_executable(&p).then_some(p);
    }
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What a `check` command said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckResult {
    /// It succeeded: the step looks done already.
    AlreadyDone,
    /// It failed: the step is needed.
    NotDone,
    /// It could not run (missing program, timeout); the reason in words.
    Unknown(String),
}

/// Runs a step's `check` quietly (output discarded, stdin null), with a generous time limit.
pub fn run_check(command: &Command, limit: Duration) -> CheckResult {
    run_check_on(&Local, command, limit)
}

/// Runs a step's `check` on `machine`; a lost link makes the answer unknown, never "not done".
pub fn run_check_on(machine: &dyn Machine, command: &Command, limit: Duration) -> CheckResult {
    let spawn = match machine.program(command, How::Captured) {
        Ok(s) => s,
        Err(e) => return CheckResult::Unknown(e.to_string()),
    };
    let local = spawn.command();
    let program = match find_program(&local) {
        Ok(p) => p,
        Err(m) => return CheckResult::Unknown(m),
    };
    let mut expr = duct::cmd(program, &local.argv[1..])
        .stdin_null()
        .stdout_null()
        .stderr_null()
        .unchecked()
        .before_spawn(|c| {
            c.process_group(0);
            Ok(())
        });
    for (k, v) in &local.env {
        expr = expr.env(k, v);
    }
    let handle = match expr.start() {
        Ok(h) => h,
        Err(e) => return CheckResult::Unknown(format!("cannot start the check: {e}")),
    };
    let deadline = Instant::now() + limit;
    loop {
        match handle.try_wait() {
            Ok(Some(out)) => {
                let exit = match (out.status.code(), out.status.signal()) {
                    (Some(c), _) => Exit::Code(c),
                    (None, Some(s)) => Exit::Signal(s),
                    (None, None) => Exit::Code(-1),
                };
                return match machine.settle(&spawn, exit) {
                    Ok(Exit::Code(0)) => CheckResult::AlreadyDone,
                    Ok(_) => CheckResult::NotDone,
                    Err(e) => CheckResult::Unknown(e.to_string()),
                };
            }
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                if let Some(&pid) = handle.pids().first() {
                    signal_group(pid as i32, libc::SIGKILL);
                }
                let _ = handle.wait();
                return CheckResult::Unknown(format!(
                    "the check `{}` took longer than {} s",
                    command.display(),
                    limit.as_secs()
                ));
            }
            Err(e) => return CheckResult::Unknown(format!("the check failed to run: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<StyledLine> {
        let mut filter = TerminalText::new();
        let mut out = Vec::new();
        filter.feed(text.as_bytes(), &mut out);
        filter.finish(&mut out);
        out
    }

    fn verdict(output: &str, shows: &[&str]) -> Option<String> {
        let watch = Watch {
            ok_output: Vec::new(),
            shows: shows.iter().map(|s| s.to_string()).collect(),
        };
        let mut seen = Seen::default();
        watch.look(&lines(output), &mut seen);
        judge(Exit::Code(0), &[0], seen.ok_output).or_else(|| judge_shows(&watch.shows, seen.shows))
    }

    /// `shows` passes when a line of the output holds the text, and fails naming the text
    /// otherwise; the address is plain text (dots are dots, `10.2` is not `10.20`).
    #[test]
    fn the_judge_passes_only_when_the_output_shows_the_text() {
        let with =
            "2: xenbr0: <UP>\n    inet 192.168.10.2/24 brd 192.168.10.255 scope global xenbr0\n";
        let other =
            "2: xenbr0: <UP>\n    inet 192.168.10.20/24 brd 192.168.10.255 scope global xenbr0\n";
        let dots = "    inet 192x168x10x2/24 scope global xenbr0\n";
        let without = "2: xenbr0: <UP>\n    link/ether 72:ed:ce:4c:33:f3 brd ff:ff:ff:ff:ff:ff\n";
        assert_eq!(verdict(with, &["inet 192.168.10.2/24 "]), None);
        assert_eq!(verdict(with, &[]), None);
        for out in [other, dots, without, ""] {
            assert_eq!(
                verdict(out, &["inet 192.168.10.2/24 "]).as_deref(),
                Some("the output does not show \"inet 192.168.10.2/24 \""),
                "{out}"
            );
        }
        assert_eq!(
            verdict(other, &["inet addr:192.168.10.2 ", "inet 192.168.10.20/"]),
            None
        );
        assert_eq!(
            verdict(without, &["not-here", "nor-here"]).as_deref(),
            Some("the output does not show \"not-here\" or \"nor-here\"")
        );
    }

    /// A text split across two lines is not shown on one line: never matched.
    #[test]
    fn the_text_must_be_on_one_line() {
        assert!(verdict("inet 10.0.0.1\n/24 \n", &["inet 10.0.0.1/24 "]).is_some());
    }
}
