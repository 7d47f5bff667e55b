//! The guard: decides every tool call an agent makes before it has any side effect.
//!
//! Owns the call and decision types, evaluation against a compiled [`crate::policy`],
//! fail-closed handling, shadow mode, limits, metrics and the hand-off to an
//! [`crate::audit::AuditSink`].
//!
//! Fail closed: a panic or internal error while deciding becomes a deny with reason
//! `internal_error`; an audit sink that cannot take the decision makes it a deny with reason
//! `audit_failed` (also in shadow mode: shadow mode relaxes the policy, not the evidence).

mod decide;
mod input;
mod limit_file;
mod limits;
mod mask;
mod metrics;
mod protocol;
mod record;
mod run;

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arc_swap::ArcSwap;
use serde_json::Value;

pub use crate::call::{
    unix_ms, Clock, Decision, ManualClock, Phase, Reason, Redaction, Severity, SystemClock,
    ToolCall, Verdict,
};
pub use input::{
    parse_call, parse_value, CallJsonError, InputLimits, InputProblem, ToolNames, ValueError,
};
pub use limit_file::{LimitFile, LimitFileError, LOCK_FILE, STATE_FILE};
pub use limits::{LimitState, LimitStore, LimitsUnavailable};
pub use mask::{Masker, REDACTED};
pub use metrics::{
    DecisionCount, LatencyBucket, LatencySnapshot, MetricsSnapshot, MAX_LABEL_BYTES, MAX_SERIES,
};
pub use protocol::{admit, CallError, Decider, Finished, GuardedCall};
pub use run::{RunError, ToolOutcome};

use crate::audit::{
    AuditEvent, AuditSink, MemorySink, PolicyLoadedEvent, SinkError, MEMORY_SINK_EVENTS,
};
use crate::pii::Scanner;
use crate::policy::{Explanation, LimitTrace, Policy, PolicyError};
use decide::Context;
use metrics::Metrics;
use record::DecisionIds;

/// The guard. Cheap to clone (clones share everything), `Send + Sync`.
#[derive(Clone)]
pub struct Guard {
    shared: Arc<Shared>,
}

struct Shared {
    policy: ArcSwap<Policy>,
    reload_lock: Mutex<()>,
    sink: Arc<dyn AuditSink>,
    masker: Arc<dyn Masker>,
    clock: Arc<dyn Clock>,
    limits: LimitStore,
    metrics: Metrics,
    ids: DecisionIds,
    shadow: bool,
    input_limits: InputLimits,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("policy_version", &self.policy_version())
            .field("shadow", &self.shared.shadow)
            .field("masker", &self.shared.masker)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Guard`]; every part but the policy has a default.
#[must_use]
pub struct GuardBuilder {
    policy: Policy,
    sink: Option<Arc<dyn AuditSink>>,
    masker: Arc<dyn Masker>,
    clock: Arc<dyn Clock>,
    limits: LimitState,
    shadow: bool,
    input_limits: InputLimits,
}

impl fmt::Debug for GuardBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardBuilder")
            .field("policy_version", &self.policy.version())
            .field("shadow", &self.shadow)
            .finish_non_exhaustive()
    }
}

impl GuardBuilder {
    /// Where decisions and outcomes are recorded. Default: a [`MemorySink`] keeping the newest
    /// [`MEMORY_SINK_EVENTS`] records in memory; set the durable audit log in production.
    pub fn sink(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The PII masker used for `redact` entities and for audit records. Default: the PII
    /// [`crate::pii::Scanner`] for every entity, masking with type tags.
    pub fn masker(mut self, masker: Arc<dyn Masker>) -> Self {
        self.masker = masker;
        self
    }

    /// The clock for limits and decision times. Default: the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Limit counters to start from (e.g. loaded with [`LimitFile::open`]).
    pub fn limit_state(mut self, state: LimitState) -> Self {
        self.limits = state;
        self
    }

    /// Shadow mode: decisions are evaluated and recorded but every call may proceed.
    pub fn shadow(mut self, shadow: bool) -> Self {
        self.shadow = shadow;
        self
    }

    /// Bounds on names, ids and argument size and nesting, and the tool name alphabet; calls
    /// beyond them are denied before any rule runs. Default: [`InputLimits::default`].
    pub fn input_limits(mut self, limits: InputLimits) -> Self {
        self.input_limits = limits;
        self
    }

    /// The guard.
    pub fn build(self) -> Guard {
        Guard {
            shared: Arc::new(Shared {
                policy: ArcSwap::from_pointee(self.policy),
                reload_lock: Mutex::new(()),
                sink: self
                    .sink
                    .unwrap_or_else(|| Arc::new(MemorySink::bounded(MEMORY_SINK_EVENTS))),
                masker: self.masker,
                clock: self.clock,
                limits: LimitStore::new(self.limits),
                metrics: Metrics::default(),
                ids: DecisionIds::new(),
                shadow: self.shadow,
                input_limits: self.input_limits,
            }),
        }
    }
}

/// Why a reload did not happen; the previous policy stays in force.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new policy is not valid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The reload could not be recorded.
    #[error(transparent)]
    Audit(#[from] SinkError),
}

impl Guard {
    /// Starts building a guard for `policy`.
    pub fn builder(policy: Policy) -> GuardBuilder {
        GuardBuilder {
            policy,
            sink: None,
            masker: Arc::new(Scanner::default()),
            clock: Arc::new(SystemClock),
            limits: LimitState::default(),
            shadow: false,
            input_limits: InputLimits::default(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        self.shared.policy.load_full()
    }

    /// The version of the policy in force.
    pub fn policy_version(&self) -> String {
        self.shared.policy.load().version().to_owned()
    }

    /// Decides a call before it runs, counts it against its limits when it may proceed, and
    /// records the decision. Never panics; fails closed.
    pub fn check(&self, call: &ToolCall) -> Decision {
        self.decide_and_record(call, None)
    }

    /// Decides a call a human approved at `checkpoint` (the approval verified by the caller):
    /// the policy's `require_approval` rules at that checkpoint count as allow, every other
    /// rule and every limit applies as in [`Guard::check`], and a call that may proceed is
    /// counted against its limits and budgets like any other. Records the decision.
    pub fn check_approved(&self, call: &ToolCall, checkpoint: &str) -> Decision {
        self.decide_and_record_under(&self.shared.policy.load(), call, None, Some(checkpoint))
    }

    /// Decides a call's result after it ran (a policy may deny or redact it) and records the
    /// decision when a result rule matched. Results no rule matches are allowed unrecorded;
    /// [`Guard::run`] records every outcome.
    pub fn check_result(&self, call: &ToolCall, result: &Value) -> Decision {
        self.decide_and_record(call, Some(result))
    }

    /// [`Guard::check_result`] for a result that costs something to produce (a binding
    /// converting it from its language), when all the caller needs is whether the result passes
    /// as it is. When no result rule of the policy in force names the call's tool, nothing can
    /// see the result: `result` is not called, the result passes unchanged (`None`, counted in
    /// the metrics as an allowed result, as [`Guard::check_result`] would) and no decision is
    /// built. Otherwise `result` is called and its decision returned. One policy snapshot
    /// decides both ways, so a reload in between cannot let a result skip a rule.
    pub fn check_result_when_seen<E>(
        &self,
        call: &ToolCall,
        result: impl FnOnce() -> Result<Value, E>,
    ) -> Result<Option<Decision>, E> {
        let started = Instant::now();
        let policy = self.shared.policy.load();
        if !policy.has_result_rules_for(&call.tool) {
            let eval_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.shared.metrics.observe(
                Phase::Post,
                Verdict::Allow,
                &call.agent_id,
                &call.tool,
                eval_ns,
            );
            return Ok(None);
        }
        let result = result()?;
        Ok(Some(self.decide_and_record_under(
            &policy,
            call,
            Some(&result),
            None,
        )))
    }

    fn decide_and_record(&self, call: &ToolCall, result: Option<&Value>) -> Decision {
        self.decide_and_record_under(&self.shared.policy.load(), call, result, None)
    }

    /// Denies a call the guard cannot read as it was sent (see [`parse_call`]) with the
    /// problem as its reason, and records the denial.
    pub fn refuse(&self, call: &ToolCall, problem: &InputProblem) -> Decision {
        let started = Instant::now();
        let policy = self.shared.policy.load();
        let decision = decide::refused(
            policy.version(),
            Phase::Pre,
            self.shared.ids.next(),
            self.shared.shadow,
            problem,
        );
        let checked = input::check_call(call, &self.shared.input_limits);
        let oversized = checked.as_ref().err().is_some_and(InputProblem::oversized);
        self.record_and_count(decision, call, None, oversized, started)
    }

    fn decide_and_record_under(
        &self,
        policy: &Policy,
        call: &ToolCall,
        result: Option<&Value>,
        approved_checkpoint: Option<&str>,
    ) -> Decision {
        let started = Instant::now();
        let shared = &*self.shared;
        let phase = if result.is_some() {
            Phase::Post
        } else {
            Phase::Pre
        };
        let checked = match result {
            None => input::check_call(call, &shared.input_limits),
            Some(result) => input::check_result(result, &shared.input_limits),
        };
        if let Err(problem) = checked {
            let decision = decide::refused(
                policy.version(),
                phase,
                shared.ids.next(),
                shared.shadow,
                &problem,
            );
            return self.record_and_count(decision, call, result, problem.oversized(), started);
        }
        let context = Context {
            policy,
            limits: &shared.limits,
            shadow: shared.shadow,
            approved_checkpoint,
        };
        let decided = catch_unwind(AssertUnwindSafe(|| {
            decide::decide(
                &context,
                call,
                result,
                shared.ids.next(),
                shared.clock.now(),
            )
        }));
        let decision = match decided {
            Ok(Ok(decision)) => decision,
            // The failed decision's id went with it; the denial gets its own.
            Ok(Err(_)) | Err(_) => {
                decide::internal_error(policy.version(), phase, shared.ids.next(), shared.shadow)
            }
        };
        self.record_and_count(decision, call, result, false, started)
    }

    /// Records a decision when it must be (every call decision; result decisions a rule
    /// matched or that deny) and counts it. An input too big to keep is recorded by its names,
    /// cut to the limits, without its arguments.
    fn record_and_count(
        &self,
        mut decision: Decision,
        call: &ToolCall,
        result: Option<&Value>,
        oversized: bool,
        started: Instant,
    ) -> Decision {
        let shared = &*self.shared;
        let eval_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let must_record = decision.phase == Phase::Pre
            || !decision.rule_ids.is_empty()
            || decision.verdict == Verdict::Deny;
        if must_record {
            let bounded;
            let (call, raw) = if oversized {
                bounded = input::bounded_for_record(call, &shared.input_limits);
                (&bounded, &Value::Null)
            } else {
                (call, result.unwrap_or(&call.args))
            };
            let recorded = catch_unwind(AssertUnwindSafe(|| {
                let event = record::decision_event(
                    &decision,
                    call,
                    raw,
                    shared.sink.as_ref(),
                    shared.masker.as_ref(),
                    eval_ns / 1_000,
                );
                shared.sink.append(AuditEvent::Decision(event))
            }));
            if let Ok(Ok(index)) = recorded {
                decision.audit_index = Some(index);
            } else {
                decision.verdict = Verdict::Deny;
                decision.shadow = false;
                decision.redactions.clear();
                decision.checkpoint = None;
                decision.reasons.push(Reason {
                    code: "audit_failed".to_owned(),
                    rule_id: None,
                    message: "the decision could not be recorded; failing closed".to_owned(),
                });
            }
        }
        shared.metrics.observe(
            decision.phase,
            decision.verdict,
            &call.agent_id,
            &call.tool,
            eval_ns,
        );
        decision
    }

    /// Masks what a `redact` decision names in `value` (the call's arguments, or its result)
    /// and returns what was masked.
    pub fn apply_redactions(&self, decision: &Decision, value: &mut Value) -> Vec<String> {
        mask::apply(&decision.redactions, self.shared.masker.as_ref(), value)
    }

    /// Explains how the policy in force decides a call (`result` is `None`) or its result,
    /// with each matched rule's limits as they stand. Counts nothing and records nothing.
    pub fn explain(&self, call: &ToolCall, result: Option<&Value>) -> Explanation {
        let policy = self.shared.policy.load();
        let mut explanation = policy.explain(call, result);
        let now_ms = unix_ms(self.shared.clock.now());
        let Ok(mut state) = self.shared.limits.lock() else {
            return explanation;
        };
        for (rule, trace) in policy.rules().iter().zip(explanation.rules.iter_mut()) {
            if trace.matched {
                trace.limits = state
                    .assess(rule, call, now_ms)
                    .into_iter()
                    .map(|outcome| LimitTrace {
                        code: outcome.code.to_owned(),
                        exceeded: outcome.exceeded,
                        message: outcome.message,
                    })
                    .collect();
            }
        }
        drop(state);
        explanation.verdict = policy.combine(
            explanation.phase,
            explanation.rules.iter().filter(|t| t.matched).map(|t| {
                if t.limits.iter().any(|l| l.exceeded) {
                    Verdict::Deny
                } else {
                    t.effect
                }
            }),
        );
        explanation
    }

    /// Swaps in a new policy atomically and records it (with the version it replaced). When
    /// the record fails, the old policy stays in force.
    pub fn reload(&self, policy: Policy) -> Result<(), SinkError> {
        let _serial = self
            .shared
            .reload_lock
            .lock()
            .map_err(|_| SinkError::Failed("reload lock poisoned".into()))?;
        let previous = self.shared.policy.load();
        self.shared
            .sink
            .append(AuditEvent::PolicyLoaded(PolicyLoadedEvent {
                policy_version: policy.version().to_owned(),
                source: policy.source().to_owned(),
                rules: policy.rules().len(),
                previous_version: Some(previous.version().to_owned()),
            }))?;
        self.shared.policy.store(Arc::new(policy));
        Ok(())
    }

    /// Reads a policy file and [`Guard::reload`]s it.
    pub fn reload_file(&self, path: impl AsRef<Path>) -> Result<(), ReloadError> {
        let policy = Policy::from_file(path)?;
        Ok(self.reload(policy)?)
    }

    /// The limit counters as they stand (pruned to their windows), e.g. to persist them.
    pub fn limit_state(&self) -> Result<LimitState, LimitsUnavailable> {
        self.shared
            .limits
            .snapshot(unix_ms(self.shared.clock.now()))
    }

    /// Decision counters and the latency histogram.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.metrics.snapshot()
    }

    /// [`Guard::metrics`] in the Prometheus text exposition format.
    pub fn prometheus(&self) -> String {
        self.metrics().prometheus()
    }
}

#[cfg(test)]
mod tests;
