//! Subnet maths for the calculator screen and `fieldbook subnet`, following the "IP Subnets and
//! Netmasks Demystified" article: the mask laid over the address in binary, network and
//! broadcast, usable hosts, the historic class, and whether a neighbour is local or behind the
//! gateway. Netmask validation is `core::vars`' (one rule for forms and calculator).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::Ipv6Net;
use serde::Serialize;

use super::vars;

/// An IPv4 address with its subnet, and everything the article derives from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subnet4 {
    /// The address as typed.
    pub address: Ipv4Addr,
    /// Prefix length (number of one bits in the mask).
    pub prefix: u8,
    /// Dotted netmask.
    pub netmask: Ipv4Addr,
    /// The mask's zero bits (what ACLs and `snmpd.conf`-style wildcards use).
    pub wildcard: Ipv4Addr,
    /// Lowest address: names the subnet in routes.
    pub network: Ipv4Addr,
    /// Highest address: reaches every host on the subnet.
    pub broadcast: Ipv4Addr,
    /// First address a host may use (`None` for /31, where the article says "unusable").
    pub first_usable: Option<Ipv4Addr>,
    /// Last address a host may use.
    pub last_usable: Option<Ipv4Addr>,
    /// Addresses in the subnet (2^(32-prefix)).
    pub total: u64,
    /// Addresses a host may use (total − 2, with the /31 and /32 exceptions).
    pub usable: u64,
    /// Historic class of the address (before CIDR).
    pub class: Class,
    /// A sentence for the /31 and /32 special cases, `None` otherwise.
    pub note: Option<String>,
}

/// Pre-CIDR address classes, decided by the leading bits of the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Class {
    /// 0.0.0.0–127.255.255.255, default mask /8.
    A,
    /// 128.0.0.0–191.255.255.255, default mask /16.
    B,
    /// 192.0.0.0–223.255.255.255, default mask /24.
    C,
    /// 224.0.0.0–239.255.255.255, multicast.
    D,
    /// 240.0.0.0–255.255.255.255, reserved.
    E,
}

impl Class {
    /// The class of an address.
    pub fn of(addr: Ipv4Addr) -> Class {
        match addr.octets()[0] {
            0..=127 => Class::A,
            128..=191 => Class::B,
            192..=223 => Class::C,
            224..=239 => Class::D,
            _ => Class::E,
        }
    }

    /// A short description for the calculator.
    pub fn describe(self) -> &'static str {
        match self {
            Class::A => "A (historic default /8)",
            Class::B => "B (historic default /16)",
            Class::C => "C (historic default /24)",
            Class::D => "D (multicast)",
            Class::E => "E (reserved)",
        }
    }
}

/// Parses the calculator's input: `ADDR/PREFIX`, `ADDR/NETMASK`, or `ADDR` with the mask or
/// prefix given separately. Errors are sentences for the technician.
pub fn parse4(address: &str, mask: Option<&str>) -> Result<Subnet4, String> {
    let address = address.trim();
    let (addr_text, inline) = match address.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (address, None),
    };
    let mask_text = match (inline, mask) {
        (Some(_), Some(_)) => {
            return Err("give the mask either after a slash or separately, not both".into());
        }
        (Some(m), None) | (None, Some(m)) => m.trim(),
        (None, None) => {
            return Err(format!(
                "'{address}' needs a prefix or netmask, e.g. {address}/24 or {address} 255.255.255.0"
            ));
        }
    };
    let addr: Ipv4Addr = addr_text
        .parse()
        .map_err(|_| format!("'{addr_text}' is not an IPv4 address such as 192.168.1.10"))?;
    let prefix = parse_mask(mask_text)?;
    Ok(subnet4(addr, prefix))
}

/// A prefix length `0`–`32` (with or without a leading `/`) or a dotted netmask; masks with
/// non-contiguous one bits (255.255.0.255) are rejected.
pub fn parse_mask(text: &str) -> Result<u8, String> {
    let t = text.trim().trim_start_matches('/');
    if t.contains('.') {
        vars::validate_netmask(t)?;
        let bits = u32::from(t.parse::<Ipv4Addr>().map_err(|e| e.to_string())?);
        Ok(bits.leading_ones() as u8)
    } else {
        match t.parse::<u8>() {
            Ok(p) if p <= 32 => Ok(p),
            _ => Err(format!(
                "'{text}' is not a prefix from 0 to 32 or a netmask such as 255.255.255.0"
            )),
        }
    }
}

/// The netmask with `prefix` one bits.
pub fn mask_of(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// Everything about `addr`/`prefix` (prefix above 32 is treated as 32).
pub fn subnet4(addr: Ipv4Addr, prefix: u8) -> Subnet4 {
    let prefix = prefix.min(32);
    let mask = mask_of(prefix);
    let a = u32::from(addr);
    let network = a & mask;
    let broadcast = network | !mask;
    let total = 1u64 << (32 - u32::from(prefix));
    let (first, last, usable, note) = match prefix {
        32 => (
            Some(network),
            Some(network),
            1,
            Some("/32 is a single host (a host route): no network or broadcast address".into()),
        ),
        31 => (
            None,
            None,
            0,
            Some(
                "/31 has only 2 addresses, the network and the broadcast, so a LAN has no \
                 usable host; point-to-point links may use both (RFC 3021)"
                    .into(),
            ),
        ),
        _ => (Some(network + 1), Some(broadcast - 1), total - 2, None),
    };
    Subnet4 {
        address: addr,
        prefix,
        netmask: Ipv4Addr::from(mask),
        wildcard: Ipv4Addr::from(!mask),
        network: Ipv4Addr::from(network),
        broadcast: Ipv4Addr::from(broadcast),
        first_usable: first.map(Ipv4Addr::from),
        last_usable: last.map(Ipv4Addr::from),
        total,
        usable,
        class: Class::of(addr),
        note,
    }
}

/// 32 bits as four dotted groups of eight: `11111111.11111111.11111111.00000000`.
pub fn binary_dotted(bits: u32) -> String {
    let s = format!("{bits:032b}");
    [&s[0..8], &s[8..16], &s[16..24], &s[24..32]].join(".")
}

/// 32 bits with a `|` where the network part ends and the host part (the article's "rest
/// field") begins: `11000000.10101000.00000001|00001010`. The bar replaces the dot at a byte
/// boundary and is inserted elsewhere, so the groups stay readable.
pub fn binary_with_boundary(bits: u32, prefix: u8) -> String {
    let plain = format!("{bits:032b}");
    let mut out = String::with_capacity(36);
    for (i, c) in plain.chars().enumerate() {
        if i > 0 && i % 8 == 0 {
            out.push(if i == usize::from(prefix) { '|' } else { '.' });
        } else if i > 0 && i == usize::from(prefix) {
            out.push('|');
        }
        out.push(c);
    }
    out
}

/// The answer to "is B on the same subnet as A?", with the article's reasoning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SameSubnet {
    /// The other address.
    pub other: Ipv4Addr,
    /// True when B is local to A's subnet.
    pub same: bool,
    /// Why, in words: what A does with a packet for B.
    pub explanation: String,
}

/// Compares the network bits of `other` with `subnet`'s, as a host does before sending.
pub fn same_subnet(subnet: &Subnet4, other: Ipv4Addr) -> SameSubnet {
    let mask = mask_of(subnet.prefix);
    let same = u32::from(other) & mask == u32::from(subnet.network);
    let explanation = if same {
        format!(
            "{other} matches the first {} bits of {}, so it is on the local subnet {}/{}: \
             {} sends to it directly over the local network (ARP, no gateway).",
            subnet.prefix, subnet.address, subnet.network, subnet.prefix, subnet.address
        )
    } else {
        format!(
            "{other} differs from {} within the first {} bits, so it is NOT local to {}/{}: \
             {} must send the traffic to its gateway (router), which forwards it.",
            subnet.address, subnet.prefix, subnet.network, subnet.prefix, subnet.address
        )
    };
    SameSubnet {
        other,
        same,
        explanation,
    }
}

/// One row of the article's CIDR reference table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CidrRow {
    /// Prefix length.
    pub prefix: u8,
    /// Dotted netmask.
    pub netmask: Ipv4Addr,
    /// The mask in dotted binary.
    pub binary: String,
    /// Addresses in such a subnet.
    pub addresses: u64,
    /// What it contains, in the article's words ("254 usable", "2 Class C's"...).
    pub contains: String,
}

/// The article's table, /32 down to /0.
pub fn cidr_table() -> Vec<CidrRow> {
    (0..=32u8)
        .rev()
        .map(|prefix| {
            let mask = mask_of(prefix);
            let addresses = 1u64 << (32 - u32::from(prefix));
            let contains = match prefix {
                32 => "Host (one address)".to_string(),
                31 => "Unusable (p2p only)".to_string(),
                24 => "\"Class C\" 254 usable".to_string(),
                16 => "\"Class B\"".to_string(),
                8 => "\"Class A\"".to_string(),
                0 => "This Network".to_string(),
                25..=30 => format!("{} usable", addresses - 2),
                17..=23 => format!("{} Class C's", 1u64 << (24 - prefix)),
                9..=15 => format!("{} Class B's", 1u64 << (16 - prefix)),
                _ => format!("{} Class A's", 1u64 << (8 - prefix)),
            };
            CidrRow {
                prefix,
                netmask: Ipv4Addr::from(mask),
                binary: binary_dotted(mask),
                addresses,
                contains,
            }
        })
        .collect()
}

/// The calculator's lines for an IPv4 subnet, shared by `fieldbook subnet` and the calculator screen.
pub fn report_lines(s: &Subnet4) -> Vec<String> {
    let opt = |a: Option<Ipv4Addr>| a.map_or_else(|| "none".to_string(), |a| a.to_string());
    let mut lines = vec![
        format!(
            "Address     {:<15}  {}",
            s.address,
            binary_with_boundary(u32::from(s.address), s.prefix)
        ),
        format!(
            "Netmask     {:<15}  {}",
            s.netmask,
            binary_with_boundary(u32::from(s.netmask), s.prefix)
        ),
        format!(
            "Prefix      /{}  ({} network bits | {} host bit{})",
            s.prefix,
            s.prefix,
            32 - u32::from(s.prefix),
            if s.prefix == 31 { "" } else { "s" }
        ),
        format!("Wildcard    {}", s.wildcard),
        format!("Network     {}", s.network),
        format!("Broadcast   {}", s.broadcast),
        format!("First host  {}", opt(s.first_usable)),
        format!("Last host   {}", opt(s.last_usable)),
        format!("Addresses   {}", s.total),
        format!("Usable      {}", s.usable),
        format!("Class       {}", s.class.describe()),
    ];
    if let Some(note) = &s.note {
        lines.push(format!("Note        {note}"));
    }
    lines
}

/// The article's CIDR table as aligned text lines (≤ 80 columns), shared by the command line and the reference view.
pub fn table_lines() -> Vec<String> {
    let mut lines = vec![format!(
        "{:<4} {:<15} {:<35} {}",
        "CIDR", "Netmask", "Netmask (binary)", "Contains"
    )];
    for r in cidr_table() {
        lines.push(format!(
            "/{:<3} {:<15} {:<35} {}",
            r.prefix, r.netmask, r.binary, r.contains
        ));
    }
    lines
}

/// The basics of an IPv6 prefix (no broadcast and no classes in IPv6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subnet6 {
    /// The address as typed.
    pub address: Ipv6Addr,
    /// Prefix length.
    pub prefix: u8,
    /// First address of the prefix.
    pub network: Ipv6Addr,
    /// Last address of the prefix.
    pub last: Ipv6Addr,
    /// Number of addresses as text (`2^64` for a /64: too big for a plain number).
    pub addresses: String,
}

/// Parses `ADDR/PREFIX` for IPv6.
pub fn parse6(text: &str) -> Result<Subnet6, String> {
    let net: Ipv6Net = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not an IPv6 prefix such as 2001:db8::1/64"))?;
    let bits = 128 - u32::from(net.prefix_len());
    Ok(Subnet6 {
        address: net.addr(),
        prefix: net.prefix_len(),
        network: net.network(),
        last: net.broadcast(),
        addresses: if bits < 64 {
            (1u128 << bits).to_string()
        } else {
            format!("2^{bits}")
        },
    })
}

/// Either family, for the command line and the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Calculation {
    /// IPv4: the full article treatment.
    V4(Subnet4),
    /// IPv6: prefix basics.
    V6(Subnet6),
}

/// Parses what a technician typed: IPv4 with prefix or mask, or an IPv6 prefix.
pub fn calculate(address: &str, mask: Option<&str>) -> Result<Calculation, String> {
    let head = address.split('/').next().unwrap_or("");
    if head.contains(':') {
        let text = match mask {
            Some(m) => format!("{}/{}", address.trim(), m.trim().trim_start_matches('/')),
            None => address.to_string(),
        };
        return parse6(&text).map(Calculation::V6);
    }
    parse4(address, mask).map(Calculation::V4)
}

/// Checks that `ip` parses as an address of either family (for `--same-as`).
pub fn parse_addr4(text: &str) -> Result<Ipv4Addr, String> {
    match text.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => Ok(a),
        Ok(IpAddr::V6(_)) => Err(format!("'{text}' is IPv6; compare it with an IPv6 prefix")),
        Err(_) => Err(format!("'{text}' is not an IPv4 address")),
    }
}

#[cfg(test)]
/// Same maths through ipnet, used by tests as an independent check of the hand-written bits.
pub fn via_ipnet(addr: Ipv4Addr, prefix: u8) -> Option<(Ipv4Addr, Ipv4Addr)> {
    ipnet::Ipv4Net::new(addr, prefix)
        .ok()
        .map(|n| (n.network(), n.broadcast()))
}

/// A practice question: a random address and prefix whose network, broadcast and usable count
/// the trainee works out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizQuestion {
    /// The subnet asked about.
    pub subnet: Subnet4,
}

/// A trainee's answers, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuizAnswer {
    /// Network address.
    pub network: String,
    /// Broadcast address.
    pub broadcast: String,
    /// Usable host count.
    pub usable: String,
}

/// The verdict for each part, with the worked explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizResult {
    /// Network right.
    pub network_ok: bool,
    /// Broadcast right.
    pub broadcast_ok: bool,
    /// Usable count right.
    pub usable_ok: bool,
    /// How to get the answer, step by step.
    pub explanation: Vec<String>,
}

impl QuizResult {
    /// All three right.
    pub fn all_ok(&self) -> bool {
        self.network_ok && self.broadcast_ok && self.usable_ok
    }
}

/// A small deterministic generator (xorshift64*) so quizzes need no extra crate and tests can
/// replay a seed.
#[derive(Debug, Clone)]
pub struct QuizRng(u64);

impl QuizRng {
    /// Seeded generator; a zero seed is replaced (xorshift cannot leave zero).
    pub fn new(seed: u64) -> QuizRng {
        QuizRng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// Next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A question with a private-range address and a prefix from /8 to /30 (where the
    /// arithmetic is the interesting kind).
    pub fn question(&mut self) -> QuizQuestion {
        let r = self.next_u64();
        let base: u32 = match r % 3 {
            0 => 0x0A00_0000, // 10/8
            1 => 0xAC10_0000, // 172.16/12
            _ => 0xC0A8_0000, // 192.168/16
        };
        let span_bits = match r % 3 {
            0 => 24,
            1 => 20,
            _ => 16,
        };
        let host = (self.next_u64() as u32) & ((1u32 << span_bits) - 1);
        let prefix = 8 + (self.next_u64() % 23) as u8; // 8..=30
        let prefix = prefix.max(32 - span_bits as u8).min(30);
        QuizQuestion {
            subnet: subnet4(Ipv4Addr::from(base | host), prefix),
        }
    }
}

/// Checks a trainee's answers and explains the method whatever the outcome.
pub fn check_quiz(q: &QuizQuestion, answer: &QuizAnswer) -> QuizResult {
    let s = &q.subnet;
    let network_ok = answer.network.trim().parse::<Ipv4Addr>().ok() == Some(s.network);
    let broadcast_ok = answer.broadcast.trim().parse::<Ipv4Addr>().ok() == Some(s.broadcast);
    let usable_ok = answer.usable.trim().parse::<u64>().ok() == Some(s.usable);
    let host_bits = 32 - u32::from(s.prefix);
    let explanation = vec![
        format!(
            "/{} means {} network bits and {} host bits:",
            s.prefix, s.prefix, host_bits
        ),
        format!(
            "  address {}",
            binary_with_boundary(u32::from(s.address), s.prefix)
        ),
        format!(
            "  mask    {}",
            binary_with_boundary(u32::from(s.netmask), s.prefix)
        ),
        format!(
            "Network: keep the network bits, set the host bits to 0 -> {}",
            s.network
        ),
        format!(
            "Broadcast: keep the network bits, set the host bits to 1 -> {}",
            s.broadcast
        ),
        format!(
            "Usable: 2^{host_bits} = {} addresses, minus network and broadcast = {}",
            s.total, s.usable
        ),
    ];
    QuizResult {
        network_ok,
        broadcast_ok,
        usable_ok,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// (input, mask, network, broadcast, first, last, usable, netmask, wildcard)
    type Row = (
        &'static str,
        Option<&'static str>,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        u64,
        &'static str,
        &'static str,
    );

    const KNOWN: &[Row] = &[
        (
            "192.168.1.10/24",
            None,
            "192.168.1.0",
            "192.168.1.255",
            Some("192.168.1.1"),
            Some("192.168.1.254"),
            254,
            "255.255.255.0",
            "0.0.0.255",
        ),
        (
            "192.168.1.10",
            Some("255.255.255.0"),
            "192.168.1.0",
            "192.168.1.255",
            Some("192.168.1.1"),
            Some("192.168.1.254"),
            254,
            "255.255.255.0",
            "0.0.0.255",
        ),
        (
            "192.168.0.1/255.255.255.0",
            None,
            "192.168.0.0",
            "192.168.0.255",
            Some("192.168.0.1"),
            Some("192.168.0.254"),
            254,
            "255.255.255.0",
            "0.0.0.255",
        ),
        (
            "10.1.2.3/8",
            None,
            "10.0.0.0",
            "10.255.255.255",
            Some("10.0.0.1"),
            Some("10.255.255.254"),
            16_777_214,
            "255.0.0.0",
            "0.255.255.255",
        ),
        (
            "172.16.5.4/20",
            None,
            "172.16.0.0",
            "172.16.15.255",
            Some("172.16.0.1"),
            Some("172.16.15.254"),
            4094,
            "255.255.240.0",
            "0.0.15.255",
        ),
        (
            "203.0.113.77/27",
            None,
            "203.0.113.64",
            "203.0.113.95",
            Some("203.0.113.65"),
            Some("203.0.113.94"),
            30,
            "255.255.255.224",
            "0.0.0.31",
        ),
        (
            "203.0.113.77/30",
            None,
            "203.0.113.76",
            "203.0.113.79",
            Some("203.0.113.77"),
            Some("203.0.113.78"),
            2,
            "255.255.255.252",
            "0.0.0.3",
        ),
        (
            "203.0.113.77/31",
            None,
            "203.0.113.76",
            "203.0.113.77",
            None,
            None,
            0,
            "255.255.255.254",
            "0.0.0.1",
        ),
        (
            "203.0.113.77/32",
            None,
            "203.0.113.77",
            "203.0.113.77",
            Some("203.0.113.77"),
            Some("203.0.113.77"),
            1,
            "255.255.255.255",
            "0.0.0.0",
        ),
        (
            "8.8.8.8/0",
            None,
            "0.0.0.0",
            "255.255.255.255",
            Some("0.0.0.1"),
            Some("255.255.255.254"),
            4_294_967_294,
            "0.0.0.0",
            "255.255.255.255",
        ),
        (
            "8.8.8.8",
            Some("/1"),
            "0.0.0.0",
            "127.255.255.255",
            Some("0.0.0.1"),
            Some("127.255.255.254"),
            2_147_483_646,
            "128.0.0.0",
            "127.255.255.255",
        ),
    ];

    #[test]
    fn known_answers() {
        for (input, mask, net, bc, first, last, usable, netmask, wildcard) in KNOWN {
            let s = parse4(input, *mask).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(s.network, ip(net), "{input}");
            assert_eq!(s.broadcast, ip(bc), "{input}");
            assert_eq!(s.first_usable, first.map(ip), "{input}");
            assert_eq!(s.last_usable, last.map(ip), "{input}");
            assert_eq!(s.usable, *usable, "{input}");
            assert_eq!(s.netmask, ip(netmask), "{input}");
            assert_eq!(s.wildcard, ip(wildcard), "{input}");
        }
    }

    #[test]
    fn bad_input_is_rejected_with_a_reason() {
        assert!(
            parse4("192.168.1.10", Some("255.255.0.255"))
                .unwrap_err()
                .contains("contiguous")
        );
        assert!(
            parse4("192.168.1.10/255.0.255.0", None)
                .unwrap_err()
                .contains("contiguous")
        );
        assert!(parse4("192.168.1.10/33", None).is_err());
        assert!(parse4("192.168.1.300/24", None).is_err());
        assert!(
            parse4("192.168.1.10", None)
                .unwrap_err()
                .contains("needs a prefix")
        );
        assert!(parse4("192.168.1.10/24", Some("24")).is_err());
        assert!(parse4("", Some("24")).is_err());
        assert!(parse_mask("-1").is_err());
    }

    #[test]
    fn classes() {
        assert_eq!(Class::of(ip("10.0.0.1")), Class::A);
        assert_eq!(Class::of(ip("127.0.0.1")), Class::A);
        assert_eq!(Class::of(ip("128.0.0.1")), Class::B);
        assert_eq!(Class::of(ip("191.255.0.1")), Class::B);
        assert_eq!(Class::of(ip("192.168.0.1")), Class::C);
        assert_eq!(Class::of(ip("224.0.0.5")), Class::D);
        assert_eq!(Class::of(ip("240.0.0.1")), Class::E);
    }

    #[test]
    fn binary_matches_the_article() {
        // The article's example: 192.168.0.1 with 255.255.255.0.
        assert_eq!(
            format!("{:032b}", u32::from(ip("192.168.0.1"))),
            "11000000101010000000000000000001"
        );
        assert_eq!(
            binary_dotted(mask_of(24)),
            "11111111.11111111.11111111.00000000"
        );
        assert_eq!(
            binary_with_boundary(mask_of(24), 24),
            "11111111.11111111.11111111|00000000"
        );
        assert_eq!(
            binary_with_boundary(mask_of(20), 20),
            "11111111.11111111.1111|0000.00000000"
        );
        assert_eq!(
            binary_with_boundary(0, 0),
            "00000000.00000000.00000000.00000000"
        );
        assert_eq!(
            binary_with_boundary(u32::MAX, 32),
            "11111111.11111111.11111111.11111111"
        );
    }

    #[test]
    fn same_subnet_explains_local_or_gateway() {
        let s = parse4("192.168.0.1/24", None).unwrap();
        let local = same_subnet(&s, ip("192.168.0.200"));
        assert!(local.same);
        assert!(local.explanation.contains("directly"));
        let far = same_subnet(&s, ip("192.168.1.1"));
        assert!(!far.same);
        assert!(far.explanation.contains("gateway"));
        let all = parse4("1.2.3.4/0", None).unwrap();
        assert!(same_subnet(&all, ip("200.1.1.1")).same);
    }

    #[test]
    fn table_has_the_articles_rows() {
        let t = cidr_table();
        assert_eq!(t.len(), 33);
        assert_eq!(t[0].prefix, 32);
        assert_eq!(t[0].contains, "Host (one address)");
        let row = |p: u8| t.iter().find(|r| r.prefix == p).unwrap();
        assert_eq!(row(30).contains, "2 usable");
        assert_eq!(row(25).contains, "126 usable");
        assert_eq!(row(23).contains, "2 Class C's");
        assert_eq!(row(17).contains, "128 Class C's");
        assert_eq!(row(9).contains, "128 Class B's");
        assert_eq!(row(7).contains, "2 Class A's");
        assert_eq!(row(0).binary, "00000000.00000000.00000000.00000000");
        assert_eq!(row(0).addresses, 1 << 32);
        assert_eq!(row(26).netmask, ip("255.255.255.192"));
    }

    #[test]
    fn ipv6_basics() {
        let c = calculate("2001:db8::1/64", None).unwrap();
        let Calculation::V6(s) = c else { panic!() };
        assert_eq!(s.network, "2001:db8::".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            s.last,
            "2001:db8::ffff:ffff:ffff:ffff".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(s.addresses, "2^64");
        let Calculation::V6(s) = calculate("fe80::1", Some("120")).unwrap() else {
            panic!()
        };
        assert_eq!(s.addresses, "256");
        assert!(calculate("2001:db8::1/129", None).is_err());
    }

    #[test]
    fn property_network_le_host_le_broadcast() {
        let mut rng = QuizRng::new(42);
        for _ in 0..20_000 {
            let addr = Ipv4Addr::from(rng.next_u64() as u32);
            let prefix = (rng.next_u64() % 33) as u8;
            let s = subnet4(addr, prefix);
            assert!(s.network <= addr && addr <= s.broadcast, "{addr}/{prefix}");
            assert_eq!(Some((s.network, s.broadcast)), via_ipnet(addr, prefix));
            assert_eq!(
                u64::from(u32::from(s.broadcast) - u32::from(s.network)) + 1,
                s.total
            );
            assert_eq!(u32::from(s.netmask) | u32::from(s.wildcard), u32::MAX);
            if let (Some(f), Some(l)) = (s.first_usable, s.last_usable) {
                assert!(s.network <= f && f <= l && l <= s.broadcast);
            }
            assert!(same_subnet(&s, s.network).same && same_subnet(&s, s.broadcast).same);
            // A dotted mask round-trips through the validator and back to the prefix.
            assert_eq!(parse_mask(&s.netmask.to_string()), Ok(prefix));
        }
    }

    #[test]
    fn quiz_checks_and_explains() {
        let mut rng = QuizRng::new(7);
        for _ in 0..200 {
            let q = rng.question();
            assert!((8..=30).contains(&q.subnet.prefix));
            let right = QuizAnswer {
                network: q.subnet.network.to_string(),
                broadcast: q.subnet.broadcast.to_string(),
                usable: q.subnet.usable.to_string(),
            };
            assert!(check_quiz(&q, &right).all_ok());
        }
        let q = QuizQuestion {
            subnet: subnet4(ip("192.168.1.77"), 26),
        };
        let wrong = QuizAnswer {
            network: "192.168.1.0".into(),
            broadcast: "192.168.1.255".into(),
            usable: "62".into(),
        };
        let r = check_quiz(&q, &wrong);
        assert!(!r.network_ok && !r.broadcast_ok && r.usable_ok);
        assert!(r.explanation.iter().any(|l| l.contains("192.168.1.64")));
    }
}
