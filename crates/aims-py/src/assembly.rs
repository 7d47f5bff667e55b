//! Interim assembly of a guard with its audit log, until `aims_core::runtime` lands on main:
//! the same configuration fields, so the switch only replaces this module.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{
    AuditEvent, AuditLog, AuditSink, LogOptions, MemorySink, OutcomeEvent, OutcomeStatus,
    GENERATED_KEY,
};
use aims_core::guard::{Decision, Guard, ToolCall};
use aims_core::pii::{MaskPolicy, Scanner};
use aims_core::policy::{Format, Policy};
use pyo3::prelude::*;
use serde::Deserialize;

use crate::errors::{aims_error, audit_error, policy_error};

/// How a guard is assembled (the fields of `aims_core::runtime::RuntimeConfig`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    policy_path: Option<PathBuf>,
    #[serde(default)]
    policy_text: Option<String>,
    #[serde(default)]
    audit_dir: Option<PathBuf>,
    #[serde(default)]
    signing_key: Option<PathBuf>,
    #[serde(default)]
    durability: Option<String>,
    #[serde(default)]
    shadow: bool,
}

/// A guard and the sink it records to.
#[derive(Debug, Clone)]
pub struct Assembly {
    guard: Guard,
    sink: Arc<dyn SinkDebug>,
    log: Option<Arc<AuditLog>>,
    scanner: Scanner,
}

/// `AuditSink` with `Debug`, so the assembly can derive it.
pub trait SinkDebug: AuditSink + std::fmt::Debug {}
impl<T: AuditSink + std::fmt::Debug> SinkDebug for T {}

impl Assembly {
    /// Assembles from a JSON object of configuration fields.
    pub fn from_json(config_json: &str) -> PyResult<Self> {
        let config: Config = serde_json::from_str(config_json)
            .map_err(|err| aims_error(format!("invalid guard configuration: {err}")))?;
        let policy = match (&config.policy_path, &config.policy_text) {
            (Some(path), None) => Policy::from_file(path),
            (None, Some(text)) => Policy::from_text(text, Format::Yaml, "<inline>"),
            _ => {
                return Err(aims_error(
                    "give exactly one of policy_path and policy_text",
                ))
            }
        }
        .map_err(|err| policy_error(&err))?;
        let durability =
            crate::audit::durability(config.durability.as_deref().unwrap_or("batched"))?;
        let (sink, log): (Arc<dyn SinkDebug>, _) = match &config.audit_dir {
            Some(dir) => {
                let signer = signer(dir, config.signing_key.as_deref())?;
                let options = LogOptions::new(signer).durability(durability);
                let log = Arc::new(AuditLog::open(dir, options).map_err(|e| audit_error(&e))?);
                (log.clone(), Some(log))
            }
            None => (Arc::new(MemorySink::new()), None),
        };
        let guard = Guard::builder(policy)
            .sink(sink.clone() as Arc<dyn AuditSink>)
            .shadow(config.shadow)
            .build();
        Ok(Self {
            guard,
            sink,
            log,
            scanner: Scanner::default(),
        })
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.log.as_deref()
    }

    /// Records how a call the guard let through ended.
    pub fn record_outcome(
        &self,
        call: &ToolCall,
        decision: &Decision,
        error: Option<&str>,
        duration_us: u64,
    ) -> PyResult<()> {
        let event = AuditEvent::Outcome(OutcomeEvent {
            decision_id: decision.decision_id.clone(),
            agent_id: call.agent_id.clone(),
            tool: call.tool.clone(),
            call_id: call.call_id.clone(),
            status: if error.is_some() {
                OutcomeStatus::Error
            } else {
                OutcomeStatus::Ok
            },
            error: error.map(|text| self.scanner.mask(text, &MaskPolicy::default())),
            duration_us,
        });
        self.sink.append(event).map(drop).map_err(aims_error)
    }

    pub fn flush(&self) -> PyResult<()> {
        if let Some(log) = &self.log {
            log.flush().map_err(|e| audit_error(&e))?;
            log.checkpoint().map_err(|e| audit_error(&e))?;
        }
        Ok(())
    }
}

fn signer(dir: &Path, key: Option<&Path>) -> PyResult<NoteSigner> {
    let generated = dir.join(GENERATED_KEY);
    let path = key.unwrap_or(&generated);
    if key.is_some() || path.exists() {
        return NoteSigner::read(path).map_err(aims_error);
    }
    std::fs::create_dir_all(dir).map_err(aims_error)?;
    let signer = NoteSigner::generate("aims.local").map_err(aims_error)?;
    signer.write(path).map_err(aims_error)?;
    Ok(signer)
}
