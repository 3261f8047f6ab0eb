//! Running one step, the same way for the app, `fieldbook exec` and `fieldbook auto`: the
//! variable substitution, the `check` (one time limit, [`CHECK_LIMIT`]), practice transcripts,
//! long steps under their supervisor, re-attaching to one, and liveness ([`is_alive`]).
//!
//! Every process a step starts is started here, each kind by exactly one function:
//! [`start_direct`] (a step's programs), [`run_check`] (its check), [`start_supervised`] and
//! [`follow_supervised`] (a long step's supervisor), [`run_foreground`] (an interactive
//! program) and [`capture`] (a tool's read-only listing); each goes through the machine its
//! caller passes, the session's (`Settings::machine`: this one, a chroot, a host over ssh).

pub mod headless;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::attempt_id::Supervisor;
use super::progress::{Attempt, Exit};
use super::runbook::{Program, RunSpec, Runbook};
use super::runner::{self, CheckResult, Command, RunOptions, RunningStep, StepJob};
use super::{host, machine, practice, vars};

/// Longest a step's `check` may take; after it the check counts as inconclusive and the step
/// runs. Documented in the README ("Time limits").
pub const CHECK_LIMIT: Duration = Duration::from_secs(60);

/// A step's programs and check with the run's values filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The programs to run.
    pub job: StepJob,
    /// The check, when the step has one (never asked in practice mode).
    pub check: Option<Command>,
    /// The values of `secret` variables among the values: never stored in a job file.
    pub secrets: Vec<String>,
}

/// Why a step cannot be planned: a variable it uses has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingValue {
    /// The variable's name.
    pub name: String,
    /// ` (its label)` when the runbook declares it, else empty.
    pub label: String,
}

/// Fills the run's values into a step's programs and check, or names the first variable that
/// has no value.
pub fn plan(
    runbook: &Runbook,
    spec: &RunSpec,
    values: &BTreeMap<String, String>,
) -> Result<Plan, MissingValue> {
    if let Some(name) = missing_value(spec, values) {
        let label = runbook
            .variable(&name)
            .map(|v| format!(" ({})", v.label))
            .unwrap_or_default();
        return Err(MissingValue { name, label });
    }
    let secrets = runbook
        .variables
        .iter()
        .filter(|v| v.ty == vars::VarType::Secret)
        .filter_map(|v| values.get(&v.name).cloned())
        .collect();
    Ok(Plan {
        job: StepJob::from_spec(spec, values),
        check: StepJob::check(spec, values),
        secrets,
    })
}

/// A variable the step's argv, check or `shows` uses that has no value yet.
fn missing_value(spec: &RunSpec, values: &BTreeMap<String, String>) -> Option<String> {
    // An optional element needs the value of the variable deciding it.
    let texts = spec
        .programs
        .iter()
        .filter_map(|p| match p {
            Program::Argv(a) => Some(a),
            Program::Script { .. } => None,
        })
        .flatten()
        .flat_map(|arg| match arg {
            crate::core::runbook::Arg::Word(w) => vars::references(w),
            crate::core::runbook::Arg::Optional(o) => vec![(0, o.var.clone())],
        });
    let checks = spec
        .check
        .iter()
        .flatten()
        .flat_map(|a| vars::references(a));
    let shows = spec.shows.iter().flat_map(|t| vars::references(t));
    texts
        .chain(checks)
        .chain(shows)
        .map(|(_, name)| name)
        .find(|name| !values.contains_key(name))
}

/// A job made of exact argv vectors (a tool screen's commands), judged like a step (exit 0),
/// and the machine it runs on: a tool that takes `ROOT=` itself runs beside a chroot.
pub fn tool_job(
    on: &machine::Shared,
    commands: Vec<Vec<String>>,
    env: &[(String, String)],
) -> (StepJob, machine::Shared) {
    let program = commands
        .first()
        .and_then(|c| c.first())
        .cloned()
        .unwrap_or_default();
    let on = machine::for_tool(on.clone(), &program, env);
    let env = machine::tool_env(&*on, env);
    let job = StepJob {
        commands: commands
            .into_iter()
            .map(|argv| Command {
                argv,
                env: env.clone(),
            })
            .collect(),
        expect: vec![0],
        ok_output: Vec::new(),
        shows: Vec::new(),
    };
    (job, on)
}

/// Runs a step's check quietly with [`CHECK_LIMIT`], on the session's machine `on`.
pub fn run_check(on: &machine::Shared, check: &Command) -> CheckResult {
    runner::run_check_on(&**on, check, CHECK_LIMIT)
}

/// How a step's programs are to be run.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Practice: the transcripts are played (`pace` apart per line); nothing is executed.
    Practice {
        /// The step's practice transcript key.
        key: Option<String>,
        /// Delay between lines.
        pace: Duration,
    },
    /// A long step: under a detached supervisor that survives a dropped link, on the machine.
    Supervised(machine::Shared),
    /// Directly, as children of this process, through the machine (the session's, or for a
    /// tool that takes `ROOT=` itself, this one beside a chroot).
    Direct(machine::Shared),
}

impl Mode {
    /// The mode for a step's spec (with the run's values) in or out of practice, on `on`.
    pub fn of(
        spec: &RunSpec,
        values: &BTreeMap<String, String>,
        practice: bool,
        pace: Duration,
        on: &machine::Shared,
    ) -> Mode {
        if practice {
            Mode::Practice {
                key: spec.practice_key(values),
                pace,
            }
        } else if spec.long {
            Mode::Supervised(on.clone())
        } else {
            Mode::Direct(on.clone())
        }
    }

    /// True for a long step under its supervisor.
    pub fn is_supervised(&self) -> bool {
        matches!(self, Mode::Supervised(_))
    }
}

/// A step that started: its events, and the supervisor's pid for a supervised one.
pub struct Launched {
    /// Output and the outcome, as they come.
    pub running: RunningStep,
    /// The supervisor's pid (supervised steps only).
    pub pid: Option<u32>,
}

/// Starts a step's programs in `mode`, logging every byte to `log`.
pub fn launch(job: StepJob, log: PathBuf, mode: Mode) -> Result<Launched, String> {
    launch_with_secrets(job, log, mode, &[])
}

/// [`launch`] for a job holding `secrets` ([`Plan::secrets`]), which a supervised step's job
/// file never stores.
pub fn launch_with_secrets(
    job: StepJob,
    log: PathBuf,
    mode: Mode,
    secrets: &[String],
) -> Result<Launched, String> {
    match mode {
        Mode::Practice { key, pace } => Ok(Launched {
            running: practice::start(job, key, Some(log), pace),
            pid: None,
        }),
        Mode::Supervised(on) => {
            let (pid, running) = start_supervised(&on, &job, &log, secrets)?;
            Ok(Launched {
                running,
                pid: Some(pid),
            })
        }
        Mode::Direct(on) => Ok(Launched {
            running: start_direct(job, log, on),
            pid: None,
        }),
    }
}

/// Starts a step's programs as children of this process, through the machine `on`.
pub fn start_direct(job: StepJob, log: PathBuf, on: machine::Shared) -> RunningStep {
    runner::start(job, log, RunOptions::on(on))
}

/// Starts the detached supervisor of a long step on the machine `on`; returns its pid and
/// the step to follow.
pub fn start_supervised(
    on: &machine::Shared,
    job: &StepJob,
    log: &Path,
    secrets: &[String],
) -> Result<(u32, RunningStep), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find fieldbook itself: {e}"))?;
    machine::start_long_with_secrets(on, &exe, job, log, secrets).map_err(|e| e.to_string())
}

/// Follows a supervised step left running by an earlier fieldbook (here, or on its host over
/// ssh) through its log and exit file.
pub fn follow_supervised(on: &machine::Shared, pid: u32, log: &Path) -> RunningStep {
    machine::follow_long(on, pid, log)
}

/// True when a long step's attempt runs on a host over ssh (its `<log>.remote` says so):
/// liveness is then the host's to tell, by following it.
pub fn is_remote(log: &Path) -> bool {
    machine::remote_long::read_sidecar(log).is_some()
}

/// True while the supervisor of a long step's attempt still runs: the attempt started in this
/// boot, and its supervisor is the very process recorded (pid, start time, the attempt's
/// nonce; see `core::attempt_id`), alive and no zombie. The one liveness test for re-attaching,
/// reconciling and archiving.
pub fn is_alive(attempt: &Attempt) -> bool {
    let Some(pid) = attempt.pid else {
        return false;
    };
    let same_boot = match (attempt.boot_id.as_deref(), host::boot_id()) {
        (Some(then), Some(now)) => then == now,
        _ => true,
    };
    let supervisor = Supervisor {
        pid,
        started: attempt.pid_start,
        nonce: attempt.nonce.clone(),
    };
    same_boot && supervisor.alive()
}

/// The boot id that tells whether a long step's machine rebooted: this machine's, or none for
/// a host over ssh (a reboot here says nothing about a step running there).
pub fn boot_id(on: &dyn machine::Machine) -> Option<String> {
    on.ssh().is_none().then(host::boot_id).flatten()
}

/// How an interactive program run by [`run_foreground`] ended.
#[derive(Debug)]
pub struct Foreground {
    /// Its exit status.
    pub exit: Exit,
    /// The technician's terminal went away while it ran: its own result is unknown.
    pub hung_up: bool,
    /// The last bytes it printed (the log has all of them), for the Output screen.
    pub tail: Vec<u8>,
    /// The link to the host broke (ssh's own exit 255, told from the program's by the exit it
    /// recorded on the host): why, in words. `exit` is then not the program's result.
    pub link_lost: Option<String>,
}

/// Runs an interactive program (on a host over ssh: `ssh -t` with the size in the remote
/// line) on a pseudo-terminal fieldbook relays, as `script(1)` does: the technician's keys go
/// to it, its output to the terminal and to `log` (every byte), the window size follows.
/// `stop` set (SIGHUP) ends it as a hang-up does. `Err` says why it could not start.
pub fn run_foreground(
    on: &machine::Shared,
    command: &Command,
    (cols, rows): (u16, u16),
    extra_env: &[(String, String)],
    log: Option<&mut dyn std::io::Write>,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Foreground, String> {
    use std::os::unix::process::ExitStatusExt;
    let how = machine::How::Interactive { cols, rows };
    let spawn = on.program(command, how).map_err(|e| e.to_string())?;
    let relayed = super::relay::run(
        &spawn.command(),
        extra_env,
        super::relay::Terminal::stdio((cols, rows)),
        log,
        stop,
    )
    .map_err(|e| format!("cannot start {}: {e}", command.display()))?;
    let status = relayed.status;
    let exit = match (status.code(), status.signal()) {
        (Some(c), _) => Exit::Code(c),
        (None, Some(sig)) => Exit::Signal(sig),
        (None, None) => Exit::Code(-1),
    };
    // The program's own exit 255 is its result; ssh's is a lost link (the host recorded no
    // exit, or another one).
    let link_lost = on.settle(&spawn, exit).err().map(|e| {
        format!(
            "interrupted: {} ({e}): the program's own result is unknown",
            on.describe()
        )
    });
    Ok(Foreground {
        exit,
        hung_up: relayed.hung_up,
        tail: relayed.tail,
        link_lost,
    })
}

/// Runs a tool's read-only listing with a null stdin; its stdout, or an error naming the
/// program.
pub fn capture(
    on: &machine::Shared,
    argv: &[&str],
    env: &[(String, String)],
) -> Result<String, String> {
    let first = argv.first().copied().unwrap_or_default();
    let on = machine::for_tool(on.clone(), first, env);
    if !on.is_local() {
        return machine::capture_listing(&*on, argv, env);
    }
    let Some((program, args)) = argv.split_first() else {
        return Err("empty command".into());
    };
    let mut cmd = duct::cmd(*program, args)
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let out = cmd.run().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "`{program}` not found in PATH ({})",
                std::env::var("PATH").unwrap_or_default()
            )
        } else {
            format!("running `{}`: {e}", argv.join(" "))
        }
    })?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed ({}): {}",
            argv.join(" "),
            out.status,
            super::terminal_text::terminal_safe_line(String::from_utf8_lossy(&out.stderr).trim())
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::runbook::load_str;

    fn runbook() -> Runbook {
        load_str(
            "t.toml",
            r#"
id = "t"
title = "T"
summary = "s"

[[variable]]
name = "lan_ip"
type = "ip"
label = "LAN address"

[[section]]
id = "s"
title = "S"

[[section.step]]
id = "ping"
title = "Ping"
kind = "command"
commands = [["ping", "-c1", "{lan_ip}"]]
check = ["true", "{lan_ip}"]
why = "w"
"#,
        )
        .unwrap()
    }

    fn spec(rb: &Runbook) -> RunSpec {
        match &rb.step("ping").unwrap().action {
            crate::core::runbook::Action::Run(s) => s.clone(),
            _ => panic!("not a run step"),
        }
    }

    #[test]
    fn a_plan_names_the_missing_variable_with_its_label() {
        let rb = runbook();
        let err = plan(&rb, &spec(&rb), &BTreeMap::new()).unwrap_err();
        assert_eq!(err.name, "lan_ip");
        assert_eq!(err.label, " (LAN address)");
    }

    /// A `shows` text needs its variables' values too: without one the step would judge the
    /// output against `{name}` written out.
    #[test]
    fn a_plan_names_a_variable_only_shows_uses() {
        let rb = runbook();
        let mut s = spec(&rb);
        s.programs = vec![crate::core::runbook::Program::Argv(vec!["true".into()])];
        s.check = None;
        s.shows = vec!["inet {lan_ip} ".into()];
        let err = plan(&rb, &s, &BTreeMap::new()).unwrap_err();
        assert_eq!(err.name, "lan_ip");
    }

    #[test]
    fn a_plan_fills_values_into_programs_and_check() {
        let rb = runbook();
        let values = BTreeMap::from([("lan_ip".to_string(), "10.0.0.1".to_string())]);
        let p = plan(&rb, &spec(&rb), &values).unwrap();
        assert_eq!(p.job.commands[0].argv, ["ping", "-c1", "10.0.0.1"]);
        assert_eq!(p.check.unwrap().argv, ["true", "10.0.0.1"]);
    }

    #[test]
    fn liveness_needs_a_live_supervisor_of_this_boot() {
        let of = |pid: u32, boot: Option<&str>| Attempt {
            pid: Some(pid),
            boot_id: boot.map(str::to_string),
            ..Attempt::default()
        };
        // A live process that is no fieldbook is not a supervisor.
        let mut other = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        assert!(!is_alive(&of(other.id(), None)));
        other.kill().unwrap();
        other.wait().unwrap();
        let mut child = host::spawn_fake_supervisor();
        assert!(is_alive(&of(child.id(), None)));
        if host::boot_id().is_some() {
            assert!(!is_alive(&of(child.id(), Some("another-boot"))));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!is_alive(&of(child.id(), None)));
        assert!(!is_alive(&of(0, None)));
        assert!(!is_alive(&of(u32::MAX, None)));
        assert!(!is_alive(&Attempt::default()));
    }
}
