//! The tool screens' state and behaviour (Services, Runlevels, GCC profile, Snort rules): what
//! a key does, what a background result changes, and the effects asked of the loop. No I/O
//! here: listings, scans, runs and edits are `Effect`s the loop carries out; results come back
//! as `Msg::Tool`.
//!
//! Every change follows the same path: the technician chooses, Apply shows the exact commands
//! (or diff) and asks, the commands run as an attempt of the step through the runner, and the
//! tool's listing is read again to check that the change took.

use std::collections::BTreeMap;

use crate::core::gcc::{self, IMAGE_PROFILE_NOTE, SOURCE_PROFILE_NOTE};
use crate::core::parse::gcc_config::{self, GccList};
use crate::core::parse::profile_env::ProfileEnv;
use crate::core::parse::{chkconfig, rc_update};
use crate::core::progress::AppliedEdit;
use crate::core::runbook::{Edit, ToolKind};
use crate::core::runlevels::RunlevelTable;
use crate::core::services::{ServicePolicy, ServiceTable};
use crate::core::snort::{self, RuleState, ScanReport};
use crate::core::store::Transition;
use crate::core::terminal_text::terminal_safe_line;

use super::keys::Action;
use super::layout;
use super::model::{Effect, Model, Overlay, Pending, Screen};
use super::text::{show_argv, wrap};
use super::update::record;

/// Background work a tool screen asks of the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolJob {
    /// Read the tool's listing (`chkconfig --list`, `rc-update -v show`, `gcc-config -l`);
    /// in practice mode the loop uses the practice listing instead of running anything.
    List(ToolKind),
    /// Read the target's `/etc/profile.env` (under `--root`) after `env-update`.
    ReadProfileEnv,
    /// Load the SID list (the article's and `<state-dir>/snort-sids.toml`) and scan the
    /// rules directories under `--root`.
    ScanSnort,
    /// Compute the diff the edits would make, touching nothing (shown before asking).
    PreviewEdits {
        /// The edits.
        edits: Vec<Edit>,
    },
    /// Apply edits through the edit engine: backup into the run's archive, atomic write.
    ApplyEdits {
        /// Step id (recorded in each applied edit).
        step: String,
        /// The run's archive directory, relative to the state directory.
        archive: std::path::PathBuf,
        /// The time recorded, RFC 3339 UTC.
        at: String,
        /// The edits.
        edits: Vec<Edit>,
    },
    /// Put a file back from the backup of an applied edit.
    UndoEdit(AppliedEdit),
    /// Add one of the technician's own SIDs to `<state-dir>/snort-sids.toml`.
    AddSid {
        /// The rule's sid.
        sid: u64,
        /// Why.
        reason: String,
    },
}

/// What came back from a [`ToolJob`].
#[derive(Debug, Clone, PartialEq)]
pub enum ToolResult {
    /// A listing's text, or why it could not be read.
    Listing {
        /// Which tool.
        tool: ToolKind,
        /// The listing, or the error to show.
        text: Result<String, String>,
        /// Where it was taken ([`crate::core::settings::Settings::taken_in`] when the job
        /// started): a listing of another mode is never shown or used.
        taken: String,
    },
    /// The re-read profile.env.
    ProfileEnv(Result<ProfileEnv, String>),
    /// The snort scan, and where the rules were read (`this machine`, `under DIR`,
    /// `on HOST`), for the screen's title.
    Snort(Result<ScanReport, String>, String),
    /// The diff the chosen edits would make (empty when the files are already as wanted).
    EditPreview(Result<String, String>),
    /// The edits that were applied, and the error that stopped the rest, if any.
    EditsApplied {
        /// Applied edits, for the run's journal and undo.
        applied: Vec<AppliedEdit>,
        /// What stopped the others.
        error: Option<String>,
    },
    /// An edit was undone (the same record, to mark it), or why not.
    EditUndone(Result<AppliedEdit, String>),
    /// A SID was added (or why not).
    SidAdded(Result<u64, String>),
}

/// What a yes in a tool screen's confirmation does.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolConfirm {
    /// Run these commands as an attempt of the step.
    Run {
        /// The argv vectors.
        commands: Vec<Vec<String>>,
        /// Extra environment.
        env: Vec<(String, String)>,
    },
    /// Apply these edits.
    Edits(Vec<Edit>),
    /// Undo this applied edit.
    Undo(AppliedEdit),
}

/// The GCC screen's data.
#[derive(Debug, Clone, PartialEq)]
pub struct GccView {
    /// The parsed `gcc-config -l`.
    pub list: GccList,
    /// The profile number chosen (the newest, until the technician picks another).
    pub chosen: Option<u32>,
}

/// The Snort screen's data.
#[derive(Debug, Clone, PartialEq)]
pub struct SnortView {
    /// The last scan.
    pub report: ScanReport,
    /// Per SID: `true` disable it, `false` re-enable it.
    pub wanted: BTreeMap<u64, bool>,
}

/// What a tool screen shows.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolView {
    /// Waiting for the listing.
    Loading,
    /// The listing could not be read (a missing program, a failing tool).
    Unavailable(String),
    /// Services (chkconfig).
    Services(ServiceTable),
    /// Runlevels (rc-update).
    Runlevels(RunlevelTable),
    /// GCC profiles (gcc-config).
    Gcc(GccView),
    /// Snort rules.
    Snort(SnortView),
}

/// The open tool screen's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSession {
    /// Runbook id of the step that opened it.
    pub runbook: String,
    /// Step id.
    pub step: String,
    /// Which tool.
    pub tool: ToolKind,
    /// What is shown.
    pub view: ToolView,
    /// Selected row.
    pub cursor: usize,
    /// Selected column (Runlevels).
    pub column: usize,
    /// The view as it was when Apply ran: the next listing is checked against its choices.
    pub verifying: Option<ToolView>,
    /// A lasting line under the table: the result of the last apply and check.
    pub notice: Option<String>,
    /// Where the listing shown was taken (`None` until one arrived): changes are worked out
    /// only from a listing taken in the mode in force.
    pub taken: Option<String>,
}

impl ToolSession {
    /// Number of rows the cursor moves over.
    pub fn rows(&self) -> usize {
        match &self.view {
            ToolView::Services(t) => t.rows.len(),
            ToolView::Runlevels(t) => t.rows.len(),
            ToolView::Gcc(g) => g.list.profiles.len(),
            ToolView::Snort(s) => s.report.sids.len(),
            ToolView::Loading | ToolView::Unavailable(_) => 0,
        }
    }
}

/// Rows of a tool table that fit at the current size (frame, header, the lines under it).
pub fn table_rows(size: (u16, u16), session: &ToolSession, details: bool) -> usize {
    let height = u16::try_from(layout::page(size)).unwrap_or(u16::MAX);
    let width = u16::try_from(layout::text_width(size) + 2).unwrap_or(u16::MAX);
    split(session, details, width, height).0
}

/// Lines under a tool table for the selected row's reason and the notice, when shown.
pub const DETAIL_ROWS: usize = 4;

/// Lines the notice may take when the reason is hidden.
const NOTICE_ROWS: usize = 2;

/// Whether the lines under the table are shown only on request (`i`): on the long tables
/// (services, runlevels) they describe the selected row and would be redrawn on every move.
/// The GCC screen's describe the chosen profile and stay put; the snort list is a handful of
/// rules whose files and lines are the point of the screen.
pub fn details_on_request(view: &ToolView) -> bool {
    matches!(view, ToolView::Services(_) | ToolView::Runlevels(_))
}

/// Shares the `height` rows inside the frame between the header, the table and the lines under
/// it: `(table rows, lines under it)`. The selected row's reason is shown only on request
/// (`details`, the `i` key): redrawing it on every move would cost a serial line ten times the
/// move itself. The notice (the last apply's result) is shown either way.
pub fn split(session: &ToolSession, details: bool, width: u16, height: u16) -> (usize, usize) {
    let wanted = if details || !details_on_request(&session.view) {
        // The notice (e.g. the GCC screen's profile.env note, four lines at 80 columns) gets
        // rows of its own on top of the detail's, so neither is cut.
        DETAIL_ROWS
            + session
                .notice
                .as_deref()
                .map_or(0, |n| wrap(n, usize::from(width.saturating_sub(1))).len())
    } else {
        session.notice.as_deref().map_or(0, |n| {
            wrap(n, usize::from(width.saturating_sub(1)))
                .len()
                .min(NOTICE_ROWS)
        })
    };
    let height = usize::from(height);
    let detail_rows = wanted.min(height.saturating_sub(2));
    let list_h = height.saturating_sub(1 + detail_rows).max(1);
    (list_h, detail_rows)
}

fn job_for(tool: ToolKind) -> ToolJob {
    match tool {
        ToolKind::SnortRules => ToolJob::ScanSnort,
        t => ToolJob::List(t),
    }
}

/// Opens the tool screen of a tool step and asks for its listing; the subnet tool is the
/// calculator's own screens, which need no listing.
pub fn open(model: &mut Model, runbook: &str, step: &str, tool: ToolKind) -> Vec<Effect> {
    if tool == ToolKind::Subnet {
        super::update::subnet::open(model);
        model.subnet_step = Some((runbook.to_string(), step.to_string()));
        return Vec::new();
    }
    model.tool = Some(ToolSession {
        runbook: runbook.to_string(),
        step: step.to_string(),
        tool,
        view: ToolView::Loading,
        cursor: 0,
        column: 0,
        verifying: None,
        notice: None,
        taken: None,
    });
    model.screens.push(Screen::Tool {
        runbook: runbook.to_string(),
        step: step.to_string(),
        tool,
    });
    vec![Effect::Tool(job_for(tool))]
}

fn move_cursor(index: usize, len: usize, action: Action, page: usize) -> usize {
    let last = len.saturating_sub(1);
    match action {
        Action::Up => index.saturating_sub(1),
        Action::Down => index + 1,
        Action::PageUp => index.saturating_sub(page),
        Action::PageDown => index + page,
        Action::Top => 0,
        Action::Bottom => last,
        _ => index,
    }
    .min(last)
}

/// A key on a tool screen.
pub fn key(model: &mut Model, action: Action) -> Vec<Effect> {
    let page = model
        .tool
        .as_ref()
        .map_or(1, |t| table_rows(model.size, t, model.tool_details));
    let root_env = root_env(model);
    let Some(session) = model.tool.as_mut() else {
        pop(model);
        return Vec::new();
    };
    let rows = session.rows();
    match action {
        Action::Back => {
            let changes = unapplied(&session.view);
            if changes > 0 {
                model.overlay = Some(Overlay::Leave { changes });
                return Vec::new();
            }
            pop(model);
            model.tool = None;
            Vec::new()
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => {
            session.cursor = move_cursor(session.cursor, rows, action, page);
            Vec::new()
        }
        Action::ColumnLeft | Action::ColumnRight => {
            if let ToolView::Runlevels(t) = &session.view {
                let last = t.runlevels.len().saturating_sub(1);
                session.column = if action == Action::ColumnLeft {
                    session.column.saturating_sub(1)
                } else {
                    (session.column + 1).min(last)
                };
            }
            Vec::new()
        }
        Action::Refresh => {
            session.view = ToolView::Loading;
            session.verifying = None;
            vec![Effect::Tool(job_for(session.tool))]
        }
        Action::Details => {
            model.tool_details = !model.tool_details;
            Vec::new()
        }
        Action::ShowOutput => crate::ui::update::show_output(model),
        Action::ClearChoices => {
            match &mut session.view {
                ToolView::Services(t) => t.clear_choices(),
                ToolView::Runlevels(t) => {
                    for r in &mut t.rows {
                        r.wanted = r.current.clone();
                    }
                }
                ToolView::Snort(s) => s.wanted.clear(),
                _ => {}
            }
            Vec::new()
        }
        Action::FollowAdvice => {
            if let ToolView::Services(t) = &mut session.view {
                t.follow_advice();
                let n = t.commands().len();
                model.message = Some(format!(
                    "Chose the runbook's advice: {n} change(s); 'maybe off' is yours to decide."
                ));
            }
            Vec::new()
        }
        Action::Toggle => {
            let message = toggle(session);
            model.message = message;
            Vec::new()
        }
        Action::Apply => apply(model, root_env),
        Action::Restart => {
            let commands = vec![snort::RESTART.iter().map(|s| s.to_string()).collect()];
            ask(
                model,
                "Restart snort so it re-reads its rules?\n/etc/init.d/snort restart".into(),
                ToolConfirm::Run {
                    commands,
                    env: Vec::new(),
                },
            )
        }
        Action::AddOwn => {
            model.overlay = Some(Overlay::Prompt {
                title: "Your own SID: the number, a space, then why".into(),
                input: tui_input::Input::default(),
                purpose: super::model::PromptFor::OwnSid,
            });
            Vec::new()
        }
        Action::Undo => {
            let (runbook, step) = (session.runbook.clone(), session.step.clone());
            let last = model.run(&runbook).and_then(|r| {
                r.edits
                    .iter()
                    .rev()
                    .find(|e| e.step == step && !e.undone)
                    .cloned()
            });
            match last {
                Some(applied) => ask(
                    model,
                    format!(
                        "Undo the last rules edit? {} goes back to its backup from {}.",
                        applied.path, applied.at
                    ),
                    ToolConfirm::Undo(applied),
                ),
                None => {
                    model.message = Some("No rules edit of this step to undo".into());
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    }
}

/// Changes chosen on a tool screen and not applied yet (services and runlevels to switch,
/// snort rules to edit): leaving would drop them.
pub fn unapplied(view: &ToolView) -> usize {
    match view {
        ToolView::Services(t) => t.commands().len(),
        ToolView::Runlevels(t) => t.commands().len(),
        ToolView::Snort(s) => s.wanted.len(),
        _ => 0,
    }
}

/// A key in the "apply / discard / stay" question asked when leaving with changes.
pub fn leave_key(model: &mut Model, action: Action) -> Vec<Effect> {
    match action {
        Action::Redraw => vec![Effect::Redraw],
        Action::Apply => {
            model.overlay = None;
            apply(model, root_env(model))
        }
        Action::Discard => {
            model.overlay = None;
            pop(model);
            model.tool = None;
            model.message = Some("Changes discarded: nothing was run".into());
            Vec::new()
        }
        _ => {
            model.overlay = None;
            Vec::new()
        }
    }
}

fn pop(model: &mut Model) {
    if model.screens.len() > 1 {
        model.screens.pop();
    }
}

/// `ROOT=<dir>` for gcc-config and env-update when fieldbook works on a mounted root.
fn root_env(model: &Model) -> Vec<(String, String)> {
    model
        .settings
        .root
        .as_ref()
        .map(|r| vec![("ROOT".to_string(), r.display().to_string())])
        .unwrap_or_default()
}

fn toggle(session: &mut ToolSession) -> Option<String> {
    let cursor = session.cursor;
    match &mut session.view {
        ToolView::Services(t) => t.toggle(cursor).err().map(|e| e.to_string()),
        ToolView::Runlevels(t) => t
            .toggle(cursor, session.column)
            .err()
            .map(|e| e.to_string()),
        ToolView::Gcc(g) => {
            let p = g.list.profiles.get(cursor)?;
            g.chosen = Some(p.number);
            None
        }
        ToolView::Snort(s) => {
            let r = s.report.sids.get(cursor)?;
            let sid = r.entry.sid;
            match (r.state, s.wanted.get(&sid)) {
                (RuleState::NotFound, _) => Some(format!(
                    "SID {sid} is not in the rules here: nothing to change"
                )),
                (_, Some(_)) => {
                    s.wanted.remove(&sid);
                    None
                }
                (state, None) => {
                    s.wanted.insert(sid, state == RuleState::Enabled);
                    None
                }
            }
        }
        ToolView::Loading | ToolView::Unavailable(_) => None,
    }
}

/// The exact commands or edits the current choices need, and the question to ask.
fn apply(model: &mut Model, root_env: Vec<(String, String)>) -> Vec<Effect> {
    let Some(session) = model.tool.as_ref() else {
        return Vec::new();
    };
    if model.running.is_some() {
        model.message = Some("A command is already running: wait for it to end".into());
        return Vec::new();
    }
    let now = model.settings.taken_in();
    if session.tool != ToolKind::SnortRules && session.taken.as_deref() != Some(now.as_str()) {
        model.message = Some(format!(
            "This listing was not taken in the mode in force ({now}): R reads it again \
             before any change is worked out"
        ));
        return Vec::new();
    }
    let (commands, env, what) = match &session.view {
        ToolView::Services(t) => (
            t.commands(),
            Vec::new(),
            "Toggle a service with Space (v: the runbook's advice)",
        ),
        ToolView::Runlevels(t) => (t.commands(), Vec::new(), "Toggle a runlevel with Space"),
        ToolView::Gcc(g) => {
            let chosen = g.chosen.and_then(|n| g.list.by_number(n));
            match chosen {
                Some(p) if !p.current => (gcc::switch_commands(p), root_env, ""),
                Some(_) => (
                    Vec::new(),
                    Vec::new(),
                    "The chosen profile is already in use",
                ),
                None => (Vec::new(), Vec::new(), "Choose a profile with Space"),
            }
        }
        ToolView::Snort(s) => {
            let edits = snort_edits(s);
            if edits.is_empty() {
                model.message = Some("Choose a rule to disable or re-enable with Space".into());
                return Vec::new();
            }
            // The diff comes first; the question is asked when it arrives.
            return vec![Effect::Tool(ToolJob::PreviewEdits { edits })];
        }
        ToolView::Loading | ToolView::Unavailable(_) => return Vec::new(),
    };
    if commands.is_empty() {
        model.message = Some(format!("Nothing to change. {what}"));
        return Vec::new();
    }
    let mut question = format!("Run {} command(s)?", commands.len());
    const SHOWN: usize = 10;
    for argv in commands.iter().take(SHOWN) {
        question.push('\n');
        question.push_str(&show_argv(argv));
    }
    if commands.len() > SHOWN {
        question.push_str(&format!(
            "\n... and {} more (the table shows every change)",
            commands.len() - SHOWN
        ));
    }
    ask(model, question, ToolConfirm::Run { commands, env })
}

/// The changed lines of a unified diff, each cut to `width` columns, under the file it is in.
pub fn diff_summary(diff: &str, width: usize) -> String {
    // A long rule keeps its start (the action, with the `#` that changes) and the part from
    // `sid:` on, which says which rule it is.
    let cut = |l: &str| -> String {
        let l = terminal_safe_line(l);
        let chars: Vec<char> = l.chars().collect();
        if chars.len() <= width {
            return l;
        }
        let head = width / 3;
        let tail_at = l
            .find("sid")
            .map(|b| l[..b].chars().count())
            .filter(|&c| c > head)
            .unwrap_or(chars.len().saturating_sub(width - head - 3));
        let tail: String = chars[tail_at..].iter().take(width - head - 3).collect();
        let start: String = chars[..head].iter().collect();
        format!("{start}...{tail}")
    };
    let mut out = Vec::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            out.push(format!(
                "in {}:",
                path.strip_prefix("b/")
                    .map_or(path.to_string(), |p| format!("/{p}"))
            ));
        } else if line.starts_with("--- ") || line.starts_with("@@") {
            continue;
        } else if line.starts_with('-') || line.starts_with('+') {
            out.push(cut(line));
        }
    }
    out.join("\n")
}

fn snort_edits(s: &SnortView) -> Vec<Edit> {
    let mut edits: Vec<Edit> = Vec::new();
    for r in &s.report.sids {
        let more = match s.wanted.get(&r.entry.sid) {
            Some(true) => snort::disable_edits(r),
            Some(false) => snort::enable_edits(r),
            None => continue,
        };
        for e in more {
            if !edits.contains(&e) {
                edits.push(e);
            }
        }
    }
    edits
}

fn ask(model: &mut Model, question: String, what: ToolConfirm) -> Vec<Effect> {
    model.overlay = Some(Overlay::Confirm {
        question,
        on_yes: Pending::Tool(what),
    });
    Vec::new()
}

/// Yes to a tool screen's question.
pub fn confirmed(model: &mut Model, what: ToolConfirm) -> Vec<Effect> {
    let Some(session) = model.tool.clone() else {
        return Vec::new();
    };
    match what {
        ToolConfirm::Run { commands, env } => {
            if model.settings.practice {
                for argv in &commands {
                    model.push_output(format!("practice: would run: {}", show_argv(argv)));
                }
                if let Some(s) = model.tool.as_mut() {
                    s.notice = Some("Practice mode: nothing was run.".into());
                }
                return Vec::new();
            }
            if model.running.is_some() {
                model.message = Some("A command is already running: wait for it to end".into());
                return Vec::new();
            }
            crate::ui::update::begin_running(model, &session.runbook, &session.step);
            if let Some(s) = model.tool.as_mut() {
                s.verifying = Some(s.view.clone());
                s.notice = Some(format!("Running {} command(s)...", commands.len()));
            }
            let mut env = env;
            env.extend(model.command_env.iter().cloned());
            vec![Effect::RunCommands {
                runbook: session.runbook,
                step: session.step,
                commands,
                env,
            }]
        }
        ToolConfirm::Edits(edits) => {
            if model.settings.practice {
                if let Some(s) = model.tool.as_mut() {
                    s.notice = Some("Practice mode: no file was changed.".into());
                }
                return Vec::new();
            }
            let run = model.run_mut(&session.runbook);
            let archive = crate::core::apply::archive_for(run);
            vec![Effect::Tool(ToolJob::ApplyEdits {
                step: session.step,
                archive,
                at: model.now.clone(),
                edits,
            })]
        }
        ToolConfirm::Undo(applied) => vec![Effect::Tool(ToolJob::UndoEdit(applied))],
    }
}

/// After a run ends: a tool that was applying reads its listing again to check the result.
pub fn after_run(model: &mut Model) -> Vec<Effect> {
    let Some(session) = model.tool.as_mut() else {
        return Vec::new();
    };
    if session.verifying.is_none() || model.running.is_some() {
        return Vec::new();
    }
    match session.tool {
        ToolKind::GccProfile => vec![
            Effect::Tool(ToolJob::ReadProfileEnv),
            Effect::Tool(ToolJob::List(ToolKind::GccProfile)),
        ],
        ToolKind::SnortRules => {
            // A restart: nothing to list; the outcome is the step's.
            session.verifying = None;
            session.notice = Some(match model.message.as_deref() {
                Some(m) => m.to_string(),
                None => "snort restarted: it now uses the edited rules.".into(),
            });
            Vec::new()
        }
        tool => vec![Effect::Tool(ToolJob::List(tool))],
    }
}

/// The text typed at the "your own SID" prompt: `NUMBER reason...`.
pub fn own_sid_typed(model: &mut Model, text: &str) -> Vec<Effect> {
    let (sid, reason) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    match sid.parse::<u64>() {
        Ok(sid) if !reason.trim().is_empty() => {
            model.overlay = None;
            vec![Effect::Tool(ToolJob::AddSid {
                sid,
                reason: reason.trim().to_string(),
            })]
        }
        _ => {
            model.message = Some("Type the SID number, a space, then the reason".into());
            Vec::new()
        }
    }
}

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

#[cfg(test)]
mod tests;

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
