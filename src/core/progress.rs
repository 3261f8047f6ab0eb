//! Progress of a run (one runbook on one target): the step state machine and what is recorded
//! for each step. Storage (atomic saves, journal) is built on these types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a step stands. Stored in the state file by its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not started.
    #[default]
    Pending,
    /// A command is running now (or was, when the app died: see `Interrupted`).
    Running,
    /// Finished successfully, or marked done by the technician.
    Done,
    /// The last attempt failed.
    Failed,
    /// Skipped on purpose, with a reason.
    Skipped,
    /// Cancelled by the technician while running.
    Cancelled,
    /// Found running after a crash, hang-up or reboot: the outcome is unknown.
    Interrupted,
}

impl Status {
    /// Every status, in state-machine order.
    pub const ALL: [Status; 7] = [
        Status::Pending,
        Status::Running,
        Status::Done,
        Status::Failed,
        Status::Skipped,
        Status::Cancelled,
        Status::Interrupted,
    ];

    /// The marker shown in lists; readable without colour, ASCII on every terminal.
    pub fn marker(self) -> &'static str {
        match self {
            Status::Pending => "[ ]",
            Status::Running => "[>]",
            Status::Done => "[x]",
            Status::Failed => "[!]",
            Status::Skipped => "[-]",
            Status::Cancelled | Status::Interrupted => "[~]",
        }
    }

    /// The lowercase name used in files, JSON and reports.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Cancelled => "cancelled",
            Status::Interrupted => "interrupted",
        }
    }

    /// Finished for the purpose of "first unfinished step" and progress figures.
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Done | Status::Skipped)
    }
}

/// How a process ended: an exit code, or the signal that killed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Exit {
    /// Normal exit with this code.
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// One try at a step: when, by whom, how it ended and where its output is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Attempt {
    /// 1-based attempt number.
    pub number: u32,
    /// Start time, RFC 3339 UTC.
    pub started: String,
    /// End time, RFC 3339 UTC; absent while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// How the command ended, for command steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<Exit>,
    /// Which program of a multi-command step failed (0-based), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_program: Option<usize>,
    /// Log file of this attempt, relative to the state directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Pid of the supervisor of a detached (long) step, for re-attaching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The supervisor's start time (`/proc/PID/stat` field 22), so a pid the kernel gave to
    /// another process is never taken for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_start: Option<u64>,
    /// The attempt's nonce: its exit file, job file and supervisor carry it, so a file of an
    /// older attempt is never read as this one's (see `core::attempt_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Boot id of the machine when the attempt started, to detect a reboot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// Who ran it (`$SUDO_USER` or the user).
    #[serde(default)]
    pub who: String,
    /// How the attempt ended, in words (e.g. "cancelled", "marked done: ran it by hand").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// A note the technician attached to a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who wrote it.
    pub who: String,
    /// The note.
    pub text: String,
}

/// Everything recorded about one step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StepState {
    /// Current status.
    pub status: Status,
    /// The step's title when it was last touched, so a step later removed from the runbook
    /// still reads as something in the report.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Why it was skipped or marked done by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every attempt, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// Notes, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

/// A file edit that was applied, for the journal and the handover report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedEdit {
    /// Step that applied it.
    pub step: String,
    /// The file edited (as resolved, under `--root` when given).
    pub path: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Where the backup copy is, relative to the state directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    /// Unified diff of the change.
    pub diff: String,
    /// Content hashes before and after (hex).
    #[serde(default)]
    pub hash_before: String,
    /// Content hash after.
    #[serde(default)]
    pub hash_after: String,
    /// True once the edit was undone.
    #[serde(default)]
    pub undone: bool,
}

/// One runbook on one target: the unit that is saved, resumed, reported and handed over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Run {
    /// Version of this file's layout, so a later fieldbook can read an older run.
    #[serde(default = "Run::current_format")]
    pub format: u32,
    /// Runbook id.
    pub runbook: String,
    /// Runbook title when the run was last opened (reports stay readable without the runbook).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Target name (host name by default).
    pub target: String,
    /// Host name of the machine fieldbook ran on.
    #[serde(default)]
    pub host: String,
    /// First activity, RFC 3339 UTC.
    #[serde(default)]
    pub started: String,
    /// Last activity, RFC 3339 UTC.
    #[serde(default)]
    pub updated: String,
    /// True for practice runs (stored apart from real ones).
    #[serde(default)]
    pub practice: bool,
    /// Variable values entered (never those of `secret` variables).
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// The runbook's step ids, in order, as of the last time the run was opened with it. A
    /// step in `steps` but not here was removed from the runbook: kept and reported as such.
    #[serde(default)]
    pub step_order: Vec<String>,
    /// Per step id. Ids no longer in the runbook are kept, never dropped.
    #[serde(default)]
    pub steps: BTreeMap<String, StepState>,
    /// Edits applied, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<AppliedEdit>,
}

/// How far a run is, as counted over the runbook's current steps; what `status` prints and
/// what the TUI's header shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Tally {
    /// Steps in the runbook now.
    pub total: usize,
    /// Done (including marked done).
    pub done: usize,
    /// Last attempt failed.
    pub failed: usize,
    /// Skipped with a reason.
    pub skipped: usize,
    /// Outcome unknown after a crash, hang-up or reboot.
    pub interrupted: usize,
    /// Cancelled while running.
    pub cancelled: usize,
    /// Running now (or re-attachable).
    pub running: usize,
    /// Not started.
    pub pending: usize,
    /// Steps with progress that are no longer in the runbook (kept, shown apart).
    pub removed: usize,
}

impl Run {
    /// The layout version this fieldbook writes.
    pub const FORMAT: u32 = 1;

    fn current_format() -> u32 {
        Self::FORMAT
    }

    /// Status of a step (pending when never touched).
    pub fn status(&self, step: &str) -> Status {
        self.steps.get(step).map_or(Status::Pending, |s| s.status)
    }

    /// True if `step` has progress but is no longer in the runbook.
    pub fn is_removed(&self, step: &str) -> bool {
        !self.step_order.iter().any(|s| s == step)
    }

    /// Ids with recorded progress that are no longer in the runbook, sorted.
    pub fn removed_steps(&self) -> Vec<&str> {
        self.steps
            .keys()
            .filter(|id| self.is_removed(id))
            .map(String::as_str)
            .collect()
    }

    /// The first step of the runbook that is not finished (done or skipped): where the cursor
    /// goes when a run is resumed.
    pub fn first_unfinished(&self) -> Option<&str> {
        self.step_order
            .iter()
            .find(|id| !self.status(id).is_finished())
            .map(String::as_str)
    }

    /// Counts per status over the runbook's current steps, plus removed steps apart.
    pub fn tally(&self) -> Tally {
        let mut t = Tally {
            total: self.step_order.len(),
            removed: self.removed_steps().len(),
            ..Tally::default()
        };
        for id in &self.step_order {
            match self.status(id) {
                Status::Pending => t.pending += 1,
                Status::Running => t.running += 1,
                Status::Done => t.done += 1,
                Status::Failed => t.failed += 1,
                Status::Skipped => t.skipped += 1,
                Status::Cancelled => t.cancelled += 1,
                Status::Interrupted => t.interrupted += 1,
            }
        }
        t
    }

    /// Everyone who started an attempt or wrote a note, in order of first appearance: the
    /// "who worked on this" line of a handover.
    pub fn people(&self) -> Vec<&str> {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for st in self.steps.values() {
            let attempts = st
                .attempts
                .iter()
                .map(|a| (a.started.as_str(), a.who.as_str()));
            let notes = st.notes.iter().map(|n| (n.at.as_str(), n.who.as_str()));
            seen.extend(attempts.chain(notes).filter(|(_, w)| !w.is_empty()));
        }
        seen.sort();
        let mut out: Vec<&str> = Vec::new();
        for (_, w) in seen {
            if !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }
}
