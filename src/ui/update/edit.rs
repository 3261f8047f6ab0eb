//! Edit steps in the app: `r` previews the diff (read-only), `a` applies after a question, an
//! edit already in place is offered as done, `u` shows the reverse diff and restores the
//! backups. The file work is done by the loop (`Effect::PreviewEdit` …); this only decides.

use crate::core::progress::Status;
use crate::core::runner::RunOutcome;
use crate::core::store::Transition;

use super::super::keys::Action;
use super::super::model::{
    EditBusy, EditPreview, EditProblem, Effect, Model, Overlay, Pending, Screen,
};
use super::{pop, record, scroll_by};

/// `r` on an edit step: ask the loop for the diff.
pub(super) fn request_preview(model: &mut Model, runbook: &str, step: &str) -> Vec<Effect> {
    preview_effect(model, runbook, step, false)
}

/// The edit work in flight, if any, said on the status line: a second request waits for it
/// (two previews would open two diff screens, and an apply could be confirmed against the
/// older one).
fn busy(model: &mut Model) -> bool {
    let Some(work) = &model.edit_busy else {
        return false;
    };
    model.message = Some(if work.preview {
        "Preview in progress: wait for the diff".into()
    } else {
        "The edit is being written: wait for it to end".into()
    });
    true
}

fn set_busy(model: &mut Model, runbook: &str, step: &str, preview: bool) {
    model.edit_busy = Some(EditBusy {
        runbook: runbook.into(),
        step: step.into(),
        preview,
    });
}

/// Ends the edit work of this step, if it is the one in flight; true when it was.
fn end_busy(model: &mut Model, runbook: &str, step: &str) -> bool {
    let ours = model
        .edit_busy
        .as_ref()
        .is_some_and(|w| w.runbook == runbook && w.step == step);
    if ours {
        model.edit_busy = None;
    }
    ours
}

/// Leaving an edit step's screen forgets its preview in flight (its answer is then dropped);
/// an apply or an undo in flight is kept, since its answer is recorded wherever the
/// technician is.
pub(super) fn left_step(model: &mut Model) {
    if model.edit_busy.as_ref().is_some_and(|w| w.preview) {
        model.edit_busy = None;
    }
}

fn preview_effect(model: &mut Model, runbook: &str, step: &str, follow: bool) -> Vec<Effect> {
    if busy(model) {
        return Vec::new();
    }
    set_busy(model, runbook, step, true);
    let secrets = model.secrets.clone();
    let run = model.run_mut(runbook).clone();
    vec![Effect::PreviewEdit {
        run,
        step: step.to_string(),
        secrets,
        follow_symlinks: follow,
    }]
}

/// `u` on a step: the step's applied edits that are not undone yet, newest first.
pub(super) fn request_undo(model: &mut Model, runbook: &str, step: &str) -> Vec<Effect> {
    let edits: Vec<_> = model
        .run(runbook)
        .map(|r| {
            r.edits
                .iter()
                .enumerate()
                .filter(|(_, e)| e.step == step && !e.undone)
                .map(|(i, e)| (i, e.clone()))
                .rev()
                .collect()
        })
        .unwrap_or_default();
    if edits.is_empty() {
        model.message = Some("Nothing to undo: no file edit of this step is recorded".into());
        return Vec::new();
    }
    if busy(model) {
        return Vec::new();
    }
    set_busy(model, runbook, step, true);
    vec![Effect::PreviewUndo {
        runbook: runbook.to_string(),
        step: step.to_string(),
        edits,
    }]
}

/// The loop's answer to a preview request.
pub(super) fn previewed(
    model: &mut Model,
    runbook: &str,
    step: &str,
    result: Result<EditPreview, EditProblem>,
) -> Vec<Effect> {
    // An answer nobody waits for any more (the technician left the step, or it is not the
    // preview in flight) is dropped: it would open a diff screen out of place.
    let on_screen = match model.screens.last() {
        Some(Screen::Step {
            runbook: r,
            step: s,
            ..
        })
        | Some(Screen::Diff {
            runbook: r,
            step: s,
            ..
        }) => r == runbook && s == step,
        _ => false,
    };
    if !end_busy(model, runbook, step) || !on_screen {
        return Vec::new();
    }
    let preview = match result {
        Ok(p) => p,
        Err(EditProblem::Symlink { message }) => {
            model.overlay = Some(Overlay::Confirm {
                question: format!("{message}. Edit the file it points to?"),
                on_yes: Pending::FollowSymlinks {
                    runbook: runbook.into(),
                    step: step.into(),
                },
            });
            return Vec::new();
        }
        Err(EditProblem::Other(m)) => {
            model.message = Some(format!("Cannot edit: {m}"));
            return Vec::new();
        }
    };
    if preview.undo.is_none() && preview.already_applied {
        if model.status(runbook, step) == Status::Done {
            model.message = Some("Already applied: nothing to change".into());
        } else {
            model.overlay = Some(Overlay::Confirm {
                question: "These changes are already in the files. Mark the step done?".into(),
                on_yes: Pending::MarkApplied {
                    runbook: runbook.into(),
                    step: step.into(),
                },
            });
        }
        return Vec::new();
    }
    let screen = Screen::Diff {
        runbook: runbook.into(),
        step: step.into(),
        preview,
        scroll: 0,
    };
    match model.screens.last_mut() {
        Some(top @ Screen::Diff { .. }) => *top = screen,
        _ => model.screens.push(screen),
    }
    Vec::new()
}

/// Keys on the diff screen.
pub(super) fn diff_key(
    model: &mut Model,
    runbook: &str,
    step: &str,
    preview: &EditPreview,
    scroll: usize,
    action: Action,
    page: usize,
) -> Vec<Effect> {
    match action {
        Action::Back => pop(model),
        Action::Apply => ask_apply(model, runbook, step, preview),
        _ => {
            let s = scroll_by(scroll, action, page);
            if let Some(Screen::Diff { scroll, .. }) = model.screens.last_mut() {
                *scroll = s;
            }
        }
    }
    Vec::new()
}

fn ask_apply(model: &mut Model, runbook: &str, step: &str, preview: &EditPreview) {
    if busy(model) {
        return;
    }
    let files = preview
        .diff
        .iter()
        .filter(|l| l.starts_with("+++ ") || l.starts_with("new symlink") || l.starts_with("mode "))
        .count()
        .max(1);
    let plural = if files == 1 { "" } else { "s" };
    let (question, on_yes) = match &preview.undo {
        Some(_) => {
            let warn = if preview.changed_since {
                " The files changed after the edit: those later changes will be lost."
            } else {
                ""
            };
            (
                format!("Restore {files} file{plural} from the backup?{warn}"),
                Pending::UndoEdit {
                    runbook: runbook.into(),
                    step: step.into(),
                    force: preview.changed_since,
                },
            )
        }
        None => {
            let asks = model
                .step(runbook, step)
                .and_then(|(_, s)| s.confirm.clone())
                .map(|q| format!("{q} "))
                .unwrap_or_default();
            let question = if model.settings.practice {
                format!("{asks}Practice mode: nothing is written. Mark the step done?")
            } else {
                format!(
                    "{asks}Apply the change to {files} file{plural}? A backup goes to the state directory."
                )
            };
            (
                question,
                Pending::ApplyEdit {
                    runbook: runbook.into(),
                    step: step.into(),
                    follow_symlinks: preview.follow_symlinks,
                },
            )
        }
    };
    model.overlay = Some(Overlay::Confirm { question, on_yes });
}

/// A yes to one of the edit questions.
pub(super) fn confirmed(model: &mut Model, pending: Pending) -> Vec<Effect> {
    match pending {
        Pending::FollowSymlinks { runbook, step } => preview_effect(model, &runbook, &step, true),
        Pending::ApplyEdit {
            runbook,
            step,
            follow_symlinks,
        } => {
            if model.settings.practice {
                return mark_done(model, &runbook, &step, "practice: the edit was not written");
            }
            if busy(model) {
                return Vec::new();
            }
            set_busy(model, &runbook, &step, false);
            let secrets = model.secrets.clone();
            let run = model.run_mut(&runbook).clone();
            vec![Effect::ApplyEdit {
                run,
                step,
                secrets,
                follow_symlinks,
            }]
        }
        Pending::MarkApplied { runbook, step } => mark_done(
            model,
            &runbook,
            &step,
            "already applied (found in the files)",
        ),
        Pending::UndoEdit {
            runbook,
            step,
            force,
        } => {
            if busy(model) {
                return Vec::new();
            }
            let Some(Screen::Diff { preview, .. }) = model.screens.last() else {
                return Vec::new();
            };
            let indexes = preview.undo.clone().unwrap_or_default();
            let edits = model
                .run(&runbook)
                .map(|r| {
                    indexes
                        .iter()
                        .filter_map(|&i| r.edits.get(i).map(|e| (i, e.clone())))
                        .collect()
                })
                .unwrap_or_default();
            set_busy(model, &runbook, &step, false);
            vec![Effect::UndoEdit {
                runbook,
                step,
                edits,
                force,
            }]
        }
        Pending::Quit
        | Pending::StartFresh { .. }
        | Pending::Follow { .. }
        | Pending::TakeOver { .. }
        | Pending::StopOrphans { .. }
        | Pending::Run { .. }
        | Pending::RunAnyway { .. }
        | Pending::Tool(_)
        | Pending::Cancel
        | Pending::MarkDone { .. } => Vec::new(),
    }
}

fn mark_done(model: &mut Model, runbook: &str, step: &str, reason: &str) -> Vec<Effect> {
    if matches!(model.screens.last(), Some(Screen::Diff { .. })) {
        pop(model);
    }
    model.message = Some(format!("Step marked done: {reason}"));
    vec![record(
        runbook,
        Transition::MarkedDone {
            step: step.to_string(),
            reason: Some(reason.to_string()),
        },
    )]
}

/// The loop applied (some of) the step's edits.
pub(super) fn applied(
    model: &mut Model,
    runbook: &str,
    step: &str,
    applied: Vec<crate::core::progress::AppliedEdit>,
    error: Option<String>,
) -> Vec<Effect> {
    end_busy(model, runbook, step);
    if matches!(model.screens.last(), Some(Screen::Diff { .. })) {
        pop(model);
    }
    let count = applied.len();
    let outcome = match &error {
        None => format!("applied to {count} file(s); backups in the state directory"),
        Some(e) => format!("failed after {count} file(s): {e}"),
    };
    model.message = Some(match error {
        None => format!("Applied: {outcome} (u undoes)"),
        Some(_) => format!("Edit {outcome}"),
    });
    edit_attempt(runbook, step, applied, error.is_none(), outcome)
}

/// The transitions that record an attempt the app made itself (an edit step's files, a tool's
/// check of its listing): started, each file edited, finished done or failed with the words
/// shown.
pub(crate) fn edit_attempt(
    runbook: &str,
    step: &str,
    applied: Vec<crate::core::progress::AppliedEdit>,
    ok: bool,
    words: String,
) -> Vec<Effect> {
    let step = step.to_string();
    let mut effects = vec![record(runbook, Transition::Started { step: step.clone() })];
    effects.extend(
        applied
            .into_iter()
            .map(|edit| record(runbook, Transition::EditApplied { edit })),
    );
    let outcome = RunOutcome {
        status: if ok { Status::Done } else { Status::Failed },
        exit: None,
        failed_program: None,
        message: words,
    };
    effects.push(record(runbook, Transition::Finished { step, outcome }));
    effects
}

/// The loop restored (some of) the step's files.
pub(super) fn undone(
    model: &mut Model,
    runbook: &str,
    step: &str,
    undone: Vec<usize>,
    error: Option<String>,
) -> Vec<Effect> {
    end_busy(model, runbook, step);
    if matches!(model.screens.last(), Some(Screen::Diff { .. })) {
        pop(model);
    }
    let mut effects: Vec<Effect> = undone
        .iter()
        .map(|&index| record(runbook, Transition::EditUndone { index }))
        .collect();
    let all_undone = model.run(runbook).is_some_and(|run| {
        run.edits
            .iter()
            .enumerate()
            .filter(|(_, e)| e.step == step)
            .all(|(i, e)| e.undone || undone.contains(&i))
    });
    if all_undone && error.is_none() {
        effects.push(record(
            runbook,
            Transition::Undone {
                step: step.to_string(),
                reason: "its edits were undone".into(),
            },
        ));
    }
    model.message = Some(match error {
        None => format!("Undone: {} file(s) restored from the backup", undone.len()),
        Some(e) => format!("Undo stopped after {} file(s): {e}", undone.len()),
    });
    effects
}
