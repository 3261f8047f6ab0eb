//! Files inside the target's root (`--root DIR`, or `/`), reached only through directory
//! descriptors: every component is opened with `openat(O_NOFOLLOW)` from the descriptor of the
//! one before, starting at a descriptor of the root, and links are resolved here the way a
//! chroot would (absolute targets start again at the root, `..` stops there). A process racing
//! inside an image cannot make an edit, a backup read or an undo touch a file outside it:
//! swapping `etc/` for a link after it was opened changes nothing, and a link found on the way
//! is followed inside the root or not at all.
//!
//! This is the one safe-open API of the edit code ([`RootDir`], [`Located`]); a remote host
//! gets its own implementation behind the machine seam.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Symbolic links followed while resolving one path (as the kernel's ELOOP limit); a link
/// swapped back and forth by a racing process counts too, so the walk always ends.
const MAX_LINK_HOPS: usize = 40;

/// The root of the target's file system, held open.
#[derive(Debug)]
pub struct RootDir {
    fd: OwnedFd,
    path: PathBuf,
}

/// A path inside the root, located: the directory that holds it (held open) and its name in
/// it. Every operation goes through these, never through the path again.
#[derive(Debug)]
pub struct Located {
    /// The holding directory; `None` when a directory on the way does not exist.
    parent: Option<OwnedFd>,
    name: CString,
    /// The resolved path inside the root, `/`-rooted.
    pub inside: String,
    /// The path on this machine (root joined with `inside`), for messages and the record.
    pub real: PathBuf,
    /// When the last component is a link that was not followed: where it points.
    pub link: Option<String>,
}

/// What is at a located path (the last component never followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Nothing.
    Missing,
    /// A regular file.
    File,
    /// A symbolic link.
    Link,
    /// A directory.
    Directory,
    /// A device, fifo or socket.
    Special,
}

/// What [`Located::meta`] finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// What it is.
    pub kind: Kind,
    /// Owner and group (`None` when missing).
    pub owner: Option<(u32, u32)>,
    /// Size in bytes.
    pub size: u64,
}

/// One extended attribute (SELinux label, POSIX ACL, file capabilities...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xattr {
    /// Its name, e.g. `security.selinux`.
    pub name: String,
    /// Its raw value.
    pub value: Vec<u8>,
}

/// How a file is written in place of another.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    /// The content.
    pub bytes: &'a [u8],
    /// Permission bits.
    pub mode: u32,
    /// Owner and group, if they must be set.
    pub owner: Option<(u32, u32)>,
    /// Extended attributes to carry over.
    pub xattrs: &'a [Xattr],
}

fn cstr(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn last_error<T>() -> io::Result<T> {
    Err(io::Error::last_os_error())
}

fn open_at(dir: &OwnedFd, name: &CString, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    let flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: a valid descriptor and a NUL-terminated name; the result is checked.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) };
    if fd < 0 {
        return last_error();
    }
    // SAFETY: openat returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn lstat_at(dir: &OwnedFd, name: &CString) -> io::Result<Option<libc::stat>> {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor, NUL-terminated name, a stat buffer we own.
    let rc = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc == 0 {
        return Ok(Some(st));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOENT) => Ok(None),
        _ => Err(e),
    }
}

fn kind_of(st: &libc::stat) -> Kind {
    match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => Kind::File,
        libc::S_IFLNK => Kind::Link,
        libc::S_IFDIR => Kind::Directory,
        _ => Kind::Special,
    }
}

fn read_link_at(dir: &OwnedFd, name: &CString) -> io::Result<OsString> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: valid descriptor and name; the buffer is ours and its length is passed.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return last_error();
    }
    buf.truncate(n as usize);
    Ok(OsString::from_vec(buf))
}

fn sync_fd(fd: &OwnedFd) {
    if let Ok(dup) = fd.try_clone() {
        // Best effort: some file systems refuse fsync on a directory.
        let _ = File::from(dup).sync_all();
    }
}

/// The components of an absolute path that matter (`.` and repeated `/` dropped, `..` kept).
fn parts(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

impl RootDir {
    /// Opens the root (`/` for the machine itself). The root itself may be a link: the
    /// administrator named it.
    pub fn open(root: &Path) -> io::Result<RootDir> {
        let c = cstr(root.as_os_str())?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        // SAFETY: a NUL-terminated path; the result is checked.
        let fd = unsafe { libc::open(c.as_ptr(), flags) };
        if fd < 0 {
            return last_error();
        }
        Ok(RootDir {
            // SAFETY: open returned a new descriptor that nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: root.to_path_buf(),
        })
    }

    /// The root's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Locates `path` (absolute, as on the target, without `..`) inside the root: directories
    /// opened one by one without following links, links on the way resolved inside the root.
    /// The last component is followed only when `follow_last` is set; otherwise a link there is
    /// reported in [`Located::link`]. `ELOOP` means too many links.
    pub fn locate(&self, path: &str, follow_last: bool) -> io::Result<Located> {
        let mut pending = parts(Path::new(path));
        pending.reverse(); // a stack: next component on top
        let mut dirs: Vec<OwnedFd> = vec![self.fd.try_clone()?];
        let mut inside: Vec<OsString> = Vec::new();
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            if c == ".." {
                // Only from a link target; like a chroot, it stops at the root.
                if inside.pop().is_some() {
                    dirs.pop();
                }
                continue;
            }
            let name = cstr(&c)?;
            let Some(dir) = dirs.last() else {
                return Err(io::Error::other("lost the root directory"));
            };
            if pending.is_empty() {
                let st = lstat_at(dir, &name)?;
                let is_link = st.as_ref().is_some_and(|s| kind_of(s) == Kind::Link);
                let mut link = None;
                if is_link {
                    let target = read_link_at(dir, &name)?;
                    if follow_last {
                        hops += 1;
                        if hops > MAX_LINK_HOPS {
                            return Err(io::Error::from_raw_os_error(libc::ELOOP));
                        }
                        self.push_link(&target, &mut pending, &mut inside, &mut dirs);
                        continue;
                    }
                    link = Some(target.to_string_lossy().into_owned());
                }
                inside.push(c);
                let parent = dirs.pop();
                return Ok(self.located(parent, name, &inside, link));
            }
            match open_at(dir, &name, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
                Ok(fd) => {
                    dirs.push(fd);
                    inside.push(c);
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    // A directory on the way is missing: nothing below it exists, and nothing
                    // can be written there.
                    inside.push(c);
                    while let Some(rest) = pending.pop() {
                        if rest == ".." {
                            inside.pop();
                        } else {
                            inside.push(rest);
                        }
                    }
                    let name = cstr(inside.last().map_or(OsStr::new(""), |n| n.as_os_str()))?;
                    return Ok(self.located(None, name, &inside, None));
                }
                Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                    hops += 1;
                    if hops > MAX_LINK_HOPS {
                        return Err(io::Error::from_raw_os_error(libc::ELOOP));
                    }
                    match lstat_at(dir, &name)? {
                        Some(st) if kind_of(&st) == Kind::Link => {
                            let target = read_link_at(dir, &name)?;
                            self.push_link(&target, &mut pending, &mut inside, &mut dirs);
                        }
                        // Swapped back to a directory meanwhile: look again.
                        Some(st) if kind_of(&st) == Kind::Directory => pending.push(c),
                        _ => return Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::from_raw_os_error(libc::EISDIR))
    }

    /// Continues the walk at a link's target: an absolute one starts again at the root.
    fn push_link(
        &self,
        target: &OsStr,
        pending: &mut Vec<OsString>,
        inside: &mut Vec<OsString>,
        dirs: &mut Vec<OwnedFd>,
    ) {
        if Path::new(target).is_absolute() {
            inside.clear();
            dirs.truncate(1);
        }
        for p in parts(Path::new(target)).into_iter().rev() {
            pending.push(p);
        }
    }

    fn located(
        &self,
        parent: Option<OwnedFd>,
        name: CString,
        inside: &[OsString],
        link: Option<String>,
    ) -> Located {
        let mut real = self.path.clone();
        real.extend(inside);
        let inside = format!(
            "/{}",
            inside
                .iter()
                .map(|s| s.to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        );
        Located {
            parent,
            name,
            inside,
            real,
            link,
        }
    }
}

impl Located {
    fn dir(&self) -> io::Result<&OwnedFd> {
        self.parent
            .as_ref()
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    /// True when the directory that would hold the file exists.
    pub fn has_parent(&self) -> bool {
        self.parent.is_some()
    }

    /// What is there now (a link is not followed), with its owner, group and size.
    pub fn meta(&self) -> io::Result<Meta> {
        let missing = Meta {
            kind: Kind::Missing,
            owner: None,
            size: 0,
        };
        let Some(dir) = self.parent.as_ref() else {
            return Ok(missing);
        };
        Ok(match lstat_at(dir, &self.name)? {
            None => missing,
            Some(st) => Meta {
                kind: kind_of(&st),
                owner: Some((st.st_uid, st.st_gid)),
                size: u64::try_from(st.st_size).unwrap_or(0),
            },
        })
    }

    /// Where the link here points.
    pub fn read_link(&self) -> io::Result<String> {
        Ok(read_link_at(self.dir()?, &self.name)?
            .to_string_lossy()
            .into_owned())
    }

    /// Opens the regular file here for reading, never through a link and never blocking on a
    /// fifo swapped in meanwhile; `limit + 1` bytes at most are read, with its mode and
    /// extended attributes.
    pub fn read_file(&self, limit: u64) -> io::Result<(Vec<u8>, u32, Vec<Xattr>)> {
        let fd = open_at(
            self.dir()?,
            &self.name,
            libc::O_RDONLY | libc::O_NONBLOCK,
            0,
        )?;
        let file = File::from(fd);
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let xattrs = xattrs_of(&file)?;
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes)?;
        Ok((bytes, meta.permissions().mode() & 0o7777, xattrs))
    }

    /// Replaces what is here with a new file: written to a temporary name in the same
    /// directory (created exclusively, never through a link), owner, extended attributes and
    /// mode set on the descriptor, synced, renamed over, and the directory synced.
    pub fn replace_file(&self, new: NewFile<'_>) -> io::Result<()> {
        let dir = self.dir()?;
        let tmp = self.temp_name()?;
        self.remove_name(&tmp)?;
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
        let fd = open_at(dir, &tmp, flags, 0o600)?;
        let result = (|| {
            let mut f = File::from(fd);
            f.write_all(new.bytes)?;
            if let Some((uid, gid)) = new.owner {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
            }
            // After the write and chown, which would clear file capabilities.
            set_xattrs(&f, new.xattrs)?;
            // After chown, which clears set-id bits.
            f.set_permissions(std::fs::Permissions::from_mode(new.mode))?;
            f.sync_all()?;
            self.rename_over(&tmp)
        })();
        if result.is_err() {
            let _ = self.remove_name(&tmp);
        }
        result
    }

    /// Replaces what is here with a symbolic link to `target`.
    pub fn replace_with_link(&self, target: &str) -> io::Result<()> {
        let dir = self.dir()?;
        let tmp = self.temp_name()?;
        self.remove_name(&tmp)?;
        let t = cstr(OsStr::new(target))?;
        // SAFETY: NUL-terminated strings and a valid descriptor.
        if unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), tmp.as_ptr()) } != 0 {
            return last_error();
        }
        let result = self.rename_over(&tmp);
        if result.is_err() {
            let _ = self.remove_name(&tmp);
        }
        result
    }

    /// Removes the file or link here (nothing there is fine).
    pub fn remove(&self) -> io::Result<()> {
        self.remove_name(&self.name)?;
        sync_fd(self.dir()?);
        Ok(())
    }

    /// Changes the mode of the regular file here (opened without following a link).
    pub fn set_mode(&self, mode: u32) -> io::Result<()> {
        let fd = open_at(
            self.dir()?,
            &self.name,
            libc::O_RDONLY | libc::O_NONBLOCK,
            0,
        )?;
        let f = File::from(fd);
        if !f.metadata()?.is_file() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        f.set_permissions(std::fs::Permissions::from_mode(mode))
    }

    /// The temporary name beside the file. A leading dot keeps it out of shell globs, so
    /// run-parts and `conf.d/*` loaders never pick up a half-written temp left by a crash.
    fn temp_name(&self) -> io::Result<CString> {
        let mut name = b".".to_vec();
        name.extend_from_slice(self.name.as_bytes());
        name.extend_from_slice(b".fieldbook-tmp");
        CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    }

    fn remove_name(&self, name: &CString) -> io::Result<()> {
        // SAFETY: a valid descriptor and a NUL-terminated name.
        let rc = unsafe { libc::unlinkat(self.dir()?.as_raw_fd(), name.as_ptr(), 0) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::ENOENT) {
                return Err(e);
            }
        }
        Ok(())
    }

    fn rename_over(&self, tmp: &CString) -> io::Result<()> {
        let dir = self.dir()?;
        // SAFETY: valid descriptors and NUL-terminated names.
        let rc = unsafe {
            libc::renameat(
                dir.as_raw_fd(),
                tmp.as_ptr(),
                dir.as_raw_fd(),
                self.name.as_ptr(),
            )
        };
        if rc != 0 {
            return last_error();
        }
        sync_fd(dir);
        Ok(())
    }
}

/// The extended attributes of an open file (none where the file system has none).
pub fn xattrs_of(file: &File) -> io::Result<Vec<Xattr>> {
    let fd = file.as_raw_fd();
    // SAFETY: a null buffer of size 0 asks for the size only.
    let size = unsafe { libc::flistxattr(fd, std::ptr::null_mut(), 0) };
    if size < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENOTSUP) => Ok(Vec::new()),
            _ => Err(e),
        };
    }
    let mut names = vec![0u8; size as usize];
    // SAFETY: the buffer is ours and its length is passed.
    let size = unsafe { libc::flistxattr(fd, names.as_mut_ptr().cast(), names.len()) };
    if size < 0 {
        return last_error();
    }
    names.truncate(size as usize);
    let mut out = Vec::new();
    for raw in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = CString::new(raw).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
        // SAFETY: size query with a null buffer.
        let len = unsafe { libc::fgetxattr(fd, name.as_ptr(), std::ptr::null_mut(), 0) };
        if len < 0 {
            return last_error();
        }
        let mut value = vec![0u8; len as usize];
        // SAFETY: the buffer is ours and its length is passed.
        let len =
            unsafe { libc::fgetxattr(fd, name.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if len < 0 {
            return last_error();
        }
        value.truncate(len as usize);
        out.push(Xattr {
            name: String::from_utf8_lossy(raw).into_owned(),
            value,
        });
    }
    Ok(out)
}

/// Sets extended attributes on an open file.
pub fn set_xattrs(file: &File, xattrs: &[Xattr]) -> io::Result<()> {
    for x in xattrs {
        let name = CString::new(x.name.as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a valid descriptor, a NUL-terminated name and a buffer with its length.
        let rc = unsafe {
            libc::fsetxattr(
                file.as_raw_fd(),
                name.as_ptr(),
                x.value.as_ptr().cast(),
                x.value.len(),
                0,
            )
        };
        if rc != 0 {
            return last_error();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("etc/init.d")).unwrap();
        std::fs::create_dir_all(root.join("real")).unwrap();
        symlink("/real", root.join("etc/conf.d")).unwrap();
        symlink("../../../../../../real", root.join("etc/up")).unwrap();
        symlink("net.lo", root.join("etc/init.d/net.eth0")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        let r = RootDir::open(&root).unwrap();
        let l = r.locate("/etc/conf.d/rc", true).unwrap();
        assert_eq!(
            (l.inside.as_str(), l.real.clone()),
            ("/real/rc", root.join("real/rc"))
        );
        assert_eq!(r.locate("/etc/up/x", true).unwrap().inside, "/real/x");
        let l = r.locate("/etc/init.d/net.eth0", false).unwrap();
        assert_eq!(l.link.as_deref(), Some("net.lo"));
        let e = r.locate("/loop/x", true).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
        let l = r.locate("/no/such/dir/file", false).unwrap();
        assert!(!l.has_parent());
        assert_eq!(l.meta().unwrap().kind, Kind::Missing);
    }

    #[test]
    fn writes_stay_in_the_directory_that_was_opened() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let r = RootDir::open(&root).unwrap();
        let l = r.locate("/etc/hosts", false).unwrap();
        // The directory is swapped for a link to the outside after it was opened.
        std::fs::rename(root.join("etc"), root.join("etc.old")).unwrap();
        symlink(&outside, root.join("etc")).unwrap();
        l.replace_file(NewFile {
            bytes: b"x\n",
            mode: 0o644,
            owner: None,
            xattrs: &[],
        })
        .unwrap();
        assert!(!outside.join("hosts").exists());
        assert_eq!(std::fs::read(root.join("etc.old/hosts")).unwrap(), b"x\n");
        // Located again, the link is resolved inside the root, not on the host.
        let l = r.locate("/etc/hosts", false).unwrap();
        assert!(l.real.starts_with(&root), "{}", l.real.display());
        assert!(!l.has_parent() || !l.real.starts_with(&outside));
    }
}
