//! Facts about this machine and session that a run records: who is working, the host name,
//! the boot id (a changed boot id means the machine rebooted).

use std::path::Path;

/// Where Linux publishes a random id that changes at every boot.
pub const BOOT_ID_PATH: &str = "/proc/sys/kernel/random/boot_id";

/// The person doing the work: `$SUDO_USER` (the technician behind `sudo`), else `$USER` or
/// `$LOGNAME`, else `uid N`. Recorded on every attempt and note for the handover.
pub fn who() -> String {
    for var in ["SUDO_USER", "USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return v.trim().to_string();
        }
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    format!("uid {}", unsafe { libc::getuid() })
}

/// This machine's host name; the default target of a run. `localhost` if it cannot be read.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
        if !name.is_empty() {
            return name;
        }
    }
    "localhost".into()
}

/// The current boot id, if the kernel publishes one (Linux). Stored with each attempt so a
/// `running` step found after a reboot is known to be interrupted even if its pid was reused.
pub fn boot_id() -> Option<String> {
    read_boot_id(Path::new(BOOT_ID_PATH))
}

fn read_boot_id(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let id = text.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// Test helper: a process whose command line says fieldbook, like a real supervisor; returns
/// once it has exec'd (right after spawn, /proc may still show the parent or nothing).
#[cfg(test)]
pub(crate) fn spawn_fake_supervisor() -> std::process::Child {
    let child = std::process::Command::new("sh")
        .args(["-c", "sleep 30", "fieldbook-supervise"])
        .spawn()
        .expect("spawn sh");
    let cmdline = format!("/proc/{}/cmdline", child.id());
    for _ in 0..500 {
        // What a supervisor's liveness check looks for: "fieldbook" in its command line.
        if std::fs::read(&cmdline).is_ok_and(|c| c.windows(9).any(|w| w == b"fieldbook")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_session_has_a_who_and_a_host() {
        assert!(!who().is_empty());
        assert!(!hostname().is_empty());
    }

    #[test]
    fn boot_id_reads_trimmed_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("boot_id");
        std::fs::write(&p, "abc-123\n").unwrap();
        assert_eq!(read_boot_id(&p).as_deref(), Some("abc-123"));
        std::fs::write(&p, "").unwrap();
        assert_eq!(read_boot_id(&p), None);
        assert_eq!(read_boot_id(&dir.path().join("missing")), None);
    }
}
