//! Writing a file on the host atomically (a temporary file beside it, its mode and owner, then `mv`), and listing a rules directory.

use super::*;
use crate::core::apply::{EditError, Node};
use crate::core::machine::SshSession;
use crate::core::shell_quote;

/// Writes `node` at `path` on the host and reads it back. For a file: a temporary file in the
/// same directory with `mode` and `owner`, then `mv`; `archive` keeps a copy of the original.
pub fn write(
    session: &SshSession,
    path: &str,
    node: &Node,
    owner: Option<(u32, u32)>,
    archive: Option<&str>,
) -> Result<(), EditError> {
    let name = path.rsplit('/').next().unwrap_or("file");
    let tmp = format!(
        "{}/.{name}.fieldbook-tmp",
        parent_of(path).trim_end_matches('/')
    );
    let (uid, gid) = owner.map_or((String::new(), String::new()), |(u, g)| {
        (u.to_string(), g.to_string())
    });
    let archive_dir = archive.map(parent_of).unwrap_or_default();
    let keep = r#"p=$1; t=$2; a=$3; ad=$4
if [ -n "$a" ] && [ -f "$p" ] && [ ! -h "$p" ]; then
  (umask 077; mkdir -p "$ad" && cat "$p" >"$a") || { echo "cannot keep a copy of $p in $ad" >&2; exit 5; }
fi
rm -f "$t""#;
    let (script, stdin): (String, Option<&[u8]>) = match node {
        Node::File { content, .. } => (
            format!(
                r#"{keep}
m=$5; u=$6; g=$7
if ! (umask 077; cat >"$t"); then rm -f "$t"; echo "writing $p failed; the original is unchanged" >&2; exit 4; fi
if [ -n "$u" ]; then
  set -- $(ls -ldn "$t")
  if [ "$3:$4" != "$u:$g" ]; then chown "$u:$g" "$t" || {{ rm -f "$t"; echo "cannot keep the owner $u:$g of $p" >&2; exit 4; }}; fi
fi
chmod "$m" "$t" || {{ rm -f "$t"; exit 4; }}
mv -f "$t" "$p" || {{ rm -f "$t"; echo "replacing $p failed; the original is unchanged" >&2; exit 4; }}"#
            ),
            Some(content.as_bytes()),
        ),
        Node::Link { .. } => (
            format!(
                "{keep}\nln -s \"$5\" \"$t\" && mv -f \"$t\" \"$p\" || {{ rm -f \"$t\"; exit 4; }}"
            ),
            None,
        ),
        Node::Missing => (format!("{keep}\nrm -f \"$p\" || exit 4"), None),
    };
    let fifth = match node {
        Node::File { mode, .. } => format!("{mode:o}"),
        Node::Link { target } => target.clone(),
        Node::Missing => String::new(),
    };
    let line = shell_quote::join(&[
        "sh",
        "-c",
        &script,
        "sh",
        path,
        &tmp,
        archive.unwrap_or(""),
        &archive_dir,
        &fifth,
        &uid,
        &gid,
    ]);
    let out = session
        .run_line(line, Some(stdin.unwrap_or_default()), FILE_LIMIT)
        .map_err(link_err(path))?;
    if out.exit != crate::core::progress::Exit::Code(0) {
        let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(EditError::Io {
            path: path.to_string(),
            doing: "writing on the host",
            source: std::io::Error::other(crate::core::terminal_text::terminal_safe_line(&said)),
        });
    }
    let back = read(session, path)?;
    if back.node != *node {
        return Err(EditError::Io {
            path: path.to_string(),
            doing: "reading back",
            source: std::io::Error::other("the host's file is not what was written"),
        });
    }
    Ok(())
}

/// The regular files (not links) directly in `dir` on the host, sorted by name, with their
/// bytes; `None` when the directory does not exist or the host cannot be asked.
pub fn read_dir_files(session: &SshSession, dir: &str) -> Option<crate::core::snort::RulesFiles> {
    let script = r#"d=$1; [ -d "$d" ] || { echo N; exit 0; }; echo D
for f in "$d"/*; do
  [ -f "$f" ] && [ ! -h "$f" ] || continue
  n=${f##*/}
  l=$(ls -ln "$f") || continue
  set -- $l
  echo "F $5 $n"; cat "$f"
done"#;
    let out = session
        .run_line(
            shell_quote::join(&["sh", "-c", script, "sh", dir]),
            None,
            FILE_LIMIT,
        )
        .ok()?;
    let bytes = out.stdout;
    let (head, mut rest) = split_line(&bytes)?;
    if head != b"D" {
        return None;
    }
    let mut files = Vec::new();
    while let Some((line, after)) = split_line(rest) {
        let line = String::from_utf8_lossy(line).into_owned();
        let mut parts = line.splitn(3, ' ');
        let (Some("F"), Some(size), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            break;
        };
        let size: usize = size.parse().ok()?;
        let content = after.get(..size)?;
        files.push((name.to_string(), Ok(content.to_vec())));
        rest = &after[size..];
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Some(files)
}

pub(super) fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = bytes.iter().position(|&b| b == b'\n')?;
    Some((&bytes[..i], &bytes[i + 1..]))
}
