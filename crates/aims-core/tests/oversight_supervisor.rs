//! The guard with oversight around it, from a policy file with `checkpoints` and `incidents`
//! sections: approvals opened by `require_approval`, re-hash and re-evaluation at execution
//! (including a policy reloaded in between), incident triggers with audit indices and
//! de-duplication, PII in results, audit verification failures, and anomalies.
#![allow(clippy::unwrap_used)] // a test: fixture helpers fail it loudly

use std::sync::Arc;

use aims_core::audit::{AuditEvent, MemorySink};
use aims_core::guard::{Guard, ToolCall, Verdict};
use aims_core::model::{
    CheckpointTrigger, IncidentStatus, OnTimeout, OversightCheckpoint, Severity,
};
use aims_core::oversight::{
    ApprovalError, ApprovalStatus, Clock, ManualClock, OversightStore, Supervisor, SupervisorError,
};
use aims_core::policy::{Format, Policy, PolicyError};
use serde_json::json;
use time::macros::datetime;
use time::Duration;

const POLICY: &str = r#"
default: allow
rules:
  - id: refund-cap
    match: {tool: issue_refund, args: {/amount: {gt: 500}}}
    effect: deny
    severity: high
  - id: refund-approval
    match: {tool: issue_refund, args: {/amount: {gt: 100}}}
    effect: require_approval
    checkpoint: refund-approval
    severity: medium
  - id: deny-shell
    match: {tool: shell}
    effect: deny
    severity: critical
  - id: deny-archive
    match: {tool: archive_order}
    effect: deny
    severity: low
checkpoints:
  - id: refund-approval
    ai_system_id: cs-assistant
    trigger: {policy_rules: [refund-approval]}
    approver_roles: [support_lead, finance]
    required_approvals: 2
    timeout_seconds: 1800
    on_timeout: escalate
    escalate_to: director
incidents:
  - id: critical-deny
    when: {deny_by_severity: {min_severity: critical}}
    severity: high
  - id: deny-burst
    when: {deny_burst: {count: 3, window_seconds: 600}}
  - id: pii-leak
    when: {pii_in_result: {entities: [CREDIT_CARD]}}
    severity: high
    serious_kind: other
  - id: audit-broken
    when: audit_verification_failed
    severity: critical
  - id: agent-anomaly
    when: anomaly
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    sink: Arc<MemorySink>,
    supervisor: Supervisor,
}

fn fixture_with(policy: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 10:00 UTC)));
    let sink = Arc::new(MemorySink::new());
    let policy = Policy::from_text(policy, Format::Yaml, "policy.yaml").unwrap();
    let guard = Guard::builder(policy)
        .sink(sink.clone())
        .clock(clock.clone())
        .build();
    let store = Arc::new(OversightStore::open(dir.path().join("oversight.db")).unwrap());
    let supervisor = Supervisor::builder(guard, store, sink.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    Fixture {
        _dir: dir,
        clock,
        sink,
        supervisor,
    }
}

fn refund(amount: u64) -> ToolCall {
    let mut call = ToolCall::new(
        "cs-agent",
        "issue_refund",
        json!({"order_id": "A-1", "amount": amount}),
    );
    call.ai_system_id = Some("cs-assistant".into());
    call
}

#[test]
fn require_approval_opens_a_request_that_runs_once_after_two_approvals() {
    let fx = fixture_with(POLICY);
    let checked = fx.supervisor.check(&refund(250)).unwrap();
    assert_eq!(checked.decision.verdict, Verdict::RequireApproval);
    assert!(!checked.decision.may_proceed());
    let request = checked.approval.unwrap();
    assert_eq!(request.checkpoint, "refund-approval");
    assert_eq!(request.required_approvals, 2);
    assert_eq!(request.policy_version, checked.decision.policy_version);

    let approvals = fx.supervisor.approvals();
    approvals
        .approve(&request.id, "lea", "support_lead", None)
        .unwrap();
    // One approval is not enough under the two-person rule.
    assert!(matches!(
        fx.supervisor.execute_approved(&request.id, &refund(250)),
        Err(SupervisorError::Approval(ApprovalError::NotApproved { .. }))
    ));
    approvals
        .approve(&request.id, "fin", "finance", None)
        .unwrap();

    // The agent swaps the amount after approval: refused.
    assert!(matches!(
        fx.supervisor.execute_approved(&request.id, &refund(251)),
        Err(SupervisorError::Approval(ApprovalError::CallChanged(_)))
    ));
    let cleared = fx
        .supervisor
        .execute_approved(&request.id, &refund(250))
        .unwrap();
    assert_eq!(cleared.request.status, ApprovalStatus::Executed);
    // The approved call is decided with its approval: it may proceed, and names the request.
    assert_eq!(cleared.decision.verdict, Verdict::Allow);
    assert!(cleared.decision.may_proceed());
    assert_eq!(
        cleared.decision.approval_id.as_deref(),
        Some(request.id.as_str())
    );
    assert!(matches!(
        fx.supervisor.execute_approved(&request.id, &refund(250)),
        Err(SupervisorError::Approval(ApprovalError::NotApproved { .. }))
    ));

    // Every decision and every approval step is recorded; refusals found before deciding
    // (too few approvals, a changed call) record no decision, and the approved execution
    // records one decision that may proceed, not a second require_approval.
    let kinds: Vec<String> = fx
        .sink
        .events()
        .into_iter()
        .map(|event| match event {
            AuditEvent::Decision(d) => format!("decision:{}", d.verdict.as_str()),
            AuditEvent::Approval(a) => format!("approval:{}", a.step),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "decision:require_approval",
            "approval:requested",
            "approval:approved",
            "approval:approved",
            "approval:execution_refused",
            "decision:allow",
            "approval:executed",
        ]
    );
}

#[test]
fn a_policy_reloaded_between_approval_and_execution_is_obeyed() {
    let fx = fixture_with(POLICY);
    let request = fx.supervisor.check(&refund(250)).unwrap().approval.unwrap();
    let approvals = fx.supervisor.approvals();
    approvals
        .approve(&request.id, "lea", "support_lead", None)
        .unwrap();
    approvals
        .approve(&request.id, "fin", "finance", None)
        .unwrap();

    // The new policy caps refunds at 200.
    let stricter = POLICY.replace("/amount: {gt: 500}", "/amount: {gt: 200}");
    fx.supervisor
        .guard()
        .reload(Policy::from_text(&stricter, Format::Yaml, "policy.yaml").unwrap())
        .unwrap();
    assert!(matches!(
        fx.supervisor.execute_approved(&request.id, &refund(250)),
        Err(SupervisorError::Approval(ApprovalError::PolicyNowRefuses {
            verdict: "deny",
            ..
        }))
    ));
    assert_eq!(
        approvals.status(&request.id).unwrap().status,
        ApprovalStatus::Approved
    );
}

#[test]
fn unanswered_requests_escalate_on_the_shared_clock() {
    let fx = fixture_with(POLICY);
    let request = fx.supervisor.check(&refund(250)).unwrap().approval.unwrap();
    fx.clock.advance(Duration::minutes(31));
    let escalated = fx.supervisor.approvals().status(&request.id).unwrap();
    assert!(escalated.escalated);
    assert_eq!(escalated.approver_roles, vec!["director"]);
}

#[test]
fn denies_open_incidents_linked_to_their_audit_records_and_repeats_extend_them() {
    let fx = fixture_with(POLICY);
    let shell = ToolCall::new("cs-agent", "shell", json!({"cmd": "ls"}));
    let mut indices = Vec::new();
    let mut opened = Vec::new();
    for _ in 0..3 {
        let checked = fx.supervisor.check(&shell).unwrap();
        assert_eq!(checked.decision.verdict, Verdict::Deny);
        indices.push(checked.decision.audit_index.unwrap());
        opened.extend(
            checked
                .incidents
                .iter()
                .map(|r| (r.incident.id.clone(), r.opened)),
        );
        fx.clock.advance(Duration::minutes(1));
    }
    // critical-deny opens once and is extended twice; the third deny completes the burst.
    assert_eq!(
        opened,
        [
            ("INC-2026-001".to_string(), true),
            ("INC-2026-001".to_string(), false),
            ("INC-2026-001".to_string(), false),
            ("INC-2026-002".to_string(), true),
        ]
    );
    let all = fx.supervisor.incidents().list(None).unwrap();
    assert_eq!(all.len(), 2);
    let critical = &all[0];
    assert_eq!(critical.audit_indices, indices);
    assert_eq!(critical.timeline.len(), 3);
    assert_eq!(critical.severity, Severity::High);
    assert!(critical.timeline[0].event.contains("deny-shell"));
    let burst = &all[1];
    assert_eq!(burst.audit_indices, indices);
    assert_eq!(burst.severity, Severity::Medium);

    // A burst needs its denies within the window.
    let archive = ToolCall::new("other-agent", "archive_order", json!({}));
    for _ in 0..3 {
        let checked = fx.supervisor.check(&archive).unwrap();
        assert!(checked.incidents.is_empty());
        fx.clock.advance(Duration::minutes(6));
    }
}

#[test]
fn pii_in_a_tool_result_opens_a_serious_incident_with_its_art_73_deadline() {
    let fx = fixture_with(POLICY);
    let call = ToolCall::new("cs-agent", "lookup_order", json!({"order_id": "A-1"}));
    let clean = fx
        .supervisor
        .check_result(
            &call,
            &json!({"status": "shipped", "email": "a@example.com"}),
        )
        .unwrap();
    // Only the entities the trigger names count.
    assert!(clean.incidents.is_empty());
    let leaked = fx
        .supervisor
        .check_result(&call, &json!({"card": "4111 1111 1111 1111"}))
        .unwrap();
    assert_eq!(leaked.incidents.len(), 1);
    let incident = &leaked.incidents[0].incident;
    assert!(incident.serious);
    assert_eq!(
        incident.reporting_deadline(),
        Some(fx.clock.now() + Duration::days(15))
    );
    assert!(
        !incident.timeline[0].event.contains("4111"),
        "{}",
        incident.timeline[0].event
    );
    assert!(incident.timeline[0].event.contains("CREDIT_CARD"));
}

#[test]
fn a_failed_audit_verification_opens_a_critical_incident() {
    let fx = fixture_with(POLICY);
    let raised = fx
        .supervisor
        .audit_verification_failed("record 17: prev hash mismatch")
        .unwrap();
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].incident.severity, Severity::Critical);
    assert_eq!(raised[0].incident.status, IncidentStatus::Open);
    let again = fx
        .supervisor
        .audit_verification_failed("record 18: prev hash mismatch")
        .unwrap();
    assert!(!again[0].opened);
}

#[test]
fn a_shift_in_an_agents_deny_rate_is_recorded_and_at_incident_level_opens_an_incident() {
    let fx = fixture_with(POLICY);
    let lookup = ToolCall::new("drifting-agent", "lookup_order", json!({}));
    let archive = ToolCall::new("drifting-agent", "archive_order", json!({}));
    for _ in 0..300 {
        assert!(fx.supervisor.check(&lookup).unwrap().anomalies.is_empty());
    }
    let mut anomaly_incident = None;
    for _ in 0..200 {
        let checked = fx.supervisor.check(&archive).unwrap();
        if let Some(raised) = checked.incidents.iter().find(|r| {
            r.incident
                .timeline
                .iter()
                .any(|e| e.event.contains("deny_rate"))
        }) {
            anomaly_incident = Some(raised.incident.clone());
            break;
        }
    }
    let incident = anomaly_incident.expect("an anomaly incident");
    assert!(incident.title.starts_with("agent-anomaly"));
    let recorded: Vec<_> = fx
        .sink
        .events()
        .into_iter()
        .filter_map(|event| match event {
            AuditEvent::Anomaly(a) => Some(a),
            _ => None,
        })
        .collect();
    assert!(!recorded.is_empty());
    assert!(recorded
        .iter()
        .all(|a| a.agent_id == "drifting-agent" && a.signal == "deny_rate"));
    assert_eq!(recorded[0].level, "warning");
    assert_eq!(recorded.last().unwrap().level, "incident");
}

#[test]
fn the_policy_sections_are_checked_at_load_with_line_and_column() {
    let cases = [
        (
            "  - id: deny-burst\n    when: {deny_burst: {count: 3, window_seconds: 600}}\n",
            "  - id: deny-burst\n    when: {deny_burst: {count: 3, windw_seconds: 600}}\n",
            "windw_seconds",
        ),
        (
            "when: {pii_in_result: {entities: [CREDIT_CARD]}}",
            "when: {pii_in_result: {entities: [CREDIT_KARD]}}",
            "CREDIT_KARD",
        ),
        (
            "when: audit_verification_failed",
            "when: audit_failed",
            "audit_failed",
        ),
        (
            "    on_timeout: escalate\n",
            "    on_timeout: shrug\n",
            "shrug",
        ),
    ];
    for (from, to, named) in cases {
        assert!(POLICY.contains(from), "{from}");
        let broken = POLICY.replace(from, to);
        match Policy::from_text(&broken, Format::Yaml, "policy.yaml") {
            Err(PolicyError::Invalid { line, message, .. }) => {
                let expected_line = broken.lines().position(|l| l.contains(named)).unwrap() + 1;
                assert_eq!(line, expected_line, "{message}");
                assert!(
                    message.contains(named) || message.contains("unknown"),
                    "{message}"
                );
            }
            other => panic!("{named}: expected an error, got {other:?}"),
        }
    }
    let policy = Policy::from_text(POLICY, Format::Yaml, "policy.yaml").unwrap();
    assert_eq!(policy.checkpoints().len(), 1);
    assert_eq!(policy.incident_triggers().len(), 5);
}

#[test]
fn a_checkpoint_declared_in_both_policy_and_register_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(MemorySink::new());
    let policy = Policy::from_text(POLICY, Format::Yaml, "policy.yaml").unwrap();
    let guard = Guard::builder(policy).sink(sink.clone()).build();
    let store = Arc::new(OversightStore::open(dir.path().join("o.db")).unwrap());
    let twin = OversightCheckpoint {
        id: "refund-approval".into(),
        ai_system_id: "cs-assistant".into(),
        description: None,
        trigger: CheckpointTrigger::default(),
        approver_roles: vec!["x".into()],
        required_approvals: 1,
        timeout_seconds: 60,
        on_timeout: OnTimeout::Deny,
        escalate_to: None,
    };
    assert!(matches!(
        Supervisor::builder(guard, store, sink)
            .register_checkpoints(&[twin])
            .build(),
        Err(SupervisorError::DuplicateCheckpoint(id)) if id == "refund-approval"
    ));
}

#[test]
fn the_policy_sections_read_the_same_from_json() {
    let json = r#"{
        "default": "allow",
        "rules": [],
        "incidents": [
            {"id": "burst", "when": {"deny_burst": {"count": 2, "window_seconds": 60}}},
            {"id": "drift", "when": "anomaly", "severity": "low"}
        ]
    }"#;
    let policy = Policy::from_text(json, Format::Json, "policy.json").unwrap();
    let yaml = "default: allow\nrules: []\nincidents:\n  - {id: burst, when: {deny_burst: {count: 2, window_seconds: 60}}}\n  - {id: drift, when: anomaly, severity: low}\n";
    let from_yaml = Policy::from_text(yaml, Format::Yaml, "policy.yaml").unwrap();
    assert_eq!(policy.incident_triggers(), from_yaml.incident_triggers());
    assert_eq!(policy.incident_triggers()[1].severity, Severity::Low);
}
