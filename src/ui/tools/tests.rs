//! Unit tests of the tool screens through `update`: keys and background results in, the model
//! and the exact effects (argv vectors, jobs) out.

use std::collections::BTreeSet;

use super::*;
use crate::core::progress::{AppliedEdit, Status};
use crate::core::runbook::load_str;
use crate::core::services::ServiceTable;
use crate::ui::keys::Key;
use crate::ui::model::Msg;
use crate::ui::testkit::{carry_out, done, runner_ends};
use crate::ui::update;

fn model() -> Model {
    let rb = load_str(
        "tools-demo.toml",
        include_str!("../../../tests/fixtures/tools/tools-demo.toml"),
    )
    .unwrap();
    let mut m = Model::new(vec![rb], BTreeSet::new(), Vec::new());
    m.settings.target = "gw1".into();
    m.now = "2026-11-26T10:00:00Z".into();
    m
}

/// Feeds keys; progress changes are carried out against a real store, as the loop does.
fn keys(m: &mut Model, keys: &[Key]) -> Vec<Effect> {
    let mut out = Vec::new();
    for k in keys {
        let effects = update(m, Msg::Key(*k));
        out.extend(carry_out(m, effects));
    }
    out
}

/// Opens step `index` of the demo runbook and presses r: the tool screen asks for its listing.
fn open_tool(m: &mut Model, index: usize) -> Vec<Effect> {
    keys(m, &[Key::Enter]);
    for _ in 0..index {
        keys(m, &[Key::Down]);
    }
    keys(m, &[Key::Enter, Key::Char('r')])
}

fn listing(m: &mut Model, tool: ToolKind, text: &str) -> Vec<Effect> {
    let taken = m.settings.taken_in();
    let effects = update(
        m,
        Msg::Tool(ToolResult::Listing {
            tool,
            text: Ok(text.to_string()),
            taken,
        }),
    );
    carry_out(m, effects)
}

fn argv(s: &str) -> Vec<String> {
    s.split(' ').map(String::from).collect()
}

fn services_view(m: &Model) -> &ServiceTable {
    match &m.tool.as_ref().unwrap().view {
        ToolView::Services(t) => t,
        other => panic!("{other:?}"),
    }
}

fn row_of(m: &Model, name: &str) -> usize {
    services_view(m)
        .rows
        .iter()
        .position(|r| r.name == name)
        .unwrap()
}

fn go_to(m: &mut Model, row: usize) {
    keys(m, &[Key::Char('g')]);
    for _ in 0..row {
        keys(m, &[Key::Down]);
    }
}

#[test]
fn a_tool_step_opens_its_screen_and_asks_for_the_listing() {
    let mut m = model();
    let fx = open_tool(&mut m, 0);
    assert_eq!(fx, [Effect::Tool(ToolJob::List(ToolKind::Services))]);
    assert!(matches!(
        m.screen(),
        Screen::Tool {
            tool: ToolKind::Services,
            ..
        }
    ));
    assert_eq!(m.tool.as_ref().unwrap().view, ToolView::Loading);
    let fx = open_tool(&mut model(), 3);
    assert_eq!(fx, [Effect::Tool(ToolJob::ScanSnort)]);
}

#[test]
fn services_toggle_apply_run_and_verify() {
    let mut m = model();
    open_tool(&mut m, 0);
    listing(
        &mut m,
        ToolKind::Services,
        crate::core::services::PRACTICE_LISTING,
    );
    assert_eq!(services_view(&m).rows.len(), 56);

    let iscsid = row_of(&m, "iscsid");
    go_to(&mut m, iscsid);
    keys(&mut m, &[Key::Char(' ')]);
    let snmpd = row_of(&m, "snmpd");
    go_to(&mut m, snmpd);
    keys(&mut m, &[Key::Char(' ')]);
    assert!(keys(&mut m, &[Key::Char('a')]).is_empty());
    let Some(Overlay::Confirm { question, .. }) = &m.overlay else {
        panic!("no confirmation: {:?}", m.overlay);
    };
    assert!(
        question.contains("chkconfig --level 2345 iscsid off"),
        "{question}"
    );
    assert!(
        question.contains("chkconfig --level 2345 snmpd on"),
        "{question}"
    );

    let fx = keys(&mut m, &[Key::Char('y')]);
    assert_eq!(
        fx[0],
        Effect::RunCommands {
            runbook: "tools-demo".into(),
            step: "services".into(),
            commands: vec![
                argv("chkconfig --level 2345 iscsid off"),
                argv("chkconfig --level 2345 snmpd on")
            ],
            env: Vec::new(),
        }
    );
    assert!(m.running.is_some());

    // The run ends: the listing is read again and checked.
    let fx = runner_ends(&mut m, "tools-demo", "services", done());
    assert_eq!(
        m.run("tools-demo").unwrap().steps["services"]
            .attempts
            .len(),
        1
    );
    assert!(
        fx.contains(&Effect::Tool(ToolJob::List(ToolKind::Services))),
        "{fx:?}"
    );
    let after = crate::core::services::PRACTICE_LISTING
        .replace(
            "iscsid         \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on",
            "iscsid         \t0:off\t1:off\t2:off\t3:off\t4:off\t5:off",
        )
        .replace(
            "snmpd          \t0:off\t1:off\t2:off\t3:off\t4:off\t5:off",
            "snmpd          \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on",
        );
    assert_ne!(after, crate::core::services::PRACTICE_LISTING);
    let fx = listing(&mut m, ToolKind::Services, &after);
    assert!(fx.is_empty(), "{fx:?}");
    let s = m.tool.as_ref().unwrap();
    assert_eq!(
        s.notice.as_deref(),
        Some("Checked chkconfig --list: all 2 change(s) took effect.")
    );
    assert_eq!(m.status("tools-demo", "services"), Status::Done);
    assert!(services_view(&m).commands().is_empty());
}

#[test]
fn a_change_that_did_not_take_fails_the_step() {
    let mut m = model();
    open_tool(&mut m, 0);
    listing(
        &mut m,
        ToolKind::Services,
        crate::core::services::PRACTICE_LISTING,
    );
    keys(&mut m, &[Key::Char('v'), Key::Char('a'), Key::Char('y')]);
    runner_ends(&mut m, "tools-demo", "services", done());
    // chkconfig "succeeded" but nothing changed.
    let fx = listing(
        &mut m,
        ToolKind::Services,
        crate::core::services::PRACTICE_LISTING,
    );
    assert!(
        fx.iter().all(|e| matches!(e, Effect::Record { .. })),
        "{fx:?}"
    );
    assert_eq!(m.status("tools-demo", "services"), Status::Failed);
    let notice = m.tool.as_ref().unwrap().notice.clone().unwrap();
    assert!(notice.contains("not as chosen: avahi-daemon"), "{notice}");
    // The choices that did not take are still chosen, ready for another try.
    assert_eq!(services_view(&m).commands().len(), 8);
}

#[test]
fn ldap_is_locked_with_the_reason() {
    let mut m = model();
    open_tool(&mut m, 0);
    listing(
        &mut m,
        ToolKind::Services,
        crate::core::services::PRACTICE_LISTING,
    );
    let ldap = row_of(&m, "ldap");
    go_to(&mut m, ldap);
    keys(&mut m, &[Key::Char(' ')]);
    let msg = m.message.clone().unwrap();
    assert!(msg.contains("ClearOS manages the user accounts"), "{msg}");
    keys(&mut m, &[Key::Char('a')]);
    assert!(m.overlay.is_none());
    assert!(m.message.clone().unwrap().starts_with("Nothing to change"));
}

#[test]
fn esc_leaves_the_tool_and_a_failed_listing_is_shown() {
    let mut m = model();
    open_tool(&mut m, 0);
    update(
        &mut m,
        Msg::Tool(ToolResult::Listing {
            tool: ToolKind::Services,
            text: Err("`chkconfig` not found in PATH (/bin)".into()),
            taken: "this machine".into(),
        }),
    );
    assert!(
        matches!(&m.tool.as_ref().unwrap().view, ToolView::Unavailable(e) if e.contains("not found"))
    );
    keys(&mut m, &[Key::Esc]);
    assert!(matches!(m.screen(), Screen::Step { .. }));
    assert!(m.tool.is_none());
}

#[test]
fn practice_mode_runs_nothing() {
    let mut m = model();
    m.settings.practice = true;
    open_tool(&mut m, 0);
    listing(
        &mut m,
        ToolKind::Services,
        crate::core::services::PRACTICE_LISTING,
    );
    let fx = keys(&mut m, &[Key::Char('v'), Key::Char('a'), Key::Char('y')]);
    assert!(fx.is_empty(), "{fx:?}");
    assert!(
        m.output
            .iter()
            .any(|l| l == "practice: would run: chkconfig --level 2345 snmpd on")
    );
}

#[test]
fn runlevels_cells_to_rc_update_commands() {
    let mut m = model();
    open_tool(&mut m, 1);
    listing(
        &mut m,
        ToolKind::Runlevels,
        crate::core::runlevels::PRACTICE_LISTING,
    );
    let ToolView::Runlevels(t) = &m.tool.as_ref().unwrap().view else {
        panic!()
    };
    let eth0 = t.rows.iter().position(|r| r.name == "net.eth0").unwrap();
    let extbr0 = t.rows.iter().position(|r| r.name == "net.extbr0").unwrap();
    // Columns: boot default nonetwork shutdown sysinit.
    go_to(&mut m, eth0);
    keys(&mut m, &[Key::Right, Key::Char(' ')]);
    go_to(&mut m, extbr0);
    keys(&mut m, &[Key::Char(' '), Key::Left, Key::Char(' ')]);
    keys(&mut m, &[Key::Char('a')]);
    let fx = keys(&mut m, &[Key::Char('y')]);
    assert!(
        matches!(
            &fx[0],
            Effect::RunCommands { commands, .. } if *commands == [
                argv("rc-update del net.extbr0 default"),
                argv("rc-update add net.eth0 default"),
                argv("rc-update add net.extbr0 boot"),
            ]
        ),
        "{fx:?}"
    );
}

#[test]
fn gcc_switch_then_profile_env_reaches_later_commands() {
    let mut m = model();
    m.settings.root = Some("/mnt/gentoo".into());
    open_tool(&mut m, 2);
    listing(
        &mut m,
        ToolKind::GccProfile,
        crate::core::gcc::PRACTICE_LISTING,
    );
    // The newest is chosen already.
    keys(&mut m, &[Key::Char('a')]);
    let fx = keys(&mut m, &[Key::Char('y')]);
    assert_eq!(
        fx[0],
        Effect::RunCommands {
            runbook: "tools-demo".into(),
            step: "gcc".into(),
            commands: vec![argv("gcc-config 2"), argv("env-update")],
            env: vec![("ROOT".into(), "/mnt/gentoo".into())],
        }
    );
    let fx = runner_ends(&mut m, "tools-demo", "gcc", done());
    assert_eq!(
        fx[..],
        [
            Effect::Tool(ToolJob::ReadProfileEnv),
            Effect::Tool(ToolJob::List(ToolKind::GccProfile))
        ]
    );
    let env = crate::core::parse::profile_env::parse("export PATH='/usr/bin:/gcc-bin/4.3.4'\n");
    update(&mut m, Msg::Tool(ToolResult::ProfileEnv(Ok(env))));
    assert_eq!(
        m.command_env,
        [("PATH".to_string(), "/usr/bin:/gcc-bin/4.3.4".to_string())]
    );
    listing(
        &mut m,
        ToolKind::GccProfile,
        "[1] x86_64-pc-linux-gnu-4.1.2\n[2] x86_64-pc-linux-gnu-4.3.4 *\n",
    );
    let notice = m.tool.as_ref().unwrap().notice.clone().unwrap();
    assert!(notice.contains("source /etc/profile"), "{notice}");
    assert!(notice.contains("read, not loaded"), "{notice}");

    // Commands a tool runs later get the reloaded environment.
    keys(&mut m, &[Key::Esc, Key::Esc]);
    keys(&mut m, &[Key::Char('g'), Key::Enter, Key::Char('r')]);
    listing(
        &mut m,
        ToolKind::Services,
        crate::core::services::PRACTICE_LISTING,
    );
    let fx = keys(&mut m, &[Key::Char('v'), Key::Char('a'), Key::Char('y')]);
    assert!(
        matches!(
            &fx[0],
            Effect::RunCommands { env, .. } if env.contains(&("PATH".to_string(), "/usr/bin:/gcc-bin/4.3.4".to_string()))
        ),
        "{fx:?}"
    );
}

#[test]
fn snort_choose_apply_asks_then_edits() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir
        .path()
        .join("var/lib/suva/services/intrusion-protection/rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("web.rules"),
        "alert tcp any any -> any 80 (msg:\"a\"; sid:1091; rev:1;)\n",
    )
    .unwrap();
    let list = crate::core::snort::article_sids().unwrap();
    let report = crate::core::snort::scan(Some(dir.path()), &crate::core::snort::RULE_DIRS, &list);

    let mut m = model();
    open_tool(&mut m, 3);
    update(
        &mut m,
        Msg::Tool(ToolResult::Snort(Ok(report), "this machine".into())),
    );
    // Row 0 is SID 1091, enabled: Apply asks the edit engine for the diff first.
    let fx = keys(&mut m, &[Key::Char(' '), Key::Char('a')]);
    let [Effect::Tool(ToolJob::PreviewEdits { edits })] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert_eq!(edits.len(), 1);
    assert_eq!(
        edits[0].path,
        "/var/lib/suva/services/intrusion-protection/rules/web.rules"
    );
    let diff = "--- a/var/lib/suva/services/intrusion-protection/rules/web.rules\n\
                +++ b/var/lib/suva/services/intrusion-protection/rules/web.rules\n\
                @@ -1 +1 @@\n\
                -alert tcp any any -> any 80 (msg:\"a\"; sid:1091; rev:1;)\n\
                +#alert tcp any any -> any 80 (msg:\"a\"; sid:1091; rev:1;)\n";
    update(&mut m, Msg::Tool(ToolResult::EditPreview(Ok(diff.into()))));
    let Some(Overlay::Confirm { question, .. }) = &m.overlay else {
        panic!()
    };
    assert!(
        question.contains("in /var/lib/suva/services/intrusion-protection/rules/web.rules:"),
        "{question}"
    );
    assert!(
        question.contains("+#alert tcp any a...sid:1091; rev:1;)"),
        "{question}"
    );
    let fx = keys(&mut m, &[Key::Char('y')]);
    assert!(
        matches!(&fx[..], [Effect::Tool(ToolJob::ApplyEdits { edits, step, .. })] if edits.len() == 1 && step == "snort"),
        "{fx:?}"
    );
    // The engine reports the applied edit: it is recorded in the run for undo.
    let applied = AppliedEdit {
        step: "snort".into(),
        path: "/r/web.rules".into(),
        at: "2026-11-26T10:00:00Z".into(),
        backup: Some("archive/x".into()),
        diff: diff.into(),
        hash_before: "a".into(),
        hash_after: "b".into(),
        undone: false,
    };
    let fx = update(
        &mut m,
        Msg::Tool(ToolResult::EditsApplied {
            applied: vec![applied.clone()],
            error: None,
        }),
    );
    carry_out(&mut m, fx);
    let run = m.run("tools-demo").unwrap();
    assert_eq!(run.edits, std::slice::from_ref(&applied));
    assert_eq!(run.status("snort"), Status::Done);
    let fx = keys(&mut m, &[Key::Char('u'), Key::Char('y')]);
    assert_eq!(fx, [Effect::Tool(ToolJob::UndoEdit(applied.clone()))]);
    let fx = update(&mut m, Msg::Tool(ToolResult::EditUndone(Ok(applied))));
    carry_out(&mut m, fx);
    assert!(m.run("tools-demo").unwrap().edits[0].undone);
    keys(&mut m, &[Key::Char('u')]);
    assert_eq!(
        m.message.as_deref(),
        Some("No rules edit of this step to undo")
    );
    keys(&mut m, &[Key::Char('g')]);
    // A not-found SID cannot be chosen.
    keys(&mut m, &[Key::Down, Key::Char(' ')]);
    assert!(m.message.clone().unwrap().contains("not in the rules here"));
    // Restart is offered as an exact command.
    keys(&mut m, &[Key::Char('x')]);
    let fx = keys(&mut m, &[Key::Char('y')]);
    assert!(
        matches!(&fx[0], Effect::RunCommands { commands, .. } if *commands == [argv("/etc/init.d/snort restart")]),
        "{fx:?}"
    );
}

#[test]
fn own_sid_prompt() {
    let mut m = model();
    open_tool(&mut m, 3);
    keys(&mut m, &[Key::Char('n')]);
    for c in "4242 blocks our probe".chars() {
        keys(&mut m, &[Key::Char(c)]);
    }
    let fx = keys(&mut m, &[Key::Enter]);
    assert_eq!(
        fx,
        [Effect::Tool(ToolJob::AddSid {
            sid: 4242,
            reason: "blocks our probe".into()
        })]
    );
}

/// Leaving the services or runlevels screen with choices not applied asks "apply N / discard /
/// stay" instead of dropping them; Esc (perhaps the first byte of a split arrow key) stays.
#[test]
fn leaving_with_choices_asks_apply_discard_or_stay() {
    let mut m = model();
    open_tool(&mut m, 0);
    listing(
        &mut m,
        ToolKind::Services,
        crate::core::services::PRACTICE_LISTING,
    );
    let iscsid = row_of(&m, "iscsid");
    go_to(&mut m, iscsid);
    keys(&mut m, &[Key::Char(' ')]);
    // Esc asks; Esc again stays, with the choice kept.
    assert!(keys(&mut m, &[Key::Esc]).is_empty());
    assert!(matches!(m.overlay, Some(Overlay::Leave { changes: 1 })));
    keys(&mut m, &[Key::Esc]);
    assert!(m.overlay.is_none());
    assert!(matches!(m.screen(), Screen::Tool { .. }));
    assert_eq!(services_view(&m).commands().len(), 1);
    // q asks; a shows the exact commands and asks before running them.
    keys(&mut m, &[Key::Char('q'), Key::Char('a')]);
    let Some(Overlay::Confirm { question, .. }) = &m.overlay else {
        panic!("no confirmation: {:?}", m.overlay);
    };
    assert!(question.contains("chkconfig --level 2345 iscsid off"));
    keys(&mut m, &[Key::Char('n')]);
    // d discards and leaves, running nothing.
    keys(&mut m, &[Key::Char('q')]);
    assert!(keys(&mut m, &[Key::Char('d')]).is_empty());
    assert!(matches!(m.screen(), Screen::Step { .. }));
    assert!(m.tool.is_none());
    // Runlevels too.
    let mut m = model();
    open_tool(&mut m, 1);
    listing(
        &mut m,
        ToolKind::Runlevels,
        crate::core::runlevels::PRACTICE_LISTING,
    );
    keys(&mut m, &[Key::Char(' ')]);
    keys(&mut m, &[Key::Esc]);
    assert!(matches!(m.overlay, Some(Overlay::Leave { changes: 1 })));
    // Without choices, Esc leaves at once.
    keys(&mut m, &[Key::Char('d')]);
    open_tool_again_and_leave(&mut m);
}

fn open_tool_again_and_leave(m: &mut Model) {
    keys(m, &[Key::Char('r')]);
    listing(
        m,
        ToolKind::Runlevels,
        crate::core::runlevels::PRACTICE_LISTING,
    );
    keys(m, &[Key::Esc]);
    assert!(m.overlay.is_none());
    assert!(matches!(m.screen(), Screen::Step { .. }));
}

/// Issue 15 item 11: a listing carries the mode it was taken in. One taken in practice that
/// arrives after practice was turned off (its job started before the switch) is never shown as
/// this machine's and no change is worked out from it: it is dropped and read again.
#[test]
fn a_listing_taken_in_the_other_mode_is_dropped_and_never_used() {
    let mut m = model();
    m.settings.practice = true;
    open_tool(&mut m, 0);
    let taken_in_practice = m.settings.taken_in();
    assert_eq!(taken_in_practice, "practice transcript");
    // The technician leaves, turns practice off and opens the tool again; the practice job's
    // answer comes in only now.
    m.settings.practice = false;
    let fx = update(
        &mut m,
        Msg::Tool(ToolResult::Listing {
            tool: ToolKind::Services,
            text: Ok(crate::core::services::PRACTICE_LISTING.into()),
            taken: taken_in_practice,
        }),
    );
    assert_eq!(fx, vec![Effect::Tool(ToolJob::List(ToolKind::Services))]);
    assert_eq!(m.tool.as_ref().unwrap().view, ToolView::Loading);
    assert!(
        m.message
            .as_deref()
            .is_some_and(|t| t.contains("from the practice transcript was dropped")),
        "{:?}",
        m.message
    );
    // Nothing can be applied until this machine's listing is in.
    assert!(keys(&mut m, &[Key::Char('a')]).is_empty());
    assert!(m.overlay.is_none());
    listing(
        &mut m,
        ToolKind::Services,
        crate::core::services::PRACTICE_LISTING,
    );
    assert_eq!(
        m.tool.as_ref().unwrap().taken.as_deref(),
        Some("this machine")
    );
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    crate::ui::render(&m, area, &mut buf);
    let top: String = (0..80u16)
        .map(|x| buf[(x, 0)].symbol().to_string())
        .collect();
    assert!(top.contains("Services (chkconfig) - this machine"), "{top}");
    // A listing taken in practice on screen while the mode is real (however it got there)
    // works out no real command.
    m.tool.as_mut().unwrap().taken = Some("practice transcript".into());
    keys(&mut m, &[Key::Char('v')]);
    assert!(keys(&mut m, &[Key::Char('a')]).is_empty());
    assert!(m.overlay.is_none(), "{:?}", m.overlay);
    assert!(
        m.message.as_deref().is_some_and(
            |t| t.contains("not from the this machine") || t.contains("reads it again")
        ),
        "{:?}",
        m.message
    );
}

/// Issue 15 item 11: a session started with `--practice` opened no machine, so `p` cannot
/// turn practice off (its commands would go nowhere while the screen said they run for real).
#[test]
fn a_session_started_in_practice_cannot_turn_practice_off() {
    let mut m = model();
    m.settings.practice = true;
    m.settings.practice_only = true;
    keys(&mut m, &[Key::Char('p')]);
    assert!(m.settings.practice);
    assert!(
        m.message
            .as_deref()
            .is_some_and(|t| t.contains("started with --practice")),
        "{:?}",
        m.message
    );
    // A session started for real switches both ways.
    m.settings.practice_only = false;
    keys(&mut m, &[Key::Char('p')]);
    assert!(!m.settings.practice);
    keys(&mut m, &[Key::Char('p')]);
    assert!(m.settings.practice);
}
