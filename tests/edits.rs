//! File edits end to end on a temporary `--root`: every action applied, re-applied (no change)
//! and undone; mode and owner kept; backups only in the state directory's archive; the real
//! edit steps of the built-in runbooks applied to copies of the files the articles show; and a
//! process killed with SIGKILL mid-edit leaving the old or the new file whole.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fieldbook::core::apply::{self, EditContext, EditError};
use fieldbook::core::catalog::Catalog;
use fieldbook::core::progress::AppliedEdit;
use fieldbook::core::runbook::{Action, Edit, EditAction};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/edits/root");

/// Modes the fixtures have on a real system (git keeps only 644/755).
const MODES: &[(&str, u32)] = &[
    ("etc/cron.daily/mlocate.cron", 0o755),
    ("usr/sbin/snortreport.sh", 0o755),
    ("etc/init.d/net.lo", 0o755),
    ("etc/rc.d/rc.firewall.local", 0o750),
    ("etc/snmp/snmpd.conf", 0o600),
    ("etc/portage/make.conf", 0o640),
];

mod common;
use common::skip::is_root;

/// Runs `f` on a thread whose file-system identity is `nobody` (65534) when the test is root,
/// so permission checks apply as they do for an ordinary user (Linux's fsuid is per thread and
/// dropping it to non-zero drops the thread's file capabilities); otherwise runs it as is.
fn as_ordinary_user<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if !is_root() {
        return f();
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: setfsgid/setfsuid change only this thread's file-system identity.
                unsafe {
                    libc::setfsgid(65534);
                    libc::setfsuid(65534);
                }
                // SAFETY: as above; setfsuid returns the previous fsuid when given -1.
                assert_eq!(unsafe { libc::setfsuid(u32::MAX) }, 65534, "fsuid dropped");
                f()
            })
            .join()
            .unwrap()
    })
}

/// A fresh root holding a copy of the fixture tree, and a state directory beside it.
struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    state: PathBuf,
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

fn sandbox() -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let state = dir.path().join("state");
    copy_tree(Path::new(FIXTURES), &root);
    for (path, mode) in MODES {
        fs::set_permissions(root.join(path), fs::Permissions::from_mode(*mode)).unwrap();
    }
    if is_root() {
        // An owner that is not the test's, to prove it is kept.
        std::os::unix::fs::chown(root.join("etc/portage/make.conf"), Some(1234), Some(2345))
            .unwrap();
    }
    fs::create_dir_all(&state).unwrap();
    Sandbox {
        _dir: dir,
        root,
        state,
    }
}

/// Files, modes, owners and links under a directory, for before/after comparisons.
fn snapshot_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let m = fs::symlink_metadata(&p).unwrap();
            if m.file_type().is_symlink() {
                out.insert(rel, format!("-> {}", fs::read_link(&p).unwrap().display()));
            } else if m.is_dir() {
                walk(base, &p, out);
            } else {
                let body = fs::read_to_string(&p).unwrap();
                out.insert(
                    rel,
                    format!("{:o} {}:{}\n{body}", m.mode() & 0o7777, m.uid(), m.gid()),
                );
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

fn ctx<'a>(
    sb: &'a Sandbox,
    values: &'a BTreeMap<String, String>,
    archive: &'a Path,
) -> EditContext<'a> {
    EditContext {
        root: Some(&sb.root),
        state_dir: &sb.state,
        archive,
        values,
        follow_symlinks: false,
    }
}

fn edit(path: &str, action: EditAction) -> Edit {
    Edit {
        path: path.to_string(),
        comment: "#".to_string(),
        create: false,
        mode: None,
        missing: None,
        action,
    }
}

/// Apply, apply again (nothing), undo (tree as before) for one step's edits.
fn round_trip(sb: &Sandbox, edits: &[Edit]) -> Vec<AppliedEdit> {
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/test/host/run1");
    let c = ctx(sb, &values, &archive);
    let before = snapshot_tree(&sb.root);
    let preview = apply::preview(edits, &c).unwrap();
    assert!(
        !preview.already_applied(),
        "{edits:?} should change something"
    );
    let applied = apply::apply("step", &preview, &c, "2026-11-26T16:00:00Z").unwrap();
    assert!(!applied.is_empty());
    let after = snapshot_tree(&sb.root);
    assert_ne!(before, after);
    // Again: already applied, nothing written, nothing journalled.
    let again = apply::preview(edits, &c).unwrap();
    assert!(again.already_applied(), "second preview: {}", again.diff());
    assert_eq!(again.diff(), "");
    assert!(
        apply::apply_step("step", edits, &c, "t")
            .unwrap()
            .is_empty()
    );
    assert_eq!(snapshot_tree(&sb.root), after);
    // Backups: in the archive, equal to the original; none beside the file.
    for a in &applied {
        let backup = sb.state.join(a.backup.as_ref().unwrap());
        assert!(backup.starts_with(sb.state.join("archive/test/host/run1")));
        let rel = Path::new(&a.path)
            .strip_prefix(&sb.root)
            .unwrap()
            .display()
            .to_string();
        if let Some(orig) = before.get(&rel)
            && !orig.starts_with("->")
        {
            let body = orig.split_once('\n').unwrap().1;
            assert_eq!(
                fs::read_to_string(&backup).unwrap(),
                body,
                "backup of {rel}"
            );
            assert_eq!(fs::metadata(&backup).unwrap().mode() & 0o777, 0o600);
        }
        assert!(!a.diff.is_empty());
        // The hashes are of the content: a chmod leaves them equal.
        if !a.diff.starts_with("mode ") {
            assert_ne!(a.hash_before, a.hash_after);
        }
    }
    assert_no_litter(&sb.root);
    // Undo, newest first: the tree is exactly as before.
    for a in applied.iter().rev() {
        let p = apply::undo_preview(a, &sb.state).unwrap();
        assert!(!p.changed_since);
        assert!(!p.diff.is_empty());
        apply::undo(a, &sb.state, false).unwrap();
    }
    assert_eq!(snapshot_tree(&sb.root), before);
    applied
}

/// No backup or temporary file may be left among the edited files.
fn assert_no_litter(root: &Path) {
    for name in snapshot_tree(root).keys() {
        let base = name.rsplit('/').next().unwrap();
        assert!(
            !(base.ends_with(".bak")
                || base.ends_with('~')
                || base.contains(".fieldbook-tmp")
                || base
                    .rsplit_once(',')
                    .is_some_and(|(_, n)| n.parse::<u32>().is_ok())),
            "stray file beside the edited ones: {name}"
        );
    }
}

#[test]
fn every_action_applies_once_and_undoes() {
    let cases: Vec<Vec<Edit>> = vec![
        vec![edit(
            "/etc/inittab",
            EditAction::EnsureLine {
                line: "s0:12345:respawn:/sbin/mingetty ttyS0".into(),
                replace: None,
            },
        )],
        vec![edit(
            "/etc/xen/router.cfg",
            EditAction::EnsureLine {
                line: "vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0' ]".into(),
                replace: Some("vif =".into()),
            },
        )],
        vec![edit(
            "/etc/xen/xend-config.sxp",
            EditAction::CommentOut {
                pattern: "(network-script network-bridge)".into(),
            },
        )],
        vec![edit(
            "/etc/xen/xend-config.sxp",
            EditAction::Uncomment {
                pattern: "(network-script network-route)".into(),
            },
        )],
        vec![edit(
            "/etc/conf.d/rc",
            EditAction::SetVar {
                key: "RC_PLUG_SERVICES".into(),
                value: "!net.*".into(),
            },
        )],
        vec![edit(
            "/etc/portage/make.conf",
            EditAction::AddWords {
                key: "USE".into(),
                words: vec!["pae".into(), "xen".into()],
            },
        )],
        vec![edit(
            "/etc/portage/make.conf",
            EditAction::RemoveWords {
                key: "USE".into(),
                words: vec!["-gtk".into()],
            },
        )],
        vec![edit(
            "/etc/rc.d/rc.firewall.local",
            EditAction::EnsureBlock {
                marker: "syn-flood".into(),
                block: "echo 1 > /proc/sys/net/ipv4/tcp_syncookies".into(),
            },
        )],
        vec![edit(
            "/etc/cron.daily/mlocate.cron",
            EditAction::Chmod { executable: false },
        )],
        vec![edit(
            "/etc/init.d/net.extbr0",
            EditAction::Symlink {
                target: "net.lo".into(),
            },
        )],
        vec![Edit {
            create: true,
            mode: None,
            missing: None,
            ..edit(
                "/etc/portage/package.mask",
                EditAction::EnsureLine {
                    line: ">=sys-fs/udev-146".into(),
                    replace: None,
                },
            )
        }],
    ];
    for edits in cases {
        let sb = sandbox();
        round_trip(&sb, &edits);
    }
}

#[test]
fn mode_and_owner_are_kept() {
    let sb = sandbox();
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/x");
    let c = ctx(&sb, &values, &archive);
    let path = sb.root.join("etc/portage/make.conf");
    let before = fs::metadata(&path).unwrap();
    let edits = [edit(
        "/etc/portage/make.conf",
        EditAction::SetVar {
            key: "MAKEOPTS".into(),
            value: "-j2".into(),
        },
    )];
    apply::apply_step("s", &edits, &c, "t").unwrap();
    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.mode() & 0o7777, 0o640);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert_ne!(
        after.ino(),
        before.ino(),
        "written through a new file and rename"
    );
    if is_root() {
        assert_eq!((after.uid(), after.gid()), (1234, 2345));
    }
}

#[test]
fn several_edits_of_one_file_make_one_backup_and_one_diff() {
    let sb = sandbox();
    let edits = [
        edit(
            "/etc/xen/xend-config.sxp",
            EditAction::CommentOut {
                pattern: "(network-script network-bridge)".into(),
            },
        ),
        edit(
            "/etc/xen/xend-config.sxp",
            EditAction::CommentOut {
                pattern: "(vif-script vif-bridge)".into(),
            },
        ),
        edit(
            "/etc/xen/xend-config.sxp",
            EditAction::EnsureLine {
                line: "(vif-script vif-bridge bridge=xenbr0)".into(),
                replace: None,
            },
        ),
    ];
    let applied = round_trip(&sb, &edits);
    assert_eq!(applied.len(), 1);
    let d = &applied[0].diff;
    assert!(
        d.contains("-(network-script network-bridge)\n+#(network-script network-bridge)"),
        "{d}"
    );
    assert!(d.contains("+(vif-script vif-bridge bridge=xenbr0)"), "{d}");
}

#[test]
fn a_second_edit_of_the_same_file_keeps_both_backups() {
    let sb = sandbox();
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/x");
    let c = ctx(&sb, &values, &archive);
    let set = |v: &str| {
        [edit(
            "/etc/conf.d/rc",
            EditAction::SetVar {
                key: "RC_TTY_NUMBER".into(),
                value: v.into(),
            },
        )]
    };
    let original = fs::read_to_string(sb.root.join("etc/conf.d/rc")).unwrap();
    let first = apply::apply_step("a", &set("6"), &c, "t").unwrap();
    let middle = fs::read_to_string(sb.root.join("etc/conf.d/rc")).unwrap();
    let second = apply::apply_step("b", &set("2"), &c, "t").unwrap();
    let b1 = first[0].backup.clone().unwrap();
    let b2 = second[0].backup.clone().unwrap();
    assert_eq!(b1, "archive/x/etc/conf.d/rc,1");
    assert_eq!(b2, "archive/x/etc/conf.d/rc,2");
    assert_eq!(fs::read_to_string(sb.state.join(b1)).unwrap(), original);
    assert_eq!(fs::read_to_string(sb.state.join(b2)).unwrap(), middle);
    // Undoing the first while the second is in place would lose the second: refused.
    assert!(matches!(
        apply::undo(&first[0], &sb.state, false),
        Err(EditError::ChangedSinceApply(_))
    ));
    let p = apply::undo_preview(&first[0], &sb.state).unwrap();
    assert!(p.changed_since);
    apply::undo(&second[0], &sb.state, false).unwrap();
    apply::undo(&first[0], &sb.state, false).unwrap();
    assert_eq!(
        fs::read_to_string(sb.root.join("etc/conf.d/rc")).unwrap(),
        original
    );
}

#[test]
fn bad_input_is_refused_with_a_message_and_nothing_written() {
    let sb = sandbox();
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/x");
    let c = ctx(&sb, &values, &archive);
    let line = |path: &str| {
        edit(
            path,
            EditAction::EnsureLine {
                line: "x".into(),
                replace: None,
            },
        )
    };
    let before = snapshot_tree(&sb.root);

    let err = apply::preview(&[line("/etc/missing.conf")], &c).unwrap_err();
    assert!(matches!(err, EditError::Missing(_)), "{err}");
    assert!(err.to_string().contains("create = true"));

    let err = apply::preview(
        &[Edit {
            create: true,
            mode: None,
            missing: None,
            ..line("/etc/nodir/new.conf")
        }],
        &c,
    )
    .and_then(|p| apply::apply("s", &p, &c, "t").map_err(|f| f.error))
    .unwrap_err();
    assert!(matches!(err, EditError::NoDirectory { .. }), "{err}");

    fs::write(sb.root.join("etc/blob"), b"\x7fELF\x00\x01").unwrap();
    let err = apply::preview(&[line("/etc/blob")], &c).unwrap_err();
    assert!(matches!(err, EditError::Binary(_)), "{err}");
    fs::remove_file(sb.root.join("etc/blob")).unwrap();

    let big = sb.root.join("etc/huge.log");
    let f = fs::File::create(&big).unwrap();
    f.set_len(apply::MAX_FILE_BYTES + 1).unwrap();
    let err = apply::preview(&[line("/etc/huge.log")], &c).unwrap_err();
    assert!(matches!(err, EditError::TooBig { .. }), "{err}");
    fs::remove_file(&big).unwrap();

    let err = apply::preview(&[line("/etc")], &c).unwrap_err();
    assert!(matches!(err, EditError::NotRegular { .. }), "{err}");

    let err = apply::preview(&[line("/etc/../../outside")], &c).unwrap_err();
    assert!(matches!(err, EditError::Escapes(_)), "{err}");

    // A symlink action never replaces a real file.
    let err = apply::preview(
        &[edit(
            "/etc/inittab",
            EditAction::Symlink { target: "x".into() },
        )],
        &c,
    )
    .unwrap_err();
    assert!(matches!(err, EditError::NotALink(_)), "{err}");

    // chmod on a missing file.
    let err =
        apply::preview(&[edit("/nope", EditAction::Chmod { executable: true })], &c).unwrap_err();
    assert!(matches!(err, EditError::Missing(_)), "{err}");

    assert_eq!(snapshot_tree(&sb.root), before, "nothing was written");
}

#[test]
fn permission_denied_is_reported() {
    let sb = sandbox();
    if is_root() {
        // The sandbox belongs to the ordinary user the edit runs as (see `as_ordinary_user`).
        let chown = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(sb._dir.path())
            .status()
            .unwrap();
        assert!(chown.success());
    }
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/x");
    let c = ctx(&sb, &values, &archive);
    let dir = sb.root.join("etc/conf.d");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    let edits = [edit(
        "/etc/conf.d/rc",
        EditAction::SetVar {
            key: "RC_TTY_NUMBER".into(),
            value: "2".into(),
        },
    )];
    let before = fs::read_to_string(dir.join("rc")).unwrap();
    let err = as_ordinary_user(|| apply::apply_step("s", &edits, &c, "t")).unwrap_err();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(
        matches!(err.error, EditError::Permission { .. }),
        "{}",
        err.error
    );
    assert_eq!(fs::read_to_string(dir.join("rc")).unwrap(), before);
}

#[test]
fn symlinks_are_reported_and_followed_only_when_confirmed() {
    let sb = sandbox();
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/x");
    // make.conf moved into a directory and linked, as on many Gentoo boxes; the absolute target
    // must resolve inside the root.
    symlink("/etc/portage/make.conf", sb.root.join("etc/make.conf")).unwrap();
    let edits = [edit(
        "/etc/make.conf",
        EditAction::SetVar {
            key: "MAKEOPTS".into(),
            value: "-j8".into(),
        },
    )];
    let c = ctx(&sb, &values, &archive);
    let err = apply::preview(&edits, &c).unwrap_err();
    match &err {
        EditError::Symlink { points_to, .. } => assert_eq!(points_to, "/etc/portage/make.conf"),
        other => panic!("{other}"),
    }
    let c = EditContext {
        follow_symlinks: true,
        ..c
    };
    let applied = apply::apply_step("s", &edits, &c, "t").unwrap();
    assert_eq!(
        PathBuf::from(&applied[0].path),
        sb.root.join("etc/portage/make.conf")
    );
    assert!(
        fs::read_to_string(sb.root.join("etc/portage/make.conf"))
            .unwrap()
            .contains("MAKEOPTS=\"-j8\"")
    );
    assert!(
        fs::symlink_metadata(sb.root.join("etc/make.conf"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_file_changed_after_the_preview_is_edited_as_it_is_now() {
    let sb = sandbox();
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/x");
    let c = ctx(&sb, &values, &archive);
    let edits = [edit(
        "/etc/inittab",
        EditAction::CommentOut {
            pattern: "--autologin".into(),
        },
    )];
    let p = apply::preview(&edits, &c).unwrap();
    // The edit is made on the file as it is under its lock: here there is nothing left to do,
    // so nothing is written and nothing recorded.
    fs::write(sb.root.join("etc/inittab"), "someone else\n").unwrap();
    let applied = apply::apply("s", &p, &c, "t").unwrap();
    assert!(applied.is_empty(), "{applied:?}");
    assert_eq!(
        fs::read_to_string(sb.root.join("etc/inittab")).unwrap(),
        "someone else\n"
    );
    // Another change made since the preview is kept, and the edit is made beside it.
    let original = "x --autologin root\n";
    fs::write(sb.root.join("etc/inittab"), original).unwrap();
    let p = apply::preview(&edits, &c).unwrap();
    fs::write(sb.root.join("etc/inittab"), format!("{original}theirs\n")).unwrap();
    let applied = apply::apply("s", &p, &c, "t").unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(
        fs::read_to_string(sb.root.join("etc/inittab")).unwrap(),
        "#x --autologin root\ntheirs\n"
    );
    assert!(
        applied[0].diff.contains("+#x --autologin root"),
        "{}",
        applied[0].diff
    );
}

// ---------------------------------------------------------------------------------------------
// The built-in runbooks' real edit steps.

/// Values a technician would type for variables without a default.
fn test_values() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("lan_ip", "192.168.1.1"),
        ("snmp_community", "fieldbook-ro"),
        ("allowed_subnet", "192.168.1.0/24"),
        ("snmp_contact", "admin@example.net"),
        ("fail2ban_rpm_url", "http://example.net/fail2ban.rpm"),
        ("fragile_atom", "x11-drivers/ati-drivers"),
        ("int_if", "eth1"),
        ("int_address", "192.168.10.2/24"),
        ("gateway", "192.168.10.1"),
        ("vm_config", "/etc/xen/router.cfg"),
        ("vm_mac", "00:16:3e:12:34:56"),
        ("clearos_vm_line", "serial = \"pty\""),
        ("guest_inittab", "/guest/etc/inittab"),
        ("guest_securetty", "/guest/etc/securetty"),
        ("grub_root", "(hd0,0)"),
        ("dom0_kernel", "vmlinuz-2.6.18-xen-r12"),
        ("dom0_root", "/dev/sda3"),
        ("udev_mask_line", ">=sys-fs/udev-146"),
    ])
}

/// Whether a step's `when` probe says yes for the fixture root: `test [!] -f|-d|-e|-x PATH`
/// probes are answered from the root (as on the box the root stands for); a question or any
/// other probe counts as yes, so its edits are still checked.
fn applies_under_root(
    step: &fieldbook::core::runbook::Step,
    root: &Path,
    values: &BTreeMap<String, String>,
) -> bool {
    use fieldbook::core::conditions::{Applicability, decide};
    use fieldbook::core::runner::CheckResult;
    let answer = decide(step, values, |cmd| {
        let a: Vec<&str> = cmd.argv.iter().map(String::as_str).collect();
        let (negate, rest) = match a.as_slice() {
            ["test", "!", rest @ ..] => (true, rest),
            ["test", rest @ ..] => (false, rest),
            _ => return CheckResult::AlreadyDone,
        };
        let [flag, path] = rest else {
            return CheckResult::AlreadyDone;
        };
        let p = root.join(path.trim_start_matches('/'));
        let found = match *flag {
            "-f" => p.is_file(),
            "-d" => p.is_dir(),
            "-e" | "-x" => p.exists(),
            _ => return CheckResult::AlreadyDone,
        };
        if found != negate {
            CheckResult::AlreadyDone
        } else {
            CheckResult::NotDone
        }
    });
    !matches!(answer, Applicability::NotNeeded(_))
}

fn golden_for(id: &str) {
    let catalog = Catalog::load(None);
    let rb = &catalog.get(id).unwrap().runbook;
    let given = test_values();
    let mut values = rb.default_values();
    for v in &rb.variables {
        if let Some(x) = given.get(v.name.as_str()) {
            values.insert(v.name.clone(), x.to_string());
        }
        assert!(
            values.contains_key(&v.name),
            "give test value for variable {}",
            v.name
        );
    }
    let sb = sandbox();
    let pristine = snapshot_tree(&sb.root);
    let archive = apply::archive_dir(id, "testhost", "2026-11-26T16:00:00Z");
    let c = ctx(&sb, &values, &archive);
    let mut report = String::new();
    let mut applied_all = Vec::new();
    let mut edit_steps = 0;
    for (_, step) in rb.steps() {
        let Action::Edit { edits } = &step.action else {
            continue;
        };
        if !applies_under_root(step, &sb.root, &values) {
            continue;
        }
        edit_steps += 1;
        let preview = apply::preview(edits, &c).unwrap_or_else(|e| panic!("{}: {e}", step.id));
        report.push_str(&format!("== {} ==\n", step.id));
        if preview.already_applied() {
            report.push_str("(already applied)\n");
        }
        report.push_str(&preview.diff());
        let applied = apply::apply(&step.id, &preview, &c, "2026-11-26T16:00:00Z").unwrap();
        applied_all.extend(applied);
        assert!(
            apply::preview(edits, &c).unwrap().already_applied(),
            "{} again",
            step.id
        );
    }
    assert!(edit_steps > 0);
    assert_no_litter(&sb.root);
    insta::assert_snapshot!(format!("runbook_{}", id.replace('-', "_")), report);
    for a in applied_all.iter().rev() {
        apply::undo(a, &sb.state, false).unwrap();
    }
    assert_eq!(
        snapshot_tree(&sb.root),
        pristine,
        "undo of every step restores the tree"
    );
}

/// The ClearOS console step ends with the article's three getty lines even on an inittab
/// without a tty2 getty (the fixture has one, so the golden run cannot tell whether the tty2
/// line is ensured at all): the clearconsole autologin commented out, a plain tty1 getty and
/// the article's `2:2345:respawn:/sbin/mingetty tty2`, each once; again changes nothing, undo
/// gives the file back.
#[test]
fn the_clearos_console_step_adds_the_articles_tty2_getty() {
    let catalog = Catalog::load(None);
    let rb = &catalog.get("clearos-install").unwrap().runbook;
    let Action::Edit { edits } = &rb.step("inittab-console").unwrap().action else {
        panic!("inittab-console is an edit step");
    };
    let sb = sandbox();
    let path = sb.root.join("etc/inittab");
    let stock = fs::read_to_string(&path).unwrap();
    let tty2 = "2:2345:respawn:/sbin/mingetty tty2";
    let without: String = stock
        .lines()
        .filter(|l| *l != tty2)
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!without.contains("tty2"), "{without}");
    fs::write(&path, &without).unwrap();
    let values = rb.default_values();
    let archive = apply::archive_dir("clearos-install", "testhost", "2026-12-03T08:00:00Z");
    let c = ctx(&sb, &values, &archive);
    let preview = apply::preview(edits, &c).unwrap();
    assert!(
        preview.diff().contains(&format!("+{tty2}\n")),
        "{}",
        preview.diff()
    );
    let applied = apply::apply("inittab-console", &preview, &c, "2026-12-03T08:00:00Z").unwrap();
    let after = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = after.lines().collect();
    for want in [
        "#1:2345:respawn:/sbin/mingetty --autologin=clearconsole tty1",
        "1:2345:respawn:/sbin/mingetty tty1",
        tty2,
    ] {
        assert_eq!(
            lines.iter().filter(|l| **l == want).count(),
            1,
            "{want} once:\n{after}"
        );
    }
    assert!(apply::preview(edits, &c).unwrap().already_applied());
    for a in applied.iter().rev() {
        apply::undo(a, &sb.state, false).unwrap();
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), without);
}

/// The ClearOS `securetty-serial` step on a Xen guest (its probe, `test -d /proc/xen`,
/// answered from the root says yes): ttyS0 is added once to a stock securetty, again changes
/// nothing, undo gives the file back. Without /proc/xen the probe says no and it is not needed.
#[test]
fn the_clearos_serial_console_step_applies_on_a_xen_guest() {
    let catalog = Catalog::load(None);
    let rb = &catalog.get("clearos-install").unwrap().runbook;
    let step = rb.step("securetty-serial").unwrap();
    let Action::Edit { edits } = &step.action else {
        panic!("securetty-serial is an edit step");
    };
    let sb = sandbox();
    let values = rb.default_values();
    assert!(
        !applies_under_root(step, &sb.root, &values),
        "no /proc/xen: not a Xen guest"
    );
    let stock = fs::read_to_string(sb.root.join("guest/etc/securetty")).unwrap();
    assert!(!stock.lines().any(|l| l == "ttyS0"), "{stock}");
    fs::write(sb.root.join("etc/securetty"), &stock).unwrap();
    fs::create_dir_all(sb.root.join("proc/xen")).unwrap();
    assert!(applies_under_root(step, &sb.root, &values), "a Xen guest");
    let archive = apply::archive_dir("clearos-install", "testhost", "2026-12-03T08:00:00Z");
    let c = ctx(&sb, &values, &archive);
    let preview = apply::preview(edits, &c).unwrap();
    let applied = apply::apply("securetty-serial", &preview, &c, "2026-12-03T08:00:00Z").unwrap();
    let after = fs::read_to_string(sb.root.join("etc/securetty")).unwrap();
    assert_eq!(after, format!("{stock}ttyS0\n"));
    assert!(apply::preview(edits, &c).unwrap().already_applied());
    for a in applied.iter().rev() {
        apply::undo(a, &sb.state, false).unwrap();
    }
    assert_eq!(
        fs::read_to_string(sb.root.join("etc/securetty")).unwrap(),
        stock
    );
}

/// FEATURES of make.conf after the given runbook's collision steps (`protect` then, when
/// given, `restore`) on the fixture make.conf with FEATURES set to `features`: each step
/// applied, applied again (nothing changes) and, at the end, both undone (the file is back).
fn collision_steps(runbook: &str, restore: Option<&str>, features: &str) -> (String, String) {
    let catalog = Catalog::load(None);
    let rb = &catalog.get(runbook).unwrap().runbook;
    let sb = sandbox();
    let path = sb.root.join("etc/portage/make.conf");
    let stock = fs::read_to_string(&path).unwrap().replace(
        "FEATURES=\"parallel-fetch\"",
        &format!("FEATURES=\"{features}\""),
    );
    fs::write(&path, &stock).unwrap();
    let values = rb.default_values();
    let archive = apply::archive_dir(runbook, "testhost", "2026-12-03T08:00:00Z");
    let c = ctx(&sb, &values, &archive);
    let features_of = || {
        fs::read_to_string(&path)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("FEATURES=").map(str::to_string))
            .unwrap_or_default()
    };
    let mut applied = Vec::new();
    let mut seen = Vec::new();
    for step in std::iter::once("collision-protect").chain(restore) {
        let Action::Edit { edits } = &rb.step(step).unwrap().action else {
            panic!("{step} is an edit step");
        };
        let preview = apply::preview(edits, &c).unwrap_or_else(|e| panic!("{step}: {e}"));
        assert!(!preview.already_applied(), "{step} has nothing to do");
        applied.extend(apply::apply(step, &preview, &c, "2026-12-03T08:00:00Z").unwrap());
        assert!(
            apply::preview(edits, &c).unwrap().already_applied(),
            "{step} again"
        );
        seen.push(features_of());
    }
    for a in applied.iter().rev() {
        apply::undo(a, &sb.state, false).unwrap();
    }
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        stock,
        "undo gives the file back"
    );
    let after_restore = seen.get(1).cloned().unwrap_or_default();
    (seen[0].clone(), after_restore)
}

/// Relaxing collision protection takes both of portage's words (protect-owned, the default
/// since portage 2.1.6, guards the files of other packages even with collision-protect off),
/// and the closing step takes both out again, leaving the rest of FEATURES as it was.
#[test]
fn the_collision_steps_add_both_words_and_the_closing_step_takes_both_out() {
    for (features, relaxed) in [
        (
            "parallel-fetch",
            "\"parallel-fetch -collision-protect -protect-owned\"",
        ),
        (
            "parallel-fetch collision-protect protect-owned",
            "\"parallel-fetch -collision-protect -protect-owned\"",
        ),
        (
            "parallel-fetch -protect-owned",
            "\"parallel-fetch -protect-owned -collision-protect\"",
        ),
    ] {
        let (on, off) = collision_steps("gentoo-world-update", Some("collision-restore"), features);
        assert_eq!(on, relaxed, "{features}");
        assert_eq!(off, "\"parallel-fetch\"", "{features}");
    }
    let (on, _) = collision_steps("xen4-migration", None, "parallel-fetch");
    assert_eq!(on, "\"parallel-fetch -collision-protect -protect-owned\"");
}

#[test]
fn golden_xen4_migration() {
    golden_for("xen4-migration");
}

#[test]
fn golden_clearos_install() {
    golden_for("clearos-install");
}

#[test]
fn golden_gentoo_world_update() {
    golden_for("gentoo-world-update");
}

// ---------------------------------------------------------------------------------------------
// Crash safety: a child applies and undoes an edit of a large file in a loop and is killed
// with SIGKILL at a random moment; the file must be the old or the new version, whole.

const KILL_ENV: &str = "FIELDBOOK_TEST_KILL_ROOT";

fn big_original() -> String {
    (0..130_000)
        .map(|i| format!("line {i} of a large rules file\n"))
        .collect()
}

fn big_edit() -> Edit {
    edit(
        "/etc/big.rules",
        EditAction::EnsureBlock {
            marker: "crash".into(),
            block: "added by the crash test".into(),
        },
    )
}

/// The child process of `kill_9_leaves_old_or_new_file` when `FIELDBOOK_TEST_KILL_ROOT` is set:
/// it applies and undoes the big edit until killed. Run on its own, it checks that loop without
/// a kill: each round edits the file to the new text and undo brings back the old, byte for byte.
#[test]
fn kill_child_loop() {
    let (dir, rounds) = match std::env::var(KILL_ENV) {
        Ok(dir) => (PathBuf::from(dir), None),
        Err(_) => (tempfile::tempdir().unwrap().keep(), Some(3)),
    };
    let root = dir.join("root");
    let state = dir.join("state");
    if rounds.is_some() {
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(&state).unwrap();
        fs::write(root.join("etc/big.rules"), big_original()).unwrap();
    }
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/crash");
    let c = EditContext {
        root: Some(&root),
        state_dir: &state,
        archive: &archive,
        values: &values,
        follow_symlinks: false,
    };
    fs::write(dir.join("ready"), "").unwrap();
    let old = big_original();
    let new = fieldbook::core::edit::edit_text(&old, &big_edit().action, "#").unwrap();
    let mut round = 0;
    while rounds.is_none_or(|n| round < n) {
        let applied = apply::apply_step("s", &[big_edit()], &c, "t").unwrap();
        if rounds.is_some() {
            assert_eq!(fs::read_to_string(root.join("etc/big.rules")).unwrap(), new);
        }
        for a in &applied {
            apply::undo(a, &state, false).unwrap();
        }
        if rounds.is_some() {
            assert_eq!(fs::read_to_string(root.join("etc/big.rules")).unwrap(), old);
            round += 1;
        }
    }
    if rounds.is_some() {
        let _ = fs::remove_dir_all(&dir);
    }
}

#[test]
fn kill_9_leaves_old_or_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::create_dir_all(dir.path().join("state")).unwrap();
    let old = big_original();
    fs::write(root.join("etc/big.rules"), &old).unwrap();
    let new = fieldbook::core::edit::edit_text(&old, &big_edit().action, "#").unwrap();
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let exe = std::env::current_exe().unwrap();
    for round in 0..20 {
        let _ = fs::remove_file(dir.path().join("ready"));
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill_child_loop",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(KILL_ENV, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while !dir.path().join("ready").exists() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "child never started"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_micros(1_000 + rand() % 200_000));
        // SAFETY: kill on our own child's pid.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        let status = child.wait().unwrap();
        assert!(
            status.code().is_none(),
            "round {round}: the child was killed, not exited"
        );
        let now = fs::read_to_string(root.join("etc/big.rules")).unwrap();
        assert!(
            now == old || now == new,
            "round {round}: file is neither old nor new"
        );
        // Every backup in the archive that exists is whole too.
        let archive = dir.path().join("state/archive/crash/etc");
        if archive.exists() {
            for e in fs::read_dir(&archive).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if name.starts_with("big.rules,") && !name.ends_with(".json") {
                    let body = fs::read_to_string(&p).unwrap();
                    assert!(
                        body == old || body == new,
                        "round {round}: backup {name} is partial"
                    );
                }
            }
        }
        // Put the file back to the original for the next round (as undo would), and drop the
        // round's backups so the disk does not fill.
        if now != old {
            fs::write(root.join("etc/big.rules"), &old).unwrap();
        }
        let _ = fs::remove_dir_all(dir.path().join("state/archive"));
    }
    // A next apply after a crash cleans its own leftover temp file and works.
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/after");
    let state = dir.path().join("state");
    let c = EditContext {
        root: Some(&root),
        state_dir: &state,
        archive: &archive,
        values: &values,
        follow_symlinks: false,
    };
    apply::apply_step("s", &[big_edit()], &c, "t").unwrap();
    assert_eq!(fs::read_to_string(root.join("etc/big.rules")).unwrap(), new);
    assert!(!root.join("etc/.big.rules.fieldbook-tmp").exists());
}
