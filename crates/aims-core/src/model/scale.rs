//! Qualitative scales shared by several register entries (incidents, impact assessments).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::call::Severity;

/// How likely something is to happen.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Likelihood {
    /// Only in exceptional circumstances.
    Rare,
    /// Could happen but not expected.
    Unlikely,
    /// Might happen at some time.
    Possible,
    /// Will probably happen.
    Likely,
    /// Expected to happen.
    AlmostCertain,
}
