//! Masking: what replaces a finding. A [`MaskPolicy`] has a default operator, optional
//! per-entity operators, and optionally the set of entities it applies to.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use super::{Entity, Finding, PiiError};

/// How many hex digits of the HMAC a hash token keeps (64 bits: collisions are negligible
/// within one log, and the token stays short).
const HASH_TOKEN_HEX: usize = 16;

/// A secret key for [`MaskOperator::Hash`]. Its bytes never appear in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct HashKey(Vec<u8>);

impl HashKey {
    /// A key from raw bytes; empty keys are refused.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, PiiError> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Err(PiiError::EmptyHashKey);
        }
        Ok(Self(bytes))
    }
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashKey({} bytes)", self.0.len())
    }
}

/// What replaces a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaskOperator {
    /// The entity name in angle brackets: `<EMAIL_ADDRESS>`.
    Tag,
    /// Every character replaced by this one, so the length stays visible: `****************`.
    Mask(char),
    /// Every letter and digit masked with `*` except the last four; separators kept:
    /// `**** **** **** 1111`.
    KeepLast4,
    /// A keyed hash token, `<EMAIL_ADDRESS:9f86d081884c7d65>`: HMAC-SHA256 of the value under
    /// the key, so the same value masks the same way across a log and can be correlated
    /// without being revealed.
    Hash(HashKey),
    /// Nothing: the finding is deleted.
    Remove,
}

impl MaskOperator {
    /// The replacement for `value`, a finding of `entity`.
    pub fn replace(&self, entity: Entity, value: &str) -> String {
        match self {
            MaskOperator::Tag => format!("<{entity}>"),
            MaskOperator::Mask(c) => value.chars().map(|_| *c).collect(),
            MaskOperator::KeepLast4 => keep_last4(value),
            MaskOperator::Hash(key) => {
                let mac = crate::canonical::keyed_hash(&key.0, &Value::String(value.to_string()));
                format!("<{entity}:{}>", &mac[..HASH_TOKEN_HEX])
            }
            MaskOperator::Remove => String::new(),
        }
    }
}

fn keep_last4(value: &str) -> String {
    let alphanumerics = value.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen + 4 > alphanumerics {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Which findings to mask, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskPolicy {
    operator: MaskOperator,
    per_entity: BTreeMap<Entity, MaskOperator>,
    only: Option<BTreeSet<Entity>>,
}

impl Default for MaskPolicy {
    /// Type tags for every entity.
    fn default() -> Self {
        Self::new(MaskOperator::Tag)
    }
}

impl MaskPolicy {
    /// Masks every entity with `operator`.
    pub fn new(operator: MaskOperator) -> Self {
        Self {
            operator,
            per_entity: BTreeMap::new(),
            only: None,
        }
    }

    /// Restricts the policy to `entities`: other findings are left as they are.
    pub fn only(mut self, entities: impl IntoIterator<Item = Entity>) -> Self {
        self.only = Some(entities.into_iter().collect());
        self
    }

    /// Uses `operator` for `entity` instead of the default operator.
    pub fn with_operator(mut self, entity: Entity, operator: MaskOperator) -> Self {
        self.per_entity.insert(entity, operator);
        self
    }

    /// The operator for `entity`, or `None` when the policy leaves the entity alone.
    pub fn operator_for(&self, entity: Entity) -> Option<&MaskOperator> {
        if self
            .only
            .as_ref()
            .is_some_and(|only| !only.contains(&entity))
        {
            return None;
        }
        Some(self.per_entity.get(&entity).unwrap_or(&self.operator))
    }

    /// Whether the policy masks findings of `entity`.
    pub fn covers(&self, entity: Entity) -> bool {
        self.operator_for(entity).is_some()
    }

    /// `text` with the covered `findings` (sorted, non-overlapping, as [`super::Scanner::scan`]
    /// returns them) replaced.
    pub fn apply(&self, text: &str, findings: &[Finding]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut copied_to = 0;
        for finding in findings {
            let Some(operator) = self.operator_for(finding.entity) else {
                continue;
            };
            let (Some(before), Some(value)) = (
                text.get(copied_to..finding.start),
                text.get(finding.start..finding.end),
            ) else {
                continue;
            };
            out.push_str(before);
            out.push_str(&operator.replace(finding.entity, value));
            copied_to = finding.end;
        }
        out.push_str(text.get(copied_to..).unwrap_or_default());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::Scanner;

    const TEXT: &str = "card 4111 1111 1111 1111 from jane@example.org";

    #[test]
    fn operators() {
        let scanner = Scanner::default();
        let mask = |policy: MaskPolicy| scanner.mask(TEXT, &policy);
        assert_eq!(
            mask(MaskPolicy::default()),
            "card <CREDIT_CARD> from <EMAIL_ADDRESS>"
        );
        assert_eq!(
            mask(MaskPolicy::new(MaskOperator::KeepLast4)),
            "card **** **** **** 1111 from ****@******e.org"
        );
        assert_eq!(
            mask(MaskPolicy::new(MaskOperator::Mask('#'))),
            "card ################### from ################"
        );
        assert_eq!(mask(MaskPolicy::new(MaskOperator::Remove)), "card  from ");
        assert_eq!(
            mask(
                MaskPolicy::default()
                    .only([Entity::CreditCard])
                    .with_operator(Entity::CreditCard, MaskOperator::KeepLast4)
            ),
            "card **** **** **** 1111 from jane@example.org"
        );
    }

    #[test]
    fn hash_tokens_are_stable_per_key_and_value() {
        let key = HashKey::new(*b"0123456789abcdef").unwrap();
        let other = HashKey::new(*b"fedcba9876543210").unwrap();
        let hash = MaskOperator::Hash(key);
        let a = hash.replace(Entity::EmailAddress, "jane@example.org");
        assert_eq!(a, hash.replace(Entity::EmailAddress, "jane@example.org"));
        assert_ne!(a, hash.replace(Entity::EmailAddress, "john@example.org"));
        assert_ne!(
            a,
            MaskOperator::Hash(other).replace(Entity::EmailAddress, "jane@example.org")
        );
        assert!(a.starts_with("<EMAIL_ADDRESS:") && a.len() == "<EMAIL_ADDRESS:>".len() + 16);
        assert!(matches!(
            HashKey::new(Vec::new()),
            Err(PiiError::EmptyHashKey)
        ));
        let debug = format!(
            "{:?}",
            MaskOperator::Hash(HashKey::new(*b"supersecretkey!!").unwrap())
        );
        assert!(!debug.contains("supersecret"), "{debug}");
    }
}
