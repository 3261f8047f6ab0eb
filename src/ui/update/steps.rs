//! Keys on the runbook and step screens, and a step's way from asked-for to running to ended.

use super::*;

pub(super) fn step_id_at(model: &Model, runbook: &str, index: usize) -> Option<String> {
    model
        .runbook(runbook)?
        .steps()
        .nth(index)
        .map(|(_, s)| s.id.clone())
}

pub(super) fn runbook_key(
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

pub(super) fn step_key(
    model: &mut Model,
    runbook: &str,
    step: &str,
    scroll: usize,
    action: Action,
    page: usize,
) -> Vec<Effect> {
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
        Action::MarkDone => mark_done(model, runbook, step),
        Action::Skip | Action::Note => ask_reason(model, runbook, step, action),
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

/// `d`: marks the step done; overriding a recorded failure, or declaring done a step fieldbook
/// never ran, first asks for the technician's reason (it goes into the handover report).
fn mark_done(model: &mut Model, runbook: &str, step: &str) -> Vec<Effect> {
    if is_running(model, runbook, step) {
        model.message = Some("The step is running: wait for it to end".into());
        return Vec::new();
    }
    // Finishing a manual step needs no reason.
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
                runbook: runbook.to_string(),
                step: step.to_string(),
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

/// `s` or `n`: asks why the step is skipped, or for a note to keep on it.
fn ask_reason(model: &mut Model, runbook: &str, step: &str, action: Action) -> Vec<Effect> {
    if action == Action::Skip && is_running(model, runbook, step) {
        model.message = Some("The step is running: wait for it to end".into());
        return Vec::new();
    }
    let (title, purpose) = if action == Action::Skip {
        (
            "Why skip this step?",
            PromptFor::SkipReason {
                runbook: runbook.to_string(),
                step: step.to_string(),
            },
        )
    } else {
        (
            "Note",
            PromptFor::Note {
                runbook: runbook.to_string(),
                step: step.to_string(),
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

/// Puts the runbook's screen and the step's screen on the stack (the Output screen goes on top
/// of them), unless the step's screen is already on top.
pub(super) fn under_output(model: &mut Model, runbook: &str, step: &str) {
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
pub(super) fn step_to(model: &mut Model, runbook: &str, step: &str, next: bool) {
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
pub(super) fn to_next_step(model: &mut Model, runbook: &str, step: &str) {
    if matches!(model.screens.last(), Some(Screen::Step { runbook: r, step: s, .. }) if r == runbook && s == step)
    {
        step_to(model, runbook, step, true);
    }
}

pub(super) fn is_running(model: &Model, runbook: &str, step: &str) -> bool {
    model
        .running
        .as_ref()
        .is_some_and(|r| r.runbook == runbook && r.step == step)
}

pub(super) fn request_run(model: &mut Model, runbook: &str, step: &str) -> Vec<Effect> {
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
pub(super) fn order_or_question(
    model: &mut Model,
    runbook: &str,
    step: &str,
) -> Option<Vec<Effect>> {
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
pub(super) fn run_anyway(
    model: &mut Model,
    runbook: &str,
    step: &str,
    note: Option<String>,
) -> Vec<Effect> {
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
pub(super) fn not_needed(model: &mut Model, runbook: &str, step: &str, why: &str) -> Vec<Effect> {
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

pub(super) fn start_run(model: &mut Model, runbook: &str, step: &str) -> Vec<Effect> {
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
pub(super) fn not_started(model: &mut Model, why: String) -> Vec<Effect> {
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
pub(super) fn ended(model: &mut Model, outcome: RunOutcome) -> Vec<Effect> {
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
