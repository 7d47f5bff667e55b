//! Offline verification of a log directory with nothing but a public key: every frame, the
//! record chain, every checkpoint record, and the signed checkpoint (stored, and optionally
//! one the auditor kept). Streams the records with O(log n) memory. Also the read-only
//! snapshot the CLI proves and lists from, which takes no lock.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::checkpoint::SignedCheckpoint;
use super::error::{AuditError, Integrity};
use super::files::{self, Layout};
use super::frame::{framed_len, HEADER_LEN};
use super::keys::NoteVerifier;
use super::log::{check_against_checkpoint, read_checkpoint, read_signer_pub, scan_error};
use super::merkle::{Accumulator, CompactRange, MerkleTree};
use super::proof::{ConsistencyProof, InclusionProof};
use super::scan::{scan, ScanOutcome};
use super::trust::KeyChain;

/// What to verify against.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The trusted verifier key; `None` uses the log's own `signer.pub`, which proves
    /// integrity only against someone who could not rewrite the directory.
    pub public_key: Option<NoteVerifier>,
    /// A checkpoint the auditor kept (its note text): the log must still contain it.
    pub checkpoint: Option<String>,
}

/// An intact log, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The log's origin line.
    pub origin: String,
    /// The stored signed checkpoint the log was checked against (its note text).
    pub checkpoint: String,
    /// Whole records.
    pub records: u64,
    /// Bytes of records.
    pub bytes: u64,
    /// Records covered by the stored signed checkpoint.
    pub signed_size: u64,
    /// The size of the auditor's checkpoint, when one was given.
    pub external_size: Option<u64>,
    /// A torn tail after the signed records (a crash; the next open truncates it).
    pub torn_tail: Option<String>,
    /// The key was taken from the log directory itself.
    pub key_from_log: bool,
}

/// Verifies the log in `dir`. `Err(AuditError::Integrity)` means tampered or damaged, with
/// the first bad index when one can be named; other errors are I/O or usage.
pub fn verify(dir: &Path, options: &VerifyOptions) -> Result<VerifyReport, AuditError> {
    verify_each(dir, options, |_, _| {})
}

/// How many times verification re-reads a checkpoint that a live writer replaced while the
/// records were being read, before it reports what it found.
const LIVE_ATTEMPTS: usize = 8;

/// [`verify`], handing every record payload that passed the frame and chain checks to
/// `visit` on the way (index, payload), so a reader needs one pass over a large log. The
/// records seen before a failure are visited; the result says whether they can be trusted.
///
/// A live log is verified up to the checkpoint its writer published last: when a finding
/// could come from the writer replacing its checkpoint during the read (a newer
/// `checkpoint` record, an unsigned tail the writer just signed), the checkpoint file is
/// read again, and the check is repeated against the new one. Each record is visited once.
pub fn verify_each(
    dir: &Path,
    options: &VerifyOptions,
    mut visit: impl FnMut(u64, &[u8]),
) -> Result<VerifyReport, AuditError> {
    let layout = Layout::new(dir);
    let mut visited = 0u64;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let stored = stored_checkpoint(&layout)?;
        let found = verify_against(&layout, options, &stored, |index, payload| {
            if index >= visited {
                visited = index + 1;
                visit(index, payload);
            }
        });
        match found {
            Err(AuditError::Integrity(_)) | Ok(Found::UnsignedTail(..))
                if attempt < LIVE_ATTEMPTS
                    && stored_checkpoint(&layout).is_ok_and(|now| now.note != stored.note) =>
            {
                continue;
            }
            Err(err) => return Err(err),
            Ok(Found::Intact(report)) => return Ok(report),
            Ok(Found::UnsignedTail(report)) => {
                return Err(AuditError::Integrity(Integrity::at(
                    report.signed_size,
                    format!(
                        "records {} to {} are not covered by a signed checkpoint and no writer \
                         holds the log: a crash, or records rewritten after an old checkpoint \
                         was put back. Opening the log with its key authenticates and signs \
                         them, or refuses them as tampering",
                        report.signed_size,
                        report.records - 1
                    ),
                )))
            }
        }
    }
}

/// What one pass found, short of tampering.
enum Found {
    /// Intact (with a writer live, records after the signed checkpoint are reported).
    Intact(VerifyReport),
    /// Intact up to the signed checkpoint, followed by records nobody signed although no
    /// writer holds the log.
    UnsignedTail(VerifyReport),
}

/// One pass: the records against the stored checkpoint `stored`.
fn verify_against(
    layout: &Layout,
    options: &VerifyOptions,
    stored: &SignedCheckpoint,
    visit: impl FnMut(u64, &[u8]),
) -> Result<Found, AuditError> {
    let (key, key_from_log) = match &options.public_key {
        Some(key) => (key.clone(), false),
        None => (
            read_signer_pub(layout)?.ok_or_else(|| AuditError::NotALog {
                path: layout.dir().to_path_buf(),
                reason: "signer.pub is missing; give the public key".into(),
            })?,
            true,
        ),
    };
    let external = options
        .checkpoint
        .as_deref()
        .map(|note| parse_external(note, stored))
        .transpose()?;

    let size = stored.checkpoint.size;
    let mut capture = vec![size];
    capture.extend(external.as_ref().map(|e| e.checkpoint.size));
    let (outcome, bytes) = scan_file(layout, &mut CompactRange::new(), &capture, visit)?;

    // The trusted key, and every key it endorsed: the stored checkpoint must be signed by
    // one of them. A key that only `signer.pub` or an unendorsed rotation names is not.
    let origin = &stored.checkpoint.origin;
    let mut chain = KeyChain::new(key.clone());
    chain.follow(outcome.rotations.iter().map(|(_, r)| r), origin);
    if chain.signer_of(stored).is_none() {
        return Err(AuditError::Integrity(Integrity::whole(format!(
            "the stored checkpoint is signed neither by {key} nor by a key it endorsed: the \
             log was re-signed by someone else (a laundered key rotation?)"
        ))));
    }
    check_against_checkpoint(stored, outcome.records, outcome.root_at(size))?;
    if let Some(external) = &external {
        // Records the trusted signature covers name the keys they replaced: checkpoints
        // signed before a rotation remain valid.
        chain.accept_predecessors(
            outcome
                .rotations
                .iter()
                .filter(|(index, _)| *index < size)
                .map(|(_, r)| r),
            origin,
        );
        if chain.signer_of(external).is_none() {
            return Err(AuditError::Integrity(Integrity::whole(format!(
                "the given checkpoint is signed neither by {key} nor by a key in the log's \
                 chain of endorsed keys"
            ))));
        }
        let outside = external.checkpoint.size;
        check_against_checkpoint(external, outcome.records, outcome.root_at(outside))?;
        if outside > size {
            return Err(AuditError::Integrity(Integrity::whole(format!(
                "the stored checkpoint covers {size} records, fewer than the given checkpoint \
                 ({outside}): an old checkpoint was put back"
            ))));
        }
    }
    if let Some((index, anchored)) = outcome.newest_anchor {
        if anchored > size {
            return Err(AuditError::Integrity(Integrity::at(
                index,
                format!(
                    "this checkpoint record covers {anchored} records but the stored checkpoint \
                     only {size}: an old checkpoint was put back"
                ),
            )));
        }
    }
    let report = VerifyReport {
        checkpoint: stored.note.clone(),
        origin: stored.checkpoint.origin.clone(),
        records: outcome.records,
        bytes,
        signed_size: size,
        external_size: external.map(|e| e.checkpoint.size),
        torn_tail: outcome.torn,
        key_from_log,
    };
    if report.records > size && !writer_is_live(layout)? {
        return Ok(Found::UnsignedTail(report));
    }
    Ok(Found::Intact(report))
}

/// True when a writer holds the log's lock: records it has not signed yet are expected.
fn writer_is_live(layout: &Layout) -> Result<bool, AuditError> {
    let path = layout.path(files::LOCK);
    let lock = match File::open(&path) {
        Ok(lock) => lock,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(AuditError::io(&path)(err)),
    };
    // A shared lock is held only for this instant; a writer opening meanwhile retries.
    match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockShared) {
        Ok(()) => Ok(false),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(true),
        Err(errno) => Err(AuditError::Io {
            path,
            source: errno.into(),
        }),
    }
}

fn stored_checkpoint(layout: &Layout) -> Result<SignedCheckpoint, AuditError> {
    match read_checkpoint(layout)? {
        Some(stored) => Ok(stored),
        None if layout.path(files::RECORDS).exists() => Err(AuditError::Integrity(
            Integrity::whole("the checkpoint file is missing"),
        )),
        None => Err(AuditError::NotALog {
            path: layout.dir().to_path_buf(),
            reason: "no checkpoint and no records file".into(),
        }),
    }
}

fn parse_external(note: &str, stored: &SignedCheckpoint) -> Result<SignedCheckpoint, AuditError> {
    let external = SignedCheckpoint::parse(note).map_err(|err| {
        AuditError::Integrity(Integrity::whole(format!("the given checkpoint: {err}")))
    })?;
    if external.checkpoint.origin != stored.checkpoint.origin {
        return Err(AuditError::Integrity(Integrity::whole(format!(
            "the given checkpoint is for log {:?}, not {:?}",
            external.checkpoint.origin, stored.checkpoint.origin
        ))));
    }
    Ok(external)
}

/// Scans the records file of `layout`; returns the outcome and the file's length.
fn scan_file<A: Accumulator>(
    layout: &Layout,
    tree: &mut A,
    capture: &[u64],
    visit: impl FnMut(u64, &[u8]),
) -> Result<(ScanOutcome, u64), AuditError> {
    let path = layout.path(files::RECORDS);
    let file = File::open(&path).map_err(AuditError::io(&path))?;
    let len = file.metadata().map_err(AuditError::io(&path))?.len();
    let outcome = scan(
        // The scan reads blocks of megabytes itself: a buffer in between would only copy.
        file, tree, capture, visit,
    )
    .map_err(|err| scan_error(err, &path))?;
    Ok((outcome, len))
}

/// A read-only view of a log for proofs and listings: scanned and checked against its
/// stored checkpoint's root, without the writer lock or a signature check (the proofs carry
/// the signed checkpoint for the recipient to check).
#[derive(Debug)]
pub struct LogSnapshot {
    layout: Layout,
    checkpoint: SignedCheckpoint,
    tree: MerkleTree,
    offsets: Vec<u64>,
}

impl LogSnapshot {
    /// Reads the log in `dir`.
    pub fn open(dir: &Path) -> Result<Self, AuditError> {
        let layout = Layout::new(dir);
        let checkpoint = stored_checkpoint(&layout)?;
        let mut tree = MerkleTree::new();
        let mut offsets = Vec::new();
        let mut end = 0;
        let size = checkpoint.checkpoint.size;
        let (outcome, _) = scan_file(&layout, &mut tree, &[size], |_, payload| {
            offsets.push(end);
            end += framed_len(payload.len());
        })?;
        check_against_checkpoint(&checkpoint, outcome.records, outcome.root_at(size))?;
        Ok(Self {
            layout,
            checkpoint,
            tree,
            offsets,
        })
    }

    /// The stored signed checkpoint.
    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.checkpoint
    }

    /// Whole records.
    pub fn len(&self) -> u64 {
        self.tree.len()
    }

    /// True when the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// The inclusion proof of record `index` against the stored checkpoint.
    pub fn prove_inclusion(&self, index: u64) -> Result<InclusionProof, AuditError> {
        let payload = self.payload(index)?;
        InclusionProof::build(&self.tree, &self.checkpoint, index, &payload)
    }

    /// The consistency proof from `old` (a checkpoint of this log) to the stored one.
    /// Fails with an integrity error when `old` is not a prefix of this log.
    pub fn prove_consistency(
        &self,
        old: &SignedCheckpoint,
    ) -> Result<ConsistencyProof, AuditError> {
        let old_size = old.checkpoint.size;
        if old.checkpoint.origin != self.checkpoint.checkpoint.origin {
            return Err(AuditError::Integrity(Integrity::whole(format!(
                "the old checkpoint is for log {:?}, not {:?}",
                old.checkpoint.origin, self.checkpoint.checkpoint.origin
            ))));
        }
        if old_size > self.checkpoint.checkpoint.size {
            return Err(AuditError::Integrity(Integrity::whole(format!(
                "the old checkpoint covers {old_size} records, more than the stored one ({}): \
                 the log lost records or its checkpoint was replaced",
                self.checkpoint.checkpoint.size
            ))));
        }
        let proof = ConsistencyProof::build(&self.tree, &self.checkpoint, old_size)?;
        if proof.old_root != hex::encode(old.checkpoint.root) {
            return Err(AuditError::Integrity(Integrity::at(
                old_size.saturating_sub(1),
                format!("the log's first {old_size} records do not match the old checkpoint"),
            )));
        }
        Ok(proof)
    }

    fn payload(&self, index: u64) -> Result<Vec<u8>, AuditError> {
        let path = self.layout.path(files::RECORDS);
        let start = usize::try_from(index)
            .ok()
            .and_then(|at| self.offsets.get(at))
            .ok_or(AuditError::Proof(
                super::merkle::ProofError::IndexOutOfRange {
                    index,
                    size: self.len(),
                },
            ))?;
        let mut file = File::open(&path).map_err(AuditError::io(&path))?;
        let mut header = [0u8; HEADER_LEN as usize];
        file.seek(SeekFrom::Start(*start))
            .and_then(|_| file.read_exact(&mut header))
            .map_err(AuditError::io(&path))?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let mut payload = vec![0u8; len as usize];
        file.read_exact(&mut payload)
            .map_err(AuditError::io(&path))?;
        Ok(payload)
    }
}

/// Streams every valid record payload of the log in `dir`, in order, with its index
/// (checking frames and the chain as it goes).
pub fn for_each_record(dir: &Path, visit: impl FnMut(u64, &[u8])) -> Result<u64, AuditError> {
    let layout = Layout::new(dir);
    let (outcome, _) = scan_file(&layout, &mut CompactRange::new(), &[], visit)?;
    Ok(outcome.records)
}
