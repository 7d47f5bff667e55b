//! Grows a large audit log for the evidence pack's memory measurements (`scripts/test-report`,
//! `scripts/report-scale`): replays the events of a real log (e.g. the demo's: decisions of
//! every verdict, outcomes, approvals, incidents) in a loop into a new log until it holds
//! `RECORDS` records, with the `none` durability (buffered, one fsync at the end).
//!
//! Run: `cargo run --workspace --example grow_log -- SOURCE_LOG DEST_LOG RECORDS KEY_FILE`
//! (`KEY_FILE`: the signing key, as `aims keygen` writes it).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a generator: a failure stops it loudly

use std::path::PathBuf;

use aims_core::audit::keys::NoteSigner;
use aims_core::audit::{
    for_each_record, record, AuditEvent, AuditLog, AuditSink, Durability, LogOptions,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [source, dest, records, key] = args.as_slice() else {
        eprintln!("usage: grow_log SOURCE_LOG DEST_LOG RECORDS KEY_FILE");
        std::process::exit(2);
    };
    let records: u64 = records.parse().expect("RECORDS is a number");
    let mut events = Vec::new();
    for_each_record(&PathBuf::from(source), |_, payload| {
        let event = record::decode(payload)
            .expect("a record of the source log")
            .event;
        // The log writes its own checkpoint and key records; replaying them would claim sizes
        // the new log does not have.
        if !matches!(
            event,
            AuditEvent::Checkpoint(_) | AuditEvent::KeyRotated(_) | AuditEvent::Recovered(_)
        ) {
            events.push(event);
        }
    })
    .expect("the source log reads");
    assert!(!events.is_empty(), "the source log has no events to replay");

    let signer = NoteSigner::read(&PathBuf::from(key)).expect("the signing key reads");
    let log = AuditLog::open(dest, LogOptions::new(signer).durability(Durability::None))
        .expect("the new log opens");
    let mut written = log.open_report().records;
    'fill: loop {
        for event in &events {
            if written >= records {
                break 'fill;
            }
            written = log.append(event.clone()).expect("append") + 1;
        }
    }
    log.close().expect("close");
    println!("{dest}: {written} records");
}
