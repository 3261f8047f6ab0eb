//! `fieldbook check` on malformed runbooks: the real binary must print exactly one
//! `FILE:LINE:COL: message` per problem, pointing where an editor should jump, and exit 1;
//! a valid file prints `ok` and exits 0.

use std::path::Path;
use std::process::{Command, Output};

fn check(files: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("check")
        .args(files)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // A user runbook directory in the environment must not change what check reports.
        .env_remove("FIELDBOOK_CHECKLISTS")
        .output()
        .expect("run fieldbook")
}

/// Every malformed fixture with the exact lines `check` must print for it.
const BAD: &[(&str, &[&str])] = &[
    (
        "syntax_error.toml",
        &["2:24: invalid basic string, expected `\"`"],
    ),
    (
        "unknown_key.toml",
        &[
            "13:1: unknown field `comands`, expected one of `id`, `title`, `why`, `kind`, \
           `confirm`, `reboot`, `when`, `after`, `commands`, `script`, `shell`, `expect`, `ok_output`, `shows`, `check`, \
           `interactive`, `long`, `resume`, `practice`, `edit`, `fields`, `tool`",
        ],
    ),
    (
        "duplicate_step_id.toml",
        &["16:6: duplicate step id 'sync'"],
    ),
    (
        "undeclared_variable.toml",
        &["13:39: variable 'bridge' is used but not declared (add a [[variable]])"],
    ),
    (
        "empty_argv.toml",
        &["13:13: a command is an empty argv: name a program"],
    ),
    (
        "wrong_value_type.toml",
        &["14:15: `interactive`: invalid type: string \"yes\", expected a boolean"],
    ),
    (
        "wrong_type_in_array.toml",
        &["14:11: `expect`: invalid type: string \"0\", expected a whole number"],
    ),
    (
        "unknown_kind.toml",
        &["12:8: unknown step kind 'shell' (one of: manual, command, script, edit, form, tool)"],
    ),
    (
        "unknown_tool.toml",
        &[
            "13:8: unknown tool 'firewall' (one of: services, runlevels, gcc-profile, snort-rules, \
           subnet)",
        ],
    ),
    (
        "bad_ip_default.toml",
        &["7:11: default of 'gateway' (ip): '192.168.1.300' is not an IPv4 or IPv6 address"],
    ),
    (
        "unknown_variable_type.toml",
        &[
            "6:8: unknown variant `ipv4`, expected one of `text`, `ip`, `cidr`, `netmask`, `mac`, \
           `hostname`, `interface`, `port`, `path`, `choice`, `secret`",
        ],
    ),
    (
        "choice_without_choices.toml",
        &["5:8: choice variable 'level' needs a list of `choices`"],
    ),
    (
        "script_splices_variable.toml",
        &[
            "17:21: a script never splices variables: use \"$FB_gateway\", which fieldbook \
           exports to the script",
        ],
    ),
    (
        "edit_missing_line.toml",
        &["16:10: the ensure_line action needs `line`"],
    ),
    (
        "unknown_edit_action.toml",
        &[
            "16:10: unknown edit action 'delete' (one of: ensure_line, comment_out, uncomment, \
           set_var, add_words, remove_words, ensure_block, comment_form, python_list_item, \
           python_add_words, python_line, chmod, symlink)",
        ],
    ),
    (
        "after_unknown_step.toml",
        &[
            "13:10: `after` names 'world', which is not a step of this runbook",
            "13:19: `after` names 'revdep-rebild', which is not a step of this runbook",
        ],
    ),
    (
        "when_probe_and_question.toml",
        &["14:8: `when` needs exactly one of `probe` (an argv), `script` or `ask` (a question)"],
    ),
    (
        "when_probe_undeclared.toml",
        &["14:34: variable 'ip_path' is used but not declared (add a [[variable]])"],
    ),
    (
        "python_item_missing_value.toml",
        &["16:10: the python_list_item action needs `value`"],
    ),
    (
        "contradicting_words.toml",
        &["18:9: 'pae' and '-pae' contradict each other: add one of them"],
    ),
    (
        "bad_comment_prefix.toml",
        &[
            "18:11: `comment` must be a prefix on one line starting with punctuation (like # or ;), without control characters",
        ],
    ),
    (
        "bad_chmod_mode.toml",
        &["17:8: chmod mode '644' must be \"+x\" or \"-x\""],
    ),
    (
        "form_undeclared_field.toml",
        &["13:11: form field 'gateway' is not a declared variable"],
    ),
    (
        "empty_why.toml",
        &["11:7: `why` is empty: explain the reason for the step"],
    ),
    (
        "manual_with_commands.toml",
        &["12:8: a manual step cannot have `commands` (that belongs to a command step)"],
    ),
    (
        "shows_problems.toml",
        &[
            "18:16: variable 'address' is used but not declared (add a [[variable]])",
            "18:29: each `shows` text must be one line of text that is not blank",
            "27:9: `shows` cannot be used here: a long step's output is followed for hours, not \
           judged as a readout",
        ],
    ),
    (
        "shows_secret.toml",
        &["18:21: `shows` cannot use the secret 'community': its verdict would show the value"],
    ),
    (
        "manual_with_options.toml",
        &[
            "12:8: a manual step cannot have command options (interactive, long); only command \
           and script steps run programs",
        ],
    ),
];

#[test]
fn each_malformed_runbook_gives_its_exact_located_message() {
    let mut failures = Vec::new();
    for (name, expected) in BAD {
        let path = format!("tests/fixtures/bad/{name}");
        let out = check(&[&path]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let want: Vec<String> = expected.iter().map(|m| format!("{path}:{m}")).collect();
        let got: Vec<&str> = stdout.lines().collect();
        if got != want || out.status.code() != Some(1) {
            failures.push(format!(
                "{name}: exit {:?}\n  want: {want:#?}\n  got:  {got:#?}",
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_bad_fixture_is_covered_by_an_expectation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = BAD.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    assert!(listed.len() >= 10);
}

#[test]
fn a_valid_runbook_passes_with_exit_zero() {
    let out = check(&["tests/fixtures/good/minimal.toml"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "tests/fixtures/good/minimal.toml: ok (keep-driver, 3 steps)\n"
    );
}

#[test]
fn one_bad_file_among_good_ones_fails_the_whole_check() {
    let out = check(&[
        "tests/fixtures/good/minimal.toml",
        "tests/fixtures/bad/duplicate_step_id.toml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("minimal.toml: ok"));
    assert!(stdout.contains("duplicate_step_id.toml:16:6: duplicate step id 'sync'"));
}

#[test]
fn a_missing_file_is_reported_not_a_panic() {
    let out = check(&["tests/fixtures/bad/no-such-file.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("tests/fixtures/bad/no-such-file.toml:1:1: cannot read:"),
        "{stdout}"
    );
}

/// The worked example in docs/runbook-format.md must stay a valid runbook, so the reference
/// never teaches a format the loader rejects.
#[test]
fn the_documented_example_is_valid() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/runbook-format.md"),
    )
    .unwrap();
    let start = doc
        .find("```toml\nid = \"keep-driver\"")
        .expect("worked example")
        + 8;
    let len = doc[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keep-driver.toml");
    std::fs::write(&file, &doc[start..start + len]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.ends_with(": ok (keep-driver, 4 steps)\n"),
        "{stdout}"
    );
}

/// A user directory with a file carrying a built-in's id replaces the built-in, as the docs say.
#[test]
fn a_user_runbook_with_a_builtin_id_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/good/minimal.toml"),
    )
    .unwrap()
    .replace("id = \"keep-driver\"", "id = \"gentoo-world-update\"");
    std::fs::write(dir.path().join("mine.toml"), text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("list")
        .env("FIELDBOOK_CHECKLISTS", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("gentoo-world-update"))
        .unwrap();
    assert!(
        line.contains("Keep a copy of a fragile package"),
        "{stdout}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("gentoo-world-update"))
            .count(),
        1
    );
}
