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

mod modal;
mod screens;
mod tools;

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

/// The key table, in the order of the help overlay and the hint line: the screens, then the
/// text fields and tool screens, then the modal layers.
const TABLE: &[&[Binding]] = &[screens::BINDINGS, tools::BINDINGS, modal::BINDINGS];

/// Every row of the key table, in table order.
fn bindings() -> impl Iterator<Item = &'static Binding> {
    TABLE.iter().flat_map(|rows| rows.iter())
}

/// The action a key has in a scope: the scope's own binding first, then (outside modal
/// scopes) the global one.
pub fn lookup(scope: Scope, key: Key) -> Option<Action> {
    let find = |s: Scope| {
        bindings()
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
    let own = bindings().filter(|b| b.scope == scope);
    let global = bindings().filter(|b| b.scope == Scope::Global && !scope.is_modal());
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
        for b in bindings() {
            for k in b.keys {
                if let Key::Ctrl(c) = k {
                    assert!(!"asq4567]\\^_".contains(*c), "{k:?} bound in {:?}", b.scope);
                }
            }
        }
    }

    #[test]
    fn esc_never_quits_or_answers_yes_or_submits() {
        for b in bindings().filter(|b| b.keys.contains(&Key::Esc)) {
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
        let all: Vec<&Binding> = bindings().collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
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
