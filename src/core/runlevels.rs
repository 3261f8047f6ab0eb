//! OpenRC runlevels (Gentoo): init scripts × runlevels from `rc-update -v show`, the
//! technician's changes, and the `rc-update add|del NAME RUNLEVEL` commands that make them.
//!
//! Used on its own and by the Xen networking steps (`del net.eth0 default`, `add net.extbr0
//! default`, `add net.xenbr0 default`).

use std::collections::BTreeSet;

use serde::Serialize;

use super::parse::rc_update::RcShow;

/// `rc-update -v show` recorded from the real OpenRC, shown in practice mode.
pub const PRACTICE_LISTING: &str = include_str!("../../assets/practice/tools/rc-update-v-show.txt");

/// Gentoo's stock runlevels. A runlevel no script is in does not show up in `rc-update show`,
/// so these are always offered as columns.
pub const STOCK_RUNLEVELS: [&str; 5] = ["boot", "default", "nonetwork", "shutdown", "sysinit"];

/// One init script: the runlevels it is in now and the ones the technician wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunlevelRow {
    /// Script name in `/etc/init.d/`.
    pub name: String,
    /// Runlevels it is in according to the last listing.
    pub current: BTreeSet<String>,
    /// Runlevels it should be in after Apply.
    pub wanted: BTreeSet<String>,
}

/// Why a change could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunlevelError {
    /// The script is not in `/etc/init.d` (or the listing was not `-v`).
    #[error(
        "no init script '{0}' in the listing (is /etc/init.d/{0} there? the list comes from `rc-update -v show`)"
    )]
    NoScript(String),
    /// Not one of the table's runlevels.
    #[error("'{0}' is not a runlevel here")]
    NoRunlevel(String),
}

/// The Runlevels screen's model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunlevelTable {
    /// Column order: stock runlevels plus any other seen in the listing, sorted.
    pub runlevels: Vec<String>,
    /// One row per script, in listing order.
    pub rows: Vec<RunlevelRow>,
}

impl RunlevelTable {
    /// Builds the table from a listing (preferably `rc-update -v show`); nothing changed yet.
    pub fn new(show: &RcShow) -> RunlevelTable {
        let mut levels: BTreeSet<String> = STOCK_RUNLEVELS.iter().map(|s| s.to_string()).collect();
        levels.extend(show.runlevels.iter().cloned());
        RunlevelTable {
            runlevels: levels.into_iter().collect(),
            rows: show
                .services
                .iter()
                .map(|s| {
                    let current: BTreeSet<String> = s.runlevels.iter().cloned().collect();
                    RunlevelRow {
                        name: s.name.clone(),
                        wanted: current.clone(),
                        current,
                    }
                })
                .collect(),
        }
    }

    /// Flips one cell (what Space does on the Runlevels screen).
    pub fn toggle(&mut self, row: usize, column: usize) -> Result<(), RunlevelError> {
        let level = self
            .runlevels
            .get(column)
            .cloned()
            .ok_or_else(|| RunlevelError::NoRunlevel(column.to_string()))?;
        let row = self
            .rows
            .get_mut(row)
            .ok_or_else(|| RunlevelError::NoScript(format!("#{row}")))?;
        if !row.wanted.remove(&level) {
            row.wanted.insert(level);
        }
        Ok(())
    }

    /// Wants `name` in (`on`) or out of `runlevel`: how a runbook step presets the table.
    pub fn set(&mut self, name: &str, runlevel: &str, on: bool) -> Result<(), RunlevelError> {
        if !self.runlevels.iter().any(|l| l == runlevel) {
            return Err(RunlevelError::NoRunlevel(runlevel.to_string()));
        }
        let row = self
            .rows
            .iter_mut()
            .find(|r| r.name == name)
            .ok_or_else(|| RunlevelError::NoScript(name.to_string()))?;
        if on {
            row.wanted.insert(runlevel.to_string());
        } else {
            row.wanted.remove(runlevel);
        }
        Ok(())
    }

    /// The exact commands: every `rc-update del NAME RUNLEVEL` first, then every
    /// `rc-update add NAME RUNLEVEL` (the runbook's order: take eth0 out, then add bridges),
    /// each group in table order.
    pub fn commands(&self) -> Vec<Vec<String>> {
        let change = |verb: &str, name: &str, level: &str| {
            vec![
                "rc-update".to_string(),
                verb.to_string(),
                name.to_string(),
                level.to_string(),
            ]
        };
        let dels = self.rows.iter().flat_map(|r| {
            r.current
                .difference(&r.wanted)
                .map(|l| change("del", &r.name, l))
                .collect::<Vec<_>>()
        });
        let adds = self.rows.iter().flat_map(|r| {
            r.wanted
                .difference(&r.current)
                .map(|l| change("add", &r.name, l))
                .collect::<Vec<_>>()
        });
        dels.chain(adds).collect()
    }

    /// Names of scripts whose runlevels in a fresh listing differ from what was wanted.
    pub fn verify(&self, after: &RcShow) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.wanted != r.current)
            .filter(|r| {
                let now: BTreeSet<String> = after
                    .service(&r.name)
                    .map(|s| s.runlevels.iter().cloned().collect())
                    .unwrap_or_default();
                now != r.wanted
            })
            .map(|r| r.name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::rc_update;
    use super::*;

    const REAL: &str = include_str!("../../tests/fixtures/real-output/rc-update.txt");

    fn table() -> RunlevelTable {
        let out = crate::core::parse::transcript::stdout(REAL, "rc-update -v show", 0);
        RunlevelTable::new(&rc_update::parse(&out))
    }

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn columns_include_the_stock_runlevels() {
        let t = RunlevelTable::new(&rc_update::parse("  sshd | default\n"));
        assert_eq!(t.runlevels, STOCK_RUNLEVELS);
        let t = RunlevelTable::new(&rc_update::parse("  sshd | single\n"));
        assert_eq!(t.runlevels.len(), 6);
    }

    #[test]
    fn xen_networking_changes() {
        let mut t = table();
        t.set("net.extbr0", "default", false).unwrap();
        t.set("net.eth0", "default", true).unwrap();
        assert_eq!(
            t.commands(),
            [
                argv("rc-update del net.extbr0 default"),
                argv("rc-update add net.eth0 default")
            ]
        );
        assert_eq!(
            t.set("net.xenbr0", "default", true),
            Err(RunlevelError::NoScript("net.xenbr0".into()))
        );
        assert!(matches!(
            t.set("sshd", "nosuchlevel", true),
            Err(RunlevelError::NoRunlevel(_))
        ));
    }

    #[test]
    fn toggling_a_cell_twice_changes_nothing() {
        let mut t = table();
        let row = t.rows.iter().position(|r| r.name == "local").unwrap();
        let col = t.runlevels.iter().position(|l| l == "nonetwork").unwrap();
        t.toggle(row, col).unwrap();
        assert_eq!(t.commands(), [argv("rc-update del local nonetwork")]);
        t.toggle(row, col).unwrap();
        assert!(t.commands().is_empty());
        assert!(t.toggle(row, 99).is_err());
        assert!(t.toggle(999, 0).is_err());
    }

    #[test]
    fn verify_after_apply() {
        let mut t = table();
        t.set("net.eth0", "default", false).unwrap();
        t.set("net.extbr0", "boot", true).unwrap();
        let after = rc_update::parse("  net.extbr0 | boot default\n  net.eth0 |\n");
        assert!(t.verify(&after).is_empty());
        let after = rc_update::parse("  net.extbr0 | default\n");
        assert_eq!(t.verify(&after), ["net.extbr0"]);
    }
}
