//! Unit tests of `update`: feed messages, look at the model and the effects.

use std::collections::BTreeSet;

use super::steps::request_run;
use super::*;
use crate::core::progress::Exit;
use crate::core::runbook::load_str;
use crate::ui::testkit::carry_out;

fn model() -> Model {
    let rb = load_str(
        "tui-runbook.toml",
        include_str!("../../../tests/fixtures/tui-runbook.toml"),
    )
    .unwrap();
    let mut m = Model::new(vec![rb], BTreeSet::new(), Vec::new());
    m.settings.target = "gw1".into();
    m.now = "2026-11-26T10:00:00Z".into();
    m.who = "tech".into();
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

fn open_step(m: &mut Model, index: usize) {
    keys(m, &[Key::Enter]);
    keys(m, &[Key::Char('g')]);
    for _ in 0..index {
        keys(m, &[Key::Down]);
    }
    keys(m, &[Key::Enter]);
}

#[test]
fn opening_a_runbook_puts_the_cursor_on_the_first_unfinished_step() {
    let mut m = model();
    let run = m.run_mut("demo");
    for id in ["read", "update"] {
        run.steps.entry(id.into()).or_default().status = Status::Done;
    }
    keys(&mut m, &[Key::Enter]);
    assert_eq!(
        m.screen(),
        &Screen::Runbook {
            runbook: "demo".into(),
            cursor: Cursor { index: 2 }
        }
    );
}

#[test]
fn navigate_to_a_step_and_back() {
    let mut m = model();
    open_step(&mut m, 1);
    assert!(matches!(m.screen(), Screen::Step { step, .. } if step == "update"));
    keys(&mut m, &[Key::Esc]);
    assert!(matches!(m.screen(), Screen::Runbook { .. }));
    keys(&mut m, &[Key::Char('q')]);
    assert!(matches!(m.screen(), Screen::Home { .. }));
    // Esc on the home screen does nothing, q quits.
    assert!(keys(&mut m, &[Key::Esc]).is_empty());
    assert_eq!(keys(&mut m, &[Key::Char('q')]), vec![Effect::Quit]);
}

/// Issue 15 item 2: going back to the runbook list releases the run's lock.
#[test]
fn leaving_a_runbook_closes_its_run() {
    let mut m = model();
    keys(&mut m, &[Key::Enter]);
    let fx = keys(&mut m, &[Key::Char('q')]);
    assert_eq!(
        fx,
        vec![Effect::CloseRun {
            runbook: "demo".into()
        }]
    );
    // Not while one of its steps runs here.
    open_step(&mut m, 1);
    keys(&mut m, &[Key::Char('r'), Key::Char('q'), Key::Char('q')]);
    assert!(matches!(m.screen(), Screen::Runbook { .. }));
    assert!(keys(&mut m, &[Key::Char('q')]).is_empty());
}

#[test]
fn cursor_moves_stay_in_range_and_tab_jumps_sections() {
    let mut m = model();
    keys(&mut m, &[Key::Enter, Key::Char('g'), Key::Up, Key::Up]);
    assert!(matches!(m.screen(), Screen::Runbook { cursor, .. } if cursor.index == 0));
    keys(&mut m, &[Key::Tab]);
    assert!(matches!(m.screen(), Screen::Runbook { cursor, .. } if cursor.index == 3));
    keys(&mut m, &[Key::Char('G'), Key::Down, Key::PageDown]);
    assert!(matches!(m.screen(), Screen::Runbook { cursor, .. } if cursor.index == 5));
    keys(&mut m, &[Key::BackTab]);
    assert!(matches!(m.screen(), Screen::Runbook { cursor, .. } if cursor.index == 3));
}

#[test]
fn mark_done_saves_the_run() {
    let mut m = model();
    open_step(&mut m, 0);
    let fx = keys(&mut m, &[Key::Char('d')]);
    assert!(matches!(
        &fx[..],
        [Effect::Record { transition: Transition::MarkedDone { step, reason: None }, .. }]
            if step == "read"
    ));
    assert_eq!(m.status("demo", "read"), Status::Done);
    // The next step comes up, and the runbook's cursor follows it.
    assert!(matches!(m.screen(), Screen::Step { step, .. } if step == "update"));
    assert!(
        matches!(m.screens[m.screens.len() - 2], Screen::Runbook { cursor, .. } if cursor.index == 1)
    );
    // After a skip too.
    keys(&mut m, &[Key::Char('s'), Key::Char('x'), Key::Enter]);
    assert_eq!(m.status("demo", "update"), Status::Skipped);
    assert!(matches!(m.screen(), Screen::Step { step, .. } if step == "wipe"));
}

/// `d` on a step fieldbook never ran asks why, as `s` does; the reason goes into the record.
#[test]
fn marking_a_never_run_step_done_asks_why() {
    let mut m = model();
    open_step(&mut m, 1);
    assert!(keys(&mut m, &[Key::Char('d')]).is_empty());
    assert_eq!(m.scope(), Scope::Prompt);
    assert_eq!(m.status("demo", "update"), Status::Pending);
    for c in "synced from the mirror by hand".chars() {
        keys(&mut m, &[Key::Char(c)]);
    }
    let fx = keys(&mut m, &[Key::Enter]);
    assert!(matches!(
        &fx[..],
        [Effect::Record {
            transition: Transition::MarkedDone {
                reason: Some(_),
                ..
            },
            ..
        }]
    ));
    let state = &m.run("demo").unwrap().steps["update"];
    assert_eq!(state.status, Status::Done);
    assert_eq!(
        state.reason.as_deref(),
        Some("synced from the mirror by hand")
    );
}

#[test]
fn marking_a_failed_step_done_asks_for_the_reason_the_report_shows() {
    let mut m = model();
    m.run_mut("demo")
        .steps
        .entry("read".into())
        .or_default()
        .status = Status::Failed;
    open_step(&mut m, 0);
    // No save until the technician has said why.
    assert!(keys(&mut m, &[Key::Char('d')]).is_empty());
    assert_eq!(m.scope(), Scope::Prompt);
    assert!(keys(&mut m, &[Key::Enter]).is_empty());
    assert_eq!(m.status("demo", "read"), Status::Failed);
    for c in "ran it by hand".chars() {
        keys(&mut m, &[Key::Char(c)]);
    }
    let fx = keys(&mut m, &[Key::Enter]);
    assert!(matches!(
        &fx[..],
        [Effect::Record {
            transition: Transition::MarkedDone {
                reason: Some(_),
                ..
            },
            ..
        }]
    ));
    let state = &m.run("demo").unwrap().steps["read"];
    assert_eq!(state.status, Status::Done);
    assert_eq!(state.reason.as_deref(), Some("ran it by hand"));
    assert!(m.overlay.is_none());
}

#[test]
fn skip_needs_a_reason_and_esc_never_discards_it() {
    let mut m = model();
    open_step(&mut m, 0);
    keys(&mut m, &[Key::Char('s')]);
    assert_eq!(m.scope(), Scope::Prompt);
    // Enter on an empty reason does not skip.
    assert!(keys(&mut m, &[Key::Enter]).is_empty());
    assert_eq!(m.scope(), Scope::Prompt);
    keys(&mut m, &[Key::Char('n'), Key::Char('o'), Key::Char('q')]);
    // Esc (perhaps a split arrow key) keeps the text and the prompt.
    keys(&mut m, &[Key::Esc]);
    assert_eq!(m.scope(), Scope::Prompt);
    // Backspace as 0x7f and as Ctrl-H both delete.
    keys(&mut m, &[Key::Backspace]);
    keys(&mut m, &[Key::Ctrl('h')]);
    keys(&mut m, &[Key::Char('o'), Key::Char(' '), Key::Char('x')]);
    let fx = keys(&mut m, &[Key::Enter]);
    assert_eq!(fx.len(), 1);
    let state = &m.run("demo").unwrap().steps["read"];
    assert_eq!(state.status, Status::Skipped);
    assert_eq!(state.reason.as_deref(), Some("no x"));
    assert!(m.overlay.is_none());
}

#[test]
fn esc_closes_an_empty_prompt_and_notes_are_kept() {
    let mut m = model();
    open_step(&mut m, 0);
    keys(&mut m, &[Key::Char('n'), Key::Esc]);
    assert!(m.overlay.is_none());
    keys(&mut m, &[Key::Char('n'), Key::Char('h'), Key::Char('i')]);
    // Ctrl-U clears, then Esc may close.
    keys(&mut m, &[Key::Ctrl('u'), Key::Esc]);
    assert!(m.overlay.is_none());
    keys(
        &mut m,
        &[Key::Char('n'), Key::Char('o'), Key::Char('k'), Key::Enter],
    );
    let notes = &m.run("demo").unwrap().steps["read"].notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].text, "ok");
}

#[test]
fn run_records_nothing_itself_and_a_step_that_never_starts_leaves_no_attempt() {
    let mut m = model();
    open_step(&mut m, 1);
    let fx = keys(&mut m, &[Key::Char('r')]);
    // The runner records the attempt when it really starts (after the check), as `exec` does.
    assert!(
        matches!(&fx[..], [Effect::RunStep { runbook, step }] if runbook == "demo" && step == "update")
    );
    assert!(m.running.is_some());
    assert!(matches!(m.screen(), Screen::Output { .. }));
    update(&mut m, Msg::OutputLine("hello".into()));
    let fx = update(&mut m, Msg::NotStarted("no value for 'lan_ip'".into()));
    assert!(fx.is_empty());
    assert_eq!(m.status("demo", "update"), Status::Pending);
    assert!(
        m.run("demo")
            .is_none_or(|r| !r.steps.contains_key("update"))
    );
    assert!(m.running.is_none());
    // On the Output screen the reason is its last line.
    let last = m.output.back().unwrap().text();
    assert!(last.contains("Not run: no value"), "{last}");
}

#[test]
fn an_ended_step_is_announced_with_the_runners_verdict() {
    let mut m = model();
    open_step(&mut m, 1);
    keys(&mut m, &[Key::Char('r')]);
    let failed = RunOutcome {
        status: Status::Failed,
        exit: Some(Exit::Code(1)),
        failed_program: Some(0),
        message: "command 1 of 2 failed (exit 1)".into(),
    };
    assert!(update(&mut m, Msg::StepEnded(failed)).is_empty());
    assert!(m.running.is_none());
    // On the Output screen the verdict is its last line.
    let said = m.output.back().unwrap().text();
    assert!(
        said.starts_with("fieldbook: FAILED: command 1 of 2 failed (exit 1)"),
        "{said}"
    );
    keys(&mut m, &[Key::Char('q'), Key::Char('r')]);
    let done = RunOutcome {
        status: Status::Done,
        exit: Some(Exit::Code(0)),
        failed_program: None,
        message: "finished (exit 0)".into(),
    };
    update(&mut m, Msg::StepEnded(done));
    let said = m.output.back().unwrap().text();
    assert_eq!(said, "fieldbook: Done: finished (exit 0)");
}

#[test]
fn destructive_steps_ask_first_and_esc_says_no() {
    let mut m = model();
    open_step(&mut m, 2);
    assert!(keys(&mut m, &[Key::Char('r')]).is_empty());
    assert_eq!(m.scope(), Scope::Confirm);
    // Enter does not confirm; Esc answers no.
    assert!(keys(&mut m, &[Key::Enter, Key::Esc]).is_empty());
    assert_eq!(m.scope(), Scope::Step);
    assert_eq!(m.status("demo", "wipe"), Status::Pending);
    keys(&mut m, &[Key::Char('r')]);
    let fx = keys(&mut m, &[Key::Char('y')]);
    assert!(matches!(&fx[0], Effect::RunStep { step, .. } if step == "wipe"));
}

#[test]
fn quitting_while_a_command_runs_asks_and_ctrl_c_always_asks() {
    let mut m = model();
    assert!(keys(&mut m, &[Key::Ctrl('c')]).is_empty());
    assert_eq!(m.scope(), Scope::Confirm);
    keys(&mut m, &[Key::Char('n')]);
    open_step(&mut m, 1);
    keys(&mut m, &[Key::Char('r')]);
    // Back from output, step, runbook to home; q there asks because a command runs.
    keys(&mut m, &[Key::Char('q'), Key::Char('q'), Key::Char('q')]);
    assert!(matches!(m.screen(), Screen::Home { .. }));
    assert!(keys(&mut m, &[Key::Char('q')]).is_empty());
    assert_eq!(m.scope(), Scope::Confirm);
    assert_eq!(keys(&mut m, &[Key::Char('y')]), vec![Effect::Quit]);
}

/// Ctrl-C never cancels a running command: it asks whether to quit, and the question says
/// what quitting does to the step (a short one is stopped and recorded as interrupted).
#[test]
fn ctrl_c_while_a_command_runs_asks_to_quit_and_says_what_happens_to_it() {
    let mut m = model();
    open_step(&mut m, 1);
    keys(&mut m, &[Key::Char('r')]);
    assert!(m.running.is_some());
    let fx = keys(&mut m, &[Key::Ctrl('c')]);
    assert!(!fx.contains(&Effect::CancelRun), "{fx:?}");
    let Some(Overlay::Confirm { question, on_yes }) = &m.overlay else {
        panic!("no question: {:?}", m.overlay);
    };
    assert_eq!(on_yes, &Pending::Quit);
    assert!(question.contains("Quit fieldbook"), "{question}");
    assert!(question.contains("stopped"), "{question}");
    assert!(question.contains("interrupted"), "{question}");
    // No: nothing is cancelled.
    assert!(keys(&mut m, &[Key::Char('n')]).is_empty());
    assert!(m.running.is_some());
}

#[test]
fn esc_never_quits_from_any_screen() {
    let mut m = model();
    open_step(&mut m, 1);
    keys(&mut m, &[Key::Char('o')]);
    for _ in 0..10 {
        let fx = keys(&mut m, &[Key::Esc]);
        assert!(!fx.contains(&Effect::Quit));
    }
    assert!(matches!(m.screen(), Screen::Home { .. }));
}

#[test]
fn manual_and_other_steps_say_why_they_do_not_run() {
    let mut m = model();
    open_step(&mut m, 0);
    assert!(keys(&mut m, &[Key::Char('r')]).is_empty());
    assert!(m.message.as_deref().unwrap().contains("by hand"));
}

#[test]
fn help_overlay_and_redraw() {
    let mut m = model();
    keys(&mut m, &[Key::Char('?')]);
    assert_eq!(m.scope(), Scope::Help);
    keys(&mut m, &[Key::PageDown, Key::PageDown, Key::PageDown]);
    keys(&mut m, &[Key::Char('?')]);
    assert!(m.overlay.is_none());
    // End goes to the last page of a help longer than the screen; Home back to the top.
    m.size = (80, 24);
    keys(&mut m, &[Key::Char('?'), Key::End]);
    let Some(Overlay::Help { scroll }) = m.overlay else {
        panic!("End closed the help: {:?}", m.overlay);
    };
    assert!(scroll > 0, "End did not scroll");
    keys(&mut m, &[Key::Home]);
    assert!(matches!(m.overlay, Some(Overlay::Help { scroll: 0 })));
    keys(&mut m, &[Key::Char('q')]);
    assert_eq!(keys(&mut m, &[Key::Ctrl('l')]), vec![Effect::Redraw]);
    assert_eq!(keys(&mut m, &[Key::Ctrl('z')]), vec![Effect::Suspend]);
}

#[test]
fn output_follows_until_scrolled_up() {
    let mut m = model();
    m.size = (80, 24);
    keys(&mut m, &[Key::Enter, Key::Char('o')]);
    for i in 0..100 {
        update(&mut m, Msg::OutputLine(format!("line {i}")));
    }
    let page = layout::page(m.size);
    assert_eq!(
        m.screen(),
        &Screen::Output {
            scroll: 100 - page,
            follow: true
        }
    );
    keys(&mut m, &[Key::Up]);
    update(&mut m, Msg::OutputLine("more".into()));
    assert_eq!(
        m.screen(),
        &Screen::Output {
            scroll: 100 - page - 1,
            follow: false
        }
    );
    keys(&mut m, &[Key::Char('G')]);
    assert!(matches!(m.screen(), Screen::Output { follow: true, .. }));
}

#[test]
fn step_scroll_is_clamped_to_its_text() {
    let mut m = model();
    m.size = (40, 12);
    open_step(&mut m, 0);
    keys(&mut m, &[Key::End]);
    let Screen::Step { scroll, .. } = m.screen().clone() else {
        panic!()
    };
    keys(&mut m, &[Key::Up]);
    assert!(matches!(m.screen(), Screen::Step { scroll: s, .. } if *s + 1 == scroll));
}

#[test]
fn an_opened_run_with_an_interrupted_step_says_so_and_the_cursor_waits_there() {
    let mut m = model();
    keys(&mut m, &[Key::Enter]);
    let mut run = m
        .run("demo")
        .cloned()
        .unwrap_or_else(|| m.run_mut("demo").clone());
    run.steps.entry("read".into()).or_default().status = Status::Interrupted;
    update(&mut m, Msg::RunOpened(Box::new(run)));
    assert!(
        m.message
            .as_deref()
            .unwrap()
            .contains("Read the hardware notes")
    );
    assert_eq!(m.status("demo", "read"), Status::Interrupted);
    // A later save's reload does not repeat the message.
    m.message = None;
    let run = m.run("demo").cloned().unwrap();
    update(&mut m, Msg::RunLoaded(Box::new(run)));
    assert!(m.message.is_none());
}

#[test]
fn an_unfinished_progress_line_is_shown_and_replaced_until_it_completes() {
    let mut m = model();
    update(&mut m, Msg::Output(vec!["$ emerge --sync".into()]));
    update(&mut m, Msg::OutputPartial("Receiving 10%".into()));
    update(&mut m, Msg::OutputPartial("Receiving 60%".into()));
    assert_eq!(
        m.output.iter().collect::<Vec<_>>(),
        ["$ emerge --sync", "Receiving 60%"]
    );
    // The line completes: the finished text replaces the progress, nothing is doubled.
    update(&mut m, Msg::Output(vec!["Receiving 100% done".into()]));
    update(&mut m, Msg::OutputPartial(String::new().into()));
    assert_eq!(
        m.output.iter().collect::<Vec<_>>(),
        ["$ emerge --sync", "Receiving 100% done"]
    );
}

#[test]
fn the_output_title_shows_how_long_the_step_has_run() {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    let top = |m: &Model| {
        let area = Rect::new(0, 0, 80, 24);
        let mut buf = Buffer::empty(area);
        crate::ui::render(m, area, &mut buf);
        (0..80u16)
            .map(|x| buf[(x, 0)].symbol().to_string())
            .collect::<String>()
    };
    let mut m = model();
    open_step(&mut m, 1);
    keys(&mut m, &[Key::Char('r')]);
    assert!(matches!(m.screen(), Screen::Output { .. }));
    // The runner records the start (the store stamps it with the clock).
    let started = Effect::Record {
        runbook: "demo".into(),
        transition: Transition::Started {
            step: "update".into(),
        },
    };
    carry_out(&mut m, vec![started]);
    let at = &m.run("demo").unwrap().steps["update"].attempts[0].started;
    let at = crate::core::clock::parse(at).unwrap();
    m.now = crate::core::clock::format_unix(at + 187);
    assert!(top(&m).contains("running 3m 07s"), "{}", top(&m));
    // A slow line pays for it once a minute.
    m.settings.terminal.low_bandwidth = true;
    assert!(top(&m).contains("running 3m 00s"), "{}", top(&m));
}

fn ordered_model() -> Model {
    let rb = load_str(
        "ordered.toml",
        r#"
id = "ord"
title = "Ordered"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "world"
title = "World"
why = "w"
kind = "command"
commands = [["true"]]
[[section.step]]
id = "depclean"
title = "Depclean"
why = "w"
kind = "command"
commands = [["true"]]
after = ["world"]
[[section.step]]
id = "perl"
title = "Perl"
why = "w"
kind = "command"
commands = [["perl-cleaner", "all"]]
when = { ask = "Was perl upgraded?", not_needed = "perl was not upgraded" }
[[section.step]]
id = "hotplug"
title = "Hotplug"
why = "w"
kind = "command"
commands = [["true"]]
when = { probe = ["test", "-f", "/etc/rc.conf"], not_needed = "no rc.conf" }
"#,
    )
    .unwrap();
    let mut m = Model::new(vec![rb], BTreeSet::new(), Vec::new());
    m.now = "2026-12-02T15:00:00Z".into();
    m.who = "tech".into();
    m
}

fn run_request(m: &mut Model, step: &str) -> Vec<Effect> {
    request_run(m, "ord", step)
}

/// A step run before the steps it comes after asks first, naming them; yes runs it and the
/// run records that it was forced; no runs nothing.
#[test]
fn a_step_out_of_order_asks_first_and_yes_is_recorded_as_forced() {
    let mut m = ordered_model();
    assert!(run_request(&mut m, "depclean").is_empty());
    let Some(Overlay::Confirm { question, .. }) = &m.overlay else {
        panic!("no question: {:?}", m.overlay);
    };
    assert!(question.contains("must come after 'world'"), "{question}");
    keys(&mut m, &[Key::Char('n')]);
    assert!(m.overlay.is_none());
    assert_eq!(m.status("ord", "depclean"), Status::Pending);
    run_request(&mut m, "depclean");
    let fx = keys(&mut m, &[Key::Char('y')]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::RunStep { step, .. } if step == "depclean")),
        "{fx:?}"
    );
    let notes = &m.run("ord").unwrap().steps["depclean"].notes;
    assert!(
        notes[0].text.starts_with("forced: run before 'world'"),
        "{notes:?}"
    );
    // In order, nothing is asked.
    let mut m = ordered_model();
    m.run_mut("ord")
        .steps
        .entry("world".into())
        .or_default()
        .status = Status::Done;
    let fx = run_request(&mut m, "depclean");
    assert!(
        fx.iter().any(|e| matches!(e, Effect::RunStep { .. })),
        "{fx:?}"
    );
}

/// The runner's probe said yes (answered off the loop): the step waiting as the running one
/// is started for real; an answer for a step no longer running starts nothing.
#[test]
fn a_probe_s_yes_starts_the_waiting_step() {
    let mut m = ordered_model();
    run_request(&mut m, "hotplug");
    let applies = |step: &str| Msg::Applies {
        runbook: "ord".into(),
        step: step.into(),
    };
    let fx = update(&mut m, applies("hotplug"));
    assert!(
        matches!(&fx[..], [Effect::RunStep { step, .. }] if step == "hotplug"),
        "{fx:?}"
    );
    assert!(update(&mut m, applies("perl")).is_empty());
}

/// Answering "no" to a step's `when` question records it not needed, the transition a probe's
/// "no" (and `auto`) uses; nothing is run and nothing is left pending for `s`.
#[test]
fn no_to_a_when_question_records_the_step_not_needed() {
    let mut m = ordered_model();
    assert!(run_request(&mut m, "perl").is_empty());
    let fx = keys(&mut m, &[Key::Char('n')]);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::RunStep { .. })),
        "{fx:?}"
    );
    carry_out(&mut m, fx);
    let state = &m.run("ord").unwrap().steps["perl"];
    assert_eq!(state.status, Status::Skipped);
    assert_eq!(
        state.reason.as_deref(),
        Some("not needed (perl was not upgraded)")
    );
    assert!(state.attempts.is_empty(), "nothing ran");
    assert!(m.overlay.is_none());
    // "No" to an out-of-order question still leaves the step as it was.
    let mut m = ordered_model();
    assert!(run_request(&mut m, "depclean").is_empty());
    let fx = keys(&mut m, &[Key::Char('n')]);
    carry_out(&mut m, fx);
    assert_eq!(m.status("ord", "depclean"), Status::Pending);
}

/// A step whose `when` is a question asks it; a probe's "no" skips the step as not needed.
#[test]
fn conditional_steps_ask_or_are_skipped_as_not_needed() {
    let mut m = ordered_model();
    assert!(run_request(&mut m, "perl").is_empty());
    let Some(Overlay::Confirm { question, .. }) = &m.overlay else {
        panic!("no question");
    };
    assert!(question.starts_with("Was perl upgraded?"), "{question}");
    let fx = keys(&mut m, &[Key::Char('y')]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::RunStep { step, .. } if step == "perl"))
    );

    let mut m = ordered_model();
    let fx = run_request(&mut m, "hotplug");
    assert!(fx.iter().any(|e| matches!(e, Effect::RunStep { .. })));
    assert!(m.running.is_some());
    let fx = update(
        &mut m,
        Msg::NotNeeded {
            runbook: "ord".into(),
            step: "hotplug".into(),
            why: "no rc.conf".into(),
        },
    );
    carry_out(&mut m, fx);
    let state = &m.run("ord").unwrap().steps["hotplug"];
    assert_eq!(state.status, Status::Skipped);
    assert_eq!(state.reason.as_deref(), Some("not needed (no rc.conf)"));
    assert!(state.attempts.is_empty(), "nothing ran");
    assert!(m.running.is_none());
    // The step screen says when it applies and what it comes after.
    let text = |m: &Model, step: &str| -> String {
        screens::step::body_lines(m, "ord", step, 200)
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        text(&m, "hotplug").contains(
            "Applies only when `test -f /etc/rc.conf` succeeds; otherwise not needed (no rc.conf)."
        ),
        "{}",
        text(&m, "hotplug")
    );
    assert!(text(&m, "depclean").contains("Comes after: [ ] world"));
}

/// After re-attaching to a long step that then fails, the verdict is the Output screen's last
/// line (no box over the program's last lines), `s` and `d` work there, and `q` goes back to
/// the step.
#[test]
fn after_reattaching_a_failure_leaves_the_output_readable_and_its_keys_work() {
    use crate::core::progress::Attempt;
    let mut m = model();
    m.size = (80, 24);
    {
        let run = m.run_mut("demo");
        let state = run.steps.entry("update".into()).or_default();
        state.status = Status::Running;
        state.attempts.push(Attempt {
            number: 1,
            started: "2026-11-26T09:00:00Z".into(),
            log: Some("logs/demo@gw1/update.1.log".into()),
            ..Attempt::default()
        });
    }
    update(
        &mut m,
        Msg::Reattached {
            runbook: "demo".into(),
            step: "update".into(),
        },
    );
    assert!(matches!(m.screen(), Screen::Output { .. }));
    for i in 0..30 {
        update(&mut m, Msg::OutputLine(format!("!!! line {i}")));
    }
    // The runner records the end and tells the screens.
    let failed = RunOutcome {
        status: Status::Failed,
        exit: Some(Exit::Code(1)),
        failed_program: Some(0),
        message: "command 1 of 2 failed (exit 1): emerge --sync".into(),
    };
    crate::ui::testkit::runner_ends(&mut m, "demo", "update", failed);
    assert_eq!(m.status("demo", "update"), Status::Failed);
    // No box over the output: the verdict is its last line.
    assert!(m.message.is_none(), "{:?}", m.message);
    assert!(
        m.output
            .back()
            .unwrap()
            .text()
            .starts_with("fieldbook: FAILED")
    );
    // s asks why, for this step.
    keys(&mut m, &[Key::Char('s')]);
    assert!(matches!(
        &m.overlay,
        Some(Overlay::Prompt { purpose: PromptFor::SkipReason { step, .. }, .. }) if step == "update"
    ));
    keys(&mut m, &[Key::Ctrl('u'), Key::Esc]);
    assert!(matches!(m.screen(), Screen::Step { step, .. } if step == "update"));
    // Back on the output, q goes back to the step.
    keys(&mut m, &[Key::Char('o'), Key::Char('q')]);
    assert!(matches!(m.screen(), Screen::Step { step, .. } if step == "update"));
    // d (a failed step) asks why too.
    keys(&mut m, &[Key::Char('o'), Key::Char('d')]);
    assert!(matches!(
        &m.overlay,
        Some(Overlay::Prompt { purpose: PromptFor::DoneReason { step, .. }, .. }) if step == "update"
    ));
}

/// Issue 15 item 1: a run another fieldbook holds is offered read-only; followed, it shows the
/// holder's progress as it changes, and nothing can be run or marked here.
#[test]
fn a_held_run_is_offered_read_only_and_followed_without_running_or_marking() {
    let mut m = model();
    let open = keys(&mut m, &[Key::Enter]);
    assert_eq!(
        open,
        vec![Effect::OpenRun {
            runbook: "demo".into()
        }]
    );
    let held = "this run is open in another fieldbook (ana, pid 7 on gw1, since \
                2026-11-26T09:00:00Z) (lock L); it is read-only here";
    update(
        &mut m,
        Msg::RunHeld {
            runbook: "demo".into(),
            message: held.into(),
        },
    );
    let Some(Overlay::Confirm { question, .. }) = &m.overlay else {
        panic!("no question: {:?}", m.overlay)
    };
    assert!(question.contains("ana, pid 7 on gw1, since 2026-11-26T09:00:00Z"));
    assert!(question.contains("Follow it read-only?"));
    assert_eq!(
        keys(&mut m, &[Key::Char('y')]),
        vec![Effect::FollowRun {
            runbook: "demo".into()
        }]
    );
    // The holder's progress arrives and is shown.
    let mut theirs = crate::core::progress::Run {
        runbook: "demo".into(),
        target: "gw1".into(),
        ..Default::default()
    };
    theirs.steps.entry("read".into()).or_default().status = Status::Done;
    update(
        &mut m,
        Msg::Followed {
            runbook: "demo".into(),
            run: Some(Box::new(theirs)),
        },
    );
    assert_eq!(m.status("demo", "read"), Status::Done);
    // Nothing is run or marked here, and the screen says why.
    keys(&mut m, &[Key::Char('g'), Key::Down, Key::Enter]);
    assert!(matches!(m.screen(), Screen::Step { step, .. } if step == "update"));
    for k in ['r', 'd', 's', 'u', 'n'] {
        let fx = keys(&mut m, &[Key::Char(k)]);
        assert!(fx.is_empty(), "{k}: {fx:?}");
        assert!(m.overlay.is_none(), "{k}: {:?}", m.overlay);
        assert!(
            m.message
                .as_deref()
                .is_some_and(|t| t.starts_with("Read-only:")),
            "{k}: {:?}",
            m.message
        );
    }
    assert_eq!(m.status("demo", "update"), Status::Pending);
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    crate::ui::render(&m, area, &mut buf);
    let text: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("READ-ONLY"), "{text}");
    // Leaving stops following; the next open asks again.
    keys(&mut m, &[Key::Esc]);
    assert_eq!(keys(&mut m, &[Key::Char('q')]), vec![Effect::StopFollowing]);
    assert!(m.read_only.is_none());
    assert!(matches!(m.screen(), Screen::Home { .. }));
}

#[test]
fn declining_to_follow_a_held_run_goes_back_to_the_list_and_says_nothing_changed() {
    let mut m = model();
    keys(&mut m, &[Key::Enter]);
    update(
        &mut m,
        Msg::RunHeld {
            runbook: "demo".into(),
            message: "this run is open in another fieldbook (lock L)".into(),
        },
    );
    assert!(keys(&mut m, &[Key::Char('n')]).is_empty());
    assert!(matches!(m.screen(), Screen::Home { .. }));
    assert!(m.read_only.is_none());
    assert!(
        m.message
            .as_deref()
            .is_some_and(|t| t.contains("Not opened") && t.contains("nothing was run or changed")),
        "{:?}",
        m.message
    );
}

/// Issue 15 item 1, the corrupt case: after declining a fresh run the runbook is read-only,
/// the screen says nothing changed, and no key records anything.
#[test]
fn declining_a_fresh_run_over_an_unreadable_state_changes_nothing_and_says_so() {
    let mut m = model();
    keys(&mut m, &[Key::Enter]);
    update(
        &mut m,
        Msg::RunCorrupt {
            runbook: "demo".into(),
            message: "the saved progress in F could not be read (bad); it was moved to G".into(),
        },
    );
    for decline in [Key::Char('n'), Key::Esc] {
        m.read_only = None;
        update(
            &mut m,
            Msg::RunCorrupt {
                runbook: "demo".into(),
                message: "unreadable".into(),
            },
        );
        assert!(keys(&mut m, &[decline]).is_empty(), "{decline:?}");
        assert!(
            m.message
                .as_deref()
                .is_some_and(|t| t.starts_with("Nothing changed")),
            "{:?}",
            m.message
        );
        assert!(m.read_only_why("demo").is_some());
    }
    assert!(matches!(m.screen(), Screen::Runbook { .. }));
    keys(&mut m, &[Key::Char('g'), Key::Enter]);
    for k in ['r', 'd', 's'] {
        assert!(keys(&mut m, &[Key::Char(k)]).is_empty(), "{k}");
        assert!(m.overlay.is_none(), "{k}: {:?}", m.overlay);
    }
    assert!(m.run("demo").is_none_or(|r| r.steps.is_empty()));
}

/// Issue 17 item 10: a retry refused because a killed supervisor's program still runs offers to
/// stop it (asking first); the outcome is recorded on the step, and a program that survives
/// SIGKILL is said to, not claimed stopped.
#[test]
fn an_orphaned_program_is_stopped_only_after_a_yes_and_the_outcome_is_recorded() {
    let mut m = model();
    open_step(&mut m, 1);
    update(
        &mut m,
        Msg::Orphaned {
            runbook: "demo".into(),
            step: "update".into(),
            message: "step 'update': the program of its last attempt is still running".into(),
        },
    );
    assert!(
        matches!(&m.overlay, Some(Overlay::Confirm { question, .. }) if question.contains("Stop it now?"))
    );
    assert!(
        keys(&mut m, &[Key::Char('n')]).is_empty(),
        "no stops nothing"
    );
    update(
        &mut m,
        Msg::Orphaned {
            runbook: "demo".into(),
            step: "update".into(),
            message: "still running".into(),
        },
    );
    assert_eq!(
        keys(&mut m, &[Key::Char('y')]),
        vec![Effect::StopOrphans {
            runbook: "demo".into(),
            step: "update".into()
        }]
    );
    let fx = update(
        &mut m,
        Msg::OrphansStopped {
            runbook: "demo".into(),
            step: "update".into(),
            stopped: vec![41, 42],
            left: vec![42],
            on: None,
        },
    );
    carry_out(&mut m, fx);
    assert!(
        m.message
            .as_deref()
            .is_some_and(|t| t.contains("Pid 42 still runs after SIGKILL")),
        "{:?}",
        m.message
    );
    let notes = &m.run("demo").unwrap().steps["update"].notes;
    assert!(
        notes[0].text.contains("pid 41, 42") && notes[0].text.contains("but pid 42 still runs"),
        "{notes:?}"
    );
    let fx = update(
        &mut m,
        Msg::OrphansStopped {
            runbook: "demo".into(),
            step: "update".into(),
            stopped: vec![42],
            left: vec![],
            on: None,
        },
    );
    carry_out(&mut m, fx);
    assert!(
        m.message
            .as_deref()
            .is_some_and(|t| t.starts_with("Stopped pid 42"))
    );
    assert!(
        m.run("demo").unwrap().steps["update"].notes[1]
            .text
            .starts_with("stopped the program a killed supervisor left running (pid 42)")
    );
}

/// Issue 15 item 1: the holder of a followed run let it go: the follower is asked, and yes
/// opens the run for work (no longer read-only); no keeps following.
#[test]
fn a_followed_run_whose_holder_left_is_offered_for_work() {
    let mut m = model();
    keys(&mut m, &[Key::Enter]);
    update(
        &mut m,
        Msg::RunHeld {
            runbook: "demo".into(),
            message: "this run is open in another fieldbook (lock L)".into(),
        },
    );
    keys(&mut m, &[Key::Char('y')]);
    update(
        &mut m,
        Msg::HolderLeft {
            runbook: "demo".into(),
        },
    );
    assert!(
        matches!(&m.overlay, Some(Overlay::Confirm { question, .. }) if question.contains("let go"))
    );
    assert!(keys(&mut m, &[Key::Char('n')]).is_empty());
    assert!(m.read_only_why("demo").is_some(), "no keeps following");
    update(
        &mut m,
        Msg::HolderLeft {
            runbook: "demo".into(),
        },
    );
    assert_eq!(
        keys(&mut m, &[Key::Char('y')]),
        vec![
            Effect::StopFollowing,
            Effect::OpenRun {
                runbook: "demo".into()
            }
        ]
    );
    assert!(m.read_only.is_none());
}

fn a_preview(m: &mut Model, step: &str) -> Vec<Effect> {
    let preview = crate::ui::model::EditPreview {
        diff: vec![
            "--- /etc/hosts".into(),
            "+++ /etc/hosts".into(),
            "+x router".into(),
        ],
        already_applied: false,
        undo: None,
        changed_since: false,
        follow_symlinks: false,
    };
    update(
        m,
        Msg::EditPreviewed {
            runbook: "demo".into(),
            step: step.into(),
            result: Ok(preview),
        },
    )
}

fn diff_screens(m: &Model) -> usize {
    m.screens
        .iter()
        .filter(|s| matches!(s, Screen::Diff { .. }))
        .count()
}

/// Edit previews are asynchronous: a second `r` while the first preview is on its way asks
/// for no second one, only one diff screen opens, an answer for a step left is dropped, and no
/// apply is asked while a preview is in flight.
#[test]
fn a_second_r_on_an_edit_step_waits_for_the_preview_in_flight() {
    let mut m = model();
    open_step(&mut m, 3);
    assert!(matches!(m.screen(), Screen::Step { step, .. } if step == "hosts"));
    let first = keys(&mut m, &[Key::Char('r')]);
    assert!(
        matches!(&first[..], [Effect::PreviewEdit { step, .. }] if step == "hosts"),
        "{first:?} {:?} {:?}",
        m.overlay,
        m.message
    );
    let second = keys(&mut m, &[Key::Char('r')]);
    assert!(second.is_empty(), "a second preview was asked: {second:?}");
    assert_eq!(
        m.message.as_deref(),
        Some("Preview in progress: wait for the diff")
    );
    a_preview(&mut m, "hosts");
    assert_eq!(diff_screens(&m), 1);
    // A late answer (for a request made before) opens nothing more.
    a_preview(&mut m, "hosts");
    assert_eq!(diff_screens(&m), 1);
    keys(&mut m, &[Key::Esc]);
    assert!(matches!(m.screen(), Screen::Step { .. }));

    // Asked, then the technician leaves the step: the answer is dropped.
    let asked = keys(&mut m, &[Key::Char('r')]);
    assert_eq!(asked.len(), 1);
    keys(&mut m, &[Key::Esc]);
    assert!(matches!(m.screen(), Screen::Runbook { .. }));
    a_preview(&mut m, "hosts");
    assert_eq!(diff_screens(&m), 0);
    assert!(matches!(m.screen(), Screen::Runbook { .. }));
    assert!(m.overlay.is_none());
}
