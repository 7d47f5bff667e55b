//! Witnesses end to end on loopback: two `aims witness serve` processes cosign the log's
//! checkpoints as the writer signs them, `aims audit verify --min-witnesses 2` requires their
//! cosignatures, and a rolled-back and rewritten log gets none from either.
#![allow(clippy::unwrap_used)] // a test: a failed spawn or read should fail it loudly

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{
    AuditEvent, AuditLog, AuditSink, Durability, LogOptions, OutcomeEvent, OutcomeStatus,
};

const ORIGIN: &str = "example.test/aims-witnessed";

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

fn event(tool: &str, n: u64) -> AuditEvent {
    AuditEvent::Outcome(OutcomeEvent {
        decision_id: format!("d-{n}"),
        agent_id: "agent-7".into(),
        tool: tool.into(),
        call_id: None,
        status: OutcomeStatus::Ok,
        error: None,
        duration_us: n,
    })
}

/// A witness process, killed when dropped.
struct WitnessProcess {
    child: Child,
    url: String,
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_witness(root: &Path, name: &str, log_pub: &Path) -> (WitnessProcess, PathBuf) {
    let key = root.join(format!("{name}.key"));
    let out = aims(&[
        "witness",
        "keygen",
        "--out",
        key.to_str().unwrap(),
        "--name",
        &format!("{name}.example"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(["witness", "serve", "--key"])
        .arg(&key)
        .arg("--log-key")
        .arg(format!("{ORIGIN}={}", log_pub.display()))
        .arg("--state")
        .arg(root.join(format!("{name}-state")))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|url| url.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (
        WitnessProcess { child, url },
        root.join(format!("{name}.key.pub")),
    )
}

fn open_log(dir: &Path, key: &Path) -> AuditLog {
    let mut options =
        LogOptions::new(NoteSigner::read(key).unwrap()).durability(Durability::Strict);
    options.origin = Some(ORIGIN.into());
    AuditLog::open(dir, options).unwrap()
}

/// Appends `count` events for `tool`, signs a checkpoint; returns who cosigned it and why the
/// others did not.
fn append_and_checkpoint(log: &AuditLog, tool: &str, count: u64) -> (Vec<String>, Vec<String>) {
    for n in 0..count {
        log.append(event(tool, n)).unwrap();
    }
    log.checkpoint().unwrap();
    let witnessing = log.witnessing().unwrap();
    let failures = witnessing
        .failures
        .iter()
        .map(|failure| format!("{}: {}", failure.witness, failure.reason))
        .collect();
    (witnessing.cosigned, failures)
}

fn verify_quorum(dir: &Path, log_pub: &Path, w1: &Path, w2: &Path) -> Output {
    aims(&[
        "audit",
        "verify",
        dir.to_str().unwrap(),
        "--pubkey",
        log_pub.to_str().unwrap(),
        "--witness",
        w1.to_str().unwrap(),
        "--witness",
        w2.to_str().unwrap(),
        "--min-witnesses",
        "2",
    ])
}

fn copy_log(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "lock" {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn two_witnesses_cosign_forward_and_refuse_a_rolled_back_log() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let key = root.join("log.key");
    NoteSigner::from_seed("aims-test", [1; 32])
        .unwrap()
        .write(&key)
        .unwrap();
    let log_pub = root.join("log.key.pub");
    let dir = root.join("log");

    // A log written before any witness was configured: its checkpoint has no cosignatures.
    let log = open_log(&dir, &key);
    for n in 0..5 {
        log.append(event("send_email", n)).unwrap();
    }
    log.close().unwrap();
    let (w1, w1_pub) = start_witness(root, "w1", &log_pub);
    let (w2, w2_pub) = start_witness(root, "w2", &log_pub);
    let out = verify_quorum(&dir, &log_pub, &w1_pub, &w2_pub);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("valid cosignatures from 0 of the required 2 witnesses"),
        "{}",
        text(&out.stderr)
    );

    // Configure both witnesses: from now on each checkpoint is cosigned as it is signed.
    fs::write(
        dir.join("witnesses"),
        format!(
            "# url key\n{} {}\n{} {}\n",
            w1.url,
            fs::read_to_string(&w1_pub).unwrap().trim(),
            w2.url,
            fs::read_to_string(&w2_pub).unwrap().trim()
        ),
    )
    .unwrap();
    let log = open_log(&dir, &key);
    let (cosigned, failures) = append_and_checkpoint(&log, "send_email", 3);
    assert_eq!(cosigned, ["w1.example", "w2.example"], "{failures:?}");
    log.close().unwrap();
    let out = verify_quorum(&dir, &log_pub, &w1_pub, &w2_pub);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("cosigned by 2 of 2 witnesses: w1.example"),
        "{}",
        text(&out.stdout)
    );
    // Only one witness key given with --min-witnesses 2 is a usage error.
    let out = aims(&[
        "audit",
        "verify",
        dir.to_str().unwrap(),
        "--witness",
        w1_pub.to_str().unwrap(),
        "--min-witnesses",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    // Keep the log as it is now, then let it grow (witnessed) past it.
    let before = root.join("before");
    copy_log(&dir, &before);
    let log = open_log(&dir, &key);
    let (cosigned, _) = append_and_checkpoint(&log, "send_email", 6);
    assert_eq!(cosigned.len(), 2);
    log.close().unwrap();

    // Roll the directory back and rewrite history from there with the log's own key: a
    // smaller tree (each witness answers 409 with the larger size it cosigned) and then a
    // larger one that does not extend what they cosigned (422).
    fs::remove_dir_all(&dir).unwrap();
    copy_log(&before, &dir);
    let log = open_log(&dir, &key);
    let (cosigned, failures) = append_and_checkpoint(&log, "delete_repo", 1);
    assert!(cosigned.is_empty(), "{cosigned:?}");
    assert_eq!(failures.len(), 2);
    for failure in &failures {
        assert!(failure.contains("the log was rolled back"), "{failure}");
    }
    let (cosigned, failures) = append_and_checkpoint(&log, "delete_repo", 20);
    assert!(cosigned.is_empty(), "{cosigned:?}");
    for failure in &failures {
        assert!(failure.contains("answered 422"), "{failure}");
    }
    log.close().unwrap();
    let out = verify_quorum(&dir, &log_pub, &w1_pub, &w2_pub);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("0 of the required 2"),
        "{}",
        text(&out.stderr)
    );
}
