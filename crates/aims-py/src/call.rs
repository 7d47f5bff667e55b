//! `aims._native.GuardedCall`: one call the core admitted under the guarded-call protocol. The
//! Python decorator runs the tool with its arguments, then finishes or fails it; the core
//! records the outcome, decides the result and masks it. A refused call never becomes a handle:
//! `Runtime.admit` raises the error's class instead (see `errors::call_error`).

use std::sync::Arc;

use aims_core::guard::{Finished, GuardedCall as CoreGuardedCall, ToolCall};
use aims_core::runtime::Runtime;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::convert::{to_py, to_value};
use crate::decision::Decision;
use crate::errors::call_error;

/// A call the guard admitted: run the tool with ``arguments`` (the masked arguments, or
/// ``None`` when the tool receives its arguments as given), then call ``finish`` with its result
/// or ``fail`` with its error, exactly once.
#[pyclass(module = "aims._native", name = "GuardedCall")]
#[derive(Debug)]
pub struct GuardedCall {
    inner: Option<CoreGuardedCall<Runtime>>,
}

impl GuardedCall {
    pub fn new(inner: CoreGuardedCall<Runtime>) -> Self {
        Self { inner: Some(inner) }
    }

    fn take(&mut self) -> PyResult<CoreGuardedCall<Runtime>> {
        self.inner
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this call already finished"))
    }

    fn live(&self) -> PyResult<&CoreGuardedCall<Runtime>> {
        self.inner
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("this call already finished"))
    }
}

#[pymethods]
impl GuardedCall {
    /// The decision that admitted the call.
    #[getter]
    fn decision(&self) -> PyResult<Decision> {
        let inner = self.live()?;
        Ok(Decision::new(
            inner.decision().clone(),
            Arc::clone(inner.call()),
        ))
    }

    /// The arguments the tool must receive when the decision masked them, else ``None``.
    #[getter]
    fn arguments<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.live()?
            .masked_arguments()
            .map(|masked| to_py(py, masked))
            .transpose()
    }

    /// Starts the tool's clock (call right before running the tool).
    fn start(&mut self) -> PyResult<()> {
        self.inner
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("this call already finished"))?
            .start();
        Ok(())
    }

    /// The tool returned ``result``: records the outcome and decides the result. Returns what
    /// the caller gets (``result`` itself, or a masked copy); raises ``PolicyDenied`` when the
    /// result may not be returned and ``AuditError`` when the outcome could not be recorded.
    fn finish(&mut self, py: Python<'_>, result: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let guarded = self.take()?;
        let call: Arc<ToolCall> = Arc::clone(guarded.call());
        let seen = result.clone().unbind();
        // The result is converted only when something can see it, taking the GIL back then.
        let finished = py
            .detach(|| guarded.finish_when_seen(|| Python::attach(|py| to_value(seen.bind(py)))))?;
        match finished {
            Ok(Finished::Unchanged) => Ok(result.unbind()),
            Ok(Finished::Masked(masked)) => Ok(to_py(py, &masked)?.unbind()),
            Err(err) => Err(call_error(&err, &call)),
        }
    }

    /// The tool raised: records the error (masked) as the call's outcome.
    fn fail(&mut self, py: Python<'_>, error: &str) -> PyResult<()> {
        let guarded = self.take()?;
        let call = Arc::clone(guarded.call());
        py.detach(|| guarded.fail(error))
            .map_err(|err| call_error(&err, &call))
    }

    fn __repr__(&self) -> String {
        match &self.inner {
            Some(inner) => format!(
                "GuardedCall(tool={:?}, verdict={:?})",
                inner.call().tool,
                inner.decision().verdict.as_str()
            ),
            None => "GuardedCall(finished)".to_owned(),
        }
    }
}
