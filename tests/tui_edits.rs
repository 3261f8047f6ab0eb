//! The app's edit, form and subnet screens: driven through `update` with keys, the file work
//! done by `app::edit_effect` on a temporary `--root`, and drawn at 80x24 in ASCII for
//! snapshots (the serial console's size and glyphs).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use fieldbook::app::edit_effect;
use fieldbook::core::apply::EditSite;
use fieldbook::core::progress::Status;
use fieldbook::core::runbook::load_str;
use fieldbook::core::state_dir::StateDir;
use fieldbook::core::store::{IfCorrupt, Store, Transition};
use fieldbook::ui::keys::Key;
use fieldbook::ui::model::{Effect, Model, Msg, Overlay, Screen};
use fieldbook::ui::{render, update};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

const RUNBOOK: &str = r#"
id = "edits-demo"
title = "Edit, form and subnet demo"

[[variable]]
name = "lan_ip"
type = "ip"
label = "LAN address"
help = "The router's address on the LAN."

[[variable]]
name = "vm_mac"
type = "mac"
label = "Guest MAC"

[[variable]]
name = "community"
type = "secret"
label = "SNMP community"

[[variable]]
name = "bridge"
type = "text"
label = "Bridge"
default = "xenbr0"

[[section]]
id = "s"
title = "Steps"

[[section.step]]
id = "values"
title = "Type the values"
kind = "form"
fields = ["lan_ip", "vm_mac", "community", "bridge"]
why = "Later steps use them."

[[section.step]]
id = "xend"
title = "Bridge networking in xend-config.sxp"
kind = "edit"
why = "Gentoo's own bridges replace Xen's network script."

[[section.step.edit]]
path = "/etc/xen/xend-config.sxp"
action = "comment_out"
pattern = "(network-script network-bridge)"

[[section.step.edit]]
path = "/etc/xen/xend-config.sxp"
action = "ensure_line"
line = "(vif-script vif-bridge bridge={bridge})"

[[section.step]]
id = "subnet"
title = "Work out the subnet"
kind = "tool"
tool = "subnet"
why = "The firewall needs the network."
"#;

const XEND: &str = "# xend\n(network-script network-bridge)\n(vif-script vif-bridge)\n";

struct Fixture {
    dir: tempfile::TempDir,
    /// The progress stores (real and practice), opened on the first change as the app does.
    stores: BTreeMap<bool, Store>,
    root: std::path::PathBuf,
    model: Model,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("etc/xen")).unwrap();
    fs::write(root.join("etc/xen/xend-config.sxp"), XEND).unwrap();
    let rb = load_str("edits-demo.toml", RUNBOOK).unwrap();
    let mut model = Model::new(vec![rb], BTreeSet::new(), Vec::new());
    model.settings.target = "dom0".into();
    model.settings.root = Some(root.clone());
    model.settings.state_dir = Some(dir.path().join("state"));
    model.now = "2026-11-26T12:00:00Z".into();
    model.who = "tech".into();
    Fixture {
        dir,
        stores: BTreeMap::new(),
        root,
        model,
    }
}

/// Feeds a message; carries out edit effects like the app loop does; returns other effects.
fn send(f: &mut Fixture, msg: Msg) -> Vec<Effect> {
    let mut queue = std::collections::VecDeque::from([msg]);
    let mut rest = Vec::new();
    while let Some(m) = queue.pop_front() {
        for e in update(&mut f.model, m) {
            match e {
                Effect::PreviewEdit { .. }
                | Effect::ApplyEdit { .. }
                | Effect::PreviewUndo { .. }
                | Effect::UndoEdit { .. } => queue.push_back(edit_effect(&f.model, e)),
                Effect::Record {
                    runbook,
                    transition,
                } => {
                    queue.push_back(record(f, &runbook, &transition));
                    rest.push(Effect::Record {
                        runbook,
                        transition,
                    });
                }
                other => rest.push(other),
            }
        }
    }
    rest
}

/// Records a transition in the run's store, as the app loop does; the stored truth comes back.
fn record(f: &mut Fixture, runbook: &str, transition: &Transition) -> Msg {
    let practice = f.model.settings.practice;
    let state = StateDir::at(f.dir.path().join("state"), practice);
    let rb = f.model.runbook(runbook).unwrap().clone();
    let target = f.model.settings.target.clone();
    let store = f
        .stores
        .entry(practice)
        .or_insert_with(|| Store::open(&state, &rb, &target, IfCorrupt::Stop).unwrap());
    match store.record(transition) {
        Ok(_) => {
            let mut run = store.run().clone();
            run.practice = practice;
            Msg::RunLoaded(Box::new(run))
        }
        Err(e) => Msg::Problem(e.to_string()),
    }
}

fn keys(f: &mut Fixture, keys: &[Key]) -> Vec<Effect> {
    keys.iter().flat_map(|k| send(f, Msg::Key(*k))).collect()
}

fn type_text(f: &mut Fixture, text: &str) {
    for c in text.chars() {
        send(f, Msg::Key(Key::Char(c)));
    }
}

fn open_step(f: &mut Fixture, index: usize) {
    keys(f, &[Key::Enter, Key::Char('g')]);
    for _ in 0..index {
        keys(f, &[Key::Down]);
    }
    keys(f, &[Key::Enter]);
}

fn screen_text(model: &Model) -> String {
    let area = Rect::new(0, 0, 80, 24);
    let mut buf = Buffer::empty(area);
    render(model, area, &mut buf);
    let mut out = String::new();
    for y in 0..area.height {
        let line: String = (0..area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        assert!(line.is_ascii(), "non-ASCII on a vt100 screen: {line}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn xend(f: &Fixture) -> String {
    fs::read_to_string(f.root.join("etc/xen/xend-config.sxp")).unwrap()
}

#[test]
fn edit_step_previews_applies_offers_done_and_undoes() {
    let mut f = fixture();
    let values = Transition::ValuesSet {
        values: vec![("bridge".into(), "xenbr0".into())],
    };
    let msg = record(&mut f, "edits-demo", &values);
    send(&mut f, msg);
    open_step(&mut f, 1);
    keys(&mut f, &[Key::Char('r')]);
    assert!(
        matches!(f.model.screen(), Screen::Diff { .. }),
        "{:?}",
        f.model.message
    );
    assert_eq!(xend(&f), XEND, "a preview writes nothing");
    insta::assert_snapshot!("diff_screen", screen_text(&f.model));

    // Esc goes back without changing anything.
    keys(&mut f, &[Key::Esc]);
    assert!(matches!(f.model.screen(), Screen::Step { .. }));
    keys(&mut f, &[Key::Char('r'), Key::Char('a')]);
    assert!(matches!(f.model.overlay, Some(Overlay::Confirm { .. })));
    insta::assert_snapshot!("diff_confirm", screen_text(&f.model));
    keys(&mut f, &[Key::Char('n')]);
    assert_eq!(xend(&f), XEND, "no means nothing written");
    let saves = keys(&mut f, &[Key::Char('a'), Key::Char('y')]);
    assert!(saves.iter().any(|e| matches!(
        e,
        Effect::Record {
            transition: Transition::EditApplied { .. },
            ..
        }
    )));
    assert_eq!(
        xend(&f),
        "# xend\n#(network-script network-bridge)\n(vif-script vif-bridge)\n(vif-script vif-bridge bridge=xenbr0)\n"
    );
    assert_eq!(f.model.status("edits-demo", "xend"), Status::Done);
    let run = f.model.run("edits-demo").unwrap();
    assert_eq!(run.edits.len(), 1);
    assert!(
        run.edits[0]
            .backup
            .as_deref()
            .unwrap()
            .starts_with("archive/edits/edits-demo@dom0/")
    );
    assert!(matches!(f.model.screen(), Screen::Step { .. }));

    let text = screen_text(&f.model);
    assert!(text.contains("Applied (u undoes)"), "{text}");
    // Applying again: already applied, nothing to do.
    keys(&mut f, &[Key::Char('r')]);
    assert_eq!(
        f.model.message.as_deref(),
        Some("Already applied: nothing to change")
    );

    // Undo: the reverse diff, then the backup restored.
    keys(&mut f, &[Key::Char('u')]);
    match f.model.screen() {
        Screen::Diff { preview, .. } => {
            assert!(preview.undo.is_some());
            assert!(
                preview
                    .diff
                    .iter()
                    .any(|l| l == "-#(network-script network-bridge)")
            );
        }
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!("undo_screen", screen_text(&f.model));
    keys(&mut f, &[Key::Char('a'), Key::Char('y')]);
    assert_eq!(xend(&f), XEND);
    assert_eq!(f.model.status("edits-demo", "xend"), Status::Pending);
    assert!(f.model.run("edits-demo").unwrap().edits[0].undone);
    // The record says so too (what `status` and the report read), and the journal has the undo.
    let state = StateDir::at(f.dir.path().join("state"), false);
    let on_disk =
        fieldbook::core::state_dir::read_run(&state.run_file("edits-demo", "dom0")).unwrap();
    assert_eq!(on_disk.status("xend"), Status::Pending);
    let journal = fs::read_to_string(state.journal_file("edits-demo", "dom0")).unwrap();
    assert!(journal.contains("\"edit_undone\""), "{journal}");
    assert!(journal.contains("\"reopened\""), "{journal}");
    keys(&mut f, &[Key::Char('u')]);
    assert!(
        f.model
            .message
            .as_deref()
            .unwrap()
            .starts_with("Nothing to undo")
    );
}

#[test]
fn an_edit_already_in_place_is_offered_as_done() {
    let mut f = fixture();
    fs::write(
        f.root.join("etc/xen/xend-config.sxp"),
        "#(network-script network-bridge)\n(vif-script vif-bridge bridge=xenbr0)\n",
    )
    .unwrap();
    open_step(&mut f, 1);
    keys(&mut f, &[Key::Char('r')]);
    assert!(
        matches!(f.model.overlay, Some(Overlay::Confirm { ref question, .. }) if question.contains("already in the files"))
    );
    keys(&mut f, &[Key::Char('y')]);
    assert_eq!(f.model.status("edits-demo", "xend"), Status::Done);
    assert!(f.model.run("edits-demo").unwrap().edits.is_empty());
}

#[test]
fn a_missing_file_is_a_message_not_a_crash() {
    let mut f = fixture();
    fs::remove_file(f.root.join("etc/xen/xend-config.sxp")).unwrap();
    open_step(&mut f, 1);
    keys(&mut f, &[Key::Char('r')]);
    let m = f.model.message.clone().unwrap();
    assert!(
        m.starts_with("Cannot edit:") && m.contains("does not exist"),
        "{m}"
    );
    assert!(matches!(f.model.screen(), Screen::Step { .. }));
}

#[test]
fn a_symlinked_file_is_edited_only_after_yes() {
    let mut f = fixture();
    let real = f.root.join("etc/xen/xend-real.sxp");
    fs::rename(f.root.join("etc/xen/xend-config.sxp"), &real).unwrap();
    std::os::unix::fs::symlink("xend-real.sxp", f.root.join("etc/xen/xend-config.sxp")).unwrap();
    open_step(&mut f, 1);
    keys(&mut f, &[Key::Char('r')]);
    match &f.model.overlay {
        Some(Overlay::Confirm { question, .. }) => {
            assert!(
                question.contains("symbolic link to xend-real.sxp"),
                "{question}"
            )
        }
        other => panic!("{other:?}"),
    }
    keys(&mut f, &[Key::Char('y')]);
    assert!(matches!(f.model.screen(), Screen::Diff { preview, .. } if preview.follow_symlinks));
    keys(&mut f, &[Key::Char('a'), Key::Char('y')]);
    assert!(
        fs::read_to_string(&real)
            .unwrap()
            .contains("#(network-script")
    );
    assert!(
        fs::symlink_metadata(f.root.join("etc/xen/xend-config.sxp"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn practice_mode_writes_nothing() {
    let mut f = fixture();
    f.model.settings.practice = true;
    open_step(&mut f, 1);
    keys(&mut f, &[Key::Char('r'), Key::Char('a'), Key::Char('y')]);
    assert_eq!(xend(&f), XEND);
    assert_eq!(f.model.status("edits-demo", "xend"), Status::Done);
}

#[test]
fn form_validates_as_you_type_masks_secrets_and_fills_later_steps() {
    let mut f = fixture();
    open_step(&mut f, 0);
    keys(&mut f, &[Key::Char('r')]);
    assert!(matches!(f.model.screen(), Screen::Form { .. }));
    // A bad address: the reason is under the field.
    type_text(&mut f, "10.0.0.300");
    insta::assert_snapshot!("form_screen", screen_text(&f.model));
    // Backspace as 0x7f and as Ctrl-H (both arrive as Key::Backspace), Home/End, cursor moves.
    keys(&mut f, &[Key::Backspace, Key::Backspace, Key::Backspace]);
    type_text(&mut f, "1");
    keys(&mut f, &[Key::Home]);
    type_text(&mut f, "x");
    keys(&mut f, &[Key::Left, Key::Delete, Key::End]);
    match f.model.screen() {
        Screen::Form { fields, .. } => assert_eq!(fields[0].value, "10.0.0.1"),
        other => panic!("{other:?}"),
    }
    // The MAC field offers Xen's prefix; finish it.
    keys(&mut f, &[Key::Tab]);
    type_text(&mut f, "12:34:56");
    keys(&mut f, &[Key::Tab]);
    type_text(&mut f, "s3cret");
    // Esc keeps the typing; reopening shows it again.
    keys(&mut f, &[Key::Esc]);
    assert!(matches!(f.model.screen(), Screen::Step { .. }));
    keys(&mut f, &[Key::Char('r')]);
    match f.model.screen() {
        Screen::Form { fields, .. } => {
            assert_eq!(fields[1].value, "00:16:3e:12:34:56");
            assert_eq!(fields[2].value, "s3cret");
            assert_eq!(fields[3].value, "xenbr0", "default shown");
        }
        other => panic!("{other:?}"),
    }
    let text = screen_text(&f.model);
    assert!(
        text.contains("******") && !text.contains("s3cret"),
        "{text}"
    );
    let saves = keys(&mut f, &[Key::Enter]);
    assert!(
        saves.iter().any(|e| matches!(
            e,
            Effect::Record {
                transition: Transition::ValuesSet { .. },
                ..
            }
        )),
        "{saves:?}"
    );
    let run = f.model.run("edits-demo").unwrap();
    assert_eq!(
        run.values.get("lan_ip").map(String::as_str),
        Some("10.0.0.1")
    );
    assert_eq!(
        run.values.get("vm_mac").map(String::as_str),
        Some("00:16:3e:12:34:56")
    );
    assert!(
        !run.values.contains_key("community"),
        "a secret is never stored"
    );
    assert_eq!(
        f.model.secrets.get("community").map(String::as_str),
        Some("s3cret")
    );
    assert_eq!(f.model.status("edits-demo", "values"), Status::Done);
    // Filled into the later steps.
    let values = EditSite::values(run, &f.model.secrets);
    assert_eq!(values.get("community").map(String::as_str), Some("s3cret"));
}

#[test]
fn form_refuses_to_save_invalid_values() {
    let mut f = fixture();
    open_step(&mut f, 0);
    keys(&mut f, &[Key::Char('r')]);
    type_text(&mut f, "not-an-ip");
    let saves = keys(&mut f, &[Key::Enter]);
    assert!(saves.is_empty());
    assert!(
        f.model
            .message
            .as_deref()
            .unwrap()
            .starts_with("LAN address:")
    );
    assert!(matches!(f.model.screen(), Screen::Form { focus: 0, .. }));
    // q and ? are typed, not commands.
    keys(&mut f, &[Key::Ctrl('u')]);
    type_text(&mut f, "q?");
    match f.model.screen() {
        Screen::Form { fields, .. } => assert_eq!(fields[0].value, "q?"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn subnet_tool_calculator_table_and_quiz() {
    let mut f = fixture();
    open_step(&mut f, 2);
    keys(&mut f, &[Key::Char('r')]);
    assert!(matches!(f.model.screen(), Screen::SubnetMenu { .. }));
    insta::assert_snapshot!("subnet_menu", screen_text(&f.model));
    keys(&mut f, &[Key::Enter]);
    type_text(&mut f, "192.168.0.1 255.255.255.0");
    keys(&mut f, &[Key::Tab]);
    type_text(&mut f, "192.168.1.1");
    let text = screen_text(&f.model);
    insta::assert_snapshot!("subnet_calc", text);
    assert!(text.contains("Network     192.168.0.0"));
    assert!(text.contains("VIA THE GATEWAY"));
    // A non-contiguous mask is explained, not accepted.
    keys(&mut f, &[Key::BackTab, Key::Ctrl('u')]);
    type_text(&mut f, "10.0.0.1 255.255.0.255");
    assert!(screen_text(&f.model).contains("contiguous"));
    keys(&mut f, &[Key::Esc, Key::Down, Key::Enter]);
    assert!(matches!(f.model.screen(), Screen::CidrTable { .. }));
    insta::assert_snapshot!("cidr_table", screen_text(&f.model));
    keys(&mut f, &[Key::Char('G')]);
    assert!(screen_text(&f.model).contains("/0   0.0.0.0"));
    keys(&mut f, &[Key::Esc, Key::Down, Key::Enter]);
    let Screen::Quiz(q) = f.model.screen().clone() else {
        panic!()
    };
    let q = *q;
    type_text(&mut f, &q.question.network.to_string());
    keys(&mut f, &[Key::Tab]);
    type_text(&mut f, "1.2.3.4");
    keys(&mut f, &[Key::Tab]);
    type_text(&mut f, &q.question.usable.to_string());
    keys(&mut f, &[Key::Enter]);
    let Screen::Quiz(done) = f.model.screen().clone() else {
        panic!()
    };
    let r = done.result.clone().unwrap();
    assert!(r.network_ok && !r.broadcast_ok && r.usable_ok);
    assert_eq!(done.score, (0, 1));
    let text = screen_text(&f.model);
    assert!(
        text.contains(&format!("wrong: it is {}", q.question.broadcast)),
        "{text}"
    );
    keys(&mut f, &[Key::Enter]);
    let Screen::Quiz(next) = f.model.screen().clone() else {
        panic!()
    };
    assert!(next.result.is_none() && next.fields.iter().all(|x| x.value.is_empty()));
    assert_eq!(next.score, (0, 1));
    // Home's `c` opens the same tool.
    let mut g = fixture();
    keys(&mut g, &[Key::Char('c')]);
    assert!(matches!(g.model.screen(), Screen::SubnetMenu { .. }));
}

#[test]
fn quiz_screen_snapshot_is_stable_for_a_seed() {
    let mut f = fixture();
    let mut quiz = fieldbook::ui::update::subnet::new_quiz(42, (3, 4));
    quiz.fields[0].value = "10.0.0.0".into();
    quiz.fields[0].cursor = 8;
    f.model.screens.push(Screen::Quiz(Box::new(quiz)));
    keys(&mut f, &[Key::Enter]);
    insta::assert_snapshot!("quiz_checked", screen_text(&f.model));
}

#[test]
fn every_new_screen_draws_at_every_size_without_panicking() {
    let mut f = fixture();
    open_step(&mut f, 1);
    keys(&mut f, &[Key::Char('r')]);
    let mut screens = vec![f.model.clone()];
    let mut g = fixture();
    open_step(&mut g, 0);
    keys(&mut g, &[Key::Char('r')]);
    screens.push(g.model.clone());
    let mut h = fixture();
    keys(&mut h, &[Key::Char('c'), Key::Enter]);
    type_text(&mut h, "10.1.2.3/8");
    screens.push(h.model.clone());
    keys(
        &mut h,
        &[Key::Esc, Key::Down, Key::Down, Key::Enter, Key::Enter],
    );
    screens.push(h.model.clone());
    for model in &screens {
        for (w, hgt) in common::sizes::grid() {
            let area = Rect::new(0, 0, w, hgt);
            let mut buf = Buffer::empty(area);
            let mut m = model.clone();
            m.size = (w, hgt);
            render(&m, area, &mut buf);
        }
        let mut live = model.clone();
        for (w, hgt) in common::sizes::rapid(300) {
            update(&mut live, Msg::Resized { cols: w, rows: hgt });
            let area = Rect::new(0, 0, w, hgt);
            let mut buf = Buffer::empty(area);
            render(&live, area, &mut buf);
        }
    }
    let _ = BTreeMap::<String, String>::new();
}

/// An edit step's preview (its `when` probe first, then the files) runs off the loop's
/// thread and its result arrives as a message: `start_edit` returns while the probe is still
/// blocked, nothing has arrived yet, and the preview comes in once the probe ends. Carried out
/// on the loop's thread, as it was, a probe that hangs froze the screen.
#[test]
fn an_edit_preview_runs_in_the_background_and_arrives_as_a_message() {
    let mut f = fixture();
    let gate = f.dir.path().join("gate");
    let slow = RUNBOOK.replace(
        "why = \"Gentoo's own bridges replace Xen's network script.\"",
        &format!(
            "why = \"Gentoo's own bridges replace Xen's network script.\"\nwhen = {{ probe = [\"sh\", \"-c\", 'while [ ! -e \"$0\" ]; do sleep 0.05; done', \"{}\"], not_needed = \"never\" }}",
            gate.display()
        ),
    );
    let rb = load_str("edits-demo.toml", &slow).unwrap();
    let mut model = Model::new(vec![rb], BTreeSet::new(), Vec::new());
    model.settings = f.model.settings.clone();
    model.now = f.model.now.clone();
    f.model = model;
    let run = f.model.run_mut("edits-demo").clone();
    let effect = Effect::PreviewEdit {
        run,
        step: "xend".into(),
        secrets: BTreeMap::new(),
        follow_symlinks: false,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    fieldbook::app::start_edit(&f.model, effect, tx);
    // Returned with the probe still waiting for the gate: nothing can have arrived.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        rx.try_recv().is_err(),
        "the preview finished before its probe"
    );
    fs::write(&gate, "").unwrap();
    let msg = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the preview arrives as a message");
    match msg {
        Msg::EditPreviewed { step, result, .. } => {
            assert_eq!(step, "xend");
            let preview = result.expect("a preview");
            assert!(
                preview
                    .diff
                    .iter()
                    .any(|l| l.contains("#(network-script network-bridge)")),
                "{:?}",
                preview.diff
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}
