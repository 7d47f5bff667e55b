//! Each validation rule, shown by a failing fixture: the example register (which has no
//! findings) with exactly one thing broken, and exactly the expected finding in return.
#![allow(clippy::unwrap_used)] // a test: a failed load or read should fail it loudly

use std::path::{Path, PathBuf};

use aims_core::model::{
    load_dir, Finding, FindingSeverity, ImplementationStatus, OnTimeout, Rating, Register,
    RiskStatus, Section, SeriousIncidentKind, SignOff, Treatment,
};
use time::macros::{date, datetime};
use time::OffsetDateTime;

/// (severity, code, section, pointer) of a finding.
type Summary = (FindingSeverity, &'static str, Section, String);

/// A change that breaks the example register.
type Mutation = Box<dyn FnOnce(&mut Register)>;

const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/register")
}

fn example() -> Register {
    load_dir(&example_dir()).unwrap().register
}

/// The summary of every finding.
fn summary(findings: &[Finding]) -> Vec<Summary> {
    findings
        .iter()
        .map(|f| (f.severity, f.code, f.section.unwrap(), f.pointer.clone()))
        .collect()
}

fn error(code: &'static str, section: Section, pointer: &str) -> Summary {
    (FindingSeverity::Error, code, section, pointer.to_owned())
}

fn warning(code: &'static str, section: Section, pointer: &str) -> Summary {
    (FindingSeverity::Warning, code, section, pointer.to_owned())
}

/// Breaks the example with `mutate` and asserts exactly `expected` is found.
fn expect(mutate: impl FnOnce(&mut Register), expected: &[Summary]) -> Vec<Finding> {
    let mut register = example();
    mutate(&mut register);
    let findings = register.validate_at(NOW);
    assert_eq!(summary(&findings), expected, "{findings:#?}");
    findings
}

fn soa_index(register: &Register, control_id: &str) -> usize {
    register
        .soa
        .iter()
        .position(|e| e.control_id == control_id)
        .unwrap()
}

#[test]
fn the_example_register_has_no_findings() {
    assert_eq!(example().validate_at(NOW), vec![]);
}

#[test]
fn ids_must_be_unique_per_section() {
    expect(
        |r| r.risks.push(r.risks[1].clone()),
        &[error("id.duplicate", Section::Risks, "/4/id")],
    );
}

#[test]
fn the_soa_must_cover_every_control_exactly_once() {
    let findings = expect(
        |r| {
            let i = soa_index(r, "A.7.6");
            r.soa.remove(i);
        },
        &[error("soa.missing_control", Section::Soa, "")],
    );
    assert!(
        findings[0].message.contains("A.7.6"),
        "{}",
        findings[0].message
    );
    expect(
        |r| r.soa.push(r.soa[0].clone()),
        &[error(
            "soa.duplicate_control",
            Section::Soa,
            "/38/control_id",
        )],
    );
    expect(
        |r| r.soa[0].control_id = "A.2.1".into(),
        &[
            error("soa.missing_control", Section::Soa, ""),
            error("ref.unknown_control", Section::Soa, "/0/control_id"),
        ],
    );
}

#[test]
fn inclusions_and_exclusions_need_a_justification() {
    let findings = expect(
        |r| {
            let i = soa_index(r, "A.7.2");
            r.soa[i].justification = "  ".into();
        },
        &[error(
            "soa.justification_missing",
            Section::Soa,
            "/23/justification",
        )],
    );
    assert!(findings[0].message.contains("exclusion of A.7.2"));
    let findings = expect(
        |r| r.soa[0].justification.clear(),
        &[error(
            "soa.justification_missing",
            Section::Soa,
            "/0/justification",
        )],
    );
    assert!(findings[0].message.contains("inclusion of A.2.2"));
}

#[test]
fn status_must_agree_with_applicability() {
    expect(
        |r| r.soa[0].implementation_status = ImplementationStatus::NotApplicable,
        &[error(
            "soa.status_mismatch",
            Section::Soa,
            "/0/implementation_status",
        )],
    );
    expect(
        |r| r.soa[23].applicable = true,
        &[error(
            "soa.status_mismatch",
            Section::Soa,
            "/23/implementation_status",
        )],
    );
}

#[test]
fn implementation_references_need_a_known_prefix_and_known_checkpoints() {
    expect(
        |r| r.soa[0].implemented_by.push("refund-cap".into()),
        &[error(
            "soa.bad_implementation_ref",
            Section::Soa,
            "/0/implemented_by/1",
        )],
    );
    expect(
        |r| r.soa[0].implemented_by.push("checkpoint:nobody".into()),
        &[error(
            "ref.unknown_checkpoint",
            Section::Soa,
            "/0/implemented_by/1",
        )],
    );
    // Policy rule ids are not checked against a policy file.
    expect(
        |r| {
            r.soa[0]
                .implemented_by
                .push("policy:not-in-any-file".into())
        },
        &[],
    );
    expect(
        |r| r.soa[0].implemented_by.clear(),
        &[warning(
            "soa.nothing_implements",
            Section::Soa,
            "/0/implemented_by",
        )],
    );
}

#[test]
fn every_referenced_id_must_exist() {
    let cases: Vec<(&str, Mutation, Section, &str)> = vec![
        (
            "ref.unknown_system",
            Box::new(|r| r.risks[0].ai_system_ids[0] = "x".into()),
            Section::Risks,
            "/0/ai_system_ids/0",
        ),
        (
            "ref.unknown_system",
            Box::new(|r| r.oversight[1].ai_system_id = "x".into()),
            Section::Oversight,
            "/1/ai_system_id",
        ),
        (
            "ref.unknown_system",
            Box::new(|r| r.impact_assessments[0].ai_system_id = "x".into()),
            Section::ImpactAssessments,
            "/0/ai_system_id",
        ),
        (
            "ref.unknown_system",
            Box::new(|r| r.incidents[1].ai_system_ids.push("x".into())),
            Section::Incidents,
            "/1/ai_system_ids/1",
        ),
        (
            "ref.unknown_control",
            Box::new(|r| r.risks[2].control_ids.push("A.11".into())),
            Section::Risks,
            "/2/control_ids/3",
        ),
        (
            "ref.unknown_control",
            Box::new(|r| r.evidence[0].control_ids[0] = "A.2.1".into()),
            Section::Evidence,
            "/0/control_ids/0",
        ),
        (
            "ref.unknown_requirement",
            Box::new(|r| r.nonconformities[0].requirement_ids.push("11.1".into())),
            Section::Nonconformities,
            "/0/requirement_ids/3",
        ),
        (
            "ref.unknown_requirement",
            Box::new(|r| r.internal_audits[0].findings[1].requirement_id = "A.4.1".into()),
            Section::InternalAudits,
            "/0/findings/1/requirement_id",
        ),
        (
            "ref.unknown_risk",
            Box::new(|r| r.impact_assessments[0].risk_ids.push("R-999".into())),
            Section::ImpactAssessments,
            "/0/risk_ids/4",
        ),
        (
            "ref.unknown_evidence",
            Box::new(|r| r.soa[1].evidence_ids.push("EV-999".into())),
            Section::Soa,
            "/1/evidence_ids/0",
        ),
        (
            "ref.unknown_corrective_action",
            Box::new(|r| r.incidents[0].corrective_action_ids.push("CA-9".into())),
            Section::Incidents,
            "/0/corrective_action_ids/1",
        ),
        (
            "ref.unknown_corrective_action",
            Box::new(|r| r.nonconformities[1].corrective_action_ids[0] = "CA-9".into()),
            Section::Nonconformities,
            "/1/corrective_action_ids/0",
        ),
        (
            "ref.unknown_nonconformity",
            Box::new(|r| r.corrective_actions[0].nonconformity_ids[0] = "NC-9".into()),
            Section::CorrectiveActions,
            "/0/nonconformity_ids/0",
        ),
        (
            "ref.unknown_nonconformity",
            Box::new(|r| r.internal_audits[0].findings[0].nonconformity_id = Some("NC-9".into())),
            Section::InternalAudits,
            "/0/findings/0/nonconformity_id",
        ),
        (
            "ref.unknown_nonconformity",
            Box::new(|r| {
                r.management_reviews[0]
                    .nonconformity_ids
                    .push("NC-9".into())
            }),
            Section::ManagementReviews,
            "/0/nonconformity_ids/2",
        ),
        (
            "ref.unknown_incident",
            Box::new(|r| r.corrective_actions[1].incident_ids[0] = "INC-9".into()),
            Section::CorrectiveActions,
            "/1/incident_ids/0",
        ),
        (
            "ref.unknown_incident",
            Box::new(|r| r.nonconformities[0].source_id = Some("INC-9".into())),
            Section::Nonconformities,
            "/0/source_id",
        ),
        (
            "ref.unknown_incident",
            Box::new(|r| r.management_reviews[0].incident_ids.push("INC-9".into())),
            Section::ManagementReviews,
            "/0/incident_ids/2",
        ),
        (
            "ref.unknown_internal_audit",
            Box::new(|r| r.nonconformities[1].source_id = Some("AUD-9".into())),
            Section::Nonconformities,
            "/1/source_id",
        ),
        (
            "ref.unknown_internal_audit",
            Box::new(|r| r.management_reviews[0].internal_audit_ids[0] = "AUD-9".into()),
            Section::ManagementReviews,
            "/0/internal_audit_ids/0",
        ),
    ];
    for (code, mutate, section, pointer) in cases {
        let findings = expect(mutate, &[error(code, section, pointer)]);
        assert!(
            findings[0].message.contains("has id `"),
            "{}",
            findings[0].message
        );
    }
}

#[test]
fn risk_criteria_must_be_usable() {
    expect(
        |r| r.risk_criteria.acceptance_threshold = "tolerable".into(),
        &[
            error("risk_criteria.invalid", Section::RiskCriteria, ""),
            // Unusable criteria cannot call anything acceptable: unaccepted residuals warn.
            warning(
                "risk.residual_above_threshold",
                Section::Risks,
                "/0/residual",
            ),
            warning(
                "risk.residual_above_threshold",
                Section::Risks,
                "/1/residual",
            ),
        ],
    );
}

#[test]
fn ratings_must_lie_on_the_scales() {
    expect(
        |r| {
            r.risks[3].inherent = Rating {
                likelihood: 6,
                impact: 1,
            }
        },
        &[error(
            "risk.rating_out_of_range",
            Section::Risks,
            "/3/inherent",
        )],
    );
    expect(
        |r| {
            r.risks[3].residual = Some(Rating {
                likelihood: 1,
                impact: 0,
            })
        },
        &[error(
            "risk.rating_out_of_range",
            Section::Risks,
            "/3/residual",
        )],
    );
}

#[test]
fn a_risk_above_the_threshold_is_treated_or_its_acceptance_recorded() {
    // inherent 4 x 4 = 16 (high), above `medium`.
    expect(
        |r| r.risks[0].treatment = Treatment::Accept,
        &[error(
            "risk.unaccepted_above_threshold",
            Section::Risks,
            "/0/treatment",
        )],
    );
    expect(
        |r| {
            r.risks[0].treatment = Treatment::Accept;
            r.risks[0].residual_acceptance = Some(SignOff {
                by: "CEO".into(),
                at: datetime!(2026-06-01 10:00 UTC),
                note: None,
            });
        },
        &[],
    );
    // inherent 3 x 3 = 9 (medium), within the threshold: accept needs no sign-off.
    expect(|r| r.risks[3].residual_acceptance = None, &[]);
}

#[test]
fn an_unaccepted_residual_above_the_threshold_is_a_warning() {
    expect(
        |r| {
            r.risks[0].residual = Some(Rating {
                likelihood: 3,
                impact: 4,
            })
        },
        &[warning(
            "risk.residual_above_threshold",
            Section::Risks,
            "/0/residual",
        )],
    );
}

#[test]
fn overdue_reviews_are_warnings() {
    expect(
        |r| r.risks[0].review_due = date!(2026 - 11 - 22),
        &[warning(
            "risk.review_overdue",
            Section::Risks,
            "/0/review_due",
        )],
    );
    // A closed risk is not reviewed any more.
    expect(
        |r| {
            r.risks[0].review_due = date!(2026 - 11 - 22);
            r.risks[0].status = RiskStatus::Closed;
        },
        &[],
    );
    expect(
        |r| r.impact_assessments[0].next_review = date!(2026 - 01 - 01),
        &[warning(
            "impact.review_overdue",
            Section::ImpactAssessments,
            "/0/next_review",
        )],
    );
    expect(
        |r| r.management_reviews[0].next_review = date!(2026 - 11 - 01),
        &[warning(
            "management_review.overdue",
            Section::ManagementReviews,
            "/0/next_review",
        )],
    );
    expect(
        |r| r.corrective_actions[2].due = date!(2026 - 11 - 01),
        &[warning(
            "corrective_action.overdue",
            Section::CorrectiveActions,
            "/2/due",
        )],
    );
    // A verified action is finished, whatever its due date.
    expect(|r| r.corrective_actions[0].due = date!(2026 - 01 - 01), &[]);
    expect(
        |r| r.ai_policy.as_mut().unwrap().review_due = date!(2026 - 11 - 22),
        &[warning(
            "ai_policy.review_overdue",
            Section::AiPolicy,
            "/review_due",
        )],
    );
}

#[test]
fn the_register_needs_an_ai_policy() {
    expect(
        |r| r.ai_policy = None,
        &[error("ai_policy.missing", Section::AiPolicy, "")],
    );
}

#[test]
fn oversight_checkpoints_must_be_reachable_and_approvable() {
    expect(
        |r| r.oversight[0].trigger = Default::default(),
        &[error(
            "oversight.empty_trigger",
            Section::Oversight,
            "/0/trigger",
        )],
    );
    expect(
        |r| r.oversight[0].approver_roles.clear(),
        &[error(
            "oversight.no_approver_roles",
            Section::Oversight,
            "/0/approver_roles",
        )],
    );
    expect(
        |r| r.oversight[1].required_approvals = 0,
        &[error(
            "oversight.zero_approvals",
            Section::Oversight,
            "/1/required_approvals",
        )],
    );
    expect(
        |r| r.oversight[0].timeout_seconds = 0,
        &[error(
            "oversight.zero_timeout",
            Section::Oversight,
            "/0/timeout_seconds",
        )],
    );
    expect(
        |r| r.oversight[0].on_timeout = OnTimeout::Escalate,
        &[error(
            "oversight.escalate_to_missing",
            Section::Oversight,
            "/0/escalate_to",
        )],
    );
}

#[test]
fn serious_incidents_need_a_kind_and_a_timely_report() {
    // INC-2026-002: detected 2026-08-19T09:30Z, not serious in the example.
    expect(
        |r| r.incidents[1].serious = true,
        &[
            error(
                "incident.serious_kind_missing",
                Section::Incidents,
                "/1/serious",
            ),
            error("incident.report_overdue", Section::Incidents, "/1"),
        ],
    );
    let findings = expect(
        |r| {
            r.incidents[1].serious = true;
            r.incidents[1].serious_kind = Some(SeriousIncidentKind::Death);
        },
        &[error("incident.report_overdue", Section::Incidents, "/1")],
    );
    assert!(
        findings[0].message.contains("2026-08-29T09:30:00Z"),
        "{}",
        findings[0].message
    );
    expect(
        |r| r.incidents[1].serious_kind = Some(SeriousIncidentKind::Other),
        &[warning(
            "incident.kind_without_serious",
            Section::Incidents,
            "/1/serious_kind",
        )],
    );
    // INC-2026-001: aware 2026-04-03T16:40Z, kind other: due 2026-04-18T16:40Z.
    expect(
        |r| r.incidents[0].reported_at = Some(datetime!(2026-04-18 16:41 UTC)),
        &[warning(
            "incident.reported_late",
            Section::Incidents,
            "/0/reported_at",
        )],
    );
    expect(
        |r| r.incidents[0].reported_at = Some(datetime!(2026-04-18 16:40 UTC)),
        &[],
    );
}

#[test]
fn an_unreported_serious_incident_is_fine_until_its_deadline() {
    let mut register = example();
    register.incidents[1].serious = true;
    register.incidents[1].serious_kind = Some(SeriousIncidentKind::Other);
    // Due 15 days after awareness (= detection): 2026-09-03T09:30Z.
    assert_eq!(
        register.validate_at(datetime!(2026-09-03 09:30 UTC)),
        vec![]
    );
    let late = register.validate_at(datetime!(2026-09-03 09:31 UTC));
    assert_eq!(
        summary(&late),
        [error("incident.report_overdue", Section::Incidents, "/1")]
    );
}

#[test]
fn evidence_needs_a_digest_and_is_flagged_when_expired() {
    expect(
        |r| r.evidence[0].sha256 = r.evidence[0].sha256.to_uppercase(),
        &[error("evidence.bad_sha256", Section::Evidence, "/0/sha256")],
    );
    expect(
        |r| r.evidence[0].expires_at = Some(datetime!(2026-11-01 00:00 UTC)),
        &[warning(
            "evidence.expired",
            Section::Evidence,
            "/0/expires_at",
        )],
    );
}
