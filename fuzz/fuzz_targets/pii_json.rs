//! Fuzzes the PII JSON scanner on any JSON text: scanning and masking never fail.
#![no_main]

use aims_core::pii::{MaskPolicy, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) {
        let scanner = Scanner::default();
        let _ = scanner.scan_json(&value);
        let _ = scanner.mask_json(&mut value, &MaskPolicy::default());
    }
});
