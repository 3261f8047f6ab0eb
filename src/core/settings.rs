//! The session's [`Settings`]: one value, built by the CLI from its options and owned by the
//! app. Every job reads it when it starts, so a change (practice toggled with `p`) reaches the
//! next job and never a stale copy. The machine commands run on is part of it: opened once by
//! the CLI from the same options and fixed for the session (`p` only switches between it and
//! the practice transcripts, and a session started with `--practice` opens none).

use std::path::PathBuf;

use super::machine::SessionMachine;
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
    /// The session started with `--practice`: no machine was opened (never a connection to
    /// `--host`), so practice cannot be turned off in it; a real run needs a new start.
    pub practice_only: bool,
    /// The machine commands, probes, listings and edits reach: this one, a chroot (`--root`),
    /// or `--host` over its ssh master.
    pub machine: SessionMachine,
}

impl Settings {
    /// The state directory of the current mode (its practice area in practice mode).
    pub fn state(&self) -> Result<StateDir, StateDirError> {
        StateDir::resolve(self.state_dir.as_deref(), self.practice)
    }

    /// Where a listing taken now comes from, in words: `practice transcript`, `this machine`,
    /// `chroot DIR`, `on HOST` (`on HOST, chroot DIR`). Every listing a screen shows carries the
    /// words of the mode it was taken in, and one taken in another mode is never used.
    pub fn taken_in(&self) -> String {
        if self.practice {
            return "practice transcript".into();
        }
        let root = self
            .root
            .as_ref()
            .map(|r| format!("chroot {}", r.display()));
        match (&self.host, root) {
            (Some(h), Some(r)) => format!("on {h}, {r}"),
            (Some(h), None) => format!("on {h}"),
            (None, Some(r)) => r,
            (None, None) => "this machine".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_tagged_with_where_it_was_taken() {
        let mut s = Settings::default();
        assert_eq!(s.taken_in(), "this machine");
        s.root = Some(PathBuf::from("/mnt/gentoo"));
        assert_eq!(s.taken_in(), "chroot /mnt/gentoo");
        s.host = Some("root@gw1".into());
        assert_eq!(s.taken_in(), "on root@gw1, chroot /mnt/gentoo");
        s.root = None;
        assert_eq!(s.taken_in(), "on root@gw1");
        s.practice = true;
        assert_eq!(s.taken_in(), "practice transcript");
    }
}
