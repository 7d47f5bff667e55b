//! Reference rules: every id a register entry names must exist, in the register or (for
//! clauses and Annex A controls) in the catalog. Codes are `ref.unknown_<kind>`.
//!
//! `policy:<rule-id>` references in the SoA are not checked here: a register is valid without
//! its policy file. `checkpoint:<id>` references are checked with the SoA rules.

use std::collections::HashSet;

use crate::catalog;
use crate::model::finding::Finding;
use crate::model::improvement::NonconformitySource;
use crate::model::register::{Register, Section};

use super::ids::KnownIds;

/// What a reference must name, and how to tell whether it exists.
struct Target<'a> {
    code: &'static str,
    noun: &'static str,
    exists: &'a dyn Fn(&str) -> bool,
}

impl Target<'_> {
    fn check(&self, findings: &mut Vec<Finding>, section: Section, pointer: String, id: &str) {
        if !(self.exists)(id) {
            findings.push(Finding::error(
                self.code,
                section,
                pointer,
                format!("no {} has id `{id}`", self.noun),
            ));
        }
    }

    fn check_all(&self, findings: &mut Vec<Finding>, section: Section, base: &str, ids: &[String]) {
        for (index, id) in ids.iter().enumerate() {
            self.check(findings, section, format!("{base}/{index}"), id);
        }
    }
}

fn known<'a>(ids: &'a HashSet<&str>) -> impl Fn(&str) -> bool + 'a {
    move |id| ids.contains(id)
}

pub(super) fn check(register: &Register, known_ids: &KnownIds<'_>, findings: &mut Vec<Finding>) {
    let is_control = |id: &str| catalog::control(id).is_ok();
    let is_requirement = |id: &str| catalog::control(id).is_ok() || catalog::clause(id).is_ok();
    let (systems, risks, incidents) = (
        known(&known_ids.systems),
        known(&known_ids.risks),
        known(&known_ids.incidents),
    );
    let (nonconformities, actions, audits, evidence) = (
        known(&known_ids.nonconformities),
        known(&known_ids.corrective_actions),
        known(&known_ids.internal_audits),
        known(&known_ids.evidence),
    );
    let control = Target {
        code: "ref.unknown_control",
        noun: "Annex A control",
        exists: &is_control,
    };
    let requirement = Target {
        code: "ref.unknown_requirement",
        noun: "clause or Annex A control",
        exists: &is_requirement,
    };
    let system = Target {
        code: "ref.unknown_system",
        noun: "AI system",
        exists: &systems,
    };
    let risk = Target {
        code: "ref.unknown_risk",
        noun: "risk",
        exists: &risks,
    };
    let incident = Target {
        code: "ref.unknown_incident",
        noun: "incident",
        exists: &incidents,
    };
    let nonconformity = Target {
        code: "ref.unknown_nonconformity",
        noun: "nonconformity",
        exists: &nonconformities,
    };
    let action = Target {
        code: "ref.unknown_corrective_action",
        noun: "corrective action",
        exists: &actions,
    };
    let audit = Target {
        code: "ref.unknown_internal_audit",
        noun: "internal audit",
        exists: &audits,
    };
    let evidence_item = Target {
        code: "ref.unknown_evidence",
        noun: "evidence item",
        exists: &evidence,
    };

    for (i, entry) in register.soa.iter().enumerate() {
        control.check(
            findings,
            Section::Soa,
            format!("/{i}/control_id"),
            &entry.control_id,
        );
        evidence_item.check_all(
            findings,
            Section::Soa,
            &format!("/{i}/evidence_ids"),
            &entry.evidence_ids,
        );
    }
    for (i, item) in register.risks.iter().enumerate() {
        system.check_all(
            findings,
            Section::Risks,
            &format!("/{i}/ai_system_ids"),
            &item.ai_system_ids,
        );
        control.check_all(
            findings,
            Section::Risks,
            &format!("/{i}/control_ids"),
            &item.control_ids,
        );
    }
    for (i, item) in register.impact_assessments.iter().enumerate() {
        let section = Section::ImpactAssessments;
        system.check(
            findings,
            section,
            format!("/{i}/ai_system_id"),
            &item.ai_system_id,
        );
        risk.check_all(findings, section, &format!("/{i}/risk_ids"), &item.risk_ids);
    }
    for (i, item) in register.oversight.iter().enumerate() {
        system.check(
            findings,
            Section::Oversight,
            format!("/{i}/ai_system_id"),
            &item.ai_system_id,
        );
    }
    for (i, item) in register.incidents.iter().enumerate() {
        let section = Section::Incidents;
        system.check_all(
            findings,
            section,
            &format!("/{i}/ai_system_ids"),
            &item.ai_system_ids,
        );
        action.check_all(
            findings,
            section,
            &format!("/{i}/corrective_action_ids"),
            &item.corrective_action_ids,
        );
    }
    for (i, item) in register.nonconformities.iter().enumerate() {
        let section = Section::Nonconformities;
        requirement.check_all(
            findings,
            section,
            &format!("/{i}/requirement_ids"),
            &item.requirement_ids,
        );
        action.check_all(
            findings,
            section,
            &format!("/{i}/corrective_action_ids"),
            &item.corrective_action_ids,
        );
        let source_target = match item.source {
            NonconformitySource::Incident => Some(&incident),
            NonconformitySource::InternalAudit => Some(&audit),
            _ => None,
        };
        if let (Some(target), Some(id)) = (source_target, &item.source_id) {
            target.check(findings, section, format!("/{i}/source_id"), id);
        }
    }
    for (i, item) in register.corrective_actions.iter().enumerate() {
        let section = Section::CorrectiveActions;
        nonconformity.check_all(
            findings,
            section,
            &format!("/{i}/nonconformity_ids"),
            &item.nonconformity_ids,
        );
        incident.check_all(
            findings,
            section,
            &format!("/{i}/incident_ids"),
            &item.incident_ids,
        );
    }
    for (i, item) in register.internal_audits.iter().enumerate() {
        let section = Section::InternalAudits;
        requirement.check_all(
            findings,
            section,
            &format!("/{i}/requirement_ids"),
            &item.requirement_ids,
        );
        for (j, finding) in item.findings.iter().enumerate() {
            let base = format!("/{i}/findings/{j}");
            requirement.check(
                findings,
                section,
                format!("{base}/requirement_id"),
                &finding.requirement_id,
            );
            if let Some(id) = &finding.nonconformity_id {
                nonconformity.check(findings, section, format!("{base}/nonconformity_id"), id);
            }
        }
    }
    for (i, item) in register.management_reviews.iter().enumerate() {
        let section = Section::ManagementReviews;
        incident.check_all(
            findings,
            section,
            &format!("/{i}/incident_ids"),
            &item.incident_ids,
        );
        audit.check_all(
            findings,
            section,
            &format!("/{i}/internal_audit_ids"),
            &item.internal_audit_ids,
        );
        nonconformity.check_all(
            findings,
            section,
            &format!("/{i}/nonconformity_ids"),
            &item.nonconformity_ids,
        );
    }
    for (i, item) in register.evidence.iter().enumerate() {
        control.check_all(
            findings,
            Section::Evidence,
            &format!("/{i}/control_ids"),
            &item.control_ids,
        );
    }
}
