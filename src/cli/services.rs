//! `fieldbook services`: the ClearOS service pruning table from `chkconfig --list`, with the
//! runbook's advice, for scripts and serial sessions without the app.

use crate::cli::GlobalOpts;
use crate::cli::capture::{display_argv, listing};
use std::fmt::Write as _;

use crate::cli::exit;
use crate::core::parse::chkconfig;
use crate::core::services::{PRACTICE_LISTING, ServicePolicy, ServiceTable};
use crate::core::stdio::print;

/// One command of `services --plan --json`: the argv, and for conditional advice the
/// condition as the text plan's `# conditional: ...` comment says it (null otherwise).
#[derive(serde::Serialize)]
struct PlanEntry {
    argv: Vec<String>,
    conditional: Option<String>,
}

/// Prints the table (or JSON); with `plan`, prints the commands that follow the clear advice
/// (`off` and `on`, never `maybe off` or locked) instead, one per line, conditional advice
/// marked with a trailing `# conditional: ...` comment (in JSON, each command's
/// `conditional`).
pub(crate) fn run(global: &GlobalOpts, json: bool, plan: bool) -> anyhow::Result<u8> {
    let mut out = String::new();
    let text = listing(global, &["chkconfig", "--list"], PRACTICE_LISTING)?;
    let list = chkconfig::parse(&text);
    let policy = ServicePolicy::clearos()?;
    let mut table = ServiceTable::new(&list, &policy);
    if plan {
        table.follow_advice();
        if json {
            // The same marking as the text plan: `conditional` says when to leave it alone.
            let plan: Vec<PlanEntry> = table
                .plan()
                .into_iter()
                .map(|(argv, unless)| PlanEntry {
                    argv,
                    conditional: unless.map(|u| format!("leave it on if {u}")),
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?;
        } else {
            // Conditional advice is marked as such: a shell comment keeps the line runnable.
            for (argv, unless) in table.plan() {
                match unless {
                    Some(u) => writeln!(
                        out,
                        "{}  # conditional: leave it on if {}",
                        display_argv(&argv),
                        crate::core::terminal_text::terminal_safe_line(&u)
                    )?,
                    None => writeln!(out, "{}", display_argv(&argv))?,
                }
            }
        }
        print(&out)?;
        return Ok(exit::OK);
    }
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&table)?)?;
        print(&out)?;
        return Ok(exit::OK);
    }
    writeln!(
        out,
        "{:<16} {:<10}  {:<9}  WHY",
        "SERVICE", "0123456", "ADVICE"
    )?;
    for row in &table.rows {
        let levels = row.kind.levels_text();
        let (advice, why) = row
            .advice
            .as_ref()
            .map_or(("", ""), |a| (a.advice.label(), a.reason.as_str()));
        let line = format!("{:<16} {:<10}  {:<9}  {}", row.name, levels, advice, why);
        writeln!(out, "{}", line.trim_end())?;
    }
    for (line, text) in &list.unrecognised {
        crate::core::stdio::eprint_line(&format!(
            "fieldbook: chkconfig output line {line} not understood: {}",
            crate::core::terminal_text::terminal_safe_line(text)
        ));
    }
    print(&out)?;
    Ok(exit::OK)
}
