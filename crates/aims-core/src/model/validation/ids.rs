//! The ids a register defines, for reference checks, and the rule that ids are unique.

use std::collections::HashSet;

use crate::model::finding::Finding;
use crate::model::register::{Register, Section};
use crate::model::{
    AiSystem, CorrectiveAction, Evidence, ImpactAssessment, Incident, InternalAudit,
    ManagementReview, Nonconformity, OversightCheckpoint, Risk,
};

use super::item_field;

/// Finding code: two items of one section share an id.
pub const DUPLICATE_ID: &str = "id.duplicate";

/// A register item with an id.
trait Identified {
    fn id(&self) -> &str;
}

macro_rules! identified_by_id_field {
    ($($type:ty),*) => {
        $(impl Identified for $type {
            fn id(&self) -> &str {
                &self.id
            }
        })*
    };
}

identified_by_id_field!(
    AiSystem,
    Risk,
    ImpactAssessment,
    OversightCheckpoint,
    Incident,
    Nonconformity,
    CorrectiveAction,
    InternalAudit,
    ManagementReview,
    Evidence
);

fn ids<T: Identified>(items: &[T]) -> HashSet<&str> {
    items.iter().map(Identified::id).collect()
}

/// Every id defined in a register, by kind.
#[derive(Debug, Default)]
pub struct KnownIds<'r> {
    /// AI system ids.
    pub systems: HashSet<&'r str>,
    /// Oversight checkpoint ids.
    pub checkpoints: HashSet<&'r str>,
    /// Risk ids.
    pub risks: HashSet<&'r str>,
    /// Incident ids.
    pub incidents: HashSet<&'r str>,
    /// Nonconformity ids.
    pub nonconformities: HashSet<&'r str>,
    /// Corrective action ids.
    pub corrective_actions: HashSet<&'r str>,
    /// Internal audit ids.
    pub internal_audits: HashSet<&'r str>,
    /// Evidence ids.
    pub evidence: HashSet<&'r str>,
}

impl<'r> KnownIds<'r> {
    /// Collects the ids `register` defines.
    pub fn of(register: &'r Register) -> Self {
        Self {
            systems: ids(&register.systems),
            checkpoints: ids(&register.oversight),
            risks: ids(&register.risks),
            incidents: ids(&register.incidents),
            nonconformities: ids(&register.nonconformities),
            corrective_actions: ids(&register.corrective_actions),
            internal_audits: ids(&register.internal_audits),
            evidence: ids(&register.evidence),
        }
    }
}

/// Reports every id used twice within its section.
pub(super) fn check_unique(register: &Register, findings: &mut Vec<Finding>) {
    unique(Section::Systems, &register.systems, findings);
    unique(Section::Risks, &register.risks, findings);
    unique(
        Section::ImpactAssessments,
        &register.impact_assessments,
        findings,
    );
    unique(Section::Oversight, &register.oversight, findings);
    unique(Section::Incidents, &register.incidents, findings);
    unique(
        Section::Nonconformities,
        &register.nonconformities,
        findings,
    );
    unique(
        Section::CorrectiveActions,
        &register.corrective_actions,
        findings,
    );
    unique(Section::InternalAudits, &register.internal_audits, findings);
    unique(
        Section::ManagementReviews,
        &register.management_reviews,
        findings,
    );
    unique(Section::Evidence, &register.evidence, findings);
}

fn unique<T: Identified>(section: Section, items: &[T], findings: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    for (index, item) in items.iter().enumerate() {
        if !seen.insert(item.id()) {
            findings.push(Finding::error(
                DUPLICATE_ID,
                section,
                item_field(index, "id"),
                format!(
                    "id `{}` is used more than once in {}",
                    item.id(),
                    section.name()
                ),
            ));
        }
    }
}
