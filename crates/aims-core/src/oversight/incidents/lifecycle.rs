//! Which incident status changes are allowed, and what closing needs.
//!
//! Statuses only move forward (open, investigating, contained, resolved, closed; steps may be
//! skipped), except that a resolved incident may be reopened to investigating when the fix did
//! not hold. Closed is final. Closing a major incident (severity high or critical) needs a root
//! cause and at least one corrective action (clause 10.2); closing a serious incident needs its
//! Art. 73 report to have been made.

use crate::model::{Incident, IncidentStatus, Severity};

/// Why a status change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The change goes backwards or leaves a closed incident.
    #[error("incident {id} cannot go from {from} to {to}")]
    NotAllowed {
        /// The incident.
        id: String,
        /// Its status.
        from: &'static str,
        /// The status asked for.
        to: &'static str,
    },
    /// A major incident cannot close without a root cause.
    #[error("incident {0} is major (high or critical): record its root cause before closing it")]
    RootCauseMissing(String),
    /// A major incident cannot close without a corrective action.
    #[error(
        "incident {0} is major (high or critical): link a corrective action before closing it"
    )]
    CorrectiveActionMissing(String),
    /// A serious incident cannot close before it was reported.
    #[error("incident {0} is serious: record its Art. 73 report (reported_at) before closing it")]
    ReportMissing(String),
}

/// The snake_case name of a status, as in the register.
pub fn status_name(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Open => "open",
        IncidentStatus::Investigating => "investigating",
        IncidentStatus::Contained => "contained",
        IncidentStatus::Resolved => "resolved",
        IncidentStatus::Closed => "closed",
    }
}

/// Whether an incident in this status still collects new triggers.
pub fn is_active(status: IncidentStatus) -> bool {
    !matches!(status, IncidentStatus::Resolved | IncidentStatus::Closed)
}

/// Checks that `incident` (with any other changes of the same update already applied) may move
/// to `to`.
pub fn check_transition(incident: &Incident, to: IncidentStatus) -> Result<(), LifecycleError> {
    let from = incident.status;
    let reopening = from == IncidentStatus::Resolved && to == IncidentStatus::Investigating;
    if !(rank(to) > rank(from) || reopening) {
        return Err(LifecycleError::NotAllowed {
            id: incident.id.clone(),
            from: status_name(from),
            to: status_name(to),
        });
    }
    if to == IncidentStatus::Closed {
        if incident.severity >= Severity::High {
            if incident
                .root_cause
                .as_deref()
                .is_none_or(|c| c.trim().is_empty())
            {
                return Err(LifecycleError::RootCauseMissing(incident.id.clone()));
            }
            if incident.corrective_action_ids.is_empty() {
                return Err(LifecycleError::CorrectiveActionMissing(incident.id.clone()));
            }
        }
        if incident.serious && incident.reported_at.is_none() {
            return Err(LifecycleError::ReportMissing(incident.id.clone()));
        }
    }
    Ok(())
}

fn rank(status: IncidentStatus) -> u8 {
    match status {
        IncidentStatus::Open => 0,
        IncidentStatus::Investigating => 1,
        IncidentStatus::Contained => 2,
        IncidentStatus::Resolved => 3,
        IncidentStatus::Closed => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use IncidentStatus::*;

    fn incident(status: IncidentStatus, severity: Severity) -> Incident {
        Incident {
            id: "INC-2026-001".into(),
            title: "t".into(),
            ai_system_ids: vec![],
            severity,
            status,
            detected_at: datetime!(2026-03-01 08:00 UTC),
            aware_at: None,
            serious: false,
            serious_kind: None,
            reported_at: None,
            timeline: vec![],
            audit_indices: vec![],
            root_cause: None,
            corrective_action_ids: vec![],
        }
    }

    #[test]
    fn statuses_move_forward_may_skip_and_may_reopen_once_resolved() {
        let all = [Open, Investigating, Contained, Resolved, Closed];
        for from in all {
            for to in all {
                let allowed = check_transition(&incident(from, Severity::Low), to).is_ok();
                let expected = rank(to) > rank(from) || (from == Resolved && to == Investigating);
                assert_eq!(allowed, expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn closing_a_major_incident_needs_root_cause_and_corrective_action() {
        for severity in [Severity::High, Severity::Critical] {
            let mut major = incident(Resolved, severity);
            assert_eq!(
                check_transition(&major, Closed),
                Err(LifecycleError::RootCauseMissing(major.id.clone()))
            );
            major.root_cause = Some("  ".into());
            assert!(matches!(
                check_transition(&major, Closed),
                Err(LifecycleError::RootCauseMissing(_))
            ));
            major.root_cause = Some("refund limit not enforced for agent v2".into());
            assert_eq!(
                check_transition(&major, Closed),
                Err(LifecycleError::CorrectiveActionMissing(major.id.clone()))
            );
            major.corrective_action_ids = vec!["CA-001".into()];
            assert_eq!(check_transition(&major, Closed), Ok(()));
        }
        // Minor incidents close without either.
        assert_eq!(
            check_transition(&incident(Resolved, Severity::Medium), Closed),
            Ok(())
        );
    }

    #[test]
    fn closing_a_serious_incident_needs_its_report() {
        let mut serious = incident(Resolved, Severity::Low);
        serious.serious = true;
        assert!(matches!(
            check_transition(&serious, Closed),
            Err(LifecycleError::ReportMissing(_))
        ));
        serious.reported_at = Some(datetime!(2026-03-02 08:00 UTC));
        assert_eq!(check_transition(&serious, Closed), Ok(()));
    }
}
