//! JSON crosses the boundary as text; this reads it with a located error naming the argument.

use serde::de::DeserializeOwned;

use crate::error::AimsError;

/// Parses `text` (the argument `what`, e.g. `args_json`).
pub(crate) fn parse<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, AimsError> {
    serde_json::from_str(text).map_err(|err| AimsError::Json {
        what: what.to_owned(),
        line: err.line() as u64,
        column: err.column() as u64,
        detail: err.to_string(),
    })
}
