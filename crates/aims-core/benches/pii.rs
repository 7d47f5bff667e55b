//! Scanner throughput (MB/s) on text without PII and on PII-dense text, about 64 KiB each,
//! and the cost of masking typical tool-call arguments as the guard does before recording them
//! (a copy of the arguments, then `Masker::mask`), in the calling thread's CPU time (a loaded
//! machine distorts it far less than wall time).
//!
//! Run: `cargo bench --workspace --bench pii` (`-- pii_args` for the tool-call arguments only).

use aims_core::guard::Masker;
use aims_core::pii::{MaskPolicy, Scanner};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};
use support::cpu_timed;

mod support;

const SIZE: usize = 64 * 1024;

/// Prose with numbers, versions, dates, paths and dotted names, but no PII.
const CLEAN: &str = "The agent read config/settings.yaml and retried the request 3 times \
    within 250 ms; build 1.24.7 shipped on 2024-05-17 with 12 fixes. The report.pdf \
    lists 48213 rows, order 7731 was late, and the queue held 1024 items at 09:30. ";

/// Sentences that each carry PII or a secret.
const DENSE: &str = "Mail jane.doe@example.org or call +1 415-555-0132. Card 4111 1111 1111 1111, \
    IBAN DE89 3704 0044 0532 0130 00, SSN 536-90-4399, host 192.168.10.24, \
    key AKIAIOSFODNN7EXAMPLE, see https://example.com/a?b=c. ";

fn repeat_to(sample: &str, size: usize) -> String {
    sample.repeat(size / sample.len() + 1)
}

fn bench(c: &mut Criterion) {
    let scanner = Scanner::default();
    let policy = MaskPolicy::default();
    let mut group = c.benchmark_group("pii");
    for (name, sample) in [("clean", CLEAN), ("dense", DENSE)] {
        let text = repeat_to(sample, SIZE);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("scan/{name} (cpu)"), |b| {
            b.iter_custom(|iters| cpu_timed(iters, |_| scanner.scan(&text)))
        });
        group.bench_function(format!("mask/{name} (cpu)"), |b| {
            b.iter_custom(|iters| cpu_timed(iters, |_| scanner.mask(&text, &policy)))
        });
    }
    group.finish();
}

/// Typical tool-call arguments: a small object of short strings and a number, without PII
/// (the guard bench's call) and with an e-mail address and a card number.
fn call_args() -> [(&'static str, Value); 2] {
    [
        (
            "plain",
            json!({"order_id": "o-1", "amount": 50, "currency": "EUR", "note": "ord-1234"}),
        ),
        (
            "pii",
            json!({"order_id": "o-1", "amount": 50, "currency": "EUR",
                   "email": "jane.doe@example.org", "card": "4111 1111 1111 1111"}),
        ),
    ]
}

fn bench_call_args(c: &mut Criterion) {
    let scanner = Scanner::default();
    let mut group = c.benchmark_group("pii_args");
    for (name, args) in call_args() {
        group.bench_function(format!("mask_record/{name} (cpu)"), |b| {
            b.iter_custom(|iters| {
                cpu_timed(iters, |_| {
                    let mut value = args.clone();
                    let masked = Masker::mask(&scanner, &mut value, &[]);
                    (value, masked)
                })
            })
        });
        group.bench_function(format!("scan_json/{name} (cpu)"), |b| {
            b.iter_custom(|iters| cpu_timed(iters, |_| scanner.scan_json(&args)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, bench_call_args);
criterion_main!(benches);
