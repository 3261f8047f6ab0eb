//! Input decoding: the bytes a terminal sends become fieldbook's keys. fieldbook reads the
//! terminal itself (one level-triggered `poll` and `read` on standard input) instead of through
//! crossterm's event reader, whose edge-triggered poll lost keys typed while a resize arrived.
//! A key sequence a slow line splits across reads (Esc, then `[A` a moment later) is kept
//! pending until the rest arrives or the line goes quiet.

use crate::ui::keys::Key;

/// Decodes terminal input bytes into keys, keeping an incomplete sequence (a lone Esc, Esc `[`,
/// half a UTF-8 character) until more bytes arrive or [`Decoder::flush`] is called.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    pending: Vec<u8>,
}

/// What the start of the input holds.
enum Step {
    /// A key (or an ignored sequence, `None`) that used this many bytes.
    Key(Option<Key>, usize),
    /// The bytes so far may be the start of a longer sequence.
    Incomplete,
}

/// The longest sequence kept pending; anything longer is not a key and is dropped.
const MAX_SEQUENCE: usize = 32;

impl Decoder {
    /// Adds bytes read from the terminal and returns every key they complete.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        self.pending.extend_from_slice(bytes);
        let mut keys = Vec::new();
        let mut at = 0;
        while at < self.pending.len() {
            match step(&self.pending[at..]) {
                Step::Key(key, used) => {
                    keys.extend(key);
                    at += used;
                }
                Step::Incomplete if self.pending.len() - at > MAX_SEQUENCE => at += 1,
                Step::Incomplete => break,
            }
        }
        self.pending.drain(..at);
        keys
    }

    /// True when bytes are waiting for the rest of their sequence.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The line went quiet: what is pending counts as typed. A lone Esc is Esc; Esc `[` is Esc
    /// followed by `[`; half a UTF-8 character is dropped.
    pub(crate) fn flush(&mut self) -> Vec<Key> {
        let rest = std::mem::take(&mut self.pending);
        let mut keys = Vec::new();
        let mut at = 0;
        while at < rest.len() {
            if rest[at] == 0x1b {
                keys.push(Key::Esc);
                at += 1;
                continue;
            }
            match step(&rest[at..]) {
                Step::Key(key, used) => {
                    keys.extend(key);
                    at += used;
                }
                Step::Incomplete => at += 1,
            }
        }
        keys
    }
}

/// Decodes the first key of `b` (never empty).
fn step(b: &[u8]) -> Step {
    match b[0] {
        0x1b => escape(b),
        0x0d | 0x0a => Step::Key(Some(Key::Enter), 1),
        0x09 => Step::Key(Some(Key::Tab), 1),
        0x7f | 0x08 => Step::Key(Some(Key::Backspace), 1),
        0x00 => Step::Key(Some(Key::Ctrl(' ')), 1),
        c @ 0x01..=0x1a => Step::Key(Some(Key::Ctrl(char::from(b'a' + c - 1))), 1),
        c @ 0x1c..=0x1f => Step::Key(Some(Key::Ctrl(char::from(b'4' + c - 0x1c))), 1),
        _ => utf8(b),
    }
}

/// A printable character, possibly several bytes long.
fn utf8(b: &[u8]) -> Step {
    let len = match b[0] {
        0x20..=0x7e => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        // A stray continuation byte or an invalid lead byte: not a key.
        _ => return Step::Key(None, 1),
    };
    if b.len() < len {
        // The rest may still be on the line, unless a byte so far already breaks the form.
        return if b[1..].iter().all(|c| (0x80..=0xbf).contains(c)) {
            Step::Incomplete
        } else {
            Step::Key(None, 1)
        };
    }
    match std::str::from_utf8(&b[..len]) {
        Ok(s) => Step::Key(s.chars().next().map(Key::Char), len),
        Err(_) => Step::Key(None, 1),
    }
}

/// Esc alone, a CSI (`Esc [`) or SS3 (`Esc O`) sequence, or Esc followed by an ordinary key
/// (serial lines have no Alt: that is Esc, then the key).
fn escape(b: &[u8]) -> Step {
    match b.get(1) {
        None => Step::Incomplete,
        Some(b'[') => csi(b),
        Some(b'O') => {
            // Some terminals put a modifier between O and the final byte (`Esc O 5 A`).
            let end = 2 + b[2..].iter().take_while(|c| c.is_ascii_digit()).count();
            match b.get(end) {
                None => Step::Incomplete,
                Some(c) => Step::Key(final_key(*c), end + 1),
            }
        }
        Some(_) => Step::Key(Some(Key::Esc), 1),
    }
}

/// `Esc [ params final`: cursor keys, Home/End, PgUp/PgDn, Delete, Shift-Tab; other
/// sequences (F-keys, modified keys fieldbook has no use for) are read whole and ignored.
fn csi(b: &[u8]) -> Step {
    let body = &b[2..];
    let Some(end) = body.iter().position(|c| (0x40..=0x7e).contains(c)) else {
        return if body.iter().all(|c| (0x20..=0x3f).contains(c)) {
            Step::Incomplete
        } else {
            // Not a sequence after all: Esc, and the rest decodes as typed.
            Step::Key(Some(Key::Esc), 1)
        };
    };
    if !body[..end].iter().all(|c| (0x20..=0x3f).contains(c)) {
        return Step::Key(Some(Key::Esc), 1);
    }
    let params = &body[..end];
    let key = match body[end] {
        b'~' => {
            let first = params.split(|c| *c == b';').next().unwrap_or_default();
            match first {
                b"1" | b"7" => Some(Key::Home),
                b"4" | b"8" => Some(Key::End),
                b"5" => Some(Key::PageUp),
                b"6" => Some(Key::PageDown),
                b"3" => Some(Key::Delete),
                _ => None,
            }
        }
        b'Z' => Some(Key::BackTab),
        c => final_key(c),
    };
    Step::Key(key, 2 + end + 1)
}

/// The key a CSI or SS3 sequence's final byte names.
fn final_key(c: u8) -> Option<Key> {
    match c {
        b'A' => Some(Key::Up),
        b'B' => Some(Key::Down),
        b'C' => Some(Key::Right),
        b'D' => Some(Key::Left),
        b'H' => Some(Key::Home),
        b'F' => Some(Key::End),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut d = Decoder::default();
        let mut k = d.feed(bytes);
        k.extend(d.flush());
        k
    }

    #[test]
    fn keys_decode_from_their_bytes() {
        let c = Key::Char;
        let cases: &[(&[u8], &[Key])] = &[
            (b"jq", &[c('j'), c('q')]),
            (
                b"\r\n\t\x7f\x08",
                &[
                    Key::Enter,
                    Key::Enter,
                    Key::Tab,
                    Key::Backspace,
                    Key::Backspace,
                ],
            ),
            (b"\x0c\x04", &[Key::Ctrl('l'), Key::Ctrl('d')]),
            (
                b"\x1b[A\x1b[B\x1bOC\x1bOD",
                &[Key::Up, Key::Down, Key::Right, Key::Left],
            ),
            (
                b"\x1b[H\x1b[F\x1b[1~\x1b[4~\x1bOH",
                &[Key::Home, Key::End, Key::Home, Key::End, Key::Home],
            ),
            (
                b"\x1b[5~\x1b[6~\x1b[3~\x1b[Z",
                &[Key::PageUp, Key::PageDown, Key::Delete, Key::BackTab],
            ),
            // A modified cursor key is the cursor key; F-keys and unknown sequences vanish whole.
            (b"\x1b[1;5A\x1b[15~\x1bOPx", &[Key::Up, c('x')]),
            (b"\x1bO5A\x1bO2Px", &[Key::Up, c('x')]),
            ("é€".as_bytes(), &[c('é'), c('€')]),
            // Esc then a key (no Alt on a serial line), and a lone Esc.
            (b"\x1bq", &[Key::Esc, c('q')]),
            (b"\x1b", &[Key::Esc]),
            (b"\x1b\x1b[A", &[Key::Esc, Key::Up]),
            // Invalid UTF-8 is not a key; what follows still is.
            (b"\xff\x80j", &[c('j')]),
        ];
        for (input, want) in cases {
            assert_eq!(keys(input), want.to_vec(), "{input:?}");
        }
    }

    #[test]
    fn a_sequence_split_across_reads_waits_for_its_rest() {
        let mut d = Decoder::default();
        assert_eq!(d.feed(b"j\x1b"), [Key::Char('j')]);
        assert!(d.has_pending());
        assert_eq!(d.feed(b"["), []);
        assert_eq!(d.feed(b"5"), []);
        assert_eq!(d.feed(b"~k"), [Key::PageUp, Key::Char('k')]);
        assert!(!d.has_pending());
        let euro = "€".as_bytes();
        assert_eq!(d.feed(&euro[..1]), []);
        assert_eq!(d.feed(&euro[1..]), [Key::Char('€')]);
    }

    #[test]
    fn a_quiet_line_turns_what_is_pending_into_keys() {
        let mut d = Decoder::default();
        assert_eq!(d.feed(b"\x1b["), []);
        assert_eq!(d.flush(), [Key::Esc, Key::Char('[')]);
        assert_eq!(d.feed(b"\x1b"), []);
        assert_eq!(d.flush(), [Key::Esc]);
        assert!(!d.has_pending());
    }

    #[test]
    fn noise_never_pends_forever() {
        let mut d = Decoder::default();
        let mut noise = b"\x1b[".to_vec();
        noise.extend(std::iter::repeat_n(b'1', 100));
        assert!(d.feed(&noise).len() <= noise.len());
        assert!(d.pending.len() <= MAX_SEQUENCE + 1);
        assert_eq!(d.feed(b"q").last(), Some(&Key::Char('q')));
    }
}
