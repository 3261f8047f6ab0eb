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
pub(crate) use modal::show_output;
use modal::{ask_cancel, ask_quit, confirm_key, help_key, orphans_stopped, prompt_key};
pub(crate) use steps::{begin_running, record};
use steps::{
    ended, is_running, not_needed, not_started, run_anyway, runbook_key, start_run, step_key,
    to_next_step, under_output,
};

/// Applies one message to the model and returns the work the loop must do. Marks the model
/// changed (so the loop draws) unless the message was a key with no meaning here.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => key_pressed(model, key),
        msg @ (Msg::Resized { .. }
        | Msg::OutputLine(_)
        | Msg::Output(_)
        | Msg::OutputPartial(_)) => {
            shown(model, msg);
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
        Msg::Resumed => vec![Effect::Redraw],
        msg @ (Msg::RunCorrupt { .. }
        | Msg::RunHeld { .. }
        | Msg::Followed { .. }
        | Msg::Orphaned { .. }
        | Msg::OrphansStopped { .. }
        | Msg::HolderLeft { .. }
        | Msg::RunLoaded(_)
        | Msg::RunOpened(_)) => run_news(model, msg),
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

/// The terminal's size or a running command's output changed: the view follows.
fn shown(model: &mut Model, msg: Msg) {
    match msg {
        Msg::Resized { cols, rows } => {
            model.size = (cols, rows);
        }
        Msg::OutputLine(line) => {
            model.push_output(line);
        }
        Msg::Output(lines) => {
            for line in lines {
                model.push_output(line);
            }
        }
        Msg::OutputPartial(line) => {
            model.set_output_partial(line);
        }
        _ => {}
    }
    clamp_scrolls(model);
}

/// News about a run itself: opened, loaded, unreadable, held by another fieldbook, let go,
/// or a program its killed supervisor left behind.
fn run_news(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
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
        Msg::RunLoaded(run) => {
            model.replace_run(*run);
            clamp_scrolls(model);
            Vec::new()
        }
        Msg::RunOpened(run) => {
            run_opened(model, *run);
            Vec::new()
        }
        _ => Vec::new(),
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
mod modal;
mod steps;
pub mod subnet;
#[cfg(test)]
mod tests;
