//! Carrying out the tool screens' background work for the app loop: listings, the snort scan,
//! profile.env, the technicians' own SIDs and the tool commands. Each job runs on a thread of
//! its own and reports back as a `Msg`, so a hung tool never freezes the screen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use crate::core::apply::{self, EditContext};
use crate::core::progress::Status;
use crate::core::runner::{self, Command, RunEvent, RunOptions, StepJob};

use crate::core::runbook::ToolKind;
use crate::core::{gcc, runlevels, services, snort};
use crate::ui::Msg;
use crate::ui::model::StepOutcome;
use crate::ui::output_line::OutputLine;
use crate::ui::tools::{ToolJob, ToolResult};

/// What the jobs need to know about this session.
#[derive(Debug, Clone, Default)]
pub struct ToolContext {
    /// Practice mode: listings come from `assets/practice/tools/`, nothing is run.
    pub practice: bool,
    /// `--root`.
    pub root: Option<PathBuf>,
    /// The state directory (for `snort-sids.toml`).
    pub state_dir: Option<PathBuf>,
}

/// The argv of a tool's read-only listing and its practice text.
pub fn listing_of(tool: ToolKind) -> Option<(&'static [&'static str], &'static str)> {
    match tool {
        ToolKind::Services => Some((&["chkconfig", "--list"], services::PRACTICE_LISTING)),
        ToolKind::Runlevels => Some((&["rc-update", "-v", "show"], runlevels::PRACTICE_LISTING)),
        ToolKind::GccProfile => Some((&["gcc-config", "-l"], gcc::PRACTICE_LISTING)),
        ToolKind::SnortRules | ToolKind::Subnet => None,
    }
}

/// Runs a listing command with a null stdin; its stdout, or an error naming the program.
pub fn capture(argv: &[&str], env: &[(String, String)]) -> Result<String, String> {
    let program = argv.first().copied().unwrap_or_default();
    let machine = crate::core::machine::for_tool(crate::core::machine::current(), program, env);
    if !machine.is_local() {
        return crate::core::machine::capture_listing(&*machine, argv, env);
    }
    let Some((program, args)) = argv.split_first() else {
        return Err("empty command".into());
    };
    let mut cmd = duct::cmd(*program, args)
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let out = cmd.run().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "`{program}` not found in PATH ({})",
                std::env::var("PATH").unwrap_or_default()
            )
        } else {
            format!("running `{}`: {e}", argv.join(" "))
        }
    })?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed ({}): {}",
            argv.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Starts one job on its own thread; its result is sent to `tx`.
pub fn start(job: ToolJob, ctx: &ToolContext, env: Vec<(String, String)>, tx: Sender<Msg>) {
    let ctx = ctx.clone();
    std::thread::spawn(move || {
        let result = run(job, &ctx, &env);
        let _ = tx.send(Msg::Tool(result));
    });
}

const NO_STATE_DIR: &str =
    "no state directory for the backups: set --state-dir DIR or FIELDBOOK_STATE_DIR";

/// The edit engine's context for a tool's edits: no runbook variables, no symlink following
/// (a rules file that is a link is reported, never silently followed).
fn edit_context<'a>(
    ctx: &'a ToolContext,
    state_dir: &'a Path,
    archive: &'a Path,
    values: &'a BTreeMap<String, String>,
) -> EditContext<'a> {
    EditContext {
        root: ctx.root.as_deref(),
        state_dir,
        archive,
        values,
        follow_symlinks: false,
    }
}

fn user_sids(ctx: &ToolContext) -> Option<PathBuf> {
    ctx.state_dir.as_ref().map(|d| d.join(snort::USER_FILE))
}

fn run(job: ToolJob, ctx: &ToolContext, env: &[(String, String)]) -> ToolResult {
    match job {
        ToolJob::List(tool) => {
            let text = match listing_of(tool) {
                None => Err("this tool has no listing".into()),
                Some((_, practice)) if ctx.practice => Ok(practice.to_string()),
                Some((argv, _)) => capture(argv, env),
            };
            ToolResult::Listing { tool, text }
        }
        ToolJob::ReadProfileEnv => ToolResult::ProfileEnv(
            gcc::reload_profile_env(ctx.root.as_deref()).map_err(|e| e.to_string()),
        ),
        ToolJob::ScanSnort => ToolResult::Snort(
            snort::load_sids(user_sids(ctx).as_deref())
                .map(|list| snort::scan(ctx.root.as_deref(), &snort::RULE_DIRS, &list))
                .map_err(|e| e.to_string()),
        ),
        ToolJob::AddSid { sid, reason } => ToolResult::SidAdded(match user_sids(ctx) {
            Some(file) => snort::add_user_sid(&file, sid, &reason)
                .map(|()| sid)
                .map_err(|e| e.to_string()),
            None => Err("no state directory".into()),
        }),
        ToolJob::PreviewEdits { edits } => ToolResult::EditPreview(match &ctx.state_dir {
            Some(state_dir) => {
                let archive = PathBuf::new();
                let values = BTreeMap::new();
                apply::preview(&edits, &edit_context(ctx, state_dir, &archive, &values))
                    .map(|p| p.diff())
                    .map_err(|e| e.to_string())
            }
            None => Err(NO_STATE_DIR.into()),
        }),
        ToolJob::ApplyEdits {
            step,
            archive,
            at,
            edits,
        } => match &ctx.state_dir {
            Some(state_dir) => {
                let values = BTreeMap::new();
                let cx = edit_context(ctx, state_dir, &archive, &values);
                match apply::apply_step(&step, &edits, &cx, &at) {
                    Ok(applied) => ToolResult::EditsApplied {
                        applied,
                        error: None,
                    },
                    Err(f) => ToolResult::EditsApplied {
                        applied: f.applied,
                        error: Some(f.error.to_string()),
                    },
                }
            }
            None => ToolResult::EditsApplied {
                applied: Vec::new(),
                error: Some(NO_STATE_DIR.into()),
            },
        },
        ToolJob::UndoEdit(applied) => ToolResult::EditUndone(match &ctx.state_dir {
            Some(state_dir) => apply::undo(&applied, state_dir, false)
                .map(|()| applied)
                .map_err(|e| e.to_string()),
            None => Err(NO_STATE_DIR.into()),
        }),
    }
}

/// Where the latest attempt of a step logs (the store's log contract), under the state
/// directory; the temporary directory when there is none.
pub fn attempt_log_path(model: &crate::ui::model::Model, runbook: &str, step: &str) -> PathBuf {
    let n = model
        .run(runbook)
        .and_then(|r| r.steps.get(step))
        .map_or(1, |s| s.attempts.len().max(1) as u32);
    let rel = crate::core::state_dir::attempt_log(runbook, &model.target, step, n);
    model
        .state_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(rel)
}

/// Runs a tool's commands through the runner, one after the other (the first failure stops
/// them), with every byte logged to `log`; reports like a step run: filtered output lines, then
/// the outcome.
pub fn run_commands(
    commands: Vec<Vec<String>>,
    env: Vec<(String, String)>,
    log: PathBuf,
    tx: Sender<Msg>,
) {
    let program = commands
        .first()
        .and_then(|c| c.first())
        .cloned()
        .unwrap_or_default();
    let job = StepJob {
        commands: commands
            .into_iter()
            .map(|argv| Command {
                argv,
                env: env.clone(),
            })
            .collect(),
        expect: vec![0],
        ok_output: Vec::new(),
    };
    let machine = crate::core::machine::for_tool(crate::core::machine::current(), &program, &env);
    let job = StepJob {
        commands: job
            .commands
            .into_iter()
            .map(|c| Command {
                env: crate::core::machine::tool_env(&*machine, &c.env),
                ..c
            })
            .collect(),
        ..job
    };
    let running = runner::start(job, log, RunOptions::on(machine));
    std::thread::spawn(move || {
        for event in running.events.iter() {
            let msg = match event {
                RunEvent::Started { command, .. } => Msg::OutputLine(format!("$ {command}")),
                RunEvent::Output { lines, .. } => {
                    if lines.is_empty() {
                        continue;
                    }
                    Msg::Output(lines.iter().map(OutputLine::from_child).collect())
                }
                RunEvent::Notice(text) => Msg::OutputLine(text),
                RunEvent::Finished(outcome) => Msg::StepFinished(match outcome.status {
                    Status::Done => StepOutcome::Succeeded,
                    _ => StepOutcome::Failed(outcome.message),
                }),
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
}
