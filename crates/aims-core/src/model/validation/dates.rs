//! Review and due dates: the AI policy, impact assessments, management reviews and corrective
//! actions. Missed dates are warnings (the register is still usable), except a
//! missing AI policy, which is an error (clause 5.2 requires one).

use time::OffsetDateTime;

use crate::model::finding::Finding;
use crate::model::improvement::ActionStatus;
use crate::model::register::{Register, Section};

use super::item_field;

/// Finding code: the register has no AI policy.
pub const AI_POLICY_MISSING: &str = "ai_policy.missing";
/// Finding code (warning): the AI policy's review date has passed.
pub const AI_POLICY_REVIEW_OVERDUE: &str = "ai_policy.review_overdue";
/// Finding code (warning): an impact assessment's review date has passed.
pub const IMPACT_REVIEW_OVERDUE: &str = "impact.review_overdue";
/// Finding code (warning): the next management review is overdue.
pub const MANAGEMENT_REVIEW_OVERDUE: &str = "management_review.overdue";
/// Finding code (warning): an unfinished corrective action is past its due date.
pub const CORRECTIVE_ACTION_OVERDUE: &str = "corrective_action.overdue";

pub(super) fn check_ai_policy(
    register: &Register,
    now: OffsetDateTime,
    findings: &mut Vec<Finding>,
) {
    match &register.ai_policy {
        None => findings.push(Finding::error(
            AI_POLICY_MISSING,
            Section::AiPolicy,
            "",
            "the register has no AI policy (clause 5.2); add ai_policy.yaml",
        )),
        Some(policy) if policy.review_due < now.date() => findings.push(Finding::warning(
            AI_POLICY_REVIEW_OVERDUE,
            Section::AiPolicy,
            "/review_due",
            format!(
                "AI policy {} was due for review on {}",
                policy.version, policy.review_due
            ),
        )),
        Some(_) => {}
    }
}

pub(super) fn check_reviews(register: &Register, now: OffsetDateTime, findings: &mut Vec<Finding>) {
    let today = now.date();
    for (index, assessment) in register.impact_assessments.iter().enumerate() {
        if assessment.next_review < today {
            findings.push(Finding::warning(
                IMPACT_REVIEW_OVERDUE,
                Section::ImpactAssessments,
                item_field(index, "next_review"),
                format!(
                    "impact assessment {} was due for review on {}",
                    assessment.id, assessment.next_review
                ),
            ));
        }
    }
    let latest_review = register
        .management_reviews
        .iter()
        .enumerate()
        .max_by_key(|(_, review)| review.held_at);
    if let Some((index, review)) = latest_review {
        if review.next_review < today {
            findings.push(Finding::warning(
                MANAGEMENT_REVIEW_OVERDUE,
                Section::ManagementReviews,
                item_field(index, "next_review"),
                format!(
                    "the management review after {} was due on {}",
                    review.id, review.next_review
                ),
            ));
        }
    }
    for (index, action) in register.corrective_actions.iter().enumerate() {
        let unfinished = matches!(
            action.status,
            ActionStatus::Planned | ActionStatus::InProgress
        );
        if unfinished && action.due < today {
            findings.push(Finding::warning(
                CORRECTIVE_ACTION_OVERDUE,
                Section::CorrectiveActions,
                item_field(index, "due"),
                format!("corrective action {} was due on {}", action.id, action.due),
            ));
        }
    }
}
