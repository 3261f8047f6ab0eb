//! A full disk, said plainly. fieldbook keeps a small reserve file in the state directory
//! (`.reserve`); when a save, an exit file or a log's "cut here" line fails for want of space,
//! the reserve is given up and the write tried again, so the record is kept at once instead of
//! being lost or blamed on a kill. The reserve is made again when space allows.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Size of the reserve: room for a state file, a journal line, an exit file and a few log
/// lines.
pub const RESERVE_BYTES: usize = 256 * 1024;

/// The reserve file of a state directory's base.
pub fn reserve_path(base: &Path) -> PathBuf {
    base.join(".reserve")
}

/// True for the errors of a full disk or an exhausted quota.
pub fn is_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
}

/// Makes the reserve if it is missing (best effort): true when it is in place.
pub fn ensure_reserve(base: &Path) -> bool {
    let path = reserve_path(base);
    if path
        .symlink_metadata()
        .is_ok_and(|m| m.is_file() && m.len() >= RESERVE_BYTES as u64)
    {
        return true;
    }
    let made = (|| -> io::Result<()> {
        let mut f = super::atomic::private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        f.write_all(&vec![0u8; RESERVE_BYTES])?;
        f.sync_all()
    })();
    if made.is_err() {
        let _ = std::fs::remove_file(&path);
    }
    made.is_ok()
}

/// Gives the reserve up so a record can be written; true if there was one.
pub fn release_reserve(base: &Path) -> bool {
    std::fs::remove_file(reserve_path(base)).is_ok()
}

/// Runs `write`; if it fails because the disk is full, gives up the reserve of `base` and runs
/// it once more. Returns the result and whether the disk was found full.
pub fn with_reserve<T>(
    base: &Path,
    mut write: impl FnMut() -> io::Result<T>,
) -> (io::Result<T>, bool) {
    match write() {
        Err(e) if is_full(&e) => {
            if release_reserve(base) {
                (write(), true)
            } else {
                (Err(e), true)
            }
        }
        other => (other, false),
    }
}

/// Room a step's log leaves on its file system: below it the log is cut, so the outcome of
/// the step can still be saved beside it.
pub const LOG_MARGIN: u64 = RESERVE_BYTES as u64;

/// Bytes the effective user may still write on the file system holding `path` (`None` when
/// `statvfs` cannot tell).
pub fn room_left(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is a valid buffer to be overwritten.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a buffer we own.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    // SAFETY: geteuid cannot fail.
    let blocks = if unsafe { libc::geteuid() } == 0 {
        st.f_bfree
    } else {
        st.f_bavail
    };
    Some((blocks as u64).saturating_mul(st.f_frsize as u64))
}

/// True when the file system holding `path` has no space left for an ordinary user (as far as
/// `statvfs` can tell).
pub fn no_space_at(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: an all-zero statvfs is a valid buffer to be overwritten.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a buffer we own.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return false;
    }
    // SAFETY: geteuid cannot fail.
    let free = if unsafe { libc::geteuid() } == 0 {
        st.f_bfree
    } else {
        st.f_bavail
    };
    free == 0
}

/// The state directory's base a log lives in (`<base>/logs/<run>/<file>`, the layout of
/// `core::state_dir`), so the runner and the supervisor find the reserve.
pub fn base_of_log(log: &Path) -> Option<PathBuf> {
    let logs = log.parent()?.parent()?;
    (logs.file_name()? == "logs").then(|| logs.parent().map(Path::to_path_buf))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_made_given_up_and_found_from_a_log() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ensure_reserve(dir.path()));
        assert_eq!(
            std::fs::metadata(reserve_path(dir.path())).unwrap().len(),
            RESERVE_BYTES as u64
        );
        let mut calls = 0;
        let (r, full) = with_reserve(dir.path(), || {
            calls += 1;
            if calls == 1 {
                Err(io::Error::from_raw_os_error(libc::ENOSPC))
            } else {
                Ok(calls)
            }
        });
        assert_eq!((r.unwrap(), full), (2, true));
        assert!(!reserve_path(dir.path()).exists());
        assert_eq!(
            base_of_log(Path::new("/s/logs/a@b/x.1.log")),
            Some(PathBuf::from("/s"))
        );
        assert_eq!(base_of_log(Path::new("/s/other/a@b/x.1.log")), None);
        assert!(!no_space_at(dir.path()));
    }
}
