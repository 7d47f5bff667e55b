//! The audit log as an app sees it: its signed checkpoints, proofs of single records and of
//! growth, and the offline-first export an app uploads when it is online; plus the checks a
//! collector or auditor runs with only the public key.
//!
//! Proofs and exports cross as JSON text (the portable documents of `aims-core`), with the
//! fields an app needs to route them alongside.

use crate::error::AimsError;
use crate::json;
use aims_core::audit::checkpoint::SignedCheckpoint;
use aims_core::audit::keys::NoteVerifier;
use aims_core::audit::proof;
use aims_core::audit::{self as core_audit, AuditExport, VerifyOptions};
use aims_core::runtime::Runtime;
use std::path::PathBuf;

/// A signed checkpoint: the log's size and root, signed by its key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Checkpoint {
    /// The log's origin line (unique per log).
    pub origin: String,
    /// Records covered.
    pub size: u64,
    /// The RFC 9162 root of those records, hex.
    pub root_hash: String,
    /// The signed note text: what to store and send.
    pub note: String,
}

/// Proof that one record is in the log.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InclusionProof {
    /// The record's index.
    pub index: u64,
    /// The signed tree size the proof is for.
    pub tree_size: u64,
    /// The record (canonical JSON text).
    pub record: String,
    /// The whole proof document, JSON: what to hand to a verifier.
    pub json: String,
}

/// Proof that an older tree is a prefix of the signed current one.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsistencyProof {
    /// The older size.
    pub old_size: u64,
    /// The newer, signed size.
    pub new_size: u64,
    /// The whole proof document, JSON.
    pub json: String,
}

/// The records after a checkpoint, ready to upload.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EvidenceExport {
    /// The log's origin line.
    pub origin: String,
    /// Records before this export.
    pub from_size: u64,
    /// Records up to the end of this export (the size of `checkpoint`).
    pub to_size: u64,
    /// The signed checkpoint note the export ends at: keep it once the collector accepted
    /// the upload, and export from it next time.
    pub checkpoint: String,
    /// The export document, JSON: what to upload.
    pub json: String,
}

/// An export the collector accepted.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportReport {
    /// The log's origin line.
    pub origin: String,
    /// Records before the export.
    pub from_size: u64,
    /// Records after it.
    pub to_size: u64,
    /// The new checkpoint note: the collector keeps it to check the next export.
    pub checkpoint: String,
}

/// An intact log, described by [`verify_audit_log`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifyReport {
    /// The log's origin line.
    pub origin: String,
    /// Whole records.
    pub records: u64,
    /// Records covered by the stored signed checkpoint.
    pub signed_size: u64,
    /// The size of the checkpoint the auditor gave, if any.
    pub external_size: Option<u64>,
    /// A torn tail after the signed records (a crash; the next open truncates it).
    pub torn_tail: Option<String>,
    /// No key was given: the log's own `signer.pub` was used, which proves integrity only
    /// against someone who could not rewrite the directory.
    pub key_from_log: bool,
}

/// The app's audit log, open for writing by its [`crate::Guard`].
#[derive(Debug, uniffi::Object)]
pub struct AuditLog {
    /// A runtime that has a log: [`crate::Guard::audit_log`] checks it.
    runtime: Runtime,
}

impl AuditLog {
    pub(crate) fn new(runtime: Runtime) -> Self {
        Self { runtime }
    }

    fn log(&self) -> Result<&core_audit::AuditLog, AimsError> {
        self.runtime.audit_log().ok_or_else(|| AimsError::Config {
            detail: "the guard was opened without an audit_dir".into(),
        })
    }
}

#[uniffi::export]
impl AuditLog {
    /// Records appended so far.
    pub fn size(&self) -> Result<u64, AimsError> {
        Ok(self.log()?.len())
    }

    /// The log's origin line.
    pub fn origin(&self) -> Result<String, AimsError> {
        Ok(self.log()?.origin().to_owned())
    }

    /// The verifier (public) key that checks this log's checkpoints: give it to the collector
    /// once, out of band.
    pub fn public_key(&self) -> Result<String, AimsError> {
        Ok(self.log()?.verifier().to_string())
    }

    /// Makes every record durable.
    pub fn flush(&self) -> Result<(), AimsError> {
        Ok(self.log()?.flush()?)
    }

    /// The latest signed checkpoint (without signing a new one).
    pub fn latest_checkpoint(&self) -> Result<Checkpoint, AimsError> {
        Ok(checkpoint(self.log()?.latest_checkpoint()?))
    }

    /// Signs a checkpoint of every record so far: a small note that commits the device to
    /// its log, to send ahead of the records or to export from later.
    pub fn export_checkpoint(&self) -> Result<Checkpoint, AimsError> {
        Ok(checkpoint(self.log()?.export_checkpoint()?))
    }

    /// The records after `since` (a checkpoint note the collector holds; none exports
    /// everything) up to a checkpoint signed now.
    pub fn export_since(&self, since: Option<String>) -> Result<EvidenceExport, AimsError> {
        let export = self.log()?.export_since(since.as_deref())?;
        let signed = parse_note(&export.checkpoint)?;
        Ok(EvidenceExport {
            origin: export.origin.clone(),
            from_size: export.from_size,
            to_size: signed.checkpoint.size,
            checkpoint: export.checkpoint.clone(),
            json: to_json(&export)?,
        })
    }

    /// Proof that record `index` is in the log, against a checkpoint covering it.
    pub fn prove_inclusion(&self, index: u64) -> Result<InclusionProof, AimsError> {
        let proof = self.log()?.prove_inclusion(index)?;
        Ok(InclusionProof {
            index: proof.index,
            tree_size: proof.tree_size,
            record: proof.record.clone(),
            json: to_json(&proof)?,
        })
    }

    /// Proof that the log of `old_size` records is a prefix of the log now.
    pub fn prove_consistency(&self, old_size: u64) -> Result<ConsistencyProof, AimsError> {
        let proof = self.log()?.prove_consistency(old_size)?;
        Ok(ConsistencyProof {
            old_size: proof.old_size,
            new_size: proof.new_size,
            json: to_json(&proof)?,
        })
    }
}

/// Verifies a log directory offline: every frame, the record chain, every checkpoint record
/// and the signed checkpoint; with `checkpoint`, that the log still contains one the auditor
/// kept. `public_key` is the verifier key text; without it the log's own key is used.
#[uniffi::export]
pub fn verify_audit_log(
    dir: String,
    public_key: Option<String>,
    checkpoint: Option<String>,
) -> Result<VerifyReport, AimsError> {
    let options = VerifyOptions {
        public_key: public_key.as_deref().map(parse_key).transpose()?,
        checkpoint,
    };
    let report = core_audit::verify(&PathBuf::from(dir), &options)?;
    Ok(VerifyReport {
        origin: report.origin,
        records: report.records,
        signed_size: report.signed_size,
        external_size: report.external_size,
        torn_tail: report.torn_tail,
        key_from_log: report.key_from_log,
    })
}

/// Checks an inclusion proof document with only the public key.
#[uniffi::export]
pub fn verify_inclusion_proof(proof_json: String, public_key: String) -> Result<(), AimsError> {
    let proof: proof::InclusionProof = json::parse("proof_json", &proof_json)?;
    Ok(proof.verify(&parse_key(&public_key)?)?)
}

/// Checks a consistency proof document with only the public key.
#[uniffi::export]
pub fn verify_consistency_proof(proof_json: String, public_key: String) -> Result<(), AimsError> {
    let proof: proof::ConsistencyProof = json::parse("proof_json", &proof_json)?;
    Ok(proof.verify(&parse_key(&public_key)?)?)
}

/// The collector's check of an uploaded export: signed by `public_key`, continuing exactly
/// `since` (the checkpoint it accepted last; none for a first upload), every record in
/// order and none left out. Keep the returned checkpoint for the next upload.
#[uniffi::export]
pub fn verify_export(
    export_json: String,
    public_key: String,
    since: Option<String>,
) -> Result<ExportReport, AimsError> {
    let export: AuditExport = json::parse("export_json", &export_json)?;
    let report = export.verify(&parse_key(&public_key)?, since.as_deref())?;
    Ok(ExportReport {
        origin: report.origin,
        from_size: report.from_size,
        to_size: report.to_size,
        checkpoint: report.checkpoint.note,
    })
}

fn checkpoint(signed: SignedCheckpoint) -> Checkpoint {
    Checkpoint {
        origin: signed.checkpoint.origin,
        size: signed.checkpoint.size,
        root_hash: hex::encode(signed.checkpoint.root),
        note: signed.note,
    }
}

fn parse_note(note: &str) -> Result<SignedCheckpoint, AimsError> {
    SignedCheckpoint::parse(note).map_err(|err| AimsError::Integrity {
        index: None,
        reason: err.to_string(),
    })
}

fn parse_key(text: &str) -> Result<NoteVerifier, AimsError> {
    Ok(NoteVerifier::parse(text, "public_key")?)
}

fn to_json(value: &impl serde::Serialize) -> Result<String, AimsError> {
    serde_json::to_string(value).map_err(|err| AimsError::Audit {
        detail: format!("cannot encode the document: {err}"),
    })
}
