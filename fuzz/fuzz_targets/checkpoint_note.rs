//! Fuzzes the signed-note parser and verifier: any text must parse or fail cleanly; a note
//! that parses is in the one form the writer produces (so re-forming it from its fields and
//! signature lines gives back the same text), and a note not signed by the key never
//! verifies.
#![no_main]

use aims_core::audit::checkpoint::SignedCheckpoint;
use aims_core::audit::keys::NoteSigner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(note) = SignedCheckpoint::parse(text) {
        let body = note.checkpoint.text();
        assert!(text.starts_with(&body), "the body is not in canonical form");
        let signatures = &text[body.len()..];
        assert!(signatures.starts_with('\n'));
        assert!(signatures[1..]
            .split_inclusive('\n')
            .all(|line| line.starts_with('\u{2014}') && line.ends_with('\n')));
        if let Ok(signer) = NoteSigner::from_seed("fuzz", [1; 32]) {
            assert!(note.verify(&signer.verifier()).is_err());
        }
    }
});
