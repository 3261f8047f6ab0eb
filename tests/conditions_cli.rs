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
