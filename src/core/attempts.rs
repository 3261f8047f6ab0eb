//! Recording a step's attempts in a [`Run`] the same way from the app and from `exec`/`auto`:
//! where the log goes, what an attempt holds when it starts and when it ends. Storage stays
//! behind [`Recorder`], so the progress store plugs in without touching the runner.

use std::path::{Path, PathBuf};

use super::progress::{Attempt, Run, Status};
use super::runner::RunOutcome;

/// Why progress could not be loaded or saved, in words for the technician.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(pub String);

/// Where a run's progress is loaded from and saved to (atomically, on every change).
pub trait Recorder {
    /// The run as saved, or a fresh one.
    fn load(&self) -> Result<Run, RecordError>;
    /// Saves the run; a failure is reported, never ignored.
    fn save(&self, run: &Run) -> Result<(), RecordError>;
    /// The state directory attempt logs are relative to.
    fn state_dir(&self) -> &Path;
}

/// An attempt's log, relative to the state directory:
/// `logs/<runbook>@<target>/<step>.<n>.log` (under `practice/` for practice runs).
pub fn log_rel(runbook: &str, target: &str, step: &str, number: u32, practice: bool) -> String {
    let base = format!(
        "logs/{}@{}/{}.{number}.log",
        safe(runbook),
        safe(target),
        safe(step)
    );
    if practice {
        format!("practice/{base}")
    } else {
        base
    }
}

/// Keeps a path component a single component (a target name could hold a slash).
fn safe(part: &str) -> String {
    part.chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

/// Facts about a new attempt that the caller knows.
#[derive(Debug, Clone, Default)]
pub struct AttemptStart {
    /// Start time, RFC 3339 UTC.
    pub now: String,
    /// Who runs it.
    pub who: String,
    /// Supervisor pid for a long step.
    pub pid: Option<u32>,
    /// This boot's id.
    pub boot_id: Option<String>,
}

/// Opens a new attempt on `step`: status running, log path assigned. Returns its number and the
/// log path relative to the state directory.
pub fn begin(run: &mut Run, step: &str, practice: bool, start: AttemptStart) -> (u32, String) {
    let runbook = run.runbook.clone();
    let target = run.target.clone();
    let state = run.steps.entry(step.to_string()).or_default();
    let number = state.attempts.last().map_or(0, |a| a.number) + 1;
    let log = log_rel(&runbook, &target, step, number, practice);
    state.status = Status::Running;
    state.attempts.push(Attempt {
        number,
        started: start.now.clone(),
        log: Some(log.clone()),
        pid: start.pid,
        boot_id: start.boot_id,
        who: start.who,
        ..Attempt::default()
    });
    if run.started.is_empty() {
        run.started = start.now.clone();
    }
    run.updated = start.now;
    (number, log)
}

/// Records the supervisor's pid on the open attempt (known only after launching it).
pub fn set_pid(run: &mut Run, step: &str, pid: u32) {
    if let Some(a) = run.steps.get_mut(step).and_then(|s| s.attempts.last_mut()) {
        a.pid = Some(pid);
    }
}

/// Closes the open attempt of `step` with the runner's outcome and sets the step's status.
pub fn finish(run: &mut Run, step: &str, outcome: &RunOutcome, now: &str) {
    let state = run.steps.entry(step.to_string()).or_default();
    state.status = outcome.status;
    if let Some(a) = state.attempts.last_mut() {
        a.ended = Some(now.to_string());
        a.exit = outcome.exit;
        a.failed_program = outcome.failed_program;
        a.outcome = Some(outcome.message.clone());
    }
    run.updated = now.to_string();
}

/// Marks a step done without running it (its `check` said so, or the technician did), with the
/// reason kept.
pub fn mark_done(run: &mut Run, step: &str, reason: &str, now: &str) {
    let state = run.steps.entry(step.to_string()).or_default();
    state.status = Status::Done;
    state.reason = Some(reason.to_string());
    run.updated = now.to_string();
}

/// The absolute path of an attempt log.
pub fn log_path(state_dir: &Path, rel: &str) -> PathBuf {
    state_dir.join(rel)
}

/// Now, as RFC 3339 UTC with seconds (no time-zone database needed).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Who is at the keyboard: `$SUDO_USER` when run through sudo, else `$USER`.
pub fn who() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// A stand-in store until the progress store lands: one JSON file per run,
/// `<state>/runs/<runbook>@<target>.json` (`<state>/practice/runs/…` for practice), written
/// atomically.
#[derive(Debug, Clone)]
pub struct JsonRecorder {
    state_dir: PathBuf,
    file: PathBuf,
    runbook: String,
    target: String,
    practice: bool,
}

impl JsonRecorder {
    /// The recorder of one runbook on one target.
    pub fn new(state_dir: &Path, runbook: &str, target: &str, practice: bool) -> JsonRecorder {
        let base = if practice {
            state_dir.join("practice")
        } else {
            state_dir.to_path_buf()
        };
        JsonRecorder {
            state_dir: state_dir.to_path_buf(),
            file: base
                .join("runs")
                .join(format!("{}@{}.json", safe(runbook), safe(target))),
            runbook: runbook.to_string(),
            target: target.to_string(),
            practice,
        }
    }
}

impl Recorder for JsonRecorder {
    fn load(&self) -> Result<Run, RecordError> {
        match std::fs::read(&self.file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| RecordError(format!("{} is damaged: {e}", self.file.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Run {
                runbook: self.runbook.clone(),
                target: self.target.clone(),
                practice: self.practice,
                ..Run::default()
            }),
            Err(e) => Err(RecordError(format!(
                "cannot read {}: {e}",
                self.file.display()
            ))),
        }
    }

    fn save(&self, run: &Run) -> Result<(), RecordError> {
        let err =
            |e: std::io::Error| RecordError(format!("cannot save {}: {e}", self.file.display()));
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let json = serde_json::to_vec_pretty(run)
            .map_err(|e| RecordError(format!("cannot encode progress: {e}")))?;
        super::supervisor::write_atomic(&self.file, &json, 0o600).map_err(err)
    }

    fn state_dir(&self) -> &Path {
        &self.state_dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::Exit;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_711_230), "2026-11-26T16:40:30Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn attempts_number_and_close() {
        let mut run = Run {
            runbook: "gentoo-world-update".into(),
            target: "web1".into(),
            ..Run::default()
        };
        let (n, log) = begin(&mut run, "world", false, AttemptStart::default());
        assert_eq!(n, 1);
        assert_eq!(log, "logs/gentoo-world-update@web1/world.1.log");
        assert_eq!(run.status("world"), Status::Running);
        let outcome = RunOutcome {
            status: Status::Failed,
            exit: Some(Exit::Code(1)),
            failed_program: Some(0),
            message: "failed".into(),
        };
        finish(&mut run, "world", &outcome, "t");
        let (n, log) = begin(&mut run, "world", true, AttemptStart::default());
        assert_eq!(n, 2);
        assert_eq!(log, "practice/logs/gentoo-world-update@web1/world.2.log");
        let a = &run.steps["world"].attempts[0];
        assert_eq!(a.exit, Some(Exit::Code(1)));
        assert_eq!(a.ended.as_deref(), Some("t"));
    }

    #[test]
    fn path_parts_stay_single() {
        assert_eq!(
            log_rel("rb", "../x/y", "s", 1, false),
            "logs/rb@_x_y/s.1.log"
        );
    }
}
