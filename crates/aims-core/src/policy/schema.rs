//! The policy file's JSON Schema, generated from the types that read the file; it is published
//! with the register's schemas (`schemas/policy.schema.json`, see [`crate::model::schema`]).
//!
//! Types that read themselves through a visitor (patterns, pointers, regexes, windows, ids)
//! describe their accepted text here.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::condition::{
    LengthBounds, Operators, OperatorsDoc, PointerConditions, PointerSource, RegexSource,
};
use super::limit::Window;
use super::pattern::Patterns;
use super::rule::{ControlId, EntityName, RuleDoc, RuleId};
use super::{PolicyDoc, RuleList};

/// The JSON Schema (draft 2020-12) of a policy file.
pub fn policy_schema() -> Schema {
    schemars::schema_for!(PolicyDoc)
}

/// A JSON pointer: empty (the whole value) or `/`-separated tokens.
const POINTER_PATTERN: &str = "^(/([^~]|~[01])*)*$";

impl JsonSchema for Patterns {
    fn schema_name() -> Cow<'static, str> {
        "Patterns".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A name or glob (`*`, `?`, `[...]`, `{a,b}`) matched against the whole name, or a list of them.",
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
            ]
        })
    }
}

impl JsonSchema for PointerSource {
    fn schema_name() -> Cow<'static, str> {
        "Pointer".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A JSON pointer (RFC 6901) such as `/amount`.",
            "type": "string",
            "pattern": POINTER_PATTERN
        })
    }
}

impl JsonSchema for PointerConditions {
    fn schema_name() -> Cow<'static, str> {
        "Conditions".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let operators = generator.subschema_for::<Operators>();
        json_schema!({
            "description": "A map from JSON pointer to the operators that must all hold on the value it addresses.",
            "type": "object",
            "propertyNames": {"pattern": POINTER_PATTERN},
            "additionalProperties": operators
        })
    }
}

impl JsonSchema for Operators {
    fn schema_name() -> Cow<'static, str> {
        "Operators".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = OperatorsDoc::json_schema(generator);
        schema.insert("minProperties".into(), 1.into());
        schema
    }
}

impl JsonSchema for RegexSource {
    fn schema_name() -> Cow<'static, str> {
        "Regex".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A regular expression (Rust `regex` syntax), matched anywhere in the string unless anchored.",
            "type": "string",
            "format": "regex"
        })
    }
}

impl JsonSchema for LengthBounds {
    fn schema_name() -> Cow<'static, str> {
        "Length".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let bound = json_schema!({"type": "number"});
        json_schema!({
            "description": "An exact length, or bounds on the length of a string (characters), array or object.",
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {
                    "type": "object",
                    "properties": {"equals": bound, "gt": bound, "gte": bound, "lt": bound, "lte": bound},
                    "additionalProperties": false,
                    "minProperties": 1
                }
            ]
        })
    }
}

impl JsonSchema for Window {
    fn schema_name() -> Cow<'static, str> {
        "Window".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A sliding window: a positive integer and a unit ms, s, m, h or d, such as `1h`.",
            "type": "string",
            "pattern": "^[0-9]*[1-9][0-9]*(ms|s|m|h|d)$"
        })
    }
}

impl JsonSchema for RuleId {
    fn schema_name() -> Cow<'static, str> {
        "RuleId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A rule id, unique in the policy.",
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
        })
    }
}

impl JsonSchema for ControlId {
    fn schema_name() -> Cow<'static, str> {
        "ControlId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = crate::catalog::controls()
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        json_schema!({
            "description": "An ISO/IEC 42001 Annex A control id.",
            "type": "string",
            "enum": ids
        })
    }
}

impl JsonSchema for EntityName {
    fn schema_name() -> Cow<'static, str> {
        "PiiEntity".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = crate::pii::Entity::ALL.iter().map(|e| e.as_str()).collect();
        json_schema!({
            "description": "A PII entity the scanner detects.",
            "type": "string",
            "enum": names
        })
    }
}

impl JsonSchema for RuleList {
    fn schema_name() -> Cow<'static, str> {
        "Rules".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let rule = generator.subschema_for::<RuleDoc>();
        json_schema!({
            "description": "The rules, with unique ids. Order only affects the order of ids and reasons in decisions.",
            "type": "array",
            "items": rule
        })
    }
}
