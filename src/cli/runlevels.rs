//! `fieldbook runlevels`: OpenRC init scripts × runlevels from `rc-update -v show`.

use crate::cli::GlobalOpts;
use crate::cli::capture::listing;
use std::fmt::Write as _;

use crate::cli::exit;
use crate::core::parse::rc_update;
use crate::core::runlevels::{PRACTICE_LISTING, RunlevelTable};
use crate::core::stdio::print;

/// Prints the table (or JSON), one column per runlevel, `x` where the script is in it.
pub(crate) fn run(global: &GlobalOpts, json: bool) -> anyhow::Result<u8> {
    let mut out = String::new();
    let text = listing(global, &["rc-update", "-v", "show"], PRACTICE_LISTING)?;
    let show = rc_update::parse(&text);
    let table = RunlevelTable::new(&show);
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&table)?)?;
        print(&out)?;
        return Ok(exit::OK);
    }
    let mut header = format!("{:<20}", "SCRIPT");
    for level in &table.runlevels {
        header.push_str(&format!(" {level:<9}"));
    }
    writeln!(out, "{}", header.trim_end())?;
    for row in &table.rows {
        let mut line = format!("{:<20}", row.name);
        for level in &table.runlevels {
            let mark = if row.current.contains(level) {
                "x"
            } else {
                "."
            };
            line.push_str(&format!(" {mark:<9}"));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    for (line, text) in &show.unrecognised {
        crate::core::stdio::eprint_line(&format!(
            "fieldbook: rc-update output line {line} not understood: {}",
            crate::core::terminal_text::terminal_safe_line(text)
        ));
    }
    print(&out)?;
    Ok(exit::OK)
}
