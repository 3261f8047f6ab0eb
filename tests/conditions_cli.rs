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
        let catalog = Catalog::load(None);
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
    // Unattended: the plain world build is not needed, the --keep-going one is.
    let env = Env::new();
    env.done_until("gentoo-world-update", "world-pretend");
    let o = env.run(&["auto", "gentoo-world-update", "--var", "unattended=yes"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("[-] world: not needed (you chose to leave it unattended"),
        "{err}"
    );
    assert!(err.contains("stopped at 'world-keep-going'"), "{err}");
    let rec = env.recorded();
    assert!(
        rec.contains("emerge --pretend --update --newuse --deep world\n"),
        "{rec}"
    );
    assert!(
        !rec.contains("emerge --update --newuse --deep world"),
        "{rec}"
    );
    let store = env.store("gentoo-world-update");
    let run = store.run();
    assert_eq!(run.status("world"), Status::Skipped);
    assert!(
        run.steps["world"]
            .reason
            .as_deref()
            .unwrap_or_default()
            .starts_with("not needed (")
    );
    assert_eq!(run.status("world-keep-going"), Status::Pending);
    drop(store);

    // Watched: the world build was done; the --keep-going one is not needed, and auto stops
    // at the question the next step asks.
    let env = Env::new();
    env.done_until("gentoo-world-update", "world-keep-going");
    let o = env.run(&["auto", "gentoo-world-update"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("[-] world-keep-going: not needed (you will watch the build"),
        "{err}"
    );
    assert!(err.contains("stopped at 'blocked'"), "{err}");
    assert!(
        err.contains("Did emerge stop on blocked packages?"),
        "{err}"
    );
    assert_eq!(env.recorded(), "", "no build ran");
}
