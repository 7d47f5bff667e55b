//! `PolicyTester`: a guard on a manual clock with records kept in memory, for testing a
//! policy deterministically (limits across windows, result rules) and for running the shared
//! conformance vectors.

use std::sync::Arc;

use aims_core::audit::MemorySink;
use aims_core::guard::{Guard, ManualClock};
use aims_core::policy::{Format, Policy};
use napi::Env;
use napi_derive::napi;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::call::{Decision, ToolCall};
use crate::errors;

/// How a `PolicyTester` reads its policy and where its clock starts.
#[napi(object)]
#[derive(Debug, Default)]
pub struct PolicyTesterOptions {
    /// The policy text's format. Default `yaml`.
    #[napi(ts_type = "'yaml' | 'json'")]
    pub format: Option<String>,
    /// The name errors give the policy. Default `<inline>`.
    pub name: Option<String>,
    /// Where the clock starts (RFC 3339). Default `2026-01-01T00:00:00Z`.
    pub start: Option<String>,
}

fn instant(env: &Env, text: &str) -> napi::Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|err| errors::invalid(env, format!("`{text}` is not an RFC 3339 time: {err}")))
}

/// A guard for tests: a clock that moves only by `setTime`, records kept in memory.
#[napi]
#[derive(Debug)]
pub struct PolicyTester {
    guard: Guard,
    clock: Arc<ManualClock>,
}

#[napi]
impl PolicyTester {
    /// Loads the policy `text`. Throws `PolicyError` (file, line, column) when it is invalid.
    #[napi(constructor)]
    pub fn new(env: Env, text: String, options: Option<PolicyTesterOptions>) -> napi::Result<Self> {
        let options = options.unwrap_or_default();
        let format = match options.format.as_deref().unwrap_or("yaml") {
            "yaml" => Format::Yaml,
            "json" => Format::Json,
            other => {
                return Err(errors::invalid(
                    &env,
                    format!("unknown policy format `{other}`: expected yaml or json"),
                ))
            }
        };
        let name = options.name.unwrap_or_else(|| "<inline>".to_owned());
        let policy =
            Policy::from_text(&text, format, name).map_err(|err| errors::policy(&env, &err))?;
        let start = options.start.as_deref().unwrap_or("2026-01-01T00:00:00Z");
        let clock = Arc::new(ManualClock::new(instant(&env, start)?));
        let guard = Guard::builder(policy)
            .sink(Arc::new(MemorySink::new()))
            .clock(clock.clone())
            .build();
        Ok(Self { guard, clock })
    }

    /// Sets the clock to `at` (RFC 3339).
    #[napi]
    pub fn set_time(&self, env: Env, at: String) -> napi::Result<()> {
        self.clock.set(instant(&env, &at)?);
        Ok(())
    }

    /// Decides `call` before it runs, as `Guard.check` does.
    #[napi]
    pub fn check(&self, call: ToolCall) -> Decision {
        self.guard.check(&call.into()).into()
    }

    /// Decides the `result` of `call`, as `Guard.checkResult` does.
    #[napi]
    pub fn check_result(&self, call: ToolCall, result: Value) -> Decision {
        self.guard.check_result(&call.into(), &result).into()
    }
}
