//! The committed JSON Schemas in `schemas/` must equal what the code generates.
#![allow(clippy::unwrap_used)] // a test: a failed load or read should fail it loudly

use std::fs;
use std::path::PathBuf;

use aims_core::schema::schemas;

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

#[test]
fn committed_schemas_match_the_code() {
    let mut drifted = Vec::new();
    for schema in schemas() {
        let path = schemas_dir().join(schema.file_name());
        let committed = fs::read_to_string(&path).unwrap_or_default();
        if committed != schema.to_pretty_json() {
            drifted.push(schema.file_name());
        }
    }
    assert!(
        drifted.is_empty(),
        "schemas/ drifted from the code: {drifted:?}; regenerate with \
         `cargo run --bin aims -- schema --out schemas`"
    );
}

#[test]
fn no_stale_schema_files() {
    let expected: Vec<String> = schemas().iter().map(|schema| schema.file_name()).collect();
    for entry in fs::read_dir(schemas_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".schema.json") {
            assert!(
                expected.contains(&name),
                "schemas/{name} belongs to no type"
            );
        }
    }
}

#[test]
fn every_schema_is_2020_12_and_closed() {
    for schema in schemas() {
        let value = schema.schema.as_value();
        assert_eq!(
            value["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{}",
            schema.name
        );
        assert_eq!(value["additionalProperties"], false, "{}", schema.name);
    }
}

/// Collects `path` of every object property without a description, in `value` and below;
/// returns how many properties it looked at.
fn undocumented(value: &serde_json::Value, path: &str, missing: &mut Vec<String>) -> usize {
    let mut seen = 0;
    match value {
        serde_json::Value::Object(object) => {
            if let Some(serde_json::Value::Object(properties)) = object.get("properties") {
                seen += properties.len();
                for (name, property) in properties {
                    if property.get("description").is_none() {
                        missing.push(format!("{path}/{name}"));
                    }
                }
            }
            for (key, child) in object {
                seen += undocumented(child, &format!("{path}/{key}"), missing);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                seen += undocumented(child, &format!("{path}/{index}"), missing);
            }
        }
        _ => {}
    }
    seen
}

#[test]
fn every_field_of_every_type_is_described() {
    let register = aims_core::schema::schema("register").unwrap();
    let mut missing = Vec::new();
    // The register schema holds every register type in its $defs.
    let checked = undocumented(register.schema.as_value(), "", &mut missing);
    assert!(checked > 150, "only {checked} properties found");
    for schema in schemas() {
        undocumented(schema.schema.as_value(), schema.name, &mut missing);
        assert!(
            schema.schema.as_value()["description"].is_string(),
            "{}",
            schema.name
        );
    }
    assert!(missing.is_empty(), "undocumented fields {missing:?}");
}
