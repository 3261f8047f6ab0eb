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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        n: u32,
    }

    #[test]
    fn errors_carry_file_line_and_column() {
        let err = from_toml::<Sample>("\n\nn = \"x\"\n", "f.toml").unwrap_err();
        assert_eq!(err.at.line, 3);
        assert!(err.to_string().starts_with("f.toml:3:"), "{err}");
    }
}
