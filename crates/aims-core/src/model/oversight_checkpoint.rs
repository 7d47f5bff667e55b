//! Human oversight checkpoints (A.9, EU AI Act Art. 14): which calls wait for a human, who may
//! approve them, how many distinct approvals they need, and what happens when nobody answers.
//!
//! The oversight engine runs checkpoints; this module only describes them.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One place where an AI system's action waits for human approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OversightCheckpoint {
    /// Stable identifier, named by guard decisions (`Decision::checkpoint`), e.g. `refund-approval`.
    pub id: String,
    /// The AI system whose actions it gates.
    pub ai_system_id: String,
    /// What the checkpoint is for, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What sends a call to this checkpoint.
    pub trigger: CheckpointTrigger,
    /// Roles whose members may approve.
    pub approver_roles: Vec<String>,
    /// How many distinct people must approve (2 = two-person rule).
    #[schemars(range(min = 1))]
    pub required_approvals: u32,
    /// How long a request may wait, in seconds.
    #[schemars(range(min = 1))]
    pub timeout_seconds: u64,
    /// What happens when the timeout passes without enough approvals.
    pub on_timeout: OnTimeout,
    /// The role a timed-out request goes to; required when `on_timeout` is `escalate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_to: Option<String>,
}

impl OversightCheckpoint {
    /// The timeout as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }

    /// Whether this is a two-person (or more) rule.
    pub fn needs_several_people(&self) -> bool {
        self.required_approvals >= 2
    }
}

/// What sends a call to a checkpoint: any listed policy rule matching, or the tool name
/// matching any listed pattern. At least one list must be non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointTrigger {
    /// Guard policy rule ids whose `require_approval` verdict names this checkpoint.
    #[serde(default)]
    pub policy_rules: Vec<String>,
    /// Tool name patterns (`*` matches any run of characters), e.g. `issue_*`.
    #[serde(default)]
    pub tools: Vec<String>,
}

impl CheckpointTrigger {
    /// Whether the trigger names nothing at all.
    pub fn is_empty(&self) -> bool {
        self.policy_rules.is_empty() && self.tools.is_empty()
    }
}

/// What happens to a request nobody approved in time. Fail-closed is `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    /// The call is denied.
    Deny,
    /// The call proceeds (only for low-stakes checkpoints; recorded as such).
    Allow,
    /// The request goes to `escalate_to`.
    Escalate,
}
