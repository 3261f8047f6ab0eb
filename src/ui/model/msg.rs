//! What can happen to the app ([`Msg`]), what an edit preview found, and what `update` asks
//! the loop to do ([`Effect`]).

use std::collections::BTreeMap;

use crate::core::progress::{AppliedEdit, Run};
use crate::core::runner::RunOutcome;
use crate::core::store::Transition;

use crate::ui::fleet::{FleetJob, FleetResult};
use crate::ui::keys::Key;
use crate::ui::output_line::OutputLine;
use crate::ui::tools::{ToolJob, ToolResult};

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
