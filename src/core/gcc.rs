//! Switching the GCC profile (Gentoo) honestly: `gcc-config N`, then `env-update`, then the
//! new `/etc/profile.env` read back so fieldbook's later commands see the new PATH — and a
//! plain message that the technician's own shells still need `source /etc/profile`.

use std::io;
use std::path::{Path, PathBuf};

use super::parse::gcc_config::GccProfile;
use super::parse::profile_env::{self, ProfileEnv};

/// `gcc-config -l` as the article shows it, used in practice mode.
pub const PRACTICE_LISTING: &str = include_str!("../../assets/practice/tools/gcc-config-list.txt");

/// Where env-update writes the variables a login shell picks up.
pub const PROFILE_ENV: &str = "/etc/profile.env";

/// What fieldbook cannot do for the technician: its own shells keep the old environment.
pub const SOURCE_PROFILE_NOTE: &str = "fieldbook has loaded the new /etc/profile.env for the \
commands it runs from now on. Your own shells still have the old compiler on PATH: run \
`source /etc/profile` in each shell you have open (or log in again).";

/// The note after a switch inside an image under `--root`, whose profile.env is never loaded.
pub const IMAGE_PROFILE_NOTE: &str = "The image's /etc/profile.env was read, not loaded: the \
commands fieldbook runs on this host keep the host's environment. Shells inside the image need \
`source /etc/profile`.";

/// The commands that switch to `profile`, in order: `gcc-config N`, then `env-update`.
pub fn switch_commands(profile: &GccProfile) -> Vec<Vec<String>> {
    vec![
        vec!["gcc-config".to_string(), profile.number.to_string()],
        vec!["env-update".to_string()],
    ]
}

/// The profile.env of the target: under `root` when fieldbook works on a chroot or image.
pub fn profile_env_path(root: Option<&Path>) -> PathBuf {
    match root {
        Some(r) => r.join(PROFILE_ENV.trim_start_matches('/')),
        None => PathBuf::from(PROFILE_ENV),
    }
}

/// The variables of profile.env fieldbook takes into the commands it runs next (besides the
/// gcc-bin entries of PATH): what a compiler switch changes and nothing a shell or the dynamic
/// linker would execute (never `BASH_ENV`, `ENV`, `LD_*`, `IFS`, `PS4`). README lists them.
pub const TAKEN: [&str; 3] = ["GCC_SPECS", "MANPATH", "INFOPATH"];

/// Reads and parses the target's profile.env (after env-update has run) and keeps, as `vars`,
/// only what may reach the commands fieldbook runs next on this host (see [`host_env`]); every
/// assignment left out is in `skipped` with the reason.
pub fn reload_profile_env(root: Option<&Path>) -> io::Result<ProfileEnv> {
    let path = profile_env_path(root);
    let bytes = std::fs::read(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let read = profile_env::parse(&String::from_utf8_lossy(&bytes));
    let current = std::env::var("PATH").unwrap_or_default();
    Ok(host_env(read, root.is_some(), &current, |p| p.is_dir()))
}

/// What of a profile.env reaches the host's commands. A guest image's file (`under_root`) is
/// read to be shown, never loaded: its variables would run as root on the host (`BASH_ENV` runs
/// in every bash script). On the host itself only an allow-list is loaded: PATH becomes the
/// file's entries that name an existing `gcc-bin` directory, then the current PATH without its
/// old `gcc-bin` entries; plus [`TAKEN`]. A key set twice counts with its last value.
pub fn host_env(
    read: ProfileEnv,
    under_root: bool,
    current_path: &str,
    is_dir: impl Fn(&Path) -> bool,
) -> ProfileEnv {
    let mut out = ProfileEnv {
        vars: Vec::new(),
        skipped: read.skipped.clone(),
    };
    let mut keys: Vec<&str> = Vec::new();
    for (k, _) in read.vars.iter().rev() {
        if !keys.contains(&k.as_str()) {
            keys.push(k);
        }
    }
    keys.reverse();
    for key in keys {
        let Some(value) = read.get(key) else { continue };
        let refuse = |why: &str| (0, format!("{key}: {why}"));
        if under_root {
            out.skipped.push(refuse(
                "read from the image under --root; never loaded into the host's commands",
            ));
        } else if value.contains(char::is_control) {
            out.skipped
                .push(refuse("has control characters; not loaded"));
        } else if key == "PATH" {
            let gcc_bin = |e: &&str| e.starts_with('/') && e.contains("/gcc-bin/");
            let mut path: Vec<&str> = value
                .split(':')
                .filter(gcc_bin)
                .filter(|e| is_dir(Path::new(e)))
                .collect();
            if path.is_empty() {
                out.skipped
                    .push(refuse("names no existing gcc-bin directory; not loaded"));
                continue;
            }
            path.extend(
                current_path
                    .split(':')
                    .filter(|e| !e.is_empty() && !gcc_bin(e)),
            );
            out.vars.push(("PATH".into(), path.join(":")));
        } else if TAKEN.contains(&key) {
            out.vars.push((key.to_string(), value.to_string()));
        } else {
            out.skipped.push(refuse(
                "not one fieldbook loads (PATH's gcc-bin entries, GCC_SPECS, MANPATH, INFOPATH)",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse::gcc_config;
    use super::*;

    #[test]
    fn switching_to_the_newest() {
        let list =
            gcc_config::parse("[1] x86_64-pc-linux-gnu-4.1.2 *\n[2] x86_64-pc-linux-gnu-4.3.4\n");
        let newest = list.newest().unwrap();
        assert_eq!(
            switch_commands(newest),
            [
                vec!["gcc-config".to_string(), "2".to_string()],
                vec!["env-update".to_string()]
            ]
        );
        assert!(SOURCE_PROFILE_NOTE.contains("source /etc/profile"));
    }

    #[test]
    fn profile_env_is_read_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(profile_env_path(None), PathBuf::from("/etc/profile.env"));
        let err = reload_profile_env(Some(dir.path())).unwrap_err();
        assert!(err.to_string().contains("etc/profile.env"), "{err}");
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/profile.env"),
            "export PATH='/usr/bin:/usr/x86_64-pc-linux-gnu/gcc-bin/4.3.4'\n",
        )
        .unwrap();
        let env = reload_profile_env(Some(dir.path())).unwrap();
        assert!(env.vars.is_empty(), "{env:?}");
        assert!(
            env.skipped[0].1.starts_with("PATH: read from the image"),
            "{env:?}"
        );
    }

    /// Issue 17 item 1: a guest image's profile.env never sets the host's environment.
    #[test]
    fn an_image_profile_env_never_reaches_the_host_commands() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/profile.env"),
            "export BASH_ENV='/tmp/pwn'\nexport LD_PRELOAD='/tmp/x.so'\nexport PATH='/tmp:/usr/bin'\nexport GCC_SPECS=''\n",
        )
        .unwrap();
        let env = reload_profile_env(Some(dir.path())).unwrap();
        assert_eq!(env.vars, [], "{env:?}");
        assert_eq!(env.skipped.len(), 4, "{env:?}");
    }

    #[test]
    fn on_the_host_only_the_allow_list_is_loaded_and_the_last_value_wins() {
        let read = profile_env::parse(
            "export BASH_ENV='/tmp/pwn'\nexport ENV='/tmp/pwn'\nexport LD_PRELOAD='/tmp/x.so'\n\
             export LD_LIBRARY_PATH='/tmp'\nexport IFS='/'\nexport PS4='$(reboot)'\n\
             export PATH='/tmp/evil:/usr/x86_64-pc-linux-gnu/gcc-bin/4.1.2:/usr/bin'\n\
             export MANPATH='/usr/share/man'\nexport MANPATH='/usr/share/gcc-data/man'\n\
             export PATH='/tmp/evil:/usr/x86_64-pc-linux-gnu/gcc-bin/4.3.4:/usr/bin'\n\
             export GCC_SPECS=''\nexport INFOPATH='/usr/share/info'\n",
        );
        let env = host_env(
            read,
            false,
            "/usr/local/bin:/usr/x86_64-pc-linux-gnu/gcc-bin/4.1.2:/usr/bin",
            |p| p.ends_with("4.3.4") || p.ends_with("4.1.2"),
        );
        assert_eq!(
            env.vars,
            [
                ("MANPATH".to_string(), "/usr/share/gcc-data/man".to_string()),
                (
                    "PATH".to_string(),
                    "/usr/x86_64-pc-linux-gnu/gcc-bin/4.3.4:/usr/local/bin:/usr/bin".to_string()
                ),
                ("GCC_SPECS".to_string(), String::new()),
                ("INFOPATH".to_string(), "/usr/share/info".to_string()),
            ]
        );
        let refused: Vec<&str> = env
            .skipped
            .iter()
            .map(|(_, r)| r.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            refused,
            [
                "BASH_ENV",
                "ENV",
                "LD_PRELOAD",
                "LD_LIBRARY_PATH",
                "IFS",
                "PS4"
            ]
        );
        // A PATH naming no existing gcc-bin directory changes nothing.
        let read = profile_env::parse("export PATH='/tmp/evil:/usr/bin'\n");
        assert_eq!(host_env(read, false, "/usr/bin", |_| true).vars, []);
    }
}
