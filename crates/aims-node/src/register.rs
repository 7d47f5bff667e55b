//! Register loading and validation: the findings `aims register check` prints, as objects.

use std::path::Path;

use aims_core::model::{load_dir, Finding, FindingSeverity, LoadError};
use napi::Env;
use napi_derive::napi;

use crate::errors;

/// One problem found in a register, located where the source allows.
#[napi(object)]
#[derive(Debug)]
pub struct RegisterFinding {
    /// `error` or `warning`.
    pub severity: String,
    /// A stable machine-readable code, e.g. `soa.missing_control`.
    pub code: String,
    /// What is wrong, in words.
    pub message: String,
    /// The register section concerned.
    pub section: Option<String>,
    /// The file the section came from.
    pub file: Option<String>,
    /// JSON pointer to the node concerned, relative to the section.
    pub pointer: String,
    /// 1-based line of that node.
    pub line: Option<u32>,
    /// 1-based column of that node.
    pub column: Option<u32>,
}

fn to_js(finding: Finding) -> RegisterFinding {
    let line = |value: Option<usize>| value.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    RegisterFinding {
        severity: match finding.severity {
            FindingSeverity::Error => "error".to_owned(),
            FindingSeverity::Warning => "warning".to_owned(),
        },
        code: finding.code.to_owned(),
        message: finding.message,
        section: finding.section.map(|section| section.name().to_owned()),
        file: finding.file,
        pointer: finding.pointer,
        line: line(finding.line),
        column: line(finding.column),
    }
}

/// Loads the register in `dir` and validates it. Files that cannot be parsed come back as
/// findings too (with file, line and column); only an unreadable directory throws.
#[napi]
pub fn validate_register(env: Env, dir: String) -> napi::Result<Vec<RegisterFinding>> {
    match load_dir(Path::new(&dir)) {
        Ok(loaded) => Ok(loaded.validate().into_iter().map(to_js).collect()),
        Err(LoadError::Invalid(findings)) => Ok(findings.into_iter().map(to_js).collect()),
        Err(err @ LoadError::Io { .. }) => Err(errors::invalid(&env, err.to_string())),
    }
}
