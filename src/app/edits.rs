//! Carrying out edit effects for the loop: previews, applies and undoes of an edit step's
//! files through the edit engine, at the site the current settings name (`--root`, the state
//! directory of the current mode).

use crate::core::apply::{EditError, EditSite};
use crate::core::conditions::{self, Applicability};
use crate::core::runbook::Action as StepAction;
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
        })
        .map_err(|e| e.to_string())
}

/// Carries out the file work of an edit effect (quick: a few small files) and returns the
/// result for `update`.
pub fn edit_effect(model: &Model, effect: Effect) -> Msg {
    let site = &site(model);
    let edits_of = |runbook: &str, step: &str| match model.step(runbook, step) {
        Some((_, s)) => match &s.action {
            StepAction::Edit { edits } => edits.clone(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
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
            if let Some((_, st)) = model
                .step(&run.runbook, &step)
                .filter(|_| !model.settings.practice)
            {
                match conditions::probe_here(st, &model.values(&run.runbook)) {
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
            let edits = edits_of(&run.runbook, &step);
            let previewed = if model.settings.practice {
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
            let edits = edits_of(&run.runbook, &step);
            let (mut applied, error) =
                match site.apply(&run, &step, &edits, &secrets, follow_symlinks, &model.now) {
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
