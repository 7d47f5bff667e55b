//! The trigger engine: turns guard decisions, tool results, audit verification failures and
//! anomalies into [`IncidentSignal`]s, as the policy's [`IncidentTrigger`]s say.
//!
//! Signals are keyed by trigger id and agent id, so a trigger that keeps firing for one agent
//! extends that agent's active incident. Timeline text names rules, tools, agents and counts,
//! never argument or result values.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

use super::IncidentSignal;
use crate::call::{Decision, ToolCall, Verdict};
use crate::oversight::anomaly::{Anomaly, AnomalyLevel};
use crate::pii::Entity;
use crate::policy::{IncidentTrigger, TriggerCondition};

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
        rule_severity: impl Fn(&str) -> Option<crate::call::Severity>,
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
