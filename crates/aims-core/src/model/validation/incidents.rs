//! Incident rules (10.2, A.8.4, Art. 73): a serious incident needs its kind, and must be
//! reported by its deadline.

use time::OffsetDateTime;

use crate::model::finding::Finding;
use crate::model::register::{Register, Section};

use super::item_field;

/// Finding code: a serious incident without `serious_kind`.
pub const SERIOUS_KIND_MISSING: &str = "incident.serious_kind_missing";
/// Finding code (warning): `serious_kind` on an incident not marked serious.
pub const KIND_WITHOUT_SERIOUS: &str = "incident.kind_without_serious";
/// Finding code: a serious incident unreported past its Art. 73 deadline.
pub const REPORT_OVERDUE: &str = "incident.report_overdue";
/// Finding code (warning): a serious incident reported after its deadline.
pub const REPORTED_LATE: &str = "incident.reported_late";

pub(super) fn check(register: &Register, now: OffsetDateTime, findings: &mut Vec<Finding>) {
    for (index, incident) in register.incidents.iter().enumerate() {
        if incident.serious && incident.serious_kind.is_none() {
            findings.push(Finding::error(
                SERIOUS_KIND_MISSING,
                Section::Incidents,
                item_field(index, "serious"),
                format!(
                    "{} is serious but has no serious_kind (death, \
                     widespread_or_critical_infrastructure or other); the 2-day deadline applies",
                    incident.id
                ),
            ));
        }
        if !incident.serious && incident.serious_kind.is_some() {
            findings.push(Finding::warning(
                KIND_WITHOUT_SERIOUS,
                Section::Incidents,
                item_field(index, "serious_kind"),
                format!(
                    "{} has a serious_kind but is not marked serious",
                    incident.id
                ),
            ));
        }
        let Some(deadline) = incident.reporting_deadline() else {
            continue;
        };
        if incident.report_overdue(now) {
            findings.push(Finding::error(
                REPORT_OVERDUE,
                Section::Incidents,
                format!("/{index}"),
                format!(
                    "serious incident {} had to be reported by {} (Art. 73, counted from \
                     awareness at {}) and has no reported_at",
                    incident.id,
                    rfc3339(deadline),
                    rfc3339(incident.awareness())
                ),
            ));
        }
        if let Some(reported_at) = incident.reported_at.filter(|at| *at > deadline) {
            findings.push(Finding::warning(
                REPORTED_LATE,
                Section::Incidents,
                item_field(index, "reported_at"),
                format!(
                    "serious incident {} was reported at {}, after its deadline {}",
                    incident.id,
                    rfc3339(reported_at),
                    rfc3339(deadline)
                ),
            ));
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}
