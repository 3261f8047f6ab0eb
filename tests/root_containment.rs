//! Edits inside a `--root` image under attack and under load (issue 17): a process racing
//! inside the image never makes an edit, a backup or an undo touch a file outside it (item 7);
//! two runbooks editing one file at once lose no edit (item 9); an edit keeps the file's
//! extended attributes (SELinux label, ACL, file capabilities) and undo restores them, and a
//! file an edit creates gets the runbook's `mode` (item 14).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use fieldbook::core::apply::{self, EditContext, EditError};
use fieldbook::core::runbook::{self, Action, Edit, EditAction};

struct Sandbox {
    _dir: tempfile::TempDir,
    top: PathBuf,
    root: PathBuf,
    state: PathBuf,
}

fn sandbox() -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().to_path_buf();
    let root = top.join("root");
    let state = top.join("state");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::create_dir_all(&state).unwrap();
    Sandbox {
        _dir: dir,
        top,
        root,
        state,
    }
}

fn set_var(path: &str, key: &str, value: &str) -> Edit {
    Edit {
        path: path.to_string(),
        comment: "#".to_string(),
        create: false,
        mode: None,
        missing: None,
        action: EditAction::SetVar {
            key: key.to_string(),
            value: value.to_string(),
        },
    }
}

fn context<'a>(
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

/// Item 7: a thread swaps `etc/` for a link to an outside directory holding a file with the
/// same content, over and over, while edits run. The outside file is never touched.
#[test]
fn a_racing_swap_of_a_directory_never_leads_an_edit_outside() {
    let sb = sandbox();
    let outside = sb.top.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(sb.root.join("etc/app.conf"), "A=\"0\"\n").unwrap();
    fs::write(outside.join("app.conf"), "A=\"0\"\n").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let racer = {
        let stop = stop.clone();
        let (etc, real, outside) = (
            sb.root.join("etc"),
            sb.root.join("etc.real"),
            outside.clone(),
        );
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::SeqCst) {
                if fs::rename(&etc, &real).is_ok() {
                    let _ = symlink(&outside, &etc);
                    std::thread::yield_now();
                    let _ = fs::remove_file(&etc);
                    let _ = fs::rename(&real, &etc);
                    swaps += 1;
                }
                std::thread::yield_now();
            }
            swaps
        })
    };
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/race");
    let ctx = context(&sb, &values, &archive);
    // At least 600 tries; more (up to 20,000) while none has got through yet, since on a
    // loaded machine the racer can win every one of the first 600.
    let mut applied = 0;
    for i in 1..=20_000 {
        if i > 600 && applied > 0 {
            break;
        }
        let edits = [set_var("/etc/app.conf", "A", &i.to_string())];
        if apply::apply_step("s", &edits, &ctx, "t").is_ok_and(|a| !a.is_empty()) {
            applied += 1;
        }
        let outside_now = fs::read_to_string(outside.join("app.conf")).unwrap();
        assert_eq!(
            outside_now, "A=\"0\"\n",
            "try {i} edited a file outside the root"
        );
    }
    stop.store(true, Ordering::SeqCst);
    let swaps = racer.join().unwrap();
    assert!(swaps > 0, "the racer never ran");
    assert!(applied > 0, "no edit got through at all");
    let names: Vec<_> = fs::read_dir(&outside).unwrap().collect();
    assert_eq!(names.len(), 1, "a temp or backup file was written outside");
}

/// Item 7: a link that appears on the way to the file after the edit does not make undo write
/// outside the root.
#[test]
fn undo_never_writes_through_a_link_that_appeared_after_the_edit() {
    let sb = sandbox();
    fs::write(sb.root.join("etc/app.conf"), "A=\"0\"\n").unwrap();
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/undo");
    let ctx = context(&sb, &values, &archive);
    let applied = apply::apply_step("s", &[set_var("/etc/app.conf", "A", "1")], &ctx, "t")
        .unwrap()
        .remove(0);
    // Inside the image, etc/ becomes a link to a host directory holding the edited text.
    let outside = sb.top.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("app.conf"), "A=\"1\"\n").unwrap();
    fs::rename(sb.root.join("etc"), sb.root.join("etc.moved")).unwrap();
    symlink(&outside, sb.root.join("etc")).unwrap();
    let result = apply::undo(&applied, &sb.state, true);
    assert!(result.is_err(), "undo went through the link");
    assert_eq!(
        fs::read_to_string(outside.join("app.conf")).unwrap(),
        "A=\"1\"\n"
    );
    assert!(matches!(result, Err(EditError::Moved { .. })), "{result:?}");
}

/// Item 9: two runbooks set different keys of one file at the same moment, again and again:
/// both succeed and both keys are there every time.
#[test]
fn two_runbooks_editing_one_file_lose_no_edit() {
    let sb = sandbox();
    fs::write(sb.root.join("etc/make.conf"), "# start\n").unwrap();
    let sb = Arc::new(sb);
    for i in 0..40 {
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = ["A", "B"]
            .into_iter()
            .map(|key| {
                let (sb, barrier) = (sb.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let values = BTreeMap::new();
                    let archive = PathBuf::from(format!("archive/{key}"));
                    let ctx = context(&sb, &values, &archive);
                    let edits = [set_var("/etc/make.conf", key, &i.to_string())];
                    barrier.wait();
                    apply::apply_step(key, &edits, &ctx, "t").map(|a| a.len())
                })
            })
            .collect();
        for h in handles {
            let r = h.join().unwrap();
            assert!(r.is_ok(), "try {i}: {r:?}");
        }
        let text = fs::read_to_string(sb.root.join("etc/make.conf")).unwrap();
        for key in ["A", "B"] {
            assert!(
                text.contains(&format!("{key}=\"{i}\"")),
                "try {i}: the edit of {key} was lost:\n{text}"
            );
        }
    }
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) -> std::io::Result<()> {
    let p = CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = CString::new(name).unwrap();
    // SAFETY: NUL-terminated strings and a buffer with its length.
    let rc = unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let p = CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: NUL-terminated strings and a buffer with its length.
    let len = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (len >= 0).then(|| {
        buf.truncate(len as usize);
        buf
    })
}

/// A POSIX access ACL granting uid 1000 read (mode 0644, mask r--).
fn acl() -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 6u16, u32::MAX),
        (0x02, 4, 1000),
        (0x04, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 4, u32::MAX),
    ] {
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&perm.to_le_bytes());
        v.extend_from_slice(&id.to_le_bytes());
    }
    v
}

/// File capabilities `cap_net_raw+ep` (VFS_CAP_REVISION_2).
fn capability() -> Vec<u8> {
    let mut v = (0x0200_0000u32 | 1).to_le_bytes().to_vec();
    for word in [1u32 << 13, 0, 0, 0] {
        v.extend_from_slice(&word.to_le_bytes());
    }
    v
}

/// Item 14: an edit keeps the SELinux label, the ACL, the file capabilities and a user
/// attribute of the file, and undo puts them back.
#[test]
fn edits_and_undo_keep_extended_attributes() {
    let sb = sandbox();
    let file = sb.root.join("etc/ping.conf");
    fs::write(&file, "A=\"0\"\n").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let wanted: Vec<(&str, Vec<u8>)> = vec![
        ("user.fieldbook", b"kept".to_vec()),
        ("security.selinux", b"system_u:object_r:etc_t:s0\0".to_vec()),
        ("system.posix_acl_access", acl()),
        ("security.capability", capability()),
    ];
    let mut set = Vec::new();
    for (name, value) in &wanted {
        match set_xattr(&file, name, value) {
            Ok(()) => set.push((*name, get_xattr(&file, name).unwrap())),
            Err(e) => {
                // Only user.* must work everywhere; the others need root and a file system
                // that has them (ext4, xfs, tmpfs as root).
                assert!(
                    *name != "user.fieldbook",
                    "cannot set {name} on {}: {e}",
                    file.display()
                );
            }
        }
    }
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(
            set.len(),
            wanted.len(),
            "as root every attribute must be settable"
        );
    }
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/x");
    let ctx = context(&sb, &values, &archive);
    let applied = apply::apply_step("s", &[set_var("/etc/ping.conf", "A", "1")], &ctx, "t")
        .unwrap()
        .remove(0);
    assert_eq!(fs::read_to_string(&file).unwrap(), "A=\"1\"\n");
    for (name, value) in &set {
        assert_eq!(
            get_xattr(&file, name).as_ref(),
            Some(value),
            "{name} after the edit"
        );
    }
    // Someone drops the attributes; undo restores the file with them.
    for (name, _) in &set {
        let p = CString::new(file.as_os_str().as_bytes()).unwrap();
        let n = CString::new(*name).unwrap();
        // SAFETY: NUL-terminated strings.
        unsafe { libc::removexattr(p.as_ptr(), n.as_ptr()) };
    }
    apply::undo(&applied, &sb.state, true).unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), "A=\"0\"\n");
    for (name, value) in &set {
        assert_eq!(
            get_xattr(&file, name).as_ref(),
            Some(value),
            "{name} after undo"
        );
    }
}

fn runbook_with_edit(extra: &str) -> Result<runbook::Runbook, String> {
    let text = format!(
        "id = \"m\"\ntitle = \"M\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n\
         [[section.step]]\nid = \"e\"\ntitle = \"E\"\nwhy = \"w\"\nkind = \"edit\"\n\
         [[section.step.edit]]\npath = \"/etc/new.conf\"\naction = \"ensure_line\"\n\
         line = \"x = 1\"\n{extra}\n"
    );
    runbook::load_str("m.toml", &text).map_err(|e| format!("{e:?}"))
}

/// Item 14: a file an edit creates gets the runbook's `mode` (0644 without one); a bad mode,
/// or a mode without `create = true`, is a located `check` error.
#[test]
fn a_created_file_gets_the_runbooks_mode() {
    let sb = sandbox();
    let values = BTreeMap::new();
    let archive = PathBuf::from("archive/m");
    let ctx = context(&sb, &values, &archive);
    for (extra, mode) in [
        ("create = true\nmode = \"0640\"", 0o640),
        ("create = true", 0o644),
    ] {
        let rb = runbook_with_edit(extra).unwrap();
        let (_, step) = rb.steps().next().unwrap();
        let Action::Edit { edits } = &step.action else {
            panic!("not an edit step");
        };
        let _ = fs::remove_file(sb.root.join("etc/new.conf"));
        apply::apply_step("e", edits, &ctx, "t").unwrap();
        let got = fs::metadata(sb.root.join("etc/new.conf"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(got, mode, "{extra}");
    }
    for (extra, says) in [
        (
            "create = true\nmode = \"rw-r-----\"",
            "octal permission bits",
        ),
        ("create = true\nmode = \"4755\"", "octal permission bits"),
        ("mode = \"0640\"", "add `create = true`"),
    ] {
        let err = runbook_with_edit(extra).unwrap_err();
        assert!(err.contains(says), "{extra}: {err}");
    }
}
