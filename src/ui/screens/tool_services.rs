//! The Services tool's rows: a box with the state and the technician's change, service,
//! runlevels 0-6 and the runbook's advice, conditional advice marked (and, on a wide terminal,
//! the start of its reason); the full reason (or the lock warning) under the table on request.

use crate::core::services::{ServiceAdvice, ServiceRow, ServiceTable};

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

/// The advice column: the label, marked `(cond.)` when the advice holds only unless something
/// is true of the site (as `services --plan` marks it).
fn advice_text(a: &ServiceAdvice) -> String {
    match a.unless {
        Some(_) => format!("{} (cond.)", a.advice.label()),
        None => a.advice.label().to_string(),
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
                .map_or((String::new(), ""), |a| (advice_text(a), a.reason.as_str()));
            let line = format!(
                "{} {:<16}{:<10}  {advice}",
                check_box(r, &t.levels),
                r.name,
                levels
            );
            if why_column && !why.is_empty() {
                // The reason stands apart even after a long (conditional) advice.
                format!("{line:<42}  {why}")
            } else {
                line
            }
        })
        .collect();
    let detail = match t.rows.get(cursor) {
        Some(r) => match &r.advice {
            Some(a) if r.is_locked() => format!("{} is LOCKED: {}", r.name, a.reason),
            Some(a) => match &a.unless {
                Some(u) => format!(
                    "{} ({}, conditional: leave it on if {u}): {}",
                    r.name,
                    a.advice.label(),
                    a.reason
                ),
                None => format!("{} ({}): {}", r.name, a.advice.label(), a.reason),
            },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::parse::chkconfig;
    use crate::core::services::{PRACTICE_LISTING, ServicePolicy};

    /// Conditional advice (iscsid: off unless you use iSCSI) is marked conditional on its row
    /// and says its condition under the table, as `services --plan` does; plain advice is not.
    #[test]
    fn conditional_advice_is_marked_conditional() {
        let list = chkconfig::parse(PRACTICE_LISTING);
        let t = ServiceTable::new(&list, &ServicePolicy::clearos().unwrap());
        let at = |name: &str| t.rows.iter().position(|r| r.name == name).unwrap();
        let iscsid = at("iscsid");
        let shown = table(&t, iscsid, 78);
        assert!(
            shown.rows[iscsid].ends_with("off (cond.)"),
            "{}",
            shown.rows[iscsid]
        );
        assert!(
            shown
                .detail
                .contains("conditional: leave it on if you use iSCSI"),
            "{}",
            shown.detail
        );
        let plain = t
            .rows
            .iter()
            .position(|r| r.advice.as_ref().is_some_and(|a| a.unless.is_none()))
            .unwrap();
        let shown = table(&t, plain, 78);
        assert!(
            !shown.rows[plain].contains("cond."),
            "{}",
            shown.rows[plain]
        );
        assert!(!shown.detail.contains("conditional"), "{}", shown.detail);
        // On a wide terminal the reason still stands apart from the marked advice.
        let wide = table(&t, iscsid, 120);
        assert!(
            wide.rows[iscsid].contains("off (cond.)  "),
            "{}",
            wide.rows[iscsid]
        );
    }
}
