//! The three built-in runbooks are the product's content: these tests hold them to the source
//! articles (key steps present, in order, with the right argv and flags) and to the format's
//! rules (every variable declared and asked for before use, every step explained, no shell).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use fieldbook::core::catalog::BUILTIN;
use fieldbook::core::runbook::{Action, EditAction, Program, RunSpec, Runbook, Step, load_str};
use fieldbook::core::vars::{references, substitute};

fn all() -> Vec<Runbook> {
    BUILTIN
        .iter()
        .map(|(name, text)| match load_str(name, text) {
            Ok(rb) => rb,
            Err(problems) => panic!(
                "{name} does not load:\n{}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        })
        .collect()
}

fn runbook(id: &str) -> Runbook {
    all()
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no built-in runbook {id}"))
}

fn run_spec<'a>(rb: &'a Runbook, step: &str) -> &'a RunSpec {
    match &rb
        .step(step)
        .unwrap_or_else(|| panic!("{}: no step {step}", rb.id))
        .action
    {
        Action::Run(spec) => spec,
        other => panic!("{}: step {step} is not a command: {other:?}", rb.id),
    }
}

/// The argv of every program, words only (an optional element is left out).
fn argvs(spec: &RunSpec) -> Vec<Vec<String>> {
    spec.programs
        .iter()
        .map(|p| match p {
            Program::Argv(a) => a
                .iter()
                .filter_map(|e| match e {
                    fieldbook::core::runbook::Arg::Word(w) => Some(w.clone()),
                    fieldbook::core::runbook::Arg::Optional(_) => None,
                })
                .collect(),
            Program::Script { .. } => panic!("unexpected script"),
        })
        .collect()
}

/// The argv of every program of every command step, with variables filled by their defaults.
fn reachable_argvs(rb: &Runbook) -> Vec<Vec<String>> {
    let values = rb.default_values();
    rb.steps()
        .filter_map(|(_, s)| match &s.action {
            Action::Run(spec) => Some(argvs(spec)),
            _ => None,
        })
        .flatten()
        .map(|argv| argv.iter().map(|a| substitute(a, &values)).collect())
        .collect()
}

fn has_argv(rb: &Runbook, want: &[&str]) -> bool {
    reachable_argvs(rb)
        .iter()
        .any(|argv| argv.iter().map(String::as_str).eq(want.iter().copied()))
}

/// Every `{name}` template a step carries (argv, check, resume, edit paths and fields).
fn templates(step: &Step) -> Vec<String> {
    let mut out = Vec::new();
    match &step.action {
        Action::Run(spec) => {
            for p in &spec.programs {
                if let Program::Argv(a) = p {
                    out.extend(a.iter().map(|e| e.text().to_string()));
                }
            }
            out.extend(spec.check.iter().flatten().cloned());
            out.extend(spec.resume.iter().flatten().cloned());
        }
        Action::Edit { edits } => {
            for e in edits {
                out.push(e.path.clone());
                match &e.action {
                    EditAction::EnsureLine { line, replace } => {
                        out.push(line.clone());
                        out.extend(replace.iter().cloned());
                    }
                    EditAction::CommentOut { pattern } | EditAction::Uncomment { pattern } => {
                        out.push(pattern.clone())
                    }
                    EditAction::SetVar { key, value } => {
                        out.push(key.clone());
                        out.push(value.clone());
                    }
                    EditAction::AddWords { key, words }
                    | EditAction::RemoveWords { key, words } => {
                        out.push(key.clone());
                        out.extend(words.iter().cloned());
                    }
                    EditAction::EnsureBlock { marker, block } => {
                        out.push(marker.clone());
                        out.push(block.clone());
                    }
                    EditAction::CommentForm { key } => out.push(key.clone()),
                    EditAction::PythonLine { line } => out.push(line.clone()),
                    EditAction::PythonListItem {
                        key,
                        pattern,
                        value,
                    } => out.extend([key.clone(), pattern.clone(), value.clone()]),
                    EditAction::PythonAddWords { key, words } => {
                        out.push(key.clone());
                        out.extend(words.iter().cloned());
                    }
                    EditAction::Chmod { .. } => {}
                    EditAction::Symlink { target } => out.push(target.clone()),
                }
            }
        }
        Action::Manual | Action::Form { .. } | Action::Tool { .. } => {}
    }
    // A `when` probe uses values too: they must be asked before the probe runs.
    if let Some(fieldbook::core::runbook::When {
        test: fieldbook::core::runbook::WhenTest::Probe(Program::Argv(a)),
        ..
    }) = &step.when
    {
        out.extend(a.iter().map(|e| e.text().to_string()));
    }
    out
}

fn position(rb: &Runbook, id: &str) -> usize {
    rb.steps()
        .position(|(_, s)| s.id == id)
        .unwrap_or_else(|| panic!("{}: no step {id}", rb.id))
}

fn assert_in_order(rb: &Runbook, ids: &[&str]) {
    let positions: Vec<usize> = ids.iter().map(|id| position(rb, id)).collect();
    for (pair, pos) in ids.windows(2).zip(positions.windows(2)) {
        assert!(
            pos[0] < pos[1],
            "{}: step {} must come before {}",
            rb.id,
            pair[0],
            pair[1]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The format's rules, for every built-in.

#[test]
fn the_three_builtins_load_with_their_ids() {
    let ids: Vec<String> = all().into_iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        ["clearos-install", "xen4-migration", "gentoo-world-update"]
    );
}

#[test]
fn fieldbook_check_accepts_every_builtin_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "assets/checklists/clearos-install.toml",
            "assets/checklists/xen4-migration.toml",
            "assets/checklists/gentoo-world-update.toml",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.contains(": ok (")).count(), 3);
}

#[test]
fn step_section_and_runbook_ids_are_unique() {
    let mut runbook_ids = BTreeSet::new();
    for rb in all() {
        assert!(
            runbook_ids.insert(rb.id.clone()),
            "duplicate runbook {}",
            rb.id
        );
        let mut steps = BTreeSet::new();
        for (_, s) in rb.steps() {
            assert!(steps.insert(&s.id), "{}: duplicate step {}", rb.id, s.id);
        }
        let mut sections = BTreeSet::new();
        for s in &rb.sections {
            assert!(
                sections.insert(&s.id),
                "{}: duplicate section {}",
                rb.id,
                s.id
            );
        }
    }
}

#[test]
fn every_variable_used_is_declared() {
    for rb in all() {
        let declared: BTreeSet<&str> = rb.variables.iter().map(|v| v.name.as_str()).collect();
        for (_, step) in rb.steps() {
            for t in templates(step) {
                for (_, name) in references(&t) {
                    assert!(
                        declared.contains(name.as_str()),
                        "{}: step {} uses undeclared {{{name}}}",
                        rb.id,
                        step.id
                    );
                }
            }
            if let Action::Form { fields } = &step.action {
                for f in fields {
                    assert!(declared.contains(f.as_str()), "{}: form asks {f}", rb.id);
                }
            }
        }
    }
}

#[test]
fn a_variable_without_default_is_asked_by_a_form_before_it_is_used() {
    for rb in all() {
        let mut asked: BTreeSet<String> = rb
            .variables
            .iter()
            .filter(|v| v.default.is_some())
            .map(|v| v.name.clone())
            .collect();
        for (_, step) in rb.steps() {
            if let Action::Form { fields } = &step.action {
                asked.extend(fields.iter().cloned());
            }
            for t in templates(step) {
                for (_, name) in references(&t) {
                    assert!(
                        asked.contains(&name),
                        "{}: step {} uses {{{name}}} before any form asks for it",
                        rb.id,
                        step.id
                    );
                }
            }
        }
    }
}

#[test]
fn every_declared_variable_is_asked_or_used() {
    for rb in all() {
        let mut seen = BTreeSet::new();
        for (_, step) in rb.steps() {
            if let Action::Form { fields } = &step.action {
                seen.extend(fields.iter().cloned());
            }
            for t in templates(step) {
                seen.extend(references(&t).into_iter().map(|(_, n)| n));
            }
        }
        for v in &rb.variables {
            assert!(
                seen.contains(&v.name),
                "{}: variable {} is never used",
                rb.id,
                v.name
            );
        }
    }
}

#[test]
fn every_step_explains_itself() {
    for rb in all() {
        for (_, step) in rb.steps() {
            let why = step.why.trim();
            let sentences = why
                .split_inclusive(['.', '!', '?'])
                .filter(|s| s.trim().len() > 10)
                .count();
            assert!(
                why.len() >= 120 && sentences >= 2,
                "{}: step {} needs a real why (2-6 sentences), got {why:?}",
                rb.id,
                step.id
            );
            let lower = why.to_lowercase();
            assert!(
                !lower.contains("todo") && !lower.contains("lorem") && why != "placeholder",
                "{}: step {} has a stub why",
                rb.id,
                step.id
            );
            assert!(!step.title.trim().is_empty());
        }
    }
}

#[test]
fn no_builtin_step_needs_a_shell() {
    for rb in all() {
        for (_, step) in rb.steps() {
            if let Action::Run(spec) = &step.action {
                assert!(!spec.is_script(), "{}: {} is a script", rb.id, step.id);
                for argv in argvs(spec) {
                    let program = argv[0].rsplit('/').next().unwrap_or_default();
                    assert!(
                        !matches!(program, "sh" | "bash" | "dash"),
                        "{}: {} runs a shell",
                        rb.id,
                        step.id
                    );
                    for a in &argv {
                        assert!(
                            !["|", "&&", ";", ">", "2>&1"].contains(&a.as_str()),
                            "{}: {} has shell syntax {a:?} in an argv",
                            rb.id,
                            step.id
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn commands_that_ask_questions_are_interactive() {
    for rb in all() {
        for (_, step) in rb.steps() {
            let Action::Run(spec) = &step.action else {
                continue;
            };
            for argv in argvs(spec) {
                let asks = argv.iter().any(|a| a == "--ask")
                    || argv[0] == "etc-update"
                    || (argv[0] == "yum"
                        && matches!(
                            argv.get(1).map(String::as_str),
                            Some("install" | "update" | "groupinstall")
                        )
                        && !argv.iter().any(|a| a == "-y"));
                if asks {
                    assert!(
                        spec.interactive,
                        "{}: {} asks questions but is not interactive",
                        rb.id, step.id
                    );
                }
            }
        }
    }
}

#[test]
fn emerge_builds_can_be_resumed() {
    for rb in all() {
        for (_, step) in rb.steps() {
            let Action::Run(spec) = &step.action else {
                continue;
            };
            let builds = argvs(spec).iter().any(|a| {
                a[0] == "emerge"
                    && !a
                        .iter()
                        .any(|x| x == "--sync" || x == "--depclean" || x == "--pretend")
            });
            if builds {
                assert_eq!(
                    spec.resume,
                    Some(vec!["emerge".to_string(), "--resume".to_string()]),
                    "{}: {}",
                    rb.id,
                    step.id
                );
            }
        }
    }
}

#[test]
fn practice_failures_are_on_exactly_the_agreed_steps() {
    let mut found = BTreeMap::new();
    for rb in all() {
        for (_, step) in rb.steps() {
            if let Action::Run(RunSpec {
                practice: Some(p), ..
            }) = &step.action
            {
                found.insert(p.clone(), format!("{}/{}", rb.id, step.id));
            }
        }
    }
    let want: BTreeMap<String, String> = [
        ("emerge-world-blocked", "gentoo-world-update/world"),
        (
            "revdep-rebuild-missing",
            "gentoo-world-update/revdep-rebuild",
        ),
        (
            "yum-install-depfail",
            "clearos-install/install-gamin-python",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(found, want);
}

#[test]
fn applies_to_names_the_release_files() {
    assert_eq!(
        runbook("clearos-install").applies_to,
        ["/etc/clearos-release"]
    );
    assert_eq!(
        runbook("xen4-migration").applies_to,
        ["/etc/gentoo-release"]
    );
    assert_eq!(
        runbook("gentoo-world-update").applies_to,
        ["/etc/gentoo-release"]
    );
}

// ---------------------------------------------------------------------------------------------
// gentoo-world-update: the foolproof build order.

#[test]
fn gentoo_build_order_is_the_articles() {
    let rb = runbook("gentoo-world-update");
    assert_in_order(
        &rb,
        &[
            "quickpkg",
            "sync",
            "portage",
            "gcc-glibc",
            "gcc-config",
            "source-profile",
            "emerge-screen",
            "world",
            "revdep-rebuild",
            "python-updater",
            "perl-cleaner",
            "lafilefixer",
            "revdep-rebuild-again",
            "depclean",
            "etc-update",
        ],
    );
    assert_eq!(
        rb.step("etc-update").map(|s| s.id.as_str()),
        rb.steps()
            .filter(|(_, s)| matches!(s.action, Action::Run(_)))
            .last()
            .map(|(_, s)| s.id.as_str())
    );
}

#[test]
fn gentoo_commands_are_the_articles() {
    let rb = runbook("gentoo-world-update");
    assert_eq!(
        argvs(run_spec(&rb, "quickpkg")),
        [["quickpkg", "{fragile_atom}"]]
    );
    assert_eq!(argvs(run_spec(&rb, "sync")), [["emerge", "--sync"]]);
    assert_eq!(argvs(run_spec(&rb, "portage")), [["emerge", "portage"]]);
    assert_eq!(
        argvs(run_spec(&rb, "gcc-glibc")),
        [["emerge", "--update", "gcc", "glibc"]]
    );
    assert_eq!(
        argvs(run_spec(&rb, "world")),
        [["emerge", "--update", "--newuse", "--deep", "world"]]
    );
    assert_eq!(argvs(run_spec(&rb, "revdep-rebuild")), [["revdep-rebuild"]]);
    assert_eq!(argvs(run_spec(&rb, "python-updater")), [["python-updater"]]);
    assert_eq!(
        argvs(run_spec(&rb, "perl-cleaner")),
        [["perl-cleaner", "all"]]
    );
    assert_eq!(
        argvs(run_spec(&rb, "lafilefixer")),
        [["lafilefixer", "--justfixit"]]
    );
    assert_eq!(
        argvs(run_spec(&rb, "depclean")),
        [["emerge", "--depclean", "--deep", "--ask"]]
    );
    assert_eq!(argvs(run_spec(&rb, "etc-update")), [["etc-update"]]);

    for long in [
        "sync",
        "gcc-glibc",
        "world",
        "revdep-rebuild",
        "revdep-rebuild-again",
    ] {
        assert!(run_spec(&rb, long).long, "{long} should be long");
    }
    // The article's --ask becomes the preview step plus fieldbook's confirmation, so the long
    // update can run supervised and survive a dropped link.
    assert!(!run_spec(&rb, "world").interactive);
    assert!(rb.step("world").unwrap().confirm.is_some());
    // The preview is the real step with --pretend, in the set syntax every portage accepts
    // (`world`), so the confirm shows what will really run.
    let mut preview = argvs(run_spec(&rb, "world"))[0].clone();
    preview.insert(1, "--pretend".into());
    assert_eq!(argvs(run_spec(&rb, "world-pretend")), [preview]);
    // Leaving it unattended adds --keep-going to the same build's argv (a choice asked before
    // it), as an argument of its own; watched, the argument is absent.
    let spec = run_spec(&rb, "world");
    let values = |v: &str| BTreeMap::from([("unattended".to_string(), v.to_string())]);
    let job = |v: &str| fieldbook::core::runner::StepJob::from_spec(spec, &values(v));
    let mut kg = argvs(spec)[0].clone();
    assert_eq!(job("no").commands[0].argv, kg);
    kg.push("--keep-going".into());
    assert_eq!(job("yes").commands[0].argv, kg);
    assert_eq!(spec.programs.len(), 1, "one world build");
    assert!(rb.step("world-keep-going").is_none());
    assert!(position(&rb, "keep-going") < position(&rb, "world"));
    // depclean comes after the world update and both revdep-rebuild runs.
    assert_eq!(
        rb.step("depclean").unwrap().after,
        ["world", "revdep-rebuild", "revdep-rebuild-again"]
    );
    // The collision steps name protect-owned too, and a closing step takes the word out.
    assert!(
        rb.step("collision-form")
            .unwrap()
            .why
            .contains("protect-owned")
    );
    assert!(matches!(
        &rb.step("collision-restore").unwrap().action,
        Action::Edit { edits } if matches!(&edits[0].action, EditAction::RemoveWords { key, .. } if key == "FEATURES")
    ));
    assert!(run_spec(&rb, "etc-update").interactive);
    assert!(rb.step("depclean").unwrap().confirm.is_some());
    assert!(rb.step("etc-update").unwrap().confirm.is_some());
    assert_eq!(
        run_spec(&rb, "emerge-screen").check,
        Some(vec!["test".into(), "-x".into(), "/usr/bin/screen".into()])
    );
    match &rb.step("gcc-config").unwrap().action {
        Action::Tool { tool } => assert_eq!(tool.name(), "gcc-profile"),
        other => panic!("gcc-config should open the gcc-profile tool: {other:?}"),
    }
    // `source /etc/profile` cannot be done by a child process: it must be the tech's job.
    assert!(matches!(
        rb.step("source-profile").unwrap().action,
        Action::Manual
    ));
}

/// The collision steps add and take out both of portage's words (protect-owned guards the
/// files of other packages by default since portage 2.1.6, so -collision-protect alone does
/// not relax the protection), in the Gentoo runbook and the Xen one.
#[test]
fn the_collision_steps_relax_and_restore_both_words() {
    let both = ["-collision-protect", "-protect-owned"];
    let gentoo = runbook("gentoo-world-update");
    assert!(gentoo.variable("collision_feature").is_none());
    for (rb, step) in [
        (&gentoo, "collision-protect"),
        (&gentoo, "collision-restore"),
        (&runbook("xen4-migration"), "collision-protect"),
    ] {
        let edits = edits(rb, step);
        assert_eq!(edits.len(), 1, "{step}");
        assert_eq!(edits[0].path, "{make_conf}");
        match &edits[0].action {
            EditAction::AddWords { key, words } if step == "collision-protect" => {
                assert_eq!(
                    (key.as_str(), words.clone()),
                    ("FEATURES", both.map(String::from).to_vec())
                )
            }
            EditAction::RemoveWords { key, words } if step == "collision-restore" => {
                assert_eq!(
                    (key.as_str(), words.clone()),
                    ("FEATURES", both.map(String::from).to_vec())
                )
            }
            other => panic!("{}: {step}: {other:?}", rb.id),
        }
        let why = &rb.step(step).unwrap().why;
        for w in both {
            assert!(why.contains(w), "{}: {step}'s why names {w}: {why}", rb.id);
        }
        if step == "collision-protect" {
            assert!(why.contains("2.1.6"), "{}: {step}: {why}", rb.id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// xen4-migration.

#[test]
fn xen_steps_follow_the_article() {
    let rb = runbook("xen4-migration");
    assert_in_order(
        &rb,
        &[
            "keywords",
            "use-flags",
            "ssp-cflags",
            "collision-protect",
            "sync",
            "world",
            "kernel-dom0",
            "kernel-domu",
            "console-access",
            "grub-fallback",
            "kernel-fail-sysfs",
            "kernel-fail-compat",
            "megaraid",
            "rc-plug",
            "del-ext-if",
            "bridge-config",
            "bridge-init-scripts",
            "add-ext-bridge",
            "add-int-bridge",
            "xend-config",
            "vm-vif",
            "gentoo-guest-console",
            "clearos-guest-config",
            "clearos-guest-inittab",
            "udev-mask",
        ],
    );
}

#[test]
fn xen_runlevel_commands_and_their_already_done_output() {
    let rb = runbook("xen4-migration");
    assert!(has_argv(&rb, &["rc-update", "del", "net.eth0", "default"]));
    assert!(has_argv(
        &rb,
        &["rc-update", "add", "net.extbr0", "default"]
    ));
    assert!(has_argv(
        &rb,
        &["rc-update", "add", "net.xenbr0", "default"]
    ));
    // Real rc-update: a second `del` exits 1 with "is not in the runlevel".
    assert_eq!(
        run_spec(&rb, "del-ext-if").ok_output,
        ["is not in the runlevel"]
    );
    assert_eq!(
        run_spec(&rb, "del-int-if").ok_output,
        ["is not in the runlevel"]
    );
    assert_eq!(
        run_spec(&rb, "add-ext-bridge").ok_output,
        ["already installed in runlevel"]
    );
    let world = run_spec(&rb, "world");
    assert_eq!(
        argvs(world),
        [["emerge", "--update", "--deep", "--newuse", "world", "--ask"]]
    );
    assert!(world.interactive && world.long);
}

fn edits<'a>(rb: &'a Runbook, step: &str) -> &'a [fieldbook::core::runbook::Edit] {
    match &rb.step(step).unwrap().action {
        Action::Edit { edits } => edits,
        other => panic!("{step} is not an edit: {other:?}"),
    }
}

#[test]
fn xen_edits_are_the_articles() {
    let rb = runbook("xen4-migration");
    let kw: Vec<&str> = edits(&rb, "keywords")
        .iter()
        .map(|e| match &e.action {
            EditAction::EnsureLine { line, .. } => line.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kw,
        [
            "app-emulation/xen",
            "app-emulation/xen-tools",
            "sys-kernel/xen-sources"
        ]
    );

    match &edits(&rb, "use-flags")[0].action {
        EditAction::AddWords { key, words } => {
            assert_eq!(key, "USE");
            for w in ["pae", "xen", "pygrub"] {
                assert!(words.iter().any(|x| x == w), "USE lacks {w}");
            }
        }
        other => panic!("{other:?}"),
    }
    let rc = &edits(&rb, "rc-plug")[0];
    assert_eq!(rc.path, "/etc/conf.d/rc");
    assert_eq!(
        rc.action,
        EditAction::SetVar {
            key: "RC_PLUG_SERVICES".into(),
            value: "!net.*".into()
        }
    );

    let values = rb.default_values();
    let links: Vec<(String, String)> = edits(&rb, "bridge-init-scripts")
        .iter()
        .map(|e| match &e.action {
            EditAction::Symlink { target } => (substitute(&e.path, &values), target.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        links,
        [
            ("/etc/init.d/net.extbr0".to_string(), "net.lo".to_string()),
            ("/etc/init.d/net.xenbr0".to_string(), "net.lo".to_string())
        ]
    );

    let xend = edits(&rb, "xend-config");
    assert!(xend.iter().all(|e| e.path == "/etc/xen/xend-config.sxp"));
    // Every active (network-script ...) form, however written, not one literal spelling.
    assert!(xend.iter().any(|e| e.action
        == EditAction::CommentForm {
            key: "network-script".into()
        }));
    assert_eq!(
        edits(&rb, "vm-vif")[0].action,
        EditAction::PythonListItem {
            key: "vif".into(),
            pattern: "mac={vm_mac}".into(),
            value: "mac={vm_mac},bridge={vm_bridge}".into()
        }
    );
    assert_eq!(
        edits(&rb, "gentoo-guest-console")[0].action,
        EditAction::PythonAddWords {
            key: "extra".into(),
            words: vec!["xencons=tty".into(), "console=tty1".into()]
        }
    );
    assert!(xend.iter().any(|e| matches!(&e.action,
        EditAction::EnsureLine { line, .. }
            if substitute(line, &values) == "(vif-script vif-bridge bridge=xenbr0)")));

    match &edits(&rb, "bridge-config")[0].action {
        EditAction::EnsureBlock { block, .. } => {
            let mut values = values.clone();
            values.insert("int_if".into(), "eth1".into());
            values.insert("int_address".into(), "10.0.0.2/24".into());
            values.insert("gateway".into(), "10.0.0.1".into());
            let block = substitute(block, &values);
            assert!(block.contains("config_extbr0=(\"null\")"), "{block}");
            assert!(block.contains("bridge_extbr0=\"eth0\""), "{block}");
            assert!(
                block.contains("routes_xenbr0=(\"default via 10.0.0.1\")"),
                "{block}"
            );
        }
        other => panic!("{other:?}"),
    }
    match &edits(&rb, "clearos-guest-inittab")[0].action {
        EditAction::EnsureLine { line, .. } => {
            assert_eq!(line, "s0:12345:respawn:/sbin/mingetty ttyS0")
        }
        other => panic!("{other:?}"),
    }
}

/// The checks after the Xen network section (issue 16 item 2): the bridges and their ports,
/// a ping of the gateway out of the internal bridge, the restart that makes the network real,
/// and the confirms that warn about losing the network point to that restart.
#[test]
fn xen_network_checks_are_the_issues() {
    let rb = runbook("xen4-migration");
    assert_eq!(
        argvs(run_spec(&rb, "verify-bridges")),
        [
            vec!["brctl", "show"],
            vec!["test", "-e", "/sys/class/net/{ext_bridge}/brif/{ext_if}"],
            vec!["test", "-e", "/sys/class/net/{int_bridge}/brif/{int_if}"],
        ]
    );
    assert_eq!(
        argvs(run_spec(&rb, "verify-gateway")),
        [["ping", "-c", "3", "-I", "{int_bridge}", "{gateway}"]]
    );
    let nns = argvs(run_spec(&rb, "verify-no-network-script"));
    assert_eq!(nns.len(), 1);
    assert_eq!(nns[0].first().map(String::as_str), Some("awk"));
    assert_eq!(
        nns[0].last().map(String::as_str),
        Some("/etc/xen/xend-config.sxp")
    );

    let restart = rb.step("restart-network").unwrap();
    assert!(matches!(restart.action, Action::Manual));
    assert!(restart.reboot, "restart-network may reboot the box");
    assert_eq!(
        restart.after,
        [
            "brctl-present",
            "bridge-config",
            "bridge-init-scripts",
            "add-ext-bridge",
            "add-int-bridge",
            "xend-config"
        ]
    );
    // Nothing that takes the network apart runs before brctl is known to be there.
    for step in ["del-ext-if", "del-int-if", "bridge-config"] {
        assert_eq!(rb.step(step).unwrap().after, ["brctl-present"], "{step}");
        assert!(position(&rb, "brctl-present") < position(&rb, step));
        assert!(
            rb.step(step).unwrap().why.contains("brctl-present"),
            "{step}'s why says what it waits for"
        );
    }
    for prerequisite in &restart.after {
        assert!(position(&rb, prerequisite) < position(&rb, "restart-network"));
    }
    assert_in_order(
        &rb,
        &[
            "xend-config",
            "restart-network",
            "verify-bridges",
            "verify-address",
            "verify-gateway",
            "verify-no-network-script",
        ],
    );

    // Every confirm of the Xen runbook that warns about the network points to the restart step.
    let warns: Vec<(&str, &str)> = rb
        .steps()
        .filter_map(|(_, s)| s.confirm.as_deref().map(|c| (s.id.as_str(), c)))
        .filter(|(_, c)| c.contains("network") || c.contains("reboot"))
        .collect();
    let ids: Vec<&str> = warns.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ["del-ext-if", "del-int-if"]);
    for (id, confirm) in warns {
        assert!(
            confirm.contains("'restart-network'"),
            "{id}'s confirm must name the step that makes a reboot safe: {confirm}"
        );
        assert!(confirm.contains("loses its network"), "{id}: {confirm}");
    }
}

#[test]
fn xen_blanks_in_the_article_are_left_to_the_technician() {
    let rb = runbook("xen4-migration");
    for name in [
        "clearos_vm_line",
        "udev_mask_line",
        "gateway",
        "int_address",
        "int_if",
    ] {
        let v = rb.variable(name).unwrap();
        assert_eq!(v.default, None, "{name} must not have an invented default");
    }
    assert_eq!(rb.variable("gateway").unwrap().ty.name(), "ip");
    assert_eq!(rb.variable("int_address").unwrap().ty.name(), "cidr");
    assert_eq!(rb.variable("vm_mac").unwrap().ty.name(), "mac");
}

// ---------------------------------------------------------------------------------------------
// clearos-install.

#[test]
fn clearos_steps_follow_the_article() {
    let rb = runbook("clearos-install");
    assert_in_order(
        &rb,
        &[
            "partitioning",
            "webconfig-setup",
            "clearsdn",
            "yum-update",
            "install-screen",
            "install-lynx",
            "install-links",
            "install-nmap",
            "install-devtools",
            "install-ncurses-devel",
            "install-kernel-devel",
            "install-net-snmp",
            "install-wpa-supplicant",
            "snmpd-conf",
            "snmp-port",
            "syn-flood",
            "install-gamin-python",
            "install-fail2ban",
            "webconfig-modules",
            "yum-clean",
            "prune-services",
            "snmpd-on",
            "mlocate-cron",
            "inittab-console",
            "snortreport",
            "snort-rules",
            "ssh-lockdown",
        ],
    );
}

#[test]
fn clearos_commands_are_the_articles() {
    let rb = runbook("clearos-install");
    assert!(has_argv(
        &rb,
        &["chkconfig", "--level", "2345", "snmpd", "on"]
    ));
    assert!(has_argv(&rb, &["yum", "groupinstall", "Development Tools"]));
    assert!(has_argv(&rb, &["yum", "clean", "all"]));
    assert!(has_argv(&rb, &["yum", "install", "gamin-python"]));
    assert!(has_argv(
        &rb,
        &["rpm", "-iv", "/root/fail2ban-0.8.1-1.el5.rf.noarch.rpm"]
    ));
    let update = run_spec(&rb, "yum-update");
    assert_eq!(argvs(update), [["yum", "update"]]);
    assert!(update.interactive && update.long);
    assert_eq!(
        run_spec(&rb, "install-screen").check,
        Some(vec!["rpm".into(), "-q".into(), "screen".into()])
    );
    // snmpd is started and asked for its system group with the community just configured.
    let snmpd = rb.step("snmpd-start").unwrap();
    assert_eq!(
        argvs(run_spec(&rb, "snmpd-start")),
        [
            vec!["service", "snmpd", "start"],
            vec![
                "snmpwalk",
                "-v2c",
                "-c",
                "{snmp_community}",
                "localhost",
                "system"
            ],
        ]
    );
    assert_eq!(snmpd.after, ["snmpd-conf", "snmpd-on"]);
    // fail2ban is started now, enabled at boot, and its jails listed by the running server.
    assert_eq!(
        argvs(run_spec(&rb, "fail2ban-start")),
        [
            vec!["service", "fail2ban", "start"],
            vec!["chkconfig", "--level", "2345", "fail2ban", "on"],
        ]
    );
    assert_eq!(
        rb.step("fail2ban-start").unwrap().after,
        ["install-fail2ban"]
    );
    assert_eq!(
        argvs(run_spec(&rb, "fail2ban-jails")),
        [["fail2ban-client", "status"]]
    );
    assert_eq!(rb.step("fail2ban-jails").unwrap().after, ["fail2ban-start"]);
    // The SYN settings are applied now, each value the one rc.firewall.local writes at boot,
    // and tcp_syncookies and tcp_max_syn_backlog are read back from /proc.
    let block = match &edits(&rb, "syn-flood")[0].action {
        EditAction::EnsureBlock { block, .. } => block.clone(),
        other => panic!("{other:?}"),
    };
    let now = argvs(run_spec(&rb, "syn-flood-now"));
    let mut sysctls = Vec::new();
    for line in block.lines() {
        let (value, path) = line
            .strip_prefix("echo ")
            .and_then(|l| l.split_once(" > /proc/sys/net/ipv4/"))
            .unwrap_or_else(|| panic!("{line}"));
        sysctls.push(vec![
            "sysctl".to_string(),
            "-w".to_string(),
            format!("net.ipv4.{path}={value}"),
        ]);
    }
    assert_eq!(sysctls.len(), 4);
    assert_eq!(now[..4], sysctls[..], "applied now as at boot");
    assert_eq!(
        now[4..],
        [
            vec!["grep", "-qx", "1", "/proc/sys/net/ipv4/tcp_syncookies"],
            vec![
                "grep",
                "-qx",
                "3096",
                "/proc/sys/net/ipv4/tcp_max_syn_backlog"
            ],
        ],
        "read back"
    );
    assert_eq!(rb.step("syn-flood-now").unwrap().after, ["syn-flood"]);
    match &rb.step("prune-services").unwrap().action {
        Action::Tool { tool } => assert_eq!(tool.name(), "services"),
        other => panic!("{other:?}"),
    }
    match &rb.step("snort-rules").unwrap().action {
        Action::Tool { tool } => assert_eq!(tool.name(), "snort-rules"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn clearos_edits_are_the_articles() {
    let rb = runbook("clearos-install");
    for (step, path) in [
        ("mlocate-cron", "/etc/cron.daily/mlocate.cron"),
        ("snortreport", "/usr/sbin/snortreport.sh"),
    ] {
        let e = &edits(&rb, step)[0];
        assert_eq!(e.path, path);
        assert_eq!(e.action, EditAction::Chmod { executable: false });
    }
    let inittab = edits(&rb, "inittab-console");
    assert_eq!(
        inittab[0].action,
        EditAction::CommentOut {
            pattern: "--autologin=clearconsole".into()
        }
    );
    assert!(matches!(&inittab[1].action,
        EditAction::EnsureLine { line, .. } if line == "1:2345:respawn:/sbin/mingetty tty1"));

    match &edits(&rb, "syn-flood")[0].action {
        EditAction::EnsureBlock { block, .. } => {
            assert!(block.contains("echo 3096 > /proc/sys/net/ipv4/tcp_max_syn_backlog"));
            assert!(block.contains("echo 1 > /proc/sys/net/ipv4/tcp_syncookies"));
        }
        other => panic!("{other:?}"),
    }
    let snmp = &edits(&rb, "snmpd-conf")[0];
    assert_eq!(snmp.path, "/etc/snmp/snmpd.conf");
    match &snmp.action {
        EditAction::EnsureBlock { block, .. } => {
            let used: BTreeSet<String> = references(block).into_iter().map(|(_, n)| n).collect();
            for v in [
                "snmp_community",
                "allowed_subnet",
                "snmp_location",
                "snmp_contact",
            ] {
                assert!(used.contains(v), "snmpd.conf block lacks {{{v}}}");
            }
        }
        other => panic!("{other:?}"),
    }
    let subnet = rb.variable("allowed_subnet").unwrap();
    assert_eq!(subnet.ty.name(), "cidr");
    assert_eq!(subnet.default, None, "the article left the subnet blank");
}

#[test]
fn show_json_lists_commands_and_edits_for_scripts() {
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(["show", "xen4-migration", "--json"])
        .env_remove("FIELDBOOK_CHECKLISTS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<&serde_json::Value> = v["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["steps"].as_array().unwrap())
        .collect();
    let del = steps.iter().find(|s| s["id"] == "del-ext-if").unwrap();
    assert_eq!(del["kind"], "command");
    assert_eq!(
        del["commands"],
        serde_json::json!([["rc-update", "del", "net.{ext_if}", "default"]])
    );
    let links = steps
        .iter()
        .find(|s| s["id"] == "bridge-init-scripts")
        .unwrap();
    assert_eq!(links["edits"][0]["path"], "/etc/init.d/net.{ext_bridge}");
    assert_eq!(links["edits"][0]["action"]["action"], "symlink");
}

#[test]
fn show_why_prints_each_steps_reason_within_80_columns() {
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .args(["show", "clearos-install"])
            .args(extra)
            .env_remove("FIELDBOOK_CHECKLISTS")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = run(&[]);
    let why = run(&["--why"]);
    let rb = runbook("clearos-install");
    let first_words: String = rb.sections[0].steps[0]
        .why
        .split_whitespace()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(!plain.contains(&first_words), "show alone stays compact");
    assert!(why.contains(&first_words), "{why}");
    assert!(why.lines().count() > plain.lines().count() + 37);
    // Everything is wrapped: the reasons, the summary and the step titles of every runbook.
    for id in ["clearos-install", "xen4-migration", "gentoo-world-update"] {
        let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .args(["show", id, "--why"])
            .env_remove("FIELDBOOK_CHECKLISTS")
            .output()
            .unwrap();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            assert!(line.chars().count() <= 80, "{id}: too wide: {line}");
        }
    }
}
