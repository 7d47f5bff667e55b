//! Where audit events go. The guard writes every decision and outcome to a sink before the
//! call runs; if the sink fails, the call is denied.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::Value;

use super::AuditEvent;
use crate::canonical::KeyedHasher;

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

/// How many events the in-memory sink of a guard or runtime without a durable log keeps: the
/// recent past for inspection, at a few kilobytes each, not a record of everything.
pub const MEMORY_SINK_EVENTS: usize = 10_000;

/// An in-memory sink: keeps events in order. For tests and embedding without a durable log.
/// [`MemorySink::new`] keeps every event; [`MemorySink::bounded`] keeps only the newest, so a
/// long-running agent without a durable log does not grow without bound.
#[derive(Debug)]
pub struct MemorySink {
    state: Mutex<Kept>,
    /// The most events kept; `None` keeps every one.
    capacity: Option<usize>,
    hasher: KeyedHasher,
}

impl Default for MemorySink {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            capacity: None,
            hasher: KeyedHasher::new(&[0; 32]),
        }
    }
}

#[derive(Debug, Default)]
struct Kept {
    events: VecDeque<AuditEvent>,
    /// Events appended so far, kept or not: the next event's index.
    appended: u64,
}

impl MemorySink {
    /// An empty sink that keeps every event, with a fixed secret (memory sinks prove nothing
    /// to outsiders).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty sink that keeps the newest `capacity` events; indexes go on counting.
    pub fn bounded(capacity: usize) -> Self {
        Self {
            capacity: Some(capacity),
            ..Self::default()
        }
    }

    /// A copy of the events kept, oldest first.
    pub fn events(&self) -> Vec<AuditEvent> {
        let kept = match self.state.lock() {
            Ok(kept) => kept,
            Err(poisoned) => poisoned.into_inner(),
        };
        kept.events.iter().cloned().collect()
    }
}

impl AuditSink for MemorySink {
    fn append(&self, event: AuditEvent) -> Result<u64, SinkError> {
        let mut kept = self
            .state
            .lock()
            .map_err(|_| SinkError::Failed("memory sink lock poisoned".into()))?;
        if self
            .capacity
            .is_some_and(|capacity| kept.events.len() >= capacity)
        {
            kept.events.pop_front();
        }
        if self.capacity != Some(0) {
            kept.events.push_back(event);
        }
        kept.appended += 1;
        Ok(kept.appended - 1)
    }

    fn keyed_hash(&self, raw: &Value) -> String {
        self.hasher.hash(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{OutcomeEvent, OutcomeStatus};

    fn outcome(n: u64) -> AuditEvent {
        AuditEvent::Outcome(OutcomeEvent {
            decision_id: format!("d{n}"),
            agent_id: "agent".into(),
            tool: "tool".into(),
            call_id: None,
            status: OutcomeStatus::Ok,
            error: None,
            duration_us: n,
        })
    }

    #[test]
    fn a_bounded_sink_keeps_the_newest_events_and_counts_on() {
        let sink = MemorySink::bounded(3);
        let indexes: Vec<u64> = (0..5).map(|n| sink.append(outcome(n)).unwrap()).collect();
        assert_eq!(indexes, [0, 1, 2, 3, 4]);
        assert_eq!(sink.events(), [outcome(2), outcome(3), outcome(4)]);

        let unbounded = MemorySink::new();
        for n in 0..5 {
            unbounded.append(outcome(n)).unwrap();
        }
        assert_eq!(unbounded.events().len(), 5);
    }
}
