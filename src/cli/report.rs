//! `fieldbook report ID [--format md|json]`: the handover report of a run, Markdown to paste
//! into a ticket or JSON for tools.

use clap::ValueEnum;

use crate::cli::GlobalOpts;
use crate::cli::exit;
use crate::cli::runs::{self, terminal_safe};
use crate::core::catalog::Catalog;
use crate::core::stdio::print;
use crate::core::{report, store};

/// Output format of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Format {
    /// Markdown, for a ticket or an email.
    #[default]
    Md,
    /// JSON, for tools.
    Json,
}

/// Prints the report of the run of `id` (the `--target` one, else the only one, else this
/// host's).
pub(crate) fn run(
    global: &GlobalOpts,
    catalog: &Catalog,
    id: &str,
    format: Format,
) -> anyhow::Result<u8> {
    let dir = runs::state_dir(global)?;
    let (mut found, unreadable) = runs::pick_run(&dir, id, global.target.as_deref())?;
    // A long step that finished while nobody watched reads as it ended, not "running".
    let runbook = runs::runbook_of(catalog, &found.run);
    store::show_finished(&mut found.run, &dir, runbook);
    // An edit a kill left made but unrecorded is in the handover too.
    store::show_unrecorded_edits(&mut found.run, &dir);
    for e in &unreadable {
        crate::core::stdio::eprint_line(&format!(
            "fieldbook: unreadable state file: {}",
            terminal_safe(e)
        ));
    }
    let r = report::build(&found.run, runs::runbook_of(catalog, &found.run));
    let text = match format {
        Format::Md => terminal_safe(&report::markdown(&r)),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&r)?),
    };
    print(&text)?;
    Ok(exit::OK)
}
