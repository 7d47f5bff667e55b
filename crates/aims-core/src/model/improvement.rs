//! Nonconformities and corrective actions (clause 10.2): what did not meet a requirement, why,
//! and what is done so it does not happen again.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::datetime::calendar_date;
use super::signoff::SignOff;

/// A failure to meet a requirement of the standard, a control or the organization's own rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nonconformity {
    /// Stable identifier, e.g. `NC-001`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// What was found.
    pub description: String,
    /// How it was found.
    pub source: NonconformitySource,
    /// The incident or internal audit it came from, by id, when `source` is one of those.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// The clauses (e.g. `8.1`) and Annex A controls (e.g. `A.9.2`) not met.
    #[serde(default)]
    pub requirement_ids: Vec<String>,
    /// When it was found (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub detected_at: OffsetDateTime,
    /// Why it happened, once analysed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    /// Where it stands.
    pub status: NonconformityStatus,
    /// The corrective actions that address it.
    #[serde(default)]
    pub corrective_action_ids: Vec<String>,
}

/// How a nonconformity was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NonconformitySource {
    /// An incident (`source_id` names it).
    Incident,
    /// An internal audit (`source_id` names it).
    InternalAudit,
    /// A management review.
    ManagementReview,
    /// Monitoring and measurement (9.1).
    Monitoring,
    /// A complaint or report of concern (A.3.3).
    Complaint,
    /// An external audit or authority.
    External,
}

/// Nonconformity status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NonconformityStatus {
    /// Recorded, not yet analysed.
    Open,
    /// Corrective action under way.
    InProgress,
    /// Corrective action taken and found effective.
    Closed,
}

/// An action that removes the cause of a nonconformity or incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectiveAction {
    /// Stable identifier, e.g. `CA-001`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// What will be done.
    pub description: String,
    /// The nonconformities it addresses.
    #[serde(default)]
    pub nonconformity_ids: Vec<String>,
    /// The incidents it addresses.
    #[serde(default)]
    pub incident_ids: Vec<String>,
    /// Who does it.
    pub owner: String,
    /// When it is due (YYYY-MM-DD).
    #[serde(with = "calendar_date")]
    #[schemars(with = "String", extend("format" = "date"))]
    pub due: Date,
    /// Where it stands.
    pub status: ActionStatus,
    /// When it was done (RFC 3339).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub completed_at: Option<OffsetDateTime>,
    /// The review that found it effective (10.2 f), once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effectiveness_review: Option<SignOff>,
}

/// Corrective action status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Agreed, not started.
    Planned,
    /// Being done.
    InProgress,
    /// Done, effectiveness not yet reviewed.
    Done,
    /// Done and found effective.
    Verified,
}
