//! The Snort rules tool's rows: each listed SID, whether it is enabled, disabled or not found,
//! the change chosen, where it is, and why it is on the list.

use crate::core::snort::{RuleState, SidSource};
use crate::core::terminal_text::terminal_safe_line;
use crate::ui::tools::SnortView;

use super::tool::Table;

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Builds the table for the Snort rules screen.
pub fn table(s: &SnortView, cursor: usize) -> Table {
    let rows = s
        .report
        .sids
        .iter()
        .map(|r| {
            let change = match s.wanted.get(&r.entry.sid) {
                Some(true) => "->off",
                Some(false) => "->on",
                None => "",
            };
            let at = r
                .hits
                .first()
                .map(|h| format!("{}:{}", terminal_safe_line(base_name(&h.file)), h.line))
                .unwrap_or_default();
            let mine = if r.entry.source == SidSource::User {
                "*"
            } else {
                " "
            };
            format!(
                "{:<10}{mine} {:<9}  {:<5}  {:<20}  {}",
                r.entry.sid,
                r.state.label(),
                change,
                at,
                r.entry.reason
            )
        })
        .collect();
    let detail = match s.report.sids.get(cursor) {
        Some(r) => {
            let hits: Vec<String> = r
                .hits
                .iter()
                .map(|h| {
                    format!(
                        "{}:{}{}",
                        terminal_safe_line(&h.file),
                        h.line,
                        if h.enabled { "" } else { " (#)" }
                    )
                })
                .collect();
            let at = if hits.is_empty() {
                "not in the rules here".to_string()
            } else {
                hits.join(", ")
            };
            format!("SID {}: {} [{at}]", r.entry.sid, r.entry.reason)
        }
        None => String::new(),
    };
    let dirs = if s.report.dirs.is_empty() {
        "no rules directory found".to_string()
    } else {
        s.report.dirs.join(" ")
    };
    let enabled = s
        .report
        .sids
        .iter()
        .filter(|r| r.state == RuleState::Enabled)
        .count();
    Table {
        title: format!("Snort rules - {enabled} listed rule(s) enabled"),
        right: String::new(),
        header: format!(
            "  {:<12}{:<9}  {:<5}  {:<20}  {}",
            "SID", "STATE", "NEW", "WHERE", "WHY"
        ),
        rows,
        detail: format!("{detail}\nRules: {dirs}"),
    }
}
