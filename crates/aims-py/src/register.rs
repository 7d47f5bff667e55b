//! The AIMS register: loading a register directory (one YAML or JSON file per section) as a
//! dict, its validation findings with file, line and column, and the JSON Schemas of its types.

use std::path::PathBuf;

use aims_core::model::{load_dir, LoadError};
use aims_core::schema::{schema, schemas};
use pyo3::prelude::*;

use crate::convert::{serialize_to_py, to_py};
use crate::errors::aims_error;

/// Loads the register in ``dir`` and returns it as a dict of sections. Raises ``AimsError``
/// when a file cannot be read or parsed (the message names the first problem's position).
#[pyfunction]
pub fn load_register<'py>(py: Python<'py>, dir: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let loaded = py.detach(|| load_dir(&dir)).map_err(aims_error)?;
    serialize_to_py(py, &loaded.register)
}

/// Loads and validates the register in ``dir``. Returns every finding (errors and warnings)
/// as dicts ``{"severity", "code", "message", "file"?, "pointer", "line"?, "column"?}``;
/// files that cannot be parsed are findings too. Raises ``AimsError`` when ``dir`` cannot be
/// read.
#[pyfunction]
pub fn validate_register<'py>(py: Python<'py>, dir: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let findings = py.detach(|| match load_dir(&dir) {
        Ok(loaded) => Ok(loaded.validate()),
        Err(LoadError::Invalid(findings)) => Ok(findings),
        Err(err @ LoadError::Io { .. }) => Err(err),
    });
    serialize_to_py(py, &findings.map_err(aims_error)?)
}

/// The JSON Schema (2020-12) of a register type by name (``"register"``, ``"ai_system"``,
/// ``"risk"``, ``"incident"``, ``"catalog"``, ...), as a dict. Raises ``AimsError`` naming the
/// known types for an unknown name.
#[pyfunction]
pub fn json_schema<'py>(py: Python<'py>, type_name: &str) -> PyResult<Bound<'py, PyAny>> {
    match schema(type_name) {
        Some(named) => to_py(py, named.schema.as_value()),
        None => {
            let known: Vec<&str> = schemas().iter().map(|named| named.name).collect();
            Err(aims_error(format!(
                "no schema named `{type_name}`: expected one of {}",
                known.join(", ")
            )))
        }
    }
}
