//! `fieldbook reset ID [--yes]`: start a runbook over on a target. The old run (state, journal,
//! logs) is archived under the state directory, never deleted.

use crate::cli::GlobalOpts;
use crate::cli::exit;
use crate::cli::runs::{self, confirm};
use crate::core::report::progress_line;
use crate::core::state_dir;
use crate::core::store::{self, archive_run};

/// Archives the run of `id` on the chosen target after a confirmation (`--yes` for scripts).
pub(crate) fn run(global: &GlobalOpts, id: &str, yes: bool) -> anyhow::Result<u8> {
    let dir = runs::state_dir(global)?;
    // An explicit target is used as given, so even an unreadable run can be archived.
    let (target, summary) = match &global.target {
        Some(t) => {
            let file = dir.run_file(id, t);
            let summary = state_dir::read_run(&file)
                .map(|run| progress_line(&run.tally()))
                .unwrap_or_else(|e| e);
            (t.clone(), summary)
        }
        None => match runs::pick_run(&dir, id, None) {
            Ok((found, _)) => (found.run.target.clone(), progress_line(&found.run.tally())),
            Err(e) => {
                // Maybe only an unreadable file is left for this host.
                let host = store::default_target(None);
                if dir.run_file(id, &host).exists() {
                    (host, "state file unreadable".to_string())
                } else {
                    return Err(e);
                }
            }
        },
    };
    let question = format!(
        "Start '{id}' over on {target}? The current run ({}) is archived, not deleted.",
        runs::terminal_safe(&summary)
    );
    if !confirm(&question, yes)? {
        crate::core::stdio::print_line("Nothing changed.");
        return Ok(exit::FAILURE);
    }
    let dest = archive_run(&dir, id, &target)?;
    crate::core::stdio::print_line(&format!(
        "Archived to {}. The next start begins a fresh run.",
        dest.display()
    ));
    Ok(exit::OK)
}
