//! The AI policy (clause 5.2, A.2): its version, approval and review date.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::Date;

use super::datetime::calendar_date;
use super::signoff::SignOff;

/// The organization's AI policy, as a register entry (the text lives at `document_uri`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiPolicy {
    /// Title.
    pub title: String,
    /// Version, e.g. `1.2`.
    pub version: String,
    /// Where the policy text is.
    pub document_uri: String,
    /// The commitments it makes (5.2: to meet requirements, to improve continually).
    #[serde(default)]
    pub commitments: Vec<String>,
    /// Other organizational policies it aligns with (A.2.3).
    #[serde(default)]
    pub related_policies: Vec<String>,
    /// Top management's approval.
    pub approval: SignOff,
    /// When it must next be reviewed (A.2.4; YYYY-MM-DD).
    #[serde(with = "calendar_date")]
    #[schemars(with = "String", extend("format" = "date"))]
    pub review_due: Date,
}
