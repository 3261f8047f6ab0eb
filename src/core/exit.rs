//! Documented exit statuses and the usage error every part can raise (the CLI turns it into
//! status 2 with its message on stderr).

/// Success: the command did what was asked (a step ended done, a check found nothing).
pub const OK: u8 = 0;
/// Failure: problems found, a step failed.
pub const FAILURE: u8 = 1;
/// Usage error: unknown runbook or step, a missing or invalid value (clap uses 2 as well).
pub const USAGE: u8 = 2;
/// The step needs the terminal (manual or interactive): use the TUI.
pub const NEEDS_TERMINAL: u8 = 3;
/// A long step still runs under its supervisor: `exec` stopped watching it (Ctrl-C once, or
/// the terminal hung up). `exec` again follows it; `status` shows it.
pub const STILL_RUNNING: u8 = 4;

/// A usage error that should exit with status 2 (unknown id, bad value).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
