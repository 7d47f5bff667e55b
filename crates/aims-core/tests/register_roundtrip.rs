//! Every register type survives a YAML and a JSON round trip unchanged, and rejects unknown
//! fields. The example register populates every type and every optional part.
#![allow(clippy::unwrap_used)] // a test: a failed load or read should fail it loudly

use std::fmt::Debug;
use std::path::Path;

use aims_core::model::{load_dir, Register};
use serde::de::DeserializeOwned;
use serde::Serialize;

fn example() -> Register {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/register");
    load_dir(&dir).unwrap().register
}

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let yaml = serde_yaml_ng::to_string(value).unwrap();
    let from_yaml: T = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(&from_yaml, value, "YAML round trip of {yaml}");
    let json = serde_json::to_string(value).unwrap();
    let from_json: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&from_json, value, "JSON round trip of {json}");
}

/// Adds a field the type does not have, at the top level of the serialized value.
fn rejects_unknown_field<T: Serialize + DeserializeOwned + Debug>(value: &T) {
    let mut json = serde_json::to_value(value).unwrap();
    json.as_object_mut()
        .unwrap()
        .insert("unexpected_field".into(), 1.into());
    let err = serde_json::from_value::<T>(json.clone()).unwrap_err();
    assert!(err.to_string().contains("unexpected_field"), "{err}");
    let yaml = serde_yaml_ng::to_string(&json).unwrap();
    let err = serde_yaml_ng::from_str::<T>(&yaml).unwrap_err();
    assert!(err.to_string().contains("unexpected_field"), "{err}");
}

fn check_one<T: Serialize + DeserializeOwned + PartialEq + Debug>(item: &T) {
    round_trips(item);
    rejects_unknown_field(item);
}

fn check_all<T: Serialize + DeserializeOwned + PartialEq + Debug>(items: &[T]) {
    assert!(!items.is_empty(), "the example must populate every type");
    items.iter().for_each(check_one);
}

#[test]
fn whole_register_round_trips() {
    let register = example();
    round_trips(&register);
    rejects_unknown_field(&register);
}

#[test]
fn every_section_type_round_trips_and_rejects_unknown_fields() {
    let register = example();
    let policy = register.ai_policy.clone().unwrap();
    check_one(&policy);
    check_one(&register.risk_criteria);
    check_all(&register.systems);
    check_all(&register.soa);
    check_all(&register.risks);
    check_all(&register.impact_assessments);
    check_all(&register.oversight);
    check_all(&register.incidents);
    check_all(&register.nonconformities);
    check_all(&register.corrective_actions);
    check_all(&register.internal_audits);
    check_all(&register.management_reviews);
    check_all(&register.evidence);
}

#[test]
fn nested_types_round_trip_and_reject_unknown_fields() {
    let register = example();
    let system = &register.systems[0];
    check_all(&system.models);
    check_all(&system.data_categories);
    check_all(&system.suppliers);
    check_all(&register.incidents[0].timeline);
    check_all(&[register.risks[0].inherent]);
    check_all(&[register.oversight[0].trigger.clone()]);
    check_all(&register.internal_audits[0].findings);
    let review = &register.management_reviews[0];
    check_one(&review.inputs);
    check_one(&review.inputs.performance);
    check_all(&review.decisions);
    check_all(&register.risk_criteria.levels);
    check_one(&register.ai_policy.clone().unwrap().approval);
}

#[test]
fn enums_serialize_snake_case() {
    let register = example();
    let json = serde_json::to_value(&register).unwrap();
    assert_eq!(json["systems"][0]["org_role"], "deployer");
    assert_eq!(
        json["systems"][0]["lifecycle_phase"],
        "operation_and_monitoring"
    );
    assert_eq!(json["systems"][0]["autonomy"], "human_on_the_loop");
    assert_eq!(json["incidents"][0]["serious_kind"], "other");
    assert_eq!(json["soa"][23]["implementation_status"], "not_applicable");
    assert_eq!(json["evidence"][0]["collected_at"], "2026-09-30T16:00:00Z");
    assert_eq!(json["risks"][0]["review_due"], "2027-03-31");
}
