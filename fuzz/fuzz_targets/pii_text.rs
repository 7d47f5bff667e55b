//! Fuzzes the PII text scanner: findings lie on character boundaries inside the text, and
//! masking never fails.
#![no_main]

use aims_core::pii::{MaskPolicy, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let scanner = Scanner::default();
    for finding in scanner.scan(text) {
        assert!(finding.start < finding.end && finding.end <= text.len());
        assert!(text.is_char_boundary(finding.start) && text.is_char_boundary(finding.end));
    }
    let _ = scanner.mask(text, &MaskPolicy::default());
});
