//! Running a read-only listing command (`chkconfig --list`, `rc-update -v show`,
//! `gcc-config -l`) and capturing its output, for the tool subcommands; in practice mode the
//! embedded practice listing is used instead, since nothing may be executed.

use crate::cli::GlobalOpts;

/// What a listing command printed.
pub(crate) struct Listing {
    /// Standard output, lossily decoded.
    pub(crate) stdout: String,
}

/// Runs `argv` with a null stdin on the session's machine (through the one place listings
/// are taken, `core::exec::capture`) and returns its stdout.
pub(crate) fn run(global: &GlobalOpts, argv: &[&str]) -> anyhow::Result<Listing> {
    let stdout =
        crate::core::exec::capture(&global.machine.0, argv, &[]).map_err(anyhow::Error::msg)?;
    Ok(Listing { stdout })
}

/// The listing for `argv`, or `practice_text` in practice mode, where nothing may be executed.
pub(crate) fn listing(
    global: &GlobalOpts,
    argv: &[&str],
    practice_text: &str,
) -> anyhow::Result<String> {
    if global.practice {
        return Ok(practice_text.to_string());
    }
    Ok(run(global, argv)?.stdout)
}

/// An argv vector as a technician would type it (POSIX-quoted: safe to paste).
pub(crate) fn display_argv(argv: &[String]) -> String {
    crate::core::shell_quote::join(argv)
}
