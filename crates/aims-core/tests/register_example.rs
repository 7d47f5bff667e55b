//! The example register (`examples/register/`) states the facts other parts of aims rely on:
//! the `cs-assistant` system, its agent and tools, the oversight checkpoints, the guard policy
//! rule ids its SoA names, and a full SoA.
#![allow(clippy::unwrap_used)] // a test: a failed load or read should fail it loudly

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use aims_core::catalog;
use aims_core::model::{
    load_dir, EuRiskClass, ImplementationRef, OnTimeout, OrgRole, Register, SeriousIncidentKind,
};
use sha2::{Digest, Sha256};
use time::macros::datetime;

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/register")
}

fn example() -> Register {
    load_dir(&example_dir()).unwrap().register
}

#[test]
fn deploys_the_customer_service_assistant() {
    let register = example();
    let system = register.system("cs-assistant").unwrap();
    assert_eq!(system.org_role, OrgRole::Deployer);
    assert_eq!(system.eu_risk_class, EuRiskClass::Limited);
    assert_eq!(system.agent_ids, ["cs-agent"]);
    assert_eq!(
        system.tools,
        ["lookup_order", "search_kb", "issue_refund", "send_email"]
    );
    assert!(system
        .data_categories
        .iter()
        .any(|category| category.personal_data));
}

#[test]
fn has_the_refund_and_bulk_email_checkpoints() {
    let register = example();
    let refund = register.checkpoint("refund-approval").unwrap();
    assert_eq!(refund.ai_system_id, "cs-assistant");
    assert_eq!(refund.approver_roles, ["support-lead", "finance"]);
    assert_eq!(refund.required_approvals, 1);
    assert_eq!(refund.timeout().as_secs(), 30 * 60);
    assert_eq!(refund.on_timeout, OnTimeout::Deny);
    let bulk = register.checkpoint("bulk-email-approval").unwrap();
    assert_eq!(bulk.required_approvals, 2);
    assert!(bulk.needs_several_people());
}

#[test]
fn the_soa_names_every_guard_policy_rule_and_covers_all_38_controls() {
    let register = example();
    let controls: BTreeSet<&str> = register.soa.iter().map(|e| e.control_id.as_str()).collect();
    let catalog: BTreeSet<&str> = catalog::controls().iter().map(|c| c.id.as_str()).collect();
    assert_eq!(register.soa.len(), 38);
    assert_eq!(controls, catalog);
    let rules: BTreeSet<&str> = register
        .soa
        .iter()
        .flat_map(|entry| &entry.implemented_by)
        .filter_map(|text| match ImplementationRef::parse(text) {
            Ok(ImplementationRef::PolicyRule(rule)) => Some(rule),
            _ => None,
        })
        .collect();
    let expected: BTreeSet<&str> = [
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
    .into();
    assert_eq!(rules, expected);
}

#[test]
fn covers_the_four_risks_two_incidents_and_one_review() {
    let register = example();
    let titles: Vec<&str> = register.risks.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles.len(), 4);
    for word in [
        "Prompt injection",
        "Personal data",
        "refunds",
        "Hallucinated",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(word)),
            "{word} in {titles:?}"
        );
    }
    assert_eq!(register.incidents.len(), 2);
    let serious = &register.incidents[0];
    assert_eq!(serious.serious_kind, Some(SeriousIncidentKind::Other));
    assert_eq!(
        serious.reporting_deadline(),
        Some(datetime!(2026-04-18 16:40 UTC))
    );
    assert!(serious.reported_at.unwrap() <= serious.reporting_deadline().unwrap());
    assert_eq!(register.management_reviews.len(), 1);
}

#[test]
fn evidence_digests_match_the_shipped_files() {
    for evidence in example().evidence {
        let content = fs::read(example_dir().join(&evidence.uri)).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&content)),
            evidence.sha256,
            "{}",
            evidence.id
        );
    }
}

#[test]
fn agrees_with_the_guard_policy_in_both_directions() {
    let policy_path = example_dir().join("../policy.yaml");
    let policy = aims_core::policy::Policy::from_file(&policy_path).unwrap();
    let loaded = load_dir(&example_dir()).unwrap();
    assert_eq!(loaded.check_policy(&policy), vec![]);

    let mut register = loaded.register.clone();
    register.oversight[0]
        .trigger
        .policy_rules
        .push("refund-approvals".into());
    register
        .oversight
        .retain(|checkpoint| checkpoint.id != "refund-approval");
    let findings = register.check_policy(&policy);
    let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
    // The renamed trigger rule is gone with its checkpoint; the policy's rule `refund-approval`
    // now names a checkpoint the register lacks.
    assert_eq!(codes, ["ref.unknown_checkpoint"], "{findings:#?}");
    assert!(findings[0].message.contains("checkpoint `refund-approval`"));

    let mut register = loaded.register;
    register.oversight[1]
        .trigger
        .policy_rules
        .push("no-such-rule".into());
    let findings = register.check_policy(&policy);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].code, "ref.unknown_policy_rule");
    assert_eq!(findings[0].pointer, "/1/trigger/policy_rules/0");
}
