//! Every screen drawn into a buffer: insta snapshots at 80x24 (ASCII + mono, Unicode + colour)
//! and at the 40x12 minimum, the glyph-set guarantees, and a render at every size from 1x1 to
//! 200x60 that must not panic.

mod common;

use common::screens;
use fieldbook::terminal::profile::{ColorMode, GlyphSet};
use fieldbook::ui::render;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn draw(model: &fieldbook::ui::model::Model, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    render(model, area, &mut buf);
    buf
}

fn text(buf: &Buffer) -> String {
    let w = buf.area.width as usize;
    buf.content
        .chunks(w)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn snapshots_ascii_mono_80x24() {
    for (name, m) in screens::all(GlyphSet::Ascii, ColorMode::Mono, (80, 24)) {
        let buf = draw(&m, 80, 24);
        insta::assert_snapshot!(format!("ascii_mono_80x24_{name}"), text(&buf));
    }
}

#[test]
fn snapshots_unicode_color_80x24() {
    for (name, m) in screens::all(GlyphSet::Unicode, ColorMode::Basic8, (80, 24)) {
        let buf = draw(&m, 80, 24);
        // Debug output includes the styles, so colour changes show up in review.
        insta::assert_snapshot!(format!("unicode_color_80x24_{name}"), format!("{buf:?}"));
    }
}

#[test]
fn snapshots_minimum_40x12() {
    for (name, m) in screens::all(GlyphSet::Ascii, ColorMode::Mono, (40, 12)) {
        let buf = draw(&m, 40, 12);
        insta::assert_snapshot!(format!("ascii_mono_40x12_{name}"), text(&buf));
    }
    let m = screens::base(GlyphSet::Ascii, ColorMode::Mono, (39, 12));
    insta::assert_snapshot!("too_small_39x12", text(&draw(&m, 39, 12)));
}

#[test]
fn ascii_screens_are_ascii_and_linux_screens_stay_in_the_console_font() {
    const CP437: &str = "─│┌┐└┘├┤┬┴┼═║╔╗╚╝░▒▓█▀▄▌▐";
    for (name, m) in screens::all(GlyphSet::Ascii, ColorMode::Mono, (80, 24)) {
        let buf = draw(&m, 80, 24);
        assert!(buf.content.iter().all(|c| c.symbol().is_ascii()), "{name}");
    }
    for (name, m) in screens::all(GlyphSet::Cp437, ColorMode::Basic8, (80, 24)) {
        let buf = draw(&m, 80, 24);
        for c in &buf.content {
            assert!(
                c.symbol()
                    .chars()
                    .all(|ch| ch.is_ascii() || CP437.contains(ch)),
                "{name}: {:?}",
                c.symbol()
            );
        }
    }
}

#[test]
fn mono_screens_use_no_colour() {
    use ratatui::style::Color;
    for (name, m) in screens::all(GlyphSet::Ascii, ColorMode::Mono, (80, 24)) {
        let buf = draw(&m, 80, 24);
        assert!(
            buf.content
                .iter()
                .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
            "{name}"
        );
    }
}

#[test]
fn the_runbook_screen_reads_without_colour() {
    let all = screens::all(GlyphSet::Ascii, ColorMode::Mono, (80, 24));
    let (_, m) = all.iter().find(|(n, _)| *n == "runbook").unwrap();
    let t = text(&draw(m, 80, 24));
    assert!(t.contains("Demo router setup 2/6"), "{t}");
    for marker in ["[x] Read", "[!] Update", "[-] Name", "[ ] Wipe"] {
        assert!(t.contains(marker), "{marker} in\n{t}");
    }
    // The cursor opens on the first unfinished step (update, failed), marked in the gutter.
    assert!(t.contains("|> [!] Update the package tree"), "{t}");
}

/// Every screen at every size from 1x1 to 200x60: nothing may panic. The model's own size
/// follows the drawing size, as it does in the app. Split by width so the parts run in
/// parallel.
fn every_size(
    glyphs: GlyphSet,
    color: ColorMode,
    widths: std::ops::RangeInclusive<u16>,
    rows: u16,
) {
    let mut screens = screens::all(glyphs, color, (80, 24));
    for w in widths {
        for h in 1..=rows {
            let area = Rect::new(0, 0, w, h);
            let mut buf = Buffer::empty(area);
            for (_, m) in &mut screens {
                fieldbook::ui::update(m, fieldbook::ui::Msg::Resized { cols: w, rows: h });
                buf.reset();
                render(m, area, &mut buf);
            }
        }
    }
}

#[test]
fn every_screen_at_every_size_ascii_1_to_60_columns() {
    every_size(GlyphSet::Ascii, ColorMode::Mono, 1..=60, 60);
}

#[test]
fn every_screen_at_every_size_ascii_61_to_110_columns() {
    every_size(GlyphSet::Ascii, ColorMode::Mono, 61..=110, 60);
}

#[test]
fn every_screen_at_every_size_ascii_111_to_160_columns() {
    every_size(GlyphSet::Ascii, ColorMode::Mono, 111..=160, 60);
}

#[test]
fn every_screen_at_every_size_ascii_161_to_200_columns() {
    every_size(GlyphSet::Ascii, ColorMode::Mono, 161..=200, 60);
}

/// The glyph sets all have one-column glyphs, so layout is the same; Unicode + colour is run
/// over the small and middle sizes, where layout arithmetic is tight, to keep the suite fast.
#[test]
fn every_screen_at_every_size_unicode_up_to_100x30() {
    every_size(GlyphSet::Unicode, ColorMode::Basic8, 1..=100, 30);
}

/// Every screen from 1x1 to 300x100 (the grid of `common::sizes`) and through a burst of rapid
/// resizes (0x0 included) applied to the same live models without starting over.
#[test]
fn every_screen_up_to_300x100_and_through_rapid_resizes() {
    let mut screens = screens::all(GlyphSet::Unicode, ColorMode::Basic8, (80, 24));
    for (w, h) in common::sizes::grid()
        .into_iter()
        .chain(common::sizes::rapid(400))
    {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        for (_, m) in &mut screens {
            fieldbook::ui::update(m, fieldbook::ui::Msg::Resized { cols: w, rows: h });
            buf.reset();
            render(m, area, &mut buf);
        }
    }
}

/// emerge's coloured lines (the real sample's green `*` and `[ ok ]`, a green `>>> Emerging`,
/// a bold red `!!!`), a 256-colour and a 24-bit one, as the runner hands them to the model,
/// then fieldbook's own closing line.
const COLOURED: &[u8] = b"\x1b[32;01m>>> Emerging (1 of 1)\x1b[0m app-misc/hello-1.1::gentoo\n\
\x1b[31;01m!!!\x1b[0m ERROR: app-misc/hello-1.1::gentoo failed (compile phase)\n \
\x1b[32m*\x1b[0m Final size of build directory:  4 KiB\n\
\x1b[32m * \x1b[39;49;00mBuilding package ...  \x1b[34;01m[ \x1b[39;49;00m\x1b[32;01mok\x1b[39;49;00m\x1b[34;01m ]\x1b[39;49;00m\n\
\x1b[38;5;208morange\x1b[0m \x1b[48;2;0;0;200mon blue\x1b[0m \x1b[4munder\x1b[24m \x1b[7mrev\x1b[27m\n";

fn coloured_output(
    glyphs: GlyphSet,
    color: ColorMode,
    styled: bool,
) -> fieldbook::ui::model::Model {
    use fieldbook::core::terminal_text::TerminalText;
    use fieldbook::ui::Msg;
    use fieldbook::ui::model::Screen;
    use fieldbook::ui::output_line::OutputLine;
    let mut m = screens::base(glyphs, color, (80, 24));
    m.output_title = "Update the world".into();
    let mut filter = TerminalText::new();
    let mut lines = Vec::new();
    filter.feed(COLOURED, &mut lines);
    filter.finish(&mut lines);
    let lines: Vec<OutputLine> = if styled {
        lines.into_iter().map(OutputLine::from_child).collect()
    } else {
        // What the screen was given before colours were kept: the text alone.
        lines.iter().map(|l| OutputLine::plain(l.text())).collect()
    };
    fieldbook::ui::update(&mut m, Msg::Output(lines));
    fieldbook::ui::update(
        &mut m,
        Msg::OutputLine("fieldbook: Done: finished (exit 0)".into()),
    );
    m.screens.push(Screen::Output {
        scroll: 0,
        follow: true,
    });
    m
}

/// The cell where `text` starts.
fn cell_of<'a>(buf: &'a Buffer, wanted: &str) -> &'a ratatui::buffer::Cell {
    let w = buf.area.width as usize;
    for (y, row) in text(buf).lines().enumerate() {
        if let Some(byte) = row.find(wanted) {
            let x = row[..byte].chars().count();
            return &buf.content[y * w + x];
        }
    }
    panic!("{wanted:?} not drawn:\n{}", text(buf));
}

#[test]
fn a_commands_colours_are_drawn_mapped_to_the_basic_eight() {
    use ratatui::style::{Color, Modifier};
    let buf = draw(
        &coloured_output(GlyphSet::Unicode, ColorMode::Basic8, true),
        80,
        24,
    );
    let emerging = cell_of(&buf, ">>> Emerging");
    assert_eq!(emerging.fg, Color::Green);
    assert!(emerging.modifier.contains(Modifier::BOLD));
    let bang = cell_of(&buf, "!!!");
    assert_eq!(bang.fg, Color::Red);
    assert!(bang.modifier.contains(Modifier::BOLD));
    let error = cell_of(&buf, "ERROR");
    assert_eq!(
        (error.fg, error.modifier),
        (Color::Reset, Modifier::empty())
    );
    assert_eq!(cell_of(&buf, "ok").fg, Color::Green);
    assert_eq!(cell_of(&buf, "[ ").fg, Color::Blue);
    assert_eq!(cell_of(&buf, "orange").fg, Color::Yellow, "256-colour 208");
    assert_eq!(
        cell_of(&buf, "on blue").bg,
        Color::Blue,
        "24-bit background"
    );
    assert!(
        cell_of(&buf, "under")
            .modifier
            .contains(Modifier::UNDERLINED)
    );
    assert!(cell_of(&buf, "rev").modifier.contains(Modifier::REVERSED));
    let own = cell_of(&buf, "fieldbook: Done");
    assert_eq!(
        (own.fg, own.bg, own.modifier),
        (Color::Reset, Color::Reset, Modifier::empty())
    );
    insta::assert_snapshot!("unicode_color_80x24_output_coloured", format!("{buf:?}"));
}

#[test]
fn in_mono_a_coloured_command_draws_the_same_cells_and_bytes_as_plain_text() {
    use fieldbook::terminal::frugal::FrugalBackend;
    use fieldbook::terminal::profile::SgrSet;
    use ratatui::layout::Size;
    use ratatui::{Terminal, TerminalOptions, Viewport};
    let styled = coloured_output(GlyphSet::Ascii, ColorMode::Mono, true);
    let plain = coloured_output(GlyphSet::Ascii, ColorMode::Mono, false);
    let buf = draw(&styled, 80, 24);
    assert_eq!(
        buf,
        draw(&plain, 80, 24),
        "mono cells differ from plain text"
    );
    assert!(text(&buf).contains("!!! ERROR"));
    insta::assert_snapshot!("ascii_mono_80x24_output_coloured", text(&buf));
    // The bytes a vt100 serial console receives: identical, and no colour at all.
    let bytes = |m: &fieldbook::ui::model::Model| {
        let backend = FrugalBackend::new(
            Vec::new(),
            Size::new(80, 24),
            ColorMode::Mono,
            SgrSet::Vt100,
        );
        let mut t = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
            },
        )
        .unwrap();
        t.draw(|f| {
            render(m, f.area(), f.buffer_mut());
        })
        .unwrap();
        std::mem::take(t.backend_mut().writer_mut())
    };
    let sent = bytes(&styled);
    assert_eq!(sent, bytes(&plain));
    let sent = String::from_utf8_lossy(&sent);
    for sgr in sent.split('\x1b').filter_map(|s| s.strip_prefix('[')) {
        let body: String = sgr
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ';')
            .collect();
        if sgr[body.len()..].starts_with('m') {
            for p in body.split(';').filter_map(|p| p.parse::<u32>().ok()) {
                assert!(!(30..=49).contains(&p), "colour SGR {p} in {sent:?}");
            }
        }
    }
}

/// An interactive step gets the terminal itself, so it cannot run detached like other long
/// steps: its screen must not promise that it survives a dropped link.
#[test]
fn a_long_interactive_step_asks_for_screen_instead_of_promising_to_survive() {
    use fieldbook::ui::keys::Key;
    use fieldbook::ui::model::Msg;
    use fieldbook::ui::update;
    let rb = fieldbook::core::runbook::load_str(
        "long.toml",
        r#"
id = "long"
title = "Long steps"
summary = "x"

[[section]]
id = "s"
title = "S"

[[section.step]]
id = "ask"
title = "Update world, answering emerge's question"
kind = "command"
interactive = true
long = true
commands = [["emerge", "--ask", "world"]]
why = "Hours of compiling."

[[section.step]]
id = "detached"
title = "Update world without questions"
kind = "command"
long = true
commands = [["emerge", "world"]]
why = "Hours of compiling."
"#,
    )
    .unwrap();
    let mut m = screens::base(GlyphSet::Ascii, ColorMode::Mono, (80, 24));
    m.runbooks = vec![rb];
    m.order = vec![0];
    for k in [Key::Enter, Key::Char('g'), Key::Enter] {
        update(&mut m, Msg::Key(k));
    }
    let shown = text(&draw(&m, 80, 24)).replace(['|', '\n'], " ");
    let shown = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        shown.contains("run fieldbook inside screen or tmux"),
        "{shown}"
    );
    assert!(!shown.contains("survives a dropped link"), "{shown}");
    update(&mut m, Msg::Key(Key::Tab));
    let shown = text(&draw(&m, 80, 24)).replace(['|', '\n'], " ");
    let shown = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        shown.contains("runs detached, survives a dropped link"),
        "{shown}"
    );
}

/// The PRACTICE badge sits on the top border of every screen without hiding the screen's own
/// right-hand title (the target, "running", a line count): it moves left of the badge.
#[test]
fn the_practice_badge_keeps_the_right_title_readable() {
    for (name, mut m) in screens::all(GlyphSet::Ascii, ColorMode::Mono, (80, 24)) {
        if m.overlay.is_some() {
            continue;
        }
        let plain = text(&draw(&m, 80, 24));
        let top = plain.lines().next().unwrap().to_string();
        // The right title: what stands between the last border run and the corner.
        let right = top
            .trim_end_matches('+')
            .rsplit("--")
            .next()
            .unwrap()
            .trim()
            .to_string();
        m.settings.practice = true;
        let badged = text(&draw(&m, 80, 24));
        let top_badged = badged.lines().next().unwrap();
        assert!(top_badged.contains(" PRACTICE "), "{name}: {top_badged}");
        if !right.is_empty() && !top.starts_with(&format!("+ {right}")) {
            assert!(
                top_badged.contains(&right),
                "{name}: right title {right:?} lost in {top_badged:?} (was {top:?})"
            );
        }
    }
}

/// A message longer than the hint line is shown whole in a box above it, not cut at the
/// terminal's edge; a short one stays on the hint line.
#[test]
fn a_long_message_is_boxed_whole_above_the_hint_line() {
    let mut m = screens::base(GlyphSet::Ascii, ColorMode::Mono, (80, 24));
    let long = "Cannot edit: /etc/portage/package.keywords/xen-and-friends: the edit needs a \
                value for 'xen_version'; fill in the runbook's form first";
    m.message = Some(long.into());
    let shown = text(&draw(&m, 80, 24));
    let flat = shown
        .replace(['|', '\n'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains(long), "{shown}");
    assert!(
        shown.lines().last().unwrap().starts_with("?:help"),
        "{shown}"
    );
    m.message = Some("Saved.".into());
    let shown = text(&draw(&m, 80, 24));
    assert_eq!(shown.lines().last().unwrap().trim_end(), "Saved.");
}
