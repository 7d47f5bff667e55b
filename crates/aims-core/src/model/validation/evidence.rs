//! Evidence rules (7.5): a well-formed digest, and no current evidence past its expiry.

use time::OffsetDateTime;

use crate::model::finding::Finding;
use crate::model::register::{Register, Section};

use super::item_field;

/// Finding code: evidence whose sha256 is not 64 lowercase hex digits.
pub const BAD_SHA256: &str = "evidence.bad_sha256";
/// Finding code (warning): current evidence past its expiry.
pub const EXPIRED: &str = "evidence.expired";

pub(super) fn check(register: &Register, now: OffsetDateTime, findings: &mut Vec<Finding>) {
    for (index, evidence) in register.evidence.iter().enumerate() {
        if !evidence.has_valid_digest() {
            findings.push(Finding::error(
                BAD_SHA256,
                Section::Evidence,
                item_field(index, "sha256"),
                format!(
                    "evidence {}: sha256 must be 64 lowercase hex digits",
                    evidence.id
                ),
            ));
        }
        if evidence.expired(now) {
            findings.push(Finding::warning(
                EXPIRED,
                Section::Evidence,
                item_field(index, "expires_at"),
                format!("evidence {} is current but has expired", evidence.id),
            ));
        }
    }
}
