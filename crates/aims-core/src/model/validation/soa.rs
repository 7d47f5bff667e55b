//! Statement of Applicability rules (6.1.3): every Annex A control exactly once, a
//! justification for every inclusion and exclusion, a status that agrees with applicability,
//! and well-formed `implemented_by` references.

use std::collections::HashMap;

use crate::catalog;
use crate::model::finding::Finding;
use crate::model::register::{Register, Section};
use crate::model::soa::{ImplementationRef, ImplementationStatus};

use super::ids::KnownIds;
use super::item_field;

/// Finding code: a catalog control has no SoA entry.
pub const MISSING_CONTROL: &str = "soa.missing_control";
/// Finding code: a control has more than one SoA entry.
pub const DUPLICATE_CONTROL: &str = "soa.duplicate_control";
/// Finding code: an inclusion or exclusion without a justification.
pub const JUSTIFICATION_MISSING: &str = "soa.justification_missing";
/// Finding code: `applicable` and `implementation_status` disagree.
pub const STATUS_MISMATCH: &str = "soa.status_mismatch";
/// Finding code: an `implemented_by` entry without a known prefix.
pub const BAD_IMPLEMENTATION_REF: &str = "soa.bad_implementation_ref";
/// Finding code (warning): an implemented control names nothing that implements it.
pub const NOTHING_IMPLEMENTS: &str = "soa.nothing_implements";
/// Finding code: `checkpoint:<id>` names no checkpoint of the register.
pub const UNKNOWN_CHECKPOINT: &str = "ref.unknown_checkpoint";

pub(super) fn check(register: &Register, known: &KnownIds<'_>, findings: &mut Vec<Finding>) {
    let mut first_entry: HashMap<&str, usize> = HashMap::new();
    for (index, entry) in register.soa.iter().enumerate() {
        if let Some(first) = first_entry.get(entry.control_id.as_str()) {
            findings.push(Finding::error(
                DUPLICATE_CONTROL,
                Section::Soa,
                item_field(index, "control_id"),
                format!(
                    "control {} already has an SoA entry (/{first})",
                    entry.control_id
                ),
            ));
        } else {
            first_entry.insert(&entry.control_id, index);
        }
        if entry.justification.trim().is_empty() {
            let what = if entry.applicable {
                "inclusion"
            } else {
                "exclusion"
            };
            findings.push(Finding::error(
                JUSTIFICATION_MISSING,
                Section::Soa,
                item_field(index, "justification"),
                format!("the {what} of {} has no justification", entry.control_id),
            ));
        }
        let excluded_status = entry.implementation_status == ImplementationStatus::NotApplicable;
        if entry.applicable == excluded_status {
            let message = if entry.applicable {
                "an applicable control cannot have status not_applicable".to_owned()
            } else {
                "an excluded control must have status not_applicable".to_owned()
            };
            findings.push(Finding::error(
                STATUS_MISMATCH,
                Section::Soa,
                item_field(index, "implementation_status"),
                format!("{}: {message}", entry.control_id),
            ));
        }
        check_implemented_by(index, &entry.implemented_by, known, findings);
        let claims_implementation = matches!(
            entry.implementation_status,
            ImplementationStatus::Implemented | ImplementationStatus::Partial
        );
        if claims_implementation && entry.implemented_by.is_empty() {
            findings.push(Finding::warning(
                NOTHING_IMPLEMENTS,
                Section::Soa,
                item_field(index, "implemented_by"),
                format!(
                    "{} is marked implemented but names no policy rule, checkpoint or procedure",
                    entry.control_id
                ),
            ));
        }
    }
    for control in catalog::controls() {
        if !first_entry.contains_key(control.id.as_str()) {
            findings.push(Finding::error(
                MISSING_CONTROL,
                Section::Soa,
                "",
                format!(
                    "the SoA has no entry for {} ({}); all 38 Annex A controls need one",
                    control.id, control.title
                ),
            ));
        }
    }
}

fn check_implemented_by(
    index: usize,
    implemented_by: &[String],
    known: &KnownIds<'_>,
    findings: &mut Vec<Finding>,
) {
    for (position, text) in implemented_by.iter().enumerate() {
        let pointer = format!("/{index}/implemented_by/{position}");
        match ImplementationRef::parse(text) {
            Err(err) => findings.push(Finding::error(
                BAD_IMPLEMENTATION_REF,
                Section::Soa,
                pointer,
                err.to_string(),
            )),
            Ok(ImplementationRef::Checkpoint(id)) if !known.checkpoints.contains(id) => {
                findings.push(Finding::error(
                    UNKNOWN_CHECKPOINT,
                    Section::Soa,
                    pointer,
                    format!("no oversight checkpoint has id `{id}`"),
                ));
            }
            Ok(_) => {}
        }
    }
}
