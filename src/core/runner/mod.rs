//! Running a step's programs for real: argv vectors through duct (never a shell, unless the step
//! is an explicit script), output merged and streamed to whoever watches as filtered lines, every
//! raw byte kept in the attempt's log, and a cancel that reaches grandchildren.
//!
//! The runner owns a thread per step; the UI only ever reads a channel, so it never blocks on a
//! child. Long steps go through [`super::supervisor`] instead, practice runs through
//! [`super::practice`]; all three speak the same [`RunEvent`]s.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::machine::{How, Local, Shared, Spawn};
use super::progress::{Exit, Status};
use super::runbook::{Program, RunSpec};
use super::terminal_text::StyledLine;
use super::vars;

mod cancel;
mod output;
mod program;
use cancel::signal_group;
pub use cancel::{CancelHandle, RemoteGroup, group_exists};
use output::PIPE_BYTES;
pub(crate) use output::{finish_output, pump, send_output};
use program::in_own_group;
pub use program::{CheckResult, find_program, missing_program_message, run_check, run_check_on};

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

impl RunOutcome {
    /// A supervised step whose supervisor is gone without leaving an exit record: cancelled
    /// when a cancel was asked for (the supervisor was killed), else interrupted, for `why`.
    pub(crate) fn supervisor_gone(cancelled: bool, why: impl FnOnce() -> String) -> RunOutcome {
        if cancelled {
            RunOutcome {
                status: Status::Cancelled,
                exit: Some(Exit::Signal(libc::SIGKILL)),
                failed_program: None,
                message: "cancelled (the supervisor was killed)".to_string(),
            }
        } else {
            RunOutcome {
                status: Status::Interrupted,
                exit: None,
                failed_program: None,
                message: why(),
            }
        }
    }
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
    let expr = in_own_group(program, &local)
        .stdin_null()
        // duct applies the outer redirection first: stdout to the pipe, then stderr joins it.
        .stderr_to_stdout()
        .stdout_file(writer);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::terminal_text::TerminalText;

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
