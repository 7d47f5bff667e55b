//! The evidence pack against a log whose content is known: every figure, the page's
//! figures, a tampered log, and a changed file under the signed manifest.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::fs;
use std::path::Path;

use aims_core::audit::keys::NoteSigner;
use aims_core::guard::ToolCall;
use aims_core::model::load_dir;
use aims_core::report::{self, ManifestProblem, Period, ReportInputs};
use aims_core::runtime::{Runtime, RuntimeConfig};
use serde_json::json;
use time::OffsetDateTime;

const POLICY: &str = r#"
default: deny
rules:
  - id: deny-shell
    match: {tool: shell}
    effect: deny
    controls: [A.9.4]
  - id: refund-cap
    match:
      tool: issue_refund
      args: {/amount: {gt: 500}}
    effect: deny
    controls: [A.9.2]
  - id: email-redact
    match: {tool: send_email}
    effect: redact
    redact: {entities: [CREDIT_CARD]}
    controls: [A.10.4]
  - id: allow-reads
    match: {tool: lookup_order}
    effect: allow
    controls: [A.9.4]
"#;

/// 5 lookups (allow), 3 shell (deny), 2 big refunds (deny), 4 emails with a card (redact),
/// 1 unknown tool (deny by default).
fn known_log(dir: &Path, signer: &NoteSigner) {
    let key = dir.join("org.key");
    signer.write(&key).unwrap();
    let runtime = Runtime::open(RuntimeConfig {
        policy_text: Some(POLICY.into()),
        audit_dir: Some(dir.join("log")),
        signing_key: Some(key),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let mut calls = Vec::new();
    calls.extend((0..5).map(|i| ("lookup_order", json!({"order_id": i}))));
    calls.extend((0..3).map(|_| ("shell", json!({"cmd": "ls"}))));
    calls.extend((0..2).map(|_| ("issue_refund", json!({"amount": 900}))));
    calls.extend((0..4).map(|_| ("send_email", json!({"body": "card 4111 1111 1111 1111"}))));
    calls.push(("format_disk", json!({})));
    for (tool, args) in calls {
        runtime.check(&ToolCall::new("cs-agent", tool, args));
    }
    runtime.flush().unwrap();
}

fn pack_for(dir: &Path, signer: &NoteSigner) -> report::EvidencePack {
    let register = load_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/register")
            .as_path(),
    )
    .unwrap()
    .register;
    report::build(
        &ReportInputs {
            register: &register,
            runtime_incidents: Vec::new(),
            logs: vec![dir.join("log")],
            public_key: Some(signer.verifier()),
            period: Period::default(),
            now: OffsetDateTime::now_utc(),
        },
        |_, _| {},
    )
    .unwrap()
}

#[test]
fn every_figure_matches_the_known_log() {
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed("org", [7; 32]).unwrap();
    known_log(dir.path(), &signer);
    let pack = pack_for(dir.path(), &signer);
    let m = &pack.metrics;
    assert_eq!(m.decisions, 15);
    assert_eq!(m.by_verdict.get("allow"), Some(&5));
    assert_eq!(m.by_verdict.get("deny"), Some(&6));
    assert_eq!(m.by_verdict.get("redact"), Some(&4));
    assert_eq!(
        m.by_day
            .values()
            .map(|v| v.values().sum::<u64>())
            .sum::<u64>(),
        15
    );
    let top: Vec<(&str, u64)> = m
        .top_blocking_rules
        .iter()
        .map(|r| (r.rule_id.as_str(), r.count))
        .collect();
    assert_eq!(top, [("deny-shell", 3), ("refund-cap", 2)]);
    assert_eq!(m.redactions_by_entity.get("CREDIT_CARD"), Some(&4));
    assert!(pack.logs[0].intact && !pack.logs[0].key_from_log);
    assert_eq!(pack.logs[0].records, m.records);

    let row = |id: &str| pack.soa.iter().find(|row| row.control_id == id).unwrap();
    assert_eq!(row("A.9.4").runtime_records, 8); // 5 lookups + 3 shell
    assert_eq!(row("A.10.4").runtime_records, 4);
    assert_eq!(row("A.6.2.8").runtime_records, m.records);
    assert_eq!(pack.soa.len(), 38);

    let html = report::html::render(&pack);
    for (metric, value) in [("decisions", 15), ("denied", 6), ("redacted", 4)] {
        let needle = format!("data-metric=\"{metric}\">{value}<");
        assert!(html.contains(&needle), "page lacks {needle}");
    }
    assert!(html.contains("data-metric=\"blocking_rule\" data-name=\"deny-shell\">3<"));
    assert!(html.contains("data-metric=\"redaction\" data-name=\"CREDIT_CARD\">4<"));
    assert!(html.contains("data-metric=\"logs_intact\" data-value=\"true\""));
    assert!(!html.contains("<script"), "the page runs no code");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page fetches nothing"
    );
}

#[test]
fn a_tampered_log_is_reported_prominently() {
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed("org", [7; 32]).unwrap();
    known_log(dir.path(), &signer);
    let records = dir.path().join("log").join("records");
    let mut bytes = fs::read(&records).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    fs::write(&records, bytes).unwrap();

    let pack = pack_for(dir.path(), &signer);
    assert!(!pack.logs[0].intact);
    assert_eq!(pack.gaps[0].code, "audit_log.not_intact");
    let html = report::html::render(&pack);
    let banner = html.find("audit log verification FAILED").unwrap();
    assert!(
        banner < html.find("id=\"scope\"").unwrap(),
        "the warning comes first"
    );
}

#[test]
fn the_signed_manifest_detects_a_changed_file_and_a_foreign_key() {
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed("org", [7; 32]).unwrap();
    known_log(dir.path(), &signer);
    let pack = pack_for(dir.path(), &signer);
    let out = dir.path().join("pack");
    let written = report::write_pack(&pack, &out, &signer).unwrap();
    assert_eq!(written.len(), 6);
    assert_eq!(report::verify_pack(&out, &signer.verifier()), Ok(4));

    let other = NoteSigner::from_seed("org", [8; 32]).unwrap();
    assert!(matches!(
        report::verify_pack(&out, &other.verifier()),
        Err(ManifestProblem::BadSignature(_))
    ));
    let evidence = out.join("evidence.json");
    let text = fs::read_to_string(&evidence)
        .unwrap()
        .replace("\"deny\": 6", "\"deny\": 1");
    fs::write(&evidence, text).unwrap();
    assert_eq!(
        report::verify_pack(&out, &signer.verifier()),
        Err(ManifestProblem::Changed("evidence.json".into()))
    );
}

#[test]
fn the_period_filters_records_by_day() {
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed("org", [7; 32]).unwrap();
    known_log(dir.path(), &signer);
    let register = load_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/register")
            .as_path(),
    )
    .unwrap()
    .register;
    let tomorrow = OffsetDateTime::now_utc().date().next_day().unwrap();
    let pack = report::build(
        &ReportInputs {
            register: &register,
            runtime_incidents: Vec::new(),
            logs: vec![dir.path().join("log")],
            public_key: Some(signer.verifier()),
            period: Period {
                from: Some(tomorrow),
                to: None,
            },
            now: OffsetDateTime::now_utc(),
        },
        |_, _| {},
    )
    .unwrap();
    assert_eq!(pack.metrics.decisions, 0);
    assert_eq!(pack.metrics.records, 0);
}

const APPROVAL_POLICY: &str = r#"
default: allow
rules:
  - id: refund-approval
    match: {tool: issue_refund}
    effect: require_approval
    checkpoint: refund-approval
    controls: [A.9.2]
checkpoints:
  - id: refund-approval
    ai_system_id: cs-assistant
    trigger: {policy_rules: [refund-approval]}
    approver_roles: [finance]
    required_approvals: 1
    timeout_seconds: 1800
    on_timeout: deny
"#;

/// A replica that asks for approvals, and an approver's process with its own log on the same
/// oversight store: the pack of their logs (named by their parent directory) sums the
/// figures and joins each request to its decision across logs.
#[test]
fn a_fleets_logs_make_one_pack_with_approvals_joined_across_logs() {
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed("org", [7; 32]).unwrap();
    let key = dir.path().join("org.key");
    signer.write(&key).unwrap();
    let open = |name: &str| {
        Runtime::open(RuntimeConfig {
            policy_text: Some(APPROVAL_POLICY.into()),
            audit_dir: Some(dir.path().join("fleet").join(name)),
            signing_key: Some(key.clone()),
            oversight_store: Some(dir.path().join("oversight.db")),
            ..RuntimeConfig::default()
        })
        .unwrap()
    };
    let replica = open("replica-a");
    let other_replica = open("replica-b");
    let approver = open("approver");
    let mut ids = Vec::new();
    for (runtime, amount) in [(&replica, 10), (&other_replica, 20), (&replica, 30)] {
        let decision = runtime.check(&ToolCall::new(
            "cs-agent",
            "issue_refund",
            json!({"amount": amount}),
        ));
        ids.push(decision.approval_id.unwrap());
    }
    other_replica.check(&ToolCall::new("cs-agent", "lookup_order", json!({})));
    let approvals = approver.approvals().unwrap();
    approvals.approve(&ids[0], "ana", "finance", None).unwrap();
    approvals.reject(&ids[1], "ana", "finance", None).unwrap();
    for runtime in [&replica, &other_replica, &approver] {
        runtime.flush().unwrap();
    }

    let logs = report::log_dirs(&[dir.path().join("fleet")]).unwrap();
    let names: Vec<_> = logs
        .iter()
        .map(|log| log.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, ["approver", "replica-a", "replica-b"]);
    let register = load_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/register")
            .as_path(),
    )
    .unwrap()
    .register;
    let pack = report::build(
        &ReportInputs {
            register: &register,
            runtime_incidents: Vec::new(),
            logs,
            public_key: Some(signer.verifier()),
            period: Period::default(),
            now: OffsetDateTime::now_utc(),
        },
        |_, _| {},
    )
    .unwrap();
    assert_eq!(pack.logs.len(), 3);
    assert!(pack.logs.iter().all(|log| log.intact));
    let m = &pack.metrics;
    // Decisions from both replicas add up.
    assert_eq!(m.decisions, 4);
    assert_eq!(m.by_verdict.get("require_approval"), Some(&3));
    assert_eq!(m.approval_steps.get("requested"), Some(&3));
    assert_eq!(m.approval_steps.get("approved"), Some(&1));
    assert_eq!(m.approval_steps.get("rejected"), Some(&1));
    // Requested in a replica's log, decided in the approver's (read first): both joined.
    assert!(m.approval_latency_median_s.is_some());
    assert_eq!(
        pack.logs.iter().map(|log| log.records).sum::<u64>(),
        m.records
    );
}
