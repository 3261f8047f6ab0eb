//! Carrying edits out on the real files: paths resolved under `--root`, a backup into the run's
//! archive in the state directory, an atomic write that keeps mode and owner, and undo.
//!
//! One entry point serves every caller (`fieldbook exec`, the TUI): [`preview`] computes what a
//! step's edits would change (diffs, "already applied"), [`apply`] carries a preview out and
//! returns the [`AppliedEdit`]s for the journal, [`undo`] puts a file back from its backup.
//! Backups never go beside the edited file: a `mlocate.cron.bak` in /etc/cron.daily would be
//! run by cron, and a stray copy in a conf.d directory gets loaded by the daemon.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::atomic;
use super::edit::{self, TextEditError};
use super::progress::{AppliedEdit, Run};
use super::runbook::{Edit, EditAction};
use super::state_dir;

/// Files larger than this are refused: config files are small, and a huge one is more likely a
/// log or an image named by mistake.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Symlink hops allowed while resolving one path (as the kernel's ELOOP limit).
const MAX_LINK_HOPS: usize = 40;

/// Mode of a file the edit creates (the usual mode of a config file).
const NEW_FILE_MODE: u32 = 0o644;

/// Why an edit could not be previewed, applied or undone. Each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// Edit paths are absolute paths on the target system.
    #[error("{0}: the path must be absolute (start with /)")]
    NotAbsolute(String),
    /// `..` in an edit path could leave the root; runbooks name files directly.
    #[error("{0}: '..' is not allowed in an edit path")]
    Escapes(String),
    /// The file is a symbolic link and the caller has not confirmed following it.
    #[error("{path} is a symbolic link to {points_to}; confirm to edit the file it points to")]
    Symlink {
        /// The path as written in the runbook.
        path: String,
        /// Where the link points (as stored in the link).
        points_to: String,
    },
    /// A chain of links that never ends.
    #[error("{0}: too many levels of symbolic links")]
    TooManyLinks(String),
    /// The edit uses a variable that has no value yet (its form step is still to do, or a
    /// secret was not typed this session).
    #[error("{path}: the edit needs a value for '{name}'; fill in the runbook's form first")]
    NoValue {
        /// The path as written in the runbook.
        path: String,
        /// The variable.
        name: String,
    },
    /// The file does not exist and the edit may not create it.
    #[error("{0} does not exist (the edit creates a file only when it says create = true)")]
    Missing(String),
    /// The directory for a new file does not exist.
    #[error("{path}: the directory {dir} does not exist")]
    NoDirectory {
        /// The file.
        path: String,
        /// The missing directory.
        dir: String,
    },
    /// The user may not read or write the file.
    #[error("{path}: permission denied while {doing} (run as root, e.g. with sudo)")]
    Permission {
        /// The file.
        path: String,
        /// What was being done ("reading", "writing"...).
        doing: &'static str,
    },
    /// Not text: editing it line by line would corrupt it.
    #[error("{0} is a binary file (not UTF-8 text); refusing to edit it")]
    Binary(String),
    /// Too big to be a configuration file.
    #[error("{path} is {size} bytes, more than the {limit} bytes a config file may have; refusing")]
    TooBig {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A directory, device or fifo where a file was expected.
    #[error("{path} is a {kind}, not a regular file")]
    NotRegular {
        /// The path.
        path: String,
        /// What it is.
        kind: &'static str,
    },
    /// A symlink step would replace a real file.
    #[error("{0} exists and is not a symbolic link; refusing to replace it with a link")]
    NotALink(String),
    /// The text edit itself is invalid (bad key, broken marker block...).
    #[error("{path}: {source}")]
    Text {
        /// The file.
        path: String,
        /// What is wrong.
        source: TextEditError,
    },
    /// The file changed between the preview and the apply; the technician must look again.
    #[error("{0} changed since the preview; preview the step again")]
    ChangedSincePreview(String),
    /// Undo would overwrite changes made after the edit.
    #[error("{0} changed since the edit was applied; undo would lose those changes")]
    ChangedSinceApply(String),
    /// The archive entry recorded for this edit is missing or unreadable.
    #[error("the backup of {path} is missing or unreadable ({detail})")]
    NoBackup {
        /// The edited file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// Any other I/O failure.
    #[error("{path}: {doing}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What was being done.
        doing: &'static str,
        /// The error.
        source: io::Error,
    },
}

fn io_error(path: &Path, doing: &'static str) -> impl FnOnce(io::Error) -> EditError {
    let path = path.display().to_string();
    move |source| {
        if source.kind() == io::ErrorKind::PermissionDenied {
            EditError::Permission { path, doing }
        } else {
            EditError::Io {
                path,
                doing,
                source,
            }
        }
    }
}

/// What the caller supplies: where the files are, where backups go, and the run's values.
#[derive(Debug, Clone)]
pub struct EditContext<'a> {
    /// `--root DIR`: every edited path is resolved under it. `None` is the real `/`.
    pub root: Option<&'a Path>,
    /// The state directory; the archive lives inside it.
    pub state_dir: &'a Path,
    /// This run's archive directory, relative to `state_dir` (see [`archive_dir`]).
    pub archive: &'a Path,
    /// The run's variable values, substituted into the edits.
    pub values: &'a BTreeMap<String, String>,
    /// The technician confirmed editing through symbolic links.
    pub follow_symlinks: bool,
}

/// The archive directory of one run's edit backups, relative to the state directory's base:
/// `archive/edits/<runbook>@<target>/<started>/`. One folder per run, as dispatch-conf keeps
/// its archive, so backups of different runs never mix; names made safe by `core::state_dir`.
pub fn archive_dir(runbook: &str, target: &str, started: &str) -> PathBuf {
    let stamp: String = started
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    [
        "archive",
        "edits",
        &state_dir::run_key(runbook, target),
        &state_dir::file_safe(&stamp),
    ]
    .iter()
    .collect()
}

/// The archive directory of a run (see [`archive_dir`]).
pub fn archive_for(run: &Run) -> PathBuf {
    archive_dir(&run.runbook, &run.target, &run.started)
}

/// What is at a path, as far as an edit cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Node {
    /// Nothing there.
    Missing,
    /// A regular text file with its permission bits.
    File {
        /// The text.
        content: String,
        /// Permission bits (0o7777).
        mode: u32,
    },
    /// A symbolic link.
    Link {
        /// Where it points.
        target: String,
    },
}

impl Node {
    /// Content hash for the journal: SHA-256 of a file's bytes, of `symlink:TARGET` for a link,
    /// empty for nothing.
    pub fn hash(&self) -> String {
        match self {
            Node::Missing => String::new(),
            Node::File { content, .. } => sha256_hex(content.as_bytes()),
            Node::Link { target } => sha256_hex(format!("symlink:{target}").as_bytes()),
        }
    }

    fn text(&self) -> &str {
        match self {
            Node::File { content, .. } => content,
            _ => "",
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a step's edits do to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The path as the runbook names it (inside the root), for display.
    pub path: String,
    /// The real path on this machine (under `--root`).
    pub real: PathBuf,
    /// The file as it is now.
    pub before: Node,
    /// The file as the edits leave it.
    pub after: Node,
    /// Owner and group to keep.
    owner: Option<(u32, u32)>,
}

impl FileChange {
    /// True when the edits are already present in this file.
    pub fn is_noop(&self) -> bool {
        self.before == self.after
    }

    /// The change as a unified diff; mode and link changes as `diff --git`-style header lines.
    pub fn diff(&self) -> String {
        describe_change(&self.path, &self.before, &self.after)
    }
}

fn describe_change(path: &str, before: &Node, after: &Node) -> String {
    let mut out = String::new();
    match (before, after) {
        (Node::File { mode: m1, .. }, Node::File { mode: m2, .. }) if m1 != m2 => {
            out.push_str(&format!("mode {path}: {m1:04o} -> {m2:04o}\n"));
        }
        (Node::Missing, Node::File { mode, .. }) => {
            out.push_str(&format!("new file {path} (mode {mode:04o})\n"));
        }
        (Node::File { .. }, Node::Missing) => out.push_str(&format!("remove file {path}\n")),
        (Node::Missing, Node::Link { target }) => {
            out.push_str(&format!("new symlink {path} -> {target}\n"));
        }
        (Node::Link { target: a }, Node::Link { target: b }) if a != b => {
            out.push_str(&format!("symlink {path}: -> {a} becomes -> {b}\n"));
        }
        (Node::Link { target }, Node::Missing) => {
            out.push_str(&format!("remove symlink {path} -> {target}\n"));
        }
        _ => {}
    }
    out.push_str(&edit::unified_diff(path, before.text(), after.text()));
    out
}

/// Every file a step's edits touch, in the order first touched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepPreview {
    /// One entry per file (several edits of one file are combined).
    pub changes: Vec<FileChange>,
}

impl StepPreview {
    /// True when every edit is already present: the step can be offered as done.
    pub fn already_applied(&self) -> bool {
        self.changes.iter().all(FileChange::is_noop)
    }

    /// The diffs made safe to print on a terminal: control characters from the files (an ESC
    /// in a config file could drive the technician's terminal) are shown as `^[`-style text.
    pub fn diff_for_terminal(&self) -> String {
        printable_lines(&self.diff())
    }

    /// All diffs, file after file, for the preview pane.
    pub fn diff(&self) -> String {
        self.changes
            .iter()
            .filter(|c| !c.is_noop())
            .map(FileChange::diff)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Replaces control characters (other than newline and tab) with caret notation, so text
/// from a file can be printed without being interpreted by the terminal.
pub fn printable_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => out.push_str("^?"),
            c if ('\u{80}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("<U+{:04X}>", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Where a runbook path lands on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The real path (root joined with the resolved path inside it).
    pub real: PathBuf,
    /// The resolved path inside the root, `/`-rooted.
    pub inside: String,
    /// When the last component is a link that was not followed: where it points.
    pub link: Option<String>,
}

/// Resolves `path` (absolute, as on the target system) under `root` the way a chroot would:
/// intermediate symbolic links are followed, absolute link targets start again at `root`, and
/// `..` from a link never climbs above `root`. The last component is followed only when
/// `follow_last` is set; otherwise a link there is reported in [`Resolved::link`].
pub fn resolve(root: &Path, path: &str, follow_last: bool) -> Result<Resolved, EditError> {
    if !path.starts_with('/') {
        return Err(EditError::NotAbsolute(path.to_string()));
    }
    let mut pending: Vec<OsString> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(n) => pending.push(n.to_os_string()),
            Component::ParentDir => return Err(EditError::Escapes(path.to_string())),
            _ => {}
        }
    }
    pending.reverse(); // a stack: next component on top
    let mut inside: Vec<OsString> = Vec::new();
    let mut hops = 0;
    let mut link = None;
    while let Some(c) = pending.pop() {
        // `..` only comes from a link target here; like a chroot, it stops at the root.
        if c == ".." {
            inside.pop();
            continue;
        }
        let is_last = pending.is_empty();
        let mut candidate = root.to_path_buf();
        candidate.extend(&inside);
        candidate.push(&c);
        let target = match fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() => {
                fs::read_link(&candidate).map_err(io_error(&candidate, "reading the link"))?
            }
            _ => {
                inside.push(c);
                continue;
            }
        };
        if is_last && !follow_last {
            link = Some(target.display().to_string());
            inside.push(c);
            break;
        }
        hops += 1;
        if hops > MAX_LINK_HOPS {
            return Err(EditError::TooManyLinks(path.to_string()));
        }
        if target.is_absolute() {
            inside.clear();
        }
        let mut parts: Vec<OsString> = Vec::new();
        for tc in target.components() {
            match tc {
                Component::Normal(n) => parts.push(n.to_os_string()),
                Component::ParentDir => parts.push(OsString::from("..")),
                _ => {}
            }
        }
        for p in parts.into_iter().rev() {
            pending.push(p);
        }
    }
    let mut real = root.to_path_buf();
    real.extend(&inside);
    let inside_str = format!(
        "/{}",
        inside
            .iter()
            .map(|s| s.to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    );
    Ok(Resolved {
        real,
        inside: inside_str,
        link,
    })
}

/// Reads what is at `real` without following a final link.
fn read_node(real: &Path, shown: &str) -> Result<(Node, Option<(u32, u32)>), EditError> {
    let meta = match fs::symlink_metadata(real) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Node::Missing, None)),
        Err(e) => return Err(io_error(real, "reading")(e)),
    };
    let ft = meta.file_type();
    if ft.is_symlink() {
        let target = fs::read_link(real).map_err(io_error(real, "reading the link"))?;
        return Ok((
            Node::Link {
                target: target.display().to_string(),
            },
            Some((meta.uid(), meta.gid())),
        ));
    }
    if !ft.is_file() {
        let kind = if ft.is_dir() {
            "directory"
        } else {
            "special file"
        };
        return Err(EditError::NotRegular {
            path: shown.to_string(),
            kind,
        });
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(EditError::TooBig {
            path: shown.to_string(),
            size: meta.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    File::open(real)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(io_error(real, "reading"))?;
    if bytes.contains(&0) {
        return Err(EditError::Binary(shown.to_string()));
    }
    let content = String::from_utf8(bytes).map_err(|_| EditError::Binary(shown.to_string()))?;
    Ok((
        Node::File {
            content,
            mode: meta.mode() & 0o7777,
        },
        Some((meta.uid(), meta.gid())),
    ))
}

/// Computes what a step's edits would change, touching nothing. Edits of the same file are
/// combined in order, so "comment out this line, then add that one" previews as one diff.
pub fn preview(edits: &[Edit], ctx: &EditContext<'_>) -> Result<StepPreview, EditError> {
    preview_inner(edits, ctx, false).map(|(p, _)| p)
}

/// Practice mode's preview: a trainee walks the runbook on a machine that is not the target,
/// so a file this machine does not have is previewed as an empty one instead of stopping the
/// step. Returns the preview and the paths that were stood in for, to say so on screen.
/// Nothing is ever written from it.
pub fn preview_practice(
    edits: &[Edit],
    ctx: &EditContext<'_>,
) -> Result<(StepPreview, Vec<String>), EditError> {
    preview_inner(edits, ctx, true)
}

fn preview_inner(
    edits: &[Edit],
    ctx: &EditContext<'_>,
    missing_as_empty: bool,
) -> Result<(StepPreview, Vec<String>), EditError> {
    let root = ctx.root.unwrap_or(Path::new("/"));
    let mut stood_in = Vec::new();
    let mut changes: Vec<FileChange> = Vec::new();
    for raw in edits {
        if let Some(name) = edit::missing_value(raw, ctx.values) {
            return Err(EditError::NoValue {
                path: raw.path.clone(),
                name,
            });
        }
        let e = edit::substituted(raw, ctx.values);
        let is_link_action = matches!(e.action, EditAction::Symlink { .. });
        let mut resolved = resolve(root, &e.path, false)?;
        if let Some(points_to) = resolved.link.take()
            && !is_link_action
        {
            if !ctx.follow_symlinks {
                return Err(EditError::Symlink {
                    path: e.path.clone(),
                    points_to,
                });
            }
            resolved = resolve(root, &e.path, true)?;
        }
        let idx = match changes.iter().position(|c| c.real == resolved.real) {
            Some(i) => i,
            None => {
                let (mut node, owner) = read_node(&resolved.real, &resolved.inside)?;
                if missing_as_empty && node == Node::Missing && !is_link_action {
                    node = Node::File {
                        content: String::new(),
                        mode: NEW_FILE_MODE,
                    };
                    stood_in.push(resolved.inside.clone());
                }
                changes.push(FileChange {
                    path: resolved.inside.clone(),
                    real: resolved.real.clone(),
                    before: node.clone(),
                    after: node,
                    owner,
                });
                changes.len() - 1
            }
        };
        let change = &mut changes[idx];
        change.after = next_node(&change.after, &e, &change.path)?;
    }
    Ok((StepPreview { changes }, stood_in))
}

/// One edit's effect on the modelled state of a path.
fn next_node(node: &Node, e: &Edit, shown: &str) -> Result<Node, EditError> {
    let text_err = |source| EditError::Text {
        path: shown.to_string(),
        source,
    };
    match (&e.action, node) {
        (EditAction::Symlink { target }, Node::Missing | Node::Link { .. }) => Ok(Node::Link {
            target: target.clone(),
        }),
        (EditAction::Symlink { .. }, _) => Err(EditError::NotALink(shown.to_string())),
        (EditAction::Chmod { executable }, Node::File { content, mode }) => Ok(Node::File {
            content: content.clone(),
            mode: edit::chmod_mode(*mode, *executable),
        }),
        (_, Node::Link { target }) => Err(EditError::Symlink {
            path: shown.to_string(),
            points_to: target.clone(),
        }),
        (EditAction::Chmod { .. }, Node::Missing) => Err(EditError::Missing(shown.to_string())),
        (action, Node::Missing) => {
            if !e.create {
                return Err(EditError::Missing(shown.to_string()));
            }
            let content = edit::edit_text("", action, &e.comment).map_err(text_err)?;
            if content.is_empty() {
                // Nothing to add: a missing file stays missing rather than becoming empty.
                Ok(Node::Missing)
            } else {
                Ok(Node::File {
                    content,
                    mode: NEW_FILE_MODE,
                })
            }
        }
        (action, Node::File { content, mode }) => Ok(Node::File {
            content: edit::edit_text(content, action, &e.comment).map_err(text_err)?,
            mode: *mode,
        }),
    }
}

/// What the archive keeps about one applied change besides the content copy, so undo can put
/// back a mode, a link or a file that did not exist.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BackupMeta {
    /// Real path edited.
    path: String,
    /// Path inside the root.
    shown: String,
    /// Before, without content (the content is the backup file itself).
    before: Shape,
    /// After, without content.
    after: Shape,
    /// Content hash after, to detect later changes.
    hash_after: String,
    /// Owner and group of the original.
    owner: Option<(u32, u32)>,
}

/// A [`Node`] without its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Shape {
    Missing,
    File { mode: u32 },
    Link { target: String },
}

impl From<&Node> for Shape {
    fn from(n: &Node) -> Shape {
        match n {
            Node::Missing => Shape::Missing,
            Node::File { mode, .. } => Shape::File { mode: *mode },
            Node::Link { target } => Shape::Link {
                target: target.clone(),
            },
        }
    }
}

/// A failure part-way through a step: the files changed before it are listed so they are
/// journalled and can be undone; the failing file itself was left untouched.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct ApplyFailure {
    /// Edits that were applied before the failure.
    pub applied: Vec<AppliedEdit>,
    /// What failed.
    pub error: EditError,
}

/// Carries out a preview: for each changed file, checks it is still as previewed, copies it into
/// the run's archive, then replaces it atomically keeping mode and owner. `at` is the time
/// recorded (RFC 3339 UTC). Files already as wanted are skipped and not journalled.
pub fn apply(
    step: &str,
    preview: &StepPreview,
    ctx: &EditContext<'_>,
    at: &str,
) -> Result<Vec<AppliedEdit>, ApplyFailure> {
    let mut applied = Vec::new();
    for change in preview.changes.iter().filter(|c| !c.is_noop()) {
        match apply_change(step, change, ctx, at) {
            Ok(a) => applied.push(a),
            Err(error) => return Err(ApplyFailure { applied, error }),
        }
    }
    Ok(applied)
}

/// Preview and apply in one call, for callers that showed the diff already or need none.
pub fn apply_step(
    step: &str,
    edits: &[Edit],
    ctx: &EditContext<'_>,
    at: &str,
) -> Result<Vec<AppliedEdit>, ApplyFailure> {
    let p = preview(edits, ctx).map_err(|error| ApplyFailure {
        applied: Vec::new(),
        error,
    })?;
    apply(step, &p, ctx, at)
}

fn apply_change(
    step: &str,
    change: &FileChange,
    ctx: &EditContext<'_>,
    at: &str,
) -> Result<AppliedEdit, EditError> {
    let (now, _) = read_node(&change.real, &change.path)?;
    if now != change.before {
        return Err(EditError::ChangedSincePreview(change.path.clone()));
    }
    if matches!(change.before, Node::Missing)
        && let Some(dir) = change.real.parent()
        && !dir.is_dir()
    {
        return Err(EditError::NoDirectory {
            path: change.path.clone(),
            dir: dir.display().to_string(),
        });
    }
    let backup_rel = write_backup(change, ctx)?;
    match &change.after {
        Node::File { content, mode } => {
            let content_same =
                matches!(&change.before, Node::File { content: c, .. } if c == content);
            if content_same {
                fs::set_permissions(&change.real, fs::Permissions::from_mode(*mode))
                    .map_err(io_error(&change.real, "changing the mode"))?;
            } else {
                write_atomic(&change.real, content.as_bytes(), *mode, change.owner)?;
            }
        }
        Node::Link { target } => replace_with_link(&change.real, target)?,
        Node::Missing => remove_path(&change.real)?,
    }
    Ok(AppliedEdit {
        step: step.to_string(),
        path: change.real.display().to_string(),
        at: at.to_string(),
        backup: Some(backup_rel.display().to_string()),
        diff: change.diff(),
        hash_before: change.before.hash(),
        hash_after: change.after.hash(),
        undone: false,
    })
}

/// Copies the original into the archive (content file plus a `.json` description), both
/// written atomically. Returns the content file's path relative to the state directory.
fn write_backup(change: &FileChange, ctx: &EditContext<'_>) -> Result<PathBuf, EditError> {
    let rel_file = change.path.trim_start_matches('/');
    let dir_rel = ctx.archive.join(rel_file);
    let base = ctx.state_dir.join(&dir_rel);
    let parent = base.parent().unwrap_or(ctx.state_dir).to_path_buf();
    atomic::create_private_dir(&parent).map_err(io_error(&parent, "creating the archive"))?;
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_string());
    // dispatch-conf numbering: rc,1 rc,2 … so a file edited twice in a run keeps both.
    let mut n = 1;
    let (content_path, rel) = loop {
        let candidate = parent.join(format!("{name},{n}"));
        let meta = parent.join(format!("{name},{n}.json"));
        if !candidate.exists() && !meta.exists() {
            let rel = dir_rel.with_file_name(format!("{name},{n}"));
            break (candidate, rel);
        }
        n += 1;
    };
    if let Node::File { content, .. } = &change.before {
        // Backups may hold secrets (snmp communities): private to the owner.
        atomic::write_atomic(&content_path, content.as_bytes())
            .map_err(io_error(&content_path, "writing the backup"))?;
    }
    let meta = BackupMeta {
        path: change.real.display().to_string(),
        shown: change.path.clone(),
        before: Shape::from(&change.before),
        after: Shape::from(&change.after),
        hash_after: change.after.hash(),
        owner: change.owner,
    };
    let json = serde_json::to_vec_pretty(&meta).map_err(|e| EditError::Io {
        path: content_path.display().to_string(),
        doing: "describing the backup",
        source: io::Error::other(e),
    })?;
    let meta_path = parent.join(format!("{name},{n}.json"));
    atomic::write_atomic(&meta_path, &json).map_err(io_error(&meta_path, "writing the backup"))?;
    Ok(rel)
}

/// The temporary name beside `path`. A leading dot keeps it out of shell globs, so run-parts
/// and `conf.d/*` loaders never pick up a half-written temp file left by a crash.
fn temp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.fieldbook-tmp"))
}

/// Writes `bytes` to a temporary file in the same directory, gives it `mode` and `owner`, syncs
/// it, renames it over `path` and syncs the directory: a crash leaves the old file or the new
/// one, never a mix.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), EditError> {
    let tmp = temp_name(path);
    // A leftover from a killed run has our name and no other owner: remove it.
    let _ = fs::remove_file(&tmp);
    let result = (|| -> Result<(), EditError> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_error(path, "writing"))?;
        if let Some((uid, gid)) = owner {
            let meta = f.metadata().map_err(io_error(path, "writing"))?;
            if meta.uid() != uid || meta.gid() != gid {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid))
                    .map_err(io_error(path, "keeping the owner"))?;
            }
        }
        // After chown, which clears set-id bits.
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io_error(path, "keeping the mode"))?;
        f.write_all(bytes).map_err(io_error(path, "writing"))?;
        f.sync_all().map_err(io_error(path, "syncing"))?;
        fs::rename(&tmp, path).map_err(io_error(path, "replacing"))?;
        sync_dir(path);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = File::open(dir)
    {
        // Best effort: some file systems refuse fsync on a directory.
        let _ = d.sync_all();
    }
}

fn replace_with_link(path: &Path, target: &str) -> Result<(), EditError> {
    let tmp = temp_name(path);
    let _ = fs::remove_file(&tmp);
    symlink(target, &tmp).map_err(io_error(path, "creating the link"))?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(path, "creating the link")(e));
    }
    sync_dir(path);
    Ok(())
}

fn remove_path(path: &Path) -> Result<(), EditError> {
    match fs::remove_file(path) {
        Ok(()) => {
            sync_dir(path);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, "removing")(e)),
    }
}

/// What undoing an edit would do, read from the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoPreview {
    /// The reverse diff (current file → backup).
    pub diff: String,
    /// The file changed since the edit (undo would lose those changes).
    pub changed_since: bool,
}

fn load_backup(applied: &AppliedEdit, state_dir: &Path) -> Result<(BackupMeta, Node), EditError> {
    let no_backup = |detail: String| EditError::NoBackup {
        path: applied.path.clone(),
        detail,
    };
    let rel = applied
        .backup
        .as_deref()
        .ok_or_else(|| no_backup("none was recorded".into()))?;
    let content_path = state_dir.join(rel);
    let meta_path = PathBuf::from(format!("{}.json", content_path.display()));
    let json =
        fs::read(&meta_path).map_err(|e| no_backup(format!("{}: {e}", meta_path.display())))?;
    let meta: BackupMeta = serde_json::from_slice(&json)
        .map_err(|e| no_backup(format!("{}: {e}", meta_path.display())))?;
    let node = match &meta.before {
        Shape::Missing => Node::Missing,
        Shape::Link { target } => Node::Link {
            target: target.clone(),
        },
        Shape::File { mode } => {
            let bytes = fs::read(&content_path)
                .map_err(|e| no_backup(format!("{}: {e}", content_path.display())))?;
            let content = String::from_utf8(bytes)
                .map_err(|_| no_backup(format!("{} is not text", content_path.display())))?;
            Node::File {
                content,
                mode: *mode,
            }
        }
    };
    Ok((meta, node))
}

fn current_matches(meta: &BackupMeta, now: &Node) -> bool {
    Shape::from(now) == meta.after && now.hash() == meta.hash_after
}

/// Shows what [`undo`] would do: the reverse diff, and whether the file changed since.
pub fn undo_preview(applied: &AppliedEdit, state_dir: &Path) -> Result<UndoPreview, EditError> {
    let (meta, original) = load_backup(applied, state_dir)?;
    let (now, _) = read_node(Path::new(&meta.path), &meta.shown)?;
    Ok(UndoPreview {
        diff: describe_change(&meta.shown, &now, &original),
        changed_since: !current_matches(&meta, &now),
    })
}

/// Puts the file back as it was before `applied`, from the archive. Refuses when the file was
/// changed after the edit unless `force` is set (the technician saw the diff and confirmed).
pub fn undo(applied: &AppliedEdit, state_dir: &Path, force: bool) -> Result<(), EditError> {
    let (meta, original) = load_backup(applied, state_dir)?;
    let real = PathBuf::from(&meta.path);
    let (now, owner_now) = read_node(&real, &meta.shown)?;
    if !force && !current_matches(&meta, &now) {
        return Err(EditError::ChangedSinceApply(meta.shown.clone()));
    }
    match &original {
        Node::File { content, mode } => {
            write_atomic(&real, content.as_bytes(), *mode, meta.owner.or(owner_now))
        }
        Node::Link { target } => replace_with_link(&real, target),
        Node::Missing => remove_path(&real),
    }
}

/// Where edits happen on this machine: the `--root` and the state directory. Built once by the
/// app or by `fieldbook exec`; every edit step goes through it, so both callers preview, apply
/// and undo the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditSite {
    /// `--root DIR`, or `None` for the real `/`.
    pub root: Option<PathBuf>,
    /// The state directory's base (practice runs never apply edits).
    pub state_dir: PathBuf,
}

impl EditSite {
    /// The values an edit of `run` is filled with: the run's values plus the secrets typed
    /// this session (which are never stored in the run).
    pub fn values(run: &Run, secrets: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut v = run.values.clone();
        v.extend(secrets.iter().map(|(k, x)| (k.clone(), x.clone())));
        v
    }

    /// What a step's edits would change, touching nothing.
    pub fn preview(
        &self,
        run: &Run,
        edits: &[Edit],
        secrets: &BTreeMap<String, String>,
        follow_symlinks: bool,
    ) -> Result<StepPreview, EditError> {
        let values = Self::values(run, secrets);
        let archive = archive_for(run);
        let ctx = self.context(&values, &archive, follow_symlinks);
        preview(edits, &ctx)
    }

    /// [`preview_practice`] for a run: what the edits would look like on the target, with the
    /// files this machine lacks stood in for by empty ones.
    pub fn preview_practice(
        &self,
        run: &Run,
        edits: &[Edit],
        secrets: &BTreeMap<String, String>,
        follow_symlinks: bool,
    ) -> Result<(StepPreview, Vec<String>), EditError> {
        let values = Self::values(run, secrets);
        let archive = archive_for(run);
        let ctx = self.context(&values, &archive, follow_symlinks);
        preview_practice(edits, &ctx)
    }

    /// Previews and applies a step's edits; the journal entries come back even when a later
    /// file fails.
    pub fn apply(
        &self,
        run: &Run,
        step: &str,
        edits: &[Edit],
        secrets: &BTreeMap<String, String>,
        follow_symlinks: bool,
        at: &str,
    ) -> Result<Vec<AppliedEdit>, ApplyFailure> {
        let values = Self::values(run, secrets);
        let archive = archive_for(run);
        let ctx = self.context(&values, &archive, follow_symlinks);
        let machine = super::machine::current();
        if let Some(session) = machine.ssh() {
            return super::machine::remote_files::apply(
                session,
                self.root.as_deref(),
                step,
                edits,
                &ctx,
                at,
            );
        }
        apply_step(step, edits, &ctx, at)
    }

    /// The reverse diff of an applied edit.
    pub fn undo_preview(&self, applied: &AppliedEdit) -> Result<UndoPreview, EditError> {
        let machine = super::machine::current();
        if let Some(session) = machine.ssh() {
            return super::machine::remote_files::undo_preview(session, applied, &self.state_dir);
        }
        undo_preview(applied, &self.state_dir)
    }

    /// Restores an applied edit from its backup.
    pub fn undo(&self, applied: &AppliedEdit, force: bool) -> Result<(), EditError> {
        let machine = super::machine::current();
        if let Some(session) = machine.ssh() {
            return super::machine::remote_files::undo(session, applied, &self.state_dir, force);
        }
        undo(applied, &self.state_dir, force)
    }

    fn context<'a>(
        &'a self,
        values: &'a BTreeMap<String, String>,
        archive: &'a Path,
        follow_symlinks: bool,
    ) -> EditContext<'a> {
        EditContext {
            root: self.root.as_deref(),
            state_dir: &self.state_dir,
            archive,
            values,
            follow_symlinks,
        }
    }
}

/// What undo needs from an applied edit's backup, for a machine that does its own file I/O
/// (a host over ssh): the original, its owner, and whether a file now is what the edit left.
#[derive(Debug, Clone)]
pub struct UndoSource {
    /// The file before the edit.
    pub original: Node,
    /// Its owner and group.
    pub owner: Option<(u32, u32)>,
    /// The path as the runbook names it.
    pub shown: String,
    meta: BackupMeta,
}

impl UndoSource {
    /// True when `now` is exactly what the edit left (nobody changed it since).
    pub fn matches(&self, now: &Node) -> bool {
        current_matches(&self.meta, now)
    }

    /// The undo as a diff from `now`, and whether it changed since the edit.
    pub fn preview(&self, now: &Node) -> UndoPreview {
        UndoPreview {
            diff: describe_change(&self.shown, now, &self.original),
            changed_since: !self.matches(now),
        }
    }
}

/// The backup of `applied`, for [`UndoSource`].
pub fn undo_source(applied: &AppliedEdit, state_dir: &Path) -> Result<UndoSource, EditError> {
    let (meta, original) = load_backup(applied, state_dir)?;
    Ok(UndoSource {
        original,
        owner: meta.owner,
        shown: meta.shown.clone(),
        meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practice_previews_a_file_this_machine_lacks_as_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let values = BTreeMap::from([("lan_ip".to_string(), "10.0.0.1".to_string())]);
        let archive = PathBuf::from("archive");
        let ctx = EditContext {
            root: Some(dir.path()),
            state_dir: dir.path(),
            archive: &archive,
            values: &values,
            follow_symlinks: false,
        };
        let edits = [Edit {
            path: "/etc/snmp/snmpd.conf".into(),
            comment: "#".into(),
            create: false,
            action: EditAction::EnsureLine {
                line: "rocommunity public {lan_ip}".into(),
                replace: None,
            },
        }];
        // The real preview stops: the file is not there and the edit may not create it.
        assert!(matches!(preview(&edits, &ctx), Err(EditError::Missing(_))));
        // Neither writes a placeholder whose value is not known yet.
        let no_values = BTreeMap::new();
        let bare = EditContext {
            values: &no_values,
            ..EditContext { ..ctx }
        };
        for result in [
            preview(&edits, &bare).map(|_| ()),
            preview_practice(&edits, &bare).map(|_| ()),
        ] {
            match result {
                Err(e @ EditError::NoValue { .. }) => assert_eq!(
                    e.to_string(),
                    "/etc/snmp/snmpd.conf: the edit needs a value for 'lan_ip'; fill in the \
                     runbook's form first"
                ),
                other => panic!("{other:?}"),
            }
        }
        let (p, stood_in) = preview_practice(&edits, &ctx).unwrap();
        assert_eq!(stood_in, ["/etc/snmp/snmpd.conf"]);
        assert!(
            p.diff().contains("+rocommunity public 10.0.0.1"),
            "{}",
            p.diff()
        );
        // Nothing was written.
        assert!(!dir.path().join("etc").exists());
    }

    #[test]
    fn permission_denied_names_the_file_and_the_fix() {
        let e = io_error(Path::new("/etc/conf.d/rc"), "writing")(io::Error::from(
            io::ErrorKind::PermissionDenied,
        ));
        assert!(matches!(e, EditError::Permission { .. }));
        assert_eq!(
            e.to_string(),
            "/etc/conf.d/rc: permission denied while writing (run as root, e.g. with sudo)"
        );
    }

    #[test]
    fn diffs_print_without_escape_sequences() {
        assert_eq!(
            printable_lines("a\x1b[2Jb\n\tc\x7f\u{9b}"),
            "a^[[2Jb\n\tc^?<U+009B>"
        );
    }

    #[test]
    fn archive_dir_is_clean() {
        assert_eq!(
            archive_dir("xen4-migration", "dom0", "2026-11-26T16:30:00Z"),
            PathBuf::from("archive/edits/xen4-migration@dom0/2026-11-26T16-30-00Z")
        );
        let odd = archive_dir("..", "a/../b", "");
        assert_eq!(odd.components().count(), 4, "{odd:?}");
        assert!(
            odd.components().all(|c| matches!(c, Component::Normal(_))),
            "{odd:?}"
        );
    }

    #[test]
    fn resolve_stays_under_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("etc/init.d")).unwrap();
        fs::create_dir_all(root.join("real")).unwrap();
        // An absolute link is resolved against the root, not the host.
        symlink("/real", root.join("etc/conf.d")).unwrap();
        let r = resolve(root, "/etc/conf.d/rc", true).unwrap();
        assert_eq!(r.real, root.join("real/rc"));
        assert_eq!(r.inside, "/real/rc");
        // `..` from a link is clamped at the root.
        symlink("../../../../../../real", root.join("etc/up")).unwrap();
        let r = resolve(root, "/etc/up/x", true).unwrap();
        assert_eq!(r.real, root.join("real/x"));
        // A final link is reported, not followed.
        symlink("net.lo", root.join("etc/init.d/net.eth0")).unwrap();
        let r = resolve(root, "/etc/init.d/net.eth0", false).unwrap();
        assert_eq!(r.link.as_deref(), Some("net.lo"));
        assert!(matches!(
            resolve(root, "/etc/../x", true),
            Err(EditError::Escapes(_))
        ));
        assert!(matches!(
            resolve(root, "etc/x", true),
            Err(EditError::NotAbsolute(_))
        ));
        symlink("loop", root.join("loop")).unwrap();
        assert!(matches!(
            resolve(root, "/loop/x", true),
            Err(EditError::TooManyLinks(_))
        ));
    }
}
