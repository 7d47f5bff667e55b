//! Internal audits (clause 9.2) and management reviews (clause 9.3): the AIMS checking itself.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::datetime::calendar_date;

/// One internal audit of the AIMS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InternalAudit {
    /// Stable identifier, e.g. `IA-2026-1`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// What the audit covers.
    pub scope: String,
    /// The clauses and Annex A controls audited against.
    pub requirement_ids: Vec<String>,
    /// Who audits (objective and impartial, 9.2.2).
    pub auditor: String,
    /// When it is planned (YYYY-MM-DD).
    #[serde(with = "calendar_date")]
    #[schemars(with = "String", extend("format" = "date"))]
    pub planned_for: Date,
    /// When it was carried out (RFC 3339).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub conducted_at: Option<OffsetDateTime>,
    /// Where it stands.
    pub status: AuditStatus,
    /// What it found.
    #[serde(default)]
    pub findings: Vec<AuditFinding>,
}

/// Internal audit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditStatus {
    /// Scheduled.
    Planned,
    /// Being carried out.
    InProgress,
    /// Finished and reported.
    Completed,
}

/// One finding of an internal audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditFinding {
    /// What kind of finding.
    pub kind: FindingKind,
    /// What was found.
    pub description: String,
    /// The clause or control concerned.
    pub requirement_id: String,
    /// The nonconformity raised for it, when `kind` is `nonconformity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonconformity_id: Option<String>,
}

/// Kinds of audit finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A requirement is not met.
    Nonconformity,
    /// Not a nonconformity yet, but could become one.
    Observation,
    /// A way to do better.
    OpportunityForImprovement,
}

/// One management review of the AIMS by top management.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagementReview {
    /// Stable identifier, e.g. `MR-2026-1`.
    pub id: String,
    /// When it was held (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub held_at: OffsetDateTime,
    /// Who chaired it.
    pub chair: String,
    /// Who took part.
    pub attendees: Vec<String>,
    /// The inputs clause 9.3.2 requires.
    pub inputs: ReviewInputs,
    /// The decisions taken (9.3.3).
    pub decisions: Vec<ReviewDecision>,
    /// Incidents discussed.
    #[serde(default)]
    pub incident_ids: Vec<String>,
    /// Internal audits whose results were considered.
    #[serde(default)]
    pub internal_audit_ids: Vec<String>,
    /// Nonconformities discussed.
    #[serde(default)]
    pub nonconformity_ids: Vec<String>,
    /// When the next review is due (YYYY-MM-DD).
    #[serde(with = "calendar_date")]
    #[schemars(with = "String", extend("format" = "date"))]
    pub next_review: Date,
}

/// The management review inputs of clause 9.3.2, in its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInputs {
    /// a) The status of actions from previous management reviews.
    pub previous_actions: String,
    /// b) Changes in external and internal issues relevant to the AIMS.
    pub issue_changes: String,
    /// c) Changes in needs and expectations of interested parties relevant to the AIMS.
    pub interested_party_changes: String,
    /// d) Information on the AIMS performance, with trends.
    pub performance: PerformanceInputs,
    /// e) Opportunities for continual improvement.
    pub improvement_opportunities: String,
}

/// Clause 9.3.2 d): trends in the AIMS performance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceInputs {
    /// Nonconformities and corrective actions.
    pub nonconformities_and_corrective_actions: String,
    /// Monitoring and measurement results.
    pub monitoring_and_measurement: String,
    /// Audit results.
    pub audit_results: String,
}

/// One decision of a management review (9.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDecision {
    /// What the decision is about.
    pub kind: ReviewDecisionKind,
    /// The decision.
    pub description: String,
    /// Who carries it out.
    pub owner: String,
    /// When it is due (YYYY-MM-DD).
    #[serde(
        default,
        with = "calendar_date::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date"))]
    pub due: Option<Date>,
}

/// What a management review decision is about (9.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecisionKind {
    /// A continual improvement opportunity.
    ContinualImprovement,
    /// A change to the AIMS.
    ChangeToAims,
    /// Resources needed.
    Resources,
}
