//! fieldbook walks a field technician through sysadmin runbooks: it runs the real commands,
//! edits the real files and records every step so the work survives a dropped link.

pub mod app;
pub mod cli;
pub mod core;
pub mod terminal;
pub mod ui;
