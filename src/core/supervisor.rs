//! Long steps (emerge world, yum update) survive the link: fieldbook re-executes itself as a
//! small supervisor in a new session, which runs the programs with their output going straight
//! to the attempt's log and, when they end, writes `<log>.exit` (`code N` or `signal N`)
//! atomically. The UI only tails the log, so it can die, be killed or lose its SSH session and a
//! later fieldbook re-attaches (supervisor alive), records the real exit (`.exit` present) or
//! marks the step interrupted (neither — e.g. after a reboot).
//!
//! Files of one attempt, beside each other: `<log>` (raw output), `<log>.job` (what to run, JSON,
//! mode 0600 because it may hold variable values), `<log>.exit` (written last).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::progress::{Exit, Status};
use super::runner::{CancelHandle, RunEvent, RunOutcome, RunningStep, StepJob, judge};
use super::terminal_text::TerminalText;
use super::{atomic, state_dir};

/// The hidden subcommand that runs a supervisor (kept out of `--help`).
pub const SUBCOMMAND: &str = "__supervise";

/// `<log>.exit`: the exit status file the supervisor writes when the programs end.
pub fn exit_path(log: &Path) -> PathBuf {
    state_dir::exit_file(log)
}

/// `<log>.job`: the step's programs, read by the supervisor.
pub fn job_path(log: &Path) -> PathBuf {
    suffixed(log, ".job")
}

fn suffixed(log: &Path, suffix: &str) -> PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Starts a supervisor for `job` writing to `log`, detached in its own session. `exe` is the
/// fieldbook binary (`std::env::current_exe()`). Returns the supervisor's pid, which is also the
/// process group of everything it runs (for cancel).
pub fn launch(exe: &Path, job: &StepJob, log: &Path) -> std::io::Result<u32> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec(job).map_err(std::io::Error::other)?;
    atomic::write_atomic(&job_path(log), &json)?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg(SUBCOMMAND)
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let pid = child.id();
    // Reap it when it ends so it never lingers as a zombie that looks alive.
    thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(pid)
}

/// The body of the hidden `__supervise LOG` subcommand. Returns the process exit code.
pub fn supervise(log: &Path) -> i32 {
    // The supervisor outlives terminals and survives the cancel signals meant for its programs;
    // only SIGKILL (the last step of cancel) ends it.
    // SAFETY: setting dispositions to SIG_IGN at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
    }
    let exit = match run_supervised(log) {
        Ok(exit) => exit,
        Err(message) => {
            if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(log) {
                let _ = writeln!(f, "fieldbook supervisor: {message}");
            }
            Exit::Code(127)
        }
    };
    match state_dir::write_exit_file(&exit_path(log), exit) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

fn run_supervised(log: &Path) -> Result<Exit, String> {
    let job_file = job_path(log);
    let text =
        std::fs::read(&job_file).map_err(|e| format!("cannot read {}: {e}", job_file.display()))?;
    let job: StepJob = serde_json::from_slice(&text)
        .map_err(|e| format!("cannot read {}: {e}", job_file.display()))?;
    let mut last = Exit::Code(0);
    for command in &job.commands {
        let program = super::runner::find_program(command)?;
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open the log: {e}"))?;
        let start = out.metadata().map(|m| m.len()).unwrap_or(0);
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot open the log: {e}"))?;
        let mut cmd = std::process::Command::new(program);
        cmd.args(&command.argv[1..])
            .envs(command.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // SAFETY: signal() is async-signal-safe; the child gets default dispositions back so
        // cancel's SIGINT/SIGTERM reach it.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGHUP, libc::SIG_DFL);
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGTERM, libc::SIG_DFL);
                Ok(())
            });
        }
        let status = cmd
            .status()
            .map_err(|e| format!("cannot start {}: {e}", command.display()))?;
        last = match (status.code(), status.signal()) {
            (Some(c), _) => Exit::Code(c),
            (None, Some(s)) => Exit::Signal(s),
            (None, None) => Exit::Code(-1),
        };
        let ok_seen = output_since(log, start, &job.ok_output);
        if judge(last, &job.expect, ok_seen).is_some() {
            break;
        }
    }
    Ok(last)
}

/// True when the log, from byte `start` on, shows one of the `ok_output` texts.
fn output_since(log: &Path, start: u64, ok_output: &[String]) -> bool {
    if ok_output.is_empty() {
        return false;
    }
    let mut bytes = Vec::new();
    let read = File::open(log).and_then(|mut f| {
        f.seek(SeekFrom::Start(start))?;
        f.read_to_end(&mut bytes)
    });
    if read.is_err() {
        return false;
    }
    let mut filter = TerminalText::new();
    let mut lines = Vec::new();
    filter.feed(&bytes, &mut lines);
    filter.finish(&mut lines);
    lines.iter().any(|l| {
        let t = l.text();
        ok_output.iter().any(|o| t.contains(o.as_str()))
    })
}

/// Reads `<log>.exit` (`None` until the supervisor wrote it).
pub fn read_exit(log: &Path) -> Option<Exit> {
    state_dir::read_exit_file(&exit_path(log)).ok().flatten()
}

/// True while the supervisor with this pid runs. A zombie or a pid reused by another program
/// counts as gone (checked through /proc where it exists).
pub fn is_alive(pid: u32) -> bool {
    if pid == 0 {
        return false;
    }
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if Path::new("/proc/self").exists() {
        let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
            return false;
        };
        // The state follows the last ')' (the command name may contain parentheses).
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if matches!(state, Some("Z") | Some("X") | None) {
            return false;
        }
        let cmdline = std::fs::read(proc_dir.join("cmdline")).unwrap_or_default();
        return cmdline
            .split(|&b| b == 0)
            .any(|arg| arg == SUBCOMMAND.as_bytes());
    }
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

/// This boot's id, to tell "the UI died" from "the machine rebooted" on re-attach.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Polling interval of the log tail: fast enough to feel live, slow enough to cost nothing.
const TAIL_EVERY: Duration = Duration::from_millis(50);

/// Watches a supervised step: tails its log from the start (so a re-attached screen shows the
/// output so far) and finishes when `<log>.exit` appears or the supervisor is gone without one.
/// `expect`/`ok_output` judge the exit like a direct run.
pub fn watch(pid: u32, log: PathBuf, job: Option<StepJob>) -> RunningStep {
    let (tx, rx) = mpsc::sync_channel(crate::core::runner::CHANNEL_DEPTH);
    let cancel = CancelHandle::for_group(pid);
    let c = cancel.clone();
    thread::spawn(move || {
        let job = job.or_else(|| {
            std::fs::read(job_path(&log))
                .ok()
                .and_then(|b| serde_json::from_slice::<StepJob>(&b).ok())
        });
        let (expect, ok_output) = job
            .map(|j| (j.expect, j.ok_output))
            .unwrap_or_else(|| (vec![0], Vec::new()));
        let mut tail = LogTail::new(log.clone());
        let mut ok_seen = false;
        let outcome = loop {
            ok_seen |= tail.pump(&ok_output, &tx);
            if let Some(exit) = read_exit(&log) {
                ok_seen |= tail.pump(&ok_output, &tx);
                ok_seen |= tail.finish(&ok_output, &tx);
                break outcome_of(exit, &expect, ok_seen, c.is_requested());
            }
            if !is_alive(pid) {
                // The exit file is written just before the supervisor ends: look once more.
                thread::sleep(TAIL_EVERY);
                ok_seen |= tail.pump(&ok_output, &tx);
                if let Some(exit) = read_exit(&log) {
                    ok_seen |= tail.finish(&ok_output, &tx);
                    break outcome_of(exit, &expect, ok_seen, c.is_requested());
                }
                tail.finish(&ok_output, &tx);
                break if c.is_requested() {
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
                        message: "the supervisor ended without recording an exit status \
                                  (killed, or the machine rebooted)"
                            .to_string(),
                    }
                };
            }
            thread::sleep(TAIL_EVERY);
        };
        let _ = tx.send(RunEvent::Finished(outcome));
    });
    RunningStep { events: rx, cancel }
}

fn outcome_of(exit: Exit, expect: &[i32], ok_seen: bool, cancelled: bool) -> RunOutcome {
    match judge(exit, expect, ok_seen) {
        _ if cancelled => RunOutcome {
            status: Status::Cancelled,
            exit: Some(exit),
            failed_program: None,
            message: "cancelled".to_string(),
        },
        None => RunOutcome {
            status: Status::Done,
            exit: Some(exit),
            failed_program: None,
            message: format!("finished ({exit})"),
        },
        Some(why) => RunOutcome {
            status: Status::Failed,
            exit: Some(exit),
            failed_program: None,
            message: format!("failed ({why})"),
        },
    }
}

/// Reads what was appended to a log since the last look, through the display filter.
struct LogTail {
    path: PathBuf,
    offset: u64,
    filter: TerminalText,
}

impl LogTail {
    fn new(path: PathBuf) -> LogTail {
        LogTail {
            path,
            offset: 0,
            filter: TerminalText::new(),
        }
    }

    fn pump(&mut self, ok_output: &[String], tx: &mpsc::SyncSender<RunEvent>) -> bool {
        let Ok(mut f) = File::open(&self.path) else {
            return false;
        };
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return false;
        }
        let mut seen = false;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match f.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            self.offset += n as u64;
            let mut lines = Vec::new();
            self.filter.feed(&buf[..n], &mut lines);
            seen |= lines.iter().any(|l| {
                let t = l.text();
                ok_output.iter().any(|o| t.contains(o.as_str()))
            });
            super::runner::send_output(&mut self.filter, lines, tx);
        }
        seen
    }

    fn finish(&mut self, ok_output: &[String], tx: &mpsc::SyncSender<RunEvent>) -> bool {
        let mut lines = Vec::new();
        self.filter.finish(&mut lines);
        let seen = lines.iter().any(|l| {
            let t = l.text();
            ok_output.iter().any(|o| t.contains(o.as_str()))
        });
        if !lines.is_empty() {
            let _ = tx.send(RunEvent::Output {
                lines,
                partial: Some(Default::default()),
            });
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        assert_eq!(read_exit(&log), None);
        state_dir::write_exit_file(&exit_path(&log), Exit::Signal(9)).unwrap();
        assert_eq!(read_exit(&log), Some(Exit::Signal(9)));
    }

    #[test]
    fn not_alive_for_other_programs() {
        // This test process is alive but is not a supervisor.
        assert!(!is_alive(std::process::id()));
        assert!(!is_alive(0));
    }
}
