//! Scanning and masking JSON values (tool-call arguments and results).
//!
//! Every string is scanned, and so is every number's decimal text (a card number sent as a JSON
//! number is still a card number). Object keys are scanned too, because maps keyed by e-mail
//! address or account number are common in tool results; a finding in a key is reported with
//! `in_key` set and the pointer of the member. A member whose name says it holds a secret
//! (`password`, `apiKey`, `client_secret`, ...) has its whole value reported as
//! `GENERIC_SECRET` when nothing more specific is found in it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Finding, MaskPolicy, Scanner};

/// A finding inside a JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonFinding {
    /// RFC 6901 pointer to the string, number or member (for a key) that holds the finding.
    pub pointer: String,
    /// True when the finding is in the member's key rather than in its value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_key: bool,
    /// Where in that string (byte offsets) and what.
    #[serde(flatten)]
    pub finding: Finding,
}

/// Appends one RFC 6901 reference token (`~` as `~0`, `/` as `~1`).
fn push_token(pointer: &str, token: &str) -> String {
    let escaped = token.replace('~', "~0").replace('/', "~1");
    format!("{pointer}/{escaped}")
}

impl Scanner {
    /// Every finding in `value`, in document order.
    pub fn scan_json(&self, value: &Value) -> Vec<JsonFinding> {
        let mut out = Vec::new();
        self.walk(value, None, String::new(), &mut out);
        out
    }

    fn walk(&self, value: &Value, key: Option<&str>, pointer: String, out: &mut Vec<JsonFinding>) {
        let record = |findings: Vec<Finding>, pointer: &str, in_key: bool, out: &mut Vec<_>| {
            out.extend(findings.into_iter().map(|finding| JsonFinding {
                pointer: pointer.to_string(),
                in_key,
                finding,
            }));
        };
        match value {
            Value::String(text) => record(self.scan_member(key, text), &pointer, false, out),
            Value::Number(number) => {
                record(self.scan(&number.to_string()), &pointer, false, out);
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.walk(item, None, push_token(&pointer, &index.to_string()), out);
                }
            }
            Value::Object(members) => {
                for (name, item) in members {
                    let member = push_token(&pointer, name);
                    record(self.scan(name), &member, true, out);
                    self.walk(item, Some(name), member, out);
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Masks, in place, every finding in `value` that `policy` covers, and returns those
    /// findings (offsets refer to the values as they were before masking). A masked number
    /// becomes a string. A key that masks to an existing key gets a `~2`, `~3`, ... suffix so no
    /// member is lost.
    pub fn mask_json(&self, value: &mut Value, policy: &MaskPolicy) -> Vec<JsonFinding> {
        let mut out = Vec::new();
        self.mask_walk(value, None, String::new(), policy, &mut out);
        out
    }

    fn mask_walk(
        &self,
        value: &mut Value,
        key: Option<&str>,
        pointer: String,
        policy: &MaskPolicy,
        out: &mut Vec<JsonFinding>,
    ) {
        match value {
            Value::String(text) => {
                if let Some(masked) = self.mask_text(key, text, &pointer, false, policy, out) {
                    *text = masked;
                }
            }
            Value::Number(number) => {
                let text = number.to_string();
                if let Some(masked) = self.mask_text(None, &text, &pointer, false, policy, out) {
                    *value = Value::String(masked);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    let item_pointer = push_token(&pointer, &index.to_string());
                    self.mask_walk(item, None, item_pointer, policy, out);
                }
            }
            Value::Object(members) => {
                let old = std::mem::take(members);
                let mut renamed = Map::with_capacity(old.len());
                for (name, mut item) in old {
                    let member = push_token(&pointer, &name);
                    let new_name = self
                        .mask_text(None, &name, &member, true, policy, out)
                        .unwrap_or_else(|| name.clone());
                    self.mask_walk(&mut item, Some(&name), member, policy, out);
                    let mut unique = new_name.clone();
                    let mut suffix = 2;
                    while renamed.contains_key(&unique) {
                        unique = format!("{new_name}~{suffix}");
                        suffix += 1;
                    }
                    renamed.insert(unique, item);
                }
                *members = renamed;
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// The masked text when the policy covers a finding in it, recording those findings.
    fn mask_text(
        &self,
        key: Option<&str>,
        text: &str,
        pointer: &str,
        in_key: bool,
        policy: &MaskPolicy,
        out: &mut Vec<JsonFinding>,
    ) -> Option<String> {
        let findings: Vec<Finding> = self
            .scan_member(key, text)
            .into_iter()
            .filter(|finding| policy.covers(finding.entity))
            .collect();
        if findings.is_empty() {
            return None;
        }
        let masked = policy.apply(text, &findings);
        out.extend(findings.into_iter().map(|finding| JsonFinding {
            pointer: pointer.to_string(),
            in_key,
            finding,
        }));
        Some(masked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::{Entity, MaskOperator};
    use serde_json::json;

    fn payload() -> Value {
        json!({
            "to": "jane@example.org",
            "cc": ["bob@example.net", "no pii here"],
            "amount": 12.5,
            "card": 4111111111111111u64,
            "auth": {"password": "hunter22", "token_type": "bearer"},
            "by/email": {"jane@example.org": {"iban": "GB82 WEST 1234 5698 7654 32"}}
        })
    }

    #[test]
    fn scan_reports_pointers_for_values_numbers_keys_and_secret_members() {
        let found: Vec<(String, bool, Entity)> = Scanner::default()
            .scan_json(&payload())
            .into_iter()
            .map(|f| (f.pointer, f.in_key, f.finding.entity))
            .collect();
        assert_eq!(
            found,
            vec![
                ("/to".into(), false, Entity::EmailAddress),
                ("/cc/0".into(), false, Entity::EmailAddress),
                ("/card".into(), false, Entity::CreditCard),
                ("/auth/password".into(), false, Entity::GenericSecret),
                (
                    "/by~1email/jane@example.org".into(),
                    true,
                    Entity::EmailAddress
                ),
                (
                    "/by~1email/jane@example.org/iban".into(),
                    false,
                    Entity::IbanCode
                ),
            ]
        );
    }

    #[test]
    fn mask_in_place_keeps_structure_and_other_values() {
        let mut value = payload();
        let masked = Scanner::default().mask_json(&mut value, &MaskPolicy::default());
        assert_eq!(masked.len(), 6);
        assert_eq!(
            value,
            json!({
                "to": "<EMAIL_ADDRESS>",
                "cc": ["<EMAIL_ADDRESS>", "no pii here"],
                "amount": 12.5,
                "card": "<CREDIT_CARD>",
                "auth": {"password": "<GENERIC_SECRET>", "token_type": "bearer"},
                "by/email": {"<EMAIL_ADDRESS>": {"iban": "<IBAN_CODE>"}}
            })
        );
    }

    #[test]
    fn masked_keys_never_collide_and_policy_restriction_applies() {
        let mut value = json!({"a@example.org": 1, "b@example.org": 2, "c": "4111111111111111"});
        let policy = MaskPolicy::default().only([Entity::EmailAddress]);
        let masked = Scanner::default().mask_json(&mut value, &policy);
        assert_eq!(masked.len(), 2);
        assert_eq!(
            value,
            json!({"<EMAIL_ADDRESS>": 1, "<EMAIL_ADDRESS>~2": 2, "c": "4111111111111111"})
        );
        let mut value = json!({"card": "4111 1111 1111 1111"});
        Scanner::default().mask_json(&mut value, &MaskPolicy::new(MaskOperator::KeepLast4));
        assert_eq!(value, json!({"card": "**** **** **** 1111"}));
    }
}
