//! Input decoding: terminal key events become fieldbook's keys, and key sequences a slow line
//! split across reads (Esc `[` `A` arriving apart) are joined back into the key they stand for.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::ui::keys::Key;

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
pub(crate) fn ends_in_escape(keys: &[Key]) -> bool {
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
}
