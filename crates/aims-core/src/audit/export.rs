//! Offline-first evidence export: a device that logs while offline hands its records to a
//! collector in increments, and the collector checks that each increment continues exactly
//! what it already accepted.
//!
//! An [`AuditExport`] carries the records after a checkpoint the collector holds, the
//! *frontier* of the tree before them (the roots of its perfect subtrees, O(log n) hashes)
//! and a signed checkpoint after them. The collector rebuilds the frontier's root and checks
//! it is the root of its checkpoint, appends the leaf hash of every record in the export and
//! checks it reaches the new signed root. That proves more than an RFC 9162 consistency proof:
//! the old tree is a prefix of the new one *and* the records shipped are exactly the leaves in
//! between, in order, none left out.

use serde::{Deserialize, Serialize};

use super::checkpoint::SignedCheckpoint;
use super::error::{AuditError, Integrity};
use super::keys::NoteVerifier;
use super::merkle::{leaf_hash, Accumulator, CompactRange, Hash};
use super::record;
use super::verify::for_each_record;
use super::AuditLog;

/// The value of [`AuditExport::format`].
pub const EXPORT_FORMAT: &str = "aims-audit-export/1";

/// The records of a log after a checkpoint, with what a collector needs to check them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditExport {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// The log's origin line.
    pub origin: String,
    /// The number of records before this export (the size of the checkpoint it continues).
    pub from_size: u64,
    /// The perfect-subtree roots of the first `from_size` records, hex, left to right.
    pub frontier: Vec<String>,
    /// Records `from_size ..` as canonical JSON payloads, in order.
    pub records: Vec<String>,
    /// The signed checkpoint note covering `from_size + records.len()` records.
    pub checkpoint: String,
}

/// An export the collector accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// The log's origin line.
    pub origin: String,
    /// Records before the export.
    pub from_size: u64,
    /// Records after it: the size of [`ExportReport::checkpoint`].
    pub to_size: u64,
    /// The new signed checkpoint: what the collector keeps to check the next export against.
    pub checkpoint: SignedCheckpoint,
}

impl AuditLog {
    /// Signs a checkpoint of every record so far (it is also recorded in the log) and
    /// returns it: a few hundred bytes that commit the device to its log until now, to send
    /// ahead of the records or to keep as the start of the next [`AuditLog::export_since`].
    pub fn export_checkpoint(&self) -> Result<SignedCheckpoint, AuditError> {
        self.checkpoint()
    }

    /// The records after `since` (a checkpoint note of this log that the collector holds;
    /// `None` exports from the first record), up to a checkpoint signed now.
    ///
    /// Fails with an integrity error when `since` is not a checkpoint of this log's records:
    /// another log's, a size beyond this log, or a root its first records do not have.
    pub fn export_since(&self, since: Option<&str>) -> Result<AuditExport, AuditError> {
        let since = since
            .map(|note| {
                SignedCheckpoint::parse(note).map_err(|err| {
                    AuditError::Integrity(Integrity::whole(format!("the given checkpoint: {err}")))
                })
            })
            .transpose()?;
        if let Some(since) = &since {
            if since.checkpoint.origin != self.origin() {
                return Err(AuditError::Integrity(Integrity::whole(format!(
                    "the given checkpoint is for log {:?}, not {:?}",
                    since.checkpoint.origin,
                    self.origin()
                ))));
            }
        }
        let signed = self.checkpoint()?;
        let to_size = signed.checkpoint.size;
        let from_size = since.as_ref().map_or(0, |since| since.checkpoint.size);
        if from_size > to_size {
            return Err(AuditError::Integrity(Integrity::whole(format!(
                "the given checkpoint covers {from_size} records but this log has {to_size}: \
                 the log lost records or the checkpoint is not from it"
            ))));
        }
        let mut range = CompactRange::new();
        let mut frontier = None;
        let mut records = Vec::new();
        // `checkpoint` made the first `to_size` records durable, so they are all in the file.
        for_each_record(self.dir(), |index, payload| {
            if index == from_size {
                frontier = Some(range.clone());
            }
            if index < from_size {
                range.push(leaf_hash(payload));
            } else if index < to_size {
                records.push(String::from_utf8_lossy(payload).into_owned());
            }
        })?;
        let frontier = frontier.unwrap_or(range);
        if frontier.len() != from_size || records.len() as u64 != to_size - from_size {
            return Err(AuditError::Integrity(Integrity::whole(format!(
                "the records file holds fewer than the {to_size} records just signed"
            ))));
        }
        if let Some(since) = &since {
            if frontier.root() != since.checkpoint.root {
                return Err(AuditError::Integrity(Integrity::at(
                    from_size.saturating_sub(1),
                    format!(
                        "the log's first {from_size} records do not match the given checkpoint"
                    ),
                )));
            }
        }
        Ok(AuditExport {
            format: EXPORT_FORMAT.to_owned(),
            origin: self.origin().to_owned(),
            from_size,
            frontier: frontier.peaks().iter().map(hex::encode).collect(),
            records,
            checkpoint: signed.note,
        })
    }
}

impl AuditExport {
    /// Checks the export on the collector's side: the new checkpoint is signed by `key` and
    /// is for the same log as `since`; the export starts where `since` ends and its frontier
    /// has `since`'s root; every record holds its index and links to the one before; and the
    /// records extend the frontier to exactly the new checkpoint's root.
    ///
    /// `since` is the checkpoint the collector accepted last (from an earlier export or an
    /// [`AuditLog::export_checkpoint`]); it is trusted as is, so a key rotated in between
    /// does not break the chain. Without one, the export must start at the first record.
    pub fn verify(
        &self,
        key: &NoteVerifier,
        since: Option<&str>,
    ) -> Result<ExportReport, Integrity> {
        if self.format != EXPORT_FORMAT {
            return Err(Integrity::whole(format!(
                "the export's format is {:?}, expected {EXPORT_FORMAT:?}",
                self.format
            )));
        }
        let signed = SignedCheckpoint::parse(&self.checkpoint)
            .map_err(|err| Integrity::whole(format!("the export's checkpoint: {err}")))?;
        signed
            .verify(key)
            .map_err(|err| Integrity::whole(format!("the export's checkpoint: {err}")))?;
        if signed.checkpoint.origin != self.origin {
            return Err(Integrity::whole(format!(
                "the export says it is from log {:?} but its checkpoint is for {:?}",
                self.origin, signed.checkpoint.origin
            )));
        }
        let mut range = self.frontier_range()?;
        self.check_start(&range, since)?;
        let mut prev: Option<Hash> = None;
        for (offset, payload) in self.records.iter().enumerate() {
            let index = self.from_size + offset as u64;
            let trailer = record::trailer(payload.as_bytes())
                .map_err(|err| Integrity::at(index, err.to_string()))?;
            if trailer.index != index {
                return Err(Integrity::at(
                    index,
                    format!("the record says it is record {}", trailer.index),
                ));
            }
            if prev.is_some_and(|prev| prev != trailer.prev) {
                return Err(Integrity::at(
                    index,
                    "the record's prev is not the hash of the record before it: a record was \
                     removed, inserted or altered",
                ));
            }
            let leaf = leaf_hash(payload.as_bytes());
            range.push(leaf);
            prev = Some(leaf);
        }
        let to_size = signed.checkpoint.size;
        if range.len() != to_size {
            return Err(Integrity::whole(format!(
                "the export reaches record {} but its checkpoint covers {to_size}: records are \
                 missing or extra",
                range.len()
            )));
        }
        if range.root() != signed.checkpoint.root {
            return Err(Integrity::whole(
                "the records do not lead to the signed root: a record was altered, reordered or \
                 left out",
            ));
        }
        Ok(ExportReport {
            origin: self.origin.clone(),
            from_size: self.from_size,
            to_size,
            checkpoint: signed,
        })
    }

    fn frontier_range(&self) -> Result<CompactRange, Integrity> {
        let peaks = self
            .frontier
            .iter()
            .map(|text| {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(text, &mut hash)
                    .map_err(|_| Integrity::whole("a frontier hash is not a hex SHA-256 hash"))?;
                Ok(hash)
            })
            .collect::<Result<Vec<Hash>, Integrity>>()?;
        CompactRange::from_peaks(self.from_size, &peaks).map_err(|_| {
            Integrity::whole(format!(
                "the frontier has {} hashes; a tree of {} records has {}",
                peaks.len(),
                self.from_size,
                self.from_size.count_ones()
            ))
        })
    }

    /// The export must continue `since` exactly (or start at record 0 without one).
    fn check_start(&self, frontier: &CompactRange, since: Option<&str>) -> Result<(), Integrity> {
        let Some(note) = since else {
            if self.from_size != 0 {
                return Err(Integrity::whole(format!(
                    "the export starts at record {} but no checkpoint was given to continue",
                    self.from_size
                )));
            }
            return Ok(());
        };
        let since = SignedCheckpoint::parse(note)
            .map_err(|err| Integrity::whole(format!("the given checkpoint: {err}")))?;
        if since.checkpoint.origin != self.origin {
            return Err(Integrity::whole(format!(
                "the export is from log {:?}, the given checkpoint for {:?}",
                self.origin, since.checkpoint.origin
            )));
        }
        if since.checkpoint.size != self.from_size {
            return Err(Integrity::whole(format!(
                "the export starts at record {} but the given checkpoint ends at {}",
                self.from_size, since.checkpoint.size
            )));
        }
        if frontier.root() != since.checkpoint.root {
            return Err(Integrity::whole(
                "the records before the export are not those of the given checkpoint: the log \
                 was rewritten",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::keys::NoteSigner;
    use crate::audit::{AuditEvent, AuditSink, Durability, LogOptions, PolicyLoadedEvent};

    fn signer(seed: u8) -> NoteSigner {
        NoteSigner::from_seed("aims-export-test", [seed; 32]).unwrap()
    }

    fn open(dir: &std::path::Path) -> AuditLog {
        AuditLog::open(
            dir,
            LogOptions::new(signer(7)).durability(Durability::Strict),
        )
        .unwrap()
    }

    fn append(log: &AuditLog, n: usize) {
        append_named(log, "v", n);
    }

    fn append_named(log: &AuditLog, prefix: &str, n: usize) {
        for i in 0..n {
            log.append(AuditEvent::PolicyLoaded(PolicyLoadedEvent {
                policy_version: format!("{prefix}{i}"),
                source: "test".into(),
                rules: i,
                previous_version: None,
            }))
            .unwrap();
        }
    }

    #[test]
    fn increments_chain_from_checkpoint_to_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path());
        let key = signer(7).verifier();
        // Every size from 0 to 9 as a starting point exercises every frontier shape.
        let mut accepted: Option<String> = None;
        let mut total = 0;
        for batch in 0..10 {
            append(&log, batch);
            let export = log.export_since(accepted.as_deref()).unwrap();
            let report = export.verify(&key, accepted.as_deref()).unwrap();
            assert_eq!(report.from_size, total);
            assert_eq!(report.to_size, total + export.records.len() as u64);
            total = report.to_size;
            accepted = Some(report.checkpoint.note);
        }
        // Each export also recorded the checkpoint it was cut at.
        assert_eq!(total, log.len() - 1);
    }

    #[test]
    fn the_collector_refuses_altered_missing_or_foreign_records() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path());
        append(&log, 3);
        let first = log.export_checkpoint().unwrap();
        append(&log, 5);
        let export = log.export_since(Some(&first.note)).unwrap();
        let key = signer(7).verifier();
        export.verify(&key, Some(&first.note)).unwrap();

        // records[0] is the checkpoint record, records[2] the event "v1".
        let mut altered = export.clone();
        altered.records[2] = altered.records[2].replace("\"v1\"", "\"v9\"");
        assert!(export.records[2] != altered.records[2]);
        let err = altered.verify(&key, Some(&first.note)).unwrap_err();
        assert_eq!(err.index, Some(export.from_size + 3), "{err}");
        let mut altered_last = export.clone();
        altered_last.records[4] = altered_last.records[4].replace("\"v3\"", "\"v8\"");
        assert!(export.records[4] != altered_last.records[4]);
        assert!(altered_last.verify(&key, Some(&first.note)).is_err());

        let mut dropped = export.clone();
        dropped.records.pop();
        assert!(dropped.verify(&key, Some(&first.note)).is_err());

        let mut swapped = export.clone();
        swapped.records.swap(0, 1);
        assert_eq!(
            swapped.verify(&key, Some(&first.note)).unwrap_err().index,
            Some(export.from_size)
        );

        // The export does not continue the collector's checkpoint.
        let zero = log.export_since(None).unwrap();
        assert!(zero.verify(&key, Some(&first.note)).is_err());
        assert!(export.verify(&key, None).is_err());
        // Signed by a key the collector does not trust.
        assert!(export
            .verify(&signer(8).verifier(), Some(&first.note))
            .is_err());
    }

    #[test]
    fn a_rewritten_log_cannot_continue_a_checkpoint() {
        let original = tempfile::tempdir().unwrap();
        let log = open(original.path());
        append(&log, 3);
        let held = log.export_checkpoint().unwrap();
        drop(log);
        // Another log with the same key, origin and size but other records.
        let forged = tempfile::tempdir().unwrap();
        let options = LogOptions {
            origin: Some(held.checkpoint.origin.clone()),
            ..LogOptions::new(signer(7)).durability(Durability::Strict)
        };
        let other = AuditLog::open(forged.path(), options).unwrap();
        append_named(&other, "forged", 3);
        let own = other.export_checkpoint().unwrap();
        assert_eq!(own.checkpoint.size, held.checkpoint.size);
        append_named(&other, "more", 2);
        let err = other.export_since(Some(&held.note)).unwrap_err();
        assert!(matches!(err, AuditError::Integrity(_)), "{err}");
        // Cut from the forged log's own checkpoint, the collector still refuses it.
        let cut = other.export_since(Some(&own.note)).unwrap();
        let key = signer(7).verifier();
        cut.verify(&key, Some(&own.note)).unwrap();
        let err = cut.verify(&key, Some(&held.note)).unwrap_err();
        assert!(err.reason.contains("rewritten"), "{err}");
    }
}
