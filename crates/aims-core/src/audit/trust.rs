//! Who may speak for a log: the chain of signing keys (each new key endorsed by the one it
//! replaces, in a `key_rotated` record) and the tail key, derived from the signing key, whose
//! tags authenticate records that no signed checkpoint covers yet.
//!
//! Without the chain, anyone who can write the directory could sign a rewritten history
//! with a key of their own and present it as a rotation; without the tags, anyone could put
//! back an old checkpoint, rewrite the records after it, and have the next writer sign them.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::checkpoint::SignedCheckpoint;
use super::frame::{Tag, TAG_LEN};
use super::keys::{NoteSigner, NoteVerifier};
use super::merkle::Hash;
use super::KeyRotatedEvent;

/// The first line of the statement a previous key signs to endorse its successor.
const ROTATION_HEADER: &str = "aims-audit-key-rotation/v1";
/// What the tail key is derived for (followed by the log's origin).
const TAIL_KEY_CONTEXT: &str = "aims-audit-tail-tag/v1\n";

/// The text the previous key signs: header, origin, previous key, new key, each a line.
pub fn rotation_statement(origin: &str, previous_key: &str, key: &str) -> String {
    format!("{ROTATION_HEADER}\n{origin}\n{previous_key}\n{key}\n")
}

/// The `key_rotated` event by which `previous` hands the log `origin` over to `key`.
pub fn endorse(previous: &NoteSigner, origin: &str, key: &NoteVerifier) -> KeyRotatedEvent {
    let previous_key = previous.verifier().to_string();
    let key = key.to_string();
    let statement = rotation_statement(origin, &previous_key, &key);
    KeyRotatedEvent {
        endorsement: BASE64.encode(previous.sign_blob(&statement)),
        previous_key,
        key,
    }
}

/// The (previous, new) keys of a rotation whose endorsement verifies with its previous key;
/// `None` for a malformed or unendorsed one.
pub fn endorsed(event: &KeyRotatedEvent, origin: &str) -> Option<(NoteVerifier, NoteVerifier)> {
    let previous = NoteVerifier::parse(&event.previous_key, "previous_key").ok()?;
    let key = NoteVerifier::parse(&event.key, "key").ok()?;
    let blob = BASE64.decode(&event.endorsement).ok()?;
    let statement = rotation_statement(origin, &event.previous_key, &event.key);
    previous
        .verify_blob(&statement, &blob)
        .then_some((previous, key))
}

/// The keys a verifier accepts checkpoints from: the key it trusts, and every key that key
/// endorsed, directly or through a chain of rotations.
#[derive(Debug, Clone)]
pub struct KeyChain {
    keys: Vec<NoteVerifier>,
}

impl KeyChain {
    /// A chain holding only `trusted`.
    pub fn new(trusted: NoteVerifier) -> Self {
        Self {
            keys: vec![trusted],
        }
    }

    /// Follows the rotations in log order: one endorsed by a trusted key makes its new key
    /// trusted. Endorsements prove themselves, so they may come from anywhere in the log.
    pub fn follow<'a>(
        &mut self,
        rotations: impl IntoIterator<Item = &'a KeyRotatedEvent>,
        origin: &str,
    ) {
        for rotation in rotations {
            if let Some((previous, key)) = endorsed(rotation, origin) {
                if self.trusts(&previous) && !self.trusts(&key) {
                    self.keys.push(key);
                }
            }
        }
    }

    /// Also trusts the keys a trusted key replaced, for checkpoints signed before a rotation.
    /// Only rotations inside a prefix the trusted signature covers may be given: there the
    /// trusted key's holder wrote them.
    pub fn accept_predecessors<'a>(
        &mut self,
        rotations: impl DoubleEndedIterator<Item = &'a KeyRotatedEvent>,
        origin: &str,
    ) {
        for rotation in rotations.rev() {
            if let Some((previous, key)) = endorsed(rotation, origin) {
                if self.trusts(&key) && !self.trusts(&previous) {
                    self.keys.push(previous);
                }
            }
        }
    }

    /// True when `key` is in the chain.
    pub fn trusts(&self, key: &NoteVerifier) -> bool {
        self.keys.contains(key)
    }

    /// The trusted key that signed `checkpoint`, if any.
    pub fn signer_of(&self, checkpoint: &SignedCheckpoint) -> Option<&NoteVerifier> {
        self.keys.iter().find(|key| checkpoint.verify(key).is_ok())
    }
}

/// The writer's key for record tags: HMAC-SHA256 keyed with a secret derived from the
/// signing key and the log's origin, over the record's leaf hash, truncated to 16 bytes.
#[derive(Clone)]
pub struct TailKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for TailKey {
    /// Never shows the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TailKey(..)")
    }
}

impl TailKey {
    /// The tail key of `signer` for the log `origin`.
    pub fn new(signer: &NoteSigner, origin: &str) -> Self {
        let mut context = TAIL_KEY_CONTEXT.as_bytes().to_vec();
        context.extend_from_slice(origin.as_bytes());
        let secret = signer.derive_secret(&context);
        let mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(&secret) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        Self { mac }
    }

    /// The tag of the record whose leaf hash is `leaf`.
    pub fn tag(&self, leaf: &Hash) -> Tag {
        let mut mac = self.mac.clone();
        mac.update(leaf);
        let mut tag = [0; TAG_LEN];
        tag.copy_from_slice(&mac.finalize().into_bytes()[..TAG_LEN]);
        tag
    }

    /// True when `tag` is the tag of `leaf` (compared in constant time).
    pub fn authenticates(&self, leaf: &Hash, tag: &Tag) -> bool {
        let mut mac = self.mac.clone();
        mac.update(leaf);
        mac.verify_truncated_left(tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(seed: u8) -> NoteSigner {
        NoteSigner::from_seed("k", [seed; 32]).unwrap()
    }

    #[test]
    fn only_the_previous_key_can_endorse_a_successor() {
        let (old, new, forger) = (signer(1), signer(2), signer(3));
        let rotation = endorse(&old, "log", &new.verifier());
        assert_eq!(
            endorsed(&rotation, "log"),
            Some((old.verifier(), new.verifier()))
        );
        assert_eq!(endorsed(&rotation, "other-log"), None);
        // A forger who names the old key as previous cannot sign for it.
        let mut forged = endorse(&forger, "log", &forger.verifier());
        forged.previous_key = old.verifier().to_string();
        assert_eq!(endorsed(&forged, "log"), None);

        let mut chain = KeyChain::new(old.verifier());
        chain.follow([&forged, &rotation], "log");
        assert!(chain.trusts(&new.verifier()));
        assert!(!chain.trusts(&forger.verifier()));

        let mut backwards = KeyChain::new(new.verifier());
        backwards.follow([&rotation], "log");
        assert!(!backwards.trusts(&old.verifier()));
        backwards.accept_predecessors([&rotation].into_iter(), "log");
        assert!(backwards.trusts(&old.verifier()));
    }

    #[test]
    fn tags_depend_on_the_key_the_log_and_the_record() {
        let key = TailKey::new(&signer(1), "log");
        let tag = key.tag(&[5; 32]);
        assert!(key.authenticates(&[5; 32], &tag));
        assert!(!key.authenticates(&[6; 32], &tag));
        assert!(!TailKey::new(&signer(2), "log").authenticates(&[5; 32], &tag));
        assert!(!TailKey::new(&signer(1), "log2").authenticates(&[5; 32], &tag));
        assert_eq!(format!("{key:?}"), "TailKey(..)");
    }
}
