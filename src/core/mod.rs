//! The pure core: runbooks, variables, progress, running, edits and parsers. Nothing in here
//! knows about terminals, so all of it is testable without one.

pub mod apply;
pub mod atomic;
pub mod attempt_id;
pub mod clock;
pub mod datafile;
pub mod edit;
pub mod exit_record;
pub mod export;
pub mod fleet;
pub mod gcc;
pub mod host;
pub mod journal;
pub mod location;
pub mod net;
pub mod parse;
pub mod practice;
pub mod progress;
pub mod relay;
pub mod report;
pub mod runbook;
pub mod runlevels;
pub mod runner;
pub mod services;
pub mod shell_quote;
pub mod snort;
pub mod state_dir;
pub mod store;
pub mod supervisor;
pub mod terminal_text;
pub mod vars;
pub mod yaml;
