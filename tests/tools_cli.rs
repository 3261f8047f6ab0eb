//! The tool subcommands (`services`, `runlevels`, `gcc`, `snort`) run as the real binary with
//! the stub tools first on PATH: what they print and exactly which argv they ran.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stubs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stubs")
}

fn fieldbook(dir: &Path, args: &[&str]) -> Output {
    let path = format!(
        "{}:{}",
        stubs().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(args)
        .env("PATH", path)
        .env("STUB_LOG", dir.join("argv.log"))
        .env("STUB_STATE_DIR", dir.join("stub-state"))
        .env("FIELDBOOK_STATE_DIR", dir.join("state"))
        .env_remove("FIELDBOOK_ROOT")
        .env_remove("FIELDBOOK_CHECKLISTS")
        .output()
        .unwrap()
}

/// The argv records the stubs wrote (see tests/stubs/_record.sh).
fn recorded(dir: &Path) -> Vec<Vec<String>> {
    let log = std::fs::read(dir.join("argv.log")).unwrap_or_default();
    String::from_utf8(log)
        .unwrap()
        .split("\u{1e}\n")
        .filter(|r| !r.is_empty())
        .map(|r| r.split('\u{1f}').map(String::from).collect())
        .collect()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn services_lists_the_56_clearos_services_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let out = fieldbook(dir.path(), &["services"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out);
    assert_eq!(stdout.lines().count(), 57, "{stdout}");
    assert!(
        stdout.contains("ldap             ---345-     LOCKED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("iscsid           --2345-     off"),
        "{stdout}"
    );
    assert!(
        stdout.lines().all(|l| l == l.trim_end()),
        "no trailing blanks"
    );
    assert_eq!(recorded(dir.path()), [vec!["chkconfig", "--list"]]);
}

#[test]
/// Conditional advice (iSCSI, LVM, NFS) is marked as such in the plan, as a shell comment.
fn services_plan_follows_the_clear_advice_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = fieldbook(dir.path(), &["services", "--plan"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out),
        "chkconfig --level 2345 avahi-daemon off\n\
         chkconfig --level 2345 haldaemon off\n\
         chkconfig --level 2345 iscsid off  # conditional: leave it on if you use iSCSI\n\
         chkconfig --level 2345 kudzu off\n\
         chkconfig --level 2345 lvm2-monitor off  # conditional: leave it on if you use LVM\n\
         chkconfig --level 2345 messagebus off\n\
         chkconfig --level 2345 netfs off  # conditional: leave it on if you mount NFS (or SMB/CIFS) file systems\n\
         chkconfig --level 2345 snmpd on\n"
    );
}

/// `--plan --json` carries the same conditional marking as the text plan: each command is
/// `{"argv": [...], "conditional": "leave it on if ..."}`, `conditional` null for clear advice.
#[test]
fn services_plan_json_marks_conditional_advice_as_the_text_plan_does() {
    let dir = tempfile::tempdir().unwrap();
    let out = fieldbook(dir.path(), &["services", "--plan", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let plan = v.as_array().unwrap_or_else(|| panic!("a list: {v}"));
    let text = text(&fieldbook(dir.path(), &["services", "--plan"]));
    assert_eq!(plan.len(), text.lines().count());
    for (entry, line) in plan.iter().zip(text.lines()) {
        let argv: Vec<&str> = entry["argv"]
            .as_array()
            .unwrap_or_else(|| panic!("argv: {entry}"))
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let (command, comment) = match line.split_once("  # conditional: ") {
            Some((c, why)) => (c, Some(why)),
            None => (line, None),
        };
        assert_eq!(argv.join(" "), command);
        assert_eq!(entry["conditional"].as_str(), comment, "{entry}");
        assert_eq!(entry.as_object().unwrap().len(), 2, "{entry}");
    }
    assert_eq!(
        plan[2],
        serde_json::json!({
            "argv": ["chkconfig", "--level", "2345", "iscsid", "off"],
            "conditional": "leave it on if you use iSCSI"
        })
    );
    assert_eq!(
        plan[0],
        serde_json::json!({
            "argv": ["chkconfig", "--level", "2345", "avahi-daemon", "off"],
            "conditional": null
        })
    );
}

#[test]
fn services_json_and_practice_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = fieldbook(dir.path(), &["--practice", "services", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["levels"], "2345");
    assert_eq!(v["rows"].as_array().unwrap().len(), 56);
    assert!(
        recorded(dir.path()).is_empty(),
        "practice mode runs nothing"
    );
}

#[test]
fn a_failing_or_missing_tool_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(["services"])
        .env("PATH", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`chkconfig` not found in PATH"), "{err}");
}

#[test]
fn runlevels_from_rc_update() {
    let dir = tempfile::tempdir().unwrap();
    let out = fieldbook(dir.path(), &["runlevels", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 23);
    assert_eq!(recorded(dir.path()), [vec!["rc-update", "-v", "show"]]);
}

#[test]
fn gcc_shows_newest_and_the_switch_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = fieldbook(dir.path(), &["gcc", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["current"], 1);
    assert_eq!(v["newest"], 2);
    assert_eq!(
        v["switch"],
        serde_json::json!([["gcc-config", "2"], ["env-update"]])
    );
    assert_eq!(recorded(dir.path()), [vec!["gcc-config", "-l"]]);
}

#[test]
fn snort_scans_under_root_and_takes_user_sids() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let rules = root.join("var/lib/suva/services/intrusion-protection/rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("web.rules"),
        "alert tcp any any -> any 80 (msg:\"a\"; sid:1091; rev:1;)\n\
         #alert tcp any any -> any 80 (msg:\"b\"; sid:424242; rev:1;)\n",
    )
    .unwrap();
    let out = fieldbook(dir.path(), &["snort", "add", "424242", "blocks our probe"]);
    assert!(out.status.success(), "{out:?}");
    let root_arg = root.to_str().unwrap();
    let out = fieldbook(dir.path(), &["--root", root_arg, "snort"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out);
    assert!(stdout.contains("SID 1091       enabled"), "{stdout}");
    assert!(
        stdout.contains("/var/lib/suva/services/intrusion-protection/rules/web.rules:1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SID 424242     disabled   blocks our probe"),
        "{stdout}"
    );
    assert!(stdout.contains("SID 966        not found"), "{stdout}");
    let out = fieldbook(
        dir.path(),
        &["--root", dir.path().join("none").to_str().unwrap(), "snort"],
    );
    assert_eq!(out.status.code(), Some(1));
}
