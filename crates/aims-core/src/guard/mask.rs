//! Masking what the guard passes on or records: JSON pointers masked whole, PII entities
//! masked by a [`Masker`] (the PII scanner plugs in here through the guard's builder).
//!
//! Without a masker the guard stays safe: a decision that needs entity masking is denied
//! (reason `masker_missing`), and audit records mask every string, since the guard cannot tell
//! which strings hold PII.

use std::fmt;

use serde_json::Value;

use super::Redaction;
use crate::policy::Pointer;

/// What replaces a masked value.
pub const REDACTED: &str = "[REDACTED]";

/// Marker in [`crate::audit::DecisionEvent::masked`] when every string was masked for lack of
/// a masker.
pub const ALL_STRINGS: &str = "all_strings";

/// Finds and masks PII entities inside JSON values.
pub trait Masker: Send + Sync + fmt::Debug {
    /// Masks occurrences of the named entities (of every entity the masker knows when
    /// `entities` is empty) wherever they occur in `value`, and returns the entity names it
    /// masked, one per occurrence.
    fn mask(&self, value: &mut Value, entities: &[String]) -> Vec<String>;
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

/// Replaces every string (keys stay) with [`REDACTED`]; returns whether any string was there.
pub(crate) fn mask_all_strings(value: &mut Value) -> bool {
    match value {
        Value::String(text) => {
            *text = REDACTED.to_owned();
            true
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, item| mask_all_strings(item) | any),
        Value::Object(members) => members
            .values_mut()
            .fold(false, |any, item| mask_all_strings(item) | any),
        _ => false,
    }
}

/// Applies redactions to a value: pointers first, then entities through the masker. Returns
/// what was masked (pointers and entity names). Entity redactions without a masker are not
/// applied; the guard never lets such a decision proceed.
pub(crate) fn apply(
    redactions: &[Redaction],
    masker: Option<&dyn Masker>,
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
    if let (false, Some(masker)) = (entities.is_empty(), masker) {
        masked.extend(masker.mask(value, &entities));
    }
    masked
}

/// The form of a value kept in audit records: the decision's redactions, then every PII
/// entity the masker knows, or every string when there is no masker.
pub(crate) fn for_record(
    redactions: &[Redaction],
    masker: Option<&dyn Masker>,
    raw: &Value,
) -> (Value, Vec<String>) {
    let mut value = raw.clone();
    let mut masked = apply(redactions, masker, &mut value);
    match masker {
        Some(masker) => masked.extend(masker.mask(&mut value, &[])),
        None => {
            if mask_all_strings(&mut value) {
                masked.push(ALL_STRINGS.to_owned());
            }
        }
    }
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
    fn records_without_a_masker_keep_no_string() {
        let redactions = [Redaction {
            rule_id: "r".into(),
            pointers: vec!["/amount".into()],
            entities: vec![],
        }];
        let raw = json!({"amount": 5, "note": "call 555-0100", "tags": ["x"], "ok": true});
        let (value, masked) = for_record(&redactions, None, &raw);
        assert_eq!(
            value,
            json!({"amount": "[REDACTED]", "note": "[REDACTED]", "tags": ["[REDACTED]"], "ok": true})
        );
        assert_eq!(masked, ["/amount", ALL_STRINGS]);
    }
}
