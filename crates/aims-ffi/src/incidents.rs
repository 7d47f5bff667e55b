//! Incidents through the binding, over the runtime's oversight store: the incident records
//! (the register's form, with the EU AI Act Art. 73 reporting deadline computed) and the
//! [`Incidents`] object (list, get, update). Incidents are opened by the policy's incident
//! triggers when `Guard.check` decides; the lifecycle rules and PII masking are the core's.

use std::time::SystemTime;

use aims_core::model::incident as core_model;
use aims_core::model::Severity as CoreSeverity;
use aims_core::oversight::{self as core, IncidentUpdate as CoreUpdate};
use aims_core::runtime::Runtime;

use crate::error::AimsError;

/// Where an incident stands; it moves forward only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
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

/// How bad an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Severity {
    /// Little or no harm.
    Low,
    /// Noticeable harm to some individuals or the organization.
    Medium,
    /// Significant harm; needs management attention.
    High,
    /// Severe or irreversible harm; needs immediate action.
    Critical,
}

/// Which EU AI Act Art. 73 reporting deadline applies to a serious incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SeriousIncidentKind {
    /// The death of a person: 10 days after awareness.
    Death,
    /// A widespread infringement or a serious disruption of critical infrastructure: 2 days.
    WidespreadOrCriticalInfrastructure,
    /// Any other serious incident: 15 days.
    Other,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TimelineEntry {
    /// When.
    pub at: SystemTime,
    /// What happened (masked of PII).
    pub event: String,
    /// Who recorded it.
    pub by: Option<String>,
}

/// An incident, in the register's form.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Incident {
    /// Stable id, e.g. `INC-2026-001`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// The AI systems involved.
    pub ai_system_ids: Vec<String>,
    /// How bad it is.
    pub severity: Severity,
    /// Where it stands.
    pub status: IncidentStatus,
    /// When it was detected.
    pub detected_at: SystemTime,
    /// When the organization became aware it is (possibly) serious.
    pub aware_at: Option<SystemTime>,
    /// Whether it is a serious incident under EU AI Act Art. 3(49).
    pub serious: bool,
    /// For a serious incident: which deadline applies.
    pub serious_kind: Option<SeriousIncidentKind>,
    /// When it was reported to the market surveillance authority.
    pub reported_at: Option<SystemTime>,
    /// The Art. 73 reporting deadline, for a serious incident.
    pub reporting_deadline: Option<SystemTime>,
    /// What happened, in order.
    pub timeline: Vec<TimelineEntry>,
    /// The audit log records that show what happened.
    pub audit_indices: Vec<u64>,
    /// The root cause, once known.
    pub root_cause: Option<String>,
    /// Corrective actions of the register that address it.
    pub corrective_action_ids: Vec<String>,
}

/// A change to an incident; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct IncidentUpdate {
    /// A new status, checked against the lifecycle after the other changes (a major incident
    /// closes only with a root cause and a corrective action, a serious one once reported).
    #[uniffi(default)]
    pub status: Option<IncidentStatus>,
    /// A new severity.
    #[uniffi(default)]
    pub severity: Option<Severity>,
    /// The root cause (masked of PII before it is stored).
    #[uniffi(default)]
    pub root_cause: Option<String>,
    /// Corrective actions of the register to link (added to those linked).
    #[uniffi(default)]
    pub corrective_action_ids: Vec<String>,
    /// Marks the incident serious, with the deadline that applies.
    #[uniffi(default)]
    pub serious_kind: Option<SeriousIncidentKind>,
    /// When the organization became aware it is serious (now, when marked serious without).
    #[uniffi(default)]
    pub aware_at: Option<SystemTime>,
    /// When it was reported to the market surveillance authority.
    #[uniffi(default)]
    pub reported_at: Option<SystemTime>,
    /// A note for the timeline (masked of PII).
    #[uniffi(default)]
    pub note: Option<String>,
}

/// The incidents of a guard opened with an `approval_store_path`.
#[derive(Debug, uniffi::Object)]
pub struct Incidents {
    /// A runtime with an oversight store (checked by [`Incidents::of`]).
    runtime: Runtime,
}

impl Incidents {
    /// The incidents of `runtime`, when it has an oversight store.
    pub(crate) fn of(runtime: &Runtime) -> Option<Self> {
        runtime.supervisor()?;
        Some(Self {
            runtime: runtime.clone(),
        })
    }

    fn core(&self) -> Result<&core::Incidents, AimsError> {
        Ok(self.runtime.incidents()?)
    }
}

#[uniffi::export]
impl Incidents {
    /// Every incident, or those with `status`.
    #[uniffi::method(default(status = None))]
    pub fn list(&self, status: Option<IncidentStatus>) -> Result<Vec<Incident>, AimsError> {
        let incidents = self.core()?.list(status.map(Into::into))?;
        Ok(incidents.into_iter().map(Into::into).collect())
    }

    /// Incident `id`; throws `UnknownIncident` when there is none.
    pub fn get(&self, id: String) -> Result<Incident, AimsError> {
        Ok(self.core()?.get(&id)?.into())
    }

    /// Changes incident `id` as `by` and returns it; throws `IncidentRefused` when the
    /// lifecycle forbids the change or it changes nothing.
    pub fn update(
        &self,
        id: String,
        by: String,
        update: IncidentUpdate,
    ) -> Result<Incident, AimsError> {
        Ok(self.core()?.update(&id, &update.into(), &by)?.into())
    }
}

impl From<core_model::IncidentStatus> for IncidentStatus {
    fn from(status: core_model::IncidentStatus) -> Self {
        match status {
            core_model::IncidentStatus::Open => IncidentStatus::Open,
            core_model::IncidentStatus::Investigating => IncidentStatus::Investigating,
            core_model::IncidentStatus::Contained => IncidentStatus::Contained,
            core_model::IncidentStatus::Resolved => IncidentStatus::Resolved,
            core_model::IncidentStatus::Closed => IncidentStatus::Closed,
        }
    }
}

impl From<IncidentStatus> for core_model::IncidentStatus {
    fn from(status: IncidentStatus) -> Self {
        match status {
            IncidentStatus::Open => core_model::IncidentStatus::Open,
            IncidentStatus::Investigating => core_model::IncidentStatus::Investigating,
            IncidentStatus::Contained => core_model::IncidentStatus::Contained,
            IncidentStatus::Resolved => core_model::IncidentStatus::Resolved,
            IncidentStatus::Closed => core_model::IncidentStatus::Closed,
        }
    }
}

impl From<CoreSeverity> for Severity {
    fn from(severity: CoreSeverity) -> Self {
        match severity {
            CoreSeverity::Low => Severity::Low,
            CoreSeverity::Medium => Severity::Medium,
            CoreSeverity::High => Severity::High,
            CoreSeverity::Critical => Severity::Critical,
        }
    }
}

impl From<Severity> for CoreSeverity {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Low => CoreSeverity::Low,
            Severity::Medium => CoreSeverity::Medium,
            Severity::High => CoreSeverity::High,
            Severity::Critical => CoreSeverity::Critical,
        }
    }
}

impl From<core_model::SeriousIncidentKind> for SeriousIncidentKind {
    fn from(kind: core_model::SeriousIncidentKind) -> Self {
        match kind {
            core_model::SeriousIncidentKind::Death => SeriousIncidentKind::Death,
            core_model::SeriousIncidentKind::WidespreadOrCriticalInfrastructure => {
                SeriousIncidentKind::WidespreadOrCriticalInfrastructure
            }
            core_model::SeriousIncidentKind::Other => SeriousIncidentKind::Other,
        }
    }
}

impl From<SeriousIncidentKind> for core_model::SeriousIncidentKind {
    fn from(kind: SeriousIncidentKind) -> Self {
        match kind {
            SeriousIncidentKind::Death => core_model::SeriousIncidentKind::Death,
            SeriousIncidentKind::WidespreadOrCriticalInfrastructure => {
                core_model::SeriousIncidentKind::WidespreadOrCriticalInfrastructure
            }
            SeriousIncidentKind::Other => core_model::SeriousIncidentKind::Other,
        }
    }
}

impl From<core_model::Incident> for Incident {
    fn from(incident: core_model::Incident) -> Self {
        Self {
            reporting_deadline: incident.reporting_deadline().map(Into::into),
            id: incident.id,
            title: incident.title,
            ai_system_ids: incident.ai_system_ids,
            severity: incident.severity.into(),
            status: incident.status.into(),
            detected_at: incident.detected_at.into(),
            aware_at: incident.aware_at.map(Into::into),
            serious: incident.serious,
            serious_kind: incident.serious_kind.map(Into::into),
            reported_at: incident.reported_at.map(Into::into),
            timeline: incident
                .timeline
                .into_iter()
                .map(|entry| TimelineEntry {
                    at: entry.at.into(),
                    event: entry.event,
                    by: entry.by,
                })
                .collect(),
            audit_indices: incident.audit_indices,
            root_cause: incident.root_cause,
            corrective_action_ids: incident.corrective_action_ids,
        }
    }
}

impl From<IncidentUpdate> for CoreUpdate {
    fn from(update: IncidentUpdate) -> Self {
        Self {
            status: update.status.map(Into::into),
            severity: update.severity.map(Into::into),
            root_cause: update.root_cause,
            corrective_action_ids: update.corrective_action_ids,
            serious_kind: update.serious_kind.map(Into::into),
            aware_at: update.aware_at.map(Into::into),
            reported_at: update.reported_at.map(Into::into),
            note: update.note,
        }
    }
}
