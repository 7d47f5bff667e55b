//! `aims.Decision`: what the guard decided about one call (or its result), read-only.

use std::sync::Arc;

use aims_core::guard::{Decision as CoreDecision, ToolCall, Verdict};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use time::format_description::well_known::Rfc3339;

use crate::convert::serialize_to_py;

/// The guard's decision on one call (phase ``"pre"``) or on its result (phase ``"post"``).
///
/// ``verdict`` is one of ``"allow"``, ``"warn"``, ``"redact"``, ``"require_approval"`` and
/// ``"deny"``. ``may_proceed`` says whether the call may run now (always true in shadow mode).
#[pyclass(frozen, module = "aims", name = "Decision")]
#[derive(Debug)]
pub struct Decision {
    pub(crate) inner: CoreDecision,
    /// The call the decision is about, kept so its outcome and result can be recorded
    /// against it without converting the arguments again.
    pub(crate) call: Arc<ToolCall>,
}

impl Decision {
    pub fn new(inner: CoreDecision, call: Arc<ToolCall>) -> Self {
        Self { inner, call }
    }

    /// True when the caller must mask what the decision names before going on.
    pub fn redacts(&self) -> bool {
        self.inner.verdict == Verdict::Redact && !self.inner.shadow
    }
}

#[pymethods]
impl Decision {
    /// The decision's unique id (it links the audit records of one call).
    #[getter]
    fn decision_id(&self) -> &str {
        &self.inner.decision_id
    }

    /// ``"allow"``, ``"warn"``, ``"redact"``, ``"require_approval"`` or ``"deny"``.
    #[getter]
    fn verdict(&self) -> &'static str {
        self.inner.verdict.as_str()
    }

    /// ``"pre"`` (on the arguments, before the call) or ``"post"`` (on its result).
    #[getter]
    fn phase(&self) -> &'static str {
        match self.inner.phase {
            aims_core::guard::Phase::Pre => "pre",
            aims_core::guard::Phase::Post => "post",
        }
    }

    /// Whether the call may run now (allow, warn, redact, or anything in shadow mode).
    #[getter]
    fn may_proceed(&self) -> bool {
        self.inner.may_proceed()
    }

    /// Whether the arguments (or result) must be masked before going on.
    #[getter(redacts)]
    fn redacts_getter(&self) -> bool {
        self.redacts()
    }

    /// Ids of every rule that matched, in policy order.
    #[getter]
    fn rule_ids(&self) -> Vec<String> {
        self.inner.rule_ids.clone()
    }

    /// Why: a list of ``{"code", "rule_id"?, "message"}`` dicts.
    #[getter]
    fn reasons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialize_to_py(py, &self.inner.reasons)
    }

    /// Annex A control ids implemented by the matched rules.
    #[getter]
    fn controls(&self) -> Vec<String> {
        self.inner.controls.clone()
    }

    /// What must be masked: a list of ``{"rule_id", "pointers"?, "entities"?}`` dicts.
    #[getter]
    fn redactions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialize_to_py(py, &self.inner.redactions)
    }

    /// The oversight checkpoint that must approve, for ``require_approval``.
    #[getter]
    fn checkpoint(&self) -> Option<&str> {
        self.inner.checkpoint.as_deref()
    }

    /// sha256 (hex) of the canonical policy that decided.
    #[getter]
    fn policy_version(&self) -> &str {
        &self.inner.policy_version
    }

    /// When the decision was taken, RFC 3339.
    #[getter]
    fn evaluated_at(&self) -> String {
        self.inner.evaluated_at.format(&Rfc3339).unwrap_or_default()
    }

    /// True in shadow mode: the verdict was recorded but is not enforced.
    #[getter]
    fn shadow(&self) -> bool {
        self.inner.shadow
    }

    /// The approval request behind the decision: the one opened (or still pending) for a
    /// ``require_approval`` decision, or the approved one an admitted call consumed (``None``
    /// without an oversight store).
    #[getter]
    fn approval_id(&self) -> Option<&str> {
        self.inner.approval_id.as_deref()
    }

    /// The index of the decision's record in the audit log, when it was recorded.
    #[getter]
    fn audit_index(&self) -> Option<u64> {
        self.inner.audit_index
    }

    /// The tool the decision is about.
    #[getter]
    fn tool(&self) -> &str {
        &self.call.tool
    }

    /// The agent that made the call.
    #[getter]
    fn agent(&self) -> &str {
        &self.call.agent_id
    }

    /// The decision as a JSON-shaped dict (the core's serialized form).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        Ok(serialize_to_py(py, &self.inner)?.cast_into::<PyDict>()?)
    }

    fn __repr__(&self) -> String {
        format!(
            "Decision(verdict={:?}, phase={:?}, tool={:?}, rule_ids={:?}, shadow={})",
            self.inner.verdict.as_str(),
            self.phase(),
            self.call.tool,
            self.inner.rule_ids,
            if self.inner.shadow { "True" } else { "False" },
        )
    }
}
