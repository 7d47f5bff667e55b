//! The errors of the durable log: I/O, locking, keys, and integrity failures that name the
//! first bad record.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::checkpoint::CheckpointError;
use super::keys::KeyError;
use super::merkle::ProofError;

/// What is wrong with a log's contents: tampering or damage, never a plain crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integrity {
    /// The first bad record, when one can be named.
    pub index: Option<u64>,
    /// What is wrong, in words.
    pub reason: String,
}

impl Integrity {
    /// A failure at record `index`.
    pub fn at(index: u64, reason: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            reason: reason.into(),
        }
    }

    /// A failure of the log as a whole (its checkpoint, its key).
    pub fn whole(reason: impl Into<String>) -> Self {
        Self {
            index: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(index) => write!(f, "record {index}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Another writer holds the log's lock.
    #[error("{0}: the audit log is locked by another writer (one writer per log)")]
    Locked(PathBuf),
    /// The directory is not an audit log.
    #[error("{path}: not an audit log: {reason}")]
    NotALog {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A key could not be read, made or used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A checkpoint file is malformed.
    #[error("{path}: {source}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: CheckpointError,
    },
    /// The log was tampered with or damaged: it refuses to open, or fails verification.
    #[error("audit log integrity failure: {0}")]
    Integrity(Integrity),
    /// An earlier write or fsync failed; the log refuses further appends.
    #[error("the audit log refuses appends after an earlier failure: {0}")]
    Failed(String),
    /// A proof was asked for sizes or indices the log does not have.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

impl AuditError {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
