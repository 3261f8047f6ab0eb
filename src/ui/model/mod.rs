//! The app's whole state ([`Model`]), what can happen to it ([`Msg`]) and what it asks the loop
//! to do ([`Effect`]). Nothing here performs I/O.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::core::progress::{Run, Status};
use crate::core::runbook::{Runbook, Step};
use crate::core::settings::Settings;

use super::fleet::FleetView;
use super::keys::Scope;
use super::output_line::OutputLine;
use super::theme::Theme;
use super::tools::ToolSession;

/// Most output lines kept in memory; older ones are dropped (the full log is on disk).
pub const OUTPUT_LIMIT: usize = crate::core::terminal_text::DEFAULT_SCROLLBACK;

mod msg;
mod screen;

pub use msg::*;
pub use screen::*;

/// The step whose commands are running (or being checked before they run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// Runbook id.
    pub runbook: String,
    /// Step id.
    pub step: String,
}

/// Facts about the terminal shown in help and `--version --verbose`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerminalInfo {
    /// e.g. `80x24 (kernel)`.
    pub size: String,
    /// e.g. `ascii (TERM=vt100)`.
    pub glyphs: String,
    /// e.g. `mono (NO_COLOR)`.
    pub color: String,
}

/// Everything the screens show. `update` changes it; `ui::render` draws it.
#[derive(Debug, Clone)]
pub struct Model {
    /// Every runbook, built-in and user.
    pub runbooks: Vec<Runbook>,
    /// Ids of runbooks whose `applies_to` files exist on this host.
    pub applicable: BTreeSet<String>,
    /// Home screen order: indexes into `runbooks`, applicable ones first.
    pub order: Vec<usize>,
    /// Every known run (all targets); the one for `target` is edited.
    pub runs: Vec<Run>,
    /// The session's one [`Settings`] value (practice, root, state directory, target): the
    /// loop's jobs read it when they start; `p` changes it.
    pub settings: Settings,
    /// Who is working (for attempts and notes).
    pub who: String,
    /// The current time, RFC 3339 UTC, set by the loop before each batch of messages.
    pub now: String,
    /// Screen stack; never empty.
    pub screens: Vec<Screen>,
    /// Modal box, if any.
    pub overlay: Option<Overlay>,
    /// The command output buffer (bounded), with the command's styles.
    pub output: VecDeque<OutputLine>,
    /// Title of the output buffer (which step it belongs to).
    pub output_title: String,
    /// The last line of `output` is the command's unfinished line (a progress bar redrawn with
    /// carriage returns, a prompt): replaced as it changes, dropped when the line completes.
    pub output_partial: bool,
    /// Lines dropped from the front of `output` (beyond [`OUTPUT_LIMIT`]) since it was last
    /// emptied: the Output screen says how many, and where the full log is.
    pub output_dropped: usize,
    /// The log file of the output shown (relative to the state directory), once known.
    pub output_log: Option<String>,
    /// The Output screen wraps long lines (`w` switches to one row per line, cut).
    pub output_wrap: bool,
    /// The step currently running, if any.
    pub running: Option<Running>,
    /// Show the "use screen over SSH" advice box on the home screen.
    pub ssh_advice: bool,
    /// A one-line message for the technician; cleared by the next key.
    pub message: Option<String>,
    /// Working size (columns, rows); layouts and scrolling limits use it.
    pub size: (u16, u16),
    /// Glyphs and styles.
    pub theme: Theme,
    /// Terminal facts for the help overlay.
    pub terminal: TerminalInfo,
    /// The open tool screen's state (one tool at a time).
    pub tool: Option<ToolSession>,
    /// Whether tool screens show the selected row's reason under the table (`i`); off at
    /// first, because it is redrawn on every move.
    pub tool_details: bool,
    /// Environment given to every command run from now on: what a tool re-read from
    /// `/etc/profile.env` after `gcc-config` and `env-update` (in-session only).
    pub command_env: Vec<(String, String)>,
    /// The fleet screen's state, when the app was opened on a fleet.
    pub fleet: Option<FleetView>,
    /// Values of `secret` variables: in memory for this session only, never saved.
    pub secrets: BTreeMap<String, String>,
    /// Text typed into a form or the calculator and left with Esc, so it is never lost:
    /// keyed by `runbook/step` (or `subnet`).
    pub drafts: BTreeMap<String, Vec<Field>>,
    /// The tool step (runbook, step) the subnet calculator was opened from, if any.
    pub subnet_step: Option<(String, String)>,
    /// Values offered to a later form (variable name → value), e.g. the network the subnet
    /// step worked out: filled into the empty field, saved only when the form is.
    pub offers: BTreeMap<String, String>,
    /// The step whose order and question the technician just answered: starting it does not
    /// ask again (taken by the next run request).
    pub gate_passed: Option<(String, String)>,
    /// The open runbook whose run cannot be changed here (another fieldbook holds it, or its
    /// saved progress is unreadable and the technician declined a fresh run): nothing is run
    /// or marked, and the screens say so.
    pub read_only: Option<ReadOnly>,
    /// The edit step whose file work the loop is doing now (a preview, an apply or an undo):
    /// the step's keys wait for it, and a preview answer for any other request is dropped.
    pub edit_busy: Option<EditBusy>,
}

/// An edit step's file work in flight (see [`Model::edit_busy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditBusy {
    /// Runbook id.
    pub runbook: String,
    /// Step id.
    pub step: String,
    /// A preview (read-only, its answer may be dropped) rather than an apply or an undo.
    pub preview: bool,
}

/// A runbook shown read-only, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOnly {
    /// Runbook id.
    pub runbook: String,
    /// Why, in words, for the status line when a change is asked for.
    pub why: String,
}

impl Model {
    /// A model showing the home screen.
    pub fn new(runbooks: Vec<Runbook>, applicable: BTreeSet<String>, runs: Vec<Run>) -> Model {
        let mut order: Vec<usize> = (0..runbooks.len()).collect();
        order.sort_by_key(|&i| !applicable.contains(&runbooks[i].id));
        Model {
            runbooks,
            applicable,
            order,
            runs,
            settings: Settings {
                target: "localhost".into(),
                ..Settings::default()
            },
            who: String::new(),
            now: String::new(),
            screens: vec![Screen::Home {
                cursor: Cursor::default(),
            }],
            overlay: None,
            output: VecDeque::new(),
            output_title: String::new(),
            output_partial: false,
            output_dropped: 0,
            output_log: None,
            output_wrap: true,
            running: None,
            ssh_advice: false,
            message: None,
            size: (80, 24),
            theme: Theme::plain(),
            terminal: TerminalInfo::default(),
            tool: None,
            tool_details: false,
            command_env: Vec::new(),
            fleet: None,
            secrets: BTreeMap::new(),
            drafts: BTreeMap::new(),
            subnet_step: None,
            offers: BTreeMap::new(),
            gate_passed: None,
            read_only: None,
            edit_busy: None,
        }
    }

    /// Why the run of `runbook` cannot be changed here, if it cannot.
    pub fn read_only_why(&self, runbook: &str) -> Option<&str> {
        self.read_only
            .as_ref()
            .filter(|r| r.runbook == runbook)
            .map(|r| r.why.as_str())
    }

    /// The screen on top of the stack.
    pub fn screen(&self) -> &Screen {
        // The stack is never empty: `update` refuses to pop the last screen.
        self.screens.last().unwrap_or(&Screen::Home {
            cursor: Cursor { index: 0 },
        })
    }

    /// The key scope in force: the overlay's, else the screen's.
    pub fn scope(&self) -> Scope {
        self.overlay
            .as_ref()
            .map_or_else(|| self.screen().scope(), Overlay::scope)
    }

    /// A runbook by id.
    pub fn runbook(&self, id: &str) -> Option<&Runbook> {
        self.runbooks.iter().find(|r| r.id == id)
    }

    /// A step of a runbook, by ids.
    pub fn step(&self, runbook: &str, step: &str) -> Option<(&Runbook, &Step)> {
        let rb = self.runbook(runbook)?;
        rb.step(step).map(|s| (rb, s))
    }

    /// The run of a runbook for the current target, if there is one.
    pub fn run(&self, runbook: &str) -> Option<&Run> {
        self.runs.iter().find(|r| {
            r.runbook == runbook
                && r.target == self.settings.target
                && r.practice == self.settings.practice
        })
    }

    /// Every run of a runbook (all targets), current target first.
    pub fn runs_of(&self, runbook: &str) -> Vec<&Run> {
        let mut v: Vec<&Run> = self
            .runs
            .iter()
            .filter(|r| r.runbook == runbook && r.practice == self.settings.practice)
            .collect();
        v.sort_by_key(|r| r.target != self.settings.target);
        v
    }

    /// Status of a step on the current target.
    pub fn status(&self, runbook: &str, step: &str) -> Status {
        self.run(runbook)
            .map_or(Status::Pending, |r| r.status(step))
    }

    /// The run for the current target, created on first change.
    pub fn run_mut(&mut self, runbook: &str) -> &mut Run {
        let pos = self.runs.iter().position(|r| {
            r.runbook == runbook
                && r.target == self.settings.target
                && r.practice == self.settings.practice
        });
        let i = match pos {
            Some(i) => i,
            None => {
                let values = self
                    .runbook(runbook)
                    .map(Runbook::default_values)
                    .unwrap_or_default();
                self.runs.push(Run {
                    runbook: runbook.to_string(),
                    target: self.settings.target.clone(),
                    started: self.now.clone(),
                    updated: self.now.clone(),
                    practice: self.settings.practice,
                    values,
                    ..Run::default()
                });
                self.runs.len() - 1
            }
        };
        &mut self.runs[i]
    }

    /// The values a runbook's text is filled with: its defaults, then what the technician
    /// saved in the run (secrets stay out: they are never shown).
    pub fn values(&self, runbook: &str) -> BTreeMap<String, String> {
        let mut v = self
            .runbook(runbook)
            .map(Runbook::default_values)
            .unwrap_or_default();
        if let Some(run) = self.run(runbook) {
            v.extend(run.values.clone());
        }
        v
    }

    /// A runbook text (a step's title or why) with the values typed so far filled in: a
    /// technician reads `https://192.168.1.1:81`, not `https://{lan_ip}:81`.
    pub fn filled(&self, runbook: &str, text: &str) -> String {
        crate::core::vars::substitute(text, &self.values(runbook))
    }

    /// Index (in runbook order) of the first step that is not done or skipped; the last step
    /// when all are finished.
    pub fn first_unfinished(&self, runbook: &str) -> usize {
        let Some(rb) = self.runbook(runbook) else {
            return 0;
        };
        rb.steps()
            .position(|(_, s)| !self.status(runbook, &s.id).is_finished())
            .unwrap_or_else(|| rb.step_count().saturating_sub(1))
    }

    /// Puts a run from the store in place of the model's copy (or adds it).
    pub fn replace_run(&mut self, run: Run) {
        let found = self.runs.iter_mut().find(|r| {
            r.runbook == run.runbook && r.target == run.target && r.practice == run.practice
        });
        match found {
            Some(r) => *r = run,
            None => self.runs.push(run),
        }
    }

    /// Appends an output line, dropping the oldest beyond [`OUTPUT_LIMIT`].
    pub fn push_output(&mut self, line: impl Into<OutputLine>) {
        // A completed line replaces the unfinished one it grew from.
        if std::mem::take(&mut self.output_partial) {
            self.output.pop_back();
        }
        if self.output.len() >= OUTPUT_LIMIT {
            self.output.pop_front();
            self.output_dropped += 1;
        }
        self.output.push_back(line.into());
    }

    /// Shows (or, when empty, removes) the command's unfinished last line, so a progress line
    /// that only ever ends in carriage returns is seen as it moves.
    pub fn set_output_partial(&mut self, line: OutputLine) {
        if std::mem::take(&mut self.output_partial) {
            self.output.pop_back();
        }
        if !line.is_empty() {
            self.push_output(line);
            self.output_partial = true;
        }
    }

    /// Empties the output buffer for a new command.
    pub fn clear_output(&mut self) {
        self.output.clear();
        self.output_partial = false;
        self.output_dropped = 0;
        self.output_log = None;
    }
}

/// Progress of a runbook on one run: finished (done + skipped), total, failed, skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Done or skipped.
    pub finished: usize,
    /// Steps in the runbook.
    pub total: usize,
    /// Failed, cancelled or interrupted.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
}

impl Progress {
    /// Counts a run against its runbook (steps no longer in the runbook are not counted).
    pub fn of(runbook: &Runbook, run: Option<&Run>) -> Progress {
        let mut p = Progress {
            total: runbook.step_count(),
            ..Progress::default()
        };
        for (_, step) in runbook.steps() {
            let status = run.map_or(Status::Pending, |r| r.status(&step.id));
            if status.is_finished() {
                p.finished += 1;
            }
            match status {
                Status::Skipped => p.skipped += 1,
                Status::Failed | Status::Cancelled | Status::Interrupted => p.failed += 1,
                _ => {}
            }
        }
        p
    }
}
