//! The durable audit log end to end: durability modes, reopen, recovery of a torn tail,
//! refusal of damage before the tail, locking, threads, proofs, key rotation, file modes.

// A test crate: a panic is how a helper reports a failed expectation.
#![allow(clippy::unwrap_used)]

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{
    for_each_record, record, verify, AuditError, AuditEvent, AuditLog, AuditSink, Durability,
    LogOptions, LogSnapshot, PolicyLoadedEvent, VerifyOptions,
};
use serde_json::json;

fn signer(seed: u8) -> NoteSigner {
    NoteSigner::from_seed("aims-test", [seed; 32]).unwrap()
}

fn options(durability: Durability) -> LogOptions {
    LogOptions::new(signer(1)).durability(durability)
}

fn event(n: u64) -> AuditEvent {
    AuditEvent::PolicyLoaded(PolicyLoadedEvent {
        policy_version: format!("{n:064x}"),
        source: format!("test/{n}"),
        rules: n as usize,
        previous_version: None,
    })
}

fn events(dir: &Path) -> Vec<record::Record> {
    let mut out = Vec::new();
    for_each_record(dir, |_, payload| out.push(record::decode(payload).unwrap())).unwrap();
    out
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

#[test]
fn every_mode_appends_in_order_and_survives_reopen() {
    for durability in [Durability::Strict, Durability::batched(), Durability::None] {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path(), options(durability)).unwrap();
        for n in 0..20 {
            assert_eq!(log.append(event(n)).unwrap(), n);
        }
        let origin = log.origin().to_string();
        log.close().unwrap();

        let log = AuditLog::open(dir.path(), options(durability)).unwrap();
        assert_eq!(log.origin(), origin);
        assert_eq!(log.append(event(20)).unwrap(), 20);
        drop(log);

        let report = verify_with(dir.path(), 1).unwrap();
        assert_eq!(
            (report.records, report.signed_size),
            (21, 21),
            "{durability:?}"
        );
        let records = events(dir.path());
        assert_eq!(records.len(), 21);
        for (i, record) in records.iter().enumerate() {
            assert_eq!(record.index, i as u64);
            assert_eq!(record.event, event(i as u64));
        }
    }
}

#[test]
fn files_are_private_and_a_second_writer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options(Durability::Strict)).unwrap();
    log.append(event(0)).unwrap();
    for name in ["records", "checkpoint", "secret", "signer.pub", "lock"] {
        let mode = fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    let second = AuditLog::open(dir.path(), options(Durability::Strict));
    assert!(matches!(second, Err(AuditError::Locked(_))), "{second:?}");
    drop(log);
    AuditLog::open(dir.path(), options(Durability::Strict)).unwrap();
}

#[test]
fn eight_threads_append_without_loss_or_reordering() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(AuditLog::open(dir.path(), options(Durability::batched())).unwrap());
    let per_thread = 200u64;
    let handles: Vec<_> = (0..8u64)
        .map(|thread| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..per_thread)
                    .map(|n| log.append(event(thread * 1000 + n)).unwrap())
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut indices: Vec<u64> = handles
        .into_iter()
        .flat_map(|handle| {
            let mine = handle.join().unwrap();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "a thread's appends are ordered"
            );
            mine
        })
        .collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..8 * per_thread).collect::<Vec<_>>());
    drop(log);

    let records = events(dir.path());
    assert_eq!(records.len() as u64, 8 * per_thread);
    for thread in 0..8u64 {
        let mine: Vec<u64> = records
            .iter()
            .filter_map(|r| match &r.event {
                AuditEvent::PolicyLoaded(p) if p.rules as u64 / 1000 == thread => {
                    Some(p.rules as u64 % 1000)
                }
                _ => None,
            })
            .collect();
        assert_eq!(mine, (0..per_thread).collect::<Vec<_>>(), "thread {thread}");
    }
    verify_with(dir.path(), 1).unwrap();
}

#[test]
fn a_torn_tail_is_truncated_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options(Durability::Strict)).unwrap();
    for n in 0..5 {
        log.append(event(n)).unwrap();
    }
    log.close().unwrap();
    // A crash in the middle of an append: a header and part of a payload.
    let records = dir.path().join("records");
    let mut file = OpenOptions::new().append(true).open(&records).unwrap();
    file.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, b'{', b'"'])
        .unwrap();
    drop(file);
    // verify calls it a torn tail, not tampering.
    let report = verify_with(dir.path(), 1).unwrap();
    assert!(report.torn_tail.is_some());

    let log = AuditLog::open(dir.path(), options(Durability::Strict)).unwrap();
    assert_eq!(log.open_report().dropped_bytes, 10);
    assert_eq!(log.append(event(5)).unwrap(), 6);
    drop(log);
    let records = events(dir.path());
    match &records[5].event {
        AuditEvent::Recovered(recovered) => {
            assert_eq!(recovered.dropped_bytes, 10);
            assert_eq!(recovered.records_kept, 5);
        }
        other => panic!("expected a recovered record, got {other:?}"),
    }
    let report = verify_with(dir.path(), 1).unwrap();
    assert_eq!((report.records, report.torn_tail), (7, None));
}

#[test]
fn damage_before_the_tail_refuses_to_open_and_names_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options(Durability::Strict)).unwrap();
    for n in 0..5 {
        log.append(event(n)).unwrap();
    }
    log.close().unwrap();
    let path = dir.path().join("records");
    let mut bytes = fs::read(&path).unwrap();
    // Flip a byte inside record 2's payload (the CRC now fails, and records follow).
    let offset = frame_offset(&bytes, 2) + 20;
    bytes[offset] ^= 0x20;
    fs::write(&path, &bytes).unwrap();
    match AuditLog::open(dir.path(), options(Durability::Strict)) {
        Err(AuditError::Integrity(integrity)) => assert_eq!(integrity.index, Some(2)),
        other => panic!("expected an integrity error, got {other:?}"),
    }
}

#[test]
fn a_replayed_checkpoint_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(Durability::Strict);
    opts.checkpoint_every = 4;
    let log = AuditLog::open(dir.path(), opts).unwrap();
    log.append(event(0)).unwrap();
    let old = log.checkpoint().unwrap();
    for n in 1..12 {
        log.append(event(n)).unwrap();
    }
    log.close().unwrap();
    fs::write(dir.path().join("checkpoint"), &old.note).unwrap();
    let err = AuditLog::open(dir.path(), options(Durability::Strict)).unwrap_err();
    assert!(err.to_string().contains("old checkpoint"), "{err}");
}

#[test]
fn proofs_verify_with_the_public_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options(Durability::batched())).unwrap();
    for n in 0..37 {
        log.append(event(n)).unwrap();
    }
    let key = signer(1).verifier();
    let early = log.checkpoint().unwrap();
    for n in 37..50 {
        log.append(event(n)).unwrap();
    }
    let proof = log.prove_inclusion(42).unwrap();
    proof.verify(&key).unwrap();
    assert!(proof.verify(&signer(2).verifier()).is_err());
    let mut forged = proof.clone();
    forged.record = forged.record.replacen("test/", "tesT/", 1);
    assert_ne!(forged, proof);
    assert!(forged.verify(&key).is_err());
    let mut moved = proof.clone();
    moved.index = 41;
    assert!(moved.verify(&key).is_err());

    let consistency = log.prove_consistency(early.checkpoint.size).unwrap();
    consistency.verify(&key).unwrap();
    assert_eq!(consistency.old_root, hex::encode(early.checkpoint.root));
    drop(log);

    // The same proofs from the read-only snapshot.
    let snapshot = LogSnapshot::open(dir.path()).unwrap();
    snapshot.prove_inclusion(3).unwrap().verify(&key).unwrap();
    snapshot
        .prove_consistency(&early)
        .unwrap()
        .verify(&key)
        .unwrap();
    assert!(snapshot.prove_inclusion(snapshot.len()).is_err());
}

#[test]
fn a_rotation_needs_the_previous_key_which_endorses_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options(Durability::Strict)).unwrap();
    log.append(event(0)).unwrap();
    let before = log.checkpoint().unwrap();
    drop(log);
    // Another key alone cannot take the log over: that is how a forger would launder it.
    let refused = AuditLog::open(
        dir.path(),
        LogOptions::new(signer(2)).durability(Durability::Strict),
    );
    assert!(
        matches!(refused, Err(AuditError::Integrity(_))),
        "{refused:?}"
    );
    let log = AuditLog::open(
        dir.path(),
        LogOptions::new(signer(2))
            .durability(Durability::Strict)
            .rotate_from(signer(1)),
    )
    .unwrap();
    assert_eq!(
        log.open_report().rotated_from,
        Some(signer(1).verifier().to_string())
    );
    drop(log);
    // Both the new key and the old one (which endorsed it) verify the log.
    verify_with(dir.path(), 2).unwrap();
    verify_with(dir.path(), 1).unwrap();
    assert!(verify_with(dir.path(), 3).is_err());
    // A checkpoint kept from before the rotation, signed with the old key, still checks.
    verify(
        dir.path(),
        &VerifyOptions {
            public_key: Some(signer(2).verifier()),
            checkpoint: Some(before.note.clone()),
        },
    )
    .unwrap();
    match &events(dir.path())[2].event {
        AuditEvent::KeyRotated(rotated) => {
            assert_eq!(rotated.previous_key, signer(1).verifier().to_string());
            assert_eq!(rotated.key, signer(2).verifier().to_string());
        }
        other => panic!("expected key_rotated, got {other:?}"),
    }
    // The old key is retired: it no longer opens the log.
    assert!(AuditLog::open(dir.path(), options(Durability::Strict)).is_err());
}

#[test]
fn keyed_hashes_use_a_per_log_secret() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let raw = json!({"to": "alice@example.com"});
    let log_a = AuditLog::open(a.path(), options(Durability::None)).unwrap();
    let log_b = AuditLog::open(b.path(), options(Durability::None)).unwrap();
    let hash_a = log_a.keyed_hash(&raw);
    assert_ne!(hash_a, log_b.keyed_hash(&raw));
    drop(log_a);
    let log_a = AuditLog::open(a.path(), options(Durability::None)).unwrap();
    assert_eq!(log_a.keyed_hash(&raw), hash_a);
}

/// The byte offset of frame `index` in a records file.
fn frame_offset(bytes: &[u8], index: usize) -> usize {
    let mut at = 0;
    for _ in 0..index {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 8 + len + aims_core::audit::frame::TAG_LEN;
    }
    at
}
