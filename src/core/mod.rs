//! The pure core: runbooks, variables, progress, running, edits and parsers. Nothing in here
//! knows about terminals, so all of it is testable without one.

pub mod apply;
pub mod edit;
pub mod location;
pub mod net;
pub mod progress;
pub mod runbook;
pub mod vars;
