//! `aims.Scanner`: validated PII and secret detection and masking over text and JSON values.
//!
//! Offsets given to Python are string indices (code points), not the core's byte offsets, so
//! ``text[f["start"]:f["end"]]`` is the finding.

use std::collections::BTreeSet;

use aims_core::pii::{
    Entity, Finding, HashKey, JsonFinding, MaskOperator, MaskPolicy, Scanner as CoreScanner,
    ScannerConfig,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

use crate::convert::{to_py, to_value};
use crate::errors::aims_error;

/// Finds PII and secrets (cards, IBANs, national ids, e-mail, phone, IPs, wallets, API keys,
/// tokens, private keys, ...), each confirmed by a checksum or parser where one exists.
///
/// ``entities`` restricts detection to those names (e.g. ``["EMAIL_ADDRESS", "IBAN_CODE"]``);
/// ``deny_list`` adds words to report as ``DENY_LIST``.
#[pyclass(frozen, module = "aims", name = "Scanner")]
#[derive(Debug)]
pub struct Scanner {
    inner: CoreScanner,
}

fn entity_set(names: Option<Vec<String>>) -> PyResult<Option<BTreeSet<Entity>>> {
    names
        .map(|names| {
            names
                .iter()
                .map(|name| name.parse::<Entity>().map_err(aims_error))
                .collect()
        })
        .transpose()
}

/// The masking policy named by `operator` (`tag`, `mask`, `keep_last4`, `hash`, `remove`).
fn mask_policy(
    operator: &str,
    entities: Option<Vec<String>>,
    hash_key: Option<&[u8]>,
) -> PyResult<MaskPolicy> {
    let operator = match operator {
        "tag" => MaskOperator::Tag,
        "mask" => MaskOperator::Mask('*'),
        "keep_last4" => MaskOperator::KeepLast4,
        "remove" => MaskOperator::Remove,
        "hash" => {
            let key = hash_key.ok_or_else(|| aims_error("operator `hash` needs hash_key"))?;
            MaskOperator::Hash(HashKey::new(key).map_err(aims_error)?)
        }
        other => {
            return Err(aims_error(format!(
                "unknown mask operator `{other}`: expected tag, mask, keep_last4, hash or remove"
            )))
        }
    };
    let policy = MaskPolicy::new(operator);
    Ok(match entity_set(entities)? {
        Some(only) => policy.only(only),
        None => policy,
    })
}

/// The code point index of each byte offset in `offsets` (ascending) within `text`.
fn char_index(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |head| head.chars().count())
}

fn finding_dict<'py>(
    py: Python<'py>,
    text: &str,
    finding: &Finding,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("entity", finding.entity.as_str())?;
    dict.set_item("start", char_index(text, finding.start))?;
    dict.set_item("end", char_index(text, finding.end))?;
    dict.set_item("validated", finding.validated)?;
    Ok(dict)
}

/// The string a JSON finding's offsets refer to (a member name or a string or number value).
fn finding_text(value: &Value, finding: &JsonFinding) -> String {
    if finding.in_key {
        let name = finding.pointer.rsplit('/').next().unwrap_or_default();
        return name.replace("~1", "/").replace("~0", "~");
    }
    match value.pointer(&finding.pointer) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}

fn json_findings<'py>(
    py: Python<'py>,
    value: &Value,
    findings: &[JsonFinding],
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for found in findings {
        let dict = finding_dict(py, &finding_text(value, found), &found.finding)?;
        dict.set_item("pointer", &found.pointer)?;
        dict.set_item("in_key", found.in_key)?;
        list.append(dict)?;
    }
    Ok(list)
}

#[pymethods]
impl Scanner {
    #[new]
    #[pyo3(signature = (entities=None, deny_list=None))]
    fn new(entities: Option<Vec<String>>, deny_list: Option<Vec<String>>) -> PyResult<Self> {
        let config = ScannerConfig {
            entities: entity_set(entities)?,
            deny_list: deny_list.unwrap_or_default(),
        };
        let inner = CoreScanner::new(config).map_err(aims_error)?;
        Ok(Self { inner })
    }

    /// Every finding in ``text``: ``{"entity", "start", "end", "validated"}`` dicts, ordered by
    /// start, never overlapping.
    fn scan<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyList>> {
        let findings = py.detach(|| self.inner.scan(text));
        let list = PyList::empty(py);
        for finding in &findings {
            list.append(finding_dict(py, text, finding)?)?;
        }
        Ok(list)
    }

    /// ``text`` with findings masked by ``operator``: ``"tag"`` (``<EMAIL_ADDRESS>``),
    /// ``"mask"`` (``****``), ``"keep_last4"``, ``"hash"`` (keyed with ``hash_key``) or
    /// ``"remove"``; ``entities`` limits which findings are masked.
    #[pyo3(signature = (text, operator="tag", *, entities=None, hash_key=None))]
    fn mask(
        &self,
        py: Python<'_>,
        text: &str,
        operator: &str,
        entities: Option<Vec<String>>,
        hash_key: Option<Vec<u8>>,
    ) -> PyResult<String> {
        let policy = mask_policy(operator, entities, hash_key.as_deref())?;
        Ok(py.detach(|| self.inner.mask(text, &policy)))
    }

    /// Every finding in a JSON-shaped value (strings, numbers and keys), each with its
    /// ``pointer`` (RFC 6901) and ``in_key``; offsets refer to that string.
    fn scan_json<'py>(
        &self,
        py: Python<'py>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let value = to_value(value)?;
        let findings = py.detach(|| self.inner.scan_json(&value));
        json_findings(py, &value, &findings)
    }

    /// A masked copy of a JSON-shaped value and the findings masked in it, as
    /// ``(masked, findings)``.
    #[pyo3(signature = (value, operator="tag", *, entities=None, hash_key=None))]
    fn mask_json<'py>(
        &self,
        py: Python<'py>,
        value: &Bound<'py, PyAny>,
        operator: &str,
        entities: Option<Vec<String>>,
        hash_key: Option<Vec<u8>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyList>)> {
        let policy = mask_policy(operator, entities, hash_key.as_deref())?;
        let original = to_value(value)?;
        let mut masked = original.clone();
        let findings = py.detach(|| self.inner.mask_json(&mut masked, &policy));
        Ok((
            to_py(py, &masked)?,
            json_findings(py, &original, &findings)?,
        ))
    }

    /// The names of every entity the scanner can report.
    #[staticmethod]
    fn entities() -> Vec<&'static str> {
        Entity::ALL.iter().map(|entity| entity.as_str()).collect()
    }
}
