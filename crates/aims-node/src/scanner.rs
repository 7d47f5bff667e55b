//! The `Scanner` class: validated PII and secret detection and masking. Offsets are given in
//! UTF-16 code units, JavaScript's string indices, so `text.slice(start, end)` is the finding.

use std::collections::BTreeSet;

use aims_core::pii::{self, Entity, HashKey, MaskOperator, MaskPolicy, ScannerConfig};
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::errors;

/// What a scanner looks for.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ScannerOptions {
    /// Entity names to detect (e.g. `EMAIL_ADDRESS`); all of them when absent.
    pub entities: Option<Vec<String>>,
    /// Extra words or phrases to report as `DENY_LIST` (case-insensitive, whole words).
    pub deny_list: Option<Vec<String>>,
}

/// How findings are replaced.
#[napi(object)]
#[derive(Debug, Default)]
pub struct MaskOptions {
    /// `tag` (default: `<EMAIL_ADDRESS>`), `mask` (same length, `*`), `keep_last4`, `hash`
    /// (keyed HMAC token; needs `hashKey`) or `remove`.
    pub operator: Option<String>,
    /// The key for the `hash` operator.
    pub hash_key: Option<String>,
    /// Mask only these entities; others are left as they are.
    pub entities: Option<Vec<String>>,
}

/// One piece of PII or one secret found in a text.
#[napi(object)]
#[derive(Debug)]
pub struct PiiFinding {
    /// The entity name, e.g. `CREDIT_CARD`.
    pub entity: String,
    /// UTF-16 index of the first code unit.
    pub start: u32,
    /// UTF-16 index one past the last code unit.
    pub end: u32,
    /// A checksum, parser or structure check confirmed it.
    pub validated: bool,
}

/// A finding inside a JSON value.
#[napi(object)]
#[derive(Debug)]
pub struct JsonPiiFinding {
    /// RFC 6901 pointer to the string, number or member that holds the finding.
    pub pointer: String,
    /// True when the finding is in the member's key rather than in its value.
    pub in_key: bool,
    /// The entity name.
    pub entity: String,
    /// Byte offset of the finding in that string's UTF-8 form.
    pub start: u32,
    /// Byte offset one past the finding in that string's UTF-8 form.
    pub end: u32,
    /// A checksum, parser or structure check confirmed it.
    pub validated: bool,
}

/// A JSON value masked, with what was found in it.
#[napi(object)]
#[derive(Debug)]
pub struct MaskedJson {
    /// The value with every covered finding replaced.
    pub value: Value,
    /// What was found (before masking).
    pub findings: Vec<JsonPiiFinding>,
}

fn entities(env: &Env, names: &[String]) -> napi::Result<BTreeSet<Entity>> {
    names
        .iter()
        .map(|name| {
            name.parse::<Entity>()
                .map_err(|err| errors::invalid(env, err.to_string()))
        })
        .collect()
}

fn mask_policy(env: &Env, options: Option<MaskOptions>) -> napi::Result<MaskPolicy> {
    let options = options.unwrap_or_default();
    let operator = match options.operator.as_deref().unwrap_or("tag") {
        "tag" => MaskOperator::Tag,
        "mask" => MaskOperator::Mask('*'),
        "keep_last4" => MaskOperator::KeepLast4,
        "remove" => MaskOperator::Remove,
        "hash" => {
            let key = options.hash_key.as_deref().unwrap_or_default().as_bytes();
            MaskOperator::Hash(
                HashKey::new(key).map_err(|err| errors::invalid(env, err.to_string()))?,
            )
        }
        other => {
            return Err(errors::invalid(
                env,
                format!(
                "unknown mask operator `{other}`: expected tag, mask, keep_last4, hash or remove"
            ),
            ))
        }
    };
    let policy = MaskPolicy::new(operator);
    Ok(match options.entities {
        Some(names) => policy.only(entities(env, &names)?),
        None => policy,
    })
}

/// The UTF-16 index of a UTF-8 byte offset of `text` (findings fall on char boundaries).
fn utf16_index(text: &str, byte_offset: usize) -> u32 {
    let units: usize = text
        .get(..byte_offset)
        .map_or(0, |prefix| prefix.encode_utf16().count());
    u32::try_from(units).unwrap_or(u32::MAX)
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// A compiled PII and secret detector; build it once and reuse it.
#[napi]
#[derive(Debug)]
pub struct Scanner {
    inner: pii::Scanner,
}

#[napi]
impl Scanner {
    /// A scanner for the given entities (all by default). Throws `AimsError` for an unknown
    /// entity name or an empty deny-list entry.
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<ScannerOptions>) -> napi::Result<Self> {
        let options = options.unwrap_or_default();
        let config = ScannerConfig {
            entities: options
                .entities
                .map(|names| entities(&env, &names))
                .transpose()?,
            deny_list: options.deny_list.unwrap_or_default(),
        };
        let inner =
            pii::Scanner::new(config).map_err(|err| errors::invalid(&env, err.to_string()))?;
        Ok(Scanner { inner })
    }

    /// Every entity name the scanner knows.
    #[napi]
    pub fn entities() -> Vec<String> {
        Entity::ALL
            .into_iter()
            .map(|entity| entity.as_str().to_owned())
            .collect()
    }

    /// Every finding in `text`, in order.
    #[napi]
    pub fn scan(&self, text: String) -> Vec<PiiFinding> {
        self.inner
            .scan(&text)
            .into_iter()
            .map(|finding| PiiFinding {
                entity: finding.entity.as_str().to_owned(),
                start: utf16_index(&text, finding.start),
                end: utf16_index(&text, finding.end),
                validated: finding.validated,
            })
            .collect()
    }

    /// `text` with its findings replaced as `options` say (type tags by default).
    #[napi]
    pub fn mask(
        &self,
        env: Env,
        text: String,
        options: Option<MaskOptions>,
    ) -> napi::Result<String> {
        Ok(self.inner.mask(&text, &mask_policy(&env, options)?))
    }

    /// Every finding in a JSON value (strings, numbers' decimal text, object keys).
    #[napi]
    pub fn scan_json(&self, value: Value) -> Vec<JsonPiiFinding> {
        self.inner
            .scan_json(&value)
            .into_iter()
            .map(json_finding)
            .collect()
    }

    /// A JSON value with its findings replaced, and what was found.
    #[napi]
    pub fn mask_json(
        &self,
        env: Env,
        value: Value,
        options: Option<MaskOptions>,
    ) -> napi::Result<MaskedJson> {
        let policy = mask_policy(&env, options)?;
        let mut value = value;
        let findings = self.inner.mask_json(&mut value, &policy);
        Ok(MaskedJson {
            value,
            findings: findings.into_iter().map(json_finding).collect(),
        })
    }
}

fn json_finding(found: pii::JsonFinding) -> JsonPiiFinding {
    JsonPiiFinding {
        pointer: found.pointer,
        in_key: found.in_key,
        entity: found.finding.entity.as_str().to_owned(),
        start: to_u32(found.finding.start),
        end: to_u32(found.finding.end),
        validated: found.finding.validated,
    }
}
