//! The guard object an app opens once: the policy, and (for evidence that survives the app)
//! the audit log directory and approval store path inside the app's sandbox, given
//! explicitly because a mobile app has no working directory or environment to find them in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{self as core_audit, AuditSink, LogOptions, GENERATED_KEY};
use aims_core::guard as core_guard;
use aims_core::policy::{Format, Policy};
use serde_json::Value;

use crate::audit::AuditLog;
use crate::call::ToolCall;
use crate::decision::Decision;
use crate::error::AimsError;
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
    /// stay in memory and nothing can be exported.
    #[uniffi(default)]
    pub audit_dir: Option<String>,
    /// The checkpoint signing key file; without one a key is generated in the audit directory.
    #[uniffi(default)]
    pub signing_key_path: Option<String>,
    /// The SQLite file that keeps approval requests across restarts.
    #[uniffi(default)]
    pub approval_store_path: Option<String>,
    /// How durable each record is.
    #[uniffi(default)]
    pub durability: Durability,
    /// Evaluate and record, but let every call proceed.
    #[uniffi(default)]
    pub shadow: bool,
}

/// The guard: decides every tool call before it runs and records the decision.
/// Thread-safe; share one per app.
#[derive(Debug, uniffi::Object)]
pub struct Guard {
    guard: core_guard::Guard,
    log: Option<Arc<AuditLog>>,
}

#[uniffi::export]
impl Guard {
    /// Opens the guard: reads the policy, opens (or creates) the audit log.
    #[uniffi::constructor]
    pub fn new(config: GuardConfig) -> Result<Arc<Self>, AimsError> {
        let policy = match (&config.policy_text, &config.policy_path) {
            (Some(text), None) => Policy::from_text(text, Format::Yaml, "<inline>")?,
            (None, Some(path)) => Policy::from_file(path)?,
            (Some(_), Some(_)) => {
                return Err(config_error(
                    "give either policy_text or policy_path, not both",
                ))
            }
            (None, None) => {
                return Err(config_error(
                    "a policy is required: set policy_text or policy_path",
                ))
            }
        };
        let mut builder = core_guard::Guard::builder(policy).shadow(config.shadow);
        let log = match &config.audit_dir {
            Some(dir) => {
                let signer = signer_for(Path::new(dir), config.signing_key_path.as_deref())?;
                let options = LogOptions::new(signer).durability(match config.durability {
                    Durability::Strict => core_audit::Durability::Strict,
                    Durability::Batched => core_audit::Durability::batched(),
                    Durability::None => core_audit::Durability::None,
                });
                let log = Arc::new(core_audit::AuditLog::open(dir, options)?);
                builder = builder.sink(Arc::clone(&log) as Arc<dyn AuditSink>);
                Some(Arc::new(AuditLog::new(log)))
            }
            None => None,
        };
        Ok(Arc::new(Self {
            guard: builder.build(),
            log,
        }))
    }

    /// Decides a call before it runs, counts it against its limits, and records the decision.
    /// Never throws for a policy reason: a failure inside the guard is a `Deny`.
    pub fn check(&self, call: ToolCall) -> Result<Decision, AimsError> {
        Ok(self.guard.check(&call.to_core()?).into())
    }

    /// Decides a call's result (JSON text) after it ran.
    pub fn check_result(&self, call: ToolCall, result_json: String) -> Result<Decision, AimsError> {
        let result: Value = json::parse("result_json", &result_json)?;
        Ok(self.guard.check_result(&call.to_core()?, &result).into())
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

    /// The sha256 of the policy in force.
    pub fn policy_version(&self) -> String {
        self.guard.policy_version()
    }

    /// The audit log, when `audit_dir` was given.
    pub fn audit_log(&self) -> Option<Arc<AuditLog>> {
        self.log.clone()
    }
}

fn config_error(message: &str) -> AimsError {
    AimsError::Config {
        message: message.to_owned(),
    }
}

/// The key given, or the one generated beside the log on its first open.
fn signer_for(dir: &Path, key_path: Option<&str>) -> Result<NoteSigner, AimsError> {
    let key_error = |err: aims_core::audit::keys::KeyError| AimsError::Config {
        message: err.to_string(),
    };
    if let Some(path) = key_path {
        return NoteSigner::read(Path::new(path)).map_err(key_error);
    }
    let generated: PathBuf = dir.join(GENERATED_KEY);
    if generated.exists() {
        return NoteSigner::read(&generated).map_err(key_error);
    }
    std::fs::create_dir_all(dir).map_err(|err| AimsError::Io {
        path: dir.display().to_string(),
        message: err.to_string(),
    })?;
    let signer = NoteSigner::generate("aims").map_err(key_error)?;
    signer.write(&generated).map_err(key_error)?;
    Ok(signer)
}
