//! The help overlay, generated from the key table so it always tells the truth.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Widget};

use crate::ui::keys::{self, Scope};
use crate::ui::layout;
use crate::ui::model::{Model, TerminalInfo};

/// The help text for a screen's scope: its keys, the global keys, and the terminal facts.
pub fn lines(scope: Scope, terminal: &TerminalInfo) -> Vec<String> {
    let mut out = vec![format!("{}:", scope.title())];
    let mut global_started = false;
    for b in keys::bindings_for(scope) {
        if b.scope == Scope::Global && !global_started {
            global_started = true;
            out.push(String::new());
            out.push(format!("{}:", Scope::Global.title()));
        }
        out.push(format!("  {:<24} {}", keys::key_labels(b), b.help));
    }
    out.push(String::new());
    out.push("Esc only goes back: it never quits, stops a command or throws away text.".into());
    out.push(String::new());
    out.push(format!("Terminal: {}", terminal.size));
    out.push(format!("Glyphs: {}", terminal.glyphs));
    out.push(format!("Colour: {}", terminal.color));
    out
}

/// Draws the help box over the current screen.
pub fn draw(model: &Model, scroll: usize, area: Rect, buf: &mut Buffer) {
    let boxed = layout::help_area(area);
    Clear.render(boxed, buf);
    let block = Block::bordered()
        .border_set(model.theme.glyphs.border)
        .title(Line::styled(" Keys ", model.theme.title()))
        .title_bottom(Line::from(" ?/q/Esc: close ").right_aligned());
    let inner = block.inner(boxed);
    block.render(boxed, buf);
    let text = lines(model.screen().scope(), &model.terminal);
    for (dy, l) in text
        .iter()
        .skip(scroll)
        .take(inner.height.into())
        .enumerate()
    {
        buf.set_stringn(
            inner.x + 1,
            inner.y + dy as u16,
            l,
            inner.width.saturating_sub(1).into(),
            Style::new(),
        );
    }
}
