//! Risk rules (6.1.2, 6.1.3): usable criteria, ratings on the scales, and no risk above the
//! acceptance threshold left merely "accepted" without a recorded acceptance.

use time::OffsetDateTime;

use crate::model::finding::Finding;
use crate::model::register::{Register, Section};
use crate::model::risk::{RiskStatus, Treatment};
use crate::model::risk_criteria::Rating;

use super::item_field;

/// Finding code: the risk criteria cannot be used.
pub const CRITERIA_INVALID: &str = "risk_criteria.invalid";
/// Finding code: a likelihood or impact off the criteria's scales.
pub const RATING_OUT_OF_RANGE: &str = "risk.rating_out_of_range";
/// Finding code: a risk above the threshold is accepted without a recorded acceptance.
pub const UNACCEPTED_ABOVE_THRESHOLD: &str = "risk.unaccepted_above_threshold";
/// Finding code (warning): the residual risk is above the threshold and not accepted.
pub const RESIDUAL_ABOVE_THRESHOLD: &str = "risk.residual_above_threshold";
/// Finding code (warning): the risk's review date has passed.
pub const REVIEW_OVERDUE: &str = "risk.review_overdue";

pub(super) fn check(register: &Register, now: OffsetDateTime, findings: &mut Vec<Finding>) {
    let criteria = &register.risk_criteria;
    if let Err(err) = criteria.check() {
        findings.push(Finding::error(
            CRITERIA_INVALID,
            Section::RiskCriteria,
            "",
            err.to_string(),
        ));
    }
    let today = now.date();
    for (index, risk) in register.risks.iter().enumerate() {
        let ratings = [
            ("inherent", Some(risk.inherent)),
            ("residual", risk.residual),
        ];
        for (field, rating) in ratings {
            if let Some(rating) = rating.filter(|rating| !criteria.in_range(*rating)) {
                findings.push(Finding::error(
                    RATING_OUT_OF_RANGE,
                    Section::Risks,
                    item_field(index, field),
                    format!(
                        "{}: {field} rating {} is off the scales (likelihood 1-{}, impact 1-{})",
                        risk.id,
                        describe(rating),
                        criteria.likelihood.len(),
                        criteria.impact.len()
                    ),
                ));
            }
        }
        let accepted = risk.residual_acceptance.is_some();
        if risk.treatment == Treatment::Accept
            && !accepted
            && criteria.above_threshold(risk.inherent)
        {
            findings.push(Finding::error(
                UNACCEPTED_ABOVE_THRESHOLD,
                Section::Risks,
                item_field(index, "treatment"),
                format!(
                    "{} is above the acceptance threshold `{}` (score {}) and treated by \
                     `accept` without a recorded residual_acceptance",
                    risk.id,
                    criteria.acceptance_threshold,
                    risk.inherent.score()
                ),
            ));
        }
        if let Some(residual) = risk.residual {
            if !accepted && criteria.above_threshold(residual) {
                findings.push(Finding::warning(
                    RESIDUAL_ABOVE_THRESHOLD,
                    Section::Risks,
                    item_field(index, "residual"),
                    format!(
                        "{}: residual score {} is still above the acceptance threshold `{}` \
                         and nobody accepted it",
                        risk.id,
                        residual.score(),
                        criteria.acceptance_threshold
                    ),
                ));
            }
        }
        if risk.status != RiskStatus::Closed && risk.review_due < today {
            findings.push(Finding::warning(
                REVIEW_OVERDUE,
                Section::Risks,
                item_field(index, "review_due"),
                format!("{}: review was due on {}", risk.id, risk.review_due),
            ));
        }
    }
}

fn describe(rating: Rating) -> String {
    format!("{} x {}", rating.likelihood, rating.impact)
}
