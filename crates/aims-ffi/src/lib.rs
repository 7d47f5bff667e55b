//! aims-ffi: the Kotlin and Swift face of aims, made with uniffi proc-macros (no UDL).
//!
//! Thin by design: every decision, record, proof and mask comes from `aims-core`; this crate
//! converts types (JSON values cross as JSON text), maps errors to one [`AimsError`] enum and
//! adapts calling conventions.
//!
//! - [`guard`]: the [`Guard`] object, opened from a [`GuardConfig`] with the app's own paths.
//! - [`call`] and [`decision`]: the records for tool calls and decisions.
//! - [`audit`]: the [`AuditLog`] object (proofs, checkpoints, incremental export) and the
//!   offline checks a collector runs ([`verify_audit_log`], [`verify_export`], ...).
//! - [`approvals`]: the [`Approvals`] object, the approval request records and the
//!   [`ApprovalListener`] callback interface the app implements.
//! - [`incidents`]: the [`Incidents`] object and the incident records.
//! - [`pii`]: the [`Scanner`] object (scan and mask text and JSON).
//! - [`error`]: [`AimsError`], with the policy error's file, line and column kept.

uniffi::setup_scaffolding!();

pub mod approvals;
pub mod audit;
pub mod call;
pub mod decision;
pub mod error;
pub mod guard;
pub mod incidents;
mod json;
pub mod pii;

pub use approvals::{
    ApprovalListener, ApprovalNotice, ApprovalRequest, ApprovalStatus, ApprovalStep, ApprovalVote,
    Approvals, ListenerError, OnTimeout, Vote,
};
pub use audit::{
    verify_audit_log, verify_consistency_proof, verify_export, verify_inclusion_proof, AuditLog,
};
pub use call::ToolCall;
pub use decision::{Decision, Phase, Reason, Redaction, Verdict};
pub use error::AimsError;
pub use guard::{Durability, Guard, GuardConfig, ManualClock, Outcome};
pub use incidents::{
    Incident, IncidentStatus, IncidentUpdate, Incidents, SeriousIncidentKind, Severity,
    TimelineEntry,
};
pub use pii::Scanner;
