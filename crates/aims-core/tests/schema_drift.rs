//! The committed JSON Schemas in `schemas/` must equal what the code generates.
#![allow(clippy::unwrap_used)] // a test: a failed load or read should fail it loudly

use std::fs;
use std::path::PathBuf;

use aims_core::model::schema::schemas;

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
