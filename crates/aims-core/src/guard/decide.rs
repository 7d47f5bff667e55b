//! From a policy evaluation to a [`Decision`]: limits, combining, reasons, controls,
//! redactions and the approval checkpoint.

use serde_json::Value;
use time::OffsetDateTime;

use super::input::InputProblem;
use super::limits::{LimitOutcome, LimitStore, LimitsUnavailable};
use super::{Decision, Phase, Reason, Redaction, ToolCall, Verdict};
use crate::call::unix_ms;
use crate::policy::{Policy, Rule};

/// Everything a decision depends on besides the input.
pub(crate) struct Context<'a> {
    pub(crate) policy: &'a Policy,
    pub(crate) limits: &'a LimitStore,
    pub(crate) shadow: bool,
    /// The checkpoint a verified human approval satisfies: its `require_approval` rules
    /// count as allow, so the approved call proceeds and is counted against its limits.
    pub(crate) approved_checkpoint: Option<&'a str>,
}

fn has_limit(rule: &Rule) -> bool {
    rule.rate_limit.is_some() || rule.budget.is_some()
}

/// Decides a call (`result` is `None`) or its result. Calls that may proceed are counted
/// against the limits of the rules they matched, under the same lock that assessed them.
pub(crate) fn decide(
    context: &Context<'_>,
    call: &ToolCall,
    result: Option<&Value>,
    decision_id: String,
    now: OffsetDateTime,
) -> Result<Decision, LimitsUnavailable> {
    let policy = context.policy;
    let (phase, evaluation) = match result {
        None => (Phase::Pre, policy.evaluate_call(call)),
        Some(result) => (Phase::Post, policy.evaluate_result(call, result)),
    };
    let now_ms = unix_ms(now);
    let rules = policy.rules();
    let limited = evaluation.matches.iter().any(|m| has_limit(&rules[m.rule]));
    let mut state = if limited {
        Some(context.limits.lock()?)
    } else {
        None
    };

    let mut reasons = Vec::with_capacity(evaluation.matches.len().max(1));
    // The strongest effect so far: what `Policy::combine` takes the maximum of.
    let mut strongest: Option<Verdict> = None;
    let mut counted: Vec<LimitOutcome> = Vec::new();
    for m in &evaluation.matches {
        let rule = &rules[m.rule];
        let outcomes = match state.as_deref_mut() {
            Some(state) if has_limit(rule) => state.assess(rule, call, now_ms),
            _ => Vec::new(),
        };
        let reason = match outcomes.iter().find(|o| o.exceeded) {
            Some(exceeded) => {
                strongest = strongest.max(Some(Verdict::Deny));
                Reason {
                    code: exceeded.code.to_owned(),
                    rule_id: Some(rule.id().to_owned()),
                    message: exceeded.message.clone(),
                }
            }
            None => {
                let approved = rule.effect() == Verdict::RequireApproval
                    && context.approved_checkpoint.is_some()
                    && rule.checkpoint() == context.approved_checkpoint;
                strongest = strongest.max(Some(if approved {
                    Verdict::Allow
                } else {
                    rule.effect()
                }));
                Reason {
                    code: if approved {
                        "approval_granted"
                    } else if m.certain {
                        "rule_matched"
                    } else {
                        "rule_matched_on_unknown"
                    }
                    .to_owned(),
                    rule_id: Some(rule.id().to_owned()),
                    message: rule.reason_text().to_owned(),
                }
            }
        };
        reasons.push(reason);
        counted.extend(outcomes);
    }
    let verdict = policy.combine(phase, strongest.into_iter());
    if evaluation.matches.is_empty() {
        reasons.push(default_reason(phase, verdict));
    }

    let matched_rules = || evaluation.matches.iter().map(|m| &rules[m.rule]);
    let redactions: Vec<Redaction> = if verdict == Verdict::Redact {
        matched_rules()
            .filter_map(|rule| {
                rule.redact.as_ref().map(|spec| Redaction {
                    rule_id: rule.id().to_owned(),
                    pointers: spec
                        .pointers
                        .iter()
                        .map(|p| p.0.as_str().to_owned())
                        .collect(),
                    entities: spec.entities.clone(),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    if let Some(state) = state.as_deref_mut() {
        if verdict.may_proceed() {
            state.commit(&counted, now_ms);
        }
    }
    drop(state);

    let checkpoint = if verdict == Verdict::RequireApproval {
        matched_rules()
            .filter(|rule| rule.effect() == Verdict::RequireApproval)
            .find_map(|rule| rule.checkpoint().map(str::to_owned))
    } else {
        None
    };
    let mut controls: Vec<String> = Vec::new();
    for control in matched_rules().flat_map(|rule| rule.controls()) {
        if !controls.contains(control) {
            controls.push(control.clone());
        }
    }
    Ok(Decision {
        decision_id,
        verdict,
        phase,
        rule_ids: matched_rules().map(|rule| rule.id().to_owned()).collect(),
        reasons,
        controls,
        redactions: if verdict == Verdict::Redact {
            redactions
        } else {
            Vec::new()
        },
        checkpoint,
        policy_version: policy.version().to_owned(),
        evaluated_at: now,
        shadow: context.shadow,
        audit_index: None,
        approval_id: None,
    })
}

fn default_reason(phase: Phase, verdict: Verdict) -> Reason {
    let message = match phase {
        Phase::Pre => format!(
            "no rule matched the call; the policy default is {}",
            verdict.as_str()
        ),
        Phase::Post => "no result rule matched; results are allowed by default".to_owned(),
    };
    Reason {
        code: "default".to_owned(),
        rule_id: None,
        message,
    }
}

/// The decision on an input the guard refuses to read: deny, with the problem as its reason.
pub(crate) fn refused(
    policy_version: &str,
    phase: Phase,
    decision_id: String,
    shadow: bool,
    problem: &InputProblem,
) -> Decision {
    let mut decision = internal_error(policy_version, phase, decision_id, shadow);
    decision.reasons = vec![Reason {
        code: problem.code.to_owned(),
        rule_id: None,
        message: problem.message.clone(),
    }];
    decision
}

/// The decision when evaluation itself failed: deny, reason `internal_error`. The message is
/// fixed so no input can leak through a panic message.
pub(crate) fn internal_error(
    policy_version: &str,
    phase: Phase,
    decision_id: String,
    shadow: bool,
) -> Decision {
    Decision {
        decision_id,
        verdict: Verdict::Deny,
        phase,
        rule_ids: Vec::new(),
        reasons: vec![Reason {
            code: "internal_error".to_owned(),
            rule_id: None,
            message: "the guard failed while deciding; failing closed".to_owned(),
        }],
        controls: Vec::new(),
        redactions: Vec::new(),
        checkpoint: None,
        policy_version: policy_version.to_owned(),
        // The injected clock may be what failed; the system clock still dates the denial.
        evaluated_at: OffsetDateTime::now_utc(),
        shadow,
        audit_index: None,
        approval_id: None,
    }
}
