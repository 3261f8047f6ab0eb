//! The GCC profile tool's rows: each profile from `gcc-config -l`, the one in use, the newest,
//! and the one chosen; what Apply will do is spelled out under the list.

use crate::core::gcc::switch_commands;
use crate::ui::text::show_argv;
use crate::ui::tools::GccView;

use super::tool::Table;

/// Builds the table for the GCC profile screen.
pub fn table(g: &GccView, _cursor: usize) -> Table {
    let newest = g.list.newest().map(|p| p.number);
    let rows = g
        .list
        .profiles
        .iter()
        .map(|p| {
            let chosen = if g.chosen == Some(p.number) {
                "(o)"
            } else {
                "( )"
            };
            let mut notes = Vec::new();
            if p.current {
                notes.push("in use *");
            }
            if newest == Some(p.number) {
                notes.push("newest");
            }
            format!(
                "{chosen} [{}] {:<40} {}",
                p.number,
                p.name,
                notes.join(", ")
            )
        })
        .collect();
    let detail = match g.chosen.and_then(|n| g.list.by_number(n)) {
        Some(p) if p.current => format!("{} is already in use: nothing to switch.", p.name),
        Some(p) => {
            let cmds: Vec<String> = switch_commands(p).iter().map(|a| show_argv(a)).collect();
            format!(
                "Apply runs: {}, then reloads /etc/profile.env for the commands fieldbook runs \
                 next. Your own shells need `source /etc/profile` afterwards.",
                cmds.join(", then ")
            )
        }
        None if g.list.profiles.is_empty() => "gcc-config -l listed no profiles.".into(),
        None => "Choose a profile with Space.".into(),
    };
    Table {
        title: "GCC profile (gcc-config -l)".into(),
        right: g
            .list
            .current()
            .map(|p| format!("in use: {}", p.version))
            .unwrap_or_default(),
        header: "  CHOSEN PROFILE".into(),
        rows,
        detail,
    }
}
