//! Long steps on a host over ssh: a small supervisor written in POSIX sh, generated from the
//! step's job (every value quoted by the one shell quoter), is started detached on the host
//! (`setsid` where present, `nohup`) in its own directory under the remote dir. It writes the
//! programs' output to `log` and, when they end, `exit` in the same format as the local
//! supervisor's `<log>.exit`. fieldbook follows it by reading the remote log from the byte it
//! has already copied into the local log, so after a dropped link, or in a later fieldbook, it
//! re-attaches where it stopped; the exit file decides the outcome.
//!
//! Local files of such an attempt: `<log>` (the copy), `<log>.job` (what ran, for judging),
//! `<log>.remote` (where it runs: host and remote directory), `<log>.exit` (copied at the end).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Machine, MachineError, Shared, SshSession, remote_line};
use crate::core::exit_record::ExitRecord;
use crate::core::progress::{Exit, Status};
use crate::core::runner::{
    CHANNEL_DEPTH, CancelHandle, RemoteGroup, RunEvent, RunOutcome, RunningStep, StepJob,
    finish_output, send_output,
};
use crate::core::shell_quote::{self, quote};
use crate::core::terminal_text::TerminalText;
use crate::core::{atomic, state_dir, supervisor};

/// How often the remote log is read while the step runs.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// How long to wait between attempts to reconnect after the link dropped.
const RECONNECT_EVERY: Duration = Duration::from_secs(3);

/// Longest one poll may take.
const POLL_LIMIT: Duration = Duration::from_secs(120);

/// Where a remote long step runs, kept beside the local log as `<log>.remote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteStep {
    /// `[USER@]HOST` it was started on.
    pub destination: String,
    /// Its directory on the host (log, exit, pid).
    pub dir: String,
    /// The supervisor's pid on the host.
    pub pid: u32,
}

/// `<log>.remote`.
pub fn sidecar(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push(".remote");
    PathBuf::from(s)
}

/// The remote step recorded beside `log`, if the attempt ran on a host.
pub fn read_sidecar(log: &Path) -> Option<RemoteStep> {
    std::fs::read(sidecar(log))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// The values of `secret` variables as the remote supervisor gets them: non-empty, each once,
/// longer first (so a secret that contains another is replaced whole).
fn secret_values(secrets: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in secrets {
        if !s.is_empty() && !out.contains(s) {
            out.push(s.clone());
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// One shell word for `text`: quoted, except that every secret in it is `"$fb_sN"`, a shell
/// variable the supervisor read from its secrets file, so the script holds no secret.
fn word(text: &str, secrets: &[String]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = text;
    'outer: while !rest.is_empty() {
        // The earliest secret in what is left (the longer one first at the same place).
        let mut first: Option<(usize, usize)> = None;
        for (i, sec) in secrets.iter().enumerate() {
            if let Some(at) = rest.find(sec.as_str())
                && first.is_none_or(|(f, _)| at < f)
            {
                first = Some((at, i));
            }
        }
        let Some((at, i)) = first else {
            parts.push(quote(rest));
            break 'outer;
        };
        if at > 0 {
            parts.push(quote(&rest[..at]));
        }
        parts.push(format!("\"$fb_s{i}\""));
        rest = &rest[at + secrets[i].len()..];
    }
    if parts.is_empty() {
        return quote("");
    }
    parts.concat()
}

/// `text` with every secret shown as `***` (what the log's `$ command` line shows).
fn masked(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

/// The supervisor script for `job`. `$1` is its directory; values only ever appear quoted.
/// The values of `secrets` never appear in it: the script reads them from `$d/secrets`
/// (written by the starter, mode 0600) into shell variables and removes that file before
/// anything else runs.
pub fn script(job: &StepJob, secrets: &[String]) -> String {
    let secrets = secret_values(secrets);
    let n = job.commands.len();
    let mut s = String::from("d=$1\n");
    if !secrets.is_empty() {
        s.push_str("{ ");
        for i in 0..secrets.len() {
            s.push_str(&format!("IFS= read -r fb_s{i}; "));
        }
        s.push_str("} <\"$d/secrets\"; rm -f \"$d/secrets\"\n");
    }
    s.push_str(
        "echo $$ >\"$d/pid.tmp\" && mv \"$d/pid.tmp\" \"$d/pid\"\n\
         exec </dev/null >>\"$d/log\" 2>&1\ntrap '' HUP INT TERM\n\
         fb_end() {\n  { echo \"code $2\"; echo \"program $1 of ",
    );
    s.push_str(&n.to_string());
    s.push_str("\"; [ -z \"$3\" ] || echo \"verdict $3\"; } >\"$d/exit.tmp\"\n");
    s.push_str("  mv \"$d/exit.tmp\" \"$d/exit\"\n  exit 0\n}\ns=0\n");
    // Each program is judged here (its exit, and its own output for ok_output texts), so the
    // verdict is always the supervisor's.
    let (verdict_ok, verdict_bad) = ("done", "failed");
    let expect: Vec<String> = job.expect.iter().map(i32::to_string).collect();
    // An unexpected exit with an ok_output text in that program's own output is success, as
    // in the local supervisor: the program's output is the log from its size before it ran.
    let ok_texts: String = job
        .ok_output
        .iter()
        .map(|t| format!(" -e {}", word(t, &secrets)))
        .collect();
    for (i, c) in job.commands.iter().enumerate() {
        let i = i + 1;
        let shown: Vec<String> = c.argv.iter().map(|a| masked(a, &secrets)).collect();
        if !job.ok_output.is_empty() {
            s.push_str("set -- $(ls -ln \"$d/log\"); o=$5\n");
        }
        s.push_str(&format!(
            "echo {}\n",
            quote(&format!("$ {}", shell_quote::join(&shown)))
        ));
        let exports: String = c
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}; export {k}; ", word(v, &secrets)))
            .collect();
        let argv: Vec<String> = c.argv.iter().map(|a| word(a, &secrets)).collect();
        s.push_str(&format!(
            "( trap - INT TERM; {exports}exec {} ); s=$?\n",
            argv.join(" ")
        ));
        if job.ok_output.is_empty() {
            s.push_str(&format!(
                "case $s in {}) ;; *) fb_end {i} $s {verdict_bad} ;; esac\n",
                expect.join("|")
            ));
        } else {
            s.push_str(&format!(
                "case $s in {}) ;; *) tail -c +$((o + 1)) \"$d/log\" | grep -F -q{ok_texts} || fb_end {i} $s {verdict_bad} ;; esac\n",
                expect.join("|")
            ));
        }
    }
    s.push_str(&format!("fb_end {n} $s {verdict_ok}\n"));
    s
}

/// Run on the host by `sh -c STARTER sh DIR N`: makes the step's directory (0700), writes the
/// first `N` lines of its input (the secret values) to `DIR/secrets` (0600; the supervisor
/// reads and removes it first thing) and the rest (the supervisor script) to `DIR/run.sh`,
/// then starts the supervisor detached.
///
/// Not `setsid … &`: a command started with `&` by a non-interactive shell ignores SIGINT for
/// good, so cancel's first signal would never reach the program. The starter `exec`s setsid
/// as the session leader sshd made it, so setsid forks, the session ends at once and the
/// supervisor runs on in a session of its own with SIGINT as it should be. Without setsid,
/// `nohup … &` is the fallback: the supervisor then stays in the starter's process group (sshd
/// made the starter a session leader, so that group's id is the starter's pid), which the
/// starter writes to `DIR/group` for cancel (see [`signal_line`]); the program ignores SIGINT
/// there, so cancel ends it with SIGTERM. `read` takes its input a byte at a time from a pipe,
/// so `cat` gets exactly the script after the secrets.
const STARTER: &str = "umask 077; d=$1; mkdir \"$d\" || exit 3; \
                       i=0; while [ $i -lt $2 ]; do \
                       IFS= read -r l && printf '%s\\n' \"$l\" >>\"$d/secrets\" \
                       || { rm -f \"$d/secrets\"; exit 3; }; i=$((i+1)); done; \
                       cat >\"$d/run.sh\" || { rm -f \"$d/secrets\"; exit 3; }; \
                       : >\"$d/log\"; \
                       if command -v setsid >/dev/null 2>&1; then \
                       exec setsid nohup sh \"$d/run.sh\" \"$d\" </dev/null >/dev/null 2>&1; \
                       else echo $$ >\"$d/group\"; \
                       nohup sh \"$d/run.sh\" \"$d\" </dev/null >/dev/null 2>&1 & fi";

/// Sends signal `sig` to a supervised step's programs on the host: the supervisor's own group
/// when it leads one (started with setsid), else the group it was started in (`DIR/group`,
/// written by the starter without setsid). The supervisor itself ignores INT and TERM and
/// records how its program ended; SIGKILL ends it too. Falls back to the supervisor's pid.
fn signal_line(dir: &str, sig: i32) -> String {
    let script = "d=$1; s=$2; [ -f \"$d/pid\" ] || exit 0; read p <\"$d/pid\"; \
                  if kill -0 -\"$p\" 2>/dev/null; then kill -\"$s\" -\"$p\" 2>/dev/null; exit 0; fi; \
                  if [ -f \"$d/group\" ] && read g <\"$d/group\" && \
                  kill -\"$s\" -\"$g\" 2>/dev/null; then exit 0; fi; \
                  kill -\"$s\" \"$p\" 2>/dev/null; exit 0";
    shell_quote::join(&["sh", "-c", script, "sh", dir, &sig.to_string()])
}

/// What the starter reads: one line per secret value, then the supervisor script.
fn starter_input(job: &StepJob, secrets: &[String]) -> Vec<u8> {
    let values = secret_values(secrets);
    let mut input = Vec::new();
    for v in &values {
        input.extend_from_slice(v.as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(script(job, &values).as_bytes());
    input
}

/// `job` with every secret replaced by `***`: what is kept locally in `<log>.job`.
fn masked_job(job: &StepJob, secrets: &[String]) -> StepJob {
    let mut job = job.clone();
    for c in &mut job.commands {
        for t in c.argv.iter_mut().chain(c.env.iter_mut().map(|(_, v)| v)) {
            *t = masked(t, secrets);
        }
    }
    job
}

/// Starts `job` under a detached supervisor on the host; records `<log>.job` (secrets shown as
/// `***`) and `<log>.remote` locally. Returns where it runs. The values of `secrets` reach the
/// host only through the ssh channel's input: never in a command line, never in a file that
/// outlives the supervisor's first moment.
pub fn launch(
    session: &SshSession,
    job: &StepJob,
    log: &Path,
    secrets: &[String],
) -> Result<RemoteStep, MachineError> {
    let secrets = secret_values(secrets);
    if secrets.iter().any(|v| v.contains(['\n', '\r'])) {
        return Err(MachineError::Refused(
            "a secret value holds a line break, which the host's supervisor cannot take".into(),
        ));
    }
    if let Some(bad) = job
        .commands
        .iter()
        .flat_map(|c| c.env.iter())
        .find(|(k, _)| !remote_line::is_env_name(k))
    {
        return Err(MachineError::Refused(format!(
            "'{}' cannot be passed to the host as a shell variable",
            bad.0
        )));
    }
    let local_err = |e: std::io::Error| MachineError::Failed(format!("{}: {e}", log.display()));
    if let Some(dir) = log.parent() {
        atomic::create_private_dir(dir).map_err(local_err)?;
    }
    // Written as a local supervisor's is (with the attempt it belongs to), so a later
    // fieldbook that follows the step again reads what it must judge by.
    supervisor::write_job(log, &masked_job(job, &secrets)).map_err(local_err)?;
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(local_err)?;
    let dir = format!(
        "{}/steps/{}-{}",
        session.remote_dir(),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    // The attempt's nonce goes into the supervisor's environment, which its programs inherit,
    // as locally: programs a killed supervisor leaves are known by it (`remote_orphans`).
    let attempt = crate::core::attempt_id::read_nonce(log)
        .map(|n| {
            let name = crate::core::attempt_id::ATTEMPT_ENV;
            format!("{name}={}; export {name}; ", quote(&n))
        })
        .unwrap_or_default();
    let line = format!(
        "{attempt}exec {}",
        shell_quote::join(&["sh", "-c", STARTER, "sh", &dir, &secrets.len().to_string()])
    );
    let started = session.run_line(line, Some(&starter_input(job, &secrets)), POLL_LIMIT)?;
    if started.exit != Exit::Code(0) {
        return Err(MachineError::Failed(format!(
            "the supervisor did not start on {}: {}",
            session.destination(),
            String::from_utf8_lossy(&started.stderr).trim()
        )));
    }
    // The supervisor writes its own pid first thing.
    let wait_pid = "d=$1; i=0; while [ ! -s \"$d/pid\" ] && [ $i -lt 300 ]; do \
                    sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done; cat \"$d/pid\"";
    let out = session.run_line(
        shell_quote::join(&["sh", "-c", wait_pid, "sh", &dir]),
        None,
        POLL_LIMIT,
    )?;
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            MachineError::Failed(format!(
                "the supervisor did not start on {}: {}",
                session.destination(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        })?;
    let step = RemoteStep {
        destination: session.destination().to_string(),
        dir,
        pid,
    };
    let json = serde_json::to_vec(&step).map_err(|e| MachineError::Failed(e.to_string()))?;
    atomic::write_atomic(&sidecar(log), &json).map_err(local_err)?;
    Ok(step)
}

/// What one poll saw.
enum Seen {
    /// The exit file is there (its text), and the log read with it is complete.
    Ended(String),
    /// The supervisor runs.
    Alive,
    /// The supervisor is gone without an exit file.
    Gone,
}

/// Reads the log from `offset` (bytes already copied) and the supervisor's state, in one
/// round trip.
fn poll(session: &SshSession, dir: &str, offset: u64) -> Result<(Seen, Vec<u8>), MachineError> {
    let script = "d=$1; if [ -f \"$d/exit\" ]; then echo E; \
                  elif [ -f \"$d/pid\" ] && kill -0 $(cat \"$d/pid\") 2>/dev/null; then echo A; \
                  else echo D; fi; tail -c +\"$2\" \"$d/log\" 2>/dev/null; exit 0";
    let from = (offset + 1).to_string();
    let out = session.run_line(
        shell_quote::join(&["sh", "-c", script, "sh", dir, &from]),
        None,
        POLL_LIMIT,
    )?;
    let split = out
        .stdout
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(out.stdout.len());
    let state = String::from_utf8_lossy(&out.stdout[..split])
        .trim()
        .to_string();
    let rest = out.stdout.get(split + 1..).unwrap_or_default().to_vec();
    let seen = match state.as_str() {
        "E" => {
            let exit = session.run_line(
                shell_quote::join(&["sh", "-c", "cat \"$1/exit\"", "sh", dir]),
                None,
                POLL_LIMIT,
            )?;
            Seen::Ended(String::from_utf8_lossy(&exit.stdout).into_owned())
        }
        "A" => Seen::Alive,
        "D" => Seen::Gone,
        other => {
            return Err(MachineError::Failed(format!(
                "unexpected answer from the host: {}",
                crate::core::terminal_text::terminal_safe_line(other)
            )));
        }
    };
    Ok((seen, rest))
}

/// The remote supervisor's group, for cancel.
struct SupervisorGroup {
    machine: Shared,
    dir: String,
}

impl RemoteGroup for SupervisorGroup {
    fn signal(&self, sig: i32) {
        if let Some(s) = self.machine.ssh() {
            let _ = s.run_line(signal_line(&self.dir, sig), None, POLL_LIMIT);
        }
    }

    fn exists(&self) -> bool {
        let Some(s) = self.machine.ssh() else {
            return false;
        };
        let script = "[ -f \"$1/exit\" ] && exit 1; kill -0 $(cat \"$1/pid\") 2>/dev/null";
        s.run_line(
            shell_quote::join(&["sh", "-c", script, "sh", &self.dir]),
            None,
            POLL_LIMIT,
        )
        .is_ok_and(|o| o.exit == Exit::Code(0))
    }
}

/// Follows a remote long step: copies the remote log into `log` from where the local copy
/// ends, streams it filtered, and finishes with what the exit file says. A lost link is
/// retried (the step runs on); it never ends the step.
pub fn watch(machine: Shared, log: PathBuf, step: RemoteStep, job: Option<StepJob>) -> RunningStep {
    let (tx, rx) = mpsc::sync_channel(CHANNEL_DEPTH);
    let cancel = CancelHandle::default();
    cancel.set_remote(Some(Arc::new(SupervisorGroup {
        machine: machine.clone(),
        dir: step.dir.clone(),
    })));
    let c = cancel.clone();
    thread::spawn(move || {
        let outcome = follow(&*machine, &log, &step, job, &c, &tx);
        if outcome.status == Status::Failed {
            let _ = tx.send(RunEvent::Notice(outcome.message.clone()));
        }
        let _ = tx.send(RunEvent::Finished(outcome));
    });
    RunningStep { events: rx, cancel }
}

fn follow(
    machine: &dyn Machine,
    log: &Path,
    step: &RemoteStep,
    job: Option<StepJob>,
    cancel: &CancelHandle,
    tx: &mpsc::SyncSender<RunEvent>,
) -> RunOutcome {
    let job = job.or_else(|| supervisor::read_job(log));
    let ok_output = job
        .as_ref()
        .map(|j| j.ok_output.clone())
        .unwrap_or_default();
    let Some(session) = machine.ssh() else {
        return RunOutcome {
            status: Status::Interrupted,
            exit: None,
            failed_program: None,
            message: format!(
                "this step runs on {}; start fieldbook with --host {} to follow it",
                step.destination, step.destination
            ),
        };
    };
    let mut filter = TerminalText::new();
    let mut ok_seen = false;
    let mut told_lost = false;
    loop {
        let offset = std::fs::metadata(log).map_or(0, |m| m.len());
        match poll(session, &step.dir, offset) {
            Ok((seen, bytes)) => {
                if told_lost {
                    told_lost = false;
                    let _ = tx.send(RunEvent::Notice(format!(
                        "reconnected to {}; following the step again",
                        step.destination
                    )));
                }
                ok_seen |= copy(log, &bytes, &mut filter, &ok_output, tx);
                match seen {
                    Seen::Alive => {}
                    Seen::Ended(text) => {
                        finish_output(&mut filter, tx, |_| {});
                        let record = ExitRecord::parse(&text).unwrap_or_else(|| ExitRecord {
                            error: Some(format!(
                                "the host's exit file could not be read: {}",
                                crate::core::terminal_text::terminal_safe_line(text.trim())
                            )),
                            ..ExitRecord::from(Exit::Code(127))
                        });
                        let _ = state_dir::write_exit_record(&state_dir::exit_file(log), &record);
                        return supervisor::outcome_of(
                            &record,
                            job.as_ref(),
                            &[0],
                            ok_seen,
                            cancel.is_requested(),
                        );
                    }
                    Seen::Gone => {
                        return RunOutcome::supervisor_gone(cancel.is_requested(), || {
                            gone_why(session, log, step)
                        });
                    }
                }
                thread::sleep(POLL_EVERY);
            }
            Err(MachineError::Link(why)) => {
                if !told_lost {
                    told_lost = true;
                    let _ = tx.send(RunEvent::Notice(format!(
                        "{why}; the step keeps running on {}; reconnecting…",
                        step.destination
                    )));
                }
                thread::sleep(RECONNECT_EVERY);
                session.reconnect();
            }
            Err(e) => {
                return RunOutcome {
                    status: Status::Interrupted,
                    exit: None,
                    failed_program: None,
                    message: e.to_string(),
                };
            }
        }
    }
}

/// Why a followed step is over without an exit file: its program may still run on the host
/// (the supervisor was killed), which the host is asked.
fn gone_why(session: &SshSession, log: &Path, step: &RemoteStep) -> String {
    let at = super::remote_orphans::HostAttempt {
        step: step.clone(),
        nonce: crate::core::attempt_id::read_nonce(log),
    };
    match super::remote_orphans::look(session, &at) {
        Ok(super::remote_orphans::Look::Orphaned(o)) => o.interrupted_why(),
        _ => format!(
            "the supervisor on {} ended without recording an exit status (killed, or the host \
             rebooted)",
            step.destination
        ),
    }
}

/// Appends remote log bytes to the local copy and streams them filtered. Returns whether an
/// `ok_output` text was seen.
fn copy(
    log: &Path,
    bytes: &[u8],
    filter: &mut TerminalText,
    ok_output: &[String],
    tx: &mpsc::SyncSender<RunEvent>,
) -> bool {
    if bytes.is_empty() {
        return false;
    }
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(log) {
        let _ = f.write_all(bytes);
    }
    let mut lines = Vec::new();
    filter.feed(bytes, &mut lines);
    let seen = lines.iter().any(|l| {
        let t = l.text();
        ok_output.iter().any(|o| t.contains(o.as_str()))
    });
    send_output(filter, lines, tx);
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::runner::Command;

    /// The generated supervisor, run by a real sh: values stay literal, the first unexpected
    /// exit ends the run, and the exit file reads as the local supervisor's.
    #[test]
    fn the_generated_supervisor_runs_and_records_like_the_local_one() {
        let dir = tempfile::tempdir().unwrap();
        let hostile = "x'; touch /tmp/pwned-fb; echo '$(id)`id`\nline";
        let job = StepJob {
            commands: vec![
                Command {
                    argv: vec!["printf".into(), "[%s]\\n".into(), hostile.into()],
                    env: vec![],
                },
                Command {
                    argv: vec!["sh".into(), "-c".into(), "echo \"$FB_v\"; exit 3".into()],
                    env: vec![("FB_v".into(), hostile.into())],
                },
                Command {
                    argv: vec!["echo".into(), "never".into()],
                    env: vec![],
                },
            ],
            expect: vec![0],
            ok_output: vec![],
            shows: Vec::new(),
        };
        let d = dir.path().display().to_string();
        std::fs::write(dir.path().join("run.sh"), script(&job, &[])).unwrap();
        let st = std::process::Command::new("sh")
            .arg(dir.path().join("run.sh"))
            .arg(&d)
            .status()
            .unwrap();
        assert!(st.success());
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
        assert!(log.contains(&format!("[{hostile}]")), "{log}");
        assert!(log.contains(&format!("{hostile}\n")), "{log}");
        assert!(!log.contains("never\n"), "{log}");
        let exit = std::fs::read_to_string(dir.path().join("exit")).unwrap();
        let record = ExitRecord::parse(&exit).unwrap();
        assert_eq!(record.exit, Exit::Code(3));
        assert_eq!(record.program, Some(1));
        assert_eq!(record.success, Some(false));
    }

    /// With `ok_output`, an unexpected exit whose own output shows an ok text goes on to the
    /// next program, as the local supervisor does; an unexpected exit without it in its own
    /// output (even when an earlier program printed it) ends the run failed.
    #[test]
    fn the_generated_supervisor_goes_on_after_an_ok_output_exit() {
        let dir = tempfile::tempdir().unwrap();
        let sh = |script: &str| Command {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: vec![],
        };
        let job = StepJob {
            commands: vec![
                sh("echo ' * net.xenbr0 is not in the runlevel default'; exit 1"),
                sh("echo second ran"),
                sh("echo no such text; exit 2"),
                sh("echo never"),
            ],
            expect: vec![0],
            ok_output: vec!["is not in the runlevel".into()],
            shows: Vec::new(),
        };
        let d = dir.path().display().to_string();
        std::fs::write(dir.path().join("run.sh"), script(&job, &[])).unwrap();
        let st = std::process::Command::new("sh")
            .arg(dir.path().join("run.sh"))
            .arg(&d)
            .status()
            .unwrap();
        assert!(st.success());
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
        assert!(log.contains("second ran\n"), "{log}");
        assert!(!log.contains("never\n"), "{log}");
        let record =
            ExitRecord::parse(&std::fs::read_to_string(dir.path().join("exit")).unwrap()).unwrap();
        assert_eq!(record.exit, Exit::Code(2));
        assert_eq!(record.program, Some(2), "the third program (0-based 2)");
        assert_eq!(record.success, Some(false));
    }

    /// Issue 17 item 5 over `--host`: the secret reaches the program intact, but never the
    /// starter's command line, the supervisor script, its log or a file left in its directory
    /// (the secrets file is gone before the programs start), nor the local job file.
    #[test]
    fn a_secret_reaches_the_remote_program_but_no_file_or_command_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("step");
        let out = tmp.path().join("out");
        let secret = " s3cr'et \"$(id)\" `x` \\ end";
        let other = "pw2";
        let job = StepJob {
            commands: vec![Command {
                argv: vec![
                    "sh".into(),
                    "-c".into(),
                    "printf '%s|%s|%s' \"$1\" \"$FB_PW\" \"$2\" >\"$0\"".into(),
                    out.display().to_string(),
                    format!("--password={secret}"),
                    format!("{other}{secret}{other}"),
                ],
                env: vec![("FB_PW".into(), secret.into())],
            }],
            expect: vec![0],
            ok_output: vec![],
            shows: Vec::new(),
        };
        let secrets = vec![secret.to_string(), other.to_string(), String::new()];
        let script_text = script(&job, &secrets);
        assert!(!script_text.contains(secret) && !script_text.contains(other));
        let d = dir.display().to_string();
        let mut child = std::process::Command::new("sh")
            .args(["-c", STARTER, "sh", &d, "2"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(&starter_input(&job, &secrets)).unwrap();
        }
        assert!(child.wait().unwrap().success());
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !dir.join("exit").exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the supervisor did not end"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            format!("--password={secret}|{secret}|{other}{secret}{other}")
        );
        assert!(
            !dir.join("secrets").exists(),
            "the secrets file outlived the start"
        );
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                !text.contains(secret) && !text.contains(other),
                "{} holds a secret:\n{text}",
                path.display()
            );
        }
        let log = std::fs::read_to_string(dir.join("log")).unwrap();
        assert!(log.contains("--password=***"), "{log}");
        let record = ExitRecord::parse(&std::fs::read_to_string(dir.join("exit")).unwrap());
        assert_eq!(record.unwrap().exit, Exit::Code(0));
        // The local job file keeps the shape, not the values.
        let kept = serde_json::to_string(&masked_job(&job, &secret_values(&secrets))).unwrap();
        assert!(!kept.contains("s3cr") && !kept.contains(other), "{kept}");
    }
}
