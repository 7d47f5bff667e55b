//! The witness itself, without HTTP: the C2SP `tlog-witness` `add-checkpoint` decision. It
//! knows which log keys to trust per origin, remembers durably (one file per origin in its
//! state directory) the newest checkpoint it cosigned for each log, and cosigns a checkpoint
//! only when a consistency proof shows it extends that one: it never cosigns a rollback or a
//! fork.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::super::checkpoint::{Checkpoint, SignedCheckpoint};
use super::super::files::Layout;
use super::super::keys::NoteVerifier;
use super::super::merkle::{self, Hash};
use super::cosignature::{split_note, CosignerKey};

/// The most consistency proof lines a request may carry (C2SP).
pub const MAX_PROOF_LINES: usize = 63;
/// The largest request body the witness reads.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The media type of a 409 answer's body.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// An answer to `add-checkpoint`: an HTTP status, its media type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// 200, 400, 403, 404, 409, 422 or 500.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body: cosignature lines, the witness's size, or why the request was refused.
    pub body: String,
}

impl Answer {
    fn refuse(status: u16, why: impl Into<String>) -> Self {
        let mut body = why.into();
        body.push('\n');
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }
}

/// Why a witness could not start.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The state directory could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Another witness process holds the state directory.
    #[error("{0}: another witness uses this state directory")]
    Locked(PathBuf),
    /// A stored checkpoint is unreadable: the state was damaged.
    #[error("{path}: not a checkpoint the witness wrote: {reason}")]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A request body, parsed.
struct Request<'a> {
    old: u64,
    proof: Vec<Hash>,
    note: &'a str,
}

fn parse_request(body: &str) -> Result<Request<'_>, &'static str> {
    let (old_line, mut rest) = body
        .split_once('\n')
        .ok_or("the body does not start with an `old <size>` line")?;
    let old = old_line
        .strip_prefix("old ")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .filter(|n| n.len() == 1 || !n.starts_with('0'))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or("the first line is not `old <size>` in decimal without leading zeroes")?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or("no empty line before the checkpoint")?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err("more than 63 consistency proof lines");
        }
        let hash = BASE64
            .decode(line)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes).ok())
            .ok_or("a consistency proof line is not a base64 SHA-256 hash")?;
        proof.push(hash);
    }
    Ok(Request {
        old,
        proof,
        note: rest,
    })
}

/// A witness: its key, the logs it follows and its durable state.
#[derive(Debug)]
pub struct Witness {
    key: CosignerKey,
    logs: HashMap<String, Vec<NoteVerifier>>,
    state: Layout,
    /// The newest cosigned checkpoint per origin, as persisted. Checking a request against it
    /// and persisting the new one happen under this one lock, so two concurrent requests
    /// cannot roll the state back.
    latest: Mutex<HashMap<String, Checkpoint>>,
    /// Held for the witness's lifetime: one process per state directory.
    _lock: File,
}

impl Witness {
    /// A witness signing with `key`, trusting `logs` (origin, log key; an origin may have
    /// several keys), keeping its state in `state_dir` (created mode 0700 when absent).
    pub fn open(
        key: CosignerKey,
        logs: impl IntoIterator<Item = (String, NoteVerifier)>,
        state_dir: &Path,
    ) -> Result<Self, WitnessError> {
        let state = Layout::new(state_dir);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WitnessError::Io { path, source }
        };
        state.create_dir().map_err(io(state_dir))?;
        let lock_path = state.path("lock");
        let lock = super::super::files::open_append(&lock_path).map_err(io(&lock_path))?;
        match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(WitnessError::Locked(state_dir.to_path_buf()))
            }
            Err(errno) => return Err(io(&lock_path)(errno.into())),
        }
        let mut by_origin: HashMap<String, Vec<NoteVerifier>> = HashMap::new();
        for (origin, verifier) in logs {
            by_origin.entry(origin).or_default().push(verifier);
        }
        let mut latest = HashMap::new();
        for origin in by_origin.keys() {
            let name = state_file(origin);
            let path = state.path(&name);
            if let Some(text) = state.read_optional(&name).map_err(io(&path))? {
                let stored = SignedCheckpoint::parse(&text).map_err(|err| WitnessError::State {
                    path: path.clone(),
                    reason: err.to_string(),
                })?;
                if &stored.checkpoint.origin != origin {
                    return Err(WitnessError::State {
                        path,
                        reason: format!("it is for log {:?}", stored.checkpoint.origin),
                    });
                }
                latest.insert(origin.clone(), stored.checkpoint);
            }
        }
        Ok(Self {
            key,
            logs: by_origin,
            state,
            latest: Mutex::new(latest),
            _lock: lock,
        })
    }

    /// The size of the newest checkpoint cosigned for `origin` (0 when none).
    pub fn cosigned_size(&self, origin: &str) -> u64 {
        self.latest
            .lock()
            .map_or(0, |latest| latest.get(origin).map_or(0, |c| c.size))
    }

    /// Answers an `add-checkpoint` request body.
    pub fn add_checkpoint(&self, body: &[u8]) -> Answer {
        if body.len() > MAX_REQUEST_BYTES {
            return Answer::refuse(400, "the request body is too large");
        }
        let Ok(body) = std::str::from_utf8(body) else {
            return Answer::refuse(400, "the request body is not UTF-8");
        };
        let request = match parse_request(body) {
            Ok(request) => request,
            Err(why) => return Answer::refuse(400, why),
        };
        let signed = match SignedCheckpoint::parse(request.note) {
            Ok(signed) => signed,
            Err(err) => return Answer::refuse(400, err.to_string()),
        };
        let Some(note_body) = split_note(request.note).map(|(body, _)| body) else {
            return Answer::refuse(400, "the checkpoint has no signature lines");
        };
        let checkpoint = signed.checkpoint.clone();
        let Some(keys) = self.logs.get(&checkpoint.origin) else {
            return Answer::refuse(404, "unknown log origin");
        };
        if !keys.iter().any(|key| signed.verify(key).is_ok()) {
            return Answer::refuse(403, "no signature by a trusted key of this log");
        }
        if request.old > checkpoint.size {
            return Answer::refuse(400, "old size is larger than the checkpoint's size");
        }
        let Ok(mut latest) = self.latest.lock() else {
            return Answer::refuse(500, "the witness's state lock was poisoned");
        };
        let (known_size, known_root) = latest
            .get(&checkpoint.origin)
            .map_or((0, merkle::empty_root()), |c| (c.size, c.root));
        if request.old != known_size {
            return Answer {
                status: 409,
                content_type: SIZE_CONTENT_TYPE,
                body: format!("{known_size}\n"),
            };
        }
        if request.old == checkpoint.size && known_size > 0 && known_root != checkpoint.root {
            return Answer::refuse(409, "same size, different root: the log forked");
        }
        if request.old > 0 && request.old < checkpoint.size {
            let consistent = merkle::verify_consistency(
                request.old,
                checkpoint.size,
                &known_root,
                &checkpoint.root,
                &request.proof,
            );
            if let Err(err) = consistent {
                return Answer::refuse(422, format!("the consistency proof fails: {err}"));
            }
        } else if !request.proof.is_empty() {
            return Answer::refuse(422, "a consistency proof from this size must be empty");
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let cosignature = self.key.cosign(note_body, now);
        // The state is the checkpoint with this cosignature: a note any parser reads back.
        let stored = format!("{note_body}\n{cosignature}");
        if let Err(err) = self
            .state
            .write_atomic(&state_file(&checkpoint.origin), stored.as_bytes())
        {
            return Answer::refuse(
                500,
                format!("the witness could not persist its state: {err}"),
            );
        }
        latest.insert(checkpoint.origin.clone(), checkpoint);
        Answer {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: cosignature,
        }
    }
}

/// The state file of a log: named by the hash of its origin, which may hold any character.
fn state_file(origin: &str) -> String {
    format!("log-{}", hex::encode(Sha256::digest(origin.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::keys::NoteSigner;
    use crate::audit::merkle::{leaf_hash, Accumulator, MerkleTree};

    struct Setup {
        _dir: tempfile::TempDir,
        state: PathBuf,
        log: NoteSigner,
        tree: MerkleTree,
    }

    fn setup() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let mut tree = MerkleTree::new();
        for i in 0u32..20 {
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
        Setup {
            state: dir.path().join("state"),
            _dir: dir,
            log: NoteSigner::from_seed("log.example", [1; 32]).unwrap(),
            tree,
        }
    }

    fn witness(setup: &Setup) -> Witness {
        Witness::open(
            CosignerKey::from_seed("w.example", [9; 32]).unwrap(),
            [("example/log".to_string(), setup.log.verifier())],
            &setup.state,
        )
        .unwrap()
    }

    fn request(setup: &Setup, old: u64, size: u64) -> String {
        let proof = if old == 0 || old >= size {
            Vec::new()
        } else {
            setup.tree.consistency_proof(old, size).unwrap()
        };
        let note = Checkpoint {
            origin: "example/log".into(),
            size,
            root: setup.tree.root_at(size).unwrap(),
        }
        .sign(&setup.log)
        .note;
        let mut body = format!("old {old}\n");
        for hash in proof {
            body.push_str(&BASE64.encode(hash));
            body.push('\n');
        }
        format!("{body}\n{note}")
    }

    #[test]
    fn cosigns_forward_only_and_remembers_across_restarts() {
        let setup = setup();
        let witness = witness(&setup);
        let first = witness.add_checkpoint(request(&setup, 0, 5).as_bytes());
        assert_eq!(first.status, 200, "{}", first.body);
        let body = request(&setup, 0, 5);
        let (_, note) = body.split_once("\n\n").unwrap();
        let (checkpoint_body, _) = split_note(note).unwrap();
        let key = CosignerKey::from_seed("w.example", [9; 32]).unwrap();
        assert!(key
            .verifier()
            .verify_line(checkpoint_body, first.body.trim_end())
            .is_some());

        let stale = witness.add_checkpoint(request(&setup, 0, 9).as_bytes());
        assert_eq!((stale.status, stale.content_type), (409, SIZE_CONTENT_TYPE));
        assert_eq!(stale.body, "5\n");
        assert_eq!(
            witness
                .add_checkpoint(request(&setup, 5, 9).as_bytes())
                .status,
            200
        );
        // A rollback: the log presents size 5 again.
        assert_eq!(
            witness
                .add_checkpoint(request(&setup, 5, 5).as_bytes())
                .status,
            409
        );
        assert_eq!(
            witness
                .add_checkpoint(request(&setup, 9, 5).as_bytes())
                .status,
            400
        );
        drop(witness);
        let again = self::witness(&setup);
        assert_eq!(again.cosigned_size("example/log"), 9);
        assert_eq!(
            again
                .add_checkpoint(request(&setup, 9, 9).as_bytes())
                .status,
            200
        );
    }

    #[test]
    fn refuses_forks_bad_proofs_unknown_logs_and_bad_signatures() {
        let setup = setup();
        let witness = witness(&setup);
        assert_eq!(
            witness
                .add_checkpoint(request(&setup, 0, 8).as_bytes())
                .status,
            200
        );
        // A fork: another tree of 12 that does not extend the first 8.
        let mut forked = setup.tree.clone();
        let mut other = MerkleTree::new();
        for i in 100u32..112 {
            other.push(leaf_hash(&i.to_be_bytes()));
        }
        std::mem::swap(&mut forked, &mut other);
        let fork = Setup {
            _dir: tempfile::tempdir().unwrap(),
            state: setup.state.clone(),
            log: NoteSigner::from_seed("log.example", [1; 32]).unwrap(),
            tree: forked,
        };
        assert_eq!(
            witness
                .add_checkpoint(request(&fork, 8, 12).as_bytes())
                .status,
            422
        );
        let same_size_fork = witness.add_checkpoint(request(&fork, 8, 8).as_bytes());
        assert_eq!(same_size_fork.status, 409);
        let stranger = Setup {
            log: NoteSigner::from_seed("log.example", [2; 32]).unwrap(),
            ..setup
        };
        assert_eq!(
            witness
                .add_checkpoint(request(&stranger, 8, 12).as_bytes())
                .status,
            403
        );
        let unknown = request(&stranger, 0, 3).replace("example/log", "other/log");
        assert_eq!(witness.add_checkpoint(unknown.as_bytes()).status, 404);
        for bad in ["", "old 01\n\n", "old 1\nnot base64\n\n", "old x\n\n"] {
            assert_eq!(
                witness.add_checkpoint(bad.as_bytes()).status,
                400,
                "{bad:?}"
            );
        }
        let zero = BASE64.encode([0u8; 32]);
        let too_many = format!("old 8\n{}\n", format!("{zero}\n").repeat(64));
        assert_eq!(witness.add_checkpoint(too_many.as_bytes()).status, 400);
        assert_eq!(witness.cosigned_size("example/log"), 8);
        assert!(matches!(
            Witness::open(
                CosignerKey::from_seed("w.example", [9; 32]).unwrap(),
                [],
                &stranger.state
            ),
            Err(WitnessError::Locked(_))
        ));
    }
}
