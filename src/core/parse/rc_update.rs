//! `rc-update show` and `rc-update -v show` (OpenRC): which runlevels each init script is in.
//!
//! The real format (OpenRC 0.45.2): `printf("%20s |", name)`, then for each runlevel directory
//! in sorted order either ` runlevel` or as many spaces, so lines end in trailing spaces padded
//! to the full width. `-v` adds the scripts that are in no runlevel, with blank columns.
//! A runlevel no service is in cannot be seen in the output at all.

use std::collections::BTreeSet;

use serde::Serialize;

use super::is_plain_name;

/// One init script and the runlevels it is added to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RcService {
    /// The script's name in `/etc/init.d/`.
    pub name: String,
    /// Runlevels it is in, sorted; empty for a script in no runlevel (`-v` only).
    pub runlevels: Vec<String>,
}

/// Everything `rc-update [-v] show` said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RcShow {
    /// Scripts in the order printed (sorted by name).
    pub services: Vec<RcService>,
    /// Every runlevel that appeared in some line, sorted.
    pub runlevels: Vec<String>,
    /// Non-blank lines that were not understood, with their 1-based line number.
    pub unrecognised: Vec<(usize, String)>,
}

impl RcShow {
    /// The script called `name`.
    pub fn service(&self, name: &str) -> Option<&RcService> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// Parses `rc-update show` or `rc-update -v show` output. Never fails.
pub fn parse(output: &str) -> RcShow {
    let mut show = RcShow::default();
    let mut seen = BTreeSet::new();
    for (i, line) in output.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match service_line(line) {
            Some(service) => {
                seen.extend(service.runlevels.iter().cloned());
                show.services.push(service);
            }
            None => show.unrecognised.push((i + 1, line.to_string())),
        }
    }
    show.runlevels = seen.into_iter().collect();
    show
}

fn service_line(line: &str) -> Option<RcService> {
    let (name, levels) = line.split_once('|')?;
    let name = name.trim();
    if !is_plain_name(name) {
        return None;
    }
    let mut runlevels = Vec::new();
    for level in levels.split_whitespace() {
        if !is_plain_name(level) || level.contains('|') {
            return None;
        }
        runlevels.push(level.to_string());
    }
    runlevels.sort();
    runlevels.dedup();
    Some(RcService {
        name: name.to_string(),
        runlevels,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{fuzz, transcript};
    use super::*;

    const REAL: &str = include_str!("../../../tests/fixtures/real-output/rc-update.txt");

    #[test]
    fn real_show() {
        let out = transcript::stdout(REAL, "rc-update show", 0);
        assert!(
            out.lines()
                .next()
                .unwrap()
                .ends_with("default                           ")
        );
        let show = parse(&out);
        assert_eq!(show.services.len(), 16);
        assert!(show.unrecognised.is_empty());
        assert_eq!(
            show.runlevels,
            ["boot", "default", "nonetwork", "shutdown", "sysinit"]
        );
        assert_eq!(
            show.service("local").unwrap().runlevels,
            ["default", "nonetwork"]
        );
        assert_eq!(show.service("devfs").unwrap().runlevels, ["sysinit"]);
        assert!(show.service("net.eth0").is_none());
    }

    #[test]
    fn real_verbose_show_lists_services_in_no_runlevel() {
        let show = parse(&transcript::stdout(REAL, "rc-update -v show", 0));
        assert_eq!(show.services.len(), 23);
        assert!(show.service("net.eth0").unwrap().runlevels.is_empty());
        assert!(show.service("agetty").unwrap().runlevels.is_empty());
        assert_eq!(show.service("net.extbr0").unwrap().runlevels, ["default"]);
        assert!(show.unrecognised.is_empty());
    }

    #[test]
    fn real_single_and_named_columns() {
        let show = parse(&transcript::stdout(REAL, "rc-update show default", 0));
        assert_eq!(show.runlevels, ["default"]);
        assert_eq!(show.services.len(), 5);
        let show = parse(&transcript::stdout(
            REAL,
            "rc-update -v show default boot",
            0,
        ));
        assert_eq!(show.runlevels, ["boot", "default"]);
        assert_eq!(show.service("fsck").unwrap().runlevels, ["boot"]);
    }

    #[test]
    fn messages_are_not_services() {
        let show = parse(" * service net.extbr0 added to runlevel default\n");
        assert!(show.services.is_empty());
        assert_eq!(show.unrecognised.len(), 1);
        let show = parse("  a b | default\n | boot\n x | de\u{7}fault\n");
        assert!(show.services.is_empty());
        assert_eq!(show.unrecognised.len(), 3);
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let sample = transcript::stdout(REAL, "rc-update -v show", 0);
        for input in fuzz::inputs(&sample, 3000, 11) {
            let show = parse(&input);
            for s in &show.services {
                assert!(is_plain_name(&s.name));
            }
        }
    }
}
