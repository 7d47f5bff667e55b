//! Conditions on call arguments, context and results: a JSON pointer and the operators that
//! must all hold on the value it addresses.
//!
//! Evaluation is three-valued. A condition that cannot be evaluated (the pointer addresses
//! nothing, or the value has the wrong type for the operator) is `Unknown`; the rule decides
//! what unknown means (see [`super::rule`]), so a malformed call never slips past a deny rule.

use std::cmp::Ordering;
use std::fmt;

use regex::Regex;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Number, Value};

use super::number::{compare_number, numbers_equal, Decimal};

/// The outcome of evaluating a condition (Kleene three-valued logic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    /// Holds.
    True,
    /// Does not hold.
    False,
    /// Cannot be evaluated on this input.
    Unknown,
}

impl Tri {
    fn from_bool(value: bool) -> Self {
        if value {
            Tri::True
        } else {
            Tri::False
        }
    }

    fn not(self) -> Self {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }

    /// Conjunction: false wins over unknown, unknown over true.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            _ => Tri::True,
        }
    }

    /// The lower-case name used in explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            Tri::True => "true",
            Tri::False => "false",
            Tri::Unknown => "unknown",
        }
    }
}

/// A JSON pointer (RFC 6901), split into tokens once at load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    source: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    key: String,
    index: Option<usize>,
}

impl Pointer {
    /// Parses a pointer: empty (the whole value) or `/`-separated tokens with `~0`/`~1` escapes.
    pub fn parse(source: &str) -> Result<Self, String> {
        if source.is_empty() {
            return Ok(Pointer {
                source: String::new(),
                tokens: Vec::new(),
            });
        }
        let Some(rest) = source.strip_prefix('/') else {
            return Err(format!(
                "invalid JSON pointer `{source}`: must be empty or start with `/`"
            ));
        };
        let mut tokens = Vec::new();
        for raw in rest.split('/') {
            let key = unescape(raw).ok_or_else(|| {
                format!("invalid JSON pointer `{source}`: `~` must be followed by 0 or 1")
            })?;
            let index = array_index(&key);
            tokens.push(Token { key, index });
        }
        Ok(Pointer {
            source: source.to_owned(),
            tokens,
        })
    }

    /// The value the pointer addresses, if any.
    pub fn resolve<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        let mut current = value;
        for token in &self.tokens {
            current = match current {
                Value::Object(members) => members.get(&token.key)?,
                Value::Array(items) => items.get(token.index?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The value the pointer addresses, for replacement.
    pub fn resolve_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        let mut current = value;
        for token in &self.tokens {
            current = match current {
                Value::Object(members) => members.get_mut(&token.key)?,
                Value::Array(items) => items.get_mut(token.index?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The pointer as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

fn unescape(raw: &str) -> Option<String> {
    if !raw.contains('~') {
        return Some(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(ch) = chars.next() {
        if ch == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(ch);
        }
    }
    Some(out)
}

/// RFC 6901 array indices: `0` or digits without a leading zero.
fn array_index(token: &str) -> Option<usize> {
    if token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    if !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

/// A numeric bound used by `gt`/`gte`/`lt`/`lte` and by `length`, compared exactly (see
/// [`super::number`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Compare {
    /// Strictly greater.
    Gt(Decimal),
    /// Greater or equal.
    Gte(Decimal),
    /// Strictly less.
    Lt(Decimal),
    /// Less or equal.
    Lte(Decimal),
    /// Equal.
    Eq(Decimal),
}

impl Compare {
    fn bound(&self) -> &Decimal {
        match self {
            Compare::Gt(bound)
            | Compare::Gte(bound)
            | Compare::Lt(bound)
            | Compare::Lte(bound)
            | Compare::Eq(bound) => bound,
        }
    }

    /// Whether the bound holds for a value that orders as `actual` against it.
    fn holds(&self, actual: Ordering) -> bool {
        match self {
            Compare::Gt(_) => actual == Ordering::Greater,
            Compare::Gte(_) => actual != Ordering::Less,
            Compare::Lt(_) => actual == Ordering::Less,
            Compare::Lte(_) => actual != Ordering::Greater,
            Compare::Eq(_) => actual == Ordering::Equal,
        }
    }

    /// Whether the bound holds for a number or numeric string; `None` for other values.
    fn holds_for(&self, value: &Value) -> Option<bool> {
        let bound = self.bound();
        let actual = match value {
            Value::Number(number) => compare_number(number, bound)?,
            Value::String(text) => Decimal::parse(text)?.compare(bound),
            _ => return None,
        };
        Some(self.holds(actual))
    }

    fn holds_for_length(&self, length: usize) -> bool {
        let length = Number::from(u64::try_from(length).unwrap_or(u64::MAX));
        compare_number(&length, self.bound()).is_some_and(|actual| self.holds(actual))
    }

    fn describe(&self) -> String {
        match self {
            Compare::Gt(bound) => format!("gt {bound}"),
            Compare::Gte(bound) => format!("gte {bound}"),
            Compare::Lt(bound) => format!("lt {bound}"),
            Compare::Lte(bound) => format!("lte {bound}"),
            Compare::Eq(bound) => format!("equals {bound}"),
        }
    }
}

/// One operator applied to the addressed value.
#[derive(Debug, Clone)]
pub enum Op {
    /// JSON equality (numbers compare by value, so `1` equals `1.0`).
    Equals(Value),
    /// Equal to one of the listed values.
    In(Vec<Value>),
    /// Equal to none of the listed values.
    NotIn(Vec<Value>),
    /// A string the regex matches somewhere (anchor with `^...$` for whole strings).
    Matches(Regex),
    /// A number (or a string holding a finite number) compared with a bound.
    Number(Compare),
    /// Whether the pointer addresses a value at all.
    Exists(bool),
    /// A string containing a substring, or an array containing an element.
    Contains(Value),
    /// The length of a string (in characters), an array or an object, compared with bounds.
    Length(Vec<Compare>),
    /// None of the inner operators' conjunction holds.
    Not(Vec<Op>),
}

impl Op {
    /// Evaluates the operator on the addressed value (`None` when the pointer found nothing).
    pub fn eval(&self, value: Option<&Value>) -> Tri {
        if let Op::Exists(expected) = self {
            return Tri::from_bool(value.is_some() == *expected);
        }
        if let Op::Not(inner) = self {
            return eval_all(inner, value).not();
        }
        let Some(value) = value else {
            return Tri::Unknown;
        };
        match self {
            Op::Equals(expected) => Tri::from_bool(json_eq(value, expected)),
            Op::In(options) => Tri::from_bool(options.iter().any(|o| json_eq(value, o))),
            Op::NotIn(options) => Tri::from_bool(!options.iter().any(|o| json_eq(value, o))),
            Op::Matches(regex) => match value {
                Value::String(text) => Tri::from_bool(regex.is_match(text)),
                _ => Tri::Unknown,
            },
            Op::Number(compare) => match compare.holds_for(value) {
                Some(holds) => Tri::from_bool(holds),
                None => Tri::Unknown,
            },
            Op::Contains(needle) => match (value, needle) {
                (Value::String(text), Value::String(part)) => {
                    Tri::from_bool(text.contains(part.as_str()))
                }
                (Value::Array(items), needle) => {
                    Tri::from_bool(items.iter().any(|item| json_eq(item, needle)))
                }
                _ => Tri::Unknown,
            },
            Op::Length(bounds) => {
                let length = match value {
                    Value::String(text) => text.chars().count(),
                    Value::Array(items) => items.len(),
                    Value::Object(members) => members.len(),
                    _ => return Tri::Unknown,
                };
                Tri::from_bool(bounds.iter().all(|bound| bound.holds_for_length(length)))
            }
            Op::Exists(_) | Op::Not(_) => Tri::Unknown,
        }
    }

    /// A short description for explanations. Describes the operator, never the input value.
    pub fn describe(&self) -> String {
        match self {
            Op::Equals(expected) => format!("equals {expected}"),
            Op::In(options) => format!("in {}", Value::Array(options.clone())),
            Op::NotIn(options) => format!("not_in {}", Value::Array(options.clone())),
            Op::Matches(regex) => format!("matches /{}/", regex.as_str()),
            Op::Number(compare) => compare.describe(),
            Op::Exists(expected) => format!("exists {expected}"),
            Op::Contains(needle) => format!("contains {needle}"),
            Op::Length(bounds) => {
                let parts: Vec<String> = bounds.iter().map(|b| b.describe()).collect();
                format!("length {}", parts.join(" and "))
            }
            Op::Not(inner) => {
                let parts: Vec<String> = inner.iter().map(Op::describe).collect();
                format!("not ({})", parts.join(" and "))
            }
        }
    }
}

fn eval_all(ops: &[Op], value: Option<&Value>) -> Tri {
    let mut outcome = Tri::True;
    for op in ops {
        outcome = outcome.and(op.eval(value));
        if outcome == Tri::False {
            break;
        }
    }
    outcome
}

/// A number, or a string that holds a finite number: agents often pass amounts as strings, and
/// `"600"` must not slip past a cap of 500. This is the nearest double, for sums (budgets);
/// conditions compare exactly instead.
pub fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64().filter(|n| n.is_finite()),
        Value::String(text) => text.parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}

/// JSON equality with numbers compared by exact value (`1` equals `1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(key, x)| ys.get(key).is_some_and(|y| json_eq(x, y)))
        }
        _ => a == b,
    }
}

/// Where a condition's pointer looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The call's arguments.
    Args,
    /// The call's context.
    Context,
    /// The tool's result (result rules only).
    Result,
}

impl Root {
    /// The name used in policy files and explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            Root::Args => "args",
            Root::Context => "context",
            Root::Result => "result",
        }
    }
}

/// One condition: every operator must hold on the value the pointer addresses.
#[derive(Debug, Clone)]
pub struct Condition {
    /// Where the pointer looks.
    pub root: Root,
    /// The pointer.
    pub pointer: Pointer,
    /// The operators, all of which must hold.
    pub ops: Vec<Op>,
}

impl Condition {
    /// Evaluates the condition on the value found under its root.
    pub fn eval(&self, root_value: &Value) -> Tri {
        eval_all(&self.ops, self.pointer.resolve(root_value))
    }

    /// A short description for explanations, e.g. `args/amount gt 500`.
    pub fn describe(&self) -> String {
        let ops: Vec<String> = self.ops.iter().map(Op::describe).collect();
        format!(
            "{}{} {}",
            self.root.as_str(),
            self.pointer.as_str(),
            ops.join(" and ")
        )
    }
}

/// The conditions under one root, as written in a policy file: a map from JSON pointer to
/// operators, kept in file order.
#[derive(Debug, Clone, Default)]
pub struct PointerConditions(pub Vec<(Pointer, Vec<Op>)>);

impl<'de> Deserialize<'de> for PointerConditions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PointerConditionsVisitor)
    }
}

struct PointerConditionsVisitor;

impl<'de> Visitor<'de> for PointerConditionsVisitor {
    type Value = PointerConditions;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map from JSON pointer (e.g. `/amount`) to operators (e.g. `{gt: 500}`)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PointerConditions, A::Error> {
        let mut conditions: Vec<(Pointer, Vec<Op>)> = Vec::new();
        while let Some(pointer) = map.next_key::<PointerSource>()? {
            // A second entry for the same pointer would silently replace the first in most
            // readers, so a reviewer could not tell which conditions are in force.
            if conditions.iter().any(|(seen, _)| seen == &pointer.0) {
                return Err(de::Error::custom(format!(
                    "duplicate pointer `{}` (merge its operators into one entry)",
                    pointer.0.as_str()
                )));
            }
            let ops: Operators = map.next_value()?;
            conditions.push((pointer.0, ops.0));
        }
        Ok(PointerConditions(conditions))
    }
}

/// A pointer read from a policy file, validated where it is written.
#[derive(Debug, Clone)]
pub struct PointerSource(pub Pointer);

struct PointerVisitor;

impl Visitor<'_> for PointerVisitor {
    type Value = PointerSource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON pointer such as `/amount`")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<PointerSource, E> {
        Pointer::parse(value).map(PointerSource).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for PointerSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(PointerVisitor)
    }
}

/// The operators on one value; all that are given must hold (`{gt: 500, lte: 1000}`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OperatorsDoc {
    /// Equal to this JSON value (numbers compare by value).
    #[serde(default, deserialize_with = "present")]
    equals: Option<Value>,
    /// Equal to one of these values.
    #[serde(default, rename = "in")]
    in_: Option<Vec<Value>>,
    /// Equal to none of these values.
    #[serde(default)]
    not_in: Option<Vec<Value>>,
    /// A string this regex matches somewhere.
    #[serde(default)]
    matches: Option<RegexSource>,
    /// A number (or numeric string) greater than this.
    #[serde(default)]
    gt: Option<Bound>,
    /// A number (or numeric string) greater than or equal to this.
    #[serde(default)]
    gte: Option<Bound>,
    /// A number (or numeric string) less than this.
    #[serde(default)]
    lt: Option<Bound>,
    /// A number (or numeric string) less than or equal to this.
    #[serde(default)]
    lte: Option<Bound>,
    /// Whether the pointer addresses a value at all (never unknown).
    #[serde(default)]
    exists: Option<bool>,
    /// A string containing this substring, or an array containing this element.
    #[serde(default, deserialize_with = "present")]
    contains: Option<Value>,
    /// The length of a string, array or object.
    #[serde(default)]
    length: Option<LengthBounds>,
    /// Holds when the inner operators do not all hold (unknown stays unknown).
    #[serde(default)]
    not: Option<Operators>,
}

/// Keeps an explicit `null` as `Some(Value::Null)` so `equals: null` is an operator.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// Compiled operators; an empty operators object is rejected where it is written.
#[derive(Debug, Clone)]
pub struct Operators(pub Vec<Op>);

impl<'de> Deserialize<'de> for Operators {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OperatorsVisitor)
    }
}

struct OperatorsVisitor;

impl<'de> Visitor<'de> for OperatorsVisitor {
    type Value = Operators;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an operators object such as `{gt: 500}`")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Operators, A::Error> {
        let doc = OperatorsDoc::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let ops = compile_operators(doc);
        if ops.is_empty() {
            return Err(de::Error::custom(
                "empty operators object (expected at least one of equals, in, not_in, matches, gt, gte, lt, lte, exists, contains, length, not)",
            ));
        }
        Ok(Operators(ops))
    }
}

fn compile_operators(doc: OperatorsDoc) -> Vec<Op> {
    let mut ops = Vec::new();
    if let Some(value) = doc.equals {
        ops.push(Op::Equals(value));
    }
    if let Some(values) = doc.in_ {
        ops.push(Op::In(values));
    }
    if let Some(values) = doc.not_in {
        ops.push(Op::NotIn(values));
    }
    if let Some(regex) = doc.matches {
        ops.push(Op::Matches(regex.0));
    }
    let bounds = [
        doc.gt.map(|b| Compare::Gt(b.0)),
        doc.gte.map(|b| Compare::Gte(b.0)),
        doc.lt.map(|b| Compare::Lt(b.0)),
        doc.lte.map(|b| Compare::Lte(b.0)),
    ];
    ops.extend(bounds.into_iter().flatten().map(Op::Number));
    if let Some(expected) = doc.exists {
        ops.push(Op::Exists(expected));
    }
    if let Some(needle) = doc.contains {
        ops.push(Op::Contains(needle));
    }
    if let Some(length) = doc.length {
        ops.push(Op::Length(length.0));
    }
    if let Some(inner) = doc.not {
        ops.push(Op::Not(inner.0));
    }
    ops
}

/// A regex compiled where it is written, so a bad one is reported at its line and column.
#[derive(Debug, Clone)]
pub struct RegexSource(pub Regex);

struct RegexVisitor;

impl Visitor<'_> for RegexVisitor {
    type Value = RegexSource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a regular expression")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<RegexSource, E> {
        Regex::new(value).map(RegexSource).map_err(|err| {
            // regex errors span several lines (pattern, caret, message); keep the message.
            let text = err.to_string();
            let message = text
                .lines()
                .last()
                .unwrap_or("")
                .trim_start_matches("error: ");
            E::custom(format!("invalid regex `{value}`: {message}"))
        })
    }
}

impl<'de> Deserialize<'de> for RegexSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(RegexVisitor)
    }
}

/// A numeric bound as written in a policy: an integer (exactly) or a finite double. `NaN`
/// and infinities are rejected where they are written: every comparison with them is false,
/// which would silently disable the rule.
#[derive(Debug, Clone)]
pub(crate) struct Bound(Decimal);

struct BoundVisitor;

impl Visitor<'_> for BoundVisitor {
    type Value = Bound;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a finite number")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Bound, E> {
        Ok(Bound(Decimal::from_i128(i128::from(value))))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Bound, E> {
        Ok(Bound(Decimal::from_i128(i128::from(value))))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Bound, E> {
        Decimal::from_f64(value).map(Bound).ok_or_else(|| {
            E::custom(format!(
                "invalid bound {value}: expected a finite number (NaN and infinities never compare true, so the rule would never apply)"
            ))
        })
    }
}

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BoundVisitor)
    }
}

/// `length: 3` (exactly) or `length: {gte: 1, lte: 200}`.
#[derive(Debug, Clone)]
pub(crate) struct LengthBounds(Vec<Compare>);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LengthDoc {
    #[serde(default)]
    equals: Option<Bound>,
    #[serde(default)]
    gt: Option<Bound>,
    #[serde(default)]
    gte: Option<Bound>,
    #[serde(default)]
    lt: Option<Bound>,
    #[serde(default)]
    lte: Option<Bound>,
}

struct LengthVisitor;

impl<'de> Visitor<'de> for LengthVisitor {
    type Value = LengthBounds;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a length (non-negative integer) or bounds such as `{lte: 200}`")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<LengthBounds, E> {
        Ok(LengthBounds(vec![Compare::Eq(Decimal::from_i128(
            i128::from(value),
        ))]))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<LengthBounds, E> {
        u64::try_from(value)
            .map_err(|_| E::custom(format!("length must not be negative, got {value}")))
            .and_then(|value| self.visit_u64(value))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LengthBounds, A::Error> {
        let doc = LengthDoc::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let bounds: Vec<Compare> = [
            doc.equals.map(|b| Compare::Eq(b.0)),
            doc.gt.map(|b| Compare::Gt(b.0)),
            doc.gte.map(|b| Compare::Gte(b.0)),
            doc.lt.map(|b| Compare::Lt(b.0)),
            doc.lte.map(|b| Compare::Lte(b.0)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if bounds.is_empty() {
            return Err(de::Error::custom(
                "empty length bounds (expected equals, gt, gte, lt or lte)",
            ));
        }
        Ok(LengthBounds(bounds))
    }
}

impl<'de> Deserialize<'de> for LengthBounds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LengthVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ops(yaml: &str) -> Vec<Op> {
        serde_yaml_ng::from_str::<Operators>(yaml).unwrap().0
    }

    fn eval(yaml: &str, value: Option<Value>) -> Tri {
        eval_all(&ops(yaml), value.as_ref())
    }

    #[test]
    fn pointers_follow_rfc_6901() {
        let doc = json!({"a": {"b/c": [10, {"~d": 5}]}, "": 1});
        let at = |p: &str| Pointer::parse(p).unwrap().resolve(&doc).cloned();
        assert_eq!(at("/a/b~1c/0"), Some(json!(10)));
        assert_eq!(at("/a/b~1c/1/~0d"), Some(json!(5)));
        assert_eq!(at("/"), Some(json!(1)));
        assert_eq!(at(""), Some(doc.clone()));
        assert_eq!(at("/a/b~1c/01"), None);
        assert_eq!(at("/a/b~1c/2"), None);
        assert_eq!(at("/a/b~1c/0/x"), None);
        assert!(Pointer::parse("amount").is_err());
        assert!(Pointer::parse("/a~2").is_err());
    }

    #[test]
    fn equality_operators_compare_numbers_by_value() {
        assert_eq!(eval("{equals: 1}", Some(json!(1.0))), Tri::True);
        assert_eq!(eval("{equals: 1}", Some(json!("1"))), Tri::False);
        assert_eq!(eval("{equals: null}", Some(json!(null))), Tri::True);
        assert_eq!(
            eval("{equals: {a: [1]}}", Some(json!({"a": [1.0]}))),
            Tri::True
        );
        assert_eq!(eval("{in: [a, b]}", Some(json!("b"))), Tri::True);
        assert_eq!(eval("{in: [a, b]}", Some(json!("c"))), Tri::False);
        assert_eq!(eval("{not_in: [a, b]}", Some(json!("c"))), Tri::True);
        assert_eq!(eval("{not_in: [a, b]}", Some(json!("a"))), Tri::False);
    }

    #[test]
    fn numeric_operators_accept_numeric_strings_and_reject_other_types() {
        assert_eq!(eval("{gt: 500}", Some(json!(501))), Tri::True);
        assert_eq!(eval("{gt: 500}", Some(json!(500))), Tri::False);
        assert_eq!(eval("{gte: 500}", Some(json!(500))), Tri::True);
        assert_eq!(eval("{lt: 1}", Some(json!(0.5))), Tri::True);
        assert_eq!(eval("{lte: 1}", Some(json!(1.5))), Tri::False);
        assert_eq!(eval("{gt: 500}", Some(json!("600"))), Tri::True);
        assert_eq!(eval("{gt: 500}", Some(json!("six hundred"))), Tri::Unknown);
        assert_eq!(eval("{gt: 500}", Some(json!("NaN"))), Tri::Unknown);
        assert_eq!(eval("{gt: 500}", Some(json!("inf"))), Tri::Unknown);
        assert_eq!(eval("{gt: 500}", Some(json!([600]))), Tri::Unknown);
        assert_eq!(eval("{gt: 1, lt: 3}", Some(json!(2))), Tri::True);
        assert_eq!(eval("{gt: 1, lt: 3}", Some(json!(3))), Tri::False);
    }

    #[test]
    fn matches_contains_and_length() {
        assert_eq!(
            eval("{matches: '@example\\.com$'}", Some(json!("a@example.com"))),
            Tri::True
        );
        assert_eq!(eval("{matches: '^b'}", Some(json!("abc"))), Tri::False);
        assert_eq!(eval("{matches: 'x'}", Some(json!(1))), Tri::Unknown);
        assert_eq!(eval("{contains: bc}", Some(json!("abcd"))), Tri::True);
        assert_eq!(eval("{contains: 2}", Some(json!([1, 2.0]))), Tri::True);
        assert_eq!(eval("{contains: 3}", Some(json!([1, 2]))), Tri::False);
        assert_eq!(eval("{contains: x}", Some(json!(5))), Tri::Unknown);
        assert_eq!(eval("{length: 3}", Some(json!("héé"))), Tri::True);
        assert_eq!(eval("{length: {gt: 1}}", Some(json!([1]))), Tri::False);
        assert_eq!(eval("{length: {lte: 1}}", Some(json!({"a": 1}))), Tri::True);
        assert_eq!(eval("{length: 1}", Some(json!(7))), Tri::Unknown);
    }

    #[test]
    fn exists_and_missing_values() {
        assert_eq!(eval("{exists: true}", Some(json!(null))), Tri::True);
        assert_eq!(eval("{exists: true}", None), Tri::False);
        assert_eq!(eval("{exists: false}", None), Tri::True);
        assert_eq!(eval("{equals: 1}", None), Tri::Unknown);
        assert_eq!(eval("{not_in: [1]}", None), Tri::Unknown);
    }

    #[test]
    fn not_negates_the_conjunction_and_keeps_unknown() {
        assert_eq!(eval("{not: {matches: 'a'}}", Some(json!("b"))), Tri::True);
        assert_eq!(eval("{not: {matches: 'a'}}", Some(json!("a"))), Tri::False);
        assert_eq!(eval("{not: {matches: 'a'}}", None), Tri::Unknown);
        assert_eq!(eval("{not: {exists: true}}", None), Tri::True);
        assert_eq!(eval("{not: {gt: 1, lt: 3}}", Some(json!(5))), Tri::True);
    }

    #[test]
    fn three_valued_and_lets_false_win() {
        assert_eq!(Tri::Unknown.and(Tri::False), Tri::False);
        assert_eq!(Tri::True.and(Tri::Unknown), Tri::Unknown);
        assert_eq!(Tri::True.and(Tri::True), Tri::True);
        assert_eq!(eval("{gt: 1, matches: x}", Some(json!(0))), Tri::False);
    }

    #[test]
    fn numbers_compare_exactly_at_any_size_in_every_operator() {
        let big = 9_007_199_254_740_993_u64;
        assert_eq!(
            eval("{in: [9007199254740992]}", Some(json!(big))),
            Tri::False
        );
        assert_eq!(
            eval("{not_in: [9007199254740992]}", Some(json!(big))),
            Tri::True
        );
        assert_eq!(
            eval("{equals: 9007199254740992}", Some(json!(big))),
            Tri::False
        );
        assert_eq!(
            eval("{contains: 9007199254740992}", Some(json!([big]))),
            Tri::False
        );
        assert_eq!(eval("{gt: 9007199254740992}", Some(json!(big))), Tri::True);
        assert_eq!(
            eval("{lte: 9007199254740992}", Some(json!(big))),
            Tri::False
        );
        assert_eq!(
            eval(
                "{lt: -9007199254740992}",
                Some(json!(-9_007_199_254_740_993_i64))
            ),
            Tri::True
        );
        // Numeric strings keep every digit.
        assert_eq!(
            eval("{gt: 100}", Some(json!("100.0000000000000001"))),
            Tri::True
        );
        assert_eq!(
            eval("{lte: 100}", Some(json!("100.0000000000000001"))),
            Tri::False
        );
        assert_eq!(
            eval(
                "{gt: 18446744073709551615}",
                Some(json!("18446744073709551616"))
            ),
            Tri::True
        );
        assert_eq!(
            eval("{gt: 500}", Some(json!(format!("1{}", "0".repeat(400))))),
            Tri::True
        );
        assert_eq!(eval("{lt: 0.3}", Some(json!(0.1 + 0.2))), Tri::False);
        assert_eq!(eval("{equals: 0.1}", Some(json!(0.1))), Tri::True);
    }

    #[test]
    fn bounds_that_never_compare_true_are_rejected() {
        for yaml in [
            "{gt: .nan}",
            "{lt: .inf}",
            "{gte: -.inf}",
            "{length: {lte: .nan}}",
        ] {
            let err = serde_yaml_ng::from_str::<Operators>(yaml)
                .unwrap_err()
                .to_string();
            assert!(err.contains("expected a finite number"), "{yaml}: {err}");
        }
    }

    #[test]
    fn a_pointer_written_twice_is_rejected() {
        let err = serde_yaml_ng::from_str::<PointerConditions>(
            "{/amount: {gt: 500}, /amount: {gt: 1000000}}",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("duplicate pointer `/amount`"), "{err}");
    }

    #[test]
    fn bad_operators_are_rejected() {
        let err = |yaml: &str| {
            serde_yaml_ng::from_str::<Operators>(yaml)
                .unwrap_err()
                .to_string()
        };
        assert!(err("{}").contains("empty operators"));
        assert!(err("{gt: x}").contains("invalid type"));
        assert!(err("{matches: '(a'}").contains("invalid regex `(a`"));
        assert!(err("{bigger: 1}").contains("unknown field `bigger`"));
        assert!(err("{length: -1}").contains("must not be negative"));
        assert!(err("{length: {}}").contains("empty length bounds"));
    }
}
