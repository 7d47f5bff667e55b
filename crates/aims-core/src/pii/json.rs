//! Scanning and masking JSON values (tool-call arguments and results).
//!
//! Every string is scanned, and so is every number's decimal text (a card number sent as a JSON
//! number is still a card number). Object keys are scanned too, because maps keyed by e-mail
//! address or account number are common in tool results; a finding in a key is reported with
//! `in_key` set and the pointer of the member. A member whose name says it holds a secret
//! (`password`, `apiKey`, `client_secret`, ...) has its whole value reported as
//! `GENERIC_SECRET` when nothing more specific is found in it.
//!
//! Tool-call arguments are small and mostly hold nothing, so the walks cost nothing per value
//! beyond the scan itself: pointers are written only for findings, numbers are formatted on
//! the stack, and masking rebuilds an object only when one of its keys changes.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

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

/// Where the walk is: a chain of reference tokens on the walk's own stack. Most values hold
/// nothing, so the RFC 6901 pointer is written out only when a finding is recorded.
#[derive(Debug, Clone, Copy)]
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a str),
    Item(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn pointer(&self) -> String {
        let mut pointer = String::new();
        self.write_to(&mut pointer);
        pointer
    }

    /// Appends this path's tokens, each as `/token` with `~` as `~0` and `/` as `~1`.
    fn write_to(&self, pointer: &mut String) {
        match self {
            Path::Root => {}
            Path::Member(parent, name) => {
                parent.write_to(pointer);
                pointer.push('/');
                for c in name.chars() {
                    match c {
                        '~' => pointer.push_str("~0"),
                        '/' => pointer.push_str("~1"),
                        _ => pointer.push(c),
                    }
                }
            }
            Path::Item(parent, index) => {
                parent.write_to(pointer);
                // Writing to a String cannot fail.
                let _ = write!(pointer, "/{index}");
            }
        }
    }
}

/// Appends `findings`, all at `path`, to `out`.
fn record(findings: Vec<Finding>, path: &Path<'_>, in_key: bool, out: &mut Vec<JsonFinding>) {
    if findings.is_empty() {
        return;
    }
    let pointer = path.pointer();
    out.extend(findings.into_iter().map(|finding| JsonFinding {
        pointer: pointer.clone(),
        in_key,
        finding,
    }));
}

/// A number's decimal text as its `Display` writes it, on the stack: a 64-bit integer or a
/// finite float never takes more than 24 bytes.
struct NumberText {
    bytes: [u8; 40],
    len: usize,
}

impl fmt::Write for NumberText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let end = self.len + text.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Calls `use_text` with `number`'s decimal text (what `number.to_string()` returns), without
/// allocating unless the text is unusually long (serde_json's arbitrary-precision numbers).
fn with_number_text<R>(number: &Number, use_text: impl FnOnce(&str) -> R) -> R {
    let mut stack = NumberText {
        bytes: [0; 40],
        len: 0,
    };
    if write!(stack, "{number}").is_ok() {
        if let Ok(text) = std::str::from_utf8(&stack.bytes[..stack.len]) {
            return use_text(text);
        }
    }
    use_text(&number.to_string())
}

impl Scanner {
    /// Every finding in `value`, in document order.
    pub fn scan_json(&self, value: &Value) -> Vec<JsonFinding> {
        let mut out = Vec::new();
        self.walk(value, None, &Path::Root, &mut out);
        out
    }

    fn walk(&self, value: &Value, key: Option<&str>, path: &Path<'_>, out: &mut Vec<JsonFinding>) {
        match value {
            Value::String(text) => record(self.scan_member(key, text), path, false, out),
            Value::Number(number) => {
                let findings = with_number_text(number, |text| self.scan(text));
                record(findings, path, false, out);
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.walk(item, None, &Path::Item(path, index), out);
                }
            }
            Value::Object(members) => {
                for (name, item) in members {
                    let member = Path::Member(path, name);
                    record(self.scan(name), &member, true, out);
                    self.walk(item, Some(name), &member, out);
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
        self.mask_walk(value, None, &Path::Root, policy, &mut out);
        out
    }

    fn mask_walk(
        &self,
        value: &mut Value,
        key: Option<&str>,
        path: &Path<'_>,
        policy: &MaskPolicy,
        out: &mut Vec<JsonFinding>,
    ) {
        match value {
            Value::String(text) => {
                if let Some(masked) = self.mask_text(key, text, path, false, policy, out) {
                    *text = masked;
                }
            }
            Value::Number(number) => {
                let masked = with_number_text(number, |text| {
                    self.mask_text(None, text, path, false, policy, out)
                });
                if let Some(masked) = masked {
                    *value = Value::String(masked);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    self.mask_walk(item, None, &Path::Item(path, index), policy, out);
                }
            }
            Value::Object(members) => {
                // Keys rarely hold PII: the map is rebuilt only when one does.
                let mut new_names = Vec::new();
                for (index, (name, item)) in members.iter_mut().enumerate() {
                    let member = Path::Member(path, name);
                    if let Some(new_name) = self.mask_text(None, name, &member, true, policy, out) {
                        new_names.push((index, new_name));
                    }
                    self.mask_walk(item, Some(name), &member, policy, out);
                }
                if !new_names.is_empty() {
                    *members = rename_members(std::mem::take(members), new_names);
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// The masked text when the policy covers a finding in it, recording those findings.
    fn mask_text(
        &self,
        key: Option<&str>,
        text: &str,
        path: &Path<'_>,
        in_key: bool,
        policy: &MaskPolicy,
        out: &mut Vec<JsonFinding>,
    ) -> Option<String> {
        let mut findings = self.scan_member(key, text);
        findings.retain(|finding| policy.covers(finding.entity));
        if findings.is_empty() {
            return None;
        }
        let masked = policy.apply(text, &findings);
        record(findings, path, in_key, out);
        Some(masked)
    }
}

/// `members` in their order with the members at the given positions renamed (`new_names` in
/// ascending position order). A name already taken by an earlier member gets the first free
/// `~2`, `~3`, ... suffix, so no member is lost.
fn rename_members(
    members: Map<String, Value>,
    new_names: Vec<(usize, String)>,
) -> Map<String, Value> {
    let mut new_names = new_names.into_iter().peekable();
    let mut renamed = Map::with_capacity(members.len());
    for (index, (name, item)) in members.into_iter().enumerate() {
        let name = match new_names.next_if(|(at, _)| *at == index) {
            Some((_, new_name)) => new_name,
            None => name,
        };
        let unique = if renamed.contains_key(&name) {
            (2..)
                .map(|suffix| format!("{name}~{suffix}"))
                .find(|candidate| !renamed.contains_key(candidate))
                .unwrap_or(name)
        } else {
            name
        };
        renamed.insert(unique, item);
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::{Entity, HashKey, MaskOperator, ScannerConfig};
    use proptest::prelude::*;
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

    #[test]
    fn numbers_are_scanned_as_their_display_text() {
        for number in [
            json!(4111111111111111u64),
            json!(-5),
            json!(12.5),
            json!(1e300),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(-1.2345678901234567e-300),
        ] {
            let Value::Number(number) = number else {
                unreachable!()
            };
            assert_eq!(with_number_text(&number, str::to_owned), number.to_string());
        }
    }

    /// The walks written the plain way, as they were before pointers became lazy: per-string
    /// `scan`/`scan_member`, a pointer built for every value, every object rebuilt.
    mod oracle {
        use super::*;

        fn token(pointer: &str, token: &str) -> String {
            format!("{pointer}/{}", token.replace('~', "~0").replace('/', "~1"))
        }

        fn push(out: &mut Vec<JsonFinding>, pointer: &str, in_key: bool, found: Vec<Finding>) {
            out.extend(found.into_iter().map(|finding| JsonFinding {
                pointer: pointer.to_owned(),
                in_key,
                finding,
            }));
        }

        pub fn scan(
            scanner: &Scanner,
            value: &Value,
            key: Option<&str>,
            pointer: &str,
            out: &mut Vec<JsonFinding>,
        ) {
            match value {
                Value::String(text) => push(out, pointer, false, scanner.scan_member(key, text)),
                Value::Number(number) => {
                    push(out, pointer, false, scanner.scan(&number.to_string()));
                }
                Value::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        scan(
                            scanner,
                            item,
                            None,
                            &token(pointer, &index.to_string()),
                            out,
                        );
                    }
                }
                Value::Object(members) => {
                    for (name, item) in members {
                        let member = token(pointer, name);
                        push(out, &member, true, scanner.scan(name));
                        scan(scanner, item, Some(name), &member, out);
                    }
                }
                Value::Null | Value::Bool(_) => {}
            }
        }

        fn mask_text(
            scanner: &Scanner,
            policy: &MaskPolicy,
            key: Option<&str>,
            text: &str,
            pointer: &str,
            in_key: bool,
            out: &mut Vec<JsonFinding>,
        ) -> Option<String> {
            let covered: Vec<Finding> = scanner
                .scan_member(key, text)
                .into_iter()
                .filter(|finding| policy.covers(finding.entity))
                .collect();
            if covered.is_empty() {
                return None;
            }
            let masked = policy.apply(text, &covered);
            push(out, pointer, in_key, covered);
            Some(masked)
        }

        pub fn mask(
            scanner: &Scanner,
            policy: &MaskPolicy,
            value: &Value,
            key: Option<&str>,
            pointer: &str,
            out: &mut Vec<JsonFinding>,
        ) -> Value {
            match value {
                Value::String(text) => Value::String(
                    mask_text(scanner, policy, key, text, pointer, false, out)
                        .unwrap_or_else(|| text.clone()),
                ),
                Value::Number(number) => {
                    let text = number.to_string();
                    mask_text(scanner, policy, None, &text, pointer, false, out)
                        .map_or_else(|| value.clone(), Value::String)
                }
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(index, item)| {
                            let item_pointer = token(pointer, &index.to_string());
                            mask(scanner, policy, item, None, &item_pointer, out)
                        })
                        .collect(),
                ),
                Value::Object(members) => {
                    let mut masked = Map::new();
                    for (name, item) in members {
                        let member = token(pointer, name);
                        let new_name = mask_text(scanner, policy, None, name, &member, true, out)
                            .unwrap_or_else(|| name.clone());
                        let item = mask(scanner, policy, item, Some(name), &member, out);
                        let mut unique = new_name.clone();
                        let mut suffix = 2;
                        while masked.contains_key(&unique) {
                            unique = format!("{new_name}~{suffix}");
                            suffix += 1;
                        }
                        masked.insert(unique, item);
                    }
                    Value::Object(masked)
                }
                Value::Null | Value::Bool(_) => value.clone(),
            }
        }
    }

    /// Pieces of text: PII of several kinds, a secret assignment, deny-list words (one shorter
    /// than every pattern), keyed-secret-looking values, pointer-escaped characters, filler.
    const FRAGMENTS: &[&str] = &[
        "jane.doe@example.org",
        "4111 1111 1111 1111",
        "4111111111111111",
        "DE89 3704 0044 0532 0130 00",
        "536-90-4399",
        "10.0.0.7",
        "fe80::1ff:fe23:4567:890a",
        "+44 20 7946 0958",
        "AKIAIOSFODNN7EXAMPLE",
        "https://example.com/a?b=c",
        "postgres://admin:s3cr3t@db",
        "password=Xk29_fLq8vZ",
        "hunter22",
        "Xk29_fLq8vZ",
        "Project Falcon",
        "Z",
        "EUR",
        "o-1",
        "ord-1234",
        "a/b~c",
        "é",
        "",
    ];

    /// Member names: secret-named ones, ones holding PII (two that mask to the same tag and
    /// the tag itself, so masked names collide), and ones that need pointer escapes.
    const KEYS: &[&str] = &[
        "password",
        "apiKey",
        "client_secret",
        "note",
        "a/b",
        "x~y",
        "jane.doe@example.org",
        "bob@example.net",
        "<EMAIL_ADDRESS>",
        "<EMAIL_ADDRESS>~2",
        "10.0.0.7",
        "Z",
        "",
    ];

    fn text() -> impl Strategy<Value = String> {
        let piece = (
            prop::sample::select(FRAGMENTS),
            prop::sample::select(&[" ", "", ", ", "/"][..]),
        );
        prop::collection::vec(piece, 0..4).prop_map(|pieces| {
            pieces
                .into_iter()
                .map(|(fragment, separator)| format!("{fragment}{separator}"))
                .collect()
        })
    }

    fn number() -> impl Strategy<Value = Value> {
        prop_oneof![
            prop::sample::select(vec![
                json!(50),
                json!(4111111111111111u64),
                json!(4155550132u64),
                json!(536904399),
                json!(12.5),
                json!(-7),
            ]),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            prop::num::f64::NORMAL.prop_map(Value::from),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![prop::sample::select(KEYS).prop_map(str::to_owned), text()]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            number(),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    fn policies() -> Vec<MaskPolicy> {
        let key = HashKey::new(*b"0123456789abcdef").unwrap();
        vec![
            MaskPolicy::default(),
            MaskPolicy::default().only([Entity::EmailAddress, Entity::DenyList]),
            MaskPolicy::new(MaskOperator::KeepLast4),
            MaskPolicy::new(MaskOperator::Hash(key)),
            MaskPolicy::new(MaskOperator::Remove),
        ]
    }

    proptest! {
        #[test]
        fn walks_agree_with_the_per_string_scan(
            value in json_value(),
            policy in prop::sample::select(policies()),
        ) {
            let scanner = Scanner::new(ScannerConfig {
                entities: None,
                deny_list: vec!["Project Falcon".into(), "Z".into()],
            })
            .unwrap();
            let mut expected = Vec::new();
            oracle::scan(&scanner, &value, None, "", &mut expected);
            prop_assert_eq!(scanner.scan_json(&value), expected);

            let mut expected = Vec::new();
            let expected_value = oracle::mask(&scanner, &policy, &value, None, "", &mut expected);
            let mut masked = value.clone();
            prop_assert_eq!(scanner.mask_json(&mut masked, &policy), expected);
            // `Value`'s equality ignores member order: compare the serialized text too.
            prop_assert_eq!(masked.to_string(), expected_value.to_string());
            prop_assert_eq!(masked, expected_value);
        }
    }
}
