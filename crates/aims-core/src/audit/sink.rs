//! Where audit events go. The guard writes every decision and outcome to a sink before the
//! call runs; if the sink fails, the call is denied.

use std::sync::Mutex;

use serde_json::Value;

use super::AuditEvent;

/// Why a sink could not take an event. Any such error makes the guard deny.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The sink failed before and refuses further events (e.g. an fsync error).
    #[error("audit sink is failed and refuses appends: {0}")]
    Failed(String),
    /// An I/O error while writing.
    #[error("audit sink I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The event could not be encoded.
    #[error("audit event could not be encoded: {0}")]
    Encode(String),
}

/// A destination for audit events: the durable log, or memory for tests and embedding.
pub trait AuditSink: Send + Sync {
    /// Appends one event and returns its index. Returns only once the event is as durable as
    /// the sink promises.
    fn append(&self, event: AuditEvent) -> Result<u64, SinkError>;

    /// The keyed hash (hex HMAC-SHA256 with the sink's secret) of a raw value, recorded in
    /// place of the raw arguments.
    fn keyed_hash(&self, raw: &Value) -> String;
}

/// An in-memory sink: keeps events in order. For tests and short-lived embedding.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<AuditEvent>>,
    secret: [u8; 32],
}

impl MemorySink {
    /// An empty sink with a fixed secret (memory sinks prove nothing to outsiders).
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every event appended so far, in order.
    pub fn events(&self) -> Vec<AuditEvent> {
        match self.events.lock() {
            Ok(events) => events.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl AuditSink for MemorySink {
    fn append(&self, event: AuditEvent) -> Result<u64, SinkError> {
        let mut events = self
            .events
            .lock()
            .map_err(|_| SinkError::Failed("memory sink lock poisoned".into()))?;
        events.push(event);
        Ok(events.len() as u64 - 1)
    }

    fn keyed_hash(&self, raw: &Value) -> String {
        crate::canonical::keyed_hash(&self.secret, raw)
    }
}
