//! `aims audit` end to end: the tamper matrix (each tampering detected by `aims audit
//! verify`, naming the first bad index), proofs checked offline, keygen, show and export.
#![allow(clippy::unwrap_used)] // a test: a failed spawn or read should fail it loudly

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aims_core::audit::checkpoint::SignedCheckpoint;
use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{
    frame, AuditEvent, AuditLog, AuditSink, Durability, LogOptions, OutcomeEvent, OutcomeStatus,
};

fn aims(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .env_remove("AIMS_SIGNING_KEY")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn event(n: u64) -> AuditEvent {
    AuditEvent::Outcome(OutcomeEvent {
        decision_id: format!("d-{n}"),
        agent_id: "agent-7".into(),
        tool: "send_email".into(),
        call_id: None,
        status: OutcomeStatus::Ok,
        error: None,
        duration_us: n,
    })
}

/// A log of 30 events and 4 checkpoint records (34 records), its key files, and a checkpoint
/// taken after the first 10 events.
struct Fixture {
    _root: tempfile::TempDir,
    dir: PathBuf,
    pubkey: PathBuf,
    old_checkpoint: PathBuf,
}

fn new_fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let key = root.path().join("key");
    NoteSigner::from_seed("aims-test", [1; 32])
        .unwrap()
        .write(&key)
        .unwrap();
    let dir = root.path().join("log");
    let mut options =
        LogOptions::new(NoteSigner::read(&key).unwrap()).durability(Durability::Strict);
    options.checkpoint_every = 8;
    let log = AuditLog::open(&dir, options).unwrap();
    for n in 0..10 {
        log.append(event(n)).unwrap();
    }
    let old = log.checkpoint().unwrap();
    let old_checkpoint = root.path().join("old.checkpoint");
    fs::write(&old_checkpoint, &old.note).unwrap();
    for n in 10..30 {
        log.append(event(n)).unwrap();
    }
    log.close().unwrap();
    Fixture {
        pubkey: root.path().join("key.pub"),
        dir,
        old_checkpoint,
        _root: root,
    }
}

/// The frames of a records file, as byte ranges.
fn frames(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let end = at + 8 + len + aims_core::audit::frame::TAG_LEN;
        out.push(at..end);
        at = end;
    }
    out
}

fn records_path(dir: &Path) -> PathBuf {
    dir.join("records")
}

fn verify(fixture: &Fixture, extra: &[&str]) -> Output {
    let mut args = vec![
        "audit",
        "verify",
        fixture.dir.to_str().unwrap(),
        "--pubkey",
        fixture.pubkey.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    aims(&args)
}

fn assert_detected(fixture: &Fixture, case: &str, expected: &str) {
    let out = verify(fixture, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{case}: {stderr}{}",
        text(&out.stdout)
    );
    assert!(
        stderr.contains(expected),
        "{case}: expected {expected:?} in {stderr}"
    );
}

/// Rewrites the records file through `edit` on its frames.
fn edit_frames(dir: &Path, edit: impl FnOnce(&mut Vec<Vec<u8>>)) {
    let bytes = fs::read(records_path(dir)).unwrap();
    let mut list: Vec<Vec<u8>> = frames(&bytes)
        .into_iter()
        .map(|r| bytes[r].to_vec())
        .collect();
    edit(&mut list);
    fs::write(records_path(dir), list.concat()).unwrap();
}

#[test]
fn an_untouched_log_verifies() {
    let fixture = new_fixture();
    let out = verify(&fixture, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("ok: 34 records"),
        "{}",
        text(&out.stdout)
    );
    let with_old = verify(
        &fixture,
        &["--checkpoint", fixture.old_checkpoint.to_str().unwrap()],
    );
    assert_eq!(
        with_old.status.code(),
        Some(0),
        "{}",
        text(&with_old.stderr)
    );
    // Without --pubkey it still verifies, with a warning.
    let out = aims(&["audit", "verify", fixture.dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("no --pubkey"));
}

#[test]
fn a_changed_payload_byte_is_detected() {
    let fixture = new_fixture();
    edit_frames(&fixture.dir, |frames| frames[5][30] ^= 0x01);
    assert_detected(&fixture, "changed byte", "first bad index 5");
}

#[test]
fn a_changed_byte_with_its_crc_recomputed_is_detected() {
    let fixture = new_fixture();
    edit_frames(&fixture.dir, |frames| {
        let body = &frames[5][8..];
        let (payload, tag) = body.split_at(body.len() - frame::TAG_LEN);
        let mut payload = payload.to_vec();
        let at = text(&payload).find("agent-7").unwrap();
        payload[at + 6] = b'8';
        let mut reframed = Vec::new();
        frame::encode(&payload, tag.try_into().unwrap(), &mut reframed);
        frames[5] = reframed;
    });
    assert_detected(&fixture, "recomputed crc", "first bad index 5");
}

#[test]
fn a_deleted_record_is_detected() {
    let fixture = new_fixture();
    edit_frames(&fixture.dir, |frames| {
        frames.remove(5);
    });
    assert_detected(&fixture, "deleted", "first bad index 5");
}

#[test]
fn an_inserted_record_is_detected() {
    let fixture = new_fixture();
    edit_frames(&fixture.dir, |frames| {
        let copy = frames[3].clone();
        frames.insert(6, copy);
    });
    assert_detected(&fixture, "inserted", "first bad index 6");
}

#[test]
fn swapped_records_are_detected() {
    let fixture = new_fixture();
    edit_frames(&fixture.dir, |frames| frames.swap(5, 6));
    assert_detected(&fixture, "swapped", "first bad index 5");
}

#[test]
fn records_removed_from_the_end_are_detected() {
    let fixture = new_fixture();
    edit_frames(&fixture.dir, |frames| frames.truncate(frames.len() - 3));
    assert_detected(&fixture, "truncated", "first bad index 31");
}

#[test]
fn an_old_checkpoint_put_back_is_detected() {
    let fixture = new_fixture();
    fs::copy(&fixture.old_checkpoint, fixture.dir.join("checkpoint")).unwrap();
    // The log's own checkpoint records betray the replay...
    assert_detected(&fixture, "replayed", "old checkpoint was put back");
    // ...and so does a newer checkpoint the auditor kept.
    let fresh = new_fixture();
    let kept = fresh.dir.with_file_name("kept.checkpoint");
    fs::copy(fresh.dir.join("checkpoint"), &kept).unwrap();
    fs::copy(&fresh.old_checkpoint, fresh.dir.join("checkpoint")).unwrap();
    let out = verify(&fresh, &["--checkpoint", kept.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("put back"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_checkpoint_signed_by_another_key_is_detected() {
    let fixture = new_fixture();
    let path = fixture.dir.join("checkpoint");
    let stored = SignedCheckpoint::parse(&fs::read_to_string(&path).unwrap()).unwrap();
    let intruder = NoteSigner::from_seed("aims-test", [2; 32]).unwrap();
    fs::write(&path, stored.checkpoint.sign(&intruder).note).unwrap();
    assert_detected(&fixture, "other key", "signed neither by");
}

#[test]
fn a_log_laundered_through_the_forgers_own_key_fails_verification() {
    let fixture = new_fixture();
    // Rewrite the history (here: drop the last record) and sign it with an own key, which
    // is also put in signer.pub, as a rotation would.
    edit_frames(&fixture.dir, |frames| {
        frames.pop();
    });
    let path = fixture.dir.join("checkpoint");
    let stored = SignedCheckpoint::parse(&fs::read_to_string(&path).unwrap()).unwrap();
    let forger = NoteSigner::from_seed("aims-test", [66; 32]).unwrap();
    let mut tree = aims_core::audit::merkle::CompactRange::new();
    let mut size = 0;
    aims_core::audit::for_each_record(&fixture.dir, |_, payload| {
        aims_core::audit::merkle::Accumulator::push(
            &mut tree,
            aims_core::audit::merkle::leaf_hash(payload),
        );
        size += 1;
    })
    .unwrap();
    let forged = aims_core::audit::checkpoint::Checkpoint {
        origin: stored.checkpoint.origin,
        size,
        root: aims_core::audit::merkle::Accumulator::root(&tree),
    };
    fs::write(&path, forged.sign(&forger).note).unwrap();
    fs::write(
        fixture.dir.join("signer.pub"),
        format!("{}\n", forger.verifier()),
    )
    .unwrap();
    assert_detected(&fixture, "laundered", "signed neither by");
}

#[test]
fn after_a_rotation_old_checkpoints_still_check() {
    let fixture = new_fixture();
    let root = fixture.dir.parent().unwrap();
    let new_key = root.join("new.key");
    let new_pub = root.join("new.key.pub");
    let out = aims(&["audit", "keygen", "--out", new_key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = fixture.dir.to_str().unwrap();
    let old_key = root.join("key");
    // Without the old key, another key cannot take the log over.
    let refused = aims(&[
        "audit",
        "rotate",
        dir,
        "--old",
        new_key.to_str().unwrap(),
        "--new",
        new_key.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let out = aims(&[
        "audit",
        "rotate",
        dir,
        "--old",
        old_key.to_str().unwrap(),
        "--new",
        new_key.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let old = fixture.old_checkpoint.to_str().unwrap();
    for pubkey in [&new_pub, &fixture.pubkey] {
        let out = aims(&[
            "audit",
            "verify",
            dir,
            "--pubkey",
            pubkey.to_str().unwrap(),
            "--checkpoint",
            old,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let out = aims(&["audit", "consistency", dir, "--old", old]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let proof = root.join("consistency.json");
    fs::write(&proof, &out.stdout).unwrap();
    let proof = proof.to_str().unwrap();
    let new_pub = new_pub.to_str().unwrap();
    let out = aims(&[
        "audit",
        "verify-proof",
        proof,
        "--pubkey",
        new_pub,
        "--old",
        old,
        "--old-pubkey",
        fixture.pubkey.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = aims(&[
        "audit",
        "verify-proof",
        proof,
        "--pubkey",
        new_pub,
        "--old",
        old,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn malformed_checkpoints_and_proofs_from_size_0_exit_1() {
    let fixture = new_fixture();
    let path = fixture.dir.join("checkpoint");
    let note = fs::read_to_string(&path).unwrap();
    let size = SignedCheckpoint::parse(&note).unwrap().checkpoint.size;
    fs::write(
        &path,
        note.replacen(&format!("\n{size}\n"), &format!("\n+{size}\n"), 1),
    )
    .unwrap();
    assert_detected(&fixture, "size +N", "tree size");
    fs::write(&path, note.replacen("\n\n", "\n\n\n", 1)).unwrap();
    assert_detected(&fixture, "blank line", "signature line");
    fs::write(&path, &note).unwrap();

    // A consistency proof from size 0 holds only for the empty tree's root.
    let dir = fixture.dir.to_str().unwrap();
    let empty = fixture.dir.with_file_name("empty.checkpoint");
    let empty_root: String = aims_core::audit::merkle::empty_root()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let origin = SignedCheckpoint::parse(&note).unwrap().checkpoint.origin;
    let signer = NoteSigner::read(&fixture.dir.with_file_name("key")).unwrap();
    let zero = aims_core::audit::checkpoint::Checkpoint {
        origin,
        size: 0,
        root: aims_core::audit::merkle::empty_root(),
    };
    fs::write(&empty, zero.sign(&signer).note).unwrap();
    let out = aims(&[
        "audit",
        "consistency",
        dir,
        "--old",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&empty_root));
    let forged = text(&out.stdout).replacen(&empty_root, &"ab".repeat(32), 1);
    let proof = fixture.dir.with_file_name("zero.json");
    fs::write(&proof, forged).unwrap();
    let out = aims(&[
        "audit",
        "verify-proof",
        proof.to_str().unwrap(),
        "--pubkey",
        fixture.pubkey.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn proofs_are_checked_offline_with_the_public_key() {
    let fixture = new_fixture();
    let dir = fixture.dir.to_str().unwrap();
    let pubkey = fixture.pubkey.to_str().unwrap();
    let out = aims(&["audit", "prove", dir, "--index", "12"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let proof_path = fixture.dir.with_file_name("proof.json");
    fs::write(&proof_path, &out.stdout).unwrap();
    let proof = proof_path.to_str().unwrap();
    let ok = aims(&["audit", "verify-proof", proof, "--pubkey", pubkey]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));

    let forged = text(&out.stdout).replacen("agent-7", "agent-8", 1);
    fs::write(&proof_path, forged).unwrap();
    let bad = aims(&["audit", "verify-proof", proof, "--pubkey", pubkey]);
    assert_eq!(bad.status.code(), Some(1));

    let old = fixture.old_checkpoint.to_str().unwrap();
    let out = aims(&["audit", "consistency", dir, "--old", old]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    fs::write(&proof_path, &out.stdout).unwrap();
    let ok = aims(&[
        "audit",
        "verify-proof",
        proof,
        "--pubkey",
        pubkey,
        "--old",
        old,
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));

    // A checkpoint of another history is not a prefix of this log.
    let other = new_fixture();
    edit_frames(&other.dir, |frames| frames.truncate(4));
    let alien = aims(&[
        "audit",
        "consistency",
        dir,
        "--old",
        other.old_checkpoint.to_str().unwrap(),
    ]);
    assert_eq!(alien.status.code(), Some(1), "{}", text(&alien.stderr));
    assert_eq!(
        aims(&["audit", "prove", dir, "--index", "99"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn keygen_show_export_and_io_errors() {
    let root = tempfile::tempdir().unwrap();
    let key = root.path().join("k");
    let out = aims(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(fs::read_to_string(&key)
        .unwrap()
        .starts_with("PRIVATE+KEY+aims-audit+"));
    assert!(fs::read_to_string(key.with_extension("pub"))
        .unwrap()
        .starts_with("aims-audit+"));
    // Refuses to overwrite a key.
    assert_eq!(
        aims(&["audit", "keygen", "--out", key.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );

    let fixture = new_fixture();
    let dir = fixture.dir.to_str().unwrap();
    let shown = text(&aims(&["audit", "show", dir, "--from", "30"]).stdout);
    assert_eq!(shown.lines().count(), 4, "{shown}");
    assert!(shown.contains("outcome     agent-7 send_email"), "{shown}");
    let exported = aims(&["audit", "export", dir]);
    let lines: Vec<serde_json::Value> = text(&exported.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 34);
    assert_eq!(lines[8]["event"]["kind"], "checkpoint");
    assert_eq!(lines[0]["event"]["gen_ai.agent.id"], "agent-7");

    let missing = root.path().join("nope");
    assert_eq!(
        aims(&["audit", "verify", missing.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
}

fn check_call(policy: &Path, log: &Path, extra: &[&str], call: &str) -> Output {
    let mut args = vec![
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(call);
    aims(&args)
}

#[test]
fn aims_check_appends_its_decisions_to_the_signed_log() {
    let root = tempfile::tempdir().unwrap();
    let policy = root.path().join("p.yaml");
    fs::write(
        &policy,
        "rules:\n  - id: no-shell\n    match: {tool: shell}\n    effect: deny\n  - id: search\n    match: {tool: search}\n    effect: allow\n",
    )
    .unwrap();
    let key = root.path().join("key");
    assert_eq!(
        aims(&["audit", "keygen", "--out", key.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let log = root.path().join("log");
    let allowed = r#"{"agent_id": "a1", "tool": "search", "args": {"q": "weather"}}"#;
    let denied = r#"{"agent_id": "a1", "tool": "shell", "args": {"cmd": "rm -rf /"}}"#;
    let key_arg = ["--key", key.to_str().unwrap()];
    assert_eq!(
        check_call(&policy, &log, &key_arg, allowed).status.code(),
        Some(0)
    );
    assert_eq!(
        check_call(&policy, &log, &key_arg, denied).status.code(),
        Some(1)
    );

    let pubkey = format!("{}.pub", key.display());
    let verified = aims(&[
        "audit",
        "verify",
        log.to_str().unwrap(),
        "--pubkey",
        &pubkey,
    ]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );
    assert!(
        text(&verified.stdout).starts_with("ok: 2 records"),
        "{}",
        text(&verified.stdout)
    );
    let exported = text(&aims(&["audit", "export", log.to_str().unwrap()]).stdout);
    let decisions: Vec<serde_json::Value> = exported
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(decisions[0]["event"]["gen_ai.tool.name"], "search");
    assert_eq!(decisions[1]["event"]["verdict"], "deny");
    assert_eq!(decisions[1]["event"]["rule_ids"][0], "no-shell");
    // The raw arguments are represented by a keyed hash, not stored in clear.
    assert_eq!(
        decisions[1]["event"]["args_hmac"].as_str().unwrap().len(),
        64
    );

    // Without a key, one is generated inside the log directory, with a notice.
    let other = root.path().join("log2");
    let out = check_call(&policy, &other, &[], allowed);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("generated"),
        "{}",
        text(&out.stderr)
    );
    assert!(other.join("signing.key").is_file());
    let out = check_call(&policy, &other, &[], allowed);
    assert!(!text(&out.stderr).contains("generated"));
    let verified = aims(&[
        "audit",
        "verify",
        other.to_str().unwrap(),
        "--pubkey",
        other.join("signing.key.pub").to_str().unwrap(),
    ]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );
}

#[test]
fn the_readme_evidence_pack_flow_verifies_with_the_logs_key() {
    let root = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let key = root.path().join("audit.key");
    let out = aims(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = root.path().join("logdir");
    let call = r#"{"agent_id": "a", "tool": "search", "args": {}}"#;
    let key_arg = ["--key", key.to_str().unwrap()];
    check_call(&repo.join("examples/policy.yaml"), &log, &key_arg, call);
    let pubkey = root.path().join("audit.key.pub");
    let pack = root.path().join("pack");
    let out = aims(&[
        "report",
        "--register",
        repo.join("examples/register").to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--pubkey",
        pubkey.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--out",
        pack.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = aims(&[
        "report",
        "verify",
        pack.to_str().unwrap(),
        "--pubkey",
        pubkey.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
