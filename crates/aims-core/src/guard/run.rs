//! `Guard::run`, the guarded-call protocol for a tool that is a Rust closure, and the outcome
//! records every host writes after a call ran.

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Duration;

use serde_json::Value;

use super::mask::REDACTED;
use super::protocol::{self, CallError};
use super::{Decision, Guard, ToolCall};
use crate::audit::{AuditEvent, OutcomeEvent, OutcomeStatus, SinkError};

/// How a call that ran ended, as its caller observed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutcome {
    /// Ok or error.
    pub status: OutcomeStatus,
    /// The error message (masked before it is recorded).
    pub error: Option<String>,
    /// How long the tool ran.
    pub duration: Duration,
}

impl ToolOutcome {
    /// The tool returned normally after `duration`.
    pub fn ok(duration: Duration) -> Self {
        Self {
            status: OutcomeStatus::Ok,
            error: None,
            duration,
        }
    }

    /// The tool failed with `error` after `duration`.
    pub fn error(error: impl Into<String>, duration: Duration) -> Self {
        Self {
            status: OutcomeStatus::Error,
            error: Some(error.into()),
            duration,
        }
    }
}

/// Why [`Guard::run`] returned no result.
#[derive(Debug, thiserror::Error)]
pub enum RunError<E: fmt::Debug + fmt::Display> {
    /// The call may not run now (deny or require_approval); the tool was not called.
    #[error("call blocked by the guard: {}", .0.verdict.as_str())]
    Blocked(Box<Decision>),
    /// The tool ran and failed.
    #[error("tool failed: {0}")]
    Tool(E),
    /// The tool ran but its result may not be returned.
    #[error("result blocked by the guard: {}", .0.verdict.as_str())]
    ResultBlocked(Box<Decision>),
    /// The tool ran but its outcome could not be recorded, so its result is withheld.
    #[error("outcome could not be recorded: {0}")]
    Audit(SinkError),
}

impl<E: fmt::Debug + fmt::Display> RunError<E> {
    fn refused(err: CallError) -> Self {
        match err {
            CallError::Denied(decision) | CallError::ApprovalRequired { decision, .. } => {
                RunError::Blocked(decision)
            }
            CallError::ResultDenied(decision) => RunError::ResultBlocked(decision),
            CallError::OutcomeNotRecorded(err) => RunError::Audit(err),
        }
    }
}

impl Guard {
    /// Runs `tool` on the call's arguments only when the guard allows it (with what a `redact`
    /// decision names masked), records the decision before and the outcome after, then
    /// checks the result, which comes back masked as the result rules say.
    ///
    /// A panic in `tool` is recorded as an error outcome and then resumed.
    pub fn run<E, F>(&self, call: &ToolCall, tool: F) -> Result<Value, RunError<E>>
    where
        E: fmt::Debug + fmt::Display,
        F: FnOnce(Value) -> Result<Value, E>,
    {
        let guarded = protocol::admit(self, call.clone()).map_err(RunError::refused)?;
        let args = guarded.arguments().clone();
        match catch_unwind(AssertUnwindSafe(|| tool(args))) {
            Ok(Ok(result)) => guarded.finish(result).map_err(RunError::refused),
            Ok(Err(err)) => {
                // The tool's own error is what the caller needs; its record is best effort.
                let _ = guarded.fail(&err.to_string());
                Err(RunError::Tool(err))
            }
            Err(panic) => {
                let _ = guarded.fail("the tool panicked");
                resume_unwind(panic)
            }
        }
    }

    /// Records how a call the guard let through ended, for callers that run the tool
    /// themselves (async runtimes, other languages). The error message is masked first.
    pub fn record_outcome(
        &self,
        call: &ToolCall,
        decision: &Decision,
        outcome: &ToolOutcome,
    ) -> Result<u64, SinkError> {
        self.shared.sink.append(AuditEvent::Outcome(OutcomeEvent {
            decision_id: decision.decision_id.clone(),
            agent_id: call.agent_id.clone(),
            tool: call.tool.clone(),
            call_id: call.call_id.clone(),
            status: outcome.status,
            error: outcome
                .error
                .as_deref()
                .map(|error| self.masked_text(error)),
            duration_us: u64::try_from(outcome.duration.as_micros()).unwrap_or(u64::MAX),
        }))
    }

    /// Text as it may appear in a record: PII masked.
    fn masked_text(&self, text: &str) -> String {
        let mut value = Value::String(text.to_owned());
        self.shared.masker.mask(&mut value, &[]);
        match value {
            Value::String(text) => text,
            _ => REDACTED.to_owned(),
        }
    }
}
