//! The attacks of someone who can write the log directory but holds no key: each must be
//! detected by `verify` with the trusted public key, and refused by the next writer.
#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aims_core::audit::checkpoint::{Checkpoint, SignedCheckpoint};
use aims_core::audit::frame::{self, TAG_LEN};
use aims_core::audit::keys::NoteSigner;
use aims_core::audit::merkle::{leaf_hash, Accumulator, CompactRange, Hash};
use aims_core::audit::{
    record, verify, AuditError, AuditEvent, AuditLog, AuditSink, Durability, LogOptions,
    PolicyLoadedEvent, VerifyOptions,
};

fn signer(seed: u8) -> NoteSigner {
    NoteSigner::from_seed("aims-test", [seed; 32]).unwrap()
}

fn event(n: u64) -> AuditEvent {
    AuditEvent::PolicyLoaded(PolicyLoadedEvent {
        policy_version: format!("v{n}"),
        source: "test/policy.yaml".into(),
        rules: n as usize,
        previous_version: None,
    })
}

fn open(dir: &Path, seed: u8) -> Result<AuditLog, AuditError> {
    AuditLog::open(
        dir,
        LogOptions::new(signer(seed)).durability(Durability::Strict),
    )
}

/// One `aims check`-like session: open, append `count` events, close (which signs).
fn session(dir: &Path, first: u64, count: u64) {
    let log = open(dir, 1).unwrap();
    for n in first..first + count {
        log.append(event(n)).unwrap();
    }
    log.close().unwrap();
}

fn verify_with(dir: &Path, seed: u8) -> Result<aims_core::audit::VerifyReport, AuditError> {
    verify(
        dir,
        &VerifyOptions {
            public_key: Some(signer(seed).verifier()),
            checkpoint: None,
        },
    )
}

/// The payloads and tags of a records file.
fn read_records(dir: &Path) -> Vec<(Vec<u8>, [u8; TAG_LEN])> {
    let bytes = fs::read(dir.join("records")).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let payload = bytes[at + 8..at + 8 + len].to_vec();
        let tag = bytes[at + 8 + len..at + 8 + len + TAG_LEN]
            .try_into()
            .unwrap();
        out.push((payload, tag));
        at += 8 + len + TAG_LEN;
    }
    out
}

/// What a forger without the tail key can do: rewrite the records from `from` on (record
/// `from` gets `edit`), with a consistent `prev` chain and tree, and tags made up. Returns
/// the origin and the new tree's root over all records.
fn rewrite(dir: &Path, from: usize, edit: impl Fn(&str) -> String) -> (String, Hash, u64) {
    let records = read_records(dir);
    let origin = SignedCheckpoint::parse(&fs::read_to_string(dir.join("checkpoint")).unwrap())
        .unwrap()
        .checkpoint
        .origin;
    let mut out = Vec::new();
    let mut tree = CompactRange::new();
    let mut prev: Hash = [0; 32];
    for (index, (payload, tag)) in records.iter().enumerate() {
        let payload = if index < from {
            payload.clone()
        } else {
            let decoded = record::decode(payload).unwrap();
            let mut event = serde_json::to_value(&decoded.event).unwrap();
            if index == from {
                let text = edit(&event.to_string());
                event = serde_json::from_str(&text).unwrap();
            }
            let event = aims_core::canonical::to_vec(&event);
            record::encode(&event, index as u64, &prev, &decoded.timestamp)
        };
        let tag = if index < from { *tag } else { [0x5a; TAG_LEN] };
        frame::encode(&payload, &tag, &mut out);
        prev = leaf_hash(&payload);
        tree.push(prev);
    }
    fs::write(dir.join("records"), out).unwrap();
    (origin, tree.root(), tree.len())
}

fn is_integrity<T: std::fmt::Debug>(result: Result<T, AuditError>) -> String {
    match result {
        Err(AuditError::Integrity(integrity)) => integrity.to_string(),
        other => panic!("expected an integrity failure, got {other:?}"),
    }
}

#[test]
fn a_history_re_signed_with_a_key_of_the_forgers_is_refused_by_verify_and_writer() {
    let dir = tempfile::tempdir().unwrap();
    session(dir.path(), 0, 6);
    // Rewrite record 2, sign the forged tree with the forger's key, and present that key
    // as the log's key.
    let (origin, root, size) = rewrite(dir.path(), 2, |e| e.replace("v2", "v2-forged"));
    let forger = signer(66);
    let note = Checkpoint { origin, size, root }.sign(&forger).note;
    fs::write(dir.path().join("checkpoint"), note).unwrap();
    fs::write(
        dir.path().join("signer.pub"),
        format!("{}\n", forger.verifier()),
    )
    .unwrap();

    let found = is_integrity(verify_with(dir.path(), 1));
    assert!(found.contains("signed neither by"), "{found}");
    let refused = is_integrity(open(dir.path(), 1));
    assert!(refused.contains("not signed by the key"), "{refused}");
    // Nothing was signed over the forgery: the checkpoint is still the forger's.
    let stored =
        SignedCheckpoint::parse(&fs::read_to_string(dir.path().join("checkpoint")).unwrap())
            .unwrap();
    assert!(stored.verify(&signer(1).verifier()).is_err());
}

#[test]
fn an_unendorsed_rotation_record_does_not_make_the_forgers_key_trusted() {
    let dir = tempfile::tempdir().unwrap();
    session(dir.path(), 0, 3);
    let forger = signer(66);
    // The forger appends a rotation to their own key, "endorsed" by a signature of theirs.
    let rotation = aims_core::audit::trust::endorse(&forger, "x", &forger.verifier());
    let mut forged = rotation.clone();
    forged.previous_key = signer(1).verifier().to_string();
    let log_events = read_records(dir.path());
    let last = record::decode(&log_events.last().unwrap().0).unwrap();
    let payload = record::encode(
        &aims_core::canonical::to_canonical_vec(&AuditEvent::KeyRotated(forged)).unwrap(),
        log_events.len() as u64,
        &leaf_hash(&log_events.last().unwrap().0),
        &last.timestamp,
    );
    let mut bytes = fs::read(dir.path().join("records")).unwrap();
    frame::encode(&payload, &[0; TAG_LEN], &mut bytes);
    fs::write(dir.path().join("records"), &bytes).unwrap();
    let mut tree = CompactRange::new();
    for (payload, _) in read_records(dir.path()) {
        tree.push(leaf_hash(&payload));
    }
    let stored =
        SignedCheckpoint::parse(&fs::read_to_string(dir.path().join("checkpoint")).unwrap())
            .unwrap();
    let note = Checkpoint {
        origin: stored.checkpoint.origin,
        size: tree.len(),
        root: tree.root(),
    }
    .sign(&forger)
    .note;
    fs::write(dir.path().join("checkpoint"), note).unwrap();
    is_integrity(verify_with(dir.path(), 1));
    is_integrity(open(dir.path(), 1));
}

#[test]
fn an_old_checkpoint_put_back_over_rewritten_records_is_refused_by_verify_and_writer() {
    let dir = tempfile::tempdir().unwrap();
    session(dir.path(), 0, 4);
    let old = fs::read_to_string(dir.path().join("checkpoint")).unwrap();
    let old_size = SignedCheckpoint::parse(&old).unwrap().checkpoint.size as usize;
    for round in 0..3 {
        session(dir.path(), 4 + round * 3, 3);
    }
    verify_with(dir.path(), 1).unwrap();
    // Put the old checkpoint back and rewrite a record after it (one process per call:
    // no `checkpoint` record follows the newest signed checkpoint).
    fs::write(dir.path().join("checkpoint"), &old).unwrap();
    rewrite(dir.path(), old_size + 1, |e| e.replace("v4", "v4-forged"));

    let found = is_integrity(verify_with(dir.path(), 1));
    assert!(
        found.contains("not covered by a signed checkpoint"),
        "{found}"
    );
    let refused = is_integrity(open(dir.path(), 1));
    assert!(refused.contains("does not authenticate"), "{refused}");
    assert_eq!(
        fs::read_to_string(dir.path().join("checkpoint")).unwrap(),
        old,
        "the writer signed nothing"
    );
}

#[test]
fn an_old_checkpoint_put_back_over_genuine_records_is_reported_and_the_writer_re_signs() {
    let dir = tempfile::tempdir().unwrap();
    session(dir.path(), 0, 4);
    let old = fs::read_to_string(dir.path().join("checkpoint")).unwrap();
    session(dir.path(), 4, 3);
    fs::write(dir.path().join("checkpoint"), &old).unwrap();
    // Without a writer, records nobody signed are not passed as intact.
    is_integrity(verify_with(dir.path(), 1));
    // The writer authenticates them by their tags (it wrote them) and signs them again.
    let log = open(dir.path(), 1).unwrap();
    drop(log);
    verify_with(dir.path(), 1).unwrap();
}

#[test]
fn verifying_a_live_log_raises_no_false_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = LogOptions::new(signer(1)).durability(Durability::None);
    options.checkpoint_every = 7;
    let log = Arc::new(AuditLog::open(dir.path(), options).unwrap());
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (log, writing) = (Arc::clone(&log), Arc::clone(&writing));
        std::thread::spawn(move || {
            for n in 0..1500 {
                log.append(event(n)).unwrap();
                match n % 5 {
                    0 => log.flush().unwrap(),
                    1 => drop(log.checkpoint().unwrap()),
                    _ => {}
                }
            }
            writing.store(false, Ordering::Relaxed);
        })
    };
    let mut alarms = Vec::new();
    let mut runs = 0;
    while writing.load(Ordering::Relaxed) || runs < 20 {
        if let Err(err) = verify_with(dir.path(), 1) {
            alarms.push(err.to_string());
        }
        runs += 1;
    }
    writer.join().unwrap();
    assert_eq!(alarms, Vec::<String>::new(), "false alarms in {runs} runs");
    Arc::try_unwrap(log).unwrap().close().unwrap();
    verify_with(dir.path(), 1).unwrap();
}
