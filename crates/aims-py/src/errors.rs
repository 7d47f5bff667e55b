//! The Python exceptions (defined in `aims/errors.py`) and how core errors map onto them: one
//! class per [`ErrorClass`] of the core's table, so Python raises what Node and Kotlin raise.
//!
//! The classes live in Python so they have real constructors, attributes and docstrings; the
//! native module imports them when it raises. Core error messages never hold raw arguments
//! or secrets (the core masks them), so they are passed through as they are.

use std::sync::Arc;

use aims_core::audit::AuditError as CoreAuditError;
use aims_core::guard::{CallError, ToolCall};
use aims_core::policy::PolicyError as CorePolicyError;
use aims_core::runtime::{ErrorClass, HostError, RuntimeError};
use pyo3::prelude::*;
use serde_json::Value;

use crate::decision::Decision;

pyo3::import_exception!(aims.errors, AimsError);
pyo3::import_exception!(aims.errors, PolicyError);
pyo3::import_exception!(aims.errors, AuditError);
pyo3::import_exception!(aims.errors, PolicyDenied);
pyo3::import_exception!(aims.errors, ApprovalRequired);
pyo3::import_exception!(aims.errors, ApprovalError);
pyo3::import_exception!(aims.errors, IncidentError);

/// The Python exception of a classified core error. Refused calls carry their decision and go
/// through [`call_error`].
pub fn host_error(err: HostError) -> PyErr {
    let text = |name: &str| {
        err.details
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let number = |name: &str| err.details.get(name).and_then(Value::as_u64);
    match err.class {
        ErrorClass::PolicyError => PolicyError::new_err((
            err.message.clone(),
            text("file"),
            number("line"),
            number("column"),
        )),
        ErrorClass::AuditError => AuditError::new_err((err.message.clone(), number("index"))),
        ErrorClass::ApprovalError => ApprovalError::new_err(err.message),
        ErrorClass::IncidentError => IncidentError::new_err(err.message),
        _ => AimsError::new_err(err.message),
    }
}

/// A refused call (or result) as `PolicyDenied(decision)` or
/// `ApprovalRequired(decision, request_id, status)`; an unrecorded outcome as `AuditError`.
pub fn call_error(err: &CallError, call: &Arc<ToolCall>) -> PyErr {
    let decision =
        |decision: &aims_core::guard::Decision| Decision::new(decision.clone(), Arc::clone(call));
    match err {
        CallError::ApprovalRequired {
            decision: refused,
            status,
        } => ApprovalRequired::new_err((
            decision(refused),
            refused.approval_id.clone(),
            status.clone(),
        )),
        _ => match err.decision() {
            Some(refused) => PolicyDenied::new_err((decision(refused),)),
            None => host_error(HostError::from(err)),
        },
    }
}

/// A policy that could not be read or compiled, as `PolicyError(message, file, line, column)`.
pub fn policy_error(err: &CorePolicyError) -> PyErr {
    host_error(HostError::from(err))
}

/// An audit log failure, as `AuditError(message, index)`; `index` names the first bad
/// record of an integrity failure when one is known.
pub fn audit_error(err: &CoreAuditError) -> PyErr {
    host_error(HostError::from(err))
}

/// Any other failure of the core, as the base `AimsError`.
pub fn aims_error(err: impl std::fmt::Display) -> PyErr {
    AimsError::new_err(err.to_string())
}

/// A runtime failure, classified by the core's table.
pub fn runtime_error(err: &RuntimeError) -> PyErr {
    host_error(HostError::from(err))
}
