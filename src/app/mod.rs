//! The app: sets up the terminal and the model, then runs the loop ([`event_loop`]) that turns
//! keys and background results into messages for `ui::update` and carries out the effects it
//! asks for: steps ([`step_runner`]), tool work ([`tool_jobs`]), fleet asks ([`fleet_jobs`]),
//! edits ([`edits`]) and progress ([`recorder`]). It owns the session's one
//! [`Settings`] value (inside the model) and reads it whenever a job starts.

pub(crate) mod edits;
mod event_loop;
pub(crate) mod fleet_jobs;
mod follow;
pub(crate) mod input;
mod recorder;
pub(crate) mod step_runner;
pub mod tool_jobs;

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;

use anyhow::Context;

use crate::core::catalog::Catalog;
use crate::core::exit::UsageError;
use crate::core::fleet::ssh::SshSettings;
use crate::core::settings::{Settings, TerminalOptions};
use crate::core::{clock, host};
use crate::terminal::profile::{self, ProfileFlags, TermEnv};
use crate::terminal::{self, Session, Signals};
use crate::ui::model::{Model, TerminalInfo};
use crate::ui::{self, Effect};

pub use edits::{edit_effect, start as start_edit};
use recorder::{Recorder, opened};
use step_runner::StepRunner;

/// Runbooks whose `applies_to` files exist (under `--root` when given).
pub(crate) fn detect_applicable(catalog: &Catalog, root: Option<&Path>) -> BTreeSet<String> {
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
pub(crate) fn terminal_info(
    options: &TerminalOptions,
) -> Result<(profile::Profile, profile::ResolvedSize, TerminalInfo), String> {
    let prof = profile::detect(
        &TermEnv::from_process(),
        ProfileFlags {
            ascii: options.ascii,
            unicode: options.unicode,
            no_color: options.no_color,
        },
    );
    let size = terminal::resolve_size(options.size.as_deref())?;
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
pub(crate) fn run(settings: Settings, catalog: Catalog, open: Option<&str>) -> anyhow::Result<u8> {
    run_opened(settings, catalog, open, None)
}

/// Opens the app on the fleet screen for `hosts` (`fieldbook fleet --app`).
pub(crate) fn run_fleet(
    settings: Settings,
    catalog: Catalog,
    ssh: SshSettings,
    hosts: Vec<String>,
) -> anyhow::Result<u8> {
    run_opened(settings, catalog, None, Some((ssh, hosts)))
}

/// The model at start-up: every runbook and run, the settings, the terminal's facts.
fn new_model(
    settings: Settings,
    catalog: &Catalog,
    store: &mut Recorder,
    info: TerminalInfo,
) -> anyhow::Result<Model> {
    let runs = store.load_all(&settings);
    let applicable = detect_applicable(catalog, settings.root.as_deref());
    let mut model = Model::new(
        catalog.entries.iter().map(|e| e.runbook.clone()).collect(),
        applicable,
        runs,
    );
    model.settings = settings;
    model.who = host::who();
    model.now = clock::now();
    model.ssh_advice = std::env::var_os("SSH_CONNECTION").is_some()
        && std::env::var_os("STY").is_none()
        && std::env::var_os("TMUX").is_none();
    model.terminal = info;
    Ok(model)
}

fn run_opened(
    settings: Settings,
    catalog: Catalog,
    open: Option<&str>,
    fleet: Option<(SshSettings, Vec<String>)>,
) -> anyhow::Result<u8> {
    can_start(&catalog, open)?;
    let (prof, size, info) = terminal_info(&settings.terminal).map_err(UsageError)?;
    let mut store = Recorder::new(catalog.entries.iter().map(|e| e.runbook.clone()).collect());
    let mut model = new_model(settings, &catalog, &mut store, info)?;
    model.theme = ui::theme::Theme::new(prof.glyphs, prof.color);
    model.size = (size.cols, size.rows);
    let mut first = VecDeque::new();
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
    if let Some((ssh, hosts)) = fleet {
        // The first ask is started by the loop (`ui::fleet::first_job`), which owns the channel.
        ui::fleet::open(&mut model, ssh, hosts);
    }
    let signals = Signals::register().context("cannot install signal handlers")?;
    signals.watch_for_hangup();
    let mut session = start_session(&model.settings.terminal, &prof, size)?;
    for runbook in first {
        let result = store.open_run(&model.settings, &runbook);
        let msg = opened(runbook, result);
        ui::update(&mut model, msg);
    }
    if open.is_some() {
        // `fieldbook run ID` never shows the runbook list, so its advice comes along.
        ui::update::ssh_advice_on_open(&mut model);
    }
    let mut runner = StepRunner::default();
    let mut parts = event_loop::Parts {
        session: &mut session,
        signals: &signals,
        store: &mut store,
        runner: &mut runner,
    };
    let result = match event_loop::event_loop(&mut parts, &mut model) {
        // A terminal that went away can fail a draw or a read (EIO) before the loop sees the
        // hang-up: that is the hang-up, not an error of fieldbook's.
        Err(_) if event_loop::hung_up(&signals) => {
            event_loop::stop_running(&mut model, &mut parts, "the terminal hung up");
            Ok(event_loop::HANGUP_EXIT)
        }
        other => other,
    };
    drop(session);
    if let Ok(event_loop::HANGUP_EXIT) = result {
        // stderr may be the terminal that went away: the write is tried, never unwrapped.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "fieldbook: the terminal hung up; progress is saved (exit 129)"
        );
    }
    result
}

/// The app starts only for a runbook that exists, and only on a terminal.
fn can_start(catalog: &Catalog, open: Option<&str>) -> anyhow::Result<()> {
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
    Ok(())
}

/// The terminal set up for the app: the alternate screen unless inside GNU screen (or asked
/// otherwise), the size, and how long a split key sequence may take.
fn start_session(
    options: &TerminalOptions,
    prof: &profile::Profile,
    size: profile::ResolvedSize,
) -> anyhow::Result<Session> {
    let (alt_screen, _) = profile::use_alt_screen(
        prof.alt_screen,
        options.no_alt_screen,
        options.alt_screen,
        std::env::var_os("STY").is_some(),
    );
    let mut session = Session::start(prof, size, options.size.clone(), alt_screen)
        .context("cannot set up the terminal")?;
    session.esc_delay = profile::esc_delay(options.esc_delay, options.low_bandwidth);
    Ok(session)
}
