//! The one way a test that cannot run here says so: it prints why and passes, unless
//! `FIELDBOOK_ACCEPTANCE=require` (set by `.ci/run`), which makes the same reason a failure.

use std::io::Write;

/// Prints `test`'s reason past the harness's capture and returns `None`; panics naming the
/// reason under `FIELDBOOK_ACCEPTANCE=require`.
pub fn skip<T>(test: &str, reason: &str) -> Option<T> {
    if std::env::var("FIELDBOOK_ACCEPTANCE").as_deref() == Ok("require") {
        panic!("{test}: cannot run ({reason}) and FIELDBOOK_ACCEPTANCE=require");
    }
    let _ = writeln!(
        std::io::stderr(),
        "acceptance: SKIPPED {test}: {reason} (set FIELDBOOK_ACCEPTANCE=require to fail instead)"
    );
    None
}

/// Whether the test runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
