//! AI incidents (clause 10.2, A.8.4, EU AI Act Art. 73): what happened to which systems, how it
//! unfolded, whether it is a serious incident and by when it must be reported.
//!
//! Art. 73 deadlines run from when the organization became aware of the serious incident:
//! 10 days in the event of a death, 2 days for a widespread infringement or a serious disruption
//! of critical infrastructure, 15 days otherwise.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::scale::Severity;

/// One incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Stable identifier, e.g. `INC-2026-001`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// The AI systems involved.
    pub ai_system_ids: Vec<String>,
    /// How bad it is.
    pub severity: Severity,
    /// Where it stands.
    pub status: IncidentStatus,
    /// When it was detected (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub detected_at: OffsetDateTime,
    /// When the organization became aware it is (possibly) serious; defaults to `detected_at`.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub aware_at: Option<OffsetDateTime>,
    /// Whether it is a serious incident under EU AI Act Art. 3(49).
    #[serde(default)]
    pub serious: bool,
    /// For a serious incident: which Art. 73 deadline applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serious_kind: Option<SeriousIncidentKind>,
    /// When it was reported to the market surveillance authority, if it was.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub reported_at: Option<OffsetDateTime>,
    /// What happened, in order.
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    /// Indices of the audit log entries that show what happened.
    #[serde(default)]
    pub audit_indices: Vec<u64>,
    /// The root cause, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    /// Corrective actions in the register that address it.
    #[serde(default)]
    pub corrective_action_ids: Vec<String>,
}

impl Incident {
    /// When the organization became aware: `aware_at`, or `detected_at` when not recorded.
    pub fn awareness(&self) -> OffsetDateTime {
        self.aware_at.unwrap_or(self.detected_at)
    }

    /// The Art. 73 reporting deadline: `None` unless the incident is serious. A serious
    /// incident without a kind gets the shortest deadline (2 days): unknown means strictest.
    pub fn reporting_deadline(&self) -> Option<OffsetDateTime> {
        if !self.serious {
            return None;
        }
        let days = self
            .serious_kind
            .map_or(SHORTEST_REPORTING_DAYS, SeriousIncidentKind::reporting_days);
        Some(self.awareness() + Duration::days(days))
    }

    /// Whether a serious incident is unreported and past its deadline at `now`.
    pub fn report_overdue(&self, now: OffsetDateTime) -> bool {
        self.reported_at.is_none()
            && self
                .reporting_deadline()
                .is_some_and(|deadline| now > deadline)
    }
}

/// The shortest Art. 73 deadline, in days.
const SHORTEST_REPORTING_DAYS: i64 = 2;

/// Incident status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Recorded, not yet worked on.
    Open,
    /// Being investigated.
    Investigating,
    /// Harm stopped from spreading.
    Contained,
    /// Cause removed.
    Resolved,
    /// Reviewed and closed.
    Closed,
}

/// Which EU AI Act Art. 73 reporting deadline applies to a serious incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeriousIncidentKind {
    /// The death of a person: report within 10 days of awareness.
    Death,
    /// A widespread infringement or a serious disruption of critical infrastructure: 2 days.
    WidespreadOrCriticalInfrastructure,
    /// Any other serious incident: 15 days.
    Other,
}

impl SeriousIncidentKind {
    /// Days after awareness within which the report is due.
    pub fn reporting_days(self) -> i64 {
        match self {
            Self::Death => 10,
            Self::WidespreadOrCriticalInfrastructure => SHORTEST_REPORTING_DAYS,
            Self::Other => 15,
        }
    }
}

/// One step in an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    /// When (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub at: OffsetDateTime,
    /// What happened or was done.
    pub event: String,
    /// Who did it or recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn incident(serious: bool, kind: Option<SeriousIncidentKind>) -> Incident {
        Incident {
            id: "INC-1".into(),
            title: "t".into(),
            ai_system_ids: vec!["cs-assistant".into()],
            severity: Severity::High,
            status: IncidentStatus::Open,
            detected_at: datetime!(2026-03-01 08:00 UTC),
            aware_at: Some(datetime!(2026-03-02 09:30 UTC)),
            serious,
            serious_kind: kind,
            reported_at: None,
            timeline: vec![],
            audit_indices: vec![],
            root_cause: None,
            corrective_action_ids: vec![],
        }
    }

    #[test]
    fn art_73_deadlines_run_from_awareness() {
        use SeriousIncidentKind::*;
        let deadline = |kind| incident(true, Some(kind)).reporting_deadline();
        assert_eq!(deadline(Death), Some(datetime!(2026-03-12 09:30 UTC)));
        assert_eq!(
            deadline(WidespreadOrCriticalInfrastructure),
            Some(datetime!(2026-03-04 09:30 UTC))
        );
        assert_eq!(deadline(Other), Some(datetime!(2026-03-17 09:30 UTC)));
    }

    #[test]
    fn awareness_defaults_to_detection_and_unknown_kind_is_strictest() {
        let mut serious = incident(true, None);
        serious.aware_at = None;
        assert_eq!(
            serious.reporting_deadline(),
            Some(datetime!(2026-03-03 08:00 UTC))
        );
        assert_eq!(incident(false, None).reporting_deadline(), None);
    }

    #[test]
    fn overdue_only_when_serious_unreported_and_past_deadline() {
        let mut serious = incident(true, Some(SeriousIncidentKind::Other));
        assert!(!serious.report_overdue(datetime!(2026-03-17 09:30 UTC)));
        assert!(serious.report_overdue(datetime!(2026-03-17 09:31 UTC)));
        serious.reported_at = Some(datetime!(2026-03-20 00:00 UTC));
        assert!(!serious.report_overdue(datetime!(2026-04-01 00:00 UTC)));
        assert!(!incident(false, None).report_overdue(datetime!(2030-01-01 00:00 UTC)));
    }
}
