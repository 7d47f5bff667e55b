//! One error enum for every fallible call, with the same information the Python and Node
//! bindings give: a policy error keeps its file, line and column; an integrity failure the
//! index of the first bad record. Messages never hold argument values (the core masks them).

use aims_core::audit::keys::KeyError;
use aims_core::audit::{AuditError, Integrity, SinkError};
use aims_core::pii::PiiError;
use aims_core::policy::PolicyError;
use aims_core::runtime::RuntimeError;

/// Why a call failed. Kotlin sees `AimsException.Policy` etc.; Swift `AimsError.policy`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum AimsError {
    /// The configuration is wrong: missing or conflicting fields, a bad key.
    #[error("invalid configuration: {detail}")]
    Config {
        /// What is wrong.
        detail: String,
    },
    /// The policy is not valid; `file` is `<inline>` for policy text.
    #[error("{file}:{line}:{column}: {detail}")]
    Policy {
        /// The policy file, or `<inline>`.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong and what was expected.
        detail: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {detail}")]
    Io {
        /// The file or directory.
        path: String,
        /// The operating system's message.
        detail: String,
    },
    /// JSON text given to the library is not valid JSON.
    #[error("{what}:{line}:{column}: {detail}")]
    Json {
        /// Which argument (e.g. `args_json`).
        what: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What the JSON reader expected.
        detail: String,
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
    #[error("audit log: {detail}")]
    Audit {
        /// What failed.
        detail: String,
    },
    /// A PII scanner or mask could not be built (unknown entity, empty key).
    #[error("pii: {detail}")]
    Pii {
        /// What is wrong.
        detail: String,
    },
}

impl From<PolicyError> for AimsError {
    fn from(err: PolicyError) -> Self {
        match err {
            PolicyError::Io { file, source } => AimsError::Io {
                path: file.display().to_string(),
                detail: source.to_string(),
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
                detail: message,
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
                detail: source.to_string(),
            },
            AuditError::Key(key) => key.into(),
            other => AimsError::Audit {
                detail: other.to_string(),
            },
        }
    }
}

impl From<PiiError> for AimsError {
    fn from(err: PiiError) -> Self {
        AimsError::Pii {
            detail: err.to_string(),
        }
    }
}

impl From<KeyError> for AimsError {
    fn from(err: KeyError) -> Self {
        match err {
            KeyError::Io { path, source } => AimsError::Io {
                path: path.display().to_string(),
                detail: source.to_string(),
            },
            other => AimsError::Config {
                detail: other.to_string(),
            },
        }
    }
}

impl From<SinkError> for AimsError {
    fn from(err: SinkError) -> Self {
        AimsError::Audit {
            detail: err.to_string(),
        }
    }
}

impl From<RuntimeError> for AimsError {
    fn from(err: RuntimeError) -> Self {
        match err {
            RuntimeError::Config(message) => AimsError::Config { detail: message },
            RuntimeError::Policy(err) => err.into(),
            RuntimeError::Audit(err) => err.into(),
            RuntimeError::Key(err) => err.into(),
            RuntimeError::Sink(err) => err.into(),
            RuntimeError::Store(_)
            | RuntimeError::Oversight(_)
            | RuntimeError::NoOversight
            | RuntimeError::Register(_) => AimsError::Config {
                detail: err.to_string(),
            },
        }
    }
}
