//! Incidents on a real store: de-duplication onto the active incident's timeline, ids, the
//! Art. 73 deadline arithmetic, the validated lifecycle, masking and audit records.
#![allow(clippy::unwrap_used)] // a test: fixture helpers fail it loudly

use std::sync::Arc;

use aims_core::audit::{AuditEvent, MemorySink};
use aims_core::model::{IncidentStatus, SeriousIncidentKind, Severity};
use aims_core::oversight::incidents::LifecycleError;
use aims_core::oversight::{
    Clock, IncidentError, IncidentSignal, IncidentUpdate, Incidents, ManualClock, OversightStore,
};
use time::macros::datetime;
use time::Duration;

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    clock: Arc<ManualClock>,
    sink: Arc<MemorySink>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oversight.db");
        Self {
            _dir: dir,
            path,
            clock: Arc::new(ManualClock::new(datetime!(2026-11-23 10:00 UTC))),
            sink: Arc::new(MemorySink::new()),
        }
    }

    fn incidents(&self) -> Incidents {
        let store = Arc::new(OversightStore::open(&self.path).unwrap());
        Incidents::new(store, self.sink.clone()).with_clock(self.clock.clone())
    }

    fn steps(&self) -> Vec<(String, String)> {
        self.sink
            .events()
            .into_iter()
            .filter_map(|event| match event {
                AuditEvent::Incident(e) => Some((e.incident_id, e.step)),
                _ => None,
            })
            .collect()
    }
}

fn burst(agent: &str, indices: &[u64], severity: Severity) -> IncidentSignal {
    IncidentSignal {
        key: format!("deny-burst/{agent}"),
        title: format!("Repeated denies for agent {agent}"),
        event: format!("5 denies within 10 minutes for agent {agent}"),
        severity,
        serious_kind: None,
        ai_system_ids: vec!["cs-assistant".into()],
        audit_indices: indices.to_vec(),
    }
}

#[test]
fn repeated_triggers_extend_the_active_incident_instead_of_opening_new_ones() {
    let fx = Fixture::new();
    let incidents = fx.incidents();
    let first = incidents
        .raise(&burst("agent-7", &[3, 5], Severity::Medium))
        .unwrap();
    assert!(first.opened);
    assert_eq!(first.incident.id, "INC-2026-001");
    assert_eq!(first.incident.status, IncidentStatus::Open);

    fx.clock.advance(Duration::minutes(5));
    let again = incidents
        .raise(&burst("agent-7", &[5, 9], Severity::High))
        .unwrap();
    assert!(!again.opened);
    assert_eq!(again.incident.id, "INC-2026-001");
    assert_eq!(again.incident.timeline.len(), 2);
    assert_eq!(again.incident.audit_indices, vec![3, 5, 9]);
    assert_eq!(again.incident.severity, Severity::High);
    assert_eq!(again.incident.ai_system_ids, vec!["cs-assistant"]);
    assert_eq!(
        again.incident.timeline[1].at,
        datetime!(2026-11-23 10:05 UTC)
    );

    // Another agent is another incident.
    let other = incidents
        .raise(&burst("agent-8", &[11], Severity::Low))
        .unwrap();
    assert!(other.opened);
    assert_eq!(other.incident.id, "INC-2026-002");

    // Once resolved, the same trigger opens a new incident.
    incidents
        .update(
            "INC-2026-001",
            &IncidentUpdate {
                status: Some(IncidentStatus::Resolved),
                ..Default::default()
            },
            "olga",
        )
        .unwrap();
    let after = incidents
        .raise(&burst("agent-7", &[20], Severity::Medium))
        .unwrap();
    assert!(after.opened);
    assert_eq!(after.incident.id, "INC-2026-003");

    assert_eq!(incidents.list(None).unwrap().len(), 3);
    assert_eq!(
        incidents
            .list(Some(IncidentStatus::Resolved))
            .unwrap()
            .iter()
            .map(|i| i.id.as_str())
            .collect::<Vec<_>>(),
        ["INC-2026-001"]
    );
    assert_eq!(
        fx.steps(),
        [
            ("INC-2026-001".to_string(), "opened".to_string()),
            ("INC-2026-001".into(), "updated".into()),
            ("INC-2026-002".into(), "opened".into()),
            ("INC-2026-001".into(), "status_changed".into()),
            ("INC-2026-003".into(), "opened".into()),
        ]
    );
}

#[test]
fn serious_incidents_get_the_art_73_deadline_from_awareness() {
    let fx = Fixture::new();
    let incidents = fx.incidents();
    for (n, (kind, days)) in [
        (SeriousIncidentKind::Death, 10),
        (SeriousIncidentKind::WidespreadOrCriticalInfrastructure, 2),
        (SeriousIncidentKind::Other, 15),
    ]
    .into_iter()
    .enumerate()
    {
        let raised = incidents
            .raise(&IncidentSignal {
                key: format!("serious-{n}"),
                serious_kind: Some(kind),
                ..burst("agent-1", &[1], Severity::Critical)
            })
            .unwrap();
        assert!(raised.incident.serious);
        assert_eq!(
            raised.incident.reporting_deadline(),
            Some(fx.clock.now() + Duration::days(days)),
            "{kind:?}"
        );
    }

    // Marked serious later, with the time awareness began: the deadline counts from then.
    let minor = incidents
        .raise(&burst("agent-2", &[2], Severity::Medium))
        .unwrap()
        .incident;
    assert_eq!(minor.reporting_deadline(), None);
    fx.clock.advance(Duration::days(1));
    let serious = incidents
        .update(
            &minor.id,
            &IncidentUpdate {
                serious_kind: Some(SeriousIncidentKind::Death),
                aware_at: Some(datetime!(2026-11-23 12:00 UTC)),
                ..Default::default()
            },
            "olga",
        )
        .unwrap();
    assert_eq!(
        serious.reporting_deadline(),
        Some(datetime!(2026-12-03 12:00 UTC))
    );
    assert!(serious
        .timeline
        .last()
        .unwrap()
        .event
        .contains("2026-12-03T12:00:00Z"));
}

#[test]
fn the_lifecycle_is_validated_and_closing_a_major_incident_needs_cause_and_action() {
    let fx = Fixture::new();
    let incidents = fx.incidents();
    let id = incidents
        .raise(&burst("agent-7", &[1], Severity::High))
        .unwrap()
        .incident
        .id;
    let set = |status| IncidentUpdate {
        status: Some(status),
        ..Default::default()
    };
    incidents
        .update(&id, &set(IncidentStatus::Investigating), "olga")
        .unwrap();
    assert!(matches!(
        incidents.update(&id, &set(IncidentStatus::Open), "olga"),
        Err(IncidentError::Lifecycle(LifecycleError::NotAllowed { .. }))
    ));
    incidents
        .update(&id, &set(IncidentStatus::Resolved), "olga")
        .unwrap();
    assert!(matches!(
        incidents.update(&id, &set(IncidentStatus::Closed), "olga"),
        Err(IncidentError::Lifecycle(LifecycleError::RootCauseMissing(
            _
        )))
    ));
    // A refused update changes nothing, not even the fields given with it.
    assert!(matches!(
        incidents.update(
            &id,
            &IncidentUpdate {
                root_cause: Some("cause".into()),
                ..set(IncidentStatus::Closed)
            },
            "olga"
        ),
        Err(IncidentError::Lifecycle(
            LifecycleError::CorrectiveActionMissing(_)
        ))
    ));
    assert_eq!(incidents.get(&id).unwrap().root_cause, None);

    let closed = incidents
        .update(
            &id,
            &IncidentUpdate {
                root_cause: Some(
                    "refund cap missing for agent v2; reported by ops@example.com".into(),
                ),
                corrective_action_ids: vec!["CA-001".into()],
                note: Some("verified with the fix deployed".into()),
                ..set(IncidentStatus::Closed)
            },
            "olga",
        )
        .unwrap();
    assert_eq!(closed.status, IncidentStatus::Closed);
    assert_eq!(closed.corrective_action_ids, vec!["CA-001"]);
    let cause = closed.root_cause.unwrap();
    assert!(!cause.contains("ops@example.com"), "{cause}");
    assert!(cause.contains("<EMAIL_ADDRESS>"), "{cause}");
    let last = closed.timeline.last().unwrap();
    assert_eq!(last.by.as_deref(), Some("olga"));
    assert!(
        last.event.contains("status resolved -> closed"),
        "{}",
        last.event
    );
    assert!(last.event.contains("verified with the fix deployed"));
    // Closed is final.
    assert!(matches!(
        incidents.update(&id, &set(IncidentStatus::Investigating), "olga"),
        Err(IncidentError::Lifecycle(LifecycleError::NotAllowed { .. }))
    ));
    assert!(matches!(
        incidents.update(&id, &IncidentUpdate::default(), "olga"),
        Err(IncidentError::EmptyUpdate(_))
    ));
    assert!(matches!(
        incidents.get("INC-1999-001"),
        Err(IncidentError::Unknown(_))
    ));
}

#[test]
fn incidents_survive_a_restart_and_keep_de_duplicating() {
    let fx = Fixture::new();
    fx.incidents()
        .raise(&burst("agent-7", &[1], Severity::Medium))
        .unwrap();
    let reopened = fx.incidents();
    let raised = reopened
        .raise(&burst("agent-7", &[2], Severity::Medium))
        .unwrap();
    assert!(!raised.opened);
    assert_eq!(raised.incident.audit_indices, vec![1, 2]);
}
