//! "Approve, then retry" through the supervisor and the runtime: an identical call joins the
//! pending request, an approved request is consumed once by the identical call (which then
//! proceeds and counts against limits and budgets), `execute_approved` returns a decision that
//! may proceed, and a reload swaps the policy and its checkpoints together.
#![allow(clippy::unwrap_used)] // a test: fixture helpers fail it loudly

use std::sync::Arc;

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{AuditEvent, MemorySink};
use aims_core::guard::{Guard, ToolCall, Verdict};
use aims_core::oversight::{
    ApprovalKeys, ApprovalStatus, ManualClock, OversightStore, Supervisor, SupervisorError,
};
use aims_core::policy::{Format, Policy};
use aims_core::runtime::{Runtime, RuntimeConfig};
use serde_json::json;
use time::macros::datetime;

const POLICY: &str = r#"
name: retry
default: allow
rules:
  - id: refund-limits
    match: {tool: issue_refund}
    effect: allow
    rate_limit: {max: 2, window: 1h, per: [agent]}
    budget: {sum: /amount, max: 300, window: 1h, per: [agent]}
  - id: refund-approval
    match: {tool: issue_refund, args: {/amount: {gt: 100}}}
    effect: require_approval
    checkpoint: refund-approval
checkpoints:
  - id: refund-approval
    ai_system_id: cs-assistant
    trigger: {policy_rules: [refund-approval]}
    approver_roles: [support_lead, finance]
    required_approvals: 2
    timeout_seconds: 1800
    on_timeout: deny
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    sink: Arc<MemorySink>,
    supervisor: Supervisor,
}

fn policy(text: &str) -> Policy {
    Policy::from_text(text, Format::Yaml, "policy.yaml").unwrap()
}

fn fixture(text: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 10:00 UTC)));
    let sink = Arc::new(MemorySink::new());
    let guard = Guard::builder(policy(text))
        .sink(sink.clone())
        .clock(clock.clone())
        .build();
    let store = Arc::new(OversightStore::open(dir.path().join("oversight.db")).unwrap());
    let keys = ApprovalKeys::new(NoteSigner::from_seed("runtime", [3; 32]).unwrap());
    let supervisor = Supervisor::builder(guard, store, sink.clone())
        .clock(clock)
        .approval_keys(keys)
        .build()
        .unwrap();
    Fixture {
        _dir: dir,
        sink,
        supervisor,
    }
}

fn refund(order: &str, amount: u64) -> ToolCall {
    let mut call = ToolCall::new(
        "cs-agent",
        "issue_refund",
        json!({"order_id": order, "amount": amount}),
    );
    call.ai_system_id = Some("cs-assistant".into());
    call.conversation_id = Some("conv-1".into());
    call
}

impl Fixture {
    fn approve_twice(&self, id: &str) {
        let approvals = self.supervisor.approvals();
        approvals.approve(id, "lea", "support_lead", None).unwrap();
        approvals.approve(id, "fin", "finance", None).unwrap();
    }

    fn count(&self, wanted: &str) -> usize {
        self.sink
            .events()
            .into_iter()
            .filter(|event| match event {
                AuditEvent::Decision(d) => format!("decision:{}", d.verdict.as_str()) == wanted,
                AuditEvent::Approval(a) => format!("approval:{}", a.step) == wanted,
                AuditEvent::PolicyLoaded(_) => wanted == "policy_loaded",
                _ => false,
            })
            .count()
    }
}

#[test]
fn approve_then_retry_runs_the_identical_call_once_and_a_second_retry_needs_a_new_approval() {
    // Failed before: the retry opened a new request and required approval again.
    let fx = fixture(POLICY);
    let call = refund("A-1", 120);
    let first = fx.supervisor.check(&call).unwrap();
    assert_eq!(first.decision.verdict, Verdict::RequireApproval);
    let id = first.decision.approval_id.clone().unwrap();

    // While pending, the identical call returns the same request: no pile-up.
    let again = fx.supervisor.check(&call).unwrap();
    assert_eq!(again.decision.verdict, Verdict::RequireApproval);
    assert_eq!(again.decision.approval_id.as_deref(), Some(id.as_str()));
    assert_eq!(fx.supervisor.approvals().list(None).unwrap().len(), 1);
    assert_eq!(fx.count("approval:requested"), 1);

    fx.approve_twice(&id);
    // Another call (a different amount) does not consume this approval.
    let other = fx.supervisor.check(&refund("A-1", 121)).unwrap();
    assert_eq!(other.decision.verdict, Verdict::RequireApproval);
    assert_ne!(other.decision.approval_id.as_deref(), Some(id.as_str()));

    // The identical call consumes it: it may proceed, names the request, runs once.
    let retried = fx.supervisor.check(&call).unwrap();
    assert!(retried.decision.may_proceed(), "{:?}", retried.decision);
    assert_eq!(retried.decision.verdict, Verdict::Allow);
    assert_eq!(retried.decision.approval_id.as_deref(), Some(id.as_str()));
    assert!(retried
        .decision
        .reasons
        .iter()
        .any(|reason| reason.code == "approval_granted"));
    let request = retried.approval.unwrap();
    assert_eq!(request.status, ApprovalStatus::Executed);
    assert_eq!(fx.count("approval:executed"), 1);

    // A second retry needs a new approval.
    let second = fx.supervisor.check(&call).unwrap();
    assert_eq!(second.decision.verdict, Verdict::RequireApproval);
    let new_id = second.decision.approval_id.unwrap();
    assert_ne!(new_id, id);
    assert_eq!(
        fx.supervisor.approvals().status(&new_id).unwrap().status,
        ApprovalStatus::Pending
    );
}

#[test]
fn execute_approved_returns_a_decision_that_may_proceed_and_records_no_second_require_approval() {
    // Failed before: the decision returned was the fresh require_approval (may_proceed false),
    // and a second require_approval decision was recorded.
    let fx = fixture(POLICY);
    let call = refund("A-2", 250);
    let id = fx
        .supervisor
        .check(&call)
        .unwrap()
        .decision
        .approval_id
        .unwrap();
    fx.approve_twice(&id);
    let before = fx.count("decision:require_approval");
    let cleared = fx.supervisor.execute_approved(&id, &call).unwrap();
    assert!(cleared.decision.may_proceed());
    assert_eq!(cleared.decision.approval_id.as_deref(), Some(id.as_str()));
    assert_eq!(fx.count("decision:require_approval"), before);
    assert_eq!(fx.count("decision:allow"), 1);
}

#[test]
fn approved_executions_count_against_rate_limits_and_budgets() {
    // Failed before: five approved refunds of 250 all ran against a budget of 300/h and a
    // limit of 2/h.
    let fx = fixture(POLICY);
    let calls: Vec<ToolCall> = (0..5).map(|i| refund(&format!("B-{i}"), 250)).collect();
    let mut ids = Vec::new();
    for call in &calls {
        let id = fx
            .supervisor
            .check(call)
            .unwrap()
            .decision
            .approval_id
            .unwrap();
        fx.approve_twice(&id);
        ids.push(id);
    }
    let mut ran = 0;
    let mut reasons = Vec::new();
    for call in &calls {
        let decision = fx.supervisor.check(call).unwrap().decision;
        if decision.may_proceed() {
            ran += 1;
        } else {
            assert_eq!(decision.verdict, Verdict::Deny);
            reasons.extend(decision.reasons.into_iter().map(|reason| reason.code));
        }
    }
    assert_eq!(ran, 1, "250 fits a budget of 300 once");
    assert!(
        reasons.iter().any(|code| code == "budget_exceeded"),
        "{reasons:?}"
    );
    // The refused ones stay approved (a later window may run them) and were recorded.
    let approved = fx
        .supervisor
        .approvals()
        .list(Some(ApprovalStatus::Approved))
        .unwrap();
    assert_eq!(approved.len(), 4);
    assert_eq!(fx.count("approval:execution_refused"), 4);
    // Executing by id counts too.
    assert!(matches!(
        fx.supervisor.execute_approved(&ids[1], &calls[1]),
        Err(SupervisorError::Approval(_))
    ));
}

const POLICY_WITHOUT_APPROVALS: &str = r#"
name: reload-v1
default: allow
rules:
  - id: deny-shell
    match: {tool: shell}
    effect: deny
"#;

const POLICY_WITH_NEW_CHECKPOINT: &str = r#"
name: reload-v2
default: allow
rules:
  - id: big-refund
    match: {tool: issue_refund, args: {/amount: {gt: 100}}}
    effect: require_approval
    checkpoint: big-refund
checkpoints:
  - id: big-refund
    ai_system_id: cs-assistant
    trigger: {policy_rules: [big-refund]}
    approver_roles: [finance]
    required_approvals: 1
    timeout_seconds: 600
    on_timeout: deny
"#;

#[test]
fn reload_swaps_the_policy_and_its_checkpoints_together_as_one_event() {
    // Failed before: after a reload to a policy with a new checkpoint, check raised
    // `unknown oversight checkpoint`.
    let fx = fixture(POLICY_WITHOUT_APPROVALS);
    let call = refund("C-1", 250);
    assert_eq!(
        fx.supervisor.check(&call).unwrap().decision.verdict,
        Verdict::Allow
    );
    let loaded_before = fx.count("policy_loaded");
    fx.supervisor
        .reload(policy(POLICY_WITH_NEW_CHECKPOINT))
        .unwrap();
    assert_eq!(fx.count("policy_loaded"), loaded_before + 1);
    let in_force = fx.supervisor.guard().policy_version();
    let checked = fx.supervisor.check(&call).unwrap();
    assert_eq!(checked.decision.verdict, Verdict::RequireApproval);
    assert_eq!(checked.approval.unwrap().checkpoint, "big-refund");

    // An invalid oversight configuration is refused whole: the policy in force stays.
    let duplicated = POLICY_WITH_NEW_CHECKPOINT.replace("name: reload-v2", "name: bad")
        + r#"  - id: big-refund
    ai_system_id: cs-assistant
    trigger: {policy_rules: [big-refund]}
    approver_roles: [finance]
    required_approvals: 1
    timeout_seconds: 600
    on_timeout: deny
"#;
    assert!(matches!(
        fx.supervisor.reload(policy(&duplicated)),
        Err(SupervisorError::DuplicateCheckpoint(_))
    ));
    assert_eq!(fx.supervisor.guard().policy_version(), in_force);
    assert_eq!(fx.count("policy_loaded"), loaded_before + 1);
}

#[test]
fn runtime_reload_brings_the_new_checkpoints_and_check_names_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::open(RuntimeConfig {
        policy_text: Some(POLICY_WITHOUT_APPROVALS.into()),
        oversight_store: Some(dir.path().join("oversight.db")),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let call = refund("D-1", 250);
    assert_eq!(runtime.check(&call).verdict, Verdict::Allow);
    runtime.reload(policy(POLICY_WITH_NEW_CHECKPOINT)).unwrap();
    let decision = runtime.check(&call);
    assert_eq!(decision.verdict, Verdict::RequireApproval, "{decision:?}");
    let id = decision.approval_id.unwrap();
    runtime
        .approvals()
        .unwrap()
        .approve(&id, "fin", "finance", None)
        .unwrap();
    let retried = runtime.check(&call);
    assert!(retried.may_proceed(), "{retried:?}");
    assert_eq!(retried.approval_id.as_deref(), Some(id.as_str()));
}
