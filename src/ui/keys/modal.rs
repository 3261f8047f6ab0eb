//! Bindings of the modal layers: the help overlay, questions, leaving with changes and the
//! text prompt.

use super::{A, BOTTOM, Binding, K, MOVE_DOWN, MOVE_UP, PAGE_DOWN, PAGE_UP, S, TOP, bind};

/// The key table's rows for the modal layers, in help-overlay order.
pub(super) const BINDINGS: &[Binding] = &[
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
