//! Issue 18's "done when": `fieldbook --host` walks the three built-in runbooks, first step to
//! last, on a box that has nothing but a POSIX shell.
//!
//! The box is a throwaway chroot on the host (tests/support/walk-box.sh): busybox (sh and its
//! applets, with the libraries ldd lists), recording stubs for every tool the runbook calls
//! (tests/fixtures/remote-walk/stubs: they print the real tools' output from assets/practice
//! and the recordings, keep their state in the box, and append each call to the box's
//! /var/log/walk/stubs.log, marked `ssh` when sshd's SSH_CONNECTION reached them), and the
//! files the edit steps change (tests/fixtures/edits/root, tests/fixtures/tools/root).
//! fieldbook reaches it as `--host root@127.0.0.1 --root BOX` over the real loopback sshd of
//! tests/remote_ssh.rs (a chroot on the host): every command, check, `when` probe, tool
//! listing, long step's supervisor and edit goes through ssh, and the programs run inside the
//! box. The stubs exist nowhere else, and their log is in the box.
//!
//! Each runbook is walked in order. `fieldbook auto` runs every step that needs nobody
//! (commands with their checks, `when` probes, forms given with `--var`, edits, long steps
//! under the remote supervisor) and answers the `when` questions with `--answer`. The steps it
//! stops at are done the way a technician does them:
//! - a command that asks for confirmation: `fieldbook exec … --yes`;
//! - a manual step: the app (`fieldbook --host … run ID` under a pty), `d` on the step;
//! - an interactive step: the app, `r`; its check runs first over the link, then the program
//!   runs on the host under `ssh -t` and asks on the relayed terminal, where the test types the
//!   answer (or, when the check says done, the app's offer to mark it done is taken);
//! - a tool step: the app, `r`, and the tool screen, whose listing is read in the box.
//!
//! What each runbook covers (every step ends done, or skipped as not needed where said):
//! - clearos-install (42 steps): `auto` 19 (2 forms, 6 edits, 11 commands; the Xen-guest
//!   probe of securetty-serial says yes); the app 23: 9 manual, 11 interactive (yum; net-snmp
//!   is installed, so its check says done and yum never runs for it), 3 tools (subnet
//!   calculator, services: the runbook's advice applied with chkconfig, snort: the article's
//!   rules commented out in the box).
//! - xen4-migration (46 steps): `auto` 28 (6 forms, 14 edits, 8 commands; brctl-present's
//!   check says done), `exec --yes` 2 (the rc-update del steps), the app 14: 10 manual,
//!   2 interactive (emerge --ask), 2 tools (subnet calculator; runlevels: the listing read in
//!   the box already has what the rc-update steps did, so the step is marked done with `d`
//!   and a reason). Not needed: rc-plug (OpenRC: /etc/rc.conf exists) and
//!   verify-address-ifconfig (/sbin/ip exists).
//! - gentoo-world-update (29 steps): `auto` 18 (3 forms, 13 commands, 2 edits; questions
//!   answered yes), `exec --yes` 1 (the unattended world update, --keep-going, under the remote
//!   supervisor), the app 8: 4 manual, 3 interactive (world-again, depclean, etc-update),
//!   1 tool (gcc profile switched). Answered no, so not needed: cflags-fallback, blocked.
//!
//! Not run over the link, and why: manual steps have nothing to run (a person does them; `d`
//! records it); the subnet calculator is arithmetic in the app; a form only records values;
//! a step whose check or probe answered over the link runs nothing more.
//!
//! The assertions: the run's state, the stub log (every call through ssh, inside the box, in
//! order), the programs' effects in the box, the edited files (modes kept), the originals kept
//! on the host too, and some edit steps once more changing nothing.
//!
//! Needs root (sshd, chroot) and the Debian archive (openssh-server, busybox); without them
//! the tests print why and pass, unless `FIELDBOOK_ACCEPTANCE=require` (set by `.ci/run`).

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::pty::{App, Spawn};
use common::sshd::{self, Sshd};

const TARGET: &str = "127.0.0.1";

/// How a step that `auto` stopped at was done.
const MANUAL: &str = "manual: d in the app";
const INTERACTIVE: &str = "interactive: run in the app, answered on the host's terminal";
const CHECKED: &str = "interactive: its check said done, marked done in the app";
const TOOL: &str = "tool screen in the app";
const EXEC_YES: &str = "exec --yes";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One box and the state of the walk on it.
struct Walk {
    sshd: &'static Sshd,
    dir: tempfile::TempDir,
    runbook: &'static str,
    /// `--var` values and `--answer`s given to every `auto`.
    vars: Vec<String>,
    answers: Vec<String>,
    /// How each step that `auto` left was done (step id, way).
    by_hand: Vec<(String, &'static str)>,
}

/// What `fieldbook show --json` says about a step.
struct StepInfo {
    id: String,
    title: String,
    kind: String,
    interactive: bool,
    /// The step's confirmation question, if it asks one.
    confirm: Option<String>,
    ask: bool,
}

impl Walk {
    fn new(test: &str, kind: &str, runbook: &'static str) -> Option<Walk> {
        let sshd = sshd::start(test)?;
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("sh")
            .arg(repo().join("tests/support/walk-box.sh"))
            .arg(dir.path().join("box"))
            .arg(kind)
            .output()
            .unwrap();
        assert!(out.status.success(), "walk-box.sh: {}", text(&out.stderr));
        Some(Walk {
            sshd,
            dir,
            runbook,
            vars: Vec::new(),
            answers: Vec::new(),
            by_hand: Vec::new(),
        })
    }

    fn boxdir(&self) -> PathBuf {
        self.dir.path().join("box")
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The global options: state here, everything else on the box.
    fn global(&self) -> Vec<String> {
        let mut v = vec![
            "--state-dir".to_string(),
            self.state().display().to_string(),
        ];
        v.extend(self.sshd.host_args("root"));
        v.extend([
            "--remote-dir".to_string(),
            self.dir.path().join("remote").display().to_string(),
            "--root".into(),
            self.boxdir().display().to_string(),
        ]);
        v
    }

    fn fb(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .env_remove("FIELDBOOK_STATE_DIR")
            .env_remove("FIELDBOOK_CHECKLISTS")
            .env_remove("FIELDBOOK_ROOT")
            .env_remove("FIELDBOOK_SSH")
            .env_remove("XDG_RUNTIME_DIR")
            .args(self.global())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn steps(&self) -> Vec<StepInfo> {
        let out = self.fb(&["show", "--json", self.runbook]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut steps = Vec::new();
        for section in v["sections"].as_array().unwrap() {
            for s in section["steps"].as_array().unwrap() {
                steps.push(StepInfo {
                    id: s["id"].as_str().unwrap().to_string(),
                    title: s["title"].as_str().unwrap().to_string(),
                    kind: s["kind"].as_str().unwrap().to_string(),
                    interactive: s["interactive"].as_bool().unwrap_or(false),
                    confirm: s["confirm"].as_str().map(str::to_string),
                    ask: s["when"]["test"]["ask"].is_string(),
                });
            }
        }
        steps
    }

    /// Every step's status in the run's state file.
    fn statuses(&self) -> BTreeMap<String, String> {
        let file = fieldbook::core::state_dir::StateDir::at(self.state(), false)
            .run_file(self.runbook, TARGET);
        let Ok(run) = fieldbook::core::state_dir::read_run(&file) else {
            return BTreeMap::new();
        };
        let v = serde_json::to_value(run).unwrap();
        v["steps"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, s)| (k.clone(), s["status"].as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn status(&self, step: &str) -> String {
        self.statuses().get(step).cloned().unwrap_or_default()
    }

    /// The first step that is neither done nor skipped, in the runbook's order.
    fn next(&self, steps: &[StepInfo]) -> Option<usize> {
        let st = self.statuses();
        steps.iter().position(|s| {
            !matches!(
                st.get(&s.id).map(String::as_str),
                Some("done") | Some("skipped")
            )
        })
    }

    fn auto(&self) -> Output {
        let mut args = vec!["auto".to_string(), self.runbook.into()];
        for v in &self.vars {
            args.extend(["--var".to_string(), v.clone()]);
        }
        for a in &self.answers {
            args.extend(["--answer".to_string(), a.clone()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.fb(&refs)
    }

    fn exec_yes(&self, step: &str) -> Output {
        self.fb(&["exec", self.runbook, step, "--yes"])
    }

    /// The app on this runbook under a pty (it opens at the first unfinished step).
    fn app(&self) -> App {
        let mut args = self.global();
        args.extend(["run".to_string(), self.runbook.into()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let path = std::env::var("PATH").unwrap_or_default();
        App::spawn(Spawn {
            args: &refs,
            env: &[
                ("TERM", "vt100"),
                ("LANG", "C.UTF-8"),
                ("PATH", path.as_str()),
            ],
            pty: (120, 40),
            view: (120, 40),
            state: Some(&self.state()),
        })
    }

    /// Waits until the run records `step` as `want`.
    fn wait_status(&self, app: &App, step: &str, want: &str) {
        let start = Instant::now();
        while self.status(step) != want {
            assert!(
                start.elapsed() < common::pty::TIMEOUT,
                "{step} never became {want} (it is {:?}); screen:\n{}",
                self.status(step),
                app.screen().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn quit(mut app: App) {
        app.send(b"\x03");
        app.wait_for("Quit fieldbook?");
        app.send(b"y");
        let status = app.wait_exit();
        assert!(status.success(), "the app did not quit cleanly");
    }

    /// Whether `step` is done in the app (manual, tool, interactive) rather than by `auto` or
    /// `exec`: a step whose `when` question is answered no is skipped by `auto`.
    fn in_app(&self, step: &StepInfo) -> bool {
        if step.ask && self.answers.contains(&format!("{}=no", step.id)) {
            return false;
        }
        matches!(step.kind.as_str(), "manual" | "tool") || step.interactive
    }

    /// In the app: from wherever it is, back to a step screen, then Tab / Shift-Tab to step
    /// number `n` (1-based, as the step screen's title shows it).
    fn goto(app: &mut App, n: usize, total: usize, title: &str) {
        let on_step = |s: &[String]| s.iter().any(|l| l.contains("d:done  s:skip  n:note"));
        for _ in 0..5 {
            app.settle(Duration::from_millis(50));
            let screen = app.screen();
            if on_step(&screen) {
                break;
            }
            if screen.iter().any(|l| l.contains("Enter:open  q:back")) {
                // The runbook screen: open the step under the mark.
                app.send(b"\r");
            } else {
                app.send(b"q");
            }
        }
        let want = format!(" step {n}/{total} +");
        for _ in 0..total {
            let screen = app.wait_until(on_step, "a step screen");
            let top = &screen[0];
            if top.contains(&want) {
                break;
            }
            let at: usize = top
                .rsplit(" step ")
                .next()
                .and_then(|t| t.split('/').next())
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or_else(|| panic!("no step number in {top:?}"));
            app.send(if at < n { b"\t" } else { b"\x1b[Z" });
            app.wait_until(
                |s| !s[0].contains(&format!(" step {at}/{total} +")),
                "the next step screen",
            );
        }
        let prefix = title.split('{').next().unwrap_or_default();
        app.wait_until(
            |s| s[0].contains(&want) && s[0].contains(prefix),
            &format!("step {n}: {title}"),
        );
    }

    /// Walks the runbook from its first step to its last: `auto` for what needs nobody, `exec
    /// --yes` for a command that asks for confirmation, and the app (one session for a stretch
    /// of such steps) for manual, interactive and tool steps (see the file's comment). `tool`
    /// does the tool screens; `answer` gives the prompt an interactive step's program shows on
    /// the host and the keys typed in reply.
    fn walk(
        &mut self,
        tool: &dyn Fn(&Walk, &StepInfo, &mut App),
        answer: &dyn Fn(&str) -> (&'static str, &'static str),
    ) {
        let steps = self.steps();
        let total = steps.len();
        let mut app: Option<App> = None;
        let mut rounds = 0;
        while let Some(i) = self.next(&steps) {
            rounds += 1;
            assert!(rounds < 300, "the walk does not end");
            let step = &steps[i];
            if !self.in_app(step) {
                if let Some(a) = app.take() {
                    Walk::quit(a);
                }
                if step.kind == "command" && step.confirm.is_some() && !step.ask {
                    let out = self.exec_yes(&step.id);
                    assert_eq!(
                        out.status.code(),
                        Some(0),
                        "exec {} --yes:\n{}{}",
                        step.id,
                        text(&out.stdout),
                        text(&out.stderr)
                    );
                    self.by_hand.push((step.id.clone(), EXEC_YES));
                    continue;
                }
                let out = self.auto();
                let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
                assert!(
                    matches!(out.status.code(), Some(0) | Some(3)),
                    "auto failed:\n{said}"
                );
                assert_ne!(
                    self.next(&steps),
                    Some(i),
                    "auto did not get past {}:\n{said}",
                    step.id
                );
                continue;
            }
            let a = match app.as_mut() {
                Some(a) => a,
                None => {
                    let mut a = self.app();
                    a.wait_for("on root@127.0.0.1");
                    a.wait_until(|s| s.iter().any(|l| l.contains("> [")), "the runbook");
                    a.send(b"\r");
                    a.wait_for("d:done  s:skip  n:note");
                    app.insert(a)
                }
            };
            Walk::goto(a, i + 1, total, &step.title);
            let way = match step.kind.as_str() {
                "manual" => {
                    a.send(b"d");
                    MANUAL
                }
                "tool" => {
                    tool(self, step, a);
                    TOOL
                }
                _ => {
                    a.send(b"r");
                    if step.ask {
                        a.wait_for("(Yes: run the step.");
                        a.send(b"y");
                    }
                    if let Some(q) = &step.confirm {
                        a.wait_for(&q[..30]);
                        a.send(b"y");
                    }
                    let (prompt, reply) = answer(&step.id);
                    a.wait_for(prompt);
                    a.send(reply.as_bytes());
                    if prompt.contains("looks already done") {
                        CHECKED
                    } else {
                        INTERACTIVE
                    }
                }
            };
            self.wait_status(a, &step.id, "done");
            self.by_hand.push((step.id.clone(), way));
        }
        if let Some(a) = app.take() {
            Walk::quit(a);
        }
    }

    /// Asserts every step's final status: skipped for `not_needed`, done for the rest.
    fn assert_walked(&self, not_needed: &[&str]) {
        let st = self.statuses();
        for s in self.steps() {
            let want = if not_needed.contains(&s.id.as_str()) {
                "skipped"
            } else {
                "done"
            };
            assert_eq!(
                st.get(&s.id).map(String::as_str),
                Some(want),
                "{}: step {}",
                self.runbook,
                s.id
            );
        }
    }

    /// The box's stub log: each call as `program arg…` (tab-joined), after checking that every
    /// one came through sshd.
    fn stub_calls(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.boxdir().join("var/log/walk/stubs.log"))
            .unwrap_or_default();
        log.lines()
            .map(|l| {
                let (via, call) = l.split_once('\t').unwrap();
                assert_eq!(via, "ssh", "a stub ran without ssh: {l}");
                call.replace('\t', " ")
            })
            .collect()
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.boxdir().join(path)).unwrap()
    }

    fn original(path: &str) -> String {
        std::fs::read_to_string(repo().join("tests/fixtures/edits/root").join(path)).unwrap()
    }

    /// These edit steps once more: already applied, nothing changes in the box.
    fn assert_edits_idempotent(&self, steps: &[&str], files: &[&str]) {
        let before: Vec<String> = files.iter().map(|f| self.read(f)).collect();
        for step in steps {
            let out = self.fb(&["exec", self.runbook, step]);
            let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert_eq!(out.status.code(), Some(0), "{step}: again:\n{said}");
            assert!(
                said.contains("already applied; nothing to change"),
                "{step}: again:\n{said}"
            );
        }
        let after: Vec<String> = files.iter().map(|f| self.read(f)).collect();
        assert_eq!(before, after, "repeating the edits changed a file");
    }

    fn mode(&self, path: &str) -> u32 {
        std::fs::metadata(self.boxdir().join(path)).unwrap().mode() & 0o7777
    }

    /// A step's log, kept here (its output came back over the link).
    fn log(&self, step: &str) -> String {
        std::fs::read_to_string(
            self.state()
                .join("logs")
                .join(format!("{}@{TARGET}", self.runbook))
                .join(format!("{step}.1.log")),
        )
        .unwrap_or_else(|e| panic!("{step}'s log: {e}"))
    }

    /// Says how long the walk took and how each step `auto` left was done, and checks those
    /// counts (way: count) against the file's comment.
    fn report(&self, took: Duration, want: &[(&str, usize)]) {
        let mut ways: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, way) in &self.by_hand {
            *ways.entry(way).or_default() += 1;
        }
        eprintln!(
            "{}: walked in {:.1} s; not by auto: {ways:?}; steps: {:?}",
            self.runbook,
            took.as_secs_f64(),
            self.by_hand
        );
        let want: BTreeMap<&str, usize> = want.iter().copied().collect();
        assert_eq!(ways, want, "{}", self.runbook);
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The subnet calculator opened from a tool step: `network` typed in, Esc: the step is done
/// with that network.
fn subnet_tool(app: &mut App, network: &str) {
    app.send(b"r");
    app.wait_for("Calculator: address and mask");
    app.send(b"\r");
    app.wait_for("Address");
    app.send(network.as_bytes());
    app.wait_for("Broadcast");
    app.send(b"\x1b");
    app.wait_for(&format!("Step done: {network}"));
}

/// The three walks at once, each on its own box and thread (the harness runs only as many
/// tests at a time as there are cores, and most of a walk is waiting on ssh and the pty). A
/// walk that fails is named; its panic message says where.
#[test]
fn the_three_runbooks_walk_over_host() {
    let walks: [(&str, fn()); 3] = [
        ("clearos-install", clearos_install_walks_over_host),
        ("xen4-migration", xen4_migration_walks_over_host),
        ("gentoo-world-update", gentoo_world_update_walks_over_host),
    ];
    let failed: Vec<&str> = std::thread::scope(|scope| {
        let running: Vec<_> = walks
            .iter()
            .map(|(name, walk)| {
                let handle = std::thread::Builder::new()
                    .name((*name).to_string())
                    .spawn_scoped(scope, walk)
                    .unwrap();
                (*name, handle)
            })
            .collect();
        running
            .into_iter()
            .filter_map(|(name, handle)| handle.join().is_err().then_some(name))
            .collect()
    });
    assert!(failed.is_empty(), "these walks failed: {failed:?}");
}

/// The ClearOS router checklist on a ClearOS-shaped box that is a Xen guest (/proc/xen is
/// there, so the securetty step applies). net-snmp is installed already: its step's check says
/// so in the app, which offers to mark it done, and yum is never run for it.
/// Not needed: none.
fn clearos_install_walks_over_host() {
    let Some(mut w) = Walk::new(
        "clearos_install_walks_over_host",
        "clearos",
        "clearos-install",
    ) else {
        return;
    };
    let started = Instant::now();
    w.vars = strings(&[
        "lan_ip=192.168.1.1",
        "allowed_subnet=192.168.1.0/24",
        "snmp_community=w4lk3rs",
        "snmp_location=Rack 4, Server Room",
        "snmp_contact=noc@example.net",
    ]);
    let tool = |_: &Walk, step: &StepInfo, app: &mut App| match step.id.as_str() {
        "snmp-subnet" => subnet_tool(app, "192.168.1.0/24"),
        "prune-services" => {
            app.send(b"r");
            app.wait_for("avahi-dnsconfd");
            app.wait_for("on root@127.0.0.1");
            app.send(b"v");
            app.wait_for("Chose the runbook's advice");
            app.send(b"a");
            app.wait_for("command(s)?");
            app.send(b"y");
            app.wait_for("took effect");
        }
        "snort-rules" => {
            app.send(b"r");
            app.wait_for("web-misc.rules:2");
            app.send(b" a");
            app.wait_for("Apply this change?");
            app.send(b"y");
            app.wait_for("Edited 1 file(s), backups kept");
        }
        other => panic!("unexpected tool step {other}"),
    };
    let answer = |step: &str| match step {
        "install-net-snmp" => ("looks already done", "y"),
        _ => ("Is this ok [y/N]:", "y\r"),
    };
    w.walk(&tool, &answer);
    w.report(
        started.elapsed(),
        &[(MANUAL, 9), (INTERACTIVE, 10), (CHECKED, 1), (TOOL, 3)],
    );
    w.assert_walked(&[]);
    // Every tool ran inside the box, through ssh, in the runbook's order; net-snmp's check
    // said it is installed, so yum never ran for it.
    let mut want: Vec<String> = vec!["/usr/bin/yum update".into()];
    for p in ["screen", "lynx", "links", "nmap"] {
        want.push(format!("/bin/rpm -q {p}"));
        want.push(format!("/usr/bin/yum install {p}"));
    }
    want.push("/usr/bin/yum groupinstall Development Tools".into());
    for p in ["ncurses-devel", "kernel-devel"] {
        want.push(format!("/bin/rpm -q {p}"));
        want.push(format!("/usr/bin/yum install {p}"));
    }
    want.extend(strings(&[
        "/bin/rpm -q net-snmp",
        "/bin/rpm -q wpa_supplicant",
        "/usr/bin/yum install wpa_supplicant",
        "/sbin/sysctl -w net.ipv4.tcp_max_syn_backlog=3096",
        "/sbin/sysctl -w net.ipv4.tcp_syn_retries=2",
        "/sbin/sysctl -w net.ipv4.tcp_synack_retries=1",
        "/sbin/sysctl -w net.ipv4.tcp_syncookies=1",
        // auto runs the interactive step's check first (not done: it stops for the app),
        // then the app runs it again before it hands over the terminal.
        "/bin/rpm -q gamin-python",
        "/bin/rpm -q gamin-python",
        "/usr/bin/yum install gamin-python",
        "/usr/bin/wget -O /root/fail2ban-0.8.1-1.el5.rf.noarch.rpm \
         http://rpmforge.sw.be/redhat/el5/en/i386/rpmforge/RPMS/fail2ban-0.8.1-1.el5.rf.noarch.rpm",
        "/bin/rpm -q fail2ban",
        "/bin/rpm -iv /root/fail2ban-0.8.1-1.el5.rf.noarch.rpm",
        "/sbin/service fail2ban start",
        "/sbin/chkconfig --level 2345 fail2ban on",
        "/usr/bin/fail2ban-client status",
        "/usr/bin/yum clean all",
        "/sbin/chkconfig --list",
    ]));
    for s in [
        "avahi-daemon",
        "haldaemon",
        "iscsid",
        "kudzu",
        "lvm2-monitor",
        "messagebus",
        "netfs",
    ] {
        want.push(format!("/sbin/chkconfig --level 2345 {s} off"));
    }
    want.extend(strings(&[
        "/sbin/chkconfig --level 2345 snmpd on",
        "/sbin/chkconfig --list",
        "/sbin/chkconfig --level 2345 snmpd on",
        "/sbin/service snmpd start",
        "/usr/bin/snmpwalk -v2c -c w4lk3rs localhost system",
        "/usr/bin/updatedb",
        "/sbin/telinit q",
        "/etc/init.d/snort restart",
    ]));
    assert_eq!(w.stub_calls(), want);
    // What the programs did in the box, and their output back here.
    assert_eq!(w.read("proc/sys/net/ipv4/tcp_syncookies"), "1\n");
    assert_eq!(w.read("proc/sys/net/ipv4/tcp_max_syn_backlog"), "3096\n");
    let chkconfig = w.read("var/lib/walk/chkconfig.list");
    for (service, levels) in [
        ("avahi-daemon", "2:off\t3:off\t4:off\t5:off"),
        ("snmpd", "2:on\t3:on\t4:on\t5:on"),
        ("fail2ban", "2:on\t3:on\t4:on\t5:on"),
    ] {
        assert!(
            chkconfig
                .lines()
                .any(|l| l.starts_with(service) && l.contains(levels)),
            "{service}: {chkconfig}"
        );
    }
    // snmpwalk answers only for the community snmpd.conf (edited in the box) lets read.
    assert!(
        w.log("snmpd-start")
            .contains("sysLocation.0 = STRING: Rack 4, Server Room"),
        "{}",
        w.log("snmpd-start")
    );
    // The edits, in the box's files.
    let snmpd = w.read("etc/snmp/snmpd.conf");
    assert!(
        snmpd.starts_with(&Walk::original("etc/snmp/snmpd.conf")),
        "{snmpd}"
    );
    for line in [
        "# BEGIN fieldbook snmp-monitoring",
        "rocommunity  w4lk3rs localhost",
        "syslocation  \"Rack 4, Server Room\"",
        "syscontact  noc@example.net",
        "com2sec local    192.168.1.0/24  w4lk3rs",
        "# END fieldbook snmp-monitoring",
    ] {
        assert!(snmpd.lines().any(|l| l == line), "{line}: {snmpd}");
    }
    assert_eq!(w.mode("etc/snmp/snmpd.conf"), 0o600);
    let firewall = w.read("etc/rc.d/rc.firewall.local");
    assert!(
        firewall.contains("echo 1 > /proc/sys/net/ipv4/tcp_syncookies\n"),
        "{firewall}"
    );
    assert_eq!(w.mode("etc/rc.d/rc.firewall.local"), 0o750);
    assert_eq!(w.mode("etc/cron.daily/mlocate.cron"), 0o644);
    assert_eq!(w.mode("usr/sbin/snortreport.sh"), 0o644);
    let inittab = w.read("etc/inittab");
    assert_eq!(
        inittab,
        Walk::original("etc/inittab")
            .replace(
                "\n1:2345:respawn:/sbin/mingetty --autologin=clearconsole tty1\n",
                "\n#1:2345:respawn:/sbin/mingetty --autologin=clearconsole tty1\n"
            )
            .replace(
                "\n2:2345:respawn:/sbin/mingetty tty2",
                "\n2:2345:respawn:/sbin/mingetty tty2\n1:2345:respawn:/sbin/mingetty tty1"
            )
            .trim_end()
            .to_string()
            + "\n",
        "inittab"
    );
    assert!(w.read("etc/securetty").ends_with("\nttyS0\n"));
    let rules = w.read("var/lib/suva/services/intrusion-protection/rules/web-misc.rules");
    assert!(
        rules.contains(
            "\n#alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS (msg:\"WEB-MISC long"
        ),
        "{rules}"
    );
    // The originals are kept on the box too, for someone there without the laptop.
    let archive = w
        .dir
        .path()
        .join("remote/archive/edits/clearos-install@127.0.0.1");
    assert!(archive.is_dir(), "no archive on the host");
    w.assert_edits_idempotent(
        &["snmpd-conf", "inittab-console"],
        &["etc/snmp/snmpd.conf", "etc/inittab"],
    );
}

/// The Xen 4 migration on a Gentoo dom0-shaped box with OpenRC (/etc/rc.conf) and iproute2
/// (/sbin/ip): the baselayout-1 step and the ifconfig check are not needed there.
fn xen4_migration_walks_over_host() {
    let Some(mut w) = Walk::new("xen4_migration_walks_over_host", "xen", "xen4-migration") else {
        return;
    };
    let started = Instant::now();
    w.vars = strings(&[
        "int_if=eth1",
        "int_address=192.168.10.2/24",
        "gateway=192.168.10.1",
        "vm_config=/etc/xen/router.cfg",
        "vm_mac=00:16:3e:00:00:01",
        "vm_bridge=extbr0",
        "clearos_vm_line=serial = 'pty'",
        "guest_inittab=/guest/etc/inittab",
        "guest_securetty=/guest/etc/securetty",
        "grub_root=(hd0,0)",
        "dom0_kernel=vmlinuz-2.6.18-xen-r12",
        "dom0_root=/dev/sda3",
        "udev_mask_line=>=sys-fs/udev-146",
    ]);
    let tool = |_: &Walk, step: &StepInfo, app: &mut App| match step.id.as_str() {
        "subnet" => subnet_tool(app, "192.168.10.0/24"),
        "runlevels" => {
            // The listing, read in the box: both bridges in default, the ports out. Nothing
            // is left to change, so the step is marked done with that as the reason.
            app.send(b"r");
            app.wait_for("net.xenbr0");
            app.wait_for("on root@127.0.0.1");
            app.send(b"q");
            app.wait_for("d:done  s:skip  n:note");
            app.send(b"d");
            app.wait_for("Why mark it done?");
            app.send(b"read in the runlevels screen: both bridges in default, eth0/eth1 out\r");
        }
        other => panic!("unexpected tool step {other}"),
    };
    let answer = |_: &str| ("[Yes/No]", "Yes\r");
    w.walk(&tool, &answer);
    w.report(
        started.elapsed(),
        &[(MANUAL, 10), (INTERACTIVE, 2), (TOOL, 2), (EXEC_YES, 2)],
    );
    w.assert_walked(&["rc-plug", "verify-address-ifconfig"]);
    assert_eq!(
        w.stub_calls(),
        strings(&[
            "/usr/bin/emerge --sync",
            "/usr/bin/emerge --update --deep --newuse world --ask",
            "/sbin/rc-update del net.eth0 default",
            "/sbin/rc-update del net.eth1 default",
            "/sbin/rc-update add net.extbr0 default",
            "/sbin/rc-update add net.xenbr0 default",
            "/sbin/rc-update -v show",
            "/sbin/brctl show",
            "/sbin/ip addr show xenbr0",
            "/bin/ping -c 3 -I xenbr0 192.168.10.1",
            "/usr/bin/emerge --ask --oneshot sys-fs/udev",
        ])
    );
    // The long step ran under the supervisor, inside the box.
    let sync = w.log("sync");
    assert!(
        sync.contains("chroot ") && sync.contains(" emerge --sync"),
        "{sync}"
    );
    // The runlevels, as links in the box.
    let default: Vec<String> = {
        let mut v: Vec<String> = std::fs::read_dir(w.boxdir().join("etc/runlevels/default"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        default,
        strings(&["local", "net.extbr0", "net.xenbr0", "netmount", "sshd"])
    );
    for bridge in ["extbr0", "xenbr0"] {
        let link = w.boxdir().join(format!("etc/init.d/net.{bridge}"));
        assert_eq!(std::fs::read_link(&link).unwrap(), PathBuf::from("net.lo"));
    }
    // The edits.
    let keywords = w.read("etc/portage/package.keywords");
    for atom in [
        "app-emulation/xen",
        "app-emulation/xen-tools",
        "sys-kernel/xen-sources",
    ] {
        assert_eq!(
            keywords.lines().filter(|l| *l == atom).count(),
            1,
            "{keywords}"
        );
    }
    let make = w.read("etc/portage/make.conf");
    assert!(make.contains(" acm flask xsm pae xen pygrub\"\n"), "{make}");
    assert!(
        make.contains("FEATURES=\"parallel-fetch -collision-protect -protect-owned\"\n"),
        "{make}"
    );
    assert_eq!(w.mode("etc/portage/make.conf"), 0o640);
    let grub = w.read("boot/grub/grub.conf");
    assert!(
        grub.ends_with(
            "# BEGIN fieldbook xen4-entry\ntitle Xen 4 / Linux vmlinuz-2.6.18-xen-r12\n\
             root (hd0,0)\nkernel /xen.gz\nmodule /vmlinuz-2.6.18-xen-r12 root=/dev/sda3 ro\n\
             # END fieldbook xen4-entry\n"
        ),
        "{grub}"
    );
    assert!(w.read("etc/rc.conf").ends_with("\nrc_hotplug=\"!net.*\"\n"));
    assert_eq!(w.read("etc/conf.d/rc"), Walk::original("etc/conf.d/rc"));
    let net = w.read("etc/conf.d/net");
    for line in [
        "config_eth0=(\"null\")",
        "bridge_extbr0=\"eth0\"",
        "bridge_xenbr0=\"eth1\"",
        "config_xenbr0=(\"192.168.10.2/24\")",
        "routes_xenbr0=(\"default via 192.168.10.1\")",
    ] {
        assert!(net.lines().any(|l| l == line), "{line}: {net}");
    }
    let xend = w.read("etc/xen/xend-config.sxp");
    assert!(
        !xend
            .lines()
            .any(|l| l.trim_start().starts_with("(network-script")),
        "{xend}"
    );
    assert!(
        xend.contains("\n#(network-script network-bridge)\n"),
        "{xend}"
    );
    assert!(xend.contains("\n#(vif-script vif-bridge)\n"), "{xend}");
    assert!(
        xend.ends_with("\n(vif-script vif-bridge bridge=xenbr0)\n"),
        "{xend}"
    );
    let guest = w.read("etc/xen/router.cfg");
    assert!(
        guest.contains("vif = [ 'mac=00:16:3e:00:00:01,bridge=extbr0' ]\n"),
        "{guest}"
    );
    assert!(
        guest.contains("extra = \"xencons=tty console=tty1\"\n"),
        "{guest}"
    );
    assert!(guest.ends_with("\nserial = 'pty'\n"), "{guest}");
    assert!(
        w.read("guest/etc/inittab")
            .ends_with("\ns0:12345:respawn:/sbin/mingetty ttyS0\n")
    );
    assert!(w.read("guest/etc/securetty").ends_with("\nttyS0\n"));
    assert_eq!(w.read("etc/portage/package.mask"), ">=sys-fs/udev-146\n");
    w.assert_edits_idempotent(
        &[
            "keywords",
            "xend-config",
            "vm-vif",
            "gentoo-guest-console",
            "clearos-guest-config",
        ],
        &[
            "etc/portage/package.keywords",
            "etc/xen/xend-config.sxp",
            "etc/xen/router.cfg",
        ],
    );
}

/// The Gentoo world update on a Gentoo-shaped box, left unattended (--keep-going), with a
/// fragile package kept, perl upgraded, the collision words added and taken out again, and a
/// second world update; the CFLAGS fallback and the blocked-packages step are answered no.
fn gentoo_world_update_walks_over_host() {
    let Some(mut w) = Walk::new(
        "gentoo_world_update_walks_over_host",
        "gentoo",
        "gentoo-world-update",
    ) else {
        return;
    };
    let started = Instant::now();
    w.vars = strings(&["fragile_atom=x11-drivers/ati-drivers", "unattended=yes"]);
    w.answers = strings(&[
        "fragile-atom=yes",
        "quickpkg=yes",
        "cflags-fallback=no",
        "blocked=no",
        "collision-form=yes",
        "collision-protect=yes",
        "perl-cleaner=yes",
        "world-again=yes",
        "collision-restore=yes",
    ]);
    let tool = |_: &Walk, step: &StepInfo, app: &mut App| match step.id.as_str() {
        "gcc-config" => {
            app.send(b"r");
            app.wait_for("x86_64-pc-linux-gnu-4.3.4");
            app.wait_for("on root@127.0.0.1");
            app.send(b"a");
            app.wait_for("Run 2 command(s)?");
            app.send(b"y");
        }
        other => panic!("unexpected tool step {other}"),
    };
    let answer = |step: &str| match step {
        "etc-update" => ("(-9 to discard all updates", "-5\r"),
        _ => ("[Yes/No]", "Yes\r"),
    };
    w.walk(&tool, &answer);
    w.report(
        started.elapsed(),
        &[(MANUAL, 4), (INTERACTIVE, 3), (TOOL, 1), (EXEC_YES, 1)],
    );
    w.assert_walked(&["cflags-fallback", "blocked"]);
    assert_eq!(
        w.stub_calls(),
        strings(&[
            "/usr/bin/quickpkg x11-drivers/ati-drivers",
            "/usr/bin/emerge --sync",
            "/usr/bin/emerge portage",
            "/usr/bin/emerge --update gcc glibc",
            "/usr/bin/gcc-config -l",
            "/usr/bin/gcc-config 2",
            "/usr/sbin/env-update",
            "/usr/bin/gcc-config -l",
            "/usr/bin/emerge screen",
            "/usr/bin/emerge --pretend --update --newuse --deep world",
            "/usr/bin/emerge --update --newuse --deep world --keep-going",
            "/usr/sbin/revdep-rebuild",
            "/usr/sbin/python-updater",
            "/usr/sbin/perl-cleaner all",
            "/usr/bin/emerge lafilefixer",
            "/usr/bin/lafilefixer --justfixit",
            "/usr/sbin/revdep-rebuild",
            "/usr/bin/emerge --update --newuse --deep world --ask",
            "/usr/bin/emerge --depclean --pretend",
            "/usr/bin/emerge --depclean --deep --ask",
            "/usr/sbin/etc-update",
        ])
    );
    // The world update ran under the remote supervisor, inside the box.
    let world = w.log("world");
    assert!(
        world.contains("chroot ")
            && world.contains(" emerge --update --newuse --deep world --keep-going"),
        "{world}"
    );
    // What the programs changed in the box.
    assert_eq!(
        w.read("etc/env.d/gcc/config-x86_64-pc-linux-gnu"),
        "CURRENT=x86_64-pc-linux-gnu-4.3.4\n"
    );
    assert!(w.read("etc/profile.env").contains("/gcc-bin/4.3.4'"));
    for installed in ["usr/bin/screen", "usr/bin/lafilefixer"] {
        assert!(w.boxdir().join(installed).is_file(), "{installed}");
    }
    assert_eq!(
        w.read("etc/ssh/sshd_config"),
        "Port 22\nPermitRootLogin prohibit-password\n"
    );
    // The collision words went into make.conf and came out again: the file is as it was, and
    // the backup taken before they came out has them.
    assert_eq!(
        w.read("etc/portage/make.conf"),
        Walk::original("etc/portage/make.conf")
    );
    let archive = w
        .state()
        .join("archive/edits/gentoo-world-update@127.0.0.1");
    let mut backups = Vec::new();
    for run in std::fs::read_dir(&archive).unwrap() {
        let b = run.unwrap().path().join("etc/portage/make.conf,2");
        if b.is_file() {
            backups.push(std::fs::read_to_string(b).unwrap());
        }
    }
    assert!(
        backups
            .iter()
            .any(|b| b.contains("FEATURES=\"parallel-fetch -collision-protect -protect-owned\"\n")),
        "{backups:?}"
    );
}

/// A long step over `--host` with `--root` runs its programs inside the chroot on the host,
/// as every other command there does: the remote supervisor once ran `emerge --sync` on the
/// host itself (where no emerge is: exit 127), never in the box.
#[test]
fn a_long_step_over_host_with_root_runs_inside_the_chroot() {
    let Some(w) = Walk::new(
        "a_long_step_over_host_with_root_runs_inside_the_chroot",
        "gentoo",
        "gentoo-world-update",
    ) else {
        return;
    };
    let out = w.fb(&["exec", "gentoo-world-update", "sync", "--force", "--yes"]);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert_eq!(
        w.stub_calls(),
        strings(&["/usr/bin/emerge --sync"]),
        "{said}"
    );
    assert!(w.log("sync").contains("emerge --sync"));
}
