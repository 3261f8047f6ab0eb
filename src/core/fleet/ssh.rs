//! Asking hosts through the system's OpenSSH client: every argument is an argv element (host
//! names and ssh options never pass through a local shell), and the one remote command line —
//! which ssh hands to the remote user's shell as a single string — is built with POSIX quoting.
//! Only `fieldbook status` and `fieldbook report` are ever run remotely.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::core::shell_quote;

use super::{HostAnswer, HostReport, PARALLEL, classify};
use crate::core::terminal_text::terminal_safe_line;

/// Environment variable naming the ssh program to use instead of `ssh` from PATH.
pub const SSH_ENV: &str = "FIELDBOOK_SSH";

/// How to reach the hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSettings {
    /// The ssh program (`ssh`, or `$FIELDBOOK_SSH`).
    pub program: String,
    /// Seconds for ssh's ConnectTimeout.
    pub connect_timeout: u32,
    /// Extra arguments for ssh, before the host (e.g. `-F`, `cfg`, `-o`, `Port=2222`).
    pub extra_args: Vec<String>,
    /// The fieldbook program on the hosts.
    pub remote_fieldbook: String,
    /// A whole-answer limit per host, so one hung host cannot hold the table forever.
    pub answer_timeout: Duration,
}

impl SshSettings {
    /// Defaults: `$FIELDBOOK_SSH` or `ssh`, 10 s to connect, then [`ANSWER_SECS`] to answer.
    pub fn from_env() -> SshSettings {
        SshSettings {
            program: std::env::var(SSH_ENV)
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "ssh".into()),
            connect_timeout: 10,
            extra_args: Vec::new(),
            remote_fieldbook: "fieldbook".into(),
            answer_timeout: Duration::from_secs(10 + ANSWER_SECS),
        }
    }

    /// The argv (after the program) that runs `remote_args` on `host`. BatchMode: never ask
    /// for a password or a host-key confirmation in the middle of a table.
    pub fn argv(&self, host: &str, remote_args: &[&str]) -> Vec<String> {
        // ssh takes the first value it sees for an option, so the technician's come first.
        let mut argv = self.extra_args.clone();
        argv.extend([
            "-o".to_string(),
            "BatchMode=yes".to_string(),
            "-o".to_string(),
            format!("ConnectTimeout={}", self.connect_timeout),
        ]);
        // `--` ends ssh's options: nothing after it is read as one.
        argv.push("--".into());
        argv.push(host.to_string());
        argv.push(self.remote_line(remote_args));
        argv
    }

    /// The remote command line: the fieldbook program and its arguments, each quoted, so the
    /// remote shell splits it back into exactly that argv.
    pub fn remote_line(&self, remote_args: &[&str]) -> String {
        let mut words = vec![self.remote_fieldbook.as_str()];
        words.extend_from_slice(remote_args);
        shell_quote::join(&words)
    }
}

/// What a remote command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOutput {
    /// Exit status (`None` when killed by a signal or timed out).
    pub exit: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error (with a note when the time limit ended it).
    pub stderr: String,
}

/// The most of one host's answer (each of stdout and stderr) that is kept: `status --json` of
/// a host is a few KB; a host that sends more is cut off there, so eight hosts answering
/// 300 MB each cannot take gigabytes.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Seconds a host has to answer once connected (`fieldbook status --json` takes well under
/// one): a hung host ends at `--connect-timeout` plus this.
pub const ANSWER_SECS: u64 = 20;

/// Reads at most [`MAX_ANSWER_BYTES`] from `pipe` on a thread; `true` when there was more
/// (the pipe is then closed, which ends a sender that keeps writing).
fn read_capped(
    pipe: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<(Vec<u8>, bool)> {
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = Vec::new();
        let limit = u64::try_from(MAX_ANSWER_BYTES).unwrap_or(u64::MAX);
        let _ = pipe.take(limit + 1).read_to_end(&mut buf);
        let more = buf.len() > MAX_ANSWER_BYTES;
        buf.truncate(MAX_ANSWER_BYTES);
        (buf, more)
    })
}

/// Runs one remote fieldbook command on `host` and waits (at most `answer_timeout`), keeping
/// at most [`MAX_ANSWER_BYTES`] of each output.
pub fn run_remote(settings: &SshSettings, host: &str, remote_args: &[&str]) -> RemoteOutput {
    let argv = settings.argv(host, remote_args);
    let child = std::process::Command::new(&settings.program)
        .args(&argv)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return RemoteOutput {
                exit: Some(255),
                stdout: String::new(),
                stderr: format!(
                    "cannot run {} ({e}); PATH is {}",
                    settings.program,
                    std::env::var("PATH").unwrap_or_default()
                ),
            };
        }
    };
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return RemoteOutput {
            exit: Some(255),
            stdout: String::new(),
            stderr: "ssh's output pipes were not set up".into(),
        };
    };
    let (out, err) = (read_capped(out), read_capped(err));
    let deadline = Instant::now() + settings.answer_timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "no answer within {} s",
                    settings.answer_timeout.as_secs()
                ));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("waiting for ssh failed: {e}"));
            }
        }
    };
    // ssh has ended, so its pipes close unless something it started still holds them: the
    // readers are bounded by the cap either way.
    let (stdout, more_out) = out.join().unwrap_or_default();
    let (stderr, _) = err.join().unwrap_or_default();
    match status {
        Err(message) => RemoteOutput {
            exit: Some(255),
            stdout: String::new(),
            stderr: message,
        },
        Ok(_) if more_out => RemoteOutput {
            exit: None,
            stdout: String::new(),
            stderr: format!("the answer was larger than {MAX_ANSWER_BYTES} bytes; not read"),
        },
        Ok(status) => RemoteOutput {
            exit: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        },
    }
}

/// Asks every host for `fieldbook status --json`, [`PARALLEL`] at a time, and returns the
/// answers in the order the hosts were given.
pub fn ask_all(settings: &SshSettings, hosts: &[String]) -> Vec<HostReport> {
    let queue: Mutex<VecDeque<(usize, &String)>> = Mutex::new(hosts.iter().enumerate().collect());
    let results: Mutex<Vec<Option<HostReport>>> = Mutex::new(vec![None; hosts.len()]);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL.min(hosts.len()) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                    let Some((i, host)) = next else { break };
                    let out = run_remote(settings, host, &["status", "--json"]);
                    let report = HostReport {
                        host: host.clone(),
                        answer: classify(out.exit, &out.stdout, &out.stderr),
                    };
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(report);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .zip(hosts)
        .map(|(r, host)| {
            r.unwrap_or_else(|| HostReport {
                host: host.clone(),
                answer: HostAnswer::Failed {
                    exit: None,
                    message: "not asked".into(),
                },
            })
        })
        .collect()
}

/// One host's handover report of one run (`fieldbook report ID --target T`), as Markdown made
/// safe for the terminal, or what went wrong.
pub fn report(
    settings: &SshSettings,
    host: &str,
    runbook: &str,
    target: &str,
) -> Result<String, String> {
    let out = run_remote(settings, host, &["report", runbook, "--target", target]);
    match out.exit {
        Some(0) => Ok(out
            .stdout
            .lines()
            .map(terminal_safe_line)
            .collect::<Vec<_>>()
            .join("\n")),
        _ => Err(match classify(out.exit, "", &out.stderr) {
            HostAnswer::Unreachable { message } => format!("unreachable: {message}"),
            HostAnswer::NoFieldbook { message } => format!("no fieldbook: {message}"),
            _ => format!(
                "fieldbook report failed{}: {}",
                out.exit
                    .map_or_else(String::new, |c| format!(" (exit {c})")),
                terminal_safe_line(out.stderr.trim())
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_keeps_hosts_and_options_apart_and_quotes_the_remote_line() {
        let mut s = SshSettings::from_env();
        s.extra_args = vec!["-F".into(), "/tmp/my config".into()];
        s.remote_fieldbook = "/opt/field book/fieldbook".into();
        assert_eq!(
            s.argv("root@alpha", &["report", "x; reboot", "--target", "it's"]),
            vec![
                "-F",
                "/tmp/my config",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=10",
                "--",
                "root@alpha",
                "'/opt/field book/fieldbook' report 'x; reboot' --target 'it'\\''s'",
            ]
        );
    }

    #[test]
    fn a_missing_ssh_is_an_unreachable_host_with_the_path() {
        let mut s = SshSettings::from_env();
        s.program = "/nonexistent/ssh".into();
        let r = ask_all(&s, &["alpha".to_string()]);
        assert!(
            matches!(&r[0].answer, HostAnswer::Unreachable { message } if message.contains("/nonexistent/ssh")),
            "{r:?}"
        );
    }

    /// Issue 17 items 12 and 16: a host that answers without end is cut off at
    /// [`MAX_ANSWER_BYTES`] (memory stays bounded), and one that hangs ends at the answer time.
    #[test]
    fn a_flooding_or_hung_host_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("ssh");
        std::fs::write(
            &fake,
            "#!/bin/sh\ncase \"$*\" in *flood*) exec head -c 8388608 /dev/zero;; *hang*) exec sleep 60;; esac\n",
        )
        .unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&fake)
            .status()
            .unwrap();
        let mut s = SshSettings::from_env();
        // A hung host ends at the connect timeout plus a bounded answer time, not 111 s.
        assert_eq!(s.answer_timeout, Duration::from_secs(30));
        s.program = fake.to_string_lossy().into_owned();
        s.answer_timeout = Duration::from_secs(2);
        let started = Instant::now();
        let out = run_remote(&s, "flood", &["status", "--json"]);
        assert!(out.stdout.is_empty(), "{} bytes kept", out.stdout.len());
        assert!(out.stderr.contains("larger than"), "{}", out.stderr);
        let out = run_remote(&s, "hang", &["status", "--json"]);
        assert_eq!(out.stderr, "no answer within 2 s");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    /// A stand-in ssh (FIELDBOOK_SSH) that records its argv proves nothing went through a
    /// local shell and the bound of parallel asks holds.
    #[test]
    fn stand_in_ssh_sees_exact_argv() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("ssh");
        let log = dir.path().join("log");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\n{{ for a in \"$@\"; do printf '%s\\037' \"$a\"; done; printf '\\n'; }} > {dir}/line.$$\n\
                 # One append of the whole line: concurrent stand-ins never interleave.\n\
                 cat {dir}/line.$$ >> {log}; rm {dir}/line.$$\n\
                 mkdir {dir}/running.$$; ls -d {dir}/running.* | wc -l >> {dir}/concurrency; sleep 0.2; rmdir {dir}/running.$$\n\
                 case \"$*\" in *down*) echo 'ssh: connect to host down port 22: Connection refused' >&2; exit 255;; esac\n\
                 echo '{{\"runs\": []}}'\n",
                log = log.display(),
                dir = dir.path().display(),
            ),
        )
        .unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&fake)
            .status()
            .unwrap();
        let mut s = SshSettings::from_env();
        s.program = fake.to_string_lossy().into_owned();
        let hosts: Vec<String> = (0..20)
            .map(|i| format!("h{i}$(reboot)"))
            .chain(["down".to_string()])
            .collect();
        let r = ask_all(&s, &hosts);
        assert_eq!(r.len(), 21);
        assert!(
            r[..20]
                .iter()
                .all(|h| matches!(h.answer, HostAnswer::Ok { .. }))
        );
        assert!(matches!(r[20].answer, HostAnswer::Unreachable { .. }));
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text.lines().count(), 21);
        assert!(
            text.contains("--\u{1f}h3$(reboot)\u{1f}fieldbook status --json\u{1f}"),
            "{text}"
        );
        let most = std::fs::read_to_string(dir.path().join("concurrency"))
            .unwrap()
            .lines()
            .map(|l| l.trim().parse::<usize>().unwrap())
            .max()
            .unwrap();
        assert!((2..=PARALLEL).contains(&most), "{most} at once");
    }
}
