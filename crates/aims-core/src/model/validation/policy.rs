//! Cross-checks between a register and the guard policy that implements it: every
//! `policy:<rule-id>` of the SoA and every rule an oversight trigger names exists in the
//! policy, and every checkpoint a policy rule names exists in the register.
//!
//! Optional: a register is valid on its own; this check runs when a policy is given
//! (`aims register check DIR --policy FILE`).

use std::collections::HashSet;

use crate::model::finding::Finding;
use crate::model::register::{Register, Section};
use crate::model::soa::ImplementationRef;

use super::soa::UNKNOWN_CHECKPOINT;

/// Finding code: a rule id the policy does not define.
pub const UNKNOWN_POLICY_RULE: &str = "ref.unknown_policy_rule";

/// What the cross-check needs of a guard policy: its name for messages, and each rule's id with
/// the checkpoint it names. The guard policy (a layer above the register) implements it.
pub trait PolicyRules {
    /// The file the policy came from (`<inline>` for text).
    fn source(&self) -> &str;
    /// Every rule's id, with the oversight checkpoint it names, if any.
    fn rule_checkpoints(&self) -> Vec<(&str, Option<&str>)>;
}

impl Register {
    /// Checks the references between this register and `policy` in both directions.
    pub fn check_policy(&self, policy: &dyn PolicyRules) -> Vec<Finding> {
        let rules = policy.rule_checkpoints();
        let rule_ids: HashSet<&str> = rules.iter().map(|(id, _)| *id).collect();
        let mut findings = Vec::new();
        let mut unknown_rule = |section, pointer: String, id: &str| {
            if !rule_ids.contains(id) {
                findings.push(Finding::error(
                    UNKNOWN_POLICY_RULE,
                    section,
                    pointer,
                    format!("policy {} has no rule `{id}`", policy.source()),
                ));
            }
        };
        for (index, entry) in self.soa.iter().enumerate() {
            for (position, text) in entry.implemented_by.iter().enumerate() {
                if let Ok(ImplementationRef::PolicyRule(id)) = ImplementationRef::parse(text) {
                    let pointer = format!("/{index}/implemented_by/{position}");
                    unknown_rule(Section::Soa, pointer, id);
                }
            }
        }
        for (index, checkpoint) in self.oversight.iter().enumerate() {
            for (position, id) in checkpoint.trigger.policy_rules.iter().enumerate() {
                let pointer = format!("/{index}/trigger/policy_rules/{position}");
                unknown_rule(Section::Oversight, pointer, id);
            }
        }
        for (rule_id, checkpoint) in rules {
            if let Some(checkpoint) = checkpoint {
                if self.checkpoint(checkpoint).is_none() {
                    findings.push(Finding::file_error(
                        UNKNOWN_CHECKPOINT,
                        None,
                        policy.source(),
                        None,
                        format!(
                            "rule `{}` names checkpoint `{checkpoint}`, which the register's \
                             oversight section does not define",
                            rule_id
                        ),
                    ));
                }
            }
        }
        findings
    }
}
