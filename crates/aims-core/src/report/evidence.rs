//! The evidence pack's content (`evidence.json`, with a published JSON Schema): what the HTML
//! page and the OSCAL files are rendered from.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Everything an auditor needs from one report run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidencePack {
    /// When the pack was generated (RFC 3339).
    pub generated_at: String,
    /// The first day covered (inclusive), when limited.
    pub period_from: Option<String>,
    /// The last day covered (inclusive), when limited.
    pub period_to: Option<String>,
    /// The AI systems in scope (the inventory).
    pub systems: Vec<SystemRow>,
    /// The Statement of Applicability, one row per Annex A control, with runtime evidence.
    pub soa: Vec<SoaRow>,
    /// The risk register with computed levels.
    pub risks: Vec<RiskRow>,
    /// The impact assessments.
    pub impact_assessments: Vec<ImpactRow>,
    /// Incidents with their EU AI Act Art. 73 deadlines.
    pub incidents: Vec<IncidentRow>,
    /// Clause 9.1 metrics from the audit logs.
    pub metrics: Metrics,
    /// The verification of every audit log against the trusted key.
    pub logs: Vec<LogVerification>,
    /// What is missing or overdue.
    pub gaps: Vec<Gap>,
}

/// One AI system of the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemRow {
    /// Inventory id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Intended purpose (A.9.4).
    pub intended_purpose: String,
    /// Provider, deployer or both.
    pub org_role: String,
    /// EU AI Act risk class.
    pub eu_risk_class: String,
    /// Life-cycle phase.
    pub lifecycle_phase: String,
    /// Agents that act for it.
    pub agent_ids: Vec<String>,
    /// Tools it uses.
    pub tools: Vec<String>,
}

/// One SoA row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoaRow {
    /// Annex A control id.
    pub control_id: String,
    /// Its short title.
    pub title: String,
    /// Included in the AIMS.
    pub applicable: bool,
    /// Implementation status.
    pub status: String,
    /// Why it is included or excluded.
    pub justification: String,
    /// Policy rules and procedures that implement it.
    pub implemented_by: Vec<String>,
    /// Documentary evidence ids.
    pub evidence_ids: Vec<String>,
    /// Audit records in the period that name this control (decisions by its rules, approvals
    /// for A.9, incidents for A.8.4, every record for A.6.2.8).
    pub runtime_records: u64,
}

/// One risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskRow {
    /// Risk id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Inherent likelihood (1-based).
    pub likelihood: u8,
    /// Inherent impact (1-based).
    pub impact: u8,
    /// Inherent level name.
    pub inherent_level: String,
    /// Residual level name, when assessed.
    pub residual_level: Option<String>,
    /// Treatment.
    pub treatment: String,
    /// Status.
    pub status: String,
    /// Controls treating it.
    pub control_ids: Vec<String>,
}

/// One impact assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactRow {
    /// Assessment id.
    pub id: String,
    /// The AI system assessed.
    pub ai_system_id: String,
    /// Severity of the harms.
    pub severity: String,
    /// Groups affected.
    pub affected_groups: Vec<String>,
    /// Next review date.
    pub next_review: String,
}

/// One incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentRow {
    /// Incident id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: String,
    /// Status.
    pub status: String,
    /// Serious incident (EU AI Act Art. 3(49)).
    pub serious: bool,
    /// The Art. 73 reporting deadline, for serious incidents.
    pub reporting_deadline: Option<String>,
    /// When it was reported, if it was.
    pub reported_at: Option<String>,
    /// Corrective actions linked.
    pub corrective_action_ids: Vec<String>,
    /// Where it came from: the register or a runtime oversight store.
    pub source: String,
}

/// Clause 9.1 metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Audit records in the period.
    pub records: u64,
    /// Pre-call decisions.
    pub decisions: u64,
    /// Pre-call decisions by verdict.
    pub by_verdict: BTreeMap<String, u64>,
    /// Pre-call decisions per day (YYYY-MM-DD) and verdict.
    pub by_day: BTreeMap<String, BTreeMap<String, u64>>,
    /// Rules behind blocked calls, most first.
    pub top_blocking_rules: Vec<RuleCount>,
    /// Approval steps by name.
    pub approval_steps: BTreeMap<String, u64>,
    /// Median seconds from request to decision.
    pub approval_latency_median_s: Option<f64>,
    /// 95th percentile seconds from request to decision.
    pub approval_latency_p95_s: Option<f64>,
    /// Masked values by entity type.
    pub redactions_by_entity: BTreeMap<String, u64>,
    /// Anomaly alerts raised.
    pub anomaly_alerts: u64,
    /// Incident records in the logs.
    pub incident_records: u64,
    /// Calls that ran and returned.
    pub outcomes_ok: u64,
    /// Calls that ran and failed.
    pub outcomes_error: u64,
}

/// A rule and how many blocked calls it caused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleCount {
    /// Rule id.
    pub rule_id: String,
    /// Blocked calls.
    pub count: u64,
}

/// The verification of one log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogVerification {
    /// The log directory.
    pub dir: String,
    /// True when the log is intact and consistent with its signed checkpoint.
    pub intact: bool,
    /// Records in the log.
    pub records: u64,
    /// The signed checkpoint it was checked against (the note text).
    pub checkpoint: Option<String>,
    /// True when the key came from the log itself rather than from the auditor.
    pub key_from_log: bool,
    /// What is wrong, when it is not intact.
    pub problem: Option<String>,
}

/// Something missing or overdue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    /// Stable code, e.g. `control.no_evidence` or a register finding code.
    pub code: String,
    /// Error (blocks certification) or warning.
    pub severity: String,
    /// What it is about (a control, a review, a nonconformity).
    pub subject: String,
    /// In words.
    pub message: String,
}
