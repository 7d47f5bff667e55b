//! One error enum for every fallible call, with the same information the Python and Node
//! bindings give: a policy error keeps its file, line and column; an integrity failure the
//! index of the first bad record; a refused approval step its own case (self-approval, the
//! two-person rule, an expired window, a changed call...). Messages never hold argument
//! values (the core masks them).

use aims_core::audit::keys::KeyError;
use aims_core::audit::{AuditError, Integrity, SinkError};
use aims_core::oversight::{ApprovalError, IncidentError, StoreError, SupervisorError};
use aims_core::pii::PiiError;
use aims_core::policy::PolicyError;
use aims_core::runtime::RuntimeError;

use crate::approvals::ApprovalStatus;

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
    /// The approval store (SQLite) could not be opened, read or written.
    #[error("approval store: {detail}")]
    Store {
        /// What failed.
        detail: String,
    },
    /// No approval request has this id.
    #[error("unknown approval request {id:?}")]
    UnknownRequest {
        /// The id asked for.
        id: String,
    },
    /// The approver is the agent or a user that triggered the call.
    #[error("the agent or user that triggered approval request {id} cannot approve it")]
    SelfApproval {
        /// The request.
        id: String,
    },
    /// The approver already voted: the two-person rule needs distinct people.
    #[error("this approver already voted on approval request {id}")]
    AlreadyVoted {
        /// The request.
        id: String,
    },
    /// The approver's role may not vote on this request.
    #[error("role {role:?} may not vote on approval request {id} (allowed: {allowed:?})")]
    RoleNotAllowed {
        /// The request.
        id: String,
        /// The role given.
        role: String,
        /// The roles that may vote.
        allowed: Vec<String>,
    },
    /// The request's voting window closed.
    #[error("approval request {id} has expired")]
    Expired {
        /// The request.
        id: String,
    },
    /// The request is no longer waiting for votes.
    #[error("approval request {id} is {status:?}, not pending")]
    NotPending {
        /// The request.
        id: String,
        /// Where it is.
        status: ApprovalStatus,
    },
    /// The call may not run: its request is not approved (or already ran).
    #[error("approval request {id} is {status:?}: the call may not run")]
    NotApproved {
        /// The request.
        id: String,
        /// Where it is.
        status: ApprovalStatus,
    },
    /// The call to run is not the call that was approved (another tool, other arguments).
    #[error("the call differs from the one approved in request {id}: refused")]
    CallChanged {
        /// The request.
        id: String,
    },
    /// No incident has this id.
    #[error("unknown incident {id:?}")]
    UnknownIncident {
        /// The id asked for.
        id: String,
    },
    /// An incident change was refused: the lifecycle forbids it (backwards, or closing a
    /// major incident without root cause and corrective action, a serious one unreported),
    /// or it changes nothing.
    #[error("incident change refused: {detail}")]
    IncidentRefused {
        /// Why.
        detail: String,
    },
    /// The policy in force, asked again, no longer lets the approved call run.
    #[error("the policy (version {policy_version}) now decides {verdict} for approval request {id}: refused")]
    PolicyNowRefuses {
        /// The request.
        id: String,
        /// The verdict now (`deny`, or `require_approval` at another checkpoint).
        verdict: String,
        /// The policy version deciding now.
        policy_version: String,
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
            RuntimeError::Store(err) => err.into(),
            RuntimeError::Oversight(err) => err.into(),
            RuntimeError::NoOversight | RuntimeError::Register(_) => AimsError::Config {
                detail: err.to_string(),
            },
        }
    }
}

impl From<StoreError> for AimsError {
    fn from(err: StoreError) -> Self {
        AimsError::Store {
            detail: err.to_string(),
        }
    }
}

impl From<SupervisorError> for AimsError {
    fn from(err: SupervisorError) -> Self {
        match err {
            SupervisorError::Approval(err) => err.into(),
            SupervisorError::Pii(err) => err.into(),
            SupervisorError::Audit(err) => err.into(),
            SupervisorError::Incident(err) => err.into(),
            SupervisorError::DuplicateCheckpoint(_) | SupervisorError::DuplicateTrigger(_) => {
                AimsError::Config {
                    detail: err.to_string(),
                }
            }
        }
    }
}

impl From<IncidentError> for AimsError {
    fn from(err: IncidentError) -> Self {
        match err {
            IncidentError::Store(err) => err.into(),
            IncidentError::Audit(err) => err.into(),
            IncidentError::Masking(err) => err.into(),
            IncidentError::Unknown(id) => AimsError::UnknownIncident { id },
            IncidentError::Lifecycle(_) | IncidentError::EmptyUpdate(_) => {
                AimsError::IncidentRefused {
                    detail: err.to_string(),
                }
            }
        }
    }
}

impl From<ApprovalError> for AimsError {
    fn from(err: ApprovalError) -> Self {
        match err {
            ApprovalError::Store(err) => err.into(),
            ApprovalError::Audit(err) => err.into(),
            ApprovalError::Masking(err) => err.into(),
            ApprovalError::UnknownRequest(id) => AimsError::UnknownRequest { id },
            ApprovalError::SelfApproval(id) => AimsError::SelfApproval { id },
            ApprovalError::AlreadyVoted(id) => AimsError::AlreadyVoted { id },
            ApprovalError::RoleNotAllowed { id, role, allowed } => {
                AimsError::RoleNotAllowed { id, role, allowed }
            }
            ApprovalError::Expired(id) => AimsError::Expired { id },
            ApprovalError::NotPending { id, status } => AimsError::NotPending {
                id,
                status: status.into(),
            },
            ApprovalError::NotApproved { id, status } => AimsError::NotApproved {
                id,
                status: status.into(),
            },
            ApprovalError::CallChanged(id) => AimsError::CallChanged { id },
            ApprovalError::ExecutionWindowClosed(id) => AimsError::Expired { id },
            ApprovalError::Key(err) => err.into(),
            ApprovalError::Unverified { .. } => AimsError::Store {
                detail: err.to_string(),
            },
            ApprovalError::BlankIdentity(_) => AimsError::Config {
                detail: err.to_string(),
            },
            ApprovalError::PolicyNowRefuses {
                id,
                verdict,
                policy_version,
            } => AimsError::PolicyNowRefuses {
                id,
                verdict: verdict.to_owned(),
                policy_version,
            },
            // Checkpoint configuration problems: found when the guard is opened, or (as a
            // deny with reason `oversight_failed`) when a decision names a missing checkpoint.
            ApprovalError::NotRequired { .. }
            | ApprovalError::MissingCheckpoint { .. }
            | ApprovalError::UnknownCheckpoint(_)
            | ApprovalError::InvalidCheckpoint { .. } => AimsError::Config {
                detail: err.to_string(),
            },
        }
    }
}
