//! A host over the system's OpenSSH client. One ControlMaster connection serves the whole
//! session: it is opened before the app draws (so a password or host-key prompt is answered in
//! the plain terminal), every later command reuses its socket (kept in a private 0700
//! directory), and it is closed at exit. ssh's own failure (exit 255, a lost link) is told apart
//! from the program's exit, and cancel reaches the remote process group with `kill`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Captured, How, Machine, MachineError, Spawn, remote_line};
use crate::core::fleet::{self, ssh::SSH_ENV};
use crate::core::progress::Exit;
use crate::core::runner::{Command, StepJob};

/// Longest a housekeeping command (signal, exit probe, file read) may take.
const QUICK_LIMIT: Duration = Duration::from_secs(60);

/// How long a program left running on the host by a dropped link has to end after SIGTERM
/// before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How long the master stays after the last use if fieldbook dies without closing it.
const PERSIST_SECS: u32 = 600;

/// How to reach the host: the global options `--host`, `--ssh-option`, `--ssh-arg`,
/// `--remote-dir` and `FIELDBOOK_SSH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshConfig {
    /// `[USER@]HOST` as given (also an ssh config alias).
    pub destination: String,
    /// The ssh program: `$FIELDBOOK_SSH` or `ssh`.
    pub program: String,
    /// `--ssh-option OPT`, passed as `-o OPT`.
    pub options: Vec<String>,
    /// `--ssh-arg ARG`, passed as they are, before the host.
    pub args: Vec<String>,
    /// `--remote-dir DIR`; default `/var/tmp/fieldbook-USER` on the host.
    pub remote_dir: Option<String>,
}

impl SshConfig {
    /// Checks the destination (a host starting with `-` would be read by ssh as an option)
    /// and the remote dir, and takes the ssh program from `FIELDBOOK_SSH`.
    pub fn new(
        destination: &str,
        options: Vec<String>,
        args: Vec<String>,
        remote_dir: Option<String>,
    ) -> Result<SshConfig, String> {
        fleet::check_host(destination).map_err(|e| format!("--host: {e}"))?;
        if let Some(d) = &remote_dir
            && (!d.starts_with('/') || d.chars().any(char::is_control))
        {
            return Err(format!(
                "--remote-dir '{}' must be an absolute path on the host",
                crate::core::terminal_text::terminal_safe_line(d)
            ));
        }
        Ok(SshConfig {
            destination: destination.to_string(),
            program: std::env::var(SSH_ENV)
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "ssh".into()),
            options,
            args,
            remote_dir,
        })
    }

    /// The host without the user: the run's default target.
    pub fn host_name(&self) -> &str {
        self.destination
            .rsplit_once('@')
            .map_or(self.destination.as_str(), |(_, h)| h)
    }
}

/// An open session to a host.
#[derive(Debug)]
pub struct SshSession {
    cfg: SshConfig,
    control_dir: PathBuf,
    socket: PathBuf,
    /// The private directory on the host (marks, long steps, edit backups).
    remote_dir: String,
    /// `--root DIR` with `--host`: a chroot on the host.
    root: Option<PathBuf>,
    counter: AtomicU64,
    nonce: String,
    closed: Mutex<bool>,
}

/// A private local directory for the control socket (short path: sockets are limited to
/// about 100 bytes).
fn control_dir() -> Result<PathBuf, MachineError> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir() && p.as_os_str().len() < 60)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    for n in 0..100u32 {
        let dir = base.join(format!("fbssh.{}.{}.{n}", std::process::id(), nanos()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(MachineError::Refused(format!(
                    "cannot create a private directory for the ssh connection in {}: {e}",
                    base.display()
                )));
            }
        }
    }
    Err(MachineError::Refused(
        "cannot create a private directory for the ssh connection".into(),
    ))
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

impl SshSession {
    /// Opens the master connection and prepares the remote directory. Prompts (password,
    /// host key) are ssh's own, on the terminal. Errors name what ssh said.
    pub fn open(cfg: SshConfig, root: Option<PathBuf>) -> Result<SshSession, MachineError> {
        let control_dir = control_dir()?;
        let socket = control_dir.join("m");
        let mut session = SshSession {
            cfg,
            socket,
            control_dir,
            remote_dir: String::new(),
            root,
            counter: AtomicU64::new(0),
            nonce: format!("{}-{}", std::process::id(), nanos()),
            closed: Mutex::new(false),
        };
        // On an error the session is dropped, which closes the master and its directory.
        session.remote_dir = session.open_master(false)?;
        Ok(session)
    }

    /// Starts the master (in the background once authenticated) and runs the open probe
    /// through it. `batch`: no prompts (a reconnect while the app draws).
    fn open_master(&self, batch: bool) -> Result<String, MachineError> {
        let mut argv = self.user_args();
        argv.extend(
            [
                "-o",
                "ControlMaster=yes",
                "-o",
                &format!("ControlPersist={PERSIST_SECS}"),
                "-o",
                &format!("ControlPath={}", self.socket.display()),
                "-T",
            ]
            .map(String::from),
        );
        if batch {
            argv.extend(["-o".to_string(), "BatchMode=yes".to_string()]);
        }
        argv.push("--".into());
        argv.push(self.cfg.destination.clone());
        argv.push(remote_line::open_probe(
            self.cfg.remote_dir.as_deref().unwrap_or(""),
        ));
        let stdin = if batch {
            std::process::Stdio::null()
        } else {
            std::process::Stdio::inherit()
        };
        let out = std::process::Command::new(&self.cfg.program)
            .args(&argv)
            .stdin(stdin)
            .output()
            .map_err(|e| {
                MachineError::Link(format!(
                    "cannot run {} to reach {}: {e}",
                    self.cfg.program, self.cfg.destination
                ))
            })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = crate::core::terminal_text::terminal_safe_line(
            String::from_utf8_lossy(&out.stderr).trim(),
        );
        let dir = stdout
            .lines()
            .find_map(|l| l.strip_prefix(remote_line::DIR_MARK))
            .map(str::to_string);
        match (out.status.code(), dir) {
            (Some(0), Some(dir)) => Ok(dir),
            (Some(255), _) => Err(MachineError::Link(format!(
                "cannot connect to {} over ssh: {}",
                self.cfg.destination,
                if stderr.is_empty() {
                    "ssh exited 255".to_string()
                } else {
                    stderr
                }
            ))),
            (Some(127), _) => Err(MachineError::Refused(format!(
                "{} has no POSIX sh (`sh` was not found there: {stderr}); fieldbook needs sh, \
                 cat, mv, chmod, chown, kill, nohup and tail on the host",
                self.cfg.destination
            ))),
            (code, _) => Err(MachineError::Failed(format!(
                "{} could not prepare its working directory (exit {}): {stderr}",
                self.cfg.destination,
                code.map_or("by signal".to_string(), |c| c.to_string())
            ))),
        }
    }

    /// The technician's own ssh options and arguments (they come first: ssh keeps the first
    /// value it sees for an option).
    fn user_args(&self) -> Vec<String> {
        let mut argv = Vec::new();
        for o in &self.cfg.options {
            argv.push("-o".to_string());
            argv.push(o.clone());
        }
        argv.extend(self.cfg.args.iter().cloned());
        argv
    }

    /// `ssh [options] -o ControlPath=… [-T|-t] -- DEST LINE`: a client of the master.
    fn client_argv(&self, tty: bool, line: String) -> Vec<String> {
        let mut argv = vec![self.cfg.program.clone()];
        argv.extend(self.user_args());
        argv.extend(
            [
                "-o",
                "ControlMaster=no",
                "-o",
                &format!("ControlPath={}", self.socket.display()),
                "-o",
                "BatchMode=yes",
                if tty { "-t" } else { "-T" },
                "--",
                &self.cfg.destination,
            ]
            .map(String::from),
        );
        argv.push(line);
        argv
    }

    /// The remote directory in use.
    pub fn remote_dir(&self) -> &str {
        &self.remote_dir
    }

    /// `[USER@]HOST` as given.
    pub fn destination(&self) -> &str {
        &self.cfg.destination
    }

    fn next_mark(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        format!("{}/marks/{}-{n}", self.remote_dir, self.nonce)
    }

    /// The argv to run on the host: behind `chroot DIR` when `--root` was given too.
    fn rooted(&self, argv: &[String]) -> Vec<String> {
        match &self.root {
            Some(root) => {
                let mut v = vec!["chroot".to_string(), root.display().to_string()];
                v.extend(argv.iter().cloned());
                v
            }
            None => argv.to_vec(),
        }
    }

    /// `job` as it must run on the host: each program behind `chroot DIR` when `--root` was
    /// given too, as every other command of the session runs (the supervisor itself, its log
    /// and exit file stay outside the root, in the remote dir).
    pub(crate) fn rooted_job(&self, job: &StepJob) -> StepJob {
        let mut job = job.clone();
        for c in &mut job.commands {
            c.argv = self.rooted(&c.argv);
        }
        job
    }

    /// Runs a remote line through the master, feeding `stdin`, and waits at most `limit`.
    /// ssh's own failure becomes [`MachineError::Link`].
    pub fn run_line(
        &self,
        line: String,
        stdin: Option<&[u8]>,
        limit: Duration,
    ) -> Result<Captured, MachineError> {
        let argv = self.client_argv(false, line);
        let mut expr = duct::cmd(&argv[0], &argv[1..])
            .stdout_capture()
            .stderr_capture()
            .unchecked();
        expr = match stdin {
            Some(bytes) => expr.stdin_bytes(bytes.to_vec()),
            None => expr.stdin_null(),
        };
        let handle = expr
            .start()
            .map_err(|e| MachineError::Link(format!("cannot run {}: {e}", self.cfg.program)))?;
        let deadline = Instant::now() + limit;
        let out = loop {
            match handle.try_wait() {
                Ok(Some(out)) => break out.clone(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(None) => {
                    let _ = handle.kill();
                    return Err(MachineError::Link(format!(
                        "{} did not answer within {} s",
                        self.cfg.destination,
                        limit.as_secs()
                    )));
                }
                Err(e) => return Err(MachineError::Link(format!("waiting for ssh: {e}"))),
            }
        };
        use std::os::unix::process::ExitStatusExt;
        let exit = match (out.status.code(), out.status.signal()) {
            (Some(c), _) => Exit::Code(c),
            (None, Some(s)) => Exit::Signal(s),
            (None, None) => Exit::Code(-1),
        };
        if exit == Exit::Code(255) {
            return Err(self.link_lost(&out.stderr));
        }
        Ok(Captured {
            exit,
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    /// After the link dropped under a short program: reconnects and ends what is left of its
    /// group on the host (SIGTERM, then SIGKILL after [`STOP_GRACE`]), so a step that is
    /// reported interrupted is not still changing the box. Says which in the error.
    fn stop_left_behind(&self, mark: &str, lost: MachineError) -> MachineError {
        if !self.reconnect() {
            return MachineError::Link(format!(
                "{lost}; it may still be running on {} (fieldbook could not reconnect to stop it)",
                self.cfg.destination
            ));
        }
        let alive = || {
            self.run_line(remote_line::group_alive(mark), None, QUICK_LIMIT)
                .is_ok_and(|o| o.exit == Exit::Code(0))
        };
        if !alive() {
            return lost;
        }
        let _ = self.run_line(remote_line::signal(mark, libc::SIGTERM), None, QUICK_LIMIT);
        let deadline = Instant::now() + STOP_GRACE;
        while alive() {
            if Instant::now() >= deadline {
                let _ = self.run_line(remote_line::signal(mark, libc::SIGKILL), None, QUICK_LIMIT);
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        MachineError::Link(format!(
            "{lost}; fieldbook reconnected and stopped the program on {}",
            self.cfg.destination
        ))
    }

    fn link_lost(&self, stderr: &[u8]) -> MachineError {
        let said =
            crate::core::terminal_text::terminal_safe_line(String::from_utf8_lossy(stderr).trim());
        MachineError::Link(format!(
            "the connection to {} was lost (ssh exit 255{})",
            self.cfg.destination,
            if said.is_empty() {
                String::new()
            } else {
                format!(": {said}")
            }
        ))
    }

    /// True while the master connection answers.
    pub fn master_alive(&self) -> bool {
        let mut argv = self.user_args();
        argv.extend(
            [
                "-o",
                &format!("ControlPath={}", self.socket.display()),
                "-O",
                "check",
                "--",
                &self.cfg.destination,
            ]
            .map(String::from),
        );
        std::process::Command::new(&self.cfg.program)
            .args(&argv)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Opens the master again without prompting (after the link dropped). True on success.
    pub fn reconnect(&self) -> bool {
        self.master_alive() || self.open_master(true).is_ok()
    }

    /// Closes the master and removes the socket directory (also done on drop).
    pub fn close(&self) {
        let Ok(mut closed) = self.closed.lock() else {
            return;
        };
        if *closed {
            return;
        }
        *closed = true;
        if self.socket.exists() {
            // The session's marks go with it (a kill leaves them: the next session's own marks
            // have another nonce, so stale ones are only files, never read).
            let forget = remote_line::forget_marks(&self.remote_dir, &self.nonce);
            let _ = self.run_line(forget, None, Duration::from_secs(3));
            let mut argv = self.user_args();
            argv.extend(
                [
                    "-o",
                    &format!("ControlPath={}", self.socket.display()),
                    "-O",
                    "exit",
                    "--",
                    &self.cfg.destination,
                ]
                .map(String::from),
            );
            let _ = std::process::Command::new(&self.cfg.program)
                .args(&argv)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.control_dir);
    }

    /// The control socket (tests kill the master through it).
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for SshSession {
    fn drop(&mut self) {
        self.close();
    }
}

impl Machine for SshSession {
    fn describe(&self) -> String {
        match &self.root {
            Some(r) => format!("{} (chroot {})", self.cfg.destination, r.display()),
            None => self.cfg.destination.clone(),
        }
    }

    fn program(&self, command: &Command, how: How) -> Result<Spawn, MachineError> {
        if command.argv.is_empty() {
            return Err(MachineError::Refused("nothing to run".into()));
        }
        if let Some((bad, _)) = command
            .env
            .iter()
            .find(|(k, _)| !remote_line::is_env_name(k))
        {
            return Err(MachineError::Refused(format!(
                "'{}' cannot be passed to {} as a shell variable",
                crate::core::terminal_text::terminal_safe_line(bad),
                self.cfg.destination
            )));
        }
        let argv = self.rooted(&command.argv);
        match how {
            How::Captured => {
                let mark = self.next_mark();
                let line = remote_line::captured(&argv, &command.env, &mark);
                Ok(Spawn {
                    argv: self.client_argv(false, line),
                    env: Vec::new(),
                    remote_mark: Some(mark),
                })
            }
            How::Interactive { cols, rows } => {
                let mark = self.next_mark();
                let line = remote_line::interactive(&argv, &command.env, (cols, rows), &mark);
                Ok(Spawn {
                    argv: self.client_argv(true, line),
                    env: Vec::new(),
                    remote_mark: Some(mark),
                })
            }
        }
    }

    fn settle(&self, spawn: &Spawn, exit: Exit) -> Result<Exit, MachineError> {
        if exit != Exit::Code(255) {
            return Ok(exit);
        }
        let Some(mark) = &spawn.remote_mark else {
            return Err(self.link_lost(b""));
        };
        // The program itself may have exited 255: its exit file says so.
        match self.run_line(remote_line::exit_of(mark), None, QUICK_LIMIT) {
            Ok(out) if String::from_utf8_lossy(&out.stdout).trim() == "255" => Ok(exit),
            Ok(_) => Err(self.stop_left_behind(mark, self.link_lost(b""))),
            Err(e) => Err(self.stop_left_behind(mark, e)),
        }
    }

    fn signal(&self, spawn: &Spawn, sig: i32) -> bool {
        if let Some(mark) = &spawn.remote_mark {
            let _ = self.run_line(remote_line::signal(mark, sig), None, QUICK_LIMIT);
        }
        true
    }

    fn group_alive(&self, spawn: &Spawn) -> Option<bool> {
        let mark = spawn.remote_mark.as_ref()?;
        Some(
            self.run_line(remote_line::group_alive(mark), None, QUICK_LIMIT)
                .is_ok_and(|o| o.exit == Exit::Code(0)),
        )
    }

    fn ssh(&self) -> Option<&SshSession> {
        Some(self)
    }

    fn chroot_dir(&self) -> Option<&Path> {
        self.root.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_that_looks_like_an_option_is_refused() {
        let e = SshConfig::new("-oProxyCommand=x", vec![], vec![], None).unwrap_err();
        assert!(e.contains("--host"), "{e}");
        assert!(SshConfig::new("", vec![], vec![], None).is_err());
        assert!(SshConfig::new("a b", vec![], vec![], None).is_err());
        assert!(SshConfig::new("h", vec![], vec![], Some("rel".into())).is_err());
        let c = SshConfig::new("root@router1", vec![], vec![], None).unwrap();
        assert_eq!(c.host_name(), "router1");
        assert_eq!(
            SshConfig::new("router1", vec![], vec![], None)
                .unwrap()
                .host_name(),
            "router1"
        );
    }
}
