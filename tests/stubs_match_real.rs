//! The chkconfig and rc-update stubs replay the real tools' recorded transcripts
//! (tests/fixtures/real-output/) byte for byte: stdout, stderr and exit status of every
//! command, in order, starting from the recorded initial state.

use std::path::Path;
use std::process::Command;

struct Run {
    argv: Vec<String>,
    stdout: String,
    stderr: String,
    exit: i32,
}

/// Splits a transcript into its `$ command` / `[stdout]` / `[stderr]` / `[exit N]` runs.
fn runs(transcript: &str) -> Vec<Run> {
    transcript
        .split("$ ")
        .filter(|b| !b.is_empty())
        .map(|block| {
            let (cmd, rest) = block.split_once("\n[stdout]\n").unwrap();
            let (stdout, rest) = rest.split_once("[stderr]\n").unwrap();
            let (stderr, rest) = rest.split_once("[exit ").unwrap();
            let exit = rest.split_once(']').unwrap().0.parse().unwrap();
            Run {
                argv: cmd.split_whitespace().map(String::from).collect(),
                stdout: stdout.to_string(),
                stderr: stderr.to_string(),
                exit,
            }
        })
        .collect()
}

fn replay(transcript: &str, initial_env: (&str, &Path), skip: &[&str]) -> usize {
    let state = tempfile::tempdir().unwrap();
    let stubs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stubs");
    let mut replayed = 0;
    for run in runs(transcript) {
        let line = run.argv.join(" ");
        if skip.contains(&line.as_str()) {
            continue;
        }
        let out = Command::new(stubs.join(&run.argv[0]))
            .args(&run.argv[1..])
            .env("STUB_STATE_DIR", state.path())
            .env(initial_env.0, initial_env.1)
            .env_remove("STUB_LOG")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            run.stdout,
            "stdout of `{line}`"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            run.stderr,
            "stderr of `{line}`"
        );
        assert_eq!(out.status.code(), Some(run.exit), "exit of `{line}`");
        replayed += 1;
    }
    replayed
}

fn first_stdout(transcript: &str, command: &str) -> String {
    runs(transcript)
        .into_iter()
        .find(|r| r.argv.join(" ") == command)
        .unwrap()
        .stdout
}

#[test]
fn chkconfig_stub_replays_the_real_transcript() {
    let t = include_str!("fixtures/real-output/chkconfig-1.3.30.2.txt");
    let dir = tempfile::tempdir().unwrap();
    let initial = dir.path().join("list");
    std::fs::write(&initial, first_stdout(t, "chkconfig --list")).unwrap();
    let n = replay(t, ("STUB_CHKCONFIG_LIST", &initial), &[]);
    assert_eq!(n, runs(t).len());
}

#[test]
fn rc_update_stub_replays_the_real_transcript() {
    let t = include_str!("fixtures/real-output/rc-update.txt");
    let dir = tempfile::tempdir().unwrap();
    let initial = dir.path().join("state");
    // The state before the recording: net.eth0 in default, net.extbr0 not yet.
    let mut state = String::from("# runlevels: boot default nonetwork shutdown sysinit\n");
    for line in first_stdout(t, "rc-update -v show").lines() {
        let (name, levels) = line.split_once('|').unwrap();
        let mut levels: Vec<&str> = levels.split_whitespace().collect();
        match name.trim() {
            "net.eth0" => levels.push("default"),
            "net.extbr0" => levels.retain(|l| *l != "default"),
            _ => {}
        }
        state.push_str(&format!("{} {}\n", name.trim(), levels.join(" ")));
    }
    std::fs::write(&initial, state).unwrap();
    // Not replayed: `add sshd` without a runlevel went to sysinit in the recording chroot (no
    // softlevel), where the stub uses default like a booted box.
    let skip = ["rc-update add sshd"];
    let n = replay(t, ("STUB_RC_STATE", &initial), &skip);
    assert_eq!(n, runs(t).len() - skip.len());
}
