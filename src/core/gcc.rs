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

/// Reads and parses the target's profile.env (after env-update has run).
pub fn reload_profile_env(root: Option<&Path>) -> io::Result<ProfileEnv> {
    let path = profile_env_path(root);
    let bytes = std::fs::read(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(profile_env::parse(&String::from_utf8_lossy(&bytes)))
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
        assert!(env.get("PATH").unwrap().ends_with("4.3.4"));
    }
}
