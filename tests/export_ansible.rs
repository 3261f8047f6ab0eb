//! The Ansible hand-off checked by Ansible itself: every built-in runbook's playbook passes
//! `ansible-playbook --syntax-check`, the YAML writer round-trips hostile strings through a real
//! YAML reader, and the Xen networking steps exported for old Pythons, run through Ansible's
//! chroot connection against a throwaway OpenRC root, leave the runlevel links fieldbook's own
//! steps leave.
//!
//! Ansible comes from PyPI into a virtualenv made by `tests/support/ansible-venv.sh` (cached
//! under target/, ~25 s the first time).

use std::path::{Path, PathBuf};
use std::process::Command;

use fieldbook::core::yaml::{self, Yaml};

mod common;
use common::skip::{is_root, skip};

const RUNBOOKS: [&str; 3] = ["clearos-install", "xen4-migration", "gentoo-world-update"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's bin directory, or `None` (with the reason printed, a failure under
/// `FIELDBOOK_ACCEPTANCE=require`) where it cannot be made.
fn ansible_bin(test: &str) -> Option<PathBuf> {
    ansible_bin_of(test, &[])
}

/// [`ansible_bin`] for one ansible-core series (`2.16`, `2.18`, `2.19`), each in its own venv
/// under target/; checks that the venv's Ansible is that series.
fn ansible_core_bin(test: &str, series: &str) -> Option<PathBuf> {
    let bin = ansible_bin_of(test, &["--core", series])?;
    let out = Command::new(bin.join("ansible-playbook"))
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        version.contains(&format!("[core {series}.")),
        "wanted ansible-core {series}, the venv has: {version}"
    );
    Some(bin)
}

fn ansible_bin_of(test: &str, args: &[&str]) -> Option<PathBuf> {
    if Command::new("python3").arg("--version").output().is_err() {
        return skip(
            test,
            "python3 is not installed, so Ansible cannot be set up",
        );
    }
    let out = Command::new("sh")
        .arg(repo().join("tests/support/ansible-venv.sh"))
        .args(args)
        .output()
        .expect("run ansible-venv.sh");
    assert!(
        out.status.success(),
        "setting up Ansible failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()))
}

fn export(id: &str, args: &[&str], file: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(["export", "ansible", id, "-o"])
        .arg(file)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_runbook_exports_a_playbook_ansible_accepts() {
    let Some(bin) = ansible_bin("every_runbook_exports_a_playbook_ansible_accepts") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for id in RUNBOOKS {
        for python in ["modern", "old"] {
            let file = dir.path().join(format!("{id}-{python}.yml"));
            export(id, &["--target-python", python], &file);
            let text = std::fs::read_to_string(&file).unwrap();
            if python == "old" {
                assert!(
                    text.contains("TARGET PYTHON: OLD"),
                    "{id}: no note at the top"
                );
                for module in [
                    "ansible.builtin.command",
                    "ansible.builtin.shell",
                    "ansible.builtin.lineinfile",
                    "community.general.portage",
                ] {
                    assert!(
                        !text.contains(module),
                        "{id}: {module} in an old-Python playbook"
                    );
                }
            }
            files.push(file);
        }
    }
    let out = Command::new(bin.join("ansible-playbook"))
        .args(["--syntax-check", "-i", "localhost,"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "syntax check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn unknown_runbook_or_section_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(["export", "ansible", "nosuch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(["export", "ansible", "xen4-migration", "--section", "nosuch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("network"));
}

fn json(value: &Yaml) -> serde_json::Value {
    match value {
        Yaml::Str(s) | Yaml::Unsafe(s) => serde_json::Value::String(s.clone()),
        Yaml::Bool(b) => serde_json::Value::Bool(*b),
        Yaml::Int(n) => serde_json::Value::from(*n),
        Yaml::Seq(items) => serde_json::Value::Array(items.iter().map(json).collect()),
        Yaml::Map(pairs) => {
            serde_json::Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
    }
}

/// The YAML writer's quoting, checked by PyYAML (what Ansible reads playbooks with).
#[test]
fn yaml_writer_round_trips_hostile_strings_through_pyyaml() {
    let Some(bin) = ansible_bin("yaml_writer_round_trips_hostile_strings_through_pyyaml") else {
        return;
    };
    let hostile = [
        "; rm -rf / $(reboot) \"quoted\" 'single'",
        "yes",
        "No",
        "null",
        "~",
        "0755",
        "1e3",
        "0x1f",
        ".inf",
        "2026-11-26",
        "- a",
        "? a",
        ": a",
        "a: b",
        "a #b",
        "#c",
        "@x",
        "`x`",
        "!x",
        "&x",
        "*x",
        "|",
        ">",
        "%x",
        "{a}",
        "[a]",
        "a,b",
        "",
        " ",
        " lead",
        "trail ",
        "tab\there",
        "\ttab",
        "two\nlines",
        "two\nlines\n",
        " indented\nblock\n",
        "ends\n\n\n",
        "\nleading newline",
        "cr\r\nlf",
        "nul\u{0}x",
        "bell\u{7}",
        "del\u{7f}",
        "nel\u{85}",
        "ls\u{2028}",
        "bom\u{feff}",
        "ünïcödé ✓",
        "back\\slash",
        "\"",
        "'",
        "{{ jinja }}",
        "line\n  - looks like a list\n",
    ];
    let mut pairs = Vec::new();
    for (i, s) in hostile.iter().enumerate() {
        pairs.push((s.to_string(), Yaml::str(*s)));
        pairs.push((
            format!("seq{i}"),
            Yaml::Seq(vec![
                Yaml::str(*s),
                Yaml::Map(vec![(format!("k{i}"), Yaml::str(*s))]),
            ]),
        ));
        pairs.push((format!("unsafe{i}"), Yaml::Unsafe(s.to_string())));
    }
    pairs.push((
        "nested".into(),
        Yaml::Seq(vec![Yaml::Seq(vec![
            Yaml::str("a\n b\n"),
            Yaml::Int(-3),
            Yaml::Bool(true),
        ])]),
    ));
    pairs.push((
        "empty".into(),
        Yaml::Seq(vec![Yaml::Map(vec![]), Yaml::Seq(vec![])]),
    ));
    let doc = Yaml::Seq(vec![Yaml::Map(pairs)]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("doc.yml"), yaml::to_string(&doc)).unwrap();
    std::fs::write(
        dir.path().join("doc.json"),
        serde_json::to_string(&json(&doc)).unwrap(),
    )
    .unwrap();
    let check = r#"
import json, sys, yaml
class Loader(yaml.SafeLoader): pass
Loader.add_constructor('!unsafe', lambda l, n: l.construct_scalar(n))
got = yaml.load(open(sys.argv[1], encoding='utf-8'), Loader=Loader)
want = json.load(open(sys.argv[2], encoding='utf-8'))
if got != want:
    for k in want[0]:
        if got[0].get(k) != want[0][k]:
            print('MISMATCH', repr(k), repr(got[0].get(k)), repr(want[0][k]))
    sys.exit(1)
"#;
    let out = Command::new(bin.join("python"))
        .arg("-c")
        .arg(check)
        .arg(dir.path().join("doc.yml"))
        .arg(dir.path().join("doc.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        yaml::to_string(&doc)
    );
}

/// Links in a root's runlevel directories, as "runlevel/service" (sorted).
fn runlevel_links(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for level in std::fs::read_dir(root.join("etc/runlevels")).unwrap() {
        let level = level.unwrap();
        for svc in std::fs::read_dir(level.path()).unwrap() {
            out.push(format!(
                "{}/{}",
                level.file_name().to_string_lossy(),
                svc.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    out.sort();
    out
}

/// The files the networking steps edit, as a Gentoo dom0 has them before the migration.
fn seed_files(root: &Path) {
    std::fs::create_dir_all(root.join("etc/conf.d")).unwrap();
    std::fs::create_dir_all(root.join("etc/xen")).unwrap();
    std::fs::write(
        root.join("etc/conf.d/rc"),
        "# /etc/conf.d/rc\n#RC_PLUG_SERVICES=\"net.*\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/xen/xend-config.sxp"),
        "(xend-relocation-server no)\n(network-script network-bridge)\n(vif-script vif-bridge)\n",
    )
    .unwrap();
    // A dom0 has bridge-utils: the section checks for /sbin/brctl before making bridges.
    std::fs::create_dir_all(root.join("sbin")).unwrap();
    std::fs::write(root.join("sbin/brctl"), "#!/bin/sh\nexit 0\n").unwrap();
    Command::new("chmod")
        .arg("755")
        .arg(root.join("sbin/brctl"))
        .status()
        .unwrap();
}

/// Whether a step applies in `root`, answering its `test [!] -f|-x PATH` probe there (the
/// playbook runs the same probe on the host); steps without a probe apply.
fn applies_in(root: &Path, step: &fieldbook::core::runbook::Step) -> bool {
    use fieldbook::core::conditions::{Applicability, decide};
    use fieldbook::core::runner::CheckResult;
    let answer = decide(step, &Default::default(), |cmd| {
        let a: Vec<&str> = cmd.argv.iter().map(String::as_str).collect();
        let (negate, flag, path) = match a.as_slice() {
            ["test", "!", f, p] => (true, *f, *p),
            ["test", f, p] => (false, *f, *p),
            other => panic!("unexpected probe {other:?}"),
        };
        let p = root.join(path.trim_start_matches('/'));
        let found = if flag == "-f" {
            p.is_file()
        } else {
            p.exists()
        };
        if found != negate {
            CheckResult::AlreadyDone
        } else {
            CheckResult::NotDone
        }
    });
    !matches!(answer, Applicability::NotNeeded(_))
}

const NETWORK_VALUES: [&str; 3] = ["int_if=eth1", "int_address=10.0.0.2/24", "gateway=10.0.0.1"];

/// Builds the throwaway OpenRC root with the acceptance suite's own setup script; `None` (with
/// the reason printed, a failure under `FIELDBOOK_ACCEPTANCE=require`) where that cannot be done here.
fn openrc_root(test: &str) -> Option<PathBuf> {
    if !is_root() {
        return skip(test, "needs root (chroot into the throwaway OpenRC root)");
    }
    let setup = repo().join("scripts/acceptance-setup.sh");
    if !setup.exists() {
        let why = format!(
            "{} is missing (the real-tools acceptance setup)",
            setup.display()
        );
        return skip(test, &why);
    }
    let dir = repo().join("target/export-acceptance");
    let out = Command::new("bash")
        .arg(&setup)
        .arg(&dir)
        .arg("openrc")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Some(dir.join("openrc/root")),
        Some(75) => skip(
            test,
            &format!("the Debian archive is unreachable: {stderr}"),
        ),
        _ => panic!("acceptance setup failed:\n{stderr}"),
    }
}

/// A copy of the pristine OpenRC root with a shell and the basic tools, /dev/null and the
/// files the networking steps edit; `None` (reason printed) when the archive is unreachable.
fn prepared_root(test: &str, pristine: &Path, root: &Path) -> Option<()> {
    let cp = Command::new("cp")
        .arg("-a")
        .arg(pristine)
        .arg(root)
        .status()
        .unwrap();
    assert!(cp.success());
    let shell = Command::new("sh")
        .arg(repo().join("tests/support/chroot-shell.sh"))
        .arg(root)
        .arg(repo().join("target/export-acceptance/chroot-shell-debs"))
        .output()
        .unwrap();
    if shell.status.code() == Some(75) {
        let why = format!(
            "the Debian archive is unreachable: {}",
            String::from_utf8_lossy(&shell.stderr)
        );
        return skip(test, &why);
    }
    assert!(
        shell.status.success(),
        "{}",
        String::from_utf8_lossy(&shell.stderr)
    );
    // Any real host has /dev/null; the commands' checks redirect into it.
    std::fs::create_dir_all(root.join("dev")).unwrap();
    let null = std::ffi::CString::new(root.join("dev/null").to_string_lossy().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; makedev(1, 3) is /dev/null.
    let rc = unsafe { libc::mknod(null.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(rc, 0, "mknod /dev/null");
    seed_files(root);
    Some(())
}

/// fieldbook itself performs the network section's command steps (`fieldbook exec`) against a
/// second copy of the root: `rc-update` and `test` on its PATH run inside that root, as they
/// would on the real dom0. Steps exec leaves to the app (edits, tool screens: exit 3) are
/// compared through the edit engine instead.
fn fieldbook_network_steps(root: &Path, work: &Path) {
    let wrappers = work.join("fieldbook-bin");
    std::fs::create_dir_all(&wrappers).unwrap();
    for (name, program) in [("rc-update", "/sbin/rc-update"), ("test", "/usr/bin/test")] {
        let w = wrappers.join(name);
        std::fs::write(
            &w,
            format!(
                "#!/bin/sh\nexec chroot '{}' {program} \"$@\"\n",
                root.display()
            ),
        )
        .unwrap();
        Command::new("chmod").arg("755").arg(&w).status().unwrap();
    }
    let catalog = fieldbook::core::catalog::Catalog::load(None);
    let rb = &catalog.get("xen4-migration").unwrap().runbook;
    let section = rb.sections.iter().find(|s| s.id == "network").unwrap();
    let path = format!(
        "{}:{}",
        wrappers.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for step in &section.steps {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fieldbook"));
        cmd.args([
            "exec",
            "xen4-migration",
            &step.id,
            "--yes",
            "--target",
            "dom0",
        ]);
        cmd.arg("--state-dir").arg(work.join("fieldbook-state"));
        cmd.arg("--root").arg(root);
        for v in NETWORK_VALUES {
            cmd.args(["--var", v]);
        }
        let out = cmd.env("PATH", &path).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "fieldbook exec {} failed:\n{}{}",
            step.id,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// What fieldbook's edit engine makes of the seeded files with the network section's edits.
fn engine_results(root_before: &Path) -> Vec<(String, String)> {
    use fieldbook::core::edit;
    use fieldbook::core::runbook::Action;
    let catalog = fieldbook::core::catalog::Catalog::load(None);
    let rb = &catalog.get("xen4-migration").unwrap().runbook;
    let mut values = rb.default_values();
    for v in NETWORK_VALUES {
        let (k, val) = v.split_once('=').unwrap();
        values.insert(k.into(), val.into());
    }
    let mut files: std::collections::BTreeMap<String, String> = Default::default();
    let section = rb.sections.iter().find(|s| s.id == "network").unwrap();
    for step in &section.steps {
        let Action::Edit { edits } = &step.action else {
            continue;
        };
        if !applies_in(root_before, step) {
            continue;
        }
        for e in edits {
            let e = edit::substituted(e, &values);
            if !edit::is_text_action(&e.action) {
                continue;
            }
            let current = files.entry(e.path.clone()).or_insert_with(|| {
                std::fs::read_to_string(root_before.join(e.path.trim_start_matches('/')))
                    .unwrap_or_default()
            });
            *current = edit::edit_text(current, &e.action, &e.comment).unwrap();
        }
    }
    files.into_iter().collect()
}

/// The title of a Xen runbook step, as the playbook's task names carry it.
fn rb_step_title(id: &str) -> String {
    let catalog = fieldbook::core::catalog::Catalog::load(None);
    let rb = &catalog.get("xen4-migration").unwrap().runbook;
    rb.step(id).unwrap().title.clone()
}

/// The outcome ansible-playbook printed for the task named exactly `name` (`ok`, `changed`,
/// `skipping`, `failed`, ...): the first word of the line after its `TASK [name]` header.
fn task_outcome<'a>(log: &'a str, name: &str) -> &'a str {
    let header = format!("TASK [{name}]");
    let mut lines = log.lines();
    lines
        .by_ref()
        .find(|l| l.starts_with(&header))
        .unwrap_or_else(|| panic!("no task {header} in:\n{log}"));
    lines
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.split(':').next())
        .unwrap_or("")
}

#[test]
fn old_python_network_playbook_in_an_openrc_chroot_leaves_fieldbook_s_links() {
    const TEST: &str = "old_python_network_playbook_in_an_openrc_chroot_leaves_fieldbook_s_links";
    let Some(pristine) = openrc_root(TEST) else {
        return;
    };
    let Some(bin) = ansible_bin(TEST) else { return };
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let theirs = work.path().join("fieldbook-root");
    if prepared_root(TEST, &pristine, &root).is_none()
        || prepared_root(TEST, &pristine, &theirs).is_none()
    {
        return;
    }
    let before = runlevel_links(&root);
    let expected_files = engine_results(&root);

    let playbook = work.path().join("network.yml");
    export(
        "xen4-migration",
        &["--section", "network", "--target-python", "old"],
        &playbook,
    );
    let run = || {
        let mut cmd = Command::new(bin.join("ansible-playbook"));
        cmd.arg("-i").arg(format!("{},", root.display()));
        cmd.args(["-c", "community.general.chroot"]);
        for v in NETWORK_VALUES {
            cmd.args(["-e", v]);
        }
        // Inside the chroot the real tools live in /sbin and /bin.
        cmd.env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        );
        cmd.env("ANSIBLE_NOCOLOR", "1");
        let out = cmd.arg(&playbook).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ansible-playbook failed:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let seeded_rc = std::fs::read_to_string(root.join("etc/conf.d/rc")).unwrap();
    assert!(root.join("etc/rc.conf").is_file(), "an OpenRC root");
    let first_log = run();
    // What a probe rules out is skipped: rc-plug edits baselayout-1's /etc/conf.d/rc, which
    // OpenRC (it has /etc/rc.conf) does not read; its probe says no, its edit task is skipped
    // and the file is left exactly as it was.
    let plug = rb_step_title("rc-plug");
    assert_eq!(
        task_outcome(&first_log, &format!("rc-plug: {plug}")),
        "skipping",
        "{first_log}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/conf.d/rc")).unwrap(),
        seeded_rc,
        "rc-plug was ruled out on OpenRC: /etc/conf.d/rc must be untouched"
    );
    assert!(
        !expected_files.iter().any(|(f, _)| f == "/etc/conf.d/rc"),
        "nor does fieldbook's engine edit it on OpenRC: {expected_files:?}"
    );
    // Its OpenRC counterpart, whose probe says yes, ran.
    let hotplug = rb_step_title("rc-hotplug");
    assert_eq!(
        task_outcome(&first_log, &format!("rc-hotplug: {hotplug}")),
        "changed",
        "{first_log}"
    );
    let after = runlevel_links(&root);
    let net: Vec<&String> = after.iter().filter(|l| l.contains("net.")).collect();
    assert_eq!(
        net,
        ["default/net.extbr0", "default/net.xenbr0"],
        "{after:?}"
    );
    // Everything else in the runlevels is as it was.
    let untouched = |v: &[String]| {
        v.iter()
            .filter(|l| !l.contains("net."))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(untouched(&after), untouched(&before));
    // The same runlevel links as fieldbook's own steps leave.
    fieldbook_network_steps(&theirs, work.path());
    assert_eq!(after, runlevel_links(&theirs), "ansible vs fieldbook");
    // The same file contents as fieldbook's edit engine makes, and the same bridge links.
    for (file, want) in &expected_files {
        let got = std::fs::read_to_string(root.join(file.trim_start_matches('/'))).unwrap();
        assert_eq!(
            &got, want,
            "{file}: the playbook's edit differs from fieldbook's"
        );
    }
    for bridge in ["extbr0", "xenbr0"] {
        let link = std::fs::read_link(root.join(format!("etc/init.d/net.{bridge}"))).unwrap();
        assert_eq!(link, Path::new("net.lo"));
    }
    let net_conf = std::fs::read_to_string(root.join("etc/conf.d/net")).unwrap();
    assert!(
        net_conf.starts_with("# BEGIN fieldbook xen-bridges\n"),
        "{net_conf}"
    );
    assert!(
        net_conf.contains("config_xenbr0=(\"10.0.0.2/24\")"),
        "{net_conf}"
    );

    // A second run changes nothing (the same idempotence as fieldbook's steps).
    let files = |r: &Path| {
        ["etc/conf.d/rc", "etc/conf.d/net", "etc/xen/xend-config.sxp"]
            .map(|f| std::fs::read_to_string(r.join(f)).unwrap())
    };
    let first = files(&root);
    let second_log = run();
    assert_eq!(files(&root), first);
    assert_eq!(runlevel_links(&root), after);
    assert!(second_log.contains("changed=0"), "{second_log}");
}

/// The modern playbook's edit tasks, run by Ansible on local files, give exactly what
/// fieldbook's edit engine gives, and a second run changes nothing.
#[test]
fn modern_edit_tasks_equal_the_engine_under_real_ansible() {
    let Some(bin) = ansible_bin("modern_edit_tasks_equal_the_engine_under_real_ansible") else {
        return;
    };
    let cases: &[(&str, &str)] = &[
        ("action = \"ensure_line\"\nline = \"a=2\"\n", "a=1\n"),
        (
            "action = \"ensure_line\"\nline = \"a=2\"\nreplace = \"a=\"\n",
            "# a=0\n",
        ),
        (
            "action = \"ensure_line\"\nline = \"a=2\"\nreplace = \"a=\"\n",
            "b\n#a=0\na=1\na=3\n",
        ),
        (
            "action = \"ensure_line\"\nline = \"x {{y}} $(reboot) \\\\1 'q'\"\nreplace = \"x \"\n",
            "x old\n",
        ),
        (
            "action = \"comment_out\"\npattern = \"sshd\"\n",
            "sshd on\n  sshd indented\n#sshd off\n",
        ),
        (
            "action = \"uncomment\"\npattern = \"vif\"\ncomment = \";\"\n",
            ";; (vif x)\n; (vif y)\n(vif z)\n",
        ),
        (
            "action = \"set_var\"\nkey = \"USE\"\nvalue = \"a \\\"b\\\" `c` $d\"\n",
            "USE=\"x\"\n",
        ),
        (
            "action = \"set_var\"\nkey = \"K\"\nvalue = \"v\"\n",
            "# K=old\n",
        ),
        (
            "action = \"add_words\"\nkey = \"FEATURES\"\nwords = [\"collision-protect\"]\n",
            "FEATURES=\"sandbox\"\n",
        ),
        (
            "action = \"add_words\"\nkey = \"USE\"\nwords = [\"-gtk\", \"pae\"]\n",
            "USE=\"gtk x\"\n",
        ),
        (
            "action = \"add_words\"\nkey = \"USE\"\nwords = [\"pae\"]\n",
            "# nothing yet\n",
        ),
        // The collision steps of the Gentoo and Xen runbooks: both words in, both out.
        (
            "action = \"add_words\"\nkey = \"FEATURES\"\nwords = [\"-collision-protect\", \"-protect-owned\"]\n",
            "FEATURES=\"parallel-fetch collision-protect protect-owned\"\n",
        ),
        (
            "action = \"remove_words\"\nkey = \"FEATURES\"\nwords = [\"-collision-protect\", \"-protect-owned\"]\n",
            "FEATURES=\"parallel-fetch -protect-owned sandbox -collision-protect\"\n",
        ),
        (
            "action = \"remove_words\"\nkey = \"USE\"\nwords = [\"x\"]\n",
            "USE=\"x y x\"\n",
        ),
        (
            "action = \"remove_words\"\nkey = \"USE\"\nwords = [\"x\"]\n",
            "OTHER=1\n",
        ),
        (
            "action = \"ensure_block\"\nmarker = \"m\"\nblock = \"one\\ntwo\\n\"\n",
            "before\n",
        ),
        (
            "action = \"comment_form\"\nkey = \"network-script\"\n",
            "(a 1)\n( network-script\n    'network-bridge netdev=eth1')\n# (network-script x)\n(network-script \"y z\") # c\n(other '(network-script')\n",
        ),
        (
            "action = \"ensure_block\"\nmarker = \"m\"\nblock = \"one\\ntwo\\n\"\n",
            "# BEGIN fieldbook m\nold\n# END fieldbook m\nafter\n",
        ),
        (
            "action = \"python_line\"\nline = \"serial = [ 'pty', 'tty0' ]\"\n",
            "a = 1\nserial = [\n    'vc',  # old\n    'null',\n]  # keep\nb = 2\n",
        ),
        (
            "action = \"python_line\"\nline = \"memory = 256\"\n",
            "name = 'r'\n",
        ),
        // A snort rule continued with trailing backslashes is commented, and uncommented,
        // as a whole: every line of it, not just the one carrying the sid.
        (
            "action = \"comment_out\"\npattern = \"sid:1807;\"\n",
            "alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS \\\n    (msg:\"WEB-MISC chunked\"; flow:to_server,established; \\\n    content:\"chunked\"; nocase; sid:1807; rev:10;)\nalert tcp any any -> any 80 (sid:1091;)\n",
        ),
        (
            "action = \"uncomment\"\npattern = \"sid:1807;\"\n",
            "#alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS \\\n#    (msg:\"WEB-MISC chunked\"; \\\n#    sid:1807; rev:10;)\n#alert tcp any any -> any 80 (sid:1091;)\n",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("books");
    std::fs::create_dir(&books).unwrap();
    let mut toml =
        String::from("id = \"edits\"\ntitle = \"Edits\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n");
    let mut expected = Vec::new();
    for (i, (edit, before)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("f{i}"));
        std::fs::write(&file, before).unwrap();
        toml.push_str(&format!(
            "[[section.step]]\nid = \"e{i}\"\ntitle = \"E{i}\"\nwhy = \"w\"\nkind = \"edit\"\n[[section.step.edit]]\npath = \"{}\"\n{edit}",
            file.display()
        ));
        let rb_one = fieldbook::core::runbook::load_str(
            "one.toml",
            &format!("id = \"o\"\ntitle = \"O\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.step]]\nid = \"e\"\ntitle = \"E\"\nwhy = \"w\"\nkind = \"edit\"\n[[section.step.edit]]\npath = \"/x\"\n{edit}"),
        )
        .unwrap();
        let fieldbook::core::runbook::Action::Edit { edits } = &rb_one.step("e").unwrap().action
        else {
            unreachable!()
        };
        let e = fieldbook::core::edit::substituted(&edits[0], &Default::default());
        expected.push((
            file,
            fieldbook::core::edit::edit_text(before, &e.action, &e.comment).unwrap(),
        ));
    }
    std::fs::write(books.join("edits.toml"), toml).unwrap();
    let playbook = dir.path().join("edits.yml");
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("--checklists")
        .arg(&books)
        .args(["export", "ansible", "edits", "-o"])
        .arg(&playbook)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = || {
        let out = Command::new(bin.join("ansible-playbook"))
            .args(["-i", "localhost,", "-c", "local"])
            .arg("-e")
            .arg(format!(
                "ansible_python_interpreter={}",
                bin.join("python").display()
            ))
            .arg(&playbook)
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_PIPELINING", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    run();
    for (i, (file, want)) in expected.iter().enumerate() {
        assert_eq!(
            &std::fs::read_to_string(file).unwrap(),
            want,
            "case {i}: {:?}",
            cases[i]
        );
    }
    let second = run();
    assert!(second.contains("changed=0"), "{second}");
    for (file, want) in &expected {
        assert_eq!(&std::fs::read_to_string(file).unwrap(), want);
    }
}

/// Pieces hostile runbook texts are made of: Jinja that would leave a file behind if Ansible
/// ever evaluated it, YAML structure that would add a play or a task if it ever left its
/// scalar, line breaks of every kind, and words YAML readers retype.
fn hostile_pieces(dir: &Path) -> Vec<String> {
    let d = dir.display();
    vec![
        format!("{{{{ lookup('pipe', 'touch {d}/PWNED-expr') }}}}"),
        format!("{{% if lookup('pipe', 'touch {d}/PWNED-stmt') %}}x{{% endif %}}"),
        "{# comment #}".into(),
        "{{{{ double }}}}".into(),
        "{{".into(),
        "}}".into(),
        "{".into(),
        "\n- hosts: all\n  tasks:\n    - ansible.builtin.command: touch PWNED-play\n".into(),
        "\n    - name: extra task\n      ansible.builtin.command: touch PWNED-task\n".into(),
        "\r- hosts: all\r".into(),
        "\u{85}- hosts: all\u{2028}- x\u{2029}".into(),
        "# not a comment".into(),
        ": colon".into(),
        "\"quoted\" 'single' \\back".into(),
        "!unsafe ".into(),
        "&anchor *alias".into(),
        "---\n...\n".into(),
        "yes".into(),
        "0755".into(),
        "\t tab".into(),
        "  ".into(),
        "ünï ✓".into(),
        "\u{1b}]52;c;SGVsbG8=\u{7}".into(),
    ]
}

/// A small deterministic generator (xorshift), so a failing case can be replayed by its seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn text(&mut self, pieces: &[String]) -> String {
        let n = 1 + self.next() % 4;
        let mut s = String::from("x");
        for _ in 0..n {
            s.push_str(&pieces[(self.next() % pieces.len() as u64) as usize]);
        }
        s
    }
}

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One hostile runbook: every text a step carries comes from `g`. Returns the runbook's TOML
/// and the step titles in order.
fn hostile_runbook(g: &mut Gen, pieces: &[String], file: &Path) -> (String, Vec<(String, String)>) {
    let mut t = || g.text(pieces);
    let one_line = |s: &str| s.replace(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'], "");
    let title = t();
    let choice = t();
    let label = t();
    let default: String = t()
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
        .collect();
    let steps = [("m", t()), ("c", t()), ("f", t()), ("e", t())];
    let (why, arg, ok, confirm, line) = (t(), t(), t(), t(), one_line(&t()));
    let toml = format!(
        r#"id = "hostile"
title = {title}
[[variable]]
name = "pick"
type = "choice"
label = {label}
choices = [{choice}, "b"]
default = "b"
[[variable]]
name = "note"
type = "text"
label = "Note"
default = {default}
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "m"
title = {m}
why = {why}
kind = "manual"
[[section.step]]
id = "c"
title = {c}
why = "w"
kind = "command"
confirm = {confirm}
commands = [["echo", {arg}]]
expect = [0, 3]
ok_output = [{ok}]
[[section.step]]
id = "f"
title = {f}
why = "w"
kind = "form"
fields = ["pick", "note"]
[[section.step]]
id = "e"
title = {e}
why = "w"
kind = "edit"
[[section.step.edit]]
path = {path}
action = "ensure_line"
line = {line}
create = true
"#,
        title = toml_str(&title),
        label = toml_str(&label),
        choice = toml_str(&choice),
        default = toml_str(&default),
        m = toml_str(&steps[0].1),
        c = toml_str(&steps[1].1),
        f = toml_str(&steps[2].1),
        e = toml_str(&steps[3].1),
        why = toml_str(&why),
        confirm = toml_str(&confirm),
        arg = toml_str(&arg),
        ok = toml_str(&ok),
        path = toml_str(&file.display().to_string()),
        line = toml_str(&line),
    );
    let mut names = vec![(
        "play".to_string(),
        format!("{title} (fieldbook runbook hostile)"),
    )];
    for (id, title) in steps {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        names.push((id.to_string(), format!("{id}: {title}")));
    }
    (toml, names)
}

/// PyYAML's reading of each playbook as JSON, a `!unsafe` scalar as `{"!unsafe": text}`.
fn pyyaml_json(bin: &Path, files: &[PathBuf]) -> Vec<serde_json::Value> {
    let script = r#"
import json, sys, yaml
class Loader(yaml.SafeLoader): pass
Loader.add_constructor('!unsafe', lambda l, n: {'!unsafe': l.construct_scalar(n)})
print(json.dumps([yaml.load(open(f, encoding='utf-8'), Loader=Loader) for f in sys.argv[1:]]))
"#;
    let out = Command::new(bin.join("python"))
        .arg("-c")
        .arg(script)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every string Ansible could template (a plain one, not `!unsafe`), keys included.
fn templatable(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|i| templatable(i, out)),
        serde_json::Value::Object(map) if map.len() == 1 && map.contains_key("!unsafe") => {}
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                templatable(v, out);
            }
        }
        _ => {}
    }
}

fn unsafe_text(v: &serde_json::Value) -> Option<&str> {
    v.get("!unsafe")?.as_str()
}

/// Issue 17 item 2: any runbook text, exported and read back by PyYAML, gives exactly the
/// intended play and tasks, each name its own `!unsafe` text, and no runbook text is anywhere
/// Ansible would template it. Then Ansible itself checks and runs a sample of the playbooks
/// against a throwaway directory: no Jinja from the runbook ever runs.
#[test]
fn hostile_runbook_texts_stay_data_in_the_playbook() {
    let Some(bin) = ansible_bin("hostile_runbook_texts_stay_data_in_the_playbook") else {
        return;
    };
    hostile_texts_stay_data(&bin);
}

/// Issue 17 item 2 on the older series the issue names: Jinja in a play name ran even under
/// `--syntax-check` on ansible-core 2.16 and 2.18 too. The same hostile playbooks, checked and
/// run by each, and every built-in runbook's playbook passes its syntax check.
#[test]
fn hostile_runbook_texts_stay_data_under_ansible_core_2_16() {
    let test = "hostile_runbook_texts_stay_data_under_ansible_core_2_16";
    let Some(bin) = ansible_core_bin(test, "2.16") else {
        return;
    };
    hostile_texts_stay_data(&bin);
    builtin_playbooks_pass_the_syntax_check(&bin);
}

/// See [`hostile_runbook_texts_stay_data_under_ansible_core_2_16`].
#[test]
fn hostile_runbook_texts_stay_data_under_ansible_core_2_18() {
    let test = "hostile_runbook_texts_stay_data_under_ansible_core_2_18";
    let Some(bin) = ansible_core_bin(test, "2.18") else {
        return;
    };
    hostile_texts_stay_data(&bin);
    builtin_playbooks_pass_the_syntax_check(&bin);
}

fn builtin_playbooks_pass_the_syntax_check(bin: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for id in RUNBOOKS {
        for python in ["modern", "old"] {
            let file = dir.path().join(format!("{id}-{python}.yml"));
            export(id, &["--target-python", python], &file);
            files.push(file);
        }
    }
    let out = Command::new(bin.join("ansible-playbook"))
        .args(["--syntax-check", "-i", "localhost,"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "syntax check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hostile_texts_stay_data(bin: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let pieces = hostile_pieces(dir.path());
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for case in 0..60 {
        let books = dir.path().join(format!("books{case}"));
        std::fs::create_dir(&books).unwrap();
        let target = dir.path().join(format!("edited{case}"));
        let (toml, names) = hostile_runbook(&mut g, &pieces, &target);
        std::fs::write(books.join("hostile.toml"), &toml).unwrap();
        for python in ["modern", "old"] {
            let file = dir.path().join(format!("case{case}-{python}.yml"));
            let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
                .arg("--checklists")
                .arg(&books)
                .args([
                    "export",
                    "ansible",
                    "hostile",
                    "--target-python",
                    python,
                    "-o",
                ])
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "case {case}: {}\n{toml}",
                String::from_utf8_lossy(&out.stderr)
            );
            files.push(file);
            expected.push((case, names.clone()));
        }
    }
    let docs = pyyaml_json(bin, &files);
    for (doc, (case, names)) in docs.iter().zip(&expected) {
        let plays = doc.as_array().expect("a list of plays");
        assert_eq!(plays.len(), 1, "case {case}: {doc:#}");
        let play = &plays[0];
        assert_eq!(
            unsafe_text(&play["name"]),
            Some(names[0].1.as_str()),
            "case {case}"
        );
        let tasks = play["tasks"].as_array().expect("tasks");
        // The variables' assert first, then one task or block per step.
        assert_eq!(tasks.len(), 1 + names.len() - 1, "case {case}: {doc:#}");
        for (task, (id, name)) in tasks[1..].iter().zip(&names[1..]) {
            assert_eq!(
                unsafe_text(&task["name"]),
                Some(name.as_str()),
                "case {case} step {id}"
            );
        }
        let mut plain = Vec::new();
        templatable(doc, &mut plain);
        for s in plain {
            assert!(
                !s.contains("PWNED") && !s.contains("double") && !s.contains("comment #"),
                "case {case}: runbook text where Ansible templates: {s:?}"
            );
        }
    }
    // Ansible parses every playbook (Jinja in a play name ran even under --syntax-check) and
    // runs a sample, each against files under the throwaway directory.
    let out = Command::new(bin.join("ansible-playbook"))
        .args(["--syntax-check", "-i", "localhost,"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(bin.join("ansible-playbook"))
        .args(["-i", "localhost,", "-c", "local"])
        .arg("-e")
        .arg(format!(
            "ansible_python_interpreter={}",
            bin.join("python").display()
        ))
        .args(files.iter().step_by(2).take(8))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_PIPELINING", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("edited0").exists(),
        "the sample did not run: {text}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("PWNED"))
        .collect();
    assert!(
        left.is_empty(),
        "Jinja from a runbook ran: {left:?}\n{text}"
    );
}

/// A file an edit creates gets the runbook's `mode` (0644 when none is given) under real
/// Ansible, for modern and old targets alike, and an existing file keeps its own mode.
#[test]
fn created_files_get_the_runbook_mode_under_real_ansible() {
    use std::os::unix::fs::PermissionsExt;
    let Some(bin) = ansible_bin("created_files_get_the_runbook_mode_under_real_ansible") else {
        return;
    };
    let edits: &[(&str, Option<&str>)] = &[
        ("action = \"ensure_line\"\nline = \"a=2\"\n", Some("0640")),
        (
            "action = \"ensure_line\"\nline = \"a=2\"\nreplace = \"a=\"\n",
            Some("0600"),
        ),
        (
            "action = \"set_var\"\nkey = \"K\"\nvalue = \"v\"\n",
            Some("0640"),
        ),
        (
            "action = \"add_words\"\nkey = \"USE\"\nwords = [\"pae\"]\n",
            Some("0600"),
        ),
        (
            "action = \"ensure_block\"\nmarker = \"m\"\nblock = \"one\\n\"\n",
            None,
        ),
    ];
    for python in ["modern", "old"] {
        let dir = tempfile::tempdir().unwrap();
        let books = dir.path().join("books");
        std::fs::create_dir(&books).unwrap();
        let mut toml = String::from(
            "id = \"modes\"\ntitle = \"Modes\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n",
        );
        let mut want = Vec::new();
        for (i, (edit, mode)) in edits.iter().enumerate() {
            let created = dir.path().join(format!("new{i}"));
            let existing = dir.path().join(format!("old{i}"));
            std::fs::write(&existing, "z=1\n").unwrap();
            std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o604)).unwrap();
            let mode_line = mode.map_or(String::new(), |m| format!("mode = \"{m}\"\n"));
            for (j, file) in [&created, &existing].into_iter().enumerate() {
                toml.push_str(&format!(
                    "[[section.step]]\nid = \"e{i}_{j}\"\ntitle = \"E\"\nwhy = \"w\"\nkind = \"edit\"\n[[section.step.edit]]\npath = \"{}\"\ncreate = true\n{mode_line}{edit}",
                    file.display()
                ));
            }
            let m = mode.map_or(0o644, |m| u32::from_str_radix(m, 8).unwrap());
            want.push((created, m));
            want.push((existing, 0o604));
        }
        std::fs::write(books.join("modes.toml"), toml).unwrap();
        let playbook = dir.path().join("modes.yml");
        let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .arg("--checklists")
            .arg(&books)
            .args([
                "export",
                "ansible",
                "modes",
                "--target-python",
                python,
                "-o",
            ])
            .arg(&playbook)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(bin.join("ansible-playbook"))
            .args(["-i", "localhost,", "-c", "local"])
            .arg("-e")
            .arg(format!(
                "ansible_python_interpreter={}",
                bin.join("python").display()
            ))
            .arg(&playbook)
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_PIPELINING", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{python}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for (file, mode) in &want {
            let got = std::fs::metadata(file).unwrap().permissions().mode() & 0o7777;
            assert_eq!(got, *mode, "{python}: {} is {got:o}", file.display());
        }
    }
}

/// A command's optional argument (`--keep-going` when the build is left unattended) is one
/// argument when its choice says so and absent otherwise, never an empty argument, on modern
/// (`command` with an argv list expression) and old (`raw`) targets, under real Ansible.
#[test]
fn an_optional_argument_is_present_or_absent_under_real_ansible() {
    let Some(bin) = ansible_bin("an_optional_argument_is_present_or_absent_under_real_ansible")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("books");
    std::fs::create_dir(&books).unwrap();
    let out_file = dir.path().join("args");
    std::fs::write(
        books.join("opt.toml"),
        format!(
            r#"id = "opt"
title = "Opt"
[[variable]]
name = "unattended"
type = "choice"
choices = ["no", "yes"]
default = "no"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "st"
title = "Record the argv"
why = "w"
kind = "command"
commands = [["sh", "-c", "printf '[%s]' \"$@\" > {}", "sh", "a b", {{ arg = "--keep-going", if = "unattended", is = "yes" }}, "z"]]
"#,
            out_file.display()
        ),
    )
    .unwrap();
    for python in ["modern", "old"] {
        let playbook = dir.path().join(format!("{python}.yml"));
        let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .arg("--checklists")
            .arg(&books)
            .args(["export", "ansible", "opt", "--target-python", python, "-o"])
            .arg(&playbook)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (value, want) in [("yes", "[a b][--keep-going][z]"), ("no", "[a b][z]")] {
            let _ = std::fs::remove_file(&out_file);
            let out = Command::new(bin.join("ansible-playbook"))
                .args(["-i", "localhost,", "-c", "local"])
                .arg("-e")
                .arg(format!(
                    "ansible_python_interpreter={}",
                    bin.join("python").display()
                ))
                .arg("-e")
                .arg(format!("unattended={value}"))
                .arg(&playbook)
                .env("ANSIBLE_NOCOLOR", "1")
                .env("ANSIBLE_PIPELINING", "1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{python} {value}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                std::fs::read_to_string(&out_file).unwrap(),
                want,
                "{python} {value}"
            );
        }
    }
}

/// A step's `shows` texts under real Ansible, in both exports: the task fails unless the
/// output shows the text with the variable's value, and the value stays data (a default of
/// `{{ 7*7 }}` is never rendered into `49`, which the output does show). `{net.address}` and
/// `{net.prefix}` are cut from a cidr value by Ansible as fieldbook cuts them.
#[test]
fn shows_fails_the_task_unless_the_output_shows_the_value_under_real_ansible() {
    let Some(bin) =
        ansible_bin("shows_fails_the_task_unless_the_output_shows_the_value_under_real_ansible")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("books");
    std::fs::create_dir(&books).unwrap();
    let cases = [
        ("right", "10.0.0.1/24", "10.0.0.1/24", true),
        ("other", "10.0.0.9/24", "10.0.0.1/24", false),
        ("hostile", "{{ 7*7 }}", "10.0.0.1/24", false),
        ("prefix", "10.0.0.1/24", "10.0.0.1/16", false),
    ];
    for (id, value, net, _) in cases {
        std::fs::write(
            books.join(format!("{id}.toml")),
            format!(
                "id = \"{id}\"\ntitle = \"T\"\n[[variable]]\nname = \"addr\"\ntype = \"text\"\n\
                 default = \"{value}\"\n[[variable]]\nname = \"net\"\ntype = \"cidr\"\n\
                 default = \"{net}\"\n[[section]]\nid = \"s\"\ntitle = \"S\"\n\
                 [[section.step]]\nid = \"parts\"\ntitle = \"Parts\"\nwhy = \"w\"\n\
                 kind = \"command\"\ncommands = [[\"printf\", \"%s\\n\", \"inet 10.0.0.1/24 brd x\"]]\n\
                 shows = [\"inet {{net.address}}/{{net.prefix}} \"]\n[[section.step]]\n\
                 id = \"address\"\ntitle = \"Check\"\nwhy = \"w\"\nkind = \"command\"\n\
                 commands = [[\"printf\", \"%s\\n\", \"inet 10.0.0.1/24 brd x\", \"inet 49 brd\"]]\n\
                 shows = [\"inet {{addr}} \"]\n"
            ),
        )
        .unwrap();
    }
    for python in ["modern", "old"] {
        for (id, _, _, passes) in cases {
            let playbook = dir.path().join(format!("{id}-{python}.yml"));
            let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
                .arg("--checklists")
                .arg(&books)
                .args(["export", "ansible", id, "--target-python", python, "-o"])
                .arg(&playbook)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let out = Command::new(bin.join("ansible-playbook"))
                .args(["-i", "localhost,", "-c", "local"])
                .arg("-e")
                .arg(format!(
                    "ansible_python_interpreter={}",
                    bin.join("python").display()
                ))
                .arg(&playbook)
                .env("ANSIBLE_NOCOLOR", "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                out.status.success(),
                passes,
                "{id} ({python}):\n{text}{}\n{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&playbook).unwrap()
            );
            if !passes {
                // Failed by the `shows` check itself, not by anything else.
                let why = if python == "modern" {
                    "\"failed_when_result\": true"
                } else {
                    "fieldbook: the output does not show what the step checks"
                };
                assert!(
                    text.contains("failed=1") && text.contains(why),
                    "{id} ({python}): {text}"
                );
            }
        }
    }
}
