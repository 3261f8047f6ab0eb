//! A child's output on its way out: read in chunks, every byte to the attempt's log, filtered lines to whoever watches.

use super::*;
use crate::core::terminal_text::{StyledLine, TerminalText};
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc::SyncSender;
use std::thread;
use std::time::Duration;

/// Read size: big enough that 200,000 fast lines cost few wake-ups.
pub(super) const READ_CHUNK: usize = 64 * 1024;

/// A read at least this big that emptied the pipe means a flood: the pump pauses
/// [`FLOOD_PAUSE`] so the next read finds a pipe's worth, instead of waking (and waking the
/// screen) for every 4 KiB the child writes.
pub(super) const FLOOD_READ: usize = 16 * 1024;

/// See [`FLOOD_READ`]; unnoticeable on screen, and a trickle of output never waits.
pub(super) const FLOOD_PAUSE: Duration = Duration::from_millis(1);

/// The pipe a command writes into holds this much (Linux allows 1 MiB unprivileged), so a
/// flooding child is not stopped while the pump pauses.
pub(super) const PIPE_BYTES: libc::c_int = 1024 * 1024;

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
    finish_output(&mut filter, tx, |lines| watch.look(lines, &mut seen));
    seen
}

/// A step's log as the pump writes it: how many bytes got there, and where and why it was
/// cut if it was.
pub(super) struct LogWriter {
    pub(super) file: File,
    /// The log's directory, whose file system is watched for room.
    pub(super) dir: Option<std::path::PathBuf>,
    pub(super) written: u64,
    pub(super) cut: Option<String>,
    /// Bytes that may still be written before the room on the disk is asked again.
    pub(super) unchecked: u64,
}

impl LogWriter {
    /// Writes `bytes`; the first failure cuts the log and returns the notice saying so.
    pub(super) fn write(&mut self, mut bytes: &[u8]) -> Option<String> {
        if self.cut.is_some() {
            return None;
        }
        // The log stops short of filling the disk, so the step's outcome can still be saved.
        // The room is asked again once half of what was left above the margin is used (not on
        // every read: a flood of output cost a statvfs per 4 KiB).
        let len = bytes.len() as u64;
        if self.unchecked < len
            && let Some(dir) = &self.dir
            && let Some(room) = crate::core::disk_space::room_left(dir)
        {
            if room < crate::core::disk_space::LOG_MARGIN.saturating_add(len) {
                return self.cut_at(std::io::Error::from_raw_os_error(libc::ENOSPC));
            }
            self.unchecked = (room - crate::core::disk_space::LOG_MARGIN) / 2;
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

    pub(super) fn cut_at(&mut self, e: std::io::Error) -> Option<String> {
        let why = if crate::core::disk_space::is_full(&e) {
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
    pub(super) fn mark_cut(&mut self, path: &Path) {
        let Some(why) = &self.cut else {
            return;
        };
        let line = format!(
            "\n[fieldbook: the log was cut here, at byte {}: {why}]\n",
            self.written
        );
        let mut write = || self.file.write_all(line.as_bytes());
        match crate::core::disk_space::base_of_log(path) {
            Some(base) => {
                let _ = crate::core::disk_space::with_reserve(&base, write).0;
            }
            None => {
                let _ = write();
            }
        }
    }
}

/// Sends finished lines and, when it changed, the current partial line.
/// Ends a child's output: its unfinished last line becomes a line and is sent to whoever
/// watches (the unfinished line cleared); `look` sees the lines first.
pub(crate) fn finish_output(
    filter: &mut TerminalText,
    tx: &SyncSender<RunEvent>,
    look: impl FnOnce(&[StyledLine]),
) {
    let mut lines = Vec::new();
    filter.finish(&mut lines);
    look(&lines);
    if !lines.is_empty() {
        let _ = tx.send(RunEvent::Output {
            lines,
            partial: Some(StyledLine::default()),
        });
    }
}

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
