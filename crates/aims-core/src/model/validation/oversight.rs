//! Oversight checkpoint rules (A.9, Art. 14): a checkpoint must be reachable, approvable and
//! must say where an escalation goes.

use crate::model::finding::Finding;
use crate::model::oversight_checkpoint::OnTimeout;
use crate::model::register::{Register, Section};

use super::item_field;

/// Finding code: the trigger names no policy rule and no tool.
pub const EMPTY_TRIGGER: &str = "oversight.empty_trigger";
/// Finding code: nobody may approve.
pub const NO_APPROVER_ROLES: &str = "oversight.no_approver_roles";
/// Finding code: zero required approvals would let every call through.
pub const ZERO_APPROVALS: &str = "oversight.zero_approvals";
/// Finding code: a zero timeout expires every request at once.
pub const ZERO_TIMEOUT: &str = "oversight.zero_timeout";
/// Finding code: `on_timeout: escalate` without `escalate_to`.
pub const ESCALATE_TO_MISSING: &str = "oversight.escalate_to_missing";

pub(super) fn check(register: &Register, findings: &mut Vec<Finding>) {
    for (index, checkpoint) in register.oversight.iter().enumerate() {
        let id = &checkpoint.id;
        let mut error = |code, field, message: String| {
            findings.push(Finding::error(
                code,
                Section::Oversight,
                item_field(index, field),
                format!("checkpoint {id}: {message}"),
            ));
        };
        if checkpoint.trigger.is_empty() {
            error(
                EMPTY_TRIGGER,
                "trigger",
                "the trigger names no policy rule and no tool".into(),
            );
        }
        if checkpoint.approver_roles.is_empty() {
            error(
                NO_APPROVER_ROLES,
                "approver_roles",
                "no approver role is listed".into(),
            );
        }
        if checkpoint.required_approvals == 0 {
            error(
                ZERO_APPROVALS,
                "required_approvals",
                "at least one approval must be required".into(),
            );
        }
        if checkpoint.timeout_seconds == 0 {
            error(
                ZERO_TIMEOUT,
                "timeout_seconds",
                "the timeout must be at least one second".into(),
            );
        }
        if checkpoint.on_timeout == OnTimeout::Escalate && checkpoint.escalate_to.is_none() {
            error(
                ESCALATE_TO_MISSING,
                "escalate_to",
                "on_timeout is escalate but escalate_to names no role".into(),
            );
        }
    }
}
