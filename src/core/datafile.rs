//! Reading the small TOML data files the tool screens use (service advice, snort SIDs), with
//! errors located as `FILE:LINE:COL: message` like runbook problems.

use serde::de::DeserializeOwned;

use super::location::LineCol;

/// A data file that could not be read or understood, located for the person fixing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{at}: {message}")]
pub struct DataFileError {
    /// The file name as given (`builtin:NAME` for an embedded asset).
    pub file: String,
    /// Where in the file (1:1 when the problem has no position).
    pub at: LineCol,
    /// What is wrong.
    pub message: String,
}

/// Deserialises `text` (the contents of `file`) as TOML into `T`.
pub fn from_toml<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, DataFileError> {
    toml::from_str(text).map_err(|e| DataFileError {
        file: file.to_string(),
        at: LineCol::of(text, e.span().map_or(0, |s| s.start)),
        message: e.message().to_string(),
    })
}

/// Writes `bytes` to `path` so that a crash leaves either the old or the new file, never a
/// mix: a temp file in the same directory, fsync, rename, fsync of the directory.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        n: u32,
    }

    #[test]
    fn atomic_write_replaces_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/x.toml");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1
        );
    }

    #[test]
    fn errors_carry_file_line_and_column() {
        let err = from_toml::<Sample>("\n\nn = \"x\"\n", "f.toml").unwrap_err();
        assert_eq!(err.at.line, 3);
        assert!(err.to_string().starts_with("f.toml:3:"), "{err}");
    }
}
