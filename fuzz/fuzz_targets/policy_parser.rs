//! Fuzzes the policy parser: any text loads or fails with `FILE:LINE:COL`, in bounded time
//! (nesting and alias expansion are bounded before the text is read into rules).
#![no_main]

use aims_core::policy::{Format, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for (format, file) in [(Format::Yaml, "fuzz.yaml"), (Format::Json, "fuzz.json")] {
        if let Err(err) = Policy::from_text(text, format, file) {
            assert!(err.to_string().starts_with(file));
        }
    }
});
