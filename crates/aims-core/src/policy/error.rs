//! Why a policy could not be loaded, located as `FILE:LINE:COL: message`.

use std::path::PathBuf;

/// A policy file that could not be read or is not a valid policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{}: cannot read policy: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid policy: bad syntax, an unknown field, a wrong type, a bad regex
    /// or glob, an unknown control id, a duplicate rule id, or fields that do not fit together.
    #[error("{}:{line}:{column}: {message}", file.display())]
    Invalid {
        /// The file (or `<inline>`).
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// A message as it may be shown: the reader quotes the text it choked on, which may be a card
/// number or a key pasted into the wrong field, so PII and secrets in it are masked.
fn masked(message: &str) -> String {
    crate::pii::Scanner::default().mask(message, &crate::pii::MaskPolicy::default())
}

impl PolicyError {
    /// An error from the YAML reader, with its location taken out of the message.
    pub(crate) fn from_yaml(file: PathBuf, err: &serde_yaml_ng::Error) -> Self {
        let (line, column) = err
            .location()
            .map(|loc| (loc.line(), loc.column()))
            .unwrap_or((1, 1));
        let text = err.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = match text.find(&suffix) {
            Some(at) => format!("{}{}", &text[..at], &text[at + suffix.len()..]),
            None => text,
        };
        PolicyError::Invalid {
            file,
            line,
            column,
            message: masked(&message),
        }
    }

    /// An error from the JSON reader, with its location taken out of the message.
    pub(crate) fn from_json(file: PathBuf, err: &serde_json::Error) -> Self {
        let (line, column) = (err.line().max(1), err.column().max(1));
        let text = err.to_string();
        let suffix = format!(" at line {} column {}", err.line(), err.column());
        let message = text.strip_suffix(&suffix).unwrap_or(&text);
        PolicyError::Invalid {
            file,
            line,
            column,
            message: masked(message),
        }
    }
}
