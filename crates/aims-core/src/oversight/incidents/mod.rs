//! Incidents at runtime (clause 10.2, A.8.4, EU AI Act Art. 73): triggers open the register's
//! [`Incident`] in the store, linked to the audit entries that caused it; a trigger that fires
//! again while its incident is active extends that incident's timeline instead of opening a new
//! one; status changes are validated ([`lifecycle`]); serious incidents carry their Art. 73
//! reporting deadline (computed by the model from `aware_at`).
//!
//! Every opening and update is one audit record, written in the same store transaction.

pub mod lifecycle;
mod rows;
pub mod trigger;

use std::sync::Arc;

use time::OffsetDateTime;

use crate::audit::{AuditEvent, AuditSink, IncidentEvent, SinkError};
use crate::guard::{Clock, SystemClock};
use crate::model::{Incident, IncidentStatus, SeriousIncidentKind, Severity, TimelineEntry};
use crate::oversight::store::{OversightStore, StoreError};
use crate::pii::PiiError;

pub use crate::policy::{IncidentTrigger, TriggerCondition};
pub use lifecycle::LifecycleError;
pub use trigger::TriggerEngine;

/// Who recorded the timeline entries aims writes itself.
const SYSTEM_ACTOR: &str = "aims";

/// A trigger fired: what to record.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentSignal {
    /// De-duplication key: signals with the same key extend one active incident (e.g. the
    /// trigger id and the agent id).
    pub key: String,
    /// The title of a new incident.
    pub title: String,
    /// The timeline entry: what happened, written by aims (no raw call data).
    pub event: String,
    /// How bad it is; an extended incident keeps the highest severity seen.
    pub severity: Severity,
    /// Set when the trigger marks incidents serious, with the Art. 73 deadline to apply.
    pub serious_kind: Option<SeriousIncidentKind>,
    /// The AI systems involved.
    pub ai_system_ids: Vec<String>,
    /// Audit log indices of the records that caused it.
    pub audit_indices: Vec<u64>,
}

/// What [`Incidents::raise`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    /// The incident after the signal.
    pub incident: Incident,
    /// True when the signal opened it; false when it extended an active one.
    pub opened: bool,
}

/// Changes to an incident, applied together. Unset fields are left alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentUpdate {
    /// A new status, checked by [`lifecycle::check_transition`] after the other changes.
    pub status: Option<IncidentStatus>,
    /// A new severity.
    pub severity: Option<Severity>,
    /// The root cause (masked for PII before it is stored).
    pub root_cause: Option<String>,
    /// Corrective actions of the register to link (added to those already linked).
    pub corrective_action_ids: Vec<String>,
    /// Marks the incident serious, with the Art. 73 deadline to apply.
    pub serious_kind: Option<SeriousIncidentKind>,
    /// When the organization became aware it is serious (defaults to now when it is marked
    /// serious without one).
    pub aware_at: Option<OffsetDateTime>,
    /// When it was reported to the market surveillance authority.
    pub reported_at: Option<OffsetDateTime>,
    /// A note for the timeline (masked for PII).
    pub note: Option<String>,
}

/// Why an incident operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit sink refused the record, so nothing changed.
    #[error("incident change not made: {0}")]
    Audit(#[from] SinkError),
    /// Free text could not be masked, so nothing changed.
    #[error("incident text could not be masked: {0}")]
    Masking(#[from] PiiError),
    /// No incident has this id.
    #[error("unknown incident {0:?}")]
    Unknown(String),
    /// The status change is not allowed.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// The update changes nothing.
    #[error("the update of incident {0} changes nothing")]
    EmptyUpdate(String),
}

/// The incident service over one store.
#[derive(Clone)]
pub struct Incidents {
    store: Arc<OversightStore>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Incidents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incidents")
            .field("store", &self.store.path())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Incidents {
    /// A service on `store` recording every change to `audit`, on the system clock.
    pub fn new(store: Arc<OversightStore>, audit: Arc<dyn AuditSink>) -> Self {
        Self {
            store,
            audit,
            clock: Arc::new(SystemClock),
        }
    }

    /// Reads time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Records a fired trigger: extends the active incident with the same key, or opens one.
    pub fn raise(&self, signal: &IncidentSignal) -> Result<Raised, IncidentError> {
        let now = self.clock.now();
        self.store.write(|tx| {
            let entry = TimelineEntry {
                at: now,
                event: signal.event.clone(),
                by: Some(SYSTEM_ACTOR.into()),
            };
            let (incident, opened) = match rows::active_for_key(tx, &signal.key)? {
                Some(mut incident) => {
                    incident.severity = incident.severity.max(signal.severity);
                    union(&mut incident.ai_system_ids, &signal.ai_system_ids);
                    union(&mut incident.audit_indices, &signal.audit_indices);
                    incident.audit_indices.sort_unstable();
                    incident.timeline.push(entry);
                    if let Some(kind) = signal.serious_kind.filter(|_| !incident.serious) {
                        mark_serious(&mut incident, kind, now);
                    }
                    rows::update(tx, &incident)?;
                    (incident, false)
                }
                None => {
                    let mut incident = Incident {
                        id: rows::next_id(tx, now.year())?,
                        title: signal.title.clone(),
                        ai_system_ids: signal.ai_system_ids.clone(),
                        severity: signal.severity,
                        status: IncidentStatus::Open,
                        detected_at: now,
                        aware_at: None,
                        serious: false,
                        serious_kind: None,
                        reported_at: None,
                        timeline: vec![entry],
                        audit_indices: signal.audit_indices.clone(),
                        root_cause: None,
                        corrective_action_ids: Vec::new(),
                    };
                    if let Some(kind) = signal.serious_kind {
                        mark_serious(&mut incident, kind, now);
                    }
                    rows::insert(tx, &signal.key, &incident)?;
                    (incident, true)
                }
            };
            self.record(
                &incident,
                if opened { "opened" } else { "updated" },
                signal.event.clone(),
                signal.audit_indices.clone(),
            )?;
            Ok(Raised { incident, opened })
        })
    }

    /// Applies `update` to incident `id`, recording `by` as the author of its timeline entries.
    pub fn update(
        &self,
        id: &str,
        update: &IncidentUpdate,
        by: &str,
    ) -> Result<Incident, IncidentError> {
        let now = self.clock.now();
        let root_cause = update
            .root_cause
            .as_deref()
            .map(super::mask_free_text)
            .transpose()?;
        let note = update
            .note
            .as_deref()
            .map(super::mask_free_text)
            .transpose()?;
        self.store.write(|tx| {
            let mut incident =
                rows::load(tx, id)?.ok_or_else(|| IncidentError::Unknown(id.to_string()))?;
            let mut changes: Vec<String> = Vec::new();
            if let Some(severity) = update.severity.filter(|s| *s != incident.severity) {
                changes.push(format!("severity set to {}", severity_name(severity)));
                incident.severity = severity;
            }
            if let Some(cause) = root_cause {
                incident.root_cause = Some(cause);
                changes.push("root cause recorded".into());
            }
            for action in &update.corrective_action_ids {
                if !incident.corrective_action_ids.contains(action) {
                    incident.corrective_action_ids.push(action.clone());
                    changes.push(format!("corrective action {action} linked"));
                }
            }
            if let Some(kind) = update.serious_kind {
                mark_serious(&mut incident, kind, update.aware_at.unwrap_or(now));
                changes.push(format!(
                    "marked serious ({}); Art. 73 report due by {}",
                    serious_kind_name(kind),
                    rfc3339(incident.reporting_deadline())
                ));
            } else if let Some(aware_at) = update.aware_at {
                incident.aware_at = Some(aware_at);
                changes.push(format!("aware since {}", rfc3339(Some(aware_at))));
            }
            if let Some(reported_at) = update.reported_at {
                incident.reported_at = Some(reported_at);
                changes.push(format!("reported on {}", rfc3339(Some(reported_at))));
            }
            let mut step = "updated";
            if let Some(to) = update.status {
                lifecycle::check_transition(&incident, to)?;
                changes.push(format!(
                    "status {} -> {}",
                    lifecycle::status_name(incident.status),
                    lifecycle::status_name(to)
                ));
                incident.status = to;
                step = "status_changed";
            }
            if changes.is_empty() && note.is_none() {
                return Err(IncidentError::EmptyUpdate(id.to_string()));
            }
            let summary = if changes.is_empty() {
                "note added".to_string()
            } else {
                changes.join("; ")
            };
            let event = match &note {
                Some(note) if changes.is_empty() => note.clone(),
                Some(note) => format!("{summary}: {note}"),
                None => summary.clone(),
            };
            incident.timeline.push(TimelineEntry {
                at: now,
                event,
                by: Some(by.to_string()),
            });
            rows::update(tx, &incident)?;
            self.record(&incident, step, summary, Vec::new())?;
            Ok(incident)
        })
    }

    /// The incident with this id.
    pub fn get(&self, id: &str) -> Result<Incident, IncidentError> {
        self.store
            .read(|conn| rows::load(conn, id))?
            .ok_or_else(|| IncidentError::Unknown(id.to_string()))
    }

    /// Every incident, oldest first; only those in `status` when given.
    pub fn list(&self, status: Option<IncidentStatus>) -> Result<Vec<Incident>, IncidentError> {
        Ok(self.store.read(|conn| rows::list(conn, status))?)
    }

    fn record(
        &self,
        incident: &Incident,
        step: &str,
        summary: String,
        audit_indices: Vec<u64>,
    ) -> Result<(), IncidentError> {
        self.audit.append(AuditEvent::Incident(IncidentEvent {
            incident_id: incident.id.clone(),
            step: step.to_string(),
            summary,
            severity: severity_name(incident.severity).to_string(),
            audit_indices,
        }))?;
        Ok(())
    }
}

/// Marks an incident serious: the Art. 73 clock runs from `aware_at` (kept when already set).
fn mark_serious(incident: &mut Incident, kind: SeriousIncidentKind, aware_at: OffsetDateTime) {
    incident.serious = true;
    incident.serious_kind = Some(kind);
    incident.aware_at = Some(incident.aware_at.unwrap_or(aware_at));
}

fn union<T: PartialEq + Clone>(into: &mut Vec<T>, more: &[T]) {
    for item in more {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

/// The snake_case name of a severity, as in the register.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

fn serious_kind_name(kind: SeriousIncidentKind) -> &'static str {
    match kind {
        SeriousIncidentKind::Death => "death",
        SeriousIncidentKind::WidespreadOrCriticalInfrastructure => {
            "widespread_or_critical_infrastructure"
        }
        SeriousIncidentKind::Other => "other",
    }
}

fn rfc3339(at: Option<OffsetDateTime>) -> String {
    at.and_then(|at| {
        at.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_else(|| "-".into())
}
