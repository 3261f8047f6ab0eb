//! The Runlevels tool against the REAL OpenRC `rc-update` (Debian's 0.45.2 in a chroot built
//! by scripts/acceptance-setup.sh): parse its `-v show`, make the Xen networking changes
//! through the model, run the exact argv, and verify with a fresh listing.
//!
//! Skipped (with a message) when not root or when the package registry cannot be reached,
//! unless FIELDBOOK_ACCEPTANCE=require.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::skip::{is_root, skip};

use fieldbook::core::parse::rc_update;
use fieldbook::core::runlevels::RunlevelTable;

const UNREACHABLE: i32 = 75;

/// Builds (or resets) the OpenRC root; `None` when the test must be skipped.
fn real_rc_update(test: &str) -> Option<PathBuf> {
    if !is_root() {
        return skip(
            test,
            "the real rc-update runs in a chroot, which needs root",
        );
    }
    // A directory of our own: the setup resets its roots on every run, so sharing one with
    // another test binary running at the same time would pull the root from under it.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("acceptance-tools");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/acceptance-setup.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .arg("openrc")
        .env("ACCEPTANCE_SETUP_QUIET", "1")
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => Some(dir.join("openrc/bin")),
        Some(UNREACHABLE) => skip(
            test,
            &format!(
                "a package registry could not be reached: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ),
        _ => panic!("acceptance setup failed: {out:?}"),
    }
}

fn rc_update(bin: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin.join("rc-update"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn xen_bridges_into_default_with_the_real_rc_update() {
    let Some(bin) = real_rc_update("xen_bridges_into_default_with_the_real_rc_update") else {
        return;
    };
    let show = rc_update(&bin, &["-v", "show"]);
    assert!(show.status.success(), "{show:?}");
    let listing = rc_update::parse(&String::from_utf8_lossy(&show.stdout));
    assert!(
        listing.unrecognised.is_empty(),
        "{:?}",
        listing.unrecognised
    );
    let mut table = RunlevelTable::new(&listing);
    assert!(table.rows.iter().any(|r| r.name == "net.xenbr0"));

    table.set("net.eth0", "default", false).unwrap();
    table.set("net.extbr0", "default", true).unwrap();
    table.set("net.xenbr0", "default", true).unwrap();
    let commands = table.commands();
    assert_eq!(
        commands,
        [
            ["rc-update", "del", "net.eth0", "default"],
            ["rc-update", "add", "net.extbr0", "default"],
            ["rc-update", "add", "net.xenbr0", "default"],
        ]
    );
    for argv in &commands {
        let out = rc_update(
            &bin,
            &argv[1..].iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert!(out.status.success(), "{argv:?}: {out:?}");
    }

    let after = rc_update(&bin, &["-v", "show"]);
    let after = rc_update::parse(&String::from_utf8_lossy(&after.stdout));
    assert!(table.verify(&after).is_empty(), "{after:?}");
    assert_eq!(after.service("net.xenbr0").unwrap().runlevels, ["default"]);
    assert!(after.service("net.eth0").unwrap().runlevels.is_empty());
    // Nothing left to do on a table rebuilt from the fresh listing.
    let mut again = RunlevelTable::new(&after);
    again.set("net.extbr0", "default", true).unwrap();
    assert!(again.commands().is_empty());
}
