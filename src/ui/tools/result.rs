//! What a tool screen's background results change: a listing read, an edit previewed, applied
//! or undone, and the check that the change took.

use std::collections::BTreeMap;

use crate::core::gcc::{IMAGE_PROFILE_NOTE, SOURCE_PROFILE_NOTE};
use crate::core::parse::gcc_config::{self};
use crate::core::parse::profile_env::ProfileEnv;
use crate::core::parse::{chkconfig, rc_update};
use crate::core::progress::AppliedEdit;
use crate::core::runbook::ToolKind;
use crate::core::runlevels::RunlevelTable;
use crate::core::services::{ServicePolicy, ServiceTable};
use crate::core::store::Transition;
use crate::core::terminal_text::terminal_safe_line;

use crate::ui::model::{Effect, Model};
use crate::ui::update::record;

use super::{
    GccView, SnortView, ToolConfirm, ToolJob, ToolResult, ToolView, ask, diff_summary, job_for,
    snort_edits,
};

/// A background result for the open tool screen.
pub fn result(model: &mut Model, result: ToolResult) -> Vec<Effect> {
    if model.tool.is_none() {
        return Vec::new();
    }
    match result {
        ToolResult::Listing { tool, text, taken } => listing(model, tool, text, taken),
        ToolResult::ProfileEnv(env) => {
            profile_env_read(model, env);
            Vec::new()
        }
        ToolResult::Snort(scan, taken) => {
            if let Some(session) = model.tool.as_mut() {
                session.taken = Some(taken);
                session.view = match scan {
                    Ok(report) => ToolView::Snort(SnortView {
                        report,
                        wanted: BTreeMap::new(),
                    }),
                    Err(e) => ToolView::Unavailable(terminal_safe_line(&e)),
                };
            }
            settle(model, None)
        }
        ToolResult::EditPreview(diff) => edit_preview(model, diff),
        ToolResult::EditsApplied { applied, error } => edits_applied(model, applied, error),
        ToolResult::EditUndone(undone) => edit_undone(model, undone),
        ToolResult::SidAdded(added) => {
            let mut effects = Vec::new();
            if let Some(session) = model.tool.as_mut() {
                session.notice = Some(match added {
                    Ok(sid) => {
                        effects.push(Effect::Tool(ToolJob::ScanSnort));
                        format!("SID {sid} added to your list.")
                    }
                    Err(e) => format!("SID not added: {}", terminal_safe_line(&e)),
                });
            }
            effects.extend(settle(model, None));
            effects
        }
    }
}

/// What a listing said after the tool's commands: the change took effect (`Ok`, the notice)
/// or not (`Err`, what differs).
type Check = Option<Result<String, String>>;

/// A fresh listing of the open tool: the new table, and when it was asked for after the
/// commands ran, the check of what they changed.
/// `taken`: the mode the listing was taken in; one taken before the mode changed is dropped
/// and read again, never shown as this mode's.
fn listing(
    model: &mut Model,
    tool: ToolKind,
    text: Result<String, String>,
    taken: String,
) -> Vec<Effect> {
    let image = model.settings.root.is_some();
    let now = model.settings.taken_in();
    let Some(session) = model.tool.as_mut().filter(|s| s.tool == tool) else {
        return Vec::new();
    };
    if taken != now {
        model.message = Some(format!(
            "A listing taken from the {taken} was dropped: the mode in force is {now}; reading \
             it again"
        ));
        session.view = ToolView::Loading;
        session.taken = None;
        return vec![Effect::Tool(job_for(tool))];
    }
    session.taken = Some(taken);
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            session.view = ToolView::Unavailable(terminal_safe_line(&e));
            return Vec::new();
        }
    };
    let before = session.verifying.take();
    let (view, check) = match tool {
        ToolKind::Services => match ServicePolicy::clearos() {
            Ok(policy) => services_listing(&text, before, &policy),
            Err(e) => (ToolView::Unavailable(e.to_string()), None),
        },
        ToolKind::Runlevels => runlevels_listing(&text, before),
        ToolKind::GccProfile => gcc_listing(&text, before, image),
        ToolKind::SnortRules | ToolKind::Subnet => (
            ToolView::Unavailable("this tool has no listing".into()),
            None,
        ),
    };
    session.view = view;
    settle(model, check)
}

fn services_listing(
    text: &str,
    before: Option<ToolView>,
    policy: &ServicePolicy,
) -> (ToolView, Check) {
    let list = chkconfig::parse(text);
    match before {
        Some(ToolView::Services(old)) => {
            let wrong = old.verify(&list);
            let changed = old.commands().len();
            let check = if wrong.is_empty() {
                Ok(format!(
                    "Checked chkconfig --list: all {changed} change(s) took effect."
                ))
            } else {
                Err(format!(
                    "Checked chkconfig --list: not as chosen: {}",
                    wrong.join(", ")
                ))
            };
            (
                ToolView::Services(old.refreshed(&list, policy)),
                Some(check),
            )
        }
        _ => (ToolView::Services(ServiceTable::new(&list, policy)), None),
    }
}

fn runlevels_listing(text: &str, before: Option<ToolView>) -> (ToolView, Check) {
    let show = rc_update::parse(text);
    let check = match before {
        Some(ToolView::Runlevels(old)) => {
            let wrong = old.verify(&show);
            Some(if wrong.is_empty() {
                Ok("Checked rc-update -v show: every change took effect.".into())
            } else {
                Err(format!(
                    "Checked rc-update -v show: not as chosen: {}",
                    wrong.join(", ")
                ))
            })
        }
        _ => None,
    };
    (ToolView::Runlevels(RunlevelTable::new(&show)), check)
}

/// `image`: fieldbook works on a guest image (`--root`), whose profile takes effect there.
fn gcc_listing(text: &str, before: Option<ToolView>, image: bool) -> (ToolView, Check) {
    let list = gcc_config::parse(text);
    let check = match before {
        Some(ToolView::Gcc(old)) => {
            let now = list.current().map(|p| p.number);
            Some(if now.is_some() && now == old.chosen {
                Ok(if image {
                    IMAGE_PROFILE_NOTE
                } else {
                    SOURCE_PROFILE_NOTE
                }
                .to_string())
            } else {
                Err("gcc-config -l does not show the chosen profile in use".into())
            })
        }
        _ => None,
    };
    let chosen = list.newest().map(|p| p.number);
    (ToolView::Gcc(GccView { list, chosen }), check)
}

/// profile.env read again: its variables go to the commands fieldbook runs.
fn profile_env_read(model: &mut Model, env: Result<ProfileEnv, String>) {
    match env {
        Ok(env) => {
            model.command_env = env.vars.clone();
            if !env.skipped.is_empty() {
                model.message = Some(profile_env_message(&env));
            }
        }
        Err(e) => {
            if let Some(session) = model.tool.as_mut() {
                session.notice = Some(format!(
                    "Could not re-read profile.env: {}",
                    terminal_safe_line(&e)
                ));
            }
        }
    }
}

/// The diff of the snort rules edit: shown whole on the output screen, then asked about.
fn edit_preview(model: &mut Model, diff: Result<String, String>) -> Vec<Effect> {
    let edits = match model.tool.as_ref().map(|s| &s.view) {
        Some(ToolView::Snort(s)) => snort_edits(s),
        _ => Vec::new(),
    };
    match diff {
        Ok(d) if d.trim().is_empty() => {
            model.message = Some("The rules are already as chosen: nothing to edit".into());
            Vec::new()
        }
        Ok(d) => {
            // The whole diff goes to the output screen (o); the question shows the changed
            // lines, cut to the box.
            model.clear_output();
            model.output_title = "Diff of the snort rules edit".into();
            for line in d.lines() {
                model.push_output(terminal_safe_line(line));
            }
            ask(
                model,
                format!(
                    "Apply this change? A backup is kept; u undoes it.\n{}",
                    diff_summary(&d, 52)
                ),
                ToolConfirm::Edits(edits),
            )
        }
        Err(e) => {
            model.message = Some(format!("Cannot edit: {}", terminal_safe_line(&e)));
            Vec::new()
        }
    }
}

/// The snort rules edit was carried out (maybe only in part): say so, record the attempt and
/// scan again.
fn edits_applied(
    model: &mut Model,
    applied: Vec<AppliedEdit>,
    error: Option<String>,
) -> Vec<Effect> {
    let Some(session) = model.tool.as_mut() else {
        return Vec::new();
    };
    let (runbook, step) = (session.runbook.clone(), session.step.clone());
    session.notice = Some(match &error {
        None => format!(
            "Edited {} file(s), backups kept (u undoes). Press x to restart snort.",
            applied.len()
        ),
        Some(e) => format!(
            "Edited {} file(s), then stopped: {}",
            applied.len(),
            terminal_safe_line(e)
        ),
    });
    let words = match &error {
        None => format!("edited {} rules file(s)", applied.len()),
        Some(e) => format!("edit failed: {e}"),
    };
    let mut effects =
        crate::ui::update::edit::edit_attempt(&runbook, &step, applied, error.is_none(), words);
    effects.push(Effect::Tool(ToolJob::ScanSnort));
    effects
}

/// An edit of the rules was undone: the run's record of it is marked undone.
fn edit_undone(model: &mut Model, undone: Result<AppliedEdit, String>) -> Vec<Effect> {
    let Some(runbook) = model.tool.as_ref().map(|s| s.runbook.clone()) else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    match undone {
        Ok(applied) => {
            let index = model
                .run(&runbook)
                .and_then(|run| run.edits.iter().position(|e| *e == applied));
            if let Some(session) = model.tool.as_mut() {
                session.notice = Some(format!(
                    "{} is back as it was. Press x to restart snort.",
                    applied.path
                ));
            }
            if let Some(index) = index {
                effects.push(record(&runbook, Transition::EditUndone { index }));
            }
            effects.push(Effect::Tool(ToolJob::ScanSnort));
        }
        Err(e) => {
            if let Some(session) = model.tool.as_mut() {
                session.notice = Some(format!("Not undone: {}", terminal_safe_line(&e)));
            }
        }
    }
    effects
}

/// After a new view: the cursor stays on a row, and a listing that disagrees with what the
/// commands were to change is recorded as a failed attempt of the step.
fn settle(model: &mut Model, check: Check) -> Vec<Effect> {
    let Some(session) = model.tool.as_mut() else {
        return Vec::new();
    };
    let rows = session.rows();
    session.cursor = session.cursor.min(rows.saturating_sub(1));
    let (runbook, step) = (session.runbook.clone(), session.step.clone());
    match check {
        None => Vec::new(),
        Some(Ok(text)) => {
            session.notice = Some(text);
            Vec::new()
        }
        Some(Err(text)) => {
            session.notice = Some(text.clone());
            // The commands ended well but the listing says their change is not there: the
            // check is recorded as a failed attempt of the step.
            crate::ui::update::edit::edit_attempt(
                &runbook,
                &step,
                Vec::new(),
                false,
                format!("the listing after the commands disagrees: {text}"),
            )
        }
    }
}

/// What of profile.env was not loaded into fieldbook's commands, and why (line 0 marks a
/// variable left out by [`crate::core::gcc::host_env`]).
fn profile_env_message(env: &ProfileEnv) -> String {
    let shell = env.skipped.iter().filter(|(line, _)| *line > 0).count();
    let kept: Vec<&str> = env
        .skipped
        .iter()
        .filter(|(l, _)| *l == 0)
        .map(|(_, r)| r.as_str())
        .collect();
    let mut parts = Vec::new();
    if shell > 0 {
        parts.push(format!("{shell} line(s) need a shell and were not loaded"));
    }
    parts.extend(kept.iter().map(|r| terminal_safe_line(r)));
    format!("profile.env: {}", parts.join("; "))
}
