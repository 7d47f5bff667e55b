//! AI system impact assessments (clause 6.1.4, A.5): who and what a system can affect, how
//! badly, how likely, what mitigates it, who approved the assessment and when it is next due.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::Date;

use super::datetime::calendar_date;
use super::scale::{Likelihood, Severity};
use super::signoff::SignOff;

/// One impact assessment of one AI system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactAssessment {
    /// Stable identifier, e.g. `IA-001`.
    pub id: String,
    /// The assessed AI system.
    pub ai_system_id: String,
    /// Individuals who can be affected (A.5.4), e.g. `customers`.
    #[serde(default)]
    pub affected_individuals: Vec<String>,
    /// Groups of individuals who can be affected (A.5.4), e.g. `customers with disabilities`.
    #[serde(default)]
    pub affected_groups: Vec<String>,
    /// Impacts on society (A.5.5).
    #[serde(default)]
    pub societal_impacts: Vec<String>,
    /// The kinds of harm considered.
    pub harm_categories: Vec<HarmCategory>,
    /// The severity of the worst credible harm.
    pub severity: Severity,
    /// The likelihood of that harm.
    pub likelihood: Likelihood,
    /// What reduces the impacts.
    #[serde(default)]
    pub mitigations: Vec<String>,
    /// Risks in the register that follow from this assessment.
    #[serde(default)]
    pub risk_ids: Vec<String>,
    /// Who approved the assessment, and when (A.5.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<SignOff>,
    /// When it must next be reviewed (YYYY-MM-DD).
    #[serde(with = "calendar_date")]
    #[schemars(with = "String", extend("format" = "date"))]
    pub next_review: Date,
}

/// Kinds of harm to individuals, groups or society.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HarmCategory {
    /// Loss of money or economic opportunity.
    Financial,
    /// Exposure of personal data or intrusion into private life.
    Privacy,
    /// Unfair or unequal treatment.
    Discrimination,
    /// Harm to physical health or safety.
    Physical,
    /// Distress, manipulation, loss of trust.
    Psychological,
    /// Decisions taken from people without their say.
    LossOfAutonomy,
    /// Harm to democratic processes, public information or social cohesion.
    Societal,
    /// Harm to the environment.
    Environmental,
    /// Anything else; say what in the assessment.
    Other,
}
