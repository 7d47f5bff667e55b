//! `aims.AuditLog`: open a durable log as its writer, verify a log directory offline, read its
//! records, and build and check inclusion and consistency proofs.

use std::path::PathBuf;
use std::sync::Arc;

use aims_core::audit::checkpoint::SignedCheckpoint;
use aims_core::audit::keys::{NoteSigner, NoteVerifier};
use aims_core::audit::proof::{ConsistencyProof, InclusionProof};
use aims_core::audit::{
    for_each_record, verify, AuditError as CoreAuditError, AuditLog as CoreLog, Durability,
    Integrity, LogOptions, LogSnapshot, VerifyOptions,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

use crate::convert::{serialize_to_py, to_py, to_value};
use crate::errors::{aims_error, audit_error};

/// The append-only, tamper-evident audit log in one directory.
///
/// ``AuditLog.open(dir, signing_key)`` takes the log's writer lock (one writer per log); the
/// static methods read a log without the lock, so they work while a guard writes to it.
#[pyclass(frozen, module = "aims", name = "AuditLog")]
#[derive(Debug)]
pub struct AuditLog {
    inner: Arc<CoreLog>,
}

/// The durability mode named `name`.
pub fn durability(name: &str) -> PyResult<Durability> {
    match name {
        "strict" => Ok(Durability::Strict),
        "batched" => Ok(Durability::batched()),
        "none" => Ok(Durability::None),
        other => Err(aims_error(format!(
            "unknown durability `{other}`: expected strict, batched or none"
        ))),
    }
}

fn verifier(public_key: &str) -> PyResult<NoteVerifier> {
    NoteVerifier::parse(public_key, "public_key").map_err(aims_error)
}

fn integrity(err: Integrity) -> PyErr {
    audit_error(&CoreAuditError::Integrity(err))
}

#[pymethods]
impl AuditLog {
    /// Opens (creating when absent) the log in ``dir`` as its single writer, signing
    /// checkpoints with the key file ``signing_key``. Recovers a torn tail; refuses a
    /// tampered log with ``AuditError``.
    #[staticmethod]
    #[pyo3(signature = (dir, signing_key, *, durability="batched"))]
    fn open(
        py: Python<'_>,
        dir: PathBuf,
        signing_key: PathBuf,
        durability: &str,
    ) -> PyResult<Self> {
        let durability = self::durability(durability)?;
        let inner = py.detach(|| {
            let signer = NoteSigner::read(&signing_key).map_err(aims_error)?;
            CoreLog::open(&dir, LogOptions::new(signer).durability(durability))
                .map_err(|err| audit_error(&err))
        })?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Writes a new signing key to ``path`` (and its verifier key to ``path + ".pub"``);
    /// returns the verifier key text.
    #[staticmethod]
    #[pyo3(signature = (path, name="aims.local"))]
    fn generate_key(path: PathBuf, name: &str) -> PyResult<String> {
        let signer = NoteSigner::generate(name).map_err(aims_error)?;
        signer.write(&path).map_err(aims_error)?;
        Ok(signer.verifier().to_string())
    }

    /// Verifies the log in ``dir``: every frame, the record chain, every checkpoint record
    /// and the signed checkpoint, against ``public_key`` (verifier key text; default: the
    /// log's own ``signer.pub``) and, when given, a ``checkpoint`` note the caller kept.
    /// Returns a report dict; raises ``AuditError`` (with ``index``) when tampered.
    #[staticmethod]
    #[pyo3(signature = (dir, *, public_key=None, checkpoint=None))]
    fn verify<'py>(
        py: Python<'py>,
        dir: PathBuf,
        public_key: Option<&str>,
        checkpoint: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let options = VerifyOptions {
            public_key: public_key.map(verifier).transpose()?,
            checkpoint,
        };
        let report = py
            .detach(|| verify(&dir, &options))
            .map_err(|err| audit_error(&err))?;
        let dict = PyDict::new(py);
        dict.set_item("origin", report.origin)?;
        dict.set_item("records", report.records)?;
        dict.set_item("bytes", report.bytes)?;
        dict.set_item("signed_size", report.signed_size)?;
        dict.set_item("external_size", report.external_size)?;
        dict.set_item("torn_tail", report.torn_tail)?;
        dict.set_item("key_from_log", report.key_from_log)?;
        Ok(dict)
    }

    /// Every record of the log in ``dir``, in order, as dicts
    /// ``{"event": {...}, "index", "prev", "timestamp"}``.
    #[staticmethod]
    fn records<'py>(py: Python<'py>, dir: PathBuf) -> PyResult<Bound<'py, PyList>> {
        let mut payloads = Vec::new();
        py.detach(|| for_each_record(&dir, |_, payload| payloads.push(payload.to_vec())))
            .map_err(|err| audit_error(&err))?;
        let list = PyList::empty(py);
        for payload in payloads {
            let record: Value = serde_json::from_slice(&payload)
                .map_err(|err| aims_error(format!("record is not JSON: {err}")))?;
            list.append(to_py(py, &record)?)?;
        }
        Ok(list)
    }

    /// The inclusion proof of record ``index`` of the log in ``dir`` against its stored
    /// signed checkpoint: a self-contained dict anyone can check with the public key.
    #[staticmethod]
    fn prove<'py>(py: Python<'py>, dir: PathBuf, index: u64) -> PyResult<Bound<'py, PyAny>> {
        let proof = py
            .detach(|| LogSnapshot::open(&dir)?.prove_inclusion(index))
            .map_err(|err| audit_error(&err))?;
        serialize_to_py(py, &proof)
    }

    /// The consistency proof that the log in ``dir`` extends the one ``old_checkpoint`` (a
    /// checkpoint note kept earlier) signed.
    #[staticmethod]
    fn prove_consistency<'py>(
        py: Python<'py>,
        dir: PathBuf,
        old_checkpoint: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let old = SignedCheckpoint::parse(old_checkpoint).map_err(aims_error)?;
        let proof = py
            .detach(|| LogSnapshot::open(&dir)?.prove_consistency(&old))
            .map_err(|err| audit_error(&err))?;
        serialize_to_py(py, &proof)
    }

    /// Checks an inclusion or consistency proof dict against ``public_key`` (verifier key
    /// text). Returns ``None``; raises ``AuditError`` when the proof does not hold.
    #[staticmethod]
    fn verify_proof(proof: &Bound<'_, PyAny>, public_key: &str) -> PyResult<()> {
        let key = verifier(public_key)?;
        let proof = to_value(proof)?;
        let bad = |err: serde_json::Error| aims_error(format!("not a proof document: {err}"));
        if proof.get("index").is_some() {
            let proof: InclusionProof = serde_json::from_value(proof).map_err(bad)?;
            proof.verify(&key).map_err(integrity)
        } else {
            let proof: ConsistencyProof = serde_json::from_value(proof).map_err(bad)?;
            proof.verify(&key).map_err(integrity)
        }
    }

    /// Records in the log.
    fn __len__(&self) -> usize {
        usize::try_from(self.inner.len()).unwrap_or(usize::MAX)
    }

    /// The log's directory.
    #[getter]
    fn dir(&self) -> String {
        self.inner.dir().display().to_string()
    }

    /// The verifier (public) key of the key that signs this log's checkpoints.
    #[getter]
    fn public_key(&self) -> String {
        self.inner.verifier().to_string()
    }

    /// Makes every record durable.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.flush())
            .map_err(|err| audit_error(&err))
    }

    /// Signs a checkpoint of every record now and returns its note text.
    fn checkpoint(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.inner.checkpoint())
            .map(|signed| signed.note)
            .map_err(|err| audit_error(&err))
    }
}
