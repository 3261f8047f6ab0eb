//! Under `--root`, a step's `when` probe and its check run inside the root (through the chroot
//! machine, as the step's programs do), never on the host: the root stands for another box.
//! Needs root (chroot); skipped with a message otherwise, failing under
//! FIELDBOOK_ACCEPTANCE=require.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::skip::{is_root, skip};

/// A tiny root: busybox with the libraries it links, `test`, `true` and `false` as busybox
/// links, and a marker file that exists only inside it.
fn busybox_root(root: &Path) -> bool {
    let busybox = Path::new("/bin/busybox");
    let Ok(ldd) = Command::new("ldd").arg(busybox).output() else {
        return false;
    };
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    for lib in String::from_utf8_lossy(&ldd.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
    {
        let to = root.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(lib, &to).unwrap();
    }
    for tool in ["test", "true", "false", "sh"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(tool)).unwrap();
    }
    std::fs::write(root.join("only-in-root"), "").unwrap();
    true
}

const TEST: &str = "probes_and_checks_under_root_run_inside_the_root";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env_remove("FIELDBOOK_STATE_DIR")
        .env("PATH", "/bin:/usr/bin:/sbin:/usr/sbin")
        .arg("--checklists")
        .arg(dir.join("books"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--target")
        .arg("guest")
        .arg("--root")
        .arg(dir.join("root"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `in-root` applies only inside the root (its marker is there, not on the host); `on-host`
/// only on the host (its marker is a host file); `checked`'s check passes only inside the root.
#[test]
fn probes_and_checks_under_root_run_inside_the_root() {
    if !is_root() {
        return skip(TEST, "needs root (chroot into a throwaway busybox root)").unwrap_or(());
    }
    let dir = tempfile::tempdir().unwrap();
    if !busybox_root(&dir.path().join("root")) {
        return skip(TEST, "no ldd to copy busybox's libraries").unwrap_or(());
    }
    let host_marker = dir.path().join("only-on-host");
    std::fs::write(&host_marker, "").unwrap();
    assert!(!Path::new("/only-in-root").exists());
    std::fs::create_dir_all(dir.path().join("books")).unwrap();
    let step = |id: &str, when: &str| {
        format!(
            "[[section.step]]\nid = \"{id}\"\ntitle = \"{id}\"\nwhy = \"w\"\nkind = \"command\"\n\
             commands = [[\"true\"]]\n{when}\n"
        )
    };
    let book = format!(
        "id = \"probes\"\ntitle = \"P\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n{}{}{}",
        step(
            "in-root",
            "when = { probe = [\"test\", \"-f\", \"/only-in-root\"], not_needed = \"marker absent\" }"
        ),
        step(
            "on-host",
            &format!(
                "when = {{ probe = [\"test\", \"-f\", \"{}\"], not_needed = \"host marker absent\" }}",
                host_marker.display()
            )
        ),
        step("checked", "check = [\"test\", \"-f\", \"/only-in-root\"]"),
    );
    std::fs::write(dir.path().join("books/probes.toml"), book).unwrap();

    let o = run(dir.path(), &["auto", "probes"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("[-] in-root"), "probed on the host: {err}");
    assert!(
        err.contains("[-] on-host: not needed (host marker absent)"),
        "probed on the host: {err}"
    );
    let run_file = fieldbook::core::state_dir::StateDir::at(dir.path().join("state"), false)
        .run_file("probes", "guest");
    let run = fieldbook::core::state_dir::read_run(&run_file).unwrap();
    let state = serde_json::to_value(run).unwrap();
    assert_eq!(state["steps"]["in-root"]["status"], "done", "{state}");
    assert_eq!(state["steps"]["on-host"]["status"], "skipped", "{state}");
    // The check found the root's marker: the step was already done, nothing ran.
    assert_eq!(state["steps"]["checked"]["status"], "done", "{state}");
    assert!(err.contains("already"), "{err}");
}
