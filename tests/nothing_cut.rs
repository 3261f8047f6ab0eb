//! Issue 15 items 8 and 14: what the screens show must be whole and true at 80x24 on a vt100
//! (ASCII, no colour): form labels, help texts and errors wrap; the Output screen wraps long
//! lines (w switches), says when old lines were dropped and where the log is; typed values
//! appear in later titles and whys; questions show their own keys on the bottom line.

use std::collections::BTreeSet;

use fieldbook::core::catalog::BUILTIN;
use fieldbook::core::runbook::{Runbook, load_str};
use fieldbook::core::state_dir::StateDir;
use fieldbook::core::store::{IfCorrupt, Store};
use fieldbook::ui::keys::Key;
use fieldbook::ui::model::{Effect, Model, OUTPUT_LIMIT, Screen};
use fieldbook::ui::{Msg, render, update};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn builtin(id: &str) -> Runbook {
    BUILTIN
        .iter()
        .filter_map(|(name, text)| load_str(name, text).ok())
        .find(|r| r.id == id)
        .unwrap()
}

fn model(rb: Runbook) -> Model {
    let mut m = Model::new(vec![rb], BTreeSet::new(), Vec::new());
    m.settings.target = "gw1".into();
    m.now = "2026-11-26T10:00:00Z".into();
    m.size = (80, 24);
    m
}

fn screen(m: &Model) -> String {
    let area = Rect::new(0, 0, 80, 24);
    let mut buf = Buffer::empty(area);
    render(m, area, &mut buf);
    buf.content
        .chunks(80)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn keys(m: &mut Model, keys: &[Key]) {
    for k in keys {
        update(m, Msg::Key(*k));
    }
}

fn typed(m: &mut Model, text: &str) {
    for c in text.chars() {
        update(m, Msg::Key(Key::Char(c)));
    }
}

/// Opens step `id` of the only runbook and presses r.
fn run_step(m: &mut Model, id: &str) {
    let index = m.runbooks[0].steps().position(|(_, s)| s.id == id).unwrap();
    keys(m, &[Key::Enter, Key::Char('g')]);
    for _ in 0..index {
        keys(m, &[Key::Down]);
    }
    keys(m, &[Key::Enter, Key::Char('r')]);
}

/// The screen's text with line breaks and the frame's borders and margins taken out, so a
/// wrapped sentence reads as one.
fn flat(text: &str) -> String {
    text.lines()
        .map(|l| l.trim_matches(|c| c == '|' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_xen_bridge_form_tells_external_from_internal() {
    let mut m = model(builtin("xen4-migration"));
    run_step(&mut m, "bridge-form");
    assert!(
        matches!(m.screen(), Screen::Form { .. }),
        "{:?}",
        m.screen()
    );
    let s = screen(&m);
    assert!(s.contains("external"), "{s}");
    assert!(s.contains("internal"), "{s}");
}

#[test]
fn a_validation_error_is_read_whole() {
    let mut m = model(builtin("xen4-migration"));
    run_step(&mut m, "bridge-form");
    // To the address field; a netmask-style mistake gives the longest error of the form.
    let names = match m.screen() {
        Screen::Form { names, .. } => names.clone(),
        _ => panic!(),
    };
    let at = names.iter().position(|n| n == "int_address").unwrap();
    for _ in 0..at {
        keys(&mut m, &[Key::Tab]);
    }
    keys(&mut m, &[Key::Ctrl('u')]);
    typed(&mut m, "10.1.1.300/24 is my guess");
    let err = fieldbook::ui::update::form::field_error(
        &m,
        "xen4-migration",
        "int_address",
        "10.1.1.300/24 is my guess",
    )
    .unwrap();
    // Every word of the error is on the screen, in order (the label column sits between).
    let s = screen(&m);
    let mut at = 0;
    for word in err.split_whitespace() {
        match s[at..].find(word) {
            Some(i) => at += i + word.len(),
            None => panic!("{word:?} of {err:?} is cut:\n{s}"),
        }
    }
}

#[test]
fn a_bad_mac_after_the_xen_prefix_shows_its_error() {
    let mut m = model(builtin("xen4-migration"));
    run_step(&mut m, "vm-form");
    if !matches!(m.screen(), Screen::Form { .. }) {
        panic!("{:?}", m.screen());
    }
    let names = match m.screen() {
        Screen::Form { names, .. } => names.clone(),
        _ => panic!(),
    };
    let at = names.iter().position(|n| n == "vm_mac").unwrap();
    for _ in 0..at {
        keys(&mut m, &[Key::Tab]);
    }
    typed(&mut m, "zz:11:22");
    let s = flat(&screen(&m));
    assert!(s.contains("is not a MAC address"), "{s}");
}

#[test]
fn output_wraps_long_lines_and_w_switches() {
    let rb = load_str(
        "tui-runbook.toml",
        include_str!("fixtures/tui-runbook.toml"),
    )
    .unwrap();
    let mut m = model(rb);
    keys(&mut m, &[Key::Enter, Key::Char('o')]);
    let advice = "fieldbook: FAILED: command 1 of 2 failed (exit 1): emerge --sync. Read the lines above and the step's why; r retries, s skips (asks why), d marks done";
    update(&mut m, Msg::OutputLine(advice.into()));
    let s = screen(&m);
    assert!(flat(&s).contains(advice), "{s}");
    keys(&mut m, &[Key::Char('w')]);
    let s = screen(&m);
    assert!(!flat(&s).contains("d marks done"), "{s}");
    keys(&mut m, &[Key::Char('w')]);
    assert!(flat(&screen(&m)).contains(advice));
    // Following: the last line is whole on screen, even when the lines before it wrap.
    for i in 0..40 {
        update(&mut m, Msg::OutputLine(format!("{i} {}", "x".repeat(150))));
    }
    update(&mut m, Msg::OutputLine(advice.into()));
    let s = screen(&m);
    assert!(flat(&s).contains(advice), "{s}");
}

#[test]
fn output_says_how_many_lines_were_dropped_and_where_the_log_is() {
    let rb = load_str(
        "tui-runbook.toml",
        include_str!("fixtures/tui-runbook.toml"),
    )
    .unwrap();
    let mut m = model(rb);
    m.settings.state_dir = Some("/var/lib/fieldbook".into());
    keys(&mut m, &[Key::Enter, Key::Char('o')]);
    m.output_log = Some("logs/demo@gw1/update.1.log".into());
    let lines = (0..OUTPUT_LIMIT + 25)
        .map(|i| fieldbook::ui::output_line::OutputLine::from(format!("line {i}")))
        .collect();
    update(&mut m, Msg::Output(lines));
    let s = flat(&screen(&m));
    assert!(s.contains("25 earlier lines"), "{s}");
    assert!(
        s.contains("/var/lib/fieldbook/logs/demo@gw1/update.1.log"),
        "{s}"
    );
    assert!(s.contains(&format!("line {}", OUTPUT_LIMIT + 24)), "{s}");
}

#[test]
fn typed_values_appear_in_later_titles_and_whys() {
    let mut m = model(builtin("clearos-install"));
    m.run_mut("clearos-install")
        .values
        .insert("lan_ip".into(), "192.168.1.1".into());
    keys(&mut m, &[Key::Enter]);
    let s = screen(&m);
    assert!(s.contains("https://192.168.1.1:81"), "{s}");
    assert!(!s.contains("{lan_ip}"), "{s}");
    keys(&mut m, &[Key::Char('q')]);
    run_step(&mut m, "webconfig-setup");
    let s = flat(&screen(&m));
    assert!(s.contains("open https://192.168.1.1:81"), "{s}");
}

#[test]
fn a_question_shows_its_own_keys_on_the_bottom_line() {
    let rb = load_str(
        "tui-runbook.toml",
        include_str!("fixtures/tui-runbook.toml"),
    )
    .unwrap();
    let mut m = model(rb);
    keys(&mut m, &[Key::Ctrl('c')]);
    let s = screen(&m);
    let bottom = s.lines().last().unwrap();
    assert!(bottom.starts_with("y:yes  n:no"), "{bottom}");
    // The runbook list offers practice mode on its bottom line.
    keys(&mut m, &[Key::Char('n')]);
    let s = screen(&m);
    assert!(s.lines().last().unwrap().contains("p:practice"), "{s}");
    // The output screen offers cancel only while something runs.
    keys(&mut m, &[Key::Enter, Key::Char('o')]);
    let s = screen(&m);
    assert!(!s.lines().last().unwrap().contains("c:cancel"), "{s}");
}

#[test]
fn a_secret_set_this_session_says_it_is_not_saved() {
    let src = r#"
id = "s"
title = "S"
[[variable]]
name = "pw"
type = "secret"
label = "Root password"
[[section]]
id = "a"
title = "A"
[[section.step]]
id = "f"
title = "F"
kind = "form"
why = "w"
fields = ["pw"]
"#;
    let mut m = model(load_str("s.toml", src).unwrap());
    run_step(&mut m, "f");
    typed(&mut m, "hunter2");
    keys(&mut m, &[Key::Enter]);
    keys(&mut m, &[Key::Char('r')]);
    let s = flat(&screen(&m));
    assert!(s.contains("(set for this session, not saved)"), "{s}");
}

#[test]
fn the_subnet_step_offers_its_network_to_the_next_form_and_is_done() {
    let mut m = model(builtin("clearos-install"));
    run_step(&mut m, "snmp-subnet");
    // Calculator, type an address, leave it.
    keys(&mut m, &[Key::Enter]);
    typed(&mut m, "10.20.30.40/24");
    let effects = update(&mut m, Msg::Key(Key::Esc));
    assert!(!effects.is_empty(), "nothing saved");
    // The loop records the change in the run's store and hands the stored run back.
    let tmp = tempfile::tempdir().unwrap();
    let rb = m.runbook("clearos-install").unwrap().clone();
    let dir = StateDir::at(tmp.path(), false);
    let mut store = Store::open(&dir, &rb, &m.settings.target, IfCorrupt::Stop).unwrap();
    for e in effects {
        if let Effect::Record { transition, .. } = e {
            store.record(&transition).unwrap();
        }
    }
    update(&mut m, Msg::RunLoaded(Box::new(store.run().clone())));
    assert_eq!(
        m.status("clearos-install", "snmp-subnet"),
        fieldbook::core::progress::Status::Done
    );
    // Back to the step; the next form offers the network.
    keys(&mut m, &[Key::Esc, Key::Esc]);
    let form = m.runbooks[0]
        .steps()
        .map(|(_, s)| s)
        .skip_while(|s| s.id != "snmp-subnet")
        .find(|s| matches!(s.action, fieldbook::core::runbook::Action::Form { .. }))
        .unwrap()
        .id
        .clone();
    keys(&mut m, &[Key::Esc]);
    run_step(&mut m, &form);
    let Screen::Form { names, fields, .. } = m.screen() else {
        panic!("{:?}", m.screen());
    };
    let at = names.iter().position(|n| n == "allowed_subnet").unwrap();
    assert_eq!(fields[at].value, "10.20.30.0/24");
}
