//! Home: every runbook with its progress on each target and its last activity; the ones that
//! apply to this host first; the advice to use screen when on SSH without it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::core::progress::Run;
use crate::ui::keys::Scope;
use crate::ui::model::{Cursor, Model, Progress};
use crate::ui::text::wrap;
use crate::ui::theme::Theme;
use crate::ui::widgets::{self, put};

/// What the advice box says (the articles' advice for work over SSH).
pub const SSH_ADVICE: &str = "You are on SSH without screen or tmux: if the connection drops, \
running commands die with it. Quit (q), run `screen -S work`, start fieldbook inside it, and \
after a drop reconnect with `screen -r work`. (x: dismiss)";

/// "12/31, 1 failed, 2 skipped".
pub fn progress_text(p: &Progress) -> String {
    let mut s = format!("{}/{}", p.finished, p.total);
    if p.failed > 0 {
        s.push_str(&format!(", {} failed", p.failed));
    }
    if p.skipped > 0 {
        s.push_str(&format!(", {} skipped", p.skipped));
    }
    s
}

/// "2026-11-26 14:02" from an RFC 3339 time; empty when never.
pub fn when(rfc3339: &str) -> String {
    let t = rfc3339.replace('T', " ");
    t.chars().take(16).collect()
}

fn run_line(model: &Model, rb: &crate::core::runbook::Runbook, run: &Run) -> String {
    let p = Progress::of(rb, Some(run));
    format!(
        "{}: {}{}",
        run.target,
        progress_text(&p),
        if run.updated.is_empty() {
            String::new()
        } else {
            format!(", last {}", when(&run.updated))
        }
    )
    .replace(&format!("{}: ", model.settings.target), "")
}

/// ` on root@router1` when commands run on a host over ssh.
pub fn on_host(model: &Model) -> String {
    model.settings.host.as_deref().map_or(String::new(), |h| {
        format!(" on {}", crate::core::terminal_text::terminal_safe_line(h))
    })
}

/// Draws the home screen.
pub fn draw(model: &Model, cursor: Cursor, area: Rect, buf: &mut Buffer) {
    let theme = &model.theme;
    let mode = if model.settings.practice {
        "practice, "
    } else {
        ""
    };
    let right = format!("{mode}target {}{}", model.settings.target, on_host(model));
    let inner = widgets::frame(
        buf,
        area,
        theme,
        "fieldbook: runbooks",
        &right,
        Scope::Home,
        model.message.as_deref(),
    );
    let list = if model.ssh_advice {
        draw_ssh_advice(buf, inner, theme)
    } else {
        inner
    };
    let rows = list_rows(model, usize::from(list.width.saturating_sub(2)));
    let selected_row = rows
        .iter()
        .position(|(_, c)| *c == Some(cursor.index))
        .unwrap_or(0);
    let h = usize::from(list.height);
    let offset = widgets::page_offset(selected_row, h);
    for (dy, (line, item)) in rows.iter().skip(offset).take(h).enumerate() {
        let y = list.y + dy as u16;
        if *item == Some(cursor.index) {
            put(buf, list.x, y, theme.glyphs.cursor, 1, Style::new());
        }
        let text_area = Rect {
            x: list.x + 2,
            y,
            width: list.width.saturating_sub(2),
            height: 1,
        };
        line.clone().render(text_area, buf);
    }
    let (boxed, _, _) = crate::ui::layout::frame(area);
    widgets::more_marks(buf, boxed, theme, offset > 0, offset + h < rows.len());
}

/// The SSH-without-screen advice at the top of the list (when there is room for it); the
/// area left for the list below it.
fn draw_ssh_advice(buf: &mut Buffer, inner: Rect, theme: &Theme) -> Rect {
    let mut list = inner;
    if inner.height > 6 {
        let lines = wrap(SSH_ADVICE, usize::from(inner.width.saturating_sub(2)));
        let h = (lines.len() as u16).min(inner.height / 2);
        for (i, l) in lines.iter().take(h.into()).enumerate() {
            put(
                buf,
                inner.x + 1,
                inner.y + i as u16,
                l,
                inner.width - 1,
                theme.warning(),
            );
        }
        list.y += h + 1;
        list.height = list.height.saturating_sub(h + 1);
    }
    list
}

/// The list's rows, `width` columns wide: a heading per group, one line per runbook (with the
/// position in the order it stands for), one per run of another target.
fn list_rows(model: &Model, width: usize) -> Vec<(Line<'static>, Option<usize>)> {
    let theme = &model.theme;
    let mut rows: Vec<(Line, Option<usize>)> = Vec::new();
    let applicable = model
        .order
        .iter()
        .filter(|&&i| model.applicable.contains(&model.runbooks[i].id))
        .count();
    for (pos, &i) in model.order.iter().enumerate() {
        let rb = &model.runbooks[i];
        if pos == 0 && applicable > 0 {
            rows.push((Line::styled("For this host", theme.emphasis()), None));
        }
        if pos == applicable && applicable > 0 {
            rows.push((Line::styled("Other runbooks", theme.emphasis()), None));
        }
        let runs = model.runs_of(&rb.id);
        let own = runs.iter().find(|r| r.target == model.settings.target);
        let p = Progress::of(rb, own.copied());
        let mut right = progress_text(&p);
        if let Some(r) = own.filter(|r| !r.updated.is_empty()) {
            right.push_str(&format!("  {}", when(&r.updated)));
        }
        let title_w = width.saturating_sub(right.chars().count() + 1);
        let title: String = rb.title.chars().take(title_w).collect();
        let pad = width.saturating_sub(title.chars().count() + right.chars().count());
        rows.push((
            Line::from(vec![
                Span::raw(title),
                Span::raw(" ".repeat(pad)),
                Span::styled(right, theme.quiet()),
            ]),
            Some(pos),
        ));
        for run in runs.iter().filter(|r| r.target != model.settings.target) {
            rows.push((
                Line::styled(format!("  {}", run_line(model, rb, run)), theme.quiet()),
                None,
            ));
        }
    }
    if model.order.is_empty() {
        rows.push((Line::raw("No runbooks found."), None));
    }
    rows
}
