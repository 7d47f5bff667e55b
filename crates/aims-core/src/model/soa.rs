//! The Statement of Applicability (clause 6.1.3): one entry per Annex A control saying whether
//! it applies, why, how far it is implemented and by what.
//!
//! `implemented_by` entries name what implements a control with an explicit prefix:
//! `policy:<rule-id>` (a guard policy rule), `checkpoint:<id>` (an oversight checkpoint in the
//! register) or `procedure:<name>` (a documented procedure). Policy rule ids are not checked
//! against a policy file by register validation; see [`ImplementationRef`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One row of the Statement of Applicability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoaEntry {
    /// The Annex A control, e.g. `A.6.2.8`.
    pub control_id: String,
    /// Whether the control is included (true) or excluded (false).
    pub applicable: bool,
    /// Why the control is included or excluded; required either way.
    pub justification: String,
    /// How far the control is implemented.
    pub implementation_status: ImplementationStatus,
    /// What implements it: `policy:<rule-id>`, `checkpoint:<id>` or `procedure:<name>`.
    #[serde(default)]
    pub implemented_by: Vec<String>,
    /// Ids of evidence items in the register that show it works.
    #[serde(default)]
    pub evidence_ids: Vec<String>,
    /// Who is accountable for the control.
    pub owner: String,
    /// When the entry was last reviewed (RFC 3339).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub reviewed_at: Option<OffsetDateTime>,
    /// Who last reviewed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
}

/// Implementation status, as in OSCAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImplementationStatus {
    /// Fully implemented.
    Implemented,
    /// Partly implemented.
    Partial,
    /// Planned, not yet implemented.
    Planned,
    /// Met by an alternative control.
    Alternative,
    /// Not applicable (the control is excluded).
    NotApplicable,
}

/// A parsed `implemented_by` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImplementationRef<'a> {
    /// `policy:<rule-id>`: a rule of the guard policy.
    PolicyRule(&'a str),
    /// `checkpoint:<id>`: an oversight checkpoint of the register.
    Checkpoint(&'a str),
    /// `procedure:<name>`: a documented procedure outside the software.
    Procedure(&'a str),
}

/// An `implemented_by` entry without a known prefix or with an empty name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an implementation reference (expected `policy:<rule-id>`, \
     `checkpoint:<id>` or `procedure:<name>`)"
)]
pub struct BadImplementationRef(pub String);

impl<'a> ImplementationRef<'a> {
    /// Parses `policy:<rule-id>`, `checkpoint:<id>` or `procedure:<name>`.
    pub fn parse(text: &'a str) -> Result<Self, BadImplementationRef> {
        let parsed = match text.split_once(':') {
            Some(("policy", name)) => Self::PolicyRule(name),
            Some(("checkpoint", name)) => Self::Checkpoint(name),
            Some(("procedure", name)) => Self::Procedure(name),
            _ => return Err(BadImplementationRef(text.to_owned())),
        };
        if parsed.name().trim().is_empty() {
            return Err(BadImplementationRef(text.to_owned()));
        }
        Ok(parsed)
    }

    /// The id or name after the prefix.
    pub fn name(self) -> &'a str {
        match self {
            Self::PolicyRule(name) | Self::Checkpoint(name) | Self::Procedure(name) => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_prefixes_and_rejects_others() {
        assert_eq!(
            ImplementationRef::parse("policy:refund-cap"),
            Ok(ImplementationRef::PolicyRule("refund-cap"))
        );
        assert_eq!(
            ImplementationRef::parse("checkpoint:refund-approval"),
            Ok(ImplementationRef::Checkpoint("refund-approval"))
        );
        assert_eq!(
            ImplementationRef::parse("procedure:incident-response"),
            Ok(ImplementationRef::Procedure("incident-response"))
        );
        assert!(ImplementationRef::parse("refund-cap").is_err());
        assert!(ImplementationRef::parse("rule:refund-cap").is_err());
        assert!(ImplementationRef::parse("policy: ").is_err());
    }
}
