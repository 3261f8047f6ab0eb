//! `--root DIR` as a machine: commands, checks, listings and supervised long steps run through
//! `chroot DIR` (as ansible's chroot connection does), so a `check` answers about the image, not
//! the host. Where chroot cannot work (not root, no `/bin/sh` in DIR for a script step) the
//! step is refused with that reason; it never falls back to running on the host.

use std::path::{Path, PathBuf};

use super::{How, Machine, MachineError, Spawn};
use crate::core::runner::Command;

/// A chroot on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chroot {
    dir: PathBuf,
}

impl Chroot {
    /// The chroot at `dir`.
    pub fn new(dir: PathBuf) -> Chroot {
        Chroot { dir }
    }

    /// Why a command cannot run inside the root, if it cannot.
    fn refusal(&self, command: &Command) -> Option<String> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Some(format!(
                "--root {} runs commands inside it with chroot, which needs root; run \
                 fieldbook as root (nothing was run on this machine instead)",
                self.dir.display()
            ));
        }
        if !self.dir.is_dir() {
            return Some(format!("--root {} is not a directory", self.dir.display()));
        }
        let is_script = command.argv.get(1).is_some_and(|a| a == "-c");
        if is_script {
            let shell = command.argv.first().map_or("sh", String::as_str);
            let inside = if shell.starts_with('/') {
                self.dir.join(shell.trim_start_matches('/'))
            } else {
                self.dir.join("bin").join(shell)
            };
            if !inside.exists() {
                return Some(format!(
                    "a script step needs {} inside --root {}, and it is not there (nothing \
                     was run on this machine instead)",
                    Path::new("/")
                        .join(inside.strip_prefix(&self.dir).unwrap_or(&inside))
                        .display(),
                    self.dir.display()
                ));
            }
        }
        None
    }
}

impl Machine for Chroot {
    fn describe(&self) -> String {
        format!("chroot {}", self.dir.display())
    }

    fn program(&self, command: &Command, _how: How) -> Result<Spawn, MachineError> {
        if let Some(why) = self.refusal(command) {
            return Err(MachineError::Refused(why));
        }
        let mut argv = vec!["chroot".to_string(), self.dir.display().to_string()];
        argv.extend(command.argv.iter().cloned());
        Ok(Spawn {
            argv,
            env: command.env.clone(),
            remote_mark: None,
        })
    }

    fn chroot_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_without_sh_in_the_root_is_refused_never_run_on_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let c = Chroot::new(dir.path().to_path_buf());
        let script = Command {
            argv: vec!["/bin/sh".into(), "-c".into(), "touch /tmp/x".into()],
            env: vec![],
        };
        let err = c.program(&script, How::Captured).unwrap_err().to_string();
        // As root the missing sh is named; otherwise that chroot needs root.
        assert!(
            err.contains("/bin/sh") || err.contains("needs root"),
            "{err}"
        );
        let plain = Command {
            argv: vec!["rc-update".into(), "show".into()],
            env: vec![],
        };
        match c.program(&plain, How::Captured) {
            Ok(s) => assert_eq!(
                s.argv,
                vec![
                    "chroot".to_string(),
                    dir.path().display().to_string(),
                    "rc-update".into(),
                    "show".into()
                ]
            ),
            Err(e) => assert!(e.to_string().contains("needs root")),
        }
    }
}
