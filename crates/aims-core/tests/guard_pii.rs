//! The guard and the PII scanner together: every audit record holds arguments, results and
//! error messages masked, and a `redact` rule naming entities masks exactly those on the way
//! to the tool or back from it.
#![allow(clippy::unwrap_used)] // a test: setup failures should fail it loudly

use std::sync::{Arc, Mutex};

use aims_core::audit::MemorySink;
use aims_core::guard::{Guard, RunError, ToolCall};
use aims_core::policy::{Format, Policy};
use serde_json::{json, Value};

const POLICY: &str = r#"
default: allow
rules:
  - id: payout-redact
    match: {tool: payout}
    effect: redact
    redact: {entities: [IBAN_CODE, PHONE_NUMBER]}
  - id: lookup-ssn
    phase: post
    match: {tool: lookup}
    effect: redact
    redact: {entities: [US_SSN]}
"#;

/// Raw values that must never appear in a record.
const RAW: &[&str] = &[
    "GB82 WEST 1234 5698 7654 32",
    "7946 0958",
    "jane@example.org",
    "4111111111111111",
    "hunter22!",
    "AKIAIOSFODNN7EXAMPLE",
    "536-90-4399",
    "192.168.7.19",
];

fn guard() -> (Guard, Arc<MemorySink>) {
    let policy = Policy::from_text(POLICY, Format::Yaml, "guard-pii.yaml").unwrap();
    let sink = Arc::new(MemorySink::new());
    (Guard::builder(policy).sink(sink.clone()).build(), sink)
}

fn payout() -> ToolCall {
    ToolCall::new(
        "agent",
        "payout",
        json!({
            "iban": "GB82 WEST 1234 5698 7654 32",
            "phone": "+44 20 7946 0958",
            "memo": "for jane@example.org",
            "card": 4111111111111111u64,
            "auth": {"password": "hunter22!", "key": "AKIAIOSFODNN7EXAMPLE"}
        }),
    )
}

fn records(sink: &MemorySink) -> String {
    serde_json::to_string(&sink.events()).unwrap()
}

#[test]
fn redact_masks_the_named_entities_for_the_tool_and_records_hold_nothing_raw() {
    let (guard, sink) = guard();
    let seen = Mutex::new(Value::Null);
    let result = guard
        .run(&payout(), |args| {
            *seen.lock().unwrap() = args;
            Ok::<_, String>(json!({"ssn": "536-90-4399", "client_ip": "192.168.7.19"}))
        })
        .unwrap();
    let seen = seen.into_inner().unwrap();
    // Only the entities the rule names are masked on the way to the tool.
    assert_eq!(seen["iban"], "<IBAN_CODE>");
    assert_eq!(seen["phone"], "<PHONE_NUMBER>");
    assert_eq!(seen["memo"], "for jane@example.org");
    assert_eq!(seen["card"], 4111111111111111u64);
    assert_eq!(seen["auth"]["key"], "AKIAIOSFODNN7EXAMPLE");
    // No post rule for payout: the result comes back as the tool gave it.
    assert_eq!(result["ssn"], "536-90-4399");
    // Every record masks every entity the scanner knows.
    let recorded = records(&sink);
    for raw in RAW {
        assert!(!recorded.contains(raw), "{raw} in {recorded}");
    }
    for tag in [
        "<IBAN_CODE>",
        "<EMAIL_ADDRESS>",
        "<CREDIT_CARD>",
        "<GENERIC_SECRET>",
        "<AWS_ACCESS_KEY>",
    ] {
        assert!(recorded.contains(tag), "{tag} missing from {recorded}");
    }
}

#[test]
fn post_rules_mask_named_entities_in_results() {
    let (guard, sink) = guard();
    let call = ToolCall::new("agent", "lookup", json!({"customer": "c-1"}));
    let result = guard
        .run(&call, |_| {
            Ok::<_, String>(json!({"ssn": "536-90-4399", "email": "jane@example.org"}))
        })
        .unwrap();
    assert_eq!(
        result,
        json!({"ssn": "<US_SSN>", "email": "jane@example.org"})
    );
    let recorded = records(&sink);
    assert!(!recorded.contains("536-90-4399") && !recorded.contains("jane@example.org"));
}

#[test]
fn tool_errors_are_recorded_masked() {
    let (guard, sink) = guard();
    let call = ToolCall::new("agent", "lookup", json!({}));
    let failed = guard.run(&call, |_| {
        Err::<Value, _>("no account for jane@example.org (card 4111111111111111)".to_string())
    });
    assert!(matches!(failed, Err(RunError::Tool(_))));
    let recorded = records(&sink);
    assert!(
        recorded.contains("no account for <EMAIL_ADDRESS>"),
        "{recorded}"
    );
    assert!(!recorded.contains("jane@example.org") && !recorded.contains("4111111111111111"));
}
