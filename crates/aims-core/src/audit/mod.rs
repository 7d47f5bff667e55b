//! The audit trail: the events the guard and oversight emit, the [`AuditSink`] they go to,
//! and the durable, tamper-evident log that implements it.
//!
//! The log format is specified in `docs/audit-format.md`:
//! - [`frame`]: `[length][crc32c][payload]` framing; [`record`]: the canonical JSON payload.
//! - [`merkle`]: the RFC 9162 tree and proofs; [`checkpoint`]: C2SP signed checkpoints;
//!   [`keys`]: Ed25519 note keys; [`trust`]: the endorsed key chain and the tail tags.
//! - [`AuditLog`]: the writer (durability, group commit, recovery, locking);
//!   [`verify()`]: offline verification; [`proof`]: portable proof documents.
//! - [`export`]: incremental evidence export from an offline device, checked by the collector.

pub mod checkpoint;
mod error;
mod event;
pub mod export;
mod files;
pub mod frame;
pub mod keys;
mod log;
pub mod merkle;
pub mod proof;
pub mod receipt;
pub mod record;
pub mod scan;
mod sink;
pub mod tiles;
pub mod trust;
mod verify;
pub mod witness;

pub use error::{AuditError, Integrity};
pub use event::{
    AnomalyEvent, ApprovalEvent, AuditEvent, CheckpointEvent, DecisionEvent, IncidentEvent,
    KeyRotatedEvent, OutcomeEvent, OutcomeStatus, PolicyLoadedEvent, RecoveredEvent,
};
pub use export::{AuditExport, ExportReport, EXPORT_FORMAT};
pub use files::{GENERATED_KEY, SECRET};
pub use log::{AuditLog, Durability, LogOptions, OpenReport};
pub use sink::{AuditSink, MemorySink, SinkError, MEMORY_SINK_EVENTS};
pub use verify::{for_each_record, verify, verify_each, LogSnapshot, VerifyOptions, VerifyReport};
