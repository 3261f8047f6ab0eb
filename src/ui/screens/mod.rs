//! One file per screen or overlay; each has a `draw` function that only reads the model.

pub mod confirm;
pub mod diff;
pub mod fields;
pub mod fleet;
pub mod form;
pub mod help;
pub mod home;
pub mod output;
pub mod prompt;
pub mod runbook;
pub mod step;
pub mod subnet;
pub mod tool;
pub mod tool_gcc;
pub mod tool_runlevels;
pub mod tool_services;
pub mod tool_snort;
