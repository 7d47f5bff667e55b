//! JSON Schemas (2020-12) of every top-level type (the register's sections, the policy, the
//! evidence pack), generated from the Rust types with schemars: the doc comment of every field
//! becomes its description. The committed copies in `schemas/` are checked against these by a
//! test, so they cannot drift from the code. It sits above the modules whose types it lists.

use schemars::{schema_for, Schema};

use crate::catalog::Catalog;
use crate::model::{
    AiPolicy, AiSystem, CorrectiveAction, Evidence, ImpactAssessment, Incident, InternalAudit,
    ManagementReview, Nonconformity, OversightCheckpoint, Register, Risk, RiskCriteria, SoaEntry,
};
use crate::policy::policy_schema;
use crate::report::EvidencePack;

/// One top-level type and its schema.
#[derive(Debug, Clone)]
pub struct NamedSchema {
    /// The type's file-friendly name, e.g. `oversight_checkpoint`; the schema file is
    /// `<name>.schema.json`.
    pub name: &'static str,
    /// The schema.
    pub schema: Schema,
}

impl NamedSchema {
    /// The file name of the committed copy.
    pub fn file_name(&self) -> String {
        format!("{}.schema.json", self.name)
    }

    /// The schema as pretty JSON with a final newline, exactly as committed.
    pub fn to_pretty_json(&self) -> String {
        // A Schema is a JSON value; serializing one cannot fail.
        let mut text = serde_json::to_string_pretty(self.schema.as_value()).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The schemas of every top-level type: the whole register, each section's item type, the
/// catalog, and the evidence pack's `evidence.json`.
pub fn schemas() -> Vec<NamedSchema> {
    let named = |name, schema| NamedSchema { name, schema };
    vec![
        named("register", schema_for!(Register)),
        named("ai_policy", schema_for!(AiPolicy)),
        named("risk_criteria", schema_for!(RiskCriteria)),
        named("ai_system", schema_for!(AiSystem)),
        named("soa_entry", schema_for!(SoaEntry)),
        named("risk", schema_for!(Risk)),
        named("impact_assessment", schema_for!(ImpactAssessment)),
        named("oversight_checkpoint", schema_for!(OversightCheckpoint)),
        named("incident", schema_for!(Incident)),
        named("nonconformity", schema_for!(Nonconformity)),
        named("corrective_action", schema_for!(CorrectiveAction)),
        named("internal_audit", schema_for!(InternalAudit)),
        named("management_review", schema_for!(ManagementReview)),
        named("evidence", schema_for!(Evidence)),
        named("catalog", schema_for!(Catalog)),
        named("policy", policy_schema()),
        named("evidence_pack", schema_for!(EvidencePack)),
    ]
}

/// The schema of one type by name.
pub fn schema(name: &str) -> Option<NamedSchema> {
    schemas().into_iter().find(|schema| schema.name == name)
}
