//! Fleet: one row per host × run (done/total, failed and interrupted steps, last activity,
//! who), hosts that could not answer said plainly; and one host's report, scrollable.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::core::fleet::{HostAnswer, HostReport};
use crate::core::terminal_text::terminal_safe_line;
use crate::ui::keys::Scope;
use crate::ui::model::{Cursor, Model};
use crate::ui::theme::Theme;
use crate::ui::widgets::{self, put};

/// Draws the fleet list with the row `cursor` selected.
pub fn draw(model: &Model, cursor: Cursor, area: Rect, buf: &mut Buffer) {
    let theme = &model.theme;
    let Some(view) = &model.fleet else {
        return;
    };
    let right = if view.asking {
        format!("asking {} hosts", view.hosts.len())
    } else {
        let ok = view
            .reports
            .iter()
            .filter(|r| matches!(r.answer, HostAnswer::Ok { .. }))
            .count();
        format!("{ok}/{} answered", view.reports.len())
    };
    let inner = widgets::frame(
        buf,
        area,
        theme,
        "Fleet",
        &right,
        Scope::Fleet,
        model.message.as_deref(),
    );
    if inner.height < 2 || inner.width < 4 {
        return;
    }
    let width = inner.width.saturating_sub(1);
    let x = inner.x + 1;
    put(
        buf,
        x,
        inner.y,
        &columns("HOST", "RUNBOOK", "DONE", "!FAIL ~INTR", "LAST", "WHO"),
        width,
        theme.emphasis(),
    );
    let rows = view.rows();
    if rows.is_empty() {
        let text = if view.asking {
            "Asking every host for `fieldbook status --json` ..."
        } else {
            "No hosts."
        };
        put(buf, x, inner.y + 1, text, width, Style::new());
        return;
    }
    let h = usize::from(inner.height - 1);
    let offset = widgets::page_offset(cursor.index, h);
    for (dy, (i, row)) in rows.iter().enumerate().skip(offset).take(h).enumerate() {
        let y = inner.y + 1 + dy as u16;
        let Some(report) = view.reports.get(row.host) else {
            continue;
        };
        if i == cursor.index {
            put(buf, inner.x, y, theme.glyphs.cursor, 1, Style::new());
        }
        let (line, style) = host_line(report, row.run, theme);
        put(buf, x, y, &terminal_safe_line(&line), width, style);
    }
    let (boxed, _, _) = crate::ui::layout::frame(area);
    widgets::more_marks(buf, boxed, theme, offset > 0, offset + h < rows.len());
}

/// One host's line in the table and its style: its run, or what kept it from answering.
fn host_line(report: &HostReport, run: Option<usize>, theme: &Theme) -> (String, Style) {
    let host = cut(&report.host, 10);
    match (&report.answer, run) {
        (HostAnswer::Ok { runs, .. }, Some(r)) => {
            let run = &runs[r.min(runs.len().saturating_sub(1))];
            let mut problems: Vec<String> = run.failed.iter().map(|s| format!("!{s}")).collect();
            problems.extend(run.interrupted.iter().map(|s| format!("~{s}")));
            let problems = if problems.is_empty() {
                "-".to_string()
            } else {
                problems.join(",")
            };
            let style = if run.failed.is_empty() && run.interrupted.is_empty() {
                Style::new()
            } else {
                theme.warning()
            };
            (
                columns(
                    &host,
                    &run.runbook,
                    &format!("{}/{}", run.done, run.total),
                    &problems,
                    &short_time(&run.last_activity),
                    &run.who.join(","),
                ),
                style,
            )
        }
        (HostAnswer::Ok { .. }, None) => {
            (format!("{host:<10} no fieldbook runs yet"), theme.quiet())
        }
        (HostAnswer::Unreachable { message }, _) => (
            format!("{host:<10} UNREACHABLE: {message}"),
            theme.warning(),
        ),
        (HostAnswer::NoFieldbook { message }, _) => (
            format!("{host:<10} NO FIELDBOOK: {message}"),
            theme.warning(),
        ),
        (HostAnswer::Failed { message, .. }, _) => {
            (format!("{host:<10} FAILED: {message}"), theme.warning())
        }
    }
}

/// Draws the report fetched from a host, from line `scroll`.
pub fn draw_report(model: &Model, scroll: usize, area: Rect, buf: &mut Buffer) {
    let Some((title, lines)) = model.fleet.as_ref().and_then(|f| f.report.as_ref()) else {
        return;
    };
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        &terminal_safe_line(title),
        &format!("{} lines", lines.len()),
        Scope::FleetReport,
        model.message.as_deref(),
    );
    let shown: Vec<String> = lines.iter().map(|l| terminal_safe_line(l)).collect();
    let h = widgets::text_rows(buf, inner, &shown, scroll, Style::new());
    widgets::scroll_marks(buf, area, &model.theme, scroll, h, lines.len());
}

/// One row laid out to fit 80 columns: the columns that matter most first.
fn columns(host: &str, runbook: &str, done: &str, problems: &str, last: &str, who: &str) -> String {
    format!(
        "{:<10} {:<20} {:>6} {:<14} {:<11} {who}",
        cut(host, 10),
        cut(runbook, 20),
        cut(done, 6),
        cut(problems, 14),
        cut(last, 11)
    )
}

/// `2026-11-26T10:00:00Z` as `11-26 10:00` (the year rarely matters in a migration).
fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(5..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) if rfc3339.as_bytes().get(10) == Some(&b'T') => {
            format!("{day} {time}")
        }
        _ => rfc3339.to_string(),
    }
}

/// At most `n` characters of `s`.
fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
