//! `fieldbook exec ID STEP`: run one non-interactive step without the app (over a serial
//! console, from a script), printing the filtered output and recording progress and the log
//! exactly as the app does (through `core::exec`). Also what `auto` shares.

use std::collections::BTreeMap;

use super::{GlobalOpts, UsageError};
use crate::core::catalog::Catalog;
use crate::core::exec::headless::{Context, StepEnd, say};
use crate::core::runbook::Runbook;

/// Parses `--var NAME=VALUE` options against the runbook's variables (usage errors name the
/// variable and say what is wrong).
pub(super) fn parse_vars(
    runbook: &Runbook,
    given: &[String],
) -> Result<BTreeMap<String, String>, UsageError> {
    let mut values = BTreeMap::new();
    for item in given {
        let Some((name, value)) = item.split_once('=') else {
            return Err(UsageError(format!("--var '{item}' must be NAME=VALUE")));
        };
        let Some(var) = runbook.variable(name) else {
            let known: Vec<&str> = runbook.variables.iter().map(|v| v.name.as_str()).collect();
            return Err(UsageError(format!(
                "runbook '{}' has no variable '{name}' (its variables: {})",
                runbook.id,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        if let Err(msg) = var.ty.validate(value, &var.choices) {
            return Err(UsageError(format!("variable '{name}': {msg}")));
        }
        values.insert(name.to_string(), value.to_string());
    }
    Ok(values)
}

/// Opens the run of `runbook` on the target and merges the values: defaults, then saved
/// values, then `--var` (which are saved, except secrets).
pub(super) fn open<'a>(
    global: &GlobalOpts,
    runbook: &'a Runbook,
    given: &[String],
    yes: bool,
) -> anyhow::Result<Context<'a>> {
    let cli_values = parse_vars(runbook, given)?;
    // An unreadable state file is moved aside; a fresh run needs --yes or a "y" answer.
    let mut store = super::runs::open_store(global, runbook, yes)?;
    for (k, v) in &cli_values {
        store.set_value(k, v)?;
    }
    let mut values = runbook.default_values();
    values.extend(store.run().values.clone());
    values.extend(cli_values);
    Ok(Context::new(runbook, store, global.settings(), values, yes))
}

/// Finds a runbook by id or says which exist.
pub(super) fn find_runbook<'c>(catalog: &'c Catalog, id: &str) -> Result<&'c Runbook, UsageError> {
    catalog.get(id).map(|e| &e.runbook).ok_or_else(|| {
        UsageError(format!(
            "unknown runbook '{id}' (known: {})",
            catalog.ids().join(", ")
        ))
    })
}

/// `fieldbook exec ID STEP [--var NAME=VALUE]... [--yes] [--force] [--stop-orphans]`.
pub(super) fn exec(
    global: &GlobalOpts,
    catalog: &Catalog,
    id: &str,
    step_id: &str,
    given: &[String],
    (yes, force, stop_orphans): (bool, bool, bool),
) -> anyhow::Result<u8> {
    let runbook = find_runbook(catalog, id)?;
    let Some(step) = runbook.step(step_id) else {
        let ids: Vec<&str> = runbook.steps().map(|(_, s)| s.id.as_str()).collect();
        return Err(UsageError(format!(
            "runbook '{id}' has no step '{step_id}' (its steps: {})",
            ids.join(", ")
        ))
        .into());
    };
    let mut ctx = open(global, runbook, given, yes)?;
    ctx.force = force;
    ctx.stop_orphans = stop_orphans;
    let end = ctx.run_step(step)?;
    if let StepEnd::OutOfOrder(message) = &end {
        crate::core::stdio::eprint_line(&format!("fieldbook: {message}"));
    }
    if let StepEnd::NeedsTerminal(reason) = &end {
        say(&format!(
            "step '{}' needs the terminal: {reason}. Run it in the app: fieldbook \
             run {} (it opens at the first unfinished step)",
            step.id, runbook.id
        ));
    }
    Ok(end.code())
}
