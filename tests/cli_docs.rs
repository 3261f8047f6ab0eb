//! `fieldbook completions SHELL` and `fieldbook manpage`: generated from the clap definitions,
//! so they name every subcommand the binary has.

use std::process::Command;

fn fieldbook(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

const SUBCOMMANDS: &[&str] = &[
    "list",
    "show",
    "run",
    "check",
    "status",
    "report",
    "reset",
    "exec",
    "auto",
    "services",
    "runlevels",
    "gcc",
    "snort",
    "subnet",
    "export",
    "fleet",
];

#[test]
fn completions_know_every_subcommand_in_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, script) = fieldbook(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(
            !script.contains("__supervise"),
            "{shell}: hidden command leaked"
        );
    }
    let (code, _) = fieldbook(&["completions", "tcsh"]);
    assert_eq!(code, 2, "an unknown shell is a usage error");
}

#[test]
fn the_man_page_documents_every_subcommand_and_the_exit_codes() {
    let (code, page) = fieldbook(&["manpage"]);
    assert_eq!(code, 0);
    assert!(
        page.starts_with(".ie") || page.contains(".TH fieldbook"),
        "{page}"
    );
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("fieldbook {sub}\\fR")),
            "man page lacks {sub}"
        );
    }
    assert!(page.contains(".SH EXIT STATUS"));
    assert!(page.contains("low\\-bandwidth"), "roff escapes the dashes");
    assert!(!page.contains("__supervise"));
}

/// `--version --verbose` names the glibc floor: scripts/build-portable.sh sets it to 2.17 (and
/// checks that line itself); any other build needs the glibc of the machine it was built on.
#[test]
fn version_verbose_names_the_glibc_floor() {
    let (code, out) = fieldbook(&["--version", "--verbose", "--size", "80x24"]);
    assert_eq!(code, 0, "{out}");
    let floor = option_env!("FIELDBOOK_GLIBC_FLOOR").unwrap_or("host glibc");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("glibc floor: {floor}"))),
        "{out}"
    );
}
