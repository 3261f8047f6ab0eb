//! The help overlay, generated from the key table so it always tells the truth.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Widget};

use crate::ui::keys::{self, Scope};
use crate::ui::layout;
use crate::ui::model::{Model, TerminalInfo};
use crate::ui::text::wrap;

/// The help text for a screen's scope: its keys, the global keys, and the terminal facts.
pub fn lines(scope: Scope, terminal: &TerminalInfo, width: usize) -> Vec<String> {
    let mut out = vec![format!("{}:", scope.title())];
    let mut global_started = false;
    for b in keys::bindings_for(scope) {
        if b.scope == Scope::Global && !global_started {
            global_started = true;
            out.push(String::new());
            out.push(format!("{}:", Scope::Global.title()));
        }
        let labels = keys::key_labels(b);
        // Keys in a column of 20; the description wraps beside them, or below when narrow.
        let col = 22;
        if width > col + 10 {
            let help = wrap(b.help, width - col);
            for (i, h) in help.iter().enumerate() {
                let k = if i == 0 { labels.as_str() } else { "" };
                if i == 0 && labels.len() > col - 3 {
                    out.push(format!("  {labels}"));
                    out.push(format!("{:col$}{h}", ""));
                } else {
                    out.push(format!("  {k:<w$} {h}", w = col - 3));
                }
            }
        } else {
            out.push(format!("  {labels}"));
            out.extend(
                wrap(b.help, width.saturating_sub(4))
                    .into_iter()
                    .map(|h| format!("    {h}")),
            );
        }
    }
    out.push(String::new());
    out.extend(wrap(
        "Esc only goes back: it never quits, stops a command or throws away text.",
        width,
    ));
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
    // The text depends only on the width inside the border, known before the block is drawn.
    let text = lines(
        model.screen().scope(),
        &model.terminal,
        usize::from(boxed.width.saturating_sub(4)),
    );
    let shown = usize::from(boxed.height.saturating_sub(2));
    let mut block = Block::bordered()
        .border_set(model.theme.glyphs.border)
        .title(Line::styled(" Keys ", model.theme.title()))
        .title_bottom(Line::from(" ?/q/Esc: close ").right_aligned());
    if scroll + shown < text.len() {
        block = block.title_bottom(Line::from(format!(
            " {} more below (j, PgDn, End) ",
            model.theme.glyphs.more_down
        )));
    }
    let inner = block.inner(boxed);
    block.render(boxed, buf);
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
