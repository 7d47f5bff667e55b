//! One policy rule: its file form, the checks that tie its fields together, and matching.
//!
//! A rule matches a call when its phase, agent and tool patterns match and every condition
//! holds. When a condition is unknown (missing value, wrong type) the rule matches if its
//! effect restricts the call (warn, redact, require_approval, deny) and does not if its effect
//! is allow: an input the policy cannot read never loosens a decision.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::condition::{Condition, PointerConditions, PointerSource, Root, Tri};
use super::fold;
use super::limit::{Budget, RateLimit};
use super::pattern::Patterns;
use crate::call::{Phase, Severity, ToolCall, Verdict};

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub(crate) id: String,
    pub(crate) description: Option<String>,
    pub(crate) phase: Phase,
    pub(crate) agent: Patterns,
    pub(crate) tool: Patterns,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) effect: Verdict,
    pub(crate) reason: Option<String>,
    pub(crate) severity: Option<Severity>,
    pub(crate) controls: Vec<String>,
    pub(crate) checkpoint: Option<String>,
    pub(crate) redact: Option<RedactSpec>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) budget: Option<Budget>,
}

/// What a `redact` rule masks.
#[derive(Debug, Clone, Default)]
pub struct RedactSpec {
    /// JSON pointers into the arguments (or result) masked whole.
    pub pointers: Vec<PointerSource>,
    /// PII entity names masked wherever they occur.
    pub entities: Vec<String>,
}

/// How a rule related to one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOutcome {
    /// The rule is for the other phase.
    OtherPhase,
    /// The tool pattern did not match.
    ToolMismatch,
    /// The agent pattern did not match.
    AgentMismatch,
    /// A condition did not hold.
    ConditionsFalse,
    /// A condition could not be evaluated and the rule only allows, so it does not apply.
    ConditionsUnknown,
    /// Every condition held.
    Matched,
    /// A condition could not be evaluated and the rule restricts, so it applies.
    MatchedOnUnknown,
}

impl RuleOutcome {
    /// Whether the rule applies.
    pub fn matched(self) -> bool {
        matches!(self, RuleOutcome::Matched | RuleOutcome::MatchedOnUnknown)
    }

    /// The snake_case name used in explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleOutcome::OtherPhase => "other_phase",
            RuleOutcome::ToolMismatch => "tool_mismatch",
            RuleOutcome::AgentMismatch => "agent_mismatch",
            RuleOutcome::ConditionsFalse => "conditions_false",
            RuleOutcome::ConditionsUnknown => "conditions_unknown",
            RuleOutcome::Matched => "matched",
            RuleOutcome::MatchedOnUnknown => "matched_on_unknown",
        }
    }
}

impl Rule {
    /// The rule id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The effect when the rule matches.
    pub fn effect(&self) -> Verdict {
        self.effect
    }

    /// Pre-call or post-call.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The Annex A controls the rule implements.
    pub fn controls(&self) -> &[String] {
        &self.controls
    }

    /// The oversight checkpoint of a `require_approval` rule.
    pub fn checkpoint(&self) -> Option<&str> {
        self.checkpoint.as_deref()
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The severity, if any.
    pub fn severity(&self) -> Option<Severity> {
        self.severity
    }

    /// The reason given when the rule matches: its `reason`, else its description, else its id.
    pub fn reason_text(&self) -> &str {
        self.reason
            .as_deref()
            .or(self.description.as_deref())
            .unwrap_or(&self.id)
    }

    /// Whether the rule restricts calls (any effect but allow): such rules match names folded.
    pub(crate) fn restricts(&self) -> bool {
        self.effect > Verdict::Allow
    }

    /// Whether the tool pattern matches: folded for restricting rules, as written for allow.
    pub(crate) fn tool_matches(&self, tool: &Name<'_>) -> bool {
        if self.restricts() {
            self.tool.is_match_folded(&tool.folded)
        } else {
            self.tool.is_match(tool.written)
        }
    }

    fn agent_matches(&self, agent: &Name<'_>) -> bool {
        if self.restricts() {
            self.agent.is_match_folded(&agent.folded)
        } else {
            self.agent.is_match(agent.written)
        }
    }

    /// Conjunction of the conditions; the tool pattern is assumed to match already.
    pub(crate) fn conditions_outcome(&self, call: &ToolCall, result: Option<&Value>) -> Tri {
        let mut outcome = Tri::True;
        for condition in &self.conditions {
            let root = match condition.root {
                Root::Args => &call.args,
                Root::Context => &call.context,
                Root::Result => match result {
                    Some(result) => result,
                    None => return Tri::Unknown,
                },
            };
            outcome = outcome.and(condition.eval(root));
            if outcome == Tri::False {
                break;
            }
        }
        outcome
    }

    /// Whether the rule applies once its tool pattern matched: the agent, then the conditions.
    pub(crate) fn outcome_after_tool(
        &self,
        call: &ToolCall,
        agent: &Name<'_>,
        result: Option<&Value>,
    ) -> RuleOutcome {
        if !self.agent_matches(agent) {
            return RuleOutcome::AgentMismatch;
        }
        match self.conditions_outcome(call, result) {
            Tri::True => RuleOutcome::Matched,
            Tri::False => RuleOutcome::ConditionsFalse,
            Tri::Unknown if self.effect > Verdict::Allow => RuleOutcome::MatchedOnUnknown,
            Tri::Unknown => RuleOutcome::ConditionsUnknown,
        }
    }

    /// The full outcome for explanations.
    pub(crate) fn outcome(
        &self,
        phase: Phase,
        call: &ToolCall,
        result: Option<&Value>,
    ) -> RuleOutcome {
        if self.phase != phase {
            return RuleOutcome::OtherPhase;
        }
        if !self.tool_matches(&Name::new(&call.tool)) {
            return RuleOutcome::ToolMismatch;
        }
        self.outcome_after_tool(call, &Name::new(&call.agent_id), result)
    }
}

/// A tool or agent name as called, and folded.
#[derive(Debug)]
pub(crate) struct Name<'a> {
    pub(crate) written: &'a str,
    pub(crate) folded: Cow<'a, str>,
}

impl<'a> Name<'a> {
    pub(crate) fn new(written: &'a str) -> Self {
        Name {
            written,
            folded: fold(written),
        }
    }
}

/// A rule as written in a policy file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rule")]
pub(crate) struct RuleDoc {
    /// Unique id, cited by decisions and by the Statement of Applicability.
    id: RuleId,
    /// What the rule is for.
    #[serde(default)]
    description: Option<String>,
    /// `pre` (default): decides calls on their arguments; `post`: decides results.
    #[serde(default = "pre_phase")]
    phase: Phase,
    /// Which calls the rule applies to; every part must match.
    #[serde(rename = "match")]
    matcher: MatchDoc,
    /// The verdict when the rule applies.
    effect: Verdict,
    /// The reason given in decisions (default: the description).
    #[serde(default)]
    reason: Option<String>,
    /// How serious a match is.
    #[serde(default)]
    severity: Option<Severity>,
    /// The Annex A controls the rule implements.
    #[serde(default)]
    controls: Vec<ControlId>,
    /// The oversight checkpoint that approves (required for, and only for, require_approval).
    #[serde(default)]
    checkpoint: Option<String>,
    /// What to mask (required for, and only for, redact).
    #[serde(default)]
    redact: Option<RedactDoc>,
    /// At most so many calls per window; exceeding it denies (allow, warn, redact rules only).
    #[serde(default)]
    rate_limit: Option<RateLimit>,
    /// At most so much of an argument summed per window; exceeding it denies.
    #[serde(default)]
    budget: Option<Budget>,
}

fn pre_phase() -> Phase {
    Phase::Pre
}

fn any_name() -> Patterns {
    Patterns::any()
}

/// The `match` block: which agents and tools, and conditions on args, context and result.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Match")]
struct MatchDoc {
    /// Agent id patterns (default: every agent).
    #[serde(default = "any_name")]
    agent: Patterns,
    /// Tool name patterns (default: every tool).
    #[serde(default = "any_name")]
    tool: Patterns,
    /// Conditions on the call's arguments.
    #[serde(default)]
    args: PointerConditions,
    /// Conditions on the call's context.
    #[serde(default)]
    context: PointerConditions,
    /// Conditions on the tool's result (`phase: post` only).
    #[serde(default)]
    result: PointerConditions,
}

/// What a redact rule masks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Redact")]
struct RedactDoc {
    /// JSON pointers whose values are masked whole.
    #[serde(default)]
    pointers: Vec<PointerSource>,
    /// PII entities masked wherever they occur.
    #[serde(default)]
    entities: Vec<EntityName>,
}

/// Rule ids: letters, digits and `_ . : -`, starting with a letter or digit.
#[derive(Debug)]
pub(crate) struct RuleId(String);

struct RuleIdVisitor;

impl Visitor<'_> for RuleIdVisitor {
    type Value = RuleId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a rule id such as `refund-cap`")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<RuleId, E> {
        let valid = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
        if valid {
            Ok(RuleId(value.to_owned()))
        } else {
            Err(E::custom(format!(
                "invalid rule id `{value}` (expected letters, digits, `_`, `.`, `:` or `-`, starting with a letter or digit)"
            )))
        }
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(RuleIdVisitor)
    }
}

/// An Annex A control id, checked against the catalog where it is written.
#[derive(Debug)]
pub(crate) struct ControlId(String);

struct ControlIdVisitor;

impl Visitor<'_> for ControlIdVisitor {
    type Value = ControlId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an Annex A control id such as `A.6.2.8`")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<ControlId, E> {
        crate::catalog::control(value)
            .map(|control| ControlId(control.id.clone()))
            .map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for ControlId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ControlIdVisitor)
    }
}

/// A PII entity name such as `EMAIL_ADDRESS`, checked against the PII scanner's entities.
#[derive(Debug)]
pub(crate) struct EntityName(String);

struct EntityNameVisitor;

impl Visitor<'_> for EntityNameVisitor {
    type Value = EntityName;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a PII entity name such as `EMAIL_ADDRESS`")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<EntityName, E> {
        value
            .parse::<crate::pii::Entity>()
            .map(|entity| EntityName(entity.as_str().to_owned()))
            .map_err(|_| {
                let known: Vec<&str> = crate::pii::Entity::ALL.iter().map(|e| e.as_str()).collect();
                E::custom(format!(
                    "unknown PII entity `{value}` (expected one of {})",
                    known.join(", ")
                ))
            })
    }
}

impl<'de> Deserialize<'de> for EntityName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(EntityNameVisitor)
    }
}

/// Reads one rule and checks it, including that its id is not taken; errors raised here are
/// reported at the rule's line and column.
pub(crate) struct RuleSeed<'a> {
    pub(crate) seen: &'a mut HashSet<String>,
}

impl<'de> DeserializeSeed<'de> for RuleSeed<'_> {
    type Value = Rule;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Rule, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RuleSeed<'_> {
    type Value = Rule;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a rule (a map with id, match and effect)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Rule, A::Error> {
        let doc = RuleDoc::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let rule = compile(doc).map_err(de::Error::custom)?;
        if !self.seen.insert(rule.id.clone()) {
            return Err(de::Error::custom(format!(
                "duplicate rule id `{}` (rule ids must be unique)",
                rule.id
            )));
        }
        Ok(rule)
    }
}

fn conditions(root: Root, written: PointerConditions) -> impl Iterator<Item = Condition> {
    written
        .0
        .into_iter()
        .map(move |(pointer, ops)| Condition { root, pointer, ops })
}

/// Checks the fields that depend on each other and builds the rule.
fn compile(doc: RuleDoc) -> Result<Rule, String> {
    let id = doc.id.0;
    let effect = doc.effect;
    if effect == Verdict::RequireApproval && doc.checkpoint.is_none() {
        return Err(format!(
            "rule `{id}`: effect require_approval needs a `checkpoint` (the oversight checkpoint that approves)"
        ));
    }
    if effect != Verdict::RequireApproval && doc.checkpoint.is_some() {
        return Err(format!(
            "rule `{id}`: `checkpoint` is only for effect require_approval"
        ));
    }
    let redact = match (effect, doc.redact) {
        (Verdict::Redact, Some(redact))
            if !redact.pointers.is_empty() || !redact.entities.is_empty() =>
        {
            Some(RedactSpec {
                pointers: redact.pointers,
                entities: redact.entities.into_iter().map(|e| e.0).collect(),
            })
        }
        (Verdict::Redact, _) => {
            return Err(format!(
                "rule `{id}`: effect redact needs `redact` with at least one of `pointers` or `entities`"
            ))
        }
        (_, Some(_)) => return Err(format!("rule `{id}`: `redact` is only for effect redact")),
        (_, None) => None,
    };
    let has_limit = doc.rate_limit.is_some() || doc.budget.is_some();
    if has_limit && doc.phase == Phase::Post {
        return Err(format!(
            "rule `{id}`: `rate_limit` and `budget` count calls and only apply to `phase: pre`"
        ));
    }
    if has_limit && !effect.may_proceed() {
        return Err(format!(
            "rule `{id}`: `rate_limit` and `budget` are for rules that let calls proceed (allow, warn, redact)"
        ));
    }
    if doc.phase == Phase::Pre && !doc.matcher.result.0.is_empty() {
        return Err(format!(
            "rule `{id}`: `match.result` conditions need `phase: post`"
        ));
    }
    let mut controls: Vec<String> = Vec::with_capacity(doc.controls.len());
    for control in doc.controls {
        if !controls.contains(&control.0) {
            controls.push(control.0);
        }
    }
    let matcher = doc.matcher;
    let all_conditions = conditions(Root::Args, matcher.args)
        .chain(conditions(Root::Context, matcher.context))
        .chain(conditions(Root::Result, matcher.result))
        .collect();
    Ok(Rule {
        id,
        description: doc.description,
        phase: doc.phase,
        agent: matcher.agent,
        tool: matcher.tool,
        conditions: all_conditions,
        effect,
        reason: doc.reason,
        severity: doc.severity,
        controls,
        checkpoint: doc.checkpoint,
        redact,
        rate_limit: doc.rate_limit,
        budget: doc.budget,
    })
}
