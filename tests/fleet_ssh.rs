//! `fieldbook fleet` against real OpenSSH: two real `sshd` instances on loopback ports with
//! throwaway host and user keys, each giving fieldbook its own state directory (a `fieldbook`
//! wrapper first on that sshd's PATH), so they look like two machines with different progress;
//! a third sshd whose PATH has no fieldbook; and a port where nothing listens.
//!
//! Needs root (sshd) and Debian's openssh-server, which `tests/support/sshd-setup.sh` installs
//! when missing; without them the test says it skipped and why.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fieldbook::core::catalog::Catalog;
use fieldbook::core::progress::Exit;
use fieldbook::core::state_dir::StateDir;
use fieldbook::core::store::{IfCorrupt, Store};

mod common;
use common::skip::{is_root, skip};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sshd processes, ended when the test ends however it ends.
struct Daemons(Vec<Child>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn keygen(path: &Path) {
    sh(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path));
}

/// Starts one sshd on `port` whose sessions get `path` as PATH.
fn sshd(dir: &Path, name: &str, port: u16, path: &str) -> Child {
    let cfg = dir.join(format!("sshd_{name}.conf"));
    std::fs::write(
        &cfg,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/hostkey\nAuthorizedKeysFile {d}/authorized_keys\n\
             PidFile none\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nAllowTcpForwarding no\nX11Forwarding no\nLogLevel ERROR\n\
             SetEnv PATH={path}\n",
            d = dir.display()
        ),
    )
    .unwrap();
    Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_listening(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "sshd on {port} never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Progress on a "machine": runs recorded through fieldbook's own store.
fn record(
    state: &Path,
    runbook: &str,
    target: &str,
    done: &[&str],
    failed: &[&str],
    interrupted: &[&str],
) {
    let catalog = Catalog::load(None);
    let rb = &catalog.get(runbook).unwrap().runbook;
    let dir = StateDir::at(state, false);
    let mut store = Store::open(&dir, rb, target, IfCorrupt::Stop).unwrap();
    for s in done {
        store.start(s).unwrap();
        store.finish(s, Exit::Code(0), true).unwrap();
    }
    for s in failed {
        store.start(s).unwrap();
        store.finish(s, Exit::Code(1), false).unwrap();
    }
    for s in interrupted {
        store.start(s).unwrap();
        store.mark_interrupted(s, "the link dropped").unwrap();
    }
}

fn first_steps(runbook: &str, n: usize) -> Vec<String> {
    let catalog = Catalog::load(None);
    let rb = &catalog.get(runbook).unwrap().runbook;
    rb.steps().take(n).map(|(_, s)| s.id.clone()).collect()
}

#[test]
fn fleet_over_real_sshd_shows_two_machines_a_bare_host_and_an_unreachable_one() {
    const TEST: &str = "fleet_over_real_sshd_shows_two_machines_a_bare_host_and_an_unreachable_one";
    if !is_root() {
        return skip(TEST, "needs root to start sshd instances").unwrap_or(());
    }
    let setup = Command::new("sh")
        .arg(repo().join("tests/support/sshd-setup.sh"))
        .output()
        .unwrap();
    match setup.status.code() {
        Some(0) => {}
        Some(75) => {
            let why = format!(
                "openssh-server is missing and the Debian archive is unreachable: {}",
                String::from_utf8_lossy(&setup.stderr)
            );
            return skip(TEST, &why).unwrap_or(());
        }
        _ => panic!(
            "sshd setup failed: {}",
            String::from_utf8_lossy(&setup.stderr)
        ),
    }
    // sshd's privilege separation directory (made by the package's service start normally).
    std::fs::create_dir_all("/run/sshd").unwrap();

    let bin = env!("CARGO_BIN_EXE_fieldbook");
    // The remote side is fieldbook's own `status --json` (the progress store's command).
    if !Command::new(bin)
        .args(["status", "--help"])
        .output()
        .unwrap()
        .status
        .success()
    {
        let why = "this build has no `fieldbook status`, which fleet asks each host for";
        return skip(TEST, why).unwrap_or(());
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keygen(&d.join("hostkey"));
    keygen(&d.join("userkey"));
    std::fs::copy(d.join("userkey.pub"), d.join("authorized_keys")).unwrap();

    // Two "machines": a fieldbook wrapper with its own state directory first on each PATH.
    for m in ["alpha", "beta"] {
        std::fs::create_dir_all(d.join(m).join("bin")).unwrap();
        let wrapper = d.join(m).join("bin/fieldbook");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec '{bin}' --state-dir '{}' \"$@\"\n",
                d.join(m).join("state").display()
            ),
        )
        .unwrap();
        sh(Command::new("chmod").arg("755").arg(&wrapper));
    }
    let xen = first_steps("xen4-migration", 4);
    record(
        &d.join("alpha/state"),
        "xen4-migration",
        "alpha",
        &[&xen[0], &xen[1]],
        &[&xen[2]],
        &[],
    );
    let gentoo = first_steps("gentoo-world-update", 3);
    record(
        &d.join("beta/state"),
        "gentoo-world-update",
        "beta",
        &[&gentoo[0]],
        &[],
        &[&gentoo[1]],
    );

    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let daemons = Daemons(vec![
        sshd(
            d,
            "alpha",
            ports[0],
            &format!("{}:/usr/bin:/bin", d.join("alpha/bin").display()),
        ),
        sshd(
            d,
            "beta",
            ports[1],
            &format!("{}:/usr/bin:/bin", d.join("beta/bin").display()),
        ),
        sshd(d, "gamma", ports[2], "/usr/bin:/bin"),
    ]);
    for p in &ports[..3] {
        wait_listening(*p);
    }
    let host_pub = std::fs::read_to_string(d.join("hostkey.pub")).unwrap();
    let host_pub: Vec<&str> = host_pub.split_whitespace().take(2).collect();
    let known: String = ports
        .iter()
        .map(|p| format!("[127.0.0.1]:{p} {}\n", host_pub.join(" ")))
        .collect();
    std::fs::write(d.join("known_hosts"), known).unwrap();
    let mut cfg = String::new();
    for (name, port) in ["alpha", "beta", "gamma", "down"].iter().zip(&ports) {
        cfg.push_str(&format!(
            "Host {name}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {d}/userkey\n  IdentitiesOnly yes\n  \
             UserKnownHostsFile {d}/known_hosts\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n",
            d = d.display()
        ));
    }
    std::fs::write(d.join("ssh_config"), cfg).unwrap();
    let hosts_file = d.join("hosts");
    std::fs::write(
        &hosts_file,
        "# the fleet\nbeta\ngamma\ndown  # powered off\n",
    )
    .unwrap();

    let fleet = |extra: &[&str]| {
        let out = Command::new(bin)
            .arg("fleet")
            .args(extra)
            .arg("--ssh-arg=-F")
            .arg(format!("--ssh-arg={}", d.join("ssh_config").display()))
            .args(["--connect-timeout", "5"])
            .env_remove("FIELDBOOK_STATE_DIR")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, table, err) = fleet(&["alpha", "--hosts", hosts_file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{table}{err}");
    let line = |start: &str| {
        table
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start} line in\n{table}\n{err}"))
            .to_string()
    };
    let alpha = line("alpha ");
    assert!(
        alpha.contains("xen4-migration") && alpha.contains(" 2/") && alpha.contains(&xen[2]),
        "{table}"
    );
    let beta = line("beta ");
    assert!(
        beta.contains("gentoo-world-update") && beta.contains(" 1/") && beta.contains(&gentoo[1]),
        "{table}"
    );
    assert!(line("gamma ").contains("NO FIELDBOOK"), "{table}");
    assert!(
        line("down ").contains("UNREACHABLE") && line("down ").contains("refused"),
        "{table}"
    );
    // Hosts keep the order given (lines starting with a space continue the row above).
    let order: Vec<&str> = table
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(order, ["alpha", "beta", "gamma", "down"], "{table}");
    assert!(
        table.lines().all(|l| l.chars().count() <= 80),
        "wider than 80 columns:\n{table}"
    );

    let (code, json, _) = fleet(&["alpha", "beta", "--json"]);
    assert_eq!(code, Some(0), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["hosts"][0]["host"], "alpha");
    assert_eq!(v["hosts"][0]["state"], "ok");
    assert_eq!(v["hosts"][0]["runs"][0]["failed"][0], xen[2].as_str());
    assert_eq!(
        v["hosts"][1]["runs"][0]["interrupted"][0],
        gentoo[1].as_str()
    );
    assert!(
        v["hosts"][1]["status"]["runs"].is_array(),
        "the host's own status JSON is kept"
    );

    let (code, report, err) = fleet(&["alpha", "--report", "xen4-migration"]);
    assert_eq!(code, Some(0), "{report}{err}");
    assert!(
        report.contains("xen4-migration") && report.contains(&xen[2]),
        "{report}"
    );
    drop(daemons);
}
