//! Runs the shared conformance vectors in `tests/vectors/` (format: `tests/vectors/README.md`).
//! The Python, Node and Kotlin bindings run the same files, so every language decides alike.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: bad vector files fail it loudly

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aims_core::audit::MemorySink;
use aims_core::guard::{Decision, Guard, ManualClock, ToolCall};
use aims_core::policy::{Format, Policy};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const START: &str = "2026-01-01T00:00:00Z";

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The decision's value for one expectation field, or `None` for an unknown field.
fn observed(decision: &Decision, field: &str) -> Option<Value> {
    Some(match field {
        "verdict" => json!(decision.verdict),
        "rule_ids" => json!(decision.rule_ids),
        "controls" => json!(decision.controls),
        "reason_codes" => json!(decision.reasons.iter().map(|r| &r.code).collect::<Vec<_>>()),
        "checkpoint" => json!(decision.checkpoint),
        "may_proceed" => json!(decision.may_proceed()),
        "redactions" => decision
            .redactions
            .iter()
            .map(|r| json!({"rule_id": r.rule_id, "pointers": r.pointers, "entities": r.entities}))
            .collect(),
        _ => return None,
    })
}

/// Every expectation the decision does not meet.
fn compare(decision: &Decision, expect: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (field, expected) in expect.as_object().unwrap() {
        match observed(decision, field) {
            Some(got) if &got == expected => {}
            Some(got) => problems.push(format!("{field}: expected {expected}, got {got}")),
            None => problems.push(format!("unknown expectation `{field}`")),
        }
    }
    problems
}

fn run_decision_vector(name: &str, vector: &Value, failures: &mut Vec<String>) -> usize {
    let policy_text = vector["policy"].to_string();
    let policy = Policy::from_text(&policy_text, Format::Json, format!("{name}.json"))
        .unwrap_or_else(|err| panic!("{name}: policy does not load: {err}"));
    let start = OffsetDateTime::parse(START, &Rfc3339).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let guard = Guard::builder(policy)
        .sink(Arc::new(MemorySink::new()))
        .clock(clock.clone())
        .build();
    let steps = vector["steps"].as_array().expect("steps");
    for step in steps {
        let step_name = step["name"].as_str().unwrap_or("?");
        if let Some(at) = step.get("at").and_then(Value::as_str) {
            clock.set(OffsetDateTime::parse(at, &Rfc3339).unwrap());
        }
        let call: ToolCall = serde_json::from_value(step["call"].clone())
            .unwrap_or_else(|err| panic!("{name}: {step_name}: bad call: {err}"));
        let decision = match step.get("result") {
            Some(result) => guard.check_result(&call, result),
            None => guard.check(&call),
        };
        for problem in compare(&decision, &step["expect"]) {
            failures.push(format!("{name}: {step_name}: {problem}"));
        }
    }
    steps.len()
}

fn run_invalid_vector(name: &str, vector: &Value, failures: &mut Vec<String>) -> usize {
    let cases = vector["cases"].as_array().expect("cases");
    for case in cases {
        let case_name = case["name"].as_str().unwrap_or("?");
        let (format, file) = match case["format"].as_str() {
            Some("json") => (Format::Json, "policy.json"),
            _ => (Format::Yaml, "policy.yaml"),
        };
        let text = case["text"].as_str().unwrap();
        let error = &case["error"];
        let prefix = format!("{file}:{}:{}: ", error["line"], error["column"]);
        match Policy::from_text(text, format, file) {
            Ok(_) => failures.push(format!("{name}: {case_name}: loaded but must be rejected")),
            Err(err) => {
                let message = err.to_string();
                let contains = error["contains"].as_str().unwrap();
                if !message.starts_with(&prefix) || !message.contains(contains) {
                    failures.push(format!(
                        "{name}: {case_name}: expected `{prefix}...{contains}...`, got `{message}`"
                    ));
                }
            }
        }
    }
    cases.len()
}

#[test]
fn every_conformance_vector_passes() {
    let files = vector_files();
    assert!(files.len() >= 9, "vector files missing: {files:?}");
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in &files {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let vector = load(path);
        checked += if vector.get("cases").is_some() {
            run_invalid_vector(name, &vector, &mut failures)
        } else {
            run_decision_vector(name, &vector, &mut failures)
        };
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 150, "only {checked} vector steps ran");
}
