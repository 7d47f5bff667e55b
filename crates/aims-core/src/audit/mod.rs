//! The audit trail: the events the guard and oversight emit, the [`AuditSink`] they go to,
//! and the durable, tamper-evident log that implements it.

mod event;
mod sink;

pub use event::{
    ApprovalEvent, AuditEvent, DecisionEvent, IncidentEvent, OutcomeEvent, OutcomeStatus,
    PolicyLoadedEvent,
};
pub use sink::{AuditSink, MemorySink, SinkError};
