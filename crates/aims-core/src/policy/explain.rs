//! `explain`: every rule of a policy, whether it applied to an input, and why.
//!
//! Explanations describe the policy's conditions and their outcomes, never the input's values,
//! so they can be shown and logged like decisions.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::condition::Root;
use super::{Policy, RuleOutcome};
use crate::call::{Phase, ToolCall, Verdict};

/// Why a policy decided what it did on one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Explanation {
    /// Pre-call (arguments) or post-call (result).
    pub phase: Phase,
    /// The combined verdict.
    pub verdict: Verdict,
    /// The policy's default verdict (applies to calls no rule matches).
    pub default: Verdict,
    /// sha256 of the canonical policy.
    pub policy_version: String,
    /// Every rule, in policy order.
    pub rules: Vec<RuleTrace>,
}

/// One rule and how it related to the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleTrace {
    /// The rule id.
    pub id: String,
    /// The rule's phase.
    pub phase: Phase,
    /// The rule's effect.
    pub effect: Verdict,
    /// Whether the rule applies.
    pub matched: bool,
    /// `other_phase`, `tool_mismatch`, `agent_mismatch`, `conditions_false`,
    /// `conditions_unknown`, `matched` or `matched_on_unknown`.
    pub outcome: String,
    /// Each condition and its outcome, when the rule's agent and tool matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionTrace>,
    /// The rule's rate limit or budget, when it has one and applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<LimitTrace>,
}

/// One condition and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConditionTrace {
    /// The condition, e.g. `args/amount gt 500`.
    pub condition: String,
    /// `true`, `false` or `unknown`.
    pub outcome: String,
}

/// A limit on a matched rule and whether this call would exceed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LimitTrace {
    /// `rate_limited`, `budget_exceeded` or `budget_unreadable` when exceeded; `within_limit`
    /// otherwise.
    pub code: String,
    /// Whether the call would be denied by the limit.
    pub exceeded: bool,
    /// The limit and its current use, in words.
    pub message: String,
}

impl Policy {
    /// Explains how the policy decides a call (`result` is `None`) or its result.
    pub fn explain(&self, call: &ToolCall, result: Option<&Value>) -> Explanation {
        let phase = if result.is_some() {
            Phase::Post
        } else {
            Phase::Pre
        };
        let rules: Vec<RuleTrace> = self
            .rules
            .iter()
            .map(|rule| {
                let outcome = rule.outcome(phase, call, result);
                let traced = !matches!(
                    outcome,
                    RuleOutcome::OtherPhase
                        | RuleOutcome::ToolMismatch
                        | RuleOutcome::AgentMismatch
                );
                let conditions = if traced {
                    rule.conditions
                        .iter()
                        .map(|condition| {
                            let root = match condition.root {
                                Root::Args => Some(&call.args),
                                Root::Context => Some(&call.context),
                                Root::Result => result,
                            };
                            let outcome = root.map_or(super::Tri::Unknown, |v| condition.eval(v));
                            ConditionTrace {
                                condition: condition.describe(),
                                outcome: outcome.as_str().to_owned(),
                            }
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                RuleTrace {
                    id: rule.id.clone(),
                    phase: rule.phase,
                    effect: rule.effect,
                    matched: outcome.matched(),
                    outcome: outcome.as_str().to_owned(),
                    conditions,
                    limits: Vec::new(),
                }
            })
            .collect();
        let verdict = self.combine(
            phase,
            rules
                .iter()
                .filter(|trace| trace.matched)
                .map(|trace| trace.effect),
        );
        Explanation {
            phase,
            verdict,
            default: self.default,
            policy_version: self.version.clone(),
            rules,
        }
    }
}
