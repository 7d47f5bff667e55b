//! Evidence (clause 7.5): documented information that shows a control works, pinned by hash.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One item of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Stable identifier, e.g. `EV-001`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Where it is: a URL, or a path relative to the register directory.
    pub uri: String,
    /// SHA-256 of the content, 64 lowercase hex digits.
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sha256: String,
    /// When it was collected (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub collected_at: OffsetDateTime,
    /// When it stops being valid, if ever (RFC 3339).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub expires_at: Option<OffsetDateTime>,
    /// The Annex A controls it supports.
    pub control_ids: Vec<String>,
    /// Whether it is in force.
    pub status: EvidenceStatus,
}

impl Evidence {
    /// Whether `sha256` is 64 lowercase hex digits.
    pub fn has_valid_digest(&self) -> bool {
        self.sha256.len() == 64
            && self
                .sha256
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    }

    /// Whether it is current but past its expiry at `now`.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.status == EvidenceStatus::Current && self.expires_at.is_some_and(|at| now > at)
    }
}

/// Evidence status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    /// In force.
    Current,
    /// Replaced by newer evidence.
    Superseded,
    /// Withdrawn (found wrong or incomplete).
    Withdrawn,
}
