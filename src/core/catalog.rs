//! Where runbooks come from: the ones embedded in the binary (so a copied binary works on any
//! box, from any directory) and a technician's own directory of TOML files.

use std::path::{Path, PathBuf};

use crate::core::runbook::{self, Problem, Runbook};

/// The runbooks shipped inside the binary, as (file name, TOML text).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "clearos-install.toml",
        include_str!("../../assets/checklists/clearos-install.toml"),
    ),
    (
        "xen4-migration.toml",
        include_str!("../../assets/checklists/xen4-migration.toml"),
    ),
    (
        "gentoo-world-update.toml",
        include_str!("../../assets/checklists/gentoo-world-update.toml"),
    ),
];

/// Environment variable naming an extra runbook directory (same as `--checklists`).
pub const CHECKLISTS_ENV: &str = "FIELDBOOK_CHECKLISTS";

/// Where a runbook was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in the binary.
    Builtin,
    /// A file in the technician's directory.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Builtin => f.write_str("built-in"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A loaded runbook and where it came from.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The validated runbook.
    pub runbook: Runbook,
    /// Built-in or a file.
    pub origin: Origin,
}

/// Every runbook available, plus the problems of files that did not load (shown, not fatal:
/// one broken user file must not hide the others).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Runbooks in display order: built-ins first, then user files by name.
    pub entries: Vec<Entry>,
    /// Problems of user files that were skipped.
    pub problems: Vec<Problem>,
}

impl Catalog {
    /// Loads the built-ins and, when given, every `*.toml` in `dir`. A user file whose id is a
    /// built-in's replaces that built-in in place.
    pub fn load(dir: Option<&Path>) -> Catalog {
        let mut catalog = Catalog::default();
        for (name, text) in BUILTIN {
            match runbook::load_str(&format!("builtin:{name}"), text) {
                Ok(rb) => catalog.entries.push(Entry {
                    runbook: rb,
                    origin: Origin::Builtin,
                }),
                Err(p) => catalog.problems.extend(p),
            }
        }
        if let Some(dir) = dir {
            catalog.load_dir(dir);
        }
        catalog
    }

    fn load_dir(&mut self, dir: &Path) {
        let listing = match std::fs::read_dir(dir) {
            Ok(l) => l,
            Err(e) => {
                self.problems.push(Problem {
                    file: dir.display().to_string(),
                    at: crate::core::location::LineCol { line: 1, col: 1 },
                    message: format!("cannot read runbook directory: {e}"),
                });
                return;
            }
        };
        let mut files: Vec<PathBuf> = listing
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut seen: Vec<(String, PathBuf)> = Vec::new();
        for path in files {
            match load_file(&path) {
                Ok(rb) => {
                    if let Some((_, first)) = seen.iter().find(|(id, _)| *id == rb.id) {
                        self.problems.push(duplicate_id(&path, &rb.id, first));
                        continue;
                    }
                    seen.push((rb.id.clone(), path.clone()));
                    let entry = Entry {
                        runbook: rb,
                        origin: Origin::File(path),
                    };
                    match self
                        .entries
                        .iter_mut()
                        .find(|e| e.runbook.id == entry.runbook.id)
                    {
                        Some(existing) => *existing = entry,
                        None => self.entries.push(entry),
                    }
                }
                Err(p) => self.problems.extend(p),
            }
        }
    }

    /// Finds a runbook by id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.runbook.id == id)
    }

    /// The ids, for "unknown runbook" messages.
    pub fn ids(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.runbook.id.as_str()).collect()
    }
}

/// Two runbook files with one id: the later one is skipped and named, never silently shadowed.
pub fn duplicate_id(path: &Path, id: &str, first: &Path) -> Problem {
    Problem {
        file: path.display().to_string(),
        at: crate::core::location::LineCol { line: 1, col: 1 },
        message: format!(
            "duplicate runbook id '{id}': {} has it already; this file is skipped",
            first.display()
        ),
    }
}

/// The largest runbook file read (the built-ins are under 64 KiB): a link to `/dev/zero` or a
/// huge file is refused, not read into memory.
pub const MAX_RUNBOOK_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a runbook file: a regular file (a link to one is followed) of at most
/// [`MAX_RUNBOOK_BYTES`]. A FIFO, a device or a directory is refused without blocking on it.
fn read_runbook(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    // O_NONBLOCK: opening a FIFO nobody writes to would otherwise wait for ever.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_dir() {
            "a directory"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        return Err(std::io::Error::other(format!(
            "{what}, not a regular file; skipped"
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_RUNBOOK_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RUNBOOK_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_RUNBOOK_BYTES} bytes, which no runbook needs; skipped"
        )));
    }
    Ok(bytes)
}

/// Reads and validates one runbook file; an unreadable file is one problem at 1:1.
pub fn load_file(path: &Path) -> Result<Runbook, Vec<Problem>> {
    let name = path.display().to_string();
    match read_runbook(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => runbook::load_str(&name, &text),
            Err(e) => {
                let at_byte = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                Err(vec![Problem {
                    file: name,
                    at: crate::core::location::LineCol::of(&text, at_byte),
                    message: "the file is not valid UTF-8".into(),
                }])
            }
        },
        Err(e) => Err(vec![Problem {
            file: name,
            at: crate::core::location::LineCol { line: 1, col: 1 },
            message: format!("cannot read: {e}"),
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load_without_problems() {
        let c = Catalog::load(None);
        for p in &c.problems {
            eprintln!("{p}");
        }
        assert!(c.problems.is_empty());
        assert_eq!(c.entries.len(), BUILTIN.len());
    }
}
