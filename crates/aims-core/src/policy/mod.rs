//! Declarative guard policies: parsing with line and column, validation and compilation.
//!
//! A policy is a YAML or JSON file with a `default` verdict and a list of `rules`, and optionally
//! the oversight `checkpoints` its `require_approval` rules name and the `incidents` triggers
//! (see [`crate::oversight`]). Every check
//! (unknown fields, types, regexes, globs, JSON pointers, Annex A control ids, duplicate rule
//! ids, fields that must go together) happens while the file is read, so an error names the
//! file, line and column where the problem is written. Rules compile once; evaluation is pure
//! (no clock, no state): limits and recording belong to [`crate::guard`].

mod condition;
mod error;
mod explain;
mod fold;
mod incident_trigger;
mod index;
mod limit;
mod number;
mod pattern;
mod rule;
mod schema;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

pub use condition::{as_number, json_eq, Pointer, Tri};
pub use error::PolicyError;
pub use explain::{ConditionTrace, Explanation, LimitTrace, RuleTrace};
pub(crate) use fold::fold;
pub use incident_trigger::{IncidentTrigger, TriggerCondition};
pub use limit::{Budget, KeyPart, RateLimit, Window};
pub use number::Decimal;
pub use rule::{RedactSpec, Rule, RuleOutcome};
pub use schema::policy_schema;

use crate::call::{Phase, ToolCall, Verdict};
use crate::model::{yaml_bounds, OversightCheckpoint};
use index::RuleIndex;
use rule::{Name, RuleSeed};

/// A compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    version: String,
    source: String,
    name: Option<String>,
    description: Option<String>,
    default: Verdict,
    rules: Vec<Rule>,
    pre: RuleIndex,
    post: RuleIndex,
    checkpoints: Vec<OversightCheckpoint>,
    incident_triggers: Vec<IncidentTrigger>,
}

/// One rule that applies to an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMatch {
    /// The rule's position in [`Policy::rules`].
    pub rule: usize,
    /// True when every condition held; false when the rule applies because a condition could
    /// not be evaluated (see [`rule`]).
    pub certain: bool,
}

/// The result of evaluating a policy on one input, before limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The combined verdict: the strongest matched effect, or the default when nothing matched.
    pub verdict: Verdict,
    /// The rules that apply, in policy order.
    pub matches: Vec<RuleMatch>,
}

/// The file format, chosen by extension (`.json` is JSON, anything else YAML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.2 (which also reads most JSON).
    Yaml,
    /// JSON.
    Json,
}

impl Format {
    /// `.json` files are JSON; everything else is read as YAML.
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|ext| ext.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// An aims guard policy: a default verdict and rules, decided deny > require_approval > redact >
/// warn > allow.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "aims guard policy")]
struct PolicyDoc {
    /// The schema this file follows, for editors.
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    /// A short name.
    #[serde(default)]
    name: Option<String>,
    /// What the policy is for.
    #[serde(default)]
    description: Option<String>,
    /// The verdict for a call no rule matches (deny when omitted).
    #[serde(default)]
    default: DefaultVerdict,
    /// The rules.
    rules: RuleList,
    /// The oversight checkpoints that `require_approval` rules name.
    #[serde(default)]
    checkpoints: Vec<OversightCheckpoint>,
    /// What opens an incident.
    #[serde(default)]
    incidents: Vec<IncidentTrigger>,
}

/// The verdicts a policy may fall back to: the others need parameters only a rule carries.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum DefaultVerdict {
    Allow,
    Warn,
    #[default]
    Deny,
}

impl From<DefaultVerdict> for Verdict {
    fn from(value: DefaultVerdict) -> Self {
        match value {
            DefaultVerdict::Allow => Verdict::Allow,
            DefaultVerdict::Warn => Verdict::Warn,
            DefaultVerdict::Deny => Verdict::Deny,
        }
    }
}

#[derive(Debug)]
struct RuleList(Vec<Rule>);

impl<'de> Deserialize<'de> for RuleList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(RuleListVisitor)
    }
}

struct RuleListVisitor;

impl<'de> Visitor<'de> for RuleListVisitor {
    type Value = RuleList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of rules")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RuleList, A::Error> {
        let mut seen = HashSet::new();
        let mut rules = Vec::new();
        while let Some(rule) = seq.next_element_seed(RuleSeed { seen: &mut seen })? {
            rules.push(rule);
        }
        if rules.len() > u32::MAX as usize {
            return Err(de::Error::custom("too many rules"));
        }
        Ok(RuleList(rules))
    }
}

impl Policy {
    /// Reads and compiles a policy file (`.json` as JSON, anything else as YAML).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            file: path.to_owned(),
            source,
        })?;
        Self::from_text(&text, Format::from_path(path), path)
    }

    /// Compiles a policy from text; `file` names it in errors and in [`Policy::source`].
    pub fn from_text(
        text: &str,
        format: Format,
        file: impl AsRef<Path>,
    ) -> Result<Self, PolicyError> {
        let file: PathBuf = file.as_ref().to_owned();
        // Editors on Windows save a byte order mark; it is not part of the document.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (doc, value): (PolicyDoc, Value) = match format {
            Format::Yaml => {
                yaml_bounds::check(text).map_err(|err| PolicyError::Invalid {
                    file: file.clone(),
                    line: err.position.line,
                    column: err.position.column,
                    message: err.message,
                })?;
                let doc = serde_yaml_ng::from_str(text)
                    .map_err(|err| PolicyError::from_yaml(file.clone(), &err))?;
                let value = serde_yaml_ng::from_str(text)
                    .map_err(|err| PolicyError::from_yaml(file.clone(), &err))?;
                (doc, value)
            }
            Format::Json => {
                let doc = serde_json::from_str(text)
                    .map_err(|err| PolicyError::from_json(file.clone(), &err))?;
                let value = serde_json::from_str(text)
                    .map_err(|err| PolicyError::from_json(file.clone(), &err))?;
                (doc, value)
            }
        };
        let rules = doc.rules.0;
        Ok(Policy {
            version: crate::canonical::sha256_hex(&value),
            source: file.display().to_string(),
            name: doc.name,
            description: doc.description,
            default: doc.default.into(),
            pre: RuleIndex::build(&rules, Phase::Pre),
            post: RuleIndex::build(&rules, Phase::Post),
            rules,
            checkpoints: doc.checkpoints,
            incident_triggers: doc.incidents,
        })
    }

    /// sha256 (hex) of the canonical JSON form of the policy document.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Where the policy came from (the file path as given).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The policy's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The policy's description, if it has one.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The verdict for a call no rule matches.
    pub fn default_verdict(&self) -> Verdict {
        self.default
    }

    /// The oversight checkpoints declared in the policy's `checkpoints` section (the register's
    /// `OversightCheckpoint` shape), which `require_approval` rules name.
    pub fn checkpoints(&self) -> &[OversightCheckpoint] {
        &self.checkpoints
    }

    /// The incident triggers of the policy's `incidents` section.
    pub fn incident_triggers(&self) -> &[IncidentTrigger] {
        &self.incident_triggers
    }

    /// The rules in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Evaluates the pre-call rules on a call. Limits are not applied here.
    pub fn evaluate_call(&self, call: &ToolCall) -> Evaluation {
        self.evaluate(Phase::Pre, call, None)
    }

    /// Evaluates the post-call rules on a call's result. A result no rule matches is allowed:
    /// the default verdict is for calls.
    pub fn evaluate_result(&self, call: &ToolCall, result: &Value) -> Evaluation {
        self.evaluate(Phase::Post, call, Some(result))
    }

    /// Whether any result rule can apply to calls of `tool` (a rule naming it, or a tool
    /// pattern that matches it). When none can, every result of the tool is allowed as it is.
    pub fn has_result_rules_for(&self, tool: &str) -> bool {
        let mut any = false;
        self.post
            .for_each_candidate(&self.rules, &Name::new(tool), |_| any = true);
        any
    }

    fn evaluate(&self, phase: Phase, call: &ToolCall, result: Option<&Value>) -> Evaluation {
        let index = match phase {
            Phase::Pre => &self.pre,
            Phase::Post => &self.post,
        };
        let mut matches = Vec::new();
        let agent = Name::new(&call.agent_id);
        index.for_each_candidate(&self.rules, &Name::new(&call.tool), |position| {
            let outcome = self.rules[position].outcome_after_tool(call, &agent, result);
            if outcome.matched() {
                matches.push(RuleMatch {
                    rule: position,
                    certain: outcome == RuleOutcome::Matched,
                });
            }
        });
        matches.sort_unstable_by_key(|m| m.rule);
        let verdict = self.combine(phase, matches.iter().map(|m| self.rules[m.rule].effect));
        Evaluation { verdict, matches }
    }

    /// Deterministic combining: the strongest effect (deny > require_approval > redact > warn >
    /// allow); with no effect at all, the default (calls) or allow (results).
    pub fn combine(&self, phase: Phase, effects: impl Iterator<Item = Verdict>) -> Verdict {
        effects.max().unwrap_or(match phase {
            Phase::Pre => self.default,
            Phase::Post => Verdict::Allow,
        })
    }
}

impl crate::model::validation::PolicyRules for Policy {
    fn source(&self) -> &str {
        &self.source
    }

    fn rule_checkpoints(&self) -> Vec<(&str, Option<&str>)> {
        self.rules
            .iter()
            .map(|rule| (rule.id(), rule.checkpoint()))
            .collect()
    }
}

#[cfg(test)]
mod tests;
