//! Incident triggers: the policy file's `incidents` section, and the engine that turns guard
//! decisions, tool results, audit verification failures and anomalies into
//! [`IncidentSignal`]s.
//!
//! ```yaml
//! incidents:
//!   - id: critical-deny
//!     when: {deny_by_severity: {min_severity: high}}
//!     severity: high
//!   - id: deny-burst
//!     when: {deny_burst: {count: 5, window_seconds: 600}}
//!   - id: audit-broken
//!     when: audit_verification_failed
//!     severity: critical
//!   - id: pii-leak
//!     when: {pii_in_result: {entities: [CREDIT_CARD, IBAN_CODE]}}
//!   - id: agent-anomaly
//!     when: anomaly
//! ```
//!
//! Signals are keyed by trigger id and agent id, so a trigger that keeps firing for one agent
//! extends that agent's active incident. Timeline text names rules, tools, agents and counts,
//! never argument or result values.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::IncidentSignal;
use crate::guard::{Decision, ToolCall, Verdict};
use crate::model::{SeriousIncidentKind, Severity};
use crate::oversight::anomaly::{Anomaly, AnomalyLevel};
use crate::pii::Entity;

/// One incident trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentTrigger {
    /// Stable identifier; with the agent id it keys de-duplication.
    pub id: String,
    /// What fires it: a name (`audit_verification_failed`, `anomaly`) or a map of one name to
    /// its parameters (`{deny_burst: {count: 5, window_seconds: 600}}`), in YAML as in JSON.
    #[serde(with = "serde_yaml_ng::with::singleton_map")]
    #[schemars(with = "TriggerCondition")]
    pub when: TriggerCondition,
    /// The severity of the incidents it opens (default medium).
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Marks its incidents serious (EU AI Act Art. 3(49)) with this Art. 73 deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serious_kind: Option<SeriousIncidentKind>,
    /// The title of the incidents it opens (default: generated from what fired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

fn default_severity() -> Severity {
    Severity::Medium
}

/// What fires a trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TriggerCondition {
    /// A deny by a rule of at least this severity.
    DenyBySeverity {
        /// The least rule severity that fires (low, medium, high, critical).
        min_severity: crate::guard::Severity,
    },
    /// At least `count` denies for one agent within `window_seconds`.
    DenyBurst {
        /// Denies that fire it.
        #[schemars(range(min = 1))]
        count: u32,
        /// The sliding window, in seconds.
        #[schemars(range(min = 1))]
        window_seconds: u64,
    },
    /// The audit log failed verification.
    AuditVerificationFailed,
    /// PII or a secret found in a tool result.
    PiiInResult {
        /// Entities that fire it (e.g. `CREDIT_CARD`); empty means any.
        #[serde(default)]
        #[schemars(with = "Vec<String>")]
        entities: Vec<Entity>,
    },
    /// The anomaly monitor raised a shift at incident level.
    Anomaly,
}

/// Evaluates a set of triggers; keeps the sliding windows of `deny_burst` triggers.
#[derive(Debug, Default)]
pub struct TriggerEngine {
    triggers: Vec<IncidentTrigger>,
    /// Per (trigger position, agent): the recent denies.
    windows: Mutex<HashMap<(usize, String), VecDeque<RecentDeny>>>,
}

/// When a deny happened and where it was recorded.
type RecentDeny = (OffsetDateTime, Option<u64>);

impl TriggerEngine {
    /// An engine for `triggers`.
    pub fn new(triggers: Vec<IncidentTrigger>) -> Self {
        Self {
            triggers,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// The triggers it evaluates.
    pub fn triggers(&self) -> &[IncidentTrigger] {
        &self.triggers
    }

    /// Signals fired by one guard decision. `rule_severity` looks a rule's severity up in the
    /// policy that decided.
    pub fn on_decision(
        &self,
        call: &ToolCall,
        decision: &Decision,
        rule_severity: impl Fn(&str) -> Option<crate::guard::Severity>,
        now: OffsetDateTime,
    ) -> Vec<IncidentSignal> {
        if decision.verdict != Verdict::Deny {
            return Vec::new();
        }
        let indices: Vec<u64> = decision.audit_index.into_iter().collect();
        let mut signals = Vec::new();
        for (position, trigger) in self.triggers.iter().enumerate() {
            match &trigger.when {
                TriggerCondition::DenyBySeverity { min_severity } => {
                    let worst = decision
                        .rule_ids
                        .iter()
                        .filter_map(|rule| rule_severity(rule).map(|s| (s, rule)))
                        .max_by_key(|(severity, _)| *severity);
                    if let Some((severity, rule)) = worst.filter(|(s, _)| s >= min_severity) {
                        let what = format!(
                            "deny by rule {rule} (severity {}) for agent {} calling {}",
                            super::severity_name(severity),
                            call.agent_id,
                            call.tool
                        );
                        signals.push(self.signal(trigger, call, what, indices.clone()));
                    }
                }
                TriggerCondition::DenyBurst {
                    count,
                    window_seconds,
                } => {
                    let window =
                        Duration::seconds(i64::try_from(*window_seconds).unwrap_or(i64::MAX));
                    let mut windows = self
                        .windows
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    let recent = windows
                        .entry((position, call.agent_id.clone()))
                        .or_default();
                    recent.push_back((now, decision.audit_index));
                    while recent.front().is_some_and(|(at, _)| *at <= now - window) {
                        recent.pop_front();
                    }
                    if recent.len() >= *count as usize {
                        let burst: Vec<u64> = recent.iter().filter_map(|(_, i)| *i).collect();
                        recent.clear();
                        let what = format!(
                            "{count} denies within {window_seconds} s for agent {}",
                            call.agent_id
                        );
                        signals.push(self.signal(trigger, call, what, burst));
                    }
                }
                _ => {}
            }
        }
        signals
    }

    /// Signals fired by PII `found` in the result of `call` (recorded at `audit_index`).
    pub fn on_result_pii(
        &self,
        call: &ToolCall,
        found: &[Entity],
        audit_index: Option<u64>,
    ) -> Vec<IncidentSignal> {
        self.triggers
            .iter()
            .filter_map(|trigger| {
                let TriggerCondition::PiiInResult { entities } = &trigger.when else {
                    return None;
                };
                let mut hits: Vec<Entity> = found
                    .iter()
                    .copied()
                    .filter(|entity| entities.is_empty() || entities.contains(entity))
                    .collect();
                hits.sort_unstable();
                hits.dedup();
                if hits.is_empty() {
                    return None;
                }
                let names: Vec<String> = hits.iter().map(ToString::to_string).collect();
                let what = format!(
                    "{} in the result of {} for agent {}",
                    names.join(", "),
                    call.tool,
                    call.agent_id
                );
                Some(self.signal(trigger, call, what, audit_index.into_iter().collect()))
            })
            .collect()
    }

    /// Signals fired by a failed verification of the audit log (`problem` names what failed,
    /// e.g. the verifier's first finding).
    pub fn on_audit_verification_failed(&self, problem: &str) -> Vec<IncidentSignal> {
        self.triggers
            .iter()
            .filter(|trigger| trigger.when == TriggerCondition::AuditVerificationFailed)
            .map(|trigger| IncidentSignal {
                key: trigger.id.clone(),
                title: trigger
                    .title
                    .clone()
                    .unwrap_or_else(|| "Audit log failed verification".into()),
                event: format!("audit log verification failed: {problem}"),
                severity: trigger.severity,
                serious_kind: trigger.serious_kind,
                ai_system_ids: Vec::new(),
                audit_indices: Vec::new(),
            })
            .collect()
    }

    /// Signals fired by an anomaly at incident level.
    pub fn on_anomaly(&self, anomaly: &Anomaly, call: &ToolCall) -> Vec<IncidentSignal> {
        if anomaly.level != AnomalyLevel::Incident {
            return Vec::new();
        }
        self.triggers
            .iter()
            .filter(|trigger| trigger.when == TriggerCondition::Anomaly)
            .map(|trigger| {
                let what = format!(
                    "{} of agent {} rose from {:.3} to {:.3} (CUSUM {:.1})",
                    anomaly.signal.as_str(),
                    anomaly.agent_id,
                    anomaly.baseline_rate,
                    anomaly.current_rate,
                    anomaly.cusum
                );
                self.signal(trigger, call, what, Vec::new())
            })
            .collect()
    }

    fn signal(
        &self,
        trigger: &IncidentTrigger,
        call: &ToolCall,
        what: String,
        audit_indices: Vec<u64>,
    ) -> IncidentSignal {
        IncidentSignal {
            key: format!("{}/{}", trigger.id, call.agent_id),
            title: trigger
                .title
                .clone()
                .unwrap_or_else(|| format!("{}: {what}", trigger.id)),
            event: what,
            severity: trigger.severity,
            serious_kind: trigger.serious_kind,
            ai_system_ids: call.ai_system_id.iter().cloned().collect(),
            audit_indices,
        }
    }
}
