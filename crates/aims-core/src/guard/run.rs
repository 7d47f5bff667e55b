//! `Guard::run`: decide, record, run the tool only when allowed, record how it ended, then
//! decide its result.

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Instant;

use serde_json::Value;

use super::mask::REDACTED;
use super::{Decision, Guard, ToolCall, Verdict};
use crate::audit::{AuditEvent, OutcomeEvent, OutcomeStatus, SinkError};

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
        let decision = self.check(call);
        if !decision.may_proceed() {
            return Err(RunError::Blocked(Box::new(decision)));
        }
        let mut args = call.args.clone();
        if decision.verdict == Verdict::Redact && !decision.shadow {
            self.apply_redactions(&decision, &mut args);
        }
        let started = Instant::now();
        let ran = catch_unwind(AssertUnwindSafe(|| tool(args)));
        let duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let (status, error) = match &ran {
            Ok(Ok(_)) => (OutcomeStatus::Ok, None),
            Ok(Err(err)) => (
                OutcomeStatus::Error,
                Some(self.masked_text(&err.to_string())),
            ),
            Err(_) => (OutcomeStatus::Error, Some("the tool panicked".to_owned())),
        };
        let recorded = self.shared.sink.append(AuditEvent::Outcome(OutcomeEvent {
            decision_id: decision.decision_id.clone(),
            agent_id: call.agent_id.clone(),
            tool: call.tool.clone(),
            call_id: call.call_id.clone(),
            status,
            error,
            duration_us,
        }));
        let result = match ran {
            Ok(Ok(result)) => result,
            Ok(Err(err)) => return Err(RunError::Tool(err)),
            Err(panic) => resume_unwind(panic),
        };
        recorded.map_err(RunError::Audit)?;
        let post = self.check_result(call, &result);
        if !post.may_proceed() {
            return Err(RunError::ResultBlocked(Box::new(post)));
        }
        let mut result = result;
        if post.verdict == Verdict::Redact && !post.shadow {
            self.apply_redactions(&post, &mut result);
        }
        Ok(result)
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
