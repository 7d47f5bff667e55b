//! The AI system inventory (clause 4.3, A.4, A.9.4, A.10.3): what each system is for, who owns
//! it, where it is in its life cycle, which models, data, suppliers, agents and tools it uses.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One inventoried AI system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiSystem {
    /// Stable identifier referenced by risks, incidents and checkpoints, e.g. `cs-assistant`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// What the system does.
    pub description: String,
    /// The intended purpose and the uses it is not meant for (A.9.4).
    pub intended_purpose: String,
    /// The accountable owner (a person or role).
    pub owner: String,
    /// The organization's role for this system.
    pub org_role: OrgRole,
    /// Where the system is in its life cycle.
    pub lifecycle_phase: LifecyclePhase,
    /// The EU AI Act risk tier.
    pub eu_risk_class: EuRiskClass,
    /// How much the system acts on its own.
    pub autonomy: AutonomyLevel,
    /// The AI models the system uses (A.4.2).
    #[serde(default)]
    pub models: Vec<Component>,
    /// Other software components: frameworks, vector stores, guard libraries (A.4.4).
    #[serde(default)]
    pub components: Vec<Component>,
    /// The categories of data the system processes (A.4.3, A.7).
    #[serde(default)]
    pub data_categories: Vec<DataCategory>,
    /// Third parties supplying models, services or data (A.10.3).
    #[serde(default)]
    pub suppliers: Vec<Supplier>,
    /// The agent ids (OpenTelemetry `gen_ai.agent.id`) that act for this system.
    #[serde(default)]
    pub agent_ids: Vec<String>,
    /// The names of the tools its agents may call (`gen_ai.tool.name`).
    #[serde(default)]
    pub tools: Vec<String>,
}

/// The organization's role for an AI system, as in ISO/IEC 42001 4.1 and the EU AI Act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    /// The organization develops the system and places it on the market or puts it in service.
    Provider,
    /// The organization uses a system under its authority.
    Deployer,
    /// Both provider and deployer.
    Both,
}

/// AI system life cycle stages (after ISO/IEC 22989).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LifecyclePhase {
    /// Idea, objectives and feasibility.
    Inception,
    /// Design and development, including data preparation and training.
    DesignAndDevelopment,
    /// Verification and validation before release.
    VerificationAndValidation,
    /// Being deployed.
    Deployment,
    /// In production, operated and monitored.
    OperationAndMonitoring,
    /// Being re-evaluated after a change or incident.
    ReEvaluation,
    /// Withdrawn from service.
    Retirement,
}

/// EU AI Act risk tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EuRiskClass {
    /// A prohibited practice (Art. 5).
    Prohibited,
    /// High-risk (Art. 6, Annex III).
    High,
    /// Transparency obligations only (Art. 50).
    Limited,
    /// No specific obligations.
    Minimal,
}

/// How much an AI system acts without a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AutonomyLevel {
    /// Suggests only; a human takes every action.
    Assistive,
    /// Acts, but a human approves each consequential action before it runs.
    HumanInTheLoop,
    /// Acts on its own under human monitoring with the ability to intervene.
    HumanOnTheLoop,
    /// Acts on its own without routine human monitoring.
    Autonomous,
}

/// A model or software component, identified by provider, name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Who provides it (a supplier or `internal`).
    pub provider: String,
    /// Its name.
    pub name: String,
    /// The version or snapshot in use.
    pub version: String,
}

/// A category of data an AI system processes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataCategory {
    /// The category, e.g. `order history`.
    pub name: String,
    /// Whether it contains personal data.
    pub personal_data: bool,
    /// Where it comes from and what it is used for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A third party supplying something to an AI system (A.10.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    /// The supplier's name.
    pub name: String,
    /// What it supplies (a model API, hosting, data).
    pub provides: String,
    /// The agreement that allocates responsibilities (A.10.2), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
}
