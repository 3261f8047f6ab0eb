//! Typed runbook variables: what a technician may type for each type, and how a value is
//! substituted into commands and file edits.
//!
//! Substitution never goes through a shell: a `{name}` inside one argv element is replaced by the
//! value, and the element stays exactly one argument whatever the value contains.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The kinds of value a runbook can ask for. Each has its own validation so a bad address is
/// caught in the form, not by the tool that would have received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VarType {
    /// Any single line of text.
    Text,
    /// An IPv4 or IPv6 address.
    Ip,
    /// An address with a prefix length, e.g. `192.168.1.0/24`.
    Cidr,
    /// A dotted IPv4 netmask with contiguous one bits, e.g. `255.255.255.0`.
    Netmask,
    /// An Ethernet MAC address, `00:16:3e:12:34:56`.
    Mac,
    /// A host name (RFC 1123 labels).
    Hostname,
    /// A network interface or bridge name as Linux allows it: 1 to 15 of `A-Z a-z 0-9 _ . : -`.
    Interface,
    /// A TCP/UDP port, 1-65535.
    Port,
    /// A file-system path.
    Path,
    /// One of the values listed in `choices`.
    Choice,
    /// Text that is masked on screen and never written to the state file.
    Secret,
}

impl VarType {
    /// The name used in runbook files and messages.
    pub fn name(self) -> &'static str {
        match self {
            VarType::Text => "text",
            VarType::Ip => "ip",
            VarType::Cidr => "cidr",
            VarType::Netmask => "netmask",
            VarType::Mac => "mac",
            VarType::Hostname => "hostname",
            VarType::Interface => "interface",
            VarType::Port => "port",
            VarType::Path => "path",
            VarType::Choice => "choice",
            VarType::Secret => "secret",
        }
    }

    /// Checks `value` for this type; the error is a sentence shown under the field or printed
    /// by `check`, so it says what was expected.
    pub fn validate(self, value: &str, choices: &[String]) -> Result<(), String> {
        if value.contains(char::is_control) {
            return Err("must be a single line without control characters".into());
        }
        match self {
            VarType::Text | VarType::Secret => Ok(()),
            VarType::Ip => match value.parse::<IpAddr>() {
                Ok(ip) => host_address(ip).map_err(|why| format!("'{value}' is {why}")),
                Err(_) => Err(format!("'{value}' is not an IPv4 or IPv6 address")),
            },
            VarType::Cidr => value
                .parse::<ipnet::IpNet>()
                .map(|_| ())
                .map_err(|_| format!("'{value}' is not an address/prefix such as 192.168.1.0/24")),
            VarType::Netmask => validate_netmask(value),
            VarType::Mac => validate_mac(value),
            VarType::Hostname => validate_hostname(value),
            VarType::Interface => validate_interface(value),
            VarType::Port => match value.parse::<u16>() {
                Ok(p) if p > 0 => Ok(()),
                _ => Err(format!("'{value}' is not a port number from 1 to 65535")),
            },
            VarType::Path => {
                if value.is_empty() {
                    Err("a path cannot be empty".into())
                } else {
                    Ok(())
                }
            }
            VarType::Choice => {
                if choices.iter().any(|c| c == value) {
                    Ok(())
                } else {
                    Err(format!("'{value}' is not one of: {}", choices.join(", ")))
                }
            }
        }
    }
}

/// An `ip` variable is a machine's address on a network (a router's LAN address, a gateway):
/// addresses that cannot be one are refused with what they are instead.
fn host_address(ip: IpAddr) -> Result<(), &'static str> {
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    if ip.is_unspecified() {
        Err("the unspecified address (\"any\"), not a machine's address")
    } else if broadcast {
        Err("the broadcast address, not a machine's address")
    } else if ip.is_multicast() {
        Err("a multicast group, not a machine's address")
    } else if ip.is_loopback() {
        Err("a loopback address: it never leaves this machine")
    } else {
        Ok(())
    }
}

/// Accepts only dotted IPv4 masks whose one bits are contiguous from the left.
pub fn validate_netmask(value: &str) -> Result<(), String> {
    let addr: std::net::Ipv4Addr = value
        .parse()
        .map_err(|_| format!("'{value}' is not a dotted netmask such as 255.255.255.0"))?;
    let bits = u32::from(addr);
    if bits.leading_ones() + bits.trailing_zeros() == 32 {
        Ok(())
    } else {
        Err(format!(
            "'{value}' is not a valid netmask: its one bits must be contiguous (e.g. 255.255.255.0)"
        ))
    }
}

fn validate_mac(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split(':').collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{value}' is not a MAC address such as 00:16:3e:12:34:56 (Xen guests use 00:16:3e)"
        ))
    }
}

fn validate_interface(value: &str) -> Result<(), String> {
    let ok = (1..=15).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{value}' is not an interface name: 1 to 15 letters, digits, '_', '.', ':' or '-' \
             (e.g. eth0, xenbr0)"
        ))
    }
}

fn validate_hostname(value: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !value.is_empty() && value.len() <= 253 && value.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!(
            "'{value}' is not a host name (letters, digits and '-', dot-separated)"
        ))
    }
}

/// One part of a `{name}` template, as [`scan`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// Text to keep as written (a `{{` or `}}` escape ends in its single brace).
    Text(&'a str),
    /// A variable reference `{name}` starting at byte offset `at` of the template.
    Var { at: usize, name: &'a str },
    /// A part of a `cidr` variable's value, `{name.address}` or `{name.prefix}`, starting at
    /// byte offset `at`.
    CidrPart {
        at: usize,
        name: &'a str,
        part: CidrPart,
    },
}

/// A part of an `address/prefix` value that a template can name on its own, for tools that
/// print them apart (`ifconfig` shows `inet 10.0.0.2  netmask ...`, not `10.0.0.2/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CidrPart {
    /// `{name.address}`: `10.0.0.2` of `10.0.0.2/24`.
    Address,
    /// `{name.prefix}`: `24` of `10.0.0.2/24`.
    Prefix,
}

impl CidrPart {
    fn parse(word: &str) -> Option<CidrPart> {
        match word {
            "address" => Some(CidrPart::Address),
            "prefix" => Some(CidrPart::Prefix),
            _ => None,
        }
    }

    /// The word after the dot.
    pub fn name(self) -> &'static str {
        match self {
            CidrPart::Address => "address",
            CidrPart::Prefix => "prefix",
        }
    }

    /// This part of `value` (a value without `/` is all address and no prefix).
    pub fn of(self, value: &str) -> &str {
        let (address, prefix) = value.split_once('/').unwrap_or((value, ""));
        match self {
            CidrPart::Address => address,
            CidrPart::Prefix => prefix,
        }
    }

    /// Its index in the value split at `/`, for a Jinja expression (`[0]`, `[-1]`).
    pub fn split_index(self) -> i32 {
        match self {
            CidrPart::Address => 0,
            CidrPart::Prefix => -1,
        }
    }
}

/// What is between a template's braces, when it is a reference: a variable name, or a name
/// and one of its [`CidrPart`]s.
fn reference(inner: &str) -> Option<(&str, Option<CidrPart>)> {
    if is_var_name(inner) {
        return Some((inner, None));
    }
    let (name, word) = inner.split_once('.')?;
    let part = CidrPart::parse(word)?;
    is_var_name(name).then_some((name, Some(part)))
}

/// The one `{name}` scanner, used by substitution, `check` and the Ansible export: `{{` and
/// `}}` are literal braces, a brace written right after a `$` in the template (`${...}`) is
/// left for the shell, and only identifiers are variables. Whether a brace follows a `$` is
/// decided by the template alone, never by a value substituted before it.
pub fn scan<'a>(template: &'a str) -> Vec<Part<'a>> {
    let mut parts = Vec::new();
    let bytes = template.as_bytes();
    let (mut i, mut text) = (0, 0);
    let flush = |parts: &mut Vec<Part<'a>>, from: usize, to: usize| {
        if to > from {
            parts.push(Part::Text(&template[from..to]));
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'}' if bytes.get(i + 1) == Some(&bytes[i]) => {
                flush(&mut parts, text, i + 1);
                i += 2;
                text = i;
            }
            b'{' if i > 0 && bytes[i - 1] == b'$' => i += 1,
            b'{' => match template[i + 1..].find('}') {
                Some(len) => {
                    if let Some((name, part)) = reference(&template[i + 1..i + 1 + len]) {
                        flush(&mut parts, text, i);
                        parts.push(match part {
                            None => Part::Var { at: i, name },
                            Some(part) => Part::CidrPart { at: i, name, part },
                        });
                        text = i + len + 2;
                    }
                    i += len + 2;
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    flush(&mut parts, text, bytes.len());
    parts
}

/// Replaces every `{name}` in `template` with its value. Unknown names are left as written so a
/// missing value is visible rather than silently empty; `{{` and `}}` give literal braces.
pub fn substitute(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    for part in scan(template) {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Var { name, .. } => match values.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
            Part::CidrPart { name, part, .. } => match values.get(name) {
                Some(v) => out.push_str(part.of(v)),
                None => out.push_str(&format!("{{{name}.{}}}", part.name())),
            },
        }
    }
    out
}

/// The variable names a template refers to, with their byte offsets in the template (for
/// `check` to point at the undeclared one); `{name.address}` refers to `name`.
pub fn references(template: &str) -> Vec<(usize, String)> {
    scan(template)
        .into_iter()
        .filter_map(|p| match p {
            Part::Var { at, name } | Part::CidrPart { at, name, .. } => {
                Some((at, name.to_string()))
            }
            Part::Text(_) => None,
        })
        .collect()
}

/// The `{name.address}` / `{name.prefix}` references of a template, with their offsets (for
/// `check` to refuse them on a variable that is not a `cidr`).
pub fn cidr_part_references(template: &str) -> Vec<(usize, String, CidrPart)> {
    scan(template)
        .into_iter()
        .filter_map(|p| match p {
            Part::CidrPart { at, name, part } => Some((at, name.to_string(), part)),
            Part::Var { .. } | Part::Text(_) => None,
        })
        .collect()
}

/// Variable names are identifiers: letters, digits and `_`, not starting with a digit. Anything
/// else between braces (JSON, a `{a b}`) is left alone, and so is a shell `${...}`.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitution_keeps_hostile_text_literal() {
        let v = vals(&[("atom", "; rm -rf / $(reboot) \"quoted\" 'single'")]);
        assert_eq!(
            substitute("{atom}", &v),
            "; rm -rf / $(reboot) \"quoted\" 'single'"
        );
    }

    #[test]
    fn substitution_inside_text_and_escapes() {
        let v = vals(&[("mac", "00:16:3e:00:00:01")]);
        assert_eq!(
            substitute("mac={mac},bridge=xenbr0 {{x}} {unknown}", &v),
            "mac=00:16:3e:00:00:01,bridge=xenbr0 {x} {unknown}"
        );
    }

    /// `{a}{b}` where a's value ends in `$`: b is still a variable, because the template has no
    /// `$` before its brace (substitution used to read its own output and leave `{b}` as
    /// written, while `check` and the export called it a variable).
    #[test]
    fn a_value_ending_in_dollar_does_not_hide_the_next_variable() {
        let v = vals(&[("a", "x$"), ("b", "y")]);
        assert_eq!(substitute("{a}{b}", &v), "x$y");
        assert_eq!(
            scan("{a}{b}"),
            vec![
                Part::Var { at: 0, name: "a" },
                Part::Var { at: 3, name: "b" }
            ]
        );
        assert_eq!(substitute("${b}{a}", &v), "${b}x$");
    }

    #[test]
    fn scan_splits_text_escapes_and_variables() {
        assert_eq!(
            scan("x={{y}} {gw} ${HOME} {a b}"),
            vec![
                Part::Text("x={"),
                Part::Text("y}"),
                Part::Text(" "),
                Part::Var { at: 8, name: "gw" },
                Part::Text(" ${HOME} {a b}"),
            ]
        );
    }

    /// `{name.address}` and `{name.prefix}` name the parts of an `address/prefix` value; any
    /// other word after the dot leaves the braces as written, as before.
    #[test]
    fn a_cidr_value_has_an_address_and_a_prefix() {
        let v = vals(&[("net", "192.168.10.2/24")]);
        assert_eq!(
            substitute(
                "inet {net.address}  netmask; /{net.prefix} {net} {net.mask} {x.address}",
                &v
            ),
            "inet 192.168.10.2  netmask; /24 192.168.10.2/24 {net.mask} {x.address}"
        );
        assert_eq!(
            scan("a{net.prefix}"),
            vec![
                Part::Text("a"),
                Part::CidrPart {
                    at: 1,
                    name: "net",
                    part: CidrPart::Prefix
                }
            ]
        );
        assert_eq!(
            references("{net.address} {y}"),
            vec![(0, "net".into()), (14, "y".into())]
        );
        assert_eq!(
            cidr_part_references("{net.address} {y}"),
            vec![(0, "net".into(), CidrPart::Address)]
        );
    }

    #[test]
    fn references_skip_shell_and_escapes() {
        let refs = references("echo ${HOME} {{lit}} {gw} {a b}");
        assert_eq!(refs, vec![(21, "gw".to_string())]);
    }

    #[test]
    fn netmask_must_be_contiguous() {
        assert!(validate_netmask("255.255.255.0").is_ok());
        assert!(validate_netmask("0.0.0.0").is_ok());
        assert!(validate_netmask("255.255.255.255").is_ok());
        assert!(validate_netmask("255.255.0.255").is_err());
        assert!(validate_netmask("255.255.256.0").is_err());
    }

    #[test]
    fn each_type_rejects_bad_input() {
        let none: &[String] = &[];
        assert!(VarType::Ip.validate("10.0.0.1", none).is_ok());
        assert!(VarType::Ip.validate("fe80::1", none).is_ok());
        assert!(VarType::Ip.validate("10.0.0.256", none).is_err());
        assert!(VarType::Cidr.validate("10.0.0.0/8", none).is_ok());
        assert!(VarType::Cidr.validate("10.0.0.0/33", none).is_err());
        assert!(VarType::Mac.validate("00:16:3e:aa:bb:cc", none).is_ok());
        assert!(VarType::Mac.validate("00:16:3e:aa:bb", none).is_err());
        assert!(VarType::Hostname.validate("router-1.example", none).is_ok());
        assert!(VarType::Hostname.validate("-bad", none).is_err());
        assert!(VarType::Port.validate("161", none).is_ok());
        assert!(VarType::Port.validate("0", none).is_err());
        assert!(VarType::Port.validate("70000", none).is_err());
        assert!(VarType::Path.validate("", none).is_err());
        assert!(VarType::Text.validate("two\nlines", none).is_err());
        // Issue 17 item 6: `text` refuses every control character, as its message says.
        for c in ['\u{1b}', '\u{b}', '\u{7}', '\t', '\u{7f}', '\u{9b}'] {
            let msg = VarType::Text.validate(&format!("a{c}b"), none).unwrap_err();
            assert!(msg.contains("control characters"), "{c:?}: {msg}");
        }
        for ok in ["eth0", "xenbr0", "eth0.1", "br-lan", "wlan0:1", "a_b"] {
            assert!(VarType::Interface.validate(ok, none).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "eth0=(\"null\");touch${IFS}pwned;x",
            "sixteen-chars-xx",
            "eth 0",
            "eth0'",
            "é0",
        ] {
            assert!(VarType::Interface.validate(bad, none).is_err(), "{bad}");
        }
        let choices = vec!["on".to_string(), "off".to_string()];
        assert!(VarType::Choice.validate("on", &choices).is_ok());
        assert!(VarType::Choice.validate("maybe", &choices).is_err());
    }
}
