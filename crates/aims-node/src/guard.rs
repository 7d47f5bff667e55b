//! The `Guard` class: one `aims_core::runtime::Runtime` (guard, durable audit log, signing
//! key), shared by every call made through it. The runtime is `Send + Sync`: JS calls arrive
//! on the main thread, the `*Async` methods run on libuv's thread pool.
//!
//! `__enter` / `__finish` / `__fail` (not part of the typed API) are `guard.wrap`'s sync allow
//! path: the call and its decision stay native between the check and the outcome, so no
//! decision object is built and converted back per call (see BENCHMARKS.md, issue 9). JS holds
//! only a number naming the entered call; `__finish` or `__fail` takes the call out and frees
//! it. (A JS handle object per call, freed by its finalizer, was not freed at all while a
//! synchronous loop kept the event loop from running finalizers: RSS grew 1.8 KB per call.)

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use std::time::Instant;

use aims_core::guard::{self, ToolOutcome};
use aims_core::policy::{Format, Policy, PolicyError};
use aims_core::runtime::{DurabilityMode, Runtime, RuntimeConfig};
use napi::bindgen_prelude::{AsyncTask, Either, External, Unknown};
use napi::{Env, Task, ValueType};
use napi_derive::napi;
use serde_json::{json, Value};

use crate::call::{Decision, ToolCall};
use crate::errors;
use crate::oversight::{Approvals, Incidents};

/// How a guard is assembled. Exactly one of `policyPath` / `policyText` is required.
#[napi(object)]
#[derive(Debug, Default)]
pub struct GuardOptions {
    /// A policy file (`.json` is read as JSON, anything else as YAML).
    pub policy_path: Option<String>,
    /// Policy text (YAML, which also reads JSON); errors name it `<inline>`.
    pub policy_text: Option<String>,
    /// The durable audit log's directory; without one, records stay in memory.
    pub audit_dir: Option<String>,
    /// The checkpoint signing key file; else `AIMS_SIGNING_KEY` names it; else a key is
    /// generated inside the audit directory (which proves integrity only against outsiders).
    pub signing_key: Option<String>,
    /// How durable a record is before the call runs: `strict` (fsync each), `batched`
    /// (group commit, the default) or `none` (fsynced on flush).
    #[napi(ts_type = "'strict' | 'batched' | 'none'")]
    pub durability: Option<String>,
    /// Evaluate and record, but let every call proceed.
    pub shadow: Option<bool>,
    /// The oversight store (a SQLite file) for approval requests and incidents: with one,
    /// `require_approval` opens a request (`guard.approvals`) and incident triggers fire
    /// (`guard.incidents`).
    pub oversight_store: Option<String>,
    /// A register directory whose `oversight` checkpoints join the policy's own (with an
    /// oversight store).
    pub register_dir: Option<String>,
}

/// How a call that ran ended, as the caller observed it.
#[napi(object)]
#[derive(Debug)]
pub struct Outcome {
    /// The error the tool threw, when it failed (masked before it is recorded).
    pub error: Option<String>,
    /// How long the tool ran, in milliseconds.
    pub duration_ms: f64,
}

impl From<Outcome> for ToolOutcome {
    fn from(outcome: Outcome) -> Self {
        let duration =
            Duration::try_from_secs_f64(outcome.duration_ms / 1_000.0).unwrap_or_default();
        match outcome.error {
            Some(error) => ToolOutcome::error(error, duration),
            None => ToolOutcome::ok(duration),
        }
    }
}

fn durability(env: &Env, name: Option<&str>) -> napi::Result<DurabilityMode> {
    match name {
        None | Some("batched") => Ok(DurabilityMode::Batched),
        Some("strict") => Ok(DurabilityMode::Strict),
        Some("none") => Ok(DurabilityMode::None),
        Some(other) => Err(errors::invalid(
            env,
            format!("unknown durability `{other}`: expected strict, batched or none"),
        )),
    }
}

/// A policy to load: a file or text.
#[napi(object)]
#[derive(Debug, Default)]
pub struct PolicySource {
    /// A policy file (`.json` is read as JSON, anything else as YAML).
    pub policy_path: Option<String>,
    /// Policy text (YAML, which also reads JSON); errors name it `<inline>`.
    pub policy_text: Option<String>,
}

/// A value with what a redaction masked in it.
#[napi(object)]
#[derive(Debug)]
pub struct Redacted {
    /// The value, masked.
    pub value: Value,
    /// What was masked: JSON pointers and entity names.
    pub masked: Vec<String>,
}

fn load_policy(env: &Env, source: PolicySource) -> napi::Result<Policy> {
    let loaded = match (source.policy_path, source.policy_text) {
        (Some(path), None) => Policy::from_file(PathBuf::from(path)),
        (None, Some(text)) => Policy::from_text(&text, Format::Yaml, "<inline>"),
        (Some(_), Some(_)) => {
            return Err(errors::invalid(
                env,
                "give either policyPath or policyText, not both",
            ))
        }
        (None, None) => {
            return Err(errors::invalid(
                env,
                "a policy is required: set policyPath or policyText",
            ))
        }
    };
    loaded.map_err(|err: PolicyError| errors::policy(env, &err))
}

/// The fail-closed decision point for an agent's tool calls.
#[napi]
#[derive(Debug)]
pub struct Guard {
    runtime: Runtime,
    /// A record waits for the disk before `check` returns (a log not in `none` mode).
    waits_for_disk: bool,
    entered: Mutex<EnteredCalls>,
}

#[napi]
impl Guard {
    /// Loads the policy, opens the audit log (creating it, and its signing key when none is
    /// configured) and assembles the guard. Throws `PolicyError` (with file, line and column)
    /// for a policy that is not valid, `AuditError` for a log or key that cannot be opened,
    /// `AimsError` for bad options.
    #[napi(constructor)]
    pub fn new(env: Env, options: GuardOptions) -> napi::Result<Self> {
        let durability = durability(&env, options.durability.as_deref())?;
        let waits_for_disk = options.audit_dir.is_some() && durability != DurabilityMode::None;
        let config = RuntimeConfig {
            policy_path: options.policy_path.map(PathBuf::from),
            policy_text: options.policy_text,
            audit_dir: options.audit_dir.map(PathBuf::from),
            signing_key: options.signing_key.map(PathBuf::from),
            durability,
            shadow: options.shadow.unwrap_or(false),
            oversight_store: options.oversight_store.map(PathBuf::from),
            register_dir: options.register_dir.map(PathBuf::from),
            // These options do not expose OpenTelemetry export yet.
            otlp_endpoint: None,
            ..RuntimeConfig::default()
        };
        let runtime = Runtime::open(config).map_err(|err| errors::runtime(&env, err))?;
        Ok(Guard {
            runtime,
            waits_for_disk,
            entered: Mutex::default(),
        })
    }

    /// sha256 (hex) of the canonical policy in force.
    #[napi(getter)]
    pub fn policy_version(&self) -> String {
        self.runtime.guard().policy_version()
    }

    /// The audit log's directory, when the guard records to a durable log.
    #[napi(getter)]
    pub fn audit_dir(&self) -> Option<String> {
        self.runtime
            .audit_log()
            .map(|log| log.dir().display().to_string())
    }

    /// True when every record waits for the disk (a durable log in `strict` or `batched`
    /// mode): `guard.wrap` then decides async functions' calls off the event loop.
    #[napi(getter)]
    pub fn waits_for_disk(&self) -> bool {
        self.waits_for_disk
    }

    /// Approval requests: `approve`, `reject`, `status`, `wait`, `pending`, `execute`.
    /// Throws `AimsError` without an oversight store.
    #[napi(getter)]
    pub fn approvals(&self, env: Env) -> napi::Result<Approvals> {
        Approvals::of(&env, &self.runtime)
    }

    /// Incidents: `list`, `get`, `update`. Throws `AimsError` without an oversight store.
    #[napi(getter)]
    pub fn incidents(&self, env: Env) -> napi::Result<Incidents> {
        Incidents::of(&env, &self.runtime)
    }

    /// Decides a call before it runs, counts it against its limits when it may proceed, and
    /// records the decision; with an oversight store a `require_approval` decision opens an
    /// approval request (`approvalId`). Never throws for a well-formed call: it fails closed.
    #[napi]
    pub fn check(&self, call: ToolCall) -> Decision {
        self.runtime.check(&call.into()).into()
    }

    /// `check` on libuv's thread pool: the event loop keeps running while a durable audit log
    /// makes the decision record durable.
    #[napi(ts_return_type = "Promise<Decision>")]
    pub fn check_async(&self, call: ToolCall) -> AsyncTask<CheckTask> {
        AsyncTask::new(CheckTask {
            runtime: self.runtime.clone(),
            call: Some(call.into()),
        })
    }

    /// Decides a call's result after it ran (a result rule may deny or redact it); with an
    /// oversight store, PII in the result feeds the incident triggers.
    #[napi]
    pub fn check_result(&self, call: ToolCall, result: Value) -> Decision {
        self.runtime.check_result(&call.into(), &result).into()
    }

    /// Records how a call the guard let through ended (its error masked), then decides its
    /// result: what `guard.wrap` does after the tool returns or throws. Without a result (the
    /// tool threw) the returned decision is the pre-call one's verdict on nothing: allow.
    /// Throws `AuditError` when the outcome cannot be recorded; the result is then withheld.
    #[napi]
    pub fn complete(
        &self,
        env: Env,
        call: ToolCall,
        decision: Decision,
        outcome: Outcome,
        result: Option<Value>,
    ) -> napi::Result<Option<Decision>> {
        let decision = decision
            .to_core()
            .map_err(|message| errors::invalid(&env, message))?;
        let post = complete(
            &self.runtime,
            &call.into(),
            &decision,
            outcome.into(),
            result,
        )
        .map_err(|err| errors::runtime(&env, err))?;
        Ok(post.map(Decision::from))
    }

    /// `guard.wrap`'s tool: what every call of one wrapped function shares (agent, tool, AI
    /// system, context), converted once when the function is wrapped instead of on every call.
    #[napi(js_name = "__tool", skip_typescript)]
    pub fn tool_template(&self, shared: ToolCall) -> External<guard::ToolCall> {
        External::new(shared.into())
    }

    /// `guard.wrap`'s sync path: decides a call of `tool` with `args` and, when it may run
    /// unchanged, keeps the call and its decision native (a number naming it, for `__finish` /
    /// `__fail`); otherwise returns the decision as an object (a refusal, or arguments to
    /// redact). On the allow path no decision object is built and none is converted back.
    #[napi(js_name = "__enter", skip_typescript)]
    pub fn enter(
        &self,
        env: Env,
        tool: &External<guard::ToolCall>,
        args: Option<Value>,
    ) -> napi::Result<Either<i64, Decision>> {
        let call = guard::ToolCall {
            args: args.unwrap_or(Value::Null),
            ..guard::ToolCall::clone(tool)
        };
        let decision = self.runtime.check(&call);
        if !runs_unchanged(&decision) {
            return Ok(Either::B(decision.into()));
        }
        let mut entered = self.entered_calls(&env)?;
        let handle = entered.next;
        entered.next += 1;
        entered.calls.insert(
            handle,
            Entered {
                call,
                decision,
                started: Instant::now(),
            },
        );
        Ok(Either::A(handle))
    }

    /// Records the ok outcome of an entered call and decides its result: `null` when the
    /// result may be returned as it is, else the result's decision (a denial or a redaction).
    /// The result is converted only when something can see it (a result rule for the tool, or
    /// oversight scanning results); `null` means the tool returned nothing. Throws
    /// `AuditError` when the outcome cannot be recorded; the result is then withheld.
    #[napi(js_name = "__finish", skip_typescript)]
    pub fn finish(
        &self,
        env: Env,
        handle: i64,
        result: Unknown<'_>,
    ) -> napi::Result<Option<Decision>> {
        let Entered {
            call,
            decision,
            started,
        } = self.take_entered(&env, handle)?;
        self.runtime
            .record_outcome(&call, &decision, &ToolOutcome::ok(started.elapsed()))
            .map_err(|err| errors::runtime(&env, err))?;
        if result.get_type()? == ValueType::Null {
            return Ok(None);
        }
        let post = self
            .runtime
            .check_result_when_seen(&call, || env.from_js_value::<Value, _>(result))?;
        Ok(post
            .filter(|post| !runs_unchanged(post))
            .map(Decision::from))
    }

    /// Records that an entered call threw `error` (masked before it is recorded).
    #[napi(js_name = "__fail", skip_typescript)]
    pub fn fail(&self, env: Env, handle: i64, error: String) -> napi::Result<()> {
        let Entered {
            call,
            decision,
            started,
        } = self.take_entered(&env, handle)?;
        let outcome = ToolOutcome::error(error, started.elapsed());
        self.runtime
            .record_outcome(&call, &decision, &outcome)
            .map(drop)
            .map_err(|err| errors::runtime(&env, err))
    }

    /// `complete` on libuv's thread pool, for a durable log.
    #[napi(ts_return_type = "Promise<Decision | null>")]
    pub fn complete_async(
        &self,
        env: Env,
        call: ToolCall,
        decision: Decision,
        outcome: Outcome,
        result: Option<Value>,
    ) -> napi::Result<AsyncTask<CompleteTask>> {
        let decision = decision
            .to_core()
            .map_err(|message| errors::invalid(&env, message))?;
        Ok(AsyncTask::new(CompleteTask {
            runtime: self.runtime.clone(),
            work: Some((call.into(), decision, outcome.into(), result)),
        }))
    }

    /// Makes every record durable and signs a checkpoint over them. Throws `AuditError`.
    #[napi]
    pub fn flush(&self, env: Env) -> napi::Result<()> {
        self.runtime
            .flush()
            .map_err(|err| errors::runtime(&env, err))
    }

    /// Masks what a `redact` decision names in `value` (the call's arguments or its result).
    #[napi]
    pub fn apply_redactions(
        &self,
        env: Env,
        decision: Decision,
        value: Value,
    ) -> napi::Result<Redacted> {
        let decision = decision
            .to_core()
            .map_err(|message| errors::invalid(&env, message))?;
        let mut value = value;
        let masked = self.runtime.guard().apply_redactions(&decision, &mut value);
        Ok(Redacted { value, masked })
    }

    /// How the policy in force decides a call (or, with `result`, its result), rule by rule,
    /// with each matched rule's limits as they stand. Counts nothing and records nothing.
    #[napi]
    pub fn explain(&self, env: Env, call: ToolCall, result: Option<Value>) -> napi::Result<Value> {
        let explanation = self.runtime.guard().explain(&call.into(), result.as_ref());
        serde_json::to_value(explanation).map_err(|err| errors::invalid(&env, err.to_string()))
    }

    /// Swaps in a new policy and, with oversight, its checkpoints and incident triggers,
    /// together and atomically (one recorded event). Throws `PolicyError` for a policy that is
    /// not valid; the previous policy then stays in force.
    #[napi]
    pub fn reload(&self, env: Env, source: PolicySource) -> napi::Result<()> {
        let policy = load_policy(&env, source)?;
        self.runtime
            .reload(policy)
            .map_err(|err| errors::runtime(&env, err))
    }

    /// Decision counters and the latency histogram.
    #[napi]
    pub fn metrics(&self, env: Env) -> napi::Result<Value> {
        serde_json::to_value(self.runtime.guard().metrics())
            .map_err(|err| errors::invalid(&env, err.to_string()))
    }

    /// The metrics in the Prometheus text exposition format.
    #[napi]
    pub fn prometheus(&self) -> String {
        self.runtime.guard().prometheus()
    }
}

/// Records the outcome, then decides the result when there is one.
fn complete(
    runtime: &Runtime,
    call: &guard::ToolCall,
    decision: &guard::Decision,
    outcome: ToolOutcome,
    result: Option<Value>,
) -> Result<Option<guard::Decision>, aims_core::runtime::RuntimeError> {
    runtime.record_outcome(call, decision, &outcome)?;
    Ok(result.map(|result| runtime.check_result(call, &result)))
}

/// Whether a decision lets the call (or its result) through as it is: it may proceed and
/// masks nothing (a redaction in shadow mode is recorded, not applied).
fn runs_unchanged(decision: &guard::Decision) -> bool {
    decision.may_proceed() && (decision.verdict != guard::Verdict::Redact || decision.shadow)
}

/// A call `guard.wrap` let run, with its decision, kept native until its outcome is recorded.
/// Timed natively from the moment it was let through, which spares JS two clock reads.
#[derive(Debug)]
struct Entered {
    call: guard::ToolCall,
    decision: guard::Decision,
    started: Instant,
}

/// The entered calls by handle. Handles count up and are never reused, so a stale handle
/// cannot name another call.
#[derive(Debug, Default)]
struct EnteredCalls {
    next: i64,
    calls: HashMap<i64, Entered>,
}

impl Guard {
    fn entered_calls(&self, env: &Env) -> napi::Result<MutexGuard<'_, EnteredCalls>> {
        self.entered
            .lock()
            .map_err(|_| errors::invalid(env, "the guard's entered calls are poisoned"))
    }

    /// Takes an entered call out, once.
    fn take_entered(&self, env: &Env, handle: i64) -> napi::Result<Entered> {
        self.entered_calls(env)?
            .calls
            .remove(&handle)
            .ok_or_else(|| {
                errors::invalid(
                    env,
                    format!("no entered call {handle}: it finished already"),
                )
            })
    }
}

/// A `check` run on libuv's thread pool.
#[derive(Debug)]
pub struct CheckTask {
    runtime: Runtime,
    call: Option<guard::ToolCall>,
}

impl Task for CheckTask {
    type Output = guard::Decision;
    type JsValue = Decision;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        match self.call.take() {
            Some(call) => Ok(self.runtime.check(&call)),
            None => Err(napi::Error::from_reason("a check task ran twice")),
        }
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output.into())
    }
}

/// A `complete` run on libuv's thread pool.
#[derive(Debug)]
pub struct CompleteTask {
    runtime: Runtime,
    work: Option<(guard::ToolCall, guard::Decision, ToolOutcome, Option<Value>)>,
}

impl Task for CompleteTask {
    type Output = Result<Option<Decision>, String>;
    type JsValue = Option<Decision>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let Some((call, decision, outcome, result)) = self.work.take() else {
            return Err(napi::Error::from_reason("a complete task ran twice"));
        };
        Ok(complete(&self.runtime, &call, &decision, outcome, result)
            .map(|post| post.map(Decision::from))
            .map_err(|err| err.to_string()))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output.map_err(|message| {
            errors::error(
                &env,
                errors::Kind::Audit,
                message,
                json!({ "integrity": false }),
            )
        })
    }
}
