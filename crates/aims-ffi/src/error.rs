//! One error enum for every fallible call, with the same information the Python and Node
//! bindings give: a policy error keeps its file, line and column; an integrity failure the
//! index of the first bad record. Messages never hold argument values (the core masks them).

use aims_core::audit::{AuditError, Integrity};
use aims_core::pii::PiiError;
use aims_core::policy::PolicyError;

/// Why a call failed. Kotlin sees `AimsException.Policy` etc.; Swift `AimsError.policy`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum AimsError {
    /// The configuration is wrong: missing or conflicting fields, a bad key.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// The policy is not valid; `file` is `<inline>` for policy text.
    #[error("{file}:{line}:{column}: {message}")]
    Policy {
        /// The policy file, or `<inline>`.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// JSON text given to the library is not valid JSON.
    #[error("{what}:{line}:{column}: {message}")]
    Json {
        /// Which argument (e.g. `args_json`).
        what: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What the JSON reader expected.
        message: String,
    },
    /// A log, proof or export was tampered with or damaged.
    #[error("integrity failure{}: {reason}", index.map(|i| format!(" at record {i}")).unwrap_or_default())]
    Integrity {
        /// The first bad record, when one can be named.
        index: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// The audit log failed (locked by another writer, failed earlier, out of range).
    #[error("audit log: {message}")]
    Audit {
        /// What failed.
        message: String,
    },
    /// A PII scanner or mask could not be built (unknown entity, empty key).
    #[error("pii: {message}")]
    Pii {
        /// What is wrong.
        message: String,
    },
}

impl From<PolicyError> for AimsError {
    fn from(err: PolicyError) -> Self {
        match err {
            PolicyError::Io { file, source } => AimsError::Io {
                path: file.display().to_string(),
                message: source.to_string(),
            },
            PolicyError::Invalid {
                file,
                line,
                column,
                message,
            } => AimsError::Policy {
                file: file.display().to_string(),
                line: line as u64,
                column: column as u64,
                message,
            },
        }
    }
}

impl From<Integrity> for AimsError {
    fn from(err: Integrity) -> Self {
        AimsError::Integrity {
            index: err.index,
            reason: err.reason,
        }
    }
}

impl From<AuditError> for AimsError {
    fn from(err: AuditError) -> Self {
        match err {
            AuditError::Integrity(integrity) => integrity.into(),
            AuditError::Io { path, source } => AimsError::Io {
                path: path.display().to_string(),
                message: source.to_string(),
            },
            AuditError::Key(key) => AimsError::Config {
                message: key.to_string(),
            },
            other => AimsError::Audit {
                message: other.to_string(),
            },
        }
    }
}

impl From<PiiError> for AimsError {
    fn from(err: PiiError) -> Self {
        AimsError::Pii {
            message: err.to_string(),
        }
    }
}
