//! Models of every screen of the app, built from the TUI fixture runbook, for snapshot and
//! all-sizes tests.

use std::collections::BTreeSet;

use fieldbook::core::progress::{Attempt, Exit, Note, Run, Status, StepState};
use fieldbook::core::runbook::load_str;
use fieldbook::terminal::profile::{ColorMode, GlyphSet};
use fieldbook::ui::keys::Key;
use fieldbook::ui::model::{Model, Screen};
use fieldbook::ui::theme::Theme;
use fieldbook::ui::{Msg, update};

/// The fixture runbook plus some progress on two targets.
pub fn base(glyphs: GlyphSet, color: ColorMode, size: (u16, u16)) -> Model {
    let rb = load_str(
        "tui-runbook.toml",
        include_str!("../fixtures/tui-runbook.toml"),
    )
    .unwrap();
    let mut other = rb.clone();
    other.id = "other".into();
    other.title = "Another runbook, with a title long enough to be cut at narrow widths".into();
    let mut run = Run {
        runbook: "demo".into(),
        target: "gw1".into(),
        updated: "2026-11-26T09:30:00Z".into(),
        ..Run::default()
    };
    run.steps.insert(
        "read".into(),
        StepState {
            status: Status::Done,
            reason: Some("marked done by hand".into()),
            ..StepState::default()
        },
    );
    run.steps.insert(
        "update".into(),
        StepState {
            status: Status::Failed,
            attempts: vec![Attempt {
                number: 1,
                started: "2026-11-26T09:00:00Z".into(),
                ended: Some("2026-11-26T09:01:00Z".into()),
                exit: Some(Exit::Code(1)),
                who: "tech".into(),
                outcome: Some("failed".into()),
                ..Attempt::default()
            }],
            notes: vec![Note {
                at: "2026-11-26T09:02:00Z".into(),
                who: "tech".into(),
                text: "mirror was down; retry after lunch".into(),
            }],
            ..StepState::default()
        },
    );
    run.steps.insert(
        "hosts".into(),
        StepState {
            status: Status::Skipped,
            reason: Some("done by DHCP".into()),
            ..StepState::default()
        },
    );
    let mut run2 = run.clone();
    run2.target = "gw2".into();
    run2.steps.remove("update");
    let mut m = Model::new(
        vec![rb, other],
        BTreeSet::from(["other".to_string()]),
        vec![run, run2],
    );
    m.settings.target = "gw1".into();
    m.now = "2026-11-26T10:00:00Z".into();
    m.theme = Theme::new(glyphs, color);
    m.terminal.size = format!("{}x{} (default)", size.0, size.1);
    m.terminal.glyphs = "test".into();
    m.terminal.color = "test".into();
    m.size = size;
    m
}

fn keys(m: &mut Model, keys: &[Key]) {
    for k in keys {
        update(m, Msg::Key(*k));
    }
}

/// Every screen and overlay, by name.
pub fn all(glyphs: GlyphSet, color: ColorMode, size: (u16, u16)) -> Vec<(&'static str, Model)> {
    let b = || base(glyphs, color, size);
    let mut out = Vec::new();

    let mut home = b();
    home.ssh_advice = true;
    out.push(("home", home));

    let mut rb = b();
    keys(&mut rb, &[Key::Char('j'), Key::Enter]);
    out.push(("runbook", rb));

    let mut step = b();
    keys(
        &mut step,
        &[
            Key::Char('j'),
            Key::Enter,
            Key::Char('g'),
            Key::Down,
            Key::Enter,
        ],
    );
    out.push(("step_command", step));

    let mut edit = b();
    keys(
        &mut edit,
        &[
            Key::Char('j'),
            Key::Enter,
            Key::Char('g'),
            Key::Tab,
            Key::Enter,
        ],
    );
    out.push(("step_edit", edit));

    let mut output = b();
    output.output_title = "Update the package tree".into();
    for i in 0..40 {
        update(
            &mut output,
            Msg::OutputLine(format!(">>> Emerging ({i} of 40) sys-apps/foo-{i}")),
        );
    }
    output.screens.push(Screen::Output {
        scroll: 0,
        follow: true,
    });
    update(
        &mut output,
        Msg::Resized {
            cols: size.0,
            rows: size.1,
        },
    );
    out.push(("output", output));

    let mut help = b();
    keys(
        &mut help,
        &[Key::Char('j'), Key::Enter, Key::Enter, Key::Char('?')],
    );
    out.push(("help", help));

    let mut confirm = b();
    keys(
        &mut confirm,
        &[
            Key::Char('j'),
            Key::Enter,
            Key::Char('g'),
            Key::Down,
            Key::Down,
            Key::Enter,
            Key::Char('r'),
        ],
    );
    out.push(("confirm", confirm));

    let mut prompt = b();
    keys(
        &mut prompt,
        &[Key::Char('j'), Key::Enter, Key::Enter, Key::Char('s')],
    );
    for c in "the old box is gone".chars() {
        keys(&mut prompt, &[Key::Char(c)]);
    }
    out.push(("prompt", prompt));
    out
}
