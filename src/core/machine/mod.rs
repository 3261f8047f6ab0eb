//! The one seam for "the machine" a run works on: this machine, a host over OpenSSH, a chroot
//! (`--root DIR`), or nothing at all (practice). Everything that touches the target goes through
//! a [`Machine`]: turning a step's program into what is spawned here, telling the program's own
//! exit from a lost link, reaching its process group to cancel it, starting and finding a
//! supervised long step, reading and writing files, and capturing tool listings.
//!
//! The runner, the supervisor and the edit engine stay as they are: a machine hands them the
//! local argv to spawn (`ssh … HOST 'remote line'`, `chroot DIR prog …`), so streaming, logs,
//! filters and judging are the same code whatever the machine.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::progress::Exit;
use super::runner::{Command, RunningStep, StepJob};
use super::supervisor;

pub mod chroot;
pub mod remote_files;
pub mod remote_line;
pub mod remote_long;
pub mod remote_orphans;
pub mod ssh;

pub use chroot::Chroot;
pub use ssh::{SshConfig, SshSession};

/// How a program is to be run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Output captured and streamed (commands, checks, listings).
    Captured,
    /// With the technician's terminal (`emerge --ask`): needs a tty on the far side;
    /// the terminal size goes with it.
    Interactive {
        /// Columns of the terminal.
        cols: u16,
        /// Rows of the terminal.
        rows: u16,
    },
}

/// What to spawn on this machine for one program, and how to reach it afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawn {
    /// The local argv (the program itself locally; `ssh …` or `chroot …` otherwise).
    pub argv: Vec<String>,
    /// Environment for the local process.
    pub env: Vec<(String, String)>,
    /// Where the far side records its process group and exit (ssh only): lets cancel reach the
    /// remote group and tells the program's exit 255 from ssh's.
    pub remote_mark: Option<String>,
}

impl Spawn {
    /// The spawn as a runner command.
    pub fn command(&self) -> Command {
        Command {
            argv: self.argv.clone(),
            env: self.env.clone(),
        }
    }
}

/// Why the machine could not do what was asked; the message is for the technician.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineError {
    /// It cannot be done on this machine (chroot without root, no /bin/sh in the root…).
    #[error("{0}")]
    Refused(String),
    /// The link to the host failed (ssh exit 255, connection lost).
    #[error("{0}")]
    Link(String),
    /// The host answered with a failure.
    #[error("{0}")]
    Failed(String),
}

/// What a program captured for a listing printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Exit status of the program itself.
    pub exit: Exit,
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
}

/// One machine. Implementations: [`Local`], [`SshSession`] (over OpenSSH), [`Chroot`], and
/// [`Practice`] which refuses everything.
pub trait Machine: Send + Sync + fmt::Debug {
    /// Where commands run, for the title and messages: `this machine`, `root@router1`,
    /// `chroot /mnt/guest`.
    fn describe(&self) -> String;

    /// True for the local machine (the caller may use its own local fast paths).
    fn is_local(&self) -> bool {
        false
    }

    /// The local argv that runs `command` on this machine.
    fn program(&self, command: &Command, how: How) -> Result<Spawn, MachineError>;

    /// After the spawned program ended with `exit`: the program's own exit, or why the run
    /// was cut off by the link (never to be taken as the step's result).
    fn settle(&self, spawn: &Spawn, exit: Exit) -> Result<Exit, MachineError> {
        let _ = spawn;
        Ok(exit)
    }

    /// Sends `sig` to the program's process group on the far side. Returns false when the
    /// caller's own `killpg` of the local process group is what reaches it (local, chroot).
    fn signal(&self, spawn: &Spawn, sig: i32) -> bool {
        let _ = (spawn, sig);
        false
    }

    /// Whether the program's process group on the far side is still there (`None`: the local
    /// process group is what counts).
    fn group_alive(&self, spawn: &Spawn) -> Option<bool> {
        let _ = spawn;
        None
    }

    /// Runs `argv` with `env` to its end, capturing its output (tool listings, probes).
    fn capture(&self, argv: &[String], env: &[(String, String)]) -> Result<Captured, MachineError> {
        let spawn = self.program(
            &Command {
                argv: argv.to_vec(),
                env: tool_env(self, env),
            },
            How::Captured,
        )?;
        let out = local_capture(&spawn.argv, &spawn.env)?;
        let exit = self.settle(&spawn, out.exit)?;
        Ok(Captured { exit, ..out })
    }

    /// The ssh session, when this machine is a host over ssh (long steps and edits take the
    /// remote path then).
    fn ssh(&self) -> Option<&SshSession> {
        None
    }

    /// The chroot directory commands run in, when there is one.
    fn chroot_dir(&self) -> Option<&Path> {
        None
    }
}

/// A shared machine, cheap to clone into threads.
pub type Shared = Arc<dyn Machine>;

/// The machine a session's commands run on, opened once by the command line (an ssh master
/// for `--host`, a chroot for `--root`) and carried in the session's `Settings`, so every job
/// reaches it through the settings it started with, never through a process-wide value. Two
/// are equal when they name the same place ([`Machine::describe`]); the default is this
/// machine.
#[derive(Clone, Debug)]
pub struct SessionMachine(pub Shared);

impl SessionMachine {
    /// The machine, to share with a job.
    pub fn shared(&self) -> Shared {
        self.0.clone()
    }
}

impl Default for SessionMachine {
    fn default() -> Self {
        SessionMachine(Arc::new(Local))
    }
}

impl PartialEq for SessionMachine {
    fn eq(&self, other: &Self) -> bool {
        self.0.describe() == other.0.describe()
    }
}

impl Eq for SessionMachine {}

impl std::ops::Deref for SessionMachine {
    type Target = dyn Machine;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// This machine: programs run as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Local;

impl Machine for Local {
    fn describe(&self) -> String {
        "this machine".to_string()
    }

    fn is_local(&self) -> bool {
        true
    }

    fn program(&self, command: &Command, _how: How) -> Result<Spawn, MachineError> {
        Ok(Spawn {
            argv: command.argv.clone(),
            env: command.env.clone(),
            remote_mark: None,
        })
    }
}

/// Practice mode: nothing is executed and nothing is read or written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Practice;

impl Machine for Practice {
    fn describe(&self) -> String {
        "practice (nothing is executed)".to_string()
    }

    fn program(&self, command: &Command, _how: How) -> Result<Spawn, MachineError> {
        Err(MachineError::Refused(format!(
            "practice mode runs nothing (`{}` was not run)",
            command.display()
        )))
    }
}

/// Gentoo tools that work on `$ROOT` themselves (Portage's convention).
const TAKES_ROOT: &[&str] = &["gcc-config", "env-update", "emerge"];

/// The machine a tool command runs on. A tool that takes the root itself (`ROOT=DIR` for
/// gcc-config and env-update, as Portage's `ROOT=`) runs on the host with it rather than
/// inside a local chroot; every other command of a chroot runs inside it.
pub fn for_tool(machine: Shared, program: &str, env: &[(String, String)]) -> Shared {
    let name = program.rsplit('/').next().unwrap_or(program);
    let takes_root = env.iter().any(|(k, _)| k == "ROOT") || TAKES_ROOT.contains(&name);
    if takes_root && machine.chroot_dir().is_some() && machine.ssh().is_none() {
        Arc::new(Local)
    } else {
        machine
    }
}

/// The environment of a tool command on `machine`: inside a chroot the tool already sees the
/// root as `/`, so a `ROOT=DIR` meant for running it from outside is dropped.
pub fn tool_env<M: Machine + ?Sized>(
    machine: &M,
    env: &[(String, String)],
) -> Vec<(String, String)> {
    env.iter()
        .filter(|(k, _)| machine.chroot_dir().is_none() || k != "ROOT")
        .cloned()
        .collect()
}

/// A tool's read-only listing (`chkconfig --list`, `rc-update -v show`) run on `machine`: its
/// stdout, or an error naming the program and what it said.
pub fn capture_listing<M: Machine + ?Sized>(
    machine: &M,
    argv: &[&str],
    env: &[(String, String)],
) -> Result<String, String> {
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    let out = machine.capture(&argv, env).map_err(|e| e.to_string())?;
    if out.exit != Exit::Code(0) {
        return Err(format!(
            "`{}` on {} failed ({}): {}",
            argv.join(" "),
            machine.describe(),
            out.exit,
            crate::core::terminal_text::terminal_safe_line(
                String::from_utf8_lossy(&out.stderr).trim()
            )
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The snort rules scan on `machine`: the rule files are read on the host over ssh (under
/// `--root` there), else here.
pub fn snort_scan(
    machine: &dyn Machine,
    root: Option<&Path>,
    dirs: &[&str],
    list: &[super::snort::BadSid],
) -> super::snort::ScanReport {
    match machine.ssh() {
        Some(session) => super::snort::scan_files(dirs, list, &mut |dir| {
            let on_host = super::snort::under_root(root, dir);
            remote_files::read_dir_files(session, &on_host.display().to_string())
        }),
        None => super::snort::scan(root, dirs, list),
    }
}

/// Runs a local argv to its end with stdin null, capturing stdout and stderr.
pub fn local_capture(argv: &[String], env: &[(String, String)]) -> Result<Captured, MachineError> {
    use std::os::unix::process::ExitStatusExt;
    let Some((program, args)) = argv.split_first() else {
        return Err(MachineError::Refused("nothing to run".into()));
    };
    let out = std::process::Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| MachineError::Refused(format!("cannot run {program}: {e}")))?;
    let exit = match (out.status.code(), out.status.signal()) {
        (Some(c), _) => Exit::Code(c),
        (None, Some(s)) => Exit::Signal(s),
        (None, None) => Exit::Code(-1),
    };
    Ok(Captured {
        exit,
        stdout: out.stdout,
        stderr: out.stderr,
    })
}

/// The settings that choose the machine (from the global options).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineSettings {
    /// Practice mode.
    pub practice: bool,
    /// `--root DIR`: a chroot (on HOST when `host` is set too).
    pub root: Option<PathBuf>,
    /// `--host [USER@]HOST` with its ssh settings.
    pub ssh: Option<SshConfig>,
}

/// Opens the machine the settings name. For `--host` this opens the ssh master connection
/// (prompts happen here, in the plain terminal), so call it before the app draws.
pub fn open(settings: &MachineSettings) -> Result<Shared, MachineError> {
    if settings.practice {
        return Ok(Arc::new(Practice));
    }
    if let Some(cfg) = &settings.ssh {
        let session = SshSession::open(cfg.clone(), settings.root.clone())?;
        return Ok(Arc::new(session));
    }
    match &settings.root {
        Some(dir) => Ok(Arc::new(Chroot::new(dir.clone()))),
        None => Ok(Arc::new(Local)),
    }
}

/// Starts a long step under a supervisor on `machine`: the local supervisor (its programs
/// behind `chroot DIR` for a chroot), or the POSIX-sh supervisor on a host over ssh. Returns
/// the supervisor's pid (on the host for ssh) and the step to follow. The values of `secret`
/// variables are handed over so that no job file or script ever stores them: locally see
/// [`supervisor::launch_with_secrets`], on a host [`remote_long::launch`].
pub fn start_long_with_secrets(
    machine: &Shared,
    exe: &Path,
    job: &StepJob,
    log: &Path,
    secrets: &[String],
) -> Result<(u32, RunningStep), MachineError> {
    if let Some(session) = machine.ssh() {
        // With `--root` too, the programs run inside the chroot on the host, never on the
        // host itself.
        let job = session.rooted_job(job);
        let step = remote_long::launch(session, &job, log, secrets)?;
        let pid = step.pid;
        return Ok((
            pid,
            remote_long::watch(machine.clone(), log.to_path_buf(), step, Some(job)),
        ));
    }
    let mut local = job.clone();
    if !machine.is_local() {
        local.commands = job
            .commands
            .iter()
            .map(|c| machine.program(c, How::Captured).map(|s| s.command()))
            .collect::<Result<_, _>>()?;
    }
    let pid = supervisor::launch_with_secrets(exe, &local, log, secrets)
        .map_err(|e| MachineError::Failed(format!("cannot start the supervisor: {e}")))?;
    Ok((pid, supervisor::watch(pid, log.to_path_buf(), Some(local))))
}

/// Follows a long step found running (after a restart): on its host when it was started over
/// ssh (`<log>.remote`), else under the local supervisor `pid`.
pub fn follow_long(machine: &Shared, pid: u32, log: &Path) -> RunningStep {
    match remote_long::read_sidecar(log) {
        Some(step) => remote_long::watch(machine.clone(), log.to_path_buf(), step, None),
        None => supervisor::watch(pid, log.to_path_buf(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_runs_the_argv_as_it_is_and_practice_runs_nothing() {
        let cmd = Command {
            argv: vec!["echo".into(), "a b".into()],
            env: vec![("FB_x".into(), "1".into())],
        };
        let s = Local.program(&cmd, How::Captured).unwrap();
        assert_eq!(s.argv, cmd.argv);
        assert_eq!(s.env, cmd.env);
        assert!(Practice.program(&cmd, How::Captured).is_err());
        assert!(Practice.capture(&cmd.argv, &[]).is_err());
        let out = Local.capture(&cmd.argv, &[]).unwrap();
        assert_eq!(out.exit, Exit::Code(0));
        assert_eq!(out.stdout, b"a b\n");
    }
}
