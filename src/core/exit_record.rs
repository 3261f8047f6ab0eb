//! What a long step's supervisor writes to `<log>.exit` when its programs end: the exit status
//! and what it judged (which program ended the run, whether an `ok_output` text was seen, done
//! or failed), so a later fieldbook records exactly what a direct run would have, even if
//! nobody was watching.
//!
//! The file is text, one fact a line, the exit status first:
//!
//! ```text
//! code 1
//! program 2 of 2
//! ok_output seen
//! verdict failed
//! attempt 9f3c2a61d07be415
//! ```
//!
//! `program I of N` counts from 1, as a technician does. `error TEXT` says a program could not
//! be started (or the job could not be read). `disk full` says the disk was full when the
//! programs ended (the log may be cut). `attempt NONCE` names the attempt whose supervisor
//! wrote it (see `core::attempt_id`): a reader believes the file only for that attempt. Files
//! of older fieldbooks hold only the first line (`code N` / `signal N`) and still read; lines
//! this version does not know are ignored, so a newer supervisor's file still reads here.

use super::progress::Exit;

/// Everything the supervisor recorded about how a supervised step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitRecord {
    /// How the program that ended the run exited (127 when it could not be started).
    pub exit: Exit,
    /// Which program (0-based) ended the run: the one that failed, or the last one. `None` in
    /// an older file.
    pub program: Option<usize>,
    /// How many programs the step has. `None` in an older file.
    pub programs: Option<usize>,
    /// An `ok_output` text appeared in that program's output.
    pub ok_output_seen: bool,
    /// The supervisor's verdict (`Some(true)` done, `Some(false)` failed); `None` in an older
    /// file, where the reader judges the exit code itself.
    pub success: Option<bool>,
    /// Why a program could not be started, or the job could not be read.
    pub error: Option<String>,
    /// The nonce of the attempt whose supervisor wrote it; `None` in an older file.
    pub attempt: Option<String>,
    /// The disk was full when the programs ended: the log may be cut.
    pub disk_full: bool,
}

impl From<Exit> for ExitRecord {
    /// A record with the exit status only, as older fieldbooks wrote it.
    fn from(exit: Exit) -> ExitRecord {
        ExitRecord {
            exit,
            program: None,
            programs: None,
            ok_output_seen: false,
            success: None,
            error: None,
            attempt: None,
            disk_full: false,
        }
    }
}

impl ExitRecord {
    /// The file's text. An exit-only record is exactly the old `code N` / `signal N` line.
    pub fn format(&self) -> String {
        let mut out = match self.exit {
            Exit::Code(c) => format!("code {c}\n"),
            Exit::Signal(s) => format!("signal {s}\n"),
        };
        match (self.program, self.programs) {
            (Some(i), Some(n)) => out.push_str(&format!("program {} of {n}\n", i + 1)),
            (Some(i), None) => out.push_str(&format!("program {}\n", i + 1)),
            _ => {}
        }
        if self.ok_output_seen {
            out.push_str("ok_output seen\n");
        }
        match self.success {
            Some(true) => out.push_str("verdict done\n"),
            Some(false) => out.push_str("verdict failed\n"),
            None => {}
        }
        if let Some(e) = &self.error {
            // One line, whatever the message holds.
            let line: String = e
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            out.push_str(&format!("error {line}\n"));
        }
        if self.disk_full {
            out.push_str("disk full\n");
        }
        if let Some(a) = self
            .attempt
            .as_deref()
            .filter(|a| super::attempt_id::is_nonce(a))
        {
            out.push_str(&format!("attempt {a}\n"));
        }
        out
    }

    /// Reads the file's text; `None` if the first line is not `code N` / `signal N` or a known
    /// fact is malformed (then the outcome is unknown rather than guessed).
    pub fn parse(text: &str) -> Option<ExitRecord> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let mut record = ExitRecord::from(parse_exit_line(lines.next()?)?);
        for line in lines {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            let value = value.trim();
            match key {
                "program" => {
                    let (i, n) = match value.split_once(" of ") {
                        Some((i, n)) => (i, Some(n.trim().parse::<usize>().ok()?)),
                        None => (value, None),
                    };
                    let i = i.trim().parse::<usize>().ok()?.checked_sub(1)?;
                    if n.is_some_and(|n| i >= n) {
                        return None;
                    }
                    record.program = Some(i);
                    record.programs = n;
                }
                "ok_output" => record.ok_output_seen = value == "seen",
                "verdict" => {
                    record.success = match value {
                        "done" => Some(true),
                        "failed" => Some(false),
                        _ => return None,
                    }
                }
                "error" => record.error = Some(value.to_string()),
                "attempt" if super::attempt_id::is_nonce(value) => {
                    record.attempt = Some(value.to_string())
                }
                "attempt" => return None,
                "disk" => record.disk_full = value == "full",
                _ => {}
            }
        }
        Some(record)
    }
}

fn parse_exit_line(line: &str) -> Option<Exit> {
    let (kind, n) = line.split_once(' ')?;
    let n: i32 = n.trim().parse().ok()?;
    match kind {
        "code" => Some(Exit::Code(n)),
        "signal" => Some(Exit::Signal(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_exit_only_file_still_reads() {
        assert_eq!(
            ExitRecord::parse("code 0\n"),
            Some(ExitRecord::from(Exit::Code(0)))
        );
        assert_eq!(
            ExitRecord::parse("signal 9"),
            Some(ExitRecord::from(Exit::Signal(9)))
        );
        // And an exit-only record is written exactly as older fieldbooks wrote it.
        assert_eq!(ExitRecord::from(Exit::Code(3)).format(), "code 3\n");
        assert_eq!(ExitRecord::from(Exit::Signal(15)).format(), "signal 15\n");
    }

    #[test]
    fn the_supervisors_judgement_round_trips() {
        let judged = ExitRecord {
            exit: Exit::Code(1),
            program: Some(1),
            programs: Some(2),
            ok_output_seen: true,
            success: Some(true),
            error: None,
            attempt: Some("9f3c2a61d07be415".into()),
            disk_full: false,
        };
        let text = judged.format();
        assert_eq!(
            text,
            "code 1\nprogram 2 of 2\nok_output seen\nverdict done\nattempt 9f3c2a61d07be415\n"
        );
        assert_eq!(ExitRecord::parse(&text), Some(judged));
        let not_started = ExitRecord {
            exit: Exit::Code(127),
            program: Some(0),
            programs: Some(1),
            ok_output_seen: false,
            success: Some(false),
            error: Some("cannot find 'x'\non PATH".into()),
            attempt: None,
            disk_full: true,
        };
        let back = ExitRecord::parse(&not_started.format()).unwrap();
        assert_eq!(back.error.as_deref(), Some("cannot find 'x' on PATH"));
        assert_eq!(back.program, Some(0));
        assert_eq!(back.success, Some(false));
        assert!(back.disk_full);
    }

    #[test]
    fn unknown_facts_are_ignored_and_malformed_ones_refused() {
        let r = ExitRecord::parse("code 2\nprogram 1 of 1\nfuture thing\nverdict failed\n");
        assert_eq!(
            r.map(|r| (r.program, r.success)),
            Some((Some(0), Some(false)))
        );
        for bad in [
            "",
            "exit 0",
            "code x",
            "code 0\nprogram 0 of 2",
            "code 0\nprogram 3 of 2",
            "code 0\nprogram two",
            "code 0\nverdict maybe",
            "code 0\nattempt ../../x",
        ] {
            assert_eq!(ExitRecord::parse(bad), None, "{bad:?}");
        }
    }
}
