//! The session's [`Settings`]: one value, built by the CLI from its options and owned by the
//! app. Every job reads it when it starts, so a change (practice toggled with `p`) reaches the
//! next job and never a stale copy. (The machine commands run on is opened once from the same
//! options, `core::machine::current`.)

use std::path::PathBuf;

use super::state_dir::{StateDir, StateDirError};

/// How the terminal is to be driven (`--ascii`, `--unicode`, `--no-color`, `--size`,
/// `--no-alt-screen`, `--low-bandwidth`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerminalOptions {
    /// Draw with ASCII only.
    pub ascii: bool,
    /// Draw with Unicode line characters even where ASCII would be chosen.
    pub unicode: bool,
    /// No colour.
    pub no_color: bool,
    /// `COLSxROWS` given on the command line.
    pub size: Option<String>,
    /// Draw in the main screen.
    pub no_alt_screen: bool,
    /// Use the alternate screen inside GNU screen too.
    pub alt_screen: bool,
    /// `--esc-delay MS`: how long a split key sequence may take.
    pub esc_delay: Option<u64>,
    /// Redraw a running command's output at most once a second.
    pub low_bandwidth: bool,
}

/// Where and how this session works.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Practice mode: nothing is executed, no file is touched, tool listings come from the
    /// practice transcripts and progress, archive and snort files live in the practice area.
    pub practice: bool,
    /// `--root`: edited paths and profile.env are resolved under it.
    pub root: Option<PathBuf>,
    /// `--state-dir` as given (`None`: the default place).
    pub state_dir: Option<PathBuf>,
    /// The machine new activity is recorded for.
    pub target: String,
    /// `--host [USER@]HOST`: where commands run when it is not this machine (shown in titles).
    pub host: Option<String>,
    /// `--checklists`: the extra runbook directory.
    pub checklists: Option<PathBuf>,
    /// How the terminal is driven.
    pub terminal: TerminalOptions,
}

impl Settings {
    /// The state directory of the current mode (its practice area in practice mode).
    pub fn state(&self) -> Result<StateDir, StateDirError> {
        StateDir::resolve(self.state_dir.as_deref(), self.practice)
    }
}
