//! The Services tool's rows: a box with the state and the technician's change, service,
//! runlevels 0-6 and the runbook's advice (and, on a wide terminal, the start of its reason);
//! the full reason (or the lock warning) under the table on request.

use crate::core::services::{ServiceRow, ServiceTable};

use super::tool::Table;

/// The inside width from which rows also carry the start of the reason; narrower, the
/// reason is shown under the table on request (`i`), so a move or a page costs the serial
/// line only the columns that matter.
const WHY_COLUMN_FROM: u16 = 100;

/// The box of a row: `[x]` on now (in any of the runlevels changes apply to, as Space sees
/// it), `[ ]` off now, `[-]` to be turned off, `[+]` to be turned on (as on the Runlevels
/// screen), so a toggle redraws one character.
fn check_box(r: &ServiceRow, levels: &str) -> &'static str {
    match r.wanted {
        Some(true) => "[+]",
        Some(false) => "[-]",
        None if !r.is_off(levels) => "[x]",
        None => "[ ]",
    }
}

/// Builds the table for the Services screen, `width` columns wide inside the frame.
pub fn table(t: &ServiceTable, cursor: usize, width: u16) -> Table {
    let why_column = width >= WHY_COLUMN_FROM;
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let levels = r.kind.levels_text();
            let (advice, why) = r
                .advice
                .as_ref()
                .map_or(("", ""), |a| (a.advice.label(), a.reason.as_str()));
            let line = format!(
                "{} {:<16}{:<10}  {advice}",
                check_box(r, &t.levels),
                r.name,
                levels
            );
            if why_column && !why.is_empty() {
                format!("{line:<44}{why}")
            } else {
                line
            }
        })
        .collect();
    let detail = match t.rows.get(cursor) {
        Some(r) => match &r.advice {
            Some(a) if r.is_locked() => format!("{} is LOCKED: {}", r.name, a.reason),
            Some(a) => format!("{} ({}): {}", r.name, a.advice.label(), a.reason),
            None => format!(
                "{}: no advice in the runbook. If you do not know what a service does, look it \
                 up before you disable it.",
                r.name
            ),
        },
        None => String::new(),
    };
    let header = format!("  {:<20}{:<10}  {}", "    SERVICE", "0123456", "ADVICE");
    Table {
        // No count of the choices here: the boxes show them, `v` and the apply question say how
        // many, and a count in the bold title would cost a toggle four times its own bytes.
        title: "Services (chkconfig)".to_string(),
        right: format!("runlevels {}", t.levels),
        header: if why_column {
            format!("{header:<46}WHY")
        } else {
            header
        },
        rows,
        detail,
    }
}
