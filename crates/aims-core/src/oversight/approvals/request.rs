//! An approval request as stored and shown: the call it is bound to, the rules copied from its
//! checkpoint when it was made (so a restart or a config change does not alter a pending
//! request), its votes, its status and the signed evidence behind them.

use serde::Serialize;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::evidence::Seal;
use super::identity::normalize_identity;
use crate::guard::ToolCall;
use crate::model::OnTimeout;
use crate::oversight::store::StoreError;

/// Where a request is in its life. Only `pending` moves; `approved` moves once more, to
/// `executed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waiting for votes.
    Pending,
    /// Enough distinct approvals (or `on_timeout: allow`); the call may run once.
    Approved,
    /// An approver rejected the call.
    Rejected,
    /// Nobody resolved it in time and the checkpoint denies on timeout.
    Expired,
    /// The approved call ran.
    Executed,
}

impl ApprovalStatus {
    /// The snake_case name used in the store and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Executed => "executed",
        }
    }

    /// The status with this snake_case name.
    pub fn from_name(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(ApprovalStatus::Pending),
            "approved" => Some(ApprovalStatus::Approved),
            "rejected" => Some(ApprovalStatus::Rejected),
            "expired" => Some(ApprovalStatus::Expired),
            "executed" => Some(ApprovalStatus::Executed),
            _ => None,
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        Self::from_name(text).ok_or_else(|| corrupt("approval status", text))
    }
}

impl std::fmt::Display for ApprovalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step in a request's life: each is one audit record and one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStep {
    /// The request was made.
    Requested,
    /// One approver approved (the request is approved once enough distinct approvers have).
    Approved,
    /// An approver rejected.
    Rejected,
    /// The request timed out (and was denied, or allowed by `on_timeout: allow`).
    Expired,
    /// The request timed out and moved to the escalation role.
    Escalated,
    /// The approved call ran.
    Executed,
    /// An attempt to run the call was refused (changed call, evidence that does not verify,
    /// or the policy now denies).
    ExecutionRefused,
}

impl ApprovalStep {
    /// The name recorded in the audit log's `step` field.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStep::Requested => "requested",
            ApprovalStep::Approved => "approved",
            ApprovalStep::Rejected => "rejected",
            ApprovalStep::Expired => "expired",
            ApprovalStep::Escalated => "escalated",
            ApprovalStep::Executed => "executed",
            ApprovalStep::ExecutionRefused => "execution_refused",
        }
    }
}

/// An approver's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// For the call.
    Approve,
    /// Against the call; one rejection resolves the request.
    Reject,
}

impl Vote {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Vote::Approve => "approve",
            Vote::Reject => "reject",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "approve" => Ok(Vote::Approve),
            "reject" => Ok(Vote::Reject),
            other => Err(corrupt("vote", other)),
        }
    }
}

/// One vote cast on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalVote {
    /// Who voted (as authenticated by the application), in the identity normal form (trimmed,
    /// NFKC, case-folded).
    pub approver: String,
    /// The role they voted in, in the same normal form.
    pub role: String,
    /// Approve or reject.
    pub vote: Vote,
    /// Their note, if any, with PII and secrets masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The name of the key that signed the vote (a runtime's, or the approver's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// The signature line over the vote.
    #[serde(skip)]
    pub(crate) signature: Option<String>,
    /// Which approval service cast it: votes cast elsewhere are recorded in the executing
    /// runtime's log when it runs the call.
    #[serde(skip)]
    pub(crate) origin: Option<String>,
}

/// One approval request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalRequest {
    /// The request's id.
    pub id: String,
    /// The oversight checkpoint it belongs to.
    pub checkpoint: String,
    /// sha256 of the canonical call and policy version (see [`call_binding_hash`]).
    pub call_hash: String,
    /// `gen_ai.agent.id` of the call.
    pub agent_id: String,
    /// `gen_ai.tool.name` of the call.
    pub tool: String,
    /// Who triggered the call (the agent, and the user when the call names one), in the
    /// identity normal form: none of them may approve it.
    pub requested_by: Vec<String>,
    /// The policy version that asked for approval.
    pub policy_version: String,
    /// The guard decision that asked for approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
    /// Roles whose holders may vote now (the escalation role after an escalation).
    pub approver_roles: Vec<String>,
    /// Distinct approvals needed (2 is the two-person rule).
    pub required_approvals: u32,
    /// How long each voting window lasts.
    #[serde(serialize_with = "serialize_seconds", rename = "timeout_seconds")]
    pub timeout: Duration,
    /// What happens when the window passes.
    pub on_timeout: OnTimeout,
    /// The role the request moves to on `on_timeout: escalate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalate_to: Option<String>,
    /// Whether it has been escalated (it is, at most once).
    pub escalated: bool,
    /// Where it is in its life.
    pub status: ApprovalStatus,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// When the current voting window closes.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was approved, rejected or expired.
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    /// When the approved call ran.
    #[serde(with = "time::serde::rfc3339::option")]
    pub executed_at: Option<OffsetDateTime>,
    /// How long after its approval the call may still be executed; after that it cannot be.
    #[serde(
        serialize_with = "serialize_seconds",
        rename = "execution_window_seconds"
    )]
    pub execution_window: Duration,
    /// Votes in the order cast.
    pub votes: Vec<ApprovalVote>,
    /// The terms signed by the runtime that opened the request.
    #[serde(skip)]
    pub(crate) seal: Option<Seal>,
}

impl ApprovalRequest {
    /// Distinct approvals so far.
    pub fn approvals(&self) -> u32 {
        self.votes
            .iter()
            .filter(|v| v.vote == Vote::Approve)
            .count() as u32
    }

    /// Whether the request still waits for votes (it may be past due until next looked at).
    pub fn is_pending(&self) -> bool {
        self.status == ApprovalStatus::Pending
    }
}

/// The sha256 (hex) an approval is bound to: the canonical JSON (RFC 8785) of
/// `{"agent_id", "tool", "args", "ai_system_id", "conversation_id", "context",
/// "policy_version"}`. Any change to the agent, the tool, an argument, the AI system, the
/// conversation or the context (user, roles, tenant) gives another hash, so an approved call
/// cannot be swapped, or replayed elsewhere, before it runs. The caller's `call_id` is not
/// bound: a retry of the same call carries a new one.
pub fn call_binding_hash(call: &ToolCall, policy_version: &str) -> String {
    crate::canonical::sha256_hex(&json!({
        "agent_id": call.agent_id,
        "tool": call.tool,
        "args": call.args,
        "ai_system_id": call.ai_system_id,
        "conversation_id": call.conversation_id,
        "context": call.context,
        "policy_version": policy_version,
    }))
}

/// Who triggered a call and so may not approve it, in the identity normal form: the agent, and
/// the end user when the call's context names one at `user_id`.
pub fn requesters(call: &ToolCall) -> Vec<String> {
    let mut who = Vec::with_capacity(2);
    let agent = normalize_identity(&call.agent_id).unwrap_or_else(|| call.agent_id.clone());
    who.push(agent);
    if let Some(Value::String(user)) = call.context.get("user_id") {
        if let Some(user) = normalize_identity(user) {
            if !who.contains(&user) {
                who.push(user);
            }
        }
    }
    who
}

fn serialize_seconds<S: serde::Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(value.as_seconds_f64())
}

fn corrupt(what: &'static str, value: &str) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: format!("unknown value {value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_hash_changes_with_every_bound_part_and_not_with_member_order() {
        let call = ToolCall::new("agent-1", "refund", json!({"order": "A1", "amount": 120}));
        let base = call_binding_hash(&call, "v1");
        let reordered = ToolCall::new("agent-1", "refund", json!({"amount": 120, "order": "A1"}));
        assert_eq!(base, call_binding_hash(&reordered, "v1"));
        let more = ToolCall::new("agent-1", "refund", json!({"order": "A1", "amount": 121}));
        assert_ne!(base, call_binding_hash(&more, "v1"));
        let other_tool = ToolCall::new("agent-1", "refund2", json!({"order": "A1", "amount": 120}));
        assert_ne!(base, call_binding_hash(&other_tool, "v1"));
        let other_agent = ToolCall::new("agent-2", "refund", json!({"order": "A1", "amount": 120}));
        assert_ne!(base, call_binding_hash(&other_agent, "v1"));
        let mut elsewhere = call.clone();
        elsewhere.conversation_id = Some("conv-2".into());
        assert_ne!(base, call_binding_hash(&elsewhere, "v1"));
        let mut other_system = call.clone();
        other_system.ai_system_id = Some("hr-assistant".into());
        assert_ne!(base, call_binding_hash(&other_system, "v1"));
        let mut other_user = call.clone();
        other_user.context = json!({"user_id": "u-8"});
        assert_ne!(base, call_binding_hash(&other_user, "v1"));
        let mut retried = call.clone();
        retried.call_id = Some("call-2".into());
        assert_eq!(base, call_binding_hash(&retried, "v1"));
        assert_ne!(base, call_binding_hash(&call, "v2"));
        assert_eq!(base.len(), 64);
    }

    #[test]
    fn requesters_are_the_agent_and_the_named_user() {
        let mut call = ToolCall::new("agent-1", "refund", json!({}));
        assert_eq!(requesters(&call), vec!["agent-1"]);
        call.context = json!({"user_id": "u-7", "roles": ["clerk"]});
        assert_eq!(requesters(&call), vec!["agent-1", "u-7"]);
        call.context = json!({"user_id": " U-7 "});
        assert_eq!(requesters(&call), vec!["agent-1", "u-7"]);
        call.context = json!({"user_id": "Agent-1"});
        assert_eq!(requesters(&call), vec!["agent-1"]);
        call.context = json!({"user_id": 7});
        assert_eq!(requesters(&call), vec!["agent-1"]);
    }

    #[test]
    fn stored_names_round_trip() {
        for status in [
            ApprovalStatus::Pending,
            ApprovalStatus::Approved,
            ApprovalStatus::Rejected,
            ApprovalStatus::Expired,
            ApprovalStatus::Executed,
        ] {
            assert_eq!(ApprovalStatus::parse(status.as_str()).unwrap(), status);
        }
        for vote in [Vote::Approve, Vote::Reject] {
            assert_eq!(Vote::parse(vote.as_str()).unwrap(), vote);
        }
        assert!(ApprovalStatus::parse("maybe").is_err());
    }
}
