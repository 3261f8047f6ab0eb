//! Finding a step's program on PATH before it starts, and running a `check` with its time limit.

use super::*;
use crate::core::machine::{How, Local, Machine};
use crate::core::progress::Exit;
use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// `command` as a duct expression for `program` (its resolved path), with its environment, in
/// a process group of its own so a cancel or a time limit reaches everything it starts; its
/// exit status is returned, never turned into an error.
pub(super) fn in_own_group(program: PathBuf, command: &Command) -> duct::Expression {
    let mut expr = duct::cmd(program, &command.argv[1..])
        .unchecked()
        .before_spawn(|c| {
            c.process_group(0);
            Ok(())
        });
    for (k, v) in &command.env {
        expr = expr.env(k, v);
    }
    expr
}

/// Resolves the program on PATH (or as a path), so a missing tool gives a clear message naming
/// it and the PATH searched instead of a bare "No such file or directory".
pub fn find_program(command: &Command) -> Result<PathBuf, String> {
    let name = command.argv.first().map_or("", String::as_str);
    // A PATH given to the command itself wins, as it would for the child.
    let path_var = command
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| OsString::from(v))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    resolve(name, &path_var).ok_or_else(|| missing_program_message(name, &path_var))
}

/// The message for a program that is not on this machine.
pub fn missing_program_message(name: &str, path_var: &std::ffi::OsStr) -> String {
    if name.contains('/') {
        format!(
            "'{name}' does not exist or is not executable. Is this the machine the runbook is \
             for? To rehearse without running anything, start fieldbook with --practice."
        )
    } else {
        format!(
            "'{name}' was not found: no executable '{name}' in PATH ({}). Is this the kind of \
             machine the runbook is for? To rehearse without running anything, start fieldbook \
             with --practice.",
            path_var.to_string_lossy()
        )
    }
}

pub(super) fn resolve(name: &str, path_var: &std::ffi::OsStr) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_executable(&p).then_some(p);
    }
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

pub(super) fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What a `check` command said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckResult {
    /// It succeeded: the step looks done already.
    AlreadyDone,
    /// It failed: the step is needed.
    NotDone,
    /// It could not run (missing program, timeout); the reason in words.
    Unknown(String),
}

/// Runs a step's `check` quietly (output discarded, stdin null), with a generous time limit.
pub fn run_check(command: &Command, limit: Duration) -> CheckResult {
    run_check_on(&Local, command, limit)
}

/// Runs a step's `check` on `machine`; a lost link makes the answer unknown, never "not done".
pub fn run_check_on(machine: &dyn Machine, command: &Command, limit: Duration) -> CheckResult {
    let spawn = match machine.program(command, How::Captured) {
        Ok(s) => s,
        Err(e) => return CheckResult::Unknown(e.to_string()),
    };
    let local = spawn.command();
    let program = match find_program(&local) {
        Ok(p) => p,
        Err(m) => return CheckResult::Unknown(m),
    };
    let expr = in_own_group(program, &local)
        .stdin_null()
        .stdout_null()
        .stderr_null();
    let handle = match expr.start() {
        Ok(h) => h,
        Err(e) => return CheckResult::Unknown(format!("cannot start the check: {e}")),
    };
    let deadline = Instant::now() + limit;
    loop {
        match handle.try_wait() {
            Ok(Some(out)) => {
                let exit = match (out.status.code(), out.status.signal()) {
                    (Some(c), _) => Exit::Code(c),
                    (None, Some(s)) => Exit::Signal(s),
                    (None, None) => Exit::Code(-1),
                };
                return match machine.settle(&spawn, exit) {
                    Ok(Exit::Code(0)) => CheckResult::AlreadyDone,
                    Ok(_) => CheckResult::NotDone,
                    Err(e) => CheckResult::Unknown(e.to_string()),
                };
            }
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                if let Some(&pid) = handle.pids().first() {
                    signal_group(pid as i32, libc::SIGKILL);
                }
                let _ = handle.wait();
                return CheckResult::Unknown(format!(
                    "the check `{}` took longer than {} s",
                    command.display(),
                    limit.as_secs()
                ));
            }
            Err(e) => return CheckResult::Unknown(format!("the check failed to run: {e}")),
        }
    }
}
