//! `aims.testing.PolicyTester`: a guard on a manual clock with an in-memory record, for
//! testing a policy deterministically (limits across windows, result rules) and for running
//! the shared conformance vectors.

use std::sync::Arc;

use aims_core::audit::MemorySink;
use aims_core::guard::{Guard, ManualClock, ToolCall};
use aims_core::policy::{Format, Policy};
use pyo3::prelude::*;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::convert::to_value;
use crate::decision::Decision;
use crate::errors::{aims_error, policy_error};

/// A guard for tests: the policy ``text`` (``format`` ``"yaml"`` or ``"json"``, named
/// ``name`` in errors), a clock that moves only by :meth:`set_time`, starting at ``start``
/// (RFC 3339), and records kept in memory.
#[pyclass(frozen, module = "aims.testing", name = "PolicyTester")]
#[derive(Debug)]
pub struct PolicyTester {
    guard: Guard,
    clock: Arc<ManualClock>,
}

fn instant(text: &str) -> PyResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|err| aims_error(format!("`{text}` is not an RFC 3339 time: {err}")))
}

fn tool_call(call: &Bound<'_, PyAny>) -> PyResult<ToolCall> {
    serde_json::from_value(to_value(call)?)
        .map_err(|err| aims_error(format!("not a tool call: {err}")))
}

#[pymethods]
impl PolicyTester {
    #[new]
    #[pyo3(signature = (text, *, format="yaml", name="<inline>", start="2026-01-01T00:00:00Z"))]
    fn new(text: &str, format: &str, name: &str, start: &str) -> PyResult<Self> {
        let format = match format {
            "yaml" => Format::Yaml,
            "json" => Format::Json,
            other => {
                return Err(aims_error(format!(
                    "unknown policy format `{other}`: expected yaml or json"
                )))
            }
        };
        let policy = Policy::from_text(text, format, name).map_err(|err| policy_error(&err))?;
        let clock = Arc::new(ManualClock::new(instant(start)?));
        let guard = Guard::builder(policy)
            .sink(Arc::new(MemorySink::new()))
            .clock(clock.clone())
            .build();
        Ok(Self { guard, clock })
    }

    /// Sets the clock to ``at`` (RFC 3339).
    fn set_time(&self, at: &str) -> PyResult<()> {
        self.clock.set(instant(at)?);
        Ok(())
    }

    /// Decides ``call`` (a dict with ``agent_id``, ``tool``, ``args`` and optionally
    /// ``ai_system_id``, ``conversation_id``, ``call_id``, ``context``) before it runs.
    fn check(&self, call: &Bound<'_, PyAny>) -> PyResult<Decision> {
        let call = tool_call(call)?;
        let decision = self.guard.check(&call);
        Ok(Decision::new(decision, Arc::new(call)))
    }

    /// Decides the ``result`` of ``call``.
    fn check_result(
        &self,
        call: &Bound<'_, PyAny>,
        result: &Bound<'_, PyAny>,
    ) -> PyResult<Decision> {
        let call = tool_call(call)?;
        let decision = self.guard.check_result(&call, &to_value(result)?);
        Ok(Decision::new(decision, Arc::new(call)))
    }
}
