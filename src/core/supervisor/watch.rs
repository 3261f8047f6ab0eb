//! Following a supervised step from outside: is its supervisor alive, and its log tailed as output.

use super::*;
use crate::core::progress::Status;
use crate::core::runner::{
    CancelHandle, RunEvent, RunOutcome, RunningStep, StepJob, finish_output,
};
use crate::core::terminal_text::TerminalText;
use crate::core::{attempt_id, disk_space};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

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

/// Polling interval of the log tail: fast enough to feel live, slow enough to cost nothing.
pub(super) const TAIL_EVERY: Duration = Duration::from_millis(50);

/// Watches a supervised step: tails its log from the start (so a re-attached screen shows the
/// output so far) and finishes when `<log>.exit` appears or the supervisor is gone without one.
/// The outcome is the supervisor's own verdict from the exit file ([`outcome_of`]), so it is
/// the same whether this watch saw the whole run or re-attached halfway.
///
/// The supervisor is identified as it is when the watch starts (pid, start time, the
/// attempt's nonce): if it dies and the kernel gives its pid to another process, the step does
/// not look running and cancel does not signal that process.
pub fn watch(pid: u32, log: PathBuf, job: Option<StepJob>) -> RunningStep {
    let (tx, rx) = mpsc::sync_channel(crate::core::runner::CHANNEL_DEPTH);
    let identity = attempt_id::Supervisor::now(pid, attempt_id::read_nonce(&log));
    let cancel = CancelHandle::for_supervisor(identity.clone());
    let c = cancel.clone();
    thread::spawn(move || {
        let job = job.or_else(|| read_job(&log));
        let ok_output = job
            .as_ref()
            .map(|j| j.ok_output.clone())
            .unwrap_or_default();
        let mut tail = LogTail::new(log.clone());
        let mut ok_seen = false;
        let outcome = loop {
            ok_seen |= tail.pump(&ok_output, &tx);
            if let Some(record) = read_exit_record(&log) {
                ok_seen |= tail.pump(&ok_output, &tx);
                ok_seen |= tail.finish(&ok_output, &tx);
                break outcome_of(&record, job.as_ref(), &[0], ok_seen, c.is_requested());
            }
            if !identity.alive() {
                // The exit file is written just before the supervisor ends: look once more.
                thread::sleep(TAIL_EVERY);
                ok_seen |= tail.pump(&ok_output, &tx);
                if let Some(record) = read_exit_record(&log) {
                    ok_seen |= tail.finish(&ok_output, &tx);
                    break outcome_of(&record, job.as_ref(), &[0], ok_seen, c.is_requested());
                }
                tail.finish(&ok_output, &tx);
                break RunOutcome::supervisor_gone(c.is_requested(), || gone_without_exit(&log));
            }
            thread::sleep(TAIL_EVERY);
        };
        if outcome.status == Status::Failed {
            // As a direct run does: say which program failed before the verdict.
            let _ = tx.send(RunEvent::Notice(outcome.message.clone()));
        }
        let _ = tx.send(RunEvent::Finished(outcome));
    });
    RunningStep { events: rx, cancel }
}

/// Why a supervisor ended without an exit status, as far as can be told: a full disk is
/// named as such, not blamed on a kill or a reboot.
pub fn gone_without_exit(log: &Path) -> String {
    if disk_space::no_space_at(log.parent().unwrap_or(log)) {
        "the supervisor ended without recording an exit status: the disk is full \
         (free some space; its log may be cut)"
            .to_string()
    } else {
        "the supervisor ended without recording an exit status \
         (killed, or the machine rebooted)"
            .to_string()
    }
}

/// Reads what was appended to a log since the last look, through the display filter.
pub(super) struct LogTail {
    path: PathBuf,
    offset: u64,
    filter: TerminalText,
}

impl LogTail {
    pub(super) fn new(path: PathBuf) -> LogTail {
        LogTail {
            path,
            offset: 0,
            filter: TerminalText::new(),
        }
    }

    pub(super) fn pump(&mut self, ok_output: &[String], tx: &mpsc::SyncSender<RunEvent>) -> bool {
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
            crate::core::runner::send_output(&mut self.filter, lines, tx);
        }
        seen
    }

    pub(super) fn finish(&mut self, ok_output: &[String], tx: &mpsc::SyncSender<RunEvent>) -> bool {
        let mut seen = false;
        finish_output(&mut self.filter, tx, |lines| {
            seen = lines.iter().any(|l| {
                let t = l.text();
                ok_output.iter().any(|o| t.contains(o.as_str()))
            });
        });
        seen
    }
}
