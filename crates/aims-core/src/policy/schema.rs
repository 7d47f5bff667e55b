//! The policy file's JSON Schema, generated from the types that read the file; it is published
//! with the register's schemas (`schemas/policy.schema.json`, see [`crate::schema`]).
//!
//! Types that read themselves through a visitor (patterns, pointers, regexes, windows, ids)
//! describe their accepted text here.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;

use super::condition::{
    Bound, LengthBounds, Operators, OperatorsDoc, PointerConditions, PointerSource, RegexSource,
};
use super::limit::Window;
use super::pattern::Patterns;
use super::rule::{ControlId, EntityName, RuleDoc, RuleId};
use super::{PolicyDoc, RuleList};

/// The JSON Schema (draft 2020-12) of a policy file.
pub fn policy_schema() -> Schema {
    let mut schema = schemars::schema_for!(PolicyDoc).to_value();
    describe_variant_tags(&mut schema);
    Schema::try_from(schema).unwrap_or_else(|_| schemars::schema_for!(PolicyDoc))
}

/// schemars puts the description of an externally tagged enum variant (such as an incident
/// trigger's `deny_burst: {...}`) on the variant's object, not on its one tag property, which is
/// the field a reader sees; this copies it there.
fn describe_variant_tags(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(variants)) = object.get_mut("oneOf") {
                for variant in variants.iter_mut().filter_map(Value::as_object_mut) {
                    let description = variant.get("description").cloned();
                    if let (Some(description), Some(Value::Object(properties))) =
                        (description, variant.get_mut("properties"))
                    {
                        if properties.len() == 1 {
                            if let Some(Value::Object(tag)) = properties.values_mut().next() {
                                tag.entry("description").or_insert(description);
                            }
                        }
                    }
                }
            }
            object.values_mut().for_each(describe_variant_tags);
        }
        Value::Array(items) => items.iter_mut().for_each(describe_variant_tags),
        _ => {}
    }
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

impl JsonSchema for Bound {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Bound".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "number", "format": "double"})
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
        let bound =
            |description: &str| json_schema!({"type": "number", "description": description});
        json_schema!({
            "description": "An exact length, or bounds on the length of a string (characters), array or object.",
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {
                    "type": "object",
                    "properties": {
                        "equals": bound("The length is exactly this."),
                        "gt": bound("The length is greater than this."),
                        "gte": bound("The length is at least this."),
                        "lt": bound("The length is less than this."),
                        "lte": bound("The length is at most this.")
                    },
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
