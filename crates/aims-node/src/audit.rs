//! The `AuditLog` class: offline verification of a log directory and portable proofs, with
//! nothing but the directory and a public key (the same checks as `aims audit`).

use std::path::{Path, PathBuf};

use aims_core::audit::checkpoint::SignedCheckpoint;
use aims_core::audit::keys::NoteVerifier;
use aims_core::audit::proof::{ConsistencyProof, InclusionProof};
use aims_core::audit::{self, AuditError, Integrity, LogSnapshot, VerifyOptions};
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::errors;

/// What to verify a log against.
#[napi(object)]
#[derive(Debug, Default)]
pub struct VerifyLogOptions {
    /// The trusted public key file (`KEY.pub`). Without it the log's own `signer.pub` is
    /// used, which proves nothing against someone who could rewrite the directory.
    pub public_key: Option<String>,
    /// A checkpoint (note text) kept earlier: the log must still contain it.
    pub checkpoint: Option<String>,
}

/// An intact log, described.
#[napi(object)]
#[derive(Debug)]
pub struct VerifyReport {
    /// The log's origin line.
    pub origin: String,
    /// Whole records.
    pub records: i64,
    /// Bytes of records.
    pub bytes: i64,
    /// Records covered by the stored signed checkpoint.
    pub signed_size: i64,
    /// The size of the given checkpoint, when one was given.
    pub external_size: Option<i64>,
    /// A torn tail after the records (a crash; the next open truncates it).
    pub torn_tail: Option<String>,
    /// The key was taken from the log directory itself.
    pub key_from_log: bool,
}

fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn index(env: &Env, value: i64) -> napi::Result<u64> {
    u64::try_from(value).map_err(|_| errors::invalid(env, format!("index {value} is negative")))
}

fn read_key(env: &Env, path: &str) -> napi::Result<NoteVerifier> {
    NoteVerifier::read(Path::new(path)).map_err(|err| errors::audit(env, &AuditError::Key(err)))
}

fn to_json(env: &Env, value: impl serde::Serialize) -> napi::Result<Value> {
    serde_json::to_value(value).map_err(|err| errors::invalid(env, err.to_string()))
}

fn not_a_proof(env: &Env, err: serde_json::Error) -> napi::Error {
    errors::audit(
        env,
        &AuditError::Integrity(Integrity::whole(format!(
            "neither an inclusion nor a consistency proof: {err}"
        ))),
    )
}

/// Offline checks of an audit log directory. Every method throws `AuditError`; an `AuditError`
/// with `integrity: true` means tampered or damaged (`index` names the first bad record when
/// one can be named).
#[napi]
#[derive(Debug)]
pub struct AuditLog {}

#[napi]
impl AuditLog {
    /// Verifies every record, the chain and the signed checkpoint of the log in `dir`.
    #[napi]
    pub fn verify(
        env: Env,
        dir: String,
        options: Option<VerifyLogOptions>,
    ) -> napi::Result<VerifyReport> {
        let options = options.unwrap_or_default();
        let verify_options = VerifyOptions {
            public_key: options
                .public_key
                .as_deref()
                .map(|path| read_key(&env, path))
                .transpose()?,
            checkpoint: options.checkpoint,
        };
        let report = audit::verify(&PathBuf::from(dir), &verify_options)
            .map_err(|err| errors::audit(&env, &err))?;
        Ok(VerifyReport {
            origin: report.origin,
            records: count(report.records),
            bytes: count(report.bytes),
            signed_size: count(report.signed_size),
            external_size: report.external_size.map(count),
            torn_tail: report.torn_tail,
            key_from_log: report.key_from_log,
        })
    }

    /// The inclusion proof (a JSON document) of record `index` against the stored signed
    /// checkpoint.
    #[napi]
    pub fn prove(env: Env, dir: String, index_: i64) -> napi::Result<Value> {
        let at = index(&env, index_)?;
        let proof = LogSnapshot::open(Path::new(&dir))
            .and_then(|snapshot| snapshot.prove_inclusion(at))
            .map_err(|err| errors::audit(&env, &err))?;
        to_json(&env, proof)
    }

    /// The consistency proof from an older checkpoint (its note text) to the stored one.
    #[napi]
    pub fn prove_consistency(env: Env, dir: String, old_checkpoint: String) -> napi::Result<Value> {
        let old = SignedCheckpoint::parse(&old_checkpoint).map_err(|source| {
            errors::audit(
                &env,
                &AuditError::Checkpoint {
                    path: "<oldCheckpoint>".into(),
                    source,
                },
            )
        })?;
        let proof = LogSnapshot::open(Path::new(&dir))
            .and_then(|snapshot| snapshot.prove_consistency(&old))
            .map_err(|err| errors::audit(&env, &err))?;
        to_json(&env, proof)
    }

    /// Checks an inclusion or consistency proof with the trusted public key file. Throws an
    /// `AuditError` with `integrity: true` when the proof does not hold.
    #[napi]
    pub fn verify_proof(env: Env, proof: Value, public_key: String) -> napi::Result<()> {
        let key = read_key(&env, &public_key)?;
        let checked = if proof.get("record").is_some() {
            let proof: InclusionProof =
                serde_json::from_value(proof).map_err(|err| not_a_proof(&env, err))?;
            proof.verify(&key)
        } else {
            let proof: ConsistencyProof =
                serde_json::from_value(proof).map_err(|err| not_a_proof(&env, err))?;
            proof.verify(&key)
        };
        checked.map_err(|integrity| errors::audit(&env, &AuditError::Integrity(integrity)))
    }
}
