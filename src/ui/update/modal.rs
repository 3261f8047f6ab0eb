//! The overlays' keys: the confirm question, the prompt, help, and asking before a cancel or a quit.

use super::*;

/// Ctrl-C or `c` while a command runs: ask before cancelling (a mistyped key at 9600 baud must
/// not end a two-hour emerge).
pub(super) fn ask_cancel(model: &mut Model) -> Vec<Effect> {
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

pub(super) fn ask_quit(model: &mut Model, always_ask: bool) -> Vec<Effect> {
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

pub(super) fn help_key(model: &mut Model, action: Action) -> Vec<Effect> {
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

pub(super) fn confirm_key(model: &mut Model, action: Action) -> Vec<Effect> {
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
pub(super) fn orphans_stopped(
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
pub(super) fn follow(model: &mut Model, runbook: String) -> Vec<Effect> {
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
pub(super) fn declined_open(model: &mut Model, pending: Pending) -> Vec<Effect> {
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

pub(super) fn prompt_key(model: &mut Model, action: Action) -> Vec<Effect> {
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

pub(super) fn submit_prompt(model: &mut Model) -> Vec<Effect> {
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
