//! `fieldbook run ID` (open the app on one runbook) and `fieldbook --version --verbose`, which
//! reports how the app would see this terminal: the size and its source, glyphs and colour.

use std::ffi::OsString;

use clap::Parser;

use super::{Cli, exit};

/// Handles `--version --verbose` (in any order, with any global options) before clap, whose
/// own `--version` prints and exits on sight. Returns the exit status when it handled it.
pub(crate) fn version_verbose(args: &[OsString]) -> Option<u8> {
    let has = |flags: &[&str]| args.iter().skip(1).any(|a| flags.iter().any(|f| a == f));
    if !(has(&["--version", "-V"]) && has(&["--verbose"])) {
        return None;
    }
    let rest: Vec<OsString> = args
        .iter()
        .filter(|a| !["--version", "-V", "--verbose"].iter().any(|f| *a == f))
        .cloned()
        .collect();
    let cli = match Cli::try_parse_from(rest) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return Some(exit::USAGE);
        }
    };
    let header = format!(
        "fieldbook {}\nglibc floor: {}\n",
        env!("CARGO_PKG_VERSION"),
        glibc_floor()
    );
    match crate::app::terminal_info(&cli.global.settings().terminal) {
        Ok((prof, _, info)) => {
            let kernel = crate::terminal::kernel_size()
                .map_or("unavailable".to_string(), |(c, r)| format!("{c}x{r}"));
            let term = if prof.term.is_empty() {
                "(unset)"
            } else {
                &prof.term
            };
            let (_, screen) = crate::terminal::profile::use_alt_screen(
                prof.alt_screen,
                cli.global.no_alt_screen,
                cli.global.alt_screen,
                std::env::var_os("STY").is_some(),
            );
            let esc =
                crate::terminal::profile::esc_delay(cli.global.esc_delay, cli.global.low_bandwidth);
            let report = format!(
                "{header}size: {} (kernel reports {kernel})\nglyphs: {}\ncolour: {}\n\
                 term: {term}\nscreen: {screen}\nesc delay: {} ms\n",
                info.size,
                info.glyphs,
                info.color,
                esc.as_millis()
            );
            // A reader that stops early (`| grep -q`, `| head -1`) is not a failure: no panic.
            match crate::core::stdio::print(&report) {
                Ok(()) => Some(exit::OK),
                Err(e) => {
                    crate::core::stdio::eprint_line(&format!(
                        "fieldbook: cannot write the report: {e}"
                    ));
                    Some(exit::FAILURE)
                }
            }
        }
        Err(e) => {
            let _ = crate::core::stdio::print(&header);
            crate::core::stdio::eprint_line(&format!("fieldbook: {e}"));
            Some(exit::USAGE)
        }
    }
}

/// The oldest glibc this binary was linked for: `scripts/build-portable.sh` sets
/// `FIELDBOOK_GLIBC_FLOOR` at build time; any other build needs the glibc of the build host.
fn glibc_floor() -> &'static str {
    option_env!("FIELDBOOK_GLIBC_FLOOR").unwrap_or("host glibc (the glibc of the build machine)")
}
