//! Python objects to JSON values and back: tool arguments and results cross here.
//!
//! `dict` (string keys), `list`, `tuple`, `str`, `int`, `float`, `bool` and `None` map one to
//! one. Any other object (a `Decimal`, a `datetime`, a dataclass, a pydantic model, ...) is
//! handed to `aims._convert.jsonable`, which returns a JSON-shaped object or raises
//! `TypeError`; keeping those rules in Python lets them use the standard library's types.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Deeper than this is refused: a cycle, or a value no tool call should carry.
const MAX_DEPTH: usize = 128;

/// `aims._convert.jsonable`, imported once.
static JSONABLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A Python object as a JSON value.
pub fn to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    convert(obj, 0)
}

fn convert(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "value nested deeper than {MAX_DEPTH} levels (a cycle?)"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: bool is a subclass of int.
    if let Ok(flag) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if let Ok(text) = obj.cast::<PyString>() {
        return Ok(Value::String(text.to_cow()?.into_owned()));
    }
    if let Ok(int) = obj.cast::<PyInt>() {
        if let Ok(n) = int.extract::<i64>() {
            return Ok(Value::from(n));
        }
        if let Ok(n) = int.extract::<u64>() {
            return Ok(Value::from(n));
        }
        // Beyond 64 bits: JSON numbers lose precision, so keep the digits as text.
        return Ok(Value::String(int.str()?.to_cow()?.into_owned()));
    }
    if let Ok(float) = obj.cast::<PyFloat>() {
        return Number::from_f64(float.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not JSON numbers"));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut members = Map::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let key = match key.cast::<PyString>() {
                Ok(text) => text.to_cow()?.into_owned(),
                Err(_) => key.str()?.to_cow()?.into_owned(),
            };
            members.insert(key, convert(&item, depth + 1)?);
        }
        return Ok(Value::Object(members));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .map(|item| convert(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|item| convert(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    let py = obj.py();
    let jsonable = JSONABLE.import(py, "aims._convert", "jsonable")?;
    let plain = jsonable.call1((obj,))?;
    if plain.is(obj) {
        return Err(PyTypeError::new_err(format!(
            "cannot convert {} to JSON",
            obj.get_type().name()?
        )));
    }
    convert(&plain, depth + 1)
}

/// A JSON value as a Python object.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(number) => {
            if let Some(n) = number.as_i64() {
                n.into_pyobject(py)?.into_any()
            } else if let Some(n) = number.as_u64() {
                n.into_pyobject(py)?.into_any()
            } else {
                number
                    .as_f64()
                    .unwrap_or(f64::NAN)
                    .into_pyobject(py)?
                    .into_any()
            }
        }
        Value::String(text) => PyString::new(py, text).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(members) => {
            let dict = PyDict::new(py);
            for (key, item) in members {
                dict.set_item(key, to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A serializable Rust value as a Python object (through its JSON form).
pub fn serialize_to_py<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|err| PyValueError::new_err(format!("cannot encode value: {err}")))?;
    to_py(py, &json)
}
