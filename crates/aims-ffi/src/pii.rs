//! The PII scanner object: finds validated personal data and secrets in text and JSON, and
//! masks them. Offsets are UTF-16 code units, the unit of Kotlin and Java strings and of
//! Swift's `String.utf16` view.

use std::collections::BTreeSet;
use std::sync::Arc;

use aims_core::pii::{self as core_pii, Entity, HashKey, MaskPolicy, ScannerConfig};
use serde_json::Value;

use crate::error::AimsError;
use crate::json;

/// What replaces a finding.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum MaskOperator {
    /// The entity name in angle brackets: `<EMAIL_ADDRESS>`.
    Tag,
    /// Every character replaced by `with` (one character), keeping the length visible.
    Mask {
        /// The masking character.
        with: String,
    },
    /// All letters and digits but the last four masked: `**** **** **** 1111`.
    KeepLast4,
    /// A keyed hash token `<EMAIL_ADDRESS:9f86d081884c7d65>` (HMAC-SHA256 under `key`), so
    /// equal values can be correlated without being revealed.
    Hash {
        /// The secret key, at least 16 random bytes.
        key: Vec<u8>,
    },
    /// The finding is deleted.
    Remove,
}

/// One finding in a text.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Finding {
    /// The entity name, e.g. `EMAIL_ADDRESS`, `CREDIT_CARD`.
    pub entity: String,
    /// UTF-16 offset of the first code unit.
    pub start: u64,
    /// UTF-16 offset one past the last code unit.
    pub end: u64,
    /// A checksum or parser confirmed it.
    pub validated: bool,
}

/// One finding inside a JSON value.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JsonFinding {
    /// RFC 6901 pointer to the string, number or member that holds it.
    pub pointer: String,
    /// The finding is in the member's key, not its value.
    pub in_key: bool,
    /// The entity name.
    pub entity: String,
    /// Whether it was validated.
    pub validated: bool,
}

/// A compiled PII scanner; build it once and share it.
#[derive(Debug, uniffi::Object)]
pub struct Scanner {
    scanner: core_pii::Scanner,
}

#[uniffi::export]
impl Scanner {
    /// A scanner for `entities` (entity names; none means all) and extra `deny_list` words.
    #[uniffi::constructor(default(entities = None, deny_list = []))]
    pub fn new(
        entities: Option<Vec<String>>,
        deny_list: Vec<String>,
    ) -> Result<Arc<Self>, AimsError> {
        let entities = entities.map(|names| parse_entities(&names)).transpose()?;
        let scanner = core_pii::Scanner::new(ScannerConfig {
            entities,
            deny_list,
        })?;
        Ok(Arc::new(Self { scanner }))
    }

    /// Every finding in `text`, in order, never overlapping.
    pub fn scan(&self, text: String) -> Vec<Finding> {
        self.scanner
            .scan(&text)
            .into_iter()
            .map(|finding| Finding {
                entity: finding.entity.as_str().to_owned(),
                start: utf16_offset(&text, finding.start),
                end: utf16_offset(&text, finding.end),
                validated: finding.validated,
            })
            .collect()
    }

    /// `text` with the findings of `entities` (none: all) replaced by `operator` (default `Tag`).
    #[uniffi::method(default(operator = None, entities = None))]
    pub fn mask(
        &self,
        text: String,
        operator: Option<MaskOperator>,
        entities: Option<Vec<String>>,
    ) -> Result<String, AimsError> {
        Ok(self.scanner.mask(&text, &mask_policy(operator, entities)?))
    }

    /// Every finding in a JSON value (text), in document order.
    pub fn scan_json(&self, value_json: String) -> Result<Vec<JsonFinding>, AimsError> {
        let value: Value = json::parse("value_json", &value_json)?;
        Ok(self
            .scanner
            .scan_json(&value)
            .into_iter()
            .map(json_finding)
            .collect())
    }

    /// A JSON value (text) with the findings of `entities` (none: all) masked by `operator`
    /// (default `Tag`), as JSON text.
    #[uniffi::method(default(operator = None, entities = None))]
    pub fn mask_json(
        &self,
        value_json: String,
        operator: Option<MaskOperator>,
        entities: Option<Vec<String>>,
    ) -> Result<String, AimsError> {
        let mut value: Value = json::parse("value_json", &value_json)?;
        self.scanner
            .mask_json(&mut value, &mask_policy(operator, entities)?);
        Ok(value.to_string())
    }
}

fn json_finding(found: core_pii::JsonFinding) -> JsonFinding {
    JsonFinding {
        pointer: found.pointer,
        in_key: found.in_key,
        entity: found.finding.entity.as_str().to_owned(),
        validated: found.finding.validated,
    }
}

fn parse_entities(names: &[String]) -> Result<BTreeSet<Entity>, AimsError> {
    Ok(names
        .iter()
        .map(|name| name.parse::<Entity>())
        .collect::<Result<_, _>>()?)
}

fn mask_policy(
    operator: Option<MaskOperator>,
    entities: Option<Vec<String>>,
) -> Result<MaskPolicy, AimsError> {
    let operator = match operator.unwrap_or(MaskOperator::Tag) {
        MaskOperator::Tag => core_pii::MaskOperator::Tag,
        MaskOperator::Mask { with } => {
            let mut chars = with.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => core_pii::MaskOperator::Mask(c),
                _ => {
                    return Err(AimsError::Pii {
                        detail: format!(
                            "the mask must be one character, got {} characters",
                            with.chars().count()
                        ),
                    })
                }
            }
        }
        MaskOperator::KeepLast4 => core_pii::MaskOperator::KeepLast4,
        MaskOperator::Hash { key } => core_pii::MaskOperator::Hash(HashKey::new(key)?),
        MaskOperator::Remove => core_pii::MaskOperator::Remove,
    };
    let policy = MaskPolicy::new(operator);
    Ok(match entities {
        Some(names) => policy.only(parse_entities(&names)?),
        None => policy,
    })
}

/// The UTF-16 offset of byte offset `byte` of `text` (a char boundary: findings are on them).
fn utf16_offset(text: &str, byte: usize) -> u64 {
    text.get(..byte)
        .map_or(0, |prefix| prefix.encode_utf16().count() as u64)
}
