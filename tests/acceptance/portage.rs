//! The Gentoo world-update runbook's `--sync`-free steps against the real Portage `emerge`, in a
//! private Gentoo-prefix tree: preview, the real world update, quickpkg and depclean's preview.

use std::path::Path;

use fieldbook::core::parse::emerge::{MergeKind, parse_pretend};

use crate::fieldbook::{Fieldbook, Outcome, assert_clean, step_running, without_sgr};
use crate::setup::{self, Part};

const RUNBOOK: &str = "gentoo-world-update";
const PRETEND: &[&str] = &[
    "emerge",
    "--pretend",
    "--update",
    "--newuse",
    "--deep",
    "world",
];
const WORLD: &[&str] = &["emerge", "--update", "--newuse", "--deep", "world"];
const DEPCLEAN_PRETEND: &[&str] = &["emerge", "--depclean", "--pretend"];

fn done(id: &str, out: &Outcome) {
    assert_eq!(out.code, 0, "{id} should end done:\n{}", out.all());
    assert_clean(id, &out.all());
}

fn planned(out: &Outcome) -> Vec<(String, MergeKind, Option<String>)> {
    parse_pretend(&out.stdout)
        .merges
        .into_iter()
        .map(|m| (m.atom(), m.kind, m.replaces))
        .collect()
}

#[test]
fn world_update_steps_run_through_fieldbook_against_the_real_emerge() {
    let test = "world_update_steps_run_through_fieldbook_against_the_real_emerge";
    let Some(root) = setup::root(test, Part::Gentoo) else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let mut fb = Fieldbook::new(&work.path().join("state"), &[root.bin()]);
    fb.env.push(("NOCOLOR".into(), "true".into()));

    // The preview, parsed into what the world update will merge.
    let pretend = step_running(RUNBOOK, PRETEND, &[]);
    let out = fb.exec(RUNBOOK, &pretend, &[]);
    done(&pretend, &out);
    let expected = vec![
        ("sys-apps/tinytool-0.5".to_string(), MergeKind::New, None),
        (
            "app-misc/hello-1.1".to_string(),
            MergeKind::Upgrade,
            Some("1.0".to_string()),
        ),
        ("app-misc/greeter-2.0".to_string(), MergeKind::New, None),
    ];
    assert_eq!(planned(&out), expected, "parsed from:\n{}", out.stdout);

    // With emerge's colours forced on, fieldbook still prints only SGR and the same list.
    let mut coloured = Fieldbook::new(&work.path().join("state-colour"), &[root.bin()]);
    coloured
        .env
        .push(("EMERGE_DEFAULT_OPTS".into(), "--color y".into()));
    let out = coloured.exec(RUNBOOK, &pretend, &[]);
    done(&pretend, &out);
    assert!(
        contains(&out.raw_log(), b"\x1b[32;01mN\x1b[39;49;00m"),
        "emerge really printed colours (the log keeps the raw bytes)"
    );
    assert_eq!(planned(&out), expected);
    assert!(
        without_sgr(&out.stdout).contains("[ebuild     U  ] app-misc/hello-1.1 [1.0]"),
        "{}",
        out.stdout
    );

    // The real world update (confirmed with --yes, as the technician's yes to the preview)
    // runs supervised, merges into the private tree and ends done.
    let world = step_running(RUNBOOK, WORLD, &[]);
    let refused = fb.exec(RUNBOOK, &world, &[]);
    assert_eq!(
        refused.code,
        3,
        "without --yes the update must wait:\n{}",
        refused.all()
    );
    let out = fb.exec_with(RUNBOOK, &world, &[], &["--yes"]);
    done(&world, &out);
    for line in [
        ">>> Completed (1 of 3) sys-apps/tinytool-0.5::localrepo",
        ">>> Completed (3 of 3) app-misc/greeter-2.0::localrepo",
    ] {
        assert!(out.all().contains(line), "missing {line:?}:\n{}", out.all());
    }
    let tree = root.tree();
    assert_installed(
        &tree,
        &[
            "app-misc/greeter-2.0",
            "app-misc/hello-1.1",
            "sys-apps/tinytool-0.5",
        ],
    );
    let hello = std::process::Command::new(tree.join("usr/bin/hello"))
        .output()
        .expect("the merged hello runs");
    assert_eq!(String::from_utf8_lossy(&hello.stdout), "hello 1.1\n");

    // Nothing is left to do: the preview is empty now.
    let out = fb.exec(RUNBOOK, &pretend, &[]);
    done(&pretend, &out);
    assert_eq!(planned(&out), vec![]);

    // quickpkg of an installed package; its output is coloured even through a pipe.
    let quickpkg = step_running(
        RUNBOOK,
        &["quickpkg", "app-misc/hello"],
        &[("fragile_atom", "app-misc/hello")],
    );
    let plain = Fieldbook::new(&work.path().join("state-quickpkg"), &[root.bin()]);
    // quickpkg comes after the form that names the package (`after`), as on a real walk.
    let out = plain.exec(
        RUNBOOK,
        "fragile-atom",
        &[("fragile_atom", "app-misc/hello")],
    );
    done("fragile-atom", &out);
    let out = plain.exec(RUNBOOK, &quickpkg, &[("fragile_atom", "app-misc/hello")]);
    done(&quickpkg, &out);
    assert!(
        contains(&out.raw_log(), b"\x1b[32m * \x1b[39;49;00m"),
        "quickpkg colours"
    );
    assert!(
        without_sgr(&out.all()).contains(" * Building package for app-misc/hello-1.1 ..."),
        "{}",
        out.all()
    );
    assert!(
        tree.join("var/cache/binpkgs/app-misc/hello/hello-1.1-1.gpkg.tar")
            .is_file()
    );

    // depclean's preview: nothing to remove, every package is needed.
    let depclean = step_running(RUNBOOK, DEPCLEAN_PRETEND, &[]);
    let out = fb.exec(RUNBOOK, &depclean, &[]);
    done(&depclean, &out);
    for line in ["Packages installed:   3", "Number to remove:     0"] {
        assert!(
            out.stdout.contains(line),
            "missing {line:?}:\n{}",
            out.stdout
        );
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_installed(tree: &Path, cpvs: &[&str]) {
    let db = tree.join("var/db/pkg");
    let mut found = Vec::new();
    for cat in std::fs::read_dir(&db).expect("vdb") {
        let cat = cat.expect("entry");
        for pkg in std::fs::read_dir(cat.path()).expect("category") {
            let pkg = pkg.expect("entry");
            found.push(format!(
                "{}/{}",
                cat.file_name().to_string_lossy(),
                pkg.file_name().to_string_lossy()
            ));
        }
    }
    found.sort();
    assert_eq!(found, cpvs);
}
