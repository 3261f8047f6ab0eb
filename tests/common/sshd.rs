//! The loopback OpenSSH server of the `--host` tests (tests/support/remote-sshd.sh): started
//! once per test binary, in `CARGO_TARGET_TMPDIR/remote-sshd` (shared with tests/remote_ssh.rs
//! and the acceptance suite, which reuse a running server), and the fieldbook arguments that
//! reach it with its throwaway keys and nothing from `~/.ssh`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::skip::{is_root, skip};

/// Setup's exit code for "the Debian archive could not be reached".
const EX_UNREACHABLE: i32 = 75;

/// A running server: its directory (keys, known_hosts) and port.
pub struct Sshd {
    pub dir: PathBuf,
    pub port: u16,
}

/// Starts the server (once per test binary), or says why it cannot: `None` after a skip
/// (not root, no archive), which panics under `FIELDBOOK_ACCEPTANCE=require`.
pub fn start(test: &str) -> Option<&'static Sshd> {
    static SSHD: OnceLock<Result<Sshd, String>> = OnceLock::new();
    if !is_root() {
        return skip(
            test,
            "not running as root (sshd, test users, a chroot or a tmpfs need root)",
        );
    }
    let result = SSHD.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("remote-sshd");
        let out = Command::new("bash")
            .arg(repo.join("tests/support/remote-sshd.sh"))
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run remote-sshd.sh: {e}"))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(if out.status.code() == Some(EX_UNREACHABLE) {
                format!("the Debian archive could not be reached: {why}")
            } else {
                format!("remote-sshd.sh failed: {why}")
            });
        }
        let port = std::fs::read_to_string(dir.join("port"))
            .map_err(|e| e.to_string())?
            .trim()
            .parse()
            .map_err(|e| format!("port: {e}"))?;
        Ok(Sshd { dir, port })
    });
    match result {
        Ok(s) => Some(s),
        Err(why) if why.contains("could not be reached") => skip(test, why),
        Err(why) => panic!("{test}: {why}"),
    }
}

impl Sshd {
    /// `--host USER@127.0.0.1` with this server's port and keys (`--ssh-option`/`--ssh-arg`).
    pub fn host_args(&self, user: &str) -> Vec<String> {
        let mut v = vec!["--host".to_string(), format!("{user}@127.0.0.1")];
        v.extend(self.ssh_opts(self.port));
        v
    }

    /// The ssh options every test passes: `port` (another one to reach nobody) and this
    /// server's keys, nothing from `~/.ssh`.
    pub fn ssh_opts(&self, port: u16) -> Vec<String> {
        let mut v = Vec::new();
        for o in [
            format!("Port={port}"),
            format!(
                "UserKnownHostsFile={}",
                self.dir.join("known_hosts").display()
            ),
            "StrictHostKeyChecking=yes".into(),
            "BatchMode=yes".into(),
            "IdentitiesOnly=yes".into(),
            "ConnectTimeout=10".into(),
        ] {
            v.push("--ssh-option".into());
            v.push(o);
        }
        for a in [
            "-F".to_string(),
            "/dev/null".into(),
            "-i".into(),
            self.dir.join("id_ed25519").display().to_string(),
        ] {
            v.push(format!("--ssh-arg={a}"));
        }
        v
    }
}
