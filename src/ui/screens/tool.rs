//! The frame every tool screen shares: title, a header row, a table paged by whole pages with
//! the cursor in the gutter, and detail lines under it (the selected row's reason and the
//! result of the last apply). The per-tool files fill in the rows.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::core::runbook::ToolKind;
use crate::ui::keys::Scope;
use crate::ui::model::Model;
use crate::ui::text::wrap;
use crate::ui::tools::{ToolSession, ToolView, details_on_request, split};
use crate::ui::widgets::{self, put};

use super::{tool_gcc, tool_runlevels, tool_services, tool_snort};

/// What a tool's draw function hands to [`table`]: title parts, header and rows.
pub struct Table {
    /// Left title in the border.
    pub title: String,
    /// Right title in the border.
    pub right: String,
    /// The header row.
    pub header: String,
    /// One entry per row: the text, drawn from column 2 after the gutter.
    pub rows: Vec<String>,
    /// Detail lines for the selected row (wrapped to fit).
    pub detail: String,
}

/// Draws the open tool screen.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer) {
    let Some(session) = &model.tool else {
        return;
    };
    let table = match &session.view {
        ToolView::Loading => simple(session.tool, "Reading the listing..."),
        ToolView::Unavailable(why) => simple(session.tool, why),
        ToolView::Services(t) => {
            tool_services::table(t, session.cursor, area.width.saturating_sub(2))
        }
        ToolView::Runlevels(t) => tool_runlevels::table(t, session.cursor, session.column),
        ToolView::Gcc(g) => tool_gcc::table(g, session.cursor),
        ToolView::Snort(s) => tool_snort::table(s, session.cursor),
    };
    // Where the listing shown was taken, so a practice transcript or another host's listing
    // is never read as this machine's.
    let title = match &session.taken {
        Some(taken) => format!("{} - {taken}", table.title),
        None => table.title.clone(),
    };
    let inner = widgets::frame(
        buf,
        area,
        &model.theme,
        &title,
        &table.right,
        Scope::of_tool(session.tool),
        model.message.as_deref(),
    );
    if inner.height == 0 || inner.width < 3 {
        return;
    }
    put(
        buf,
        inner.x,
        inner.y,
        &table.header,
        inner.width,
        model.theme.emphasis(),
    );
    let (list_h, detail_rows) = split(session, model.tool_details, inner.width, inner.height);
    let offset = widgets::page_offset(session.cursor, list_h);
    for (dy, row) in table.rows.iter().skip(offset).take(list_h).enumerate() {
        let y = inner.y + 1 + dy as u16;
        if offset + dy == session.cursor {
            put(buf, inner.x, y, model.theme.glyphs.cursor, 1, Style::new());
        }
        put(
            buf,
            inner.x + 2,
            y,
            row,
            inner.width.saturating_sub(2),
            Style::new(),
        );
    }
    if let ToolView::Runlevels(t) = &session.view {
        tool_runlevels::mark_column(model, t, session, inner, offset, list_h, buf);
    }
    let (boxed, _, _) = crate::ui::layout::frame(area);
    let detail_text = if model.tool_details || !details_on_request(&session.view) {
        table.detail.as_str()
    } else {
        ""
    };
    if table.rows.len() > list_h {
        let below = offset + list_h < table.rows.len();
        // The marks go on the border beside the first and last list rows.
        let marks = Rect {
            y: boxed.y + 1,
            height: boxed.height.saturating_sub(1 + detail_rows as u16),
            ..boxed
        };
        widgets::more_marks(buf, marks, &model.theme, offset > 0, below);
    }
    detail(model, session, detail_text, inner, detail_rows, buf);
}

fn simple(tool: ToolKind, text: &str) -> Table {
    Table {
        title: title_of(tool).to_string(),
        right: String::new(),
        header: String::new(),
        rows: vec![text.to_string()],
        detail: String::new(),
    }
}

/// The screen title of a tool.
pub fn title_of(tool: ToolKind) -> &'static str {
    match tool {
        ToolKind::Services => "Services (chkconfig)",
        ToolKind::Runlevels => "Runlevels (rc-update)",
        ToolKind::GccProfile => "GCC profile (gcc-config)",
        ToolKind::SnortRules => "Snort rules",
        ToolKind::Subnet => "Subnet",
    }
}

/// The detail lines: the selected row's text, then the notice on the last line.
fn detail(
    model: &Model,
    session: &ToolSession,
    text: &str,
    inner: Rect,
    rows: usize,
    buf: &mut Buffer,
) {
    if rows == 0 {
        return;
    }
    let top = inner.bottom() - rows as u16;
    let width = inner.width.saturating_sub(1);
    // The notice (result of the last apply) keeps the bottom lines; the selected row's text
    // keeps at least one line above it.
    let notice: Vec<String> = session
        .notice
        .as_deref()
        .map(|n| wrap(n, width.into()))
        .unwrap_or_default();
    let notice_rows = notice.len().min(rows.saturating_sub(1).max(1)).min(rows);
    let text_rows = rows - notice_rows;
    for (dy, line) in wrap(text, width.into()).iter().take(text_rows).enumerate() {
        put(buf, inner.x + 1, top + dy as u16, line, width, Style::new());
    }
    let notice_top = inner.bottom() - notice_rows as u16;
    for (dy, line) in notice.iter().take(notice_rows).enumerate() {
        put(
            buf,
            inner.x + 1,
            notice_top + dy as u16,
            line,
            width,
            model.theme.warning(),
        );
    }
}
