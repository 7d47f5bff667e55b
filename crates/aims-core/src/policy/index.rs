//! Which rules can apply to a tool name, found without scanning every rule.
//!
//! Rules whose tool patterns are all plain names are looked up by name; the rest (globs) are
//! checked one by one. A realistic policy names its tools, so a call only visits the handful
//! of rules written for its tool plus the glob rules.

use std::collections::HashMap;

use super::pattern::Pattern;
use super::rule::{Name, Rule};
use crate::call::Phase;

/// The rules of one phase, indexed by tool name.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleIndex {
    by_tool: HashMap<String, Vec<usize>>,
    by_folded_tool: HashMap<String, Vec<usize>>,
    patterned: Vec<usize>,
}

impl RuleIndex {
    pub(crate) fn build(rules: &[Rule], phase: Phase) -> Self {
        let mut index = RuleIndex::default();
        for (position, rule) in rules.iter().enumerate() {
            if rule.phase != phase {
                continue;
            }
            // Restricting rules match folded names (see `pattern`).
            let folded = rule.restricts();
            let names: Option<Vec<&str>> = rule
                .tool
                .patterns(folded)
                .iter()
                .map(|pattern| match pattern {
                    Pattern::Exact(name) => Some(name.as_str()),
                    _ => None,
                })
                .collect();
            match names {
                Some(mut names) => {
                    names.sort_unstable();
                    names.dedup();
                    for name in names {
                        let by_name = if folded {
                            &mut index.by_folded_tool
                        } else {
                            &mut index.by_tool
                        };
                        by_name.entry(name.to_owned()).or_default().push(position);
                    }
                }
                None => index.patterned.push(position),
            }
        }
        index
    }

    /// Calls `visit` with the position of every rule of this phase whose tool patterns match
    /// `tool`, each once, in no particular order.
    pub(crate) fn for_each_candidate(
        &self,
        rules: &[Rule],
        tool: &Name<'_>,
        mut visit: impl FnMut(usize),
    ) {
        if let Some(positions) = self.by_tool.get(tool.written) {
            positions.iter().copied().for_each(&mut visit);
        }
        if let Some(positions) = self.by_folded_tool.get(tool.folded.as_ref()) {
            positions.iter().copied().for_each(&mut visit);
        }
        for &position in &self.patterned {
            if rules[position].tool_matches(tool) {
                visit(position);
            }
        }
    }
}
