//! Glyphs and styles: every character that is not plain text and every style comes from here, so
//! an ASCII-only or monochrome terminal gets a complete, consistent screen.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

use crate::core::progress::Status;
use crate::terminal::profile::{ColorMode, GlyphSet};

/// The non-text characters a screen draws, per glyph set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyphs {
    /// Box borders.
    pub border: border::Set<'static>,
    /// The cursor mark in the list gutter.
    pub cursor: &'static str,
    /// Scrollbar track and thumb.
    pub track: &'static str,
    /// Scrollbar thumb.
    pub thumb: &'static str,
    /// Gauge cells: done and to do.
    pub gauge_full: &'static str,
    /// Gauge cell still to do.
    pub gauge_empty: &'static str,
    /// "More text above/below" markers.
    pub more_up: &'static str,
    /// See `more_up`.
    pub more_down: &'static str,
    /// Marks text cut at the edge.
    pub ellipsis: &'static str,
}

const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Glyphs {
    /// The glyphs for a set.
    pub fn for_set(set: GlyphSet) -> Glyphs {
        match set {
            GlyphSet::Ascii => Glyphs {
                border: ASCII_BORDER,
                cursor: ">",
                track: "|",
                thumb: "#",
                gauge_full: "#",
                gauge_empty: ".",
                more_up: "^",
                more_down: "v",
                ellipsis: "...",
            },
            // Only what every Linux console font has: single lines and shade blocks.
            GlyphSet::Cp437 => Glyphs {
                border: border::PLAIN,
                cursor: ">",
                track: "│",
                thumb: "█",
                gauge_full: "█",
                gauge_empty: "░",
                more_up: "^",
                more_down: "v",
                ellipsis: "...",
            },
            GlyphSet::Unicode => Glyphs {
                border: border::ROUNDED,
                cursor: ">",
                track: "│",
                thumb: "█",
                gauge_full: "█",
                gauge_empty: "░",
                more_up: "▲",
                more_down: "▼",
                ellipsis: "…",
            },
        }
    }
}

/// Glyphs plus styles: what every draw function receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Characters.
    pub glyphs: Glyphs,
    /// Colour use; monochrome styles never set a colour.
    pub color: ColorMode,
}

impl Theme {
    /// A theme for a glyph set and colour mode.
    pub fn new(set: GlyphSet, color: ColorMode) -> Theme {
        Theme {
            glyphs: Glyphs::for_set(set),
            color,
        }
    }

    /// ASCII and monochrome: the safe theme used by tests and vt100 consoles.
    pub fn plain() -> Theme {
        Theme::new(GlyphSet::Ascii, ColorMode::Mono)
    }

    fn tint(&self, style: Style, color: Color) -> Style {
        match self.color {
            ColorMode::Mono => style,
            ColorMode::Basic8 => style.fg(color),
        }
    }

    /// Titles of boxes and screens.
    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// The selected row's cursor mark (reverse video on one cell, cheap to move).
    pub fn cursor(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Emphasis inside text (headings, key names).
    pub fn emphasis(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Secondary text (ids, times); plain in mono so nothing depends on dimming.
    pub fn quiet(&self) -> Style {
        self.tint(Style::new(), Color::Cyan)
    }

    /// Warnings and advice boxes.
    pub fn warning(&self) -> Style {
        self.tint(Style::new().add_modifier(Modifier::BOLD), Color::Yellow)
    }

    /// A command line shown on screen.
    pub fn command(&self) -> Style {
        self.tint(Style::new(), Color::Green)
    }

    /// The style of a status marker: bold where it needs attention, coloured where possible.
    pub fn status(&self, status: Status) -> Style {
        match status {
            Status::Pending | Status::Skipped => Style::new(),
            Status::Done => self.tint(Style::new(), Color::Green),
            Status::Running => self.tint(Style::new().add_modifier(Modifier::BOLD), Color::Yellow),
            Status::Failed | Status::Interrupted | Status::Cancelled => {
                self.tint(Style::new().add_modifier(Modifier::BOLD), Color::Red)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(g: &Glyphs) -> Vec<&'static str> {
        let b = g.border;
        vec![
            b.top_left,
            b.top_right,
            b.bottom_left,
            b.bottom_right,
            b.vertical_left,
            b.vertical_right,
            b.horizontal_top,
            b.horizontal_bottom,
            g.cursor,
            g.track,
            g.thumb,
            g.gauge_full,
            g.gauge_empty,
            g.more_up,
            g.more_down,
            g.ellipsis,
        ]
    }

    #[test]
    fn ascii_set_is_ascii() {
        assert!(
            all(&Glyphs::for_set(GlyphSet::Ascii))
                .iter()
                .all(|s| s.is_ascii())
        );
    }

    /// The Linux console's font: ASCII plus single/double box lines and shade blocks.
    pub const CP437_ALLOWED: &str = "─│┌┐└┘├┤┬┴┼═║╔╗╚╝░▒▓█▀▄▌▐";

    #[test]
    fn cp437_set_stays_in_the_console_font() {
        for s in all(&Glyphs::for_set(GlyphSet::Cp437)) {
            assert!(
                s.chars().all(|c| c.is_ascii() || CP437_ALLOWED.contains(c)),
                "{s}"
            );
        }
    }
}
