//! The assembled runtime: configuration errors, a durable log that verifies offline, and
//! outcomes recorded by callers that run tools themselves.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::time::Duration;

use aims_core::audit::keys::KeySource;
use aims_core::audit::{for_each_record, record, verify, AuditEvent, VerifyOptions};
use aims_core::guard::{ToolCall, ToolOutcome, Verdict};
use aims_core::oversight::{ApprovalNotice, ApprovalStatus, ApprovalStep};
use aims_core::runtime::{Runtime, RuntimeConfig, RuntimeError};
use serde_json::json;

const POLICY: &str = r#"
default: deny
rules:
  - id: allow-lookup
    match: {tool: lookup_order}
    effect: allow
    controls: [A.9.2]
"#;

fn runtime_in(dir: &std::path::Path) -> Runtime {
    Runtime::open(RuntimeConfig {
        policy_text: Some(POLICY.into()),
        audit_dir: Some(dir.to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap()
}

#[test]
fn decisions_and_outcomes_land_in_a_log_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("log");
    let runtime = runtime_in(&log_dir);
    assert!(matches!(
        runtime.key_source(),
        Some(KeySource::Generated(_))
    ));

    let allowed = ToolCall::new("cs-agent", "lookup_order", json!({"order_id": "A-1"}));
    let decision = runtime.check(&allowed);
    assert_eq!(decision.verdict, Verdict::Allow);
    assert_eq!(decision.controls, vec!["A.9.2".to_owned()]);
    runtime
        .record_outcome(
            &allowed,
            &decision,
            &ToolOutcome::ok(Duration::from_millis(3)),
        )
        .unwrap();
    let denied = runtime.check(&ToolCall::new("cs-agent", "shell", json!({"cmd": "ls"})));
    assert_eq!(denied.verdict, Verdict::Deny);
    runtime.flush().unwrap();

    let report = verify(&log_dir, &VerifyOptions::default()).unwrap();
    assert!(report.records >= 3, "{report:?}");
    let mut kinds = Vec::new();
    for_each_record(&log_dir, |_, payload| {
        match record::decode(payload).map(|record| record.event) {
            Ok(AuditEvent::Decision(_)) => kinds.push("decision"),
            Ok(AuditEvent::Outcome(_)) => kinds.push("outcome"),
            _ => {}
        }
    })
    .unwrap();
    assert_eq!(kinds, ["decision", "outcome", "decision"]);
}

#[test]
fn reopening_reuses_the_generated_key() {
    let dir = tempfile::tempdir().unwrap();
    drop(runtime_in(dir.path()));
    let again = runtime_in(dir.path());
    assert!(matches!(again.key_source(), Some(KeySource::InLogDir(_))));
}

#[test]
fn policy_errors_keep_line_and_column() {
    let err = Runtime::open(RuntimeConfig {
        policy_text: Some("rules:\n  - id: x\n    effect: maybe\n".into()),
        ..RuntimeConfig::default()
    })
    .unwrap_err();
    match err {
        RuntimeError::Policy(policy) => {
            let text = policy.to_string();
            assert!(text.starts_with("<inline>:3:"), "{text}");
        }
        other => panic!("expected a policy error, got {other:?}"),
    }
}

#[test]
fn configuration_must_name_exactly_one_policy() {
    let none = Runtime::open(RuntimeConfig::default()).unwrap_err();
    assert!(matches!(none, RuntimeError::Config(ref m) if m.contains("policy is required")));
    let both = Runtime::open(RuntimeConfig {
        policy_text: Some(POLICY.into()),
        policy_path: Some("policy.yaml".into()),
        ..RuntimeConfig::default()
    })
    .unwrap_err();
    assert!(matches!(both, RuntimeError::Config(ref m) if m.contains("not both")));
}

#[test]
fn json_configuration_rejects_unknown_fields_and_bad_modes() {
    let unknown = Runtime::from_json(r#"{"policy_text": "rules: []", "audit": "x"}"#).unwrap_err();
    assert!(matches!(unknown, RuntimeError::Config(ref m) if m.contains("unknown field `audit`")));
    let mode = Runtime::from_json(r#"{"policy_text": "rules: []", "durability": "sometimes"}"#)
        .unwrap_err();
    assert!(matches!(mode, RuntimeError::Config(ref m) if m.contains("sometimes")));
    let ok = Runtime::from_json(r#"{"policy_text": "default: allow\nrules: []", "shadow": true}"#)
        .unwrap();
    assert!(ok.check(&ToolCall::new("a", "t", json!({}))).may_proceed());
}

#[test]
fn an_oversight_store_puts_approvals_around_the_guard() {
    let dir = tempfile::tempdir().unwrap();
    let policy = r#"
default: allow
rules:
  - id: big-refund
    match: {tool: issue_refund, args: {/amount: {gt: 100}}}
    effect: require_approval
    checkpoint: refunds
checkpoints:
  - id: refunds
    ai_system_id: cs-assistant
    trigger: {policy_rules: [big-refund]}
    approver_roles: [lead]
    required_approvals: 1
    timeout_seconds: 600
    on_timeout: deny
"#;
    let config = RuntimeConfig {
        policy_text: Some(policy.into()),
        audit_dir: Some(dir.path().join("log")),
        oversight_store: Some(dir.path().join("oversight.db")),
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::open(config).unwrap();
    let supervisor = runtime.supervisor().unwrap();
    let call = ToolCall::new("agent", "issue_refund", json!({"amount": 150}));
    let request = supervisor.check(&call).unwrap().approval.unwrap();
    supervisor
        .approvals()
        .approve(&request.id, "lea", "lead", None)
        .unwrap();
    supervisor.execute_approved(&request.id, &call).unwrap();
    runtime.flush().unwrap();
    // The approval steps are in the same signed log as the decisions.
    let log_dir = dir.path().join("log");
    verify(&log_dir, &VerifyOptions::default()).unwrap();
    let mut steps = Vec::new();
    for_each_record(&log_dir, |_, payload| {
        if let Ok(AuditEvent::Approval(approval)) = record::decode(payload).map(|r| r.event) {
            steps.push(approval.step);
        }
    })
    .unwrap();
    assert_eq!(steps, ["requested", "approved", "executed"]);
    assert!(Runtime::open(RuntimeConfig {
        policy_text: Some(POLICY.into()),
        ..RuntimeConfig::default()
    })
    .unwrap()
    .supervisor()
    .is_none());
}

const OVERSEEN: &str = r#"
default: deny
rules:
  - id: refund-approval
    match:
      tool: issue_refund
      args: {/amount: {gt: 100}}
    effect: require_approval
    checkpoint: refund-approval
  - id: refund-allow
    match: {tool: issue_refund}
    effect: allow
checkpoints:
  - id: refund-approval
    ai_system_id: cs-assistant
    trigger: {policy_rules: [refund-approval]}
    approver_roles: [support_lead]
    required_approvals: 1
    timeout_seconds: 1800
    on_timeout: deny
"#;

#[test]
fn require_approval_opens_a_request_that_clears_the_exact_call_once() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::open(RuntimeConfig {
        policy_text: Some(OVERSEEN.into()),
        audit_dir: Some(dir.path().join("log")),
        oversight_store: Some(dir.path().join("oversight.db")),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let call = ToolCall::new(
        "cs-agent",
        "issue_refund",
        json!({"order_id": "A-1", "amount": 250}),
    );
    let decision = runtime.check(&call);
    assert_eq!(decision.verdict, Verdict::RequireApproval);
    let approval_id = decision.approval_id.clone().expect("a request is opened");

    // Not approved yet: the call cannot be cleared.
    assert!(runtime.execute_approved(&approval_id, &call).is_err());
    runtime
        .approvals()
        .unwrap()
        .approve(
            &approval_id,
            "dana",
            "support_lead",
            Some("checked the order"),
        )
        .unwrap();

    // A changed call does not ride on the approval.
    let changed = ToolCall::new(
        "cs-agent",
        "issue_refund",
        json!({"order_id": "A-1", "amount": 499}),
    );
    assert!(runtime.execute_approved(&approval_id, &changed).is_err());
    let cleared = runtime.execute_approved(&approval_id, &call).unwrap();
    // The approved call proceeds and names its request.
    assert_eq!(cleared.verdict, Verdict::Allow);
    assert_eq!(cleared.approval_id.as_deref(), Some(approval_id.as_str()));
    assert!(
        runtime.execute_approved(&approval_id, &call).is_err(),
        "executes once"
    );
    runtime.flush().unwrap();
    verify(&dir.path().join("log"), &VerifyOptions::default()).unwrap();
}

#[test]
fn without_a_store_there_is_no_request_and_oversight_calls_say_why() {
    let runtime = Runtime::open(RuntimeConfig {
        policy_text: Some(OVERSEEN.into()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let decision = runtime.check(&ToolCall::new("a", "issue_refund", json!({"amount": 250})));
    assert_eq!(decision.verdict, Verdict::RequireApproval);
    assert_eq!(decision.approval_id, None);
    assert!(matches!(
        runtime.approvals(),
        Err(RuntimeError::NoOversight)
    ));
}

#[test]
fn notifiers_given_at_open_hear_every_approval_step_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (sender, notices) = std::sync::mpsc::channel::<ApprovalNotice>();
    let runtime = Runtime::open_with_notifiers(
        RuntimeConfig {
            policy_text: Some(OVERSEEN.into()),
            audit_dir: Some(dir.path().join("log")),
            oversight_store: Some(dir.path().join("oversight.db")),
            ..RuntimeConfig::default()
        },
        vec![Box::new(sender)],
    )
    .unwrap();
    let call = ToolCall::new("cs-agent", "issue_refund", json!({"amount": 250}));
    let approval_id = runtime.check(&call).approval_id.unwrap();
    runtime
        .approvals()
        .unwrap()
        .approve(&approval_id, "dana", "support_lead", None)
        .unwrap();
    let changed = ToolCall::new("cs-agent", "issue_refund", json!({"amount": 251}));
    assert!(runtime.execute_approved(&approval_id, &changed).is_err());
    runtime.execute_approved(&approval_id, &call).unwrap();

    let heard: Vec<_> = notices.try_iter().collect();
    assert!(heard.iter().all(|notice| notice.request.id == approval_id));
    let steps: Vec<_> = heard
        .iter()
        .map(|notice| (notice.step, notice.request.status))
        .collect();
    assert_eq!(
        steps,
        [
            (ApprovalStep::Requested, ApprovalStatus::Pending),
            (ApprovalStep::Approved, ApprovalStatus::Approved),
            (ApprovalStep::ExecutionRefused, ApprovalStatus::Approved),
            (ApprovalStep::Executed, ApprovalStatus::Executed),
        ]
    );
}

#[test]
fn results_are_produced_for_oversight_that_scans_them_and_not_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let scanning = r#"
default: allow
rules:
  - id: reads
    match: {tool: lookup_order}
    effect: allow
incidents:
  - id: pii-leak
    when: {pii_in_result: {entities: [CREDIT_CARD]}}
    severity: high
    serious_kind: other
"#;
    let call = ToolCall::new("agent", "lookup_order", json!({"order_id": "o-1"}));
    let card = json!({"card": "4111 1111 1111 1111"});
    let open = |policy: &str, store: Option<&str>| {
        Runtime::open(RuntimeConfig {
            policy_text: Some(policy.into()),
            oversight_store: store.map(|name| dir.path().join(name)),
            ..RuntimeConfig::default()
        })
        .unwrap()
    };
    let mut produced = 0;
    let mut produce = || {
        produced += 1;
        Ok::<_, ()>(card.clone())
    };

    // pii_in_result triggers read every result: it is produced, and the card opens an incident.
    let overseen = open(scanning, Some("scan.db"));
    let decision = overseen
        .check_result_when_seen(&call, &mut produce)
        .unwrap();
    assert!(decision.is_some_and(|decision| decision.may_proceed()));
    assert_eq!(overseen.incidents().unwrap().list(None).unwrap().len(), 1);

    // Neither a result rule nor a scanning trigger: nothing can see the result.
    let plain = open(POLICY, None);
    assert!(plain
        .check_result_when_seen(&call, &mut produce)
        .unwrap()
        .is_none());
    let unscanned = open(OVERSEEN, Some("plain.db"));
    assert!(unscanned
        .check_result_when_seen(&call, &mut produce)
        .unwrap()
        .is_none());
    assert_eq!(produced, 1);
}
