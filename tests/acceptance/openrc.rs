//! The Xen runbook's networking steps against Debian's real OpenRC `rc-update`, in a chroot.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use fieldbook::core::parse::rc_update;

use crate::fieldbook::{Fieldbook, assert_clean, step_running};
use crate::setup::{self, Part, Root};
use crate::transcript;

const RUNBOOK: &str = "xen4-migration";

/// The three networking commands of the Xen runbook with the article's names, and the real
/// message rc-update prints for each on a box where they have not been done yet.
const STEPS: [(&[&str], (&str, &str), &str); 3] = [
    (
        &["rc-update", "del", "net.eth0", "default"],
        ("ext_if", "eth0"),
        " * service net.eth0 removed from runlevel default\n",
    ),
    (
        &["rc-update", "add", "net.extbr0", "default"],
        ("ext_bridge", "extbr0"),
        " * service net.extbr0 added to runlevel default\n",
    ),
    (
        &["rc-update", "add", "net.xenbr0", "default"],
        ("int_bridge", "xenbr0"),
        " * service net.xenbr0 added to runlevel default\n",
    ),
];

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/bash\n{body}")).expect("write wrapper");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod wrapper");
}

/// PATH wrappers for one pass: `rc-update` logs its argv to `calls` and runs the real one in the
/// chroot; `test` answers the steps' `check` commands about the ROOT's files (`answer = None`),
/// or always says "not done yet" (`Some(1)`), as on a box where the check cannot tell.
fn wrappers(root: &Root, dir: &Path, calls: &Path, answer: Option<i32>) -> PathBuf {
    fs::create_dir_all(dir).expect("wrapper dir");
    script(
        &dir.join("rc-update"),
        &format!(
            "printf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            calls.display(),
            root.bin().join("rc-update").display()
        ),
    );
    let test = match answer {
        Some(code) => format!("exit {code}\n"),
        None => format!(
            "args=()\nfor a in \"$@\"; do case $a in /*) args+=('{}'\"$a\");; *) args+=(\"$a\");; esac; done\n\
             exec /usr/bin/test \"${{args[@]}}\"\n",
            root.tree().display()
        ),
    };
    script(&dir.join("test"), &test);
    dir.to_path_buf()
}

fn links(root: &Root, level: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        fs::read_dir(root.tree().join("etc/runlevels").join(level))
            .expect("runlevel dir")
            .map(|e| {
                let e = e.expect("entry");
                let target = fs::read_link(e.path()).expect("runlevel entries are symlinks");
                (
                    e.file_name().to_string_lossy().into_owned(),
                    target.to_string_lossy().into_owned(),
                )
            })
            .collect();
    out.sort();
    out
}

fn calls(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn xen_networking_steps_run_through_fieldbook_against_the_real_rc_update() {
    let test = "xen_networking_steps_run_through_fieldbook_against_the_real_rc_update";
    let Some(root) = setup::root(test, Part::OpenRc) else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let ids: Vec<String> = STEPS
        .iter()
        .map(|(argv, var, _)| step_running(RUNBOOK, argv, &[*var]))
        .collect();

    // First pass: the checks see the links in the root, so every step really runs rc-update.
    let log1 = work.path().join("calls-1");
    let bin = wrappers(&root, &work.path().join("bin-1"), &log1, None);
    let fb = Fieldbook::new(&work.path().join("state-1"), &[bin, root.bin()]);
    // These steps come after brctl-present (`after`), which looks for /sbin/brctl on this
    // machine; the suite is about rc-update, so they run with --force (the ordering has its
    // own tests in conditions_cli.rs). Taking eth0 out asks for confirmation: without --yes
    // nothing runs (exit 3).
    let unconfirmed = fb.exec_with(RUNBOOK, &ids[0], &[STEPS[0].1], &["--force"]);
    assert_eq!(unconfirmed.code, 3, "{}", unconfirmed.all());
    assert!(
        calls(&log1).is_empty(),
        "rc-update ran without confirmation"
    );
    for (id, (argv, var, message)) in ids.iter().zip(STEPS) {
        let out = fb.exec_with(RUNBOOK, id, &[var], &["--yes", "--force"]);
        assert_eq!(out.code, 0, "{id} should end done:\n{}", out.all());
        assert!(
            out.all().contains(message),
            "{id}: fieldbook did not show rc-update's message {message:?}:\n{}",
            out.all()
        );
        assert_clean(id, &out.all());
        assert_eq!(
            calls(&log1).last().map(String::as_str),
            Some(&*argv[1..].join(" "))
        );
    }
    assert_eq!(calls(&log1).len(), 3, "rc-update runs once per step");

    // The runlevel links in the root: eth0 gone, both bridges in default, nothing else touched.
    let default: Vec<(String, String)> = [
        "cronie",
        "local",
        "net.extbr0",
        "net.xenbr0",
        "netmount",
        "sshd",
    ]
    .iter()
    .map(|s| (s.to_string(), format!("/etc/init.d/{s}")))
    .collect();
    assert_eq!(links(&root, "default"), default);
    assert_eq!(links(&root, "boot").len(), 5);
    assert_eq!(
        fs::read_link(root.tree().join("etc/init.d/net.xenbr0")).expect("netifrc link"),
        PathBuf::from("net.lo")
    );

    // The rc-update tool screen's parser on the real `rc-update show` (and -v show) output.
    let show = std::process::Command::new(root.bin().join("rc-update"))
        .arg("show")
        .output()
        .expect("rc-update show");
    let parsed = rc_update::parse(&String::from_utf8_lossy(&show.stdout));
    assert!(parsed.unrecognised.is_empty(), "{:?}", parsed.unrecognised);
    let in_default: Vec<&str> = parsed
        .services
        .iter()
        .filter(|s| s.runlevels.iter().any(|r| r == "default"))
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        in_default,
        [
            "cronie",
            "local",
            "net.extbr0",
            "net.xenbr0",
            "netmount",
            "sshd"
        ]
    );
    assert_eq!(
        parsed.service("local").map(|s| s.runlevels.clone()),
        Some(vec!["default".to_string(), "nonetwork".to_string()])
    );
    assert!(parsed.service("net.eth0").is_none());
    assert_eq!(
        parsed.runlevels,
        ["boot", "default", "nonetwork", "shutdown", "sysinit"]
    );
    let verbose = std::process::Command::new(root.bin().join("rc-update"))
        .args(["-v", "show"])
        .output()
        .expect("rc-update -v show");
    let parsed_v = rc_update::parse(&String::from_utf8_lossy(&verbose.stdout));
    assert!(
        parsed_v.unrecognised.is_empty(),
        "{:?}",
        parsed_v.unrecognised
    );
    assert_eq!(
        parsed_v.service("net.eth0").map(|s| s.runlevels.len()),
        Some(0),
        "-v lists net.eth0 in no runlevel"
    );
    assert_eq!(
        parsed_v.services.len(),
        24,
        "the 23 scripts of the reference root, and net.xenbr0"
    );

    // Second pass, same state: the steps are already done; their checks (answered from the
    // root) say so, and rc-update is not run again.
    let before = calls(&log1).len();
    for id in &ids {
        let out = fb.exec_with(RUNBOOK, id, &[], &["--yes", "--force"]);
        assert_eq!(out.code, 0, "{id} again should stay done:\n{}", out.all());
        assert_clean(id, &out.all());
    }
    assert_eq!(
        calls(&log1).len(),
        before,
        "rc-update ran although the checks said done"
    );

    // Third pass, as on a box whose checks cannot tell (fresh state, `test` always "not yet"):
    // rc-update really runs again. The real "already installed ... skipping" (exit 0) and
    // "not in the runlevel" (exit 1) must both end the step done, through the runbook's
    // ok_output.
    let log3 = work.path().join("calls-3");
    let bin3 = wrappers(&root, &work.path().join("bin-3"), &log3, Some(1));
    let fb3 = Fieldbook::new(&work.path().join("state-3"), &[bin3, root.bin()]);
    let again = [
        " * rc-update: service `net.eth0' is not in the runlevel `default'\n",
        " * rc-update: net.extbr0 already installed in runlevel `default'; skipping\n",
        " * rc-update: net.xenbr0 already installed in runlevel `default'; skipping\n",
    ];
    for ((id, (_, var, _)), message) in ids.iter().zip(STEPS).zip(again) {
        let out = fb3.exec_with(RUNBOOK, id, &[var], &["--yes", "--force"]);
        assert_eq!(out.code, 0, "{id} run twice must end done:\n{}", out.all());
        assert!(
            out.all().contains(message),
            "{id}: the real message {message:?} was not shown:\n{}",
            out.all()
        );
        assert_clean(id, &out.all());
    }
    assert_eq!(
        calls(&log3).len(),
        3,
        "rc-update ran once per step in the third pass"
    );
    assert_eq!(
        links(&root, "default"),
        default,
        "repeating changed nothing"
    );
}

/// The root built by the setup behaves like the one the reference transcript was recorded in:
/// the same messages, streams and exit codes, and the same `show` tables (plus net.xenbr0,
/// which the reference root did not have).
#[test]
fn the_root_reproduces_the_reference_transcript() {
    let test = "the_root_reproduces_the_reference_transcript";
    let Some(root) = setup::root(test, Part::OpenRc) else {
        return;
    };
    let runs = transcript::load("rc-update.txt");
    for run in &runs {
        let args: Vec<&str> = run.command.split_whitespace().skip(1).collect();
        // Recorded before the softlevel file existed: there a bare `add` went to sysinit.
        if args == ["add", "sshd"] {
            continue;
        }
        let out = std::process::Command::new(root.bin().join("rc-update"))
            .args(&args)
            .output()
            .expect("rc-update runs");
        let keep = |text: &str| {
            text.lines()
                .filter(|l| !l.contains("net.xenbr0"))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        };
        assert_eq!(
            keep(&String::from_utf8_lossy(&out.stdout)),
            run.stdout,
            "stdout of `{}`",
            run.command
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            run.stderr,
            "stderr of `{}`",
            run.command
        );
        assert_eq!(
            out.status.code(),
            Some(run.exit),
            "exit of `{}`",
            run.command
        );
    }
    // With the softlevel file, a bare `add` goes into default as on a booted box.
    let out = std::process::Command::new(root.bin().join("rc-update"))
        .args(["add", "sshd"])
        .output()
        .expect("rc-update runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        " * rc-update: sshd already installed in runlevel `default'; skipping\n"
    );
}

/// Gives the root busybox as `test` and `sh` (its libc is already there), so the steps' `check`
/// probes can run inside it.
fn give_busybox(root: &Root) {
    let tree = root.tree();
    fs::create_dir_all(tree.join("usr/bin")).expect("usr/bin");
    fs::copy("/bin/busybox", tree.join("bin/busybox")).expect("copy busybox into the root");
    for (link, to) in [("usr/bin/test", "/bin/busybox"), ("bin/sh", "busybox")] {
        let _ = fs::remove_file(tree.join(link));
        std::os::unix::fs::symlink(to, tree.join(link)).expect("link");
    }
}

/// The starting runlevels again (after a pass changed them), with the real rc-update.
fn back_to_the_start(root: &Root) {
    for args in [
        ["add", "net.eth0", "default"],
        ["del", "net.extbr0", "default"],
        ["del", "net.xenbr0", "default"],
    ] {
        let st = std::process::Command::new(root.bin().join("rc-update"))
            .args(args)
            .output()
            .expect("rc-update");
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
}

/// The loopback sshd of tests/remote_ssh.rs, for `--host root@127.0.0.1`.
fn sshd_args() -> Option<Vec<String>> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("remote-sshd");
    let out = std::process::Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/remote-sshd.sh"))
        .arg(&dir)
        .output()
        .expect("remote-sshd.sh runs");
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.code() == Some(75),
            "the sshd for the --host pass cannot start: {why}"
        );
        return crate::common::skip::skip("the --host pass", &why);
    }
    let port = fs::read_to_string(dir.join("port")).expect("port");
    let mut args = vec!["--host".to_string(), "root@127.0.0.1".into()];
    for o in [
        format!("Port={}", port.trim()),
        format!("UserKnownHostsFile={}", dir.join("known_hosts").display()),
        "BatchMode=yes".into(),
        "IdentitiesOnly=yes".into(),
    ] {
        args.push("--ssh-option".into());
        args.push(o);
    }
    for a in [
        "-F".to_string(),
        "/dev/null".into(),
        "-i".into(),
        dir.join("id_ed25519").display().to_string(),
    ] {
        args.push(format!("--ssh-arg={a}"));
    }
    args.push("--remote-dir".into());
    args.push(dir.join("remote-root").display().to_string());
    Some(args)
}

/// The same networking steps with NO wrapper script: once through `--root` (the chroot machine)
/// and once through `--host` with `--root` (a chroot on the host, over a real sshd). The
/// checks look inside the root: on this machine `/etc/runlevels/default/net.eth0` does not
/// exist, so a check run here would call "take eth0 out" already done; inside the root it is a
/// link, so the step really runs.
#[test]
fn xen_networking_steps_through_the_chroot_machine_and_over_ssh() {
    let test = "xen_networking_steps_through_the_chroot_machine_and_over_ssh";
    let Some(root) = setup::root(test, Part::OpenRc) else {
        return;
    };
    assert!(
        !Path::new("/etc/runlevels/default/net.eth0").exists(),
        "this machine has OpenRC runlevels; the test needs a host without them"
    );
    give_busybox(&root);
    let work = tempfile::tempdir().expect("tempdir");
    let ids: Vec<String> = STEPS
        .iter()
        .map(|(argv, var, _)| step_running(RUNBOOK, argv, &[*var]))
        .collect();
    let tree = root.tree().display().to_string();
    let default: Vec<(String, String)> = [
        "cronie",
        "local",
        "net.extbr0",
        "net.xenbr0",
        "netmount",
        "sshd",
    ]
    .iter()
    .map(|s| (s.to_string(), format!("/etc/init.d/{s}")))
    .collect();
    let mut passes: Vec<(&str, Vec<String>)> =
        vec![("--root", vec!["--root".into(), tree.clone()])];
    if let Some(mut ssh) = sshd_args() {
        ssh.extend(["--root".to_string(), tree.clone()]);
        passes.push(("--host --root", ssh));
    }
    for (n, (name, global)) in passes.iter().enumerate() {
        if n > 0 {
            back_to_the_start(&root);
        }
        let fb = Fieldbook::new(&work.path().join(format!("state-{n}")), &[]);
        // --force: past brctl-present (`after`), as in the test above.
        let mut extra: Vec<&str> = vec!["--yes", "--force", "--target", "guest"];
        extra.extend(global.iter().map(String::as_str));
        for (id, (_, var, message)) in ids.iter().zip(STEPS) {
            let out = fb.exec_with(RUNBOOK, id, &[var], &extra);
            assert_eq!(out.code, 0, "{name}: {id} should end done:\n{}", out.all());
            assert!(
                out.all().contains(message),
                "{name}: {id}: rc-update's message {message:?} was not shown (did it run in \
                 the root?):\n{}",
                out.all()
            );
            assert_clean(id, &out.all());
        }
        assert_eq!(links(&root, "default"), default, "{name}");
        // Again: every check, answered inside the root, says done; nothing runs.
        for id in &ids {
            let out = fb.exec_with(RUNBOOK, id, &[], &extra);
            assert_eq!(out.code, 0, "{name}: {id} again:\n{}", out.all());
            assert!(
                out.all().contains("already done"),
                "{name}: {id}: the check inside the root should say done:\n{}",
                out.all()
            );
        }
        assert_eq!(
            links(&root, "default"),
            default,
            "{name}: repeating changed nothing"
        );
    }
}
