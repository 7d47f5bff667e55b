//! The durable audit log: one directory, one writer, appends from many threads in one
//! order, three durability modes, signed checkpoints, and recovery on open.
//!
//! Appends build the record under one mutex (so index, `prev` and timestamp are ordered) and
//! then make it as durable as the mode promises: `strict` writes and fsyncs before
//! returning; `batched` acknowledges only once a group commit that holds the record has
//! fsynced (leader/follower: the first waiter writes and syncs everything pending while the
//! others sleep on a commit counter and, woken, learn from an atomic that their record is
//! durable without taking the mutex again, so a commit does not wake a convoy of hundreds
//! of threads queueing for the lock); `none` buffers in memory and never syncs until
//! `flush`, a checkpoint or close. Any write or fsync error is fatal: the log refuses every
//! later append, so the guard denies.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::checkpoint::{Checkpoint, SignedCheckpoint};
use super::error::{AuditError, Integrity};
use super::files::{self, Layout};
use super::frame::{self, framed_len, HEADER_LEN, MAX_PAYLOAD, TAG_LEN};
use super::keys::{random_bytes, NoteSigner, NoteVerifier};
use super::merkle::{empty_root, leaf_hash, Accumulator, Hash, MerkleTree};
use super::proof::{ConsistencyProof, InclusionProof};
use super::record;
use super::scan::{scan_entries, ScanConfig, ScanError};
use super::trust::{self, TailKey};
use super::witness::{Cosigning, WitnessClient};
use super::{AuditEvent, AuditSink, CheckpointEvent, RecoveredEvent, SinkError};
use crate::canonical::{self, KeyedHasher};

/// How durable an append is when it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Written and fsynced before `append` returns (one fsync per record).
    Strict,
    /// Group commit: `append` returns once a group holding the record is fsynced. The
    /// committing thread waits up to `max_delay` for `max_entries` records to gather before
    /// it writes (zero delay: the fsync in progress is the gathering window).
    Batched {
        /// Records that make a group worth writing at once.
        max_entries: usize,
        /// The longest a committer waits for a group to fill.
        max_delay: Duration,
    },
    /// Buffered in memory; written when the buffer fills and fsynced only by `flush`, a
    /// checkpoint or close. A crash loses the unsynced tail.
    None,
}

impl Durability {
    /// `batched` with its defaults: groups of up to 512, no added delay.
    pub fn batched() -> Self {
        Self::Batched {
            max_entries: 512,
            max_delay: Duration::ZERO,
        }
    }
}

/// How long one thread goes on leading `batched` group commits before it returns from its
/// append and lets a waiting thread take over.
const LEADERSHIP: Duration = Duration::from_millis(5);

/// How `none` mode buffers before writing.
const NONE_BUFFER_BYTES: usize = 256 * 1024;

/// How a log is opened.
#[derive(Debug)]
pub struct LogOptions {
    /// The durability mode.
    pub durability: Durability,
    /// The key that signs checkpoints.
    pub signer: NoteSigner,
    /// The origin line of a new log (ignored for an existing one); a random
    /// `aims.local/audit/<hex>` when `None`.
    pub origin: Option<String>,
    /// Sign a checkpoint after this many records...
    pub checkpoint_every: u64,
    /// ...or when an append comes this long after the last checkpoint.
    pub checkpoint_interval: Duration,
    /// The witnesses asked to cosign each checkpoint; `None` reads the log directory's
    /// `witnesses` file (no file: no witnesses).
    pub witnesses: Option<WitnessClient>,
    /// The key `signer` replaces, to rotate: it must have signed the stored checkpoint, and
    /// it endorses `signer` in a `key_rotated` record. Without it, a log whose checkpoint is
    /// signed by any key but `signer` is refused.
    pub previous_signer: Option<NoteSigner>,
}

impl LogOptions {
    /// Batched durability, a checkpoint every 100,000 records or 10 seconds.
    pub fn new(signer: NoteSigner) -> Self {
        Self {
            durability: Durability::batched(),
            signer,
            origin: None,
            checkpoint_every: 100_000,
            checkpoint_interval: Duration::from_secs(10),
            witnesses: None,
            previous_signer: None,
        }
    }

    /// The same options, rotating from `previous` (the key that signed the log so far).
    pub fn rotate_from(mut self, previous: NoteSigner) -> Self {
        self.previous_signer = Some(previous);
        self
    }

    /// The same options with another durability mode.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }
}

/// What `open` did to bring the log back to a consistent state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Records found.
    pub records: u64,
    /// Bytes of torn tail truncated (a `recovered` record says so in the log).
    pub dropped_bytes: u64,
    /// The previous signing key, when this open rotated it.
    pub rotated_from: Option<String>,
}

struct State {
    tree: MerkleTree,
    /// Offset of each record's frame in the records file.
    offsets: Vec<u64>,
    /// Bytes of records, written or pending.
    end: u64,
    prev: Hash,
    /// Frames appended but not yet written to the file.
    pending: Vec<u8>,
    pending_entries: usize,
    /// Records known to be on stable storage.
    durable: u64,
    /// A group commit is writing outside the mutex.
    committing: bool,
    failed: Option<String>,
    latest: SignedCheckpoint,
    signed_at: Instant,
    /// `latest` was signed and the witnesses were not asked yet.
    unwitnessed: bool,
    /// What the witnesses answered last.
    witnessing: Option<Cosigning>,
}

/// The append-only, tamper-evident, crash-safe audit log. Implements [`AuditSink`].
pub struct AuditLog {
    layout: Layout,
    durability: Durability,
    checkpoint_every: u64,
    checkpoint_interval: Duration,
    signer: NoteSigner,
    /// Tags every record this writer appends.
    tail_key: TailKey,
    origin: String,
    hasher: KeyedHasher,
    witnesses: Option<WitnessClient>,
    records: File,
    state: Mutex<State>,
    /// Wakes a thread in `flush`, a checkpoint or close that waits for a group commit to
    /// end, and a committer that waits for its group to fill.
    durable_changed: Condvar,
    /// `State::durable`, published for batched appenders that wait without the mutex.
    durable_mark: AtomicU64,
    /// Bumped (under the mutex) whenever a group commit ends or the log fails; batched
    /// appenders sleep on it.
    commits: AtomicU32,
    /// A committer is leading group commits and will commit what is pending next, so a
    /// woken appender whose record missed the last group can go back to sleep.
    leading: AtomicBool,
    report: OpenReport,
    /// Held for the log's lifetime: the exclusive writer lock.
    _lock: File,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.layout.dir())
            .field("origin", &self.origin)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

type Guard<'a> = MutexGuard<'a, State>;

impl AuditLog {
    /// Opens the log in `dir`, creating it when absent. Takes the exclusive writer lock,
    /// truncates a torn tail (recording a `recovered` record), refuses a log that is damaged
    /// before its tail or shorter than or inconsistent with its signed checkpoint, and
    /// records a `key_rotated` record when `options.signer` is not the log's previous key.
    pub fn open(dir: impl AsRef<Path>, options: LogOptions) -> Result<Self, AuditError> {
        let layout = Layout::new(dir.as_ref());
        let dir_path = layout.dir().to_path_buf();
        layout
            .create_dir()
            .map_err(AuditError::io(dir_path.clone()))?;
        let lock = take_lock(&layout)?;
        let stored = match read_checkpoint(&layout)? {
            Some(stored) => stored,
            None => initialize(&layout, &options)?,
        };
        let secret = read_secret(&layout)?;
        let origin = stored.checkpoint.origin.clone();
        let own = options.signer.verifier();
        let previous = options
            .previous_signer
            .as_ref()
            .filter(|previous| previous.verifier() != own);
        // Only the key given, or the key it is endorsed to replace, may have signed the
        // log so far: whatever `signer.pub` says is an unauthenticated claim.
        let (tail_signer, rotation) =
            if stored.verify(&own).is_ok() {
                (&options.signer, None)
            } else if let Some(previous) = previous.filter(|p| stored.verify(&p.verifier()).is_ok())
            {
                (previous, Some(trust::endorse(previous, &origin, &own)))
            } else {
                return Err(AuditError::Integrity(Integrity::whole(format!(
                "the stored checkpoint is not signed by the key the log is opened with ({own}){}: \
                 a history signed by another key is refused (a key rotation needs the previous \
                 key, which endorses the new one)",
                if previous.is_some() { " nor by the previous key given" } else { "" }
            ))));
            };

        let records_path = layout.path(files::RECORDS);
        let reader = File::open(&records_path).map_err(AuditError::io(&records_path))?;
        let mut tree = MerkleTree::new();
        let mut offsets = Vec::new();
        let mut end = 0u64;
        let size = stored.checkpoint.size;
        let mut tail = TailCheck::new(TailKey::new(tail_signer, &origin), &own, &options.signer);
        let outcome = scan_entries(ScanConfig::default(), reader, &mut tree, &[size], |entry| {
            offsets.push(end);
            end += framed_len(entry.payload.len());
            if entry.index >= size {
                tail.check(&entry, &origin)?;
            }
            Ok(())
        })
        .map_err(|err| scan_error(err, &records_path))?;
        check_against_checkpoint(&stored, outcome.records, outcome.root_at(size))?;
        if let Some((index, anchored)) = outcome.newest_anchor {
            if anchored > size {
                return Err(AuditError::Integrity(Integrity::at(
                    index,
                    format!(
                        "this checkpoint record covers {anchored} records but the stored \
                         checkpoint only {size}: an old checkpoint was put back"
                    ),
                )));
            }
        }

        let records = files::open_append(&records_path).map_err(AuditError::io(&records_path))?;
        let file_len = records
            .metadata()
            .map_err(AuditError::io(&records_path))?
            .len();
        let dropped_bytes = file_len - outcome.valid_bytes;
        if dropped_bytes > 0 {
            records
                .set_len(outcome.valid_bytes)
                .and_then(|()| records.sync_all())
                .map_err(AuditError::io(&records_path))?;
        }

        let report = OpenReport {
            records: outcome.records,
            dropped_bytes,
            rotated_from: rotation.as_ref().map(|r| r.previous_key.clone()),
        };
        let witnesses = match options.witnesses {
            Some(witnesses) => Some(witnesses),
            None => WitnessClient::for_log_dir(&dir_path).map_err(|err| AuditError::NotALog {
                path: dir_path.clone(),
                reason: err.to_string(),
            })?,
        };
        let log = Self {
            witnesses,
            origin: stored.checkpoint.origin.clone(),
            layout,
            durability: options.durability,
            checkpoint_every: options.checkpoint_every.max(1),
            checkpoint_interval: options.checkpoint_interval,
            tail_key: TailKey::new(&options.signer, &origin),
            signer: options.signer,
            hasher: KeyedHasher::new(&secret),
            records,
            state: Mutex::new(State {
                tree,
                offsets,
                end,
                prev: outcome.last_leaf,
                pending: Vec::with_capacity(64 * 1024),
                pending_entries: 0,
                durable: outcome.records,
                committing: false,
                failed: None,
                latest: stored,
                signed_at: Instant::now(),
                unwitnessed: false,
                witnessing: None,
            }),
            durable_changed: Condvar::new(),
            durable_mark: AtomicU64::new(outcome.records),
            commits: AtomicU32::new(0),
            leading: AtomicBool::new(false),
            report,
            _lock: lock,
        };
        log.record_open_events(outcome.valid_bytes, rotation)?;
        Ok(log)
    }

    /// Writes the `recovered` and `key_rotated` records an open calls for, then signs a
    /// checkpoint (with the new key) and records the new key in `signer.pub`.
    fn record_open_events(
        &self,
        truncated_at: u64,
        rotation: Option<super::KeyRotatedEvent>,
    ) -> Result<(), AuditError> {
        let mut events = Vec::new();
        if self.report.dropped_bytes > 0 {
            events.push(AuditEvent::Recovered(RecoveredEvent {
                dropped_bytes: self.report.dropped_bytes,
                truncated_at,
                records_kept: self.report.records,
            }));
        }
        if let Some(rotation) = rotation {
            events.push(AuditEvent::KeyRotated(rotation));
        }
        for event in events {
            self.append(event).map_err(sink_to_audit)?;
        }
        let state = self.lock().map_err(sink_to_audit)?;
        let stale = state.latest.verify(&self.signer.verifier()).is_err();
        let state = if state.tree.len() > state.latest.checkpoint.size || stale {
            self.sign_locked(state, false).map_err(sink_to_audit)?
        } else {
            state
        };
        drop(state);
        self.ask_witnesses();
        let own = format!("{}\n", self.signer.verifier());
        let current = self
            .layout
            .read_optional(files::SIGNER_PUB)
            .map_err(AuditError::io(self.layout.path(files::SIGNER_PUB)))?;
        if current.as_deref() != Some(own.as_str()) {
            self.layout
                .write_atomic(files::SIGNER_PUB, own.as_bytes())
                .map_err(AuditError::io(self.layout.path(files::SIGNER_PUB)))?;
        }
        Ok(())
    }

    /// What `open` found and repaired.
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        self.layout.dir()
    }

    /// The number of records appended (durable or not).
    pub fn len(&self) -> u64 {
        self.lock().map_or(0, |state| state.tree.len())
    }

    /// True when the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The verifier key of the key that signs this log's checkpoints.
    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    /// Makes every record appended so far durable (write and fsync).
    pub fn flush(&self) -> Result<(), AuditError> {
        let state = self.lock().map_err(sink_to_audit)?;
        drop(self.make_durable(state).map_err(sink_to_audit)?);
        Ok(())
    }

    /// Makes every record durable, signs a checkpoint of them, writes it crash-safely, and
    /// appends a `checkpoint` record. Returns the signed checkpoint.
    pub fn checkpoint(&self) -> Result<SignedCheckpoint, AuditError> {
        let state = self.lock().map_err(sink_to_audit)?;
        drop(self.sign_locked(state, true).map_err(sink_to_audit)?);
        self.ask_witnesses();
        self.latest_checkpoint()
    }

    /// What the witnesses answered when last asked to cosign a checkpoint: who cosigned and
    /// who did not and why. `None` before any was asked.
    pub fn witnessing(&self) -> Option<Cosigning> {
        self.lock().ok()?.witnessing.clone()
    }

    /// Asks the witnesses to cosign the newest checkpoint when it was not yet, outside the
    /// mutex (appends go on meanwhile), and stores their cosignatures with it in the
    /// checkpoint file. A witness that fails is reported by [`AuditLog::witnessing`], never an
    /// error: it must not stop the log.
    fn ask_witnesses(&self) {
        let Some(witnesses) = &self.witnesses else {
            return;
        };
        let Ok(mut state) = self.lock() else {
            return;
        };
        if !std::mem::take(&mut state.unwitnessed) {
            return;
        }
        let signed = state.latest.clone();
        drop(state);
        let size = signed.checkpoint.size;
        let prove = |old| match self.lock() {
            Ok(state) => state
                .tree
                .consistency_proof(old, size)
                .map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        let mut outcome = witnesses.cosign(&signed, &prove);
        let Ok(mut state) = self.lock() else {
            return;
        };
        // A newer checkpoint signed meanwhile has its own round; these lines are for this one.
        if state.latest.note == signed.note && !outcome.lines.is_empty() {
            let cosigned = outcome.apply(&signed);
            match self
                .layout
                .write_atomic(files::CHECKPOINT, cosigned.note.as_bytes())
            {
                Ok(()) => state.latest = cosigned,
                Err(err) => outcome.failures.push(super::witness::WitnessFailure {
                    witness: "(all)".into(),
                    reason: format!("storing the cosignatures failed: {err}"),
                }),
            }
        }
        state.witnessing = Some(outcome);
    }

    /// The latest signed checkpoint.
    pub fn latest_checkpoint(&self) -> Result<SignedCheckpoint, AuditError> {
        Ok(self.lock().map_err(sink_to_audit)?.latest.clone())
    }

    /// The inclusion proof of record `index` against the latest signed checkpoint (signing
    /// a new one first when `index` is not yet covered).
    pub fn prove_inclusion(&self, index: u64) -> Result<InclusionProof, AuditError> {
        let mut state = self.lock().map_err(sink_to_audit)?;
        if index >= state.latest.checkpoint.size && index < state.tree.len() {
            state = self.sign_locked(state, false).map_err(sink_to_audit)?;
        }
        let payload = self.read_payload(&state, index)?;
        InclusionProof::build(&state.tree, &state.latest, index, &payload)
    }

    /// The consistency proof from the tree of `old_size` records to the latest signed
    /// checkpoint (signing a new one first when the log grew since).
    pub fn prove_consistency(&self, old_size: u64) -> Result<ConsistencyProof, AuditError> {
        let mut state = self.lock().map_err(sink_to_audit)?;
        if state.tree.len() > state.latest.checkpoint.size {
            state = self.sign_locked(state, false).map_err(sink_to_audit)?;
        }
        ConsistencyProof::build(&state.tree, &state.latest, old_size)
    }

    /// Flushes, signs a final checkpoint and releases the lock.
    pub fn close(self) -> Result<(), AuditError> {
        self.finish()
    }

    fn finish(&self) -> Result<(), AuditError> {
        let state = self.lock().map_err(sink_to_audit)?;
        if state.failed.is_some() {
            return Ok(());
        }
        let state = self.make_durable(state).map_err(sink_to_audit)?;
        if state.tree.len() > state.latest.checkpoint.size {
            drop(self.sign_locked(state, false).map_err(sink_to_audit)?);
        } else {
            drop(state);
        }
        self.ask_witnesses();
        Ok(())
    }

    fn read_payload(&self, state: &State, index: u64) -> Result<Vec<u8>, AuditError> {
        let path = self.layout.path(files::RECORDS);
        let at = usize::try_from(index).unwrap_or(usize::MAX);
        let (Some(start), true) = (state.offsets.get(at), index < state.durable) else {
            return Err(AuditError::Proof(
                super::merkle::ProofError::IndexOutOfRange {
                    index,
                    size: state.durable,
                },
            ));
        };
        let next = state.offsets.get(at + 1).copied().unwrap_or(state.end);
        let mut frame = vec![0u8; (next - start) as usize];
        self.records
            .read_exact_at(&mut frame, *start)
            .map_err(AuditError::io(&path))?;
        frame.truncate(frame.len().saturating_sub(TAG_LEN));
        Ok(frame.split_off(HEADER_LEN as usize))
    }

    fn lock(&self) -> Result<Guard<'_>, SinkError> {
        self.state
            .lock()
            .map_err(|_| SinkError::Failed("the audit log's lock was poisoned by a panic".into()))
    }

    /// Adds one record to the pending buffer and the tree; returns its index.
    fn push_locked(&self, state: &mut State, event_json: &[u8]) -> Result<u64, SinkError> {
        if let Some(failed) = &state.failed {
            return Err(SinkError::Failed(failed.clone()));
        }
        let index = state.tree.len();
        let timestamp = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .map_err(|err| SinkError::Encode(err.to_string()))?;
        let payload = record::encode(event_json, index, &state.prev, &timestamp);
        if payload.len() > MAX_PAYLOAD as usize {
            return Err(SinkError::Encode(format!(
                "the record is {} bytes, above the {MAX_PAYLOAD}-byte limit",
                payload.len()
            )));
        }
        let leaf = leaf_hash(&payload);
        frame::encode(&payload, &self.tail_key.tag(&leaf), &mut state.pending);
        state.tree.push(leaf);
        state.offsets.push(state.end);
        state.end += framed_len(payload.len());
        state.prev = leaf;
        state.pending_entries += 1;
        if let Durability::Batched { max_entries, .. } = self.durability {
            if state.pending_entries == max_entries {
                // Wake a committer that waits for its group to fill.
                self.durable_changed.notify_all();
            }
        }
        Ok(index)
    }

    /// Marks the log failed: every later append is refused.
    fn fail(&self, state: &mut State, what: &str, err: &std::io::Error) -> SinkError {
        let message = format!("{what} failed: {err}");
        state.failed = Some(message.clone());
        self.announce_commit();
        SinkError::Failed(message)
    }

    /// Writes the pending frames (no fsync).
    fn write_locked(&self, state: &mut State) -> Result<(), SinkError> {
        if state.pending.is_empty() {
            return Ok(());
        }
        let before = state.end - state.pending.len() as u64;
        let written = (&self.records)
            .write_all(&state.pending)
            .and_then(|()| self.check_records_file(state.end));
        if let Err(err) = written {
            self.discard_from(before);
            return Err(self.fail(state, "writing the audit log", &err));
        }
        state.pending.clear();
        state.pending_entries = 0;
        Ok(())
    }

    /// Fails when the records file was deleted (alone or with its directory) or cut below
    /// `end` bytes: writes would go on succeeding into a file nobody will ever read.
    fn check_records_file(&self, end: u64) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let meta = self.records.metadata()?;
        if meta.nlink() == 0 {
            return Err(std::io::Error::other(
                "the records file was deleted (or the log directory)",
            ));
        }
        if meta.len() < end {
            return Err(std::io::Error::other(format!(
                "the records file was cut to {} bytes below the {end} written",
                meta.len()
            )));
        }
        Ok(())
    }

    /// Cuts the records file back to `offset` after a failed write: the appends whose frames
    /// follow it are refused (their calls denied), so a reopened log must not show them,
    /// e.g. as an `allow`. Best effort: the log is failed whatever happens here.
    fn discard_from(&self, offset: u64) {
        let _ = self
            .records
            .set_len(offset)
            .and_then(|()| self.records.sync_data());
    }

    /// Writes the pending frames and fsyncs, under the mutex.
    fn commit_locked(&self, state: &mut State) -> Result<(), SinkError> {
        self.write_locked(state)?;
        if state.durable < state.tree.len() {
            let synced = self
                .records
                .sync_data()
                .and_then(|()| self.check_records_file(state.end));
            if let Err(err) = synced {
                if self.durability != Durability::None {
                    // Strict and batched appends after the durable mark are not
                    // acknowledged yet: they will be refused.
                    let durable_end = usize::try_from(state.durable)
                        .ok()
                        .and_then(|at| state.offsets.get(at).copied())
                        .unwrap_or(state.end);
                    self.discard_from(durable_end);
                }
                return Err(self.fail(state, "fsync of the audit log", &err));
            }
            self.set_durable(state, state.tree.len());
        }
        Ok(())
    }

    /// Records that the first `records` records are durable.
    fn set_durable(&self, state: &mut State, records: u64) {
        state.durable = state.durable.max(records);
        self.durable_mark.store(state.durable, Ordering::Release);
    }

    /// Wakes every thread waiting on a group commit: the batched appenders sleeping on
    /// `commits` and the threads waiting on the condition variable. Called after the state
    /// changed, with or without the mutex (the durable mark is published before).
    fn announce_commit(&self) {
        self.commits.fetch_add(1, Ordering::Release);
        atomic_wait::wake_all(&self.commits);
        self.durable_changed.notify_all();
    }

    /// Waits for any group commit in flight, then commits what is left.
    fn make_durable<'a>(&'a self, mut state: Guard<'a>) -> Result<Guard<'a>, SinkError> {
        while state.committing {
            state = self.wait(state)?;
        }
        if let Some(failed) = &state.failed {
            return Err(SinkError::Failed(failed.clone()));
        }
        self.commit_locked(&mut state)?;
        // Nothing may be flushed or signed over records that are no longer there.
        if let Err(err) = self.check_records_file(state.end) {
            return Err(self.fail(&mut state, "checking the audit log", &err));
        }
        Ok(state)
    }

    fn wait<'a>(&'a self, state: Guard<'a>) -> Result<Guard<'a>, SinkError> {
        self.durable_changed
            .wait(state)
            .map_err(|_| SinkError::Failed("the audit log's lock was poisoned by a panic".into()))
    }

    /// Batched mode: returns once the first `target` records are durable, leading a group
    /// commit when no other thread is.
    fn wait_durable<'a>(
        &'a self,
        mut state: Guard<'a>,
        target: u64,
        max_entries: usize,
        max_delay: Duration,
    ) -> Result<(), SinkError> {
        loop {
            // Durable first: a record a group commit made durable before a later group
            // failed is in the log, so its append must not be refused (the guard would
            // deny a call the log shows as allowed).
            if state.durable >= target {
                return Ok(());
            }
            if let Some(failed) = &state.failed {
                return Err(SinkError::Failed(failed.clone()));
            }
            if !state.committing {
                match self.lead_group_commits(state, max_entries, max_delay) {
                    Ok(next) => state = next,
                    // A leader goes on committing others' groups after its own: a later
                    // group's failure does not undo its own record's durability.
                    Err(_) if self.durable_mark.load(Ordering::Acquire) >= target => return Ok(()),
                    Err(err) => return Err(err),
                }
                continue;
            }
            // Follow: sleep until a commit ends, then read the published mark without
            // queueing for the mutex. Only when the leader stopped (or the log failed) with
            // this record still pending does the thread take the mutex again, to lead.
            let mut seen = self.commits.load(Ordering::Acquire);
            drop(state);
            loop {
                while self.commits.load(Ordering::Acquire) == seen {
                    atomic_wait::wait(&self.commits, seen);
                }
                seen = self.commits.load(Ordering::Acquire);
                if self.durable_mark.load(Ordering::Acquire) >= target {
                    return Ok(());
                }
                if !self.leading.load(Ordering::Acquire) {
                    break;
                }
            }
            state = self.lock()?;
        }
    }

    /// Leads group commits: writes and fsyncs every pending record outside the mutex (after
    /// waiting up to `max_delay` for `max_entries` of them) and publishes them as durable,
    /// then goes on with the records that arrived meanwhile, for up to [`LEADERSHIP`]. Handing
    /// over after every group would wake every waiting thread to elect the next leader.
    fn lead_group_commits<'a>(
        &'a self,
        mut state: Guard<'a>,
        max_entries: usize,
        max_delay: Duration,
    ) -> Result<Guard<'a>, SinkError> {
        let started = Instant::now();
        state.committing = true;
        self.leading.store(true, Ordering::Release);
        loop {
            state = self.commit_group(state, max_entries, max_delay)?;
            let done = state.pending_entries == 0 || started.elapsed() >= LEADERSHIP;
            if done {
                state.committing = false;
                self.leading.store(false, Ordering::Release);
            }
            // Waking a group's appenders (hundreds of threads, each a system call's worth of
            // work) happens without the mutex, which the next group's appenders need.
            drop(state);
            self.announce_commit();
            state = self.lock()?;
            if done {
                return Ok(state);
            }
        }
    }

    /// One group commit, by the leader.
    fn commit_group<'a>(
        &'a self,
        mut state: Guard<'a>,
        max_entries: usize,
        max_delay: Duration,
    ) -> Result<Guard<'a>, SinkError> {
        let deadline = Instant::now() + max_delay;
        while state.pending_entries < max_entries {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = self
                .durable_changed
                .wait_timeout(state, deadline - now)
                .map_err(|_| SinkError::Failed("the audit log's lock was poisoned".into()))?
                .0;
        }
        let group = std::mem::take(&mut state.pending);
        state.pending_entries = 0;
        let upto = state.tree.len();
        let group_end = state.end;
        drop(state);
        let written = (&self.records)
            .write_all(&group)
            .map_err(|err| ("writing the audit log", err))
            .and_then(|()| {
                self.records
                    .sync_data()
                    .and_then(|()| self.check_records_file(group_end))
                    .map_err(|err| ("fsync of the audit log", err))
            });
        if written.is_err() {
            // None of the group's appends is acknowledged: they will all be refused.
            self.discard_from(group_end - group.len() as u64);
        }
        let mut state = self.lock()?;
        // Reuse the group's allocation for the next one.
        if state.pending.is_empty() {
            let mut group = group;
            group.clear();
            state.pending = group;
        }
        match written {
            Ok(()) => {
                self.set_durable(&mut state, upto);
                Ok(state)
            }
            Err((what, err)) => {
                state.committing = false;
                self.leading.store(false, Ordering::Release);
                Err(self.fail(&mut state, what, &err))
            }
        }
    }

    /// Makes everything durable, signs a checkpoint of it, writes it (temp, fsync, rename,
    /// fsync of the directory), and with `record` appends a `checkpoint` record.
    fn sign_locked<'a>(&'a self, state: Guard<'a>, record: bool) -> Result<Guard<'a>, SinkError> {
        let mut state = self.make_durable(state)?;
        let size = state.tree.len();
        let root = state.tree.root();
        let signed = Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
        }
        .sign(&self.signer);
        if let Err(err) = self
            .layout
            .write_atomic(files::CHECKPOINT, signed.note.as_bytes())
        {
            return Err(self.fail(&mut state, "writing the checkpoint", &err));
        }
        state.latest = signed;
        state.signed_at = Instant::now();
        state.unwitnessed = true;
        if record {
            let event = AuditEvent::Checkpoint(CheckpointEvent {
                tree_size: size,
                root_hash: hex::encode(root),
            });
            self.push_locked(&mut state, &event_json(&event)?)?;
            if self.durability == Durability::Strict {
                self.commit_locked(&mut state)?;
            }
        }
        Ok(state)
    }

    fn checkpoint_due(&self, state: &State) -> bool {
        state.tree.len() - state.latest.checkpoint.size >= self.checkpoint_every
            || state.signed_at.elapsed() >= self.checkpoint_interval
    }
}

impl AuditSink for AuditLog {
    fn append(&self, event: AuditEvent) -> Result<u64, SinkError> {
        let json = event_json(&event)?;
        let mut state = self.lock()?;
        let index = self.push_locked(&mut state, &json)?;
        let state = match self.durability {
            Durability::Strict => {
                self.commit_locked(&mut state)?;
                state
            }
            Durability::Batched {
                max_entries,
                max_delay,
            } => {
                // Decided now, while the mutex is held anyway, so that waiting for the
                // group commit need not take it again.
                let checkpoint_due = self.checkpoint_due(&state);
                self.wait_durable(state, index + 1, max_entries, max_delay)?;
                if !checkpoint_due {
                    return Ok(index);
                }
                self.lock()?
            }
            Durability::None => {
                if state.pending.len() >= NONE_BUFFER_BYTES {
                    self.write_locked(&mut state)?;
                }
                state
            }
        };
        if self.checkpoint_due(&state) {
            // The record is in the log whatever happens to the checkpoint signed after it,
            // so the append succeeds (refusing it would deny a call the log shows as
            // allowed); a checkpoint that fails fails the log, which refuses what follows.
            match self.sign_locked(state, true) {
                Ok(state) => {
                    drop(state);
                    self.ask_witnesses();
                }
                Err(err) => {
                    let mut state = self.lock()?;
                    if state.failed.is_none() {
                        state.failed = Some(err.to_string());
                        drop(state);
                        self.announce_commit();
                    }
                }
            }
        }
        Ok(index)
    }

    fn keyed_hash(&self, raw: &Value) -> String {
        self.hasher.hash(raw)
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // Best effort: `close` reports errors; a drop can only try.
        let _ = self.finish();
    }
}

fn event_json(event: &AuditEvent) -> Result<Vec<u8>, SinkError> {
    canonical::to_canonical_vec(event).map_err(|err| SinkError::Encode(err.to_string()))
}

fn sink_to_audit(err: SinkError) -> AuditError {
    match err {
        SinkError::Failed(message) => AuditError::Failed(message),
        SinkError::Io(source) => AuditError::Io {
            path: "audit log".into(),
            source,
        },
        SinkError::Encode(message) => AuditError::Failed(message),
    }
}

/// Authenticates the records no signed checkpoint covers, on open: each must carry the tag
/// of the writer that appended it, i.e. of the key that signed the stored checkpoint, or of
/// the key it rotated to from an endorsed `key_rotated` record on.
struct TailCheck<'a> {
    key: TailKey,
    own: &'a NoteVerifier,
    signer: &'a NoteSigner,
}

impl<'a> TailCheck<'a> {
    fn new(key: TailKey, own: &'a NoteVerifier, signer: &'a NoteSigner) -> Self {
        Self { key, own, signer }
    }

    fn check(&mut self, entry: &super::scan::Entry<'_>, origin: &str) -> Result<(), Integrity> {
        if record::is_key_rotation(entry.payload) {
            // A rotation this writer's key was endorsed for: records from here on carry its
            // tags (a crash came between the rotation and the checkpoint signed after it).
            let rotated_to_own = record::decode(entry.payload).ok().is_some_and(|r| {
                matches!(&r.event, AuditEvent::KeyRotated(rotation)
                    if trust::endorsed(rotation, origin).is_some_and(|(_, key)| key == *self.own))
            });
            if rotated_to_own {
                self.key = TailKey::new(self.signer, origin);
            }
        }
        if self.key.authenticates(entry.leaf, entry.tag) {
            return Ok(());
        }
        Err(Integrity::at(
            entry.index,
            "this record is not covered by the signed checkpoint and its tag does not \
             authenticate with the writer's key: it was not written by this log's writer \
             (records rewritten after an old checkpoint was put back?); refusing to sign it",
        ))
    }
}

/// Converts a scan failure, naming the records file for I/O errors.
pub(crate) fn scan_error(err: ScanError, path: &Path) -> AuditError {
    match err {
        ScanError::Io(source) => AuditError::Io {
            path: path.to_path_buf(),
            source,
        },
        ScanError::Integrity(integrity) => AuditError::Integrity(integrity),
    }
}

/// Refuses a tree shorter than, or different from, the signed checkpoint.
pub(crate) fn check_against_checkpoint(
    signed: &SignedCheckpoint,
    records: u64,
    root: Option<Hash>,
) -> Result<(), AuditError> {
    let size = signed.checkpoint.size;
    if records < size {
        return Err(AuditError::Integrity(Integrity::at(
            records,
            format!(
                "the log has {records} whole records but its signed checkpoint covers {size}: \
                 records from {records} on were removed or damaged"
            ),
        )));
    }
    if root != Some(signed.checkpoint.root) {
        return Err(AuditError::Integrity(Integrity::at(
            size.saturating_sub(1),
            format!(
                "the first {size} records do not match the root of the signed checkpoint: a \
                 record before index {size} was altered"
            ),
        )));
    }
    Ok(())
}

fn take_lock(layout: &Layout) -> Result<File, AuditError> {
    let path = layout.path(files::LOCK);
    let lock = files::open_append(&path).map_err(AuditError::io(&path))?;
    // A verifier takes the lock shared for an instant to learn whether a writer is live;
    // only a lock held longer than that is another writer.
    let deadline = Instant::now() + Duration::from_millis(200);
    loop {
        match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(lock),
            Err(rustix::io::Errno::WOULDBLOCK) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(AuditError::Locked(layout.dir().to_path_buf()))
            }
            Err(errno) => {
                return Err(AuditError::Io {
                    path,
                    source: errno.into(),
                })
            }
        }
    }
}

/// Reads and parses the stored checkpoint, `None` when there is none.
pub(crate) fn read_checkpoint(layout: &Layout) -> Result<Option<SignedCheckpoint>, AuditError> {
    let path = layout.path(files::CHECKPOINT);
    let Some(text) = layout
        .read_optional(files::CHECKPOINT)
        .map_err(AuditError::io(&path))?
    else {
        return Ok(None);
    };
    SignedCheckpoint::parse(&text)
        .map(Some)
        .map_err(|source| AuditError::Checkpoint { path, source })
}

/// Reads `signer.pub`, `None` when absent.
pub(crate) fn read_signer_pub(layout: &Layout) -> Result<Option<NoteVerifier>, AuditError> {
    let path = layout.path(files::SIGNER_PUB);
    let text = layout
        .read_optional(files::SIGNER_PUB)
        .map_err(AuditError::io(&path))?;
    text.map(|text| NoteVerifier::parse(&text, &path.display().to_string()))
        .transpose()
        .map_err(AuditError::Key)
}

fn read_secret(layout: &Layout) -> Result<[u8; 32], AuditError> {
    let path = layout.path(files::SECRET);
    let text = layout
        .read_optional(files::SECRET)
        .map_err(AuditError::io(&path))?
        .ok_or_else(|| AuditError::NotALog {
            path: layout.dir().to_path_buf(),
            reason: "the HMAC secret file is missing".into(),
        })?;
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut secret).map_err(|_| AuditError::NotALog {
        path: path.clone(),
        reason: "the secret is not 64 hex digits".into(),
    })?;
    Ok(secret)
}

/// Creates a new log's files; the checkpoint of size 0 is written last, so its presence
/// means the log exists.
fn initialize(layout: &Layout, options: &LogOptions) -> Result<SignedCheckpoint, AuditError> {
    let records = layout.path(files::RECORDS);
    match std::fs::metadata(&records) {
        Ok(meta) if meta.len() > 0 => {
            return Err(AuditError::Integrity(Integrity::whole(
                "the records file exists but the checkpoint file is missing: it was deleted",
            )))
        }
        _ => {}
    }
    let origin = match &options.origin {
        Some(origin) => origin.clone(),
        None => {
            let mut id = [0u8; 8];
            random_bytes(&mut id)?;
            format!("aims.local/audit/{}", hex::encode(id))
        }
    };
    if origin.is_empty() || origin.contains('\n') {
        return Err(AuditError::NotALog {
            path: layout.dir().to_path_buf(),
            reason: "the origin must be one non-empty line".into(),
        });
    }
    let mut secret = [0u8; 32];
    random_bytes(&mut secret)?;
    let write = |name: &str, contents: &[u8]| {
        layout
            .write_atomic(name, contents)
            .map_err(AuditError::io(layout.path(name)))
    };
    write(
        files::SECRET,
        format!("{}\n", hex::encode(secret)).as_bytes(),
    )?;
    files::open_append(&records).map_err(AuditError::io(&records))?;
    write(
        files::SIGNER_PUB,
        format!("{}\n", options.signer.verifier()).as_bytes(),
    )?;
    let signed = Checkpoint {
        origin,
        size: 0,
        root: empty_root(),
    }
    .sign(&options.signer);
    write(files::CHECKPOINT, signed.note.as_bytes())?;
    Ok(signed)
}
