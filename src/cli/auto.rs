//! `fieldbook auto ID`: run forward from the first unfinished step through every step that
//! needs nobody (not manual, not interactive, not destructive) and stop at the first one that
//! does, or at a failure, saying which and why. For serial consoles and for running the same
//! runbook on many machines.

use super::exec::{find_runbook, open};
use super::{GlobalOpts, exit};
use crate::core::catalog::Catalog;
use crate::core::exec::headless::StepEnd;

/// `fieldbook auto ID [--var NAME=VALUE]... [--force]`.
pub(super) fn auto(
    global: &GlobalOpts,
    catalog: &Catalog,
    id: &str,
    given: &[String],
    force: bool,
) -> anyhow::Result<u8> {
    let runbook = find_runbook(catalog, id)?;
    // `auto` never confirms destructive steps on the technician's behalf, and never answers
    // a step's question for them.
    let mut ctx = open(global, runbook, given, false)?;
    ctx.force = force;
    ctx.ask_stops = true;
    let mut ran = 0;
    for (_, step) in runbook.steps() {
        if ctx.status(&step.id).is_finished() {
            continue;
        }
        if step.reboot {
            eprintln!(
                "fieldbook: stopped at '{}' ({}): it reboots the machine; do it from the app",
                step.id, step.title
            );
            return Ok(exit::NEEDS_TERMINAL);
        }
        match ctx.run_step(step)? {
            StepEnd::Done => ran += 1,
            StepEnd::NotNeeded(_) => {}
            StepEnd::OutOfOrder(message) => {
                eprintln!(
                    "fieldbook: stopped at '{}' ({}): {message}. {ran} step(s) done by auto.",
                    step.id, step.title
                );
                return Ok(exit::FAILURE);
            }
            StepEnd::NeedsTerminal(reason) => {
                eprintln!(
                    "fieldbook: stopped at '{}' ({}): {reason}. {ran} step(s) done by auto.",
                    step.id, step.title
                );
                return Ok(exit::NEEDS_TERMINAL);
            }
            StepEnd::StillRunning(message) => {
                eprintln!(
                    "fieldbook: stopped at '{}' ({}): {message}. {ran} step(s) done by auto.",
                    step.id, step.title
                );
                return Ok(exit::STILL_RUNNING);
            }
            StepEnd::NotDone(message) => {
                eprintln!(
                    "fieldbook: stopped at '{}' ({}): it did not succeed: {message}. Read its \
                     why with `fieldbook show {id}`; retry with `fieldbook exec {id} {}`.",
                    step.id, step.title, step.id
                );
                return Ok(exit::FAILURE);
            }
        }
    }
    eprintln!("fieldbook: every step of '{id}' is finished ({ran} run by auto).");
    Ok(exit::OK)
}
