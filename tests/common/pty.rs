//! The end-to-end harness: the real `fieldbook` binary under a pseudo-terminal, its output
//! parsed by the `vt100` crate. Spawn with an exact environment and pty size (0x0 included),
//! send keys, wait for text with a timeout, read the screen, count the raw bytes written.
//!
//! Nothing here answers terminal queries (cursor position, device attributes): like a serial
//! console, the harness stays silent, so an app that asked would hang or time out.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

/// How long a test waits for something before failing (generous: CI machines are busy).
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Bytes fieldbook must never write: terminal queries and modes it must not enable.
pub const FORBIDDEN: &[(&str, &[u8])] = &[
    ("cursor position query", b"\x1b[6n"),
    ("device attributes query", b"\x1b[c"),
    ("secondary device attributes", b"\x1b[>c"),
    ("kitty keyboard push", b"\x1b[>"),
    ("kitty keyboard query", b"\x1b[?u"),
    ("mouse X10", b"\x1b[?1000h"),
    ("mouse button", b"\x1b[?1002h"),
    ("mouse any", b"\x1b[?1003h"),
    ("mouse SGR", b"\x1b[?1006h"),
    ("focus events", b"\x1b[?1004h"),
    ("bracketed paste", b"\x1b[?2004h"),
];

/// A running `fieldbook` under a pty.
pub struct App {
    /// The state directory the app writes its progress to.
    pub state: std::path::PathBuf,
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: Arc<Mutex<Vec<u8>>>,
    /// Set when the reader met the end of the terminal (every process closed its side).
    reader_done: Arc<std::sync::atomic::AtomicBool>,
    /// Size the screen is parsed at (a 0x0 pty is parsed as 80x24, as a far-end emulator would).
    view: (u16, u16),
    mark: usize,
}

/// Options for one spawn.
pub struct Spawn<'a> {
    /// Arguments after the binary name.
    pub args: &'a [&'a str],
    /// Environment (the environment is otherwise empty except PATH and HOME).
    pub env: &'a [(&'a str, &'a str)],
    /// Size the pty reports to the app (cols, rows); may be (0, 0).
    pub pty: (u16, u16),
    /// Size of the emulated screen the output is parsed into (cols, rows).
    pub view: (u16, u16),
    /// State directory (`FIELDBOOK_STATE_DIR`); a fresh one per spawn when `None`.
    pub state: Option<&'a std::path::Path>,
}

impl Default for Spawn<'_> {
    fn default() -> Self {
        Spawn {
            args: &[],
            env: &[("TERM", "vt100"), ("LANG", "C.UTF-8")],
            pty: (80, 24),
            view: (80, 24),
            state: None,
        }
    }
}

impl App {
    /// Starts the binary.
    pub fn spawn(opts: Spawn<'_>) -> App {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: opts.pty.1,
                cols: opts.pty.0,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fieldbook"));
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        static SPAWNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SPAWNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let home = std::env::temp_dir().join(format!("fieldbook-pty-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&home).expect("home dir");
        let state = opts
            .state
            .map_or_else(|| home.join("state"), std::path::Path::to_path_buf);
        cmd.cwd(&home);
        cmd.env("HOME", &home);
        cmd.env("FIELDBOOK_STATE_DIR", &state);
        for (k, v) in opts.env {
            cmd.env(k, v);
        }
        cmd.args(opts.args);
        let child = pair.slave.spawn_command(cmd).expect("spawn fieldbook");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        let reader_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = Arc::clone(&reader_done);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        App {
            state,
            master: pair.master,
            child,
            writer,
            output,
            reader_done,
            view: opts.view,
            mark: 0,
        }
    }

    /// Sends bytes as typed keys.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// Every byte the app wrote so far.
    pub fn raw(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    /// Number of bytes written so far.
    pub fn bytes(&self) -> usize {
        self.output.lock().unwrap().len()
    }

    /// Starts a new byte count (see [`App::bytes_since_mark`]).
    pub fn mark(&mut self) {
        self.mark = self.bytes();
    }

    /// Bytes written since the last [`App::mark`].
    pub fn bytes_since_mark(&self) -> Vec<u8> {
        self.raw()[self.mark..].to_vec()
    }

    /// The parsed terminal state.
    pub fn parser(&self) -> vt100::Parser {
        let mut p = vt100::Parser::new(self.view.1, self.view.0, 0);
        p.process(&self.raw());
        p
    }

    /// The screen's text, one line per row.
    pub fn screen(&self) -> Vec<String> {
        let p = self.parser();
        p.screen().rows(0, self.view.0).collect()
    }

    /// Waits until the screen contains `text`; panics with the screen on timeout.
    pub fn wait_for(&self, text: &str) -> Vec<String> {
        self.wait_until(|s| s.iter().any(|l| l.contains(text)), text)
    }

    /// Waits until `cond` holds for the screen; panics with the screen on timeout. The screen
    /// returned is the one once the output paused (30 ms, at most 300 ms) if `cond` still holds
    /// for it: under load a frame arrives in several reads, and a row the caller checks next
    /// may not have come yet when `cond` first holds.
    pub fn wait_until(&self, cond: impl Fn(&[String]) -> bool, what: &str) -> Vec<String> {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if cond(&s) {
                self.settle_within(Duration::from_millis(30), Duration::from_millis(300));
                let later = self.screen();
                return if cond(&later) { later } else { s };
            }
            if start.elapsed() > TIMEOUT {
                panic!("timed out waiting for {what:?}; screen:\n{}", s.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until no output arrived for `quiet` (so a key's whole update has been written).
    pub fn settle(&self, quiet: Duration) {
        self.settle_within(quiet, TIMEOUT);
    }

    /// [`App::settle`], giving up after `limit`.
    fn settle_within(&self, quiet: Duration, limit: Duration) {
        let start = Instant::now();
        let mut last = self.bytes();
        let mut since = Instant::now();
        while since.elapsed() < quiet && start.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(10));
            let n = self.bytes();
            if n != last {
                last = n;
                since = Instant::now();
            }
        }
    }

    /// Changes the pty's size (the kernel sends SIGWINCH).
    pub fn resize(&self, cols: u16, rows: u16) {
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    /// Changes the size the output is parsed at.
    pub fn set_view(&mut self, cols: u16, rows: u16) {
        self.view = (cols, rows);
    }

    /// Waits for the app to exit; panics on timeout.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The reader has the last bytes once the terminal's other side is closed by
                // every process (EOF). A fixed 50 ms was too short under load in CI: the
                // restored cursor was not read yet. A step's process that keeps the terminal
                // open ends this wait after a few seconds.
                let until = Instant::now() + Duration::from_secs(5);
                while !self.reader_done.load(std::sync::atomic::Ordering::SeqCst)
                    && Instant::now() < until
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return status;
            }
            if start.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                panic!(
                    "fieldbook did not exit; screen:\n{}",
                    self.screen().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The app's process id.
    pub fn pid(&self) -> u32 {
        self.child.process_id().unwrap_or(0)
    }

    /// Asserts the app wrote none of the [`FORBIDDEN`] sequences.
    pub fn assert_no_forbidden_sequences(&self) {
        let raw = self.raw();
        for (what, seq) in FORBIDDEN {
            assert!(
                !raw.windows(seq.len()).any(|w| w == *seq),
                "fieldbook wrote a {what} ({seq:?})"
            );
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}
