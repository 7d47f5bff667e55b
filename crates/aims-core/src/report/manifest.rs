//! `MANIFEST.json` (sha256 of every file of the pack) and `MANIFEST.sig` (an Ed25519 note
//! signature line over the manifest, the same form as audit checkpoints), so the pack itself
//! is tamper-evident.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::audit::keys::{NoteSigner, NoteVerifier};

/// The manifest's file name.
pub const MANIFEST: &str = "MANIFEST.json";
/// The signature's file name.
pub const SIGNATURE: &str = "MANIFEST.sig";

/// Why a pack does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestProblem {
    /// A file of the pack or the manifest could not be read.
    #[error("cannot read {0}")]
    Unreadable(String),
    /// The manifest is not a JSON object of file names to hashes.
    #[error("MANIFEST.json is malformed: {0}")]
    Malformed(String),
    /// The signature does not verify with the given key.
    #[error("MANIFEST.sig is not a valid signature by {0} over MANIFEST.json")]
    BadSignature(String),
    /// A file's content differs from its manifest hash.
    #[error("{0} was changed after the pack was signed")]
    Changed(String),
}

/// The manifest text and its signature line for `files` (name, content).
pub fn sign(files: &[(&str, &[u8])], signer: &NoteSigner) -> (String, String) {
    let hashes: BTreeMap<&str, String> = files
        .iter()
        .map(|(name, bytes)| (*name, hex::encode(Sha256::digest(bytes))))
        .collect();
    let manifest = match serde_json::to_string_pretty(&serde_json::json!({"sha256": hashes})) {
        Ok(text) => format!("{text}\n"),
        // A map of strings always serializes.
        Err(_) => unreachable!("a map of strings serializes"),
    };
    let signature = signer.signature_line(&manifest);
    (manifest, signature)
}

/// Checks the signature over `MANIFEST.json` with `key`, then every listed file's hash.
pub fn verify_pack(dir: &Path, key: &NoteVerifier) -> Result<usize, ManifestProblem> {
    let read = |name: &str| {
        fs::read(dir.join(name)).map_err(|_| ManifestProblem::Unreadable(name.to_owned()))
    };
    let manifest = String::from_utf8(read(MANIFEST)?)
        .map_err(|_| ManifestProblem::Malformed("not UTF-8".into()))?;
    let signature = String::from_utf8(read(SIGNATURE)?)
        .map_err(|_| ManifestProblem::BadSignature(key.to_string()))?;
    if !key.verify_signature_line(&manifest, signature.trim_end()) {
        return Err(ManifestProblem::BadSignature(key.to_string()));
    }
    let parsed: serde_json::Value = serde_json::from_str(&manifest)
        .map_err(|err| ManifestProblem::Malformed(err.to_string()))?;
    let hashes = parsed
        .get("sha256")
        .and_then(|value| value.as_object())
        .ok_or_else(|| ManifestProblem::Malformed("no sha256 object".into()))?;
    for (name, expected) in hashes {
        // Names come from a signed manifest, but still never leave the pack directory.
        if name.contains("..") || name.starts_with('/') {
            return Err(ManifestProblem::Malformed(format!("bad file name {name}")));
        }
        let actual = hex::encode(Sha256::digest(read(name)?));
        if expected.as_str() != Some(actual.as_str()) {
            return Err(ManifestProblem::Changed(name.clone()));
        }
    }
    Ok(hashes.len())
}
