//! Programs a killed supervisor left running on a host (issue 17 item 10, over `--host`): the
//! remote supervisor of a long step is gone without an exit file, but its program's process
//! group still has members there. They are looked for, and stopped after a yes, over ssh by
//! one POSIX-sh script ([`SCRIPT`]); this machine's `/proc` never judges a host's attempt.
//!
//! The group is the one the supervisor ran its programs in: its own (started with `setsid`),
//! or the starter's (recorded in `DIR/group` without setsid). It is taken for this attempt's
//! only while its leader is gone (a process group id is not reused while the group has
//! members) and, where `/proc/PID/environ` can be read, its members carry the attempt's nonce
//! (`FIELDBOOK_ATTEMPT`, which the remote supervisor exports as the local one does).

use std::time::Duration;

use super::remote_long::RemoteStep;
use super::{Machine, MachineError, SshSession};
use crate::core::progress::Exit;
use crate::core::shell_quote;

/// Longest one look (or stop, which waits up to twice its grace) may take.
const LIMIT: Duration = Duration::from_secs(120);

/// Most lines of the host's answer that are read.
const MAX_LINES: usize = 200;

/// Most bytes of the host's answer that are read.
const MAX_BYTES: usize = 16 * 1024;

/// Run by `sh -c SCRIPT sh DIR NONCE MODE TICKS` on the host. Prints `ended` (the exit file is
/// there), `alive` (the supervisor runs), `gone` (nothing of the attempt is left), or
/// `group G` and one `pid P` per member (at most 64). With MODE `stop` it first sends SIGTERM
/// to the group, then SIGKILL when members are left after TICKS fifths of a second, and adds
/// one `left P` per member still there after as long again. Needs sh, kill, cat, and tr and
/// grep for the nonce; `/proc` where there is one, else `ps -o pid= -o pgid=`.
const SCRIPT: &str = r#"d=$1; n=$2; t=$4
gone() { kill -0 "$1" 2>/dev/null || return 0; s=; read s <"/proc/$1/stat" 2>/dev/null
  case ${s##*) } in Z*|X*) return 0 ;; esac; return 1; }
mine() { [ -n "$n" ] && [ -r "/proc/$1/environ" ] || return 0
  tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -q -x -F "FIELDBOOK_ATTEMPT=$n"; }
members() { k=0; w=$1
  if [ -d /proc/self ]; then
    for f in /proc/[0-9]*/stat; do s=; read s <"$f" 2>/dev/null || continue; set -- ${s##*) }
      [ "$3" = "$g" ] || continue; case $1 in Z*|X*) continue ;; esac
      q=${f#/proc/}; q=${q%/stat}; mine "$q" || continue
      echo "$w $q"; k=$((k+1)); [ $k -lt 64 ] || break; done
  else ps -e -o pid= -o pgid= 2>/dev/null | while read a b; do
      [ "$b" = "$g" ] && echo "$w $a"; done | head -n 64; fi; }
wait_group() { i=0; while kill -0 -"$g" 2>/dev/null && [ $i -lt "$t" ]; do
  sleep 0.2 2>/dev/null || sleep 1; i=$((i+1)); done; }
[ -f "$d/exit" ] && { echo ended; exit 0; }
[ -s "$d/pid" ] || { echo gone; exit 0; }
read p <"$d/pid"
case $p in ''|*[!0-9]*) echo gone; exit 0 ;; esac
gone "$p" || { echo alive; exit 0; }
g=
for c in $p $(cat "$d/group" 2>/dev/null); do
  case $c in ''|*[!0-9]*|0|1) continue ;; esac
  if kill -0 -"$c" 2>/dev/null && gone "$c"; then g=$c; break; fi
done
[ -n "$g" ] || { echo gone; exit 0; }
m=$(members pid)
[ -n "$m" ] || { echo gone; exit 0; }
echo "group $g"; echo "$m"
[ "$3" = stop ] || exit 0
kill -TERM -"$g" 2>/dev/null; wait_group
kill -0 -"$g" 2>/dev/null && { kill -KILL -"$g" 2>/dev/null; wait_group; }
members left; exit 0
"#;

/// The programs of a host's attempt that still run without their supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOrphans {
    /// `[USER@]HOST` they run on.
    pub destination: String,
    /// The dead supervisor's pid there.
    pub supervisor: u32,
    /// Their process group there.
    pub group: u32,
    /// Their pids there.
    pub pids: Vec<u32>,
}

impl HostOrphans {
    /// Why `step` cannot run again, in the words the local case uses
    /// ([`crate::core::store::StoreError::Orphaned`]), naming the host.
    pub fn refusal(&self, step: &str) -> String {
        format!(
            "step '{step}': the program of its last attempt is still running on {} without its \
             supervisor (pid {}); stop it (kill -TERM -{} on {}) before running the step again",
            self.destination,
            list(&self.pids),
            self.group,
            self.destination
        )
    }

    /// Why a followed step is over, as the local case says it when it reconciles.
    pub fn interrupted_why(&self) -> String {
        format!(
            "its supervisor (pid {}) on {} was killed, but its program is still running there \
             (pid {}); stop it before retrying",
            self.supervisor,
            self.destination,
            list(&self.pids)
        )
    }
}

/// What is recorded on the step after stopping `found`, with the pids `left` after SIGKILL:
/// the words the local case records, naming the host.
pub fn stopped_note(found: &HostOrphans, left: &[u32]) -> String {
    if left.is_empty() {
        format!(
            "stopped the program a killed supervisor left running on {} (pid {}): SIGTERM, then \
             SIGKILL if needed",
            found.destination,
            list(&found.pids)
        )
    } else {
        format!(
            "tried to stop the program a killed supervisor left running on {} (pid {}), but pid \
             {} still runs after SIGKILL",
            found.destination,
            list(&found.pids),
            list(left)
        )
    }
}

/// Pids as `1, 2`.
pub fn list(pids: &[u32]) -> String {
    pids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the host says about an attempt's supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look {
    /// Its exit file is there: it ended and recorded how.
    Ended,
    /// It still runs.
    Alive,
    /// It is gone and nothing of its programs is left.
    Gone,
    /// It is gone but its programs run on.
    Orphaned(HostOrphans),
}

/// After stopping: what was found, and the pids still there after SIGKILL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// What was found (and signalled); `None` when nothing was left to stop.
    pub found: Option<HostOrphans>,
    /// Pids still running afterwards.
    pub left: Vec<u32>,
}

/// A host's attempt as recorded here: where its supervisor ran and the attempt's nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAttempt {
    /// Host, remote directory and supervisor pid (`<log>.remote`).
    pub step: RemoteStep,
    /// The attempt's nonce, which its programs carry in their environment.
    pub nonce: Option<String>,
}

/// The host attempt of `step` in `run` (states in `dir`), when its last attempt ran on a host
/// over ssh (`<log>.remote`) and was interrupted: its supervisor there may have left its program
/// running. An attempt that ended has nothing left.
pub fn host_attempt(
    run: &crate::core::progress::Run,
    dir: &crate::core::state_dir::StateDir,
    step: &str,
) -> Option<HostAttempt> {
    let st = run.steps.get(step)?;
    if st.status != crate::core::progress::Status::Interrupted {
        return None;
    }
    let a = st.attempts.last()?;
    let log = dir.resolve_path(a.log.as_deref()?);
    Some(HostAttempt {
        step: super::remote_long::read_sidecar(&log)?,
        nonce: a.nonce.clone(),
    })
}

fn ask(
    session: &SshSession,
    at: &HostAttempt,
    stop: bool,
    grace: Duration,
) -> Result<(Look, Vec<u32>), MachineError> {
    let nonce = at
        .nonce
        .as_deref()
        .filter(|n| crate::core::attempt_id::is_nonce(n))
        .unwrap_or("");
    let ticks = (grace.as_millis() / 200).max(1).to_string();
    let mode = if stop { "stop" } else { "look" };
    let line = shell_quote::join(&["sh", "-c", SCRIPT, "sh", &at.step.dir, nonce, mode, &ticks]);
    let out = session.run_line(line, None, LIMIT)?;
    if out.exit != Exit::Code(0) {
        return Err(MachineError::Failed(format!(
            "{} could not tell whether the step's program still runs ({}): {}",
            session.destination(),
            out.exit,
            crate::core::terminal_text::terminal_safe_line(
                String::from_utf8_lossy(&out.stderr).trim()
            )
        )));
    }
    parse(&out.stdout, &at.step)
}

/// Reads the script's answer (bounded): what it found, and the `left` pids.
fn parse(stdout: &[u8], step: &RemoteStep) -> Result<(Look, Vec<u32>), MachineError> {
    let text = String::from_utf8_lossy(&stdout[..stdout.len().min(MAX_BYTES)]);
    let mut lines = text.lines().take(MAX_LINES);
    let unexpected = |what: &str| {
        MachineError::Failed(format!(
            "unexpected answer from {}: {}",
            step.destination,
            crate::core::terminal_text::terminal_safe_line(what)
        ))
    };
    let first = lines.next().unwrap_or("").trim();
    let group = match first {
        "ended" => return Ok((Look::Ended, Vec::new())),
        "alive" => return Ok((Look::Alive, Vec::new())),
        "gone" => return Ok((Look::Gone, Vec::new())),
        other => other
            .strip_prefix("group ")
            .and_then(|g| g.trim().parse::<u32>().ok())
            .filter(|&g| g > 1)
            .ok_or_else(|| unexpected(other))?,
    };
    let (mut pids, mut left) = (Vec::new(), Vec::new());
    for line in lines {
        let (tag, pid) = line
            .trim()
            .split_once(' ')
            .ok_or_else(|| unexpected(line))?;
        let pid: u32 = pid.trim().parse().map_err(|_| unexpected(line))?;
        match tag {
            "pid" => pids.push(pid),
            "left" => left.push(pid),
            _ => return Err(unexpected(line)),
        }
    }
    if pids.is_empty() {
        return Err(unexpected(first));
    }
    Ok((
        Look::Orphaned(HostOrphans {
            destination: step.destination.clone(),
            supervisor: step.pid,
            group,
            pids,
        }),
        left,
    ))
}

/// Asks the host about the attempt's supervisor and what it left running.
pub fn look(session: &SshSession, at: &HostAttempt) -> Result<Look, MachineError> {
    ask(session, at, false, Duration::ZERO).map(|(look, _)| look)
}

/// Stops what the attempt's dead supervisor left running on the host: SIGTERM to the group,
/// SIGKILL after `grace` to what is left. Looks again first, so only a group that is still
/// this attempt's is signalled.
pub fn stop(
    session: &SshSession,
    at: &HostAttempt,
    grace: Duration,
) -> Result<Stopped, MachineError> {
    let (look, left) = ask(session, at, true, grace)?;
    Ok(Stopped {
        found: match look {
            Look::Orphaned(o) => Some(o),
            _ => None,
        },
        left,
    })
}

/// What can be said here about a host's attempt before its step runs again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCheck {
    /// Nothing of it runs on the host any more.
    Clear,
    /// Its program still runs there.
    Found(HostOrphans),
    /// It cannot be told here (not connected to that host, or the host did not answer).
    Unknown(String),
}

/// The session `machine` has to the host `at` ran on, or why it cannot look there. A host's
/// attempt is never judged without that host.
pub fn session_for<'m>(
    machine: &'m dyn Machine,
    at: &HostAttempt,
) -> Result<&'m SshSession, String> {
    let dest = &at.step.destination;
    match machine.ssh() {
        Some(s) if s.destination() == dest => Ok(s),
        Some(s) => Err(format!(
            "its last attempt ran on {dest}, and fieldbook is connected to {}: whether its \
             program still runs there cannot be checked here (open the run with --host {dest})",
            s.destination()
        )),
        None => Err(format!(
            "its last attempt ran on {dest}: whether its program still runs there cannot be \
             checked here (open the run with --host {dest})"
        )),
    }
}

/// Looks on the host for what `at` left running, through `machine`.
pub fn check(machine: &dyn Machine, at: &HostAttempt) -> HostCheck {
    let session = match session_for(machine, at) {
        Ok(s) => s,
        Err(why) => return HostCheck::Unknown(why),
    };
    match look(session, at) {
        Ok(Look::Orphaned(o)) => HostCheck::Found(o),
        Ok(_) => HostCheck::Clear,
        Err(e) => HostCheck::Unknown(format!(
            "whether the program of its last attempt still runs on {} cannot be told: {e}",
            at.step.destination
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    fn step(dir: &std::path::Path, pid: u32) -> RemoteStep {
        RemoteStep {
            destination: "fb@gw".into(),
            dir: dir.display().to_string(),
            pid,
        }
    }

    /// The script run by a real sh (dash and busybox ash where present), as the host runs it.
    fn run(shell: &str, dir: &std::path::Path, nonce: &str, mode: &str) -> Vec<u8> {
        let d = dir.display().to_string();
        std::process::Command::new(shell)
            .args(["-c", SCRIPT, "sh", &d, nonce, mode, "5"])
            .output()
            .unwrap()
            .stdout
    }

    fn shells() -> Vec<Vec<&'static str>> {
        let mut v = vec![vec!["sh"]];
        if std::process::Command::new("busybox")
            .arg("true")
            .status()
            .is_ok_and(|s| s.success())
        {
            v.push(vec!["busybox", "ash"]);
        }
        v
    }

    fn run_in(shell: &[&str], dir: &std::path::Path, nonce: &str, mode: &str) -> Vec<u8> {
        if shell.len() == 1 {
            return run(shell[0], dir, nonce, mode);
        }
        let d = dir.display().to_string();
        std::process::Command::new(shell[0])
            .args(&shell[1..])
            .args(["-c", SCRIPT, "sh", &d, nonce, mode, "5"])
            .output()
            .unwrap()
            .stdout
    }

    /// A group whose leader is gone and whose member carries `nonce`: what a killed
    /// supervisor leaves. Returns (group, member).
    fn orphaned_group(nonce: &str) -> (u32, std::process::Child) {
        // The leader starts the member in its own group and exits at once.
        let mut leader = std::process::Command::new("sh")
            .args(["-c", "sleep 60 >/dev/null 2>&1 & echo $!"])
            .env("FIELDBOOK_ATTEMPT", nonce)
            .stdout(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let group = leader.id();
        let out = {
            use std::io::Read;
            let mut s = String::new();
            leader
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        };
        leader.wait().unwrap();
        let member: u32 = out.trim().parse().unwrap();
        // A handle that kills it when the test ends.
        let child = std::process::Command::new("sh")
            .args([
                "-c",
                &format!("while kill -0 {member} 2>/dev/null; do sleep 0.1; done"),
            ])
            .spawn()
            .unwrap();
        (group, child)
    }

    #[test]
    fn a_killed_supervisors_group_is_found_and_stopped_by_the_hosts_sh() {
        for shell in shells() {
            let tmp = tempfile::tempdir().unwrap();
            let nonce = "0123456789abcdef";
            let (group, mut watcher) = orphaned_group(nonce);
            // The supervisor (pid = group, as with setsid) is gone; no exit file.
            std::fs::write(tmp.path().join("pid"), format!("{group}\n")).unwrap();
            let s = step(tmp.path(), group);
            let (look, _) = parse(&run_in(&shell, tmp.path(), nonce, "look"), &s).unwrap();
            let Look::Orphaned(found) = look else {
                panic!("{shell:?}: not found: {look:?}");
            };
            assert_eq!(found.group, group, "{shell:?}");
            assert_eq!(found.pids.len(), 1, "{shell:?}: {found:?}");
            // Another attempt's nonce: not this attempt's programs.
            let (other, _) =
                parse(&run_in(&shell, tmp.path(), "ffffffffffffffff", "look"), &s).unwrap();
            assert_eq!(other, Look::Gone, "{shell:?}");
            let (look, left) = parse(&run_in(&shell, tmp.path(), nonce, "stop"), &s).unwrap();
            assert!(matches!(look, Look::Orphaned(_)), "{shell:?}: {look:?}");
            assert!(left.is_empty(), "{shell:?}: {left:?}");
            // SAFETY: signal 0 only checks for existence.
            assert_ne!(unsafe { libc::killpg(group as i32, 0) }, 0, "{shell:?}");
            let _ = watcher.wait();
            let (after, _) = parse(&run_in(&shell, tmp.path(), nonce, "look"), &s).unwrap();
            assert_eq!(after, Look::Gone, "{shell:?}");
            // An exit file means it ended, whatever runs.
            std::fs::write(tmp.path().join("exit"), "code 0\n").unwrap();
            let (ended, _) = parse(&run_in(&shell, tmp.path(), nonce, "look"), &s).unwrap();
            assert_eq!(ended, Look::Ended, "{shell:?}");
        }
    }

    #[test]
    fn a_live_supervisor_is_alive_and_a_reused_leader_is_no_orphan() {
        let tmp = tempfile::tempdir().unwrap();
        // A process that leads its own group: a live supervisor, or a later process that got
        // the dead supervisor's pid and leads a group of that number.
        let mut leader = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        std::fs::write(tmp.path().join("pid"), format!("{}\n", leader.id())).unwrap();
        let s = step(tmp.path(), leader.id());
        let (look, _) = parse(&run("sh", tmp.path(), "", "look"), &s).unwrap();
        assert_eq!(look, Look::Alive);
        // Without setsid the supervisor's pid is another; the recorded group is the leader's.
        std::fs::write(tmp.path().join("pid"), "999999999\n").unwrap();
        std::fs::write(tmp.path().join("group"), format!("{}\n", leader.id())).unwrap();
        let (look, _) = parse(&run("sh", tmp.path(), "", "stop"), &s).unwrap();
        assert_eq!(
            look,
            Look::Gone,
            "a group whose leader lives is not an orphan"
        );
        assert!(leader.try_wait().unwrap().is_none(), "it was signalled");
        let _ = leader.kill();
        let _ = leader.wait();
    }

    #[test]
    fn the_answer_read_back_is_bounded_and_checked() {
        let s = step(std::path::Path::new("/x"), 7);
        assert!(parse(b"group 1\npid 5\n", &s).is_err(), "group 1 is init's");
        assert!(parse(b"group 9\n", &s).is_err(), "a group without members");
        assert!(parse(b"group 9\npid x\n", &s).is_err());
        assert!(parse(b"\x1b[2Jhello\n", &s).is_err());
        let mut big = b"group 9\n".to_vec();
        for i in 0..100_000 {
            big.extend_from_slice(format!("pid {}\n", i + 10).as_bytes());
        }
        let (look, _) = parse(&big, &s).unwrap();
        let Look::Orphaned(o) = look else { panic!() };
        assert!(o.pids.len() < MAX_LINES, "{}", o.pids.len());
    }
}
