//! The AIMS register: typed models of an ISO/IEC 42001 AI management system.
//!
//! One module per concept. Every type derives Serialize, Deserialize and JsonSchema, rejects
//! unknown fields and documents each field (the documentation becomes the schema's
//! description). Enums serialize in snake_case.

pub mod ai_policy;
pub mod ai_system;
pub mod audit_review;
pub mod datetime;
pub mod evidence;
pub mod finding;
pub mod impact;
pub mod improvement;
pub mod incident;
pub mod load;
pub mod oversight_checkpoint;
pub mod register;
pub mod risk;
pub mod risk_criteria;
pub mod scale;
pub mod signoff;
pub mod soa;
pub mod source_map;
pub mod validation;
pub mod yaml_bounds;

pub use ai_policy::AiPolicy;
pub use ai_system::{
    AiSystem, AutonomyLevel, Component, DataCategory, EuRiskClass, LifecyclePhase, OrgRole,
    Supplier,
};
pub use audit_review::{
    AuditFinding, AuditStatus, FindingKind, InternalAudit, ManagementReview, PerformanceInputs,
    ReviewDecision, ReviewDecisionKind, ReviewInputs,
};
pub use evidence::{Evidence, EvidenceStatus};
pub use finding::{Finding, FindingSeverity};
pub use impact::{HarmCategory, ImpactAssessment};
pub use improvement::{
    ActionStatus, CorrectiveAction, Nonconformity, NonconformitySource, NonconformityStatus,
};
pub use incident::{Incident, IncidentStatus, SeriousIncidentKind, TimelineEntry};
pub use load::{load_dir, LoadError, LoadedRegister, SourceFile, Sources};
pub use oversight_checkpoint::{CheckpointTrigger, OnTimeout, OversightCheckpoint};
pub use register::{Register, Section};
pub use risk::{Risk, RiskCategory, RiskStatus, Treatment};
pub use risk_criteria::{CriteriaError, Rating, RiskCriteria, RiskLevel};
pub use scale::{Likelihood, Severity};
pub use signoff::SignOff;
pub use soa::{BadImplementationRef, ImplementationRef, ImplementationStatus, SoaEntry};
pub use source_map::{Position, SourceMap, SyntaxError};
