//! The assembled runtime that applications, the CLI and the language bindings embed: one guard
//! with its durable audit log, signing key, PII scanner and, with an oversight store, the
//! [`Supervisor`] (approvals, incidents, anomaly monitoring), configured from data
//! ([`RuntimeConfig`], which bindings pass as a JSON object).
//!
//! Keeping the assembly here means every binding opens the same log with the same key rules
//! and makes the same decisions; a binding only converts types and calling conventions.

mod host_error;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::audit::keys::{KeyError, KeySource, NoteSigner};
use crate::audit::{AuditError, AuditLog, AuditSink, Durability, LogOptions, SinkError};
use crate::audit::{MemorySink, MEMORY_SINK_EVENTS};
use crate::guard::{
    admit, CallError, Decider, Decision, Guard, GuardedCall, ToolCall, ToolOutcome,
};
use crate::model::{load_dir, LoadError};
use crate::oversight::{
    ApprovalNotice, ApprovalNotifier, ApprovalSettings, ApprovalStatus, Approvals, Incidents,
    OversightStore, StoreError, Supervisor, SupervisorError,
};
use crate::policy::{Format, Policy, PolicyError};

pub use host_error::{ErrorClass, HostError};

/// How a runtime is assembled. Every field is optional but the policy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// A policy file (`.json` is read as JSON, anything else as YAML).
    #[serde(default)]
    pub policy_path: Option<PathBuf>,
    /// Policy text (YAML, which also reads JSON); errors name it `<inline>`.
    #[serde(default)]
    pub policy_text: Option<String>,
    /// The durable audit log's directory; without one, the newest
    /// [`MEMORY_SINK_EVENTS`](crate::audit::MEMORY_SINK_EVENTS) records stay in memory.
    #[serde(default)]
    pub audit_dir: Option<PathBuf>,
    /// The checkpoint signing key file; else `AIMS_SIGNING_KEY` names it; else a key is
    /// generated inside the audit directory (which proves integrity only against outsiders).
    #[serde(default)]
    pub signing_key: Option<PathBuf>,
    /// How durable an append is when the guard lets a call run. Default: batched.
    #[serde(default)]
    pub durability: DurabilityMode,
    /// The oversight store: the SQLite file that keeps approval requests and incidents across
    /// restarts (an explicit path, e.g. inside a mobile app's sandbox). With one,
    /// `require_approval` opens a request, and incident triggers and anomaly monitoring run
    /// (`docs/oversight.md`); without one they do not.
    #[serde(default)]
    pub oversight_store: Option<PathBuf>,
    /// An AIMS register directory whose `oversight` checkpoints join the policy's own (with an
    /// oversight store).
    #[serde(default)]
    pub register_dir: Option<PathBuf>,
    /// Which signatures on approvals count and the execution window (with an oversight
    /// store). Requests and votes are signed with the audit log's key.
    #[serde(default)]
    pub approvals: ApprovalSettings,
    /// Evaluate and record, but let every call proceed.
    #[serde(default)]
    pub shadow: bool,
    /// An OpenTelemetry collector's OTLP/HTTP base URL (e.g. `http://127.0.0.1:4318`): every
    /// recorded decision is also exported as a span, with the clause 9.1 metrics. Needs the
    /// `otel` feature; export never changes a decision or blocks a call (`docs/fleet.md`).
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
}

/// The durability modes of the audit log, by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DurabilityMode {
    /// fsync before every append returns.
    Strict,
    /// Group commit: an append returns once its group is fsynced.
    #[default]
    Batched,
    /// Buffered; fsynced on flush, checkpoint and close. A crash loses the unsynced tail.
    None,
}

impl From<DurabilityMode> for Durability {
    fn from(mode: DurabilityMode) -> Self {
        match mode {
            DurabilityMode::Strict => Durability::Strict,
            DurabilityMode::Batched => Durability::batched(),
            DurabilityMode::None => Durability::None,
        }
    }
}

/// Why a runtime could not be assembled or could not record.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The configuration itself is wrong (missing or conflicting fields, bad JSON).
    #[error("invalid runtime configuration: {0}")]
    Config(String),
    /// The policy could not be read or is invalid (with file, line and column).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The audit log could not be opened or written.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The signing key could not be read or generated.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A record could not be appended.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The oversight store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Oversight (approvals, incidents, anomalies) failed or refused.
    #[error(transparent)]
    Oversight(#[from] SupervisorError),
    /// The register could not be loaded.
    #[error(transparent)]
    Register(#[from] LoadError),
    /// The runtime has no oversight store, so there are no approvals or incidents.
    #[error("no oversight_store is configured, so there are no approvals or incidents")]
    NoOversight,
}

/// A guard with everything it records to. `Send + Sync`, cheap to clone.
#[derive(Debug, Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    guard: Guard,
    supervisor: Option<Supervisor>,
    log: Option<Arc<AuditLog>>,
    key_source: Option<KeySource>,
}

impl Runtime {
    /// Assembles a runtime: reads the policy, opens the audit log (creating it and, when no
    /// key is configured, its signing key), and builds the guard over them.
    pub fn open(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        Self::open_with_notifiers(config, Vec::new())
    }

    /// [`Runtime::open`], with `notifiers` told of every approval step (requested, approved,
    /// rejected, expired, escalated, executed, execution refused) after it is stored and
    /// recorded. Notifiers are code, not data, so they are not part of [`RuntimeConfig`];
    /// without an `oversight_store` there are no approval steps and they are never called.
    pub fn open_with_notifiers(
        config: RuntimeConfig,
        notifiers: Vec<Box<dyn ApprovalNotifier>>,
    ) -> Result<Self, RuntimeError> {
        let policy = match (&config.policy_path, &config.policy_text) {
            (Some(path), None) => Policy::from_file(path)?,
            (None, Some(text)) => Policy::from_text(text, Format::Yaml, "<inline>")?,
            (Some(_), Some(_)) => {
                return Err(RuntimeError::Config(
                    "give either policy_path or policy_text, not both".into(),
                ))
            }
            (None, None) => {
                return Err(RuntimeError::Config(
                    "a policy is required: set policy_path or policy_text".into(),
                ))
            }
        };
        let mut builder = Guard::builder(policy).shadow(config.shadow);
        let (sink, log, key_source): (Arc<dyn AuditSink>, _, _) = match &config.audit_dir {
            Some(dir) => {
                let (signer, source) = NoteSigner::for_log(dir, config.signing_key.as_deref())?;
                let options = LogOptions::new(signer).durability(config.durability.into());
                let log = Arc::new(AuditLog::open(dir, options)?);
                (
                    Arc::clone(&log) as Arc<dyn AuditSink>,
                    Some(log),
                    Some(source),
                )
            }
            None => (
                Arc::new(MemorySink::bounded(MEMORY_SINK_EVENTS)),
                None,
                None,
            ),
        };
        let sink = with_export(sink, config.otlp_endpoint.as_deref())?;
        builder = builder.sink(Arc::clone(&sink));
        let guard = builder.build();
        let supervisor = match &config.oversight_store {
            Some(path) => {
                let store = Arc::new(OversightStore::open(path)?);
                let checkpoints = match &config.register_dir {
                    Some(dir) => load_dir(dir)?.register.oversight,
                    None => Vec::new(),
                };
                // The approvals are signed with the log's key, read again (the log owns its
                // copy); without a log, with a key of this process's own.
                let signer = key_source
                    .as_ref()
                    .map(|source| NoteSigner::read(key_path(source)))
                    .transpose()?;
                let mut builder = Supervisor::builder(guard.clone(), store, sink)
                    .register_checkpoints(&checkpoints)
                    .approval_keys(config.approvals.keys(signer)?);
                if let Some(window) = config.approvals.execution_window() {
                    builder = builder.execution_window(window);
                }
                for notifier in notifiers {
                    builder = builder.notifier(move |notice: &ApprovalNotice| {
                        notifier.notify(notice);
                    });
                }
                Some(builder.build()?)
            }
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                guard,
                supervisor,
                log,
                key_source,
            }),
        })
    }

    /// [`Runtime::open`] from a JSON object of [`RuntimeConfig`] fields.
    pub fn from_json(config_json: &str) -> Result<Self, RuntimeError> {
        let config = serde_json::from_str(config_json)
            .map_err(|err| RuntimeError::Config(err.to_string()))?;
        Self::open(config)
    }

    /// The guard: `check`, `check_result`, `apply_redactions`, `explain`, metrics, reload.
    pub fn guard(&self) -> &Guard {
        &self.inner.guard
    }

    /// Admits a call under the guarded-call protocol: decides it (with oversight, opening or
    /// matching its approval request), records the decision and, when the call may run now,
    /// returns the handle the host runs it through ([`GuardedCall::arguments`], then
    /// [`GuardedCall::finish`] or [`GuardedCall::fail`]). Every binding, the CLI and the
    /// gateways admit calls here.
    pub fn admit(&self, call: impl Into<Arc<ToolCall>>) -> Result<GuardedCall<Runtime>, CallError> {
        admit(self, call)
    }

    /// [`Runtime::admit`], waiting up to `timeout` for a human to decide when the call requires
    /// approval: once the request is approved, the same call is admitted again and consumes
    /// the approval (it runs once). A request still pending, rejected or expired comes back as
    /// [`CallError::ApprovalRequired`] with that status; a store that cannot be read as
    /// status `unknown` (the call does not run).
    pub fn admit_waiting(
        &self,
        call: impl Into<Arc<ToolCall>>,
        timeout: Duration,
    ) -> Result<GuardedCall<Runtime>, CallError> {
        let call = call.into();
        let retry = Arc::clone(&call);
        let (decision, status) = match self.admit(call) {
            Err(CallError::ApprovalRequired { decision, status }) => (decision, status),
            admitted => return admitted,
        };
        let (Some(request_id), Some(supervisor)) = (&decision.approval_id, self.supervisor())
        else {
            return Err(CallError::ApprovalRequired { decision, status });
        };
        match supervisor.approvals().wait(request_id, timeout) {
            Ok(request) if request.status == ApprovalStatus::Approved => self.admit(retry),
            Ok(request) => Err(CallError::ApprovalRequired {
                decision,
                status: request.status.as_str().to_owned(),
            }),
            Err(_) => Err(CallError::ApprovalRequired {
                decision,
                status: "unknown".to_owned(),
            }),
        }
    }

    /// Decides a call before it runs and records the decision. With an oversight store
    /// ([`Supervisor::admit`]): an approved request for the identical call is consumed (the
    /// decision may proceed and names it in [`Decision::approval_id`]); a `require_approval`
    /// decision opens a request, or names the pending one for the identical call; the decision
    /// feeds the incident triggers and the anomaly monitor; if that handling fails, the call is
    /// denied.
    pub fn check(&self, call: &ToolCall) -> Decision {
        match &self.inner.supervisor {
            Some(supervisor) => supervisor.admit(call).decision,
            None => self.inner.guard.check(call),
        }
    }

    /// Swaps in a new policy and, with an oversight store, the checkpoints and incident
    /// triggers it declares, atomically, recorded as one event ([`Supervisor::reload`]).
    pub fn reload(&self, policy: Policy) -> Result<(), RuntimeError> {
        match &self.inner.supervisor {
            Some(supervisor) => supervisor.reload(policy)?,
            None => self.inner.guard.reload(policy)?,
        }
        Ok(())
    }

    /// Decides a call's result after it ran (a policy may deny or redact it); with an
    /// oversight store, PII found in the result feeds the incident triggers.
    pub fn check_result(&self, call: &ToolCall, result: &Value) -> Decision {
        let Some(supervisor) = &self.inner.supervisor else {
            return self.inner.guard.check_result(call, result);
        };
        let decision = self.inner.guard.check_result(call, result);
        match supervisor.supervise_result(call, result, decision.clone()) {
            Ok(supervised) => supervised.decision,
            Err(err) => Supervisor::fail_closed(decision, &err),
        }
    }

    /// [`Runtime::check_result`] for a result that costs something to produce (a binding
    /// converting it from its language), when all the caller needs is whether the result
    /// passes as it is: `None` when nothing can see the result (see
    /// [`Guard::check_result_when_seen`]), else its decision. With `pii_in_result` incident
    /// triggers every result is produced and scanned.
    pub fn check_result_when_seen<E>(
        &self,
        call: &ToolCall,
        result: impl FnOnce() -> Result<Value, E>,
    ) -> Result<Option<Decision>, E> {
        if self.supervisor().is_some_and(Supervisor::scans_results) {
            return Ok(Some(self.check_result(call, &result()?)));
        }
        // A supervisor that scans no results does nothing more with them.
        self.inner.guard.check_result_when_seen(call, result)
    }

    /// Clears an approved call to run now: the call must hash to the one approved and the
    /// policy in force is asked again (that decision is returned and recorded). Executes once.
    pub fn execute_approved(
        &self,
        approval_id: &str,
        call: &ToolCall,
    ) -> Result<Decision, RuntimeError> {
        Ok(self
            .oversight()?
            .execute_approved(approval_id, call)?
            .decision)
    }

    /// Approvals: approve, reject, status, wait, pending, expire_due.
    pub fn approvals(&self) -> Result<&Approvals, RuntimeError> {
        Ok(self.oversight()?.approvals())
    }

    /// Incidents: list, get, update.
    pub fn incidents(&self) -> Result<&Incidents, RuntimeError> {
        Ok(self.oversight()?.incidents())
    }

    /// The supervisor (approvals, incidents, anomalies), when an oversight store is configured.
    pub fn supervisor(&self) -> Option<&Supervisor> {
        self.inner.supervisor.as_ref()
    }

    fn oversight(&self) -> Result<&Supervisor, RuntimeError> {
        self.supervisor().ok_or(RuntimeError::NoOversight)
    }

    /// Records how a call the guard let through ended.
    pub fn record_outcome(
        &self,
        call: &ToolCall,
        decision: &Decision,
        outcome: &ToolOutcome,
    ) -> Result<u64, RuntimeError> {
        Ok(self.inner.guard.record_outcome(call, decision, outcome)?)
    }

    /// The durable audit log, when one is configured.
    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.inner.log.as_deref()
    }

    /// Where the signing key came from, when a log is configured. A
    /// [`KeySource::Generated`] key lives beside the log: tell the user.
    pub fn key_source(&self) -> Option<&KeySource> {
        self.inner.key_source.as_ref()
    }

    /// Makes every record durable and signs a checkpoint over them.
    pub fn flush(&self) -> Result<(), RuntimeError> {
        if let Some(log) = &self.inner.log {
            log.flush()?;
            log.checkpoint()?;
        }
        Ok(())
    }
}

/// `sink`, exporting what it records to the OpenTelemetry collector at `endpoint` if one is set.
#[cfg(feature = "otel")]
fn with_export(
    sink: Arc<dyn AuditSink>,
    endpoint: Option<&str>,
) -> Result<Arc<dyn AuditSink>, RuntimeError> {
    use crate::otel::{OtelOptions, OtelSink};
    match endpoint {
        Some(endpoint) => Ok(Arc::new(
            OtelSink::new(sink, &OtelOptions::new(endpoint))
                .map_err(|err| RuntimeError::Config(err.to_string()))?,
        )),
        None => Ok(sink),
    }
}

/// Without the `otel` feature, asking for export is a configuration error rather than a
/// silent no-op.
#[cfg(not(feature = "otel"))]
fn with_export(
    sink: Arc<dyn AuditSink>,
    endpoint: Option<&str>,
) -> Result<Arc<dyn AuditSink>, RuntimeError> {
    match endpoint {
        Some(_) => Err(RuntimeError::Config(
            "otlp_endpoint is set but this build has no OpenTelemetry export (cargo feature `otel`)"
                .into(),
        )),
        None => Ok(sink),
    }
}

impl Decider for Runtime {
    fn decide(&self, call: &ToolCall) -> Decision {
        self.check(call)
    }

    fn decide_result<E>(
        &self,
        call: &ToolCall,
        result: impl FnOnce() -> Result<Value, E>,
    ) -> Result<Option<Decision>, E> {
        self.check_result_when_seen(call, result)
    }

    fn record_outcome(
        &self,
        call: &ToolCall,
        decision: &Decision,
        outcome: &ToolOutcome,
    ) -> Result<u64, SinkError> {
        self.inner.guard.record_outcome(call, decision, outcome)
    }

    fn guard(&self) -> &Guard {
        &self.inner.guard
    }
}

/// The file a signing key was read from or written to.
fn key_path(source: &KeySource) -> &std::path::Path {
    match source {
        KeySource::Given(path)
        | KeySource::Environment(path)
        | KeySource::InLogDir(path)
        | KeySource::Generated(path) => path,
    }
}
