//! The whole AIMS register: every section in one value.
//!
//! On disk a register is a directory with one file per section, named after the section
//! (`systems.yaml`, `soa.yaml`, `ai_policy.json`, ...); see [`Section`]. List sections hold a
//! YAML or JSON sequence; `ai_policy` and `risk_criteria` hold one object.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ai_policy::AiPolicy;
use super::ai_system::AiSystem;
use super::audit_review::{InternalAudit, ManagementReview};
use super::evidence::Evidence;
use super::impact::ImpactAssessment;
use super::improvement::{CorrectiveAction, Nonconformity};
use super::incident::Incident;
use super::oversight_checkpoint::OversightCheckpoint;
use super::risk::Risk;
use super::risk_criteria::RiskCriteria;
use super::soa::SoaEntry;

/// An ISO/IEC 42001 AI management system register.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// The AI policy (5.2, A.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_policy: Option<AiPolicy>,
    /// The risk criteria (6.1.2); the 5 x 5 default when absent.
    #[serde(default)]
    pub risk_criteria: RiskCriteria,
    /// The AI system inventory.
    #[serde(default)]
    pub systems: Vec<AiSystem>,
    /// The Statement of Applicability: one entry per Annex A control.
    #[serde(default)]
    pub soa: Vec<SoaEntry>,
    /// The AI risk register.
    #[serde(default)]
    pub risks: Vec<Risk>,
    /// AI system impact assessments.
    #[serde(default)]
    pub impact_assessments: Vec<ImpactAssessment>,
    /// Human oversight checkpoints.
    #[serde(default)]
    pub oversight: Vec<OversightCheckpoint>,
    /// Incidents.
    #[serde(default)]
    pub incidents: Vec<Incident>,
    /// Nonconformities.
    #[serde(default)]
    pub nonconformities: Vec<Nonconformity>,
    /// Corrective actions.
    #[serde(default)]
    pub corrective_actions: Vec<CorrectiveAction>,
    /// Internal audits.
    #[serde(default)]
    pub internal_audits: Vec<InternalAudit>,
    /// Management reviews.
    #[serde(default)]
    pub management_reviews: Vec<ManagementReview>,
    /// Evidence items.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

impl Register {
    /// The AI system with this id.
    pub fn system(&self, id: &str) -> Option<&AiSystem> {
        self.systems.iter().find(|system| system.id == id)
    }

    /// The oversight checkpoint with this id.
    pub fn checkpoint(&self, id: &str) -> Option<&OversightCheckpoint> {
        self.oversight.iter().find(|checkpoint| checkpoint.id == id)
    }

    /// The incident with this id.
    pub fn incident(&self, id: &str) -> Option<&Incident> {
        self.incidents.iter().find(|incident| incident.id == id)
    }

    /// The SoA entry for this control.
    pub fn soa_entry(&self, control_id: &str) -> Option<&SoaEntry> {
        self.soa.iter().find(|entry| entry.control_id == control_id)
    }
}

/// A register section and the file that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// `ai_policy`: one [`AiPolicy`].
    AiPolicy,
    /// `risk_criteria`: one [`RiskCriteria`].
    RiskCriteria,
    /// `systems`: [`AiSystem`]s.
    Systems,
    /// `soa`: [`SoaEntry`]s.
    Soa,
    /// `risks`: [`Risk`]s.
    Risks,
    /// `impact_assessments`: [`ImpactAssessment`]s.
    ImpactAssessments,
    /// `oversight`: [`OversightCheckpoint`]s.
    Oversight,
    /// `incidents`: [`Incident`]s.
    Incidents,
    /// `nonconformities`: [`Nonconformity`]s.
    Nonconformities,
    /// `corrective_actions`: [`CorrectiveAction`]s.
    CorrectiveActions,
    /// `internal_audits`: [`InternalAudit`]s.
    InternalAudits,
    /// `management_reviews`: [`ManagementReview`]s.
    ManagementReviews,
    /// `evidence`: [`Evidence`] items.
    Evidence,
}

impl Section {
    /// Every section, in the order a register is read and reported.
    pub const ALL: [Section; 13] = [
        Section::AiPolicy,
        Section::RiskCriteria,
        Section::Systems,
        Section::Soa,
        Section::Risks,
        Section::ImpactAssessments,
        Section::Oversight,
        Section::Incidents,
        Section::Nonconformities,
        Section::CorrectiveActions,
        Section::InternalAudits,
        Section::ManagementReviews,
        Section::Evidence,
    ];

    /// The section's name: the register field and the file stem.
    pub fn name(self) -> &'static str {
        match self {
            Section::AiPolicy => "ai_policy",
            Section::RiskCriteria => "risk_criteria",
            Section::Systems => "systems",
            Section::Soa => "soa",
            Section::Risks => "risks",
            Section::ImpactAssessments => "impact_assessments",
            Section::Oversight => "oversight",
            Section::Incidents => "incidents",
            Section::Nonconformities => "nonconformities",
            Section::CorrectiveActions => "corrective_actions",
            Section::InternalAudits => "internal_audits",
            Section::ManagementReviews => "management_reviews",
            Section::Evidence => "evidence",
        }
    }

    /// The section with this name.
    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL
            .into_iter()
            .find(|section| section.name() == name)
    }
}
