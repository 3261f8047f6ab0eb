//! The app loop: read keys → `Msg`; drain background results → `Msg`; `update`; carry out the
//! effects; draw once per batch, and only when the model changed. Input is read on this thread
//! only, so there is never a second reader to pause when a child needs the terminal.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use super::input::Decoder;
use super::recorder::{Recorder, opened};
use super::step_runner::{Start, StepRunner};
use super::{fleet_jobs, tool_jobs};
use crate::core::store::Transition;
use crate::core::{clock, exit};
use crate::terminal::{self, Session, Signals};
use crate::ui::keys::Key;
use crate::ui::model::Model;
use crate::ui::{self, Effect, Msg};

/// How long the loop sleeps waiting for input before checking signals and background work.
/// Waking costs no bytes: nothing is drawn unless the model changed.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// The exit status when the terminal went away (128 + SIGHUP, as a shell reports it).
pub(super) const HANGUP_EXIT: u8 = 129;

/// How long the loop waits for input while a command runs: output is drawn at most this often.
const RUNNING_POLL: Duration = Duration::from_millis(50);

/// With `--low-bandwidth`, changes that are not answers to a key (command output) are drawn at
/// most this often.
const LOW_BANDWIDTH_GAP: Duration = Duration::from_secs(1);

/// Everything the loop carries out effects with.
pub(super) struct Parts<'a> {
    /// The terminal.
    pub(crate) session: &'a mut Session,
    /// Signal flags.
    pub(crate) signals: &'a Signals,
    /// The progress store.
    pub(crate) store: &'a mut Recorder,
    /// The one running step.
    pub(crate) runner: &'a mut StepRunner,
}

/// When the screen was last drawn and whether it must be drawn again.
struct Drawing {
    dirty: bool,
    /// A key always gets its answer drawn at once; other changes (command output) wait for the
    /// low-bandwidth interval.
    key_seen: bool,
    last_draw: Option<Instant>,
}

/// What one turn of the loop ends with.
enum Turn {
    Continue,
    Quit,
}

/// Runs the loop until the technician quits or the terminal goes away; the exit status.
pub(super) fn event_loop(parts: &mut Parts<'_>, model: &mut Model) -> anyhow::Result<u8> {
    let mut queue: VecDeque<Msg> = VecDeque::new();
    let mut decoder = Decoder::default();
    let mut drawing = Drawing {
        dirty: true,
        key_seen: false,
        last_draw: None,
    };
    // Results of background work (tool listings, tool commands) come back on this channel.
    let (bg_tx, bg_rx) = mpsc::channel::<Msg>();
    // The screen the app opened on may need background work at once (the fleet's first ask).
    if let Some(job) = ui::fleet::first_job(model) {
        fleet_jobs::start(job, bg_tx.clone());
    }
    loop {
        if let Some(why) = leaving(parts.signals) {
            stop_running(model, parts, why);
            // A vanished terminal ends as a hang-up does (128 + SIGHUP), as the README says.
            return Ok(if parts.signals.hangup.load(Ordering::SeqCst) {
                HANGUP_EXIT
            } else {
                exit::OK
            });
        }
        if parts.signals.resumed.swap(false, Ordering::SeqCst) {
            parts.session.reenter(parts.session.alt_screen)?;
            drawing.dirty = true;
        }
        let min_gap = if model.settings.terminal.low_bandwidth {
            LOW_BANDWIDTH_GAP
        } else {
            Duration::ZERO
        };
        draw_if_due(parts.session, model, &mut drawing, min_gap)?;
        let idle = if parts.runner.busy() {
            RUNNING_POLL
        } else {
            IDLE_POLL
        };
        // A deferred draw wakes the loop when it is due; while a command runs, wake often
        // enough to show its output.
        let wait = match (drawing.dirty, drawing.last_draw) {
            (true, Some(t)) => min_gap.saturating_sub(t.elapsed()).min(idle),
            _ => idle,
        };
        read_input(parts, &mut decoder, &mut queue, wait)?;
        queue.extend(bg_rx.try_iter());
        let now = clock::now();
        // A running step shows how long it has run: a new second is a (tiny) redraw.
        if model.running.is_some() && now != model.now {
            drawing.dirty = true;
        }
        model.now = now;
        // A long step left running by an earlier fieldbook (killed, crashed, hung up): follow it.
        queue.extend(parts.runner.reattach(model));
        queue.extend(parts.runner.poll(parts.store));
        if let Turn::Quit = handle_queue(parts, model, &mut queue, &mut drawing, &bg_tx)? {
            return Ok(exit::OK);
        }
    }
}

/// True when the terminal is gone: a hang-up was seen, or standard input has hung up.
pub(super) fn hung_up(signals: &Signals) -> bool {
    signals.hangup.load(Ordering::SeqCst)
        || matches!(
            terminal::wait_for_input(Duration::ZERO),
            Ok(terminal::Input::HungUp) | Err(_)
        )
}

/// Why the app must end now (a signal or a hang-up), if it must.
fn leaving(signals: &Signals) -> Option<&'static str> {
    if signals.hangup.load(Ordering::SeqCst) {
        Some("the terminal hung up")
    } else if signals.terminate.load(Ordering::SeqCst) {
        Some("fieldbook was terminated")
    } else {
        None
    }
}

/// Draws the model when it changed and the low-bandwidth interval (if any) has passed.
fn draw_if_due(
    session: &mut Session,
    model: &Model,
    drawing: &mut Drawing,
    min_gap: Duration,
) -> anyhow::Result<()> {
    let due = drawing.key_seen || drawing.last_draw.is_none_or(|t| t.elapsed() >= min_gap);
    if !(drawing.dirty && due) {
        return Ok(());
    }
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
    drawing.dirty = false;
    drawing.key_seen = false;
    drawing.last_draw = Some(Instant::now());
    Ok(())
}

/// Waits up to `wait` for input and queues the keys read (and a resize). Keys are read from
/// standard input directly (see [`super::input`]); a read of nothing means the terminal is gone.
fn read_input(
    parts: &mut Parts<'_>,
    decoder: &mut Decoder,
    queue: &mut VecDeque<Msg>,
    wait: Duration,
) -> anyhow::Result<()> {
    let input = if queue.is_empty() {
        terminal::wait_for_input(wait)?
    } else {
        terminal::Input::Idle
    };
    let gone = match input {
        terminal::Input::HungUp => true,
        terminal::Input::Ready => {
            let (keys, gone) = read_keys(decoder, parts.session.esc_delay)?;
            queue.extend(keys.into_iter().map(Msg::Key));
            gone
        }
        terminal::Input::Idle => false,
    };
    if gone {
        parts.signals.hangup.store(true, Ordering::SeqCst);
        parts.signals.terminate.store(true, Ordering::SeqCst);
        return Ok(());
    }
    if parts.signals.resized.swap(false, Ordering::SeqCst) {
        let s = parts.session.refresh(false)?;
        queue.push_back(Msg::Resized {
            cols: s.cols,
            rows: s.rows,
        });
    }
    Ok(())
}

/// The most bytes read in one batch, so a flood of input (a paste) still lets the screen update.
const MAX_BATCH: usize = 64 * 1024;

/// Reads every byte already waiting and decodes it. A sequence cut off at the end of a read
/// (Esc, Esc `[`: maybe an arrow key split by a slow line) is given `esc_delay` for the rest to
/// arrive before it counts as typed. Also says whether the terminal hung up.
fn read_keys(decoder: &mut Decoder, esc_delay: Duration) -> anyhow::Result<(Vec<Key>, bool)> {
    let mut keys = Vec::new();
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        let n = match terminal::read_input(&mut buf) {
            Ok(n) => n,
            // Nothing there after all (another reader was quicker): not a hang-up.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                keys.extend(decoder.flush());
                return Ok((keys, false));
            }
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            keys.extend(decoder.flush());
            return Ok((keys, true));
        }
        keys.extend(decoder.feed(&buf[..n]));
        total += n;
        let more = (total < MAX_BATCH
            && terminal::wait_for_input(Duration::ZERO)? == terminal::Input::Ready)
            || (decoder.has_pending()
                && terminal::wait_for_input_until(Instant::now() + esc_delay)?
                    == terminal::Input::Ready);
        if !more {
            keys.extend(decoder.flush());
            return Ok((keys, false));
        }
    }
}

/// Applies every queued message to the model and carries out the effects `update` asks for.
fn handle_queue(
    parts: &mut Parts<'_>,
    model: &mut Model,
    queue: &mut VecDeque<Msg>,
    drawing: &mut Drawing,
    bg_tx: &Sender<Msg>,
) -> anyhow::Result<Turn> {
    while let Some(msg) = queue.pop_front() {
        let changes = !matches!(&msg, Msg::Key(k) if ignored(model, *k));
        drawing.dirty |= changes;
        drawing.key_seen |= changes && matches!(msg, Msg::Key(_));
        for effect in ui::update(model, msg) {
            if let Turn::Quit = carry_out(parts, model, effect, queue, drawing, bg_tx)? {
                return Ok(Turn::Quit);
            }
        }
    }
    Ok(Turn::Continue)
}

/// Carries out one effect; its answers (if any) are queued.
fn carry_out(
    parts: &mut Parts<'_>,
    model: &mut Model,
    effect: Effect,
    queue: &mut VecDeque<Msg>,
    drawing: &mut Drawing,
    bg_tx: &Sender<Msg>,
) -> anyhow::Result<Turn> {
    match effect {
        Effect::Quit => {
            stop_running(model, parts, "fieldbook was quit while it ran");
            return Ok(Turn::Quit);
        }
        Effect::CancelRun => parts.runner.cancel(),
        Effect::Redraw => {
            let s = parts.session.refresh(true)?;
            queue.push_back(Msg::Resized {
                cols: s.cols,
                rows: s.rows,
            });
        }
        Effect::Suspend => {
            suspend(parts, queue)?;
            drawing.dirty = true;
        }
        Effect::Record {
            runbook,
            transition,
        } => record(parts, model, &runbook, &transition, queue),
        Effect::OpenRun { runbook } => {
            let result = parts.store.open_run(&model.settings, &runbook);
            queue.push_back(opened(runbook, result));
        }
        Effect::CloseRun { runbook } => parts.store.close(&model.settings, &runbook),
        Effect::FollowRun { runbook } => {
            parts
                .store
                .follower
                .start(&model.settings, &runbook, bg_tx.clone());
        }
        Effect::StopFollowing => parts.store.follower.stop(),
        Effect::StopOrphans { runbook, step } => {
            stop_orphans(parts, model, runbook, step, bg_tx.clone());
        }
        Effect::OpenRunFresh { runbook } => {
            let result = parts.store.open_run_fresh(&model.settings, &runbook);
            queue.push_back(opened(runbook, result));
        }
        edit @ (Effect::PreviewEdit { .. }
        | Effect::ApplyEdit { .. }
        | Effect::PreviewUndo { .. }
        | Effect::UndoEdit { .. }) => super::edits::start(model, edit, bg_tx.clone()),
        Effect::RunCommands {
            runbook,
            step,
            commands,
            env,
        } => {
            // Through the same runner as a step: log, cancel, exit recorded.
            let owner = (runbook.as_str(), step.as_str());
            queue.extend(
                parts
                    .runner
                    .start_commands(model, parts.store, owner, commands, env),
            );
        }
        Effect::Fleet(job) => fleet_jobs::start(job, bg_tx.clone()),
        Effect::Tool(job) => {
            tool_jobs::start(
                job,
                &model.settings,
                model.command_env.clone(),
                bg_tx.clone(),
            );
        }
        Effect::RunStep { runbook, step } => {
            run_step(parts, model, &runbook, &step, queue, drawing);
        }
    }
    Ok(Turn::Continue)
}

/// Starts a step: its messages are queued, or an interactive step gets the terminal now and
/// the screen is drawn again after it.
fn run_step(
    parts: &mut Parts<'_>,
    model: &Model,
    runbook: &str,
    step: &str,
    queue: &mut VecDeque<Msg>,
    drawing: &mut Drawing,
) {
    match parts.runner.start(model, parts.store, runbook, step) {
        Start::Messages(msgs) => queue.extend(msgs),
        Start::Interactive(child) => {
            let msgs =
                parts
                    .runner
                    .run_interactive(parts.store, parts.session, parts.signals, *child);
            queue.extend(msgs);
            drawing.dirty = true;
        }
    }
}

/// Records a transition; the saved run comes back as the truth (and a full disk is said).
fn record(
    parts: &mut Parts<'_>,
    model: &Model,
    runbook: &str,
    transition: &Transition,
    queue: &mut VecDeque<Msg>,
) {
    match parts.store.record(&model.settings, runbook, transition) {
        Ok((truth, _)) => {
            queue.push_back(Msg::RunLoaded(Box::new(truth)));
            // Saved, but the disk is full: the status line says so.
            if let Some(problem) = parts.store.save_problem(&model.settings, runbook) {
                queue.push_back(Msg::Problem(problem));
            }
        }
        Err(e) => queue.push_back(Msg::Problem(format!("progress not saved: {e:#}"))),
    }
}

/// Stops what a killed supervisor left running, off the loop: a host's attempt on its host
/// over ssh, a local one here; the answer comes back as a message.
fn stop_orphans(
    parts: &mut Parts<'_>,
    model: &Model,
    runbook: String,
    step: String,
    tx: Sender<Msg>,
) {
    // A host's attempt is stopped on its host, over ssh, off the loop.
    if let Some(at) = parts.store.host_attempt(&model.settings, &runbook, &step) {
        let on = model.settings.machine.shared();
        std::thread::spawn(move || {
            let _ = tx.send(super::step_runner::stop_on_host(&*on, runbook, step, &at));
        });
        return;
    }
    let found = parts
        .store
        .orphaned_supervisor(&model.settings, &runbook, &step);
    // Up to twice the grace: never on the loop.
    std::thread::spawn(move || {
        let stopped = found.as_ref().map_or_else(Vec::new, |s| {
            s.stop_orphans(crate::core::exec::headless::ORPHAN_GRACE)
        });
        let left = found.as_ref().map_or_else(Vec::new, |s| s.orphans());
        let _ = tx.send(Msg::OrphansStopped {
            runbook,
            step,
            stopped,
            left,
            on: None,
        });
    });
}

/// Ctrl-Z: stops fieldbook until the shell's `fg`.
fn suspend(parts: &mut Parts<'_>, queue: &mut VecDeque<Msg>) -> anyhow::Result<()> {
    parts.signals.resumed.store(false, Ordering::SeqCst);
    parts.session.suspend()?;
    // A real stop ends with SIGCONT; without one the kernel discarded the stop (no job-control
    // shell, e.g. a console login that exec'd us).
    if !parts.signals.resumed.swap(false, Ordering::SeqCst) {
        queue.push_back(Msg::Problem(
            "Not suspended: no job-control shell here to come back with fg".into(),
        ));
    }
    Ok(())
}

/// Records how a running step ends when the app goes away.
pub(super) fn stop_running(model: &mut Model, parts: &mut Parts<'_>, why: &str) {
    for msg in parts.runner.stop_for_exit(parts.store, why) {
        ui::update(model, msg);
    }
}

/// A key with no meaning in the current scope changes nothing, so it causes no draw.
fn ignored(model: &Model, key: Key) -> bool {
    let scope = model.scope();
    ui::keys::lookup(scope, key).is_none() && !(scope.takes_text() && matches!(key, Key::Char(_)))
}
