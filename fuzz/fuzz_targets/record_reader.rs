//! Fuzzes the records-file reader: any bytes must scan without panicking, never yield more
//! records than the bytes can hold, every record it accepts must re-frame (payload and tag)
//! to the same bytes it was read from, and must be a strict record: the canonical form of
//! a known event, decoding to exactly what it says.
#![no_main]

use aims_core::audit::frame;
use aims_core::audit::merkle::CompactRange;
use aims_core::audit::record;
use aims_core::audit::scan::{scan_entries, ScanConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reframed = Vec::new();
    let scanned = scan_entries(
        ScanConfig::default(),
        data,
        &mut CompactRange::new(),
        &[0, 1, 2],
        |entry| {
            let decoded = record::decode(entry.payload);
            assert!(decoded.is_ok(), "accepted a record that does not decode");
            frame::encode(entry.payload, entry.tag, &mut reframed);
            Ok(())
        },
    );
    if let Ok(outcome) = scanned {
        assert!(outcome.records * 25 <= data.len() as u64);
        assert_eq!(outcome.valid_bytes as usize, reframed.len());
        assert_eq!(&data[..reframed.len()], &reframed[..]);
    }
});
