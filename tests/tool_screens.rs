//! The four tool screens drawn into a buffer: insta snapshots at 80x24 in ASCII without colour,
//! a render at every size that must not panic, and the cost of a toggle on the wire (only the
//! changed cells differ between two frames, which is what the frugal backend sends).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use fieldbook::core::runbook::{ToolKind, load_str};
use fieldbook::core::{gcc, runlevels, services, snort};
use fieldbook::ui::keys::Key;
use fieldbook::ui::model::{Model, Msg};
use fieldbook::ui::theme::Theme;
use fieldbook::ui::tools::ToolResult;
use fieldbook::ui::{render, update};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn model(size: (u16, u16)) -> Model {
    let rb = load_str(
        "tools-demo.toml",
        include_str!("fixtures/tools/tools-demo.toml"),
    )
    .unwrap();
    let mut m = Model::new(vec![rb], BTreeSet::new(), Vec::new());
    m.settings.target = "gw1".into();
    m.now = "2026-11-26T10:00:00Z".into();
    m.theme = Theme::plain();
    m.size = size;
    m
}

fn keys(m: &mut Model, keys: &[Key]) {
    for k in keys {
        update(m, Msg::Key(*k));
    }
}

/// A model with tool step `index` open and its listing loaded.
fn tool(index: usize, size: (u16, u16)) -> Model {
    let mut m = model(size);
    keys(&mut m, &[Key::Enter]);
    for _ in 0..index {
        keys(&mut m, &[Key::Down]);
    }
    keys(&mut m, &[Key::Enter, Key::Char('r')]);
    let (kind, text) = match index {
        0 => (ToolKind::Services, services::PRACTICE_LISTING),
        1 => (ToolKind::Runlevels, runlevels::PRACTICE_LISTING),
        2 => (ToolKind::GccProfile, gcc::PRACTICE_LISTING),
        _ => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tools/root");
            let list = snort::article_sids().unwrap();
            let report = snort::scan(Some(&root), &snort::RULE_DIRS, &list);
            update(
                &mut m,
                Msg::Tool(ToolResult::Snort(Ok(report), "this machine".into())),
            );
            return m;
        }
    };
    update(
        &mut m,
        Msg::Tool(ToolResult::Listing {
            tool: kind,
            text: Ok(text.to_string()),
            taken: "this machine".into(),
        }),
    );
    m
}

fn draw(m: &Model) -> Buffer {
    let area = Rect::new(0, 0, m.size.0, m.size.1);
    let mut buf = Buffer::empty(area);
    render(m, area, &mut buf);
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

/// Every screen of this file, with a few choices made so the snapshots show them.
fn screens(size: (u16, u16)) -> Vec<(&'static str, Model)> {
    let mut services = tool(0, size);
    keys(&mut services, &[Key::Down, Key::Char(' '), Key::Char('v')]);
    let mut locked = tool(0, size);
    for _ in 0..19 {
        keys(&mut locked, &[Key::Down]);
    }
    keys(&mut locked, &[Key::Char(' ')]);
    let mut confirm = tool(0, size);
    keys(&mut confirm, &[Key::Char('v'), Key::Char('a')]);
    let mut runlevels = tool(1, size);
    for _ in 0..11 {
        keys(&mut runlevels, &[Key::Down]);
    }
    keys(&mut runlevels, &[Key::Right, Key::Char(' ')]);
    let gcc = tool(2, size);
    let mut snort = tool(3, size);
    keys(&mut snort, &[Key::Char(' ')]);
    vec![
        ("services", services),
        ("services_locked", locked),
        ("services_confirm", confirm),
        ("runlevels", runlevels),
        ("gcc", gcc),
        ("snort", snort),
    ]
}

#[test]
fn snapshots_ascii_mono_80x24() {
    for (name, m) in screens((80, 24)) {
        let buf = draw(&m);
        assert!(buf.content.iter().all(|c| c.symbol().is_ascii()), "{name}");
        insta::assert_snapshot!(format!("tool_{name}_80x24"), text(&buf));
    }
}

/// Every tool screen from 1x1 to 300x100 (`common::sizes::grid`), then through rapid resizes
/// of the same live models.
#[test]
fn every_size_renders_without_panicking() {
    for (w, h) in common::sizes::grid() {
        for (_, m) in screens((w, h)) {
            draw(&m);
        }
    }
    let mut live = screens((80, 24));
    for (w, h) in common::sizes::rapid(300) {
        for (_, m) in &mut live {
            update(m, Msg::Resized { cols: w, rows: h });
            draw(m);
        }
    }
}

/// Cells that differ between two frames: what the frugal backend has to send.
fn changed_cells(a: &Buffer, b: &Buffer) -> usize {
    a.content
        .iter()
        .zip(&b.content)
        .filter(|(x, y)| x != y)
        .count()
}

#[test]
fn a_toggle_changes_one_cell_and_a_move_two() {
    let mut m = tool(0, (80, 24));
    keys(&mut m, &[Key::Down]); // avahi-daemon, advice "off"
    let before = draw(&m);
    keys(&mut m, &[Key::Char(' ')]);
    let after = draw(&m);
    // "[x]" becomes "[-]": one cell, one character on the wire.
    let n = changed_cells(&before, &after);
    assert_eq!(n, 1, "a toggle changed {n} cells");
    // Moving the cursor changes the two gutter marks only: the reason under the table is
    // shown on request.
    keys(&mut m, &[Key::Down]);
    let moved = draw(&m);
    let n = changed_cells(&after, &moved);
    assert_eq!(n, 2, "a cursor move changed {n} cells");
}

#[test]
fn i_shows_the_selected_services_reason_and_it_follows_the_cursor() {
    let mut m = tool(0, (80, 24));
    keys(&mut m, &[Key::Down]);
    assert!(!text(&draw(&m)).contains("Zeroconf"), "hidden at first");
    keys(&mut m, &[Key::Char('i')]);
    let shown = text(&draw(&m));
    assert!(shown.contains("avahi-daemon (off): Zeroconf"), "{shown}");
    insta::assert_snapshot!("tool_services_details_80x24", shown);
    keys(&mut m, &[Key::Down]);
    assert!(text(&draw(&m)).contains("avahi-dnsconfd (off)"));
    // The page shrinks by the reason's lines, and paging uses the smaller page.
    keys(&mut m, &[Key::PageDown]);
    let paged = text(&draw(&m));
    assert!(paged.lines().any(|l| l.starts_with("|> ")), "{paged}");
    keys(&mut m, &[Key::Char('i')]);
    assert!(!text(&draw(&m)).contains("): "), "hidden again");
}

#[test]
fn a_wide_terminal_shows_the_start_of_each_reason_in_the_row() {
    let m = tool(0, (120, 30));
    let shown = text(&draw(&m));
    assert!(shown.contains("WHY"), "{shown}");
    assert!(shown.contains("  off         Zeroconf (mDNS)"), "{shown}");
    let narrow = text(&draw(&tool(0, (80, 24))));
    assert!(!narrow.contains("Zeroconf"), "{narrow}");
}

#[test]
fn the_gcc_profile_env_note_is_shown_whole_at_80x24() {
    let mut m = tool(2, (80, 24));
    if let Some(session) = m.tool.as_mut() {
        session.notice = Some(gcc::SOURCE_PROFILE_NOTE.to_string());
    }
    let shown = text(&draw(&m));
    let flat = shown
        .lines()
        .map(|l| l.trim_matches(|c| c == '|' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("(or log in again)."), "{shown}");
    assert!(flat.contains("afterwards."), "{shown}");
}
