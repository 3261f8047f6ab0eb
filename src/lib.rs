//! fieldbook walks a field technician through sysadmin runbooks: it runs the real commands,
//! edits the real files and records every step so the work survives a dropped link.

// Output goes through core::stdio, never a print macro: a closed pipe must not be a panic.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod app;
pub mod cli;
pub mod core;
pub mod terminal;
pub mod ui;
