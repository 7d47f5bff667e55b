//! The events that make up the audit trail.
//!
//! Field names follow the OpenTelemetry GenAI semantic conventions where one exists
//! (`gen_ai.agent.id`, `gen_ai.tool.name`, `gen_ai.tool.call.id`, `gen_ai.conversation.id`).
//! Arguments and results appear only masked; the raw arguments are represented by a keyed
//! hash (HMAC-SHA256 with the sink's secret) so the holder of a raw call can prove what was
//! called without the log holding it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::call::{Phase, Reason, Verdict};

/// One event in the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditEvent {
    /// The guard decided a call (pre-call) or a result (post-call).
    Decision(DecisionEvent),
    /// A call that was allowed ran, and this is how it ended.
    Outcome(OutcomeEvent),
    /// A step of a human approval: requested, approved, rejected, expired, escalated, executed.
    Approval(ApprovalEvent),
    /// An incident was opened or updated.
    Incident(IncidentEvent),
    /// The anomaly monitor detected a shift in an agent's deny or approval-request rate.
    Anomaly(AnomalyEvent),
    /// A policy was loaded or reloaded.
    PolicyLoaded(PolicyLoadedEvent),
    /// The durable log was reopened after a crash and its torn tail was truncated.
    Recovered(RecoveredEvent),
    /// The durable log's checkpoint signing key changed.
    KeyRotated(KeyRotatedEvent),
    /// The durable log signed a checkpoint of its first `tree_size` records.
    Checkpoint(CheckpointEvent),
}

/// The guard's decision, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionEvent {
    /// The decision's id.
    pub decision_id: String,
    /// Pre-call or post-call.
    pub phase: Phase,
    /// `gen_ai.agent.id`.
    #[serde(rename = "gen_ai.agent.id")]
    pub agent_id: String,
    /// `gen_ai.tool.name`.
    #[serde(rename = "gen_ai.tool.name")]
    pub tool: String,
    /// `gen_ai.tool.call.id`, when the caller gave one.
    #[serde(
        rename = "gen_ai.tool.call.id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub call_id: Option<String>,
    /// `gen_ai.conversation.id`, when the caller gave one.
    #[serde(
        rename = "gen_ai.conversation.id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub conversation_id: Option<String>,
    /// The inventoried AI system, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_system_id: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// False in shadow mode: the verdict was recorded but not enforced.
    pub enforced: bool,
    /// Ids of the rules that matched.
    pub rule_ids: Vec<String>,
    /// Annex A control ids of the matched rules.
    pub control_ids: Vec<String>,
    /// Reasons, as in the decision.
    pub reasons: Vec<Reason>,
    /// sha256 of the canonical policy.
    pub policy_version: String,
    /// The arguments (pre) or result (post), masked.
    pub args: Value,
    /// HMAC-SHA256 (hex) of the canonical raw arguments or result, keyed with the sink's secret.
    pub args_hmac: String,
    /// Entity types and pointers that were masked in `args`, for clause 9.1 metrics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked: Vec<String>,
    /// The oversight checkpoint, when the verdict is `require_approval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// Evaluation time in microseconds.
    pub eval_us: u64,
}

/// How a call that ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// The tool returned normally.
    Ok,
    /// The tool returned an error or raised.
    Error,
}

/// The outcome of a call that ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeEvent {
    /// The pre-call decision that let the call run.
    pub decision_id: String,
    /// `gen_ai.agent.id`.
    #[serde(rename = "gen_ai.agent.id")]
    pub agent_id: String,
    /// `gen_ai.tool.name`.
    #[serde(rename = "gen_ai.tool.name")]
    pub tool: String,
    /// `gen_ai.tool.call.id`, when the caller gave one.
    #[serde(
        rename = "gen_ai.tool.call.id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub call_id: Option<String>,
    /// Ok or error.
    pub status: OutcomeStatus,
    /// The error message, masked, when the status is error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time the tool took, in microseconds.
    pub duration_us: u64,
}

/// One step of a human approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalEvent {
    /// The approval request.
    pub request_id: String,
    /// `requested`, `approved`, `rejected`, `expired`, `escalated` or `executed`.
    pub step: String,
    /// The oversight checkpoint.
    pub checkpoint: String,
    /// sha256 of the canonical call the approval is bound to.
    pub call_hash: String,
    /// `gen_ai.agent.id` of the call.
    #[serde(rename = "gen_ai.agent.id")]
    pub agent_id: String,
    /// `gen_ai.tool.name` of the call.
    #[serde(rename = "gen_ai.tool.name")]
    pub tool: String,
    /// The approver (or escalation target) for approved, rejected and escalated steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The role the actor acted in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A note, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Distinct approvals so far.
    pub approvals: u32,
    /// Distinct approvals required.
    pub required: u32,
}

/// An incident was opened or its timeline grew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentEvent {
    /// The incident.
    pub incident_id: String,
    /// `opened`, `updated`, `status_changed`.
    pub step: String,
    /// The trigger or status, in words.
    pub summary: String,
    /// Severity at this step.
    pub severity: String,
    /// Audit indices that caused this step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit_indices: Vec<u64>,
}

/// A shift detected by the anomaly monitor (a warning, or an incident-level shift).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnomalyEvent {
    /// `gen_ai.agent.id` of the agent whose rate shifted.
    #[serde(rename = "gen_ai.agent.id")]
    pub agent_id: String,
    /// `deny_rate` or `approval_request_rate`.
    pub signal: String,
    /// `warning` or `incident`.
    pub level: String,
    /// The agent's baseline rate.
    pub baseline_rate: f64,
    /// The rate now (EWMA).
    pub current_rate: f64,
    /// The CUSUM statistic when the alarm fired.
    pub cusum: f64,
}

/// A policy was loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyLoadedEvent {
    /// sha256 of the canonical policy.
    pub policy_version: String,
    /// Where it came from (a path or `inline`).
    pub source: String,
    /// Number of rules.
    pub rules: usize,
    /// The version it replaced, on reload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
}

/// The log was reopened after a crash: the bytes after the last whole record were dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveredEvent {
    /// Bytes truncated from the end of the records file.
    pub dropped_bytes: u64,
    /// The file offset the records file was truncated to.
    pub truncated_at: u64,
    /// Whole records kept (the index of this record).
    pub records_kept: u64,
}

/// The key that signs checkpoints changed. Written before the first checkpoint signed with
/// the new key; the previous key endorses the new one, so nobody without the previous key
/// can hand the log over to a key of their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRotatedEvent {
    /// The previous verifier key (C2SP note `name+keyid+base64` form).
    pub previous_key: String,
    /// The new verifier key.
    pub key: String,
    /// Base64 of (4-byte key id || Ed25519 signature) by the previous key over the rotation
    /// statement (`docs/audit-format.md`, section 6).
    pub endorsement: String,
}

/// A checkpoint was signed. Written right after the signed checkpoint file, so a checkpoint
/// file older than the newest such record is a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointEvent {
    /// The size of the signed tree (equal to this record's index).
    pub tree_size: u64,
    /// Its root hash, lower-case hex.
    pub root_hash: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::canonical;

    fn one_of_each_kind() -> Vec<AuditEvent> {
        let decision = DecisionEvent {
            decision_id: "0123456789abcdef0123456789abcdef".into(),
            phase: Phase::Pre,
            agent_id: "cs-agent".into(),
            tool: "send_email".into(),
            call_id: Some("call-1".into()),
            conversation_id: None,
            ai_system_id: Some("SYS-1".into()),
            verdict: Verdict::Redact,
            enforced: true,
            rule_ids: vec!["mask-mail".into(), "allow-all".into()],
            control_ids: vec!["A.7.4".into()],
            reasons: vec![Reason {
                code: "rule_matched".into(),
                rule_id: Some("mask-mail".into()),
                message: "mail \"bodies\" are masked\n".into(),
            }],
            policy_version: "ab".repeat(32),
            args: json!({"to": "<EMAIL_ADDRESS>", "body": {"z": 1.5, "a": [null, true]}, "é": 1}),
            args_hmac: "cd".repeat(32),
            masked: vec!["EMAIL_ADDRESS".into()],
            checkpoint: None,
            eval_us: 3,
        };
        vec![
            AuditEvent::Decision(decision),
            AuditEvent::Outcome(OutcomeEvent {
                decision_id: "d".into(),
                agent_id: "a".into(),
                tool: "t".into(),
                call_id: None,
                status: OutcomeStatus::Error,
                error: Some("timed out".into()),
                duration_us: 1_500,
            }),
            AuditEvent::Approval(ApprovalEvent {
                request_id: "r".into(),
                step: "approved".into(),
                checkpoint: "payments".into(),
                call_hash: "ef".repeat(32),
                agent_id: "a".into(),
                tool: "t".into(),
                actor: Some("alice".into()),
                role: None,
                note: Some("ok".into()),
                approvals: 1,
                required: 2,
            }),
            AuditEvent::Incident(IncidentEvent {
                incident_id: "INC-1".into(),
                step: "opened".into(),
                summary: "s".into(),
                severity: "serious".into(),
                audit_indices: vec![4, 9],
            }),
            AuditEvent::Anomaly(AnomalyEvent {
                agent_id: "a".into(),
                signal: "deny_rate".into(),
                level: "warning".into(),
                baseline_rate: 0.05,
                current_rate: 0.3333333333333333,
                cusum: 12.0,
            }),
            AuditEvent::PolicyLoaded(PolicyLoadedEvent {
                policy_version: "v".into(),
                source: "inline".into(),
                rules: 3,
                previous_version: Some("u".into()),
            }),
            AuditEvent::Recovered(RecoveredEvent {
                dropped_bytes: 7,
                truncated_at: 1024,
                records_kept: 12,
            }),
            AuditEvent::KeyRotated(KeyRotatedEvent {
                previous_key: "old+1+AA==".into(),
                key: "new+2+BB==".into(),
                endorsement: "CC==".into(),
            }),
            AuditEvent::Checkpoint(CheckpointEvent {
                tree_size: 12,
                root_hash: "00".repeat(32),
            }),
        ]
    }

    #[test]
    fn every_event_kind_encodes_directly_as_through_a_value() {
        for event in one_of_each_kind() {
            let through_value = canonical::to_vec(&serde_json::to_value(&event).unwrap());
            assert_eq!(
                String::from_utf8(canonical::to_canonical_vec(&event).unwrap()).unwrap(),
                String::from_utf8(through_value).unwrap()
            );
        }
    }
}
