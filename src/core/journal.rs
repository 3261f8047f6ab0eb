//! The audit journal of a run: one JSON object per line, appended (never rewritten) for every
//! change, so "who did what when" can be answered even if the state file is later edited,
//! reset or lost.

use serde::{Deserialize, Serialize};

use super::progress::{Exit, Status};

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who (`$SUDO_USER` or the user).
    pub who: String,
    /// The real uid of the process, whatever `who` says (`$SUDO_USER` and `$USER` are only
    /// what the environment claims).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// `$SUDO_USER` when fieldbook runs under sudo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo_user: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

impl Entry {
    /// An entry of this process now: `who`, plus the real uid and `$SUDO_USER`.
    pub fn new(at: String, who: String, event: Event) -> Entry {
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        let sudo_user = std::env::var("SUDO_USER")
            .ok()
            .filter(|s| !s.trim().is_empty());
        Entry {
            at,
            who,
            uid: Some(uid),
            sudo_user,
            event,
        }
    }
}

/// What can happen to a run. Tagged by `event` in JSON (`{"event":"started",...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A new run was created.
    Created {
        /// Runbook id.
        runbook: String,
        /// Target.
        target: String,
        /// Host the run was created on.
        host: String,
    },
    /// An unreadable state file was moved aside and a fresh run started after confirmation.
    StartedFresh {
        /// Where the unreadable file went (relative to the state directory).
        moved_to: String,
    },
    /// An attempt started.
    Started {
        /// Step id.
        step: String,
        /// Attempt number.
        attempt: u32,
        /// Log file (relative to the state directory).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        log: Option<String>,
    },
    /// The supervisor pid of a detached attempt was recorded.
    Detached {
        /// Step id.
        step: String,
        /// Attempt number.
        attempt: u32,
        /// Supervisor pid.
        pid: u32,
    },
    /// An attempt ended (done, failed, cancelled or interrupted).
    Finished {
        /// Step id.
        step: String,
        /// Attempt number.
        attempt: u32,
        /// The step's new status.
        status: Status,
        /// How the process ended, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit: Option<Exit>,
        /// In words (e.g. "interrupted: the machine rebooted").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
    /// A step was skipped.
    Skipped {
        /// Step id.
        step: String,
        /// Why.
        reason: String,
    },
    /// A step was marked done by the technician.
    MarkedDone {
        /// Step id.
        step: String,
        /// Why (may be empty for a manual step simply confirmed).
        reason: String,
    },
    /// A step was put back to pending (its edits were undone).
    Reopened {
        /// Step id.
        step: String,
        /// Why.
        reason: String,
    },
    /// A note was added.
    Noted {
        /// Step id.
        step: String,
        /// The note.
        text: String,
    },
    /// A variable was given a value. `value` is absent for secret variables.
    ValueSet {
        /// Variable name.
        name: String,
        /// The value, never for a secret.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// A file edit was applied.
    EditApplied {
        /// Step id.
        step: String,
        /// File edited.
        path: String,
        /// Backup (relative to the state directory).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backup: Option<String>,
    },
    /// A recorded edit was undone.
    EditUndone {
        /// Step id.
        step: String,
        /// File restored.
        path: String,
    },
    /// The run was archived by `reset`.
    Archived {
        /// Where it went (relative to the state directory).
        to: String,
    },
}

/// Reads a journal's text: every complete line that parses, in order. A last line cut short
/// (the process was killed mid-write, or the disk filled) is ignored rather than failing the
/// whole journal; the count of unreadable lines is returned so it can be reported.
pub fn parse(text: &str) -> (Vec<Entry>, usize) {
    let mut entries = Vec::new();
    let mut bad = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str(line) {
            Ok(e) => entries.push(e),
            Err(_) => bad += 1,
        }
    }
    (entries, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_flat_json_tagged_by_event() {
        let e = Entry {
            at: "2026-11-26T16:00:00Z".into(),
            who: "ana".into(),
            uid: None,
            sudo_user: None,
            event: Event::Finished {
                step: "sync".into(),
                attempt: 2,
                status: Status::Failed,
                exit: Some(Exit::Code(1)),
                outcome: None,
            },
        };
        let line = serde_json::to_string(&e).unwrap();
        assert_eq!(
            line,
            r#"{"at":"2026-11-26T16:00:00Z","who":"ana","event":"finished","step":"sync","attempt":2,"status":"failed","exit":{"code":1}}"#
        );
        let (back, bad) = parse(&format!("{line}\n{line}\n{{\"at\":\"2026"));
        assert_eq!(back, vec![e.clone(), e]);
        assert_eq!(bad, 1);
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    /// Issue 17 item 16: every journal line records the real uid and `$SUDO_USER`, not only
    /// the name the environment claims.
    #[test]
    fn entries_record_the_real_uid_and_sudo_user() {
        let e = Entry::new("t".into(), "ana".into(), Event::Archived { to: "x".into() });
        // SAFETY: getuid has no preconditions.
        assert_eq!(e.uid, Some(unsafe { libc::getuid() }));
        assert_eq!(
            e.sudo_user,
            std::env::var("SUDO_USER")
                .ok()
                .filter(|s| !s.trim().is_empty())
        );
        let line = serde_json::to_string(&e).unwrap();
        assert!(
            line.contains(&format!("\"uid\":{}", unsafe { libc::getuid() })),
            "{line}"
        );
        let back: Entry = serde_json::from_str(&line).unwrap();
        assert_eq!(back, e);
    }
}
