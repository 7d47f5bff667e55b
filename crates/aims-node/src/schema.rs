//! The JSON Schemas of the register's types (the same documents as `aims schema` and the
//! committed `schemas/` directory).

use aims_core::schema;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::errors;

/// The names `jsonSchema` accepts, e.g. `register`, `ai_system`, `incident`.
#[napi]
pub fn schema_names() -> Vec<String> {
    schema::schemas()
        .into_iter()
        .map(|named| named.name.to_owned())
        .collect()
}

/// The JSON Schema (2020-12) of the register type `name`. Throws `AimsError` for an unknown
/// name.
#[napi]
pub fn json_schema(env: Env, name: String) -> napi::Result<Value> {
    let named = schema::schema(&name).ok_or_else(|| {
        errors::invalid(
            &env,
            format!(
                "unknown schema `{name}`: expected one of {}",
                schema_names().join(", ")
            ),
        )
    })?;
    serde_json::to_value(named.schema).map_err(|err| errors::invalid(&env, err.to_string()))
}
