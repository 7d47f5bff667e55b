//! Human oversight from Python: `guard.approvals` (approve, reject, status, wait, pending,
//! execute) and `guard.incidents` (list, get, update), over the runtime's oversight store.
//! Requests and incidents come back as dicts (their JSON form).

use std::sync::Arc;
use std::time::Duration;

use aims_core::model::{IncidentStatus, Severity};
use aims_core::oversight::incidents::IncidentUpdate;
use aims_core::oversight::{ApprovalError, Approvals as CoreApprovals, Supervisor};
use aims_core::runtime::{HostError, Runtime as CoreRuntime};
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::convert::serialize_to_py;
use crate::decision::Decision;
use crate::errors::{aims_error, host_error};

/// The supervisor of a runtime that has one (checked when the handle was made).
fn supervisor(runtime: &CoreRuntime) -> PyResult<&Supervisor> {
    runtime
        .supervisor()
        .ok_or_else(|| aims_error("this guard has no oversight store (set oversight_store)"))
}

/// Approval requests of one guard: ``approve``, ``reject``, ``status``, ``wait``,
/// ``pending``. A request is a dict with ``id``, ``status`` (``pending``, ``approved``,
/// ``rejected``, ``expired``, ``executed``), ``checkpoint``, ``votes``, ``expires_at``, ...
#[pyclass(frozen, module = "aims", name = "Approvals")]
#[derive(Debug)]
pub struct Approvals {
    runtime: CoreRuntime,
}

impl Approvals {
    pub fn of(runtime: &CoreRuntime) -> PyResult<Self> {
        supervisor(runtime)?;
        Ok(Self {
            runtime: runtime.clone(),
        })
    }

    /// Runs `step` on the core approvals without the GIL and returns what it gives as a dict
    /// (or a list of them); the shape every approval method shares.
    fn without_gil<'py, T, F>(&self, py: Python<'py>, step: F) -> PyResult<Bound<'py, PyAny>>
    where
        T: Serialize + Send,
        F: FnOnce(&CoreApprovals) -> Result<T, ApprovalError> + Send,
    {
        let approvals = supervisor(&self.runtime)?.approvals();
        let answer = py
            .detach(|| step(approvals))
            .map_err(|err| host_error(HostError::from(&err)))?;
        serialize_to_py(py, &answer)
    }
}

#[pymethods]
impl Approvals {
    /// Approves request ``id`` as ``approver`` acting in ``role``; it is approved once the
    /// checkpoint's number of distinct approvers agreed. Raises ``AimsError`` when the role
    /// may not vote, the approver triggered the call or already voted, or it expired.
    #[pyo3(signature = (id, approver, role, note=None))]
    fn approve<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        approver: &str,
        role: &str,
        note: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.without_gil(py, |approvals| approvals.approve(id, approver, role, note))
    }

    /// Rejects request ``id``; one rejection by an allowed role resolves it.
    #[pyo3(signature = (id, approver, role, note=None))]
    fn reject<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        approver: &str,
        role: &str,
        note: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.without_gil(py, |approvals| approvals.reject(id, approver, role, note))
    }

    /// Request ``id`` now, without blocking (an expired window is settled first).
    fn status<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        self.without_gil(py, |approvals| approvals.status(id))
    }

    /// Blocks (without the GIL) until request ``id`` is resolved or ``timeout`` seconds pass;
    /// returns it as it is then (still ``pending`` on timeout).
    fn wait<'py>(&self, py: Python<'py>, id: &str, timeout: f64) -> PyResult<Bound<'py, PyAny>> {
        let timeout = Duration::try_from_secs_f64(timeout.max(0.0))
            .map_err(|err| aims_error(format!("bad timeout: {err}")))?;
        self.without_gil(py, |approvals| approvals.wait(id, timeout))
    }

    /// Requests waiting for votes, oldest first.
    fn pending<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.without_gil(py, |approvals| approvals.pending())
    }

    /// Clears the approved call ``decision`` was about to run now: the call must be the one
    /// approved, and the policy in force is asked again; returns that new decision. Runs
    /// once per request. Raises ``AimsError`` when refused.
    fn execute(&self, py: Python<'_>, decision: &Decision) -> PyResult<Decision> {
        let id = decision
            .inner
            .approval_id
            .as_deref()
            .ok_or_else(|| aims_error("this decision has no approval request"))?;
        let supervisor = supervisor(&self.runtime)?;
        let cleared = py
            .detach(|| supervisor.execute_approved(id, &decision.call))
            .map_err(|err| host_error(HostError::from(&err)))?;
        Ok(Decision::new(cleared.decision, Arc::clone(&decision.call)))
    }
}

/// Incidents of one guard's oversight store: ``list``, ``get``, ``update``. An incident is a
/// dict in the register's ``Incident`` form (status, severity, timeline, deadlines, ...).
#[pyclass(frozen, module = "aims", name = "Incidents")]
#[derive(Debug)]
pub struct Incidents {
    runtime: CoreRuntime,
}

impl Incidents {
    pub fn of(runtime: &CoreRuntime) -> PyResult<Self> {
        supervisor(runtime)?;
        Ok(Self {
            runtime: runtime.clone(),
        })
    }
}

/// A snake_case name of a register enum (`"investigating"`, `"high"`).
fn parse_name<T: DeserializeOwned>(what: &str, name: &str) -> PyResult<T> {
    serde_json::from_value(Value::String(name.to_owned()))
        .map_err(|err| aims_error(format!("bad {what} `{name}`: {err}")))
}

#[pymethods]
impl Incidents {
    /// Every incident, or those with ``status``.
    #[pyo3(signature = (status=None))]
    fn list<'py>(&self, py: Python<'py>, status: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        let status: Option<IncidentStatus> =
            status.map(|name| parse_name("status", name)).transpose()?;
        let incidents = supervisor(&self.runtime)?.incidents();
        let found = py
            .detach(|| incidents.list(status))
            .map_err(|err| host_error(HostError::from(&err)))?;
        serialize_to_py(py, &found)
    }

    /// Incident ``id``.
    fn get<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let incidents = supervisor(&self.runtime)?.incidents();
        let incident = py
            .detach(|| incidents.get(id))
            .map_err(|err| host_error(HostError::from(&err)))?;
        serialize_to_py(py, &incident)
    }

    /// Changes incident ``id`` as ``by``: a new ``status`` (the lifecycle is checked: a major
    /// incident closes only with a root cause and a corrective action), ``severity``,
    /// ``root_cause``, linked ``corrective_action_ids``, a timeline ``note``. Text is masked
    /// for PII before it is stored. Returns the incident.
    #[pyo3(signature = (id, by, *, status=None, severity=None, root_cause=None, corrective_action_ids=None, note=None))]
    #[allow(clippy::too_many_arguments)]
    fn update<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        by: &str,
        status: Option<&str>,
        severity: Option<&str>,
        root_cause: Option<String>,
        corrective_action_ids: Option<Vec<String>>,
        note: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let update = IncidentUpdate {
            status: status.map(|name| parse_name("status", name)).transpose()?,
            severity: severity
                .map(|name| parse_name::<Severity>("severity", name))
                .transpose()?,
            root_cause,
            corrective_action_ids: corrective_action_ids.unwrap_or_default(),
            note,
            ..IncidentUpdate::default()
        };
        let incidents = supervisor(&self.runtime)?.incidents();
        let incident = py
            .detach(|| incidents.update(id, &update, by))
            .map_err(|err| host_error(HostError::from(&err)))?;
        serialize_to_py(py, &incident)
    }
}
