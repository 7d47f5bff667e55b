//! The streaming reader of a records file: checks every frame, every record's index and
//! `prev` chain, and every `checkpoint` record's root, while feeding the leaf hashes to a
//! tree. Tells a torn tail (what a crash leaves) from damage before the tail.

use std::io::{self, Read};

use super::error::Integrity;
use super::frame::{FrameError, FrameReader};
use super::merkle::{leaf_hash, Accumulator, Hash};
use super::record;
use super::AuditEvent;

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOutcome {
    /// Whole, valid records.
    pub records: u64,
    /// Bytes those records occupy (the offset a torn tail starts at).
    pub valid_bytes: u64,
    /// Why the bytes after the valid records are a torn tail, when there are any.
    pub torn: Option<String>,
    /// Roots captured at the sizes asked for (those not above `records`).
    pub roots: Vec<(u64, Hash)>,
    /// The leaf hash of the last record (zeros for an empty log).
    pub last_leaf: Hash,
    /// The newest `checkpoint` record: (its index, the tree size it records).
    pub newest_anchor: Option<(u64, u64)>,
}

impl ScanOutcome {
    /// The root captured at `size`, if it was asked for and reached.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        self.roots
            .iter()
            .find(|(captured, _)| *captured == size)
            .map(|(_, root)| *root)
    }
}

/// Why a scan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading failed.
    #[error("reading the records failed: {0}")]
    Io(#[from] io::Error),
    /// The records are damaged or altered before the tail.
    #[error("{0}")]
    Integrity(Integrity),
}

/// Scans `reader` from the first record. `capture` lists tree sizes whose roots to keep;
/// `visit` sees each valid record's index and payload, in order.
pub fn scan<R: Read, A: Accumulator>(
    reader: R,
    tree: &mut A,
    capture: &[u64],
    mut visit: impl FnMut(u64, &[u8]),
) -> Result<ScanOutcome, ScanError> {
    let mut frames = FrameReader::new(reader);
    let mut prev: Hash = [0; 32];
    let mut roots = Vec::new();
    let mut newest_anchor = None;
    let mut torn = None;
    loop {
        let index = tree.len();
        if capture.contains(&index) && !roots.iter().any(|(size, _)| *size == index) {
            roots.push((index, tree.root()));
        }
        let payload = match frames.next_frame() {
            Ok(Some(payload)) => payload,
            Ok(None) => break,
            Err(FrameError::Io(err)) => return Err(ScanError::Io(err)),
            Err(err @ FrameError::Truncated { .. }) => {
                torn = Some(err.to_string());
                break;
            }
            Err(err) => {
                let reason = err.to_string();
                if frames.rest_is_zero()? {
                    torn = Some(reason);
                    break;
                }
                return Err(ScanError::Integrity(Integrity::at(
                    index,
                    format!("{reason}, and data follows it: the file was damaged or altered"),
                )));
            }
        };
        check_record(index, payload, &prev, tree, &mut newest_anchor)?;
        visit(index, payload);
        let leaf = leaf_hash(payload);
        tree.push(leaf);
        prev = leaf;
    }
    Ok(ScanOutcome {
        records: tree.len(),
        valid_bytes: frames.offset(),
        torn,
        roots,
        last_leaf: prev,
        newest_anchor,
    })
}

fn check_record<A: Accumulator>(
    index: u64,
    payload: &[u8],
    prev: &Hash,
    tree: &A,
    newest_anchor: &mut Option<(u64, u64)>,
) -> Result<(), ScanError> {
    let fail = |index, reason: String| Err(ScanError::Integrity(Integrity::at(index, reason)));
    let trailer = match record::trailer(payload) {
        Ok(trailer) => trailer,
        Err(err) => return fail(index, err.to_string()),
    };
    if trailer.index != index {
        return fail(
            index,
            format!(
                "the record at position {index} says it is record {}: records were removed, \
                 inserted or reordered",
                trailer.index
            ),
        );
    }
    if trailer.prev != *prev {
        // The CRC held, so the record was written whole: the previous record's bytes (or
        // this record's prev member) changed after the fact.
        return fail(
            index.saturating_sub(1),
            format!(
                "its hash does not match the prev member of record {index}: the record was \
                 altered or replaced"
            ),
        );
    }
    if record::is_checkpoint(payload) {
        let anchor = match record::decode(payload) {
            Ok(record::Record {
                event: AuditEvent::Checkpoint(anchor),
                ..
            }) => anchor,
            Ok(_) => return fail(index, "a malformed checkpoint record".into()),
            Err(err) => return fail(index, err.to_string()),
        };
        if anchor.tree_size != index || anchor.root_hash != hex::encode(tree.root()) {
            return fail(
                index,
                format!(
                    "the checkpoint record (size {}, root {}) does not match the records \
                     before it",
                    anchor.tree_size, anchor.root_hash
                ),
            );
        }
        *newest_anchor = Some((index, anchor.tree_size));
    }
    Ok(())
}
