//! The app loop: read keys → `Msg`; drain background results → `Msg`; `update`; carry out the
//! effects; draw once per batch, and only when the model changed. Input is read on this thread
//! only, so there is never a second reader to pause when a child needs the terminal.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::catalog::Catalog;
use crate::cli::{GlobalOpts, UsageError};
use crate::core::apply::{EditError, EditSite};
use crate::core::progress::Run;
use crate::core::runbook::Action as StepAction;
use crate::core::state_dir::StateDir;
use crate::step_runner::{self, Start, StepRunner};
use crate::terminal::profile::{self, ProfileFlags, TermEnv};
use crate::terminal::{self, Session, Signals};
use crate::tool_jobs::{self, ToolContext};
use crate::ui::keys::Key;
use crate::ui::model::{EditPreview, EditProblem, Model, TerminalInfo};
use crate::ui::{self, Effect, Msg};

/// How long the loop sleeps waiting for input before checking signals and background work.
/// Waking costs no bytes: nothing is drawn unless the model changed.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// The exit status when the terminal went away (128 + SIGHUP, as a shell reports it).
const HANGUP_EXIT: u8 = 129;

/// How long the loop waits for input while a command runs: output is drawn at most this often.
const RUNNING_POLL: Duration = Duration::from_millis(50);

/// With `--low-bandwidth`, changes that are not answers to a key (command output) are drawn at
/// most this often.
const LOW_BANDWIDTH_GAP: Duration = Duration::from_secs(1);

mod recorder;

pub use recorder::Recorder;

/// Where runs are kept: [`Recorder`] (the progress store on disk) in the app, [`MemoryStore`]
/// in tests.
pub trait ProgressStore {
    /// Every run the store knows (all targets).
    fn load_all(&mut self) -> anyhow::Result<Vec<Run>>;
    /// Saves one run (atomically, in a real store).
    fn save(&mut self, run: &Run) -> anyhow::Result<()>;
    /// The stored truth about a run after a save (the store may have refused a change or
    /// filled in log paths); `None` when the store keeps no copy.
    fn current(&mut self, _run: &Run) -> Option<Run> {
        None
    }
    /// Opens a run after the technician agreed to start fresh because its state file was
    /// unreadable (it has been moved aside); stores without files just open the run.
    fn open_run_fresh(
        &mut self,
        practice: bool,
        runbook: &str,
        target: &str,
    ) -> anyhow::Result<Run> {
        self.open_run(practice, runbook, target)
    }
    /// Opens a run when its runbook is opened (locking it and reconciling steps left running);
    /// returns the run as stored.
    fn open_run(&mut self, practice: bool, runbook: &str, target: &str) -> anyhow::Result<Run> {
        Ok(Run {
            runbook: runbook.to_string(),
            target: target.to_string(),
            practice,
            ..Run::default()
        })
    }
}

/// The message that answers opening a run: the run, the question about an unreadable state
/// file, or the problem in words.
fn opened(runbook: String, result: anyhow::Result<Run>) -> Msg {
    match result {
        Ok(run) => Msg::RunOpened(Box::new(run)),
        Err(e) => match e.downcast_ref::<crate::core::store::StoreError>() {
            Some(corrupt @ crate::core::store::StoreError::Corrupt { .. }) => Msg::RunCorrupt {
                runbook,
                message: corrupt.to_string(),
            },
            _ => Msg::Problem(format!("{e:#}")),
        },
    }
}

/// A store that keeps nothing beyond the model: progress is lost on quit.
#[derive(Debug, Default)]
pub struct MemoryStore;

impl ProgressStore for MemoryStore {
    fn load_all(&mut self) -> anyhow::Result<Vec<Run>> {
        Ok(Vec::new())
    }
    fn save(&mut self, _run: &Run) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Translates a terminal key event into fieldbook's key. Raw mode delivers 0x08 as Ctrl-H
/// (Backspace on a VT100), LF as Ctrl-J and Tab as Ctrl-I; Alt combinations (which are really
/// Esc followed by a key, often a split escape sequence) are ignored.
pub fn key_of(ev: KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    if ev.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    Some(match ev.code {
        KeyCode::Char(c) if ctrl => match c.to_ascii_lowercase() {
            'h' => Key::Backspace,
            'j' | 'm' => Key::Enter,
            'i' => Key::Tab,
            c => Key::Ctrl(c),
        },
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Enter => Key::Enter,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Esc => Key::Esc,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Delete => Key::Delete,
        _ => return None,
    })
}

/// True when the keys end in Esc, Esc `[` or Esc `O`: possibly the start of a key sequence
/// whose remaining bytes are still on the line.
fn ends_in_escape(keys: &[Key]) -> bool {
    matches!(
        keys,
        [.., Key::Esc]
            | [.., Key::Esc, Key::Char('[' | 'O')]
            | [.., Key::Esc, Key::Char('['), Key::Char('0'..='9')]
    )
}

/// Re-reads key sequences that a slow line split across reads, which crossterm delivers as
/// Esc followed by plain characters (Esc, `[`, `A` instead of Up): cursor keys, Home/End and
/// PgUp/PgDn in both their CSI and SS3 forms. Anything else passes through unchanged.
pub fn join_split_escapes(keys: Vec<Key>) -> Vec<Key> {
    let mut out = Vec::with_capacity(keys.len());
    let mut i = 0;
    while i < keys.len() {
        if keys[i] == Key::Esc
            && let Some((key, len)) = split_sequence(&keys[i + 1..])
        {
            out.push(key);
            i += 1 + len;
            continue;
        }
        out.push(keys[i]);
        i += 1;
    }
    out
}

/// The key a split sequence stands for and how many keys after the Esc it used.
fn split_sequence(rest: &[Key]) -> Option<(Key, usize)> {
    let final_key = |c: char| match c {
        'A' => Some(Key::Up),
        'B' => Some(Key::Down),
        'C' => Some(Key::Right),
        'D' => Some(Key::Left),
        'H' => Some(Key::Home),
        'F' => Some(Key::End),
        _ => None,
    };
    match rest {
        [Key::Char('[' | 'O'), Key::Char(c), ..] if final_key(*c).is_some() => {
            final_key(*c).map(|k| (k, 2))
        }
        [Key::Char('['), Key::Char(d), Key::Char('~'), ..] => {
            let key = match d {
                '1' | '7' => Key::Home,
                '4' | '8' => Key::End,
                '5' => Key::PageUp,
                '6' => Key::PageDown,
                '3' => Key::Delete,
                _ => return None,
            };
            Some((key, 3))
        }
        _ => None,
    }
}

/// The current time as RFC 3339 UTC (seconds), without a date crate.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// This machine's host name (the default target).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Runbooks whose `applies_to` files exist (under `--root` when given).
pub fn detect_applicable(catalog: &Catalog, root: Option<&Path>) -> BTreeSet<String> {
    catalog
        .entries
        .iter()
        .filter(|e| {
            e.runbook.applies_to.iter().any(|p| {
                let rel = p.trim_start_matches('/');
                match root {
                    Some(r) => r.join(rel).exists(),
                    None => Path::new(p).exists(),
                }
            })
        })
        .map(|e| e.runbook.id.clone())
        .collect()
}

/// The terminal facts for help and `--version --verbose`.
pub fn terminal_info(
    global: &GlobalOpts,
) -> Result<(profile::Profile, profile::ResolvedSize, TerminalInfo), String> {
    let prof = profile::detect(
        &TermEnv::from_process(),
        ProfileFlags {
            ascii: global.ascii,
            unicode: global.unicode,
            no_color: global.no_color,
        },
    );
    let size = terminal::resolve_size(global.size.as_deref())?;
    let info = TerminalInfo {
        size: size.to_string(),
        glyphs: format!("{} ({})", prof.glyphs.name(), prof.glyphs_reason),
        color: format!(
            "{} ({})",
            match prof.color {
                profile::ColorMode::Mono => "mono",
                profile::ColorMode::Basic8 => "8 colours",
            },
            prof.color_reason
        ),
    };
    Ok((prof, size, info))
}

/// Opens the app (optionally on one runbook) and runs it until the technician quits.
pub fn run(global: &GlobalOpts, catalog: Catalog, open: Option<&str>) -> anyhow::Result<u8> {
    run_opened(global, catalog, open, None)
}

/// Opens the app on the fleet screen for `hosts` (`fieldbook fleet --app`).
pub fn run_fleet(
    global: &GlobalOpts,
    catalog: Catalog,
    settings: crate::core::fleet::ssh::SshSettings,
    hosts: Vec<String>,
) -> anyhow::Result<u8> {
    run_opened(global, catalog, None, Some((settings, hosts)))
}

fn run_opened(
    global: &GlobalOpts,
    catalog: Catalog,
    open: Option<&str>,
    fleet: Option<(crate::core::fleet::ssh::SshSettings, Vec<String>)>,
) -> anyhow::Result<u8> {
    if let Some(id) = open
        && catalog.get(id).is_none()
    {
        return Err(UsageError(format!(
            "no runbook '{id}' (known: {})",
            catalog.ids().join(", ")
        ))
        .into());
    }
    if !terminal::is_interactive() {
        anyhow::bail!(
            "the app needs a terminal: stdin and stdout must be a tty \
             (the subcommands list, show and check work without one)"
        );
    }
    let (prof, size, info) = terminal_info(global).map_err(UsageError)?;
    let mut store = Recorder::new(
        global.state_dir.clone(),
        catalog.entries.iter().map(|e| e.runbook.clone()).collect(),
    );
    let runs = store.load_all()?;
    let applicable = detect_applicable(&catalog, global.root.as_deref());
    let mut model = Model::new(
        catalog.entries.iter().map(|e| e.runbook.clone()).collect(),
        applicable,
        runs,
    );
    model.target = global.target.clone().unwrap_or_else(host_name);
    model.on = global.host.clone();
    model.practice = global.practice;
    model.low_bandwidth = global.low_bandwidth;
    model.who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_default();
    model.now = now_rfc3339();
    model.ssh_advice = std::env::var_os("SSH_CONNECTION").is_some()
        && std::env::var_os("STY").is_none()
        && std::env::var_os("TMUX").is_none();
    model.theme = ui::theme::Theme::new(prof.glyphs, prof.color);
    model.terminal = info;
    model.size = (size.cols, size.rows);
    let mut first = VecDeque::new();
    model.root = global.root.clone();
    model.state_dir = crate::cli::snort::state_dir(global).ok();
    let tools = ToolContext {
        practice: global.practice,
        root: model.root.clone(),
        state_dir: model.state_dir.clone(),
    };
    if let Some(id) = open {
        first.extend(
            ui::update::open_runbook(&mut model, id)
                .into_iter()
                .filter_map(|e| match e {
                    Effect::OpenRun { runbook } => Some(runbook),
                    _ => None,
                }),
        );
    }
    if let Some((settings, hosts)) = fleet {
        // The first ask is started by the loop (`ui::fleet::first_job`), which owns the channel.
        ui::fleet::open(&mut model, settings, hosts);
    }
    let signals = Signals::register().context("cannot install signal handlers")?;
    signals.watch_for_hangup();
    let (alt_screen, _) = profile::use_alt_screen(
        prof.alt_screen,
        global.no_alt_screen,
        global.alt_screen,
        std::env::var_os("STY").is_some(),
    );
    let mut session = Session::start(&prof, size, global.size.clone(), alt_screen)
        .context("cannot set up the terminal")?;
    session.esc_delay = profile::esc_delay(global.esc_delay, global.low_bandwidth);
    for runbook in first {
        let result = store.open_run(model.practice, &runbook, &model.target);
        let msg = opened(runbook, result);
        ui::update(&mut model, msg);
    }
    if open.is_some() {
        // `fieldbook run ID` never shows the runbook list, so its advice comes along.
        ui::update::ssh_advice_on_open(&mut model);
    }
    let mut runner = StepRunner::new(global);
    let site = StateDir::resolve(global.state_dir.as_deref(), global.practice)
        .map(|dir| EditSite {
            root: global.root.clone(),
            state_dir: dir.base(),
        })
        .map_err(|e| e.to_string());
    let result = event_loop(
        &mut session,
        &mut model,
        &mut store,
        &signals,
        &tools,
        &mut runner,
        &site,
    );
    drop(session);
    // A terminal that went away can fail a draw or a read (EIO) before the loop sees the
    // hang-up: that is the hang-up, not an error of fieldbook's.
    let result = match result {
        Err(_) if signals.hangup.load(Ordering::SeqCst) || terminal_gone() => {
            stop_running(&mut model, &mut store, &mut runner, "the terminal hung up");
            Ok(HANGUP_EXIT)
        }
        other => other,
    };
    if let Ok(HANGUP_EXIT) = result {
        // stderr may be the terminal that went away: the write is tried, never unwrapped.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "fieldbook: the terminal hung up; progress is saved (exit 129)"
        );
    }
    result
}

fn event_loop(
    session: &mut Session,
    model: &mut Model,
    store: &mut dyn ProgressStore,
    signals: &Signals,
    tools: &ToolContext,
    runner: &mut StepRunner,
    site: &Result<EditSite, String>,
) -> anyhow::Result<u8> {
    let mut queue: VecDeque<Msg> = VecDeque::new();
    let mut dirty = true;
    // A key always gets its answer drawn at once; other changes (command output) wait for the
    // low-bandwidth interval.
    let mut key_seen = false;
    let mut last_draw: Option<Instant> = None;
    // Results of background work (tool listings, tool commands) come back on this channel.
    let (bg_tx, bg_rx) = mpsc::channel::<Msg>();
    // The screen the app opened on may need background work at once (the fleet's first ask).
    if let Some(job) = ui::fleet::first_job(model) {
        crate::fleet_jobs::start(job, bg_tx.clone());
    }
    loop {
        if signals.terminate.load(Ordering::SeqCst) || signals.hangup.load(Ordering::SeqCst) {
            let why = if signals.hangup.load(Ordering::SeqCst) {
                "the terminal hung up"
            } else {
                "fieldbook was terminated"
            };
            stop_running(model, store, runner, why);
            // A vanished terminal ends as a hang-up does (128 + SIGHUP), as the README says.
            return Ok(if signals.hangup.load(Ordering::SeqCst) {
                HANGUP_EXIT
            } else {
                crate::cli::exit::OK
            });
        }
        if signals.resumed.swap(false, Ordering::SeqCst) {
            session.reenter(session.alt_screen)?;
            dirty = true;
        }
        let min_gap = if model.low_bandwidth {
            LOW_BANDWIDTH_GAP
        } else {
            Duration::ZERO
        };
        let draw_due = key_seen || last_draw.is_none_or(|t| t.elapsed() >= min_gap);
        if dirty && draw_due {
            // Test hook for the restore-on-panic test: a panic in the middle of drawing.
            if std::env::var_os("FIELDBOOK_TEST_PANIC").is_some()
                && session.terminal.get_frame().count() > 0
            {
                panic!("FIELDBOOK_TEST_PANIC");
            }
            session.terminal.draw(|f| {
                let area = f.area();
                if let Some(pos) = ui::render(model, area, f.buffer_mut()) {
                    f.set_cursor_position(pos);
                }
            })?;
            dirty = false;
            key_seen = false;
            last_draw = Some(Instant::now());
        }
        // Collect a batch: everything already waiting, or the first event within IDLE_POLL.
        let mut resized = false;
        // A deferred draw wakes the loop when it is due; while a command runs, wake often
        // enough to show its output (at most every ~50 ms).
        let idle = if runner.busy() {
            RUNNING_POLL
        } else {
            IDLE_POLL
        };
        let wait = match (dirty, last_draw) {
            (true, Some(t)) => min_gap.saturating_sub(t.elapsed()).min(idle),
            _ => idle,
        };
        // A hang-up is checked before crossterm touches the terminal (it would spin on it);
        // events crossterm already parsed come next; otherwise wait on the terminal ourselves.
        let input = if !queue.is_empty() {
            terminal::Input::Idle
        } else if terminal::wait_for_input(Duration::ZERO)? == terminal::Input::HungUp {
            terminal::Input::HungUp
        } else if event::poll(Duration::ZERO)? {
            terminal::Input::Ready
        } else {
            terminal::wait_for_input(wait)?
        };
        if input == terminal::Input::HungUp {
            signals.hangup.store(true, Ordering::SeqCst);
            signals.terminate.store(true, Ordering::SeqCst);
            continue;
        }
        if input == terminal::Input::Ready && event::poll(Duration::ZERO)? {
            let mut keys = Vec::new();
            loop {
                match event::read()? {
                    Event::Key(k) => keys.extend(key_of(k)),
                    Event::Resize(..) => resized = true,
                    _ => {}
                }
                let hung_up = terminal::wait_for_input(Duration::ZERO)? == terminal::Input::HungUp;
                let more = !hung_up && event::poll(Duration::ZERO)?
                    // An Esc (or Esc [) at the end of a read may be an arrow key split by a slow
                    // line: give the rest a moment to arrive before taking it as Esc.
                    || (ends_in_escape(&keys)
                        && terminal::wait_for_input(session.esc_delay)? == terminal::Input::Ready
                        && event::poll(Duration::ZERO)?);
                if !more {
                    break;
                }
            }
            queue.extend(join_split_escapes(keys).into_iter().map(Msg::Key));
        }
        resized |= signals.resized.swap(false, Ordering::SeqCst);
        if resized {
            let s = session.refresh(false)?;
            queue.push_back(Msg::Resized {
                cols: s.cols,
                rows: s.rows,
            });
        }
        queue.extend(bg_rx.try_iter());
        let now = now_rfc3339();
        // A running step shows how long it has run: a new second is a (tiny) redraw.
        if model.running.is_some() && now != model.now {
            dirty = true;
        }
        model.now = now;
        // A long step left running by an earlier fieldbook (killed, crashed, hung up): follow it.
        queue.extend(runner.reattach(model));
        queue.extend(runner.poll());
        while let Some(msg) = queue.pop_front() {
            let changes = !matches!(&msg, Msg::Key(k) if ignored(model, *k));
            dirty |= changes;
            key_seen |= changes && matches!(msg, Msg::Key(_));
            for effect in ui::update(model, msg) {
                match effect {
                    Effect::Quit => {
                        stop_running(model, store, runner, "fieldbook was quit while it ran");
                        return Ok(crate::cli::exit::OK);
                    }
                    Effect::CancelRun => runner.cancel(),
                    Effect::Redraw => {
                        let s = session.refresh(true)?;
                        queue.push_back(Msg::Resized {
                            cols: s.cols,
                            rows: s.rows,
                        });
                    }
                    Effect::Suspend => {
                        signals.resumed.store(false, Ordering::SeqCst);
                        session.suspend()?;
                        // A real stop ends with SIGCONT; without one the kernel discarded the
                        // stop (no job-control shell, e.g. a console login that exec'd us).
                        if !signals.resumed.swap(false, Ordering::SeqCst) {
                            queue.push_back(Msg::Problem(
                                "Not suspended: no job-control shell here to come back with fg"
                                    .into(),
                            ));
                        }
                        dirty = true;
                    }
                    Effect::Save(run) => {
                        if let Err(e) = store.save(&run) {
                            queue.push_back(Msg::Problem(format!("progress not saved: {e:#}")));
                        }
                        if let Some(truth) = store.current(&run) {
                            queue.push_back(Msg::RunLoaded(Box::new(truth)));
                        }
                    }
                    Effect::OpenRun { runbook } => {
                        let result = store.open_run(model.practice, &runbook, &model.target);
                        queue.push_back(opened(runbook, result));
                    }
                    Effect::OpenRunFresh { runbook } => {
                        let result = store.open_run_fresh(model.practice, &runbook, &model.target);
                        queue.push_back(opened(runbook, result));
                    }
                    edit @ (Effect::PreviewEdit { .. }
                    | Effect::ApplyEdit { .. }
                    | Effect::PreviewUndo { .. }
                    | Effect::UndoEdit { .. }) => {
                        queue.push_back(edit_effect(site, model, edit));
                    }
                    Effect::RunCommands {
                        runbook,
                        step,
                        commands,
                        env,
                    } => {
                        // Through the same runner as a step: log, cancel, exit recorded.
                        queue.extend(runner.start_commands(model, &runbook, &step, commands, env));
                    }
                    Effect::Fleet(job) => crate::fleet_jobs::start(job, bg_tx.clone()),
                    Effect::Tool(job) => {
                        tool_jobs::start(job, tools, model.command_env.clone(), bg_tx.clone());
                    }
                    Effect::RunStep { runbook, step } => match runner.start(model, &runbook, &step)
                    {
                        Start::Messages(msgs) => queue.extend(msgs),
                        Start::Interactive(child) => {
                            queue.extend(step_runner::hand_over(session, signals, *child));
                            dirty = true;
                        }
                    },
                }
            }
        }
    }
}

/// True when standard input has hung up (the terminal is gone).
fn terminal_gone() -> bool {
    matches!(
        terminal::wait_for_input(Duration::ZERO),
        Ok(terminal::Input::HungUp) | Err(_)
    )
}

/// Records how a running step ends when the app goes away, and saves it.
fn stop_running(
    model: &mut Model,
    store: &mut dyn ProgressStore,
    runner: &mut StepRunner,
    why: &str,
) {
    for msg in runner.stop_for_exit(why) {
        for effect in ui::update(model, msg) {
            if let Effect::Save(run) = effect {
                let _ = store.save(&run);
            }
        }
    }
}

/// A key with no meaning in the current scope changes nothing, so it causes no draw.
fn ignored(model: &Model, key: Key) -> bool {
    let scope = model.scope();
    ui::keys::lookup(scope, key).is_none() && !(scope.takes_text() && matches!(key, Key::Char(_)))
}

/// Carries out the file work of an edit effect (quick: a few small files) and returns the
/// result for `update`.
pub fn edit_effect(site: &Result<EditSite, String>, model: &Model, effect: Effect) -> Msg {
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
            let edits = edits_of(&run.runbook, &step);
            let previewed = if model.practice {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_escape_sequences_become_their_keys() {
        let c = Key::Char;
        let cases: &[(&[Key], &[Key])] = &[
            (&[Key::Esc, c('['), c('A')], &[Key::Up]),
            (&[Key::Esc, c('O'), c('B')], &[Key::Down]),
            (
                &[c('j'), Key::Esc, c('['), c('5'), c('~'), c('k')],
                &[c('j'), Key::PageUp, c('k')],
            ),
            (&[Key::Esc, c('['), c('4'), c('~')], &[Key::End]),
            (&[Key::Esc, c('['), c('H')], &[Key::Home]),
            // A real Esc, and Esc followed by an unrelated key, stay as typed.
            (&[Key::Esc], &[Key::Esc]),
            (&[Key::Esc, c('q')], &[Key::Esc, c('q')]),
            (
                &[Key::Esc, c('['), c('9'), c('~')],
                &[Key::Esc, c('['), c('9'), c('~')],
            ),
            (&[Key::Esc, c('[')], &[Key::Esc, c('[')]),
        ];
        for (input, want) in cases {
            assert_eq!(
                join_split_escapes(input.to_vec()),
                want.to_vec(),
                "{input:?}"
            );
        }
    }

    #[test]
    fn an_escape_at_the_end_waits_for_more() {
        assert!(ends_in_escape(&[Key::Char('j'), Key::Esc]));
        assert!(ends_in_escape(&[Key::Esc, Key::Char('[')]));
        assert!(ends_in_escape(&[Key::Esc, Key::Char('['), Key::Char('5')]));
        assert!(!ends_in_escape(&[Key::Esc, Key::Char('q')]));
        assert!(!ends_in_escape(&[]));
    }

    #[test]
    fn raw_mode_control_keys_map_to_what_they_mean() {
        use crossterm::event::{KeyEvent, KeyModifiers as M};
        let ctrl = |c| key_of(KeyEvent::new(KeyCode::Char(c), M::CONTROL));
        assert_eq!(ctrl('h'), Some(Key::Backspace));
        assert_eq!(ctrl('j'), Some(Key::Enter));
        assert_eq!(ctrl('l'), Some(Key::Ctrl('l')));
        assert_eq!(key_of(KeyEvent::new(KeyCode::Char('x'), M::ALT)), None);
        assert_eq!(
            key_of(KeyEvent::new(KeyCode::Backspace, M::NONE)),
            Some(Key::Backspace)
        );
    }

    #[test]
    fn rfc3339_clock_has_the_right_shape() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }
}
