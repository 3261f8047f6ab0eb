//! The record of an edit survives a kill at any moment: before the file is renamed into place,
//! its intent (backup, target, hashes before and after) is appended and synced to the run's
//! edit journal (`<archive>/intents.jsonl`, beside the backups), and its outcome after. When the
//! run is opened, an intent that the run does not record is settled by comparing the file's
//! hash now with the two it names ([`recover`]): applied (recorded as an edit, with its diff
//! and backup, so the report shows it and undo works), or not applied.
//!
//! Also here: the per-file lock that keeps two runbooks editing one file from losing an edit.

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::apply;
use super::atomic;
use super::progress::AppliedEdit;

/// An edit about to be made (journalled before the rename).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// The backup, relative to the state directory: the edit's identity.
    pub backup: String,
    /// The step making it.
    pub step: String,
    /// The real path of the file.
    pub path: String,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Content hash before (empty for a missing file).
    pub hash_before: String,
    /// Content hash after.
    pub hash_after: String,
}

/// One line of the edit journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Line {
    Intent(Intent),
    Outcome { backup: String, outcome: String },
}

/// The edit journal of a run's archive.
pub fn journal_path(state_dir: &Path, archive: &Path) -> PathBuf {
    state_dir.join(archive).join("intents.jsonl")
}

fn append(state_dir: &Path, archive: &Path, line: &Line) -> io::Result<()> {
    let path = journal_path(state_dir, archive);
    if let Some(dir) = path.parent() {
        atomic::create_private_dir(dir)?;
    }
    let text = serde_json::to_string(line).map_err(io::Error::other)?;
    atomic::append_line(&path, &text)
}

/// Journals (and syncs) an edit's intent; called after the backup is written and before the
/// file is replaced.
pub fn record_intent(state_dir: &Path, archive: &Path, intent: &Intent) -> io::Result<()> {
    append(state_dir, archive, &Line::Intent(intent.clone()))
}

/// Journals how an intent ended (`applied`, `not applied`, `recovered`).
pub fn record_outcome(
    state_dir: &Path,
    archive: &Path,
    backup: &str,
    outcome: &str,
) -> io::Result<()> {
    let line = Line::Outcome {
        backup: backup.to_string(),
        outcome: outcome.to_string(),
    };
    append(state_dir, archive, &line)
}

/// Takes the lock of one target file (blocking): `locks/<hash of its real path>.lock` in the
/// state directory, held until the returned file is dropped. Two fieldbooks editing the same
/// file take turns, and each reads the file again under the lock.
pub fn lock_target(state_dir: &Path, real: &Path) -> io::Result<File> {
    let dir = state_dir.join("locks");
    atomic::create_private_dir(&dir)?;
    let digest = Sha256::digest(real.as_os_str().as_encoded_bytes());
    let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let file = atomic::private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(format!("{name}.lock")))?;
    loop {
        // SAFETY: a valid descriptor; flock has no other preconditions.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(file);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Reads the intents of a run's edit journal and which of them have an outcome.
fn read(state_dir: &Path, archive: &Path) -> (Vec<Intent>, BTreeSet<String>) {
    let text = atomic::read_nofollow(&journal_path(state_dir, archive)).unwrap_or_default();
    let mut intents = Vec::new();
    let mut ended = BTreeSet::new();
    for line in String::from_utf8_lossy(&text).lines() {
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Intent(i)) => intents.push(i),
            Ok(Line::Outcome { backup, .. }) => {
                ended.insert(backup);
            }
            // A line cut by a kill: the intent it began was never acted on.
            Err(_) => {}
        }
    }
    (intents, ended)
}

/// Settles the intents the run does not record (`recorded`: the backups of its edits): an
/// edit whose file now has its "after" hash was made, and comes back as an [`AppliedEdit`] to
/// record; one whose file still has its "before" hash was not, and gets that outcome. A file
/// that has neither hash was changed since by someone else; it is left unrecorded (its backup
/// stays in the archive).
pub fn recover(state_dir: &Path, archive: &Path, recorded: &BTreeSet<String>) -> Vec<AppliedEdit> {
    settle(state_dir, archive, recorded, true)
}

/// The edits [`recover`] would record, found the same way but writing nothing: for `status`
/// and `report`, which only look, so they show an edit a kill left unrecorded before the run
/// is next opened.
pub fn unrecorded(
    state_dir: &Path,
    archive: &Path,
    recorded: &BTreeSet<String>,
) -> Vec<AppliedEdit> {
    settle(state_dir, archive, recorded, false)
}

fn settle(
    state_dir: &Path,
    archive: &Path,
    recorded: &BTreeSet<String>,
    write: bool,
) -> Vec<AppliedEdit> {
    let (intents, ended) = read(state_dir, archive);
    let mut found = Vec::new();
    for intent in intents {
        if recorded.contains(&intent.backup) {
            continue;
        }
        let Ok((meta, original)) =
            apply::load_backup(Some(&intent.backup), &intent.path, state_dir)
        else {
            continue;
        };
        let Some(now) = apply::current_node(&meta) else {
            continue;
        };
        let hash = now.hash();
        if hash == intent.hash_after {
            if write && !ended.contains(&intent.backup) {
                let _ = record_outcome(state_dir, archive, &intent.backup, "recovered");
            }
            found.push(AppliedEdit {
                step: intent.step.clone(),
                path: intent.path.clone(),
                at: intent.at.clone(),
                backup: Some(intent.backup.clone()),
                diff: apply::describe_change(&meta.shown, &original, &now),
                hash_before: intent.hash_before.clone(),
                hash_after: intent.hash_after.clone(),
                undone: false,
            });
        } else if write && hash == intent.hash_before && !ended.contains(&intent.backup) {
            let _ = record_outcome(state_dir, archive, &intent.backup, "not applied");
        }
    }
    found
}
