//! Reading a file on the host: its bytes, mode, owner and where its links lead, in one round trip.

use super::*;
use crate::core::apply::{EditError, MAX_FILE_BYTES, Node};
use crate::core::machine::{MachineError, SshSession};
use crate::core::shell_quote;

/// A file on the host, as an edit cares about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteNode {
    /// What is there.
    pub node: Node,
    /// Owner and group (numeric) of a file.
    pub owner: Option<(u32, u32)>,
    /// The directory holding it exists.
    pub parent_exists: bool,
}

pub(super) fn link_err(path: &str) -> impl Fn(MachineError) -> EditError + '_ {
    move |e| EditError::Io {
        path: path.to_string(),
        doing: "reaching the host",
        source: std::io::Error::other(e.to_string()),
    }
}

/// The permission bits of an `ls -l` mode string (`-rwsr-x--T`).
pub fn parse_mode(s: &str) -> Option<u32> {
    let b: Vec<char> = s.chars().collect();
    if b.len() < 10 {
        return None;
    }
    let mut m = 0;
    for (i, bit) in [
        (1, 0o400),
        (2, 0o200),
        (4, 0o040),
        (5, 0o020),
        (7, 0o004),
        (8, 0o002),
    ] {
        match b[i] {
            '-' => {}
            'r' | 'w' => m |= bit,
            _ => return None,
        }
    }
    for (i, x, special, set, unset) in [
        (3, 0o100, 0o4000, 's', 'S'),
        (6, 0o010, 0o2000, 's', 'S'),
        (9, 0o001, 0o1000, 't', 'T'),
    ] {
        match b[i] {
            '-' => {}
            'x' => m |= x,
            c if c == set => m |= x | special,
            c if c == unset => m |= special,
            _ => return None,
        }
    }
    Some(m)
}

pub(super) fn parent_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".to_string(),
        Some((dir, _)) => dir.to_string(),
    }
}

/// Reads `path` on the host: kind, mode, owner and content (bounded).
pub fn read(session: &SshSession, path: &str) -> Result<RemoteNode, EditError> {
    let script = r#"p=$1; max=$2; d=$3
if [ -d "$d" ]; then pe=P; else pe=N; fi
if [ -h "$p" ]; then echo "L $pe"; ls -ld "$p"; exit 0; fi
if [ ! -e "$p" ]; then echo "M $pe"; exit 0; fi
if [ -d "$p" ]; then echo "D $pe"; exit 0; fi
if [ ! -f "$p" ]; then echo "S $pe"; exit 0; fi
l=$(ls -ldn "$p") || exit 4
set -- $l
if [ "$5" -gt "$max" ]; then echo "B $pe $5"; exit 0; fi
echo "F $pe"; echo "$l"; exec cat "$p""#;
    let line = shell_quote::join(&[
        "sh",
        "-c",
        script,
        "sh",
        path,
        &MAX_FILE_BYTES.to_string(),
        &parent_of(path),
    ]);
    let text = answer_of(session, path, line)?;
    node_of(path, &text)
}

/// Runs the read's line on the host: its output, or the error its failure means.
fn answer_of(session: &SshSession, path: &str, line: String) -> Result<Vec<u8>, EditError> {
    let out = session
        .run_line(line, None, FILE_LIMIT)
        .map_err(link_err(path))?;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if out.exit != crate::core::progress::Exit::Code(0) {
        if stderr.contains("ermission denied") {
            return Err(EditError::Permission {
                path: path.to_string(),
                doing: "reading",
            });
        }
        return Err(EditError::Io {
            path: path.to_string(),
            doing: "reading on the host",
            source: std::io::Error::other(stderr.trim().to_string()),
        });
    }
    Ok(out.stdout)
}

/// The node the host's answer describes: a first line `KIND P|N [SIZE]`, then for a link its
/// `ls -ld` line, for a file its `ls -ldn` line and its bytes.
fn node_of(path: &str, text: &[u8]) -> Result<RemoteNode, EditError> {
    let first_end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let head = String::from_utf8_lossy(&text[..first_end]).to_string();
    let rest = text.get(first_end + 1..).unwrap_or_default();
    let mut words = head.split_whitespace();
    let kind = words.next().unwrap_or("");
    let parent_exists = words.next() == Some("P");
    let bad = |what: &str| EditError::Io {
        path: path.to_string(),
        doing: "reading on the host",
        source: std::io::Error::other(format!("unexpected answer ({what})")),
    };
    let node = match kind {
        "M" => Node::Missing,
        "D" => {
            return Err(EditError::NotRegular {
                path: path.to_string(),
                kind: "directory",
            });
        }
        "S" => {
            return Err(EditError::NotRegular {
                path: path.to_string(),
                kind: "special file",
            });
        }
        "B" => {
            return Err(EditError::TooBig {
                path: path.to_string(),
                size: words.next().and_then(|s| s.parse().ok()).unwrap_or(0),
                limit: MAX_FILE_BYTES,
            });
        }
        "L" => {
            let listing = String::from_utf8_lossy(rest);
            let marker = format!("{path} -> ");
            let target = listing
                .find(&marker)
                .map(|i| {
                    listing[i + marker.len()..]
                        .trim_end_matches('\n')
                        .to_string()
                })
                .ok_or_else(|| bad("link"))?;
            Node::Link { target }
        }
        "F" => return file_of(path, rest, parent_exists),
        other => return Err(bad(other)),
    };
    Ok(RemoteNode {
        node,
        owner: None,
        parent_exists,
    })
}

/// A regular file from its `ls -ldn` line and its bytes: mode, owner and text (a file with a
/// NUL byte or that is not UTF-8 is binary, never edited).
fn file_of(path: &str, rest: &[u8], parent_exists: bool) -> Result<RemoteNode, EditError> {
    let bad = |what: &str| EditError::Io {
        path: path.to_string(),
        doing: "reading on the host",
        source: std::io::Error::other(format!("unexpected answer ({what})")),
    };
    let l_end = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| bad("file"))?;
    let listing = String::from_utf8_lossy(&rest[..l_end]).to_string();
    let fields: Vec<&str> = listing.split_whitespace().collect();
    let mode = fields
        .first()
        .and_then(|m| parse_mode(m))
        .ok_or_else(|| bad("mode"))?;
    let owner = match (fields.get(2), fields.get(3)) {
        (Some(u), Some(g)) => u.parse().ok().zip(g.parse().ok()),
        _ => None,
    };
    let bytes = rest[l_end + 1..].to_vec();
    if bytes.contains(&0) {
        return Err(EditError::Binary(path.to_string()));
    }
    let content = String::from_utf8(bytes).map_err(|_| EditError::Binary(path.to_string()))?;
    Ok(RemoteNode {
        node: Node::File { content, mode },
        owner,
        parent_exists,
    })
}
