//! `aims._native.Runtime`: the assembled guard (policy, audit log, scanner, shadow mode) as
//! the Python `aims.Guard` drives it. Every method converts its arguments while holding the
//! GIL, then releases the GIL for the Rust work (deciding, masking, hashing, writing the log)
//! so other Python threads run meanwhile.

use std::sync::Arc;
use std::time::Duration;

use aims_core::guard::{ToolCall, ToolOutcome};
use aims_core::policy::{Format, Policy};
use aims_core::runtime::Runtime as CoreRuntime;
use pyo3::prelude::*;
use serde_json::Value;

use crate::call::GuardedCall;
use crate::convert::{serialize_to_py, to_py, to_value};
use crate::decision::Decision;
use crate::errors::{aims_error, audit_error, call_error, policy_error, runtime_error};
use crate::oversight::{Approvals, Incidents};

/// A guard with everything it records to. Build it through ``aims.Guard``.
#[pyclass(frozen, module = "aims._native", name = "Runtime")]
#[derive(Debug)]
pub struct Runtime {
    inner: CoreRuntime,
}

impl Runtime {
    /// Decides a result: through oversight when configured (PII in results can raise an
    /// incident), else through the guard alone.
    fn decide_result(
        &self,
        decision: &Decision,
        result: &Value,
    ) -> PyResult<aims_core::guard::Decision> {
        match self.inner.supervisor() {
            None => Ok(self.inner.guard().check_result(&decision.call, result)),
            Some(supervisor) => supervisor
                .check_result(&decision.call, result)
                .map(|supervised| supervised.decision)
                .map_err(|err| {
                    aims_error(format!("oversight failed, the result is withheld: {err}"))
                }),
        }
    }

    fn record(&self, decision: &Decision, outcome: &ToolOutcome) -> PyResult<()> {
        self.inner
            .record_outcome(&decision.call, &decision.inner, outcome)
            .map(drop)
            .map_err(|err| runtime_error(&err))
    }
}

fn duration(duration_us: u64) -> Duration {
    Duration::from_micros(duration_us)
}

/// The optional ids and context of a call, as keyword arguments.
#[derive(Default)]
struct CallExtras {
    ai_system: Option<String>,
    conversation: Option<String>,
    call_id: Option<String>,
    context: Option<Value>,
}

fn tool_call(tool: String, agent: String, args: Value, extras: CallExtras) -> ToolCall {
    let mut call = ToolCall::new(agent, tool, args);
    call.ai_system_id = extras.ai_system;
    call.conversation_id = extras.conversation;
    call.call_id = extras.call_id;
    if let Some(context) = extras.context {
        call.context = context;
    }
    call
}

#[pymethods]
impl Runtime {
    /// Assembles a runtime from a JSON object of configuration fields (``policy_path`` or
    /// ``policy_text``, ``audit_dir``, ``signing_key``, ``durability``, ``shadow``,
    /// ``oversight_store``).
    #[new]
    fn new(py: Python<'_>, config_json: &str) -> PyResult<Self> {
        let inner = py
            .detach(|| CoreRuntime::from_json(config_json))
            .map_err(|err| runtime_error(&err))?;
        Ok(Self { inner })
    }

    /// Decides a call before it runs and records the decision.
    #[pyo3(signature = (tool, args, agent, *, ai_system=None, conversation=None, call_id=None, context=None))]
    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        py: Python<'_>,
        tool: String,
        args: &Bound<'_, PyAny>,
        agent: String,
        ai_system: Option<String>,
        conversation: Option<String>,
        call_id: Option<String>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let extras = CallExtras {
            ai_system,
            conversation,
            call_id,
            context: context.map(to_value).transpose()?,
        };
        let call = tool_call(tool, agent, to_value(args)?, extras);
        let decision = py.detach(|| self.inner.check(&call));
        Ok(Decision::new(decision, Arc::new(call)))
    }

    /// Admits a call under the guarded-call protocol (decided, recorded, its approval request
    /// opened or matched): returns the ``GuardedCall`` to run it through, or raises
    /// ``PolicyDenied`` / ``ApprovalRequired``. With ``wait`` (seconds), a call that needs
    /// approval waits for the humans' decision; once approved it is admitted (and consumes the
    /// approval).
    #[pyo3(signature = (tool, args, agent, *, ai_system=None, conversation=None, call_id=None, context=None, wait=None))]
    #[allow(clippy::too_many_arguments)]
    fn admit(
        &self,
        py: Python<'_>,
        tool: String,
        args: &Bound<'_, PyAny>,
        agent: String,
        ai_system: Option<String>,
        conversation: Option<String>,
        call_id: Option<String>,
        context: Option<&Bound<'_, PyAny>>,
        wait: Option<f64>,
    ) -> PyResult<GuardedCall> {
        let extras = CallExtras {
            ai_system,
            conversation,
            call_id,
            context: context.map(to_value).transpose()?,
        };
        let call = Arc::new(tool_call(tool, agent, to_value(args)?, extras));
        let admitted = py.detach(|| match wait {
            None => self.inner.admit(Arc::clone(&call)),
            Some(seconds) => self
                .inner
                .admit_waiting(Arc::clone(&call), Duration::from_secs_f64(seconds.max(0.0))),
        });
        admitted
            .map(GuardedCall::new)
            .map_err(|err| call_error(&err, &call))
    }

    /// Decides the result of the call ``decision`` was about; records it when a rule matched.
    fn check_result(
        &self,
        py: Python<'_>,
        decision: &Decision,
        result: &Bound<'_, PyAny>,
    ) -> PyResult<Decision> {
        let result = to_value(result)?;
        let post = py.detach(|| self.decide_result(decision, &result))?;
        Ok(Decision::new(post, Arc::clone(&decision.call)))
    }

    /// Records how a call that ``decision`` let through ended: ``error`` is the message when
    /// it raised (masked before it is written), ``None`` when it returned.
    #[pyo3(signature = (decision, duration_us, error=None))]
    fn record_outcome(
        &self,
        py: Python<'_>,
        decision: &Decision,
        duration_us: u64,
        error: Option<&str>,
    ) -> PyResult<()> {
        let outcome = match error {
            Some(error) => ToolOutcome::error(error, duration(duration_us)),
            None => ToolOutcome::ok(duration(duration_us)),
        };
        py.detach(|| self.record(decision, &outcome))
    }

    /// A copy of ``value`` with what ``decision`` names masked.
    fn apply_redactions<'py>(
        &self,
        py: Python<'py>,
        decision: &Decision,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut value = to_value(value)?;
        let guard = self.inner.guard();
        py.detach(|| guard.apply_redactions(&decision.inner, &mut value));
        to_py(py, &value)
    }

    /// How the policy in force decides a call, or its result when ``result`` is given.
    /// Counts nothing and records nothing.
    #[pyo3(signature = (tool, args, agent, *, result=None, context=None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        tool: String,
        args: &Bound<'py, PyAny>,
        agent: String,
        result: Option<&Bound<'py, PyAny>>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let extras = CallExtras {
            context: context.map(to_value).transpose()?,
            ..CallExtras::default()
        };
        let call = tool_call(tool, agent, to_value(args)?, extras);
        let result = result.map(to_value).transpose()?;
        let guard = self.inner.guard();
        let explanation = py.detach(|| guard.explain(&call, result.as_ref()));
        serialize_to_py(py, &explanation)
    }

    /// Replaces the policy (from a file or text) and, with oversight, its checkpoints and
    /// incident triggers, together and atomically (one recorded event); the old ones stay on
    /// error.
    #[pyo3(signature = (*, policy_path=None, policy_text=None))]
    fn reload(
        &self,
        py: Python<'_>,
        policy_path: Option<std::path::PathBuf>,
        policy_text: Option<String>,
    ) -> PyResult<()> {
        py.detach(|| {
            let policy = match (policy_path, policy_text) {
                (Some(path), None) => Policy::from_file(path),
                (None, Some(text)) => Policy::from_text(&text, Format::Yaml, "<inline>"),
                _ => {
                    return Err(aims_error(
                        "give exactly one of policy_path and policy_text",
                    ))
                }
            }
            .map_err(|err| policy_error(&err))?;
            self.inner.reload(policy).map_err(|err| runtime_error(&err))
        })
    }

    /// sha256 (hex) of the canonical policy in force.
    #[getter]
    fn policy_version(&self) -> String {
        self.inner.guard().policy_version()
    }

    /// Decision counters and latency histogram, as a dict.
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialize_to_py(py, &self.inner.guard().metrics())
    }

    /// The metrics in the Prometheus text exposition format.
    fn prometheus(&self) -> String {
        self.inner.guard().prometheus()
    }

    /// Approval requests (approve, reject, status, wait, pending, execute); raises
    /// ``AimsError`` without an oversight store.
    #[getter]
    fn approvals(&self) -> PyResult<Approvals> {
        Approvals::of(&self.inner)
    }

    /// Incidents (list, get, update); raises ``AimsError`` without an oversight store.
    #[getter]
    fn incidents(&self) -> PyResult<Incidents> {
        Incidents::of(&self.inner)
    }

    /// The durable audit log's directory, or ``None`` when records stay in memory.
    #[getter]
    fn audit_dir(&self) -> Option<String> {
        self.inner
            .audit_log()
            .map(|log| log.dir().display().to_string())
    }

    /// Makes every record durable and signs a checkpoint over them.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.flush())
            .map_err(|err| runtime_error(&err))
    }

    /// An inclusion proof of record ``index`` against the latest signed checkpoint.
    fn prove<'py>(&self, py: Python<'py>, index: u64) -> PyResult<Bound<'py, PyAny>> {
        let log = self
            .inner
            .audit_log()
            .ok_or_else(|| aims_error("this guard has no durable audit log (set audit_dir)"))?;
        let proof = py
            .detach(|| log.prove_inclusion(index))
            .map_err(|err| audit_error(&err))?;
        serialize_to_py(py, &proof)
    }
}
