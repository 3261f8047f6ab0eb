//! Which files and processes belong to one attempt of a long step. A verdict, a job file or a
//! live supervisor is believed only when it carries the attempt's nonce (a random token the
//! store makes when the attempt starts), and a supervisor is recognised by its pid together
//! with its start time (`/proc/PID/stat` field 22), so a stale `<log>.exit` of an older run or a
//! pid the kernel gave to another process never passes for this attempt.
//!
//! The nonce travels as `FIELDBOOK_ATTEMPT` in the supervisor's environment, which its programs
//! inherit: a program left running by a killed supervisor is found by it (its orphaned group).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The environment variable carrying the attempt's nonce to its supervisor and programs.
pub const ATTEMPT_ENV: &str = "FIELDBOOK_ATTEMPT";

/// A fresh nonce: 16 hex digits from the kernel's random source (time and pid if it is
/// unreadable, which still differs between attempts).
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 8];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if random.is_err() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mixed = (now as u64) ^ (u64::from(std::process::id()) << 40);
        bytes = mixed.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// True for a string that can be a nonce (what a reader accepts from a file).
pub fn is_nonce(text: &str) -> bool {
    (8..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `<log>.attempt`: the nonce of the attempt that owns `log`, written by the store when the
/// attempt starts (never over an existing file).
pub fn nonce_path(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push(".attempt");
    PathBuf::from(s)
}

/// Writes `<log>.attempt` (owner-only, refusing an existing file or link).
pub fn write_nonce(log: &Path, nonce: &str) -> std::io::Result<()> {
    use std::io::Write;
    let path = nonce_path(log);
    let mut f = super::atomic::private_options()
        .write(true)
        .create_new(true)
        .open(&path)?;
    let written = f
        .write_all(format!("{nonce}\n").as_bytes())
        .and_then(|()| f.sync_all());
    if written.is_err() {
        // Ours and incomplete (a full disk): gone, so it can be written again.
        let _ = std::fs::remove_file(&path);
    }
    written
}

/// Reads `<log>.attempt` (`None` for an attempt of an older fieldbook, which has none).
pub fn read_nonce(log: &Path) -> Option<String> {
    let bytes = super::atomic::read_nofollow(&nonce_path(log)).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let nonce = text.trim();
    is_nonce(nonce).then(|| nonce.to_string())
}

/// True when a file that says it belongs to attempt `found` may be believed for an attempt
/// whose nonce is `expected`. An attempt without a nonce (recorded by an older fieldbook)
/// accepts what it finds, as before.
pub fn belongs(expected: Option<&str>, found: Option<&str>) -> bool {
    match expected {
        None => true,
        Some(e) => found == Some(e),
    }
}

/// A process's start time in clock ticks after boot (`/proc/PID/stat` field 22); `None` when
/// the process does not exist or `/proc` cannot tell.
pub fn start_time(pid: u32) -> Option<u64> {
    stat_fields(pid)?.start
}

/// The fields of `/proc/PID/stat` that identify a process and its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    state: char,
    pgrp: i64,
    start: Option<u64>,
}

fn stat_fields(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses `/proc/PID/stat`; the command name (field 2) may hold spaces and parentheses, so
/// fields are counted after its last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): field N is fields[N - 3].
    Some(Stat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start: fields.get(19).and_then(|s| s.parse().ok()),
    })
}

/// The value of `FIELDBOOK_ATTEMPT` in a process's environment: `Ok(None)` when it has none,
/// `Err` when the environment cannot be read (another user's process, no /proc).
fn attempt_of(pid: u32) -> std::io::Result<Option<String>> {
    let env = std::fs::read(format!("/proc/{pid}/environ"))?;
    let key = format!("{ATTEMPT_ENV}=");
    Ok(env
        .split(|&b| b == 0)
        .find_map(|v| v.strip_prefix(key.as_bytes()))
        .map(|v| String::from_utf8_lossy(v).into_owned()))
}

/// A long step's supervisor as recorded when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervisor {
    /// Its pid, which is also the process group of its programs.
    pub pid: u32,
    /// Its start time (field 22 of `/proc/PID/stat`), `None` if unknown (older record).
    pub started: Option<u64>,
    /// The attempt's nonce, `None` for an older record.
    pub nonce: Option<String>,
}

impl Supervisor {
    /// The supervisor with this pid as it is now (for a caller that just started it).
    pub fn now(pid: u32, nonce: Option<String>) -> Supervisor {
        Supervisor {
            pid,
            started: start_time(pid),
            nonce,
        }
    }

    /// True while this very supervisor runs: the pid exists and is no zombie, it started when
    /// recorded, and it is a fieldbook supervisor of this attempt (its environment carries the
    /// nonce where it can be read, its command line says fieldbook).
    pub fn alive(&self) -> bool {
        if self.pid == 0 || i32::try_from(self.pid).is_err() {
            return false;
        }
        if !Path::new("/proc/self").exists() {
            // No /proc: existence is all that can be told.
            // SAFETY: signal 0 only checks for existence.
            return unsafe { libc::kill(self.pid as i32, 0) } == 0;
        }
        let Some(stat) = stat_fields(self.pid) else {
            return false;
        };
        if matches!(stat.state, 'Z' | 'X') {
            return false;
        }
        if self.started.is_some() && stat.start != self.started {
            return false;
        }
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", self.pid)).unwrap_or_default();
        if !cmdline.windows(9).any(|w| w == b"fieldbook") {
            return false;
        }
        self.carries_nonce(self.pid)
    }

    /// False only when the process's environment is readable and names another attempt (a
    /// process without one, e.g. of an older fieldbook, is judged by pid and start time).
    fn carries_nonce(&self, pid: u32) -> bool {
        let Some(nonce) = &self.nonce else {
            return true;
        };
        match attempt_of(pid) {
            Ok(found) => found.is_none_or(|f| &f == nonce),
            Err(_) => true,
        }
    }

    /// Programs of this attempt still running after their supervisor died: the members of its
    /// process group (the pid cannot be reused while the group has members) that started after
    /// it and, where their environment can be read, carry this attempt's nonce. Empty while the
    /// supervisor itself is alive (they are not orphans then) or when `/proc` cannot tell.
    pub fn orphans(&self) -> Vec<u32> {
        if self.pid == 0 || self.alive() {
            return Vec::new();
        }
        let Ok(listing) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut found: Vec<u32> = listing
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| self.is_orphan(pid))
            .collect();
        found.sort_unstable();
        found
    }

    fn is_orphan(&self, pid: u32) -> bool {
        let Some(stat) = stat_fields(pid) else {
            return false;
        };
        if stat.pgrp != i64::from(self.pid) || matches!(stat.state, 'Z' | 'X') {
            return false;
        }
        let after = match (self.started, stat.start) {
            (Some(sup), Some(p)) => p >= sup,
            _ => true,
        };
        after && self.names_this_attempt(pid)
    }

    /// For a program found in the group: its environment must carry this attempt's nonce
    /// where it can be read (a process of the same group id without it is someone else's,
    /// after the pid was reused). Without a recorded nonce, group and start time decide.
    fn names_this_attempt(&self, pid: u32) -> bool {
        let Some(nonce) = &self.nonce else {
            return true;
        };
        match attempt_of(pid) {
            Ok(found) => found.as_deref() == Some(nonce.as_str()),
            Err(_) => true,
        }
    }

    /// Stops the orphaned programs: SIGTERM, then SIGKILL to what is left after `grace`.
    /// Returns the pids that were found.
    pub fn stop_orphans(&self, grace: Duration) -> Vec<u32> {
        let found = self.orphans();
        for sig in [libc::SIGTERM, libc::SIGKILL] {
            for &pid in &found {
                if self.is_orphan(pid) {
                    // SAFETY: kill only sends a signal to a process checked just now.
                    unsafe {
                        libc::kill(pid as i32, sig);
                    }
                }
            }
            let deadline = std::time::Instant::now() + grace;
            while std::time::Instant::now() < deadline && !self.orphans().is_empty() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        found
    }

    /// True when signalling process group `pid` reaches this attempt's processes: the group
    /// leader is this supervisor, or it is gone and only its programs are left (a group id is
    /// never reused while it has members). False when the pid now belongs to another process.
    pub fn owns_group(&self) -> bool {
        match stat_fields(self.pid) {
            None => true,
            Some(stat) if matches!(stat.state, 'Z' | 'X') => true,
            Some(stat) => {
                (self.started.is_none() || stat.start == self.started)
                    && self.carries_nonce(self.pid)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn nonces_differ_and_read_back() {
        let a = new_nonce();
        let b = new_nonce();
        assert_ne!(a, b);
        assert!(is_nonce(&a), "{a}");
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("s.1.log");
        assert_eq!(read_nonce(&log), None);
        write_nonce(&log, &a).unwrap();
        assert_eq!(read_nonce(&log), Some(a.clone()));
        // Never over an existing file: a path is owned by one attempt.
        assert!(write_nonce(&log, &b).is_err());
        assert!(belongs(Some(&a), Some(&a)));
        assert!(!belongs(Some(&a), Some(&b)));
        assert!(!belongs(Some(&a), None));
        assert!(belongs(None, None));
    }

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let text = "123 (a) b (c) S 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 0 0";
        let s = parse_stat(text).unwrap();
        assert_eq!((s.state, s.pgrp, s.start), ('S', 77, Some(98765)));
        assert!(start_time(std::process::id()).is_some());
        assert_eq!(start_time(u32::MAX), None);
    }

    /// A process like a supervisor of attempt `nonce`: `fieldbook` in its command line and
    /// the nonce in its environment; returns once it has exec'd.
    fn fake_supervisor(nonce: &str) -> std::process::Child {
        let child = std::process::Command::new("sh")
            .args(["-c", "sleep 30; :", "fieldbook-supervise"])
            .env(ATTEMPT_ENV, nonce)
            .spawn()
            .expect("spawn sh");
        for _ in 0..500 {
            let c = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
            if c.windows(9).any(|w| w == b"fieldbook") {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child
    }

    #[test]
    fn a_reused_group_id_is_no_orphan() {
        // A process that leads its own group, as a later login shell with the dead
        // supervisor's pid would: it is not the attempt's program.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env_remove(ATTEMPT_ENV)
            .process_group(0)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let dead = Supervisor {
            pid: child.id(),
            started: start_time(child.id()).map(|s| s.saturating_sub(1)),
            nonce: Some("0123456789abcdef".into()),
        };
        assert!(!dead.alive());
        assert_eq!(dead.orphans(), Vec::<u32>::new());
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn a_reused_pid_is_not_the_supervisor() {
        let mut child = fake_supervisor("aaaabbbbccccdddd");
        let real = Supervisor::now(child.id(), Some("aaaabbbbccccdddd".into()));
        assert!(real.alive());
        let older = Supervisor {
            started: real.started.map(|s| s.saturating_sub(1)),
            ..real.clone()
        };
        assert!(!older.alive(), "another start time is another process");
        assert!(!older.owns_group(), "cancel must not signal it");
        let other_attempt = Supervisor {
            nonce: Some("00112233aabbccdd".into()),
            ..real.clone()
        };
        assert!(
            !other_attempt.alive(),
            "its environment names no such attempt"
        );
        let _ = child.kill();
        let _ = child.wait();
        assert!(!real.alive());
        assert!(real.owns_group());
    }
}
