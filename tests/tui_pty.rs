//! End-to-end: the real binary under a pty (see `common::pty`), as on a serial console or in
//! GNU screen.

mod common;

use std::time::Duration;

use common::pty::{App, Spawn};

/// A directory holding the demo runbook, one per call: tests run in parallel, and a copy
/// shared between them could be read while another test rewrites it.
fn fixture_dir() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir =
        std::env::temp_dir().join(format!("fieldbook-tui-fixture-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/tui-runbook.toml"
        ),
        dir.join("demo.toml"),
    )
    .unwrap();
    dir.display().to_string()
}

#[test]
fn vt100_at_80x24_draws_ascii_borders_and_asks_the_terminal_nothing() {
    let mut app = App::spawn(Spawn::default());
    let screen = app.wait_for("fieldbook: runbooks");
    assert!(
        screen[0].starts_with("+ fieldbook: runbooks -"),
        "{screen:#?}"
    );
    assert!(screen[0].ends_with('+'), "{screen:#?}");
    assert!(
        screen[22].starts_with("+---") && screen[22].ends_with("-+"),
        "{screen:#?}"
    );
    assert!(screen[23].contains("?:help"), "{screen:#?}");
    let raw = app.raw();
    assert!(raw.is_ascii(), "non-ASCII bytes on a vt100");
    // Only VT100 SGR parameters.
    let text = String::from_utf8_lossy(&raw);
    for part in text.split("\x1b[").skip(1) {
        if let Some((params, _)) = part.split_once('m')
            && params.chars().all(|c| c.is_ascii_digit() || c == ';')
        {
            for p in params.split(';').filter(|p| !p.is_empty()) {
                assert!(["0", "1", "4", "5", "7"].contains(&p), "SGR {p}");
            }
        }
    }
    app.send(b"q");
    assert!(app.wait_exit().success());
    app.assert_no_forbidden_sequences();
}

#[test]
fn a_zero_size_pty_without_columns_or_lines_gets_an_80x24_screen() {
    let mut app = App::spawn(Spawn {
        pty: (0, 0),
        view: (80, 24),
        ..Spawn::default()
    });
    // The whole frame, not its first rows only: under load it arrives in several reads.
    let screen = app.wait_until(|s| s[23].contains("?:help"), "the hint line at row 24");
    assert!(screen[0].contains("fieldbook: runbooks"), "{screen:#?}");
    assert_eq!(screen[22].len(), 80, "{screen:#?}");
    assert!(
        screen[22].starts_with('+') && screen[22].ends_with('+'),
        "{screen:#?}"
    );
    assert!(screen[23].contains("?:help"), "{screen:#?}");
    app.send(b"q");
    assert!(app.wait_exit().success());
}

#[test]
fn size_flag_and_env_are_used_when_the_kernel_says_zero() {
    let mut app = App::spawn(Spawn {
        pty: (0, 0),
        view: (100, 30),
        env: &[("TERM", "vt100"), ("COLUMNS", "100"), ("LINES", "30")],
        ..Spawn::default()
    });
    let screen = app.wait_for("fieldbook: runbooks");
    assert_eq!(screen[28].len(), 100, "{screen:#?}");
    app.send(b"q");
    app.wait_exit();
    let mut app = App::spawn(Spawn {
        pty: (0, 0),
        view: (60, 20),
        args: &["--size", "60x20"],
        ..Spawn::default()
    });
    let screen = app.wait_for("fieldbook: runbooks");
    assert!(
        screen[18].starts_with('+') && screen[18].len() == 60,
        "{screen:#?}"
    );
    app.send(b"q");
    app.wait_exit();
}

#[test]
fn navigate_to_a_step_and_back() {
    let dir = fixture_dir();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "run", "demo"],
        ..Spawn::default()
    });
    app.wait_for("Demo router setup 0/6");
    // The cursor opens on the first step; Down, then Enter opens the second step.
    app.send(b"j");
    app.send(b"\r");
    // One frame may arrive in several reads under load: wait for the title and the body.
    let screen = app.wait_until(
        |s| {
            s[0].contains("[ ] Update the package tree")
                && s.iter().any(|l| l.contains("$ emerge --sync"))
        },
        "the step screen of the second step",
    );
    assert!(
        screen.iter().any(|l| l.contains("$ ip link set eth1 up")),
        "{screen:#?}"
    );
    // Esc goes back to the runbook, q back to the list, q quits.
    app.send(b"\x1b");
    app.wait_for("|> [ ] Update the package tree");
    app.send(b"q");
    app.wait_for("fieldbook: runbooks");
    app.send(b"q");
    assert!(app.wait_exit().success());
}

#[test]
fn quitting_leaves_the_alternate_screen_and_shows_the_cursor() {
    let mut app = App::spawn(Spawn {
        env: &[("TERM", "xterm"), ("LANG", "C.UTF-8")],
        ..Spawn::default()
    });
    app.wait_for("fieldbook: runbooks");
    assert!(app.parser().screen().alternate_screen());
    assert!(app.parser().screen().hide_cursor());
    app.send(b"q");
    assert!(app.wait_exit().success());
    let p = app.parser();
    assert!(
        !p.screen().alternate_screen(),
        "still in the alternate screen"
    );
    assert!(!p.screen().hide_cursor(), "cursor left hidden");
    app.assert_no_forbidden_sequences();
}

#[test]
fn no_alt_screen_clears_what_it_drew_on_exit() {
    // On xterm the flag decides; on vt100 (no alternate screen in terminfo) it is the default.
    let mut app = App::spawn(Spawn {
        args: &["--no-alt-screen"],
        env: &[("TERM", "xterm"), ("LANG", "C.UTF-8")],
        ..Spawn::default()
    });
    app.wait_for("fieldbook: runbooks");
    assert!(!app.parser().screen().alternate_screen());
    app.send(b"q");
    assert!(app.wait_exit().success());
    let mut app = App::spawn(Spawn::default());
    app.wait_for("fieldbook: runbooks");
    assert!(!app.parser().screen().alternate_screen());
    app.send(b"q");
    assert!(app.wait_exit().success());
    let screen = app.screen();
    assert!(screen.iter().all(|l| l.trim().is_empty()), "{screen:#?}");
    assert!(!app.raw().windows(8).any(|w| w == b"\x1b[?1049h"));
}

#[test]
fn ctrl_c_asks_and_sigterm_restores_the_terminal() {
    let mut app = App::spawn(Spawn {
        env: &[("TERM", "xterm"), ("LANG", "C.UTF-8")],
        ..Spawn::default()
    });
    app.wait_for("fieldbook: runbooks");
    app.send(b"\x03");
    app.wait_for("Quit fieldbook?");
    app.send(b"n");
    app.wait_until(
        |s| !s.iter().any(|l| l.contains("Quit fieldbook?")),
        "question closed",
    );
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(app.pid() as i32, libc::SIGTERM);
    }
    app.wait_exit();
    let p = app.parser();
    assert!(!p.screen().alternate_screen());
    assert!(!p.screen().hide_cursor());
}

#[test]
fn backspace_as_del_and_as_ctrl_h_both_delete_in_a_prompt() {
    let dir = fixture_dir();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "run", "demo"],
        ..Spawn::default()
    });
    app.wait_for("Demo router setup 0/6");
    app.send(b"\rs");
    app.wait_for("Why skip this step?");
    app.send(b"abcd\x7f\x08x");
    app.wait_for("| abx");
    app.send(b"\r");
    // The next step comes up after a skip; the skipped one shows its reason.
    app.wait_for("Update the package tree");
    app.send(b"\x1b[Z");
    app.wait_for("Reason: abx");
    app.send(b"qqq");
    app.wait_exit();
}

#[test]
fn resizing_the_pty_redraws_at_the_new_size() {
    let mut app = App::spawn(Spawn::default());
    app.wait_for("fieldbook: runbooks");
    app.resize(100, 30);
    app.set_view(100, 30);
    app.send(b"\x0c");
    // Both last rows: under load the frame arrives in several reads.
    let screen = app.wait_until(
        |s| {
            s[28].starts_with('+')
                && s[28].ends_with('+')
                && s[28].len() == 100
                && s[29].contains("?:help")
        },
        "a 100x30 frame with its hint line",
    );
    assert!(screen[29].contains("?:help"));
    app.send(b"q");
    app.wait_exit();
}

#[test]
fn a_tiny_terminal_says_so_and_does_not_crash() {
    let mut app = App::spawn(Spawn {
        pty: (20, 5),
        view: (20, 5),
        ..Spawn::default()
    });
    app.wait_for("terminal too small");
    app.send(b"jjjq");
    assert!(app.wait_exit().success());
}

#[test]
fn moving_the_mark_costs_a_few_bytes() {
    let dir = fixture_dir();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "run", "demo"],
        ..Spawn::default()
    });
    app.wait_for("Demo router setup 0/6");
    app.settle(Duration::from_millis(200));
    app.mark();
    app.send(b"j");
    app.wait_for("|> [ ] Update");
    app.settle(Duration::from_millis(200));
    let bytes = app.bytes_since_mark();
    // A byte count, not a timing: the frugal backend's whole point.
    assert!(
        bytes.len() <= 16,
        "{} bytes: {:?}",
        bytes.len(),
        String::from_utf8_lossy(&bytes)
    );
    app.send(b"qq");
    app.wait_exit();
}

#[test]
fn the_app_refuses_to_start_without_a_terminal_but_the_cli_works() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a terminal"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("list")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn version_verbose_reports_the_size_source() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"));
        c.args(args).env_clear().env("TERM", "vt100");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.stdin(std::process::Stdio::null()).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let s = run(
        &["--version", "--verbose"],
        &[("COLUMNS", "100"), ("LINES", "30")],
    );
    assert!(s.contains("size: 100x30 (COLUMNS/LINES)"), "{s}");
    assert!(s.contains("glyphs: ascii (TERM=vt100)"), "{s}");
    let s = run(&["--verbose", "--size", "90x20", "-V"], &[]);
    assert!(s.contains("size: 90x20 (--size)"), "{s}");
    let s = run(&["--version", "--verbose"], &[]);
    assert!(s.contains("size: 80x24 (default)"), "{s}");
    // Plain --version is clap's own.
    let s = run(&["--version"], &[]);
    assert_eq!(s.trim(), format!("fieldbook {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn sighup_and_a_panic_restore_the_terminal_too() {
    let mut app = App::spawn(Spawn {
        env: &[("TERM", "xterm"), ("LANG", "C.UTF-8")],
        ..Spawn::default()
    });
    app.wait_for("fieldbook: runbooks");
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(app.pid() as i32, libc::SIGHUP);
    }
    app.wait_exit();
    assert!(!app.parser().screen().alternate_screen());

    let mut app = App::spawn(Spawn {
        env: &[
            ("TERM", "xterm"),
            ("LANG", "C.UTF-8"),
            ("FIELDBOOK_TEST_PANIC", "1"),
        ],
        ..Spawn::default()
    });
    app.wait_for("fieldbook: runbooks");
    app.send(b"j");
    let status = app.wait_exit();
    assert!(!status.success());
    let p = app.parser();
    assert!(
        !p.screen().alternate_screen(),
        "panic left the alternate screen on"
    );
    assert!(!p.screen().hide_cursor(), "panic left the cursor hidden");
    assert!(String::from_utf8_lossy(&app.raw()).contains("FIELDBOOK_TEST_PANIC"));
}

#[test]
fn ctrl_z_without_a_job_control_shell_does_not_hang() {
    // The pty's session has no job-control shell, so the kernel discards the stop: the app
    // must come straight back, redraw and say why it did not suspend.
    let mut app = App::spawn(Spawn::default());
    app.wait_for("fieldbook: runbooks");
    app.send(b"\x1a");
    app.wait_for("Not suspended");
    app.send(b"q");
    assert!(app.wait_exit().success());
}

#[test]
fn progress_goes_through_the_store_and_is_there_next_time() {
    let dir = fixture_dir();
    let state = tempfile::tempdir().unwrap();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "--target", "gw9", "run", "demo"],
        state: Some(state.path()),
        ..Spawn::default()
    });
    app.wait_for("Demo router setup 0/6");
    // Mark the first step done (the second comes up), skip the second with a reason, note on
    // the second.
    app.send(b"\rd");
    app.wait_for("step 2/6");
    app.send(b"\x1b[Z");
    app.wait_for("Status: [x] done");
    app.send(b"\tsno mirror\r");
    app.wait_for("step 3/6");
    app.send(b"\x1b[Z");
    app.wait_for("Reason: no mirror");
    app.send(b"nlooked at it\r");
    app.wait_for("looked at it");
    app.send(b"qqq");
    assert!(app.wait_exit().success());
    let journal = std::fs::read_dir(state.path().join("runs"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().ends_with(".jsonl"));
    assert!(journal, "no journal written in {:?}", state.path());

    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "--target", "gw9"],
        state: Some(state.path()),
        ..Spawn::default()
    });
    let screen = app.wait_for("Demo router setup");
    assert!(
        screen.iter().any(|l| l.contains("2/6, 1 skipped")),
        "{screen:#?}"
    );
    app.send(b"q");
    app.wait_exit();
}

#[test]
fn an_arrow_key_split_by_a_slow_line_still_moves_the_mark() {
    let dir = fixture_dir();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "run", "demo"],
        ..Spawn::default()
    });
    app.wait_for("|> [ ] Read the hardware notes");
    // ESC, a pause as GNU screen or a 9600-baud line can make (whiptail joins pieces up to
    // 300 ms apart), then the rest of "cursor down".
    app.send(b"\x1b");
    std::thread::sleep(Duration::from_millis(150));
    app.send(b"[B");
    app.wait_for("|> [ ] Update the package tree");
    // Still on the runbook screen: the Esc did not go back.
    assert!(app.screen()[0].contains("Demo router setup"));
    // In a prompt the rest of the key is not typed as text.
    app.send(b"\r");
    app.wait_for("Why");
    app.send(b"n");
    app.wait_for("Note");
    app.send(b"ok");
    app.send(b"\x1b");
    std::thread::sleep(Duration::from_millis(150));
    app.send(b"[B");
    app.send(b"!");
    app.wait_for("ok!");
    let screen = app.screen().join("\n");
    assert!(!screen.contains("[B"), "{screen}");
    // Esc alone still goes back once the delay has passed.
    app.send(b"\x15");
    app.send(b"\x1b");
    app.wait_until(|s| !s.join("\n").contains("ok!"), "the prompt closed");
    app.send(b"\x1b");
    app.wait_for("|> [ ] Update the package tree");
    app.send(b"qq");
    assert!(app.wait_exit().success());
}

/// `--esc-delay` (and `FIELDBOOK_ESCDELAY`) sets the wait: with 20 ms, a piece arriving
/// 150 ms later is too late and the Esc goes back.
#[test]
fn esc_delay_sets_how_long_the_rest_of_a_key_may_take() {
    let dir = fixture_dir();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "run", "demo"],
        env: &[
            ("TERM", "vt100"),
            ("LANG", "C.UTF-8"),
            ("FIELDBOOK_ESCDELAY", "20"),
        ],
        ..Spawn::default()
    });
    app.wait_for("|> [ ] Read the hardware notes");
    app.send(b"\x1b");
    std::thread::sleep(Duration::from_millis(150));
    app.send(b"[B");
    app.wait_for("runbooks");
    app.send(b"q");
    assert!(app.wait_exit().success());
}

#[test]
fn an_unreadable_state_file_is_moved_aside_and_a_fresh_run_needs_a_yes() {
    use fieldbook::core::state_dir::{self, StateDir};
    let dir = fixture_dir();
    let state = tempfile::tempdir().unwrap();
    let file = StateDir::at(state.path(), false).run_file("demo", "gw1");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"runbook = \"demo\"\nsteps = [[[ truncated").unwrap();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "--target", "gw1", "run", "demo"],
        state: Some(state.path()),
        ..Spawn::default()
    });
    app.wait_for("Start a fresh run of demo?");
    // Nothing was written over while the question is open: the damaged copy is aside and no
    // new state file exists yet.
    let aside = || {
        std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
            .count()
    };
    assert_eq!(aside(), 1);
    assert!(!file.exists());
    app.send(b"y");
    app.wait_for("Demo router setup 0/6");
    // A change now saves a fresh, loadable run beside the kept copy.
    app.send(b"\r");
    app.wait_for("Why");
    app.send(b"d");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while state_dir::read_run(&file).map_or(true, |r| r.steps.is_empty()) {
        assert!(std::time::Instant::now() < deadline, "no fresh run saved");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(aside(), 1);
    app.send(b"q");
    app.send(b"q");
    app.send(b"q");
    assert!(app.wait_exit().success());
}

/// The link goes away for good (SSH dropped, `tmux kill-server`, the pty master closed): the app
/// must end, not spin. crossterm's reader loops forever on the zero-byte reads of a hung-up
/// terminal, so the app watches for the hang-up itself. Python's pty module closes the master
/// outright, which the harness cannot do while its reader thread holds a copy.
#[test]
fn a_closed_terminal_ends_the_app_instead_of_spinning() {
    let state = tempfile::tempdir().unwrap();
    let script = r#"
import os, pty, sys, time, select, signal
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "vt100"
    os.execv(sys.argv[1], [sys.argv[1], "--state-dir", sys.argv[2], "--size", "80x24"])
seen = b""
deadline = time.time() + 20
while b"runbooks" not in seen and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            seen += os.read(fd, 65536)
        except OSError:
            break
if b"runbooks" not in seen:
    print("no first frame"); sys.exit(2)
# Close the master for good: the app gets SIGHUP and a terminal that reads as EOF.
os.close(fd)
deadline = time.time() + 10
while time.time() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("exited", os.waitstatus_to_exitcode(status)); sys.exit(0)
    time.sleep(0.1)
os.kill(pid, signal.SIGKILL)
print("still running after the terminal closed"); sys.exit(1)
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_fieldbook"))
        .arg(state.path())
        .output()
        .expect("python3 runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // As a shell reports a hang-up: 128 + SIGHUP.
    assert!(said.contains("exited 129"), "{said}");
}

/// Each key typed into a form field shows at once, with the field's verdict under it: a
/// technician on a serial line must see an address before pressing Enter.
#[test]
fn typing_into_a_form_field_shows_each_key_and_the_check() {
    let dir = fixture_dir();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "run", "demo"],
        ..Spawn::default()
    });
    app.wait_for("Demo router setup 0/6");
    app.send(b"G");
    app.wait_for("> [ ] Work out the subnet");
    app.send(b"k");
    app.wait_for("> [ ] Record the LAN address");
    app.send(b"\r");
    app.wait_for("Asks for");
    app.send(b"r");
    app.wait_for("required");
    app.send(b"10.0.0.30");
    app.wait_for("10.0.0.30");
    app.send(b"0");
    app.wait_for("10.0.0.300");
    app.wait_for("is not an IPv4 or IPv6 address");
    app.send(b"\x7f");
    // The field and the check under it change in one frame, which may arrive in two reads.
    app.wait_until(
        |s| {
            let text = s.join("\n");
            text.contains("10.0.0.30_") && !text.contains("is not an IPv4")
        },
        "the corrected address without the complaint",
    );
}

/// Where the shell's prompt would start after fieldbook ends, on a terminal that ignores the
/// alternate screen as GNU screen does without `altscreen on`: (the cursor's column, its line).
fn prompt_place_without_alt_screen(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw)
        .replace("\x1b[?1049h", "")
        .replace("\x1b[?1049l", "");
    let mut p = vt100::Parser::new(24, 80, 0);
    p.process(text.as_bytes());
    let (row, col) = p.screen().cursor_position();
    let line = p.screen().rows(0, 80).nth(row.into()).unwrap_or_default();
    (col, line)
}

/// Inside GNU screen (STY set) the alternate screen is not used unless asked for, and after
/// `q` the prompt starts on a clean line either way.
#[test]
fn gnu_screen_gets_the_main_screen_and_a_clean_line_after_quitting() {
    let env = &[
        ("TERM", "screen"),
        ("LANG", "C.UTF-8"),
        ("STY", "4242.work"),
    ];
    let mut app = App::spawn(Spawn {
        env,
        ..Spawn::default()
    });
    app.wait_for("fieldbook: runbooks");
    app.send(b"q");
    assert!(app.wait_exit().success());
    assert!(!app.raw().windows(8).any(|w| w == b"\x1b[?1049h"));
    let (col, line) = prompt_place_without_alt_screen(&app.raw());
    assert_eq!((col, line.trim()), (0, ""), "prompt not on a clean line");
    // --alt-screen uses it; a screen that ignores it still leaves a clean line.
    let mut app = App::spawn(Spawn {
        args: &["--alt-screen"],
        env,
        ..Spawn::default()
    });
    app.wait_for("fieldbook: runbooks");
    app.send(b"j");
    app.settle(Duration::from_millis(100));
    app.send(b"q");
    assert!(app.wait_exit().success());
    assert!(app.raw().windows(8).any(|w| w == b"\x1b[?1049h"));
    let (col, line) = prompt_place_without_alt_screen(&app.raw());
    assert_eq!((col, line.trim()), (0, ""), "prompt not on a clean line");
}

/// `fieldbook run ID` over SSH without screen or tmux warns as the runbook list does.
#[test]
fn run_id_over_ssh_without_screen_shows_the_warning() {
    let dir = fixture_dir();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "run", "demo"],
        env: &[
            ("TERM", "vt100"),
            ("LANG", "C.UTF-8"),
            ("SSH_CONNECTION", "10.0.0.9 50000 10.0.0.1 22"),
        ],
        ..Spawn::default()
    });
    app.wait_for("Demo router setup");
    app.wait_for("SSH without screen or tmux");
    app.send(b"qq");
    assert!(app.wait_exit().success());
}

/// Issue 15 item 1: a second fieldbook on a run another one holds says who holds it, offers to
/// follow it read-only, shows the holder's progress as it is saved, and runs or marks nothing.
#[test]
fn a_second_fieldbook_follows_a_held_run_read_only() {
    let dir = fixture_dir();
    let state = tempfile::tempdir().unwrap();
    let args = [
        "--checklists",
        dir.as_str(),
        "--target",
        "gw1",
        "run",
        "demo",
    ];
    let mut first = App::spawn(Spawn {
        args: &args,
        state: Some(state.path()),
        ..Spawn::default()
    });
    first.wait_for("Demo router setup 0/6");
    let mut second = App::spawn(Spawn {
        args: &args,
        state: Some(state.path()),
        ..Spawn::default()
    });
    let says = |app: &App, text: &str| {
        let flat = |s: &[String]| {
            s.iter()
                .map(|l| l.replace(['|', '+'], " "))
                .collect::<Vec<_>>()
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let text = text.to_string();
        app.wait_until(move |s| flat(s).contains(&text), "text across lines");
    };
    says(&second, "open in another fieldbook");
    says(&second, "since");
    says(&second, "Follow it read-only?");
    second.send(b"y");
    second.wait_for("READ-ONLY");
    // The holder marks a step done; the follower shows it without a key pressed.
    first.send(b"\r");
    first.wait_for("Why");
    first.send(b"d");
    first.wait_for("1/6");
    second.wait_for("Demo router setup 1/6");
    // Nothing runs or is marked here.
    second.send(b"\r");
    second.send(b"d");
    says(&second, "Read-only:");
    second.send(b"q");
    second.send(b"q");
    second.send(b"q");
    second.send(b"y");
    assert!(second.wait_exit().success());
    let run = fieldbook::core::state_dir::read_run(
        &fieldbook::core::state_dir::StateDir::at(state.path(), false).run_file("demo", "gw1"),
    )
    .unwrap();
    assert_eq!(
        run.steps
            .values()
            .filter(|s| !s.attempts.is_empty()
                || s.status != fieldbook::core::progress::Status::Pending)
            .count(),
        1,
        "{run:?}"
    );
    first.send(b"q");
    first.send(b"q");
    first.send(b"q");
    first.send(b"y");
    assert!(first.wait_exit().success());
}

/// Issue 15 item 11: a session started with `--practice` opened no machine; `p` does not claim
/// to turn practice off (its commands would have gone nowhere) and says how to run for real.
#[test]
fn p_in_a_session_started_with_practice_says_it_cannot_run_for_real() {
    let dir = fixture_dir();
    let mut app = App::spawn(Spawn {
        args: &["--checklists", &dir, "--practice"],
        ..Spawn::default()
    });
    app.wait_for("PRACTICE");
    app.send(b"p");
    app.wait_for("started with --practice");
    let screen = app.screen().join("\n");
    assert!(!screen.contains("commands run for real"), "{screen}");
    app.send(b"q");
    assert!(app.wait_exit().success());
}

/// Issue 15 item 1: when the fieldbook holding a followed run lets it go (leaves the runbook),
/// the follower is told and may open the run for work; then it records as any run.
#[test]
fn a_followed_run_can_be_taken_over_once_its_holder_leaves() {
    let dir = fixture_dir();
    let state = tempfile::tempdir().unwrap();
    let args = [
        "--checklists",
        dir.as_str(),
        "--target",
        "gw1",
        "run",
        "demo",
    ];
    let mut first = App::spawn(Spawn {
        args: &args,
        state: Some(state.path()),
        ..Spawn::default()
    });
    first.wait_for("Demo router setup 0/6");
    let mut second = App::spawn(Spawn {
        args: &args,
        state: Some(state.path()),
        ..Spawn::default()
    });
    let says = |app: &App, text: &str| {
        let flat = |s: &[String]| {
            s.iter()
                .map(|l| l.replace(['|', '+'], " "))
                .collect::<Vec<_>>()
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let text = text.to_string();
        app.wait_until(move |s| flat(s).contains(&text), "text across lines");
    };
    says(&second, "Follow it read-only?");
    second.send(b"y");
    second.wait_for("READ-ONLY");
    // The holder goes back to the runbook list: its lock is released.
    first.send(b"q");
    first.wait_for("runbooks");
    says(&second, "has let go of this run");
    second.send(b"y");
    second.wait_until(
        |s| !s.iter().any(|l| l.contains("READ-ONLY")) && s.iter().any(|l| l.contains("0/6")),
        "the run opened for work",
    );
    second.send(b"\r");
    second.wait_for("Why");
    second.send(b"d");
    second.wait_for("1/6");
    let file =
        fieldbook::core::state_dir::StateDir::at(state.path(), false).run_file("demo", "gw1");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fieldbook::core::state_dir::read_run(&file).map_or(true, |r| r.steps.is_empty()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the takeover recorded nothing"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..3 {
        second.send(b"q");
    }
    second.send(b"y");
    assert!(second.wait_exit().success());
    first.send(b"q");
    first.send(b"y");
    assert!(first.wait_exit().success());
}
