//! Human oversight from JavaScript: `guard.approvals` (approve, reject, status, wait, pending,
//! execute) and `guard.incidents` (list, get, update), over the runtime's oversight store.
//! Requests and incidents come back as plain objects (camelCase, enum values by their
//! snake_case names).
//!
//! `approvals.wait` settles its Promise from a thread of its own: the event loop keeps running,
//! and a long wait does not hold one of libuv's few pool threads that file and crypto work
//! (and `checkAsync`) need.

use std::time::Duration;

use aims_core::model::{self, IncidentStatus, Severity};
use aims_core::oversight::approvals::{self, ApprovalError};
use aims_core::oversight::incidents::{IncidentError, IncidentUpdate};
use aims_core::runtime::{Runtime, RuntimeError};
use aims_core::{guard, oversight};
use napi::bindgen_prelude::{AsyncTask, Object};
use napi::{Env, Task};
use napi_derive::napi;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::call::{rfc3339, Decision, ToolCall};
use crate::errors;

/// One vote cast on an approval request.
#[napi(object)]
#[derive(Debug)]
pub struct ApprovalVote {
    /// Who voted (as authenticated by the application).
    pub approver: String,
    /// The role they voted in.
    pub role: String,
    /// `approve` or `reject`.
    #[napi(ts_type = "'approve' | 'reject'")]
    pub vote: String,
    /// Their note, masked for PII.
    pub note: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// An approval request opened by a `require_approval` decision.
#[napi(object)]
#[derive(Debug)]
pub struct ApprovalRequest {
    /// The request's id (`Decision.approvalId`, `ApprovalRequiredError.requestId`).
    pub id: String,
    /// The oversight checkpoint it belongs to.
    pub checkpoint: String,
    /// sha256 of the canonical {agent_id, tool, args, policy_version}: the call it approves.
    pub call_hash: String,
    /// The agent that made the call.
    pub agent_id: String,
    /// The tool called.
    pub tool: String,
    /// Who triggered the call (the agent, and `context.user_id`): none of them may approve it.
    pub requested_by: Vec<String>,
    /// The policy version that asked for approval.
    pub policy_version: String,
    /// The decision that asked for approval.
    pub decision_id: Option<String>,
    /// Roles whose holders may vote now.
    pub approver_roles: Vec<String>,
    /// Distinct approvals needed (2 is the two-person rule).
    pub required_approvals: u32,
    /// How long each voting window lasts, in seconds.
    pub timeout_seconds: f64,
    /// What happens when the window passes.
    #[napi(ts_type = "'deny' | 'allow' | 'escalate'")]
    pub on_timeout: String,
    /// The role the request moves to on `on_timeout: escalate`.
    pub escalate_to: Option<String>,
    /// Whether it has been escalated.
    pub escalated: bool,
    /// Where it is in its life.
    #[napi(ts_type = "'pending' | 'approved' | 'rejected' | 'expired' | 'executed'")]
    pub status: String,
    /// When it was made (RFC 3339).
    pub requested_at: String,
    /// When the current voting window closes (RFC 3339).
    pub expires_at: String,
    /// When it was approved, rejected or expired.
    pub resolved_at: Option<String>,
    /// When the approved call ran.
    pub executed_at: Option<String>,
    /// Votes in the order cast.
    pub votes: Vec<ApprovalVote>,
}

/// The snake_case name of a core enum value, as its serde form spells it.
fn name_of(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}

impl From<approvals::ApprovalRequest> for ApprovalRequest {
    fn from(request: approvals::ApprovalRequest) -> Self {
        ApprovalRequest {
            id: request.id,
            checkpoint: request.checkpoint,
            call_hash: request.call_hash,
            agent_id: request.agent_id,
            tool: request.tool,
            requested_by: request.requested_by,
            policy_version: request.policy_version,
            decision_id: request.decision_id,
            approver_roles: request.approver_roles,
            required_approvals: request.required_approvals,
            timeout_seconds: request.timeout.as_seconds_f64(),
            on_timeout: name_of(&request.on_timeout),
            escalate_to: request.escalate_to,
            escalated: request.escalated,
            status: request.status.as_str().to_owned(),
            requested_at: rfc3339(request.requested_at),
            expires_at: rfc3339(request.expires_at),
            resolved_at: request.resolved_at.map(rfc3339),
            executed_at: request.executed_at.map(rfc3339),
            votes: request
                .votes
                .into_iter()
                .map(|vote| ApprovalVote {
                    approver: vote.approver,
                    role: vote.role,
                    vote: name_of(&vote.vote),
                    note: vote.note,
                    at: rfc3339(vote.at),
                })
                .collect(),
        }
    }
}

/// An oversight failure or refusal as an `AimsError` (its message names the request, the
/// role or the step; never argument values).
fn refused(env: &Env, err: impl std::fmt::Display) -> napi::Error {
    errors::invalid(env, err.to_string())
}

/// A handle on `runtime` for its oversight; `AimsError` when it has no oversight store.
fn overseen(env: &Env, runtime: &Runtime) -> napi::Result<Runtime> {
    match runtime.supervisor() {
        Some(_) => Ok(runtime.clone()),
        None => Err(errors::runtime(env, RuntimeError::NoOversight)),
    }
}

/// The runtime's approvals, or `AimsError` when it has no oversight store.
fn approvals_of<'r>(env: &Env, runtime: &'r Runtime) -> napi::Result<&'r approvals::Approvals> {
    runtime.approvals().map_err(|err| errors::runtime(env, err))
}

/// Approval requests of one guard: `approve`, `reject`, `status`, `wait`, `pending`,
/// `execute`. Get it as `guard.approvals` (a guard with an `oversightStore`).
#[napi]
#[derive(Debug)]
pub struct Approvals {
    runtime: Runtime,
}

impl Approvals {
    /// The approvals of `runtime`; `AimsError` when it has no oversight store.
    pub fn of(env: &Env, runtime: &Runtime) -> napi::Result<Self> {
        Ok(Approvals {
            runtime: overseen(env, runtime)?,
        })
    }

    /// Takes `step` on the runtime's approvals; a refusal becomes an `AimsError`.
    fn take<T>(
        &self,
        env: &Env,
        step: impl FnOnce(&approvals::Approvals) -> Result<T, ApprovalError>,
    ) -> napi::Result<T> {
        step(approvals_of(env, &self.runtime)?).map_err(|err| refused(env, err))
    }
}

#[napi]
impl Approvals {
    /// Approves request `id` as `approver` acting in `role`; it is approved once the
    /// checkpoint's number of distinct approvers agreed. Throws `AimsError` when the role may
    /// not vote, the approver triggered the call or already voted, or the window closed.
    #[napi]
    pub fn approve(
        &self,
        env: Env,
        id: String,
        approver: String,
        role: String,
        note: Option<String>,
    ) -> napi::Result<ApprovalRequest> {
        self.take(&env, |approvals| {
            approvals.approve(&id, &approver, &role, note.as_deref())
        })
        .map(ApprovalRequest::from)
    }

    /// Rejects request `id`; one rejection by an allowed role resolves it.
    #[napi]
    pub fn reject(
        &self,
        env: Env,
        id: String,
        approver: String,
        role: String,
        note: Option<String>,
    ) -> napi::Result<ApprovalRequest> {
        self.take(&env, |approvals| {
            approvals.reject(&id, &approver, &role, note.as_deref())
        })
        .map(ApprovalRequest::from)
    }

    /// Request `id` now (a closed window is settled first).
    #[napi]
    pub fn status(&self, env: Env, id: String) -> napi::Result<ApprovalRequest> {
        self.take(&env, |approvals| approvals.status(&id))
            .map(ApprovalRequest::from)
    }

    /// Requests waiting for votes, oldest first.
    #[napi]
    pub fn pending(&self, env: Env) -> napi::Result<Vec<ApprovalRequest>> {
        let requests = self.take(&env, |approvals| approvals.pending())?;
        Ok(requests.into_iter().map(ApprovalRequest::from).collect())
    }

    /// Resolves with request `id` once it is no longer pending or `timeoutMs` passed (still
    /// `pending` then). Waits on a thread of its own: the event loop keeps running, and an
    /// approval given from this process, another one or the CLI ends the wait.
    #[napi(ts_return_type = "Promise<ApprovalRequest>")]
    pub fn wait<'env>(
        &self,
        env: &'env Env,
        id: String,
        timeout_ms: f64,
    ) -> napi::Result<Object<'env>> {
        let timeout = Duration::try_from_secs_f64(timeout_ms.max(0.0) / 1_000.0)
            .map_err(|err| errors::invalid(env, format!("bad timeout {timeout_ms}: {err}")))?;
        let runtime = self.runtime.clone();
        let (deferred, promise) = env.create_deferred()?;
        std::thread::Builder::new()
            .name("aims-approval-wait".to_owned())
            .spawn(move || {
                let waited =
                    runtime
                        .approvals()
                        .map_err(|err| err.to_string())
                        .and_then(|approvals| {
                            approvals.wait(&id, timeout).map_err(|err| err.to_string())
                        });
                deferred.resolve(move |env| {
                    waited
                        .map(ApprovalRequest::from)
                        .map_err(|message| errors::invalid(&env, message))
                });
            })
            .map_err(|err| errors::invalid(env, format!("cannot start the wait: {err}")))?;
        Ok(promise)
    }

    /// Clears approved request `id` to run `call` now: the call must hash to the one approved
    /// (agent, tool, arguments) and the policy in force is asked again; returns that decision
    /// (recorded). Runs once per request. Throws `AimsError` when refused.
    #[napi]
    pub fn execute(&self, env: Env, id: String, call: ToolCall) -> napi::Result<Decision> {
        execute(&self.runtime, &id, &call.into())
            .map(Decision::from)
            .map_err(|err| refused(&env, err))
    }

    /// `execute` on libuv's thread pool: the event loop keeps running while a durable audit
    /// log makes the records durable.
    #[napi(ts_return_type = "Promise<Decision>")]
    pub fn execute_async(&self, id: String, call: ToolCall) -> AsyncTask<ExecuteTask> {
        AsyncTask::new(ExecuteTask {
            runtime: self.runtime.clone(),
            work: Some((id, call.into())),
        })
    }
}

fn execute(
    runtime: &Runtime,
    id: &str,
    call: &guard::ToolCall,
) -> Result<guard::Decision, RuntimeError> {
    runtime.execute_approved(id, call)
}

/// An `execute` run on libuv's thread pool.
#[derive(Debug)]
pub struct ExecuteTask {
    runtime: Runtime,
    work: Option<(String, guard::ToolCall)>,
}

impl Task for ExecuteTask {
    type Output = Result<guard::Decision, String>;
    type JsValue = Decision;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let Some((id, call)) = self.work.take() else {
            return Err(napi::Error::from_reason("an execute task ran twice"));
        };
        Ok(execute(&self.runtime, &id, &call).map_err(|err| err.to_string()))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output
            .map(Decision::from)
            .map_err(|message| errors::invalid(&env, message))
    }
}

/// One step in an incident's timeline.
#[napi(object)]
#[derive(Debug)]
pub struct TimelineEntry {
    /// When (RFC 3339).
    pub at: String,
    /// What happened or was done.
    pub event: String,
    /// Who did it or recorded it.
    pub by: Option<String>,
}

/// An incident, as the register keeps it.
#[napi(object)]
#[derive(Debug)]
pub struct Incident {
    /// Its id.
    pub id: String,
    /// Short title.
    pub title: String,
    /// The AI systems involved.
    pub ai_system_ids: Vec<String>,
    /// How bad it is.
    #[napi(ts_type = "'low' | 'medium' | 'high' | 'critical'")]
    pub severity: String,
    /// Where it stands.
    #[napi(ts_type = "'open' | 'investigating' | 'contained' | 'resolved' | 'closed'")]
    pub status: String,
    /// When it was detected (RFC 3339).
    pub detected_at: String,
    /// When the organization became aware it is (possibly) serious.
    pub aware_at: Option<String>,
    /// Whether it is a serious incident (EU AI Act Art. 3(49)).
    pub serious: bool,
    /// For a serious incident: which Art. 73 deadline applies.
    #[napi(ts_type = "'death' | 'widespread_or_critical_infrastructure' | 'other'")]
    pub serious_kind: Option<String>,
    /// When it was reported to the market surveillance authority.
    pub reported_at: Option<String>,
    /// The Art. 73 reporting deadline of a serious incident (RFC 3339).
    pub reporting_deadline: Option<String>,
    /// What happened, in order.
    pub timeline: Vec<TimelineEntry>,
    /// Indices of the audit records that show what happened.
    pub audit_indices: Vec<i64>,
    /// The root cause, once known.
    pub root_cause: Option<String>,
    /// Corrective actions in the register that address it.
    pub corrective_action_ids: Vec<String>,
}

impl From<model::Incident> for Incident {
    fn from(incident: model::Incident) -> Self {
        let reporting_deadline = incident.reporting_deadline().map(rfc3339);
        Incident {
            id: incident.id,
            title: incident.title,
            ai_system_ids: incident.ai_system_ids,
            severity: name_of(&incident.severity),
            status: name_of(&incident.status),
            detected_at: rfc3339(incident.detected_at),
            aware_at: incident.aware_at.map(rfc3339),
            serious: incident.serious,
            serious_kind: incident.serious_kind.map(|kind| name_of(&kind)),
            reported_at: incident.reported_at.map(rfc3339),
            reporting_deadline,
            timeline: incident
                .timeline
                .into_iter()
                .map(|entry| TimelineEntry {
                    at: rfc3339(entry.at),
                    event: entry.event,
                    by: entry.by,
                })
                .collect(),
            audit_indices: incident
                .audit_indices
                .into_iter()
                .map(|index| i64::try_from(index).unwrap_or(i64::MAX))
                .collect(),
            root_cause: incident.root_cause,
            corrective_action_ids: incident.corrective_action_ids,
        }
    }
}

/// Changes to an incident, applied together; unset fields are left alone.
#[napi(object)]
#[derive(Debug, Default)]
pub struct IncidentChange {
    /// A new status; the lifecycle is checked (a major incident closes only with a root cause
    /// and a corrective action).
    #[napi(ts_type = "'open' | 'investigating' | 'contained' | 'resolved' | 'closed'")]
    pub status: Option<String>,
    /// A new severity.
    #[napi(ts_type = "'low' | 'medium' | 'high' | 'critical'")]
    pub severity: Option<String>,
    /// The root cause (masked for PII before it is stored).
    pub root_cause: Option<String>,
    /// Corrective actions of the register to link (added to those already linked).
    pub corrective_action_ids: Option<Vec<String>>,
    /// A timeline note (masked for PII).
    pub note: Option<String>,
}

/// A snake_case name of a register enum (`"investigating"`, `"high"`).
fn parse_name<T: DeserializeOwned>(env: &Env, what: &str, name: &str) -> napi::Result<T> {
    serde_json::from_value(Value::String(name.to_owned()))
        .map_err(|err| errors::invalid(env, format!("bad {what} `{name}`: {err}")))
}

fn incidents_of<'r>(env: &Env, runtime: &'r Runtime) -> napi::Result<&'r oversight::Incidents> {
    runtime.incidents().map_err(|err| errors::runtime(env, err))
}

/// Incidents of one guard's oversight store: `list`, `get`, `update`. Get it as
/// `guard.incidents` (a guard with an `oversightStore`).
#[napi]
#[derive(Debug)]
pub struct Incidents {
    runtime: Runtime,
}

impl Incidents {
    /// The incidents of `runtime`; `AimsError` when it has no oversight store.
    pub fn of(env: &Env, runtime: &Runtime) -> napi::Result<Self> {
        Ok(Incidents {
            runtime: overseen(env, runtime)?,
        })
    }

    /// Takes `step` on the runtime's incidents; a refusal becomes an `AimsError`.
    fn take<T>(
        &self,
        env: &Env,
        step: impl FnOnce(&oversight::Incidents) -> Result<T, IncidentError>,
    ) -> napi::Result<T> {
        step(incidents_of(env, &self.runtime)?).map_err(|err| refused(env, err))
    }
}

#[napi]
impl Incidents {
    /// Every incident, or those with `status`.
    #[napi]
    pub fn list(
        &self,
        env: Env,
        #[napi(ts_arg_type = "'open' | 'investigating' | 'contained' | 'resolved' | 'closed'")]
        status: Option<String>,
    ) -> napi::Result<Vec<Incident>> {
        let status: Option<IncidentStatus> = status
            .map(|name| parse_name(&env, "status", &name))
            .transpose()?;
        let found = self.take(&env, |incidents| incidents.list(status))?;
        Ok(found.into_iter().map(Incident::from).collect())
    }

    /// Incident `id`.
    #[napi]
    pub fn get(&self, env: Env, id: String) -> napi::Result<Incident> {
        self.take(&env, |incidents| incidents.get(&id))
            .map(Incident::from)
    }

    /// Changes incident `id` as `by` and returns it. Throws `AimsError` for a transition the
    /// lifecycle does not allow, an unknown name or a change that changes nothing.
    #[napi]
    pub fn update(
        &self,
        env: Env,
        id: String,
        by: String,
        change: IncidentChange,
    ) -> napi::Result<Incident> {
        let update = IncidentUpdate {
            status: change
                .status
                .map(|name| parse_name(&env, "status", &name))
                .transpose()?,
            severity: change
                .severity
                .map(|name| parse_name::<Severity>(&env, "severity", &name))
                .transpose()?,
            root_cause: change.root_cause,
            corrective_action_ids: change.corrective_action_ids.unwrap_or_default(),
            note: change.note,
            ..IncidentUpdate::default()
        };
        self.take(&env, |incidents| incidents.update(&id, &update, &by))
            .map(Incident::from)
    }
}
