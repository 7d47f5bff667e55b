//! Validated PII and secret detection and masking.
//!
//! Detectors are grouped by family, one module each (`cards`, `iban`, `national_ids`,
//! `network`, `phone`, `crypto`, `web`, `secrets`); each pairs a cheap candidate regex with a validator (checksum,
//! registry, parser). The [`Scanner`] runs all candidate regexes in one `RegexSet` pass and
//! validates only the candidates. [`MaskPolicy`] says what replaces a finding; [`Scanner`]'s
//! `scan_json`/`mask_json` walk tool-call arguments and results.
//!
//! Names and postal addresses need a named-entity model and are out of scope: see `docs/pii.md`.

mod cards;
mod crypto;
mod entity;
mod error;
mod iban;
mod json;
mod mask;
mod national_ids;
mod network;
mod pattern;
mod phone;
mod scanner;
mod secrets;
mod web;

pub use entity::Entity;
pub use error::PiiError;
pub use json::JsonFinding;
pub use mask::{HashKey, MaskOperator, MaskPolicy};
pub use scanner::{Finding, Scanner, ScannerConfig};
