//! Masking what the guard passes on or records: JSON pointers masked whole, PII entities
//! masked by a [`Masker`]. The guard's default masker is the PII [`Scanner`] with type tags
//! (`<EMAIL_ADDRESS>`); the builder takes another.

use std::fmt;

use serde_json::Value;

use super::Redaction;
use crate::pii::{Entity, MaskPolicy, Scanner};
use crate::policy::Pointer;

/// What replaces a masked value.
pub const REDACTED: &str = "[REDACTED]";

/// Finds and masks PII entities inside JSON values.
pub trait Masker: Send + Sync + fmt::Debug {
    /// Masks occurrences of the named entities (of every entity the masker knows when
    /// `entities` is empty) wherever they occur in `value`, and returns the entity names it
    /// masked, one per occurrence.
    fn mask(&self, value: &mut Value, entities: &[String]) -> Vec<String>;
}

impl Masker for Scanner {
    fn mask(&self, value: &mut Value, entities: &[String]) -> Vec<String> {
        let policy = MaskPolicy::default();
        let policy = if entities.is_empty() {
            policy
        } else {
            // Names were checked against the entity list when the policy loaded.
            policy.only(
                entities
                    .iter()
                    .filter_map(|name| name.parse::<Entity>().ok()),
            )
        };
        self.mask_json(value, &policy)
            .into_iter()
            .map(|found| found.finding.entity.as_str().to_owned())
            .collect()
    }
}

/// Replaces the value at `pointer` (if any) with [`REDACTED`]; returns whether it was there.
pub(crate) fn mask_pointer(value: &mut Value, pointer: &str) -> bool {
    let Ok(pointer) = Pointer::parse(pointer) else {
        return false;
    };
    match pointer.resolve_mut(value) {
        Some(target) => {
            *target = Value::String(REDACTED.to_owned());
            true
        }
        None => false,
    }
}

/// Applies redactions to a value: pointers first, then entities through the masker. Returns
/// what was masked (pointers and entity names).
pub(crate) fn apply(
    redactions: &[Redaction],
    masker: &dyn Masker,
    value: &mut Value,
) -> Vec<String> {
    let mut masked = Vec::new();
    for redaction in redactions {
        for pointer in &redaction.pointers {
            if mask_pointer(value, pointer) {
                masked.push(pointer.clone());
            }
        }
    }
    let entities: Vec<String> = redactions
        .iter()
        .flat_map(|r| r.entities.iter().cloned())
        .collect();
    if !entities.is_empty() {
        masked.extend(masker.mask(value, &entities));
    }
    masked
}

/// The form of a value kept in audit records: the decision's redactions, then every PII
/// entity the masker knows.
pub(crate) fn for_record(
    redactions: &[Redaction],
    masker: &dyn Masker,
    raw: &Value,
) -> (Value, Vec<String>) {
    let mut value = raw.clone();
    let mut masked = apply(redactions, masker, &mut value);
    masked.extend(masker.mask(&mut value, &[]));
    masked.sort();
    masked.dedup();
    (value, masked)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pointers_mask_whole_values_and_ignore_missing_ones() {
        let mut value = json!({"to": "a@b.c", "body": {"text": "hi", "n": 5}, "list": [1, 2]});
        assert!(mask_pointer(&mut value, "/body/n"));
        assert!(mask_pointer(&mut value, "/list/1"));
        assert!(!mask_pointer(&mut value, "/nope"));
        assert!(!mask_pointer(&mut value, "not a pointer"));
        assert_eq!(
            value,
            json!({"to": "a@b.c", "body": {"text": "hi", "n": "[REDACTED]"}, "list": [1, "[REDACTED]"]})
        );
    }

    #[test]
    fn records_mask_redacted_pointers_and_every_entity_the_scanner_finds() {
        let redactions = [Redaction {
            rule_id: "r".into(),
            pointers: vec!["/amount".into()],
            entities: vec![],
        }];
        let raw = json!({"amount": 5, "note": "mail jo@example.org", "tags": ["x"], "ok": true});
        let (value, masked) = for_record(&redactions, &Scanner::default(), &raw);
        assert_eq!(
            value,
            json!({"amount": "[REDACTED]", "note": "mail <EMAIL_ADDRESS>", "tags": ["x"], "ok": true})
        );
        assert_eq!(masked, ["/amount", "EMAIL_ADDRESS"]);
    }

    #[test]
    fn entity_redactions_mask_only_the_named_entities() {
        let redactions = [Redaction {
            rule_id: "r".into(),
            pointers: vec![],
            entities: vec!["CREDIT_CARD".into()],
        }];
        let mut value = json!({"to": "jo@example.org", "body": "card 4111 1111 1111 1111"});
        let masked = apply(&redactions, &Scanner::default(), &mut value);
        assert_eq!(
            value,
            json!({"to": "jo@example.org", "body": "card <CREDIT_CARD>"})
        );
        assert_eq!(masked, ["CREDIT_CARD"]);
    }
}
