//! The crash loop: a child process appends in strict mode and prints each acknowledged
//! index; it is killed with SIGKILL at random moments, 60 times; after every kill the log
//! verifies offline, opens (recovering a torn tail), holds every acknowledged record, and
//! verifies again after close.
//!
//! The child is this same test binary running the ignored `crash_child` test.
#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{
    for_each_record, record, verify, AuditEvent, AuditLog, AuditSink, Durability, LogOptions,
    OutcomeEvent, OutcomeStatus, VerifyOptions,
};

const CHILD_DIR: &str = "AIMS_CRASH_CHILD_DIR";
const CHILD_ROUND: &str = "AIMS_CRASH_CHILD_ROUND";
const ROUNDS: u64 = 60;

fn signer() -> NoteSigner {
    NoteSigner::from_seed("aims-crash", [7; 32]).unwrap()
}

fn options() -> LogOptions {
    let mut options = LogOptions::new(signer()).durability(Durability::Strict);
    // Checkpoints often, so kills land inside checkpoint writes too.
    options.checkpoint_every = 5;
    options
}

fn event(id: String) -> AuditEvent {
    AuditEvent::Outcome(OutcomeEvent {
        decision_id: id,
        agent_id: "crash-agent".into(),
        tool: "write_file".into(),
        call_id: None,
        status: OutcomeStatus::Ok,
        error: None,
        duration_us: 1,
    })
}

/// The child: appends until killed, printing `ack INDEX ID` after each append returns.
#[test]
#[ignore = "the child process of crash_loop; runs only when spawned by it"]
fn crash_child() {
    let dir = std::env::var_os(CHILD_DIR).expect("spawned by crash_loop");
    let round = std::env::var(CHILD_ROUND).unwrap();
    let log = AuditLog::open(Path::new(&dir), options()).unwrap();
    let mut stdout = std::io::stdout().lock();
    // Bounded, so an orphaned child cannot run forever.
    for n in 0..5_000 {
        let id = format!("r{round}-{n}");
        let index = log.append(event(id.clone())).unwrap();
        writeln!(stdout, "ack {index} {id}").unwrap();
        stdout.flush().unwrap();
    }
}

/// xorshift64*, seeded from the clock; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

/// Verifies the log; `before_recovery`, records a killed writer left unsigned are reported
/// as such (only the writer's key can authenticate them), never any other finding.
fn verify_log(dir: &Path, before_recovery: bool) {
    let options = VerifyOptions {
        public_key: Some(signer().verifier()),
        checkpoint: None,
    };
    match verify(dir, &options) {
        Ok(_) => {}
        Err(err)
            if before_recovery
                && err
                    .to_string()
                    .contains("not covered by a signed checkpoint and no writer") => {}
        Err(err) => panic!("verify failed: {err}"),
    }
}

#[test]
fn crash_loop() {
    let seed = std::env::var("AIMS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
        | 1;
    println!("crash loop seed {seed} (AIMS_CRASH_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("log");
    let exe = std::env::current_exe().unwrap();
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    let mut kills_mid_append = 0;

    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, &dir)
            .env(CHILD_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (first_ack, first_ack_seen) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("ack ") {
                    if lines.is_empty() {
                        let _ = first_ack.send(());
                    }
                    lines.push(line);
                }
            }
            lines
        });
        // One round in four is killed during start-up (open, recovery, rotation); the others
        // at a random moment after appends have begun.
        if round % 4 != 0 {
            let _ = first_ack_seen.recv_timeout(Duration::from_secs(10));
            kills_mid_append += 1;
        }
        let deadline = Instant::now() + Duration::from_micros(rng.below(40_000));
        while Instant::now() < deadline {
            std::thread::yield_now();
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            let mut parts = line.split(' ').skip(1);
            let index: u64 = parts.next().unwrap().parse().unwrap();
            acked.insert(index, parts.next().unwrap().to_string());
        }
        if !dir.join("checkpoint").exists() {
            continue; // killed before the log existed
        }

        // Before recovery: a torn tail or unsigned records are reported, never tampering.
        verify_log(&dir, true);
        let log = match AuditLog::open(&dir, options()) {
            Ok(log) => log,
            Err(err) => panic!("round {round}: the log does not open after a kill: {err}"),
        };
        drop(log);
        verify_log(&dir, false);
        let mut found = BTreeMap::new();
        for_each_record(&dir, |index, payload| {
            if let AuditEvent::Outcome(outcome) = record::decode(payload).unwrap().event {
                found.insert(index, outcome.decision_id);
            }
        })
        .unwrap();
        for (index, id) in &acked {
            assert_eq!(
                found.get(index),
                Some(id),
                "round {round}: acknowledged record {index} lost"
            );
        }
    }
    println!(
        "{ROUNDS} kills ({kills_mid_append} mid-append), {} acknowledged records all present",
        acked.len()
    );
    assert!(kills_mid_append >= 40);
    assert!(
        acked.len() > 50,
        "the children appended too little to test anything: {}",
        acked.len()
    );
}
