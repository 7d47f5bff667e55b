//! The durable audit log: appends per second in each durability mode with ~300-byte records,
//! offline verification throughput beside raw SHA-256 throughput measured in the same run,
//! and proof size and time at one million entries.
//!
//! Run: `cargo bench --workspace --bench audit`.
//!
//! Single-threaded, CPU-bound benchmarks report the calling thread's CPU time (user and
//! system, `CLOCK_THREAD_CPUTIME_ID`), so figures stay meaningful on a shared, loaded
//! machine; the multi-threaded and fsync-bound ones (batched, strict) report wall time.
#![allow(clippy::unwrap_used)] // a benchmark: a failure should stop it loudly

use std::hint::black_box;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::merkle::{self, CompactRange};
use aims_core::audit::scan::{scan, scan_with, ScanConfig};
use aims_core::audit::{
    frame, record, verify, AuditEvent, AuditLog, AuditSink, Durability, LogOptions, OutcomeEvent,
    OutcomeStatus, VerifyOptions,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use support::cpu_timed;

mod support;
use sha2::{Digest, Sha256};

/// An outcome as the guard records it; its record payload (with the record's index, prev
/// hash and timestamp) is about 300 bytes. A decision record is about 450.
fn decision(n: u64) -> AuditEvent {
    AuditEvent::Outcome(OutcomeEvent {
        decision_id: format!("d{n:08}"),
        agent_id: "support-agent".into(),
        tool: "send_email".into(),
        call_id: Some(format!("call-{n:08}")),
        status: OutcomeStatus::Ok,
        error: None,
        duration_us: 1200 + n % 1000,
    })
}

fn options(durability: Durability) -> LogOptions {
    let signer = NoteSigner::from_seed("aims-bench", [42; 32]).unwrap();
    LogOptions::new(signer).durability(durability)
}

fn open(dir: &Path, durability: Durability) -> AuditLog {
    AuditLog::open(dir, options(durability)).unwrap()
}

/// Threads that append on request, created once so that the figure is the log's and not the
/// cost of starting hundreds of threads per sample.
struct Appenders {
    work: Vec<mpsc::Sender<u64>>,
    done: mpsc::Receiver<()>,
}

impl Appenders {
    fn start(log: &Arc<AuditLog>, threads: u64) -> Self {
        let (done_tx, done) = mpsc::channel();
        let work = (0..threads)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<u64>();
                let (log, done_tx) = (Arc::clone(log), done_tx.clone());
                std::thread::spawn(move || {
                    for share in rx {
                        for n in 0..share {
                            black_box(log.append(decision(n)).unwrap());
                        }
                        done_tx.send(()).unwrap();
                    }
                });
                tx
            })
            .collect();
        Self { work, done }
    }

    /// Appends at least `total` events spread over the threads; returns the time taken,
    /// scaled to `total` when every thread had to append one.
    fn append(&self, total: u64) -> Duration {
        let threads = self.work.len() as u64;
        let appended = total.max(threads);
        let start = Instant::now();
        for (t, work) in (0..threads).zip(&self.work) {
            work.send(appended / threads + u64::from(t < appended % threads))
                .unwrap();
        }
        for _ in 0..threads {
            self.done.recv().unwrap();
        }
        start.elapsed().mul_f64(total as f64 / appended as f64)
    }
}

fn appends(c: &mut Criterion) {
    let payload = {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), Durability::None);
        log.append(decision(0)).unwrap();
        log.close().unwrap();
        std::fs::metadata(dir.path().join("records")).map_or(0, |m| m.len()) - 8
    };
    println!("record payload: {payload} bytes");

    let mut group = c.benchmark_group("audit/append");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), Durability::None);
    // The events are built outside the timed part: this measures the log, not the caller.
    group.bench_function("none/1-thread (cpu)", |b| {
        b.iter_custom(|iters| {
            let mut events: Vec<AuditEvent> = (0..iters).map(decision).collect();
            events.reverse();
            cpu_timed(iters, |_| log.append(events.pop().unwrap()).unwrap())
        })
    });
    drop(log);

    for threads in [64u64, 256] {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(open(dir.path(), Durability::batched()));
        let appenders = Appenders::start(&log, threads);
        group.bench_function(
            BenchmarkId::new("batched", format!("{threads}-threads")),
            |b| b.iter_custom(|iters| appenders.append(iters)),
        );
    }

    group.sample_size(10);
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), Durability::Strict);
    let mut n = 0;
    group.bench_function("strict/1-thread", |b| {
        b.iter(|| {
            n += 1;
            log.append(decision(n)).unwrap()
        })
    });
    group.finish();
}

fn verification(c: &mut Criterion) {
    const RECORDS: u64 = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), Durability::None);
    for n in 0..RECORDS {
        log.append(decision(n)).unwrap();
    }
    let key = log.verifier();
    log.close().unwrap();
    let bytes = std::fs::metadata(dir.path().join("records")).map_or(0, |m| m.len());
    let options = VerifyOptions {
        public_key: Some(key),
        checkpoint: None,
    };
    let buffer = vec![0x5au8; bytes as usize];

    let raw_sha256 = || {
        let mut hasher = Sha256::new();
        for chunk in buffer.chunks(1 << 20) {
            hasher.update(chunk);
        }
        hasher.finalize()
    };
    let mut group = c.benchmark_group("audit/verify");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(20);
    // Verification spreads per-record work over the cores, so its figure is wall time, next
    // to single-threaded SHA-256 in wall time; CPU-time figures show each at one thread.
    group.bench_function(format!("log/{RECORDS}-records (wall)"), |b| {
        b.iter(|| verify(dir.path(), &options).unwrap())
    });
    group.bench_function("raw-sha256/same-bytes (wall)", |b| b.iter(raw_sha256));
    group.bench_function("raw-sha256/same-bytes (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |_| raw_sha256()))
    });
    group.finish();

    // Where verification time goes, per record.
    let file = std::fs::read(dir.path().join("records")).unwrap();
    let payload =
        file[8..8 + u32::from_le_bytes([file[0], file[1], file[2], file[3]]) as usize].to_vec();
    let mut parts = c.benchmark_group("audit/verify-parts");
    parts.throughput(Throughput::Bytes(payload.len() as u64 + 8));
    parts.bench_function("leaf-hash (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |_| merkle::leaf_hash(black_box(&payload))))
    });
    parts.bench_function("node-hash (cpu)", |b| {
        let (l, r) = ([1u8; 32], [2u8; 32]);
        b.iter_custom(|iters| cpu_timed(iters, |_| merkle::node_hash(black_box(&l), &r)))
    });
    parts.bench_function("crc32c (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |_| crc32c::crc32c(black_box(&payload))))
    });
    parts.bench_function("trailer (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |_| record::trailer(black_box(&payload)).unwrap()))
    });
    parts.throughput(Throughput::Bytes(file.len() as u64));
    parts.sample_size(20);
    let one_thread = ScanConfig {
        workers: 1,
        ..ScanConfig::default()
    };
    parts.bench_function("scan-in-memory, one thread (cpu)", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |_| {
                scan_with(
                    one_thread,
                    &file[..],
                    &mut CompactRange::new(),
                    &[],
                    |_, _| {},
                )
                .unwrap()
            })
        })
    });
    parts.bench_function("scan-in-memory (wall)", |b| {
        b.iter(|| scan(&file[..], &mut CompactRange::new(), &[], |_, _| {}).unwrap())
    });
    parts.finish();
    let mut framed = Vec::new();
    frame::encode(&payload, &[0; frame::TAG_LEN], &mut framed);
    println!("verify-parts: record {} bytes framed", framed.len());
}

fn proofs(c: &mut Criterion) {
    const ENTRIES: u64 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), Durability::None);
    for n in 0..ENTRIES {
        log.append(decision(n)).unwrap();
    }
    let key = log.verifier();
    log.close().unwrap();
    let started = Instant::now();
    let log = open(dir.path(), Durability::None);
    println!(
        "open (scan + tree rebuild) of {ENTRIES} records: {:?}",
        started.elapsed()
    );
    let size = log.latest_checkpoint().map_or(0, |c| c.checkpoint.size);

    let inclusion = log.prove_inclusion(size / 3).unwrap();
    let consistency = log.prove_consistency(size / 3).unwrap();
    println!(
        "at {size} entries: inclusion proof {} hashes ({} bytes; JSON with record and \
         checkpoint {} bytes), consistency proof {} hashes ({} bytes)",
        inclusion.hashes.len(),
        inclusion.hashes.len() * 32,
        serde_json::to_string(&inclusion).map_or(0, |s| s.len()),
        consistency.hashes.len(),
        consistency.hashes.len() * 32,
    );

    let mut group = c.benchmark_group("audit/proof-1M");
    let index = |i: u64| (i * 7919) % size;
    group.bench_function("inclusion/prove (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |i| log.prove_inclusion(index(i)).unwrap()))
    });
    group.bench_function("inclusion/verify (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |_| inclusion.verify(&key).unwrap()))
    });
    group.bench_function("consistency/prove (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |i| log.prove_consistency(index(i) + 1).unwrap()))
    });
    group.bench_function("consistency/verify (cpu)", |b| {
        b.iter_custom(|iters| cpu_timed(iters, |_| consistency.verify(&key).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, appends, verification, proofs);
criterion_main!(benches);
