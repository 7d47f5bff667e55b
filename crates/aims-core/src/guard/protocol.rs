//! The guarded-call protocol, the one way every host runs a tool under the guard: admit the call
//! (decide it, open or match its approval request, record the decision), run the tool with the
//! arguments admitted, then finish with its result (outcome recorded, result rules and masking
//! applied) or fail with its error. [`Guard::run`], the runtime, the CLI, the gateways and the
//! Python, Node and Kotlin bindings all go through [`GuardedCall`], so what a call may do and
//! what is recorded about it cannot differ between hosts.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Guard, ToolOutcome};
use crate::audit::SinkError;
use crate::call::{Decision, ToolCall, Verdict};

/// What decides and records a guarded call: the guard alone, or the guard with oversight around
/// it (the runtime). The protocol asks nothing else of it.
pub trait Decider: Clone + Send + Sync + fmt::Debug + 'static {
    /// Decides a call before it runs and records the decision (an approval request opened or
    /// matched); fails closed.
    fn decide(&self, call: &ToolCall) -> Decision;

    /// Decides a result; `None` when nothing can see it (it passes unchanged, `result` is not
    /// produced).
    fn decide_result<E>(
        &self,
        call: &ToolCall,
        result: impl FnOnce() -> Result<Value, E>,
    ) -> Result<Option<Decision>, E>;

    /// Records how a call that was let through ended.
    fn record_outcome(
        &self,
        call: &ToolCall,
        decision: &Decision,
        outcome: &ToolOutcome,
    ) -> Result<u64, SinkError>;

    /// The guard whose masks apply.
    fn guard(&self) -> &Guard;
}

impl Decider for Guard {
    fn decide(&self, call: &ToolCall) -> Decision {
        self.check(call)
    }

    fn decide_result<E>(
        &self,
        call: &ToolCall,
        result: impl FnOnce() -> Result<Value, E>,
    ) -> Result<Option<Decision>, E> {
        self.check_result_when_seen(call, result)
    }

    fn record_outcome(
        &self,
        call: &ToolCall,
        decision: &Decision,
        outcome: &ToolOutcome,
    ) -> Result<u64, SinkError> {
        Guard::record_outcome(self, call, decision, outcome)
    }

    fn guard(&self) -> &Guard {
        self
    }
}

/// Why a guarded call did not run, or its result may not be returned. One set for every host:
/// [`CallError::class`] names the exception a binding raises.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The policy denies the call (or the guard failed closed); the tool did not run.
    #[error("{}", refusal(.0, "denied"))]
    Denied(Box<Decision>),
    /// The call waits for a human approval; the tool did not run. The decision's
    /// `approval_id` names the request when an oversight store is configured.
    #[error("{}", refusal(.decision, "needs approval"))]
    ApprovalRequired {
        /// The decision.
        decision: Box<Decision>,
        /// The request's status when it was last seen: `pending`, or after waiting `rejected`,
        /// `expired` (or still `pending`).
        status: String,
    },
    /// The tool ran but the policy denies its result, which is withheld.
    #[error("{}", refusal(.0, "result denied"))]
    ResultDenied(Box<Decision>),
    /// The tool ran but its outcome could not be recorded, so its result is withheld.
    #[error("the outcome could not be recorded, so the result is withheld: {0}")]
    OutcomeNotRecorded(#[source] SinkError),
}

fn refusal(decision: &Decision, what: &str) -> String {
    let reasons: Vec<&str> = decision
        .reasons
        .iter()
        .map(|reason| reason.message.as_str())
        .collect();
    format!("{what}: {}", reasons.join("; "))
}

impl CallError {
    /// The decision behind the error, when there is one.
    pub fn decision(&self) -> Option<&Decision> {
        match self {
            CallError::Denied(decision) | CallError::ResultDenied(decision) => Some(decision),
            CallError::ApprovalRequired { decision, .. } => Some(decision),
            CallError::OutcomeNotRecorded(_) => None,
        }
    }
}

/// A call the guard admitted: run the tool with [`GuardedCall::arguments`], then
/// [`GuardedCall::finish`] with its result or [`GuardedCall::fail`] with its error. Dropped
/// without either (a host that lost the call), it records an error outcome, so no admitted call
/// is missing from the log.
#[derive(Debug)]
pub struct GuardedCall<D: Decider> {
    decider: D,
    call: Arc<ToolCall>,
    decision: Decision,
    arguments: Option<Value>,
    started: Instant,
    ended: bool,
}

/// What became of a result that a policy may see.
#[derive(Debug, Clone, PartialEq)]
pub enum Finished {
    /// Nothing changed it: return the tool's own result (a host keeps its native object).
    Unchanged,
    /// Return this instead: the result with what the policy names masked.
    Masked(Value),
}

/// Admits `call`: decides it (recording the decision) and, when it may run now, returns the
/// handle that runs it; otherwise the error says why not. The call is shared, so a host that
/// keeps a handle on it can still name it when the call is refused.
pub fn admit<D: Decider>(
    decider: &D,
    call: impl Into<Arc<ToolCall>>,
) -> Result<GuardedCall<D>, CallError> {
    let call = call.into();
    let decision = decider.decide(&call);
    if !decision.may_proceed() {
        return Err(match decision.verdict {
            Verdict::RequireApproval => CallError::ApprovalRequired {
                decision: Box::new(decision),
                status: "pending".to_owned(),
            },
            _ => CallError::Denied(Box::new(decision)),
        });
    }
    let arguments = (decision.verdict == Verdict::Redact && !decision.shadow).then(|| {
        let mut masked = call.args.clone();
        decider.guard().apply_redactions(&decision, &mut masked);
        masked
    });
    Ok(GuardedCall {
        decider: decider.clone(),
        call,
        decision,
        arguments,
        started: Instant::now(),
        ended: false,
    })
}

impl<D: Decider> GuardedCall<D> {
    /// The decision that admitted the call (recorded; `audit_index` says where).
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The call as it was decided.
    pub fn call(&self) -> &Arc<ToolCall> {
        &self.call
    }

    /// The arguments the tool must receive: masked where the decision redacts.
    pub fn arguments(&self) -> &Value {
        self.arguments.as_ref().unwrap_or(&self.call.args)
    }

    /// The masked arguments when the decision redacts, `None` when the tool receives the
    /// arguments as they were given (a host then passes its own objects on).
    pub fn masked_arguments(&self) -> Option<&Value> {
        self.arguments.as_ref()
    }

    /// Restarts the tool's clock (a host that waited between admitting and running).
    pub fn start(&mut self) {
        self.started = Instant::now();
    }

    /// The tool returned `result`: records the outcome, then decides the result. Returns the
    /// result as the caller may see it (masked where the policy says).
    pub fn finish(self, result: Value) -> Result<Value, CallError> {
        let seen = self.finish_when_seen(|| Ok::<_, Infallible>(result.clone()));
        match seen {
            Ok(Ok(Finished::Unchanged)) => Ok(result),
            Ok(Ok(Finished::Masked(masked))) => Ok(masked),
            Ok(Err(err)) => Err(err),
            Err(never) => match never {},
        }
    }

    /// [`GuardedCall::finish`] for a host whose result costs something to convert: `result` is
    /// produced only when a result rule (or oversight) can see it. The outer error is the
    /// conversion's.
    pub fn finish_when_seen<E>(
        mut self,
        result: impl FnOnce() -> Result<Value, E>,
    ) -> Result<Result<Finished, CallError>, E> {
        self.ended = true;
        let elapsed = self.started.elapsed();
        let mut seen = None;
        let post = self.decider.decide_result(&self.call, || {
            let value = result()?;
            seen = Some(value.clone());
            Ok(value)
        });
        // The result is decided before the outcome is recorded: a result the caller never gets
        // (withheld, or unreadable by the host) is not an `ok` outcome.
        let withheld = match &post {
            Err(_) => Some("the result could not be read, so it is withheld".to_owned()),
            Ok(Some(post)) if !post.may_proceed() => Some(format!(
                "the result was withheld by the guard ({})",
                post.verdict.as_str()
            )),
            Ok(_) => None,
        };
        let outcome = match withheld {
            Some(reason) => ToolOutcome::error(reason, elapsed),
            None => ToolOutcome::ok(elapsed),
        };
        let recorded = self
            .decider
            .record_outcome(&self.call, &self.decision, &outcome);
        let Some(post) = post? else {
            return Ok(recorded
                .map(|_| Finished::Unchanged)
                .map_err(CallError::OutcomeNotRecorded));
        };
        if let Err(err) = recorded {
            return Ok(Err(CallError::OutcomeNotRecorded(err)));
        }
        if !post.may_proceed() {
            return Ok(Err(CallError::ResultDenied(Box::new(post))));
        }
        match seen {
            Some(mut value) if post.verdict == Verdict::Redact && !post.shadow => {
                self.decider.guard().apply_redactions(&post, &mut value);
                Ok(Ok(Finished::Masked(value)))
            }
            _ => Ok(Ok(Finished::Unchanged)),
        }
    }

    /// The tool failed with `error` (masked before it is recorded).
    pub fn fail(mut self, error: &str) -> Result<(), CallError> {
        self.ended = true;
        let outcome = ToolOutcome::error(error, self.started.elapsed());
        self.decider
            .record_outcome(&self.call, &self.decision, &outcome)
            .map(drop)
            .map_err(CallError::OutcomeNotRecorded)
    }

    /// How long the tool has run so far.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

impl<D: Decider> Drop for GuardedCall<D> {
    fn drop(&mut self) {
        if !self.ended {
            let outcome = ToolOutcome::error(
                "the call ended without an outcome (its host dropped it)",
                self.started.elapsed(),
            );
            // Nothing to report to: the host is gone. The decision record stands either way.
            let _ = self
                .decider
                .record_outcome(&self.call, &self.decision, &outcome);
        }
    }
}
