//! Long steps (emerge world, yum update) survive the link: fieldbook re-executes itself as a
//! small supervisor in a new session, which runs the programs with their output going straight
//! to the attempt's log, judges each one as a direct run does (`expect` codes, `ok_output`
//! texts) and, when they end, writes `<log>.exit` atomically: the exit status and its verdict
//! ([`ExitRecord`]: which program ended the run, whether an `ok_output` text was seen, done or
//! failed), so whoever reads it later records what a direct run would have. The UI only tails the log, so it can die, be killed or lose its SSH session and a
//! later fieldbook re-attaches (supervisor alive), records the real exit (`.exit` present) or
//! marks the step interrupted (neither — e.g. after a reboot).
//!
//! Files of one attempt, beside each other: `<log>` (raw output), `<log>.attempt` (the
//! attempt's nonce, written by the store when it starts), `<log>.job` (what to run, JSON, mode
//! 0600 because it may hold variable values), `<log>.exit` (written last). The job file and the
//! exit file carry the nonce, and the supervisor gets it in its environment
//! ([`attempt_id::ATTEMPT_ENV`]): a file of another attempt is never believed for this one.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use super::exit_record::ExitRecord;
use super::progress::{Exit, Status};
use super::runner::{RunOutcome, StepJob, judge};
use super::terminal_text::TerminalText;
use super::{atomic, attempt_id, disk_space, state_dir};

mod files;
mod watch;
pub use files::{ended_at, read_exit, read_exit_record, read_exit_record_of, read_job, write_job};
pub use watch::{gone_without_exit, is_alive, watch};

/// The job file: the step's programs and the attempt they belong to.
#[derive(serde::Serialize, serde::Deserialize)]
struct JobFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attempt: Option<String>,
    #[serde(flatten)]
    job: StepJob,
}

/// The hidden subcommand that runs a supervisor (kept out of `--help`).
pub const SUBCOMMAND: &str = "__supervise";

/// `<log>.exit`: the exit status file the supervisor writes when the programs end.
pub fn exit_path(log: &Path) -> PathBuf {
    state_dir::exit_file(log)
}

/// `<log>.job`: the step's programs, read by the supervisor.
pub fn job_path(log: &Path) -> PathBuf {
    suffixed(log, ".job")
}

fn suffixed(log: &Path, suffix: &str) -> PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Starts a supervisor for `job` writing to `log`, detached in its own session. `exe` is the
/// fieldbook binary (`std::env::current_exe()`). Returns the supervisor's pid, which is also the
/// process group of everything it runs (for cancel).
pub fn launch(exe: &Path, job: &StepJob, log: &Path) -> std::io::Result<u32> {
    launch_with_secrets(exe, job, log, &[])
}

/// Environment variables that carry secret values to the supervisor: `FIELDBOOK_SECRET_0`, ...
const SECRET_ENV: &str = "FIELDBOOK_SECRET_";

/// What stands for secret number `i` in a job file.
fn secret_marker(i: usize) -> String {
    format!("\u{1}fieldbook-secret-{i}\u{1}")
}

/// Replaces, in every argument and environment value of `job`, each text of `from` by the
/// text of `to` at the same index.
fn replace_all(job: &mut StepJob, from: &[String], to: &[String]) {
    for c in &mut job.commands {
        let texts = c.argv.iter_mut().chain(c.env.iter_mut().map(|(_, v)| v));
        for t in texts {
            for (f, w) in from.iter().zip(to) {
                if !f.is_empty() && t.contains(f.as_str()) {
                    *t = t.replace(f.as_str(), w);
                }
            }
        }
    }
}

/// [`launch`] for a job that holds secret values (`secret` variables): the job file gets a
/// marker in place of each, and the supervisor gets the values in its environment (readable
/// by the owner only, gone when it ends), fills them in and removes them from the environment
/// its programs inherit. A secret is never stored on disk.
pub fn launch_with_secrets(
    exe: &Path,
    job: &StepJob,
    log: &Path,
    secrets: &[String],
) -> std::io::Result<u32> {
    let mut secrets: Vec<String> = secrets.iter().filter(|s| !s.is_empty()).cloned().collect();
    // Longer first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let markers: Vec<String> = (0..secrets.len()).map(secret_marker).collect();
    let mut job = job.clone();
    replace_all(&mut job, &secrets, &markers);
    let job = &job;
    if let Some(dir) = log.parent() {
        atomic::create_private_dir(dir)?;
    }
    let nonce = write_job(log, job)?;
    let mut cmd = std::process::Command::new(exe);
    cmd.env_remove(attempt_id::ATTEMPT_ENV);
    for (i, s) in secrets.iter().enumerate() {
        cmd.env(format!("{SECRET_ENV}{i}"), s);
    }
    if let Some(n) = &nonce {
        cmd.env(attempt_id::ATTEMPT_ENV, n);
    }
    cmd.arg(SUBCOMMAND)
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let pid = child.id();
    // Reap it when it ends so it never lingers as a zombie that looks alive.
    thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(pid)
}

/// The body of the hidden `__supervise LOG` subcommand. Returns the process exit code.
pub fn supervise(log: &Path) -> i32 {
    // The supervisor outlives terminals and survives the cancel signals meant for its programs;
    // only SIGKILL (the last step of cancel) ends it.
    // SAFETY: setting dispositions to SIG_IGN at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
    }
    let nonce = std::env::var(attempt_id::ATTEMPT_ENV)
        .ok()
        .filter(|n| attempt_id::is_nonce(n));
    let mut secrets = Vec::new();
    while let Ok(value) = std::env::var(format!("{SECRET_ENV}{}", secrets.len())) {
        // SAFETY: start-up of the supervisor process, before any thread exists.
        unsafe { std::env::remove_var(format!("{SECRET_ENV}{}", secrets.len())) };
        secrets.push(value);
    }
    let mut record = run_supervised(log, nonce.as_deref(), &secrets);
    record.attempt = nonce;
    if let Some(message) = &record.error
        && let Ok(mut f) = atomic::open_append(log)
    {
        let _ = writeln!(f, "fieldbook supervisor: {message}");
    }
    let base = disk_space::base_of_log(log);
    if disk_space::no_space_at(log.parent().unwrap_or(log)) {
        // The programs' output may have been cut: say so in the log and the verdict, in the
        // reserve's space if need be.
        record.disk_full = true;
        if let Some(base) = &base {
            disk_space::release_reserve(base);
        }
        if let Ok(mut f) = atomic::open_append(log) {
            let at = f.metadata().map_or(0, |m| m.len());
            let _ = writeln!(
                f,
                "\nfieldbook supervisor: the disk is full; this log may be cut (it ends at byte {at})"
            );
        }
    }
    // Written last: its presence means the step is over and this is how it ended. On a full
    // disk it is kept and tried again (the step stays "running", which is true: its outcome
    // is not saved yet) rather than lost and later blamed on a kill or a reboot.
    let write = || state_dir::write_exit_record(&exit_path(log), &record);
    let mut written = match &base {
        Some(base) => disk_space::with_reserve(base, write).0,
        None => write(),
    };
    let deadline = std::time::Instant::now() + EXIT_RETRY_FOR;
    while let Err(e) = &written
        && disk_space::is_full(e)
        && std::time::Instant::now() < deadline
    {
        thread::sleep(EXIT_RETRY_EVERY);
        written = write();
    }
    match written {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// How long, and how often, a supervisor tries again to save its exit status on a full disk.
const EXIT_RETRY_FOR: Duration = Duration::from_secs(24 * 3600);
const EXIT_RETRY_EVERY: Duration = Duration::from_secs(5);

/// Runs the job's programs in order, judging each one as a direct run does (`expect` codes,
/// `ok_output` texts), and stops at the first failure. Returns what ended the run.
fn run_supervised(log: &Path, nonce: Option<&str>, secrets: &[String]) -> ExitRecord {
    let not_started = |program: Option<usize>, programs: Option<usize>, error: String| ExitRecord {
        program,
        programs,
        success: Some(false),
        error: Some(error),
        ..ExitRecord::from(Exit::Code(127))
    };
    let job_file = job_path(log);
    let job: StepJob = match atomic::read_nofollow(&job_file)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_slice::<JobFile>(&text).map_err(|e| e.to_string()))
        .and_then(|f| {
            if attempt_id::belongs(nonce, f.attempt.as_deref()) {
                Ok(f.job)
            } else {
                Err("it belongs to another attempt".to_string())
            }
        }) {
        Ok(mut job) => {
            let markers: Vec<String> = (0..secrets.len()).map(secret_marker).collect();
            replace_all(&mut job, &markers, secrets);
            job
        }
        Err(e) => {
            return not_started(
                None,
                None,
                format!("cannot read {}: {e}", job_file.display()),
            );
        }
    };
    let programs = job.commands.len();
    let mut record = ExitRecord {
        programs: Some(programs),
        success: Some(true),
        ..ExitRecord::from(Exit::Code(0))
    };
    for (index, command) in job.commands.iter().enumerate() {
        let (status, start) = match run_program(command, log) {
            Ok(ran) => ran,
            Err(error) => return not_started(Some(index), Some(programs), error),
        };
        let exit = match (status.code(), status.signal()) {
            (Some(c), _) => Exit::Code(c),
            (None, Some(s)) => Exit::Signal(s),
            (None, None) => Exit::Code(-1),
        };
        let ok_seen = output_since(log, start, &job.ok_output);
        let success = judge(exit, &job.expect, ok_seen).is_none();
        record = ExitRecord {
            exit,
            program: Some(index),
            programs: Some(programs),
            ok_output_seen: ok_seen,
            success: Some(success),
            error: None,
            attempt: None,
            disk_full: false,
        };
        if !success {
            break;
        }
    }
    record
}

/// Runs one program to its end with its output appended to the log; returns how it ended and
/// the log's length before it started (where its output begins), or why it could not start.
fn run_program(
    command: &super::runner::Command,
    log: &Path,
) -> Result<(std::process::ExitStatus, u64), String> {
    let program = super::runner::find_program(command)?;
    let out = atomic::open_append(log).map_err(|e| format!("cannot open the log: {e}"))?;
    let start = out.metadata().map(|m| m.len()).unwrap_or(0);
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot open the log: {e}"))?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(&command.argv[1..])
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: signal() is async-signal-safe; the child gets default dispositions back so
    // cancel's SIGINT/SIGTERM reach it.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_DFL);
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            Ok(())
        });
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {}: {e}", command.display()))?;
    Ok((status, start))
}

/// True when the log, from byte `start` on, shows one of the `ok_output` texts.
fn output_since(log: &Path, start: u64, ok_output: &[String]) -> bool {
    if ok_output.is_empty() {
        return false;
    }
    let Ok(mut file) = File::open(log).and_then(|mut f| f.seek(SeekFrom::Start(start)).map(|_| f))
    else {
        return false;
    };
    // Streamed through the filter a chunk at a time, lines matched and dropped as they come:
    // memory stays at one chunk and one (cut) line however much the program printed.
    let mut filter = TerminalText::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut lines = Vec::new();
    let matches = |lines: &[crate::core::terminal_text::StyledLine]| {
        lines.iter().any(|l| {
            let t = l.text();
            ok_output.iter().any(|o| t.contains(o.as_str()))
        })
    };
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        filter.feed(&buf[..n], &mut lines);
        if matches(&lines) {
            return true;
        }
        lines.clear();
    }
    filter.finish(&mut lines);
    matches(&lines)
}

/// How a supervised step ended, when its supervisor has recorded it: what a direct run of the
/// same programs reports (status, exit, which program failed, the same words). For a later
/// fieldbook that finds the step finished while nobody watched. `expect` judges an exit file
/// from an older fieldbook (exit status only) when the job file is gone.
/// `nonce` is the attempt's nonce as the run recorded it (`None` for an older run).
pub fn ended(log: &Path, expect: &[i32], nonce: Option<&str>) -> Option<RunOutcome> {
    let expected = nonce
        .map(str::to_string)
        .or_else(|| attempt_id::read_nonce(log));
    let record = read_exit_record_of(log, expected.as_deref())?;
    Some(outcome_of(
        &record,
        read_job(log).as_ref(),
        expect,
        false,
        false,
    ))
}

/// The outcome of a supervised step from its exit record, in a direct run's terms. The
/// supervisor's verdict decides; an older record without one is judged here by `job`'s
/// `expect` codes (or `expect` without a job) and `ok_seen` (an `ok_output` text in the log).
pub fn outcome_of(
    record: &ExitRecord,
    job: Option<&StepJob>,
    expect: &[i32],
    ok_seen: bool,
    cancelled: bool,
) -> RunOutcome {
    let commands = job.map_or(&[][..], |j| j.commands.as_slice());
    let expect = job.map_or(expect, |j| j.expect.as_slice());
    let why = judge(record.exit, expect, ok_seen || record.ok_output_seen);
    let mut outcome = judged(record, commands, why, cancelled);
    if record.disk_full {
        outcome
            .message
            .push_str("; the disk was full, so its log may be cut");
    }
    outcome
}

/// The outcome the record and this side's verdict `why` (None: the exit was as expected) say.
fn judged(
    record: &ExitRecord,
    commands: &[super::runner::Command],
    why: Option<String>,
    cancelled: bool,
) -> RunOutcome {
    let success = record.success.unwrap_or(why.is_none());
    // An older record does not say which program ended the run; with one program it is clear.
    let count = record.programs.unwrap_or(commands.len());
    let program = record.program.or((count == 1).then_some(0));
    let exit = Some(record.exit);
    if cancelled {
        return RunOutcome {
            status: Status::Cancelled,
            exit,
            failed_program: program,
            message: "cancelled".to_string(),
        };
    }
    if let Some(error) = &record.error {
        return RunOutcome {
            status: Status::Failed,
            exit,
            failed_program: program,
            message: error.clone(),
        };
    }
    if success {
        return RunOutcome {
            status: Status::Done,
            exit,
            failed_program: None,
            message: super::runner::done_message(exit),
        };
    }
    let why = why.unwrap_or_else(|| record.exit.to_string());
    let message = match program {
        Some(i) if i < commands.len() => super::runner::failure_message(commands, i, &why),
        Some(i) if count > 1 => format!("command {} of {count} failed ({why})", i + 1),
        _ => format!("failed ({why})"),
    };
    RunOutcome {
        status: Status::Failed,
        exit,
        failed_program: program,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::runner::RunEvent;

    /// Issue 17 item 12: `ok_output` is matched on the log a chunk at a time (a text split
    /// between two reads is still found, after megabytes of other output).
    #[test]
    fn ok_output_is_found_streaming_through_a_long_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("s.1.log");
        let mut text = String::from("before the start\n");
        let start = text.len() as u64;
        let junk = "y".repeat(100) + "\n";
        while text.len() < 3 * 64 * 1024 - 10 {
            text.push_str(&junk);
        }
        // The wanted text straddles the third 64 KiB read.
        text.push_str("  is already installed\n");
        std::fs::write(&log, &text).unwrap();
        let want = ["already installed".to_string()];
        assert!(output_since(&log, start, &want));
        assert!(!output_since(
            &log,
            start,
            &["before the start".to_string()]
        ));
        assert!(!output_since(&log, start, &["nowhere".to_string()]));
    }

    #[test]
    fn exit_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        assert_eq!(read_exit(&log), None);
        state_dir::write_exit_file(&exit_path(&log), Exit::Signal(9)).unwrap();
        assert_eq!(read_exit(&log), Some(Exit::Signal(9)));
    }

    fn job(programs: &[&[&str]], ok_output: &[&str]) -> StepJob {
        StepJob {
            commands: programs
                .iter()
                .map(|argv| super::super::runner::Command {
                    argv: argv.iter().map(|a| a.to_string()).collect(),
                    env: Vec::new(),
                })
                .collect(),
            expect: vec![0],
            ok_output: ok_output.iter().map(|o| o.to_string()).collect(),
            shows: Vec::new(),
        }
    }

    /// Runs `job` as the supervisor does (without its signal set-up, which would change this
    /// test process) and returns what it wrote to the exit file.
    fn supervised(job: &StepJob) -> ExitRecord {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        std::fs::write(job_path(&log), serde_json::to_vec(job).unwrap()).unwrap();
        let record = run_supervised(&log, None, &[]);
        state_dir::write_exit_record(&exit_path(&log), &record).unwrap();
        read_exit_record(&log).unwrap()
    }

    fn direct(job: &StepJob) -> RunOutcome {
        let dir = tempfile::tempdir().unwrap();
        let running = super::super::runner::start(
            job.clone(),
            dir.path().join("d.log"),
            super::super::runner::RunOptions::default(),
        );
        loop {
            if let Ok(RunEvent::Finished(o)) = running.events.recv() {
                return o;
            }
        }
    }

    #[test]
    fn the_exit_file_records_the_supervisors_judgement() {
        let ok_text = job(
            &[&[
                "sh",
                "-c",
                "echo ' * service sshd already installed'; exit 1",
            ]],
            &["already installed"],
        );
        let r = supervised(&ok_text);
        assert_eq!(r.exit, Exit::Code(1));
        assert_eq!((r.program, r.programs), (Some(0), Some(1)));
        assert!(r.ok_output_seen);
        assert_eq!(r.success, Some(true));

        let second_fails = job(&[&["true"], &["sh", "-c", "exit 4"], &["true"]], &[]);
        let r = supervised(&second_fails);
        assert_eq!(r.exit, Exit::Code(4));
        assert_eq!((r.program, r.programs), (Some(1), Some(3)));
        assert_eq!(r.success, Some(false));

        let missing = job(&[&["true"], &["fieldbook-no-such-program-xyz"]], &[]);
        let r = supervised(&missing);
        assert_eq!(r.program, Some(1));
        assert_eq!(r.success, Some(false));
        assert!(r.error.unwrap().contains("fieldbook-no-such-program-xyz"));
    }

    #[test]
    fn a_supervised_outcome_is_what_a_direct_run_reports() {
        for j in [
            job(&[&["true"]], &[]),
            job(&[&["sh", "-c", "exit 3"]], &[]),
            job(
                &[&["sh", "-c", "echo already installed; exit 1"]],
                &["already installed"],
            ),
            job(&[&["true"], &["sh", "-c", "exit 1"]], &[]),
            job(&[&["sh", "-c", "exit 2"], &["true"]], &[]),
            job(&[&["sh", "-c", "kill -9 $$"]], &[]),
        ] {
            let want = direct(&j);
            let got = outcome_of(&supervised(&j), Some(&j), &[0], false, false);
            assert_eq!(got, want, "{j:?}");
            // A later fieldbook without the job file still gets status, exit and program.
            let bare = outcome_of(&supervised(&j), None, &[0], false, false);
            assert_eq!(
                (bare.status, bare.exit, bare.failed_program),
                (want.status, want.exit, want.failed_program)
            );
        }
        // A program that cannot start: failed at that program, with the runner's words.
        let j = job(&[&["true"], &["fieldbook-no-such-program-xyz"]], &[]);
        let want = direct(&j);
        let got = outcome_of(&supervised(&j), Some(&j), &[0], false, false);
        assert_eq!(
            (got.status, got.failed_program, got.message),
            (want.status, want.failed_program, want.message)
        );
    }

    #[test]
    fn an_old_exit_file_is_judged_by_expect_and_the_log() {
        let j = job(&[&["rc-update"]], &["already installed"]);
        let old = ExitRecord::from(Exit::Code(1));
        let o = outcome_of(&old, Some(&j), &[0], false, false);
        assert_eq!((o.status, o.failed_program), (Status::Failed, Some(0)));
        let o = outcome_of(&old, Some(&j), &[0], true, false);
        assert_eq!(o.status, Status::Done);
        let o = outcome_of(&old, None, &[0, 1], false, false);
        assert_eq!(o.status, Status::Done);
    }

    #[test]
    fn not_alive_for_other_programs() {
        // This test process is alive but is not a supervisor.
        assert!(!is_alive(std::process::id()));
        assert!(!is_alive(0));
    }
}
