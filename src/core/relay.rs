//! Interactive programs (`yum install`, `emerge --ask`, `etc-update`) under a pseudo-terminal
//! that fieldbook relays, as `script(1)` does: the technician's keys go to the program, the
//! program's bytes go to the technician's terminal *and* to the step's log, the window size is
//! passed on, and a terminal that hangs up ends the program (recorded as interrupted, never as
//! a failure of the program).
//!
//! Only the relay is here; the caller gives up its own screen first and takes it back after.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::runner::{self, Command};

/// Bytes of the program's output kept in memory for the screen after it ends (the log keeps
/// every byte).
pub const TAIL_BYTES: usize = 64 * 1024;

/// The technician's terminal as the relay sees it.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    /// Where keys come from (standard input).
    pub input: RawFd,
    /// Where the program's output goes (standard output).
    pub output: RawFd,
    /// The size to give the program when the terminal does not know its own (a serial
    /// console reporting 0x0): columns, rows.
    pub fallback_size: (u16, u16),
}

impl Terminal {
    /// This process's standard input and output.
    pub fn stdio(fallback_size: (u16, u16)) -> Terminal {
        Terminal {
            input: libc::STDIN_FILENO,
            output: libc::STDOUT_FILENO,
            fallback_size,
        }
    }
}

/// How a relayed program ended.
#[derive(Debug)]
pub struct Relayed {
    /// Its exit status.
    pub status: ExitStatus,
    /// The technician's terminal went away while it ran (the program was sent SIGHUP).
    pub hung_up: bool,
    /// The last [`TAIL_BYTES`] bytes it printed.
    pub tail: Vec<u8>,
}

/// Runs `command` on a new pseudo-terminal and relays it to `term` until it ends; every byte
/// it prints is also written to `log`. `stop` set from outside (SIGHUP, SIGTERM) ends it as a
/// hang-up does.
pub fn run(
    command: &Command,
    extra_env: &[(String, String)],
    term: Terminal,
    mut log: Option<&mut dyn Write>,
    stop: &AtomicBool,
) -> io::Result<Relayed> {
    let program = runner::find_program(command).map_err(io::Error::other)?;
    let size = window_size(term);
    let (master, slave) = open_pty(size)?;
    let child = spawn(&program, command, extra_env, &slave)?;
    drop(slave);
    let raw = RawMode::enter(term.input);
    let result = relay(&master, child, term, &mut log, stop);
    drop(raw);
    result
}

fn relay(
    master: &OwnedFd,
    mut child: Child,
    term: Terminal,
    log: &mut Option<&mut dyn Write>,
    stop: &AtomicBool,
) -> io::Result<Relayed> {
    let mut tail: Vec<u8> = Vec::new();
    let mut hung_up = false;
    let mut input_open = true;
    let mut size = window_size(term);
    let mut buf = [0u8; 8192];
    let mut exited: Option<(ExitStatus, Instant)> = None;
    loop {
        if !hung_up && stop.load(Ordering::SeqCst) {
            hung_up = true;
            hang_up(&child);
        }
        let now = window_size(term);
        if now != size {
            size = now;
            set_size(master.as_raw_fd(), size);
        }
        let mut fds = [
            libc::pollfd {
                fd: master.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if input_open { term.input } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, 100) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
            continue;
        }
        let mut master_done = false;
        if fds[0].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            match read_fd(master.as_raw_fd(), &mut buf) {
                // EIO: every slave descriptor is closed (the program and its children ended).
                Ok(0) | Err(_) => master_done = true,
                Ok(k) => {
                    let bytes = &buf[..k];
                    if !hung_up {
                        write_all_fd(term.output, bytes);
                    }
                    if let Some(l) = log.as_mut() {
                        let _ = l.write_all(bytes);
                    }
                    tail.extend_from_slice(bytes);
                    if tail.len() > TAIL_BYTES {
                        tail.drain(..tail.len() - TAIL_BYTES);
                    }
                }
            }
        }
        if input_open && fds[1].revents != 0 {
            let gone = fds[1].revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0;
            let read = if fds[1].revents & libc::POLLIN != 0 {
                read_fd(term.input, &mut buf)
            } else {
                Ok(0)
            };
            match read {
                Ok(k) if k > 0 && !gone => write_all_fd(master.as_raw_fd(), &buf[..k]),
                _ => {
                    // The link dropped: the program is told as it would be on a real terminal.
                    input_open = false;
                    if !hung_up {
                        hung_up = true;
                        hang_up(&child);
                    }
                }
            }
        }
        if exited.is_none()
            && let Some(status) = child.try_wait()?
        {
            exited = Some((status, Instant::now()));
        }
        // Done when the program has ended and its output is drained (or a background child
        // still holds the pty open a little after it: stop waiting after a moment).
        if let Some((status, at)) = exited
            && (master_done || at.elapsed() > Duration::from_millis(500))
        {
            if let Some(l) = log.as_mut() {
                let _ = l.flush();
            }
            return Ok(Relayed {
                status,
                hung_up,
                tail,
            });
        }
        if master_done && exited.is_none() {
            // Output closed but the program lives on (it closed its terminal): wait for it.
            let status = child.wait()?;
            return Ok(Relayed {
                status,
                hung_up,
                tail,
            });
        }
    }
}

/// Ends the program as a hang-up of a real terminal would: SIGHUP and SIGCONT to its process
/// group (it leads its own session), SIGTERM if it is still there a moment later.
fn hang_up(child: &Child) {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: signalling the process group of a child we started in its own session.
    unsafe {
        libc::kill(-pid, libc::SIGHUP);
        libc::kill(-pid, libc::SIGCONT);
    }
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        // SAFETY: as above; a group that is gone makes this a no-op (ESRCH).
        unsafe {
            libc::kill(-pid, libc::SIGTERM);
        }
    });
}

fn spawn(
    program: &std::path::Path,
    command: &Command,
    extra_env: &[(String, String)],
    slave: &OwnedFd,
) -> io::Result<Child> {
    let stdio = || -> io::Result<Stdio> { Ok(Stdio::from(slave.try_clone()?)) };
    let mut cmd = std::process::Command::new(program);
    cmd.args(&command.argv[1..])
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .stdin(stdio()?)
        .stdout(stdio()?)
        .stderr(stdio()?);
    // SAFETY: only async-signal-safe calls between fork and exec: a new session whose
    // controlling terminal is the pty (standard input is its slave by now).
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// The size to give the program: the technician's terminal's, else the fallback.
fn window_size(term: Terminal) -> (u16, u16) {
    for fd in [term.output, term.input] {
        // SAFETY: TIOCGWINSZ fills a winsize we own; failure leaves it untouched.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0
            && ws.ws_col > 0
            && ws.ws_row > 0
        {
            return (ws.ws_col, ws.ws_row);
        }
    }
    term.fallback_size
}

fn set_size(fd: RawFd, (cols, rows): (u16, u16)) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize we own; the kernel sends SIGWINCH to the program.
    unsafe {
        libc::ioctl(fd, libc::TIOCSWINSZ, &ws);
    }
}

/// A new pseudo-terminal of `size`: (master, slave). The master is close-on-exec, so the
/// program never holds it.
fn open_pty((cols, rows): (u16, u16)) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty fills two descriptors we then own; name and termios may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    // SAFETY: setting FD_CLOEXEC on descriptors we own. The program gets the slave as its
    // standard streams (dup2 clears the flag there) and never holds the master; programs
    // other threads start meanwhile hold neither.
    unsafe {
        libc::fcntl(master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(slave.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
    }
    Ok((master, slave))
}

fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reading into a buffer we own, at most its length.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// Writes every byte, retrying short writes; a terminal that went away drops the rest.
fn write_all_fd(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writing from a buffer we own, at most its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        match usize::try_from(n) {
            Ok(0) => return,
            Ok(k) => bytes = &bytes[k..],
            Err(_) => {
                if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                    return;
                }
            }
        }
    }
}

/// The technician's terminal in raw mode while the program has it (its own pty does the line
/// editing and turns Ctrl-C into the program's SIGINT); restored on drop. Nothing happens when
/// the input is not a terminal.
struct RawMode {
    fd: RawFd,
    saved: Option<libc::termios>,
}

impl RawMode {
    fn enter(fd: RawFd) -> RawMode {
        // SAFETY: tcgetattr fills a termios we own; failure (not a terminal) leaves None.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
            return RawMode { fd, saved: None };
        }
        let saved = t;
        // SAFETY: cfmakeraw edits our copy; tcsetattr applies it to the terminal.
        unsafe {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(fd, libc::TCSANOW, &t);
        }
        RawMode {
            fd,
            saved: Some(saved),
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = self.saved {
            // SAFETY: restoring the settings read in `enter`.
            unsafe {
                libc::tcsetattr(self.fd, libc::TCSANOW, &t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        Command {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: Vec::new(),
        }
    }

    /// A pipe pair standing in for the technician's terminal: (keys in, keys out), (screen in,
    /// screen out).
    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two descriptors we then own (close-on-exec, so programs started
        // by tests running alongside never hold an end open).
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn read_all(fd: &OwnedFd) -> Vec<u8> {
        // SAFETY: non-blocking reads of a pipe we own.
        unsafe {
            libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK);
        }
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = read_fd(fd.as_raw_fd(), &mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn keys_reach_the_program_and_its_output_reaches_screen_and_log() {
        let (keys_r, keys_w) = pipe();
        let (screen_r, screen_w) = pipe();
        write_all_fd(keys_w.as_raw_fd(), b"yes\r");
        let term = Terminal {
            input: keys_r.as_raw_fd(),
            output: screen_w.as_raw_fd(),
            fallback_size: (100, 30),
        };
        let mut log = Vec::new();
        let stop = AtomicBool::new(false);
        let r = run(
            &sh("printf 'Proceed? '; read a; echo \"got:$a\"; stty size; exit 3"),
            &[],
            term,
            Some(&mut log),
            &stop,
        )
        .unwrap();
        drop(keys_w);
        assert_eq!(r.status.code(), Some(3));
        assert!(!r.hung_up);
        let screen = read_all(&screen_r);
        let text = String::from_utf8_lossy(&screen);
        assert!(text.contains("Proceed?"), "{text}");
        assert!(text.contains("got:yes"), "{text}");
        // The window size reached the program (pipes have none: the fallback).
        assert!(text.contains("30 100"), "{text}");
        assert_eq!(log, screen, "the log has every byte the screen got");
        assert_eq!(r.tail, log);
    }

    #[test]
    fn a_terminal_that_goes_away_ends_the_program_as_a_hang_up() {
        let (keys_r, keys_w) = pipe();
        let (_screen_r, screen_w) = pipe();
        let term = Terminal {
            input: keys_r.as_raw_fd(),
            output: screen_w.as_raw_fd(),
            fallback_size: (80, 24),
        };
        let stop = AtomicBool::new(false);
        let started = Instant::now();
        let handle = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(keys_w);
        });
        let r = run(&sh("read a; sleep 30"), &[], term, None, &stop).unwrap();
        handle.join().unwrap();
        assert!(r.hung_up);
        assert!(!r.status.success());
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_missing_program_is_an_error_naming_it() {
        let stop = AtomicBool::new(false);
        let cmd = Command {
            argv: vec!["fieldbook-no-such-program".into()],
            env: Vec::new(),
        };
        let e = run(&cmd, &[], Terminal::stdio((80, 24)), None, &stop).unwrap_err();
        assert!(e.to_string().contains("fieldbook-no-such-program"), "{e}");
    }
}
