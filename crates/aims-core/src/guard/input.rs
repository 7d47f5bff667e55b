//! Input checks that run before any rule: the guard refuses what it cannot read the way the
//! tool will, or cannot afford to read. Names outside the allowed alphabet or length, arguments
//! over the size or nesting limits, and object keys that collide once case and Unicode
//! look-alikes are folded (a tool that matches keys leniently could read a different value than
//! the policy did). Also the strict reading of call JSON: duplicate keys (readers disagree on
//! which one counts) and numbers that JSON readers would round are refused, not guessed at.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::ToolCall;
use crate::policy::{fold, Decimal};

/// Which tool names the guard decides on; others are denied with `tool_name_invalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolNames {
    /// The MCP tool name alphabet: ASCII letters, digits, `_`, `-`, `.` and `/`.
    #[default]
    Mcp,
    /// Any non-empty name (restricting rules still match it case- and look-alike-insensitively).
    Any,
}

/// Bounds on what one call may carry; a call beyond them is denied before any rule runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLimits {
    /// Longest tool name, in bytes (`name_too_long`).
    pub max_tool_name: usize,
    /// Longest agent, conversation, call or AI system id, in bytes (`name_too_long`).
    pub max_id: usize,
    /// Which tool names are allowed (`tool_name_invalid`).
    pub tool_names: ToolNames,
    /// Largest arguments plus context (or result), in bytes of their JSON text
    /// (`input_too_large`).
    pub max_input_bytes: usize,
    /// Deepest nesting of arrays and objects (`input_too_deep`).
    pub max_depth: usize,
}

impl Default for InputLimits {
    /// 128-byte tool names in the MCP alphabet, 256-byte ids, 1 MiB of arguments, 64 levels.
    fn default() -> Self {
        Self {
            max_tool_name: 128,
            max_id: 256,
            tool_names: ToolNames::Mcp,
            max_input_bytes: 1 << 20,
            max_depth: 64,
        }
    }
}

/// Why the guard refuses to decide on an input; becomes a deny with `code` as its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    /// `tool_name_invalid`, `name_too_long`, `input_too_large`, `input_too_deep`,
    /// `ambiguous_keys`, `duplicate_key` or `inexact_number`.
    pub code: &'static str,
    /// What is wrong, without the offending text unless it is a short plain name.
    pub message: String,
}

impl InputProblem {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Whether the input is too big to be recorded as it is.
    pub(crate) fn oversized(&self) -> bool {
        matches!(
            self.code,
            "name_too_long" | "input_too_large" | "input_too_deep"
        )
    }
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for InputProblem {}

/// Checks a call's names, ids, arguments and context.
pub(crate) fn check_call(call: &ToolCall, limits: &InputLimits) -> Result<(), InputProblem> {
    if call.tool.len() > limits.max_tool_name {
        return Err(InputProblem::new(
            "name_too_long",
            format!(
                "the tool name is {} bytes; the limit is {}",
                call.tool.len(),
                limits.max_tool_name
            ),
        ));
    }
    let ids = [
        ("agent id", Some(&call.agent_id)),
        ("conversation id", call.conversation_id.as_ref()),
        ("call id", call.call_id.as_ref()),
        ("AI system id", call.ai_system_id.as_ref()),
    ];
    for (what, id) in ids {
        if let Some(id) = id.filter(|id| id.len() > limits.max_id) {
            return Err(InputProblem::new(
                "name_too_long",
                format!(
                    "the {what} is {} bytes; the limit is {}",
                    id.len(),
                    limits.max_id
                ),
            ));
        }
    }
    let allowed = match limits.tool_names {
        ToolNames::Mcp => {
            !call.tool.is_empty()
                && call
                    .tool
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
        }
        ToolNames::Any => !call.tool.is_empty(),
    };
    if !allowed {
        return Err(InputProblem::new(
            "tool_name_invalid",
            "the tool name is empty or has characters outside A-Z a-z 0-9 _ - . /",
        ));
    }
    let mut budget = limits.max_input_bytes;
    check_value(&call.args, "arguments", limits, &mut budget)?;
    check_value(&call.context, "context", limits, &mut budget)
}

/// The call as it may be recorded when it is too big to keep: names and ids cut to the
/// limits, no arguments or context.
pub(crate) fn bounded_for_record(call: &ToolCall, limits: &InputLimits) -> ToolCall {
    let cut = |text: &str, limit: usize| -> String {
        if text.len() <= limit {
            return text.to_owned();
        }
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &text[..end])
    };
    let cut_id = |id: &Option<String>| id.as_deref().map(|id| cut(id, limits.max_id));
    ToolCall {
        agent_id: cut(&call.agent_id, limits.max_id),
        tool: cut(&call.tool, limits.max_tool_name),
        args: Value::Null,
        ai_system_id: cut_id(&call.ai_system_id),
        conversation_id: cut_id(&call.conversation_id),
        call_id: cut_id(&call.call_id),
        context: Value::Null,
    }
}

/// Checks a tool's result against the size and nesting limits and for colliding keys.
pub(crate) fn check_result(result: &Value, limits: &InputLimits) -> Result<(), InputProblem> {
    check_value(
        result,
        "result",
        limits,
        &mut limits.max_input_bytes.clone(),
    )
}

/// Walks `value` without recursion (it may be deeper than the stack allows), charging its JSON
/// size to `budget`.
fn check_value(
    value: &Value,
    what: &str,
    limits: &InputLimits,
    budget: &mut usize,
) -> Result<(), InputProblem> {
    let too_large = || {
        InputProblem::new(
            "input_too_large",
            format!("the {what} exceed {} bytes of JSON", limits.max_input_bytes),
        )
    };
    let mut charge = |bytes: usize| -> Result<(), InputProblem> {
        *budget = budget.checked_sub(bytes).ok_or_else(too_large)?;
        Ok(())
    };
    // Scalars are charged where they are found and only containers wait on the stack, so a
    // flat call or result (the common case) is checked without allocating.
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    let mut next = Some((value, 0));
    while let Some((value, depth)) = next.take().or_else(|| stack.pop()) {
        match value {
            Value::Array(items) => {
                enter(depth, what, limits)?;
                charge(items.len() + 2)?;
                for child in items {
                    charge_or_stack(child, depth + 1, &mut stack, &mut charge)?;
                }
            }
            Value::Object(members) => {
                enter(depth, what, limits)?;
                charge(2)?;
                for key in members.keys() {
                    charge(key.len() + 4)?;
                }
                keys_stay_distinct(members, what)?;
                for child in members.values() {
                    charge_or_stack(child, depth + 1, &mut stack, &mut charge)?;
                }
            }
            scalar => charge(scalar_bytes(scalar).unwrap_or(0))?,
        }
    }
    Ok(())
}

/// The JSON size charged for a scalar; `None` for a container.
fn scalar_bytes(value: &Value) -> Option<usize> {
    match value {
        Value::Null | Value::Bool(_) => Some(5),
        Value::Number(_) => Some(8),
        Value::String(text) => Some(text.len() + 2),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn charge_or_stack<'a>(
    child: &'a Value,
    depth: usize,
    stack: &mut Vec<(&'a Value, usize)>,
    charge: &mut impl FnMut(usize) -> Result<(), InputProblem>,
) -> Result<(), InputProblem> {
    match scalar_bytes(child) {
        Some(bytes) => charge(bytes),
        None => {
            stack.push((child, depth));
            Ok(())
        }
    }
}

fn enter(depth: usize, what: &str, limits: &InputLimits) -> Result<(), InputProblem> {
    if depth >= limits.max_depth {
        return Err(InputProblem::new(
            "input_too_deep",
            format!("the {what} nest deeper than {} levels", limits.max_depth),
        ));
    }
    Ok(())
}

/// Two keys that fold alike (`amount` and `Amount`, `key` and `ｋｅｙ`) are a parser
/// differential: the policy reads one, a lenient tool may read the other.
fn keys_stay_distinct(members: &Map<String, Value>, what: &str) -> Result<(), InputProblem> {
    if members.len() < 2
        || members
            .keys()
            .all(|key| matches!(fold(key), Cow::Borrowed(_)))
    {
        return Ok(());
    }
    let mut seen = HashSet::with_capacity(members.len());
    for key in members.keys() {
        let folded = fold(key);
        if !seen.insert(folded.clone()) {
            return Err(InputProblem::new(
                "ambiguous_keys",
                format!(
                    "two keys in the {what} read the same once case and Unicode look-alikes are folded ({}); a tool matching keys leniently could read either",
                    shown(&folded)
                ),
            ));
        }
    }
    Ok(())
}

/// A key or name as it may appear in a message: short plain names as they are, anything else
/// (which could carry PII) not at all.
fn shown(text: &str) -> String {
    let plain = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if plain {
        format!("`{text}`")
    } else {
        "a key not shown".to_owned()
    }
}

/// Why call JSON could not be taken as it is.
#[derive(Debug)]
pub enum CallJsonError {
    /// Not JSON, or not a call: nothing can be decided or recorded.
    Invalid(String),
    /// A readable call that the guard must refuse (`duplicate_key`, `inexact_number`): deny
    /// it with [`super::Guard::refuse`], which records it.
    Refused {
        /// The call as a lenient reader sees it (the last of duplicate keys wins).
        call: Box<ToolCall>,
        /// Why it is refused.
        problem: InputProblem,
    },
}

impl fmt::Display for CallJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallJsonError::Invalid(message) => f.write_str(message),
            CallJsonError::Refused { problem, .. } => problem.fmt(f),
        }
    }
}

impl std::error::Error for CallJsonError {}

/// Reads a tool call from JSON text strictly: duplicate keys anywhere and numbers that a
/// double would round (`9007199254740993.0`, `100.0000000000000001`, integers beyond 64 bits)
/// are refused, since the guard and the tool could read them differently.
pub fn parse_call(text: &str) -> Result<ToolCall, CallJsonError> {
    let invalid =
        |err: serde_json::Error| CallJsonError::Invalid(format!("invalid call JSON: {err}"));
    match parse_value(text) {
        Ok(value) => serde_json::from_value(value).map_err(invalid),
        Err(ValueError::Json(err)) => Err(invalid(err)),
        Err(ValueError::Refused(problem)) => {
            // Through a `Value`, so a duplicated call field is refused like any other key.
            let lenient: Value = serde_json::from_str(text).map_err(invalid)?;
            let call: ToolCall = serde_json::from_value(lenient).map_err(invalid)?;
            Err(CallJsonError::Refused {
                call: Box::new(call),
                problem,
            })
        }
    }
}

/// Why JSON text was not read.
#[derive(Debug)]
pub enum ValueError {
    /// Not JSON.
    Json(serde_json::Error),
    /// JSON the guard refuses to read (`duplicate_key`, `inexact_number`).
    Refused(InputProblem),
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::Json(err) => err.fmt(f),
            ValueError::Refused(problem) => problem.fmt(f),
        }
    }
}

impl std::error::Error for ValueError {}

/// Reads JSON text into a value strictly (see [`parse_call`]), for bindings that receive
/// arguments as JSON text.
pub fn parse_value(text: &str) -> Result<Value, ValueError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = StrictValue.deserialize(&mut deserializer).map_err(|err| {
        match err.to_string().strip_prefix(DUPLICATE_KEY) {
            Some(rest) => ValueError::Refused(InputProblem::new(
                "duplicate_key",
                format!("a key is written twice in one object{rest}"),
            )),
            None => ValueError::Json(err),
        }
    })?;
    deserializer.end().map_err(ValueError::Json)?;
    exact_numbers(text).map_err(ValueError::Refused)?;
    Ok(value)
}

const DUPLICATE_KEY: &str = "duplicate key";

/// Builds a [`Value`] like serde_json does, but fails on a key seen before in the same object
/// instead of keeping the last one.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.contains_key(&key) {
                // serde_json appends the line and column.
                return Err(de::Error::custom(format!(
                    "{DUPLICATE_KEY} ({})",
                    shown(&key)
                )));
            }
            let value = map.next_value_seed(StrictValue)?;
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

/// Every number in JSON text (known to be valid) must be read without rounding: integers
/// within 64 bits, and decimals that are exactly what their double prints as.
fn exact_numbers(text: &str) -> Result<(), InputProblem> {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut in_string = false;
    while at < bytes.len() {
        let byte = bytes[at];
        if in_string {
            match byte {
                b'\\' => at += 1,
                b'"' => in_string = false,
                _ => {}
            }
            at += 1;
            continue;
        }
        if byte == b'"' {
            in_string = true;
            at += 1;
            continue;
        }
        if byte == b'-' || byte.is_ascii_digit() {
            let start = at;
            while at < bytes.len()
                && matches!(bytes[at], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                at += 1;
            }
            let token = &text[start..at];
            if !exact_number(token) {
                let line = 1 + bytes[..start].iter().filter(|b| **b == b'\n').count();
                let line_start = bytes[..start]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |nl| nl + 1);
                return Err(InputProblem::new(
                    "inexact_number",
                    format!(
                        "the number at line {line} column {} has more digits than a double keeps; send it as a string to compare it exactly",
                        start - line_start + 1
                    ),
                ));
            }
            continue;
        }
        at += 1;
    }
    Ok(())
}

fn exact_number(token: &str) -> bool {
    if !token.contains(['.', 'e', 'E']) {
        return token.parse::<i64>().is_ok() || token.parse::<u64>().is_ok();
    }
    match (
        Decimal::parse(token),
        token.parse::<f64>().ok().and_then(Decimal::from_f64),
    ) {
        (Some(written), Some(read)) => written == read,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn call(tool: &str, args: Value) -> ToolCall {
        ToolCall::new("agent", tool, args)
    }

    fn code(call: &ToolCall) -> Option<&'static str> {
        check_call(call, &InputLimits::default())
            .err()
            .map(|p| p.code)
    }

    #[test]
    fn keys_that_fold_alike_are_refused() {
        assert_eq!(
            code(&call("t", json!({"amount": 1, "Amount": 1_000_000}))),
            Some("ambiguous_keys")
        );
        assert_eq!(
            code(&call("t", json!({"a": {"key": 1, "\u{212a}ey": 2}}))),
            Some("ambiguous_keys")
        );
        assert_eq!(
            code(&call("t", json!([{"x": 1, "X\u{200b}": 2}]))),
            Some("ambiguous_keys")
        );
        assert_eq!(code(&call("t", json!({"amount": 1, "amounts": 2}))), None);
        let mut context = call("t", json!({}));
        context.context = json!({"role": "user", "ROLE": "admin"});
        assert_eq!(code(&context), Some("ambiguous_keys"));
    }

    #[test]
    fn names_outside_the_alphabet_or_length_are_refused() {
        assert_eq!(code(&call("read_file", json!({}))), None);
        assert_eq!(code(&call("fs/read.v2-x", json!({}))), None);
        for bad in ["", "shell\u{200b}", "\u{ff53}hell", "sh ell", "a\nb"] {
            assert_eq!(
                code(&call(bad, json!({}))),
                Some("tool_name_invalid"),
                "{bad:?}"
            );
        }
        assert_eq!(
            code(&call(&"a".repeat(129), json!({}))),
            Some("name_too_long")
        );
        let mut long_agent = call("t", json!({}));
        long_agent.agent_id = "a".repeat(10_000);
        assert_eq!(code(&long_agent), Some("name_too_long"));
        let any = InputLimits {
            tool_names: ToolNames::Any,
            ..InputLimits::default()
        };
        assert!(check_call(&call("shell\u{200b}", json!({})), &any).is_ok());
    }

    #[test]
    fn size_and_depth_are_bounded() {
        let big = json!({"body": "x".repeat(2 << 20)});
        assert_eq!(code(&call("t", big)), Some("input_too_large"));
        let mut deep = json!(1);
        for _ in 0..1_000 {
            deep = json!([deep]);
        }
        assert_eq!(code(&call("t", deep)), Some("input_too_deep"));
        let mut ok = json!(1);
        for _ in 0..63 {
            ok = json!([ok]);
        }
        assert_eq!(code(&call("t", ok)), None);
    }

    #[test]
    fn duplicate_keys_anywhere_are_refused_with_their_position() {
        let text =
            r#"{"agent_id": "a", "tool": "t", "args": {"x": {"amount": 1, "amount": 1000000}}}"#;
        match parse_call(text) {
            Err(CallJsonError::Refused { call, problem }) => {
                assert_eq!(problem.code, "duplicate_key");
                assert!(problem.message.contains("`amount`"), "{}", problem.message);
                assert!(
                    problem.message.contains("line 1 column"),
                    "{}",
                    problem.message
                );
                assert_eq!(call.args["x"]["amount"], json!(1_000_000));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_call(r#"{"agent_id": "a", "agent_id": "b", "tool": "t"}"#),
            Err(CallJsonError::Refused { .. })
        ));
        assert!(matches!(parse_call("{"), Err(CallJsonError::Invalid(_))));
        assert!(parse_call(
            r#"{"agent_id": "a", "tool": "t", "args": {"a\"mount": 1, "amount": 2}}"#
        )
        .is_ok());
    }

    #[test]
    fn numbers_a_double_would_round_are_refused() {
        for text in [
            "100.0000000000000001",
            "18446744073709551616",
            "-9223372036854775809",
            "9007199254740993.0",
            "1e400",
        ] {
            let problem = match parse_value(&format!("{{\"a\": [\"1.5\", {text}]}}")) {
                Err(ValueError::Refused(problem)) => problem,
                Err(ValueError::Json(_)) if text == "1e400" => continue,
                other => panic!("{text}: {other:?}"),
            };
            assert_eq!(problem.code, "inexact_number");
            assert!(
                problem.message.contains("line 1 column 15"),
                "{}",
                problem.message
            );
        }
        for text in [
            "0.1",
            "1e300",
            "-0",
            "18446744073709551615",
            "9007199254740993",
            "1.5e-7",
            "2.0",
        ] {
            assert!(parse_value(text).is_ok(), "{text}");
        }
    }
}
