//! Property tests of the record reader (the same properties the `fuzz/` target checks with
//! libFuzzer): arbitrary bytes never make it panic or invent records, and damage to a valid
//! log is reported at the damaged record or as a torn tail, never past it.
#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use aims_core::audit::merkle::{leaf_hash, CompactRange, Hash};
use aims_core::audit::scan::{scan, scan_with, ScanConfig, ScanError};
use aims_core::audit::{frame, record};
use proptest::prelude::*;

/// A valid records file of `count` records, and the offset each frame starts at.
fn log_bytes(count: usize, filler: &str) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut starts = Vec::new();
    let mut prev: Hash = [0; 32];
    for index in 0..count {
        let event = format!(
            r#"{{"kind":"policy_loaded","policy_version":"v","rules":{index},"source":"{filler}"}}"#
        );
        let payload = record::encode(
            event.as_bytes(),
            index as u64,
            &prev,
            "2026-01-01T00:00:00Z",
        );
        starts.push(bytes.len());
        frame::encode(&payload, &[0; frame::TAG_LEN], &mut bytes);
        prev = leaf_hash(&payload);
    }
    (bytes, starts)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_or_invent_records(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut tree = CompactRange::new();
        if let Ok(outcome) = scan(&bytes[..], &mut tree, &[0, 1], |_, payload| {
            let _ = record::decode(payload);
        }) {
            // Every record needs a header and a payload of at least a few bytes.
            prop_assert!(outcome.records * 9 <= bytes.len() as u64);
            prop_assert!(outcome.valid_bytes <= bytes.len() as u64);
        }
    }

    #[test]
    fn a_valid_log_scans_whole(count in 0usize..20, filler in "[a-z ]{0,300}") {
        let (bytes, _) = log_bytes(count, &filler);
        let outcome = scan(&bytes[..], &mut CompactRange::new(), &[], |_, _| {}).unwrap();
        prop_assert_eq!(outcome.records, count as u64);
        prop_assert_eq!(outcome.valid_bytes, bytes.len() as u64);
        prop_assert!(outcome.torn.is_none());
    }

    #[test]
    fn a_cut_log_keeps_exactly_the_whole_records_before_the_cut(count in 1usize..20, cut in any::<prop::sample::Index>()) {
        let (bytes, starts) = log_bytes(count, "x");
        let cut = cut.index(bytes.len());
        let outcome = scan(&bytes[..cut], &mut CompactRange::new(), &[], |_, _| {}).unwrap();
        let whole = starts.iter().skip(1).chain([&bytes.len()]).filter(|end| **end <= cut).count();
        prop_assert_eq!(outcome.records, whole as u64);
        prop_assert_eq!(outcome.torn.is_some(), cut != starts.get(whole).copied().unwrap_or(bytes.len()));
    }

    #[test]
    fn a_flipped_bit_is_caught_at_its_record(count in 1usize..20, at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (mut bytes, starts) = log_bytes(count, "some text");
        let at = at.index(bytes.len());
        bytes[at] ^= 1 << bit;
        let damaged = starts.iter().rposition(|start| *start <= at).unwrap() as u64;
        match scan(&bytes[..], &mut CompactRange::new(), &[], |_, _| {}) {
            Ok(outcome) => {
                // Only a torn tail: the damaged record and everything after it are dropped.
                prop_assert_eq!(outcome.records, damaged);
                prop_assert!(outcome.torn.is_some());
            }
            Err(ScanError::Integrity(integrity)) => prop_assert_eq!(integrity.index, Some(damaged)),
            Err(other) => prop_assert!(false, "unexpected {other}"),
        }
    }

    #[test]
    fn blocks_and_threads_do_not_change_what_a_scan_finds(
        count in 0usize..400,
        damage in prop::option::of((any::<prop::sample::Index>(), 0u8..8)),
        cut in prop::option::of(any::<prop::sample::Index>()),
        zero_tail in 0usize..40,
    ) {
        let (mut bytes, _) = log_bytes(count, "blocks");
        if let Some((at, bit)) = damage.filter(|_| !bytes.is_empty()) {
            let at = at.index(bytes.len());
            bytes[at] ^= 1 << bit;
        }
        if let Some(cut) = cut.filter(|_| !bytes.is_empty()) {
            bytes.truncate(cut.index(bytes.len()));
        }
        bytes.resize(bytes.len() + zero_tail, 0);
        // One record at a time (blocks smaller than any frame) is the reference.
        let reference = ScanConfig { block_bytes: 1, workers: 1, parallel_min_frames: usize::MAX };
        let spread = [
            ScanConfig { block_bytes: 700, workers: 3, parallel_min_frames: 2 },
            ScanConfig { block_bytes: 8192, workers: 2, parallel_min_frames: 2 },
            ScanConfig::default(),
        ];
        let run = |config: ScanConfig| {
            let mut seen = Vec::new();
            let outcome = scan_with(config, &bytes[..], &mut CompactRange::new(), &[0, 7, 100], |index, payload| {
                seen.push((index, leaf_hash(payload)));
            });
            (format!("{outcome:?}"), seen)
        };
        let expected = run(reference);
        for config in spread {
            prop_assert_eq!(&run(config), &expected, "{:?}", config);
        }
    }
}
