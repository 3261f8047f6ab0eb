//! `gcc-config -l` (Gentoo): the installed GCC profiles, the current one marked `*`.
//!
//! Format, from upstream's `list_profiles()` and its test expectations: ` [N] CTARGET-VERSION`,
//! ` *` after the current one (green unless NO_COLOR, even when piped), a blank line between
//! CTARGETs, and a `Using gcc-config info in ROOT` header when ROOT is not `/`. The article
//! shows the same lines without the leading space.

use std::cmp::Ordering;

use serde::Serialize;

use super::{is_plain_name, strip_ansi};

/// One installed GCC profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GccProfile {
    /// The number to pass to `gcc-config N`.
    pub number: u32,
    /// The full profile name, e.g. `x86_64-pc-linux-gnu-4.3.4`.
    pub name: String,
    /// The target triple part, e.g. `x86_64-pc-linux-gnu`.
    pub ctarget: String,
    /// The version part, e.g. `4.3.4` or `13.2.1_p20240210`.
    pub version: String,
    /// Marked `*`: the profile in use now.
    pub current: bool,
}

impl GccProfile {
    /// Orders profiles by version as a technician would: numerically, part by part
    /// (`4.10` is newer than `4.9`), a plain version before a suffixed one (`-hardened`).
    pub fn cmp_version(&self, other: &GccProfile) -> Ordering {
        version_key(&self.version).cmp(&version_key(&other.version))
    }
}

fn version_key(version: &str) -> (Vec<u64>, bool) {
    let (main, suffix) = match version.split_once('-') {
        Some((m, _)) => (m, true),
        None => (version, false),
    };
    let numbers = main
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u64>().unwrap_or(u64::MAX))
        .collect();
    (numbers, !suffix)
}

/// Everything `gcc-config -l` said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GccList {
    /// Profiles in the order printed.
    pub profiles: Vec<GccProfile>,
    /// The ROOT from a `Using gcc-config info in ROOT` header.
    pub root: Option<String>,
    /// Non-blank lines that were not understood, with their 1-based line number.
    pub unrecognised: Vec<(usize, String)>,
}

impl GccList {
    /// The profile in use now, if one is marked.
    pub fn current(&self) -> Option<&GccProfile> {
        self.profiles.iter().find(|p| p.current)
    }

    /// The newest profile for the current profile's CTARGET (or for any CTARGET when none is
    /// marked): the one the runbook says to switch to after updating gcc. On a tie the
    /// earlier-listed one wins, so the answer is stable.
    pub fn newest(&self) -> Option<&GccProfile> {
        let ctarget = self.current().map(|p| p.ctarget.as_str());
        self.profiles
            .iter()
            .filter(|p| ctarget.is_none_or(|c| p.ctarget == c))
            .fold(None, |best: Option<&GccProfile>, p| match best {
                Some(b) if p.cmp_version(b) != Ordering::Greater => Some(b),
                _ => Some(p),
            })
    }

    /// The profile with number `n`.
    pub fn by_number(&self, n: u32) -> Option<&GccProfile> {
        self.profiles.iter().find(|p| p.number == n)
    }
}

/// Parses `gcc-config -l` output. Never fails.
pub fn parse(output: &str) -> GccList {
    let clean = strip_ansi(output);
    let mut list = GccList::default();
    for (i, line) in clean.lines().enumerate() {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if let Some(root) = text.strip_prefix("Using gcc-config info in ") {
            list.root = Some(root.trim().to_string());
            continue;
        }
        match profile_line(text) {
            Some(p) => list.profiles.push(p),
            None => list.unrecognised.push((i + 1, line.to_string())),
        }
    }
    list
}

fn profile_line(text: &str) -> Option<GccProfile> {
    let rest = text.strip_prefix('[')?;
    let (number, rest) = rest.split_once(']')?;
    let number: u32 = number.trim().parse().ok()?;
    let mut fields = rest.split_whitespace();
    let name = fields.next()?;
    let current = match (fields.next(), fields.next()) {
        (None, _) => false,
        (Some("*"), None) => true,
        _ => return None,
    };
    if !is_plain_name(name) {
        return None;
    }
    let (ctarget, version) = split_name(name);
    Some(GccProfile {
        number,
        name: name.to_string(),
        ctarget,
        version,
        current,
    })
}

/// Splits `x86_64-pc-linux-gnu-4.3.4` at the first `-` (after the first part) that is followed
/// by a digit. A name without one is all CTARGET with an empty version.
fn split_name(name: &str) -> (String, String) {
    let mut search = 0;
    while let Some(off) = name[search..].find('-') {
        let at = search + off;
        if at > 0 && name[at + 1..].starts_with(|c: char| c.is_ascii_digit()) {
            return (name[..at].to_string(), name[at + 1..].to_string());
        }
        search = at + 1;
    }
    (name.to_string(), String::new())
}

#[cfg(test)]
mod tests {
    use super::super::fuzz;
    use super::*;

    const UPSTREAM: &str = include_str!("../../../tests/fixtures/gcc-config/list-upstream.txt");
    const ARTICLE: &str = include_str!("../../../tests/fixtures/gcc-config/list-article.txt");
    const CROSS: &str =
        include_str!("../../../tests/fixtures/gcc-config/list-root-cross-colour.txt");

    #[test]
    fn upstream_format() {
        let list = parse(UPSTREAM);
        assert_eq!(list.profiles.len(), 3);
        assert_eq!(list.current().unwrap().number, 2);
        assert_eq!(list.newest().unwrap().name, "x86_64-pc-linux-gnu-14");
        assert_eq!(list.profiles[0].ctarget, "x86_64-pc-linux-gnu");
        assert_eq!(list.profiles[0].version, "12");
        assert!(list.unrecognised.is_empty());
    }

    #[test]
    fn article_format() {
        let list = parse(ARTICLE);
        assert_eq!(list.current().unwrap().name, "x86_64-pc-linux-gnu-4.1.2");
        assert_eq!(list.newest().unwrap().number, 2);
        assert_eq!(list.by_number(2).unwrap().version, "4.3.4");
    }

    #[test]
    fn root_header_second_target_and_colour() {
        let list = parse(CROSS);
        assert_eq!(list.root.as_deref(), Some("/mnt/gentoo"));
        assert_eq!(list.profiles.len(), 4);
        let current = list.current().unwrap();
        assert_eq!(current.number, 2);
        assert_eq!(current.version, "13.2.1_p20240210");
        // Newest for the current CTARGET only: the cross compiler's 14.1.0 is not a candidate.
        assert_eq!(list.newest().unwrap().number, 2);
        assert_eq!(list.profiles[3].ctarget, "armv7a-unknown-linux-gnueabihf");
    }

    #[test]
    fn versions_compare_numerically() {
        let list = parse(
            "[1] x86_64-pc-linux-gnu-4.9.4\n[2] x86_64-pc-linux-gnu-4.10.1-hardened\n\
             [3] x86_64-pc-linux-gnu-4.10.1\n",
        );
        assert_eq!(list.newest().unwrap().number, 3);
        assert_eq!(split_name("gcc"), ("gcc".to_string(), String::new()));
        assert_eq!(split_name("-4"), ("-4".to_string(), String::new()));
    }

    #[test]
    fn malformed_lines_are_set_aside() {
        let list = parse("[x] gcc-1\n[1]\n[2] gcc-2 * extra\n[3 gcc-3\n!!! No gcc profile\n");
        assert!(list.profiles.is_empty());
        assert_eq!(list.unrecognised.len(), 5);
        assert!(list.newest().is_none());
    }

    #[test]
    fn arbitrary_input_never_panics() {
        for input in fuzz::inputs(CROSS, 3000, 13) {
            let list = parse(&input);
            let _ = list.newest();
        }
    }
}
