//! `aims policy check|explain` and `aims check` end to end: exit codes, located errors, the
//! decision JSON, limits that persist across invocations, and the example policy.
#![allow(clippy::unwrap_used)] // a test: a failed spawn or read should fail it loudly

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

fn aims(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A child that stops on a usage error before reading its input closes the pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn example_policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policy.yaml")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn check(policy: &Path, extra: &[&str], call: Value) -> (Option<i32>, Value) {
    let policy = policy.to_str().unwrap();
    let mut args = vec!["check", "--policy", policy];
    args.extend_from_slice(extra);
    let out = aims(&args, &call.to_string());
    let decision = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), decision)
}

#[test]
fn the_example_policy_is_valid_and_has_the_rules_the_register_cites() {
    let out = aims(&["policy", "check", example_policy().to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(": ok (10 rules, version "));
    let policy = aims_core::policy::Policy::from_file(example_policy()).unwrap();
    let ids: Vec<&str> = policy.rules().iter().map(|rule| rule.id()).collect();
    assert_eq!(
        ids,
        [
            "deny-shell",
            "deny-file-delete",
            "refund-cap",
            "refund-approval",
            "refund-rate-limit",
            "refund-budget",
            "email-external-redact",
            "email-secrets-deny",
            "allow-read-tools",
            "result-pii-redact",
        ]
    );
    assert!(policy
        .rules()
        .iter()
        .all(|rule| !rule.controls().is_empty()));
    let approval = policy
        .rules()
        .iter()
        .find(|r| r.id() == "refund-approval")
        .unwrap();
    assert_eq!(approval.checkpoint(), Some("refund-approval"));
}

#[test]
fn the_example_policy_decides_the_customer_service_calls() {
    let policy = example_policy();
    let call =
        |tool: &str, args: Value| json!({"agent_id": "cs-agent", "tool": tool, "args": args});
    let refund = |amount: Value| {
        call(
            "issue_refund",
            json!({"order_id": "o-1", "amount": amount, "currency": "EUR", "reason": "late"}),
        )
    };
    let cases = [
        (call("lookup_order", json!({"order_id": "o-1"})), 0, "allow"),
        (call("search_kb", json!({"query": "returns"})), 0, "allow"),
        (refund(json!(50)), 0, "allow"),
        (refund(json!(150)), 1, "require_approval"),
        (refund(json!(501)), 1, "deny"),
        (refund(json!("9000")), 1, "deny"),
        (call("shell", json!({"cmd": "ls"})), 1, "deny"),
        (
            call("delete_file", json!({"path": "/etc/passwd"})),
            1,
            "deny",
        ),
        (call("drop_database", json!({})), 1, "deny"),
        (
            call(
                "send_email",
                json!({"to": "jo@gmail.com", "subject": "Refund", "body": "Done."}),
            ),
            3,
            "redact",
        ),
        (
            call(
                "send_email",
                json!({"to": "jo@gmail.com", "subject": "Keys", "body": "api_key=abc"}),
            ),
            1,
            "deny",
        ),
    ];
    for (call, code, verdict) in cases {
        let (status, decision) = check(&policy, &[], call.clone());
        assert_eq!(status, Some(code), "{call}: {decision}");
        assert_eq!(decision["verdict"], verdict, "{call}");
    }
}

#[test]
fn policy_check_prints_located_errors_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "rules:\n  - id: a\n    match: {tool: x}\n    effect: deny\n    controls: [A.2.1]\n",
    )
    .unwrap();
    let good = example_policy();
    let out = aims(
        &[
            "policy",
            "check",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let expected = format!(
        "{}:5:16: rules[0].controls[0]: unknown Annex A control id `A.2.1`",
        bad.display()
    );
    assert!(stdout(&out).contains(&expected), "{}", stdout(&out));
    let missing = aims(&["policy", "check", "/nonexistent.yaml"], "");
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn check_exits_2_on_bad_input() {
    let policy = example_policy();
    let (status, _) = check(&policy, &[], json!({"agent_id": "a"}));
    assert_eq!(status, Some(2));
    let out = aims(&["check", "--policy", "/nonexistent.yaml", "{}"], "");
    assert_eq!(out.status.code(), Some(2));
    let out = aims(
        &["check", "--policy", policy.to_str().unwrap(), "-"],
        "not json",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid call JSON"));
}

#[test]
fn shadow_mode_exits_0_but_reports_the_verdict() {
    let (status, decision) = check(
        &example_policy(),
        &["--shadow"],
        json!({"agent_id": "cs-agent", "tool": "shell", "args": {}}),
    );
    assert_eq!(status, Some(0));
    assert_eq!(decision["verdict"], "deny");
    assert_eq!(decision["shadow"], true);
}

#[test]
fn limits_persist_across_invocations_with_log_dir() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.yaml");
    std::fs::write(
        &policy,
        "rules:\n  - id: two-per-hour\n    match: {tool: t}\n    effect: allow\n    rate_limit: {max: 2, window: 1h}\n",
    )
    .unwrap();
    let log = dir.path().join("log");
    let log_arg = log.to_str().unwrap();
    let call = json!({"agent_id": "a", "tool": "t", "args": {}});
    for _ in 0..2 {
        let (status, decision) = check(&policy, &["--log", log_arg], call.clone());
        assert_eq!(status, Some(0), "{decision}");
    }
    let (status, decision) = check(&policy, &["--log", log_arg], call.clone());
    assert_eq!(status, Some(1));
    assert_eq!(decision["reasons"][0]["code"], "rate_limited");
    // Without the state directory every process starts from zero.
    let (status, _) = check(&policy, &[], call);
    assert_eq!(status, Some(0));
    assert!(log.join("limits.json").is_file());
}

#[test]
fn concurrent_hook_processes_share_one_limit() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.yaml");
    std::fs::write(
        &policy,
        "rules:\n  - id: five\n    match: {tool: t}\n    effect: allow\n    rate_limit: {max: 5, window: 1h, per: []}\n",
    )
    .unwrap();
    let log = dir.path().join("log");
    let allowed: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (policy, log) = (&policy, &log);
                scope.spawn(move || {
                    let call = json!({"agent_id": format!("a{i}"), "tool": "t", "args": {}});
                    check(policy, &["--log", log.to_str().unwrap()], call).0 == Some(0)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap() as usize)
            .sum()
    });
    assert_eq!(allowed, 5);
}

#[test]
fn explain_prints_every_rule_and_why() {
    let call = json!({"agent_id": "cs-agent", "tool": "issue_refund", "args": {"amount": 150}});
    let out = aims(
        &[
            "policy",
            "explain",
            example_policy().to_str().unwrap(),
            "--call",
            &call.to_string(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0));
    let explanation: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(explanation["verdict"], "require_approval");
    let rules = explanation["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 10);
    let approval = rules.iter().find(|r| r["id"] == "refund-approval").unwrap();
    assert_eq!(approval["outcome"], "matched");
    assert_eq!(approval["conditions"][0]["condition"], "args/amount gt 100");
    let result_rule = rules
        .iter()
        .find(|r| r["id"] == "result-pii-redact")
        .unwrap();
    assert_eq!(result_rule["outcome"], "other_phase");
}

#[test]
fn check_prints_masked_arguments_on_redact_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "default: allow\nrules:\n  - id: mask-cards\n    match: {tool: pay}\n    effect: redact\n    redact: {entities: [CREDIT_CARD]}\n",
    )
    .unwrap();
    let call = json!({"agent_id": "a", "tool": "pay", "args": {"note": "card 4111 1111 1111 1111", "amount": 5}});
    let (code, printed) = check(&policy, &[], call.clone());
    assert_eq!(code, Some(3));
    assert_eq!(printed["verdict"], "redact");
    assert_eq!(
        printed["args"],
        json!({"note": "card <CREDIT_CARD>", "amount": 5})
    );
    assert!(!printed.to_string().contains("4111 1111"));
    // Other verdicts print no arguments and keep their exit codes.
    let (code, printed) = check(
        &policy,
        &[],
        json!({"agent_id": "a", "tool": "other", "args": {}}),
    );
    assert_eq!((code, printed.get("args")), (Some(0), None));
}

/// Runs `aims check` on raw call text (which `serde_json::Value` could not even hold).
fn check_text(policy: &Path, text: &str) -> (Option<i32>, Value) {
    let out = aims(&["check", "--policy", policy.to_str().unwrap()], text);
    let decision = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), decision)
}

fn reason_codes(decision: &Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|reason| reason["code"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn calls_a_lenient_tool_would_read_differently_are_denied() {
    let policy = example_policy();
    let refund = |args: &str| {
        format!(r#"{{"agent_id": "cs-agent", "tool": "issue_refund", "args": {args}}}"#)
    };
    let cases = [
        // A duplicate: serde_json keeps the last, other readers the first.
        (
            refund(
                r#"{"order_id": "o-1", "amount": 1000000, "amount": 1, "currency": "EUR", "reason": "x"}"#,
            ),
            "duplicate_key",
        ),
        // Keys a case-insensitive reader (Go's encoding/json) takes as one.
        (
            refund(
                r#"{"order_id": "o-1", "amount": 1, "Amount": 1000000, "currency": "EUR", "reason": "x"}"#,
            ),
            "ambiguous_keys",
        ),
        // A number a double rounds to 1.
        (
            refund(
                r#"{"order_id": "o-1", "amount": 1.00000000000000001, "currency": "EUR", "reason": "x"}"#,
            ),
            "inexact_number",
        ),
    ];
    for (text, code) in cases {
        let (status, decision) = check_text(&policy, &text);
        assert_eq!(status, Some(1), "{text}: {decision}");
        assert_eq!(decision["verdict"], "deny", "{text}");
        assert_eq!(reason_codes(&decision), [code], "{text}");
    }
}

#[test]
fn tool_name_variants_do_not_dodge_a_deny_list() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("deny-list.yaml");
    std::fs::write(
        &policy,
        "default: allow\nrules:\n  - id: no-shell\n    match: {tool: shell}\n    effect: deny\n",
    )
    .unwrap();
    let cases = [
        ("Shell", "rule_matched"),
        ("SHELL", "rule_matched"),
        ("shell\u{200b}", "tool_name_invalid"),
        (
            "\u{ff53}\u{ff48}\u{ff45}\u{ff4c}\u{ff4c}",
            "tool_name_invalid",
        ),
    ];
    for (tool, code) in cases {
        let (status, decision) = check(
            &policy,
            &[],
            json!({"agent_id": "a", "tool": tool, "args": {}}),
        );
        assert_eq!(status, Some(1), "{tool:?}: {decision}");
        assert_eq!(reason_codes(&decision), [code], "{tool:?}");
    }
    let (status, _) = check(
        &policy,
        &[],
        json!({"agent_id": "a", "tool": "ls", "args": {}}),
    );
    assert_eq!(status, Some(0));
}

#[test]
fn oversized_names_are_denied_and_logged_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let tool = "t".repeat(1 << 20);
    let (status, decision) = check(
        &example_policy(),
        &["--log", log.to_str().unwrap()],
        json!({"agent_id": "cs-agent", "tool": tool, "args": {}}),
    );
    assert_eq!(status, Some(1), "{decision}");
    assert_eq!(reason_codes(&decision), ["name_too_long"]);
    let logged: u64 = std::fs::read_dir(&log)
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum();
    assert!(logged < 64 * 1024, "{logged} bytes logged");
}
