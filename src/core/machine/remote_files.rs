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

use super::{MachineError, SshSession};
use crate::core::apply::{
    self, ApplyFailure, EditContext, EditError, MAX_FILE_BYTES, Node, StepPreview,
};
use crate::core::edit;
use crate::core::edit_journal;
use crate::core::progress::AppliedEdit;
use crate::core::runbook::Edit;
use crate::core::shell_quote;

/// Longest one read or write of a file may take.
const FILE_LIMIT: Duration = Duration::from_secs(120);

/// Symlink hops followed on the host while staging (as the kernel's limit).
const MAX_HOPS: usize = 40;

/// What the technician last saw of each remote file (by remote path), to refuse an apply when
/// the host's file changed since.
static PREVIEWED: Mutex<Option<HashMap<String, Node>>> = Mutex::new(None);

/// A file on the host, as an edit cares about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteNode {
    /// What is there.
    pub node: Node,
    /// Owner and group (numeric) of a file.
    pub owner: Option<(u32, u32)>,
    /// The directory holding it exists.
    pub parent_exists: bool,
}

fn link_err(path: &str) -> impl Fn(MachineError) -> EditError + '_ {
    move |e| EditError::Io {
        path: path.to_string(),
        doing: "reaching the host",
        source: std::io::Error::other(e.to_string()),
    }
}

/// The permission bits of an `ls -l` mode string (`-rwsr-x--T`).
pub fn parse_mode(s: &str) -> Option<u32> {
    let b: Vec<char> = s.chars().collect();
    if b.len() < 10 {
        return None;
    }
    let mut m = 0;
    for (i, bit) in [
        (1, 0o400),
        (2, 0o200),
        (4, 0o040),
        (5, 0o020),
        (7, 0o004),
        (8, 0o002),
    ] {
        match b[i] {
            '-' => {}
            'r' | 'w' => m |= bit,
            _ => return None,
        }
    }
    for (i, x, special, set, unset) in [
        (3, 0o100, 0o4000, 's', 'S'),
        (6, 0o010, 0o2000, 's', 'S'),
        (9, 0o001, 0o1000, 't', 'T'),
    ] {
        match b[i] {
            '-' => {}
            'x' => m |= x,
            c if c == set => m |= x | special,
            c if c == unset => m |= special,
            _ => return None,
        }
    }
    Some(m)
}

fn parent_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".to_string(),
        Some((dir, _)) => dir.to_string(),
    }
}

/// Reads `path` on the host: kind, mode, owner and content (bounded).
pub fn read(session: &SshSession, path: &str) -> Result<RemoteNode, EditError> {
    let script = r#"p=$1; max=$2; d=$3
if [ -d "$d" ]; then pe=P; else pe=N; fi
if [ -h "$p" ]; then echo "L $pe"; ls -ld "$p"; exit 0; fi
if [ ! -e "$p" ]; then echo "M $pe"; exit 0; fi
if [ -d "$p" ]; then echo "D $pe"; exit 0; fi
if [ ! -f "$p" ]; then echo "S $pe"; exit 0; fi
l=$(ls -ldn "$p") || exit 4
set -- $l
if [ "$5" -gt "$max" ]; then echo "B $pe $5"; exit 0; fi
echo "F $pe"; echo "$l"; exec cat "$p""#;
    let line = shell_quote::join(&[
        "sh",
        "-c",
        script,
        "sh",
        path,
        &MAX_FILE_BYTES.to_string(),
        &parent_of(path),
    ]);
    let out = session
        .run_line(line, None, FILE_LIMIT)
        .map_err(link_err(path))?;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if out.exit != crate::core::progress::Exit::Code(0) {
        if stderr.contains("ermission denied") {
            return Err(EditError::Permission {
                path: path.to_string(),
                doing: "reading",
            });
        }
        return Err(EditError::Io {
            path: path.to_string(),
            doing: "reading on the host",
            source: std::io::Error::other(stderr.trim().to_string()),
        });
    }
    let text = &out.stdout;
    let first_end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let head = String::from_utf8_lossy(&text[..first_end]).to_string();
    let rest = text.get(first_end + 1..).unwrap_or_default();
    let mut words = head.split_whitespace();
    let kind = words.next().unwrap_or("");
    let parent_exists = words.next() == Some("P");
    let bad = |what: &str| EditError::Io {
        path: path.to_string(),
        doing: "reading on the host",
        source: std::io::Error::other(format!("unexpected answer ({what})")),
    };
    let node = match kind {
        "M" => Node::Missing,
        "D" => {
            return Err(EditError::NotRegular {
                path: path.to_string(),
                kind: "directory",
            });
        }
        "S" => {
            return Err(EditError::NotRegular {
                path: path.to_string(),
                kind: "special file",
            });
        }
        "B" => {
            return Err(EditError::TooBig {
                path: path.to_string(),
                size: words.next().and_then(|s| s.parse().ok()).unwrap_or(0),
                limit: MAX_FILE_BYTES,
            });
        }
        "L" => {
            let listing = String::from_utf8_lossy(rest);
            let marker = format!("{path} -> ");
            let target = listing
                .find(&marker)
                .map(|i| {
                    listing[i + marker.len()..]
                        .trim_end_matches('\n')
                        .to_string()
                })
                .ok_or_else(|| bad("link"))?;
            Node::Link { target }
        }
        "F" => {
            let l_end = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| bad("file"))?;
            let listing = String::from_utf8_lossy(&rest[..l_end]).to_string();
            let fields: Vec<&str> = listing.split_whitespace().collect();
            let mode = fields
                .first()
                .and_then(|m| parse_mode(m))
                .ok_or_else(|| bad("mode"))?;
            let owner = match (fields.get(2), fields.get(3)) {
                (Some(u), Some(g)) => u.parse().ok().zip(g.parse().ok()),
                _ => None,
            };
            let bytes = rest[l_end + 1..].to_vec();
            if bytes.contains(&0) {
                return Err(EditError::Binary(path.to_string()));
            }
            let content =
                String::from_utf8(bytes).map_err(|_| EditError::Binary(path.to_string()))?;
            return Ok(RemoteNode {
                node: Node::File { content, mode },
                owner,
                parent_exists,
            });
        }
        other => return Err(bad(other)),
    };
    Ok(RemoteNode {
        node,
        owner: None,
        parent_exists,
    })
}

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
    // A file that changed on the host since the technician saw it: refuse with the new diff.
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
            return Err(fail(EditError::Io {
                path: c.path.clone(),
                doing: "applying",
                source: std::io::Error::other(format!(
                    "{} changed on {} since the preview; nothing was written. The new \
                     changes would be:\n{}",
                    c.path,
                    session.destination(),
                    c.diff()
                )),
            }));
        }
    }
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
            if let Err(source) = edit_journal::record_intent(ctx.state_dir, ctx.archive, &intent) {
                let error = EditError::Io {
                    path: host_path.clone(),
                    doing: "journalling the edit",
                    source,
                };
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

/// Writes `node` at `path` on the host and reads it back. For a file: a temporary file in the
/// same directory with `mode` and `owner`, then `mv`; `archive` keeps a copy of the original.
pub fn write(
    session: &SshSession,
    path: &str,
    node: &Node,
    owner: Option<(u32, u32)>,
    archive: Option<&str>,
) -> Result<(), EditError> {
    let name = path.rsplit('/').next().unwrap_or("file");
    let tmp = format!(
        "{}/.{name}.fieldbook-tmp",
        parent_of(path).trim_end_matches('/')
    );
    let (uid, gid) = owner.map_or((String::new(), String::new()), |(u, g)| {
        (u.to_string(), g.to_string())
    });
    let archive_dir = archive.map(parent_of).unwrap_or_default();
    let keep = r#"p=$1; t=$2; a=$3; ad=$4
if [ -n "$a" ] && [ -f "$p" ] && [ ! -h "$p" ]; then
  (umask 077; mkdir -p "$ad" && cat "$p" >"$a") || { echo "cannot keep a copy of $p in $ad" >&2; exit 5; }
fi
rm -f "$t""#;
    let (script, stdin): (String, Option<&[u8]>) = match node {
        Node::File { content, .. } => (
            format!(
                r#"{keep}
m=$5; u=$6; g=$7
if ! (umask 077; cat >"$t"); then rm -f "$t"; echo "writing $p failed; the original is unchanged" >&2; exit 4; fi
if [ -n "$u" ]; then
  set -- $(ls -ldn "$t")
  if [ "$3:$4" != "$u:$g" ]; then chown "$u:$g" "$t" || {{ rm -f "$t"; echo "cannot keep the owner $u:$g of $p" >&2; exit 4; }}; fi
fi
chmod "$m" "$t" || {{ rm -f "$t"; exit 4; }}
mv -f "$t" "$p" || {{ rm -f "$t"; echo "replacing $p failed; the original is unchanged" >&2; exit 4; }}"#
            ),
            Some(content.as_bytes()),
        ),
        Node::Link { .. } => (
            format!(
                "{keep}\nln -s \"$5\" \"$t\" && mv -f \"$t\" \"$p\" || {{ rm -f \"$t\"; exit 4; }}"
            ),
            None,
        ),
        Node::Missing => (format!("{keep}\nrm -f \"$p\" || exit 4"), None),
    };
    let fifth = match node {
        Node::File { mode, .. } => format!("{mode:o}"),
        Node::Link { target } => target.clone(),
        Node::Missing => String::new(),
    };
    let line = shell_quote::join(&[
        "sh",
        "-c",
        &script,
        "sh",
        path,
        &tmp,
        archive.unwrap_or(""),
        &archive_dir,
        &fifth,
        &uid,
        &gid,
    ]);
    let out = session
        .run_line(line, Some(stdin.unwrap_or_default()), FILE_LIMIT)
        .map_err(link_err(path))?;
    if out.exit != crate::core::progress::Exit::Code(0) {
        let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(EditError::Io {
            path: path.to_string(),
            doing: "writing on the host",
            source: std::io::Error::other(crate::core::terminal_text::terminal_safe_line(&said)),
        });
    }
    let back = read(session, path)?;
    if back.node != *node {
        return Err(EditError::Io {
            path: path.to_string(),
            doing: "reading back",
            source: std::io::Error::other("the host's file is not what was written"),
        });
    }
    Ok(())
}

/// The regular files (not links) directly in `dir` on the host, sorted by name, with their
/// bytes; `None` when the directory does not exist or the host cannot be asked.
pub fn read_dir_files(session: &SshSession, dir: &str) -> Option<crate::core::snort::RulesFiles> {
    let script = r#"d=$1; [ -d "$d" ] || { echo N; exit 0; }; echo D
for f in "$d"/*; do
  [ -f "$f" ] && [ ! -h "$f" ] || continue
  n=${f##*/}
  l=$(ls -ln "$f") || continue
  set -- $l
  echo "F $5 $n"; cat "$f"
done"#;
    let out = session
        .run_line(
            shell_quote::join(&["sh", "-c", script, "sh", dir]),
            None,
            FILE_LIMIT,
        )
        .ok()?;
    let bytes = out.stdout;
    let (head, mut rest) = split_line(&bytes)?;
    if head != b"D" {
        return None;
    }
    let mut files = Vec::new();
    while let Some((line, after)) = split_line(rest) {
        let line = String::from_utf8_lossy(line).into_owned();
        let mut parts = line.splitn(3, ' ');
        let (Some("F"), Some(size), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            break;
        };
        let size: usize = size.parse().ok()?;
        let content = after.get(..size)?;
        files.push((name.to_string(), Ok(content.to_vec())));
        rest = &after[size..];
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Some(files)
}

fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = bytes.iter().position(|&b| b == b'\n')?;
    Some((&bytes[..i], &bytes[i + 1..]))
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
