//! Carrying out the tool screens' background work for the app loop: listings, the snort scan,
//! profile.env, the technicians' own SIDs and the tool commands. Each job runs on a thread of
//! its own and reports back as a `Msg`, so a hung tool never freezes the screen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use crate::core::apply::{self, EditContext};
use crate::core::exec;
use crate::core::machine::remote_files;
use crate::core::runbook::{Edit, ToolKind};
use crate::core::settings::Settings;
use crate::core::{gcc, runlevels, services, snort};
use crate::ui::Msg;
use crate::ui::tools::{ToolJob, ToolResult};

/// The argv of a tool's read-only listing and its practice text.
pub(crate) fn listing_of(tool: ToolKind) -> Option<(&'static [&'static str], &'static str)> {
    match tool {
        ToolKind::Services => Some((&["chkconfig", "--list"], services::PRACTICE_LISTING)),
        ToolKind::Runlevels => Some((&["rc-update", "-v", "show"], runlevels::PRACTICE_LISTING)),
        ToolKind::GccProfile => Some((&["gcc-config", "-l"], gcc::PRACTICE_LISTING)),
        ToolKind::SnortRules | ToolKind::Subnet => None,
    }
}

/// Starts one job on its own thread with the settings in force now; its result is sent to
/// `tx`.
pub fn start(job: ToolJob, ctx: &Settings, env: Vec<(String, String)>, tx: Sender<Msg>) {
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
    ctx: &'a Settings,
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

/// The state directory of the current mode (practice keeps its own).
fn state_dir(ctx: &Settings) -> Option<PathBuf> {
    ctx.state().ok().map(|d| d.base())
}

fn user_sids(ctx: &Settings) -> Option<PathBuf> {
    state_dir(ctx).map(|d| d.join(snort::USER_FILE))
}

fn run(job: ToolJob, ctx: &Settings, env: &[(String, String)]) -> ToolResult {
    match job {
        ToolJob::List(tool) => ToolResult::Listing {
            tool,
            text: listing(tool, ctx, env),
            taken: ctx.taken_in(),
        },
        ToolJob::ReadProfileEnv => ToolResult::ProfileEnv(
            gcc::reload_profile_env(ctx.root.as_deref()).map_err(|e| e.to_string()),
        ),
        ToolJob::ScanSnort => scan_snort(ctx),
        ToolJob::AddSid { sid, reason } => ToolResult::SidAdded(match user_sids(ctx) {
            Some(file) => snort::add_user_sid(&file, sid, &reason)
                .map(|()| sid)
                .map_err(|e| e.to_string()),
            None => Err("no state directory".into()),
        }),
        // Edits go where the listing was read: over `--host`, the host's files (the scan read
        // the host's rules), never this machine's.
        ToolJob::PreviewEdits { edits } => ToolResult::EditPreview(preview_edits(ctx, &edits)),
        ToolJob::ApplyEdits {
            step,
            archive,
            at,
            edits,
        } => apply_edits(ctx, &step, &archive, &at, &edits),
        ToolJob::UndoEdit(applied) => ToolResult::EditUndone(match &state_dir(ctx) {
            Some(state_dir) => match ctx.machine.ssh() {
                Some(session) => remote_files::undo(session, &applied, state_dir, false),
                None => apply::undo(&applied, state_dir, false),
            }
            .map(|()| applied)
            .map_err(|e| e.to_string()),
            None => Err(NO_STATE_DIR.into()),
        }),
    }
}

/// A tool's read-only listing: the practice transcript in practice, else the program's output
/// on the session's machine.
fn listing(tool: ToolKind, ctx: &Settings, env: &[(String, String)]) -> Result<String, String> {
    match listing_of(tool) {
        None => Err("this tool has no listing".into()),
        Some((_, practice)) if ctx.practice => Ok(practice.to_string()),
        Some((argv, _)) => exec::capture(&ctx.machine.0, argv, env),
    }
}

/// The snort rule files scanned for the article's SIDs and the user's own, where the session
/// reads them: the host over ssh, else this machine's disk (under `--root` when given), in
/// practice too (reading changes nothing). The result says where.
fn scan_snort(ctx: &Settings) -> ToolResult {
    let machine = &ctx.machine;
    let under = ctx.root.as_ref().map(|r| format!("under {}", r.display()));
    let taken = match (machine.ssh(), under) {
        (Some(s), Some(u)) => format!("on {}, {u}", s.destination()),
        (Some(s), None) => format!("on {}", s.destination()),
        (None, Some(u)) => u,
        (None, None) => "this machine".into(),
    };
    let scan = snort::load_sids(user_sids(ctx).as_deref())
        .map(|list| {
            crate::core::machine::snort_scan(
                &**machine,
                ctx.root.as_deref(),
                &snort::RULE_DIRS,
                &list,
            )
        })
        .map_err(|e| e.to_string());
    ToolResult::Snort(scan, taken)
}

/// The diff a tool's edits would make, on the session's machine.
fn preview_edits(ctx: &Settings, edits: &[Edit]) -> Result<String, String> {
    let Some(state_dir) = state_dir(ctx) else {
        return Err(NO_STATE_DIR.into());
    };
    let archive = PathBuf::new();
    let values = BTreeMap::new();
    let cx = edit_context(ctx, &state_dir, &archive, &values);
    match ctx.machine.ssh() {
        Some(session) => remote_files::preview(session, ctx.root.as_deref(), edits, &cx),
        None => apply::preview(edits, &cx),
    }
    .map(|p| p.diff())
    .map_err(|e| e.to_string())
}

/// A tool's edits applied on the session's machine, backed up in `archive`; what was applied
/// before a failure is kept with the error.
fn apply_edits(ctx: &Settings, step: &str, archive: &Path, at: &str, edits: &[Edit]) -> ToolResult {
    let Some(state_dir) = state_dir(ctx) else {
        return ToolResult::EditsApplied {
            applied: Vec::new(),
            error: Some(NO_STATE_DIR.into()),
        };
    };
    let values = BTreeMap::new();
    let cx = edit_context(ctx, &state_dir, archive, &values);
    let result = match ctx.machine.ssh() {
        Some(session) => remote_files::apply(session, ctx.root.as_deref(), step, edits, &cx, at),
        None => apply::apply_step(step, edits, &cx, at),
    };
    match result {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::core::machine::{How, Machine, MachineError, SessionMachine, Spawn};
    use crate::core::runner::Command;

    /// A machine that runs `echo NAME ARGV…`: its output says which machine ran a program.
    #[derive(Debug)]
    struct Named(&'static str);

    impl Machine for Named {
        fn describe(&self) -> String {
            self.0.to_string()
        }

        fn program(&self, command: &Command, _how: How) -> Result<Spawn, MachineError> {
            let mut argv = vec!["echo".to_string(), self.0.to_string()];
            argv.extend(command.argv.iter().cloned());
            Ok(Spawn {
                argv,
                env: command.env.clone(),
                remote_mark: None,
            })
        }
    }

    /// Two sessions in one process, each with its own machine, list at the same time: each job
    /// runs on the machine of the settings it started with (there is no process-wide machine
    /// for one to change under the other).
    #[test]
    fn each_job_runs_on_the_machine_of_its_own_settings() {
        let (tx, rx) = std::sync::mpsc::channel();
        for name in ["alpha", "beta", "alpha", "beta"] {
            let settings = Settings {
                machine: SessionMachine(Arc::new(Named(name))),
                ..Settings::default()
            };
            start(
                ToolJob::List(ToolKind::Services),
                &settings,
                Vec::new(),
                tx.clone(),
            );
        }
        let mut listed = Vec::new();
        for _ in 0..4 {
            match rx.recv_timeout(std::time::Duration::from_secs(20)) {
                Ok(Msg::Tool(ToolResult::Listing { text, .. })) => {
                    listed.push(text.expect("listed").trim().to_string());
                }
                other => panic!("{other:?}"),
            }
        }
        listed.sort();
        assert_eq!(
            listed,
            [
                "alpha chkconfig --list",
                "alpha chkconfig --list",
                "beta chkconfig --list",
                "beta chkconfig --list"
            ]
        );
    }

    /// Issue 15 item 11: `p` in a session that started real switches what the next tool job
    /// reads and where its files go, as `--practice` does, and back again: the services
    /// listing comes from the practice transcript (the machine is never asked), the state
    /// directory is the practice area, and after a second `p` the machine is asked again.
    #[test]
    fn p_switches_listings_and_files_to_practice_and_back() {
        use crate::core::services::PRACTICE_LISTING;
        use crate::ui::keys::Key;
        use crate::ui::model::Model;

        let dir = tempfile::tempdir().unwrap();
        let mut model = Model::new(Vec::new(), Default::default(), Vec::new());
        model.settings.machine = SessionMachine(Arc::new(Named("real")));
        model.settings.state_dir = Some(dir.path().to_path_buf());
        let real_dir = state_dir(&model.settings).expect("state dir");
        let listing = |model: &Model| {
            let (tx, rx) = std::sync::mpsc::channel();
            start(
                ToolJob::List(ToolKind::Services),
                &model.settings,
                Vec::new(),
                tx,
            );
            match rx.recv_timeout(std::time::Duration::from_secs(20)) {
                Ok(Msg::Tool(ToolResult::Listing { text, .. })) => text.expect("listed"),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(listing(&model).trim(), "real chkconfig --list");

        crate::ui::update::update(&mut model, Msg::Key(Key::Char('p')));
        assert!(model.settings.practice, "{:?}", model.message);
        assert_eq!(listing(&model), PRACTICE_LISTING);
        let practice_dir = state_dir(&model.settings).expect("practice state dir");
        assert_ne!(practice_dir, real_dir);
        assert!(
            practice_dir.starts_with(dir.path()),
            "{}",
            practice_dir.display()
        );

        crate::ui::update::update(&mut model, Msg::Key(Key::Char('p')));
        assert!(!model.settings.practice);
        assert_eq!(listing(&model).trim(), "real chkconfig --list");
        assert_eq!(state_dir(&model.settings).expect("state dir"), real_dir);
    }
}
