//! Parsers for the output of the tools the tool screens drive (`chkconfig --list`,
//! `rc-update show`, `gcc-config -l`, `/etc/profile.env`). Each is a pure function from text to
//! a model: it never panics, and a line it cannot read is kept aside rather than guessed at.

pub mod chkconfig;
pub mod emerge;
pub mod gcc_config;
pub mod profile_env;
pub mod rc_update;

/// Removes ANSI escape sequences (CSI `ESC [ ... final`, and any other `ESC x` pair) so that a
/// tool that colours its output even when piped (gcc-config's green `*`) parses the same, and
/// so that nothing a child printed can reach the technician's terminal as a control sequence.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // Any other `ESC x` pair is dropped whole.
        if chars.next() == Some('[') {
            // Parameters and intermediates, then one final byte in 0x40..=0x7e.
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

/// True for a name a tool could really have printed for a service or profile: non-empty and
/// free of control characters and whitespace. Lines whose name fails this are set aside, so
/// a garbled line never becomes a service the technician could toggle.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Random text for the "never panics" property tests of every parser: mutations of a real
/// sample plus noise from an alphabet of the characters these formats care about. A tiny
/// xorshift generator keeps the tests deterministic and dependency-free.
#[cfg(test)]
pub(crate) mod fuzz {
    /// Deterministic pseudo-random numbers (xorshift64*).
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Rng {
            Rng(seed | 1)
        }
        pub fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        pub fn below(&mut self, n: usize) -> usize {
            if n == 0 {
                0
            } else {
                (self.next() % n as u64) as usize
            }
        }
    }

    const ALPHABET: &[char] = &[
        ' ', '\t', '\n', '\r', ':', '|', '[', ']', '*', '#', ';', '\'', '"', '\\', '=', '-', '.',
        '0', '1', '2', '7', '9', 'o', 'n', 'f', 'a', 's', 'i', 'd', 'x', 'e', '\u{1b}', '\0', 'é',
        '€', '\u{7f}', '\u{2028}',
    ];

    /// `count` inputs derived from `sample`: truncations, spliced noise, duplicated lines,
    /// and pure noise.
    pub fn inputs(sample: &str, count: usize, seed: u64) -> Vec<String> {
        let mut rng = Rng::new(seed);
        let chars: Vec<char> = sample.chars().collect();
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let mut s: Vec<char> = match rng.below(4) {
                0 => chars[..rng.below(chars.len() + 1)].to_vec(),
                1 | 2 => chars.clone(),
                _ => Vec::new(),
            };
            for _ in 0..rng.below(12) {
                let at = rng.below(s.len() + 1);
                let c = ALPHABET[rng.below(ALPHABET.len())];
                match rng.below(3) {
                    0 => s.insert(at, c),
                    1 if at < s.len() => s[at] = c,
                    _ if at < s.len() => {
                        s.remove(at);
                    }
                    _ => s.push(c),
                }
            }
            if rng.below(5) == 0 {
                for _ in 0..rng.below(200) {
                    s.push(ALPHABET[rng.below(ALPHABET.len())]);
                }
            }
            out.push(s.into_iter().collect());
        }
        out
    }
}

/// Reads the byte-exact transcripts in `tests/fixtures/real-output/` (recorded from the real
/// tools as `$ command`, `[stdout]`, `[stderr]`, `[exit N]` blocks).
#[cfg(test)]
pub(crate) mod transcript {
    /// The stdout of the `nth` (0-based) run of `command` in `transcript`.
    pub fn stdout(transcript: &str, command: &str, nth: usize) -> String {
        let header = format!("$ {command}\n[stdout]\n");
        let start = transcript
            .match_indices(&header)
            .nth(nth)
            .map(|(i, _)| i + header.len())
            .unwrap_or_else(|| panic!("no run {nth} of {command:?} in transcript"));
        let len = transcript[start..]
            .find("[stderr]\n")
            .expect("stderr marker");
        transcript[start..start + len].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_ansi_removes_colour_and_stray_escapes() {
        assert_eq!(
            strip_ansi(" [2] gcc-13 \u{1b}[32m*\u{1b}[0m"),
            " [2] gcc-13 *"
        );
        assert_eq!(strip_ansi("a\u{1b}"), "a");
        assert_eq!(strip_ansi("a\u{1b}[1;3"), "a");
        assert_eq!(strip_ansi("a\u{1b}]0;title"), "a0;title");
    }

    #[test]
    fn printable_hides_control_characters() {
        assert!(!is_plain_name("a b"));
        assert!(!is_plain_name(""));
        assert!(is_plain_name("lvm2-monitor"));
    }
}
