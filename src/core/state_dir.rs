//! Where progress lives on disk and how its files are named. Other parts of fieldbook (the
//! runner writing logs, the edit code writing backups, the CLI listing runs) take every path
//! from here so they agree.
//!
//! Layout under the state directory (practice runs use the same layout under `practice/`):
//!
//! ```text
//! runs/<runbook>@<target>.toml          the run: human-readable, replaced atomically
//! runs/<runbook>@<target>.jsonl         its journal: one JSON event per line, append-only
//! runs/<runbook>@<target>.toml.corrupt-<stamp>   an unreadable state file, moved aside
//! logs/<runbook>@<target>/<step>.<n>.log         output of attempt n of a step
//! logs/<runbook>@<target>/<step>.<n>.log.exit    "code N" / "signal N", by a detached supervisor
//! archive/runs/<runbook>@<target>-<stamp>/       a run put away by `fieldbook reset`
//! ```

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use super::atomic;
use super::exit_record::ExitRecord;
use super::progress::Run;

/// Environment variable naming the state directory (same as `--state-dir`).
pub const STATE_DIR_ENV: &str = "FIELDBOOK_STATE_DIR";
/// The state directory when running as root: the machine's own record, whoever logs in.
pub const SYSTEM_STATE_DIR: &str = "/var/lib/fieldbook";

/// Why no state directory could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum StateDirError {
    /// Not root, and neither `$XDG_STATE_HOME` nor `$HOME` is usable.
    #[error(
        "no state directory: set --state-dir DIR or {STATE_DIR_ENV} (neither $XDG_STATE_HOME nor $HOME is set)"
    )]
    NoHome,
    /// The directory is not safe to trust: another user owns it, others may write to it, or a
    /// part of it is a symbolic link (a planted link would make root write where it points).
    #[error(
        "refusing the state directory {path}: {why}; fix it or choose another with --state-dir"
    )]
    Untrusted {
        /// The directory.
        path: PathBuf,
        /// What is wrong, in words.
        why: String,
    },
    /// The directory could not be created.
    #[error("cannot create state directory {path}: {source}")]
    Create {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// The resolved state directory, real or practice: the root every run, log and archive path
/// is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
    practice: bool,
}

/// Picks the default state directory from the facts that decide it; separate from the
/// environment so every case can be tested.
pub fn default_dir(
    is_root: bool,
    xdg_state_home: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    if is_root {
        return Some(PathBuf::from(SYSTEM_STATE_DIR));
    }
    // The XDG spec says relative values are invalid and must be ignored.
    if let Some(x) = xdg_state_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return Some(x.join("fieldbook"));
    }
    let home = home.map(PathBuf::from).filter(|p| p.is_absolute())?;
    Some(home.join(".local/state/fieldbook"))
}

impl StateDir {
    /// Resolves the state directory: `explicit` (from `--state-dir`), else
    /// `$FIELDBOOK_STATE_DIR`, else the default for this user. Nothing is created yet.
    pub fn resolve(explicit: Option<&Path>, practice: bool) -> Result<StateDir, StateDirError> {
        let from_env = std::env::var_os(STATE_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let root = match explicit.map(Path::to_path_buf).or(from_env) {
            Some(dir) => dir,
            None => {
                // SAFETY: geteuid has no preconditions and cannot fail.
                let is_root = unsafe { libc::geteuid() } == 0;
                default_dir(
                    is_root,
                    std::env::var_os("XDG_STATE_HOME"),
                    std::env::var_os("HOME"),
                )
                .ok_or(StateDirError::NoHome)?
            }
        };
        Ok(StateDir::at(root, practice))
    }

    /// A state directory at a known place (tests, and callers that resolved it already).
    pub fn at(root: impl Into<PathBuf>, practice: bool) -> StateDir {
        StateDir {
            root: root.into(),
            practice,
        }
    }

    /// True for the practice area.
    pub fn is_practice(&self) -> bool {
        self.practice
    }

    /// The directory every path below is relative to: the state directory, or its `practice/`
    /// subdirectory so practice never mixes with real progress.
    pub fn base(&self) -> PathBuf {
        if self.practice {
            self.root.join("practice")
        } else {
            self.root.clone()
        }
    }

    /// Creates the directories (mode 0700) so files can be written, after checking that the
    /// state directory can be trusted ([`check_trusted`]): owned by this user, writable by
    /// nobody else, and no symbolic link below it.
    pub fn ensure(&self) -> Result<(), StateDirError> {
        let create = |dir: &Path| {
            atomic::create_private_dir(dir).map_err(|source| StateDirError::Create {
                path: dir.to_path_buf(),
                source,
            })
        };
        create(&self.root)?;
        check_trusted(&self.root, true)?;
        let base = self.base();
        if self.practice {
            create(&base)?;
            check_trusted(&base, false)?;
        }
        for dir in [base.join("runs"), base.join("logs")] {
            create(&dir)?;
            check_trusted(&dir, false)?;
        }
        self.check_existing()
    }

    /// Checks, creating nothing, every part of the state directory that exists: the directory
    /// itself (which may be a link the administrator made), the practice area, and `runs/`,
    /// `logs/`, `archive/` (with `runs/` and `edits/` in it) and `locks/`, which never may be
    /// links. A missing part is fine: `status` and `report` only read, and find nothing there.
    pub fn check_existing(&self) -> Result<(), StateDirError> {
        let exists = |dir: &Path| std::fs::symlink_metadata(dir).is_ok();
        if exists(&self.root) {
            check_trusted(&self.root, true)?;
        }
        let base = self.base();
        let archive = base.join("archive");
        let mut parts = vec![
            base.join("runs"),
            base.join("logs"),
            archive.clone(),
            archive.join("runs"),
            archive.join("edits"),
            base.join("locks"),
        ];
        if self.practice {
            parts.insert(0, base);
        }
        for dir in parts.iter().filter(|d| exists(d)) {
            check_trusted(dir, false)?;
        }
        Ok(())
    }

    /// Directory holding every run's state file and journal.
    pub fn runs_dir(&self) -> PathBuf {
        self.base().join("runs")
    }

    /// The state file of a run.
    pub fn run_file(&self, runbook: &str, target: &str) -> PathBuf {
        self.runs_dir()
            .join(format!("{}.toml", run_key(runbook, target)))
    }

    /// The append-only journal of a run.
    pub fn journal_file(&self, runbook: &str, target: &str) -> PathBuf {
        self.runs_dir()
            .join(format!("{}.jsonl", run_key(runbook, target)))
    }

    /// The lock file that keeps two fieldbooks from writing one run at once.
    pub fn lock_file(&self, runbook: &str, target: &str) -> PathBuf {
        self.runs_dir()
            .join(format!(".{}.lock", run_key(runbook, target)))
    }

    /// Directory of a run's attempt logs.
    pub fn logs_dir(&self, runbook: &str, target: &str) -> PathBuf {
        self.base().join("logs").join(run_key(runbook, target))
    }

    /// Where `fieldbook reset` puts old runs (kept, never deleted).
    pub fn archive_dir(&self) -> PathBuf {
        self.base().join("archive").join("runs")
    }

    /// Turns a path stored in a run (relative to the state directory) into a real path.
    pub fn resolve_path(&self, stored: &str) -> PathBuf {
        self.base().join(stored)
    }

    /// Every run's state file, sorted by name (corrupt copies and temps excluded).
    pub fn run_files(&self) -> io::Result<Vec<PathBuf>> {
        let dir = self.runs_dir();
        let listing = match std::fs::read_dir(&dir) {
            Ok(l) => l,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut files: Vec<PathBuf> = listing
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "toml")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        Ok(files)
    }
}

/// Checks that `dir` may be trusted as (part of) the state directory: a directory owned by the
/// effective user and writable by nobody else. `follow` allows the directory itself to be a
/// symbolic link (the state directory the administrator named); directories inside it never
/// may be one.
pub fn check_trusted(dir: &Path, follow: bool) -> Result<(), StateDirError> {
    use std::os::unix::fs::MetadataExt;
    let untrusted = |why: String| StateDirError::Untrusted {
        path: dir.to_path_buf(),
        why,
    };
    let meta = if follow {
        std::fs::metadata(dir)
    } else {
        std::fs::symlink_metadata(dir)
    }
    .map_err(|e| untrusted(format!("cannot look at it: {e}")))?;
    if meta.file_type().is_symlink() {
        return Err(untrusted("it is a symbolic link".into()));
    }
    if !meta.is_dir() {
        return Err(untrusted("it is not a directory".into()));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(untrusted(format!(
            "it belongs to uid {}, not to you (uid {me})",
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(untrusted(format!(
            "other users may write to it (mode {:04o}); chmod go-w it",
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

/// Reads a run's state file without changing anything (for `status` and `report`, which must
/// never move or rewrite a file). The error is a sentence naming the file and, for bad TOML,
/// the line and column.
pub fn read_run(path: &Path) -> Result<Run, String> {
    let bytes =
        atomic::read_nofollow(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse_run(path, &bytes)
}

/// Parses state file bytes; empty, truncated, non-UTF-8 and non-TOML content are all errors.
pub fn parse_run(path: &Path, bytes: &[u8]) -> Result<Run, String> {
    let name = path.display();
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("{name}: not valid UTF-8 at byte {}", e.valid_up_to()))?;
    if text.trim().is_empty() {
        return Err(format!("{name}: the file is empty"));
    }
    let run: Run = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| super::location::LineCol::of(text, s.start))
            .map(|lc| format!("{}:{}: ", lc.line, lc.col))
            .unwrap_or_default();
        format!("{name}:{at}{}", e.message())
    })?;
    if run.runbook.is_empty() || run.target.is_empty() {
        return Err(format!(
            "{name}: not a fieldbook run (no runbook or target)"
        ));
    }
    Ok(run)
}

/// The name of a run's files: `<runbook>@<target>`, each part made safe for a file name.
pub fn run_key(runbook: &str, target: &str) -> String {
    format!("{}@{}", file_safe(runbook), file_safe(target))
}

/// Makes a name safe as one file-name component. Unchanged if already safe (letters, digits,
/// `.`, `_`, `-`, not starting with `.`); otherwise unsafe bytes become `_` and a short hash of
/// the original is appended, so `web/1` and `web_1` never share a file.
pub fn file_safe(name: &str) -> String {
    let safe_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !name.is_empty() && !name.starts_with('.') && name.chars().all(safe_char) {
        return name.to_string();
    }
    let mut out: String = name
        .chars()
        .map(|c| if safe_char(c) { c } else { '_' })
        .collect();
    if out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    out.truncate(64);
    format!("{out}-{:08x}", fnv1a(name.as_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// THE LOG PATH CONTRACT, relative to the state directory's base: attempt `n` (1-based) of
/// `step` logs to `logs/<runbook>@<target>/<step>.<n>.log`. The store records this in
/// `Attempt::log`; the runner writes there; the report lists it.
pub fn attempt_log(runbook: &str, target: &str, step: &str, n: u32) -> String {
    format!(
        "logs/{}/{}.{n}.log",
        run_key(runbook, target),
        file_safe(step)
    )
}

/// An attempt's log path with its nonce in the name (`<step>.<n>.<nonce>.log`), for when
/// files of the plain name are left from an earlier run: a new attempt never reuses a path.
pub fn attempt_log_unique(runbook: &str, target: &str, step: &str, n: u32, nonce: &str) -> String {
    format!(
        "logs/{}/{}.{n}.{}.log",
        run_key(runbook, target),
        file_safe(step),
        file_safe(nonce)
    )
}

/// The file a detached step's supervisor writes (atomically) when its child ends:
/// `<log>.exit`, holding `code N` or `signal N` and what the supervisor judged
/// ([`ExitRecord`]). Its presence is how a later fieldbook learns
/// the real outcome of a step that outlived the app.
pub fn exit_file(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".exit");
    PathBuf::from(name)
}

#[cfg(test)]
/// Writes an exit file atomically (for the supervisor), owner-only, with the exit status
/// only (the format older fieldbooks wrote; see [`write_exit_record`] for the full one).
pub fn write_exit_file(path: &Path, exit: super::progress::Exit) -> io::Result<()> {
    write_exit_record(path, &ExitRecord::from(exit))
}

/// Writes an exit file atomically, owner-only: the exit status and what the supervisor judged.
pub fn write_exit_record(path: &Path, record: &ExitRecord) -> io::Result<()> {
    atomic::write_atomic(path, record.format().as_bytes())
}

#[cfg(test)]
/// The exit file's text for `exit` alone: `code N` or `signal N` and a newline.
pub fn format_exit(exit: super::progress::Exit) -> String {
    ExitRecord::from(exit).format()
}

#[cfg(test)]
/// Parses an exit file's exit status; `None` if it is not `code N` / `signal N` (followed by
/// the supervisor's judgement, if any).
pub fn parse_exit(text: &str) -> Option<super::progress::Exit> {
    ExitRecord::parse(text).map(|r| r.exit)
}

#[cfg(test)]
/// Reads an exit file's exit status: `Ok(None)` when it does not exist (the step has not ended).
pub fn read_exit_file(path: &Path) -> io::Result<Option<super::progress::Exit>> {
    Ok(read_exit_record(path)?.map(|r| r.exit))
}

/// Reads an exit file in full (old `code N` files too): `Ok(None)` when it does not exist.
pub fn read_exit_record(path: &Path) -> io::Result<Option<ExitRecord>> {
    match atomic::read_nofollow(path) {
        Ok(bytes) => ExitRecord::parse(&String::from_utf8_lossy(&bytes))
            .map(Some)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: expected 'code N' or 'signal N'", path.display()),
                )
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::Exit;

    #[test]
    fn default_dir_follows_root_xdg_home() {
        let s = |v: &str| Some(OsString::from(v));
        assert_eq!(
            default_dir(true, s("/x"), s("/home/a")),
            Some(PathBuf::from("/var/lib/fieldbook"))
        );
        assert_eq!(
            default_dir(false, s("/x/state"), s("/home/a")),
            Some(PathBuf::from("/x/state/fieldbook"))
        );
        assert_eq!(
            default_dir(false, s("relative"), s("/home/a")),
            Some(PathBuf::from("/home/a/.local/state/fieldbook"))
        );
        assert_eq!(default_dir(false, None, None), None);
    }

    #[test]
    fn practice_lives_apart_and_paths_follow_the_contract() {
        let real = StateDir::at("/s", false);
        let practice = StateDir::at("/s", true);
        assert_eq!(
            real.run_file("gentoo", "web1"),
            PathBuf::from("/s/runs/gentoo@web1.toml")
        );
        assert_eq!(
            practice.run_file("gentoo", "web1"),
            PathBuf::from("/s/practice/runs/gentoo@web1.toml")
        );
        assert_eq!(
            attempt_log("gentoo", "web1", "sync", 2),
            "logs/gentoo@web1/sync.2.log"
        );
        assert_eq!(
            exit_file(Path::new("/s/logs/a@b/sync.2.log")),
            PathBuf::from("/s/logs/a@b/sync.2.log.exit")
        );
    }

    #[test]
    fn unsafe_targets_get_distinct_safe_names() {
        assert_eq!(file_safe("web-01.example.org"), "web-01.example.org");
        let a = file_safe("web/1");
        let b = file_safe("web_1");
        assert_ne!(a, b);
        assert!(a.starts_with("web_1-"));
        for bad in ["", ".", "..", "../etc", "a b", "x@y", "ünï"] {
            let f = file_safe(bad);
            assert!(
                !f.contains('/') && !f.starts_with('.') && !f.is_empty(),
                "{bad} -> {f}"
            );
        }
    }

    #[test]
    fn exit_files_round_trip() {
        for e in [Exit::Code(0), Exit::Code(137), Exit::Signal(9)] {
            assert_eq!(parse_exit(&format_exit(e)), Some(e));
        }
        assert_eq!(parse_exit("exit 0"), None);
        assert_eq!(parse_exit(""), None);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log.exit");
        assert_eq!(read_exit_file(&p).unwrap(), None);
        write_exit_file(&p, Exit::Signal(15)).unwrap();
        assert_eq!(read_exit_file(&p).unwrap(), Some(Exit::Signal(15)));
        std::fs::write(&p, "garbage").unwrap();
        assert!(read_exit_file(&p).is_err());
    }
}
