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
use super::machine::SshSession;
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
    /// The host (`[USER@]HOST` of `--host`) whose file this is, when it is not this machine's:
    /// the intent is settled by the host's file, read over ssh when the run is next opened
    /// with that `--host` (never from a local copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// One line of the edit journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Line {
    Intent(Intent),
    Outcome { backup: String, outcome: String },
}

/// The name a staging directory of a host's edit starts with (under the temp directory): the
/// host's files are copied there, edited by the engine, then written back to the host.
pub const STAGING_DIR_PREFIX: &str = "fieldbook-stage.";

/// True when `path` is a staging copy of a host's file: its intent says nothing about the
/// host's file (a kill may have come before the copy went back), so it is never settled from
/// the local copy; the host's own intent (with [`Intent::host`]) is.
fn is_staged(path: &str) -> bool {
    Path::new(path).components().any(|c| {
        c.as_os_str()
            .to_str()
            .is_some_and(|name| name.starts_with(STAGING_DIR_PREFIX))
    })
}

/// What the intent's file holds now: on this machine, or on its host when `host` is a session
/// to that host (`None` otherwise: it cannot be told from here).
fn current_node(
    intent: &Intent,
    meta: &apply::BackupMeta,
    host: Option<&SshSession>,
) -> Option<apply::Node> {
    let Some(name) = &intent.host else {
        return apply::current_node(meta);
    };
    let session = host.filter(|s| s.destination() == name)?;
    super::machine::remote_files::read(session, &intent.path)
        .ok()
        .map(|r| r.node)
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
/// stays in the archive). A host's edit is settled only through `host`, a session to it.
pub fn recover(
    state_dir: &Path,
    archive: &Path,
    recorded: &BTreeSet<String>,
    host: Option<&SshSession>,
) -> Vec<AppliedEdit> {
    settle(state_dir, archive, recorded, host, true)
}

/// The edits [`recover`] would record, found the same way but writing nothing: for `status`
/// and `report`, which only look, so they show an edit a kill left unrecorded before the run
/// is next opened. A host's edits are not looked at (they open no connection).
pub fn unrecorded(
    state_dir: &Path,
    archive: &Path,
    recorded: &BTreeSet<String>,
) -> Vec<AppliedEdit> {
    settle(state_dir, archive, recorded, None, false)
}

fn settle(
    state_dir: &Path,
    archive: &Path,
    recorded: &BTreeSet<String>,
    host: Option<&SshSession>,
    write: bool,
) -> Vec<AppliedEdit> {
    let (intents, ended) = read(state_dir, archive);
    let mut found = Vec::new();
    for intent in intents {
        if recorded.contains(&intent.backup) || is_staged(&intent.path) {
            continue;
        }
        let Ok((meta, original)) =
            apply::load_backup(Some(&intent.backup), &intent.path, state_dir)
        else {
            continue;
        };
        let Some(now) = current_node(&intent, &meta, host) else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::apply::EditContext;
    use crate::core::runbook::{Edit, EditAction};
    use std::collections::BTreeMap;

    /// Edits a file under `root` and never records it (a kill before the run saved it); what
    /// opening the run would then recover.
    fn recovered_after_a_kill(root: &Path, state: &Path) -> (usize, usize) {
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/x.conf"), "a=1\n").unwrap();
        let values = BTreeMap::new();
        let archive = PathBuf::from("archive/t");
        let ctx = EditContext {
            root: Some(root),
            state_dir: state,
            archive: &archive,
            values: &values,
            follow_symlinks: false,
        };
        let edit = Edit {
            path: "/etc/x.conf".into(),
            comment: "#".into(),
            create: false,
            mode: None,
            missing: None,
            action: EditAction::EnsureLine {
                line: "b=2".into(),
                replace: None,
            },
        };
        let applied = apply::apply_step("s", &[edit], &ctx, "t").unwrap();
        assert_eq!(applied.len(), 1);
        (
            unrecorded(state, &archive, &BTreeSet::new()).len(),
            recover(state, &archive, &BTreeSet::new(), None).len(),
        )
    }

    #[test]
    fn an_unrecorded_local_edit_is_recovered_but_a_hosts_staged_copy_never_is() {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        assert_eq!(
            recovered_after_a_kill(&tmp.path().join("root"), &state),
            (1, 1)
        );
        // The staged copy has the edit, but the host's file may never have been written: a
        // record from the copy would claim an edit that did not happen.
        let stage = tmp.path().join(format!("{STAGING_DIR_PREFIX}1.2"));
        let state = tmp.path().join("state2");
        std::fs::create_dir_all(&state).unwrap();
        assert_eq!(recovered_after_a_kill(&stage, &state), (0, 0));
    }
}
