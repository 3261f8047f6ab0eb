//! The one key table: it turns keys into named [`Action`]s for each [`Scope`] and is also what
//! the help overlay and the hint lines are generated from, so help can never disagree with what
//! the keys do.
//!
//! Only keys that survive a serial line and GNU screen are bound: letters, arrows, Enter, Tab,
//! Space, Backspace, Esc (which only ever goes back), Home/End/PgUp/PgDn with letter
//! alternatives, and a few Ctrl keys that no multiplexer or console owns (Ctrl-A, Ctrl-S, Ctrl-Q,
//! Ctrl-] and Alt are never bound; a test checks).

/// A key as fieldbook sees it, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A printable character (Shift already applied).
    Char(char),
    /// Ctrl plus a lowercase letter.
    Ctrl(char),
    /// Cursor up.
    Up,
    /// Cursor down.
    Down,
    /// Cursor left.
    Left,
    /// Cursor right.
    Right,
    /// Page Up.
    PageUp,
    /// Page Down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
    /// Enter (CR, and LF which raw mode reports as Ctrl-J).
    Enter,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Escape (or the first byte of an escape sequence split by a slow line).
    Esc,
    /// Backspace (0x7f, and 0x08 which raw mode reports as Ctrl-H).
    Backspace,
    /// Delete.
    Delete,
}

impl Key {
    /// How the key is written in help and hints.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Up => "Up".into(),
            Key::Down => "Down".into(),
            Key::Left => "Left".into(),
            Key::Right => "Right".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::Home => "Home".into(),
            Key::End => "End".into(),
            Key::Enter => "Enter".into(),
            Key::Tab => "Tab".into(),
            Key::BackTab => "Shift-Tab".into(),
            Key::Esc => "Esc".into(),
            Key::Backspace => "Backspace".into(),
            Key::Delete => "Del".into(),
        }
    }
}

/// What a key means. `update` acts on these, never on keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Move the cursor or the text up one line.
    Up,
    /// Down one line.
    Down,
    /// Up one page.
    PageUp,
    /// Down one page.
    PageDown,
    /// To the first line.
    Top,
    /// To the last line.
    Bottom,
    /// Open the selected item.
    Open,
    /// Next group (section / step).
    Next,
    /// Previous group.
    Previous,
    /// Leave this screen (never quits the app, never aborts anything).
    Back,
    /// Quit the app (asks first while a command runs).
    Quit,
    /// Ctrl-C: asks whether to quit; a running command is never killed by it.
    Interrupt,
    /// Ctrl-Z: suspend to the shell.
    Suspend,
    /// Ctrl-L: re-read the size and redraw everything.
    Redraw,
    /// Show or hide the key help.
    Help,
    /// Run the step's commands.
    Run,
    /// Mark the step done by hand.
    MarkDone,
    /// Skip the step (asks for a reason).
    Skip,
    /// Add a note to the step.
    Note,
    /// Show the output of the last or running command.
    ShowOutput,
    /// Cancel the running command (asks first): SIGINT, then SIGTERM, then SIGKILL.
    Cancel,
    /// Switch practice mode on or off (nothing is executed in practice).
    TogglePractice,
    /// Dismiss the advice box.
    Dismiss,
    /// Answer yes in a confirmation.
    Yes,
    /// Answer no in a confirmation.
    No,
    /// Submit the text being typed.
    Submit,
    /// Delete the character before the text cursor.
    DeleteBack,
    /// Delete the character under the text cursor.
    DeleteForward,
    /// Clear the whole text field.
    ClearLine,
    /// Text cursor left.
    CursorLeft,
    /// Text cursor right.
    CursorRight,
    /// Text cursor to the start.
    CursorStart,
    /// Text cursor to the end.
    CursorEnd,
    /// Follow new output (scroll to the end as lines arrive).
    Follow,
    /// Apply: an edit's previewed diff (or, in an undo preview, the backup); a tool screen's
    /// exact commands or diff. Always asks first.
    Apply,
    /// Undo: an edit step's applied edits (reverse diff first); in the snort tool, the last
    /// rules edit from its backup.
    Undo,
    /// Open the subnet calculator.
    Calculator,
    /// Tool screens: flip the selected item (service on/off, runlevel cell, rule).
    Toggle,
    /// Services: choose what the runbook advises.
    FollowAdvice,
    /// Tool screens: forget every choice.
    ClearChoices,
    /// Tool screens: read the tool's listing again.
    Refresh,
    /// Tool screens: show or hide the selected row's reason under the table.
    Details,
    /// Runlevels: previous column.
    ColumnLeft,
    /// Runlevels: next column.
    ColumnRight,
    /// Snort rules: add your own SID with a reason.
    AddOwn,
    /// Snort rules: restart snort so it re-reads its rules.
    Restart,
    /// Leaving a tool screen with changes not applied: forget them and leave.
    Discard,
    /// Output: wrap long lines, or show one row per line cut at the edge.
    ToggleWrap,
}

/// Where a binding applies. Modal scopes (help, confirm, prompt) take the keys first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every screen, unless a modal scope binds the key.
    Global,
    /// The runbook list.
    Home,
    /// One runbook's steps.
    Runbook,
    /// One step.
    Step,
    /// Command output.
    Output,
    /// The help overlay.
    Help,
    /// A yes/no question.
    Confirm,
    /// Leaving a tool screen with changes not applied: apply, discard or stay.
    Leave,
    /// A one-line text prompt (skip reason, note); printable keys are typed into it.
    Prompt,
    /// The diff of an edit (or of its undo) before it is carried out.
    Diff,
    /// Text fields (a form step, the subnet calculator, the quiz); printable keys are typed.
    Form,
    /// The subnet tool's menu and its CIDR table.
    Subnet,
    /// The Services tool (chkconfig).
    Services,
    /// The Runlevels tool (rc-update).
    Runlevels,
    /// The GCC profile tool (gcc-config).
    GccProfile,
    /// The Snort rules tool.
    SnortRules,
    /// Every host × run of a fleet.
    Fleet,
    /// One host's report from the fleet screen.
    FleetReport,
}

impl Scope {
    /// Heading in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Home => "Runbook list",
            Scope::Runbook => "Runbook",
            Scope::Step => "Step",
            Scope::Output => "Output",
            Scope::Help => "Help",
            Scope::Confirm => "Question",
            Scope::Leave => "Leaving with changes",
            Scope::Prompt => "Typing text",
            Scope::Diff => "Change preview",
            Scope::Form => "Fields",
            Scope::Subnet => "Subnet tool",
            Scope::Services => "Services (chkconfig)",
            Scope::Runlevels => "Runlevels (rc-update)",
            Scope::GccProfile => "GCC profile (gcc-config)",
            Scope::SnortRules => "Snort rules",
            Scope::Fleet => "Fleet",
            Scope::FleetReport => "Host report",
        }
    }

    /// The scope of a tool screen.
    pub fn of_tool(tool: crate::core::runbook::ToolKind) -> Scope {
        use crate::core::runbook::ToolKind;
        match tool {
            ToolKind::Services => Scope::Services,
            ToolKind::Runlevels => Scope::Runlevels,
            ToolKind::GccProfile => Scope::GccProfile,
            ToolKind::SnortRules => Scope::SnortRules,
            // The subnet calculator has no screen of its own here; it is never pushed.
            ToolKind::Subnet => Scope::Step,
        }
    }

    /// Scopes where a printable key without a binding is typed into a text field (a note, a
    /// form, the subnet calculator): the key changes the screen and must be drawn.
    pub fn takes_text(self) -> bool {
        matches!(self, Scope::Prompt | Scope::Form)
    }

    /// Modal scopes do not fall back to global bindings (typing `q` into a note is a `q`).
    pub fn is_modal(self) -> bool {
        matches!(
            self,
            Scope::Help | Scope::Confirm | Scope::Leave | Scope::Prompt | Scope::Form
        )
    }
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// Where it applies.
    pub scope: Scope,
    /// The keys, first one shown first.
    pub keys: &'static [Key],
    /// What they do.
    pub action: Action,
    /// Help text.
    pub help: &'static str,
    /// Short label for the hint line, when the binding is worth a hint there.
    pub hint: Option<&'static str>,
}

const fn bind(
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        scope,
        keys,
        action,
        help,
        hint,
    }
}

use Action as A;
use Key as K;
use Scope as S;

const MOVE_UP: &[Key] = &[K::Up, K::Char('k')];
const MOVE_DOWN: &[Key] = &[K::Down, K::Char('j')];
const PAGE_UP: &[Key] = &[K::PageUp, K::Char('b'), K::Ctrl('b')];
const PAGE_DOWN: &[Key] = &[K::PageDown, K::Char('f'), K::Ctrl('f'), K::Char(' ')];
const TOP: &[Key] = &[K::Home, K::Char('g')];
const BOTTOM: &[Key] = &[K::End, K::Char('G')];
const BACK: &[Key] = &[K::Char('q'), K::Esc, K::Left, K::Char('h')];
/// Back on screens where Left/Right move between columns.
const BACK_ONLY: &[Key] = &[K::Char('q'), K::Esc];
const LIST_PAGE_DOWN: &[Key] = &[K::PageDown, K::Char('f'), K::Ctrl('f')];

/// The key table. Order is the order of the help overlay and hint line.
pub const BINDINGS: &[Binding] = &[
    // Everywhere.
    bind(
        S::Global,
        &[K::Char('?')],
        A::Help,
        "show or hide this help",
        Some("help"),
    ),
    bind(
        S::Global,
        &[K::Ctrl('l')],
        A::Redraw,
        "re-read the terminal size and redraw",
        None,
    ),
    bind(
        S::Global,
        &[K::Ctrl('c')],
        A::Interrupt,
        "quit (asks first; never cancels a command: quitting stops a short step, recorded as interrupted; a long one keeps running)",
        None,
    ),
    bind(
        S::Global,
        &[K::Ctrl('z')],
        A::Suspend,
        "suspend to the shell (fg to come back)",
        None,
    ),
    // Fleet.
    bind(S::Fleet, MOVE_UP, A::Up, "previous host or run", None),
    bind(S::Fleet, MOVE_DOWN, A::Down, "next host or run", None),
    bind(S::Fleet, PAGE_UP, A::PageUp, "page up", None),
    bind(S::Fleet, LIST_PAGE_DOWN, A::PageDown, "page down", None),
    bind(S::Fleet, TOP, A::Top, "first row", None),
    bind(S::Fleet, BOTTOM, A::Bottom, "last row", None),
    bind(
        S::Fleet,
        &[K::Enter, K::Char(' '), K::Right, K::Char('l')],
        A::Open,
        "show this host's report of the run",
        Some("report"),
    ),
    bind(
        S::Fleet,
        &[K::Char('r')],
        A::Refresh,
        "ask every host again",
        Some("refresh"),
    ),
    bind(S::Fleet, BACK, A::Back, "back", Some("back")),
    bind(S::FleetReport, MOVE_UP, A::Up, "scroll up", None),
    bind(S::FleetReport, MOVE_DOWN, A::Down, "scroll down", None),
    bind(S::FleetReport, PAGE_UP, A::PageUp, "page up", None),
    bind(S::FleetReport, PAGE_DOWN, A::PageDown, "page down", None),
    bind(S::FleetReport, TOP, A::Top, "top", None),
    bind(S::FleetReport, BOTTOM, A::Bottom, "bottom", None),
    bind(
        S::FleetReport,
        BACK,
        A::Back,
        "back to the fleet",
        Some("back"),
    ),
    // Home.
    bind(S::Home, MOVE_UP, A::Up, "previous runbook", None),
    bind(S::Home, MOVE_DOWN, A::Down, "next runbook", None),
    bind(S::Home, PAGE_UP, A::PageUp, "page up", None),
    bind(
        S::Home,
        &[K::PageDown, K::Char('f'), K::Ctrl('f')],
        A::PageDown,
        "page down",
        None,
    ),
    bind(S::Home, TOP, A::Top, "first runbook", None),
    bind(S::Home, BOTTOM, A::Bottom, "last runbook", None),
    bind(
        S::Home,
        &[K::Enter, K::Char(' '), K::Right, K::Char('l')],
        A::Open,
        "open the runbook",
        Some("open"),
    ),
    bind(
        S::Home,
        &[K::Char('p')],
        A::TogglePractice,
        "practice mode on/off (nothing is executed; progress kept apart)",
        Some("practice"),
    ),
    bind(
        S::Home,
        &[K::Char('c')],
        A::Calculator,
        "open the subnet calculator (CIDR table, practice quiz)",
        Some("subnet"),
    ),
    bind(
        S::Home,
        &[K::Char('x')],
        A::Dismiss,
        "dismiss the advice box",
        None,
    ),
    bind(
        S::Home,
        &[K::Char('q')],
        A::Quit,
        "quit fieldbook",
        Some("quit"),
    ),
    // Runbook.
    bind(S::Runbook, MOVE_UP, A::Up, "previous step", None),
    bind(S::Runbook, MOVE_DOWN, A::Down, "next step", None),
    bind(S::Runbook, PAGE_UP, A::PageUp, "page up", None),
    bind(
        S::Runbook,
        &[K::PageDown, K::Char('f'), K::Ctrl('f')],
        A::PageDown,
        "page down",
        None,
    ),
    bind(S::Runbook, TOP, A::Top, "first step", None),
    bind(S::Runbook, BOTTOM, A::Bottom, "last step", None),
    bind(
        S::Runbook,
        &[K::Tab],
        A::Next,
        "first step of the next section",
        None,
    ),
    bind(
        S::Runbook,
        &[K::BackTab],
        A::Previous,
        "first step of the previous section",
        None,
    ),
    bind(
        S::Runbook,
        &[K::Enter, K::Char(' '), K::Right, K::Char('l')],
        A::Open,
        "open the step",
        Some("open"),
    ),
    bind(
        S::Runbook,
        &[K::Char('o')],
        A::ShowOutput,
        "show the last command output",
        None,
    ),
    bind(
        S::Runbook,
        BACK,
        A::Back,
        "back to the runbook list",
        Some("back"),
    ),
    // Step.
    bind(
        S::Step,
        &[K::Char('r')],
        A::Run,
        "run the step: its commands; an edit shows its diff first; a form or tool opens",
        Some("run"),
    ),
    bind(
        S::Step,
        &[K::Char('u')],
        A::Undo,
        "undo the step's file edits (shows the reverse diff first)",
        None,
    ),
    bind(
        S::Step,
        &[K::Char('d')],
        A::MarkDone,
        "mark the step done by hand",
        Some("done"),
    ),
    bind(
        S::Step,
        &[K::Char('s')],
        A::Skip,
        "skip the step (asks for a reason)",
        Some("skip"),
    ),
    bind(
        S::Step,
        &[K::Char('n')],
        A::Note,
        "add a note",
        Some("note"),
    ),
    bind(
        S::Step,
        &[K::Char('o')],
        A::ShowOutput,
        "show the last command output",
        Some("output"),
    ),
    bind(S::Step, MOVE_UP, A::Up, "scroll up", None),
    bind(S::Step, MOVE_DOWN, A::Down, "scroll down", None),
    bind(S::Step, PAGE_UP, A::PageUp, "page up", None),
    bind(S::Step, PAGE_DOWN, A::PageDown, "page down", None),
    bind(S::Step, TOP, A::Top, "top", None),
    bind(S::Step, BOTTOM, A::Bottom, "bottom", None),
    bind(S::Step, &[K::Tab], A::Next, "next step", None),
    bind(S::Step, &[K::BackTab], A::Previous, "previous step", None),
    bind(S::Step, BACK, A::Back, "back to the runbook", Some("back")),
    // Output.
    bind(S::Output, MOVE_UP, A::Up, "scroll up", None),
    bind(S::Output, MOVE_DOWN, A::Down, "scroll down", None),
    bind(S::Output, PAGE_UP, A::PageUp, "page up", None),
    bind(S::Output, PAGE_DOWN, A::PageDown, "page down", None),
    bind(S::Output, TOP, A::Top, "first line", None),
    bind(
        S::Output,
        BOTTOM,
        A::Follow,
        "last line, and follow new output",
        Some("follow"),
    ),
    bind(
        S::Output,
        &[K::Char('r')],
        A::Run,
        "after the step ended: run it again",
        Some("retry"),
    ),
    bind(
        S::Output,
        &[K::Char('s')],
        A::Skip,
        "after the step ended: skip it (asks why)",
        Some("skip"),
    ),
    bind(
        S::Output,
        &[K::Char('d')],
        A::MarkDone,
        "after the step ended: mark it done (asks why when it failed)",
        Some("done"),
    ),
    bind(
        S::Output,
        &[K::Char('w')],
        A::ToggleWrap,
        "wrap long lines, or one row per line cut at the edge (for tables)",
        Some("wrap"),
    ),
    bind(
        S::Output,
        &[K::Char('c')],
        A::Cancel,
        "cancel the running command (asks first)",
        Some("cancel"),
    ),
    bind(
        S::Output,
        BACK,
        A::Back,
        "back (a running command keeps running)",
        Some("back"),
    ),
    // Change preview (diff).
    bind(
        S::Diff,
        &[K::Char('a')],
        A::Apply,
        "apply the change (undo preview: restore the backup); asks first",
        Some("apply"),
    ),
    bind(S::Diff, MOVE_UP, A::Up, "scroll up", None),
    bind(S::Diff, MOVE_DOWN, A::Down, "scroll down", None),
    bind(S::Diff, PAGE_UP, A::PageUp, "page up", None),
    bind(S::Diff, PAGE_DOWN, A::PageDown, "page down", None),
    bind(S::Diff, TOP, A::Top, "top", None),
    bind(S::Diff, BOTTOM, A::Bottom, "bottom", None),
    bind(
        S::Diff,
        BACK,
        A::Back,
        "back, changing nothing",
        Some("back"),
    ),
    // Fields: printable keys are typed.
    bind(
        S::Form,
        &[K::Enter],
        A::Submit,
        "save the form / next field in the calculator / check the answer",
        Some("save/check"),
    ),
    bind(
        S::Form,
        &[K::Tab, K::Down],
        A::Next,
        "next field",
        Some("next field"),
    ),
    bind(
        S::Form,
        &[K::BackTab, K::Up],
        A::Previous,
        "previous field",
        None,
    ),
    bind(
        S::Form,
        &[K::Backspace, K::Ctrl('h')],
        A::DeleteBack,
        "delete the character before the cursor",
        None,
    ),
    bind(
        S::Form,
        &[K::Delete],
        A::DeleteForward,
        "delete the character under the cursor",
        None,
    ),
    bind(
        S::Form,
        &[K::Ctrl('u')],
        A::ClearLine,
        "clear the field",
        None,
    ),
    bind(S::Form, &[K::Left], A::CursorLeft, "cursor left", None),
    bind(S::Form, &[K::Right], A::CursorRight, "cursor right", None),
    bind(
        S::Form,
        &[K::Home],
        A::CursorStart,
        "cursor to the start",
        None,
    ),
    bind(S::Form, &[K::End], A::CursorEnd, "cursor to the end", None),
    bind(
        S::Form,
        &[K::PageUp],
        A::PageUp,
        "scroll the results up",
        None,
    ),
    bind(
        S::Form,
        &[K::PageDown],
        A::PageDown,
        "scroll the results down",
        None,
    ),
    bind(
        S::Form,
        &[K::Esc],
        A::Back,
        "back (what you typed is kept for next time)",
        Some("back"),
    ),
    bind(
        S::Form,
        &[K::Ctrl('l')],
        A::Redraw,
        "re-read the size and redraw",
        None,
    ),
    bind(
        S::Form,
        &[K::Ctrl('c')],
        A::Interrupt,
        "quit (asks first)",
        None,
    ),
    // Subnet tool menu and CIDR table.
    bind(S::Subnet, MOVE_UP, A::Up, "up", None),
    bind(S::Subnet, MOVE_DOWN, A::Down, "down", None),
    bind(S::Subnet, PAGE_UP, A::PageUp, "page up", None),
    bind(S::Subnet, PAGE_DOWN, A::PageDown, "page down", None),
    bind(S::Subnet, TOP, A::Top, "top", None),
    bind(S::Subnet, BOTTOM, A::Bottom, "bottom", None),
    bind(
        S::Subnet,
        &[K::Enter, K::Right, K::Char('l')],
        A::Open,
        "open",
        Some("open"),
    ),
    bind(S::Subnet, BACK, A::Back, "back", Some("back")),
    // Services tool.
    bind(S::Services, MOVE_UP, A::Up, "previous service", None),
    bind(S::Services, MOVE_DOWN, A::Down, "next service", None),
    bind(S::Services, PAGE_UP, A::PageUp, "page up", None),
    bind(S::Services, LIST_PAGE_DOWN, A::PageDown, "page down", None),
    bind(S::Services, TOP, A::Top, "first service", None),
    bind(S::Services, BOTTOM, A::Bottom, "last service", None),
    bind(
        S::Services,
        &[K::Char(' ')],
        A::Toggle,
        "turn the service off or on in runlevels 2-5 (locked ones refuse)",
        Some("toggle"),
    ),
    bind(
        S::Services,
        &[K::Char('i')],
        A::Details,
        "show or hide the selected service's reason (the runbook's why) under the table",
        Some("why"),
    ),
    bind(
        S::Services,
        &[K::Char('a')],
        A::Apply,
        "show the chkconfig commands, confirm, run them, then check chkconfig --list",
        Some("apply"),
    ),
    bind(
        S::Services,
        &[K::Char('v')],
        A::FollowAdvice,
        "choose what the runbook advises (off and on; never 'maybe off' or locked)",
        Some("advice"),
    ),
    bind(
        S::Services,
        &[K::Char('c')],
        A::ClearChoices,
        "forget every choice",
        None,
    ),
    bind(
        S::Services,
        &[K::Char('R')],
        A::Refresh,
        "read chkconfig --list again",
        None,
    ),
    bind(
        S::Services,
        &[K::Char('o')],
        A::ShowOutput,
        "show the last command output",
        None,
    ),
    bind(S::Services, BACK, A::Back, "back to the step", Some("back")),
    // Runlevels tool.
    bind(S::Runlevels, MOVE_UP, A::Up, "previous script", None),
    bind(S::Runlevels, MOVE_DOWN, A::Down, "next script", None),
    bind(S::Runlevels, PAGE_UP, A::PageUp, "page up", None),
    bind(S::Runlevels, LIST_PAGE_DOWN, A::PageDown, "page down", None),
    bind(S::Runlevels, TOP, A::Top, "first script", None),
    bind(S::Runlevels, BOTTOM, A::Bottom, "last script", None),
    bind(
        S::Runlevels,
        &[K::Left, K::BackTab],
        A::ColumnLeft,
        "previous runlevel",
        None,
    ),
    bind(
        S::Runlevels,
        &[K::Right, K::Tab],
        A::ColumnRight,
        "next runlevel",
        Some("runlevel"),
    ),
    bind(
        S::Runlevels,
        &[K::Char(' ')],
        A::Toggle,
        "add to or remove from the selected runlevel",
        Some("toggle"),
    ),
    bind(
        S::Runlevels,
        &[K::Char('i')],
        A::Details,
        "show or hide where the selected script is, under the table",
        Some("why"),
    ),
    bind(
        S::Runlevels,
        &[K::Char('a')],
        A::Apply,
        "show the rc-update commands, confirm, run them, then check rc-update -v show",
        Some("apply"),
    ),
    bind(
        S::Runlevels,
        &[K::Char('c')],
        A::ClearChoices,
        "forget every change",
        None,
    ),
    bind(
        S::Runlevels,
        &[K::Char('R')],
        A::Refresh,
        "read rc-update -v show again",
        None,
    ),
    bind(
        S::Runlevels,
        &[K::Char('o')],
        A::ShowOutput,
        "show the last command output",
        None,
    ),
    bind(
        S::Runlevels,
        BACK_ONLY,
        A::Back,
        "back to the step",
        Some("back"),
    ),
    // GCC profile tool.
    bind(S::GccProfile, MOVE_UP, A::Up, "previous profile", None),
    bind(S::GccProfile, MOVE_DOWN, A::Down, "next profile", None),
    bind(S::GccProfile, TOP, A::Top, "first profile", None),
    bind(S::GccProfile, BOTTOM, A::Bottom, "last profile", None),
    bind(
        S::GccProfile,
        &[K::Char(' '), K::Enter],
        A::Toggle,
        "choose this profile",
        Some("choose"),
    ),
    bind(
        S::GccProfile,
        &[K::Char('a')],
        A::Apply,
        "switch: gcc-config N, env-update, then reload /etc/profile.env",
        Some("apply"),
    ),
    bind(
        S::GccProfile,
        &[K::Char('R')],
        A::Refresh,
        "read gcc-config -l again",
        None,
    ),
    bind(
        S::GccProfile,
        &[K::Char('o')],
        A::ShowOutput,
        "show the last command output",
        None,
    ),
    bind(
        S::GccProfile,
        BACK,
        A::Back,
        "back to the step",
        Some("back"),
    ),
    // Snort rules tool.
    bind(S::SnortRules, MOVE_UP, A::Up, "previous rule", None),
    bind(S::SnortRules, MOVE_DOWN, A::Down, "next rule", None),
    bind(S::SnortRules, PAGE_UP, A::PageUp, "page up", None),
    bind(
        S::SnortRules,
        LIST_PAGE_DOWN,
        A::PageDown,
        "page down",
        None,
    ),
    bind(S::SnortRules, TOP, A::Top, "first rule", None),
    bind(S::SnortRules, BOTTOM, A::Bottom, "last rule", None),
    bind(
        S::SnortRules,
        &[K::Char(' ')],
        A::Toggle,
        "choose to disable (or re-enable) the rule",
        Some("toggle"),
    ),
    bind(
        S::SnortRules,
        &[K::Char('a')],
        A::Apply,
        "show the diff, confirm, edit the rules files (with a backup)",
        Some("apply"),
    ),
    bind(
        S::SnortRules,
        &[K::Char('u')],
        A::Undo,
        "undo the last rules edit from its backup",
        Some("undo"),
    ),
    bind(
        S::SnortRules,
        &[K::Char('x')],
        A::Restart,
        "restart snort (/etc/init.d/snort restart) so it re-reads the rules",
        Some("restart"),
    ),
    bind(
        S::SnortRules,
        &[K::Char('n')],
        A::AddOwn,
        "add your own SID with a reason",
        None,
    ),
    bind(
        S::SnortRules,
        &[K::Char('R')],
        A::Refresh,
        "scan the rules again",
        None,
    ),
    bind(
        S::SnortRules,
        &[K::Char('o')],
        A::ShowOutput,
        "show the last command output",
        None,
    ),
    bind(
        S::SnortRules,
        BACK,
        A::Back,
        "back to the step",
        Some("back"),
    ),
    // Help overlay.
    bind(S::Help, MOVE_UP, A::Up, "scroll up", None),
    bind(S::Help, MOVE_DOWN, A::Down, "scroll down", None),
    bind(S::Help, PAGE_UP, A::PageUp, "page up", None),
    bind(S::Help, PAGE_DOWN, A::PageDown, "page down", None),
    bind(S::Help, TOP, A::Top, "top", None),
    bind(S::Help, BOTTOM, A::Bottom, "bottom", None),
    bind(
        S::Help,
        &[K::Char('?'), K::Char('q'), K::Esc, K::Enter],
        A::Back,
        "close the help",
        Some("close"),
    ),
    bind(
        S::Help,
        &[K::Ctrl('l')],
        A::Redraw,
        "re-read the size and redraw",
        None,
    ),
    // Confirmation.
    bind(
        S::Confirm,
        &[K::Char('y'), K::Char('Y')],
        A::Yes,
        "yes, do it",
        Some("yes"),
    ),
    bind(
        S::Confirm,
        &[K::Char('n'), K::Char('N'), K::Esc, K::Char('q')],
        A::No,
        "no, leave things as they are",
        Some("no"),
    ),
    bind(
        S::Confirm,
        &[K::Ctrl('l')],
        A::Redraw,
        "re-read the size and redraw",
        None,
    ),
    // Leaving a tool screen with changes not applied.
    bind(
        S::Leave,
        &[K::Char('a')],
        A::Apply,
        "apply the changes (shows the exact commands and asks first)",
        Some("apply"),
    ),
    bind(
        S::Leave,
        &[K::Char('d')],
        A::Discard,
        "discard the changes and leave",
        Some("discard"),
    ),
    bind(
        S::Leave,
        &[K::Char('s'), K::Esc, K::Char('q'), K::Char('n')],
        A::Back,
        "stay on the screen, changes kept",
        Some("stay"),
    ),
    bind(
        S::Leave,
        &[K::Ctrl('l')],
        A::Redraw,
        "re-read the size and redraw",
        None,
    ),
    // Text prompt: printable keys are typed.
    bind(
        S::Prompt,
        &[K::Enter],
        A::Submit,
        "save the text",
        Some("save"),
    ),
    bind(
        S::Prompt,
        &[K::Backspace, K::Ctrl('h')],
        A::DeleteBack,
        "delete the character before the cursor",
        None,
    ),
    bind(
        S::Prompt,
        &[K::Delete],
        A::DeleteForward,
        "delete the character under the cursor",
        None,
    ),
    bind(
        S::Prompt,
        &[K::Ctrl('u')],
        A::ClearLine,
        "clear the text",
        Some("clear"),
    ),
    bind(S::Prompt, &[K::Left], A::CursorLeft, "cursor left", None),
    bind(S::Prompt, &[K::Right], A::CursorRight, "cursor right", None),
    bind(
        S::Prompt,
        &[K::Home],
        A::CursorStart,
        "cursor to the start",
        None,
    ),
    bind(
        S::Prompt,
        &[K::End],
        A::CursorEnd,
        "cursor to the end",
        None,
    ),
    bind(
        S::Prompt,
        &[K::Esc],
        A::Back,
        "close, only when the text is empty (typed text is never thrown away)",
        Some("close if empty"),
    ),
    bind(
        S::Prompt,
        &[K::Ctrl('l')],
        A::Redraw,
        "re-read the size and redraw",
        None,
    ),
];

/// The action a key has in a scope: the scope's own binding first, then (outside modal
/// scopes) the global one.
pub fn lookup(scope: Scope, key: Key) -> Option<Action> {
    let find = |s: Scope| {
        BINDINGS
            .iter()
            .find(|b| b.scope == s && b.keys.contains(&key))
            .map(|b| b.action)
    };
    find(scope).or_else(|| {
        if scope.is_modal() {
            None
        } else {
            find(Scope::Global)
        }
    })
}

/// The bindings shown for a scope, in table order: the scope's own, then the global ones.
pub fn bindings_for(scope: Scope) -> Vec<&'static Binding> {
    let own = BINDINGS.iter().filter(|b| b.scope == scope);
    let global = BINDINGS
        .iter()
        .filter(|b| b.scope == Scope::Global && !scope.is_modal());
    own.chain(global).collect()
}

/// The hint line for a scope: `key:label` pairs from the table, the global ones (help) first
/// so they survive when a narrow line cuts the rest. On the Output screen they depend on
/// whether a command runs: cancel only while one runs; retry, skip and done only after it
/// ended.
pub fn hints_while(scope: Scope, running: bool) -> Vec<(String, &'static str)> {
    let mut list = bindings_for(scope);
    list.sort_by_key(|b| b.scope != Scope::Global);
    let after_end = [Action::Run, Action::Skip, Action::MarkDone];
    list.into_iter()
        .filter(|b| running || b.action != Action::Cancel)
        .filter(|b| scope != Scope::Output || !running || !after_end.contains(&b.action))
        .filter_map(|b| b.hint.map(|h| (b.keys[0].label(), h)))
        .collect()
}

/// All labels of a binding's keys, `/`-separated, for the help overlay.
pub fn key_labels(binding: &Binding) -> String {
    binding
        .keys
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_binding_needs_a_key_a_console_or_multiplexer_owns() {
        // Ctrl-A (screen, Xen conswitch), Ctrl-S/Q (flow control), Ctrl-] and friends
        // (crossterm reports 0x1c..0x1f as Ctrl-4..7).
        for b in BINDINGS {
            for k in b.keys {
                if let Key::Ctrl(c) = k {
                    assert!(!"asq4567]\\^_".contains(*c), "{k:?} bound in {:?}", b.scope);
                }
            }
        }
    }

    #[test]
    fn esc_never_quits_or_answers_yes_or_submits() {
        for b in BINDINGS.iter().filter(|b| b.keys.contains(&Key::Esc)) {
            assert!(
                matches!(b.action, Action::Back | Action::No),
                "Esc bound to {:?} in {:?}",
                b.action,
                b.scope
            );
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.scope == b.scope {
                    for k in a.keys {
                        assert!(!b.keys.contains(k), "{k:?} twice in {:?}", a.scope);
                    }
                }
            }
        }
    }

    #[test]
    fn every_scope_can_go_back_or_answer_without_special_keys() {
        assert_eq!(lookup(Scope::Step, Key::Char('q')), Some(Action::Back));
        assert_eq!(lookup(Scope::Home, Key::Char('q')), Some(Action::Quit));
        assert_eq!(lookup(Scope::Home, Key::Esc), None);
        assert_eq!(lookup(Scope::Prompt, Key::Char('q')), None);
        assert_eq!(
            lookup(Scope::Prompt, Key::Ctrl('h')),
            Some(Action::DeleteBack)
        );
        assert_eq!(lookup(Scope::Runbook, Key::Ctrl('l')), Some(Action::Redraw));
        assert_eq!(lookup(Scope::Confirm, Key::Enter), None);
    }

    #[test]
    fn hints_come_from_the_table() {
        let h = hints_while(Scope::Step, true);
        assert!(h.contains(&("r".to_string(), "run")));
        assert!(h.contains(&("?".to_string(), "help")));
        assert!(hints_while(Scope::Home, true).contains(&("p".to_string(), "practice")));
        let yes_no = hints_while(Scope::Confirm, true);
        assert_eq!(yes_no, [("y".to_string(), "yes"), ("n".to_string(), "no")]);
        let cancel = ("c".to_string(), "cancel");
        assert!(hints_while(Scope::Output, true).contains(&cancel));
        assert!(!hints_while(Scope::Output, false).contains(&cancel));
    }
}
