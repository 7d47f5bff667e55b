//! aims-core: ISO/IEC 42001 AI management system requirements as controls that run.
//!
//! - [`model`]: the typed AIMS register (inventory, SoA, risks, incidents, reviews, evidence).
//! - [`catalog`]: clauses 4-10 and the 38 Annex A controls, shipped as data.
//! - [`policy`]: declarative guard policies, compiled once at load.
//! - [`guard`]: the fail-closed, in-process decision point for agent tool calls.
//! - [`audit`]: the append-only, tamper-evident, signed audit log.
//! - [`pii`]: validated PII and secret detection and masking.
//! - [`oversight`]: human approvals, incidents and anomaly monitoring.
//! - [`report`]: the Statement of Applicability, clause 9 metrics and the evidence pack.
//! - [`runtime`]: the assembled guard, log and stores that applications and bindings embed.

pub mod audit;
pub mod call;
pub mod canonical;
pub mod catalog;
pub mod guard;
pub mod model;
#[cfg(feature = "otel")]
pub mod otel;
pub mod oversight;
pub mod pii;
pub mod policy;
pub mod report;
pub mod runtime;
pub mod schema;
