//! Carrying out edit effects for the loop: previews, applies and undoes of an edit step's
//! files through the edit engine, at the site the current settings name (`--root`, the state
//! directory of the current mode). The work (a step's `when` probe, files read and written,
//! over ssh with `--host`) runs on a thread of its own and reports back as a `Msg`, as tool
//! jobs do, so a slow probe or a slow host never freezes the screen.

use std::collections::BTreeMap;
use std::sync::mpsc::Sender;

use crate::core::apply::{EditError, EditSite};
use crate::core::conditions::{self, Applicability};
use crate::core::progress::{AppliedEdit, Run};
use crate::core::runbook::{Action as StepAction, Edit, Step};
use crate::ui::model::{EditPreview, EditProblem, Model};
use crate::ui::{Effect, Msg};

/// Where edits of the current mode are applied and backed up.
fn site(model: &Model) -> Result<EditSite, String> {
    model
        .settings
        .state()
        .map(|dir| EditSite {
            root: model.settings.root.clone(),
            state_dir: dir.base(),
            machine: model.settings.machine.clone(),
        })
        .map_err(|e| e.to_string())
}

/// An edit effect with everything its work needs, taken from the model on the loop's thread
/// (cheap), so the work itself can run anywhere.
pub(crate) struct EditJob {
    effect: Effect,
    site: Result<EditSite, String>,
    /// The edit step's edits (preview and apply).
    edits: Vec<Edit>,
    /// The step, for its `when` probe (not in practice mode).
    probe: Option<Step>,
    values: BTreeMap<String, String>,
    practice: bool,
    now: String,
}

impl EditJob {
    /// Takes what `effect` needs from the model.
    pub(crate) fn of(model: &Model, effect: Effect) -> EditJob {
        let (runbook, step) = effect_step(&effect);
        let st = model.step(&runbook, &step).map(|(_, s)| s.clone());
        let edits = match st.as_ref().map(|s| &s.action) {
            Some(StepAction::Edit { edits }) => edits.clone(),
            _ => Vec::new(),
        };
        EditJob {
            site: site(model),
            edits,
            probe: st.filter(|_| {
                !model.settings.practice && matches!(effect, Effect::PreviewEdit { .. })
            }),
            values: model.values(&runbook),
            practice: model.settings.practice,
            now: model.now.clone(),
            effect,
        }
    }
}

/// Starts the work of an edit effect on a thread of its own; its result is sent to `tx`.
pub fn start(model: &Model, effect: Effect, tx: Sender<Msg>) {
    let job = EditJob::of(model, effect);
    std::thread::spawn(move || {
        let _ = tx.send(run(job));
    });
}

/// Carries out the file work of an edit effect here and now and returns the result for
/// `update` (the loop uses [`start`]; tests drive this).
pub fn edit_effect(model: &Model, effect: Effect) -> Msg {
    run(EditJob::of(model, effect))
}

/// The runbook and step an edit effect is for.
fn effect_step(effect: &Effect) -> (String, String) {
    match effect {
        Effect::PreviewEdit { run, step, .. } | Effect::ApplyEdit { run, step, .. } => {
            (run.runbook.clone(), step.clone())
        }
        Effect::PreviewUndo { runbook, step, .. } | Effect::UndoEdit { runbook, step, .. } => {
            (runbook.clone(), step.clone())
        }
        _ => (String::new(), String::new()),
    }
}

/// An engine error as the model shows it: a symbolic link is a question, the rest a problem.
fn problem(e: EditError) -> EditProblem {
    match e {
        EditError::Symlink { .. } => EditProblem::Symlink {
            message: e.to_string(),
        },
        other => EditProblem::Other(other.to_string()),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// The work of one edit effect.
pub(crate) fn run(job: EditJob) -> Msg {
    let site = match &job.site {
        Ok(s) => s,
        Err(e) => {
            let (runbook, step) = effect_step(&job.effect);
            return Msg::EditPreviewed {
                runbook,
                step,
                result: Err(EditProblem::Other(e.clone())),
            };
        }
    };
    match &job.effect {
        Effect::PreviewEdit {
            run,
            step,
            secrets,
            follow_symlinks,
        } => preview(site, &job, run, step, secrets, *follow_symlinks),
        Effect::ApplyEdit {
            run,
            step,
            secrets,
            follow_symlinks,
        } => {
            let (mut applied, error) =
                match site.apply(run, step, &job.edits, secrets, *follow_symlinks, &job.now) {
                    Ok(a) => (a, None),
                    Err(f) => (f.applied, Some(f.error.to_string())),
                };
            crate::core::apply::mask_secrets(&mut applied, secrets.values().map(String::as_str));
            Msg::EditApplied {
                runbook: run.runbook.clone(),
                step: step.clone(),
                applied,
                error,
            }
        }
        Effect::PreviewUndo {
            runbook,
            step,
            edits,
        } => preview_undo(site, runbook, step, edits),
        Effect::UndoEdit {
            runbook,
            step,
            edits,
            force,
        } => {
            let mut undone = Vec::new();
            let mut error = None;
            for (i, e) in edits {
                match site.undo(e, *force) {
                    Ok(()) => undone.push(*i),
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            Msg::EditUndone {
                runbook: runbook.clone(),
                step: step.clone(),
                undone,
                error,
            }
        }
        _ => Msg::Problem("internal: not an edit effect".into()),
    }
}

/// An edit step's preview: its `when` probe first (an edit that does not apply here is not
/// shown), then the diff, from the practice copy in practice mode.
fn preview(
    site: &EditSite,
    job: &EditJob,
    run: &Run,
    step: &str,
    secrets: &BTreeMap<String, String>,
    follow_symlinks: bool,
) -> Msg {
    let answer = |result| Msg::EditPreviewed {
        runbook: run.runbook.clone(),
        step: step.to_string(),
        result,
    };
    if let Some(st) = &job.probe {
        match conditions::probe_here(&*site.machine, st, &job.values) {
            Applicability::NotNeeded(why) => {
                return Msg::NotNeeded {
                    runbook: run.runbook.clone(),
                    step: step.to_string(),
                    why,
                };
            }
            Applicability::Unknown(why) => {
                return answer(Err(EditProblem::Other(format!(
                    "cannot tell whether the step applies here: {why}"
                ))));
            }
            Applicability::Applies | Applicability::Ask(_) => {}
        }
    }
    let previewed = if job.practice {
        site.preview_practice(run, &job.edits, secrets, follow_symlinks)
    } else {
        site.preview(run, &job.edits, secrets, follow_symlinks)
            .map(|p| (p, Vec::new()))
    };
    answer(
        previewed
            .map(|(p, stood_in)| {
                let mut diff: Vec<String> = stood_in
                    .iter()
                    .map(|path| format!("practice: {path} missing here; shown as empty"))
                    .collect();
                diff.extend(lines(&p.diff()));
                EditPreview {
                    diff,
                    already_applied: p.already_applied(),
                    undo: None,
                    changed_since: false,
                    follow_symlinks,
                }
            })
            .map_err(problem),
    )
}

/// The diff an undo of `edits` would make, and whether a file changed since its edit.
fn preview_undo(site: &EditSite, runbook: &str, step: &str, edits: &[(usize, AppliedEdit)]) -> Msg {
    let mut diff = Vec::new();
    let mut changed_since = false;
    let mut result = Ok(());
    for (_, e) in edits {
        match site.undo_preview(e) {
            Ok(p) => {
                changed_since |= p.changed_since;
                diff.extend(lines(&p.diff));
            }
            Err(e) => {
                result = Err(problem(e));
                break;
            }
        }
    }
    Msg::EditPreviewed {
        runbook: runbook.to_string(),
        step: step.to_string(),
        result: result.map(|()| EditPreview {
            diff,
            already_applied: false,
            undo: Some(edits.iter().map(|(i, _)| *i).collect()),
            changed_since,
            follow_symlinks: false,
        }),
    }
}
