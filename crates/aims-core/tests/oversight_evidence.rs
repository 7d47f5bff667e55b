//! Approvals that cannot be forged or stretched: a store edited with SQL does not let a call
//! run, votes count only with a trusted signature, identities are normalised for the
//! two-person rule, an approval is bound to the call's context, conversation and AI system and
//! expires after its execution window, and votes cast in another process reach the executing
//! runtime's audit log.
#![allow(clippy::unwrap_used)] // a test: fixture helpers fail it loudly

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{AuditEvent, MemorySink};
use aims_core::guard::{Guard, ToolCall, Verdict};
use aims_core::oversight::{
    ApprovalError, ApprovalKeys, ApprovalStatus, Approvals, ManualClock, OversightStore,
    Supervisor, SupervisorError,
};
use aims_core::policy::{Format, Policy};
use serde_json::json;
use time::macros::datetime;
use time::Duration;

const POLICY: &str = r#"
default: allow
rules:
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

fn runtime_signer() -> NoteSigner {
    NoteSigner::from_seed("runtime", [3; 32]).unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: Arc<ManualClock>,
    sink: Arc<MemorySink>,
    supervisor: Supervisor,
}

fn fixture_with(keys: ApprovalKeys, window: Option<StdDuration>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oversight.db");
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 10:00 UTC)));
    let sink = Arc::new(MemorySink::new());
    let policy = Policy::from_text(POLICY, Format::Yaml, "policy.yaml").unwrap();
    let guard = Guard::builder(policy)
        .sink(sink.clone())
        .clock(clock.clone())
        .build();
    let store = Arc::new(OversightStore::open(&path).unwrap());
    let mut builder = Supervisor::builder(guard, store, sink.clone())
        .clock(clock.clone())
        .approval_keys(keys);
    if let Some(window) = window {
        builder = builder.execution_window(window);
    }
    Fixture {
        _dir: dir,
        path,
        clock,
        sink,
        supervisor: builder.build().unwrap(),
    }
}

fn fixture() -> Fixture {
    fixture_with(ApprovalKeys::new(runtime_signer()), None)
}

fn refund(amount: u64) -> ToolCall {
    let mut call = ToolCall::new(
        "cs-agent",
        "issue_refund",
        json!({"order_id": "A-1", "amount": amount}),
    );
    call.ai_system_id = Some("cs-assistant".into());
    call.conversation_id = Some("conv-1".into());
    call.context = json!({"user_id": "alice", "tenant": "eu-1"});
    call
}

impl Fixture {
    fn open(&self, call: &ToolCall) -> String {
        self.supervisor
            .check(call)
            .unwrap()
            .decision
            .approval_id
            .unwrap()
    }

    fn approve_twice(&self, id: &str) {
        let approvals = self.supervisor.approvals();
        approvals.approve(id, "lea", "support_lead", None).unwrap();
        approvals.approve(id, "fin", "finance", None).unwrap();
    }

    fn sql(&self, statement: &str) {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        conn.execute_batch(statement).unwrap();
    }

    fn approval_steps(&self) -> Vec<(String, Option<String>, Option<String>)> {
        self.sink
            .events()
            .into_iter()
            .filter_map(|event| match event {
                AuditEvent::Approval(a) => Some((a.step, a.actor, a.note)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn an_sql_update_to_approved_does_not_let_the_call_run() {
    // Failed before: `UPDATE ... SET status='approved'` let the call execute.
    let fx = fixture();
    let call = refund(250);
    let id = fx.open(&call);
    fx.sql(&format!(
        "UPDATE approval_requests SET status = 'approved' WHERE id = '{id}'"
    ));
    match fx.supervisor.execute_approved(&id, &call) {
        Err(SupervisorError::Approval(ApprovalError::Unverified { problem, .. })) => {
            assert!(problem.contains("0 of the 2"), "{problem}");
        }
        other => panic!("expected Unverified, got {other:?}"),
    }
    // The retry path does not run it either: the forged request is refused (and recorded),
    // and the call asks for approval again.
    let retried = fx.supervisor.check(&call).unwrap();
    assert_eq!(retried.decision.verdict, Verdict::RequireApproval);
    assert_ne!(retried.decision.approval_id.as_deref(), Some(id.as_str()));
    let refusals = fx
        .approval_steps()
        .into_iter()
        .filter(|(step, _, note)| {
            step == "execution_refused" && note.as_deref().unwrap_or("").contains("does not verify")
        })
        .count();
    assert_eq!(refusals, 2);
}

#[test]
fn forged_votes_and_edited_terms_do_not_verify() {
    let fx = fixture();
    let call = refund(250);

    // Votes inserted by hand, unsigned or with a signature moved from another request.
    let id = fx.open(&call);
    let other = fx.open(&refund(300));
    fx.approve_twice(&other);
    fx.sql(&format!(
        "INSERT INTO approval_votes (request_id, approver, role, vote, at_ns, signature)
           SELECT '{id}', approver, role, vote, at_ns, signature FROM approval_votes
           WHERE request_id = '{other}';
         UPDATE approval_requests SET status = 'approved' WHERE id = '{id}';"
    ));
    assert!(matches!(
        fx.supervisor.execute_approved(&id, &call),
        Err(SupervisorError::Approval(ApprovalError::Unverified { .. }))
    ));

    // The signed terms edited to need one approval: the seal breaks.
    let call = refund(260);
    let id = fx.open(&call);
    fx.supervisor
        .approvals()
        .approve(&id, "lea", "support_lead", None)
        .unwrap();
    fx.sql(&format!(
        "UPDATE approval_requests
           SET terms = replace(terms, '\"required_approvals\":2', '\"required_approvals\":1'),
               required_approvals = 1, status = 'approved'
           WHERE id = '{id}'"
    ));
    match fx.supervisor.execute_approved(&id, &call) {
        Err(SupervisorError::Approval(ApprovalError::Unverified { problem, .. })) => {
            assert!(
                problem.contains("not signed by a trusted runtime key"),
                "{problem}"
            );
        }
        other => panic!("expected Unverified, got {other:?}"),
    }
}

#[test]
fn a_request_sealed_by_an_untrusted_runtime_does_not_verify() {
    // Another process opened and approved the request with a key this runtime does not trust.
    let fx = fixture();
    let call = refund(250);
    let stranger = Approvals::new(
        Arc::new(OversightStore::open(&fx.path).unwrap()),
        Arc::new(MemorySink::new()),
    )
    .unwrap()
    .with_clock(fx.clock.clone())
    .with_checkpoint(
        &Policy::from_text(POLICY, Format::Yaml, "p")
            .unwrap()
            .checkpoints()[0],
    )
    .unwrap();
    let decision = fx.supervisor.guard().check(&call);
    let id = stranger.request(&call, &decision).unwrap().id;
    stranger.approve(&id, "lea", "support_lead", None).unwrap();
    stranger.approve(&id, "fin", "finance", None).unwrap();
    assert!(matches!(
        fx.supervisor.execute_approved(&id, &call),
        Err(SupervisorError::Approval(ApprovalError::Unverified { .. }))
    ));
}

#[test]
fn the_two_person_rule_compares_normalised_identities_and_refuses_blank_ones() {
    // Failed before: "Alice" and "alice " approved alice's own call; "" was accepted.
    let fx = fixture();
    let id = fx.open(&refund(250));
    let approvals = fx.supervisor.approvals();
    for me in ["Alice", "alice ", "ＡＬＩＣＥ", "CS-Agent"] {
        assert!(
            matches!(
                approvals.approve(&id, me, "finance", None),
                Err(ApprovalError::SelfApproval(_))
            ),
            "{me:?}"
        );
    }
    for blank in ["", "   ", "\u{200b}"] {
        assert!(matches!(
            approvals.approve(&id, blank, "finance", None),
            Err(ApprovalError::BlankIdentity(_))
        ));
    }
    assert!(matches!(
        approvals.approve(&id, "lea", " ", None),
        Err(ApprovalError::BlankIdentity(_))
    ));
    approvals.approve(&id, "lea", "Support_Lead", None).unwrap();
    assert!(matches!(
        approvals.approve(&id, " LEA", "finance", None),
        Err(ApprovalError::AlreadyVoted(_))
    ));
    let request = approvals.approve(&id, "fin", "finance", None).unwrap();
    assert_eq!(request.status, ApprovalStatus::Approved);
    assert_eq!(request.votes[0].approver, "lea");
}

#[test]
fn an_approval_is_bound_to_context_conversation_and_ai_system() {
    // Failed before: the binding covered agent, tool and arguments only.
    let fx = fixture();
    let call = refund(250);
    let id = fx.open(&call);
    fx.approve_twice(&id);
    let mut elsewhere = call.clone();
    elsewhere.conversation_id = Some("conv-2".into());
    let mut other_system = call.clone();
    other_system.ai_system_id = Some("hr-assistant".into());
    let mut other_user = call.clone();
    other_user.context = json!({"user_id": "mallory", "tenant": "eu-1"});
    for variant in [&elsewhere, &other_system, &other_user] {
        assert!(matches!(
            fx.supervisor.execute_approved(&id, variant),
            Err(SupervisorError::Approval(ApprovalError::CallChanged(_)))
        ));
        // On the retry path the variant does not find the approval: it asks anew.
        let checked = fx.supervisor.check(variant).unwrap();
        assert_eq!(checked.decision.verdict, Verdict::RequireApproval);
        assert_ne!(checked.decision.approval_id.as_deref(), Some(id.as_str()));
    }
    // A retry carrying a new caller call id is the same call.
    let mut retried = call.clone();
    retried.call_id = Some("call-2".into());
    assert!(fx
        .supervisor
        .check(&retried)
        .unwrap()
        .decision
        .may_proceed());
}

#[test]
fn an_approval_cannot_be_executed_after_its_execution_window() {
    // Failed before: an approved call could be executed at any later time.
    let fx = fixture();
    let call = refund(250);
    let id = fx.open(&call);
    fx.approve_twice(&id);
    fx.clock
        .advance(Duration::minutes(15) + Duration::seconds(1));
    assert!(matches!(
        fx.supervisor.execute_approved(&id, &call),
        Err(SupervisorError::Approval(
            ApprovalError::ExecutionWindowClosed(_)
        ))
    ));
    assert_eq!(
        fx.supervisor.approvals().status(&id).unwrap().status,
        ApprovalStatus::Expired
    );
    let retried = fx.supervisor.check(&call).unwrap();
    assert_eq!(retried.decision.verdict, Verdict::RequireApproval);

    // The window is configurable.
    let fx = fixture_with(
        ApprovalKeys::new(runtime_signer()),
        Some(StdDuration::from_secs(3600)),
    );
    let id = fx.open(&call);
    fx.approve_twice(&id);
    fx.clock.advance(Duration::minutes(59));
    assert!(fx.supervisor.check(&call).unwrap().decision.may_proceed());
}

#[test]
fn votes_cast_in_another_process_count_when_signed_by_a_trusted_key_and_reach_the_log() {
    let approver = NoteSigner::from_seed("fin", [9; 32]).unwrap();
    let stranger = NoteSigner::from_seed("fin", [10; 32]).unwrap();
    let keys = ApprovalKeys::new(runtime_signer()).trust_approver(approver.verifier());
    let fx = fixture_with(keys, None);
    let call = refund(250);
    let id = fx.open(&call);
    fx.supervisor
        .approvals()
        .approve(&id, "lea", "support_lead", None)
        .unwrap();

    // The approver's process: its own handle on the store, signing with a key named "fin"
    // that this runtime does not trust.
    let approver_process = |signer: NoteSigner| {
        Approvals::new(
            Arc::new(OversightStore::open(&fx.path).unwrap()),
            Arc::new(MemorySink::new()),
        )
        .unwrap()
        .with_clock(fx.clock.clone())
        .with_keys(ApprovalKeys::new(signer))
    };
    approver_process(stranger)
        .approve(
            &id,
            "fin",
            "finance",
            Some("ok, IBAN DE89370400440532013000"),
        )
        .unwrap();
    assert!(matches!(
        fx.supervisor.execute_approved(&id, &call),
        Err(SupervisorError::Approval(ApprovalError::Unverified { .. }))
    ));

    // The same vote by the trusted key counts, and the executing runtime records it.
    fx.sql(&format!(
        "DELETE FROM approval_votes WHERE request_id = '{id}' AND approver = 'fin';
         UPDATE approval_requests SET status = 'pending', resolved_at_ns = NULL WHERE id = '{id}';"
    ));
    approver_process(approver)
        .approve(
            &id,
            "fin",
            "finance",
            Some("ok, IBAN DE89370400440532013000"),
        )
        .unwrap();
    let cleared = fx.supervisor.execute_approved(&id, &call).unwrap();
    assert!(cleared.decision.may_proceed());
    let steps = fx.approval_steps();
    let observed: Vec<_> = steps
        .iter()
        .filter(|(step, actor, _)| step == "approved" && actor.as_deref() == Some("fin"))
        .collect();
    assert_eq!(observed.len(), 1, "{steps:?}");
    let note = observed[0].2.as_deref().unwrap();
    assert!(
        note.contains("another process") && note.contains("key fin"),
        "{note}"
    );
    assert!(!note.contains("DE89370400440532013000"), "{note}");
    // The local vote was recorded when cast, not again.
    let lea = steps
        .iter()
        .filter(|(step, actor, _)| step == "approved" && actor.as_deref() == Some("lea"))
        .count();
    assert_eq!(lea, 1);
    assert_eq!(steps.last().unwrap().0, "executed");
}

#[test]
fn on_timeout_allow_verifies_from_the_signed_terms_only_after_the_window() {
    let fx = fixture();
    let policy = POLICY.replace("on_timeout: deny", "on_timeout: allow");
    fx.supervisor
        .reload(Policy::from_text(&policy, Format::Yaml, "policy.yaml").unwrap())
        .unwrap();
    let call = refund(250);
    let id = fx.open(&call);
    // Forged early: the terms say the window is still open.
    fx.sql(&format!(
        "UPDATE approval_requests SET status = 'approved' WHERE id = '{id}'"
    ));
    assert!(matches!(
        fx.supervisor.execute_approved(&id, &call),
        Err(SupervisorError::Approval(ApprovalError::Unverified { .. }))
    ));
    fx.clock.advance(Duration::minutes(31));
    assert!(fx.supervisor.check(&call).unwrap().decision.may_proceed());
}
