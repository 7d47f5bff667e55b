//! Approval requests end to end on a real SQLite store: restart, two-person rule, self-approval,
//! binding to the exact call, re-evaluation at execution, expiry and escalation on a manual
//! clock, wait/status/notify, audit records, and concurrent resolution exactly once.
#![allow(clippy::unwrap_used)] // a test: fixture helpers fail it loudly

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{AuditEvent, AuditSink, MemorySink, SinkError};
use aims_core::guard::{Decision, Phase, ToolCall, Verdict};
use aims_core::model::{CheckpointTrigger, OnTimeout, OversightCheckpoint};
use aims_core::oversight::approvals::ApprovalNotice;
use aims_core::oversight::{
    ApprovalError, ApprovalKeys, ApprovalStatus, ApprovalStep, Approvals, Clock, ManualClock,
    OversightStore,
};
use serde_json::{json, Value};
use time::macros::datetime;
use time::Duration;

const POLICY_V1: &str = "policy-v1";
const POLICY_V2: &str = "policy-v2";

fn refund_checkpoint() -> OversightCheckpoint {
    OversightCheckpoint {
        id: "refund-approval".into(),
        ai_system_id: "cs-assistant".into(),
        description: None,
        trigger: CheckpointTrigger {
            policy_rules: vec!["refund-over-100".into()],
            tools: vec![],
        },
        approver_roles: vec!["supervisor".into()],
        required_approvals: 1,
        timeout_seconds: 30 * 60,
        on_timeout: OnTimeout::Deny,
        escalate_to: None,
    }
}

fn decision(verdict: Verdict, checkpoint: Option<&str>, policy_version: &str) -> Decision {
    Decision {
        decision_id: format!("dec-{policy_version}"),
        verdict,
        phase: Phase::Pre,
        rule_ids: vec!["refund-over-100".into()],
        reasons: vec![],
        controls: vec!["A.9.2".into()],
        redactions: vec![],
        checkpoint: checkpoint.map(str::to_string),
        policy_version: policy_version.into(),
        evaluated_at: datetime!(2026-11-23 10:00 UTC),
        shadow: false,
        audit_index: None,
        approval_id: None,
    }
}

/// The runtime key every approval service in these tests signs with (one runtime restarted
/// keeps its key).
fn runtime_keys() -> ApprovalKeys {
    ApprovalKeys::new(NoteSigner::from_seed("test-runtime", [7; 32]).unwrap())
}

fn needs_approval() -> Decision {
    decision(Verdict::RequireApproval, Some("refund-approval"), POLICY_V1)
}

/// Opens a request for a refund of `amount` and returns its id.
fn open_request(approvals: &Approvals, amount: u64) -> String {
    approvals
        .request(&refund_call(amount), &needs_approval())
        .unwrap()
        .id
}

fn refund_call(amount: u64) -> ToolCall {
    let mut call = ToolCall::new(
        "support-agent",
        "issue_refund",
        json!({"order": "A-1001", "amount": amount}),
    );
    call.context = json!({"user_id": "customer-42"});
    call
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    clock: Arc<ManualClock>,
    sink: Arc<MemorySink>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oversight.db");
        Self {
            _dir: dir,
            path,
            clock: Arc::new(ManualClock::new(datetime!(2026-11-23 10:00 UTC))),
            sink: Arc::new(MemorySink::new()),
        }
    }

    fn approvals(&self, checkpoint: OversightCheckpoint) -> Approvals {
        let store = Arc::new(OversightStore::open(&self.path).unwrap());
        Approvals::new(store, self.sink.clone())
            .unwrap()
            .with_keys(runtime_keys())
            .with_clock(self.clock.clone())
            .with_checkpoint(&checkpoint)
            .unwrap()
    }

    /// The approval steps recorded for `request_id`, in order.
    fn steps(&self, request_id: &str) -> Vec<String> {
        self.sink
            .events()
            .into_iter()
            .filter_map(|event| match event {
                AuditEvent::Approval(e) if e.request_id == request_id => Some(e.step),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn pending_requests_survive_a_restart() {
    let fx = Fixture::new();
    let id = {
        let approvals = fx.approvals(refund_checkpoint());
        open_request(&approvals, 250)
    };
    // A new process: a fresh store handle and service, no checkpoint configured at all. The
    // request keeps the rules it was made with.
    let store = Arc::new(OversightStore::open(&fx.path).unwrap());
    let restarted = Approvals::new(store, fx.sink.clone())
        .unwrap()
        .with_keys(runtime_keys())
        .with_clock(fx.clock.clone());
    let pending = restarted.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, id);
    assert_eq!(pending[0].status, ApprovalStatus::Pending);
    assert_eq!(pending[0].approver_roles, vec!["supervisor"]);
    assert_eq!(
        pending[0].requested_by,
        vec!["support-agent", "customer-42"]
    );

    let approved = restarted.approve(&id, "sam", "supervisor", None).unwrap();
    assert_eq!(approved.status, ApprovalStatus::Approved);
    let executed = restarted
        .execute(&id, &refund_call(250), |_| needs_approval())
        .unwrap()
        .0;
    assert_eq!(executed.status, ApprovalStatus::Executed);
    assert_eq!(fx.steps(&id), ["requested", "approved", "executed"]);
}

#[test]
fn two_person_rule_needs_two_distinct_approvers() {
    let fx = Fixture::new();
    let approvals = fx.approvals(OversightCheckpoint {
        approver_roles: vec!["supervisor".into(), "finance".into()],
        required_approvals: 2,
        ..refund_checkpoint()
    });
    let id = open_request(&approvals, 900);

    let first = approvals
        .approve(&id, "sam", "supervisor", Some("checked the order"))
        .unwrap();
    assert_eq!(first.status, ApprovalStatus::Pending);
    assert_eq!(first.approvals(), 1);

    // The same person again, even in another role, is not a second person.
    assert!(matches!(
        approvals.approve(&id, "sam", "finance", None),
        Err(ApprovalError::AlreadyVoted(_))
    ));
    let still = approvals.status(&id).unwrap();
    assert_eq!(still.status, ApprovalStatus::Pending);
    assert_eq!(still.approvals(), 1);
    // A call the second approver did not approve cannot run yet.
    assert!(matches!(
        approvals.execute(&id, &refund_call(900), |_| needs_approval()),
        Err(ApprovalError::NotApproved {
            status: ApprovalStatus::Pending,
            ..
        })
    ));

    let second = approvals.approve(&id, "fran", "finance", None).unwrap();
    assert_eq!(second.status, ApprovalStatus::Approved);
    assert_eq!(second.approvals(), 2);
    assert_eq!(second.votes[0].note.as_deref(), Some("checked the order"));
    let events: Vec<(String, u32, u32)> = fx
        .sink
        .events()
        .into_iter()
        .filter_map(|event| match event {
            AuditEvent::Approval(e) => Some((e.step, e.approvals, e.required)),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        [
            ("requested".into(), 0, 2),
            ("approved".into(), 1, 2),
            ("approved".into(), 2, 2)
        ]
    );
}

#[test]
fn the_agent_or_user_behind_a_call_cannot_approve_it() {
    let fx = Fixture::new();
    let approvals = fx.approvals(refund_checkpoint());
    let id = open_request(&approvals, 250);
    for requester in ["support-agent", "customer-42"] {
        assert!(
            matches!(
                approvals.approve(&id, requester, "supervisor", None),
                Err(ApprovalError::SelfApproval(_))
            ),
            "{requester} approved its own call"
        );
    }
    assert!(matches!(
        approvals.approve(&id, "sam", "intern", None),
        Err(ApprovalError::RoleNotAllowed { .. })
    ));
    assert!(matches!(
        approvals.reject(&id, "sam", "intern", None),
        Err(ApprovalError::RoleNotAllowed { .. })
    ));
    assert_eq!(
        approvals.status(&id).unwrap().status,
        ApprovalStatus::Pending
    );
    assert_eq!(fx.steps(&id), ["requested"]);

    let rejected = approvals
        .reject(&id, "sam", "supervisor", Some("customer already refunded"))
        .unwrap();
    assert_eq!(rejected.status, ApprovalStatus::Rejected);
    assert!(matches!(
        approvals.approve(&id, "kim", "supervisor", None),
        Err(ApprovalError::NotPending {
            status: ApprovalStatus::Rejected,
            ..
        })
    ));
    assert_eq!(fx.steps(&id), ["requested", "rejected"]);
}

#[test]
fn a_changed_call_is_refused_and_the_approved_one_runs_once() {
    let fx = Fixture::new();
    let approvals = fx.approvals(refund_checkpoint());
    let id = open_request(&approvals, 250);
    approvals.approve(&id, "sam", "supervisor", None).unwrap();

    let mut other_order = refund_call(250);
    other_order.args = json!({"order": "A-9999", "amount": 250});
    for changed in [refund_call(2500), other_order] {
        assert!(matches!(
            approvals.execute(&id, &changed, |_| needs_approval()),
            Err(ApprovalError::CallChanged(_))
        ));
    }
    let mut other_tool = refund_call(250);
    other_tool.tool = "issue_refund_v2".into();
    assert!(matches!(
        approvals.execute(&id, &other_tool, |_| needs_approval()),
        Err(ApprovalError::CallChanged(_))
    ));
    // Refusals leave the approval standing for the call that was approved.
    assert_eq!(
        approvals.status(&id).unwrap().status,
        ApprovalStatus::Approved
    );

    approvals
        .execute(&id, &refund_call(250), |_| needs_approval())
        .unwrap();
    assert!(matches!(
        approvals.execute(&id, &refund_call(250), |_| needs_approval()),
        Err(ApprovalError::NotApproved {
            status: ApprovalStatus::Executed,
            ..
        })
    ));
    assert_eq!(
        fx.steps(&id),
        [
            "requested",
            "approved",
            "execution_refused",
            "execution_refused",
            "execution_refused",
            "executed"
        ]
    );
}

#[test]
fn a_policy_that_changed_since_the_approval_is_obeyed_at_execution() {
    let fx = Fixture::new();
    let approvals = fx.approvals(refund_checkpoint());
    let call = refund_call(250);
    let id = approvals.request(&call, &needs_approval()).unwrap().id;
    approvals.approve(&id, "sam", "supervisor", None).unwrap();

    // Policy v2 denies refunds outright now.
    let now_denied = decision(Verdict::Deny, None, POLICY_V2);
    match approvals.execute(&id, &call, |_| now_denied.clone()) {
        Err(ApprovalError::PolicyNowRefuses {
            verdict,
            policy_version,
            ..
        }) => {
            assert_eq!(verdict, "deny");
            assert_eq!(policy_version, POLICY_V2);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Policy v2 routes the call to another checkpoint: this approval does not cover it.
    let other_checkpoint = decision(Verdict::RequireApproval, Some("cfo-approval"), POLICY_V2);
    assert!(matches!(
        approvals.execute(&id, &call, |_| other_checkpoint.clone()),
        Err(ApprovalError::PolicyNowRefuses { .. })
    ));
    // Policy v2 still wants this checkpoint: the approval covers it, and the binding was to
    // the call under the policy that asked.
    let same_checkpoint = decision(Verdict::RequireApproval, Some("refund-approval"), POLICY_V2);
    let (executed, _) = approvals
        .execute(&id, &call, |_| same_checkpoint.clone())
        .unwrap();
    assert_eq!(executed.status, ApprovalStatus::Executed);
}

#[test]
fn an_unanswered_request_expires_and_late_approvals_are_refused() {
    let fx = Fixture::new();
    let approvals = fx.approvals(refund_checkpoint());
    let id = open_request(&approvals, 250);
    fx.clock.advance(Duration::minutes(29));
    assert_eq!(
        approvals.status(&id).unwrap().status,
        ApprovalStatus::Pending
    );
    fx.clock.advance(Duration::minutes(1));
    assert!(matches!(
        approvals.approve(&id, "sam", "supervisor", None),
        Err(ApprovalError::Expired(_))
    ));
    let expired = approvals.status(&id).unwrap();
    assert_eq!(expired.status, ApprovalStatus::Expired);
    assert_eq!(expired.resolved_at, Some(datetime!(2026-11-23 10:30 UTC)));
    assert!(matches!(
        approvals.execute(&id, &refund_call(250), |_| needs_approval()),
        Err(ApprovalError::NotApproved {
            status: ApprovalStatus::Expired,
            ..
        })
    ));
    assert_eq!(fx.steps(&id), ["requested", "expired"]);
}

#[test]
fn a_timed_out_request_escalates_once_then_expires() {
    let fx = Fixture::new();
    let approvals = fx.approvals(OversightCheckpoint {
        on_timeout: OnTimeout::Escalate,
        escalate_to: Some("director".into()),
        ..refund_checkpoint()
    });
    let first = open_request(&approvals, 250);
    let second = open_request(&approvals, 300);
    fx.clock.advance(Duration::minutes(31));
    let notices = approvals.expire_due().unwrap();
    assert_eq!(notices.len(), 2);
    assert!(notices.iter().all(|n| n.step == ApprovalStep::Escalated));

    let escalated = approvals.status(&first).unwrap();
    assert_eq!(escalated.status, ApprovalStatus::Pending);
    assert!(escalated.escalated);
    assert_eq!(escalated.approver_roles, vec!["director"]);
    assert_eq!(escalated.expires_at, datetime!(2026-11-23 11:00 UTC));
    assert!(matches!(
        approvals.approve(&first, "sam", "supervisor", None),
        Err(ApprovalError::RoleNotAllowed { .. })
    ));
    let approved = approvals.approve(&first, "dana", "director", None).unwrap();
    assert_eq!(approved.status, ApprovalStatus::Approved);

    // The second request is not answered in the escalation window either.
    fx.clock.advance(Duration::minutes(30));
    assert_eq!(
        approvals.status(&second).unwrap().status,
        ApprovalStatus::Expired
    );
    assert_eq!(fx.steps(&first), ["requested", "escalated", "approved"]);
    assert_eq!(fx.steps(&second), ["requested", "escalated", "expired"]);
}

#[test]
fn a_request_looked_at_long_after_both_windows_closed_escalates_and_expires_in_one_go() {
    let fx = Fixture::new();
    let approvals = fx.approvals(OversightCheckpoint {
        on_timeout: OnTimeout::Escalate,
        escalate_to: Some("director".into()),
        ..refund_checkpoint()
    });
    let id = open_request(&approvals, 250);
    fx.clock.advance(Duration::days(3));
    let request = approvals.status(&id).unwrap();
    assert_eq!(request.status, ApprovalStatus::Expired);
    // Resolved when the escalation window closed, not when someone looked.
    assert_eq!(request.resolved_at, Some(datetime!(2026-11-23 11:00 UTC)));
    assert_eq!(fx.steps(&id), ["requested", "escalated", "expired"]);
}

#[test]
fn on_timeout_allow_approves_without_a_human() {
    let fx = Fixture::new();
    let approvals = fx.approvals(OversightCheckpoint {
        on_timeout: OnTimeout::Allow,
        ..refund_checkpoint()
    });
    let id = open_request(&approvals, 250);
    fx.clock.advance(Duration::hours(1));
    assert_eq!(
        approvals.status(&id).unwrap().status,
        ApprovalStatus::Approved
    );
    let notes: Vec<Option<String>> = fx
        .sink
        .events()
        .into_iter()
        .filter_map(|event| match event {
            AuditEvent::Approval(e) if e.step == "expired" => Some(e.note),
            _ => None,
        })
        .collect();
    assert_eq!(notes.len(), 1);
    assert!(notes[0]
        .as_deref()
        .unwrap_or("")
        .contains("on_timeout allow"));
}

#[test]
fn wait_blocks_until_resolved_or_timed_out() {
    let fx = Fixture::new();
    let approvals = fx.approvals(refund_checkpoint());
    let id = open_request(&approvals, 250);

    let timed_out = approvals.wait(&id, StdDuration::from_millis(120)).unwrap();
    assert_eq!(timed_out.status, ApprovalStatus::Pending);

    let approver = approvals.clone();
    let approver_id = id.clone();
    let voter = std::thread::spawn(move || {
        std::thread::sleep(StdDuration::from_millis(100));
        approver
            .approve(&approver_id, "sam", "supervisor", None)
            .unwrap();
    });
    let resolved = approvals.wait(&id, StdDuration::from_secs(30)).unwrap();
    assert_eq!(resolved.status, ApprovalStatus::Approved);
    voter.join().unwrap();
}

#[test]
fn wait_sees_votes_from_another_store_handle_and_expiry_on_the_injected_clock() {
    let fx = Fixture::new();
    let here = fx.approvals(refund_checkpoint());
    // Another process's view of the same file: separate handle, separate wake-up signal.
    let elsewhere = fx.approvals(refund_checkpoint());
    let voted = open_request(&here, 250);
    let left = open_request(&here, 300);

    let voted_id = voted.clone();
    let voter = std::thread::spawn(move || {
        std::thread::sleep(StdDuration::from_millis(100));
        elsewhere
            .approve(&voted_id, "sam", "supervisor", None)
            .unwrap();
    });
    assert_eq!(
        here.wait(&voted, StdDuration::from_secs(30))
            .unwrap()
            .status,
        ApprovalStatus::Approved
    );
    voter.join().unwrap();

    let clock = fx.clock.clone();
    let mover = std::thread::spawn(move || {
        std::thread::sleep(StdDuration::from_millis(100));
        clock.advance(Duration::hours(1));
    });
    assert_eq!(
        here.wait(&left, StdDuration::from_secs(30)).unwrap().status,
        ApprovalStatus::Expired
    );
    mover.join().unwrap();
}

#[test]
fn notifiers_hear_every_step_by_callback_and_by_channel() {
    let fx = Fixture::new();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let callback_log = heard.clone();
    let (sender, receiver) = mpsc::channel::<ApprovalNotice>();
    let store = Arc::new(OversightStore::open(&fx.path).unwrap());
    let approvals = Approvals::new(store, fx.sink.clone())
        .unwrap()
        .with_keys(runtime_keys())
        .with_clock(fx.clock.clone())
        .with_checkpoint(&OversightCheckpoint {
            required_approvals: 2,
            ..refund_checkpoint()
        })
        .unwrap()
        .with_notifier(move |notice: &ApprovalNotice| {
            callback_log
                .lock()
                .unwrap()
                .push((notice.step, notice.request.status));
        })
        .with_notifier(sender);

    let id = open_request(&approvals, 250);
    approvals.approve(&id, "sam", "supervisor", None).unwrap();
    approvals.approve(&id, "kim", "supervisor", None).unwrap();
    approvals
        .execute(&id, &refund_call(250), |_| needs_approval())
        .unwrap();

    let expected = vec![
        (ApprovalStep::Requested, ApprovalStatus::Pending),
        (ApprovalStep::Approved, ApprovalStatus::Pending),
        (ApprovalStep::Approved, ApprovalStatus::Approved),
        (ApprovalStep::Executed, ApprovalStatus::Executed),
    ];
    assert_eq!(*heard.lock().unwrap(), expected);
    let by_channel: Vec<_> = receiver
        .try_iter()
        .map(|n| (n.step, n.request.status))
        .collect();
    assert_eq!(by_channel, expected);
}

/// A sink that refuses everything, like a log whose disk failed.
#[derive(Debug)]
struct FailedSink;

impl AuditSink for FailedSink {
    fn append(&self, _: AuditEvent) -> Result<u64, SinkError> {
        Err(SinkError::Failed("disk gone".into()))
    }

    fn keyed_hash(&self, _: &Value) -> String {
        String::new()
    }
}

#[test]
fn a_step_the_audit_log_refuses_does_not_happen() {
    let fx = Fixture::new();
    let store = Arc::new(OversightStore::open(&fx.path).unwrap());
    let approvals = Approvals::new(store.clone(), Arc::new(FailedSink))
        .unwrap()
        .with_checkpoint(&refund_checkpoint())
        .unwrap();
    assert!(matches!(
        approvals.request(&refund_call(250), &needs_approval()),
        Err(ApprovalError::Audit(_))
    ));
    assert!(approvals.pending().unwrap().is_empty());

    // A request made while the log worked cannot be approved while it fails.
    let working = Approvals::new(store.clone(), fx.sink.clone())
        .unwrap()
        .with_checkpoint(&refund_checkpoint())
        .unwrap();
    let id = open_request(&working, 250);
    assert!(matches!(
        approvals.approve(&id, "sam", "supervisor", None),
        Err(ApprovalError::Audit(_))
    ));
    let request = working.status(&id).unwrap();
    assert_eq!(request.status, ApprovalStatus::Pending);
    assert!(request.votes.is_empty());
}

#[test]
fn only_require_approval_decisions_at_known_checkpoints_open_requests() {
    let fx = Fixture::new();
    let approvals = fx.approvals(refund_checkpoint());
    let call = refund_call(250);
    assert!(matches!(
        approvals.request(&call, &decision(Verdict::Allow, None, POLICY_V1)),
        Err(ApprovalError::NotRequired { .. })
    ));
    assert!(matches!(
        approvals.request(&call, &decision(Verdict::RequireApproval, None, POLICY_V1)),
        Err(ApprovalError::MissingCheckpoint { .. })
    ));
    assert!(matches!(
        approvals.request(
            &call,
            &decision(Verdict::RequireApproval, Some("nope"), POLICY_V1)
        ),
        Err(ApprovalError::UnknownCheckpoint(_))
    ));
    assert!(matches!(
        approvals.status("apr_missing"),
        Err(ApprovalError::UnknownRequest(_))
    ));
    for broken in [
        OversightCheckpoint {
            approver_roles: vec![],
            ..refund_checkpoint()
        },
        OversightCheckpoint {
            required_approvals: 0,
            ..refund_checkpoint()
        },
        OversightCheckpoint {
            timeout_seconds: 0,
            ..refund_checkpoint()
        },
        OversightCheckpoint {
            on_timeout: OnTimeout::Escalate,
            ..refund_checkpoint()
        },
    ] {
        let store = Arc::new(OversightStore::open(&fx.path).unwrap());
        assert!(matches!(
            Approvals::new(store, fx.sink.clone())
                .unwrap()
                .with_keys(runtime_keys())
                .with_checkpoint(&broken),
            Err(ApprovalError::InvalidCheckpoint { .. })
        ));
    }
}

#[test]
fn a_hundred_concurrent_requests_on_eight_threads_are_each_resolved_exactly_once() {
    const THREADS: usize = 8;
    const REQUESTS: usize = 100;
    let fx = Fixture::new();
    // Each thread has its own store handle (its own SQLite connection), as separate processes
    // would, so the database's locking is what keeps resolutions unique.
    let services: Vec<Approvals> = (0..THREADS)
        .map(|_| fx.approvals(refund_checkpoint()))
        .collect();

    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = services
            .iter()
            .enumerate()
            .map(|(t, service)| {
                scope.spawn(move || {
                    (0..REQUESTS)
                        .filter(|n| n % THREADS == t)
                        .map(|n| {
                            service
                                .request(&refund_call(100 + n as u64), &needs_approval())
                                .unwrap()
                                .id
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(ids.len(), REQUESTS);

    // Every thread races to resolve every request: even threads approve, odd threads reject,
    // each starting at a different offset so the races spread over all requests.
    let wins: Vec<(String, usize, ApprovalStatus)> = std::thread::scope(|scope| {
        let handles: Vec<_> = services
            .iter()
            .enumerate()
            .map(|(t, service)| {
                let ids = &ids;
                scope.spawn(move || {
                    let mut wins = Vec::new();
                    for k in 0..REQUESTS {
                        let id = &ids[(k + t * 13) % REQUESTS];
                        let approver = format!("approver-{t}");
                        let result = if t % 2 == 0 {
                            service.approve(id, &approver, "supervisor", None)
                        } else {
                            service.reject(id, &approver, "supervisor", None)
                        };
                        match result {
                            Ok(request) => wins.push((id.clone(), t, request.status)),
                            Err(ApprovalError::NotPending { .. }) => {}
                            Err(other) => panic!("unexpected error: {other}"),
                        }
                    }
                    wins
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });

    assert_eq!(wins.len(), REQUESTS, "each request resolved exactly once");
    let mut winner_of: HashMap<&str, (usize, ApprovalStatus)> = HashMap::new();
    for (id, t, status) in &wins {
        assert!(winner_of.insert(id, (*t, *status)).is_none(), "{id} twice");
    }
    let reader = &services[0];
    for id in &ids {
        let request = reader.status(id).unwrap();
        let (winner, status) = winner_of[id.as_str()];
        assert_eq!(request.status, status);
        assert_eq!(request.votes.len(), 1);
        assert_eq!(request.votes[0].approver, format!("approver-{winner}"));
        let expected = if winner % 2 == 0 {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Rejected
        };
        assert_eq!(request.status, expected);
    }
    // One audit record per request and one per resolution, nothing else.
    let steps: Vec<String> = fx
        .sink
        .events()
        .into_iter()
        .filter_map(|event| match event {
            AuditEvent::Approval(e) => Some(e.step),
            _ => None,
        })
        .collect();
    assert_eq!(steps.len(), 2 * REQUESTS);
    assert_eq!(steps.iter().filter(|s| *s == "requested").count(), REQUESTS);
}

#[test]
fn request_times_come_from_the_injected_clock() {
    // Expiry follows the injected clock, not the wall clock: a request made "now" on a clock
    // set years ahead is not expired by wall time passing, only by the clock moving.
    let fx = Fixture::new();
    fx.clock.set(datetime!(2040-01-01 00:00 UTC));
    let approvals = fx.approvals(refund_checkpoint());
    let request = approvals
        .request(&refund_call(250), &needs_approval())
        .unwrap();
    assert_eq!(request.requested_at, fx.clock.now());
    assert_eq!(request.expires_at, datetime!(2040-01-01 00:30 UTC));
}

#[test]
fn approver_notes_are_masked_before_they_reach_the_store_or_the_audit_log() {
    let fx = Fixture::new();
    let approvals = fx.approvals(refund_checkpoint());
    let id = open_request(&approvals, 250);
    let note = "customer jane.doe@example.com confirmed by phone, card 4111 1111 1111 1111";
    let request = approvals
        .reject(&id, "sam", "supervisor", Some(note))
        .unwrap();
    let stored = request.votes[0].note.as_deref().unwrap();
    assert!(!stored.contains("jane.doe@example.com"), "{stored}");
    assert!(!stored.contains("4111"), "{stored}");
    // The store's own bytes hold no raw note either.
    let raw: String = store_bytes_as_text(&fx.path);
    assert!(!raw.contains("jane.doe@example.com"));
    let audited: Vec<String> = fx
        .sink
        .events()
        .into_iter()
        .filter_map(|event| match event {
            AuditEvent::Approval(e) if e.step == "rejected" => e.note,
            _ => None,
        })
        .collect();
    assert_eq!(audited.len(), 1);
    assert!(
        !audited[0].contains("jane.doe@example.com"),
        "{}",
        audited[0]
    );
    assert!(audited[0].contains("<EMAIL_ADDRESS>"), "{}", audited[0]);
    assert!(audited[0].starts_with("customer "));
}

/// The store file and its WAL as (lossy) text, to look for a value in any row.
fn store_bytes_as_text(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
    String::from_utf8_lossy(&[bytes, wal].concat()).into_owned()
}
