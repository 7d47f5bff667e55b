//! Tool calls and decisions as plain JavaScript objects (camelCase), converted to and from the
//! core types. Decisions come back to native code (`applyRedactions`, `recordOutcome`), so
//! both directions exist.

use aims_core::guard;
use napi_derive::napi;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One tool call, described before it runs.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ToolCall {
    /// The agent making the call (OpenTelemetry `gen_ai.agent.id`).
    pub agent_id: String,
    /// The tool being called.
    pub tool: String,
    /// The call's arguments (JSON-compatible values).
    pub args: Option<Value>,
    /// The inventoried AI system the agent belongs to.
    pub ai_system_id: Option<String>,
    /// The conversation or session.
    pub conversation_id: Option<String>,
    /// The caller's id for this call.
    pub call_id: Option<String>,
    /// Anything else the caller knows: user roles, environment, tenant.
    pub context: Option<Value>,
}

impl From<ToolCall> for guard::ToolCall {
    fn from(call: ToolCall) -> Self {
        guard::ToolCall {
            agent_id: call.agent_id,
            tool: call.tool,
            args: call.args.unwrap_or(Value::Null),
            ai_system_id: call.ai_system_id,
            conversation_id: call.conversation_id,
            call_id: call.call_id,
            context: call.context.unwrap_or_else(|| Value::Object(Map::new())),
        }
    }
}

/// The verdict on one call, weakest to strongest.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The call may proceed unchanged.
    Allow,
    /// The call may proceed; the match is recorded as a warning.
    Warn,
    /// The call may proceed with the listed parts masked.
    Redact,
    /// The call waits for a human approval.
    RequireApproval,
    /// The call must not run.
    Deny,
}

impl From<guard::Verdict> for Verdict {
    fn from(verdict: guard::Verdict) -> Self {
        match verdict {
            guard::Verdict::Allow => Verdict::Allow,
            guard::Verdict::Warn => Verdict::Warn,
            guard::Verdict::Redact => Verdict::Redact,
            guard::Verdict::RequireApproval => Verdict::RequireApproval,
            guard::Verdict::Deny => Verdict::Deny,
        }
    }
}

impl From<Verdict> for guard::Verdict {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Allow => guard::Verdict::Allow,
            Verdict::Warn => guard::Verdict::Warn,
            Verdict::Redact => guard::Verdict::Redact,
            Verdict::RequireApproval => guard::Verdict::RequireApproval,
            Verdict::Deny => guard::Verdict::Deny,
        }
    }
}

/// Whether a decision was taken before the call ran or on its result.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before the tool runs, on its arguments.
    Pre,
    /// After the tool ran, on its result.
    Post,
}

/// One reason behind a decision.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Reason {
    /// A stable machine-readable code, e.g. `rule_matched`, `default`, `rate_limited`.
    pub code: String,
    /// The rule or limit the reason comes from.
    pub rule_id: Option<String>,
    /// A human-readable explanation; never contains raw argument values.
    pub message: String,
}

/// One thing to mask before the call proceeds (or before its result is returned).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Redaction {
    /// The rule that asked for the redaction.
    pub rule_id: String,
    /// JSON pointers into the arguments (or result) to mask whole.
    pub pointers: Vec<String>,
    /// PII entity names (e.g. `EMAIL_ADDRESS`) to find and mask anywhere in the value.
    pub entities: Vec<String>,
}

/// The guard's decision on one call.
#[napi(object)]
#[derive(Debug)]
pub struct Decision {
    /// A unique id for this decision.
    pub decision_id: String,
    /// The combined verdict.
    pub verdict: Verdict,
    /// Pre-call (arguments) or post-call (result).
    pub phase: Phase,
    /// Ids of every rule that matched.
    pub rule_ids: Vec<String>,
    /// Why: one reason per matched rule or limit, or the default.
    pub reasons: Vec<Reason>,
    /// ISO/IEC 42001 Annex A control ids implemented by the matched rules.
    pub controls: Vec<String>,
    /// What must be masked when the verdict is `redact`.
    pub redactions: Vec<Redaction>,
    /// The oversight checkpoint that must approve, when the verdict is `require_approval`.
    pub checkpoint: Option<String>,
    /// sha256 (hex) of the canonical policy that decided.
    pub policy_version: String,
    /// When the decision was taken (RFC 3339).
    pub evaluated_at: String,
    /// True in shadow mode: the verdict is recorded but not enforced.
    pub shadow: bool,
    /// Whether the caller may run the call now (allow, warn, redact, or shadow mode).
    pub may_proceed: bool,
    /// Where the decision was recorded in the audit log (`AuditLog.prove` takes it).
    pub audit_index: Option<i64>,
    /// The approval request a `require_approval` decision opened (with an oversight store).
    pub approval_id: Option<String>,
}

/// A time as RFC 3339 text.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

impl From<guard::Decision> for Decision {
    fn from(decision: guard::Decision) -> Self {
        let may_proceed = decision.may_proceed();
        Decision {
            decision_id: decision.decision_id,
            verdict: decision.verdict.into(),
            phase: match decision.phase {
                guard::Phase::Pre => Phase::Pre,
                guard::Phase::Post => Phase::Post,
            },
            rule_ids: decision.rule_ids,
            reasons: decision
                .reasons
                .into_iter()
                .map(|reason| Reason {
                    code: reason.code,
                    rule_id: reason.rule_id,
                    message: reason.message,
                })
                .collect(),
            controls: decision.controls,
            redactions: decision
                .redactions
                .into_iter()
                .map(|redaction| Redaction {
                    rule_id: redaction.rule_id,
                    pointers: redaction.pointers,
                    entities: redaction.entities,
                })
                .collect(),
            checkpoint: decision.checkpoint,
            policy_version: decision.policy_version,
            evaluated_at: rfc3339(decision.evaluated_at),
            shadow: decision.shadow,
            may_proceed,
            audit_index: decision
                .audit_index
                .map(|index| i64::try_from(index).unwrap_or(i64::MAX)),
            approval_id: decision.approval_id,
        }
    }
}

impl Decision {
    /// The core decision this object describes; `Err` says which field is not valid. Goes
    /// through the core type's serde form, so fields the core adds with defaults need no change
    /// here.
    pub fn to_core(&self) -> Result<guard::Decision, String> {
        let verdict: guard::Verdict = self.verdict.into();
        let value = json!({
            "decision_id": self.decision_id,
            "verdict": verdict,
            "phase": match self.phase {
                Phase::Pre => guard::Phase::Pre,
                Phase::Post => guard::Phase::Post,
            },
            "rule_ids": self.rule_ids,
            "reasons": self.reasons.iter().map(|reason| json!({
                "code": reason.code,
                "rule_id": reason.rule_id,
                "message": reason.message,
            })).collect::<Vec<_>>(),
            "controls": self.controls,
            "redactions": self.redactions.iter().map(|redaction| json!({
                "rule_id": redaction.rule_id,
                "pointers": redaction.pointers,
                "entities": redaction.entities,
            })).collect::<Vec<_>>(),
            "checkpoint": self.checkpoint,
            "policy_version": self.policy_version,
            "evaluated_at": self.evaluated_at,
            "shadow": self.shadow,
            "audit_index": self.audit_index,
            "approval_id": self.approval_id,
        });
        serde_json::from_value(value).map_err(|err| format!("not a decision: {err}"))
    }
}
