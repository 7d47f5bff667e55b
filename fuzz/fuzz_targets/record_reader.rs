//! Fuzzes the records-file reader: any bytes must scan without panicking, never yield more
//! records than the bytes can hold, and every record it accepts must re-frame to the same
//! bytes it was read from.
#![no_main]

use aims_core::audit::frame;
use aims_core::audit::merkle::CompactRange;
use aims_core::audit::record;
use aims_core::audit::scan::scan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reframed = Vec::new();
    let scanned = scan(data, &mut CompactRange::new(), &[0, 1, 2], |_, payload| {
        let _ = record::decode(payload);
        frame::encode(payload, &mut reframed);
    });
    if let Ok(outcome) = scanned {
        assert!(outcome.records * 9 <= data.len() as u64);
        assert_eq!(outcome.valid_bytes as usize, reframed.len());
        assert_eq!(&data[..reframed.len()], &reframed[..]);
    }
});
