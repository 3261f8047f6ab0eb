//! Putting a run away (`fieldbook reset`): its state file, journal, logs and any corrupt
//! copies move into `archive/runs/<runbook>@<target>-<stamp>/`. Nothing is deleted.

use std::path::{Path, PathBuf};

use super::StoreError;
use super::open::{corrupt_copies, lock_run};
use crate::core::atomic;
use crate::core::clock;
use crate::core::host;
use crate::core::journal::{Entry, Event};
use crate::core::progress::Status;
use crate::core::state_dir::{self, StateDir};

/// Archives the run of `runbook` on `target` and returns the archive directory. Refused while
/// another fieldbook has the run open, or while a step runs detached under a live supervisor
/// (its log is still being written). A run whose state file is unreadable is archived too.
pub fn archive_run(dir: &StateDir, runbook: &str, target: &str) -> Result<PathBuf, StoreError> {
    let file = dir.run_file(runbook, target);
    let journal = dir.journal_file(runbook, target);
    let logs = dir.logs_dir(runbook, target);
    let corrupt = corrupt_copies(&file);
    if !file.exists() && !journal.exists() && corrupt.is_empty() {
        return Err(StoreError::NoRun {
            runbook: runbook.to_string(),
            target: target.to_string(),
            dir: dir.base(),
        });
    }
    let _lock = lock_run(&dir.lock_file(runbook, target))?;
    if let Ok(run) = state_dir::read_run(&file) {
        for (id, st) in &run.steps {
            let live = st.status == Status::Running
                && st.attempts.last().is_some_and(crate::core::exec::is_alive);
            if live {
                return Err(StoreError::StillRunning(id.clone()));
            }
        }
    }
    let base_name = name(runbook, target);
    let mut dest = dir.archive_dir().join(&base_name);
    let mut n = 1;
    while dest.exists() {
        dest = dir.archive_dir().join(format!("{base_name}-{n}"));
        n += 1;
    }
    atomic::create_private_dir(&dest).map_err(|e| StoreError::io(&dest, e))?;
    let rel = dest
        .strip_prefix(dir.base())
        .unwrap_or(&dest)
        .display()
        .to_string();
    if journal.exists() {
        let entry = Entry::new(clock::now(), host::who(), Event::Archived { to: rel });
        if let Ok(line) = serde_json::to_string(&entry) {
            atomic::append_line(&journal, &line).map_err(|e| StoreError::io(&journal, e))?;
        }
    }
    let mut moves: Vec<PathBuf> = vec![file, journal, logs];
    moves.extend(corrupt);
    for from in moves.iter().filter(|p| p.exists()) {
        move_into(from, &dest)?;
    }
    for parent in [dir.runs_dir(), dir.base().join("logs"), dest.clone()] {
        let _ = atomic::sync_dir(&parent);
    }
    Ok(dest)
}

fn move_into(from: &Path, dest: &Path) -> Result<(), StoreError> {
    let Some(name) = from.file_name() else {
        return Ok(());
    };
    std::fs::rename(from, dest.join(name)).map_err(|e| StoreError::io(from, e))
}

/// Names the archive directory of a run: `<runbook>@<target>-<stamp>`.
pub(super) fn name(runbook: &str, target: &str) -> String {
    format!(
        "{}-{}",
        state_dir::run_key(runbook, target),
        clock::file_stamp(clock::now_unix())
    )
}
