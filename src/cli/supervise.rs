//! The hidden `__supervise LOG` subcommand: the detached supervisor of a long step (see
//! `core::supervisor`). Not for people; it is re-executed by fieldbook itself.

use std::path::Path;

/// Runs the supervisor and returns its exit status.
pub(super) fn supervise(log: &Path) -> u8 {
    u8::try_from(crate::core::supervisor::supervise(log)).unwrap_or(1)
}
