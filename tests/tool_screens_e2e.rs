//! The tool screens end to end: the real binary under a pty (80x24, TERM=vt100), the stub
//! tools first on PATH. Each test toggles, applies, confirms, waits for the check against the
//! fresh listing, and asserts the exact argv the stubs recorded.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

struct App {
    parser: vt100::Parser,
    rx: Receiver<Vec<u8>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _pty: Box<dyn portable_pty::MasterPty + Send>,
}

impl App {
    fn start(dir: &Path, extra: &[&str]) -> App {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fieldbook"));
        cmd.args(["--checklists"]);
        cmd.arg(manifest.join("tests/fixtures/tools"));
        cmd.arg("--state-dir");
        cmd.arg(dir.join("state"));
        for a in extra {
            cmd.arg(a);
        }
        cmd.args(["run", "tools-demo"]);
        let path = format!(
            "{}:{}",
            manifest.join("tests/stubs").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path);
        cmd.env("TERM", "vt100");
        cmd.env("STUB_LOG", dir.join("argv.log"));
        cmd.env("STUB_STATE_DIR", dir.join("stub-state"));
        cmd.env_remove("FIELDBOOK_ROOT");
        cmd.env_remove("FIELDBOOK_CHECKLISTS");
        cmd.env_remove("SSH_CONNECTION");
        let child = pty.slave.spawn_command(cmd).unwrap();
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        App {
            parser: vt100::Parser::new(24, 80, 0),
            rx,
            writer,
            child,
            _pty: pty.master,
        }
    }

    fn screen(&self) -> String {
        self.parser.screen().contents()
    }

    /// Waits until `text` is on the screen (generous timeout: this is not a speed test).
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.screen().contains(text) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "never saw {text:?}; screen:\n{}",
                self.screen()
            );
            if let Ok(bytes) = self.rx.recv_timeout(left.min(Duration::from_millis(100))) {
                self.parser.process(&bytes);
            }
        }
    }

    fn keys(&mut self, keys: &str) {
        for b in keys.bytes() {
            self.writer.write_all(&[b]).unwrap();
            self.writer.flush().unwrap();
            // One key at a time, as a technician types, so each is its own event.
            std::thread::sleep(Duration::from_millis(30));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn recorded(dir: &Path) -> Vec<String> {
    let log = std::fs::read(dir.join("argv.log")).unwrap_or_default();
    String::from_utf8(log)
        .unwrap()
        .split("\u{1e}\n")
        .filter(|r| !r.is_empty())
        .map(|r| r.replace('\u{1f}', " "))
        .collect()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn services_follow_the_advice_apply_and_verify() {
    let dir = tempdir();
    let mut app = App::start(dir.path(), &[]);
    app.wait_for("Prune the services");
    app.keys("\r");
    app.wait_for("r:run");
    app.keys("r");
    app.wait_for("avahi-dnsconfd");
    // Toggle one service by hand (acpid, "maybe off"), then take the runbook's advice.
    app.keys(" ");
    app.wait_for("[-] acpid");
    app.keys("v");
    app.wait_for("Chose the runbook's advice: 9 change(s);");
    app.wait_for("[-] avahi-daemon");
    app.keys("a");
    app.wait_for("Run 9 command(s)?");
    app.keys("y");
    app.wait_for("all 9 change(s) took effect");
    assert_eq!(
        recorded(dir.path()),
        [
            "chkconfig --list",
            "chkconfig --level 2345 acpid off",
            "chkconfig --level 2345 avahi-daemon off",
            "chkconfig --level 2345 haldaemon off",
            "chkconfig --level 2345 iscsid off",
            "chkconfig --level 2345 kudzu off",
            "chkconfig --level 2345 lvm2-monitor off",
            "chkconfig --level 2345 messagebus off",
            "chkconfig --level 2345 netfs off",
            "chkconfig --level 2345 snmpd on",
            "chkconfig --list",
        ]
    );
    // The runner logged the attempt where the store's log contract says.
    let logs = dir.path().join("state/logs");
    let run_dir = std::fs::read_dir(&logs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // (chkconfig prints nothing when it changes a service, so the log exists but is empty.)
    assert!(run_dir.join("services.1.log").is_file(), "{run_dir:?}");
    // The step is done, and nothing is left to apply: the boxes show the new state.
    app.wait_for("[ ] acpid");
    app.wait_for("[ ] avahi-daemon");
    app.keys("q");
    app.wait_for("[x] Prune the services");
}

#[test]
fn runlevels_move_eth0_out_and_apply() {
    let dir = tempdir();
    let mut app = App::start(dir.path(), &[]);
    app.wait_for("Bridges into the default");
    app.keys("j\r");
    app.wait_for("r:run");
    app.keys("r");
    app.wait_for("net.extbr0");
    // Row 14 is net.extbr0 (sorted like rc-update); column 2 is default.
    app.keys(&"j".repeat(13));
    app.keys("\t ");
    app.wait_for("1 change(s) chosen");
    app.keys("a");
    app.wait_for("rc-update del net.extbr0 default");
    app.keys("y");
    app.wait_for("every change took effect");
    assert_eq!(
        recorded(dir.path()),
        [
            "rc-update -v show",
            "rc-update del net.extbr0 default",
            "rc-update -v show"
        ]
    );
}

#[test]
fn gcc_switch_reloads_profile_env_under_root() {
    let dir = tempdir();
    let root: PathBuf = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let mut app = App::start(dir.path(), &["--root", root.to_str().unwrap()]);
    app.wait_for("Switch to the newest GCC");
    app.keys("jj\r");
    app.wait_for("r:run");
    app.keys("r");
    app.wait_for("x86_64-pc-linux-gnu-4.3.4");
    app.keys("a");
    app.wait_for("Run 2 command(s)?");
    app.keys("y");
    // Under --root the image's profile.env is read, never loaded into the host's commands.
    app.wait_for("read from the image under --root");
    assert_eq!(
        recorded(dir.path()),
        [
            "gcc-config -l",
            "gcc-config 2",
            "env-update",
            "gcc-config -l"
        ]
    );
    let env = std::fs::read_to_string(root.join("etc/profile.env")).unwrap();
    assert!(env.contains("gcc-bin/4.3.4"), "{env}");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

#[test]
fn snort_disable_through_the_edit_engine_then_undo() {
    let dir = tempdir();
    let root = dir.path().join("root");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tools/root"),
        &root,
    );
    let rules = root.join("var/lib/suva/services/intrusion-protection/rules/web-misc.rules");
    let original = std::fs::read_to_string(&rules).unwrap();
    let mut app = App::start(dir.path(), &["--root", root.to_str().unwrap()]);
    app.wait_for("Disable the bad snort rules");
    app.keys("jjj\r");
    app.wait_for("r:run");
    app.keys("r");
    app.wait_for("web-misc.rules:2");
    app.keys(" a");
    app.wait_for("Apply this change?");
    app.wait_for("+#alert tcp $EXTE...sid:1091; rev:13;)");
    app.keys("y");
    app.wait_for("Edited 1 file(s), backups kept");
    app.wait_for("5 listed rule(s) enabled");
    let edited = std::fs::read_to_string(&rules).unwrap();
    assert_eq!(
        edited,
        original.replace(
            "\nalert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS (msg:\"WEB-MISC long",
            "\n#alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS (msg:\"WEB-MISC long"
        )
    );
    assert_ne!(edited, original);
    // The backup is in the state directory's archive, never beside the rules.
    let beside: Vec<_> = std::fs::read_dir(rules.parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(beside.len(), 2, "{beside:?}");
    // Restart is offered as the exact command; answer no here.
    app.keys("x");
    app.wait_for("/etc/init.d/snort restart");
    app.keys("n");
    // Undo puts the file back from the backup.
    app.keys("u");
    app.wait_for("Undo the last rules edit?");
    app.keys("y");
    app.wait_for("is back as it was");
    assert_eq!(std::fs::read_to_string(&rules).unwrap(), original);
    assert!(recorded(dir.path()).is_empty(), "no program was run");
}
