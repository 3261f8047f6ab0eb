//! Glyphs and styles: every character that is not plain text and every style comes from here, so
//! an ASCII-only or monochrome terminal gets a complete, consistent screen.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

use crate::core::progress::Status;
use crate::core::terminal_text::{TextColor, TextStyle};
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

    /// How a command's own styles are drawn: with colour, mapped to the terminal's 8 basic
    /// colours plus bold, underline and reverse (all the frugal backend sends); in mono,
    /// nothing at all, so a serial line pays not one byte more for a coloured command.
    pub fn command_output(&self, style: TextStyle) -> Style {
        if self.color == ColorMode::Mono {
            return Style::new();
        }
        let mut out = Style::new();
        let bg = style.bg.map(basic_index);
        // Black text on the terminal's own background vanishes on the usual dark console
        // (bright black, a dark grey, maps to black): keep the default colour instead.
        let fg = style
            .fg
            .map(basic_index)
            .filter(|&c| !(c == 0 && bg.is_none()));
        if let Some(f) = fg {
            out = out.fg(BASIC[usize::from(f)]);
        }
        // Two colours that map to the same basic one would hide the text: keep the text.
        if let Some(b) = bg.filter(|&b| fg != Some(b)) {
            out = out.bg(BASIC[usize::from(b)]);
        }
        if style.bold {
            out = out.add_modifier(Modifier::BOLD);
        }
        if style.underline {
            out = out.add_modifier(Modifier::UNDERLINED);
        }
        if style.reverse {
            out = out.add_modifier(Modifier::REVERSED);
        }
        out
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

/// The 8 basic colours, by their SGR number (30 + n).
const BASIC: [Color; 8] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
];

/// The 8 basic colours as xterm draws them, to find the nearest one to any other colour.
const BASIC_RGB: [(u8, u8, u8); 8] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
];

/// Which of the 8 basic colours stands for a command's colour: 0-7 as they are, 8-15 (the
/// bright ones) as their base, the 256-colour cube, grey ramp and 24-bit colours as the
/// nearest basic colour.
pub fn basic_index(color: TextColor) -> u8 {
    let rgb = match color {
        TextColor::Indexed(i) if i < 16 => return i % 8,
        TextColor::Indexed(i) if i >= 232 => {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        }
        TextColor::Indexed(i) => {
            const LEVEL: [u8; 6] = [0, 95, 135, 175, 215, 255];
            let n = i - 16;
            (
                LEVEL[usize::from(n / 36)],
                LEVEL[usize::from(n / 6 % 6)],
                LEVEL[usize::from(n % 6)],
            )
        }
        TextColor::Rgb(r, g, b) => (r, g, b),
    };
    let distance = |(r, g, b): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(r, rgb.0) + d(g, rgb.1) + d(b, rgb.2)
    };
    (0u8..8)
        .min_by_key(|&n| distance(BASIC_RGB[usize::from(n)]))
        .unwrap_or(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_colours_map_to_the_basic_eight() {
        let idx = |i| basic_index(TextColor::Indexed(i));
        assert_eq!(
            (0..16).map(idx).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7]
        );
        assert_eq!(idx(196), 1, "256-colour red");
        assert_eq!(idx(46), 2, "256-colour green");
        assert_eq!(idx(21), 4, "256-colour blue");
        assert_eq!(idx(226), 3, "256-colour yellow");
        assert_eq!(idx(232), 0, "darkest grey");
        assert_eq!(idx(255), 7, "lightest grey");
        assert_eq!(basic_index(TextColor::Rgb(250, 10, 10)), 1);
        assert_eq!(
            basic_index(TextColor::Rgb(255, 135, 0)),
            3,
            "orange reads as yellow"
        );
        assert_eq!(basic_index(TextColor::Rgb(0, 180, 190)), 6);
        assert_eq!(basic_index(TextColor::Rgb(10, 10, 10)), 0);
    }

    #[test]
    fn command_styles_in_colour_and_in_mono() {
        let style = TextStyle {
            fg: Some(TextColor::Indexed(9)),
            bg: Some(TextColor::Rgb(0, 0, 200)),
            bold: true,
            dim: true,
            italic: true,
            underline: true,
            reverse: true,
        };
        let colour = Theme::new(GlyphSet::Unicode, ColorMode::Basic8).command_output(style);
        assert_eq!(
            colour,
            Style::new()
                .fg(Color::Red)
                .bg(Color::Blue)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED | Modifier::REVERSED)
        );
        assert_eq!(Theme::plain().command_output(style), Style::new());
        // Same basic colour for text and background: the text stays readable.
        let same = TextStyle {
            fg: Some(TextColor::Indexed(196)),
            bg: Some(TextColor::Indexed(1)),
            ..TextStyle::default()
        };
        assert_eq!(
            Theme::new(GlyphSet::Ascii, ColorMode::Basic8).command_output(same),
            Style::new().fg(Color::Red)
        );
        // Dark grey text alone keeps the default colour rather than turning black.
        let grey = TextStyle {
            fg: Some(TextColor::Indexed(8)),
            ..TextStyle::default()
        };
        assert_eq!(
            Theme::new(GlyphSet::Ascii, ColorMode::Basic8).command_output(grey),
            Style::new()
        );
    }

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
