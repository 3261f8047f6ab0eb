//! Runs `scripts/acceptance-setup.sh` for one part and decides between running and skipping.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// The setup script's exit code for "a package registry could not be reached".
const EX_UNREACHABLE: i32 = 75;

/// Which throwaway root a test drives.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// DIR/openrc: the chroot with the real rc-update.
    OpenRc,
    /// DIR/gentoo: the prefix tree with the real emerge.
    Gentoo,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::OpenRc => "openrc",
            Part::Gentoo => "gentoo",
        }
    }
}

/// A root reset to its starting state, held exclusively by one test until dropped.
pub struct Root {
    /// DIR/openrc or DIR/gentoo.
    pub base: PathBuf,
    _exclusive: MutexGuard<'static, ()>,
}

impl Root {
    /// The directory of PATH wrappers (rc-update, emerge, ...) that reach the real tools.
    pub fn bin(&self) -> PathBuf {
        self.base.join("bin")
    }

    /// The tree the tool works on (the chroot, or the Gentoo prefix).
    pub fn tree(&self) -> PathBuf {
        self.base.join("root")
    }
}

static OPENRC: Mutex<()> = Mutex::new(());
static GENTOO: Mutex<()> = Mutex::new(());

/// Where the setup keeps its cache and roots: inside this checkout's target directory.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("acceptance")
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Resets `part` and returns it, or prints why the test is skipped and returns `None`.
/// With `FIELDBOOK_ACCEPTANCE=require` a reason to skip is a failure instead.
pub fn root(test: &str, part: Part) -> Option<Root> {
    let lock = match part {
        Part::OpenRc => &OPENRC,
        Part::Gentoo => &GENTOO,
    };
    // A test that failed while holding the root poisons the lock; the next one resets anyway.
    let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        let why = match part {
            Part::OpenRc => "not running as root (the OpenRC root is entered with chroot)",
            Part::Gentoo => "not running as root (Portage builds and merges as root here)",
        };
        return skip(test, why);
    }
    if std::env::var("FIELDBOOK_ACCEPTANCE").as_deref() == Ok("skip") {
        return skip(test, "FIELDBOOK_ACCEPTANCE=skip");
    }
    let out = Command::new("bash")
        .arg(repo_file("scripts/acceptance-setup.sh"))
        .arg(dir())
        .arg(part.name())
        .env("ACCEPTANCE_SETUP_QUIET", "1")
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Some(Root {
            base: dir().join(part.name()),
            _exclusive: guard,
        }),
        Some(EX_UNREACHABLE) => skip(
            test,
            &format!("a package registry could not be reached: {}", stderr.trim()),
        ),
        _ => panic!(
            "scripts/acceptance-setup.sh {} {} failed ({}):\n{stderr}",
            dir().display(),
            part.name(),
            out.status
        ),
    }
}

pub use crate::common::skip::skip;
