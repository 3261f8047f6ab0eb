//! The runner against the stub tools: exact argv, hostile values, escape filtering, volume,
//! cancel, missing programs, multi-command failure, scripts and checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fieldbook::core::progress::{Exit, Status};
use fieldbook::core::runbook::{Program, RunSpec};
use fieldbook::core::runner::{
    self, CheckResult, Command, RunEvent, RunOptions, RunOutcome, StepJob,
};
use fieldbook::core::terminal_text::{StyledLine, TextColor};

fn stubs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stubs")
}

/// The environment every stubbed command gets: stubs first on PATH, argv recorded to `log`.
fn stub_env(log: &Path, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let path = format!(
        "{}:{}",
        stubs().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env = vec![
        ("PATH".to_string(), path),
        ("STUB_LOG".to_string(), log.display().to_string()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

fn job(argvs: &[&[&str]], env: &[(String, String)]) -> StepJob {
    StepJob {
        commands: argvs
            .iter()
            .map(|a| Command {
                argv: a.iter().map(|s| s.to_string()).collect(),
                env: env.to_vec(),
            })
            .collect(),
        expect: vec![0],
        ok_output: vec![],
        shows: Vec::new(),
    }
}

/// Records of the stub log: one Vec of argv per invocation.
fn recorded(log: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(log).unwrap_or_default();
    bytes
        .split(|&b| b == 0x1e)
        .map(|r| r.strip_prefix(b"\n").unwrap_or(r))
        .filter(|r| !r.is_empty())
        .map(|r| {
            r.split(|&b| b == 0x1f)
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect()
        })
        .collect()
}

struct Collected {
    lines: Vec<StyledLine>,
    notices: Vec<String>,
    outcome: RunOutcome,
}

fn collect(running: runner::RunningStep) -> Collected {
    let mut lines = Vec::new();
    let mut notices = Vec::new();
    loop {
        match running
            .events
            .recv_timeout(Duration::from_secs(60))
            .expect("runner went silent")
        {
            RunEvent::Output { lines: l, .. } => lines.extend(l),
            RunEvent::Notice(n) => notices.push(n),
            RunEvent::Started { .. } => {}
            RunEvent::Finished(outcome) => {
                return Collected {
                    lines,
                    notices,
                    outcome,
                };
            }
        }
    }
}

fn fast() -> RunOptions {
    RunOptions {
        cancel_grace: (Duration::from_millis(300), Duration::from_millis(300)),
        drain_after_exit: Duration::from_millis(500),
        ..RunOptions::default()
    }
}

#[test]
fn each_program_gets_exactly_its_argv() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("argv");
    let env = stub_env(&rec, &[]);
    let j = job(
        &[
            &["yum", "-y", "update"],
            &["yum", "clean", "all"],
            &["emerge", "--sync"],
            &["revdep-rebuild"],
            &["python-updater"],
            &["perl-cleaner", "--all"],
            &["lafilefixer", "--justfixit"],
            &["quickpkg", "app-misc/hello"],
            &["etc-update", "--automode", "-5"],
        ],
        &env,
    );
    let c = collect(runner::start(j, dir.path().join("a.log"), fast()));
    assert_eq!(c.outcome.status, Status::Done, "{:?}", c.notices);
    let want: Vec<Vec<String>> = [
        &["yum", "-y", "update"][..],
        &["yum", "clean", "all"],
        &["emerge", "--sync"],
        &["revdep-rebuild"],
        &["python-updater"],
        &["perl-cleaner", "--all"],
        &["lafilefixer", "--justfixit"],
        &["quickpkg", "app-misc/hello"],
        &["etc-update", "--automode", "-5"],
    ]
    .iter()
    .map(|a| a.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(recorded(&rec), want);
    let text: Vec<String> = c.lines.iter().map(StyledLine::text).collect();
    assert!(text.iter().any(|l| l == "Complete!"));
    assert!(
        text.iter()
            .any(|l| l.contains("Building package for app-misc/hello-1.1"))
    );
}

#[test]
fn a_hostile_value_is_one_literal_argument() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("argv");
    let hostile = "; rm -rf / $(reboot) \"quoted\" 'single'";
    let spec = RunSpec {
        programs: vec![Program::Argv(vec![
            "emerge".into(),
            "--oneshot".into(),
            "{atom}".into(),
            "pre-{atom}-post".into(),
        ])],
        expect: vec![],
        ok_output: vec![],
        shows: Vec::new(),
        check: None,
        interactive: false,
        long: false,
        resume: None,
        practice: None,
    };
    let values = BTreeMap::from([("atom".to_string(), hostile.to_string())]);
    let mut j = StepJob::from_spec(&spec, &values);
    j.commands[0].env = stub_env(&rec, &[]);
    let c = collect(runner::start(j, dir.path().join("a.log"), fast()));
    assert_eq!(c.outcome.status, Status::Done);
    assert_eq!(
        recorded(&rec),
        vec![vec![
            "emerge".to_string(),
            "--oneshot".to_string(),
            hostile.to_string(),
            format!("pre-{hostile}-post"),
        ]]
    );
}

#[test]
fn a_script_gets_values_as_environment_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spec = RunSpec {
        programs: vec![Program::Script {
            shell: "/bin/sh".into(),
            script: "printf '%s' \"$FB_atom\" > \"$FB_out\"".into(),
        }],
        expect: vec![],
        ok_output: vec![],
        shows: Vec::new(),
        check: None,
        interactive: false,
        long: false,
        resume: None,
        practice: None,
    };
    let hostile = "$(touch /tmp/fb-pwned) `id` ;";
    let values = BTreeMap::from([
        ("atom".to_string(), hostile.to_string()),
        ("out".to_string(), out.display().to_string()),
    ]);
    let j = StepJob::from_spec(&spec, &values);
    let c = collect(runner::start(j, dir.path().join("a.log"), fast()));
    assert_eq!(c.outcome.status, Status::Done);
    assert_eq!(std::fs::read_to_string(out).unwrap(), hostile);
}

#[test]
fn escapes_never_come_through_and_colours_do() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    let env = stub_env(&dir.path().join("argv"), &[]);
    let c = collect(runner::start(
        job(&[&["fb-hostile"]], &env),
        log.clone(),
        fast(),
    ));
    assert_eq!(c.outcome.status, Status::Done);
    let text: Vec<String> = c.lines.iter().map(StyledLine::text).collect();
    for line in &text {
        assert!(!line.chars().any(char::is_control), "control in {line:?}");
        assert!(!line.contains("PWNED"), "title text shown: {line:?}");
        assert!(!line.contains("DCS-BODY"), "DCS body shown: {line:?}");
    }
    assert_eq!(text[0], " * green star");
    let star = c.lines[0].spans().find(|s| s.text == "*").unwrap();
    assert_eq!(star.style.fg, Some(TextColor::Indexed(2)));
    assert!(star.style.bold);
    assert!(text.contains(&"beforeafter-move".to_string()));
    assert!(text.contains(&"title-gone".to_string()));
    assert!(text.contains(&"dcs-gone".to_string()));
    assert!(text.contains(&"c1:<9B>2Jend".to_string()));
    assert!(text.contains(&"nul:^@bel:^Gdel:^?".to_string()));
    assert_eq!(
        text.iter()
            .filter(|l| l.contains("progress"))
            .collect::<Vec<_>>(),
        vec!["progress 100%"]
    );
    // The log keeps the raw bytes.
    let raw = std::fs::read(&log).unwrap();
    assert!(raw.windows(3).any(|w| w == b"\x1b]0"));
}

#[test]
fn a_flood_is_complete_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flood.log");
    let env = stub_env(&dir.path().join("argv"), &[("STUB_LINES", "200000")]);
    let c = collect(runner::start(
        job(&[&["fb-flood"]], &env),
        log.clone(),
        fast(),
    ));
    assert_eq!(c.outcome.status, Status::Done);
    assert_eq!(c.lines.len(), 200_000);
    assert_eq!(c.lines[199_999].text(), "line 200000 of the flood");
    let raw = std::fs::read_to_string(&log).unwrap();
    assert_eq!(raw.lines().count(), 200_000);
    assert_eq!(raw.lines().last(), Some("line 200000 of the flood"));
}

fn pid_alive(pid: i32) -> bool {
    // A zombie still answers kill(0); read its state instead.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn cancel_ends_a_program_that_ignores_sigint_and_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let env = stub_env(
        &dir.path().join("argv"),
        &[
            ("STUB_PIDS", pids.to_str().unwrap()),
            ("STUB_IGNORE_TERM", "1"),
        ],
    );
    let running = runner::start(
        job(&[&["fb-stubborn"]], &env),
        dir.path().join("a.log"),
        fast(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pids.exists() || std::fs::read_to_string(&pids).unwrap().trim().is_empty() {
        assert!(Instant::now() < deadline, "stub never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = std::fs::read_to_string(&pids).unwrap();
    let ids: Vec<i32> = started
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    running.cancel.cancel();
    let c = collect(running);
    assert_eq!(c.outcome.status, Status::Cancelled);
    assert_eq!(c.outcome.exit, Some(Exit::Signal(9)));
    let deadline = Instant::now() + Duration::from_secs(10);
    while ids.iter().any(|&p| pid_alive(p)) {
        assert!(Instant::now() < deadline, "process group survived cancel");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_missing_program_names_itself_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![(
        "PATH".to_string(),
        "/nonexistent/sbin:/nonexistent/bin".to_string(),
    )];
    let c = collect(runner::start(
        job(&[&["yum", "-y", "update"]], &env),
        dir.path().join("a.log"),
        fast(),
    ));
    assert_eq!(c.outcome.status, Status::Failed);
    assert_eq!(c.outcome.failed_program, Some(0));
    let m = &c.outcome.message;
    assert!(m.contains("'yum' was not found"), "{m}");
    assert!(m.contains("/nonexistent/sbin:/nonexistent/bin"), "{m}");
    assert!(m.contains("--practice"), "{m}");
}

#[test]
fn a_multi_command_step_stops_at_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("argv");
    let env = stub_env(&rec, &[]);
    let mut j = job(
        &[
            &["yum", "clean", "all"],
            &["yum", "bogus"],
            &["emerge", "--sync"],
        ],
        &env,
    );
    j.commands[1].env.push(("STUB_EXIT".into(), "3".into()));
    let c = collect(runner::start(j, dir.path().join("a.log"), fast()));
    assert_eq!(c.outcome.status, Status::Failed);
    assert_eq!(c.outcome.failed_program, Some(1));
    assert_eq!(c.outcome.exit, Some(Exit::Code(3)));
    assert!(
        c.outcome.message.contains("command 2 of 3"),
        "{}",
        c.outcome.message
    );
    assert_eq!(recorded(&rec).len(), 2, "the third program must not run");
}

#[test]
fn expected_codes_and_ok_output_count_as_success() {
    let dir = tempfile::tempdir().unwrap();
    let env = stub_env(&dir.path().join("argv"), &[]);
    let mut j = job(&[&["yum", "--enablerepo=updates", "check-update"]], &env);
    j.expect = vec![0, 100];
    let c = collect(runner::start(j, dir.path().join("a.log"), fast()));
    assert_eq!(c.outcome.status, Status::Done);
    assert_eq!(c.outcome.exit, Some(Exit::Code(100)));

    let mut j = job(
        &[&[
            "sh",
            "-c",
            "echo \" * rc-update: service \\`net.eth0' is not in the runlevel \\`default'\" >&2; exit 1",
        ]],
        &[],
    );
    j.ok_output = vec!["is not in the runlevel".into()];
    let c = collect(runner::start(j, dir.path().join("b.log"), fast()));
    assert_eq!(c.outcome.status, Status::Done, "{:?}", c.outcome);
}

#[test]
fn check_commands() {
    let ok = Command {
        argv: vec!["true".into()],
        env: vec![],
    };
    let no = Command {
        argv: vec!["false".into()],
        env: vec![],
    };
    let gone = Command {
        argv: vec!["no-such-program-xyz".into()],
        env: vec![],
    };
    assert_eq!(
        runner::run_check(&ok, Duration::from_secs(30)),
        CheckResult::AlreadyDone
    );
    assert_eq!(
        runner::run_check(&no, Duration::from_secs(30)),
        CheckResult::NotDone
    );
    assert!(matches!(
        runner::run_check(&gone, Duration::from_secs(30)),
        CheckResult::Unknown(_)
    ));
}
