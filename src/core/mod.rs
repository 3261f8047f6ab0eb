//! The pure core: runbooks, variables, progress, running, edits and parsers. Nothing in here
//! knows about terminals, so all of it is testable without one.

pub mod atomic;
pub mod clock;
pub mod host;
pub mod journal;
pub mod location;
pub mod progress;
pub mod runbook;
pub mod state_dir;
pub mod store;
pub mod vars;
