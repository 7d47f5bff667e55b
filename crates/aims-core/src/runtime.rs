//! The assembled runtime that applications, the CLI and the language bindings embed: one guard
//! with its durable audit log, signing key, PII scanner and approval store, configured from
//! data ([`RuntimeConfig`], which bindings pass as a JSON object).
//!
//! Keeping the assembly here means every binding opens the same log with the same key rules
//! and makes the same decisions; a binding only converts types and calling conventions.

use std::path::PathBuf;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::audit::keys::{KeyError, KeySource, NoteSigner};
use crate::audit::{
    AuditError, AuditLog, AuditSink, Durability, LogOptions, MemorySink, SinkError,
};
use crate::guard::{Decision, Guard, ToolCall, ToolOutcome};
use crate::oversight::{OversightStore, StoreError, Supervisor, SupervisorError};
use crate::policy::{Format, Policy, PolicyError};

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
    /// The durable audit log's directory; without one, records stay in memory.
    #[serde(default)]
    pub audit_dir: Option<PathBuf>,
    /// The checkpoint signing key file; else `AIMS_SIGNING_KEY` names it; else a key is
    /// generated inside the audit directory (which proves integrity only against outsiders).
    #[serde(default)]
    pub signing_key: Option<PathBuf>,
    /// How durable an append is when the guard lets a call run. Default: batched.
    #[serde(default)]
    pub durability: DurabilityMode,
    /// Evaluate and record, but let every call proceed.
    #[serde(default)]
    pub shadow: bool,
    /// The oversight store (SQLite file of approval requests and incidents; an explicit path,
    /// e.g. inside a mobile app's sandbox). With one, [`Runtime::supervisor`] opens approval
    /// requests, incidents and anomaly warnings around the guard (`docs/oversight.md`).
    #[serde(default)]
    pub oversight_store: Option<PathBuf>,
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
    /// Oversight could not be set up (its checkpoints or triggers are invalid).
    #[error(transparent)]
    Oversight(#[from] SupervisorError),
}

/// A guard with everything it records to. `Send + Sync`, cheap to clone.
#[derive(Debug, Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    guard: Guard,
    log: Option<Arc<AuditLog>>,
    key_source: Option<KeySource>,
    supervisor: Option<Supervisor>,
}

impl Runtime {
    /// Assembles a runtime: reads the policy, opens the audit log (creating it and, when no
    /// key is configured, its signing key), and builds the guard over them.
    pub fn open(config: RuntimeConfig) -> Result<Self, RuntimeError> {
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
        let (log, key_source) = match &config.audit_dir {
            Some(dir) => {
                let (signer, source) = NoteSigner::for_log(dir, config.signing_key.as_deref())?;
                let options = LogOptions::new(signer).durability(config.durability.into());
                let log = Arc::new(AuditLog::open(dir, options)?);
                builder = builder.sink(Arc::clone(&log) as Arc<dyn AuditSink>);
                (Some(log), Some(source))
            }
            None => (None, None),
        };
        // Oversight records to the guard's sink, so both need a handle on it.
        let sink: Arc<dyn AuditSink> = match &log {
            Some(log) => Arc::clone(log) as Arc<dyn AuditSink>,
            None => Arc::new(MemorySink::new()),
        };
        let guard = builder.sink(Arc::clone(&sink)).build();
        let supervisor = match &config.oversight_store {
            Some(path) => {
                let store = Arc::new(OversightStore::open(path)?);
                Some(Supervisor::builder(guard.clone(), store, sink).build()?)
            }
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                guard,
                log,
                key_source,
                supervisor,
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

    /// Decides a call before it runs and records the decision.
    pub fn check(&self, call: &ToolCall) -> Decision {
        self.inner.guard.check(call)
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

    /// Human oversight around the guard (approvals, incidents, anomalies), when an oversight
    /// store is configured: use its `check` instead of [`Runtime::check`] so that
    /// `require_approval` opens a request.
    pub fn supervisor(&self) -> Option<&Supervisor> {
        self.inner.supervisor.as_ref()
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
