//! The screens: `render(&Model)` draws the model, `update` (in [`update`]) changes it, and the
//! key table in [`keys`] connects the two. See `src/ui/README.md` for how to add a screen, a key
//! action or an effect.

pub mod fleet;
pub mod keys;
pub mod layout;
pub mod model;
pub mod output_line;
pub mod screens;
#[cfg(test)]
mod testkit;
pub mod text;
pub mod theme;
pub mod tools;
pub mod update;
pub mod widgets;

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;

use crate::terminal::profile::{MIN_COLS, MIN_ROWS};
use model::{Model, Overlay, Screen};

pub use model::{Effect, Msg};
pub use update::update;

/// Draws the whole model into `buf` over `area`. Returns where the text cursor should be shown
/// (in a prompt), or `None` to keep it hidden. Never panics, whatever the size.
pub fn render(model: &Model, area: Rect, buf: &mut Buffer) -> Option<Position> {
    if area.width < MIN_COLS || area.height < MIN_ROWS {
        too_small(area, buf);
        return None;
    }
    let mut cursor = None;
    match model.screen() {
        Screen::Home { cursor } => screens::home::draw(model, *cursor, area, buf),
        Screen::Runbook { runbook, cursor } => {
            screens::runbook::draw(model, runbook, *cursor, area, buf)
        }
        Screen::Step {
            runbook,
            step,
            scroll,
        } => screens::step::draw(model, runbook, step, *scroll, area, buf),
        Screen::Output { scroll, .. } => screens::output::draw(model, *scroll, area, buf),
        Screen::Diff {
            runbook,
            step,
            preview,
            scroll,
        } => screens::diff::draw(model, runbook, step, preview, *scroll, area, buf),
        Screen::Form {
            runbook,
            step,
            names,
            fields,
            focus,
        } => {
            cursor = screens::form::draw(model, runbook, step, (names, fields, *focus), area, buf);
        }
        Screen::SubnetMenu { cursor } => screens::subnet::draw_menu(model, *cursor, area, buf),
        Screen::SubnetCalc {
            fields,
            focus,
            scroll,
        } => {
            cursor = screens::subnet::draw_calc(model, fields, *focus, *scroll, area, buf);
        }
        Screen::CidrTable { scroll } => screens::subnet::draw_table(model, *scroll, area, buf),
        Screen::Quiz(quiz) => cursor = screens::subnet::draw_quiz(model, quiz, area, buf),
        Screen::Tool { .. } => screens::tool::draw(model, area, buf),
        Screen::Fleet { cursor } => screens::fleet::draw(model, *cursor, area, buf),
        Screen::FleetReport { scroll } => screens::fleet::draw_report(model, *scroll, area, buf),
    }
    if model.settings.practice {
        practice_badge(area, buf, model.theme.glyphs.border.horizontal_top);
    }
    if let Some(m) = model.message.as_deref() {
        widgets::long_message(buf, area, &model.theme, m);
    }
    if let Some(overlay) = &model.overlay {
        overlay_hints(model, overlay.scope(), area, buf);
    }
    match &model.overlay {
        None => cursor,
        Some(Overlay::Help { scroll }) => {
            screens::help::draw(model, *scroll, area, buf);
            None
        }
        Some(Overlay::Confirm { question, .. }) => {
            screens::confirm::draw(model, question, area, buf);
            None
        }
        Some(Overlay::Leave { changes }) => {
            screens::confirm::draw_leave(model, *changes, area, buf);
            None
        }
        Some(Overlay::Prompt { title, input, .. }) => {
            screens::prompt::draw(model, title, input, area, buf)
        }
    }
}

/// PRACTICE on the top line of every screen, so a trainee never mistakes a rehearsal for the
/// real thing (reverse video and bold: visible without colour). The screen's own right-hand
/// title (the target, a line count, "running") moves left of the badge instead of being
/// covered by it, when there is room for all of it.
fn practice_badge(area: Rect, buf: &mut Buffer, border: &str) {
    const BADGE: &str = " PRACTICE ";
    let width = BADGE.len() as u16;
    if area.width < width + 4 || area.height == 0 {
        return;
    }
    let y = area.y;
    let x = area.x + area.width - width - 2;
    // The right title: the cells before the corner back to the border line.
    let end = area.x + area.width - 1;
    let mut start = end;
    while start > area.x + 1 && buf[(start - 1, y)].symbol() != border {
        start -= 1;
    }
    let title: Vec<ratatui::buffer::Cell> = (start..end).map(|cx| buf[(cx, y)].clone()).collect();
    if start > area.x + 1 {
        let line = buf[(start - 1, y)].clone();
        for cx in start..end {
            buf[(cx, y)] = line.clone();
        }
        // Right-aligned again, one border cell before the badge, when it fits whole between
        // the left title and the badge (a cut "20/37" would read as "37").
        let room = x.saturating_sub(1);
        let first = room.saturating_sub(title.len() as u16);
        let fits = first > area.x && (first..room).all(|cx| buf[(cx, y)].symbol() == border);
        if fits {
            for (i, cell) in title.iter().enumerate() {
                buf[(first + i as u16, y)] = cell.clone();
            }
        }
    }
    let style = Style::new()
        .add_modifier(ratatui::style::Modifier::REVERSED | ratatui::style::Modifier::BOLD);
    buf.set_stringn(x, y, BADGE, width.into(), style);
}

/// The bottom line under a question, prompt or help box shows that box's keys (`y:yes n:no`),
/// not those of the screen behind it, unless a short message is on it.
fn overlay_hints(model: &Model, scope: keys::Scope, area: Rect, buf: &mut Buffer) {
    let (_, _, hint) = layout::frame(area);
    let message_shown = model
        .message
        .as_deref()
        .is_some_and(|m| unicode_width::UnicodeWidthStr::width(m) <= usize::from(hint.width));
    if message_shown || hint.height == 0 {
        return;
    }
    ratatui::widgets::Widget::render(ratatui::widgets::Clear, hint, buf);
    widgets::hint_line(buf, hint, &model.theme, scope);
}

/// The message shown instead of the screens below the minimum size.
pub fn too_small(area: Rect, buf: &mut Buffer) {
    let text = format!(
        "terminal too small: need {MIN_COLS}x{MIN_ROWS}, have {}x{} (Ctrl-L re-reads the size; --size COLSxROWS sets it)",
        area.width, area.height
    );
    for (i, line) in text::wrap(&text, area.width.into()).iter().enumerate() {
        let Ok(dy) = u16::try_from(i) else { break };
        if dy >= area.height {
            break;
        }
        buf.set_stringn(area.x, area.y + dy, line, area.width.into(), Style::new());
    }
}
