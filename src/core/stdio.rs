//! Writing to stdout and stderr without panicking: a reader that left (`| head -1`, a closed
//! `2>&1` pipe) is never a panic, least of all in a command that records progress.

use std::io::Write;

/// Writes `text` to stdout and flushes. A closed pipe is not an error (the reader chose to
/// stop); any other write error is returned.
pub(crate) fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}

/// Writes `text` and a newline to stdout; a failed write is dropped, as `print` drops a closed
/// pipe (the caller has nowhere better to say it).
pub(crate) fn print_line(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Writes `text` and a newline to stderr; a failed write is dropped: there is nowhere left to
/// say it.
pub(crate) fn eprint_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
