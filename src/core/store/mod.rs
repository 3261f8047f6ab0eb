//! The store: one open run (a runbook on a target) whose every change is journalled and saved
//! atomically before the call returns. The TUI, the runner and the edit code change progress
//! only through its methods, which enforce the step state machine.
//!
//! Typical use:
//!
//! ```no_run
//! # use fieldbook::core::{store::{Store, IfCorrupt}, state_dir::StateDir, progress::Exit};
//! # fn demo(rb: &fieldbook::core::runbook::Runbook) -> Result<(), Box<dyn std::error::Error>> {
//! let dir = StateDir::resolve(None, false)?;
//! let mut store = Store::open(&dir, rb, &fieldbook::core::store::default_target(None), IfCorrupt::Stop)?;
//! for live in store.live_steps() { /* re-attach to live.log */ let _ = live; }
//! let started = store.start("sync")?;      // Running; write output to started.log
//! store.finish("sync", Exit::Code(0), true)?; // Done
//! # Ok(()) }
//! ```
//!
//! A failed save (read-only or full disk) returns [`StoreError::Save`] but the change is kept
//! in memory and the next change (or [`Store::retry_save`]) writes everything again;
//! [`Store::save_problem`] says what went wrong for a status line.

mod archive;
mod open;
mod reconcile;
mod steps;
mod transition;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

pub use archive::archive_run;
pub use open::{IfCorrupt, run_lock_held};
pub use reconcile::{LiveStep, Reconciled, show_finished, show_unrecorded_edits};
pub use transition::Transition;

use super::atomic;
use super::clock;
use super::disk_space;
use super::journal::{Entry, Event};
use super::progress::{Run, Status};
use super::state_dir::{StateDir, StateDirError};

/// The target to use when none is given: this machine's host name.
pub fn default_target(given: Option<&str>) -> String {
    match given.map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => super::host::hostname(),
    }
}

/// What can go wrong with progress. The UI branches on the kind: `Corrupt` asks the
/// technician before starting fresh, `Save` is shown but work continues, `Transition` means a
/// bug or a stale screen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The state directory could not be chosen or created.
    #[error(transparent)]
    StateDir(#[from] StateDirError),
    /// The state file could not be read or parsed. It was moved aside (never overwritten);
    /// open again with [`IfCorrupt::StartFresh`] once the technician agrees to start over.
    #[error(
        "the saved progress in {file} could not be read ({reason}); it was moved to {moved_to}. \
         Start a fresh run only if you mean to (fieldbook asks; scripts pass --yes)"
    )]
    Corrupt {
        /// The state file.
        file: PathBuf,
        /// Where the unreadable copy now is.
        moved_to: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// Another fieldbook has this run open: nothing may be run or marked here.
    #[error(
        "this run is open in another fieldbook{holder} (lock {lock}); it is read-only here: \
         nothing is run or marked until that one leaves the runbook"
    )]
    InUse {
        /// The lock file.
        lock: PathBuf,
        /// ` (USER, pid N on HOST, since TIME)` as the holder wrote it, or empty.
        holder: String,
    },
    /// No run exists for this runbook and target (reset, report).
    #[error("no run of '{runbook}' for target '{target}' in {dir}")]
    NoRun {
        /// Runbook id.
        runbook: String,
        /// Target.
        target: String,
        /// State directory searched.
        dir: PathBuf,
    },
    /// The step is not in the runbook (and has no recorded progress).
    #[error("no step '{0}' in this runbook")]
    UnknownStep(String),
    /// The variable is not declared by the runbook.
    #[error("no variable '{0}' in this runbook")]
    UnknownVariable(String),
    /// The state machine does not allow this change from the step's current status.
    #[error("cannot {action} step '{step}' while it is {from}")]
    Transition {
        /// Step id.
        step: String,
        /// Its status.
        from: &'static str,
        /// What was asked ("start", "skip", ...).
        action: &'static str,
    },
    /// The step's attempt number cannot grow (a state file said the last one was u32::MAX).
    #[error(
        "step '{0}' has no attempt number left; archive the run with `fieldbook reset` to start \
         it again"
    )]
    AttemptLimit(String),
    /// Skipping, marking done and notes need words.
    #[error("a reason is required to {0}")]
    EmptyReason(&'static str),
    /// A step is still running under its supervisor, so the run cannot be archived.
    #[error("step '{0}' is still running (detached); wait for it or stop it before a reset")]
    StillRunning(String),
    /// The last attempt's supervisor was killed but its programs still run: a retry would start
    /// a second copy beside them.
    #[error(
        "step '{step}': the program of its last attempt is still running without its supervisor \
         (pid {}); stop it (kill -TERM -{group}) before running the step again",
        list(pids)
    )]
    Orphaned {
        /// Step id.
        step: String,
        /// Their process group (the dead supervisor's pid).
        group: u32,
        /// The programs still running.
        pids: Vec<u32>,
    },
    /// Saving failed. The change is kept in memory and saved again on the next change.
    #[error(
        "cannot save progress to {file}: {source}; the change is kept and saved again on the next change"
    )]
    Save {
        /// The file that could not be written.
        file: PathBuf,
        /// Why (read-only file system, no space left, ...).
        source: io::Error,
    },
    /// Any other file-system failure (with the path).
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

fn list(pids: &[u32]) -> String {
    pids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl StoreError {
    fn io(path: &Path, source: io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Writes a whole state file; replaceable so tests can simulate a full or read-only disk.
pub type Writer = fn(&Path, &[u8]) -> io::Result<()>;

/// What the store knows about the runbook it was opened with.
#[derive(Debug, Clone, Default)]
struct RunbookFacts {
    titles: BTreeMap<String, String>,
    /// Exit codes that mean success, per command step.
    expect: BTreeMap<String, Vec<i32>>,
    variables: BTreeSet<String>,
    secrets: BTreeSet<String>,
    /// Steps that reboot the machine on purpose (`reboot = true`).
    reboots: BTreeSet<String>,
}

/// One open run. Holds the run's lock for its lifetime, so only one fieldbook writes a run.
#[derive(Debug)]
pub struct Store {
    dir: StateDir,
    file: PathBuf,
    journal: PathBuf,
    run: Run,
    facts: RunbookFacts,
    who: String,
    /// Journal lines not yet written (a failed append is retried with the next change).
    unjournalled: Vec<String>,
    last_save_error: Option<String>,
    /// A save found the disk full (and fieldbook's reserve is spent): said in the status.
    disk_full: bool,
    reconciled: Vec<Reconciled>,
    /// Fingerprints of secret values seen this session (the values themselves are never
    /// kept), so re-saving an unchanged secret does not journal it again.
    secret_prints: BTreeMap<String, u64>,
    writer: Writer,
    _lock: File,
}

impl Store {
    /// The run as it stands (always the latest, saved or not).
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// The state directory this run lives in.
    pub fn state_dir(&self) -> &StateDir {
        &self.dir
    }

    /// The run's state file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The run's journal.
    pub fn journal_file(&self) -> &Path {
        &self.journal
    }

    /// Who this session records as the person working.
    pub fn who(&self) -> &str {
        &self.who
    }

    /// What opening the run found about steps left running (finished while we were away,
    /// still live, or interrupted); the TUI asks the technician about the interrupted ones.
    pub fn reconciled(&self) -> &[Reconciled] {
        &self.reconciled
    }

    /// `Some("last save failed: …")` while the latest change is only in memory; for the
    /// UI's status line. Cleared by the next successful save.
    pub fn save_problem(&self) -> Option<String> {
        match (&self.last_save_error, self.disk_full) {
            (Some(e), true) => Some(format!("disk full: last save failed: {e}")),
            (Some(e), false) => Some(format!("last save failed: {e}")),
            (None, true) => Some(
                "disk full: progress is saved (in fieldbook's reserve space); free some space"
                    .to_string(),
            ),
            (None, false) => None,
        }
    }

    #[cfg(test)]
    /// Writes the state (and any journal lines still pending) again, e.g. after the
    /// technician freed disk space.
    pub fn retry_save(&mut self) -> Result<(), StoreError> {
        self.flush()
    }

    #[cfg(test)]
    /// Replaces the state-file writer; for tests that simulate a full or read-only disk,
    /// which cannot be produced with permissions when tests run as root.
    pub fn set_writer(&mut self, writer: Writer) {
        self.writer = writer;
    }

    /// Records `event` now, then journals and saves. The in-memory change has already been
    /// made by the caller; on a failed save it stays, and is written by the next flush.
    fn commit(&mut self, event: Event) -> Result<(), StoreError> {
        let at = clock::now();
        self.run.updated = at.clone();
        let entry = Entry::new(at, self.who.clone(), event);
        match serde_json::to_string(&entry) {
            Ok(line) => self.unjournalled.push(line),
            Err(e) => {
                // Cannot happen for these plain types; never lose the state save over it.
                self.last_save_error = Some(format!("journal entry not encodable: {e}"));
            }
        }
        self.flush()
    }

    /// Appends pending journal lines, then writes the state file. On a full disk, fieldbook's
    /// reserve is given up and the save tried again at once, so the change is kept on disk,
    /// not only in memory; the status then says the disk is full until the reserve is back.
    fn flush(&mut self) -> Result<(), StoreError> {
        let base = self.dir.base();
        let mut result = self.write_out();
        if let Err(StoreError::Save { source, .. }) = &result
            && disk_space::is_full(source)
        {
            self.disk_full = true;
            if disk_space::release_reserve(&base) {
                result = self.write_out();
            }
        }
        // The status says "disk full" until the reserve is back (whoever gave it up) and
        // there is room besides.
        if result.is_ok() {
            self.disk_full = !disk_space::ensure_reserve(&base) || disk_space::no_space_at(&base);
        }
        match result {
            Ok(()) => {
                self.last_save_error = None;
                Ok(())
            }
            Err(e) => {
                self.last_save_error = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Appends pending journal lines, then writes the state file. Both are attempted even if
    /// the first fails, because the state file matters most.
    fn write_out(&mut self) -> Result<(), StoreError> {
        let mut failure: Option<StoreError> = None;
        while let Some(line) = self.unjournalled.first() {
            match append_whole_line(&self.journal, line) {
                Ok(()) => {
                    self.unjournalled.remove(0);
                }
                Err(source) => {
                    failure = Some(StoreError::Save {
                        file: self.journal.clone(),
                        source,
                    });
                    break;
                }
            }
        }
        let saved = toml::to_string(&self.run)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
            .and_then(|text| (self.writer)(&self.file, text.as_bytes()));
        if let Err(source) = saved {
            failure = Some(StoreError::Save {
                file: self.file.clone(),
                source,
            });
        }
        failure.map_or(Ok(()), Err)
    }

    /// True if `value` differs from the last value seen for secret `name` (and remembers it).
    fn secret_changed(&mut self, name: &str, value: &str) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        value.hash(&mut h);
        let print = h.finish();
        self.secret_prints.insert(name.to_string(), print) != Some(print)
    }

    fn status_of(&self, step: &str) -> Status {
        self.run.status(step)
    }
}

/// Appends one journal line; if the write fails part-way (disk full), the file is cut back
/// to where it was so the retried line is not glued to a fragment.
fn append_whole_line(path: &Path, line: &str) -> io::Result<()> {
    let before = match std::fs::symlink_metadata(path) {
        Ok(m) => Some(m.len()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let result = atomic::append_line(path, line);
    if result.is_err()
        && let Some(len) = before
        && let Ok(f) = atomic::private_options().write(true).open(path)
    {
        let _ = f.set_len(len);
    }
    result
}

#[cfg(test)]
mod tests;
