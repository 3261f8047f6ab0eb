//! `fieldbook snort`: where each known false-positive SID stands in the ClearOS rules
//! directories (honouring `--root`), and `fieldbook snort add SID REASON` for a site's own.
//!
//! The technicians' own SIDs live in `<state-dir>/snort-sids.toml`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::cli::GlobalOpts;
use std::fmt::Write as _;

use crate::cli::exit;
use crate::core::snort::{self, RULE_DIRS, USER_FILE};
use crate::core::stdio::print;
use crate::core::terminal_text::terminal_safe_line;

/// `fieldbook snort` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum SnortAction {
    /// Add (or re-word) one of your own SIDs to <state-dir>/snort-sids.toml.
    Add {
        /// The rule's sid.
        sid: u64,
        /// Why it should be disabled (shown to whoever comes next).
        reason: String,
    },
}

/// The state directory (the real one, not the practice area: the rules are the machine's).
pub(crate) fn state_dir(global: &GlobalOpts) -> anyhow::Result<PathBuf> {
    Ok(global.settings().state()?.base())
}

/// The user SID file for these options.
pub(crate) fn user_file(global: &GlobalOpts) -> anyhow::Result<PathBuf> {
    Ok(state_dir(global)?.join(USER_FILE))
}

/// Scans and prints the report (or JSON), or adds a SID.
pub(crate) fn run(
    global: &GlobalOpts,
    json: bool,
    action: Option<&SnortAction>,
) -> anyhow::Result<u8> {
    let mut out = String::new();
    let file = user_file(global)?;
    if let Some(SnortAction::Add { sid, reason }) = action {
        if reason.trim().is_empty() {
            return Err(crate::cli::UsageError("give a reason for the SID".into()).into());
        }
        snort::add_user_sid(&file, *sid, reason)?;
        writeln!(out, "Added SID {sid} to {}", file.display())?;
        print(&out)?;
        return Ok(exit::OK);
    }
    let list = snort::load_sids(Some(&file))?;
    let report = crate::core::machine::snort_scan(
        &*global.machine,
        global.root.as_deref(),
        &RULE_DIRS,
        &list,
    );
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        print(&out)?;
        return Ok(exit::OK);
    }
    if report.dirs.is_empty() {
        let root = global
            .root
            .as_ref()
            .map(|r| format!(" under {}", r.display()))
            .unwrap_or_default();
        crate::core::stdio::eprint_line(&format!(
            "fieldbook: no snort rules directory{root} ({})",
            RULE_DIRS.join(" or ")
        ));
        print(&out)?;
        return Ok(exit::FAILURE);
    }
    for r in &report.sids {
        writeln!(
            out,
            "SID {:<10} {:<9}  {}",
            r.entry.sid,
            r.state.label(),
            r.entry.reason
        )?;
        for hit in &r.hits {
            let mark = if hit.enabled { "  " } else { "# " };
            writeln!(
                out,
                "    {mark}{}:{}",
                terminal_safe_line(&hit.file),
                hit.line
            )?;
        }
    }
    for e in &report.errors {
        crate::core::stdio::eprint_line(&format!("fieldbook: {}", terminal_safe_line(e)));
    }
    print(&out)?;
    Ok(exit::OK)
}
