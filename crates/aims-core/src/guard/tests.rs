use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::audit::{AuditEvent, DecisionEvent, OutcomeStatus};
use crate::policy::Format;

const POLICY: &str = r#"
default: deny
rules:
  - id: deny-shell
    match: {tool: [shell, "*_shell"]}
    effect: deny
    controls: [A.9.2]
  - id: refund-cap
    match:
      tool: issue_refund
      args: {/amount: {gt: 500}}
    effect: deny
    reason: refunds above 500 are never issued by the agent
    controls: [A.9.2, A.6.2.6]
  - id: refund-approval
    match:
      tool: issue_refund
      args: {/amount: {gt: 100}}
    effect: require_approval
    checkpoint: refund-approval
    controls: [A.9.2]
  - id: refund-rate-limit
    match: {tool: issue_refund}
    effect: allow
    rate_limit: {max: 3, window: 1h, per: [agent]}
  - id: refund-budget
    match: {tool: issue_refund}
    effect: allow
    budget: {sum: /amount, max: 200, window: 1h, per: [agent]}
  - id: email-redact
    match:
      tool: send_email
      args: {/to: {not: {matches: '@example\.com$'}}}
    effect: redact
    redact: {pointers: [/body]}
    controls: [A.7.4]
  - id: email-allow
    match: {tool: send_email}
    effect: allow
  - id: read
    match: {tool: lookup_order}
    effect: allow
  - id: order-email-masked
    phase: post
    match: {tool: lookup_order}
    effect: redact
    redact: {pointers: [/customer/email]}
  - id: order-secret-deny
    phase: post
    match:
      tool: lookup_order
      result: {/internal: {exists: true}}
    effect: deny
"#;

fn policy() -> Policy {
    Policy::from_text(POLICY, Format::Yaml, "guard-test.yaml").unwrap()
}

struct Harness {
    guard: Guard,
    sink: Arc<MemorySink>,
    clock: Arc<ManualClock>,
}

fn harness_with(configure: impl FnOnce(GuardBuilder) -> GuardBuilder) -> Harness {
    let sink = Arc::new(MemorySink::new());
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-01 09:00 UTC)));
    let guard = configure(
        Guard::builder(policy())
            .sink(sink.clone())
            .clock(clock.clone()),
    )
    .build();
    Harness { guard, sink, clock }
}

fn harness() -> Harness {
    harness_with(|builder| builder)
}

fn refund(amount: Value) -> ToolCall {
    ToolCall::new(
        "cs-agent",
        "issue_refund",
        json!({"order_id": "o-1", "amount": amount}),
    )
}

fn email(to: &str) -> ToolCall {
    ToolCall::new(
        "cs-agent",
        "send_email",
        json!({"to": to, "subject": "Your order", "body": "Card 4111 1111 1111 1111"}),
    )
}

fn decisions(sink: &MemorySink) -> Vec<DecisionEvent> {
    sink.events()
        .into_iter()
        .filter_map(|event| match event {
            AuditEvent::Decision(decision) => Some(decision),
            _ => None,
        })
        .collect()
}

fn codes(decision: &Decision) -> Vec<&str> {
    decision.reasons.iter().map(|r| r.code.as_str()).collect()
}

#[test]
fn guard_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Guard>();
    let h = harness();
    let clone = h.guard.clone();
    clone.check(&refund(json!(10)));
    assert_eq!(decisions(&h.sink).len(), 1, "clones share the sink");
}

#[test]
fn decisions_carry_rules_reasons_controls_and_version() {
    let h = harness();
    let capped = h.guard.check(&refund(json!(900)));
    assert_eq!(capped.verdict, Verdict::Deny);
    assert_eq!(
        capped.rule_ids,
        [
            "refund-cap",
            "refund-approval",
            "refund-rate-limit",
            "refund-budget"
        ]
    );
    assert_eq!(capped.controls, ["A.9.2", "A.6.2.6"]);
    assert_eq!(
        capped.reasons[0].message,
        "refunds above 500 are never issued by the agent"
    );
    assert_eq!(capped.policy_version, h.guard.policy_version());
    assert_eq!(capped.evaluated_at, datetime!(2026-03-01 09:00 UTC));
    assert_eq!(capped.phase, Phase::Pre);
    assert!(!capped.may_proceed());

    let approval = h.guard.check(&refund(json!(150)));
    assert_eq!(approval.verdict, Verdict::RequireApproval);
    assert_eq!(approval.checkpoint.as_deref(), Some("refund-approval"));

    let unknown = h
        .guard
        .check(&ToolCall::new("cs-agent", "delete_file", json!({})));
    assert_eq!(unknown.verdict, Verdict::Deny);
    assert_eq!(codes(&unknown), ["default"]);
    assert!(unknown.rule_ids.is_empty());

    assert_ne!(capped.decision_id, approval.decision_id);
}

#[test]
fn every_decision_is_recorded_masked_with_a_keyed_hash() {
    let h = harness();
    let call = email("someone@elsewhere.org");
    let decision = h.guard.check(&call);
    assert_eq!(decision.verdict, Verdict::Redact);
    assert_eq!(decision.redactions[0].pointers, ["/body"]);
    let events = decisions(&h.sink);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.decision_id, decision.decision_id);
    assert_eq!(event.verdict, Verdict::Redact);
    assert!(event.enforced);
    assert_eq!(event.args_hmac, h.sink.keyed_hash(&call.args));
    let recorded = event.args.to_string();
    assert!(!recorded.contains("4111"), "{recorded}");
    assert!(!recorded.contains("elsewhere.org"), "{recorded}");
    assert_eq!(event.args["to"], "<EMAIL_ADDRESS>");
    assert_eq!(event.args["subject"], "Your order");
    assert_eq!(event.masked, ["/body", "EMAIL_ADDRESS"]);
}

#[test]
fn internal_mail_is_allowed_and_external_mail_is_redacted() {
    let h = harness();
    assert_eq!(
        h.guard.check(&email("ops@example.com")).verdict,
        Verdict::Allow
    );
    assert_eq!(
        h.guard.check(&email("x@example.com.evil.io")).verdict,
        Verdict::Redact
    );
    let mut missing_to = email("x");
    missing_to.args = json!({"body": "hi"});
    assert_eq!(
        h.guard.check(&missing_to).verdict,
        Verdict::Redact,
        "an unreadable recipient counts as external"
    );
}

#[derive(Debug)]
struct PanickingClock;

impl Clock for PanickingClock {
    fn now(&self) -> OffsetDateTime {
        panic!("clock failure with secret 4111")
    }
}

#[test]
fn a_panic_while_deciding_denies_with_internal_error() {
    let guard = Guard::builder(policy())
        .clock(Arc::new(PanickingClock))
        .build();
    let decision = guard.check(&ToolCall::new("cs-agent", "lookup_order", json!({})));
    assert_eq!(decision.verdict, Verdict::Deny);
    assert_eq!(codes(&decision), ["internal_error"]);
    assert!(!decision.reasons[0].message.contains("4111"));
}

#[derive(Debug, Default)]
struct FailingSink {
    fail: AtomicBool,
    appended: AtomicUsize,
}

impl AuditSink for FailingSink {
    fn append(&self, _event: AuditEvent) -> Result<u64, SinkError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(SinkError::Failed("disk full".into()));
        }
        Ok(self.appended.fetch_add(1, Ordering::SeqCst) as u64)
    }

    fn keyed_hash(&self, _raw: &Value) -> String {
        String::new()
    }
}

#[test]
fn a_failing_sink_denies_even_in_shadow_mode() {
    let sink = Arc::new(FailingSink::default());
    sink.fail.store(true, Ordering::SeqCst);
    for shadow in [false, true] {
        let guard = Guard::builder(policy())
            .sink(sink.clone())
            .shadow(shadow)
            .build();
        let decision = guard.check(&ToolCall::new("cs-agent", "lookup_order", json!({})));
        assert_eq!(decision.verdict, Verdict::Deny);
        assert!(!decision.may_proceed());
        assert_eq!(codes(&decision), ["rule_matched", "audit_failed"]);
        let called = AtomicBool::new(false);
        let ran = guard.run(
            &ToolCall::new("cs-agent", "lookup_order", json!({})),
            |_| {
                called.store(true, Ordering::SeqCst);
                Ok::<_, String>(json!({}))
            },
        );
        assert!(matches!(ran, Err(RunError::Blocked(_))));
        assert!(!called.load(Ordering::SeqCst));
    }
}

#[test]
fn entity_redaction_masks_only_the_named_entities_in_the_call() {
    let yaml = "rules:\n  - id: pii\n    match: {tool: send_email}\n    effect: redact\n    redact: {entities: [CREDIT_CARD]}\n";
    let sink = Arc::new(MemorySink::new());
    let guard = Guard::builder(Policy::from_text(yaml, Format::Yaml, "p.yaml").unwrap())
        .sink(sink.clone())
        .build();
    let sent = guard.run(&email("a@b.org"), Ok::<_, String>).unwrap();
    assert_eq!(sent["body"], "Card <CREDIT_CARD>");
    assert_eq!(sent["to"], "a@b.org", "the recipient is not a named entity");
    let record = &decisions(&sink)[0];
    assert_eq!(
        record.args["to"], "<EMAIL_ADDRESS>",
        "records mask every entity"
    );
    assert_eq!(record.masked, ["CREDIT_CARD", "EMAIL_ADDRESS"]);
}

/// Masks the digits of card-like numbers as `CREDIT_CARD`; stands in for the PII scanner.
#[derive(Debug)]
struct DigitMasker;

impl Masker for DigitMasker {
    fn mask(&self, value: &mut Value, entities: &[String]) -> Vec<String> {
        let wanted = entities.is_empty() || entities.iter().any(|e| e == "CREDIT_CARD");
        let mut found = Vec::new();
        if let (true, Value::Object(members)) = (wanted, value) {
            for member in members.values_mut() {
                if let Value::String(text) = member {
                    if text.chars().filter(char::is_ascii_digit).count() >= 12 {
                        *text = "[CREDIT_CARD]".into();
                        found.push("CREDIT_CARD".to_owned());
                    }
                }
            }
        }
        found
    }
}

#[test]
fn a_custom_masker_replaces_the_scanner() {
    let yaml = "rules:\n  - id: pii\n    match: {tool: send_email}\n    effect: redact\n    redact: {entities: [CREDIT_CARD]}\n";
    let sink = Arc::new(MemorySink::new());
    let guard = Guard::builder(Policy::from_text(yaml, Format::Yaml, "p.yaml").unwrap())
        .sink(sink.clone())
        .masker(Arc::new(DigitMasker))
        .build();
    let call = email("a@b.org");
    let seen = guard.run(&call, Ok::<_, String>).unwrap();
    assert_eq!(seen["body"], "[CREDIT_CARD]");
    assert_eq!(seen["to"], "a@b.org");
    let events = decisions(&sink);
    assert_eq!(events[0].args["body"], "[CREDIT_CARD]");
    assert_eq!(
        events[0].args["subject"], "Your order",
        "a masker keeps what is not PII"
    );
    assert_eq!(events[0].masked, ["CREDIT_CARD"]);
}

#[test]
fn shadow_mode_records_the_verdict_but_lets_calls_proceed() {
    let h = harness_with(|builder| builder.shadow(true));
    let decision = h.guard.check(&ToolCall::new(
        "cs-agent",
        "shell",
        json!({"cmd": "rm -rf /"}),
    ));
    assert_eq!(decision.verdict, Verdict::Deny);
    assert!(decision.shadow);
    assert!(decision.may_proceed());
    assert!(!decisions(&h.sink)[0].enforced);
    let ran = h
        .guard
        .run(&email("x@elsewhere.org"), Ok::<_, String>)
        .unwrap();
    assert!(
        ran["body"].as_str().unwrap().contains("4111"),
        "shadow mode does not enforce redactions"
    );
}

#[test]
fn rate_limits_count_allowed_calls_per_sliding_window() {
    let h = harness();
    for minute in 0..3 {
        assert_eq!(
            h.guard.check(&refund(json!(10))).verdict,
            Verdict::Allow,
            "{minute}"
        );
        h.clock.advance(Duration::minutes(10));
    }
    let limited = h.guard.check(&refund(json!(10)));
    assert_eq!(limited.verdict, Verdict::Deny);
    assert!(codes(&limited).contains(&"rate_limited"));
    // Another agent has its own counter.
    let mut other = refund(json!(10));
    other.agent_id = "other-agent".into();
    assert_eq!(h.guard.check(&other).verdict, Verdict::Allow);
    // The first call leaves the window 60 minutes after it was made (t = 0).
    h.clock.advance(Duration::minutes(29));
    assert_eq!(h.guard.check(&refund(json!(10))).verdict, Verdict::Deny);
    h.clock.advance(Duration::minutes(1));
    assert_eq!(h.guard.check(&refund(json!(10))).verdict, Verdict::Allow);
}

#[test]
fn budgets_sum_an_argument_and_deny_what_would_exceed() {
    let h = harness();
    // Nothing used yet reads "0 used" (an empty sum of doubles is -0).
    let alone = h.guard.check(&refund(json!(250)));
    let budget = alone.reasons.iter().find(|r| r.code == "budget_exceeded");
    assert!(budget.unwrap().message.ends_with("(0 used)"), "{alone:?}");
    assert_eq!(h.guard.check(&refund(json!(90))).verdict, Verdict::Allow);
    assert_eq!(h.guard.check(&refund(json!("90"))).verdict, Verdict::Allow);
    let over = h.guard.check(&refund(json!(30)));
    assert_eq!(over.verdict, Verdict::Deny);
    assert!(codes(&over).contains(&"budget_exceeded"));
    assert!(!over.reasons.iter().any(|r| r.message.contains("30 ")));
    // Denied calls are not counted: 20 more still fit.
    assert_eq!(h.guard.check(&refund(json!(20))).verdict, Verdict::Allow);
    h.clock.advance(Duration::hours(1));
    assert_eq!(h.guard.check(&refund(json!(100))).verdict, Verdict::Allow);
}

#[test]
fn budgets_deny_negative_missing_and_non_numeric_amounts() {
    let h = harness();
    for amount in [json!(-1000), json!("lots"), json!(null)] {
        let decision = h.guard.check(&refund(amount.clone()));
        assert_eq!(decision.verdict, Verdict::Deny, "{amount}");
        assert!(
            codes(&decision).contains(&"budget_unreadable")
                || codes(&decision).contains(&"rule_matched_on_unknown"),
            "{amount}: {:?}",
            codes(&decision)
        );
    }
    let decision = h.guard.check(&refund(json!(-5)));
    assert!(codes(&decision).contains(&"budget_unreadable"));
}

#[test]
fn concurrent_checks_never_exceed_a_limit() {
    let yaml = "rules:\n  - id: rl\n    match: {tool: t}\n    effect: allow\n    rate_limit: {max: 100, window: 1h, per: []}\n";
    let guard = Guard::builder(Policy::from_text(yaml, Format::Yaml, "p.yaml").unwrap()).build();
    let allowed = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let guard = guard.clone();
            let allowed = &allowed;
            scope.spawn(move || {
                for _ in 0..50 {
                    let call = ToolCall::new(format!("agent-{thread}"), "t", json!({}));
                    if guard.check(&call).verdict == Verdict::Allow {
                        allowed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    assert_eq!(allowed.load(Ordering::SeqCst), 100);
}

#[test]
fn reload_swaps_atomically_under_concurrent_checks_and_is_recorded() {
    let allow_all =
        Policy::from_text("default: allow\nrules: []\n", Format::Yaml, "v2.yaml").unwrap();
    let v1 = policy().version().to_owned();
    let v2 = allow_all.version().to_owned();
    let h = harness();
    let stop = AtomicBool::new(false);
    let seen = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let guard = h.guard.clone();
                let stop = &stop;
                let (v1, v2) = (&v1, &v2);
                scope.spawn(move || {
                    let mut seen = (0, 0);
                    while !stop.load(Ordering::SeqCst) || seen.1 == 0 {
                        let decision = guard.check(&ToolCall::new("a", "shell", json!({})));
                        // Each decision is wholly from one version.
                        if &decision.policy_version == v1 {
                            assert_eq!(decision.verdict, Verdict::Deny);
                            assert_eq!(decision.rule_ids, ["deny-shell"]);
                            seen.0 += 1;
                        } else {
                            assert_eq!(&decision.policy_version, v2);
                            assert_eq!(decision.verdict, Verdict::Allow);
                            seen.1 += 1;
                        }
                    }
                    seen
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.guard.reload(allow_all).unwrap();
        stop.store(true, Ordering::SeqCst);
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    assert!(seen.0 > 0 && seen.1 > 0, "{seen:?}");
    assert_eq!(h.guard.policy_version(), v2);
    let loaded: Vec<_> = h
        .sink
        .events()
        .into_iter()
        .filter_map(|e| match e {
            AuditEvent::PolicyLoaded(loaded) => Some(loaded),
            _ => None,
        })
        .collect();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].policy_version, v2);
    assert_eq!(loaded[0].previous_version.as_deref(), Some(v1.as_str()));
    assert_eq!(loaded[0].source, "v2.yaml");
}

#[test]
fn a_reload_that_cannot_be_recorded_keeps_the_old_policy() {
    let sink = Arc::new(FailingSink::default());
    let guard = Guard::builder(policy()).sink(sink.clone()).build();
    let before = guard.policy_version();
    sink.fail.store(true, Ordering::SeqCst);
    let next = Policy::from_text("default: allow\nrules: []\n", Format::Yaml, "p.yaml").unwrap();
    assert!(guard.reload(next).is_err());
    assert_eq!(guard.policy_version(), before);
    assert!(matches!(
        guard.reload_file("/nonexistent.yaml"),
        Err(ReloadError::Policy(_))
    ));
}

#[test]
fn run_calls_the_tool_only_when_allowed_and_records_the_outcome() {
    let h = harness();
    let called = AtomicUsize::new(0);
    let blocked = h.guard.run(&refund(json!(900)), |_| {
        called.fetch_add(1, Ordering::SeqCst);
        Ok::<_, String>(json!({}))
    });
    assert!(matches!(blocked, Err(RunError::Blocked(ref d)) if d.verdict == Verdict::Deny));
    let approval = h.guard.run(&refund(json!(150)), |_| {
        called.fetch_add(1, Ordering::SeqCst);
        Ok::<_, String>(json!({}))
    });
    assert!(
        matches!(approval, Err(RunError::Blocked(ref d)) if d.checkpoint.as_deref() == Some("refund-approval"))
    );
    assert_eq!(called.load(Ordering::SeqCst), 0);

    let redacted = h
        .guard
        .run(&email("x@elsewhere.org"), Ok::<_, String>)
        .unwrap();
    assert_eq!(redacted["body"], REDACTED);
    assert_eq!(redacted["to"], "x@elsewhere.org");

    let failed = h.guard.run(&refund(json!(5)), |_| {
        Err("gateway said card 4111 1111 1111 1111 declined".to_owned())
    });
    assert!(matches!(failed, Err(RunError::Tool(_))));
    let outcomes: Vec<_> = h
        .sink
        .events()
        .into_iter()
        .filter_map(|e| match e {
            AuditEvent::Outcome(outcome) => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0].status, OutcomeStatus::Ok);
    assert_eq!(outcomes[1].status, OutcomeStatus::Error);
    assert!(!outcomes[1].error.as_deref().unwrap().contains("4111"));
    // The outcome follows its decision in the log.
    let events = h.sink.events();
    let position = |id: &str, outcome: bool| {
        events.iter().position(|e| match e {
            AuditEvent::Decision(d) => !outcome && d.decision_id == id,
            AuditEvent::Outcome(o) => outcome && o.decision_id == id,
            _ => false,
        })
    };
    let id = &outcomes[1].decision_id;
    assert!(position(id, false).unwrap() < position(id, true).unwrap());
}

#[test]
fn run_checks_and_masks_results() {
    let h = harness();
    let call = ToolCall::new("cs-agent", "lookup_order", json!({"order_id": "o-1"}));
    let result = h
        .guard
        .run(&call, |_| {
            Ok::<_, String>(json!({"status": "shipped", "customer": {"email": "c@d.org"}}))
        })
        .unwrap();
    assert_eq!(
        result,
        json!({"status": "shipped", "customer": {"email": REDACTED}})
    );
    let blocked = h.guard.run(&call, |_| {
        Ok::<_, String>(json!({"internal": "margin 40%"}))
    });
    assert!(
        matches!(blocked, Err(RunError::ResultBlocked(ref d)) if d.phase == Phase::Post && d.verdict == Verdict::Deny)
    );
    let post: Vec<_> = decisions(&h.sink)
        .into_iter()
        .filter(|d| d.phase == Phase::Post)
        .collect();
    assert_eq!(post.len(), 2);
    assert!(!post[0].args.to_string().contains("c@d.org"));
    // The caller never got the second result: its outcome is not `ok`.
    let statuses: Vec<OutcomeStatus> = h
        .sink
        .events()
        .into_iter()
        .filter_map(|e| match e {
            AuditEvent::Outcome(outcome) => Some(outcome.status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [OutcomeStatus::Ok, OutcomeStatus::Error]);
}

#[test]
fn a_panicking_tool_is_recorded_then_resumed() {
    let h = harness();
    let call = ToolCall::new("cs-agent", "lookup_order", json!({}));
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = h
            .guard
            .run(&call, |_| -> Result<Value, String> { panic!("tool bug") });
    }));
    assert!(caught.is_err());
    let outcome = h.sink.events().into_iter().find_map(|e| match e {
        AuditEvent::Outcome(outcome) => Some(outcome),
        _ => None,
    });
    assert_eq!(outcome.unwrap().status, OutcomeStatus::Error);
}

#[test]
fn an_outcome_that_cannot_be_recorded_withholds_the_result() {
    let sink = Arc::new(FailingSink::default());
    let guard = Guard::builder(policy()).sink(sink.clone()).build();
    let call = ToolCall::new("cs-agent", "lookup_order", json!({}));
    let ran = guard.run(&call, |_| {
        sink.fail.store(true, Ordering::SeqCst);
        Ok::<_, String>(json!({"status": "ok"}))
    });
    assert!(matches!(ran, Err(RunError::Audit(_))));
}

#[test]
fn explain_shows_limits_without_counting() {
    let h = harness();
    for _ in 0..3 {
        h.guard.check(&refund(json!(1)));
    }
    let explanation = h.guard.explain(&refund(json!(1)), None);
    assert_eq!(explanation.verdict, Verdict::Deny);
    let rate = explanation
        .rules
        .iter()
        .find(|r| r.id == "refund-rate-limit")
        .unwrap();
    assert_eq!(rate.limits[0].code, "rate_limited");
    assert!(rate.limits[0].exceeded);
    let budget = explanation
        .rules
        .iter()
        .find(|r| r.id == "refund-budget")
        .unwrap();
    assert_eq!(budget.limits[0].code, "within_limit");
    // Explaining counted nothing: the state holds the three checks only.
    let state = h.guard.limit_state().unwrap();
    assert_eq!(state.len(), 2);
    let h2 = harness();
    h2.guard.explain(&refund(json!(1)), None);
    assert!(h2.guard.limit_state().unwrap().is_empty());
}

#[test]
fn metrics_count_decisions_and_export_prometheus() {
    let h = harness();
    h.guard.check(&refund(json!(10)));
    h.guard
        .check(&ToolCall::new("cs-agent", "shell", json!({})));
    h.guard
        .check(&ToolCall::new("cs-agent", "shell", json!({})));
    let snapshot = h.guard.metrics();
    let shell = snapshot
        .decisions
        .iter()
        .find(|d| d.tool == "shell")
        .unwrap();
    assert_eq!((shell.verdict, shell.count), (Verdict::Deny, 2));
    assert_eq!(snapshot.latency.count, 3);
    let text = h.guard.prometheus();
    assert!(text.contains(
        "aims_guard_decisions_total{agent=\"cs-agent\",tool=\"shell\",phase=\"pre\",verdict=\"deny\"} 2"
    ));
}

#[test]
fn limit_state_persists_through_a_locked_file() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-01 09:00 UTC)));
    let run_once = |amount: i64| {
        let (file, state) = LimitFile::open(dir.path()).unwrap();
        let guard = Guard::builder(policy())
            .clock(clock.clone())
            .limit_state(state)
            .build();
        let verdict = guard.check(&refund(json!(amount))).verdict;
        file.save(&guard.limit_state().unwrap()).unwrap();
        verdict
    };
    assert_eq!(run_once(150), Verdict::RequireApproval);
    assert_eq!(run_once(100), Verdict::Allow);
    assert_eq!(run_once(90), Verdict::Allow);
    assert_eq!(
        run_once(20),
        Verdict::Deny,
        "budget 200 spent across processes"
    );
    clock.advance(Duration::hours(2));
    assert_eq!(run_once(20), Verdict::Allow);
    std::fs::write(dir.path().join(STATE_FILE), "{not json").unwrap();
    assert!(matches!(
        LimitFile::open(dir.path()),
        Err(LimitFileError::Corrupt { .. })
    ));
}

#[test]
fn a_result_is_produced_only_when_a_result_rule_can_see_it() {
    let h = harness();
    let produced = AtomicUsize::new(0);
    let produce = |result: Value| {
        let produced = &produced;
        move || {
            produced.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(result)
        }
    };

    // No result rule names send_email: the result is never produced, passes unchanged, and is
    // counted as an allowed result, as check_result would decide and count it.
    let mail = email("jo@example.com");
    let unseen = h
        .guard
        .check_result_when_seen(&mail, produce(json!({"internal": 1})))
        .unwrap();
    assert!(unseen.is_none());
    assert_eq!(produced.load(Ordering::SeqCst), 0);
    let eager = h.guard.check_result(&mail, &json!({"internal": 1}));
    assert_eq!((eager.verdict, eager.audit_index), (Verdict::Allow, None));
    let post_allows = |guard: &Guard| {
        guard
            .metrics()
            .decisions
            .iter()
            .filter(|c| c.phase == Phase::Post && c.verdict == Verdict::Allow)
            .map(|c| c.count)
            .sum::<u64>()
    };
    assert_eq!(post_allows(&h.guard), 2);

    // Result rules name lookup_order: the result is produced and decided as check_result does.
    let order = ToolCall::new("cs-agent", "lookup_order", json!({"order_id": "o-1"}));
    let secret = json!({"internal": true});
    let seen = h
        .guard
        .check_result_when_seen(&order, produce(secret.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(produced.load(Ordering::SeqCst), 1);
    let eager = h.guard.check_result(&order, &secret);
    assert_eq!(seen.verdict, Verdict::Deny);
    assert_eq!(
        (seen.verdict, &seen.rule_ids),
        (eager.verdict, &eager.rule_ids)
    );
    assert!(seen.audit_index.is_some());

    // A failure to produce the result is the caller's error, and nothing is decided.
    let recorded = h.sink.events().len();
    assert_eq!(
        h.guard
            .check_result_when_seen(&order, || Err::<Value, _>("no result")),
        Err("no result")
    );
    assert_eq!(h.sink.events().len(), recorded);
}

#[test]
fn result_rules_are_found_by_exact_name_and_by_tool_pattern() {
    let globbed = Policy::from_text(
        "rules:\n  - id: r\n    phase: post\n    match: {tool: \"db_*\"}\n    effect: deny\n",
        Format::Yaml,
        "p.yaml",
    )
    .unwrap();
    assert!(globbed.has_result_rules_for("db_query"));
    assert!(!globbed.has_result_rules_for("lookup_order"));
    // Call rules are not result rules.
    assert!(!policy().has_result_rules_for("send_email"));
    assert!(policy().has_result_rules_for("lookup_order"));
}
