//! Service pruning on ClearOS (chkconfig): the runbook's advice as data, the technician's
//! choices over a parsed `chkconfig --list`, and the exact commands that carry them out.
//!
//! The advice lives in `assets/services-clearos.toml`, so it can be corrected without touching
//! code. The table never runs anything: it produces argv vectors for the runner and checks a
//! fresh listing afterwards.

use serde::{Deserialize, Serialize};

use super::datafile::{self, DataFileError};
use super::parse::chkconfig::{ChkconfigList, level_digits};

const CLEAROS_ADVICE: &str = include_str!("../../assets/services-clearos.toml");

/// `chkconfig --list` of the article's ClearOS router, shown in practice mode instead of
/// running chkconfig.
pub const PRACTICE_LISTING: &str = include_str!("../../assets/practice/tools/chkconfig-list.txt");

/// What the runbook says to do with a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Advice {
    /// You probably want it off.
    Off,
    /// You may want it off; depends on the site (hardware, ClearSDN).
    MaybeOff,
    /// Turn it on.
    On,
    /// Never touch it: the screen refuses to toggle it.
    Locked,
}

impl Advice {
    /// The short word shown in the table and in `--json`.
    pub fn label(self) -> &'static str {
        match self {
            Advice::Off => "off",
            Advice::MaybeOff => "maybe off",
            Advice::On => "on",
            Advice::Locked => "LOCKED",
        }
    }
}

/// The advice for one service, with the reason a trainee needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAdvice {
    /// Service name as `chkconfig --list` prints it.
    pub name: String,
    /// What to do.
    pub advice: Advice,
    /// Why.
    pub reason: String,
    /// Conditional advice: it holds only unless this is true of the site ("you use iSCSI").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<String>,
}

/// A whole advice file: which runlevels changes apply to, and the per-service advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePolicy {
    /// Runlevels the changes apply to, as the `--level` argument (`"2345"`).
    pub levels: String,
    /// Services whose name contains one of these are locked too.
    #[serde(default)]
    pub lock_names_containing: Vec<String>,
    /// The warning shown for services locked by `lock_names_containing`.
    #[serde(default)]
    pub lock_reason: String,
    /// Per-service advice.
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceAdvice>,
}

impl ServicePolicy {
    /// The built-in ClearOS advice from the runbook article.
    pub fn clearos() -> Result<ServicePolicy, DataFileError> {
        Self::from_toml(CLEAROS_ADVICE, "builtin:services-clearos.toml")
    }

    /// Reads an advice file (`file` names it in errors).
    pub fn from_toml(text: &str, file: &str) -> Result<ServicePolicy, DataFileError> {
        let policy: ServicePolicy = datafile::from_toml(text, file)?;
        if policy.levels.is_empty() || level_digits(&policy.levels).count() != policy.levels.len() {
            return Err(DataFileError {
                file: file.to_string(),
                at: super::location::LineCol { line: 1, col: 1 },
                message: format!(
                    "levels = {:?}: expected runlevel digits 0-6, e.g. \"2345\"",
                    policy.levels
                ),
            });
        }
        Ok(policy)
    }

    /// The advice for `name`: its own entry, or a lock by name pattern.
    pub fn advice_for(&self, name: &str) -> Option<ServiceAdvice> {
        if let Some(a) = self.services.iter().find(|a| a.name == name) {
            return Some(a.clone());
        }
        self.lock_names_containing
            .iter()
            .any(|p| !p.is_empty() && name.contains(p.as_str()))
            .then(|| ServiceAdvice {
                name: name.to_string(),
                advice: Advice::Locked,
                reason: self.lock_reason.clone(),
                unless: None,
            })
    }
}

/// Whether a row is a SysV init script (per runlevel) or an xinetd service (on/off as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "levels", rename_all = "lowercase")]
pub enum ServiceKind {
    /// Started by init; `levels[n]` says whether in runlevel `n`.
    Sysv([bool; 7]),
    /// Started on demand by xinetd; on or off.
    Xinetd(bool),
}

impl ServiceKind {
    /// What a technician reads in the runlevel column: chkconfig's levels as `--2345-` (digit
    /// when on), or `xinetd:on` / `xinetd:off`. The screen and `fieldbook services` share it.
    pub fn levels_text(self) -> String {
        match self {
            ServiceKind::Sysv(l) => (0..7u8)
                .map(|n| {
                    if l[usize::from(n)] {
                        char::from(b'0' + n)
                    } else {
                        '-'
                    }
                })
                .collect(),
            ServiceKind::Xinetd(on) => format!("xinetd:{}", if on { "on" } else { "off" }),
        }
    }
}

/// One line of the Services screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRow {
    /// Service name.
    pub name: String,
    /// What chkconfig reported.
    pub kind: ServiceKind,
    /// The runbook's advice, if it has any for this service.
    pub advice: Option<ServiceAdvice>,
    /// The technician's choice: `Some(true)` turn on, `Some(false)` turn off, `None` leave.
    pub wanted: Option<bool>,
}

impl ServiceRow {
    /// Locked rows cannot be changed.
    pub fn is_locked(&self) -> bool {
        self.advice
            .as_ref()
            .is_some_and(|a| a.advice == Advice::Locked)
    }

    /// On in every one of `levels` (xinetd: enabled).
    pub fn is_on(&self, levels: &str) -> bool {
        match self.kind {
            ServiceKind::Sysv(l) => level_digits(levels).all(|n| l[n]),
            ServiceKind::Xinetd(on) => on,
        }
    }

    /// Off in every one of `levels` (xinetd: disabled).
    pub fn is_off(&self, levels: &str) -> bool {
        match self.kind {
            ServiceKind::Sysv(l) => level_digits(levels).all(|n| !l[n]),
            ServiceKind::Xinetd(on) => !on,
        }
    }

    /// True when following the choice would change nothing.
    fn already(&self, on: bool, levels: &str) -> bool {
        if on {
            self.is_on(levels)
        } else {
            self.is_off(levels)
        }
    }
}

/// Why a toggle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToggleRefused {
    /// The runbook says never to touch this service.
    #[error("{name} is locked: {reason}")]
    Locked {
        /// The service.
        name: String,
        /// The warning to show.
        reason: String,
    },
    /// No such row (a stale index).
    #[error("no service at row {0}")]
    NoRow(usize),
}

/// The Services screen's model: every service, its advice and the technician's choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceTable {
    /// Runlevels changes apply to (`"2345"`).
    pub levels: String,
    /// SysV services first, then xinetd services, each in chkconfig's order.
    pub rows: Vec<ServiceRow>,
}

impl ServiceTable {
    /// Builds the table from a listing and the advice; nothing is chosen yet.
    pub fn new(list: &ChkconfigList, policy: &ServicePolicy) -> ServiceTable {
        let sysv = list.services.iter().map(|s| ServiceRow {
            name: s.name.clone(),
            kind: ServiceKind::Sysv(s.levels),
            advice: policy.advice_for(&s.name),
            wanted: None,
        });
        let xinetd = list.xinetd.iter().map(|s| ServiceRow {
            name: s.name.clone(),
            kind: ServiceKind::Xinetd(s.on),
            advice: policy.advice_for(&s.name),
            wanted: None,
        });
        ServiceTable {
            levels: policy.levels.clone(),
            rows: sysv.chain(xinetd).collect(),
        }
    }

    /// Flips row `index` between on and off (what Space does). A choice that matches the
    /// current state is dropped, so toggling twice leaves nothing to apply.
    pub fn toggle(&mut self, index: usize) -> Result<(), ToggleRefused> {
        let levels = self.levels.clone();
        let row = self
            .rows
            .get_mut(index)
            .ok_or(ToggleRefused::NoRow(index))?;
        if let Some(a) = row.advice.as_ref().filter(|a| a.advice == Advice::Locked) {
            return Err(ToggleRefused::Locked {
                name: row.name.clone(),
                reason: a.reason.clone(),
            });
        }
        let effective = row.wanted.unwrap_or(!row.is_off(&levels));
        let next = !effective;
        row.wanted = (!row.already(next, &levels)).then_some(next);
        Ok(())
    }

    /// Sets every row the runbook clearly advises on (`off` and `on`, not `maybe off`), where
    /// that changes something. Existing choices for other rows are kept.
    pub fn follow_advice(&mut self) {
        let levels = self.levels.clone();
        for row in &mut self.rows {
            let on = match row.advice.as_ref().map(|a| a.advice) {
                Some(Advice::Off) => false,
                Some(Advice::On) => true,
                _ => continue,
            };
            row.wanted = (!row.already(on, &levels)).then_some(on);
        }
    }

    /// Forgets every choice.
    pub fn clear_choices(&mut self) {
        for row in &mut self.rows {
            row.wanted = None;
        }
    }

    /// The exact commands that carry out the choices, in table order:
    /// `chkconfig --level 2345 NAME off|on` (xinetd services: `chkconfig NAME off|on`).
    pub fn commands(&self) -> Vec<Vec<String>> {
        self.plan().into_iter().map(|(argv, _)| argv).collect()
    }

    /// The commands of [`Self::commands`], each with the condition its advice depends on
    /// (`unless` of the advice file: "you use iSCSI"), for plans that must say so.
    pub fn plan(&self) -> Vec<(Vec<String>, Option<String>)> {
        self.rows
            .iter()
            .filter(|r| !r.is_locked())
            .filter_map(|r| {
                let state = if r.wanted? { "on" } else { "off" };
                let unless = r.advice.as_ref().and_then(|a| a.unless.clone());
                Some((
                    match r.kind {
                        ServiceKind::Sysv(_) => vec![
                            "chkconfig".to_string(),
                            "--level".to_string(),
                            self.levels.clone(),
                            r.name.clone(),
                            state.to_string(),
                        ],
                        ServiceKind::Xinetd(_) => {
                            vec!["chkconfig".to_string(), r.name.clone(), state.to_string()]
                        }
                    },
                    unless,
                ))
            })
            .collect()
    }

    /// Compares a fresh listing with the choices: the names of services that are not in the
    /// wanted state (or vanished). Empty means every change took.
    pub fn verify(&self, after: &ChkconfigList) -> Vec<String> {
        let policy_free = ServicePolicy {
            levels: self.levels.clone(),
            lock_names_containing: Vec::new(),
            lock_reason: String::new(),
            services: Vec::new(),
        };
        let fresh = ServiceTable::new(after, &policy_free);
        self.rows
            .iter()
            .filter_map(|r| {
                let on = r.wanted?;
                let ok = fresh
                    .rows
                    .iter()
                    .find(|f| f.name == r.name)
                    .is_some_and(|f| f.already(on, &self.levels));
                (!ok).then(|| r.name.clone())
            })
            .collect()
    }

    /// Keeps the choices of `self` on a table rebuilt from a fresh listing, dropping those
    /// that are now done: what the screen shows after Apply and refresh.
    pub fn refreshed(&self, after: &ChkconfigList, policy: &ServicePolicy) -> ServiceTable {
        let mut fresh = ServiceTable::new(after, policy);
        for row in &mut fresh.rows {
            if let Some(on) = self
                .rows
                .iter()
                .find(|r| r.name == row.name)
                .and_then(|r| r.wanted)
            {
                row.wanted = (!row.already(on, &fresh.levels)).then_some(on);
            }
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::chkconfig;
    use super::*;

    #[test]
    fn levels_read_as_chkconfig_shows_them() {
        let mut l = [false; 7];
        l[2..6].fill(true);
        assert_eq!(ServiceKind::Sysv(l).levels_text(), "--2345-");
        assert_eq!(ServiceKind::Sysv([false; 7]).levels_text(), "-------");
        assert_eq!(ServiceKind::Xinetd(true).levels_text(), "xinetd:on");
        assert_eq!(ServiceKind::Xinetd(false).levels_text(), "xinetd:off");
    }

    /// The listing from the article, as pasted (spaces, not tabs).
    const ARTICLE: &str = "\
acpid           0:off   1:off   2:on    3:on    4:on    5:on    6:off
avahi-daemon    0:off   1:off   2:off   3:on    4:on    5:on    6:off
iscsid          0:off   1:off   2:on    3:on    4:on    5:on    6:off
ldap            0:off   1:off   2:off   3:on    4:on    5:on    6:off
openldap-sync   0:off   1:off   2:off   3:on    4:on    5:on    6:off
snmpd           0:off   1:off   2:off   3:off   4:off   5:off   6:off
sshd            0:off   1:off   2:on    3:on    4:on    5:on    6:off

xinetd based services:
        tftp:           on
";

    fn table() -> ServiceTable {
        ServiceTable::new(
            &chkconfig::parse(ARTICLE),
            &ServicePolicy::clearos().unwrap(),
        )
    }

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn builtin_advice_loads_and_covers_the_article() {
        let p = ServicePolicy::clearos().unwrap();
        assert_eq!(p.levels, "2345");
        for name in [
            "avahi-daemon",
            "avahi-dnsconfd",
            "haldaemon",
            "iscsi",
            "iscsid",
            "kudzu",
            "lvm2-monitor",
            "messagebus",
            "netfs",
        ] {
            assert_eq!(p.advice_for(name).unwrap().advice, Advice::Off, "{name}");
        }
        for name in ["suvad", "lm_sensors", "cpuspeed", "acpid"] {
            assert_eq!(
                p.advice_for(name).unwrap().advice,
                Advice::MaybeOff,
                "{name}"
            );
        }
        assert_eq!(p.advice_for("snmpd").unwrap().advice, Advice::On);
        assert_eq!(p.advice_for("ldap").unwrap().advice, Advice::Locked);
        assert_eq!(p.advice_for("ldapsync").unwrap().advice, Advice::Locked);
        assert!(p.advice_for("sshd").is_none());
        for a in &p.services {
            assert!(!a.reason.is_empty(), "{}", a.name);
        }
    }

    #[test]
    fn bad_advice_files_are_located() {
        let err = ServicePolicy::from_toml("levels = \"2345\"\n[[service]]\nname = 1\n", "x.toml")
            .unwrap_err();
        assert!(err.to_string().starts_with("x.toml:3:"), "{err}");
        let err = ServicePolicy::from_toml("levels = \"28\"\n", "x.toml").unwrap_err();
        assert!(err.message.contains("digits"), "{err}");
    }

    #[test]
    fn toggles_produce_the_exact_commands() {
        let mut t = table();
        t.toggle(2).unwrap(); // iscsid on -> off
        t.toggle(5).unwrap(); // snmpd off -> on
        t.toggle(7).unwrap(); // tftp (xinetd) on -> off
        assert_eq!(
            t.commands(),
            [
                argv("chkconfig --level 2345 iscsid off"),
                argv("chkconfig --level 2345 snmpd on"),
                argv("chkconfig tftp off"),
            ]
        );
        t.toggle(2).unwrap();
        assert_eq!(t.commands().len(), 2, "toggling twice leaves nothing to do");
    }

    #[test]
    fn a_half_on_service_toggles_off_then_on() {
        let mut t = table();
        t.toggle(1).unwrap(); // avahi-daemon: off in 2, on in 3-5
        assert_eq!(
            t.commands(),
            [argv("chkconfig --level 2345 avahi-daemon off")]
        );
        t.toggle(1).unwrap();
        assert_eq!(
            t.commands(),
            [argv("chkconfig --level 2345 avahi-daemon on")]
        );
    }

    #[test]
    fn ldap_services_are_locked() {
        let mut t = table();
        let err = t.toggle(3).unwrap_err();
        assert!(
            err.to_string()
                .contains("ClearOS manages the user accounts"),
            "{err}"
        );
        let err = t.toggle(4).unwrap_err();
        assert!(
            matches!(err, ToggleRefused::Locked { .. }),
            "pattern lock: {err}"
        );
        assert!(t.commands().is_empty());
        assert_eq!(t.toggle(99), Err(ToggleRefused::NoRow(99)));
    }

    #[test]
    fn following_the_advice() {
        let mut t = table();
        t.follow_advice();
        assert_eq!(
            t.commands(),
            [
                argv("chkconfig --level 2345 avahi-daemon off"),
                argv("chkconfig --level 2345 iscsid off"),
                argv("chkconfig --level 2345 snmpd on"),
            ]
        );
        t.clear_choices();
        assert!(t.commands().is_empty());
    }

    #[test]
    fn verify_against_a_fresh_listing() {
        let mut t = table();
        t.toggle(2).unwrap();
        t.toggle(5).unwrap();
        let after = ARTICLE
            .replace(
                "iscsid          0:off   1:off   2:on    3:on    4:on    5:on",
                "iscsid          0:off   1:off   2:off   3:off   4:off   5:off",
            )
            .replace(
                "snmpd           0:off   1:off   2:off   3:off",
                "snmpd 0:off 1:off 2:on 3:on",
            );
        let after = chkconfig::parse(&after);
        assert_eq!(t.verify(&after), ["snmpd"], "snmpd is only on in 2 and 3");
        let policy = ServicePolicy::clearos().unwrap();
        let fresh = t.refreshed(&after, &policy);
        assert_eq!(fresh.commands(), [argv("chkconfig --level 2345 snmpd on")]);
        assert_eq!(t.verify(&chkconfig::parse("")), ["iscsid", "snmpd"]);
    }
}
