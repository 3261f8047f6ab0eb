//! The screens on the stack ([`Screen`]), the modal boxes over them ([`Overlay`]), what a yes
//! answer does ([`Pending`]) and the text fields they hold.

use tui_input::Input;

use crate::core::net::{QuizResult, Subnet4};
use crate::core::runbook::ToolKind;

use crate::ui::keys::Scope;
use crate::ui::tools::ToolConfirm;

use super::EditPreview;

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
