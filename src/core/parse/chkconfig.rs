//! `chkconfig --list` (RHEL/CentOS 5 to 7, ClearOS): which SysV services start in which
//! runlevel, plus the xinetd-based services section.
//!
//! The real format (chkconfig 1.3.30.2, checked against the binary): each service line is
//! `printf("%-15s", name)` then `"\t%d:%s"` for levels 0–6; a name of 15 characters or more is
//! not padded. When xinetd is on somewhere, a blank line, `xinetd based services:` and one
//! `"\t%-15s\t%s"` line per service (`name:` padded) follow. Copies pasted from a web page
//! have spaces instead of tabs, so fields are split on any whitespace.

use serde::Serialize;

use super::is_plain_name;

/// One SysV service and whether it starts in each runlevel 0–6.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SysvService {
    /// The init script's name (`/etc/rc.d/init.d/NAME`).
    pub name: String,
    /// `levels[n]` is true when the service starts in runlevel `n`.
    pub levels: [bool; 7],
}

impl SysvService {
    #[cfg(test)]
    /// True when the service starts in every one of `levels` (digits such as `"2345"`).
    /// Digits outside 0–6 are ignored.
    pub fn on_in_all(&self, levels: &str) -> bool {
        level_digits(levels).all(|n| self.levels[n])
    }

    #[cfg(test)]
    /// True when the service starts in none of `levels`.
    pub fn off_in_all(&self, levels: &str) -> bool {
        level_digits(levels).all(|n| !self.levels[n])
    }
}

/// The runlevel numbers in a `--level` argument such as `"2345"`.
pub fn level_digits(levels: &str) -> impl Iterator<Item = usize> + '_ {
    levels
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| d as usize)
        .filter(|&d| d < 7)
}

/// One xinetd-based service (on or off as a whole; xinetd starts it on demand).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XinetdService {
    /// The name in `/etc/xinetd.d/`.
    pub name: String,
    /// Enabled in xinetd.
    pub on: bool,
}

/// Everything `chkconfig --list` said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChkconfigList {
    /// SysV services in the order printed (chkconfig sorts them with `strcmp`).
    pub services: Vec<SysvService>,
    /// xinetd-based services, in the order printed.
    pub xinetd: Vec<XinetdService>,
    /// Non-blank lines that were not understood, with their 1-based line number, so the screen
    /// can show them instead of silently dropping a service (EL7 prints a systemd note).
    pub unrecognised: Vec<(usize, String)>,
}

impl ChkconfigList {
    /// The SysV service called `name`.
    pub fn service(&self, name: &str) -> Option<&SysvService> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// Parses the output of `chkconfig --list` (or `chkconfig --list NAME`). Never fails: lines it
/// cannot read are returned in [`ChkconfigList::unrecognised`].
pub fn parse(output: &str) -> ChkconfigList {
    let mut list = ChkconfigList::default();
    let mut in_xinetd = false;
    for (i, line) in output.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if line.trim() == "xinetd based services:" {
            in_xinetd = true;
            continue;
        }
        if let Some(service) = sysv_line(&fields) {
            list.services.push(service);
        } else if let Some(service) = xinetd_line(&fields, in_xinetd) {
            list.xinetd.push(service);
        } else {
            list.unrecognised.push((i + 1, line.to_string()));
        }
    }
    list
}

/// `name 0:off 1:off ... 6:off`: exactly the seven levels, in order.
fn sysv_line(fields: &[&str]) -> Option<SysvService> {
    let (name, rest) = fields.split_first()?;
    if !is_plain_name(name) || rest.len() != 7 {
        return None;
    }
    let mut levels = [false; 7];
    for (n, field) in rest.iter().enumerate() {
        let (level, state) = field.split_once(':')?;
        if level != n.to_string() {
            return None;
        }
        levels[n] = on_off(state)?;
    }
    Some(SysvService {
        name: (*name).to_string(),
        levels,
    })
}

/// `name: on` inside the xinetd section, or `name off` as `chkconfig --list NAME` prints one
/// xinetd service on its own.
fn xinetd_line(fields: &[&str], in_section: bool) -> Option<XinetdService> {
    let [name, state] = fields else {
        return None;
    };
    let name = match name.strip_suffix(':') {
        Some(n) if in_section => n,
        Some(_) => return None,
        None if !in_section => name,
        None => return None,
    };
    if !is_plain_name(name) {
        return None;
    }
    Some(XinetdService {
        name: name.to_string(),
        on: on_off(state)?,
    })
}

fn on_off(state: &str) -> Option<bool> {
    match state {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{fuzz, transcript};
    use super::*;

    const REAL: &str = include_str!("../../../tests/fixtures/real-output/chkconfig-1.3.30.2.txt");

    fn levels(s: &str) -> [bool; 7] {
        let mut l = [false; 7];
        for (i, c) in s.chars().enumerate() {
            l[i] = c == '1';
        }
        l
    }

    #[test]
    fn real_list_with_xinetd_section() {
        let out = transcript::stdout(REAL, "chkconfig --list", 0);
        let list = parse(&out);
        let names: Vec<_> = list.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "NetworkManager",
                "a-very-long-service-name",
                "cups",
                "iptables",
                "network",
                "sshd",
                "xinetd"
            ]
        );
        assert_eq!(list.service("cups").unwrap().levels, levels("0011110"));
        assert_eq!(
            list.service("a-very-long-service-name").unwrap().levels,
            levels("0001110")
        );
        assert_eq!(
            list.service("NetworkManager").unwrap().levels,
            levels("0000000")
        );
        assert_eq!(
            list.xinetd,
            [
                XinetdService {
                    name: "rsync".into(),
                    on: false
                },
                XinetdService {
                    name: "tftp".into(),
                    on: true
                }
            ]
        );
        assert!(list.unrecognised.is_empty(), "{:?}", list.unrecognised);
    }

    #[test]
    fn real_list_after_changes() {
        let out = transcript::stdout(REAL, "chkconfig --list", 1);
        let list = parse(&out);
        assert!(list.service("cups").is_none());
        assert_eq!(list.services.len(), 6);
        assert_eq!(
            list.xinetd[1],
            XinetdService {
                name: "tftp".into(),
                on: false
            }
        );
    }

    #[test]
    fn real_single_service_queries() {
        let sshd = parse(&transcript::stdout(REAL, "chkconfig --list sshd", 1));
        assert_eq!(sshd.services[0].levels, levels("0000000"));
        assert!(sshd.services[0].off_in_all("2345"));
        let cups = parse(&transcript::stdout(REAL, "chkconfig --list cups", 0));
        assert_eq!(cups.services[0].levels, levels("0010100"));
        assert!(!cups.services[0].on_in_all("2345") && !cups.services[0].off_in_all("2345"));
        let rsync = parse(&transcript::stdout(REAL, "chkconfig --list rsync", 0));
        assert_eq!(
            rsync.xinetd,
            [XinetdService {
                name: "rsync".into(),
                on: false
            }]
        );
        assert!(rsync.services.is_empty() && rsync.unrecognised.is_empty());
    }

    #[test]
    fn pasted_copy_with_spaces_and_a_systemd_note() {
        let text = "acpid           0:off   1:off   2:on    3:on    4:on    5:on    6:off\n\
                    \nNote: This output shows SysV services only and does not include native\n\
                    dansguardian-av 0:off   1:off   2:off   3:off   4:off   5:off   6:off\n";
        let list = parse(text);
        assert_eq!(list.services.len(), 2);
        assert!(list.services[0].on_in_all("2345"));
        assert_eq!(list.unrecognised.len(), 1);
        assert_eq!(list.unrecognised[0].0, 3);
    }

    #[test]
    fn malformed_lines_are_set_aside() {
        for bad in [
            "sshd 0:off 1:off 2:on 3:on 4:on 5:on",
            "sshd 0:off 1:off 2:on 3:on 4:on 5:on 6:maybe",
            "sshd 1:off 0:off 2:on 3:on 4:on 5:on 6:off",
            "ss\u{1b}hd 0:off 1:off 2:on 3:on 4:on 5:on 6:off",
        ] {
            let list = parse(bad);
            assert!(list.services.is_empty(), "{bad:?}");
            assert_eq!(list.unrecognised.len(), 1, "{bad:?}");
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let sample = transcript::stdout(REAL, "chkconfig --list", 0);
        for input in fuzz::inputs(&sample, 3000, 7) {
            let list = parse(&input);
            for s in &list.services {
                assert!(is_plain_name(&s.name));
            }
        }
    }
}
