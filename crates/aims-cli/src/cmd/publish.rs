//! `aims audit publish|receipt|verify-receipt`: the log in forms standard tools read, the
//! C2SP `tlog-tiles` layout for tiles clients and mirrors, and COSE receipts (RFC 9942) of
//! single records for SCITT-style verifiers.

use std::io::Write;
use std::path::{Path, PathBuf};

use aims_core::audit::checkpoint::SignedCheckpoint;
use aims_core::audit::keys::{NoteSigner, NoteVerifier};
use aims_core::audit::tiles::publish_tiles;
use aims_core::audit::{receipt, AuditError, Integrity, LogSnapshot, VerifyOptions};

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The log directory.
    dir: PathBuf,
    /// The directory to write `checkpoint` and `tile/...` into (served as is by any static
    /// web server).
    #[arg(long = "tiles", value_name = "OUT")]
    out: PathBuf,
    /// The trusted public key the log is verified with before publishing (default: the log's
    /// own signer.pub).
    #[arg(long)]
    pubkey: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ReceiptArgs {
    /// The log directory.
    dir: PathBuf,
    /// The record's index.
    #[arg(long)]
    index: u64,
    /// The log's signing key: the receipt is signed with it, and only over the root of a
    /// stored checkpoint it signed.
    #[arg(long)]
    key: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct VerifyReceiptArgs {
    /// The receipt file (COSE_Sign1).
    receipt: PathBuf,
    /// The log's public key (KEY.pub).
    #[arg(long)]
    pubkey: PathBuf,
    /// The record's payload as `aims audit show DIR --json` prints it (one trailing newline
    /// is ignored).
    #[arg(long)]
    record: PathBuf,
}

pub fn publish(args: &PublishArgs) -> Result<(), AuditError> {
    let options = VerifyOptions {
        public_key: args.pubkey.as_deref().map(NoteVerifier::read).transpose()?,
        ..VerifyOptions::default()
    };
    let report = publish_tiles(&args.dir, &options, &args.out)?;
    println!(
        "published {} records of {} to {}: {} hash tiles, {} entry bundles, checkpoint",
        report.size,
        report.origin,
        args.out.display(),
        report.hash_tiles,
        report.entry_bundles
    );
    Ok(())
}

pub fn issue_receipt(args: &ReceiptArgs) -> Result<(), AuditError> {
    let signer = NoteSigner::read(&args.key)?;
    let proof = LogSnapshot::open(&args.dir)?.prove_inclusion(args.index)?;
    // Checks the record, the path and that this key signed the checkpoint, so the receipt
    // vouches only for a root the log's key already vouched for.
    proof
        .verify(&signer.verifier())
        .map_err(AuditError::Integrity)?;
    let signed = SignedCheckpoint::parse(&proof.checkpoint)
        .map_err(|err| AuditError::Integrity(Integrity::whole(err.to_string())))?;
    let path = proof
        .hashes
        .iter()
        .map(|hash| {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(hash, &mut bytes).map(|()| bytes)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| AuditError::Failed(format!("a proof hash: {err}")))?;
    let bytes = receipt::issue(
        &signer,
        proof.tree_size,
        proof.index,
        &path,
        &signed.checkpoint.root,
    )
    .map_err(|err| AuditError::Failed(err.to_string()))?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&bytes)
        .and_then(|()| stdout.flush())
        .map_err(AuditError::io("<stdout>"))
}

pub fn verify_receipt(args: &VerifyReceiptArgs) -> Result<(), AuditError> {
    let key = NoteVerifier::read(&args.pubkey)?;
    let bytes = read(&args.receipt)?;
    let mut record = read(&args.record)?;
    if record.last() == Some(&b'\n') {
        record.pop();
    }
    let proved = receipt::verify(&bytes, &key, &record)
        .map_err(|err| AuditError::Integrity(Integrity::whole(err.to_string())))?;
    println!(
        "ok: the record is entry {} of the log's tree of {} records (root {}), signed by {}",
        proved.leaf_index,
        proved.tree_size,
        hex::encode(proved.root),
        key.name()
    );
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, AuditError> {
    std::fs::read(path).map_err(AuditError::io(path))
}
