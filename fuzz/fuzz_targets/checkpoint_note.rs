//! Fuzzes the signed-note parser and verifier: any text must parse or fail cleanly, and a
//! note that was not signed by the key must never verify.
#![no_main]

use aims_core::audit::checkpoint::SignedCheckpoint;
use aims_core::audit::keys::NoteSigner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(note) = SignedCheckpoint::parse(text) {
        if let Ok(signer) = NoteSigner::from_seed("fuzz", [1; 32]) {
            assert!(note.verify(&signer.verifier()).is_err());
        }
    }
});
