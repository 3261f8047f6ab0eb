//! Durable file writes: the whole-file atomic replace used for state files (and anything else
//! that must never be seen half-written), the per-event append used by the journal, and
//! private directories. Everything is created owner-only: state and logs can hold host names,
//! addresses and command output that other users have no business reading. Nothing here follows
//! a symbolic link at the last component (`O_NOFOLLOW`): a link planted in the state directory
//! must never make root write or read a file of someone else's choosing.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of every directory fieldbook creates under the state directory.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file fieldbook writes under the state directory.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) owner-only. An existing directory is left as it is: the
/// administrator may have chosen its mode on purpose.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Options that never follow a symbolic link at the last component and create owner-only.
pub fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    o
}

/// Reads a whole file without following a symbolic link at its name (`ELOOP` if it is one).
pub fn read_nofollow(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = private_options().read(true).open(path)?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens (creating owner-only) a file to append to, never through a symbolic link: logs.
pub fn open_append(path: &Path) -> io::Result<File> {
    private_options().append(true).create(true).open(path)
}

/// The temporary name `write_atomic` uses beside `path`; hidden, and unique per process so two
/// writers never share one.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp.{}", std::process::id()))
}

/// Replaces `path` with `bytes` so that, whatever happens (kill -9, power loss, full disk), the
/// file holds either the old content or the new, never a mix: temp file in the same directory,
/// fsync, rename over, fsync the directory. On error the old file is untouched and the temp
/// file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = write_then_rename(&tmp, path, bytes);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    // A leftover temp of a dead process with the same pid may have another mode.
    file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(tmp, path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Makes a rename or a new directory entry durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)?.sync_all()
}

/// Appends one line (a newline is added) to an append-only file, creating it owner-only, with a
/// single `write` so a kill between events never leaves half a line, then syncs its data: the
/// journal is an audit trail and must survive what the state file survives.
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    let mut file = open_append(path)?;
    file.write_all(&buf)?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_owner_only_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, FILE_MODE);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temp file left behind");
    }

    #[test]
    fn failed_write_keeps_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        write_atomic(&path, b"old").unwrap();
        // A directory where the temp file should go makes the open fail, as root too.
        fs::create_dir(temp_path(&path)).unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
    }

    #[test]
    fn appends_lines_and_creates_private_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        create_private_dir(&sub).unwrap();
        let mode = fs::metadata(&sub).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, DIR_MODE);
        let j = sub.join("j.jsonl");
        append_line(&j, "{}").unwrap();
        append_line(&j, "{\"a\":1}").unwrap();
        assert_eq!(fs::read_to_string(&j).unwrap(), "{}\n{\"a\":1}\n");
    }
}
