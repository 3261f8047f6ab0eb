//! `completions SHELL` and `manpage`: generated from the same clap definitions the parser uses,
//! so the tab completion and `man fieldbook` never drift from what the binary accepts.

use std::io::Write;

use clap::CommandFactory;

use super::{Cli, exit};

/// Prints the completion script for `shell` (bash, zsh, fish, elvish, powershell).
pub(super) fn completions(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    // The generators list hidden subcommands too (fieldbook's internal `__supervise`); the
    // completion is built from the visible ones only.
    let full = Cli::command();
    let mut cmd = clap::Command::new("fieldbook")
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "fieldbook", &mut out);
    out.flush()?;
    Ok(exit::OK)
}

/// Prints the man page (roff) of fieldbook and its subcommands, one page.
pub(super) fn manpage() -> anyhow::Result<u8> {
    let cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    // Every subcommand's usage and options, so one page documents the whole tool.
    writeln!(out, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        writeln!(
            out,
            ".TP\n\\fBfieldbook {name}\\fR\n{}",
            roff_escape(&about)
        )?;
        for arg in sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set())
        {
            let flag = match (arg.get_short(), arg.get_long()) {
                (_, Some(l)) => format!("--{l}"),
                (Some(s), None) => format!("-{s}"),
                (None, None) => format!("<{}>", arg.get_id().as_str().to_uppercase()),
            };
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            writeln!(
                out,
                ".RS\n.TP\n\\fB{}\\fR\n{}\n.RE",
                roff_escape(&flag),
                roff_escape(&help)
            )?;
        }
    }
    man.render_version_section(&mut out)?;
    writeln!(
        out,
        ".SH EXIT STATUS\n0 success, 1 failure or problems found, 2 usage error, 3 the step \
         needs the terminal."
    )?;
    writeln!(
        out,
        ".SH FILES\n\\fI/var/lib/fieldbook\\fR (root) or \\fI$XDG_STATE_HOME/fieldbook\\fR: runs, \
         journals, logs and the archive of edited files' backups."
    )?;
    out.flush()?;
    Ok(exit::OK)
}

/// Text safe inside a roff paragraph: backslashes doubled, a leading dot or quote neutralised.
fn roff_escape(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\\\");
            if l.starts_with(['.', '\'']) {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
