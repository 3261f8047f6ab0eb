//! The Services tool's rows: service, runlevels 0-6, the technician's change, the runbook's
//! advice and its reason; the full reason (or the lock warning) under the table.

use crate::core::services::{ServiceKind, ServiceTable};

use super::tool::Table;

/// Builds the table for the Services screen.
pub fn table(t: &ServiceTable, cursor: usize) -> Table {
    let changes = t.commands().len();
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let levels: String = match r.kind {
                ServiceKind::Sysv(l) => (0..7)
                    .map(|n| {
                        if l[n] {
                            char::from(b'0' + n as u8)
                        } else {
                            '-'
                        }
                    })
                    .collect(),
                ServiceKind::Xinetd(on) => format!("xi:{}", if on { "on" } else { "off" }),
            };
            let change = match r.wanted {
                Some(true) => "->on",
                Some(false) => "->off",
                None => "",
            };
            let (advice, why) = r
                .advice
                .as_ref()
                .map_or(("", ""), |a| (a.advice.label(), a.reason.as_str()));
            format!(
                "{:<16}{:<7}  {:<5}  {:<9}  {}",
                r.name, levels, change, advice, why
            )
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
    Table {
        title: format!("Services (chkconfig) - {changes} change(s) chosen"),
        right: format!("runlevels {}", t.levels),
        header: format!(
            "  {:<16}{:<7}  {:<5}  {:<9}  {}",
            "SERVICE", "0123456", "NEW", "ADVICE", "WHY"
        ),
        rows,
        detail,
    }
}
