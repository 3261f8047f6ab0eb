//! The pure core: runbooks, variables, progress, running, edits and parsers. Nothing in here
//! knows about terminals, so all of it is testable without one.

pub mod export;
pub mod location;
pub mod progress;
pub mod runbook;
pub mod shell_quote;
pub mod vars;
pub mod yaml;
