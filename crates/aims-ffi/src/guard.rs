//! The guard object an app opens once. It is `aims_core::runtime::Runtime`, configured with
//! the app's own paths: the audit log directory, signing key and approval store inside the
//! app's sandbox are given explicitly, because a mobile app has no working directory or
//! environment to find them in.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aims_core::audit::OutcomeStatus;
use aims_core::guard::{self as core_guard, ToolOutcome};
use aims_core::oversight::ApprovalNotifier;
use aims_core::policy::Policy;
use aims_core::runtime::{DurabilityMode, Runtime, RuntimeConfig};
use serde_json::Value;
use time::OffsetDateTime;

use crate::approvals::{ApprovalListener, Approvals, ListenerNotifier};
use crate::audit::AuditLog;
use crate::call::ToolCall;
use crate::decision::Decision;
use crate::error::AimsError;
use crate::incidents::Incidents;
use crate::json;

/// How durable a decision record is when `check` returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, uniffi::Enum)]
pub enum Durability {
    /// fsync before every check returns.
    Strict,
    /// Group commit: a check returns once its group is fsynced.
    #[default]
    Batched,
    /// Buffered; fsynced on flush. A crash loses the unsynced tail.
    None,
}

/// How to open a [`Guard`]. Exactly one of `policy_text` and `policy_path`.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct GuardConfig {
    /// Policy text (YAML, which also reads JSON); errors name it `<inline>`.
    #[uniffi(default)]
    pub policy_text: Option<String>,
    /// A policy file (`.json` is read as JSON, anything else as YAML).
    #[uniffi(default)]
    pub policy_path: Option<String>,
    /// The audit log's directory, e.g. under the app's files directory. Without one, records
    /// stay in memory and nothing can be proved or exported.
    #[uniffi(default)]
    pub audit_dir: Option<String>,
    /// The checkpoint signing key file; without one a key is generated in the audit
    /// directory on first use (which proves integrity only against outsiders).
    #[uniffi(default)]
    pub signing_key_path: Option<String>,
    /// The SQLite file that keeps approval requests and incidents across restarts, e.g.
    /// under the app's files directory. With it, `check` opens an approval request for every
    /// `RequireApproval` decision (its id is the decision's `approval_id`).
    #[uniffi(default)]
    pub approval_store_path: Option<String>,
    /// A register directory whose `oversight` checkpoints join the policy's own (with an
    /// approval store).
    #[uniffi(default)]
    pub register_dir: Option<String>,
    /// How durable each record is (default `Batched`).
    #[uniffi(default)]
    pub durability: Option<Durability>,
    /// Evaluate and record, but let every call proceed.
    #[uniffi(default)]
    pub shadow: bool,
}

/// How a call the guard let through ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Outcome {
    /// The tool returned normally.
    pub ok: bool,
    /// The error message when it failed (masked before it is recorded).
    #[uniffi(default)]
    pub error: Option<String>,
    /// How long the tool ran, in milliseconds.
    #[uniffi(default)]
    pub duration_ms: u64,
}

/// A clock that moves only when told to, for tests and replays of limits.
#[derive(Debug, uniffi::Object)]
pub struct ManualClock {
    clock: Arc<core_guard::ManualClock>,
}

#[uniffi::export]
impl ManualClock {
    /// A clock stopped at `start`.
    #[uniffi::constructor]
    pub fn new(start: SystemTime) -> Arc<Self> {
        Arc::new(Self {
            clock: Arc::new(core_guard::ManualClock::new(OffsetDateTime::from(start))),
        })
    }

    /// Sets the clock.
    pub fn set(&self, to: SystemTime) {
        self.clock.set(OffsetDateTime::from(to));
    }
}

/// The guard: decides every tool call before it runs and records the decision.
/// Thread-safe; open one per policy and share it.
#[derive(Debug, uniffi::Object)]
pub struct Guard {
    guard: core_guard::Guard,
    /// Absent for a [`Guard::with_manual_clock`] guard (in-memory records, no approvals).
    runtime: Option<Runtime>,
    /// How many times the app's approval listener threw.
    listener_failures: Arc<AtomicU64>,
}

#[uniffi::export]
impl Guard {
    /// Opens the guard: reads the policy, opens (or creates) the audit log and its key, and
    /// the approval store; `listener` hears about every approval step.
    #[uniffi::constructor(default(listener = None))]
    pub fn new(
        config: GuardConfig,
        listener: Option<Box<dyn ApprovalListener>>,
    ) -> Result<Arc<Self>, AimsError> {
        let listener_failures = Arc::new(AtomicU64::new(0));
        let mut notifiers: Vec<Box<dyn ApprovalNotifier>> = Vec::new();
        if let Some(listener) = listener {
            let failures = Arc::clone(&listener_failures);
            notifiers.push(Box::new(ListenerNotifier::new(listener, failures)));
        }
        let config = RuntimeConfig {
            policy_path: config.policy_path.map(Into::into),
            policy_text: config.policy_text,
            audit_dir: config.audit_dir.map(Into::into),
            signing_key: config.signing_key_path.map(Into::into),
            durability: match config.durability.unwrap_or_default() {
                Durability::Strict => DurabilityMode::Strict,
                Durability::Batched => DurabilityMode::Batched,
                Durability::None => DurabilityMode::None,
            },
            oversight_store: config.approval_store_path.map(Into::into),
            register_dir: config.register_dir.map(Into::into),
            shadow: config.shadow,
            // These options do not expose OpenTelemetry export yet.
            otlp_endpoint: None,
            ..RuntimeConfig::default()
        };
        let runtime = Runtime::open_with_notifiers(config, notifiers)?;
        Ok(Arc::new(Self {
            guard: runtime.guard().clone(),
            runtime: Some(runtime),
            listener_failures,
        }))
    }

    /// A guard over the policy file `policy_path` whose limits run on `clock`, recording in
    /// memory: for tests and replays that must decide the same way every time.
    #[uniffi::constructor]
    pub fn with_manual_clock(
        policy_path: String,
        clock: Arc<ManualClock>,
    ) -> Result<Arc<Self>, AimsError> {
        let policy = Policy::from_file(policy_path)?;
        let guard = core_guard::Guard::builder(policy)
            .clock(Arc::clone(&clock.clock) as Arc<dyn core_guard::Clock>)
            .build();
        Ok(Arc::new(Self {
            guard,
            runtime: None,
            listener_failures: Arc::new(AtomicU64::new(0)),
        }))
    }

    /// Decides a call before it runs, counts it against its limits, and records the decision;
    /// with an approval store, a `RequireApproval` decision opens a request (`approval_id`).
    /// Fails only on malformed JSON: a failure inside the guard or oversight is a `Deny`.
    pub fn check(&self, call: ToolCall) -> Result<Decision, AimsError> {
        let call = call.to_core()?;
        Ok(match &self.runtime {
            Some(runtime) => runtime.check(&call),
            None => self.guard.check(&call),
        }
        .into())
    }

    /// Decides a call's result (JSON text) after it ran.
    pub fn check_result(&self, call: ToolCall, result_json: String) -> Result<Decision, AimsError> {
        let result: Value = json::parse("result_json", &result_json)?;
        let call = call.to_core()?;
        Ok(match &self.runtime {
            Some(runtime) => runtime.check_result(&call, &result),
            None => self.guard.check_result(&call, &result),
        }
        .into())
    }

    /// Clears approved request `approval_id` to run `call` now, once: the call must be the
    /// exact call approved (`CallChanged` otherwise) and the policy in force is asked again
    /// (`PolicyNowRefuses` when it no longer lets it run). Returns that new, recorded decision:
    /// returned at all, it clears the call (a `RequireApproval` at the same checkpoint is the
    /// one this approval satisfies); apply its redactions when it is `Redact`.
    pub fn execute_approved(
        &self,
        approval_id: String,
        call: ToolCall,
    ) -> Result<Decision, AimsError> {
        let call = call.to_core()?;
        let runtime = self.runtime.as_ref().ok_or(AimsError::Config {
            detail: "this guard has no approval store".into(),
        })?;
        Ok(runtime.execute_approved(&approval_id, &call)?.into())
    }

    /// The approval requests, when `approval_store_path` was given.
    pub fn approvals(&self) -> Option<Arc<Approvals>> {
        Approvals::of(self.runtime.as_ref()?).map(Arc::new)
    }

    /// The incidents the policy's triggers opened, when `approval_store_path` was given.
    pub fn incidents(&self) -> Option<Arc<Incidents>> {
        Incidents::of(self.runtime.as_ref()?).map(Arc::new)
    }

    /// How many times the approval listener threw. Its exceptions are otherwise dropped: the
    /// step it was told about is already stored and recorded, and no decision changes.
    pub fn listener_failures(&self) -> u64 {
        self.listener_failures.load(Ordering::Relaxed)
    }

    /// Masks what a `Redact` decision names in `value_json` (the call's arguments or its
    /// result) and returns the masked JSON text.
    pub fn apply_redactions(
        &self,
        decision: Decision,
        value_json: String,
    ) -> Result<String, AimsError> {
        let mut value: Value = json::parse("value_json", &value_json)?;
        self.guard.apply_redactions(&decision.into(), &mut value);
        Ok(value.to_string())
    }

    /// Records how a call the guard let through ended; returns the record's index.
    pub fn record_outcome(
        &self,
        call: ToolCall,
        decision: Decision,
        outcome: Outcome,
    ) -> Result<u64, AimsError> {
        let outcome = ToolOutcome {
            status: if outcome.ok {
                OutcomeStatus::Ok
            } else {
                OutcomeStatus::Error
            },
            error: outcome.error,
            duration: Duration::from_millis(outcome.duration_ms),
        };
        Ok(self
            .guard
            .record_outcome(&call.to_core()?, &decision.into(), &outcome)?)
    }

    /// The sha256 of the policy in force.
    pub fn policy_version(&self) -> String {
        self.guard.policy_version()
    }

    /// The audit log, when `audit_dir` was given.
    pub fn audit_log(&self) -> Option<Arc<AuditLog>> {
        let runtime = self.runtime.as_ref()?;
        runtime.audit_log()?;
        Some(Arc::new(AuditLog::new(runtime.clone())))
    }

    /// Makes every record durable and signs a checkpoint over them (call it when the app
    /// goes to the background).
    pub fn flush(&self) -> Result<(), AimsError> {
        match &self.runtime {
            Some(runtime) => Ok(runtime.flush()?),
            None => Ok(()),
        }
    }
}
