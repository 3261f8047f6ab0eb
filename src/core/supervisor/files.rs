//! A supervised attempt's files beside its log: the exit record and the job, read back by whoever follows it.

use super::*;
use crate::core::exit_record::ExitRecord;
use crate::core::progress::Exit;
use crate::core::runner::StepJob;
use crate::core::{atomic, attempt_id, disk_space, state_dir};
use std::path::Path;

/// Reads `<log>.exit`'s exit status (`None` until the supervisor wrote it).
pub fn read_exit(log: &Path) -> Option<Exit> {
    read_exit_record(log).map(|r| r.exit)
}

/// Reads `<log>.exit` in full: the exit status and what the supervisor judged (`None` until it
/// wrote it, or when it names another attempt than `<log>.attempt`).
pub fn read_exit_record(log: &Path) -> Option<ExitRecord> {
    read_exit_record_of(log, attempt_id::read_nonce(log).as_deref())
}

/// Reads `<log>.exit` for the attempt with nonce `nonce` (as the run recorded it): a file
/// written for another attempt is not its verdict and reads as `None`.
pub fn read_exit_record_of(log: &Path, nonce: Option<&str>) -> Option<ExitRecord> {
    let record = state_dir::read_exit_record(&exit_path(log))
        .ok()
        .flatten()?;
    attempt_id::belongs(nonce, record.attempt.as_deref()).then_some(record)
}

/// When the supervisor recorded the end (the exit file's time, RFC 3339 UTC): the real end of
/// a step found finished hours later, so its duration in the report is true.
pub fn ended_at(log: &Path) -> Option<String> {
    let modified = std::fs::metadata(exit_path(log)).ok()?.modified().ok()?;
    let secs = modified
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(crate::core::clock::format_unix(i64::try_from(secs).ok()?))
}

/// Writes `<log>.job` for the attempt `<log>.attempt` names (in fieldbook's reserve space when
/// the disk is full), and returns that attempt's nonce. The one way a job file is written, for
/// a local supervisor and a host's alike, so [`read_job`] finds either.
pub fn write_job(log: &Path, job: &StepJob) -> std::io::Result<Option<String>> {
    let nonce = attempt_id::read_nonce(log);
    let file = JobFile {
        attempt: nonce.clone(),
        job: job.clone(),
    };
    let json = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
    let write = || atomic::write_atomic(&job_path(log), &json);
    match disk_space::base_of_log(log) {
        Some(base) => disk_space::with_reserve(&base, write).0?,
        None => write()?,
    }
    Ok(nonce)
}

/// Reads `<log>.job`: the step's programs as they were started (`None` if it is gone or
/// belongs to another attempt than `<log>.attempt`).
pub fn read_job(log: &Path) -> Option<StepJob> {
    let file = atomic::read_nofollow(&job_path(log))
        .ok()
        .and_then(|b| serde_json::from_slice::<JobFile>(&b).ok())?;
    let nonce = attempt_id::read_nonce(log);
    attempt_id::belongs(nonce.as_deref(), file.attempt.as_deref()).then_some(file.job)
}
