//! AI risks (clauses 6.1.2, 6.1.3, 8.2, 8.3): what can go wrong with which system, how bad it
//! is before and after treatment, how it is treated and by which controls.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::Date;

use super::ai_system::LifecyclePhase;
use super::datetime::calendar_date;
use super::risk_criteria::{Rating, RiskCriteria, RiskLevel};
use super::signoff::SignOff;

/// One entry of the AI risk register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// Stable identifier, e.g. `R-001`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// What could happen, how, and to whom.
    pub description: String,
    /// The AI systems the risk concerns.
    pub ai_system_ids: Vec<String>,
    /// The life cycle phase in which the risk arises.
    pub lifecycle_phase: LifecyclePhase,
    /// What kind of risk it is.
    pub category: RiskCategory,
    /// Likelihood and impact before treatment.
    pub inherent: Rating,
    /// Likelihood and impact after treatment, once assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residual: Option<Rating>,
    /// How the risk is treated.
    pub treatment: Treatment,
    /// The Annex A controls that treat it.
    #[serde(default)]
    pub control_ids: Vec<String>,
    /// Who owns the risk.
    pub owner: String,
    /// Where the risk stands.
    pub status: RiskStatus,
    /// The risk owner's acceptance of the residual risk, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residual_acceptance: Option<SignOff>,
    /// When the risk must next be reviewed (YYYY-MM-DD).
    #[serde(with = "calendar_date")]
    #[schemars(with = "String", extend("format" = "date"))]
    pub review_due: Date,
}

impl Risk {
    /// The level of the inherent rating under the given criteria.
    pub fn inherent_level<'c>(&self, criteria: &'c RiskCriteria) -> Option<&'c RiskLevel> {
        criteria.level(self.inherent)
    }

    /// The level of the residual rating, when assessed.
    pub fn residual_level<'c>(&self, criteria: &'c RiskCriteria) -> Option<&'c RiskLevel> {
        self.residual.and_then(|rating| criteria.level(rating))
    }
}

/// Kinds of AI risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskCategory {
    /// Instructions smuggled into the model's input take over its behaviour.
    PromptInjection,
    /// Personal or confidential data reaches someone who should not have it.
    DataLeakage,
    /// The system takes an action it was not authorized to take.
    UnauthorizedAction,
    /// The system states false things as facts.
    Hallucination,
    /// Unfair treatment of individuals or groups.
    Bias,
    /// Attacks on the system or its supply chain.
    Security,
    /// Harm to health or safety.
    Safety,
    /// Failures under unexpected input or load.
    Robustness,
    /// People are not told enough to understand or contest the system.
    Transparency,
    /// Anything else; say what in the description.
    Other,
}

/// Risk treatment options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    /// Reduce likelihood or impact with controls.
    Mitigate,
    /// Retain the risk as it is.
    Accept,
    /// Stop the activity that causes it.
    Avoid,
    /// Share it with a third party (insurance, contract).
    Transfer,
}

/// Risk status, as in OSCAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskStatus {
    /// Identified, not yet worked on.
    Open,
    /// Being analysed.
    Investigating,
    /// Treatment under way.
    Remediating,
    /// A deviation from the treatment plan has been requested.
    DeviationRequested,
    /// A deviation has been approved.
    DeviationApproved,
    /// Treated and closed.
    Closed,
}
