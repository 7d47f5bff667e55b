//! What the guard decided about a call, and why.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The verdict on one call. Variants are ordered from weakest to strongest so that
/// combining matched rules is `max`: deny > require_approval > redact > warn > allow.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The call may proceed unchanged.
    Allow,
    /// The call may proceed; the match is recorded as a warning.
    Warn,
    /// The call may proceed with the listed parts masked.
    Redact,
    /// The call waits for a human approval (an oversight checkpoint).
    RequireApproval,
    /// The call must not run.
    Deny,
}

impl Verdict {
    /// Whether a call with this verdict may run now (allow, warn, redact).
    pub fn may_proceed(self) -> bool {
        matches!(self, Verdict::Allow | Verdict::Warn | Verdict::Redact)
    }

    /// The snake_case name used in files and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Warn => "warn",
            Verdict::Redact => "redact",
            Verdict::RequireApproval => "require_approval",
            Verdict::Deny => "deny",
        }
    }
}

/// Whether a decision was taken before the call ran or on its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the tool runs, on its arguments.
    Pre,
    /// After the tool ran, on its result.
    Post,
}

/// One reason behind a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// A stable machine-readable code, e.g. `rule_matched`, `default`, `rate_limited`,
    /// `budget_exceeded`, `internal_error`.
    pub code: String,
    /// The rule or limit the reason comes from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// A human-readable explanation; never contains raw argument values.
    pub message: String,
}

/// One thing to mask before the call proceeds (or before its result is returned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    /// The rule that asked for the redaction.
    pub rule_id: String,
    /// JSON pointers into the arguments (or result) to mask whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pointers: Vec<String>,
    /// PII entity names (e.g. `EMAIL_ADDRESS`) to find and mask anywhere in the value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<String>,
}

/// The guard's decision on one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
    /// Annex A control ids implemented by the matched rules.
    pub controls: Vec<String>,
    /// What must be masked when the verdict is `redact`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redactions: Vec<Redaction>,
    /// The oversight checkpoint that must approve, when the verdict is `require_approval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// sha256 (hex) of the canonical policy that decided.
    pub policy_version: String,
    /// When the decision was taken (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    pub evaluated_at: OffsetDateTime,
    /// True when the guard runs in shadow mode: the verdict is recorded but not enforced.
    #[serde(default)]
    pub shadow: bool,
    /// The index of the decision's record in the audit sink, once recorded (incidents link
    /// to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_index: Option<u64>,
    /// The approval request opened for this call, when the verdict is `require_approval` and
    /// an approval store is configured: approve it, then run the call with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

impl Decision {
    /// Whether the caller may run the call now. In shadow mode every call may proceed.
    pub fn may_proceed(&self) -> bool {
        self.shadow || self.verdict.may_proceed()
    }
}

// One scale for a rule's match and the incident it opens, so the two compare directly.
/// How bad something is (or would be).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Little or no harm; handled in normal operation.
    Low,
    /// Noticeable harm to some individuals or the organization.
    Medium,
    /// Significant harm; needs management attention.
    High,
    /// Severe or irreversible harm; needs immediate action.
    Critical,
}
