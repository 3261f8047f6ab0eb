//! The stubs of tools no registry has (chkconfig, gcc-config, ...) and of the real ones used by
//! the fast tests (rc-update, emerge), replayed against the real transcripts byte for byte.
//!
//! Each replay starts the stub with a fresh `STUB_STATE_DIR`, so a stateful stub sees the same
//! sequence of commands the real tool saw; stdout, stderr and exit code must all match.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::transcript::{self, Run};

fn stub(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/stubs")
        .join(name)
}

/// Runs the transcript's runs of `program` (except those in `skip`, each with its reason)
/// through the stub, in order, and returns every difference found.
fn replay(
    program: &str,
    runs: &[Run],
    env: &[(&str, String)],
    skip: &[(&str, &str)],
) -> Vec<String> {
    let state = tempfile::tempdir().expect("tempdir");
    let mut differences = Vec::new();
    let mut replayed = 0;
    for run in runs {
        let mut words = run.command.split_whitespace();
        if words.next() != Some(program) {
            continue;
        }
        if skip.iter().any(|(cmd, _)| *cmd == run.command) {
            continue;
        }
        let args: Vec<&str> = words.collect();
        let out = Command::new(stub(program))
            .args(&args)
            .env("STUB_STATE_DIR", state.path())
            .env_remove("STUB_LOG")
            .env_remove("STUB_EXIT")
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .current_dir(state.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run the {program} stub: {e}"));
        replayed += 1;
        let got = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code().unwrap_or(-1),
        );
        let want = (run.stdout.clone(), run.stderr.clone(), run.exit);
        if got != want {
            differences.push(format!(
                "`{}`\n  real:  stdout {:?}\n         stderr {:?}\n         exit {}\n  stub:  stdout {:?}\n         stderr {:?}\n         exit {}",
                run.command, want.0, want.1, want.2, got.0, got.1, got.2
            ));
        }
    }
    assert!(replayed > 0, "no run of {program} in the transcript");
    differences
}

fn assert_same(program: &str, differences: Vec<String>) {
    assert!(
        differences.is_empty(),
        "the {program} stub differs from the real tool's transcript:\n{}",
        differences.join("\n")
    );
}

// chkconfig 1.3.30.2 and rc-update 0.45.2 replay their whole real sessions in
// tests/stubs_match_real.rs (the tools' own test); not repeated here.

/// emerge (Portage 3.0.83): the runs a stateless stub can reproduce, byte for byte. The other
/// runs of the recording depend on the tree's state (after the merge, after a package.use
/// change), or are a full merge whose paths name the recording's scratch directory.
#[test]
fn emerge_stub_matches_the_real_version_and_world_preview() {
    let runs = transcript::load("emerge.txt");
    let wanted = [
        "emerge --version",
        "emerge --pretend --update --deep --newuse @world",
    ];
    let first_only: Vec<Run> = wanted
        .iter()
        .map(|c| transcript::find(&runs, c, 0).clone())
        .collect();
    assert_same("emerge", replay("emerge", &first_only, &[], &[]));
}

/// quickpkg: the recording ran in a Gentoo prefix with today's PKGDIR
/// (`/usr/local/gentoo-prefix/var/cache/binpkgs`); the stub stands for the article-era box the
/// runbook is for, whose PKGDIR is `/usr/portage/packages`, and prints the same message there.
#[test]
fn quickpkg_stub_matches_the_real_message() {
    let runs = transcript::load("emerge.txt");
    let mut run = transcript::find(&runs, "quickpkg app-misc/hello", 0).clone();
    run.stdout = run.stdout.replace(
        "/usr/local/gentoo-prefix/var/cache/binpkgs",
        "/usr/portage/packages",
    );
    assert_same("quickpkg", replay("quickpkg", &[run], &[], &[]));
}

/// gcc-config has no real program reachable here; `-l` must print exactly what upstream's own
/// test expectations give for three native profiles with the second current
/// (shared/reference/real-tools.md §2, from tests/multi-native-selected-configs/test.list.exp).
#[test]
fn gcc_config_stub_lists_profiles_as_upstream_does() {
    let run = |root: Option<&str>| {
        let mut cmd = Command::new(stub("gcc-config"));
        cmd.arg("-l")
            .env(
                "STUB_GCC_PROFILES",
                "x86_64-pc-linux-gnu-12 x86_64-pc-linux-gnu-13 x86_64-pc-linux-gnu-14",
            )
            .env("STUB_GCC_CURRENT", "2")
            .env("NO_COLOR", "1")
            .env_remove("STUB_EXIT")
            .env_remove("STUB_STATE_DIR")
            .env_remove("ROOT");
        if let Some(r) = root {
            cmd.env("ROOT", r);
        }
        let out = cmd.output().expect("gcc-config stub runs");
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let upstream =
        " [1] x86_64-pc-linux-gnu-12\n [2] x86_64-pc-linux-gnu-13 *\n [3] x86_64-pc-linux-gnu-14\n";
    assert_eq!(run(None), upstream);
    assert_eq!(
        run(Some("/mnt/gentoo")),
        format!("Using gcc-config info in /mnt/gentoo\n{upstream}")
    );
}
