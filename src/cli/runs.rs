//! What the progress subcommands (`status`, `report`, `reset`) share: the state directory from
//! the global options, finding the runs of a runbook, choosing one target, asking for
//! confirmation, and opening a run for writing with consent to start over after a corrupt file.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::{GlobalOpts, UsageError};
use crate::core::catalog::Catalog;
use crate::core::progress::Run;
use crate::core::runbook::Runbook;
use crate::core::state_dir::{self, StateDir};
use crate::core::store::{self, IfCorrupt, Store, StoreError};

/// The state directory the global options point at (practice area with `--practice`), refused
/// (exit 1, the reason on stderr) when an existing part of it cannot be trusted: another
/// user's, writable by others, or a link planted inside ([`StateDir::check_existing`]).
pub(crate) fn state_dir(global: &GlobalOpts) -> anyhow::Result<StateDir> {
    let dir = global.settings().state()?;
    dir.check_existing()?;
    Ok(dir)
}

/// A run read from its state file, with the file it came from.
pub(crate) struct FoundRun {
    /// The state file.
    pub(crate) file: PathBuf,
    /// The run.
    pub(crate) run: Run,
}

/// Every readable run (optionally of one runbook and/or one target), and the messages for state
/// files that could not be read (never moved or changed here: these commands only look).
pub(crate) fn find_runs(
    dir: &StateDir,
    runbook: Option<&str>,
    target: Option<&str>,
) -> anyhow::Result<(Vec<FoundRun>, Vec<String>)> {
    let files = dir
        .run_files()
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.runs_dir().display()))?;
    let mut runs = Vec::new();
    let mut unreadable = Vec::new();
    for file in files {
        match state_dir::read_run(&file) {
            Ok(run) => {
                if runbook.is_some_and(|id| id != run.runbook)
                    || target.is_some_and(|t| t != run.target)
                {
                    continue;
                }
                runs.push(FoundRun { file, run });
            }
            Err(e) => unreadable.push(e),
        }
    }
    runs.sort_by(|a, b| (&a.run.runbook, &a.run.target).cmp(&(&b.run.runbook, &b.run.target)));
    Ok((runs, unreadable))
}

/// The one run of `runbook` a command acts on: the `--target` one, else the only one, else the
/// one for this host; several candidates without `--target` is a usage error that lists them.
pub(crate) fn pick_run(
    dir: &StateDir,
    runbook: &str,
    target: Option<&str>,
) -> anyhow::Result<(FoundRun, Vec<String>)> {
    let (mut runs, unreadable) = find_runs(dir, Some(runbook), target)?;
    let no_run = || StoreError::NoRun {
        runbook: runbook.to_string(),
        target: target.map_or_else(|| "any".to_string(), str::to_string),
        dir: dir.base(),
    };
    match runs.len() {
        0 => Err(no_run().into()),
        1 => Ok((runs.remove(0), unreadable)),
        _ => {
            let host = crate::core::host::hostname();
            match runs.iter().position(|r| r.run.target == host) {
                Some(i) => Ok((runs.remove(i), unreadable)),
                None => {
                    let targets: Vec<&str> = runs.iter().map(|r| r.run.target.as_str()).collect();
                    Err(UsageError(format!(
                        "'{runbook}' has runs for several targets ({}); choose one with --target",
                        targets.join(", ")
                    ))
                    .into())
                }
            }
        }
    }
}

/// The runbook of a run, if it is still in the catalog (for titles and current order).
pub(crate) fn runbook_of<'a>(catalog: &'a Catalog, run: &Run) -> Option<&'a Runbook> {
    catalog.get(&run.runbook).map(|e| &e.runbook)
}

/// Asks a yes/no question on the terminal. `--yes` answers it; without a terminal and without
/// `--yes` it is a usage error, so a script never hangs on a prompt nobody sees.
pub(crate) fn confirm(question: &str, assume_yes: bool) -> anyhow::Result<bool> {
    if assume_yes {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(UsageError(format!(
            "{question} — there is no terminal to ask on; pass --yes to confirm"
        ))
        .into());
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Opens a run for writing from the command line: an unreadable state file is moved aside and
/// reported, and a fresh run starts only if the technician confirms (or `assume_yes`).
pub(crate) fn open_store(
    global: &GlobalOpts,
    runbook: &Runbook,
    assume_yes: bool,
) -> anyhow::Result<Store> {
    let dir = state_dir(global)?;
    let target = store::default_target(global.target.as_deref());
    let mut store = match Store::open(&dir, runbook, &target, IfCorrupt::Stop) {
        Err(e @ StoreError::Corrupt { .. }) => {
            crate::core::stdio::eprint_line(&format!("fieldbook: {e}"));
            if confirm("Start a fresh run?", assume_yes)? {
                Store::open(&dir, runbook, &target, IfCorrupt::StartFresh)?
            } else {
                anyhow::bail!("nothing changed; the unreadable file was kept where it was moved")
            }
        }
        other => other?,
    };
    // An edit a kill left unrecorded on `--host` is settled from the host's file.
    if !global.practice
        && let Some(session) = global.machine.ssh()
    {
        store.recover_host_edits(session);
    }
    Ok(store)
}

pub(crate) use crate::core::terminal_text::terminal_safe;
