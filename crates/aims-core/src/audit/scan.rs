//! The streaming reader of a records file: checks every frame, every record's index and
//! `prev` chain, and every `checkpoint` record's root, while feeding the leaf hashes to a
//! tree. Tells a torn tail (what a crash leaves) from damage before the tail.
//!
//! The file is read in blocks of whole frames. Within a block, the per-record work that
//! depends on nothing before it (CRC, the trailer's index and `prev`, the leaf hash: most of
//! the cost) is spread over the machine's cores; the checks that chain records together and
//! the tree fold then run in order, so results and error positions are those of a plain
//! one-record-at-a-time reader.

use std::io::{self, Read};
use std::num::NonZeroUsize;

use super::error::Integrity;
use super::frame::{BlockReader, FrameError, Located, Tag, HEADER_LEN};
use super::merkle::{leaf_hash, Accumulator, Hash};
use super::record::{self, RecordError, Trailer};
use super::{AuditEvent, KeyRotatedEvent};

/// What a scan found.
#[derive(Debug, Clone, PartialEq)]
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
    /// Every `key_rotated` record, with its index, in order.
    pub rotations: Vec<(u64, KeyRotatedEvent)>,
}

/// One valid record, as a scan hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// Its index.
    pub index: u64,
    /// Its payload.
    pub payload: &'a [u8],
    /// Its leaf hash.
    pub leaf: &'a Hash,
    /// The tag the writer framed it with.
    pub tag: &'a Tag,
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

/// How a scan reads and spreads its work.
#[derive(Debug, Clone, Copy)]
pub struct ScanConfig {
    /// Bytes read per block (a larger frame grows the block to hold it).
    pub block_bytes: usize,
    /// Threads that check and hash a block's frames (the calling thread is one of them).
    pub workers: usize,
    /// Blocks with fewer frames are checked on the calling thread alone: starting threads
    /// would cost more than it saves.
    pub parallel_min_frames: usize,
}

impl Default for ScanConfig {
    /// 4 MiB blocks, one worker per core up to 8.
    fn default() -> Self {
        Self {
            block_bytes: 4 << 20,
            workers: std::thread::available_parallelism()
                .map_or(1, NonZeroUsize::get)
                .min(8),
            parallel_min_frames: 1024,
        }
    }
}

/// Scans `reader` from the first record with the default [`ScanConfig`]. `capture` lists
/// tree sizes whose roots to keep; `visit` sees each valid record's index and payload, in
/// order.
pub fn scan<R: Read, A: Accumulator>(
    reader: R,
    tree: &mut A,
    capture: &[u64],
    visit: impl FnMut(u64, &[u8]),
) -> Result<ScanOutcome, ScanError> {
    scan_with(ScanConfig::default(), reader, tree, capture, visit)
}

/// What the order-independent part of checking found for one frame.
struct Checked {
    crc: u32,
    trailer: Result<Trailer, RecordError>,
    leaf: Hash,
}

fn check_frame(block: &[u8], frame: &Located) -> Checked {
    let payload = frame.payload(block);
    Checked {
        crc: crc32c::crc32c(frame.body(block)),
        trailer: record::trailer(payload),
        leaf: leaf_hash(payload),
    }
}

/// Checks a block's frames, spread over `config.workers` threads; results in frame order.
fn check_frames(config: &ScanConfig, block: &[u8], frames: &[Located], out: &mut Vec<Checked>) {
    out.clear();
    if config.workers < 2 || frames.len() < config.parallel_min_frames.max(2) {
        out.extend(frames.iter().map(|frame| check_frame(block, frame)));
        return;
    }
    let share = frames.len().div_ceil(config.workers);
    std::thread::scope(|scope| {
        let mut shares = frames.chunks(share);
        let own = shares.next().unwrap_or_default();
        let others: Vec<_> = shares
            .map(|frames| {
                scope.spawn(move || {
                    frames
                        .iter()
                        .map(|frame| check_frame(block, frame))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        out.extend(own.iter().map(|frame| check_frame(block, frame)));
        for other in others {
            // A worker only hashes and parses; a panic there is a bug worth propagating.
            match other.join() {
                Ok(checked) => out.extend(checked),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
}

/// The first frame that is not a record, and what to make of it.
enum Damage {
    /// A bad frame; a torn tail when every byte from `zero_from` on is zero.
    Frame { zero_from: u64, reason: String },
    /// The stream ends inside a frame: always a torn tail.
    CutShort(String),
}

/// [`scan`] with an explicit configuration.
pub fn scan_with<R: Read, A: Accumulator>(
    config: ScanConfig,
    reader: R,
    tree: &mut A,
    capture: &[u64],
    mut visit: impl FnMut(u64, &[u8]),
) -> Result<ScanOutcome, ScanError> {
    scan_entries(config, reader, tree, capture, |entry| {
        visit(entry.index, entry.payload);
        Ok(())
    })
}

/// [`scan_with`], handing each record over with its leaf hash and tag; `visit` may stop the
/// scan with an integrity failure (e.g. a tag that does not authenticate).
pub fn scan_entries<R: Read, A: Accumulator>(
    config: ScanConfig,
    reader: R,
    tree: &mut A,
    capture: &[u64],
    mut visit: impl FnMut(Entry<'_>) -> Result<(), Integrity>,
) -> Result<ScanOutcome, ScanError> {
    let mut blocks = BlockReader::new(reader, config.block_bytes);
    let mut checked = Vec::new();
    let mut prev: Hash = [0; 32];
    let mut roots = Vec::new();
    let mut newest_anchor = None;
    let mut rotations = Vec::new();
    let mut valid_bytes = 0;
    let capture_root = |tree: &A, roots: &mut Vec<(u64, Hash)>| {
        let index = tree.len();
        if capture.contains(&index) && !roots.iter().any(|(size, _)| *size == index) {
            roots.push((index, tree.root()));
        }
    };
    let damage = loop {
        if !blocks.next_block()? {
            break blocks.stop().map(|stop| match stop {
                FrameError::Truncated { .. } => Damage::CutShort(stop.to_string()),
                _ => Damage::Frame {
                    // What follows the header of a frame with an impossible length.
                    zero_from: stop.offset() + HEADER_LEN,
                    reason: stop.to_string(),
                },
            });
        }
        let block = blocks.block();
        check_frames(&config, block, blocks.frames(), &mut checked);
        let mut bad_crc = None;
        for (frame, checked) in blocks.frames().iter().zip(checked.drain(..)) {
            capture_root(tree, &mut roots);
            if checked.crc != frame.stored_crc {
                let error = FrameError::BadCrc {
                    offset: frame.offset,
                    stored: frame.stored_crc,
                    computed: checked.crc,
                };
                bad_crc = Some(Damage::Frame {
                    zero_from: frame.end_offset(),
                    reason: error.to_string(),
                });
                break;
            }
            let index = tree.len();
            let payload = frame.payload(block);
            check_record(
                index,
                payload,
                checked.trailer,
                &prev,
                tree,
                &mut newest_anchor,
                &mut rotations,
            )?;
            visit(Entry {
                index,
                payload,
                leaf: &checked.leaf,
                tag: &frame.tag(block),
            })
            .map_err(ScanError::Integrity)?;
            tree.push(checked.leaf);
            prev = checked.leaf;
            valid_bytes = frame.end_offset();
        }
        if bad_crc.is_some() {
            break bad_crc;
        }
    };
    capture_root(tree, &mut roots);
    let torn = match damage {
        None => None,
        Some(Damage::CutShort(reason)) => Some(reason),
        Some(Damage::Frame { zero_from, reason }) => {
            if !blocks.rest_is_zero_from(zero_from)? {
                return Err(ScanError::Integrity(Integrity::at(
                    tree.len(),
                    format!("{reason}, and data follows it: the file was damaged or altered"),
                )));
            }
            Some(reason)
        }
    };
    Ok(ScanOutcome {
        records: tree.len(),
        valid_bytes,
        torn,
        roots,
        last_leaf: prev,
        newest_anchor,
        rotations,
    })
}

fn check_record<A: Accumulator>(
    index: u64,
    payload: &[u8],
    trailer: Result<Trailer, RecordError>,
    prev: &Hash,
    tree: &A,
    newest_anchor: &mut Option<(u64, u64)>,
    rotations: &mut Vec<(u64, KeyRotatedEvent)>,
) -> Result<(), ScanError> {
    let fail = |index, reason: String| Err(ScanError::Integrity(Integrity::at(index, reason)));
    let trailer = match trailer {
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
    if record::is_key_rotation(payload) {
        match record::decode(payload) {
            Ok(record::Record {
                event: AuditEvent::KeyRotated(rotation),
                ..
            }) => rotations.push((index, rotation)),
            Ok(_) => return fail(index, "a malformed key_rotated record".into()),
            Err(err) => return fail(index, err.to_string()),
        }
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
