//! Register validation: every rule that makes a register acceptable or not, each with a stable
//! finding code. Rules see the typed register only; [`super::load::LoadedRegister`] adds the
//! file, line and column.
//!
//! Codes: `ai_policy.*`, `soa.*`, `risk_criteria.*`, `risk.*`, `oversight.*`, `incident.*`,
//! `evidence.*`, `id.duplicate`, `ref.unknown_*` and `*.review_overdue` / `*.overdue`
//! (warnings).

mod dates;
mod evidence;
mod ids;
mod incidents;
mod oversight;
mod policy;
mod references;
mod risks;
mod soa;

use time::OffsetDateTime;

use super::finding::Finding;
use super::register::Register;

pub use ids::KnownIds;
pub use policy::{PolicyRules, UNKNOWN_POLICY_RULE};

impl Register {
    /// Validates the register now.
    pub fn validate(&self) -> Vec<Finding> {
        self.validate_at(OffsetDateTime::now_utc())
    }

    /// Validates the register as of `now`: deadlines and review dates are judged against it.
    /// Findings come errors and warnings mixed, in section order.
    pub fn validate_at(&self, now: OffsetDateTime) -> Vec<Finding> {
        let known = KnownIds::of(self);
        let mut findings = Vec::new();
        ids::check_unique(self, &mut findings);
        dates::check_ai_policy(self, now, &mut findings);
        soa::check(self, &known, &mut findings);
        risks::check(self, now, &mut findings);
        oversight::check(self, &mut findings);
        incidents::check(self, now, &mut findings);
        dates::check_reviews(self, now, &mut findings);
        evidence::check(self, now, &mut findings);
        references::check(self, &known, &mut findings);
        findings
    }
}

/// The pointer of field `field` of item `index` of a list section.
fn item_field(index: usize, field: &str) -> String {
    format!("/{index}/{field}")
}
