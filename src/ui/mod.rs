//! The screens: `render(&Model)` draws the model, `update` (in [`update`]) changes it, and the
//! key table in [`keys`] connects the two. See `src/ui/README.md` for how to add a screen, a key
//! action or an effect.

pub mod fleet;
pub mod keys;
pub mod layout;
pub mod model;
pub mod output_line;
pub mod screens;
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
    if model.practice {
        practice_badge(area, buf);
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
        Some(Overlay::Prompt { title, input, .. }) => {
            screens::prompt::draw(model, title, input, area, buf)
        }
    }
}

/// PRACTICE on the top line of every screen, so a trainee never mistakes a rehearsal for the
/// real thing (reverse video and bold: visible without colour).
fn practice_badge(area: Rect, buf: &mut Buffer) {
    const BADGE: &str = " PRACTICE ";
    let width = BADGE.len() as u16;
    if area.width < width + 4 {
        return;
    }
    let x = area.x + area.width - width - 2;
    let style = Style::new()
        .add_modifier(ratatui::style::Modifier::REVERSED | ratatui::style::Modifier::BOLD);
    buf.set_stringn(x, area.y, BADGE, width.into(), style);
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
