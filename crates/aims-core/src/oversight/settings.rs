//! What a runtime's configuration says about approvals, as data (bindings pass it in JSON):
//! which keys' signatures count, and how long an approved call may wait to run.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::audit::keys::{KeyError, NoteSigner, NoteVerifier};
use crate::oversight::approvals::ApprovalKeys;

/// How approvals are signed, verified and timed (`docs/oversight.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSettings {
    /// Verifier key files (`.pub`) of approvers who vote from other processes with their own
    /// key (`aims approval approve --key`). A key's name is the approver's id: its signature
    /// counts only for votes by that approver.
    #[serde(default)]
    pub approver_keys: Vec<PathBuf>,
    /// Verifier key files of other runtimes sharing the oversight store (replicas), whose
    /// requests and votes count as this runtime's own do.
    #[serde(default)]
    pub runtime_keys: Vec<PathBuf>,
    /// How long after its approval a call may still be executed, in seconds. Default: 900.
    #[serde(default)]
    pub execution_window_seconds: Option<u64>,
}

impl ApprovalSettings {
    /// The keys for a runtime signing with `signer` (its audit log's key; a new key of its own
    /// when it has none), trusting the keys listed here.
    pub fn keys(&self, signer: Option<NoteSigner>) -> Result<ApprovalKeys, KeyError> {
        let mut keys = match signer {
            Some(signer) => ApprovalKeys::new(signer),
            None => ApprovalKeys::ephemeral()?,
        };
        for path in &self.runtime_keys {
            keys = keys.trust_runtime(NoteVerifier::read(path)?);
        }
        for path in &self.approver_keys {
            keys = keys.trust_approver(NoteVerifier::read(path)?);
        }
        Ok(keys)
    }

    /// The execution window, when one is configured.
    pub fn execution_window(&self) -> Option<std::time::Duration> {
        self.execution_window_seconds
            .map(std::time::Duration::from_secs)
    }
}
