//! The Runlevels tool's grid: one row per init script, one column per runlevel; `[x]` in it,
//! `[+]` to be added, `[-]` to be removed. The selected cell is shown in reverse video.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::core::runlevels::RunlevelTable;
use crate::ui::model::Model;
use crate::ui::tools::ToolSession;
use crate::ui::widgets::put;

use super::tool::Table;

const NAME_W: usize = 20;

fn width(level: &str) -> usize {
    level.len().max(3) + 1
}

/// Builds the table for the Runlevels screen.
pub fn table(t: &RunlevelTable, cursor: usize, column: usize) -> Table {
    let mut header = format!("  {:<NAME_W$}", "SCRIPT");
    for l in &t.runlevels {
        header.push_str(&format!("{l:<w$}", w = width(l)));
    }
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let mut line = format!("{:<NAME_W$}", r.name);
            for l in &t.runlevels {
                let cell = match (r.current.contains(l), r.wanted.contains(l)) {
                    (true, true) => "[x]",
                    (false, true) => "[+]",
                    (true, false) => "[-]",
                    (false, false) => "[ ]",
                };
                line.push_str(&format!("{cell:<w$}", w = width(l)));
            }
            line
        })
        .collect();
    let changes = t.commands().len();
    let detail = match (t.rows.get(cursor), t.runlevels.get(column)) {
        (Some(r), Some(level)) => {
            let now: Vec<&str> = r.current.iter().map(String::as_str).collect();
            format!(
                "{} is in: {}. Space adds it to or removes it from {level}; a shows the exact \
                 rc-update commands before anything runs.",
                r.name,
                if now.is_empty() {
                    "no runlevel".to_string()
                } else {
                    now.join(", ")
                }
            )
        }
        _ => String::new(),
    };
    Table {
        title: format!("Runlevels (rc-update) - {changes} change(s) chosen"),
        right: String::new(),
        header,
        rows,
        detail,
    }
}

/// Shows the selected cell of the selected row (and its column heading) in reverse video.
pub fn mark_column(
    model: &Model,
    t: &RunlevelTable,
    session: &ToolSession,
    inner: Rect,
    offset: usize,
    list_h: usize,
    buf: &mut Buffer,
) {
    let Some(level) = t.runlevels.get(session.column) else {
        return;
    };
    let x = 2
        + NAME_W
        + t.runlevels
            .iter()
            .take(session.column)
            .map(|l| width(l))
            .sum::<usize>();
    let Ok(dx) = u16::try_from(x) else { return };
    if dx + 3 > inner.width {
        return;
    }
    let room = inner.width - dx;
    put(
        buf,
        inner.x + dx,
        inner.y,
        level,
        room,
        model.theme.cursor(),
    );
    if session.cursor >= offset && session.cursor < offset + list_h {
        let y = inner.y + 1 + (session.cursor - offset) as u16;
        if let Some(cell) = buf.cell((inner.x + dx + 1, y)) {
            let symbol = cell.symbol().to_string();
            put(buf, inner.x + dx + 1, y, &symbol, 1, model.theme.cursor());
        }
    }
}
