//! Fuzzes call evaluation from JSON text: a call reads strictly or is refused, and every call
//! is decided; refusals (input checks) only ever deny.
#![no_main]

use aims_core::guard::{parse_call, CallJsonError, Guard, Verdict};
use aims_core::policy::{Format, Policy};
use libfuzzer_sys::fuzz_target;

const POLICY: &str = include_str!("../../examples/policy.yaml");

fuzz_target!(|text: &str| {
    let Ok(policy) = Policy::from_text(POLICY, Format::Yaml, "policy.yaml") else {
        return;
    };
    let guard = Guard::builder(policy).build();
    match parse_call(text) {
        Ok(call) => {
            let _ = guard.check(&call);
        }
        Err(CallJsonError::Refused { call, problem }) => {
            assert_eq!(guard.refuse(&call, &problem).verdict, Verdict::Deny);
        }
        Err(CallJsonError::Invalid(_)) => {}
    }
});
