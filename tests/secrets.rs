//! Issue 17 item 5: a `secret` value stays secret. An edit that writes one records its diff
//! with `***` in the state file and the report, and a long step's `.job` file never holds it.

use std::path::Path;
use std::process::{Command, Output};

const RUNBOOK: &str = r#"id = "sec"
title = "Secrets"
[[variable]]
name = "out"
type = "path"
label = "Where the long step writes"
default = "/nonexistent"
[[variable]]
name = "pw"
type = "secret"
label = "Password"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "write"
title = "Write the password"
why = "w"
kind = "edit"
[[section.step.edit]]
path = "/etc/app.conf"
action = "ensure_line"
line = "password = {pw}"
replace = "password ="
[[section.step]]
id = "long"
title = "A long step given the password"
why = "w"
kind = "command"
long = true
commands = [["sh", "-c", "sleep 1; echo \"$0\" > \"$1\"", "{pw}", "{out}"]]
"#;

const SECRET: &str = "hunter2-S3cret";

fn fieldbook(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env_remove("FIELDBOOK_STATE_DIR")
        .env("SUDO_USER", "tech-behind-sudo")
        .arg("--checklists")
        .arg(dir.join("books"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--target")
        .arg("t")
        .args(args)
        .output()
        .unwrap()
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            found.extend(files_holding(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p) {
            if String::from_utf8_lossy(&bytes).contains(needle) {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("books")).unwrap();
    std::fs::create_dir_all(dir.path().join("root/etc")).unwrap();
    std::fs::write(dir.path().join("books/sec.toml"), RUNBOOK).unwrap();
    std::fs::write(dir.path().join("root/etc/app.conf"), "password = old\n").unwrap();
    dir
}

#[test]
fn a_secret_in_an_edit_is_masked_in_the_state_file_and_the_report() {
    let dir = setup();
    let pw = format!("pw={SECRET}");
    let o = fieldbook(dir.path(), &["exec", "sec", "write", "--var", &pw, "--yes"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The file itself gets the value: that is what the edit is for.
    let conf = std::fs::read_to_string(dir.path().join("root/etc/app.conf")).unwrap();
    assert_eq!(conf, format!("password = {SECRET}\n"));
    let runs = dir.path().join("state/runs");
    assert_eq!(files_holding(&runs, SECRET), Vec::<String>::new());
    // Issue 17 item 16: the journal records the real uid and $SUDO_USER on every line.
    // SAFETY: getuid has no preconditions.
    let uid = format!("\"uid\":{}", unsafe { libc::getuid() });
    let journals = files_holding(&runs, "\"event\"");
    assert!(!journals.is_empty(), "no journal");
    for j in journals {
        for line in std::fs::read_to_string(&j).unwrap().lines() {
            assert!(line.contains(&uid), "{line}");
            assert!(
                line.contains("\"sudo_user\":\"tech-behind-sudo\""),
                "{line}"
            );
        }
    }
    assert!(
        !files_holding(&runs, "+password = ***").is_empty(),
        "no masked diff recorded"
    );
    for format in [&["report", "sec"][..], &["report", "sec", "--json"]] {
        let o = fieldbook(dir.path(), format);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(!text.contains(SECRET), "{format:?}:\n{text}");
        assert!(text.contains("password = ***"), "{format:?}:\n{text}");
    }
}

#[test]
fn a_long_steps_job_file_never_holds_a_secret() {
    let dir = setup();
    let out = dir.path().join("got");
    let pw = format!("pw={SECRET}");
    let out_var = format!("out={}", out.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env_remove("FIELDBOOK_STATE_DIR")
        .arg("--checklists")
        .arg(dir.path().join("books"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .args([
            "--target", "t", "exec", "sec", "long", "--yes", "--var", &pw, "--var", &out_var,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While the step runs, and after: no file in the state directory holds the secret.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut saw_job = false;
    while std::time::Instant::now() < deadline && !out.exists() {
        let state = dir.path().join("state");
        saw_job |= files_holding(&state, "\"argv\"")
            .iter()
            .any(|f| f.ends_with(".job"));
        assert_eq!(files_holding(&state, SECRET), Vec::<String>::new());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    assert!(saw_job, "never saw the job file");
    // The program itself got the value.
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        format!("{SECRET}\n")
    );
    assert_eq!(
        files_holding(&dir.path().join("state"), SECRET),
        Vec::<String>::new()
    );
}
