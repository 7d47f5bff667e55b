//! Streams audit logs into the aggregates the evidence pack reports (clause 9.1 metrics and
//! runtime evidence per Annex A control). Memory is bounded by the number of distinct rules,
//! controls, entity types, days, latency buckets and approval steps (human-paced), never by
//! the number of records.
//!
//! One [`LogStats`] takes the logs of a whole fleet, one [`Collector`] per log: counts add up,
//! and an approval requested in one replica's log and decided in another's (an approver's own
//! log, say) is joined by its request id. A step recorded in two logs counts once.

use std::collections::{BTreeMap, HashMap, HashSet};

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::latency::LatencyHistogram;
use crate::audit::{record, AuditEvent, OutcomeStatus};
use crate::call::Verdict;

/// The inclusive period a report covers; records outside it are skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    /// The first day included.
    pub from: Option<Date>,
    /// The last day included.
    pub to: Option<Date>,
}

impl Period {
    fn contains(&self, day: Date) -> bool {
        self.from.is_none_or(|from| day >= from) && self.to.is_none_or(|to| day <= to)
    }
}

/// What the logs say, aggregated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogStats {
    /// Records read in the period, of every kind.
    pub records: u64,
    /// Pre-call decisions by verdict.
    pub by_verdict: BTreeMap<Verdict, u64>,
    /// Pre-call decisions by day and verdict.
    pub by_day: BTreeMap<Date, BTreeMap<Verdict, u64>>,
    /// Pre-call decisions that did not proceed (deny, require_approval) by rule id.
    pub blocking_rules: BTreeMap<String, u64>,
    /// Decision records (pre and post) naming each Annex A control.
    pub by_control: BTreeMap<String, u64>,
    /// Masked entity types and pointers, by name.
    pub masked: BTreeMap<String, u64>,
    /// Approval steps by name (requested, approved, rejected, expired, escalated, executed).
    pub approval_steps: BTreeMap<String, u64>,
    /// Seconds from a request to its decisive approval or rejection.
    pub approval_latencies: LatencyHistogram,
    /// Incident records (opened or updated).
    pub incident_records: u64,
    /// Anomaly records.
    pub anomalies: u64,
    /// Outcomes of calls that ran: ok and error.
    pub outcomes_ok: u64,
    /// Outcomes that ended in an error.
    pub outcomes_error: u64,
    /// Policy versions loaded.
    pub policy_versions: BTreeMap<String, u64>,
    /// Payloads that could not be decoded (the verifier reports the cause).
    pub undecodable: u64,
    /// Approval steps seen so far, to join them across logs.
    approvals: ApprovalJoin,
}

/// Approval steps across logs, by request id.
#[derive(Debug, Clone, Default, PartialEq)]
struct ApprovalJoin {
    /// Requests whose decisive step has not been read yet.
    requested_at: HashMap<String, OffsetDateTime>,
    /// Decisive steps read before their request (its log comes later).
    decided_at: HashMap<String, OffsetDateTime>,
    /// `(request id, step, actor, approvals so far)` of every step counted.
    steps: HashSet<(String, String, Option<String>, u32)>,
}

impl LogStats {
    /// Decisions that did not proceed.
    pub fn blocked(&self) -> u64 {
        self.by_verdict.get(&Verdict::Deny).copied().unwrap_or(0)
            + self
                .by_verdict
                .get(&Verdict::RequireApproval)
                .copied()
                .unwrap_or(0)
    }

    /// Pre-call decisions in all.
    pub fn decisions(&self) -> u64 {
        self.by_verdict.values().sum()
    }
}

/// Folds the records of one log into [`LogStats`], one payload at a time, in log order.
#[derive(Debug)]
pub struct Collector<'a> {
    period: Period,
    stats: &'a mut LogStats,
    seen: u64,
}

impl<'a> Collector<'a> {
    /// A collector adding to `stats` the records dated within `period`.
    pub fn new(period: Period, stats: &'a mut LogStats) -> Self {
        Self {
            period,
            stats,
            seen: 0,
        }
    }

    /// Adds one record payload.
    pub fn add(&mut self, payload: &[u8]) {
        self.seen += 1;
        let Ok(record) = record::decode(payload) else {
            self.stats.undecodable += 1;
            return;
        };
        let Ok(at) = OffsetDateTime::parse(&record.timestamp, &Rfc3339) else {
            self.stats.undecodable += 1;
            return;
        };
        if !self.period.contains(at.date()) {
            return;
        }
        self.stats.records += 1;
        add_event(self.stats, &record.event, at);
    }

    /// Payloads added so far, in the period or not.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

fn add_event(stats: &mut LogStats, event: &AuditEvent, at: OffsetDateTime) {
    match event {
        AuditEvent::Decision(decision) => {
            for control in &decision.control_ids {
                *stats.by_control.entry(control.clone()).or_default() += 1;
            }
            for masked in &decision.masked {
                *stats.masked.entry(masked_kind(masked)).or_default() += 1;
            }
            if decision.phase != crate::call::Phase::Pre {
                return;
            }
            *stats.by_verdict.entry(decision.verdict).or_default() += 1;
            *stats
                .by_day
                .entry(at.date())
                .or_default()
                .entry(decision.verdict)
                .or_default() += 1;
            if !decision.verdict.may_proceed() {
                for rule in &decision.rule_ids {
                    *stats.blocking_rules.entry(rule.clone()).or_default() += 1;
                }
            }
        }
        AuditEvent::Outcome(outcome) => match outcome.status {
            OutcomeStatus::Ok => stats.outcomes_ok += 1,
            OutcomeStatus::Error => stats.outcomes_error += 1,
        },
        AuditEvent::Approval(approval) => {
            let step = (
                approval.request_id.clone(),
                approval.step.clone(),
                approval.actor.clone(),
                approval.approvals,
            );
            if !stats.approvals.steps.insert(step) {
                // The same step recorded by another process of the fleet.
                return;
            }
            *stats
                .approval_steps
                .entry(approval.step.clone())
                .or_default() += 1;
            let join = &mut stats.approvals;
            let waited = match approval.step.as_str() {
                "requested" => match join.decided_at.remove(&approval.request_id) {
                    Some(decided) => Some(decided - at),
                    None => {
                        join.requested_at.insert(approval.request_id.clone(), at);
                        None
                    }
                },
                // Only the decisive step ends the wait; a first vote of two does not.
                "approved" | "rejected" | "expired"
                    if approval.step != "approved" || approval.approvals >= approval.required =>
                {
                    match join.requested_at.remove(&approval.request_id) {
                        Some(requested) => Some(at - requested),
                        None => {
                            join.decided_at.insert(approval.request_id.clone(), at);
                            None
                        }
                    }
                }
                _ => None,
            };
            if let Some(waited) = waited {
                stats.approval_latencies.record(waited.as_seconds_f64());
            }
        }
        AuditEvent::Incident(_) => stats.incident_records += 1,
        AuditEvent::Anomaly(_) => stats.anomalies += 1,
        AuditEvent::PolicyLoaded(loaded) => {
            *stats
                .policy_versions
                .entry(loaded.policy_version.clone())
                .or_default() += 1;
        }
        _ => {}
    }
}

/// A `masked` entry is an entity name (`EMAIL_ADDRESS`) or a JSON pointer masked whole,
/// counted together as `pointer`.
fn masked_kind(masked: &str) -> String {
    if masked.starts_with('/') {
        "pointer".to_owned()
    } else {
        masked.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_entries_are_counted_by_entity() {
        assert_eq!(masked_kind("CREDIT_CARD"), "CREDIT_CARD");
        assert_eq!(masked_kind("/customer/card"), "pointer");
    }
}
