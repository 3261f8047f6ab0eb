//! The pure core: runbooks, variables, progress, running, edits and parsers. Nothing in here
//! knows about terminals, so all of it is testable without one.

pub mod attempts;
pub mod location;
pub mod practice;
pub mod progress;
pub mod runbook;
pub mod runner;
pub mod supervisor;
pub mod terminal_text;
pub mod vars;
