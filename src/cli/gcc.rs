//! `fieldbook gcc`: the GCC profiles from `gcc-config -l`, the current and the newest, and the
//! commands that would switch to the newest.

use crate::cli::GlobalOpts;
use crate::cli::capture::{display_argv, listing};
use std::fmt::Write as _;

use crate::cli::exit;
use crate::core::gcc::{PRACTICE_LISTING, switch_commands};
use crate::core::parse::gcc_config;
use crate::core::stdio::print;

/// Prints the profiles (or JSON with `current`, `newest` and `switch` commands).
pub(crate) fn run(global: &GlobalOpts, json: bool) -> anyhow::Result<u8> {
    let mut out = String::new();
    let text = listing(global, &["gcc-config", "-l"], PRACTICE_LISTING)?;
    let list = gcc_config::parse(&text);
    let newest = list.newest();
    let switch = newest
        .filter(|n| !n.current)
        .map(switch_commands)
        .unwrap_or_default();
    if json {
        let value = serde_json::json!({
            "profiles": list.profiles,
            "current": list.current().map(|p| p.number),
            "newest": newest.map(|p| p.number),
            "switch": switch,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        print(&out)?;
        return Ok(exit::OK);
    }
    for p in &list.profiles {
        let mut notes = Vec::new();
        if p.current {
            notes.push("in use");
        }
        if newest.is_some_and(|n| n.number == p.number) {
            notes.push("newest");
        }
        let line = format!(" [{}] {} {}", p.number, p.name, notes.join(", "));
        writeln!(out, "{}", line.trim_end())?;
    }
    if list.profiles.is_empty() {
        crate::core::stdio::eprint_line("fieldbook: gcc-config -l listed no profiles");
        print(&out)?;
        return Ok(exit::FAILURE);
    }
    if switch.is_empty() {
        writeln!(out, "The newest GCC profile is already in use.")?;
    } else {
        writeln!(out, "To switch to the newest:")?;
        for argv in &switch {
            writeln!(out, "  {}", display_argv(argv))?;
        }
        writeln!(
            out,
            "Then run `source /etc/profile` in each shell you have open: a running shell keeps the old PATH."
        )?;
    }
    print(&out)?;
    Ok(exit::OK)
}
