//! `fieldbook subnet`: the subnet calculator on the command line, plain text that reads fine
//! over a 9600-baud serial console, or JSON for scripts.

use std::io::Write;

use serde_json::json;

use super::{UsageError, exit};
use crate::core::net::{self, Calculation, Subnet4, Subnet6};

/// Runs the calculator. `address` may carry `/PREFIX` or `/NETMASK`; `mask` is the separate
/// form (`192.168.1.10 255.255.255.0`). With `table` and no address, prints the CIDR table.
pub(super) fn run(
    address: Option<&str>,
    mask: Option<&str>,
    same_as: &[String],
    table: bool,
    json: bool,
) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    let calc = match address {
        Some(a) => Some(net::calculate(a, mask).map_err(UsageError)?),
        None if table => None,
        None => {
            return Err(UsageError(
                "give an address with a prefix or netmask (e.g. 192.168.1.10/24), or --table"
                    .into(),
            )
            .into());
        }
    };
    let others = match &calc {
        Some(Calculation::V4(s)) => same_as
            .iter()
            .map(|o| net::parse_addr4(o).map(|a| net::same_subnet(s, a)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(UsageError)?,
        Some(Calculation::V6(_)) if !same_as.is_empty() => {
            return Err(UsageError("--same-as works with IPv4 only".into()).into());
        }
        _ => Vec::new(),
    };
    if json {
        let mut v = json!({});
        if let Some(c) = &calc {
            v["subnet"] = serde_json::to_value(c)?;
            if let Calculation::V4(s) = c {
                v["subnet"]["netmask_binary"] =
                    json!(net::binary_with_boundary(u32::from(s.netmask), s.prefix));
                v["subnet"]["address_binary"] =
                    json!(net::binary_with_boundary(u32::from(s.address), s.prefix));
            }
        }
        if !others.is_empty() {
            v["same_subnet"] = serde_json::to_value(&others)?;
        }
        if table {
            v["table"] = serde_json::to_value(net::cidr_table())?;
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(exit::OK);
    }
    match &calc {
        Some(Calculation::V4(s)) => write_v4(&mut out, s)?,
        Some(Calculation::V6(s)) => write_v6(&mut out, s)?,
        None => {}
    }
    for o in &others {
        writeln!(out)?;
        let head = format!(
            "{} {}: ",
            if o.same { "LOCAL  " } else { "GATEWAY" },
            o.other
        );
        for line in wrap(&format!("{head}{}", o.explanation), 78, 8) {
            writeln!(out, "{line}")?;
        }
    }
    if table {
        if calc.is_some() {
            writeln!(out)?;
        }
        write_table(&mut out)?;
    }
    Ok(exit::OK)
}

fn write_v4(out: &mut impl Write, s: &Subnet4) -> std::io::Result<()> {
    for l in net::report_lines(s) {
        for w in wrap(&l, 78, 12) {
            writeln!(out, "{w}")?;
        }
    }
    Ok(())
}

fn write_v6(out: &mut impl Write, s: &Subnet6) -> std::io::Result<()> {
    writeln!(out, "Address     {}", s.address)?;
    writeln!(out, "Prefix      /{}", s.prefix)?;
    writeln!(out, "Network     {}", s.network)?;
    writeln!(out, "Last        {}", s.last)?;
    writeln!(out, "Addresses   {}", s.addresses)?;
    writeln!(
        out,
        "Note        IPv6 has no broadcast address and no classes"
    )?;
    Ok(())
}

fn write_table(out: &mut impl Write) -> std::io::Result<()> {
    for l in net::table_lines() {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// Word-wraps `text` to `width` columns, indenting continuation lines by `indent`, so long
/// explanations stay readable on an 80-column serial console.
fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = text.to_string();
    while rest.chars().count() > width {
        // Break at the last space that fits (after the indentation), else give up on this line.
        let limit = rest
            .char_indices()
            .nth(width)
            .map_or(rest.len(), |(i, _)| i);
        match rest[..limit].rfind(' ').filter(|&i| i > indent) {
            Some(i) => {
                lines.push(rest[..i].trim_end().to_string());
                rest = format!("{}{}", " ".repeat(indent), rest[i..].trim_start());
            }
            None => break,
        }
    }
    lines.push(rest);
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_width_and_indent() {
        let w = wrap("aaa bbb ccc ddd", 8, 2);
        assert_eq!(w, vec!["aaa bbb", "  ccc", "  ddd"]);
        assert_eq!(
            wrap("Address     1.2.3.4", 78, 12),
            vec!["Address     1.2.3.4"]
        );
    }
}
