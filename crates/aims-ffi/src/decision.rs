//! The decision records: the guard's verdict on a call, its reasons, and what to mask.
//! Converted both ways so a decision the app holds can be handed back (to apply its
//! redactions, or to open an approval request for it).

use std::time::SystemTime;

use aims_core::guard;
use time::OffsetDateTime;

/// The verdict on one call, weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
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

/// Whether a decision was taken on the arguments or on the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Phase {
    /// Before the tool runs.
    Pre,
    /// On the tool's result.
    Post,
}

/// One reason behind a decision.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reason {
    /// A stable code: `rule_matched`, `default`, `rate_limited`, `internal_error`, ...
    pub code: String,
    /// The rule or limit it comes from.
    pub rule_id: Option<String>,
    /// A human-readable explanation (never raw argument values).
    pub message: String,
}

/// One thing to mask before the call proceeds (or its result is returned).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Redaction {
    /// The rule that asked for it.
    pub rule_id: String,
    /// JSON pointers to mask whole.
    pub pointers: Vec<String>,
    /// PII entity names to find and mask anywhere.
    pub entities: Vec<String>,
}

/// The guard's decision on one call.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Decision {
    /// Unique id of the decision (it is in the audit record).
    pub decision_id: String,
    /// The combined verdict.
    pub verdict: Verdict,
    /// Pre-call or post-call.
    pub phase: Phase,
    /// Every rule that matched.
    pub rule_ids: Vec<String>,
    /// Why.
    pub reasons: Vec<Reason>,
    /// Annex A control ids the matched rules implement.
    pub controls: Vec<String>,
    /// What to mask when the verdict is `Redact`.
    pub redactions: Vec<Redaction>,
    /// The oversight checkpoint that must approve, for `RequireApproval`.
    pub checkpoint: Option<String>,
    /// sha256 of the policy that decided.
    pub policy_version: String,
    /// When it was decided.
    pub evaluated_at: SystemTime,
    /// Shadow mode: recorded, not enforced.
    pub shadow: bool,
    /// The index of the decision's record in the audit log, once recorded.
    pub audit_index: Option<u64>,
    /// The approval request opened for a `RequireApproval` decision, when oversight runs.
    pub approval_id: Option<String>,
    /// Whether the app may run the call now (allow, warn, redact, or shadow mode).
    pub may_proceed: bool,
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

impl From<guard::Phase> for Phase {
    fn from(phase: guard::Phase) -> Self {
        match phase {
            guard::Phase::Pre => Phase::Pre,
            guard::Phase::Post => Phase::Post,
        }
    }
}

impl From<Phase> for guard::Phase {
    fn from(phase: Phase) -> Self {
        match phase {
            Phase::Pre => guard::Phase::Pre,
            Phase::Post => guard::Phase::Post,
        }
    }
}

impl From<guard::Decision> for Decision {
    fn from(decision: guard::Decision) -> Self {
        let may_proceed = decision.may_proceed();
        Self {
            decision_id: decision.decision_id,
            verdict: decision.verdict.into(),
            phase: decision.phase.into(),
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
            evaluated_at: decision.evaluated_at.into(),
            shadow: decision.shadow,
            audit_index: decision.audit_index,
            approval_id: decision.approval_id,
            may_proceed,
        }
    }
}

impl From<Decision> for guard::Decision {
    fn from(decision: Decision) -> Self {
        Self {
            decision_id: decision.decision_id,
            verdict: decision.verdict.into(),
            phase: decision.phase.into(),
            rule_ids: decision.rule_ids,
            reasons: decision
                .reasons
                .into_iter()
                .map(|reason| guard::Reason {
                    code: reason.code,
                    rule_id: reason.rule_id,
                    message: reason.message,
                })
                .collect(),
            controls: decision.controls,
            redactions: decision
                .redactions
                .into_iter()
                .map(|redaction| guard::Redaction {
                    rule_id: redaction.rule_id,
                    pointers: redaction.pointers,
                    entities: redaction.entities,
                })
                .collect(),
            checkpoint: decision.checkpoint,
            policy_version: decision.policy_version,
            evaluated_at: OffsetDateTime::from(decision.evaluated_at),
            shadow: decision.shadow,
            audit_index: decision.audit_index,
            approval_id: decision.approval_id,
        }
    }
}
