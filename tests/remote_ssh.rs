//! `--host` against a REAL OpenSSH server started by these tests: Debian's sshd on a loopback
//! high port with a throwaway host key and client key (tests/support/remote-sshd.sh), and two
//! dedicated non-root users: `fbtest` (login shell /bin/sh) and `fbash` (busybox ash). Their
//! PATH puts ~/stubs first, where recording stubs live (`fb-args`, `fb-done`, `rc-update`), so
//! a step that ran on the host is told from one that ran here: the stubs exist only there.
//!
//! Needs root (sshd, test users, a tmpfs) and the Debian archive; without them the tests print
//! why and pass, unless `FIELDBOOK_ACCEPTANCE=require` (set by `.ci/run`), which makes every
//! such skip a failure.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::sshd::Sshd;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const STUBS: &[(&str, &str)] = &[
    (
        "fb-args",
        "#!/bin/sh\n# Recording stub: each argument in brackets, one a line, also kept in a log.\n\
         for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n\
         for a in \"$@\"; do printf '[%s]' \"$a\"; done >>\"$HOME/fb-args.log\"; echo >>\"$HOME/fb-args.log\"\n",
    ),
    (
        "fb-done",
        "#!/bin/sh\n# A check that exists only on the host: done when the file is there.\ntest -e \"$1\"\n",
    ),
    (
        "fb-ask",
        "#!/bin/sh\n# Interactive stub: says whether it has a terminal and its size, reads an answer.\n\
         if [ -t 0 ]; then t=tty; else t=notty; fi\n\
         printf 'on:%s %s size:%sx%s\\n' \"$(id -un)\" \"$t\" \"${COLUMNS:-unset}\" \"${LINES:-unset}\"\n\
         printf 'Proceed? [yes/no] '\nread -r answer || answer=''\necho \"got:$answer\"\n\
         [ \"$answer\" = yes ]\n",
    ),
    (
        "mv",
        "#!/bin/sh\n# mv as usual; after replacing a file whose path names fb-hold it holds for a \
         minute, so a test can kill fieldbook between the host's rename and its record.\n\
         for last; do :; done\n/bin/mv \"$@\" || exit $?\n\
         case \"$last\" in *fb-hold*) sleep 60 ;; esac\n",
    ),
    (
        "rc-update",
        "#!/bin/sh\n# rc-update -v show as on a Gentoo box, so the tool reads it on the host.\n\
         echo \"$*\" >>\"$HOME/rc-update.log\"\n\
         printf '%s\\n' '            local | default' '             sshd | default' \
         '        net.xenbr0 |        ' '          netmount | default'\n",
    ),
];

/// Starts (once per test binary) the sshd (`common::sshd`) and installs the stubs.
fn sshd(test: &str) -> Option<&'static Sshd> {
    static STUBBED: OnceLock<Result<(), String>> = OnceLock::new();
    let s = common::sshd::start(test)?;
    let stubbed = STUBBED.get_or_init(|| {
        for user in ["fbtest", "fbash"] {
            let stubs = PathBuf::from(format!("/home/{user}/stubs"));
            for (name, text) in STUBS {
                let p = stubs.join(name);
                std::fs::write(&p, text).map_err(|e| e.to_string())?;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    });
    if let Err(why) = stubbed {
        panic!("{test}: installing the stubs: {why}");
    }
    Some(s)
}

impl Sshd {
    fn fb(&self, user: &str, state: &Path, args: &[&str]) -> Command {
        self.fb_port(user, state, self.port, args)
    }

    fn fb_port(&self, user: &str, state: &Path, port: u16, args: &[&str]) -> Command {
        self.fb_books("remote", user, state, port, args)
    }

    /// `fieldbook --host USER@127.0.0.1` with the runbooks of `tests/fixtures/BOOKS`.
    fn fb_books(&self, books: &str, user: &str, state: &Path, port: u16, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fieldbook"));
        c.env_remove("FIELDBOOK_STATE_DIR")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("FIELDBOOK_SSH")
            .arg("--checklists")
            .arg(repo().join("tests/fixtures").join(books))
            .arg("--state-dir")
            .arg(state)
            .arg("--host")
            .arg(format!("{user}@127.0.0.1"))
            .args(self.ssh_opts(port))
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn run(&self, user: &str, state: &Path, args: &[&str]) -> Output {
        self.fb(user, state, args).output().unwrap()
    }

    /// A library session to the host, for the edit tests.
    fn session(&self, user: &str) -> fieldbook::core::machine::SshSession {
        let mut options = Vec::new();
        let mut args = Vec::new();
        let flat = self.ssh_opts(self.port);
        let mut it = flat.iter();
        while let Some(a) = it.next() {
            if a == "--ssh-option" {
                options.push(it.next().unwrap().clone());
            } else if let Some(arg) = a.strip_prefix("--ssh-arg=") {
                args.push(arg.to_string());
            }
        }
        let cfg = fieldbook::core::machine::SshConfig::new(
            &format!("{user}@127.0.0.1"),
            options,
            args,
            None,
        )
        .unwrap();
        fieldbook::core::machine::SshSession::open(cfg, None).unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn state_file(state: &Path) -> String {
    let runs = state.join("runs");
    [
        "remote-test@127.0.0.1.toml",
        "remote-pty@127.0.0.1.toml",
        "remote-pty-255@127.0.0.1.toml",
    ]
    .iter()
    .filter_map(|f| std::fs::read_to_string(runs.join(f)).ok())
    .collect()
}

/// A file owned by `user` in a fresh directory of its home, with `mode`.
fn user_file(user: &str, name: &str, content: &str, mode: u32) -> PathBuf {
    let dir = PathBuf::from(format!("/home/{user}/t-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("conf");
    std::fs::write(&file, content).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    let st = Command::new("chown")
        .args(["-R", &format!("{user}:{user}")])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    file
}

fn uid_of(user: &str) -> u32 {
    std::fs::metadata(format!("/home/{user}")).unwrap().uid()
}

/// A hostile value reaches the program on the host as ONE literal argument, through both login
/// shells (dash and busybox ash), and the stub that printed it exists only on the host.
#[test]
fn a_hostile_value_arrives_as_one_literal_argument() {
    let Some(s) = sshd("a_hostile_value_arrives_as_one_literal_argument") else {
        return;
    };
    let hostile = "it's $HOME; `id` $(id) \"q\" \\ * #c";
    for user in ["fbtest", "fbash"] {
        let state = tempfile::tempdir().unwrap();
        let value = format!("value={hostile}");
        let out = s.run(
            user,
            state.path(),
            &["exec", "remote-test", "args", "--yes", "--var", &value],
        );
        assert_eq!(out.status.code(), Some(0), "{user}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.lines().any(|l| l == format!("[{hostile}]")),
            "{user}: {stdout}"
        );
        let log = std::fs::read_to_string(format!("/home/{user}/fb-args.log")).unwrap();
        assert!(log.lines().any(|l| l == format!("[{hostile}]")), "{log}");
        // State stays here, under the target named after the host without the user.
        assert!(state_file(state.path()).contains("args"), "no local state");
    }
}

/// A session leaves no marks behind: each captured program writes its process group and its
/// own exit to `marks/` in the remote dir (for cancel and to tell its exit 255 from ssh's);
/// closing the session removes its own (a walk of the ClearOS runbook left 98 files).
#[test]
fn a_session_removes_its_marks_on_the_host_when_it_closes() {
    let Some(s) = sshd("a_session_removes_its_marks_on_the_host_when_it_closes") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let dir = format!("/var/tmp/fb-marks-{}", std::process::id());
    let _ = std::fs::remove_dir_all(&dir);
    let out = s.run(
        "fbtest",
        state.path(),
        &[
            "--remote-dir",
            &dir,
            "exec",
            "remote-test",
            "args",
            "--yes",
            "--var",
            "value=x",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("[x]"), "{}", text(&out.stdout));
    let left: Vec<_> = std::fs::read_dir(format!("{dir}/marks"))
        .expect("the session's marks directory")
        .map(|e| e.unwrap().file_name())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(left.is_empty(), "left on the host: {left:?}");
}

/// The check runs on the host (its program exists only there) and a script step gets its
/// variables as FB_ variables there, as the host's user.
#[test]
fn check_and_script_run_on_the_host() {
    let Some(s) = sshd("check_and_script_run_on_the_host") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let out = s.run(
        "fbtest",
        state.path(),
        &[
            "exec",
            "remote-test",
            "checked",
            "--yes",
            "--var",
            "marker=/etc/hostname",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("already done"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !text(&out.stdout).contains("[ran]"),
        "the step ran: {}",
        text(&out.stdout)
    );

    let out = s.run(
        "fbash",
        state.path(),
        &[
            "exec",
            "remote-test",
            "script",
            "--yes",
            "--var",
            "value=a b'c",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("<a b'c> as fbash"),
        "{}",
        text(&out.stdout)
    );
}

/// A program's own exit 255 is its result (failed), not a lost link; a form step only records.
#[test]
fn a_programs_own_255_is_its_result_and_a_form_only_records() {
    let Some(s) = sshd("a_programs_own_255_is_its_result_and_a_form_only_records") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let out = s.run(
        "fbtest",
        state.path(),
        &["exec", "remote-test", "exit255", "--yes"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("exit255: failed"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("exit 255"),
        "{}",
        text(&out.stderr)
    );
    let out = s.run(
        "fbtest",
        state.path(),
        &["exec", "remote-test", "ask", "--yes", "--var", "value=v1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(state_file(state.path()).contains("v1"));
}

/// A long step over `--host` with `ok_output`: the first program exits 1 saying the work is
/// already done, and the remote supervisor goes on to the next program (it stopped there),
/// as the local supervisor does. The second program's stub exists only on the host.
#[test]
fn a_remote_long_step_goes_on_after_an_ok_output_exit() {
    let Some(s) = sshd("a_remote_long_step_goes_on_after_an_ok_output_exit") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let log = PathBuf::from("/home/fbash/fb-args.log");
    let before = std::fs::read_to_string(&log).unwrap_or_default();
    let out = s.run(
        "fbash",
        state.path(),
        &["exec", "remote-test", "long-ok", "--yes"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        after[before.len().min(after.len())..]
            .matches("[after-ok]")
            .count(),
        1,
        "the program after the ok exit ran on the host once: {after}"
    );
    assert!(state_file(state.path()).contains("done"));
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The ControlMaster of fieldbook process `pid`.
fn master_socket(pid: u32) -> Option<PathBuf> {
    std::fs::read_dir("/tmp").ok()?.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        (name.starts_with(&format!("fbssh.{pid}.")) && e.path().join("m").exists())
            .then(|| e.path().join("m"))
    })
}

/// A long step runs under the POSIX-sh supervisor on the host: the master connection is killed
/// mid step, fieldbook reconnects and reads the remote log on from where it stopped, and the
/// step ends with the program's real exit status. Killed outright (kill -9), a later fieldbook
/// re-attaches to the same remote step.
#[test]
fn a_long_step_survives_the_master_and_fieldbook_dying() {
    let Some(s) = sshd("a_long_step_survives_the_master_and_fieldbook_dying") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let gate_dir = tempfile::tempdir().unwrap();
    let gate = gate_dir.path().join("gate");
    std::fs::set_permissions(gate_dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let gate_var = format!("gate={}", gate.display());
    let log = state.path().join("logs/remote-test@127.0.0.1/long.1.log");

    // 1. Kill the master mid step; the real exit (0) is still recorded.
    let child = s
        .fb(
            "fbtest",
            state.path(),
            &["exec", "remote-test", "long", "--yes", "--var", &gate_var],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(
        "the step's first line in the local log",
        Duration::from_secs(30),
        || std::fs::read_to_string(&log).is_ok_and(|l| l.contains("started")),
    );
    let socket = master_socket(child.id()).expect("the master's control socket");
    let st = Command::new("ssh")
        .arg("-o")
        .arg(format!("ControlPath={}", socket.display()))
        .args(["-O", "exit", "x"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "ssh -O exit failed");
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(&gate, "0").unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        text(&out.stdout).contains("gate-open"),
        "{}",
        text(&out.stdout)
    );
    assert!(std::fs::read_to_string(&log).unwrap().contains("gate-open"));
    assert!(
        state_file(state.path()).contains("done"),
        "{}",
        state_file(state.path())
    );

    // 2. kill -9 fieldbook mid step; the next exec follows the same remote step to its end.
    let state = tempfile::tempdir().unwrap();
    let log = state.path().join("logs/remote-test@127.0.0.1/long.1.log");
    std::fs::remove_file(&gate).unwrap();
    let mut child = s
        .fb(
            "fbtest",
            state.path(),
            &["exec", "remote-test", "long", "--yes", "--var", &gate_var],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the step's first line", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("started"))
    });
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::write(&gate, "5").unwrap();
    let out = s.run(
        "fbtest",
        state.path(),
        &["exec", "remote-test", "long", "--yes", "--var", &gate_var],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("still running"), "{stderr}");
    assert!(stderr.contains("exit 5"), "{stderr}");
    let log_text = std::fs::read_to_string(&log).unwrap();
    let started = log_text.lines().filter(|l| *l == "started").count();
    assert_eq!(started, 1, "log copied twice: {log_text}");
    assert!(log_text.contains("gate-open"), "{log_text}");
}

/// Issue 17 item 5 over `--host`: a long step's secret reaches its program on the host, but
/// never a file there (the supervisor script, its log, a job or secrets file left behind) nor
/// a file of the local state directory.
#[test]
fn a_remote_long_steps_secret_never_sits_in_a_file() {
    let Some(s) = sshd("a_remote_long_steps_secret_never_sits_in_a_file") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let gate_dir = tempfile::tempdir().unwrap();
    let gate = gate_dir.path().join("gate");
    std::fs::set_permissions(gate_dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let gate_var = format!("gate={}", gate.display());
    let secret = "Hunter2-s3cret 'quoted'";
    let pw_var = format!("pw={secret}");
    let log = state
        .path()
        .join("logs/remote-test@127.0.0.1/long-secret.1.log");
    let child = s
        .fb(
            "fbtest",
            state.path(),
            &[
                "exec",
                "remote-test",
                "long-secret",
                "--yes",
                "--var",
                &gate_var,
                "--var",
                &pw_var,
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the step's first line", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("started"))
    });
    // While it runs: no file on the host or here holds the secret.
    let holding = |root: &Path| -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut todo = vec![root.to_path_buf()];
        while let Some(dir) = todo.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() && !p.is_symlink() {
                    todo.push(p);
                } else if std::fs::read(&p)
                    .is_ok_and(|b| String::from_utf8_lossy(&b).contains("s3cret"))
                {
                    found.push(p);
                }
            }
        }
        found
    };
    // This step's directory on the host, as recorded beside the local log (other tests' step
    // directories may be there too).
    let mut sidecar = log.clone().into_os_string();
    sidecar.push(".remote");
    let remote: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sidecar).unwrap()).unwrap();
    let remote_dir = PathBuf::from(remote["dir"].as_str().unwrap());
    assert!(
        remote_dir.join("run.sh").is_file(),
        "{}",
        remote_dir.display()
    );
    assert_eq!(holding(&remote_dir), Vec::<PathBuf>::new(), "on the host");
    assert_eq!(
        holding(state.path()),
        Vec::<PathBuf>::new(),
        "in the state dir"
    );
    // What a later fieldbook following this step again judges it by belongs to this attempt
    // (it was written without the attempt, so a re-attach found no job: expect and ok_output
    // unknown).
    let job = fieldbook::core::supervisor::read_job(&log)
        .expect("the local job file is read back for this attempt");
    assert!(
        job.commands
            .iter()
            .any(|c| c.argv.iter().any(|a| a == "--password=***")),
        "{:?}",
        job.commands
    );
    std::fs::write(&gate, "0").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = std::fs::read_to_string(gate_dir.path().join("gate.got")).unwrap();
    assert_eq!(got, format!("--password={secret}"));
    assert_eq!(
        holding(&remote_dir),
        Vec::<PathBuf>::new(),
        "on the host, after"
    );
    assert_eq!(
        holding(state.path()),
        Vec::<PathBuf>::new(),
        "in the state dir, after"
    );
}

/// Issue 18: a kill after the host's file was replaced but before the run recorded the edit
/// loses no record. The host's file has its own intent in the edit journal, settled by the
/// host's file when the run is next opened over `--host` (before, the run had no record of an
/// edit that was on the host, and undo was impossible).
#[test]
fn a_kill_after_the_hosts_rename_keeps_the_edit_on_record() {
    let Some(s) = sshd("a_kill_after_the_hosts_rename_keeps_the_edit_on_record") else {
        return;
    };
    let file = user_file("fbtest", "fb-hold", "a=1\n", 0o644);
    let state = tempfile::tempdir().unwrap();
    let var = format!("file={}", file.display());
    let args = [
        "exec",
        "remote-test",
        "edit",
        "--yes",
        "--var",
        &var,
        "--var",
        "value=v",
    ];
    let mut child = s
        .fb("fbtest", state.path(), &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the host's file replaced", Duration::from_secs(30), || {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains("fieldbook was here"))
    });
    // The stub mv now holds: fieldbook has not recorded the edit yet.
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let run_file = state.path().join("runs/remote-test@127.0.0.1.toml");
    let before = std::fs::read_to_string(&run_file).unwrap_or_default();
    let shown = file.display().to_string();
    assert!(
        !before.contains(&format!("path = \"{shown}\"")),
        "the edit was recorded before the kill: {before}"
    );
    // Opening the run again over --host settles the journal by the host's file.
    let out = s.run("fbtest", state.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(&run_file).unwrap();
    assert!(
        after.contains(&format!("path = \"{shown}\"")),
        "the edit on the host is not on record: {after}"
    );
    assert!(!after.contains("fieldbook-stage."), "{after}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "a=1\n# fieldbook was here: v\n"
    );
}

/// An edit over ssh: read on the host, written back atomically keeping mode 0640 and the
/// owner, the original kept locally and under the remote dir; undo puts it back the same way.
#[test]
fn an_edit_keeps_mode_and_owner_and_undo_restores_it() {
    let Some(s) = sshd("an_edit_keeps_mode_and_owner_and_undo_restores_it") else {
        return;
    };
    let file = user_file("fbtest", "edit", "a=1\n", 0o640);
    let state = tempfile::tempdir().unwrap();
    let var = format!("file={}", file.display());
    let out = s.run(
        "fbtest",
        state.path(),
        &[
            "exec",
            "remote-test",
            "edit",
            "--yes",
            "--var",
            &var,
            "--var",
            "value=v",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "a=1\n# fieldbook was here: v\n"
    );
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!(meta.uid(), uid_of("fbtest"));
    // The original is kept under the remote dir too.
    let kept = Command::new("find")
        .args(["/var/tmp/fieldbook-fbtest/archive", "-name", "conf,1"])
        .output()
        .unwrap();
    let kept = text(&kept.stdout);
    let copy = kept
        .lines()
        .find(|l| {
            l.contains(
                &file
                    .display()
                    .to_string()
                    .trim_start_matches('/')
                    .to_string(),
            )
        })
        .expect("a copy of the original under the remote dir");
    assert_eq!(std::fs::read_to_string(copy).unwrap(), "a=1\n");

    // Undo, through the same seam the app uses.
    let run =
        fieldbook::core::state_dir::read_run(&state.path().join("runs/remote-test@127.0.0.1.toml"))
            .unwrap();
    let applied = run.edits.last().expect("the applied edit").clone();
    assert_eq!(applied.path, file.display().to_string());
    let session = s.session("fbtest");
    let undo =
        fieldbook::core::machine::remote_files::undo_preview(&session, &applied, state.path())
            .unwrap();
    assert!(!undo.changed_since);
    fieldbook::core::machine::remote_files::undo(&session, &applied, state.path(), false).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "a=1\n");
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!(meta.uid(), uid_of("fbtest"));
}

fn edit_fixture(path: &Path) -> Vec<fieldbook::core::runbook::Edit> {
    vec![fieldbook::core::runbook::Edit {
        path: path.display().to_string(),
        comment: "#".into(),
        create: false,
        mode: None,
        missing: None,
        action: fieldbook::core::runbook::EditAction::EnsureLine {
            line: "added=1".into(),
            replace: None,
        },
    }]
}

/// A file that changed on the host between the preview and the apply is refused, with the new
/// diff, and nothing is written.
#[test]
fn a_file_changed_on_the_host_since_the_preview_is_refused_with_the_new_diff() {
    let Some(s) = sshd("a_file_changed_on_the_host_since_the_preview_is_refused_with_the_new_diff")
    else {
        return;
    };
    let file = user_file("fbtest", "changed", "a=1\n", 0o644);
    let state = tempfile::tempdir().unwrap();
    let values = std::collections::BTreeMap::new();
    let archive = PathBuf::from("archive/t");
    let ctx = fieldbook::core::apply::EditContext {
        root: None,
        state_dir: state.path(),
        archive: &archive,
        values: &values,
        follow_symlinks: false,
    };
    let session = s.session("fbtest");
    let edits = edit_fixture(&file);
    let p = fieldbook::core::machine::remote_files::preview(&session, None, &edits, &ctx).unwrap();
    assert!(p.diff().contains("+added=1"));
    std::fs::write(&file, "a=1\nsomeone=else\n").unwrap();
    let err = fieldbook::core::machine::remote_files::apply(&session, None, "s", &edits, &ctx, "t")
        .unwrap_err()
        .to_string();
    assert!(err.contains("changed on"), "{err}");
    assert!(err.contains("someone=else"), "the new diff is shown: {err}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "a=1\nsomeone=else\n"
    );
}

/// Unmounts the test's tmpfs whatever happens.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The host's disk is full while an edit is written: the original stays intact, no temporary
/// file is left, and the error says what happened.
#[test]
fn a_full_remote_disk_leaves_the_original_intact() {
    let Some(s) = sshd("a_full_remote_disk_leaves_the_original_intact") else {
        return;
    };
    let dir = PathBuf::from(format!("/home/fbtest/full-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success(), "mounting a tmpfs failed");
    let _mount = Mount(dir.clone());
    let file = dir.join("conf");
    let original = "a=1\n".repeat(200);
    std::fs::write(&file, &original).unwrap();
    // Fill the rest of the file system.
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4096"])
        .arg(format!("of={}", dir.join("filler").display()))
        .stderr(Stdio::null())
        .status();
    Command::new("chown")
        .args(["-R", "fbtest:fbtest"])
        .arg(&dir)
        .status()
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let var = format!("file={}", file.display());
    let out = s.run(
        "fbtest",
        state.path(),
        &["exec", "remote-test", "edit", "--yes", "--var", &var],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the original is unchanged"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !left.iter().any(|n| n.contains("fieldbook-tmp")),
        "{left:?}"
    );
    assert!(
        !state_file(state.path()).contains("[[edits]]"),
        "an edit was recorded"
    );
}

/// A host nobody answers on: a plain error before anything runs, naming what ssh said. A host
/// that looks like an ssh option is refused as a usage error.
#[test]
fn an_unreachable_host_is_a_plain_error_naming_what_ssh_said() {
    let Some(s) = sshd("an_unreachable_host_is_a_plain_error_naming_what_ssh_said") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = s
        .fb_port(
            "fbtest",
            state.path(),
            port,
            &["exec", "remote-test", "args", "--yes"],
        )
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot connect to fbtest@127.0.0.1"),
        "{stderr}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!state.path().join("runs").exists(), "a run was opened");

    // Practice mode never connects: the same unreachable host rehearses fine.
    let out = s
        .fb_port(
            "fbtest",
            state.path(),
            port,
            &["--practice", "exec", "remote-test", "args", "--yes"],
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("PRACTICE"),
        "{}",
        text(&out.stderr)
    );

    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(["--host=-oProxyCommand=touch /tmp/x", "runlevels"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--host"),
        "{}",
        text(&out.stderr)
    );
}

/// The link drops under a short (unsupervised) step: the step is interrupted with the reason,
/// never failed with ssh's 255 as if it were the program's result.
#[test]
fn a_link_dropped_mid_step_is_interrupted_not_failed() {
    let Some(s) = sshd("a_link_dropped_mid_step_is_interrupted_not_failed") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let gate_dir = tempfile::tempdir().unwrap();
    let gate = gate_dir.path().join("gate");
    let gate_var = format!("gate={}", gate.display());
    let mut child = s
        .fb(
            "fbtest",
            state.path(),
            &["exec", "remote-test", "slow", "--yes", "--var", &gate_var],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The output as it streams (the log of a short step is written in large blocks).
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the step's first line");
        if line == "started" {
            break;
        }
    }
    let socket = master_socket(child.id()).expect("the master's control socket");
    let st = Command::new("ssh")
        .arg("-o")
        .arg(format!("ControlPath={}", socket.display()))
        .args(["-O", "exit", "x"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let out = child.wait_with_output().unwrap();
    // The program is not left running on the host: fieldbook reconnected and stopped it
    // before it reported the step interrupted (this host is the loopback, so its processes
    // are visible here).
    let left = remote_processes_mentioning(&gate.display().to_string());
    // Let a program that was left behind end: it looks for the gate every 0.2 s.
    std::fs::write(&gate, "").unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let stderr = text(&out.stderr);
    assert!(
        left.is_empty(),
        "left running on the host: {left:?}\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("slow: interrupted"), "{stderr}");
    assert!(
        stderr.contains("connection to fbtest@127.0.0.1 was lost"),
        "{stderr}"
    );
    assert!(
        stderr.contains("reconnected and stopped the program on fbtest@127.0.0.1"),
        "{stderr}"
    );
    let state_text = state_file(state.path());
    assert!(state_text.contains("interrupted"), "{state_text}");
    assert!(!state_text.contains("code = 255"), "{state_text}");
}

/// The command lines of running processes that mention `text` (the loopback host's
/// processes are this machine's).
fn remote_processes_mentioning(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(text) {
                out.push(cmd);
            }
        }
    }
    out
}

/// Cancel (Ctrl-C to `exec`) reaches the program's process group on the host, with no tty:
/// the remote shell and the `sleep` it started are gone, and the step is cancelled.
#[test]
fn cancel_ends_the_remote_process_group() {
    let Some(s) = sshd("cancel_ends_the_remote_process_group") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let pidfile = dir.path().join("pid");
    let var = format!("gate={}", pidfile.display());
    let mut child = s
        .fb(
            "fbtest",
            state.path(),
            &["exec", "remote-test", "sleepy", "--yes", "--var", &var],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the remote program's pid", Duration::from_secs(30), || {
        std::fs::read_to_string(&pidfile).is_ok_and(|p| p.trim().parse::<u32>().is_ok())
    });
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Its process group on the host: the remote shell and its `sleep`.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let pgid: i32 = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        unsafe { libc::killpg(pgid, 0) } == 0,
        "the group should exist"
    );
    std::thread::sleep(Duration::from_millis(300));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            assert!(
                Instant::now() < deadline,
                "fieldbook did not end after cancel"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("sleepy: cancelled"), "{stderr}");
    wait_for(
        "the remote process group to be gone",
        Duration::from_secs(10),
        || {
            // SAFETY: signal 0 only checks for existence.
            let alive = unsafe { libc::killpg(pgid, 0) } == 0;
            !alive
        },
    );
}

/// Cancel of a long step reaches its program under the supervisor on the host: the step is
/// cancelled and the supervisor's exit file says how the program ended.
#[test]
fn cancel_reaches_a_long_step_on_the_host() {
    let Some(s) = sshd("cancel_reaches_a_long_step_on_the_host") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let gate_dir = tempfile::tempdir().unwrap();
    let var = format!("gate={}", gate_dir.path().join("never").display());
    let log = state.path().join("logs/remote-test@127.0.0.1/long.1.log");
    let mut child = s
        .fb(
            "fbtest",
            state.path(),
            &["exec", "remote-test", "long", "--yes", "--var", &var],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the step's first line", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.lines().any(|x| x == "started"))
    });
    // On a long step the first Ctrl-C only stops watching; a second within 2 s cancels.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    std::thread::sleep(Duration::from_millis(300));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "fieldbook did not end after cancel"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("long: cancelled"), "{stderr}");
    let exit = std::fs::read_to_string(log.with_file_name("long.1.log.exit")).unwrap();
    assert!(exit.starts_with("code 130"), "{exit}");
}

/// Issue 18: cancel of a long step on a host without `setsid` (user fbnosid, whose PATH has
/// every program but setsid). The supervisor then stays in the group sshd gave its starter and
/// does not lead a group of its own; cancel still reaches the program there (SIGINT is ignored
/// by a program started in the background, so SIGTERM ends it): the program is gone, the
/// supervisor recorded how it ended, and the step is cancelled.
#[test]
fn cancel_reaches_a_long_step_on_a_host_without_setsid() {
    let Some(s) = sshd("cancel_reaches_a_long_step_on_a_host_without_setsid") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let gate_dir = tempfile::tempdir().unwrap();
    let gate = gate_dir.path().join("never-nosid");
    let var = format!("gate={}", gate.display());
    let log = state.path().join("logs/remote-test@127.0.0.1/long.1.log");
    let mut child = s
        .fb(
            "fbnosid",
            state.path(),
            &["exec", "remote-test", "long", "--yes", "--var", &var],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the step's first line", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.lines().any(|x| x == "started"))
    });
    let gate_text = gate.display().to_string();
    assert!(
        !remote_processes_mentioning(&gate_text).is_empty(),
        "the program should run on the host"
    );
    // The supervisor was started without setsid: it does not lead a process group.
    let remote: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{}.remote", log.display())).unwrap())
            .unwrap();
    let pid = remote["pid"].as_u64().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let pgid: u64 = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(
        pgid, pid,
        "the supervisor leads its group: setsid was found"
    );
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    std::thread::sleep(Duration::from_millis(300));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "fieldbook did not end after cancel"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    wait_for(
        "the program on the host to be gone",
        Duration::from_secs(10),
        || remote_processes_mentioning(&gate_text).is_empty(),
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("long: cancelled"), "{stderr}");
    let exit = std::fs::read_to_string(log.with_file_name("long.1.log.exit")).unwrap();
    assert!(exit.starts_with("code 143"), "{exit}");
    let recorded = state_file(state.path());
    assert!(recorded.contains("cancelled"), "{recorded}");
}

/// A host whose user cannot find `sh`: named before anything runs.
#[test]
fn a_host_without_sh_is_named() {
    let Some(s) = sshd("a_host_without_sh_is_named") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let out = s.run(
        "fbnosh",
        state.path(),
        &["exec", "remote-test", "args", "--yes"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("has no POSIX sh"), "{stderr}");
}

/// A tool screen's listing is read on the host (`rc-update -v show` from the host's stub).
#[test]
fn a_tool_listing_is_read_on_the_host() {
    let Some(s) = sshd("a_tool_listing_is_read_on_the_host") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let out = s.run("fbash", state.path(), &["runlevels", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("net.xenbr0"),
        "{}",
        text(&out.stdout)
    );
    let log = std::fs::read_to_string("/home/fbash/rc-update.log").unwrap();
    assert!(log.contains("-v show"), "{log}");
}

/// Runs of a host driven with `--host` are kept here, and `fieldbook fleet` shows them next to
/// the hosts it asks over ssh: no fieldbook is needed on the box.
#[test]
fn fleet_shows_the_runs_of_hosts_driven_from_here() {
    let Some(s) = sshd("fleet_shows_the_runs_of_hosts_driven_from_here") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let out = s.run(
        "fbtest",
        state.path(),
        &["exec", "remote-test", "ask", "--yes", "--var", "value=v"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("--checklists")
        .arg(repo().join("tests/fixtures/remote"))
        .arg("--state-dir")
        .arg(state.path())
        .args(["fleet", "--json"])
        .env_remove("FIELDBOOK_STATE_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let host = &v["hosts"][0];
    assert_eq!(host["host"], "127.0.0.1 (kept here)", "{v}");
    assert_eq!(host["runs"][0]["runbook"], "remote-test", "{v}");
    assert_eq!(host["runs"][0]["done"], 1, "{v}");
    let table = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("--checklists")
        .arg(repo().join("tests/fixtures/remote"))
        .arg("--state-dir")
        .arg(state.path())
        .arg("fleet")
        .env_remove("FIELDBOOK_STATE_DIR")
        .output()
        .unwrap();
    assert!(
        text(&table.stdout).contains("127.0.0.1 (kept here)"),
        "{}",
        text(&table.stdout)
    );
}

/// An interactive step over `--host` runs under `ssh -t`: the program on the host has a
/// terminal, gets COLUMNS/LINES, reads the technician's answer, and its exit decides the step.
#[test]
fn an_interactive_step_runs_on_the_host_with_the_terminal() {
    let Some(s) = sshd("an_interactive_step_runs_on_the_host_with_the_terminal") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let checklists = repo()
        .join("tests/fixtures/remote-pty")
        .display()
        .to_string();
    let mut args: Vec<String> = vec![
        "--checklists".into(),
        checklists,
        "--host".into(),
        "fbtest@127.0.0.1".into(),
    ];
    args.extend(s.ssh_opts(s.port));
    args.extend(["run".to_string(), "remote-pty".into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let path = std::env::var("PATH").unwrap_or_default();
    let mut app = common::pty::App::spawn(common::pty::Spawn {
        args: &refs,
        env: &[
            ("TERM", "vt100"),
            ("LANG", "C.UTF-8"),
            ("PATH", path.as_str()),
        ],
        state: Some(state.path()),
        ..common::pty::Spawn::default()
    });
    // The title says where commands run.
    app.wait_for("on fbtest@127.0.0.1");
    app.wait_for("Asks on the host");
    app.send(b"\r");
    app.wait_for("Why");
    app.send(b"r");
    let deadline = Instant::now() + Duration::from_secs(30);
    let want: &[u8] = b"on:fbtest tty size:80x24";
    while !app.raw().windows(want.len()).any(|w| w == want) {
        assert!(
            Instant::now() < deadline,
            "the host's program never had the terminal: {}",
            String::from_utf8_lossy(&app.raw())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    app.wait_for("Proceed? [yes/no]");
    app.send(b"yes\r");
    wait_for("the step to end done", Duration::from_secs(30), || {
        state_file(state.path()).contains("done")
    });
    let raw = app.raw();
    assert!(
        raw.windows(7).any(|w| w == b"got:yes"),
        "the answer never arrived"
    );
}

/// An interactive program on the host that exits 255 itself (under `ssh -t`, whose own
/// failure is also 255) is failed with exit 255, its own result, not interrupted as a lost
/// link: the remote wrapper records the program's exit out of band and fieldbook reads it.
#[test]
fn an_interactive_programs_own_255_is_its_result_not_a_lost_link() {
    let Some(s) = sshd("an_interactive_programs_own_255_is_its_result_not_a_lost_link") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let checklists = repo()
        .join("tests/fixtures/remote-pty-255")
        .display()
        .to_string();
    let mut args: Vec<String> = vec![
        "--checklists".into(),
        checklists,
        "--host".into(),
        "fbtest@127.0.0.1".into(),
    ];
    args.extend(s.ssh_opts(s.port));
    args.extend(["run".to_string(), "remote-pty-255".into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let path = std::env::var("PATH").unwrap_or_default();
    let mut app = common::pty::App::spawn(common::pty::Spawn {
        args: &refs,
        env: &[
            ("TERM", "vt100"),
            ("LANG", "C.UTF-8"),
            ("PATH", path.as_str()),
        ],
        state: Some(state.path()),
        ..common::pty::Spawn::default()
    });
    app.wait_for("Exits 255 on the host");
    app.send(b"\r");
    app.wait_for("Why");
    app.send(b"r");
    wait_for("the step to end", Duration::from_secs(30), || {
        let st = state_file(state.path());
        st.contains("failed") || st.contains("interrupted")
    });
    let st = state_file(state.path());
    assert!(st.contains("failed"), "{st}");
    assert!(!st.contains("interrupted"), "{st}");
    assert!(st.contains("255"), "{st}");
    let raw = String::from_utf8_lossy(&app.raw()).into_owned();
    assert!(raw.contains("the host program ends 255"), "{raw}");
}

/// The snort rule files are read on the host (under `--root` there): a rules directory that
/// only the host's user can read is scanned through ssh.
#[test]
fn snort_rules_are_read_on_the_host() {
    let Some(s) = sshd("snort_rules_are_read_on_the_host") else {
        return;
    };
    let root = PathBuf::from(format!("/home/fbtest/snort-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let rules = root.join("var/lib/suva/services/intrusion-protection/rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("web.rules"),
        "alert tcp any any -> any 80 (msg:\"a\"; sid:1091; rev:1;)\n",
    )
    .unwrap();
    std::fs::write(rules.join("other file.rules"), "# nothing here\n").unwrap();
    Command::new("chown")
        .args(["-R", "fbtest:fbtest"])
        .arg(&root)
        .status()
        .unwrap();
    // This machine is the host here, so an ssh that records its arguments proves the rules
    // were read through ssh and not from this machine's disk.
    let state = tempfile::tempdir().unwrap();
    let calls = state.path().join("ssh-calls");
    let wrapper = state.path().join("ssh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >>'{}'\nexec ssh \"$@\"\n",
            calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let root_arg = root.display().to_string();
    let out = s
        .fb("fbtest", state.path(), &["--root", &root_arg, "snort"])
        .env("FIELDBOOK_SSH", &wrapper)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("SID 1091       enabled"), "{stdout}");
    let calls = std::fs::read_to_string(&calls).unwrap();
    assert!(
        calls.contains("intrusion-protection/rules"),
        "the rules were not read over ssh: {calls}"
    );
}

/// Issue 15 item 11: the app's snort screen reads the host's rules over `--host`, so its Apply
/// and undo must change the host's files too, never this machine's: the edit goes through the
/// host (its original kept under the remote dir on the host) and undo restores it there.
#[test]
fn the_snort_screen_edits_the_hosts_rules_it_listed() {
    use fieldbook::app::tool_jobs;
    use fieldbook::core::snort;
    use fieldbook::ui::Msg;
    use fieldbook::ui::tools::{ToolJob, ToolResult};
    let Some(s) = sshd("the_snort_screen_edits_the_hosts_rules_it_listed") else {
        return;
    };
    let root = PathBuf::from(format!("/home/fbtest/snort-apply-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let rules = root.join("var/lib/suva/services/intrusion-protection/rules");
    std::fs::create_dir_all(&rules).unwrap();
    let rule = "alert tcp any any -> any 80 (msg:\"a\"; sid:1091; rev:1;)\n";
    std::fs::write(rules.join("web.rules"), rule).unwrap();
    Command::new("chown")
        .args(["-R", "fbtest:fbtest"])
        .arg(&root)
        .status()
        .unwrap();
    let session = s.session("fbtest");
    let list = snort::load_sids(None).unwrap();
    let report =
        fieldbook::core::machine::snort_scan(&session, Some(&root), &snort::RULE_DIRS, &list);
    let row = report
        .sids
        .iter()
        .find(|r| r.entry.sid == 1091)
        .expect("SID 1091 listed");
    let edits = snort::disable_edits(row);
    assert!(!edits.is_empty());
    let state = tempfile::tempdir().unwrap();
    let settings = fieldbook::core::settings::Settings {
        root: Some(root.clone()),
        state_dir: Some(state.path().to_path_buf()),
        target: "snort-host".into(),
        host: Some("fbtest@127.0.0.1".into()),
        machine: fieldbook::core::machine::SessionMachine(std::sync::Arc::new(session)),
        ..Default::default()
    };
    let ask = |job: ToolJob| {
        let (tx, rx) = std::sync::mpsc::channel();
        tool_jobs::start(job, &settings, Vec::new(), tx);
        match rx.recv_timeout(Duration::from_secs(60)).unwrap() {
            Msg::Tool(result) => result,
            other => panic!("{other:?}"),
        }
    };
    // The screen's scan says where the rules were read.
    match ask(ToolJob::ScanSnort) {
        ToolResult::Snort(Ok(r), taken) => {
            assert!(taken.starts_with("on fbtest@127.0.0.1, under "), "{taken}");
            assert!(r.sids.iter().any(|x| x.entry.sid == 1091));
        }
        other => panic!("{other:?}"),
    }
    let archive = PathBuf::from(format!("archive/edits/snort@host-{}", std::process::id()));
    let applied = match ask(ToolJob::ApplyEdits {
        step: "snort".into(),
        archive,
        at: fieldbook::core::clock::now(),
        edits,
    }) {
        ToolResult::EditsApplied {
            applied,
            error: None,
        } => applied,
        other => panic!("{other:?}"),
    };
    let edited = std::fs::read_to_string(rules.join("web.rules")).unwrap();
    assert!(edited.starts_with('#'), "{edited}");
    // The original was kept on the host: the edit went through the host, not this disk.
    let backup = applied[0].backup.clone().expect("a backup");
    let on_host = PathBuf::from("/var/tmp/fieldbook-fbtest").join(&backup);
    assert!(
        on_host.exists(),
        "no original kept on the host at {}",
        on_host.display()
    );
    let undone = ask(ToolJob::UndoEdit(applied[0].clone()));
    if let Some(session) = settings.machine.ssh() {
        session.close();
    }
    assert!(
        matches!(undone, ToolResult::EditUndone(Ok(_))),
        "{undone:?}"
    );
    assert_eq!(
        std::fs::read_to_string(rules.join("web.rules")).unwrap(),
        rule
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// A symbolic link on the host is handled as locally: refused until the technician confirms
/// following it, then the file it points to is edited and the link stays a link.
#[test]
fn a_remote_symlink_is_handled_as_locally() {
    let Some(s) = sshd("a_remote_symlink_is_handled_as_locally") else {
        return;
    };
    let file = user_file("fbtest", "link", "a=1\n", 0o644);
    let link = file.with_file_name("conf-link");
    std::os::unix::fs::symlink("conf", &link).unwrap();
    let state = tempfile::tempdir().unwrap();
    let values = std::collections::BTreeMap::new();
    let archive = PathBuf::from("archive/t");
    let mut ctx = fieldbook::core::apply::EditContext {
        root: None,
        state_dir: state.path(),
        archive: &archive,
        values: &values,
        follow_symlinks: false,
    };
    let session = s.session("fbtest");
    let edits = edit_fixture(&link);
    let err = fieldbook::core::machine::remote_files::preview(&session, None, &edits, &ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("symbolic link to conf"), "{err}");
    ctx.follow_symlinks = true;
    let p = fieldbook::core::machine::remote_files::preview(&session, None, &edits, &ctx).unwrap();
    assert_eq!(p.changes[0].path, file.display().to_string());
    let applied =
        fieldbook::core::machine::remote_files::apply(&session, None, "s", &edits, &ctx, "t")
            .unwrap();
    assert_eq!(applied[0].path, file.display().to_string());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "a=1\nadded=1\n");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// The orphan tests' run: `remote-orphan` on 127.0.0.1, its state file and its log.
fn orphan_run(state: &Path) -> (PathBuf, PathBuf) {
    (
        state.join("runs/remote-orphan@127.0.0.1.toml"),
        state.join("logs/remote-orphan@127.0.0.1/hold.1.log"),
    )
}

/// Kills, when a test ends however it ends, every process whose command line mentions its
/// text (the programs a failing orphan test would leave waiting for a gate that never comes).
struct Reaper(String);

impl Drop for Reaper {
    fn drop(&mut self) {
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<i32>().ok())
            else {
                continue;
            };
            let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if pid != std::process::id() as i32
                && cmd.windows(self.0.len()).any(|w| w == self.0.as_bytes())
            {
                // SAFETY: only signals a test program that names this test's own gate.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

/// Issue 18 (issue 17 item 10 over `--host`): runs the long step `hold` on the host, waits for
/// its program, and kills its remote supervisor with SIGKILL while `exec` follows it. Returns
/// the gate the orphaned program waits for (it runs on until the gate exists or it is
/// stopped) and `exec`'s stderr.
fn orphan_a_program_on_the_host(s: &Sshd, user: &str, state: &Path, gate: &Path) -> String {
    let (_, log) = orphan_run(state);
    let var = format!("gate={}", gate.display());
    let child = s
        .fb_books(
            "remote-orphan",
            user,
            state,
            s.port,
            &["exec", "remote-orphan", "hold", "--yes", "--var", &var],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the program's first line", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.lines().any(|x| x == "started"))
    });
    let gate_text = gate.display().to_string();
    assert!(!remote_processes_mentioning(&gate_text).is_empty());
    let remote: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{}.remote", log.display())).unwrap())
            .unwrap();
    let pid = remote["pid"].as_u64().unwrap() as i32;
    // SAFETY: the remote supervisor is a process of the loopback host's test user.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let out = child.wait_with_output().unwrap();
    assert!(
        !remote_processes_mentioning(&gate_text).is_empty(),
        "the program should outlive its supervisor"
    );
    text(&out.stderr)
}

/// A program orphaned on HOST by a killed remote supervisor is said when the followed step is
/// found interrupted, refuses a retry (nothing starts beside it), is never judged without the
/// host, and `--stop-orphans` stops it there (SIGTERM to its group) and records that.
#[test]
fn a_program_orphaned_on_the_host_is_found_and_stopped_only_when_asked() {
    let Some(s) = sshd("a_program_orphaned_on_the_host_is_found_and_stopped_only_when_asked")
    else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let gates = tempfile::tempdir().unwrap();
    std::fs::set_permissions(gates.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let gate = gates.path().join("orphan-never");
    let gate_text = gate.display().to_string();
    let _reaper = Reaper(gate_text.clone());
    let open = gates.path().join("open");
    std::fs::write(&open, "0").unwrap();
    let (file, _) = orphan_run(state.path());

    let stderr = orphan_a_program_on_the_host(s, "fbtest", state.path(), &gate);
    assert!(
        stderr.contains("on fbtest@127.0.0.1 was killed, but its program is still running there"),
        "{stderr}"
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("interrupted")
    );

    // Without --host the host's attempt cannot be judged: said, and nothing is signalled.
    let copy = tempfile::tempdir().unwrap();
    let st = Command::new("cp")
        .arg("-a")
        .arg(state.path().join("."))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(st.success());
    let open_var = format!("gate={}", open.display());
    let out = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env_remove("FIELDBOOK_STATE_DIR")
        .arg("--checklists")
        .arg(repo().join("tests/fixtures/remote-orphan"))
        .arg("--state-dir")
        .arg(copy.path())
        .args([
            "--target",
            "127.0.0.1",
            "exec",
            "remote-orphan",
            "hold",
            "--yes",
        ])
        .args(["--stop-orphans", "--var", &open_var])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert!(
        said.contains("last attempt ran on fbtest@127.0.0.1: whether its program still runs there cannot be checked here"),
        "{said}"
    );
    assert!(
        !remote_processes_mentioning(&gate_text).is_empty(),
        "{said}"
    );

    // Over --host, a retry is refused while it runs, naming --stop-orphans.
    let out = s
        .fb_books(
            "remote-orphan",
            "fbtest",
            state.path(),
            s.port,
            &["exec", "remote-orphan", "hold", "--yes", "--var", &open_var],
        )
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("still running on fbtest@127.0.0.1 without its supervisor"),
        "{said}"
    );
    assert!(said.contains("--stop-orphans"), "{said}");
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        recorded.matches("[[steps.hold.attempts]]").count(),
        1,
        "{recorded}"
    );
    assert!(!remote_processes_mentioning(&gate_text).is_empty());

    // --stop-orphans stops it on the host, records that, and runs the step.
    let out = s
        .fb_books(
            "remote-orphan",
            "fbtest",
            state.path(),
            s.port,
            &[
                "exec",
                "remote-orphan",
                "hold",
                "--yes",
                "--stop-orphans",
                "--var",
                &open_var,
            ],
        )
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("stopped the program a killed supervisor left running on fbtest@127.0.0.1"),
        "{said}"
    );
    assert!(remote_processes_mentioning(&gate_text).is_empty(), "{said}");
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert!(
        recorded
            .contains("stopped the program a killed supervisor left running on fbtest@127.0.0.1"),
        "{recorded}"
    );
    assert!(recorded.contains("status = \"done\""), "{recorded}");
}

/// The app offers to stop a program orphaned on HOST, as it does locally: `r` on the step asks
/// "Stop it now?" (the host is asked off the loop), nothing starts beside it, and yes stops it
/// there and records that on the step.
#[test]
fn the_app_offers_to_stop_a_program_orphaned_on_the_host() {
    let Some(s) = sshd("the_app_offers_to_stop_a_program_orphaned_on_the_host") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let gates = tempfile::tempdir().unwrap();
    std::fs::set_permissions(gates.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let gate = gates.path().join("orphan-app-never");
    let gate_text = gate.display().to_string();
    let _reaper = Reaper(gate_text.clone());
    let (file, _) = orphan_run(state.path());
    orphan_a_program_on_the_host(s, "fbtest", state.path(), &gate);

    let books = repo()
        .join("tests/fixtures/remote-orphan")
        .display()
        .to_string();
    let mut args: Vec<String> = vec![
        "--checklists".into(),
        books,
        "--host".into(),
        "fbtest@127.0.0.1".into(),
    ];
    args.extend(s.ssh_opts(s.port));
    args.extend(["run".to_string(), "remote-orphan".into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let path = std::env::var("PATH").unwrap_or_default();
    let mut app = common::pty::App::spawn(common::pty::Spawn {
        args: &refs,
        env: &[
            ("TERM", "vt100"),
            ("LANG", "C.UTF-8"),
            ("PATH", path.as_str()),
        ],
        state: Some(state.path()),
        ..common::pty::Spawn::default()
    });
    let flat = |s: &[String]| {
        s.iter()
            .map(|l| l.replace(['|', '+'], " "))
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    app.wait_for("Hold until the gate opens");
    app.send(b"\r");
    app.wait_for("Why");
    app.send(b"r");
    app.wait_until(|s| flat(s).contains("Stop it now?"), "the offer to stop it");
    assert!(
        flat(&app.screen()).contains("still running on fbtest@127.0.0.1"),
        "{}",
        app.screen().join("\n")
    );
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        recorded.matches("[[steps.hold.attempts]]").count(),
        1,
        "{recorded}"
    );
    assert!(!remote_processes_mentioning(&gate_text).is_empty());
    app.send(b"y");
    app.wait_until(|s| flat(s).contains("Stopped pid"), "the stop");
    assert!(remote_processes_mentioning(&gate_text).is_empty());
    wait_for("the note on the record", Duration::from_secs(10), || {
        std::fs::read_to_string(&file).is_ok_and(|t| {
            t.contains("stopped the program a killed supervisor left running on fbtest@127.0.0.1")
        })
    });
}

/// The same on a host without `setsid` (user fbnosid): the supervisor ran in the group its
/// starter was given, which the starter recorded; that group is found and stopped.
#[test]
fn a_program_orphaned_on_a_host_without_setsid_is_found_and_stopped() {
    let Some(s) = sshd("a_program_orphaned_on_a_host_without_setsid_is_found_and_stopped") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let gates = tempfile::tempdir().unwrap();
    std::fs::set_permissions(gates.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let gate = gates.path().join("orphan-nosid-never");
    let gate_text = gate.display().to_string();
    let _reaper = Reaper(gate_text.clone());
    let open = gates.path().join("open");
    std::fs::write(&open, "0").unwrap();
    let (file, log) = orphan_run(state.path());
    let stderr = orphan_a_program_on_the_host(s, "fbnosid", state.path(), &gate);
    assert!(
        stderr.contains("on fbnosid@127.0.0.1 was killed, but its program is still running there"),
        "{stderr}"
    );
    // The supervisor did not lead its group: the recorded group is what was found.
    let remote: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{}.remote", log.display())).unwrap())
            .unwrap();
    let group = std::fs::read_to_string(format!("{}/group", remote["dir"].as_str().unwrap()))
        .unwrap()
        .trim()
        .to_string();
    let open_var = format!("gate={}", open.display());
    let out = s
        .fb_books(
            "remote-orphan",
            "fbnosid",
            state.path(),
            s.port,
            &["exec", "remote-orphan", "hold", "--yes", "--var", &open_var],
        )
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("kill -TERM -{group} on fbnosid@127.0.0.1")),
        "{said}"
    );
    let out = s
        .fb_books(
            "remote-orphan",
            "fbnosid",
            state.path(),
            s.port,
            &[
                "exec",
                "remote-orphan",
                "hold",
                "--yes",
                "--stop-orphans",
                "--var",
                &open_var,
            ],
        )
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(remote_processes_mentioning(&gate_text).is_empty(), "{said}");
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("status = \"done\"")
    );
}
