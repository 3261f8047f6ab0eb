//! Carrying edits out on the real files: paths resolved under `--root`, a backup into the run's
//! archive in the state directory, an atomic write that keeps mode and owner, and undo.
//!
//! One entry point serves every caller (`fieldbook exec`, the TUI): [`preview`] computes what a
//! step's edits would change (diffs, "already applied"), [`apply`] carries a preview out and
//! returns the [`AppliedEdit`]s for the journal, [`undo`] puts a file back from its backup.
//! Backups never go beside the edited file: a `mlocate.cron.bak` in /etc/cron.daily would be
//! run by cron, and a stray copy in a conf.d directory gets loaded by the daemon.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::atomic;
use super::edit::{self, TextEditError};
use super::edit_journal;
use super::progress::{AppliedEdit, Run};
use super::root_fs::{Kind, Located, NewFile, RootDir, Xattr};
use super::runbook::{Edit, EditAction};
use super::state_dir;

/// Files larger than this are refused: config files are small, and a huge one is more likely a
/// log or an image named by mistake.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Mode of a file the edit creates when the runbook gives no `mode` (the usual mode of a
/// config file).
pub(crate) const NEW_FILE_MODE: u32 = 0o644;

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
    /// A value placed inside a line would be code in the file (see [`edit::value_as_code`]).
    #[error(
        "{path}: the value of '{name}' contains {shown}, which would be code in this {syntax} \
         file, not data; refusing (a value inside a line may not contain ` $ ; & | < > ( ) \" ' \\ or \
         control characters)"
    )]
    ValueAsCode {
        /// The path as written in the runbook.
        path: String,
        /// The variable.
        name: String,
        /// The offending character, quoted or as `U+XXXX`.
        shown: String,
        /// How the file is read (see [`edit::code_syntax`]).
        syntax: &'static str,
    },
    /// The file does not exist and the edit may not create it.
    #[error("{0} does not exist (the edit creates a file only when it says create = true)")]
    Missing(String),
    /// The file does not exist, and the runbook says what that means.
    #[error("{path} does not exist: {why}")]
    MissingExpected {
        /// The file.
        path: String,
        /// The runbook's `missing` text.
        why: String,
    },
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
    /// A symbolic link on the way to the file appeared after the edit: the path now leads to
    /// another file, and undo will not write through it.
    #[error(
        "{path} now leads to {now} (a symbolic link on the way changed); refusing to write there"
    )]
    Moved {
        /// The file as edited, inside the root.
        path: String,
        /// Where the path leads now.
        now: String,
    },
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
    /// The edits of this file (values filled in), applied again to the file as it is under
    /// its lock when it changed since the preview.
    edits: Vec<Edit>,
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

pub(crate) fn describe_change(path: &str, before: &Node, after: &Node) -> String {
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
        crate::core::terminal_text::terminal_visible(&self.diff())
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

#[cfg(test)]
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

#[cfg(test)]
/// Resolves `path` (absolute, as on the target system) under `root` the way a chroot would:
/// intermediate symbolic links are followed, absolute link targets start again at `root`, and
/// `..` from a link never climbs above `root`. The last component is followed only when
/// `follow_last` is set; otherwise a link there is reported in [`Resolved::link`]. Every
/// component is opened from a descriptor of the one before ([`root_fs`]).
pub fn resolve(root: &Path, path: &str, follow_last: bool) -> Result<Resolved, EditError> {
    let dir = open_root(root)?;
    let loc = locate(&dir, path, follow_last)?;
    Ok(Resolved {
        real: loc.real.clone(),
        inside: loc.inside.clone(),
        link: loc.link.clone(),
    })
}

fn check_path(path: &str) -> Result<(), EditError> {
    if !path.starts_with('/') {
        return Err(EditError::NotAbsolute(path.to_string()));
    }
    if Path::new(path)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(EditError::Escapes(path.to_string()));
    }
    Ok(())
}

fn open_root(root: &Path) -> Result<RootDir, EditError> {
    RootDir::open(root).map_err(io_error(root, "opening the root"))
}

fn locate(dir: &RootDir, path: &str, follow_last: bool) -> Result<Located, EditError> {
    check_path(path)?;
    dir.locate(path, follow_last).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            EditError::TooManyLinks(path.to_string())
        } else {
            io_error(&dir.path().join(path.trim_start_matches('/')), "resolving")(e)
        }
    })
}

/// What is at a located path, read through its directory's descriptor.
struct Found {
    node: Node,
    owner: Option<(u32, u32)>,
    xattrs: Vec<Xattr>,
}

/// Reads what is at `loc` without following a final link.
fn read_node(loc: &Located, shown: &str) -> Result<Found, EditError> {
    let real = &loc.real;
    let meta = loc.meta().map_err(io_error(real, "reading"))?;
    let found = |node| Found {
        node,
        owner: meta.owner,
        xattrs: Vec::new(),
    };
    match meta.kind {
        Kind::Missing => return Ok(found(Node::Missing)),
        Kind::Link => {
            let target = loc
                .read_link()
                .map_err(io_error(real, "reading the link"))?;
            return Ok(found(Node::Link { target }));
        }
        Kind::Directory | Kind::Special => {
            let kind = if meta.kind == Kind::Directory {
                "directory"
            } else {
                "special file"
            };
            return Err(EditError::NotRegular {
                path: shown.to_string(),
                kind,
            });
        }
        Kind::File => {}
    }
    let too_big = |size| EditError::TooBig {
        path: shown.to_string(),
        size,
        limit: MAX_FILE_BYTES,
    };
    if meta.size > MAX_FILE_BYTES {
        return Err(too_big(meta.size));
    }
    let (bytes, mode, xattrs) = loc.read_file(MAX_FILE_BYTES).map_err(|e| {
        if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ELOOP)) {
            // Swapped for something else between the look and the open.
            EditError::NotRegular {
                path: shown.to_string(),
                kind: "special file",
            }
        } else {
            io_error(real, "reading")(e)
        }
    })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    if bytes.contains(&0) {
        return Err(EditError::Binary(shown.to_string()));
    }
    let content = String::from_utf8(bytes).map_err(|_| EditError::Binary(shown.to_string()))?;
    Ok(Found {
        node: Node::File { content, mode },
        owner: meta.owner,
        xattrs,
    })
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

/// What a secret value is shown as in recorded diffs and the report.
pub const SECRET_SHOWN: &str = "***";

/// Replaces every secret value in the diffs of `applied` with [`SECRET_SHOWN`] before they are
/// recorded: the state file (`runs/*.toml`) and `fieldbook report` never hold a secret. Longer
/// secrets first, so one that contains another is masked whole; empty ones mask nothing.
pub fn mask_secrets<'a>(applied: &mut [AppliedEdit], secrets: impl IntoIterator<Item = &'a str>) {
    let mut secrets: Vec<&str> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for edit in applied {
        for s in &secrets {
            if edit.diff.contains(s) {
                edit.diff = edit.diff.replace(s, SECRET_SHOWN);
            }
        }
    }
}

/// Before an edit is substituted: every value it uses is known, and none would be code in the
/// file it writes (see [`edit::value_as_code`]). Local and remote edits share it.
pub(crate) fn check_values(raw: &Edit, values: &BTreeMap<String, String>) -> Result<(), EditError> {
    if let Some(name) = edit::missing_value(raw, values) {
        return Err(EditError::NoValue {
            path: raw.path.clone(),
            name,
        });
    }
    if let Some((name, c, syntax)) = edit::value_as_code(raw, values) {
        let shown = if c.is_control() {
            format!("U+{:04X}", u32::from(c))
        } else {
            format!("'{c}'")
        };
        return Err(EditError::ValueAsCode {
            path: raw.path.clone(),
            name,
            shown,
            syntax,
        });
    }
    Ok(())
}

fn preview_inner(
    edits: &[Edit],
    ctx: &EditContext<'_>,
    missing_as_empty: bool,
) -> Result<(StepPreview, Vec<String>), EditError> {
    let root = ctx.root.unwrap_or(Path::new("/"));
    let mut stood_in = Vec::new();
    let mut changes: Vec<FileChange> = Vec::new();
    let mut dir = None;
    for raw in edits {
        check_values(raw, ctx.values)?;
        let e = edit::substituted(raw, ctx.values);
        check_path(&e.path)?;
        let dir = match &dir {
            Some(d) => d,
            None => dir.insert(open_root(root)?),
        };
        let is_link_action = matches!(e.action, EditAction::Symlink { .. });
        let mut loc = locate(dir, &e.path, false)?;
        if let Some(points_to) = loc.link.take()
            && !is_link_action
        {
            if !ctx.follow_symlinks {
                return Err(EditError::Symlink {
                    path: e.path.clone(),
                    points_to,
                });
            }
            loc = locate(dir, &e.path, true)?;
        }
        let idx = match changes.iter().position(|c| c.real == loc.real) {
            Some(i) => i,
            None => {
                let found = read_node(&loc, &loc.inside)?;
                let mut node = found.node;
                if missing_as_empty && node == Node::Missing && !is_link_action {
                    node = Node::File {
                        content: String::new(),
                        mode: e.mode.unwrap_or(NEW_FILE_MODE),
                    };
                    stood_in.push(loc.inside.clone());
                }
                changes.push(FileChange {
                    path: loc.inside.clone(),
                    real: loc.real.clone(),
                    before: node.clone(),
                    after: node,
                    owner: found.owner,
                    edits: Vec::new(),
                });
                changes.len() - 1
            }
        };
        let change = &mut changes[idx];
        change.after = next_node(&change.after, &e, &change.path)?;
        change.edits.push(e);
    }
    Ok((StepPreview { changes }, stood_in))
}

/// A missing file, with what the runbook says was expected there when it says.
fn missing(e: &Edit, shown: &str) -> EditError {
    match &e.missing {
        Some(why) => EditError::MissingExpected {
            path: shown.to_string(),
            why: why.clone(),
        },
        None => EditError::Missing(shown.to_string()),
    }
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
        (EditAction::Chmod { .. }, Node::Missing) => Err(missing(e, shown)),
        (action, Node::Missing) => {
            if !e.create {
                return Err(missing(e, shown));
            }
            let content = edit::edit_text("", action, &e.comment).map_err(text_err)?;
            if content.is_empty() {
                // Nothing to add: a missing file stays missing rather than becoming empty.
                Ok(Node::Missing)
            } else {
                Ok(Node::File {
                    content,
                    mode: e.mode.unwrap_or(NEW_FILE_MODE),
                })
            }
        }
        (action, Node::File { content, mode }) => Ok(Node::File {
            content: edit::edit_text(content, action, &e.comment).map_err(text_err)?,
            mode: *mode,
        }),
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

/// Carries out a preview: for each changed file, takes the file's lock, reads it again (the
/// edits are applied to what is there now, so an edit another runbook made meanwhile is kept),
/// copies it into the run's archive and journals the intent, replaces it atomically keeping
/// mode, owner and extended attributes, and journals the outcome. `at` is the time recorded
/// (RFC 3339 UTC). Files already as wanted are skipped and not journalled.
pub fn apply(
    step: &str,
    preview: &StepPreview,
    ctx: &EditContext<'_>,
    at: &str,
) -> Result<Vec<AppliedEdit>, ApplyFailure> {
    let mut applied = Vec::new();
    let root = ctx.root.unwrap_or(Path::new("/"));
    let mut dir = None;
    for change in preview.changes.iter().filter(|c| !c.is_noop()) {
        let d = match &dir {
            Some(d) => d,
            None => match open_root(root) {
                Ok(d) => dir.insert(d),
                Err(error) => return Err(ApplyFailure { applied, error }),
            },
        };
        match apply_change(step, change, d, ctx, at) {
            Ok(Some(a)) => applied.push(a),
            Ok(None) => {}
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
    dir: &RootDir,
    ctx: &EditContext<'_>,
    at: &str,
) -> Result<Option<AppliedEdit>, EditError> {
    let _lock = edit_journal::lock_target(ctx.state_dir, &change.real)
        .map_err(io_error(&change.real, "locking"))?;
    let loc = locate(dir, &change.path, false)?;
    if loc.inside != change.path {
        // A link appeared on the way since the preview: it would lead elsewhere.
        return Err(EditError::ChangedSincePreview(change.path.clone()));
    }
    let now = read_node(&loc, &change.path)?;
    let after = if now.node == change.before {
        change.after.clone()
    } else {
        let mut after = now.node.clone();
        for e in &change.edits {
            after = next_node(&after, e, &change.path)
                .map_err(|_| EditError::ChangedSincePreview(change.path.clone()))?;
        }
        after
    };
    let before = now.node;
    if before == after {
        return Ok(None);
    }
    if matches!(before, Node::Missing) && !loc.has_parent() {
        return Err(EditError::NoDirectory {
            path: change.path.clone(),
            dir: loc
                .real
                .parent()
                .unwrap_or(Path::new("/"))
                .display()
                .to_string(),
        });
    }
    let shape = Shaped {
        shown: &change.path,
        real: &loc.real,
        before: &before,
        after: &after,
        owner: now.owner,
        xattrs: &now.xattrs,
    };
    let backup_rel = write_backup(&shape, step, at, ctx)?;
    let intent = edit_journal::Intent {
        backup: backup_rel.display().to_string(),
        step: step.to_string(),
        path: loc.real.display().to_string(),
        at: at.to_string(),
        hash_before: before.hash(),
        hash_after: after.hash(),
        host: None,
    };
    edit_journal::record_intent(ctx.state_dir, ctx.archive, &intent)
        .map_err(io_error(&loc.real, "journalling the edit"))?;
    match &after {
        Node::File { content, mode } => {
            let content_same = matches!(&before, Node::File { content: c, .. } if c == content);
            if content_same {
                loc.set_mode(*mode)
                    .map_err(io_error(&loc.real, "changing the mode"))?;
            } else {
                let new = NewFile {
                    bytes: content.as_bytes(),
                    mode: *mode,
                    owner: now.owner,
                    xattrs: &now.xattrs,
                };
                loc.replace_file(new)
                    .map_err(io_error(&loc.real, "writing"))?;
            }
        }
        Node::Link { target } => loc
            .replace_with_link(target)
            .map_err(io_error(&loc.real, "creating the link"))?,
        Node::Missing => loc.remove().map_err(io_error(&loc.real, "removing"))?,
    }
    // Best effort: without it the intent is reconciled by its hashes when the run is opened.
    let _ = edit_journal::record_outcome(ctx.state_dir, ctx.archive, &intent.backup, "applied");
    Ok(Some(AppliedEdit {
        step: step.to_string(),
        path: loc.real.display().to_string(),
        at: at.to_string(),
        backup: Some(intent.backup),
        diff: describe_change(&change.path, &before, &after),
        hash_before: intent.hash_before,
        hash_after: intent.hash_after,
        undone: false,
    }))
}

/// What the archive keeps about one applied change besides the content copy, so undo can put
/// back a mode, an owner, extended attributes, a link or a file that did not exist, in the
/// root it was made in. Fields after `owner` were added later and default when absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BackupMeta {
    /// Real path edited.
    pub(crate) path: String,
    /// Path inside the root.
    pub(crate) shown: String,
    /// Before, without content (the content is the backup file itself).
    before: Shape,
    /// After, without content.
    after: Shape,
    /// Content hash after, to detect later changes.
    pub(crate) hash_after: String,
    /// Owner and group of the original.
    owner: Option<(u32, u32)>,
    /// The root the edit was made in (`--root`, or `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) root: Option<String>,
    /// Content hash before.
    #[serde(default)]
    pub(crate) hash_before: String,
    /// The step that made the edit.
    #[serde(default)]
    pub(crate) step: String,
    /// When (RFC 3339 UTC).
    #[serde(default)]
    pub(crate) at: String,
    /// Extended attributes of the original (SELinux label, ACLs, file capabilities).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    xattrs: Vec<SavedXattr>,
}

/// An extended attribute as the archive keeps it: the value in hex.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedXattr {
    name: String,
    hex: String,
}

impl From<&Xattr> for SavedXattr {
    fn from(x: &Xattr) -> SavedXattr {
        SavedXattr {
            name: x.name.clone(),
            hex: x.value.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

impl SavedXattr {
    fn to_xattr(&self) -> Option<Xattr> {
        let bytes = self.hex.as_bytes();
        if bytes.len() % 2 != 0 {
            return None;
        }
        let value = bytes
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(Xattr {
            name: self.name.clone(),
            value,
        })
    }
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

/// One change as written to the archive.
struct Shaped<'a> {
    shown: &'a str,
    real: &'a Path,
    before: &'a Node,
    after: &'a Node,
    owner: Option<(u32, u32)>,
    xattrs: &'a [Xattr],
}

/// Copies the original into the archive (content file plus a `.json` description with its
/// mode, owner, extended attributes, root and hashes), both written atomically. Returns the
/// content file's path relative to the state directory.
fn write_backup(
    change: &Shaped<'_>,
    step: &str,
    at: &str,
    ctx: &EditContext<'_>,
) -> Result<PathBuf, EditError> {
    let rel_file = change.shown.trim_start_matches('/');
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
        if candidate.symlink_metadata().is_err() && meta.symlink_metadata().is_err() {
            let rel = dir_rel.with_file_name(format!("{name},{n}"));
            break (candidate, rel);
        }
        n += 1;
    };
    if let Node::File { content, .. } = change.before {
        // Backups may hold secrets (snmp communities): private to the owner.
        atomic::write_atomic(&content_path, content.as_bytes())
            .map_err(io_error(&content_path, "writing the backup"))?;
    }
    let meta = BackupMeta {
        path: change.real.display().to_string(),
        shown: change.shown.to_string(),
        before: Shape::from(change.before),
        after: Shape::from(change.after),
        hash_after: change.after.hash(),
        owner: change.owner,
        root: Some(ctx.root.unwrap_or(Path::new("/")).display().to_string()),
        hash_before: change.before.hash(),
        step: step.to_string(),
        at: at.to_string(),
        xattrs: change.xattrs.iter().map(SavedXattr::from).collect(),
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

/// What undoing an edit would do, read from the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoPreview {
    /// The reverse diff (current file → backup).
    pub diff: String,
    /// The file changed since the edit (undo would lose those changes).
    pub changed_since: bool,
}

/// Reads the archive entry of an applied edit: its description and the original node.
pub(crate) fn load_backup(
    backup_rel: Option<&str>,
    path: &str,
    state_dir: &Path,
) -> Result<(BackupMeta, Node), EditError> {
    let no_backup = |detail: String| EditError::NoBackup {
        path: path.to_string(),
        detail,
    };
    let rel = backup_rel.ok_or_else(|| no_backup("none was recorded".into()))?;
    let content_path = state_dir.join(rel);
    let meta_path = PathBuf::from(format!("{}.json", content_path.display()));
    let json = atomic::read_nofollow(&meta_path)
        .map_err(|e| no_backup(format!("{}: {e}", meta_path.display())))?;
    let meta: BackupMeta = serde_json::from_slice(&json)
        .map_err(|e| no_backup(format!("{}: {e}", meta_path.display())))?;
    let node = match &meta.before {
        Shape::Missing => Node::Missing,
        Shape::Link { target } => Node::Link {
            target: target.clone(),
        },
        Shape::File { mode } => {
            let bytes = atomic::read_nofollow(&content_path)
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

/// Locates the file an archived edit changed, from the root it was made in, and refuses when
/// a link on the way now leads somewhere else (undo never writes through a link that appeared
/// after the edit).
pub(crate) fn locate_edited(meta: &BackupMeta) -> Result<Located, EditError> {
    let (root, inside) = match &meta.root {
        Some(r) => (PathBuf::from(r), meta.shown.clone()),
        // An archive of an older fieldbook: the real path, resolved from `/`.
        None => (PathBuf::from("/"), meta.path.clone()),
    };
    let dir = open_root(&root)?;
    let loc = locate(&dir, &inside, false)?;
    if loc.inside != inside {
        return Err(EditError::Moved {
            path: meta.shown.clone(),
            now: loc.inside.clone(),
        });
    }
    Ok(loc)
}

/// What is at the file an archived edit changed, now (`None` if it cannot be read).
pub(crate) fn current_node(meta: &BackupMeta) -> Option<Node> {
    let loc = locate_edited(meta).ok()?;
    read_node(&loc, &meta.shown).ok().map(|f| f.node)
}

/// Shows what [`undo`] would do: the reverse diff, and whether the file changed since.
pub fn undo_preview(applied: &AppliedEdit, state_dir: &Path) -> Result<UndoPreview, EditError> {
    let (meta, original) = load_backup(applied.backup.as_deref(), &applied.path, state_dir)?;
    let loc = locate_edited(&meta)?;
    let now = read_node(&loc, &meta.shown)?.node;
    Ok(UndoPreview {
        diff: describe_change(&meta.shown, &now, &original),
        changed_since: !current_matches(&meta, &now),
    })
}

/// Puts the file back as it was before `applied`, from the archive, with its mode, owner and
/// extended attributes. Refuses when the file was changed after the edit unless `force` is
/// set (the technician saw the diff and confirmed).
pub fn undo(applied: &AppliedEdit, state_dir: &Path, force: bool) -> Result<(), EditError> {
    let (meta, original) = load_backup(applied.backup.as_deref(), &applied.path, state_dir)?;
    let real = PathBuf::from(&meta.path);
    let _lock = edit_journal::lock_target(state_dir, &real).map_err(io_error(&real, "locking"))?;
    let loc = locate_edited(&meta)?;
    let now = read_node(&loc, &meta.shown)?;
    if !force && !current_matches(&meta, &now.node) {
        return Err(EditError::ChangedSinceApply(meta.shown.clone()));
    }
    let xattrs: Vec<Xattr> = meta
        .xattrs
        .iter()
        .filter_map(SavedXattr::to_xattr)
        .collect();
    match &original {
        Node::File { content, mode } => loc.replace_file(NewFile {
            bytes: content.as_bytes(),
            mode: *mode,
            owner: meta.owner.or(now.owner),
            xattrs: &xattrs,
        }),
        Node::Link { target } => loc.replace_with_link(target),
        Node::Missing => loc.remove(),
    }
    .map_err(io_error(&loc.real, "restoring"))
}

/// Where edits happen: the session's machine, its `--root` and the state directory. Built by
/// the app for each edit job, or by `fieldbook exec`; every edit step goes through it, so both callers preview, apply
/// and undo the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditSite {
    /// `--root DIR`, or `None` for the real `/`.
    pub root: Option<PathBuf>,
    /// The state directory's base (practice runs never apply edits).
    pub state_dir: PathBuf,
    /// The machine whose files are edited: this one (and its `--root`), or `--host` over ssh.
    pub machine: super::machine::SessionMachine,
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
        if let Some(session) = self.machine.ssh() {
            return super::machine::remote_files::preview(
                session,
                self.root.as_deref(),
                edits,
                &ctx,
            );
        }
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
        if let Some(session) = self.machine.ssh() {
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
        if let Some(session) = self.machine.ssh() {
            return super::machine::remote_files::undo_preview(session, applied, &self.state_dir);
        }
        undo_preview(applied, &self.state_dir)
    }

    /// Restores an applied edit from its backup.
    pub fn undo(&self, applied: &AppliedEdit, force: bool) -> Result<(), EditError> {
        if let Some(session) = self.machine.ssh() {
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
/// (a host over ssh): the original, and whether a file now is what the edit left (the owner
/// is the host file's own, not the one the archive recorded for the staging copy).
#[derive(Debug, Clone)]
pub struct UndoSource {
    /// The file before the edit.
    pub original: Node,
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
    let (meta, original) = load_backup(applied.backup.as_deref(), &applied.path, state_dir)?;
    Ok(UndoSource {
        original,
        shown: meta.shown.clone(),
        meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// Issue 17 item 6: the built-in xen4 runbook writes interface names into
    /// `/etc/conf.d/net`, which bash sources as root at boot. A value that would be code there
    /// is refused by its type, and by the edit itself if it ever got that far.
    #[test]
    fn a_value_that_would_be_code_in_a_sourced_file_is_refused() {
        let payload = "eth0=(\"null\");touch${IFS}pwned;x";
        let rb = crate::core::runbook::load_str(
            "xen4-migration.toml",
            include_str!("../../assets/checklists/xen4-migration.toml"),
        )
        .unwrap();
        let ext_if = rb.variable("ext_if").unwrap();
        assert!(ext_if.ty.validate(payload, &ext_if.choices).is_err());
        let crate::core::runbook::Action::Edit { edits } =
            &rb.step("bridge-config").unwrap().action
        else {
            panic!("bridge-config is an edit")
        };
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc/conf.d")).unwrap();
        fs::write(dir.path().join("etc/conf.d/net"), "# net\n").unwrap();
        let mut values: BTreeMap<String, String> = [
            ("ext_if", "eth0"),
            ("int_if", "eth1"),
            ("ext_bridge", "extbr0"),
            ("int_bridge", "xenbr0"),
            ("int_address", "10.0.0.2/24"),
            ("gateway", "10.0.0.1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let archive = PathBuf::from("archive");
        fn ctx<'a>(
            root: &'a Path,
            archive: &'a Path,
            values: &'a BTreeMap<String, String>,
        ) -> EditContext<'a> {
            EditContext {
                root: Some(root),
                state_dir: root,
                archive,
                values,
                follow_symlinks: false,
            }
        }
        assert!(preview(edits, &ctx(dir.path(), &archive, &values)).is_ok());
        for (name, value) in [
            ("ext_if", payload),
            ("ext_if", "eth0$(reboot)"),
            ("int_bridge", "x`id`"),
            ("int_if", "eth1\";reboot;\""),
        ] {
            values.insert(name.into(), value.into());
            let err = preview(edits, &ctx(dir.path(), &archive, &values)).unwrap_err();
            assert!(
                matches!(&err, EditError::ValueAsCode { name: n, .. } if n == name),
                "{value}: {err}"
            );
            assert!(
                err.to_string().contains("would be code in this shell file"),
                "{err}"
            );
            values.insert(name.into(), "eth0".into());
        }
        assert_eq!(
            fs::read_to_string(dir.path().join("etc/conf.d/net")).unwrap(),
            "# net\n"
        );
    }

    /// A value that is a whole line by itself is the technician's own line, written as typed.
    #[test]
    fn a_whole_line_value_is_written_as_typed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("cfg"), "").unwrap();
        let values = BTreeMap::from([("l".to_string(), "extra = 'xencons=tty'".to_string())]);
        let archive = PathBuf::from("archive");
        let ctx = EditContext {
            root: Some(dir.path()),
            state_dir: dir.path(),
            archive: &archive,
            values: &values,
            follow_symlinks: false,
        };
        fs::create_dir_all(dir.path().join("etc/xen")).unwrap();
        fs::write(dir.path().join("etc/xen/guest.cfg"), "").unwrap();
        let edit = |line: &str| Edit {
            path: "/etc/xen/guest.cfg".into(),
            comment: "#".into(),
            create: false,
            mode: None,
            missing: None,
            action: EditAction::EnsureLine {
                line: line.into(),
                replace: None,
            },
        };
        assert!(preview(&[edit("{l}")], &ctx).is_ok());
        assert!(matches!(
            preview(&[edit("x={l}")], &ctx),
            Err(EditError::ValueAsCode { .. })
        ));
    }

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
            mode: None,
            missing: None,
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
            crate::core::terminal_text::terminal_visible("a\x1b[2Jb\n\tc\x7f\u{9b}"),
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
