//! Streams audit logs into the aggregates the evidence pack reports (clause 9.1 metrics and
//! runtime evidence per Annex A control). Memory is bounded by the number of distinct rules,
//! controls, entity types, days, latency buckets and approvals pending at one point of the
//! log, never by the number of records.

use std::collections::{BTreeMap, HashMap};

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::latency::LatencyHistogram;
use crate::audit::{record, AuditEvent, OutcomeStatus};
use crate::guard::Verdict;

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
    /// Approvals requested and not yet decided, by request id.
    requested_at: HashMap<String, OffsetDateTime>,
    seen: u64,
}

impl<'a> Collector<'a> {
    /// A collector adding to `stats` the records dated within `period`.
    pub fn new(period: Period, stats: &'a mut LogStats) -> Self {
        Self {
            period,
            stats,
            requested_at: HashMap::new(),
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
        add_event(self.stats, &record.event, at, &mut self.requested_at);
    }

    /// Payloads added so far, in the period or not.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

fn add_event(
    stats: &mut LogStats,
    event: &AuditEvent,
    at: OffsetDateTime,
    requested_at: &mut HashMap<String, OffsetDateTime>,
) {
    match event {
        AuditEvent::Decision(decision) => {
            for control in &decision.control_ids {
                *stats.by_control.entry(control.clone()).or_default() += 1;
            }
            for masked in &decision.masked {
                *stats.masked.entry(masked_kind(masked)).or_default() += 1;
            }
            if decision.phase != crate::guard::Phase::Pre {
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
            *stats
                .approval_steps
                .entry(approval.step.clone())
                .or_default() += 1;
            match approval.step.as_str() {
                "requested" => {
                    requested_at.insert(approval.request_id.clone(), at);
                }
                "approved" | "rejected" | "expired" => {
                    // Only the decisive step ends the wait; a first vote of two does not.
                    let decisive =
                        approval.step != "approved" || approval.approvals >= approval.required;
                    if decisive {
                        if let Some(start) = requested_at.remove(&approval.request_id) {
                            stats
                                .approval_latencies
                                .record((at - start).as_seconds_f64());
                        }
                    }
                }
                _ => {}
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
