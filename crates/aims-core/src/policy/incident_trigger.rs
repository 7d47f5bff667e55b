//! The policy's `incidents` section: which guard outcomes open an incident, how serious it is.
//! The engine that evaluates these triggers lives in [`crate::oversight`].
//!
//! ```yaml
//! incidents:
//!   - id: critical-deny
//!     when: {deny_by_severity: {min_severity: high}}
//!     severity: high
//!   - id: deny-burst
//!     when: {deny_burst: {count: 5, window_seconds: 600}}
//!   - id: audit-broken
//!     when: audit_verification_failed
//!     severity: critical
//!   - id: pii-leak
//!     when: {pii_in_result: {entities: [CREDIT_CARD, IBAN_CODE]}}
//!   - id: agent-anomaly
//!     when: anomaly
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::call::Severity;
use crate::model::SeriousIncidentKind;
use crate::pii::Entity;

/// One incident trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentTrigger {
    /// Stable identifier; with the agent id it keys de-duplication.
    pub id: String,
    /// What fires it: a name (`audit_verification_failed`, `anomaly`) or a map of one name to
    /// its parameters (`{deny_burst: {count: 5, window_seconds: 600}}`), in YAML as in JSON.
    #[serde(with = "serde_yaml_ng::with::singleton_map")]
    #[schemars(with = "TriggerCondition")]
    pub when: TriggerCondition,
    /// The severity of the incidents it opens (default medium).
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Marks its incidents serious (EU AI Act Art. 3(49)) with this Art. 73 deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serious_kind: Option<SeriousIncidentKind>,
    /// The title of the incidents it opens (default: generated from what fired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

fn default_severity() -> Severity {
    Severity::Medium
}

/// What fires a trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TriggerCondition {
    /// A deny by a rule of at least this severity.
    DenyBySeverity {
        /// The least rule severity that fires (low, medium, high, critical).
        min_severity: Severity,
    },
    /// At least `count` denies for one agent within `window_seconds`.
    DenyBurst {
        /// Denies that fire it.
        #[schemars(range(min = 1))]
        count: u32,
        /// The sliding window, in seconds.
        #[schemars(range(min = 1))]
        window_seconds: u64,
    },
    /// The audit log failed verification.
    AuditVerificationFailed,
    /// PII or a secret found in a tool result.
    PiiInResult {
        /// Entities that fire it (e.g. `CREDIT_CARD`); empty means any.
        #[serde(default)]
        #[schemars(with = "Vec<String>")]
        entities: Vec<Entity>,
    },
    /// The anomaly monitor raised a shift at incident level.
    Anomaly,
}
