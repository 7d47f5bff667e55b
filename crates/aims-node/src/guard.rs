//! The `Guard` class: one core guard, shared by every call made through it (the core guard is
//! `Send + Sync`; JS calls arrive on one thread, `checkAsync` on libuv's pool).

use std::path::PathBuf;

use aims_core::guard::{self, Guard as CoreGuard};
use aims_core::policy::{Format, Policy, PolicyError};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use serde_json::{json, Value};

use crate::call::{Decision, ToolCall};
use crate::errors;

/// How a guard is assembled. Exactly one of `policyPath` / `policyText` is required.
#[napi(object)]
#[derive(Debug, Default)]
pub struct GuardOptions {
    /// A policy file (`.json` is read as JSON, anything else as YAML).
    pub policy_path: Option<String>,
    /// Policy text (YAML, which also reads JSON); errors name it `<inline>`.
    pub policy_text: Option<String>,
    /// Evaluate and record, but let every call proceed.
    pub shadow: Option<bool>,
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
    inner: CoreGuard,
}

#[napi]
impl Guard {
    /// Loads the policy and assembles the guard. Throws `PolicyError` (with file, line and
    /// column) for a policy that is not valid, `AimsError` for bad options.
    #[napi(constructor)]
    pub fn new(env: Env, options: GuardOptions) -> napi::Result<Self> {
        let policy = load_policy(
            &env,
            PolicySource {
                policy_path: options.policy_path,
                policy_text: options.policy_text,
            },
        )?;
        let inner = CoreGuard::builder(policy)
            .shadow(options.shadow.unwrap_or(false))
            .build();
        Ok(Guard { inner })
    }

    /// sha256 (hex) of the canonical policy in force.
    #[napi(getter)]
    pub fn policy_version(&self) -> String {
        self.inner.policy_version()
    }

    /// Decides a call before it runs, counts it against its limits when it may proceed, and
    /// records the decision. Never throws for a well-formed call: it fails closed.
    #[napi]
    pub fn check(&self, call: ToolCall) -> Decision {
        self.inner.check(&call.into()).into()
    }

    /// `check` on libuv's thread pool: the event loop keeps running while a durable audit log
    /// makes the decision record durable.
    #[napi(ts_return_type = "Promise<Decision>")]
    pub fn check_async(&self, call: ToolCall) -> AsyncTask<CheckTask> {
        AsyncTask::new(CheckTask {
            guard: self.inner.clone(),
            call: Some(call.into()),
        })
    }

    /// Decides a call's result after it ran (a result rule may deny or redact it).
    #[napi]
    pub fn check_result(&self, call: ToolCall, result: Value) -> Decision {
        self.inner.check_result(&call.into(), &result).into()
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
        let masked = self.inner.apply_redactions(&decision, &mut value);
        Ok(Redacted { value, masked })
    }

    /// How the policy in force decides a call (or, with `result`, its result), rule by rule,
    /// with each matched rule's limits as they stand. Counts nothing and records nothing.
    #[napi]
    pub fn explain(&self, env: Env, call: ToolCall, result: Option<Value>) -> napi::Result<Value> {
        let explanation = self.inner.explain(&call.into(), result.as_ref());
        serde_json::to_value(explanation).map_err(|err| errors::invalid(&env, err.to_string()))
    }

    /// Swaps in a new policy atomically and records it. Throws `PolicyError` for a policy that
    /// is not valid; the previous policy then stays in force.
    #[napi]
    pub fn reload(&self, env: Env, source: PolicySource) -> napi::Result<()> {
        let policy = load_policy(&env, source)?;
        self.inner
            .reload(policy)
            .map_err(|err| errors::error(&env, errors::Kind::Audit, err.to_string(), json!({})))
    }

    /// Decision counters and the latency histogram.
    #[napi]
    pub fn metrics(&self, env: Env) -> napi::Result<Value> {
        serde_json::to_value(self.inner.metrics())
            .map_err(|err| errors::invalid(&env, err.to_string()))
    }

    /// The metrics in the Prometheus text exposition format.
    #[napi]
    pub fn prometheus(&self) -> String {
        self.inner.prometheus()
    }
}

/// A `check` run on libuv's thread pool.
#[derive(Debug)]
pub struct CheckTask {
    guard: CoreGuard,
    call: Option<guard::ToolCall>,
}

impl Task for CheckTask {
    type Output = guard::Decision;
    type JsValue = Decision;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        match self.call.take() {
            Some(call) => Ok(self.guard.check(&call)),
            None => Err(napi::Error::from_reason("a check task ran twice")),
        }
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output.into())
    }
}
