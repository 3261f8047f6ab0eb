//! The runner inside the app, end to end: the real binary under a pty (`common::pty`) running
//! stub programs. Escape sequences from a child never reach the terminal, an interactive child
//! gets the terminal, a long step survives `kill -9` of the app and is re-attached, and a
//! hang-up ends a short step's process group and restores the terminal while a long step
//! keeps running and is re-attached.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::pty::{App, Spawn};
use fieldbook::core::progress::{Exit, Status};
use fieldbook::core::state_dir::{self, StateDir};

/// Fails the test when the bytes the terminal got contain `seq`.
fn assert_absent(raw: &[u8], what: &str, seq: &[u8]) {
    assert!(
        !raw.windows(seq.len()).any(|w| w == seq),
        "{what} reached the terminal"
    );
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn path_with_stubs() -> String {
    format!(
        "{}:{}",
        root().join("tests/stubs").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn spawn(state: &Path, extra: &[(&str, &str)]) -> App {
    spawn_sized(state, extra, (80, 24))
}

/// [`spawn`] on a pty that reports `pty` as its size ((0, 0) as a serial console does).
fn spawn_sized(state: &Path, extra: &[(&str, &str)], pty: (u16, u16)) -> App {
    let checklists = root().join("tests/fixtures/runbooks-pty");
    let checklists = checklists.to_str().unwrap().to_string();
    let path = path_with_stubs();
    let mut env: Vec<(&str, &str)> = vec![
        ("TERM", "vt100"),
        ("LANG", "C.UTF-8"),
        ("PATH", path.as_str()),
    ];
    env.extend_from_slice(extra);
    let args = [
        "--checklists",
        checklists.as_str(),
        "--target",
        "t1",
        "run",
        "pty-run",
    ];
    App::spawn(Spawn {
        args: &args,
        env: &env,
        pty,
        state: Some(state),
        ..Spawn::default()
    })
}

fn run_state(state: &Path) -> fieldbook::core::progress::Run {
    state_dir::read_run(&StateDir::at(state, false).run_file("pty-run", "t1")).unwrap()
}

fn wait_status(state: &Path, step: &str, want: Status) -> fieldbook::core::progress::Run {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(run) = state_dir::read_run(&StateDir::at(state, false).run_file("pty-run", "t1"))
            && run.status(step) == want
        {
            return run;
        }
        assert!(Instant::now() < deadline, "{step} never became {want:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Opens the step `down` places below the first one and presses r.
fn run_step(app: &mut App, down: usize) {
    app.wait_for("Hostile output");
    for _ in 0..down {
        app.send(b"j");
    }
    app.send(b"\r");
    app.wait_for("Why");
    app.mark();
    app.send(b"r");
}

#[test]
fn child_escape_sequences_never_reach_the_terminal() {
    let state = tempfile::tempdir().unwrap();
    let mut app = spawn(state.path(), &[]);
    run_step(&mut app, 0);
    let screen = app.wait_for("progress 100%");
    app.wait_for("Done");
    let raw = app.bytes_since_mark();
    for (what, seq) in [
        ("OSC title", &b"\x1b]"[..]),
        ("title text", b"PWNED"),
        ("DCS", b"\x1bP"),
        ("DCS body", b"DCS-BODY"),
        ("C1 CSI", b"\xc2\x9b"),
        ("raw C1 CSI", b"\x9b"),
        ("alternate screen", b"\x1b[?1049h"),
        ("clear screen", b"\x1b[2J"),
        ("NUL", b"\x00"),
        ("BEL", b"\x07"),
    ] {
        assert_absent(&raw, what, seq);
    }
    let text = screen.join("\n");
    assert!(text.contains("title-gone"), "{text}");
    assert!(text.contains("nul:^@bel:^Gdel:^?"), "{text}");
    assert_eq!(text.matches("progress").count(), 1, "{text}");
    let run = wait_status(state.path(), "hostile", Status::Done);
    let log = state.path().join(
        run.steps["hostile"].attempts[0]
            .log
            .as_deref()
            .expect("log recorded"),
    );
    let bytes = std::fs::read(log).unwrap();
    assert!(
        bytes.windows(4).any(|w| w == b"\x1b]0;"),
        "the log keeps raw bytes"
    );
}

#[test]
fn an_interactive_step_gets_the_terminal() {
    let state = tempfile::tempdir().unwrap();
    let mut app = spawn(state.path(), &[]);
    run_step(&mut app, 1);
    app.wait_for("Proceed? [yes/no]");
    app.send(b"yes\r");
    // The child printed on the main screen; the app is back on the alternate screen by now.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !app.raw().windows(7).any(|w| w == b"got:yes") {
        assert!(Instant::now() < deadline, "the child never got the answer");
        std::thread::sleep(Duration::from_millis(20));
    }
    app.wait_for("Done");
    let run = wait_status(state.path(), "ask", Status::Done);
    assert_eq!(run.steps["ask"].attempts[0].exit, Some(Exit::Code(0)));
    app.assert_no_forbidden_sequences();
    // The program ran on a pty fieldbook relayed: the Output screen shows what it printed
    // and the log has every byte (it said nothing beyond "$ fb-ask" before).
    app.wait_for("Proceed? [yes/no]");
    app.wait_for("got:yes");
    let log = state
        .path()
        .join(run.steps["ask"].attempts[0].log.as_deref().unwrap());
    let logged = std::fs::read_to_string(log).unwrap();
    assert!(logged.contains("Proceed? [yes/no]"), "{logged}");
    assert!(logged.contains("got:yes"), "{logged}");
}

/// A link that drops while an interactive program waits for an answer: the step is recorded
/// as interrupted (its result is unknown), not as the program's failure.
#[test]
fn a_hangup_during_an_interactive_step_records_it_interrupted() {
    let state = tempfile::tempdir().unwrap();
    let mut app = spawn(state.path(), &[]);
    run_step(&mut app, 1);
    app.wait_for("Proceed? [yes/no]");
    // SAFETY: signalling the app we spawned, as the kernel does when the link drops.
    unsafe {
        libc::kill(app.pid() as i32, libc::SIGHUP);
    }
    app.wait_exit();
    let run = wait_status(state.path(), "ask", Status::Interrupted);
    let outcome = run.steps["ask"].attempts[0]
        .outcome
        .clone()
        .unwrap_or_default();
    assert!(outcome.contains("hung up"), "{outcome}");
}

#[test]
fn on_a_0x0_console_an_interactive_step_is_told_the_working_size() {
    let state = tempfile::tempdir().unwrap();
    let mut app = spawn_sized(state.path(), &[], (0, 0));
    run_step(&mut app, 1);
    app.wait_for("Proceed? [yes/no]");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !app.raw().windows(10).any(|w| w == b"size:80x24") {
        assert!(
            Instant::now() < deadline,
            "the child never saw 80x24: {}",
            String::from_utf8_lossy(&app.raw())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    app.send(b"yes\r");
    wait_status(state.path(), "ask", Status::Done);
}

#[test]
fn with_a_known_size_an_interactive_step_gets_no_size_variables() {
    let state = tempfile::tempdir().unwrap();
    let mut app = spawn(state.path(), &[]);
    run_step(&mut app, 1);
    app.wait_for("Proceed? [yes/no]");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !app.raw().windows(16).any(|w| w == b"size:unsetxunset") {
        assert!(Instant::now() < deadline, "the child saw size variables");
        std::thread::sleep(Duration::from_millis(20));
    }
    app.send(b"yes\r");
    wait_status(state.path(), "ask", Status::Done);
}

fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Starts the long step, lets it print twice, sends the app `signal` and checks that the
/// step's supervisor outlived the app.
fn signal_app_during_the_long_step(state: &Path, env: &[(&str, &str)], signal: i32) {
    let mut app = spawn(state, env);
    run_step(&mut app, 2);
    app.wait_for("tick 2");
    let run = run_state(state);
    let pid = run.steps["slow"].attempts[0]
        .pid
        .expect("supervisor pid recorded");
    // SAFETY: signalling the app we spawned.
    unsafe {
        libc::kill(app.pid() as i32, signal);
    }
    app.wait_exit();
    drop(app);
    assert!(
        pid_alive(pid as i32),
        "the supervisor died with the app (signal {signal})"
    );
}

#[test]
fn a_long_step_survives_kill_9_and_is_reattached() {
    let state = tempfile::tempdir().unwrap();
    let env = [
        ("STUB_TICKS", "8"),
        ("STUB_SLEEP", "0.5"),
        ("STUB_EXIT", "0"),
    ];
    signal_app_during_the_long_step(state.path(), &env, libc::SIGKILL);
    let mut app = spawn(state.path(), &env);
    app.wait_for("re-attached");
    app.wait_for("slow: finished");
    let run = wait_status(state.path(), "slow", Status::Done);
    let attempt = &run.steps["slow"].attempts[0];
    assert_eq!(attempt.exit, Some(Exit::Code(0)));
    let log = std::fs::read_to_string(state.path().join(attempt.log.as_deref().unwrap())).unwrap();
    let want: String =
        (1..=8).map(|i| format!("tick {i}\n")).collect::<String>() + "slow: finished\n";
    assert_eq!(log, want);
    app.send(b"q");
}

#[test]
fn a_hangup_leaves_a_long_step_running_and_a_new_app_records_its_real_exit() {
    let state = tempfile::tempdir().unwrap();
    let env = [
        ("STUB_TICKS", "6"),
        ("STUB_SLEEP", "0.5"),
        ("STUB_EXIT", "3"),
    ];
    // SSH dropped without screen: the app gets SIGHUP and exits, the long step must not.
    signal_app_during_the_long_step(state.path(), &env, libc::SIGHUP);
    assert_eq!(run_state(state.path()).status("slow"), Status::Running);
    let mut app = spawn(state.path(), &env);
    app.wait_for("re-attached");
    // The stub's real exit status (3, not expected) is what gets recorded.
    let run = wait_status(state.path(), "slow", Status::Failed);
    let attempt = &run.steps["slow"].attempts[0];
    assert_eq!(attempt.exit, Some(Exit::Code(3)));
    let log = std::fs::read_to_string(state.path().join(attempt.log.as_deref().unwrap())).unwrap();
    for i in 1..=6 {
        assert!(
            log.contains(&format!("tick {i}\n")),
            "log lost tick {i}: {log}"
        );
    }
    app.send(b"q");
}

#[test]
fn a_hangup_ends_a_short_step_and_restores_the_terminal() {
    let state = tempfile::tempdir().unwrap();
    let pids = state.path().join("stub.pids");
    let pids_env = pids.to_str().unwrap().to_string();
    let mut app = spawn(state.path(), &[("STUB_PIDS", pids_env.as_str())]);
    run_step(&mut app, 3);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&pids).map_or(true, |s| s.trim().is_empty()) {
        assert!(Instant::now() < deadline, "stub never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ids: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    app.mark();
    // SAFETY: signalling the app we spawned.
    unsafe {
        libc::kill(app.pid() as i32, libc::SIGHUP);
    }
    app.wait_exit();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ids.iter().any(|&p| pid_alive(p)) {
        assert!(
            Instant::now() < deadline,
            "the step's process group survived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let run = wait_status(state.path(), "hang", Status::Interrupted);
    assert!(
        run.steps["hang"].attempts[0]
            .outcome
            .as_deref()
            .unwrap_or_default()
            .contains("hung up")
    );
    // Restored: the cursor is shown again and the screen left (the alternate screen, or the
    // drawn area cleared on a vt100 where the app draws in the main screen).
    let raw = app.bytes_since_mark();
    assert!(
        raw.windows(6).any(|w| w == b"\x1b[?25h"),
        "the cursor was not shown again"
    );
    assert!(
        raw.windows(8).any(|w| w == b"\x1b[?1049l") || raw.windows(6).any(|w| w == b"\x1b[H\x1b[J"),
        "the screen was not restored"
    );
}

#[test]
fn a_passing_check_offers_already_done_and_runs_nothing() {
    let state = tempfile::tempdir().unwrap();
    let argv_log = state.path().join("argv.log");
    let argv_env = argv_log.to_str().unwrap().to_string();
    let mut app = spawn(state.path(), &[("STUB_LOG", argv_env.as_str())]);
    run_step(&mut app, 4);
    app.wait_for("looks already done");
    app.send(b"y");
    let run = wait_status(state.path(), "checked", Status::Done);
    assert!(
        run.steps["checked"]
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("`true` succeeded"),
        "{:?}",
        run.steps["checked"]
    );
    assert!(!argv_log.exists(), "nothing may run when the check passed");
}

/// Where `text` starts on the screen (row, column).
fn find(screen: &vt100::Screen, text: &str) -> (u16, u16) {
    let (_, cols) = screen.size();
    for (row, line) in screen.rows(0, cols).enumerate() {
        if let Some(byte) = line.find(text) {
            return (row as u16, line[..byte].chars().count() as u16);
        }
    }
    panic!("{text:?} is not on the screen:\n{}", screen.contents());
}

/// Every SGR parameter the app wrote: only the basic set fieldbook's backend uses may appear
/// (no 256-colour or 24-bit colour, nothing the command chose passes through as it was).
fn sgr_params(raw: &[u8]) -> Vec<u32> {
    let mut params = Vec::new();
    let mut i = 0;
    while i + 1 < raw.len() {
        if raw[i] == 0x1b && raw[i + 1] == b'[' {
            let body_start = i + 2;
            let mut j = body_start;
            while j < raw.len() && (0x30..=0x3f).contains(&raw[j]) {
                j += 1;
            }
            if j < raw.len() && raw[j] == b'm' {
                let body = std::str::from_utf8(&raw[body_start..j]).unwrap();
                params.extend(body.split(';').map(|p| p.parse::<u32>().unwrap_or(0)));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    params
}

#[test]
fn a_commands_colours_show_on_a_colour_terminal_and_not_on_a_vt100() {
    use vt100::Color::{Default, Idx};
    // xterm-256color: 8 colours, mapped from whatever the command used.
    let state = tempfile::tempdir().unwrap();
    let mut app = spawn(state.path(), &[("TERM", "xterm-256color")]);
    run_step(&mut app, 5);
    app.wait_for("plain-end");
    app.wait_for("Done");
    app.settle(Duration::from_millis(200));
    let parser = app.parser();
    let screen = parser.screen();
    let cell = |text: &str| {
        let (row, col) = find(screen, text);
        screen.cell(row, col).unwrap().clone()
    };
    let emerging = cell(">>> Emerging");
    assert_eq!(emerging.fgcolor(), Idx(2), "green >>> Emerging");
    assert!(emerging.bold());
    let bang = cell("!!!");
    assert_eq!(bang.fgcolor(), Idx(1), "red !!!");
    assert!(bang.bold());
    assert_eq!(cell("ERROR").fgcolor(), Default);
    assert!(!cell("ERROR").bold());
    assert_eq!(cell("blue-256").fgcolor(), Idx(4), "256-colour 21 is blue");
    assert_eq!(
        cell("orange-rgb").fgcolor(),
        Idx(3),
        "orange reads as yellow"
    );
    assert_eq!(
        cell("bright-yellow").fgcolor(),
        Idx(3),
        "bright yellow is yellow"
    );
    assert!(cell("underlined").underline());
    assert!(cell("reversed").inverse());
    assert!(!cell("plain-end").inverse());
    assert!(
        !cell("fieldbook: Done").bold(),
        "fieldbook's own line is as it was"
    );
    let raw = app.bytes_since_mark();
    for p in sgr_params(&raw) {
        assert!(
            matches!(p, 0..=1 | 4 | 5 | 7 | 22 | 24 | 25 | 27 | 30..=37 | 39 | 40..=47 | 49),
            "SGR parameter {p} reached the terminal"
        );
    }
    for (what, seq) in [
        ("OSC title", &b"\x1b]"[..]),
        ("title text", b"PWNED"),
        ("256 colours", b"38;5"),
        ("24-bit colour", b"38;2"),
    ] {
        assert_absent(&raw, what, seq);
    }
    assert!(screen.contents().contains("title-gone moved-not"));
    drop(app);

    // vt100: the same output, plain; not one colour code is written for it.
    let state = tempfile::tempdir().unwrap();
    let mut app = spawn(state.path(), &[]);
    run_step(&mut app, 5);
    app.wait_for("plain-end");
    app.wait_for("Done");
    app.settle(Duration::from_millis(200));
    let parser = app.parser();
    let screen = parser.screen();
    for text in [
        ">>> Emerging",
        "!!!",
        "blue-256",
        "orange-rgb",
        "underlined",
    ] {
        let (row, col) = find(screen, text);
        let c = screen.cell(row, col).unwrap();
        assert_eq!(
            (
                c.fgcolor(),
                c.bgcolor(),
                c.bold(),
                c.underline(),
                c.inverse()
            ),
            (Default, Default, false, false, false),
            "{text} must be plain on a vt100"
        );
    }
    let raw = app.bytes_since_mark();
    for p in sgr_params(&raw) {
        assert!(!matches!(p, 30..=49), "colour SGR {p} written to a vt100");
    }
    assert!(
        !raw.windows(2).any(|w| w == b"\x1b]"),
        "OSC reached the terminal"
    );
}

/// Ctrl-C while a short step runs never cancels it: it asks whether to quit and says the step
/// will be stopped; `n` leaves it running; `y` quits, stops it and records it as interrupted.
#[test]
fn ctrl_c_asks_to_quit_and_quitting_records_a_short_step_as_interrupted() {
    let state = tempfile::tempdir().unwrap();
    let pids = state.path().join("stub.pids");
    let pids_env = pids.to_str().unwrap().to_string();
    let mut app = spawn(state.path(), &[("STUB_PIDS", pids_env.as_str())]);
    run_step(&mut app, 3);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&pids).map_or(true, |s| s.trim().is_empty()) {
        assert!(Instant::now() < deadline, "stub never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ids: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    app.send(b"\x03");
    app.wait_for("Quit fieldbook?");
    app.wait_for("interrupted");
    app.send(b"n");
    app.wait_until(
        |s| !s.iter().any(|l| l.contains("Quit fieldbook?")),
        "question closed",
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(ids.iter().all(|&p| pid_alive(p)), "Ctrl-C stopped the step");
    assert_eq!(run_state(state.path()).status("hang"), Status::Running);
    app.send(b"\x03");
    app.wait_for("Quit fieldbook?");
    app.send(b"y");
    assert!(app.wait_exit().success());
    let run = wait_status(state.path(), "hang", Status::Interrupted);
    assert!(
        run.steps["hang"].attempts[0]
            .outcome
            .as_deref()
            .unwrap_or_default()
            .contains("quit"),
        "{:?}",
        run.steps["hang"].attempts[0].outcome
    );
}
