//! One classification of every error a host can see, so each binding raises the same
//! exception for the same failure. [`ErrorClass`] names the class, and every binding defines an
//! exception type of that name (Python `aims.<name>`, Node `<name>`, Kotlin
//! `AimsException.<name>`); [`HostError`] carries the message and the fields a host exposes (the
//! file, line and column of a policy error, the first bad record of a damaged log, the decision
//! and approval request of a refused call).

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::RuntimeError;
use crate::audit::AuditError;
use crate::guard::CallError;
use crate::oversight::{ApprovalError, IncidentError, SupervisorError};
use crate::policy::PolicyError;

/// The class of an error, as every host names its exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The policy denies the call or its result; the tool did not run (or its result is
    /// withheld). Details: `decision`.
    PolicyDenied,
    /// The call waits for a human approval; the tool did not run. Details: `decision`,
    /// `approval_id` (absent without an oversight store), `status`.
    ApprovalRequired,
    /// A policy that could not be read or is invalid. Details: `file`, `line`, `column`.
    PolicyError,
    /// The audit log could not be opened, written or verified. Details: `index`, the first bad
    /// record of a damaged log, when known.
    AuditError,
    /// An approval step was refused or failed (unknown request, self-approval, a second vote,
    /// a role not allowed, expired, not approved, the call changed).
    ApprovalError,
    /// An incident could not be found, updated or recorded.
    IncidentError,
    /// Anything else: configuration, keys, the register, the oversight store. The base class
    /// of every other class.
    AimsError,
}

impl ErrorClass {
    /// Every class, base class last.
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::PolicyDenied,
        ErrorClass::ApprovalRequired,
        ErrorClass::PolicyError,
        ErrorClass::AuditError,
        ErrorClass::ApprovalError,
        ErrorClass::IncidentError,
        ErrorClass::AimsError,
    ];

    /// The exception's name in every host.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::PolicyDenied => "PolicyDenied",
            ErrorClass::ApprovalRequired => "ApprovalRequired",
            ErrorClass::PolicyError => "PolicyError",
            ErrorClass::AuditError => "AuditError",
            ErrorClass::ApprovalError => "ApprovalError",
            ErrorClass::IncidentError => "IncidentError",
            ErrorClass::AimsError => "AimsError",
        }
    }
}

/// An error as a host raises it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HostError {
    /// Which exception.
    pub class: ErrorClass,
    /// The message (core messages never hold raw argument values).
    pub message: String,
    /// The class's fields (see [`ErrorClass`]).
    pub details: Map<String, Value>,
}

impl HostError {
    fn new(class: ErrorClass, message: impl ToString) -> Self {
        Self {
            class,
            message: message.to_string(),
            details: Map::new(),
        }
    }

    fn with(mut self, field: &str, value: Value) -> Self {
        if !value.is_null() {
            self.details.insert(field.to_owned(), value);
        }
        self
    }
}

impl From<&CallError> for HostError {
    fn from(err: &CallError) -> Self {
        let decision = err
            .decision()
            .and_then(|decision| serde_json::to_value(decision).ok())
            .unwrap_or(Value::Null);
        match err {
            CallError::Denied(_) | CallError::ResultDenied(_) => {
                HostError::new(ErrorClass::PolicyDenied, err).with("decision", decision)
            }
            CallError::ApprovalRequired {
                decision: denied,
                status,
            } => HostError::new(ErrorClass::ApprovalRequired, err)
                .with("approval_id", json!(denied.approval_id))
                .with("status", json!(status))
                .with("decision", decision),
            CallError::OutcomeNotRecorded(_) => HostError::new(ErrorClass::AuditError, err),
        }
    }
}

impl From<&PolicyError> for HostError {
    fn from(err: &PolicyError) -> Self {
        let located = HostError::new(ErrorClass::PolicyError, err);
        match err {
            PolicyError::Io { file, .. } => located.with("file", json!(file.display().to_string())),
            PolicyError::Invalid {
                file, line, column, ..
            } => located
                .with("file", json!(file.display().to_string()))
                .with("line", json!(line))
                .with("column", json!(column)),
        }
    }
}

impl From<&AuditError> for HostError {
    fn from(err: &AuditError) -> Self {
        let index = match err {
            AuditError::Integrity(integrity) => json!(integrity.index),
            _ => Value::Null,
        };
        HostError::new(ErrorClass::AuditError, err).with("index", index)
    }
}

impl From<&ApprovalError> for HostError {
    fn from(err: &ApprovalError) -> Self {
        match err {
            ApprovalError::Audit(_) => HostError::new(ErrorClass::AuditError, err),
            ApprovalError::Store(_) => HostError::new(ErrorClass::AimsError, err),
            _ => HostError::new(ErrorClass::ApprovalError, err),
        }
    }
}

impl From<&IncidentError> for HostError {
    fn from(err: &IncidentError) -> Self {
        match err {
            IncidentError::Audit(_) => HostError::new(ErrorClass::AuditError, err),
            IncidentError::Store(_) => HostError::new(ErrorClass::AimsError, err),
            _ => HostError::new(ErrorClass::IncidentError, err),
        }
    }
}

impl From<&SupervisorError> for HostError {
    fn from(err: &SupervisorError) -> Self {
        match err {
            SupervisorError::Approval(err) => err.into(),
            SupervisorError::Incident(err) => err.into(),
            SupervisorError::Audit(_) => HostError::new(ErrorClass::AuditError, err),
            _ => HostError::new(ErrorClass::AimsError, err),
        }
    }
}

impl From<&RuntimeError> for HostError {
    fn from(err: &RuntimeError) -> Self {
        match err {
            RuntimeError::Policy(err) => err.into(),
            RuntimeError::Audit(err) => err.into(),
            RuntimeError::Sink(_) => HostError::new(ErrorClass::AuditError, err),
            RuntimeError::Oversight(err) => err.into(),
            _ => HostError::new(ErrorClass::AimsError, err),
        }
    }
}
