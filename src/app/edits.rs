//! Carrying out edit effects for the loop: previews, applies and undoes of an edit step's
//! files through the edit engine, at the site the current settings name (`--root`, the state
//! directory of the current mode). The work (a step's `when` probe, files read and written,
//! over ssh with `--host`) runs on a thread of its own and reports back as a `Msg`, as tool
//! jobs do, so a slow probe or a slow host never freezes the screen.

use std::collections::BTreeMap;
use std::sync::mpsc::Sender;

use crate::core::apply::{EditError, EditSite};
use crate::core::conditions::{self, Applicability};
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
        let (runbook, step) = match &effect {
            Effect::PreviewEdit { run, step, .. } | Effect::ApplyEdit { run, step, .. } => {
                (run.runbook.clone(), step.clone())
            }
            Effect::PreviewUndo { runbook, step, .. } | Effect::UndoEdit { runbook, step, .. } => {
                (runbook.clone(), step.clone())
            }
            _ => (String::new(), String::new()),
        };
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

/// The work of one edit effect.
pub(crate) fn run(job: EditJob) -> Msg {
    let EditJob {
        effect,
        site,
        edits,
        probe,
        values,
        practice,
        now,
    } = job;
    let site = &site;
    let problem = |e: EditError| match e {
        EditError::Symlink { .. } => EditProblem::Symlink {
            message: e.to_string(),
        },
        other => EditProblem::Other(other.to_string()),
    };
    let lines = |text: &str| text.lines().map(str::to_string).collect::<Vec<_>>();
    let site = match site {
        Ok(s) => s,
        Err(e) => {
            let (runbook, step) = match &effect {
                Effect::PreviewEdit { run, step, .. } | Effect::ApplyEdit { run, step, .. } => {
                    (run.runbook.clone(), step.clone())
                }
                Effect::PreviewUndo { runbook, step, .. }
                | Effect::UndoEdit { runbook, step, .. } => (runbook.clone(), step.clone()),
                _ => (String::new(), String::new()),
            };
            return Msg::EditPreviewed {
                runbook,
                step,
                result: Err(EditProblem::Other(e.clone())),
            };
        }
    };
    match effect {
        Effect::PreviewEdit {
            run,
            step,
            secrets,
            follow_symlinks,
        } => {
            // The step's `when` probe first: an edit that does not apply here is not shown.
            if let Some(st) = &probe {
                match conditions::probe_here(&*site.machine, st, &values) {
                    Applicability::NotNeeded(why) => {
                        return Msg::NotNeeded {
                            runbook: run.runbook.clone(),
                            step,
                            why,
                        };
                    }
                    Applicability::Unknown(why) => {
                        return Msg::EditPreviewed {
                            runbook: run.runbook.clone(),
                            step,
                            result: Err(EditProblem::Other(format!(
                                "cannot tell whether the step applies here: {why}"
                            ))),
                        };
                    }
                    Applicability::Applies | Applicability::Ask(_) => {}
                }
            }
            let previewed = if practice {
                site.preview_practice(&run, &edits, &secrets, follow_symlinks)
            } else {
                site.preview(&run, &edits, &secrets, follow_symlinks)
                    .map(|p| (p, Vec::new()))
            };
            let result = previewed
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
                .map_err(problem);
            Msg::EditPreviewed {
                runbook: run.runbook,
                step,
                result,
            }
        }
        Effect::ApplyEdit {
            run,
            step,
            secrets,
            follow_symlinks,
        } => {
            let (mut applied, error) =
                match site.apply(&run, &step, &edits, &secrets, follow_symlinks, &now) {
                    Ok(a) => (a, None),
                    Err(f) => (f.applied, Some(f.error.to_string())),
                };
            crate::core::apply::mask_secrets(&mut applied, secrets.values().map(String::as_str));
            Msg::EditApplied {
                runbook: run.runbook,
                step,
                applied,
                error,
            }
        }
        Effect::PreviewUndo {
            runbook,
            step,
            edits,
        } => {
            let mut diff = Vec::new();
            let mut changed_since = false;
            for (_, e) in &edits {
                match site.undo_preview(e) {
                    Ok(p) => {
                        changed_since |= p.changed_since;
                        diff.extend(lines(&p.diff));
                    }
                    Err(e) => {
                        return Msg::EditPreviewed {
                            runbook,
                            step,
                            result: Err(problem(e)),
                        };
                    }
                }
            }
            Msg::EditPreviewed {
                runbook,
                step,
                result: Ok(EditPreview {
                    diff,
                    already_applied: false,
                    undo: Some(edits.iter().map(|(i, _)| *i).collect()),
                    changed_since,
                    follow_symlinks: false,
                }),
            }
        }
        Effect::UndoEdit {
            runbook,
            step,
            edits,
            force,
        } => {
            let mut undone = Vec::new();
            let mut error = None;
            for (i, e) in &edits {
                match site.undo(e, force) {
                    Ok(()) => undone.push(*i),
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            Msg::EditUndone {
                runbook,
                step,
                undone,
                error,
            }
        }
        _ => Msg::Problem("internal: not an edit effect".into()),
    }
}
