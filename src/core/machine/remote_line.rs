//! The remote command lines fieldbook sends over ssh, built here and nowhere else. ssh joins
//! its arguments into one string for the remote user's shell, so every value goes through the
//! project's one POSIX quoter ([`shell_quote`]); the scripts themselves are fixed text that
//! receives values only as positional parameters (`"$1"`, `"$@"`), never spliced in.
//!
//! What the host needs: `sh`, `cat`, `mv`, `chmod`, `chown`, `kill`, `nohup`, `tail`, plus
//! `ls`, `mkdir` and `rm`, and `grep -F` for a long step with `ok_output` (all in ClearOS 5
//! and in busybox); `setsid` is used when present.

use crate::core::shell_quote::{self, quote};

/// True for a name usable as a shell variable (`FB_lan_ip`), the only names exported remotely.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `NAME='value'; export NAME; ` for each variable (names that are not shell names are
/// refused by the caller before this).
pub fn exports(env: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in env {
        out.push_str(&format!("{k}={}; export {k}; ", quote(v)));
    }
    out
}

/// Run by `sh -c` for a captured program: records its process group (sshd starts every
/// session in a new session, and `exec` keeps the login shell's pid, so `$$` is the group),
/// runs the argv, and records the program's own exit so an exit 255 is not mistaken for ssh's.
const CAPTURED: &str = "m=$1; shift; echo $$ >\"$m\"; \"$@\"; s=$?; echo $s >\"$m.exit\"; exit $s";

/// The remote line for a captured program: `argv` runs as exactly that argv, `mark` is the
/// remote path prefix for its group and exit files.
pub fn captured(argv: &[String], env: &[(String, String)], mark: &str) -> String {
    let mut words = vec!["sh".to_string(), "-c".into(), CAPTURED.into(), "sh".into()];
    words.push(mark.to_string());
    words.extend(argv.iter().cloned());
    format!("{}exec {}", exports(env), shell_quote::join(&words))
}

/// The remote line for an interactive program (under `ssh -t`): the terminal size as
/// COLUMNS/LINES, then the argv under the same wrapper as a captured program, so its own exit
/// is recorded at `mark` out of band and an exit 255 of its own is not taken for ssh's.
pub fn interactive(
    argv: &[String],
    env: &[(String, String)],
    (cols, rows): (u16, u16),
    mark: &str,
) -> String {
    let mut all = vec![
        ("COLUMNS".to_string(), cols.to_string()),
        ("LINES".to_string(), rows.to_string()),
    ];
    all.extend(env.iter().cloned());
    captured(argv, &all, mark)
}

/// Sends signal number `sig` to the group recorded at `mark` (falling back to the leader where
/// a negative pid is not understood). `kill -N -PGID` is the one spelling dash, busybox ash and
/// bash all take (dash refuses `--`, busybox refuses `-s N -PGID`).
pub fn signal(mark: &str, sig: i32) -> String {
    let script = "m=$1; s=$2; [ -f \"$m\" ] || exit 0; read p <\"$m\"; \
                  kill -\"$s\" -\"$p\" 2>/dev/null || kill -\"$s\" \"$p\" 2>/dev/null; exit 0";
    shell_quote::join(&["sh", "-c", script, "sh", mark, &sig.to_string()])
}

/// Exits 0 while any process of the group recorded at `mark` is left.
pub fn group_alive(mark: &str) -> String {
    let script =
        "read p <\"$1\" || exit 1; kill -0 -\"$p\" 2>/dev/null || kill -0 \"$p\" 2>/dev/null";
    shell_quote::join(&["sh", "-c", script, "sh", mark])
}

/// Prints the program's own exit code recorded at `mark`, if it got that far.
pub fn exit_of(mark: &str) -> String {
    shell_quote::join(&[
        "sh",
        "-c",
        "cat \"$1.exit\" 2>/dev/null; exit 0",
        "sh",
        mark,
    ])
}

/// Removes the group and exit files of one session's captured programs (`marks/NONCE-*`),
/// when the session closes: nothing reads them after that, and a session runs hundreds.
pub fn forget_marks(dir: &str, nonce: &str) -> String {
    shell_quote::join(&[
        "sh",
        "-c",
        "rm -f \"$1/marks/$2-\"*; exit 0",
        "sh",
        dir,
        nonce,
    ])
}

/// Marker the open probe prints before the remote directory it settled on.
pub const DIR_MARK: &str = "fieldbook-remote-dir ";

/// Checks the host has a POSIX sh and prepares the private remote directory: `dir`, or
/// `/var/tmp/fieldbook-USER` when empty. Refused if it is a symbolic link or belongs to someone
/// else; created 0700. Prints [`DIR_MARK`] and the directory.
pub fn open_probe(dir: &str) -> String {
    let script = r#"d=$1
if [ -z "$d" ]; then
  u=${USER:-$LOGNAME}; [ -n "$u" ] || u=$(id -un 2>/dev/null); d=/var/tmp/fieldbook-$u
fi
if [ -h "$d" ]; then echo "fieldbook: $d is a symbolic link; refusing to use it" >&2; exit 3; fi
if [ ! -d "$d" ]; then (umask 077 && mkdir "$d") || { echo "fieldbook: cannot create $d" >&2; exit 3; }; fi
: >"$d/.owner.$$" 2>/dev/null || { echo "fieldbook: $d is not writable by this user" >&2; exit 3; }
set -- $(ls -ldn "$d"); downer=$3
set -- $(ls -ln "$d/.owner.$$"); me=$3
rm -f "$d/.owner.$$"
if [ "$downer" != "$me" ]; then
  echo "fieldbook: $d belongs to uid $downer, not to this user (uid $me); refusing to use it" >&2; exit 3
fi
chmod 700 "$d" || exit 3
mkdir -p "$d/marks" "$d/steps" "$d/archive" || exit 3
echo "fieldbook-remote-dir $d""#;
    shell_quote::join(&["sh", "-c", script, "sh", dir])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "a'b $HOME; rm -rf / `id` $(id)\nnext";

    /// A real sh reads the remote line back: the hostile value arrives as one literal argument
    /// and as the exported variable, and the exit file records the program's exit.
    #[test]
    fn a_real_shell_runs_the_captured_line_literally() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("m").display().to_string();
        let argv = vec![
            "sh".to_string(),
            "-c".into(),
            "printf '[%s]' \"$1\" \"$FB_v\"; exit 7".into(),
            "x".into(),
            HOSTILE.into(),
        ];
        let line = captured(&argv, &[("FB_v".into(), HOSTILE.into())], &mark);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(7));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("[{HOSTILE}][{HOSTILE}]")
        );
        let exit = std::fs::read_to_string(format!("{mark}.exit")).unwrap();
        assert_eq!(exit.trim(), "7");
        let pid: u32 = std::fs::read_to_string(&mark)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(pid > 0);
    }

    #[test]
    fn env_names_are_shell_names() {
        assert!(is_env_name("FB_lan_ip"));
        assert!(!is_env_name("FB-x"));
        assert!(!is_env_name("1x"));
        assert!(!is_env_name("a;b"));
        assert!(!is_env_name(""));
    }

    #[test]
    fn the_open_probe_makes_a_private_dir_and_refuses_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("fb").display().to_string();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(open_probe(&d))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{DIR_MARK}{d}")));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let link = dir.path().join("link").display().to_string();
        std::os::unix::fs::symlink(&d, &link).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(open_probe(&link))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
    }
}
