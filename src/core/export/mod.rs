//! Hand-off of a runbook to an automation engine built for fleets. A runbook walked by hand
//! often enough graduates to a playbook that performs the same steps, with the same effect and
//! the same idempotence, instead of to a home-made fleet engine.

mod ansible;
mod commands;
mod conditions;
mod edits;
pub mod jinja;
mod tools;

pub use ansible::{TargetPython, playbook};
