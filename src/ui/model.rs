//! The app's whole state ([`Model`]), what can happen to it ([`Msg`]) and what it asks the loop
//! to do ([`Effect`]). Nothing here performs I/O.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tui_input::Input;

use crate::core::net::{QuizResult, Subnet4};
use crate::core::progress::{AppliedEdit, Run, Status};
use crate::core::runbook::{Runbook, Step, ToolKind};
use crate::core::runner::RunOutcome;
use crate::core::settings::Settings;
use crate::core::store::Transition;

use super::fleet::{FleetJob, FleetResult, FleetView};
use super::keys::{Key, Scope};
use super::output_line::OutputLine;
use super::theme::Theme;
use super::tools::{ToolConfirm, ToolJob, ToolResult, ToolSession};

/// Most output lines kept in memory; older ones are dropped (the full log is on disk).
pub const OUTPUT_LIMIT: usize = crate::core::terminal_text::DEFAULT_SCROLLBACK;

/// Something that happened: a key, a new size, output from the runner, a save result.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A key (already translated from the terminal library's event).
    Key(Key),
    /// The working size changed (resize event or Ctrl-L re-read).
    Resized {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// One plain line for the output view (fieldbook's own messages).
    OutputLine(String),
    /// A batch of sanitised output lines with the command's styles (a fast command prints
    /// thousands at once).
    Output(Vec<OutputLine>),
    /// The running command's unfinished last line changed (empty: it is gone).
    OutputPartial(OutputLine),
    /// The running step ended, as the runner judged it (status, exit, failing program).
    StepEnded(RunOutcome),
    /// The step's `when` probe said it does not apply here: it is recorded skipped as
    /// "not needed (why)" (and the attempt begun for it, if any, is dropped).
    NotNeeded {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// The runbook's reason (`not_needed`).
        why: String,
    },
    /// The step's `when` probe said it applies here: start it (the runner does not probe it
    /// again).
    Applies {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// The step's `check` succeeded before anything ran: offer to mark it done.
    AlreadyDone {
        /// The check command, for the question.
        check: String,
    },
    /// A long step found still running under its supervisor when fieldbook started again:
    /// its output is followed and its end recorded as if it had never been left.
    Reattached {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// The step could not start (a missing value, no log, its check says it is done); nothing
    /// was recorded.
    NotStarted(String),
    /// A save or another background job failed: shown on the status line.
    Problem(String),
    /// A run's state file could not be read and was moved aside; the technician is asked
    /// before a fresh run starts (nothing is ever overwritten silently).
    RunCorrupt {
        /// Runbook id.
        runbook: String,
        /// What happened and where the unreadable copy is.
        message: String,
    },
    /// Another fieldbook holds the run's lock: the technician is offered to follow it
    /// read-only (nothing is run or marked here).
    RunHeld {
        /// Runbook id.
        runbook: String,
        /// Who holds it and since when, as the store says it.
        message: String,
    },
    /// The run followed read-only as its holder saved it last (`None`: no state file yet).
    Followed {
        /// Runbook id.
        runbook: String,
        /// The run as read from its state file.
        run: Option<Box<Run>>,
    },
    /// A step could not start because programs its last attempt's killed supervisor left
    /// still run: the technician is offered to stop them.
    Orphaned {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// The store's words (pids and the kill command).
        message: String,
    },
    /// Stopping those programs ended: the pids found, and those still running after SIGKILL.
    OrphansStopped {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// Pids that were signalled.
        stopped: Vec<u32>,
        /// Pids still running afterwards (empty when all are gone).
        left: Vec<u32>,
        /// The host they ran on (`[USER@]HOST`), `None` for this machine.
        on: Option<String>,
    },
    /// The fieldbook that held a followed run has let it go: it may be opened for work.
    HolderLeft {
        /// Runbook id.
        runbook: String,
    },
    /// The terminal came back from a suspend or a child program: redraw fully.
    Resumed,
    /// A run as the progress store holds it (after opening or saving): replaces the model's
    /// copy, so the store's state machine has the last word.
    RunLoaded(Box<Run>),
    /// A run just opened in the progress store (its runbook was opened): like `RunLoaded`,
    /// and steps found interrupted are pointed out.
    RunOpened(Box<Run>),
    /// A tool screen's background job (listing, scan, profile.env) finished.
    Tool(ToolResult),
    /// The fleet screen's background asking (status of every host, one report) finished.
    Fleet(FleetResult),
    /// The loop computed what an edit step (or its undo) would change.
    EditPreviewed {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// The diff, or why it could not be computed.
        result: Result<EditPreview, EditProblem>,
    },
    /// The loop applied an edit step's changes (or failed part-way).
    EditApplied {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// Files changed (journal entries), even when a later file failed.
        applied: Vec<AppliedEdit>,
        /// The failure, if any.
        error: Option<String>,
    },
    /// The loop restored files from their backups.
    EditUndone {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// Indexes into `Run::edits` that were restored.
        undone: Vec<usize>,
        /// The failure, if any.
        error: Option<String>,
    },
}

/// What the preview of an edit step (or of its undo) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditPreview {
    /// The diff, one line per entry.
    pub diff: Vec<String>,
    /// Every edit is already in place (apply previews only).
    pub already_applied: bool,
    /// `Some(indexes into Run::edits)` for an undo preview.
    pub undo: Option<Vec<usize>>,
    /// Undo would overwrite changes made after the edit.
    pub changed_since: bool,
    /// The technician confirmed following symbolic links for this step.
    pub follow_symlinks: bool,
}

/// Why a preview could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditProblem {
    /// A file is a symbolic link: ask before following it.
    Symlink {
        /// The message naming the link and its target.
        message: String,
    },
    /// Anything else (missing file, permission, binary...).
    Other(String),
}

/// Work for the loop: the only way `update` reaches the outside world.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Leave the app.
    Quit,
    /// Re-read the size and repaint every cell (Ctrl-L, after a child or a suspend).
    Redraw,
    /// Suspend to the shell (Ctrl-Z).
    Suspend,
    /// Make one named change to a run's progress in the store; the loop answers with
    /// `Msg::RunLoaded` (the stored truth) or `Msg::Problem`.
    Record {
        /// Runbook id (the run of the current settings' mode and target).
        runbook: String,
        /// The change.
        transition: Transition,
    },
    /// Open a runbook's run in the progress store (lock it, reconcile steps left running); the
    /// loop answers with `Msg::RunLoaded`.
    OpenRun {
        /// Runbook id.
        runbook: String,
    },
    /// The technician left a runbook: close its run in the progress store, releasing its lock
    /// so another fieldbook (or `exec`) may work on it.
    CloseRun {
        /// Runbook id.
        runbook: String,
    },
    /// Follow a run another fieldbook holds, read-only: the loop reads its state file now and
    /// again while the runbook stays open, answering with `Msg::Followed`.
    FollowRun {
        /// Runbook id.
        runbook: String,
    },
    /// Stop following the run of `FollowRun` (the runbook was left).
    StopFollowing,
    /// Stop the programs a killed supervisor of the step's last attempt left running (SIGTERM,
    /// then SIGKILL), off the loop; the loop answers with `Msg::OrphansStopped`.
    StopOrphans {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// Start a fresh run after the technician agreed (its old state file was unreadable and
    /// has been moved aside).
    OpenRunFresh {
        /// Runbook id.
        runbook: String,
    },
    /// Start the step's commands (the runner records the attempt and sends `Output`s and
    /// `StepEnded`, or `NotStarted`).
    RunStep {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// Cancel the running command: SIGINT, then SIGTERM, then SIGKILL to its process group.
    CancelRun,
    /// Run commands a tool screen built (e.g. `chkconfig --level 2345 iscsid off`) as an
    /// attempt of its step, through the runner, exactly like `RunStep`.
    RunCommands {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// The argv vectors, in order; the first failure stops.
        commands: Vec<Vec<String>>,
        /// Extra environment for these commands (e.g. `ROOT` for gcc-config under `--root`).
        env: Vec<(String, String)>,
    },
    /// Background work for a tool screen; the result comes back as `Msg::Tool`.
    Tool(ToolJob),
    /// Ask hosts over ssh for the fleet screen; the result comes back as `Msg::Fleet`.
    Fleet(FleetJob),
    /// Compute the diff of an edit step (`Msg::EditPreviewed` comes back). Reads files only.
    PreviewEdit {
        /// The run (values, archive) the edit belongs to.
        run: Run,
        /// Step id.
        step: String,
        /// Values of secret variables (kept in memory only).
        secrets: BTreeMap<String, String>,
        /// The technician confirmed editing through symbolic links.
        follow_symlinks: bool,
    },
    /// Apply an edit step (`Msg::EditApplied` comes back).
    ApplyEdit {
        /// The run (values, archive) the edit belongs to.
        run: Run,
        /// Step id.
        step: String,
        /// Values of secret variables.
        secrets: BTreeMap<String, String>,
        /// The technician confirmed editing through symbolic links.
        follow_symlinks: bool,
    },
    /// Compute the reverse diff of these applied edits (`Msg::EditPreviewed` with `undo`).
    PreviewUndo {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// The edits, with their indexes in `Run::edits`, newest first.
        edits: Vec<(usize, AppliedEdit)>,
    },
    /// Restore these edits from their backups (`Msg::EditUndone` comes back).
    UndoEdit {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// The edits, with their indexes in `Run::edits`, newest first.
        edits: Vec<(usize, AppliedEdit)>,
        /// Overwrite changes made after the edit (the technician saw the diff and confirmed).
        force: bool,
    },
}

/// One text field of a form, calculator or quiz: the text and where the cursor is (kept apart
/// from `tui_input::Input`, which the update functions use to edit it, so screens stay `Eq`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Field {
    /// The text typed.
    pub value: String,
    /// Cursor position in characters.
    pub cursor: usize,
}

impl Field {
    /// A field holding `value` with the cursor at its end.
    pub fn with(value: &str) -> Field {
        Field {
            value: value.to_string(),
            cursor: value.chars().count(),
        }
    }
}

/// The practice quiz's state: the question, the answers typed, the verdict once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quiz {
    /// Generator state for the next question.
    pub seed: u64,
    /// The subnet asked about.
    pub question: Subnet4,
    /// Network, broadcast and usable count as typed.
    pub fields: Vec<Field>,
    /// Focused field.
    pub focus: usize,
    /// The verdict, after Enter.
    pub result: Option<QuizResult>,
    /// Questions answered fully right, and asked.
    pub score: (u32, u32),
}

/// The cursor of a list screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Index of the selected item.
    pub index: usize,
}

/// One screen on the stack. The top one is drawn and gets the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// The runbook list.
    Home {
        /// Selected runbook (index into `Model::order`).
        cursor: Cursor,
    },
    /// One runbook's steps.
    Runbook {
        /// Runbook id.
        runbook: String,
        /// Selected step (index in runbook order).
        cursor: Cursor,
    },
    /// One step.
    Step {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// First text line shown.
        scroll: usize,
    },
    /// Command output.
    Output {
        /// First line shown.
        scroll: usize,
        /// Keep the last line in view as lines arrive.
        follow: bool,
    },
    /// Every host × run of a fleet (`fieldbook fleet --app`); its state is `Model::fleet`.
    Fleet {
        /// Selected row.
        cursor: Cursor,
    },
    /// One host's handover report, fetched over ssh from the fleet screen.
    FleetReport {
        /// First line shown.
        scroll: usize,
    },
    /// A tool screen opened by a tool step; its state is `Model::tool`.
    Tool {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// Which tool.
        tool: ToolKind,
    },
    /// The diff of an edit step before applying it (or the reverse diff before undoing).
    Diff {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// What was found.
        preview: EditPreview,
        /// First line shown.
        scroll: usize,
    },
    /// A form step: one field per variable.
    Form {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// Variable names, in order.
        names: Vec<String>,
        /// The text of each field.
        fields: Vec<Field>,
        /// Focused field.
        focus: usize,
    },
    /// The subnet tool's menu: calculator, CIDR table, quiz.
    SubnetMenu {
        /// Selected entry.
        cursor: Cursor,
    },
    /// The subnet calculator: address (with prefix or mask) and an address to compare.
    SubnetCalc {
        /// The two fields.
        fields: Vec<Field>,
        /// Focused field.
        focus: usize,
        /// First result line shown.
        scroll: usize,
    },
    /// The article's CIDR table.
    CidrTable {
        /// First line shown.
        scroll: usize,
    },
    /// The trainee quiz.
    Quiz(Box<Quiz>),
}

impl Screen {
    /// The key scope of this screen.
    pub fn scope(&self) -> Scope {
        match self {
            Screen::Home { .. } => Scope::Home,
            Screen::Runbook { .. } => Scope::Runbook,
            Screen::Step { .. } => Scope::Step,
            Screen::Output { .. } => Scope::Output,
            Screen::Tool { tool, .. } => Scope::of_tool(*tool),
            Screen::Fleet { .. } => Scope::Fleet,
            Screen::FleetReport { .. } => Scope::FleetReport,
            Screen::Diff { .. } => Scope::Diff,
            Screen::Form { .. } | Screen::SubnetCalc { .. } | Screen::Quiz(_) => Scope::Form,
            Screen::SubnetMenu { .. } | Screen::CidrTable { .. } => Scope::Subnet,
        }
    }
}

/// What a yes answer to a question does.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    /// Quit the app.
    Quit,
    /// Start a fresh run of a runbook whose state file was unreadable.
    StartFresh {
        /// Runbook id.
        runbook: String,
    },
    /// Stop the programs a killed supervisor of this step left running.
    StopOrphans {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// Open for work a followed run its holder has let go.
    TakeOver {
        /// Runbook id.
        runbook: String,
    },
    /// Follow, read-only, a run another fieldbook holds.
    Follow {
        /// Runbook id.
        runbook: String,
    },
    /// Run a step the technician agreed to run although its order or its condition said
    /// otherwise; `note` (out of order) is recorded with the run.
    RunAnyway {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// What to record ("forced: ..."), when the step runs out of order.
        note: Option<String>,
        /// For a `when` question: why the step is not needed, recorded when the answer is no.
        not_needed: Option<String>,
    },
    /// Run a step (destructive steps, re-runs).
    Run {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// Cancel the running command.
    Cancel,
    /// Mark a step done because its `check` says it already is.
    MarkDone {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// Why (the check that passed).
        reason: String,
    },
    /// Preview an edit step again, following symbolic links.
    FollowSymlinks {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// Apply the previewed edit step.
    ApplyEdit {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// Follow symbolic links (confirmed before).
        follow_symlinks: bool,
    },
    /// Mark an edit step done because its changes are already in place.
    MarkApplied {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// Restore the step's files from their backups.
    UndoEdit {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
        /// Overwrite later changes.
        force: bool,
    },
    /// Carry out what a tool screen asked to confirm (its exact commands, an edit).
    Tool(ToolConfirm),
}

/// What the text typed into a prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptFor {
    /// The reason for skipping a step.
    SkipReason {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// The reason for marking a failed, cancelled or interrupted step done.
    DoneReason {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// A note on a step.
    Note {
        /// Runbook id.
        runbook: String,
        /// Step id.
        step: String,
    },
    /// One of the technician's own snort SIDs: `NUMBER reason`.
    OwnSid,
}

/// A modal box over the current screen.
#[derive(Debug, Clone)]
pub enum Overlay {
    /// Key help, generated from the key table.
    Help {
        /// First line shown.
        scroll: usize,
    },
    /// A yes/no question.
    Confirm {
        /// The question, one or more sentences.
        question: String,
        /// What yes does.
        on_yes: Pending,
    },
    /// Leaving a tool screen whose changes are not applied: apply, discard or stay.
    Leave {
        /// How many changes (commands or rule edits) would be lost.
        changes: usize,
    },
    /// A one-line text prompt.
    Prompt {
        /// Heading.
        title: String,
        /// The text typed so far.
        input: Input,
        /// What the text is for.
        purpose: PromptFor,
    },
}

impl Overlay {
    /// The key scope of this overlay.
    pub fn scope(&self) -> Scope {
        match self {
            Overlay::Help { .. } => Scope::Help,
            Overlay::Confirm { .. } => Scope::Confirm,
            Overlay::Leave { .. } => Scope::Leave,
            Overlay::Prompt { .. } => Scope::Prompt,
        }
    }
}

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
