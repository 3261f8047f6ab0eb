//! `update(&mut Model, Msg) -> Vec<Effect>`: all behaviour of the app, with no I/O, so it is
//! tested by feeding messages and looking at the model and the effects.

use tui_input::{Input, InputRequest};

use crate::core::conditions;
use crate::core::progress::Status;
use crate::core::runbook::Action as StepAction;
use crate::core::runbook::{When, WhenTest};
use crate::core::runner::RunOutcome;
use crate::core::store::Transition;

use super::keys::{self, Action, Key, Scope};
use super::layout;
use super::model::{
    Cursor, Effect, Model, Msg, Overlay, Pending, PromptFor, ReadOnly, Running, Screen,
};
use super::screens;
use super::tools;

/// Applies one message to the model and returns the work the loop must do. Marks the model
/// changed (so the loop draws) unless the message was a key with no meaning here.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => key_pressed(model, key),
        Msg::Resized { cols, rows } => {
            model.size = (cols, rows);
            clamp_scrolls(model);
            Vec::new()
        }
        Msg::OutputLine(line) => {
            model.push_output(line);
            clamp_scrolls(model);
            Vec::new()
        }
        Msg::Output(lines) => {
            for line in lines {
                model.push_output(line);
            }
            clamp_scrolls(model);
            Vec::new()
        }
        Msg::OutputPartial(line) => {
            model.set_output_partial(line);
            clamp_scrolls(model);
            Vec::new()
        }
        Msg::NotNeeded { runbook, step, why } => not_needed(model, &runbook, &step, &why),
        // The probe said yes while the step waited as the running one: start it for real.
        Msg::Applies { runbook, step } if is_running(model, &runbook, &step) => {
            vec![Effect::RunStep { runbook, step }]
        }
        Msg::Applies { .. } => Vec::new(),
        Msg::AlreadyDone { check } => already_done(model, &check),
        Msg::Reattached { runbook, step } => {
            reattached(model, runbook, step);
            Vec::new()
        }
        Msg::StepEnded(outcome) => {
            let mut effects = ended(model, outcome);
            effects.extend(tools::after_run(model));
            effects
        }
        Msg::NotStarted(why) => {
            let mut effects = not_started(model, why);
            effects.extend(tools::after_run(model));
            effects
        }
        Msg::Tool(result) => tools::result(model, result),
        Msg::Fleet(result) => super::fleet::result(model, result),
        Msg::Problem(text) => {
            model.message = Some(text);
            Vec::new()
        }
        Msg::RunCorrupt { runbook, message } => confirm(
            model,
            format!(
                "{message}\nStart a fresh run of {runbook}? The unreadable copy stays where it \
                 is for you to inspect."
            ),
            Pending::StartFresh { runbook },
        ),
        Msg::RunHeld { runbook, message } => confirm(
            model,
            format!(
                "{message}\nFollow it read-only? Its progress is shown as that fieldbook saves \
                 it; nothing is run or marked here. (n: back to the list)"
            ),
            Pending::Follow { runbook },
        ),
        Msg::Followed { runbook, run } => {
            if model.read_only_why(&runbook).is_some()
                && let Some(run) = run
            {
                model.replace_run(*run);
                clamp_scrolls(model);
            }
            Vec::new()
        }
        Msg::Orphaned {
            runbook,
            step,
            message,
        } => confirm(
            model,
            format!(
                "{message}\nStop it now? (SIGTERM to it, SIGKILL after 5 s if it is still there; \
                 recorded on the step.) Then r runs the step again."
            ),
            Pending::StopOrphans { runbook, step },
        ),
        Msg::OrphansStopped {
            runbook,
            step,
            stopped,
            left,
            on,
        } => orphans_stopped(model, (&runbook, &step), &stopped, &left, on.as_deref()),
        Msg::HolderLeft { runbook } => {
            if model.read_only_why(&runbook).is_some() && model.overlay.is_none() {
                model.overlay = Some(Overlay::Confirm {
                    question: format!(
                        "The other fieldbook has let go of this run of {runbook}.\nOpen it for \
                         work here? (n: keep following it read-only)"
                    ),
                    on_yes: Pending::TakeOver { runbook },
                });
            }
            Vec::new()
        }
        Msg::Resumed => vec![Effect::Redraw],
        Msg::RunLoaded(run) => {
            model.replace_run(*run);
            clamp_scrolls(model);
            Vec::new()
        }
        Msg::RunOpened(run) => {
            run_opened(model, *run);
            Vec::new()
        }
        Msg::EditPreviewed {
            runbook,
            step,
            result,
        } => {
            let effects = edit::previewed(model, &runbook, &step, result);
            clamp_scrolls(model);
            effects
        }
        Msg::EditApplied {
            runbook,
            step,
            applied,
            error,
        } => edit::applied(model, &runbook, &step, applied, error),
        Msg::EditUndone {
            runbook,
            step,
            undone,
            error,
        } => edit::undone(model, &runbook, &step, undone, error),
    }
}

/// A key: its action in the current scope, or typed text.
fn key_pressed(model: &mut Model, key: Key) -> Vec<Effect> {
    let scope = model.scope();
    match keys::lookup(scope, key) {
        Some(action) => {
            model.message = None;
            act(model, action)
        }
        None => typed(model, scope, key),
    }
}

/// Asks a yes/no question; `on_yes` is what yes does.
fn confirm(model: &mut Model, question: String, on_yes: Pending) -> Vec<Effect> {
    model.overlay = Some(Overlay::Confirm { question, on_yes });
    Vec::new()
}

/// The step's check passed before it ran: nothing ran, and marking it done is offered.
fn already_done(model: &mut Model, check: &str) -> Vec<Effect> {
    let Some(running) = model.running.clone() else {
        return Vec::new();
    };
    let effects = not_started(model, format!("`{check}` says the step is already done"));
    confirm(
        model,
        format!(
            "The check `{check}` succeeded: this step looks already done. Mark it done without \
             running it? (No: nothing is run; r runs it anyway.)"
        ),
        Pending::MarkDone {
            runbook: running.runbook,
            step: running.step,
            reason: format!("already done: `{check}` succeeded"),
        },
    );
    effects
}

/// A long step an earlier fieldbook left running is followed again: its output screen, over
/// its runbook and step so `q` goes back to them.
fn reattached(model: &mut Model, runbook: String, step: String) {
    let title = model
        .step(&runbook, &step)
        .map(|(_, s)| s.title.clone())
        .unwrap_or_else(|| step.clone());
    model.message = Some(format!(
        "'{title}' is still running under its supervisor: re-attached to its output"
    ));
    model.clear_output();
    model.output_log = model
        .run(&runbook)
        .and_then(|r| r.steps.get(&step))
        .and_then(|s| s.attempts.last())
        .and_then(|a| a.log.clone());
    // Under the output: the runbook and the step, so `q` goes back to the step and its keys
    // (r, s, d) have somewhere to act once it ends.
    if !matches!(model.screens.last(), Some(Screen::Output { .. })) {
        under_output(model, &runbook, &step);
    }
    model.running = Some(Running { runbook, step });
    model.output_title = format!("{title} (re-attached)");
    if !matches!(model.screens.last(), Some(Screen::Output { .. })) {
        model.screens.push(Screen::Output {
            scroll: 0,
            follow: true,
        });
    }
    clamp_scrolls(model);
}

/// A run opened from the store: the cursor goes to its first unfinished step, and steps an
/// interruption left with an unknown outcome are named.
fn run_opened(model: &mut Model, run: crate::core::progress::Run) {
    let interrupted: Vec<String> = model
        .runbook(&run.runbook)
        .map(|rb| {
            rb.steps()
                .filter(|(_, s)| run.status(&s.id) == Status::Interrupted)
                .map(|(_, s)| s.title.clone())
                .collect()
        })
        .unwrap_or_default();
    let id = run.runbook.clone();
    model.replace_run(run);
    // The stored truth decides where "the first unfinished step" is.
    let index = model.first_unfinished(&id);
    if let Some(Screen::Runbook { runbook, cursor }) = model.screens.last_mut()
        && *runbook == id
    {
        cursor.index = index;
    }
    if let Some(first) = interrupted.first() {
        let more = if interrupted.len() > 1 {
            format!(" (and {} more)", interrupted.len() - 1)
        } else {
            String::new()
        };
        model.message = Some(format!(
            "Interrupted, outcome unknown: {first}{more}. Check it, then r runs it again or d \
             marks it done"
        ));
    }
    clamp_scrolls(model);
}

/// Keys without a binding: typed text in a prompt, otherwise ignored.
fn typed(model: &mut Model, scope: Scope, key: Key) -> Vec<Effect> {
    if scope == Scope::Prompt
        && let (Key::Char(c), Some(Overlay::Prompt { input, .. })) = (key, &mut model.overlay)
    {
        input.handle(InputRequest::InsertChar(c));
    }
    if let (Scope::Form, Key::Char(c)) = (scope, key) {
        form::typed(model, c);
    }
    Vec::new()
}

fn act(model: &mut Model, action: Action) -> Vec<Effect> {
    match model.scope() {
        Scope::Help => help_key(model, action),
        Scope::Confirm => confirm_key(model, action),
        Scope::Leave => tools::leave_key(model, action),
        Scope::Prompt => prompt_key(model, action),
        _ => match action {
            Action::Help => {
                model.overlay = Some(Overlay::Help { scroll: 0 });
                Vec::new()
            }
            Action::Redraw => vec![Effect::Redraw],
            Action::Suspend => vec![Effect::Suspend],
            // Ctrl-C asks whether to quit, never cancels: a stray Ctrl-C over a slow line must
            // not end a six-hour emerge (`c` on the Output screen cancels, after asking).
            Action::Interrupt => ask_quit(model, true),
            Action::Quit => ask_quit(model, false),
            _ => screen_key(model, action),
        },
    }
}

/// Ctrl-C or `c` while a command runs: ask before cancelling (a mistyped key at 9600 baud must
/// not end a two-hour emerge).
fn ask_cancel(model: &mut Model) -> Vec<Effect> {
    let Some(r) = &model.running else {
        model.message = Some("No command is running".into());
        return Vec::new();
    };
    model.overlay = Some(Overlay::Confirm {
        question: format!(
            "Cancel the running command of step {}? It gets SIGINT, then SIGTERM, then SIGKILL.",
            r.step
        ),
        on_yes: Pending::Cancel,
    });
    Vec::new()
}

fn ask_quit(model: &mut Model, always_ask: bool) -> Vec<Effect> {
    let question = match &model.running {
        Some(r) => {
            let long = model
                .step(&r.runbook, &r.step)
                .is_some_and(|(_, s)| matches!(&s.action, StepAction::Run(spec) if spec.long));
            if long {
                format!(
                    "Step {} is still running. Quit fieldbook? The step keeps running under \
                     its supervisor; the next fieldbook re-attaches to it.",
                    r.step
                )
            } else {
                format!(
                    "Step {} is still running. Quit fieldbook? Its command will be stopped and \
                     the step recorded as interrupted.",
                    r.step
                )
            }
        }
        None if always_ask => "Quit fieldbook?".to_string(),
        None => return vec![Effect::Quit],
    };
    model.overlay = Some(Overlay::Confirm {
        question,
        on_yes: Pending::Quit,
    });
    Vec::new()
}

fn help_key(model: &mut Model, action: Action) -> Vec<Effect> {
    let page = layout::page(model.size);
    if let Some(Overlay::Help { scroll }) = &mut model.overlay {
        match action {
            Action::Up => *scroll = scroll.saturating_sub(1),
            Action::Down => *scroll += 1,
            Action::PageUp => *scroll = scroll.saturating_sub(page),
            Action::PageDown => *scroll += page,
            Action::Top => *scroll = 0,
            Action::Bottom => *scroll = usize::MAX,
            Action::Redraw => return vec![Effect::Redraw],
            _ => model.overlay = None,
        }
    }
    clamp_scrolls(model);
    Vec::new()
}

fn confirm_key(model: &mut Model, action: Action) -> Vec<Effect> {
    match action {
        Action::Redraw => vec![Effect::Redraw],
        Action::Yes => match model.overlay.take() {
            Some(Overlay::Confirm { on_yes, .. }) => match on_yes {
                Pending::Quit => vec![Effect::Quit],
                Pending::StartFresh { runbook } => vec![Effect::OpenRunFresh { runbook }],
                Pending::Follow { runbook } => follow(model, runbook),
                Pending::TakeOver { runbook } => {
                    model.read_only = None;
                    model.message = None;
                    // Opened as any run is: if another fieldbook took it meanwhile, it is
                    // offered read-only again.
                    vec![Effect::StopFollowing, Effect::OpenRun { runbook }]
                }
                Pending::StopOrphans { runbook, step } => {
                    model.message = Some(
                        "Stopping the program its killed supervisor left running (up to 10 s)..."
                            .into(),
                    );
                    vec![Effect::StopOrphans { runbook, step }]
                }
                Pending::Run { runbook, step } => start_run(model, &runbook, &step),
                Pending::RunAnyway {
                    runbook,
                    step,
                    note,
                    ..
                } => run_anyway(model, &runbook, &step, note),
                Pending::Cancel if model.running.is_some() => {
                    model.message = Some("Cancelling: SIGINT, then SIGTERM, then SIGKILL".into());
                    vec![Effect::CancelRun]
                }
                Pending::Cancel => Vec::new(),
                Pending::MarkDone {
                    runbook,
                    step,
                    reason,
                } => {
                    vec![record(
                        &runbook,
                        Transition::MarkedDone {
                            step,
                            reason: Some(reason),
                        },
                    )]
                }
                Pending::Tool(what) => tools::confirmed(model, what),
                other => edit::confirmed(model, other),
            },
            _ => Vec::new(),
        },
        // No to a `when` question: the step does not apply, recorded as a probe's no is.
        Action::No => match model.overlay.take() {
            Some(Overlay::Confirm {
                on_yes:
                    Pending::RunAnyway {
                        runbook,
                        step,
                        not_needed: Some(why),
                        ..
                    },
                ..
            }) => not_needed(model, &runbook, &step, &why),
            Some(Overlay::Confirm {
                on_yes: pending @ (Pending::StartFresh { .. } | Pending::Follow { .. }),
                ..
            }) => declined_open(model, pending),
            _ => Vec::new(),
        },
        _ => match model.overlay.take() {
            // Esc on "start fresh?" or "follow?" is a no: the run is not opened for work.
            Some(Overlay::Confirm {
                on_yes: pending @ (Pending::StartFresh { .. } | Pending::Follow { .. }),
                ..
            }) => declined_open(model, pending),
            _ => Vec::new(),
        },
    }
}

/// The orphaned programs were signalled: the outcome is recorded on the step as a note (what
/// was stopped, or what still runs) and said on the status line.
fn orphans_stopped(
    model: &mut Model,
    (runbook, step): (&str, &str),
    stopped: &[u32],
    left: &[u32],
    on: Option<&str>,
) -> Vec<Effect> {
    let at = on.map(|host| format!(" on {host}")).unwrap_or_default();
    let list = |pids: &[u32]| {
        pids.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (note, message) = if stopped.is_empty() {
        (
            None,
            "Nothing to stop: the program had already ended; r runs the step again".to_string(),
        )
    } else if left.is_empty() {
        let text = format!(
            "stopped the program a killed supervisor left running{at} (pid {}): SIGTERM, then \
             SIGKILL if needed",
            list(stopped)
        );
        (
            Some(text),
            format!("Stopped pid {}{at}; r runs the step again", list(stopped)),
        )
    } else {
        let text = format!(
            "tried to stop the program a killed supervisor left running{at} (pid {}), but pid \
             {} still runs after SIGKILL",
            list(stopped),
            list(left)
        );
        (
            Some(text),
            format!(
                "Pid {} still runs after SIGKILL (stuck in the kernel?); the step cannot run \
                 again until it is gone",
                list(left)
            ),
        )
    };
    model.message = Some(message);
    note.map(|text| {
        record(
            runbook,
            Transition::Noted {
                step: step.to_string(),
                text,
            },
        )
    })
    .into_iter()
    .collect()
}

/// Yes to following a run another fieldbook holds: the runbook stays open read-only and the
/// loop keeps reading the run as its holder saves it.
fn follow(model: &mut Model, runbook: String) -> Vec<Effect> {
    model.read_only = Some(ReadOnly {
        runbook: runbook.clone(),
        why: "another fieldbook holds this run; it is followed read-only here (q leaves, \
              then open it again to work on it once that one has left)"
            .into(),
    });
    model.message = Some(
        "Following read-only: progress refreshes as the other fieldbook saves it; nothing is \
         run or marked here"
            .into(),
    );
    vec![Effect::FollowRun { runbook }]
}

/// No to opening a run for work (start fresh over an unreadable state, or follow a held
/// run): nothing was changed. A held run goes back to the list; an unreadable one stays on
/// screen read-only, its saved progress unknown, and the screen says so.
fn declined_open(model: &mut Model, pending: Pending) -> Vec<Effect> {
    let (Pending::StartFresh { runbook } | Pending::Follow { runbook }) = &pending else {
        return Vec::new();
    };
    let on_runbook =
        matches!(model.screens.last(), Some(Screen::Runbook { runbook: r, .. }) if r == runbook);
    if matches!(pending, Pending::Follow { .. }) {
        if on_runbook {
            pop(model);
        }
        model.message = Some(format!(
            "Not opened: {runbook} is open in another fieldbook; nothing was run or changed"
        ));
        return Vec::new();
    }
    model.read_only = Some(ReadOnly {
        runbook: runbook.clone(),
        why: "its saved progress could not be read and no fresh run was started; nothing is \
              run or marked (q leaves; opening it again asks again)"
            .into(),
    });
    model.message = Some(
        "Nothing changed: the unreadable copy stays where it was moved. Read-only: steps \
         show no progress because none could be read; nothing is run or marked"
            .into(),
    );
    Vec::new()
}

/// Opens the Output screen at its end, following new output.
pub(crate) fn show_output(model: &mut Model) -> Vec<Effect> {
    model.screens.push(Screen::Output {
        scroll: usize::MAX,
        follow: true,
    });
    Vec::new()
}

fn prompt_key(model: &mut Model, action: Action) -> Vec<Effect> {
    let Some(Overlay::Prompt { input, .. }) = &mut model.overlay else {
        return Vec::new();
    };
    if let Some(request) = form::request_of(action) {
        input.handle(request);
        return Vec::new();
    }
    match action {
        Action::Redraw => vec![Effect::Redraw],
        Action::Back => {
            // Esc may be the first byte of a split arrow key: it never throws text away.
            if input.value().is_empty() {
                model.overlay = None;
            } else {
                model.message =
                    Some("Enter saves the text; Ctrl-U clears it, then Esc closes".into());
            }
            Vec::new()
        }
        Action::Submit => submit_prompt(model),
        _ => Vec::new(),
    }
}

fn submit_prompt(model: &mut Model) -> Vec<Effect> {
    let Some(Overlay::Prompt { input, purpose, .. }) = &model.overlay else {
        return Vec::new();
    };
    let text = input.value().trim().to_string();
    let purpose = purpose.clone();
    let done_reason = matches!(purpose, PromptFor::DoneReason { .. });
    match purpose {
        PromptFor::SkipReason { runbook, step } | PromptFor::DoneReason { runbook, step } => {
            let ask = if done_reason {
                "marking it done"
            } else {
                "skipping"
            };
            if text.is_empty() {
                model.message = Some(format!("Type the reason for {ask}, then Enter"));
                return Vec::new();
            }
            model.overlay = None;
            let transition = if done_reason {
                Transition::MarkedDone {
                    step: step.clone(),
                    reason: Some(text),
                }
            } else {
                Transition::Skipped {
                    step: step.clone(),
                    reason: text,
                }
            };
            to_next_step(model, &runbook, &step);
            vec![record(&runbook, transition)]
        }
        PromptFor::OwnSid => tools::own_sid_typed(model, &text),
        PromptFor::Note { runbook, step } => {
            model.overlay = None;
            if text.is_empty() {
                return Vec::new();
            }
            vec![record(&runbook, Transition::Noted { step, text })]
        }
    }
}

fn move_cursor(index: usize, len: usize, action: Action, page: usize) -> usize {
    let last = len.saturating_sub(1);
    match action {
        Action::Up => index.saturating_sub(1),
        Action::Down => (index + 1).min(last),
        Action::PageUp => index.saturating_sub(page),
        Action::PageDown => (index + page).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => index,
    }
    .min(last)
}

fn scroll_by(scroll: usize, action: Action, page: usize) -> usize {
    match action {
        Action::Up => scroll.saturating_sub(1),
        Action::Down => scroll + 1,
        Action::PageUp => scroll.saturating_sub(page),
        Action::PageDown => scroll + page,
        Action::Top => 0,
        Action::Bottom | Action::Follow => usize::MAX,
        _ => scroll,
    }
}

fn screen_key(model: &mut Model, action: Action) -> Vec<Effect> {
    let page = layout::page(model.size);
    let top = model.screens.len() - 1;
    let screen = model.screens[top].clone();
    let effects = match screen {
        Screen::Home { cursor } => home_key(model, cursor, action, page),
        Screen::Runbook { runbook, cursor } => runbook_key(model, &runbook, cursor, action, page),
        Screen::Step {
            runbook,
            step,
            scroll,
        } => step_key(model, &runbook, &step, scroll, action, page),
        Screen::Tool { .. } => tools::key(model, action),
        Screen::Fleet { .. } | Screen::FleetReport { .. } => super::fleet::key(model, action),
        Screen::Output { scroll, follow } => {
            match action {
                Action::Back => pop(model),
                Action::Cancel => return ask_cancel(model),
                // After the step ended: retry, skip or mark done without going back first.
                Action::Run | Action::Skip | Action::MarkDone => {
                    if model.running.is_some() {
                        model.message =
                            Some("The step is running: wait for it to end (c cancels)".into());
                        return Vec::new();
                    }
                    match model.screens.get(top.wrapping_sub(1)).cloned() {
                        Some(Screen::Step {
                            runbook,
                            step,
                            scroll,
                        }) => {
                            pop(model);
                            let effects = step_key(model, &runbook, &step, scroll, action, page);
                            clamp_scrolls(model);
                            return effects;
                        }
                        _ => {
                            model.message = Some("Open the step (q) to do that".into());
                        }
                    }
                }
                Action::ToggleWrap => {
                    model.output_wrap = !model.output_wrap;
                    model.message = Some(if model.output_wrap {
                        "Long lines wrap (w: one row per line)".into()
                    } else {
                        "One row per line, cut at the edge (w: wrap)".into()
                    });
                }
                _ => {
                    let s = scroll_by(scroll, action, page);
                    model.screens[top] = Screen::Output {
                        scroll: s,
                        follow: action == Action::Follow || (follow && s >= scroll),
                    };
                }
            }
            Vec::new()
        }
        Screen::Diff {
            runbook,
            step,
            preview,
            scroll,
        } => edit::diff_key(model, &runbook, &step, &preview, scroll, action, page),
        Screen::Form { .. } => form::form_key(model, action),
        Screen::SubnetMenu { .. } | Screen::CidrTable { .. } => {
            subnet::list_key(model, action, page)
        }
        Screen::SubnetCalc { .. } => subnet::calc_key(model, action, page),
        Screen::Quiz(_) => subnet::quiz_key(model, action),
    };
    clamp_scrolls(model);
    effects
}

fn pop(model: &mut Model) {
    if model.screens.len() > 1 {
        model.screens.pop();
    }
}

fn home_key(model: &mut Model, cursor: Cursor, action: Action, page: usize) -> Vec<Effect> {
    match action {
        Action::Open => {
            if let Some(&i) = model.order.get(cursor.index) {
                let id = model.runbooks[i].id.clone();
                model.ssh_advice = false;
                return open_runbook(model, &id);
            }
        }
        Action::Dismiss => model.ssh_advice = false,
        Action::TogglePractice => {
            if model.running.is_some() {
                model.message = Some("A command is running: wait for it to end".into());
            } else if model.settings.practice_only {
                model.message = Some(
                    "This session started with --practice and opened no machine: quit and \
                     start without --practice to run anything for real"
                        .into(),
                );
            } else {
                model.settings.practice = !model.settings.practice;
                model.message = Some(if model.settings.practice {
                    "PRACTICE mode: nothing is executed, no file is touched".into()
                } else {
                    "Practice mode off: commands run for real".into()
                });
            }
        }
        Action::Calculator => subnet::open(model),
        _ => {
            let index = move_cursor(cursor.index, model.order.len(), action, page);
            if let Some(Screen::Home { cursor }) = model.screens.last_mut() {
                cursor.index = index;
            }
        }
    }
    Vec::new()
}

/// Pushes a runbook's screen with the cursor on its first unfinished step, and asks the loop
/// to open its run in the progress store.
pub fn open_runbook(model: &mut Model, id: &str) -> Vec<Effect> {
    let index = model.first_unfinished(id);
    model.screens.push(Screen::Runbook {
        runbook: id.to_string(),
        cursor: Cursor { index },
    });
    vec![Effect::OpenRun {
        runbook: id.to_string(),
    }]
}

/// `fieldbook run ID` opens straight on a runbook: the SSH-without-screen advice of the runbook
/// list is shown there as a message (kept in front of any other), then counts as seen.
pub fn ssh_advice_on_open(model: &mut Model) {
    if !std::mem::take(&mut model.ssh_advice) {
        return;
    }
    let advice = screens::home::SSH_ADVICE.replace(" (x: dismiss)", "");
    model.message = Some(match model.message.take() {
        Some(other) => format!("{advice} | {other}"),
        None => advice,
    });
}

fn step_id_at(model: &Model, runbook: &str, index: usize) -> Option<String> {
    model
        .runbook(runbook)?
        .steps()
        .nth(index)
        .map(|(_, s)| s.id.clone())
}

fn runbook_key(
    model: &mut Model,
    runbook: &str,
    cursor: Cursor,
    action: Action,
    page: usize,
) -> Vec<Effect> {
    let Some(rb) = model.runbook(runbook) else {
        pop(model);
        return Vec::new();
    };
    let count = rb.step_count();
    // First step index of each section, for Tab / Shift-Tab.
    let mut starts = Vec::new();
    let mut n = 0;
    for s in &rb.sections {
        starts.push(n);
        n += s.steps.len();
    }
    let index = match action {
        Action::Open => {
            if let Some(step) = step_id_at(model, runbook, cursor.index) {
                model.screens.push(Screen::Step {
                    runbook: runbook.to_string(),
                    step,
                    scroll: 0,
                });
            }
            return Vec::new();
        }
        Action::Back => {
            pop(model);
            if model.read_only_why(runbook).is_some() {
                model.read_only = None;
                return vec![Effect::StopFollowing];
            }
            // Leaving the runbook releases its run, unless one of its steps still runs here.
            let running_here = model.running.as_ref().is_some_and(|r| r.runbook == runbook);
            return if running_here {
                Vec::new()
            } else {
                vec![Effect::CloseRun {
                    runbook: runbook.to_string(),
                }]
            };
        }
        Action::ShowOutput => {
            model.screens.push(Screen::Output {
                scroll: usize::MAX,
                follow: true,
            });
            return Vec::new();
        }
        Action::Next => starts
            .iter()
            .copied()
            .find(|&s| s > cursor.index && s < count)
            .unwrap_or(cursor.index),
        Action::Previous => starts
            .iter()
            .copied()
            .rev()
            .find(|&s| s < cursor.index)
            .unwrap_or(0),
        _ => move_cursor(cursor.index, count, action, page),
    };
    if let Some(Screen::Runbook { cursor, .. }) = model.screens.last_mut() {
        cursor.index = index;
    }
    Vec::new()
}

fn step_key(
    model: &mut Model,
    runbook: &str,
    step: &str,
    scroll: usize,
    action: Action,
    page: usize,
) -> Vec<Effect> {
    let target = (runbook.to_string(), step.to_string());
    if let Some(why) = model.read_only_why(runbook)
        && matches!(
            action,
            Action::Run | Action::Undo | Action::MarkDone | Action::Skip | Action::Note
        )
    {
        model.message = Some(format!("Read-only: {why}"));
        return Vec::new();
    }
    match action {
        Action::Back => {
            edit::left_step(model);
            pop(model);
            Vec::new()
        }
        Action::Run => request_run(model, runbook, step),
        Action::Undo => edit::request_undo(model, runbook, step),
        Action::MarkDone => {
            if is_running(model, runbook, step) {
                model.message = Some("The step is running: wait for it to end".into());
                return Vec::new();
            }
            // Overriding a recorded failure, or declaring done a step fieldbook never ran, needs
            // the technician's reason in the handover report; finishing a manual step does not.
            let never_ran = model
                .step(runbook, step)
                .is_some_and(|(_, s)| !matches!(s.action, StepAction::Manual))
                && model
                    .run(runbook)
                    .and_then(|r| r.steps.get(step))
                    .is_none_or(|s| s.attempts.is_empty());
            let status = model.status(runbook, step);
            let overriding = matches!(
                status,
                Status::Failed | Status::Interrupted | Status::Cancelled
            );
            if overriding || (never_ran && status != Status::Done) {
                model.overlay = Some(Overlay::Prompt {
                    title: "Why mark it done? (e.g. ran it by hand)".into(),
                    input: Input::default(),
                    purpose: PromptFor::DoneReason {
                        runbook: target.0,
                        step: target.1,
                    },
                });
                return Vec::new();
            }
            to_next_step(model, runbook, step);
            vec![record(
                runbook,
                Transition::MarkedDone {
                    step: step.to_string(),
                    reason: None,
                },
            )]
        }
        Action::Skip | Action::Note => {
            if action == Action::Skip && is_running(model, runbook, step) {
                model.message = Some("The step is running: wait for it to end".into());
                return Vec::new();
            }
            let (title, purpose) = if action == Action::Skip {
                (
                    "Why skip this step?",
                    PromptFor::SkipReason {
                        runbook: target.0,
                        step: target.1,
                    },
                )
            } else {
                (
                    "Note",
                    PromptFor::Note {
                        runbook: target.0,
                        step: target.1,
                    },
                )
            };
            model.overlay = Some(Overlay::Prompt {
                title: title.into(),
                input: Input::default(),
                purpose,
            });
            Vec::new()
        }
        Action::ShowOutput => show_output(model),
        Action::Next | Action::Previous => {
            step_to(model, runbook, step, action == Action::Next);
            Vec::new()
        }
        _ => {
            let s = scroll_by(scroll, action, page);
            if let Some(Screen::Step { scroll, .. }) = model.screens.last_mut() {
                *scroll = s;
            }
            Vec::new()
        }
    }
}

/// Puts the runbook's screen and the step's screen on the stack (the Output screen goes on top
/// of them), unless the step's screen is already on top.
fn under_output(model: &mut Model, runbook: &str, step: &str) {
    if matches!(model.screens.last(), Some(Screen::Step { runbook: r, step: s, .. }) if r == runbook && s == step)
    {
        return;
    }
    let index = model
        .runbook(runbook)
        .and_then(|rb| rb.steps().position(|(_, s)| s.id == step))
        .unwrap_or(0);
    if !matches!(model.screens.last(), Some(Screen::Runbook { runbook: r, .. }) if r == runbook) {
        model.screens.push(Screen::Runbook {
            runbook: runbook.to_string(),
            cursor: Cursor { index },
        });
    }
    model.screens.push(Screen::Step {
        runbook: runbook.to_string(),
        step: step.to_string(),
        scroll: 0,
    });
}

/// Shows the next (or previous) step in place of `step` on the step screen, with the runbook
/// list's cursor following it.
fn step_to(model: &mut Model, runbook: &str, step: &str, next: bool) {
    let Some(rb) = model.runbook(runbook) else {
        return;
    };
    let ids: Vec<String> = rb.steps().map(|(_, s)| s.id.clone()).collect();
    let Some(i) = ids.iter().position(|s| s == step) else {
        return;
    };
    let j = if next {
        (i + 1).min(ids.len() - 1)
    } else {
        i.saturating_sub(1)
    };
    let n = model.screens.len();
    model.screens[n - 1] = Screen::Step {
        runbook: runbook.to_string(),
        step: ids[j].clone(),
        scroll: 0,
    };
    if n >= 2
        && let Screen::Runbook { cursor, .. } = &mut model.screens[n - 2]
    {
        cursor.index = j;
    }
}

/// After `d` or `s` the technician is taken to the next step, when the step screen of the
/// step just finished is on top.
fn to_next_step(model: &mut Model, runbook: &str, step: &str) {
    if matches!(model.screens.last(), Some(Screen::Step { runbook: r, step: s, .. }) if r == runbook && s == step)
    {
        step_to(model, runbook, step, true);
    }
}

fn is_running(model: &Model, runbook: &str, step: &str) -> bool {
    model
        .running
        .as_ref()
        .is_some_and(|r| r.runbook == runbook && r.step == step)
}

fn request_run(model: &mut Model, runbook: &str, step: &str) -> Vec<Effect> {
    let Some((_, s)) = model.step(runbook, step) else {
        return Vec::new();
    };
    if let StepAction::Tool { tool } = s.action {
        return tools::open(model, runbook, step, tool);
    }
    if model.running.is_some() {
        model.message = Some("A command is already running: wait for it to end".into());
        return Vec::new();
    }
    if let Some(asked) = order_or_question(model, runbook, step) {
        return asked;
    }
    let Some((_, s)) = model.step(runbook, step) else {
        return Vec::new();
    };
    match &s.action {
        StepAction::Run(_) => {}
        StepAction::Manual => {
            model.message = Some("A manual step: do it by hand, then press d".into());
            return Vec::new();
        }
        StepAction::Edit { .. } => return edit::request_preview(model, runbook, step),
        StepAction::Form { .. } => {
            form::open(model, runbook, step);
            return Vec::new();
        }
        other => {
            model.message = Some(format!(
                "Running {} steps is not available yet",
                other.kind_name()
            ));
            return Vec::new();
        }
    }
    let question = match (model.status(runbook, step), &s.confirm) {
        (Status::Done, _) => Some("This step is already done. Run it again?".to_string()),
        (_, Some(q)) => Some(q.clone()),
        _ => None,
    };
    match question {
        Some(question) => {
            model.overlay = Some(Overlay::Confirm {
                question,
                on_yes: Pending::Run {
                    runbook: runbook.into(),
                    step: step.into(),
                },
            });
            Vec::new()
        }
        None => start_run(model, runbook, step),
    }
}

/// Before a step starts: steps it comes `after` that are not finished, and a `when` question,
/// are asked about first (a probe is answered where the step starts, by the app). `None`: go.
fn order_or_question(model: &mut Model, runbook: &str, step: &str) -> Option<Vec<Effect>> {
    if model.gate_passed.take() == Some((runbook.to_string(), step.to_string())) {
        return None;
    }
    let (_, s) = model.step(runbook, step)?;
    let unmet: Vec<String> = conditions::unmet_prerequisites(s, |id| model.status(runbook, id))
        .into_iter()
        .map(str::to_string)
        .collect();
    let question = match &s.when {
        Some(When {
            test: WhenTest::Ask(q),
            not_needed,
        }) => Some((q.trim().to_string(), not_needed.clone())),
        _ => None,
    };
    let (question, note, not_needed) = if !unmet.is_empty() {
        let ids: Vec<&str> = unmet.iter().map(String::as_str).collect();
        let first = conditions::out_of_order_message(s, &ids)
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        (
            format!(
                "This step {}. Run it anyway? (The run records that it was forced.)",
                first.replacen(&format!("'{}' ", s.id), "", 1)
            ),
            Some(conditions::forced_note(&unmet).replace("with --force", "in the app")),
            None,
        )
    } else if let Some((q, why)) = question {
        (
            format!("{q} (Yes: run the step. No: it is recorded not needed, nothing is run.)"),
            None,
            Some(why),
        )
    } else {
        return None;
    };
    model.overlay = Some(Overlay::Confirm {
        question,
        on_yes: Pending::RunAnyway {
            runbook: runbook.into(),
            step: step.into(),
            note,
            not_needed,
        },
    });
    Some(Vec::new())
}

/// The technician said yes to running a step out of order or to its question: record the
/// note, then ask the usual questions (confirm, already done) and run it.
fn run_anyway(model: &mut Model, runbook: &str, step: &str, note: Option<String>) -> Vec<Effect> {
    let mut effects = Vec::new();
    if let Some(text) = note {
        let step = step.to_string();
        effects.push(record(runbook, Transition::Noted { step, text }));
    }
    model.gate_passed = Some((runbook.to_string(), step.to_string()));
    effects.extend(request_run(model, runbook, step));
    effects
}

/// A probe said the step does not apply: nothing was started; the step is recorded skipped, `[-] not needed (why)`.
fn not_needed(model: &mut Model, runbook: &str, step: &str, why: &str) -> Vec<Effect> {
    let reason = conditions::not_needed_outcome(why);
    let mut effects = if is_running(model, runbook, step) {
        not_started(model, reason.clone())
    } else {
        Vec::new()
    };
    let skipped = Transition::Skipped {
        step: step.to_string(),
        reason: reason.clone(),
    };
    effects.push(record(runbook, skipped));
    model.message = Some(format!("[-] {reason}"));
    effects
}

/// One named change of a run's progress, for the loop to record.
pub(crate) fn record(runbook: &str, transition: Transition) -> Effect {
    Effect::Record {
        runbook: runbook.to_string(),
        transition,
    }
}

/// Marks the step as the one running (the runner records its attempt when it really starts)
/// and empties the output buffer for it. One home for runbook steps and tool screens alike.
pub(crate) fn begin_running(model: &mut Model, runbook: &str, step: &str) {
    let title = model
        .step(runbook, step)
        .map(|(_, s)| model.filled(runbook, &s.title))
        .unwrap_or_default();
    model.running = Some(Running {
        runbook: runbook.into(),
        step: step.into(),
    });
    model.clear_output();
    model.output_title = title;
}

fn start_run(model: &mut Model, runbook: &str, step: &str) -> Vec<Effect> {
    begin_running(model, runbook, step);
    model.screens.push(Screen::Output {
        scroll: 0,
        follow: true,
    });
    vec![Effect::RunStep {
        runbook: runbook.into(),
        step: step.into(),
    }]
}

/// The step did not start; nothing was recorded.
fn not_started(model: &mut Model, why: String) -> Vec<Effect> {
    if model.running.take().is_none() {
        return Vec::new();
    }
    let message = format!("Not run: {why}");
    model.push_output(message.clone());
    if !matches!(model.screens.last(), Some(Screen::Output { .. })) {
        model.message = Some(message);
    }
    clamp_scrolls(model);
    Vec::new()
}

/// The runner's verdict (already recorded by the runner): a failure is announced with its
/// exit status.
fn ended(model: &mut Model, outcome: RunOutcome) -> Vec<Effect> {
    if model.running.take().is_none() {
        return Vec::new();
    }
    let message = match outcome.status {
        Status::Done => format!("Done: {}", outcome.message),
        Status::Cancelled => "Cancelled".to_string(),
        Status::Interrupted => format!("Interrupted: {}", outcome.message),
        _ => format!(
            "FAILED: {}. Read the lines above and the step's why; r retries, s skips (asks why), d marks done",
            outcome.message
        ),
    };
    model.push_output(format!("fieldbook: {message}"));
    // On the Output screen the verdict is its last line, read whole: a box over the bottom
    // would hide the program's last lines, the ones that say why.
    model.message =
        (!matches!(model.screens.last(), Some(Screen::Output { .. }))).then_some(message);
    clamp_scrolls(model);
    Vec::new()
}

/// Keeps every scroll offset within its content, so scrolling back after overshooting the end
/// takes effect at once. Follow mode pins the output to its last page.
pub fn clamp_scrolls(model: &mut Model) {
    let size = model.size;
    let body = layout::page(size);
    let output_max = screens::output::last_page_start(
        model,
        screens::output::text_width(size),
        screens::output::body_rows(model, size),
    );
    let step_lengths: Vec<Option<usize>> = model
        .screens
        .iter()
        .map(|s| match s {
            Screen::Step { runbook, step, .. } => Some(
                screens::step::body_lines(model, runbook, step, layout::text_width(size)).len(),
            ),
            _ => None,
        })
        .collect();
    for (screen, len) in model.screens.iter_mut().zip(step_lengths) {
        match screen {
            Screen::Output { scroll, follow } => {
                if *follow {
                    *scroll = output_max;
                } else {
                    *scroll = (*scroll).min(output_max);
                    if *scroll == output_max {
                        *follow = true;
                    }
                }
            }
            Screen::Step { scroll, .. } => {
                *scroll = (*scroll).min(len.unwrap_or(0).saturating_sub(body));
            }
            Screen::Diff {
                preview, scroll, ..
            } => {
                let len = screens::diff::body_lines(preview).len();
                *scroll = (*scroll).min(len.saturating_sub(body));
            }
            _ => {}
        }
    }
    if matches!(model.overlay, Some(Overlay::Help { .. })) {
        let width = layout::help_area(ratatui::layout::Rect::new(0, 0, size.0, size.1))
            .width
            .saturating_sub(4);
        let len = screens::help::lines(model.screen().scope(), &model.terminal, width.into()).len();
        let max = len.saturating_sub(layout::help_page(size));
        if let Some(Overlay::Help { scroll }) = &mut model.overlay {
            *scroll = (*scroll).min(max);
        }
    }
}

pub(crate) mod edit;
pub mod form;
pub mod subnet;
#[cfg(test)]
mod tests;
