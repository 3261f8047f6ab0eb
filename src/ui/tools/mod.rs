//! The tool screens' state and behaviour (Services, Runlevels, GCC profile, Snort rules): what
//! a key does, what a background result changes, and the effects asked of the loop. No I/O
//! here: listings, scans, runs and edits are `Effect`s the loop carries out; results come back
//! as `Msg::Tool`.
//!
//! Every change follows the same path: the technician chooses, Apply shows the exact commands
//! (or diff) and asks, the commands run as an attempt of the step through the runner, and the
//! tool's listing is read again to check that the change took.

use crate::core::gcc::{self};
use crate::core::runbook::{Edit, ToolKind};
use crate::core::snort::{self, RuleState};
use crate::core::terminal_text::terminal_safe_line;

use super::keys::Action;
use super::model::{Effect, Model, Overlay, Pending, Screen};
use super::text::show_argv;

mod result;
mod session;

pub use result::result;
pub use session::*;

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
            move_column(session, action);
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
            clear_choices(&mut session.view);
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
        Action::Restart => ask_restart(model),
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
            ask_undo(model, &runbook, &step)
        }
        _ => Vec::new(),
    }
}

/// Runlevels: the column the cursor is in moves left or right, within the runlevels listed.
fn move_column(session: &mut ToolSession, action: Action) {
    if let ToolView::Runlevels(t) = &session.view {
        let last = t.runlevels.len().saturating_sub(1);
        session.column = if action == Action::ColumnLeft {
            session.column.saturating_sub(1)
        } else {
            (session.column + 1).min(last)
        };
    }
}

/// Forgets the choices made on a tool screen: every row wants what it has.
fn clear_choices(view: &mut ToolView) {
    match view {
        ToolView::Services(t) => t.clear_choices(),
        ToolView::Runlevels(t) => {
            for r in &mut t.rows {
                r.wanted = r.current.clone();
            }
        }
        ToolView::Snort(s) => s.wanted.clear(),
        _ => {}
    }
}

/// Asks before restarting snort so it reads its rules again.
fn ask_restart(model: &mut Model) -> Vec<Effect> {
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

/// Asks before undoing the step's last rules edit not undone yet, or says there is none.
fn ask_undo(model: &mut Model, runbook: &str, step: &str) -> Vec<Effect> {
    let last = model.run(runbook).and_then(|r| {
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

#[cfg(test)]
mod tests;
