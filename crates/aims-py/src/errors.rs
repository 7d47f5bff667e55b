//! The Python exceptions (defined in `aims/errors.py`) and how core errors map onto them.
//!
//! The classes live in Python so they have real constructors, attributes and docstrings; the
//! native module imports them when it raises. Core error messages never hold raw arguments
//! or secrets (the core masks them), so they are passed through as they are.

use aims_core::audit::AuditError as CoreAuditError;
use aims_core::policy::PolicyError as CorePolicyError;
use aims_core::runtime::RuntimeError;
use pyo3::prelude::*;

pyo3::import_exception!(aims.errors, AimsError);
pyo3::import_exception!(aims.errors, PolicyError);
pyo3::import_exception!(aims.errors, AuditError);

/// A policy that could not be read or compiled, as `PolicyError(message, file, line, column)`.
pub fn policy_error(err: &CorePolicyError) -> PyErr {
    match err {
        CorePolicyError::Io { file, .. } => PolicyError::new_err((
            err.to_string(),
            file.display().to_string(),
            Option::<usize>::None,
            Option::<usize>::None,
        )),
        CorePolicyError::Invalid {
            file,
            line,
            column,
            message,
        } => PolicyError::new_err((
            format!("{}:{line}:{column}: {message}", file.display()),
            file.display().to_string(),
            Some(*line),
            Some(*column),
        )),
    }
}

/// An audit log failure, as `AuditError(message, index)`; `index` names the first bad
/// record of an integrity failure when one is known.
pub fn audit_error(err: &CoreAuditError) -> PyErr {
    let index = match err {
        CoreAuditError::Integrity(integrity) => integrity.index,
        _ => None,
    };
    AuditError::new_err((err.to_string(), index))
}

/// Any other failure of the core, as the base `AimsError`.
pub fn aims_error(err: impl std::fmt::Display) -> PyErr {
    AimsError::new_err(err.to_string())
}

/// A runtime failure: policy errors as `PolicyError`, log errors as `AuditError`, the rest
/// (configuration, keys, store, oversight) as `AimsError`.
pub fn runtime_error(err: &RuntimeError) -> PyErr {
    match err {
        RuntimeError::Policy(err) => policy_error(err),
        RuntimeError::Audit(err) => audit_error(err),
        other => aims_error(other),
    }
}
