//! Errors of the PII module. None of them carries a scanned value: only names and sizes.

/// What can go wrong building a scanner or a masking policy.
#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    /// An entity name that is not one of [`super::Entity::ALL`]'s names.
    #[error("unknown PII entity `{0}`: expected one of the upper-case names such as EMAIL_ADDRESS, CREDIT_CARD, IBAN_CODE")]
    UnknownEntity(String),
    /// A built-in pattern failed to compile (a defect, caught by the tests).
    #[error("PII pattern for {entity} does not compile: {reason}")]
    Pattern {
        /// The entity whose pattern failed.
        entity: super::Entity,
        /// The regex engine's message.
        reason: String,
    },
    /// The combined prefilter of the built-in patterns failed to compile (a defect).
    #[error("PII prefilter does not compile: {0}")]
    Prefilter(String),
    /// A deny-list entry is empty or only whitespace.
    #[error("deny-list entry {index} is empty")]
    EmptyDenyWord {
        /// The entry's position in the list.
        index: usize,
    },
    /// The deny list could not be compiled.
    #[error("deny list does not compile: {0}")]
    DenyList(String),
    /// The keyed-hash operator was given an empty key.
    #[error("the hash masking key is empty: give at least 16 random bytes")]
    EmptyHashKey,
}
