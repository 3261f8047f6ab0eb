//! Edits of files on a host over ssh, by the same edit engine as local ones. The files an edit
//! step names are read from the host into a private local staging root (content, mode, links),
//! the engine previews and applies there (so the diff, the "already applied" test and the local
//! archive backup are exactly the local ones), and each changed file is then written back on
//! the host atomically: a temporary file in the same directory with the original's mode and
//! owner, then `mv`. A copy of the original is also kept under the remote dir, so someone on the
//! box can restore it without the laptop. The file is read back and compared.
//!
//! A file that changed on the host since the technician saw the preview is refused, with the
//! new diff. A failed write (disk full) removes the temporary file; the original is untouched.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::SshSession;
use crate::core::apply::{self, ApplyFailure, EditContext, EditError, Node, StepPreview};
use crate::core::edit;
use crate::core::edit_journal;
use crate::core::progress::AppliedEdit;
use crate::core::runbook::Edit;

mod node;
mod write;
pub use node::{RemoteNode, parse_mode, read};
use node::{link_err, parent_of};
pub use write::{read_dir_files, write};

/// Longest one read or write of a file may take.
const FILE_LIMIT: Duration = Duration::from_secs(120);

/// Symlink hops followed on the host while staging (as the kernel's limit).
const MAX_HOPS: usize = 40;

/// What the technician last saw of each remote file (by remote path), to refuse an apply when
/// the host's file changed since.
static PREVIEWED: Mutex<Option<HashMap<String, Node>>> = Mutex::new(None);

/// A private local directory mirroring the files an edit step names, removed on drop.
struct Staging {
    dir: PathBuf,
}

impl Staging {
    fn new() -> Result<Staging, EditError> {
        let base = std::env::temp_dir();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = base.join(format!(
            "{}{}.{stamp}",
            crate::core::edit_journal::STAGING_DIR_PREFIX,
            std::process::id()
        ));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|source| EditError::Io {
                path: dir.display().to_string(),
                doing: "creating a staging directory",
                source,
            })?;
        Ok(Staging { dir })
    }

    fn local(&self, remote_inside: &str) -> PathBuf {
        self.dir.join(remote_inside.trim_start_matches('/'))
    }

    fn put(&self, inside: &str, node: &Node, parent_exists: bool) -> Result<(), EditError> {
        let local = self.local(inside);
        let io = |source| EditError::Io {
            path: inside.to_string(),
            doing: "staging",
            source,
        };
        if let Some(parent) = local.parent()
            && (parent_exists || !matches!(node, Node::Missing))
        {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        match node {
            Node::Missing => {}
            Node::File { content, mode } => {
                std::fs::write(&local, content).map_err(io)?;
                std::fs::set_permissions(&local, std::fs::Permissions::from_mode(*mode))
                    .map_err(io)?;
            }
            Node::Link { target } => {
                let _ = std::fs::remove_file(&local);
                std::os::unix::fs::symlink(target, &local).map_err(io)?;
            }
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where a runbook path is on the host (under `--root` there).
fn on_host(root: Option<&Path>, inside: &str) -> String {
    match root {
        Some(r) => format!("{}{inside}", r.display().to_string().trim_end_matches('/')),
        None => inside.to_string(),
    }
}

/// Joins a link target to the directory of the link (inside the root).
fn link_destination(link: &str, target: &str) -> String {
    if target.starts_with('/') {
        target.to_string()
    } else {
        format!("{}/{target}", parent_of(link).trim_end_matches('/'))
    }
}

/// Copies every file the edits name (and the links they pass through) from the host.
fn stage(
    session: &SshSession,
    root: Option<&Path>,
    edits: &[Edit],
    values: &BTreeMap<String, String>,
) -> Result<(Staging, HashMap<String, RemoteNode>), EditError> {
    let staging = Staging::new()?;
    let mut seen: HashMap<String, RemoteNode> = HashMap::new();
    for raw in edits {
        crate::core::apply::check_values(raw, values)?;
        let e = edit::substituted(raw, values);
        if !e.path.starts_with('/') {
            return Err(EditError::NotAbsolute(e.path));
        }
        if e.path.split('/').any(|c| c == "..") {
            return Err(EditError::Escapes(e.path));
        }
        let mut inside = e.path.clone();
        for _ in 0..MAX_HOPS {
            if seen.contains_key(&inside) {
                break;
            }
            let node = read(session, &on_host(root, &inside))?;
            staging.put(&inside, &node.node, node.parent_exists)?;
            let next = match &node.node {
                Node::Link { target } => Some(link_destination(&inside, target)),
                _ => None,
            };
            seen.insert(inside.clone(), node);
            match next {
                Some(n) if !n.split('/').any(|c| c == "..") => inside = n,
                _ => break,
            }
        }
    }
    Ok((staging, seen))
}

/// The staging root's path back to the runbook's path.
fn inside_of(staging: &Staging, real: &Path) -> String {
    format!(
        "/{}",
        real.strip_prefix(&staging.dir)
            .unwrap_or(real)
            .display()
            .to_string()
            .trim_start_matches('/')
    )
}

/// Previews the edits on the host's files (and remembers what was shown).
pub fn preview(
    session: &SshSession,
    root: Option<&Path>,
    edits: &[Edit],
    ctx: &EditContext<'_>,
) -> Result<StepPreview, EditError> {
    let (staging, _) = stage(session, root, edits, ctx.values)?;
    let staged = EditContext {
        root: Some(&staging.dir),
        ..ctx.clone()
    };
    let mut p = apply::preview(edits, &staged)?;
    if let Ok(mut shown) = PREVIEWED.lock() {
        let map = shown.get_or_insert_with(HashMap::new);
        for c in &p.changes {
            map.insert(on_host(root, &c.path), c.before.clone());
        }
    }
    for c in &mut p.changes {
        c.real = PathBuf::from(on_host(root, &inside_of(&staging, &c.real)));
    }
    Ok(p)
}

/// Applies the edits on the host: refused when a file changed since its preview (with the new
/// diff), else backed up here and on the host, written atomically, read back and compared.
pub fn apply(
    session: &SshSession,
    root: Option<&Path>,
    step: &str,
    edits: &[Edit],
    ctx: &EditContext<'_>,
    at: &str,
) -> Result<Vec<AppliedEdit>, ApplyFailure> {
    let fail = |error| ApplyFailure {
        applied: Vec::new(),
        error,
    };
    let (staging, nodes) = stage(session, root, edits, ctx.values).map_err(fail)?;
    let staged = EditContext {
        root: Some(&staging.dir),
        ..ctx.clone()
    };
    let p = apply::preview(edits, &staged).map_err(fail)?;
    unchanged_since_preview(session, root, &p).map_err(fail)?;
    let local = apply::apply(step, &p, &staged, at).map_err(|f| ApplyFailure {
        // Nothing reached the host: only the staging copy was written.
        applied: Vec::new(),
        error: f.error,
    })?;

    let mut applied = Vec::new();
    for mut a in local {
        let inside = inside_of(&staging, Path::new(&a.path));
        let host_path = on_host(root, &inside);
        let Some(change) = p.changes.iter().find(|c| c.path == inside) else {
            continue;
        };
        let owner = nodes.get(&inside).and_then(|n| n.owner);
        let archive = a
            .backup
            .as_deref()
            .map(|b| format!("{}/{}", session.remote_dir(), b));
        // The host's file gets its own intent before it is replaced and an outcome after, so a
        // kill in between is settled by the host's file when the run is next opened.
        if let Some(backup) = &a.backup {
            let intent = edit_journal::Intent {
                backup: backup.clone(),
                step: step.to_string(),
                path: host_path.clone(),
                at: at.to_string(),
                hash_before: change.before.hash(),
                hash_after: change.after.hash(),
                host: Some(session.destination().to_string()),
            };
            if let Err(error) = journal_intent(ctx, &intent) {
                return Err(ApplyFailure { applied, error });
            }
        }
        if let Err(error) = write(
            session,
            &host_path,
            &change.after,
            owner,
            archive.as_deref(),
        ) {
            return Err(ApplyFailure { applied, error });
        }
        if let Some(backup) = &a.backup {
            let _ = edit_journal::record_outcome(ctx.state_dir, ctx.archive, backup, "applied");
        }
        if let Ok(mut m) = PREVIEWED.lock()
            && let Some(map) = m.as_mut()
        {
            map.remove(&host_path);
        }
        a.path = host_path;
        applied.push(a);
    }
    Ok(applied)
}

/// A file that changed on the host since the technician saw its preview is refused, with the
/// diff the edit would make now.
fn unchanged_since_preview(
    session: &SshSession,
    root: Option<&Path>,
    p: &StepPreview,
) -> Result<(), EditError> {
    let shown = PREVIEWED
        .lock()
        .ok()
        .and_then(|m| m.clone())
        .unwrap_or_default();
    for c in &p.changes {
        let host_path = on_host(root, &c.path);
        if let Some(before) = shown.get(&host_path)
            && *before != c.before
        {
            return Err(EditError::Io {
                path: c.path.clone(),
                doing: "applying",
                source: std::io::Error::other(format!(
                    "{} changed on {} since the preview; nothing was written. The new \
                     changes would be:\n{}",
                    c.path,
                    session.destination(),
                    c.diff()
                )),
            });
        }
    }
    Ok(())
}

/// The host file's edit intent, journalled (and synced) before the file is replaced.
fn journal_intent(ctx: &EditContext<'_>, intent: &edit_journal::Intent) -> Result<(), EditError> {
    edit_journal::record_intent(ctx.state_dir, ctx.archive, intent).map_err(|source| {
        EditError::Io {
            path: intent.path.clone(),
            doing: "journalling the edit",
            source,
        }
    })
}

/// What undo would do to a file on the host.
pub fn undo_preview(
    session: &SshSession,
    applied: &AppliedEdit,
    state_dir: &Path,
) -> Result<apply::UndoPreview, EditError> {
    let source = apply::undo_source(applied, state_dir)?;
    let now = read(session, &applied.path)?;
    Ok(source.preview(&now.node))
}

/// Puts the original back on the host, the same atomic way.
pub fn undo(
    session: &SshSession,
    applied: &AppliedEdit,
    state_dir: &Path,
    force: bool,
) -> Result<(), EditError> {
    let source = apply::undo_source(applied, state_dir)?;
    let now = read(session, &applied.path)?;
    if !force && !source.matches(&now.node) {
        return Err(EditError::ChangedSinceApply(source.shown.clone()));
    }
    write(
        session,
        &applied.path,
        &source.original,
        // The archive recorded the staging copy's owner; the host's file knows its own.
        now.owner,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_modes_read_back_as_bits() {
        assert_eq!(parse_mode("-rw-r-----"), Some(0o640));
        assert_eq!(parse_mode("-rwsr-xr-x"), Some(0o4755));
        assert_eq!(parse_mode("-rwSr-Sr-T."), Some(0o7644));
        assert_eq!(parse_mode("drwxrwxrwt"), Some(0o1777));
        assert_eq!(parse_mode("-rw-r--r--+"), Some(0o644));
        assert_eq!(parse_mode("short"), None);
        assert_eq!(parse_mode("-rwqr--r--"), None);
    }

    #[test]
    fn paths_on_the_host_and_link_targets() {
        assert_eq!(on_host(None, "/etc/x"), "/etc/x");
        assert_eq!(
            on_host(Some(Path::new("/mnt/g/")), "/etc/x"),
            "/mnt/g/etc/x"
        );
        assert_eq!(link_destination("/etc/a", "b"), "/etc/b");
        assert_eq!(link_destination("/etc/a", "/usr/b"), "/usr/b");
        assert_eq!(parent_of("/x"), "/");
    }
}
