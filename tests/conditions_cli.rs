//! `when` and `after` as `exec` and `auto` honour them on the built-in runbooks, with the stub
//! tools on PATH: a step run out of order is refused naming what must come first (or run with
//! `--force`, recorded as forced), and `auto` runs only the steps whose probe says yes.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use fieldbook::core::catalog::Catalog;
use fieldbook::core::progress::{Exit, Status};
use fieldbook::core::state_dir::StateDir;
use fieldbook::core::store::{IfCorrupt, Store};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Env {
    state: tempfile::TempDir,
    argv_log: PathBuf,
}

impl Env {
    fn new() -> Env {
        let state = tempfile::tempdir().unwrap();
        let argv_log = state.path().join("argv.log");
        Env { state, argv_log }
    }

    fn run(&self, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            repo().join("tests/stubs").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .env("PATH", path)
            .env("STUB_LOG", &self.argv_log)
            .env_remove("FIELDBOOK_STATE_DIR")
            .env_remove("FIELDBOOK_CHECKLISTS")
            .arg("--state-dir")
            .arg(self.state.path())
            .arg("--target")
            .arg("box1")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn recorded(&self) -> String {
        std::fs::read_to_string(&self.argv_log)
            .unwrap_or_default()
            .replace(['\x1f'], " ")
            .replace("\x1e\n", "\n")
    }

    fn store(&self, runbook: &str) -> Store {
        self.store_from(&Catalog::load(None), runbook)
    }

    fn store_in(&self, books: &std::path::Path, runbook: &str) -> Store {
        self.store_from(&Catalog::load(Some(books)), runbook)
    }

    fn store_from(&self, catalog: &Catalog, runbook: &str) -> Store {
        let rb = &catalog.get(runbook).unwrap().runbook;
        Store::open(
            &StateDir::at(self.state.path(), false),
            rb,
            "box1",
            IfCorrupt::Stop,
        )
        .unwrap()
    }

    /// Marks every step before `until` done, as a technician who got that far would have.
    fn done_until(&self, runbook: &str, until: &str) {
        let catalog = Catalog::load(None);
        let rb = &catalog.get(runbook).unwrap().runbook;
        let mut store = self.store(runbook);
        for (_, step) in rb.steps().take_while(|(_, s)| s.id != until) {
            store.start(&step.id).unwrap();
            store.finish(&step.id, Exit::Code(0), true).unwrap();
        }
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn exec_depclean_on_a_fresh_run_fails_naming_its_prerequisites() {
    let env = Env::new();
    let o = env.run(&["exec", "gentoo-world-update", "depclean", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("'world', 'revdep-rebuild' and 'revdep-rebuild-again'"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(env.recorded(), "", "nothing ran");
    let store = env.store("gentoo-world-update");
    assert_eq!(store.run().status("depclean"), Status::Pending);
}

/// The Xen bridges need brctl: on a fresh run `exec` refuses bridge-config and both del-*-if
/// steps naming `brctl-present` (exit 1, nothing run or written), and once brctl-present is
/// done bridge-config is written.
#[test]
fn exec_of_the_bridge_steps_on_a_fresh_run_names_brctl_present() {
    let env = Env::new();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc/conf.d")).unwrap();
    let net = root.path().join("etc/conf.d/net");
    std::fs::copy(
        repo().join("tests/fixtures/edits/root/etc/conf.d/net"),
        &net,
    )
    .unwrap();
    let before = std::fs::read_to_string(&net).unwrap();
    let root_arg = root.path().to_string_lossy().into_owned();
    let exec = |step: &str| {
        env.run(&[
            "--root",
            &root_arg,
            "exec",
            "xen4-migration",
            step,
            "--yes",
            "--var",
            "int_if=eth1",
            "--var",
            "int_address=10.0.0.2/24",
            "--var",
            "gateway=10.0.0.1",
        ])
    };
    for step in ["del-ext-if", "del-int-if", "bridge-config"] {
        let o = exec(step);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{step}: {err}");
        assert!(
            err.contains(&format!(
                "'{step}' must come after 'brctl-present' (not done or skipped yet); run it \
                 first, or pass --force"
            )),
            "{step}: {err}"
        );
    }
    assert_eq!(env.recorded(), "", "nothing ran");
    assert_eq!(
        std::fs::read_to_string(&net).unwrap(),
        before,
        "nothing written"
    );
    let mut store = env.store("xen4-migration");
    for step in ["del-ext-if", "del-int-if", "bridge-config"] {
        assert_eq!(store.run().status(step), Status::Pending, "{step}");
    }
    store.start("brctl-present").unwrap();
    store.finish("brctl-present", Exit::Code(0), true).unwrap();
    drop(store);
    let o = exec("bridge-config");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&net)
            .unwrap()
            .contains("bridge_xenbr0=\"eth1\""),
        "bridge-config was applied"
    );
}

fn grub_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("boot/grub")).unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/edits/root/boot/grub/grub.conf"),
        root.path().join("boot/grub/grub.conf"),
    )
    .unwrap();
    root
}

#[test]
fn force_runs_a_step_out_of_order_and_the_run_says_so() {
    let env = Env::new();
    let root = grub_root();
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut a: Vec<String> = ["--root", &root.path().to_string_lossy()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(
            [
                "exec",
                "xen4-migration",
                "grub-xen-entry",
                "--var",
                "grub_root=(hd0,0)",
                "--var",
                "dom0_kernel=vmlinuz-2.6.18-xen-r12",
                "--var",
                "dom0_root=/dev/sda3",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let grub = || std::fs::read_to_string(root.path().join("boot/grub/grub.conf")).unwrap();
    let before = grub();
    let refused = env.run(&args(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("'grub-xen-form'"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(grub(), before, "nothing written");

    let forced = env.run(
        &args(&["--force"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(grub().contains("kernel /xen.gz\nmodule /vmlinuz-2.6.18-xen-r12 root=/dev/sda3 ro\n"));
    let store = env.store("xen4-migration");
    let state = &store.run().steps["grub-xen-entry"];
    assert_eq!(state.status, Status::Done);
    assert!(
        state
            .notes
            .iter()
            .any(|n| n.text.contains("forced") && n.text.contains("'grub-xen-form'")),
        "{:?}",
        state.notes
    );
}

#[test]
fn auto_runs_only_the_steps_whose_probe_says_yes() {
    let env = Env::new();
    let books = env.state.path().join("books");
    std::fs::create_dir(&books).unwrap();
    std::fs::write(
        books.join("probes.toml"),
        r#"id = "probes"
title = "Probes"
[[section]]
id = "s"
title = "S"
[[section.step]]
id = "applies"
title = "Applies"
why = "w"
kind = "command"
commands = [["quickpkg", "app-misc/hello"]]
when = { probe = ["true"], not_needed = "never shown" }
[[section.step]]
id = "ruled-out"
title = "Ruled out"
why = "w"
kind = "command"
commands = [["lafilefixer"]]
when = { probe = ["false"], not_needed = "the probe said no" }
[[section.step]]
id = "last"
title = "Last"
why = "w"
kind = "command"
commands = [["perl-cleaner", "--all"]]
"#,
    )
    .unwrap();
    let dir = books.to_string_lossy().into_owned();
    let o = env.run(&["--checklists", &dir, "auto", "probes"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("[-] ruled-out: not needed (the probe said no)"),
        "{err}"
    );
    assert_eq!(
        env.recorded(),
        "quickpkg app-misc/hello\nperl-cleaner --all\n"
    );
    let store = env.store_in(&books, "probes");
    let run = store.run();
    assert_eq!(run.status("applies"), Status::Done);
    assert_eq!(run.status("ruled-out"), Status::Skipped);
    assert_eq!(run.status("last"), Status::Done);
}

/// The unattended choice puts `--keep-going` on the one world build's argv, as an argument of
/// its own; when the build is watched the argument is absent, never an empty one.
#[test]
fn the_unattended_choice_is_an_option_on_the_one_world_argv() {
    for (value, want) in [
        (
            "yes",
            "emerge\x1f--update\x1f--newuse\x1f--deep\x1fworld\x1f--keep-going\x1e\n",
        ),
        (
            "no",
            "emerge\x1f--update\x1f--newuse\x1f--deep\x1fworld\x1e\n",
        ),
    ] {
        let env = Env::new();
        env.done_until("gentoo-world-update", "world");
        let var = format!("unattended={value}");
        let o = env.run(&[
            "exec",
            "gentoo-world-update",
            "world",
            "--yes",
            "--var",
            &var,
        ]);
        assert_eq!(o.status.code(), Some(0), "{value}: {}", stderr(&o));
        let raw = std::fs::read_to_string(&env.argv_log).unwrap();
        assert_eq!(raw, want, "{value}");
    }
    // In practice mode the unattended build plays its own lesson: a package fails, the rest
    // build, and the summary at the end names what failed.
    for (value, says) in [
        ("yes", "The following package has failed to build"),
        ("no", "cannot be\n * installed at the same time"),
    ] {
        let env = Env::new();
        env.done_until("gentoo-world-update", "world");
        let var = format!("unattended={value}");
        let o = env.run(&[
            "--practice",
            "exec",
            "gentoo-world-update",
            "world",
            "--yes",
            "--var",
            &var,
        ]);
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert!(all.contains(says), "{value}: {all}");
        assert_eq!(env.recorded(), "", "practice runs nothing");
    }
    // The runbook has no separate keep-going step any more.
    let catalog = Catalog::load(None);
    let rb = &catalog.get("gentoo-world-update").unwrap().runbook;
    assert!(rb.step("world-keep-going").is_none());
}

/// Issue 16 (Tests): `auto` over the built-in Gentoo runbook with the stub tools on PATH. Its
/// conditions are questions about what happened during the update (did glibc fail, did emerge
/// stop on blocks or collisions, was perl upgraded), which no probe on the box can answer, so
/// the technician answers them beforehand with `--answer STEP=yes|no`. Where `auto` stops for
/// a person (manual, tool, interactive or confirmed steps) the test does what the technician
/// does in the app: the step is marked done, and `auto` is run again. Every yes runs its step
/// (the stubs record the argv; the collision edits change make.conf and restore it), every no
/// is recorded `[-] STEP: not needed (why)`, and each answer is noted on its step.
#[test]
fn auto_walks_the_gentoo_runbook_running_what_the_answers_say_yes_to() {
    use fieldbook::core::runbook::WhenTest;
    let catalog = Catalog::load(None);
    let rb = &catalog.get("gentoo-world-update").unwrap().runbook;
    let questions: Vec<(String, String)> = rb
        .steps()
        .filter_map(|(_, s)| match &s.when {
            Some(w) if matches!(w.test, WhenTest::Ask(_)) => {
                Some((s.id.clone(), w.not_needed.clone()))
            }
            _ => None,
        })
        .collect();
    let ids: Vec<&str> = questions.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fragile-atom",
            "quickpkg",
            "cflags-fallback",
            "blocked",
            "collision-form",
            "collision-protect",
            "perl-cleaner",
            "world-again",
            "collision-restore"
        ]
    );
    for yes in [true, false] {
        let answer = if yes { "yes" } else { "no" };
        let env = Env::new();
        let make_conf = env.state.path().join("make.conf");
        let original = "CFLAGS=\"-O2\"\nFEATURES=\"sandbox\"\n";
        std::fs::write(&make_conf, original).unwrap();
        let mut args: Vec<String> = [
            "auto",
            "gentoo-world-update",
            "--var",
            "fragile_atom=x11-drivers/ati-drivers",
            "--var",
            "unattended=no",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(["--var".into(), format!("make_conf={}", make_conf.display())]);
        for (id, _) in &questions {
            args.extend(["--answer".to_string(), format!("{id}={answer}")]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut said = String::new();
        let mut by_hand = Vec::new();
        let mut protected_then = None;
        for _ in 0..40 {
            let o = env.run(&args);
            let err = stderr(&o);
            said.push_str(&err);
            if o.status.code() == Some(0) {
                break;
            }
            assert_eq!(o.status.code(), Some(3), "{answer}: {err}");
            let stopped = err
                .split("stopped at '")
                .nth(1)
                .and_then(|r| r.split('\'').next())
                .unwrap_or_else(|| panic!("{answer}: {err}"))
                .to_string();
            let step = rb.step(&stopped).unwrap();
            let needs_person = match &step.action {
                fieldbook::core::runbook::Action::Run(spec) => {
                    spec.interactive || step.confirm.is_some()
                }
                fieldbook::core::runbook::Action::Manual
                | fieldbook::core::runbook::Action::Tool { .. } => true,
                _ => false,
            };
            assert!(needs_person, "{answer}: auto stopped at {stopped}: {err}");
            if stopped == "depclean" {
                // The collision words are in make.conf between the relaxing step and the restore.
                protected_then = Some(std::fs::read_to_string(&make_conf).unwrap());
            }
            env.store("gentoo-world-update")
                .mark_done(&stopped, "done by the technician in the app")
                .unwrap();
            by_hand.push(stopped);
        }
        assert!(
            said.contains("every step of 'gentoo-world-update' is finished"),
            "{said}"
        );
        let store = env.store("gentoo-world-update");
        let run = store.run();
        for (id, not_needed) in &questions {
            let state = &run.steps[id.as_str()];
            assert!(
                state
                    .notes
                    .iter()
                    .any(|n| n.text.starts_with(&format!("answered {answer} to \""))),
                "{answer}: {id}: {:?}",
                state.notes
            );
            let line = format!("[-] {id}: not needed ({not_needed})");
            if yes {
                assert_eq!(state.status, Status::Done, "{id}");
                assert!(!said.contains(&line), "{said}");
            } else {
                assert_eq!(state.status, Status::Skipped, "{id}");
                assert_eq!(
                    state.reason.as_deref(),
                    Some(format!("not needed ({not_needed})").as_str())
                );
                assert!(said.contains(&line), "{id}: {said}");
            }
        }
        let recorded = env.recorded();
        // The steps without a question ran whatever the answers were.
        for always in [
            "emerge --sync\n",
            "emerge portage\n",
            "emerge --update gcc glibc\n",
            "emerge screen\n",
            "emerge --pretend --update --newuse --deep world\n",
            "python-updater\n",
            "emerge lafilefixer\n",
            "lafilefixer --justfixit\n",
            "emerge --depclean --pretend\n",
        ] {
            assert!(recorded.contains(always), "{answer}: {always}{recorded}");
        }
        assert_eq!(
            recorded.matches("revdep-rebuild\n").count(),
            2,
            "{recorded}"
        );
        let asked_ran = ["quickpkg x11-drivers/ati-drivers\n", "perl-cleaner all\n"];
        for cmd in asked_ran {
            assert_eq!(recorded.contains(cmd), yes, "{answer}: {cmd}{recorded}");
        }
        let relaxed = protected_then.expect("auto stopped at depclean");
        assert_eq!(
            relaxed.contains("FEATURES=\"sandbox -collision-protect -protect-owned\""),
            yes,
            "{answer}: {relaxed}"
        );
        assert_eq!(std::fs::read_to_string(&make_conf).unwrap(), original);
        // What needed a person: the manual, tool, interactive and confirmed steps, and with
        // yes the question steps that are manual or interactive.
        let mut want = vec!["gcc-config", "source-profile", "screen-session", "world"];
        if yes {
            want.insert(0, "cflags-fallback");
            want.push("blocked");
        }
        want.extend(["keep-packages", "depclean", "etc-update", "if-it-breaks"]);
        if yes {
            want.insert(want.len() - 4, "world-again");
        }
        assert_eq!(by_hand, want, "{answer}");
    }
}

/// An answer must name a step that asks a question, and be yes or no; otherwise nothing runs.
#[test]
fn auto_refuses_an_answer_to_no_question_or_neither_yes_nor_no() {
    let env = Env::new();
    for (answer, says) in [
        (
            "sync=yes",
            "has no step 'sync' that asks a question (steps that do: fragile-atom,",
        ),
        ("perl-cleaner=maybe", "the answer must be yes or no"),
        ("perl-cleaner", "must be STEP=yes or STEP=no"),
    ] {
        let o = env.run(&["auto", "gentoo-world-update", "--answer", answer]);
        assert_eq!(o.status.code(), Some(2), "{answer}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{answer}: {}", stderr(&o));
    }
    assert_eq!(env.recorded(), "", "nothing ran");
}
