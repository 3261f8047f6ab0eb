//! The terminal's lifetime as a value: raw mode, the alternate screen and a hidden cursor while a
//! [`Session`] lives, restored on drop, on panic (hook), on SIGTERM/SIGHUP and around a suspend.
//! Also the size fallback for serial consoles that report 0x0.
//!
//! Never sent: cursor-position or device-attribute queries, the kitty keyboard protocol, mouse
//! capture, bracketed paste or focus events. Each of those blocks or misbehaves on a console
//! that does not answer or cannot undo it.

pub mod frugal;
pub mod profile;
pub mod scroll;

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};

use ratatui::Terminal;
use ratatui::layout::{Rect, Size};
use ratatui::{TerminalOptions, Viewport};

use frugal::FrugalBackend;
use profile::{Profile, ResolvedSize};

/// The terminal type the app draws on.
pub type Screen = Terminal<FrugalBackend<io::Stdout>>;

// What the restore path must undo, readable from the panic hook and signal paths.
static RAW: AtomicBool = AtomicBool::new(false);
static ALT: AtomicBool = AtomicBool::new(false);
static DRAWN_ROWS: AtomicU16 = AtomicU16::new(0);
static HOOK: Once = Once::new();

/// Writes bytes straight to fd 1, ignoring errors: usable from a panic hook (no stdout lock)
/// and after a hang-up (EIO).
fn raw_write(bytes: &[u8]) {
    // SAFETY: writing a valid buffer to fd 1; the result is deliberately ignored.
    unsafe {
        libc::write(1, bytes.as_ptr().cast(), bytes.len());
    }
}

/// Puts the terminal back the way the shell wants it. Every step is tried on its own and its
/// error ignored, so one failure (ENXIO after a hang-up) cannot skip the rest.
pub fn restore_all() {
    if RAW.swap(false, Ordering::SeqCst) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
    raw_write(b"\x1b[0m");
    if ALT.swap(false, Ordering::SeqCst) {
        // The bottom line and a new line first: a terminal that ignored the alternate screen
        // (GNU screen without `altscreen on`) then gives the shell a clean line; one that
        // honoured it puts its own screen and cursor back.
        raw_write(b"\x1b[999;1H\r\n\x1b[?25h\x1b[?1049l");
    } else {
        let rows = DRAWN_ROWS.swap(0, Ordering::SeqCst);
        if rows > 0 {
            // Clear what was drawn in the main screen and leave the prompt at its top.
            raw_write(b"\x1b[H\x1b[J\x1b[?25h");
        } else {
            raw_write(b"\x1b[?25h");
        }
    }
}

fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_all();
            previous(info);
        }));
    });
}

/// True when both stdin and stdout are terminals.
pub fn is_interactive() -> bool {
    // SAFETY: isatty only inspects the descriptors.
    unsafe { libc::isatty(0) == 1 && libc::isatty(1) == 1 }
}

/// The kernel's idea of the size (often 0x0 on a serial line), from stdout, stdin or stderr.
/// Asked directly rather than through crossterm, which runs `tput` when the ioctl fails and
/// would report terminfo's 80x24 as if the kernel had said so.
pub fn kernel_size() -> Option<(u16, u16)> {
    for fd in [1, 0, 2] {
        // SAFETY: TIOCGWINSZ fills a winsize we own; failure leaves it untouched.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 {
            return Some((ws.ws_col, ws.ws_row));
        }
    }
    None
}

/// `COLUMNS`/`LINES` for a program given the terminal (an interactive step) when the kernel
/// does not know the size, as on a serial console that reports 0x0: full-screen programs
/// (less, nano, a diff pager) then use the size fieldbook works with instead of a guess or 0.
/// Nothing when the kernel knows the size or the technician set the variables already.
pub fn child_size_env(
    kernel: Option<(u16, u16)>,
    working: (u16, u16),
    already_set: bool,
) -> Vec<(String, String)> {
    let known = kernel.is_some_and(|(c, r)| c > 0 && r > 0);
    if known || already_set {
        return Vec::new();
    }
    vec![
        ("COLUMNS".to_string(), working.0.to_string()),
        ("LINES".to_string(), working.1.to_string()),
    ]
}

/// [`child_size_env`] for this process's terminal and environment.
pub fn child_size_env_here(working: (u16, u16)) -> Vec<(String, String)> {
    let set = std::env::var_os("COLUMNS").is_some() || std::env::var_os("LINES").is_some();
    child_size_env(kernel_size(), working, set)
}

/// Resolves the working size: `--size`, the kernel when both values are above zero,
/// COLUMNS/LINES, 80x24.
pub fn resolve_size(flag: Option<&str>) -> Result<ResolvedSize, String> {
    let columns = std::env::var("COLUMNS").ok();
    let lines = std::env::var("LINES").ok();
    profile::resolve_size(flag, kernel_size(), columns.as_deref(), lines.as_deref())
}

/// Signals the loop checks between batches of input.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// SIGTERM, SIGINT or SIGHUP arrived: restore and leave.
    pub terminate: Arc<AtomicBool>,
    /// SIGHUP arrived: the terminal is gone, so no more drawing.
    pub hangup: Arc<AtomicBool>,
    /// SIGCONT arrived (after a stop from outside): re-enter and redraw.
    pub resumed: Arc<AtomicBool>,
    /// SIGWINCH arrived: re-read the size. The loop reads the terminal itself (not through
    /// crossterm's event reader), so this flag is the one way a resize is seen.
    pub resized: Arc<AtomicBool>,
}

impl Signals {
    /// Registers the handlers (flags only; the loop does the work).
    pub fn register() -> io::Result<Signals> {
        use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGTERM};
        let s = Signals::default();
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal_hook::flag::register(sig, Arc::clone(&s.terminate))?;
        }
        signal_hook::flag::register(SIGHUP, Arc::clone(&s.hangup))?;
        signal_hook::flag::register(SIGCONT, Arc::clone(&s.resumed))?;
        signal_hook::flag::register(signal_hook::consts::SIGWINCH, Arc::clone(&s.resized))?;
        Ok(s)
    }

    /// Watches the terminal for a hang-up on a thread of its own. The loop normally sees the
    /// hang-up (flags, [`wait_for_input`] or a read of nothing) and leaves in order; but should
    /// the loop be stuck elsewhere when the line goes (a write to a terminal that is gone),
    /// after a grace period this watcher ends the process (exit 129, as for SIGHUP). Progress is already on
    /// disk (every change is saved), and the next start marks a step left running as
    /// interrupted.
    pub fn watch_for_hangup(&self) {
        let (hangup, terminate) = (Arc::clone(&self.hangup), Arc::clone(&self.terminate));
        std::thread::spawn(move || {
            loop {
                let mut fd = libc::pollfd {
                    fd: libc::STDIN_FILENO,
                    // No events asked: poll still reports a hang-up or an error.
                    events: 0,
                    revents: 0,
                };
                // SAFETY: one valid pollfd for the duration of the call.
                let n = unsafe { libc::poll(&mut fd, 1, 1000) };
                if n > 0 && fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                    hangup.store(true, Ordering::SeqCst);
                    terminate.store(true, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    std::process::exit(129);
                }
            }
        });
    }
}

/// What the terminal's input looks like after [`wait_for_input`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Bytes are waiting to be read.
    Ready,
    /// Nothing arrived within the wait.
    Idle,
    /// The terminal hung up (the SSH link or `xl console` went away, the pty master closed).
    HungUp,
}

/// Waits up to `wait` for the terminal (standard input) to have bytes, or to hang up.
///
/// Level-triggered, so bytes left unread are reported again (crossterm's edge-triggered reader
/// lost keys that arrived together with a resize). A hung-up terminal is reported as such, so
/// the loop never spins on zero-byte reads (seen once: a fieldbook whose tmux was killed burnt
/// a core for half an hour).
pub fn wait_for_input(wait: std::time::Duration) -> io::Result<Input> {
    let mut fd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut fd, 1, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(Input::Idle)
        } else {
            Err(e)
        };
    }
    if fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        Ok(Input::HungUp)
    } else if fd.revents & libc::POLLIN != 0 {
        Ok(Input::Ready)
    } else {
        Ok(Input::Idle)
    }
}

/// Like [`wait_for_input`], but a signal (a resize) does not cut the wait short.
pub fn wait_for_input_until(deadline: std::time::Instant) -> io::Result<Input> {
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let input = wait_for_input(left)?;
        if input != Input::Idle || left.is_zero() {
            return Ok(input);
        }
    }
}

/// Reads what is waiting on the terminal (standard input) into `buf`: the number of bytes, 0
/// when the terminal is gone (end of file, or the error a tty gives once its line hung up).
/// Call it after [`wait_for_input`] said `Ready`, so it does not block.
pub fn read_input(buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for writes of its length for the duration of the call.
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        if let Ok(n) = usize::try_from(n) {
            return Ok(n);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EIO) => return Ok(0),
            _ => return Err(e),
        }
    }
}

/// A terminal in raw mode drawing the app. Dropping it restores the terminal.
pub struct Session {
    /// The ratatui terminal over the frugal backend.
    pub terminal: Screen,
    /// The working size and where it came from.
    pub size: ResolvedSize,
    /// Drawing in the alternate screen.
    pub alt_screen: bool,
    /// How long an Esc at the end of the input waits for the rest of a split key sequence
    /// (`--esc-delay`).
    pub esc_delay: std::time::Duration,
    /// `--size` as given, to re-resolve on Ctrl-L and resize.
    size_flag: Option<String>,
}

impl Session {
    /// Enters raw mode (and the alternate screen unless `alt_screen` is false), hides the
    /// cursor and clears the drawing area.
    pub fn start(
        profile: &Profile,
        size: ResolvedSize,
        size_flag: Option<String>,
        alt_screen: bool,
    ) -> io::Result<Session> {
        install_panic_hook();
        crossterm::terminal::enable_raw_mode()?;
        RAW.store(true, Ordering::SeqCst);
        let mut out = io::stdout();
        if alt_screen {
            out.write_all(b"\x1b[?1049h")?;
            ALT.store(true, Ordering::SeqCst);
        } else {
            // Push the shell's output into the scrollback instead of drawing over it.
            out.write_all(&b"\n".repeat(size.rows.into()))?;
            DRAWN_ROWS.store(size.rows, Ordering::SeqCst);
        }
        out.flush()?;
        let area = Rect::new(0, 0, size.cols, size.rows);
        let backend = FrugalBackend::new(
            out,
            Size::new(size.cols, size.rows),
            profile.color,
            profile.sgr,
        );
        let mut terminal = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(area),
            },
        )?;
        terminal.hide_cursor()?;
        // Clears the area and resets the back buffer; unlike `clear()` it asks nothing.
        terminal.resize(area)?;
        Ok(Session {
            terminal,
            size,
            alt_screen,
            esc_delay: std::time::Duration::from_millis(profile::ESC_DELAY_MS),
            size_flag,
        })
    }

    /// Re-reads the size; when `force` or the size changed, repaints every cell. Returns the
    /// new size.
    pub fn refresh(&mut self, force: bool) -> io::Result<ResolvedSize> {
        let new = resolve_size(self.size_flag.as_deref()).unwrap_or(self.size);
        if force || (new.cols, new.rows) != (self.size.cols, self.size.rows) {
            self.size = new;
            if !self.alt_screen {
                DRAWN_ROWS.store(new.rows, Ordering::SeqCst);
            }
            let area = Rect::new(0, 0, new.cols, new.rows);
            let backend = self.terminal.backend_mut();
            backend.set_size(Size::new(new.cols, new.rows));
            backend.forget_state();
            self.terminal.hide_cursor()?;
            self.terminal.resize(area)?;
        }
        self.size = new;
        Ok(new)
    }

    /// Gives the terminal back to the shell and stops the process (Ctrl-Z); on `fg` takes it
    /// back and repaints. A process without a job-control shell is not stopped at all
    /// (the kernel discards SIGTSTP for an orphaned process group), so it cannot hang.
    pub fn suspend(&mut self) -> io::Result<()> {
        let alt = self.alt_screen;
        restore_all();
        // SAFETY: raising a signal at ourselves.
        unsafe {
            libc::raise(libc::SIGTSTP);
        }
        self.reenter(alt)
    }

    /// Re-enters raw mode and the screen after a stop/continue from outside.
    pub fn reenter(&mut self, alt: bool) -> io::Result<()> {
        crossterm::terminal::enable_raw_mode()?;
        RAW.store(true, Ordering::SeqCst);
        if alt {
            raw_write(b"\x1b[?1049h");
            ALT.store(true, Ordering::SeqCst);
        } else {
            DRAWN_ROWS.store(self.size.rows, Ordering::SeqCst);
        }
        self.refresh(true).map(|_| ())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        restore_all();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_child_learns_the_size_only_when_the_kernel_does_not_know_it() {
        let env = |pairs: Vec<(String, String)>| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            env(super::child_size_env(Some((0, 0)), (80, 24), false)),
            ["COLUMNS=80", "LINES=24"]
        );
        assert_eq!(
            env(super::child_size_env(None, (100, 30), false)),
            ["COLUMNS=100", "LINES=30"]
        );
        assert!(super::child_size_env(Some((132, 43)), (80, 24), false).is_empty());
        assert!(super::child_size_env(Some((0, 0)), (80, 24), true).is_empty());
    }
}
