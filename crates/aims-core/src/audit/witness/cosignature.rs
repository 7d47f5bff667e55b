//! Cosignatures per C2SP `tlog-cosignature` (Ed25519, `cosignature/v1`): the witness's keys
//! (C2SP key texts with algorithm byte 0x04), the signature line a witness adds to a
//! checkpoint, and counting the valid ones on a checkpoint note.
//!
//! A cosignature line is `— <name> base64(key id || u64 BE timestamp || signature)`, the
//! signature covering `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint body
//! (every line before the blank line, each with its newline).

use std::fmt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::super::keys::{
    check_name, decode_material, key_id, key_text, random_bytes, read_key_file, split_key,
    write_key_files, KeyError, PRIVATE_PREFIX,
};

/// The key id algorithm byte C2SP assigns to Ed25519 `cosignature/v1`.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// Cosignature timestamps are at most 2^63 - 1 (C2SP).
const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// The message a `cosignature/v1` signature covers.
fn signed_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// The body of a signed note (its text up to and with the newline before the blank line)
/// and the signature lines after it; `None` when there is no blank line.
pub fn split_note(note: &str) -> Option<(&str, impl Iterator<Item = &str>)> {
    let at = note.find("\n\n")?;
    Some((&note[..=at], note[at + 2..].lines()))
}

/// A witness's private cosigning key.
pub struct CosignerKey {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        f.debug_struct("CosignerKey")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl CosignerKey {
    /// A key from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, KeyError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        let key_id = key_id(name, ALG_COSIGNATURE_V1, &key.verifying_key());
        Ok(Self {
            name: name.to_string(),
            key,
            key_id,
        })
    }

    /// A new random key.
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        random_bytes(&mut seed)?;
        Self::from_seed(name, seed)
    }

    /// Parses `PRIVATE+KEY+NAME+KEYID+BASE64(0x04 || seed)`.
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let bad = |reason| KeyError::Format {
            path: origin.to_string(),
            expected: "witness signer",
            reason,
        };
        let rest = text
            .trim()
            .strip_prefix(PRIVATE_PREFIX)
            .ok_or(bad("it does not start with PRIVATE+KEY+"))?;
        let (name, id, material) = split_key(rest).ok_or(bad("expected NAME+KEYID+BASE64"))?;
        let seed = decode_material(ALG_COSIGNATURE_V1, material)
            .ok_or(bad("not an Ed25519 cosignature/v1 key (type byte 0x04)"))?;
        let key = Self::from_seed(name, seed)?;
        if format!("{:08x}", key.key_id) != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(key)
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        Self::parse(&read_key_file(path)?, &path.display().to_string())
    }

    /// Writes the private key to `path` (mode 0600, refusing to overwrite) and the verifier
    /// key to `path` + `.pub`; returns the latter's path.
    pub fn write(&self, path: &Path) -> Result<PathBuf, KeyError> {
        let private = key_text(
            PRIVATE_PREFIX,
            &self.name,
            self.key_id,
            ALG_COSIGNATURE_V1,
            self.key.as_bytes(),
        );
        write_key_files(path, &private, &self.verifier().to_string())
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignerVerifier {
        CosignerVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The cosignature line (with its newline) over the checkpoint `body` at `timestamp`
    /// (POSIX seconds).
    pub fn cosign(&self, body: &str, timestamp: u64) -> String {
        let signature = self.key.sign(signed_message(body, timestamp).as_bytes());
        let mut blob = Vec::with_capacity(76);
        blob.extend_from_slice(&self.key_id.to_be_bytes());
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&signature.to_bytes());
        format!("\u{2014} {} {}\n", self.name, BASE64.encode(blob))
    }
}

/// A witness's public key, `NAME+KEYID+BASE64(0x04 || public key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignerVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignerVerifier {
    /// Parses the verifier key text.
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let bad = |reason| KeyError::Format {
            path: origin.to_string(),
            expected: "witness verifier",
            reason,
        };
        let text = text.trim();
        if text.starts_with(PRIVATE_PREFIX) {
            return Err(bad("this is a private key; give the .pub file"));
        }
        let (name, id, material) = split_key(text).ok_or(bad("expected NAME+KEYID+BASE64"))?;
        check_name(name)?;
        let public = decode_material(ALG_COSIGNATURE_V1, material)
            .ok_or(bad("not an Ed25519 cosignature/v1 key (type byte 0x04)"))?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 point"))?;
        let key_id = key_id(name, ALG_COSIGNATURE_V1, &key);
        if format!("{key_id:08x}") != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(Self {
            name: name.to_string(),
            key_id,
            key,
        })
    }

    /// Reads a verifier key file.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        Self::parse(&read_key_file(path)?, &path.display().to_string())
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The timestamp of `line` when it is a valid cosignature by this key over the checkpoint
    /// `body`; `None` for any other line.
    pub fn verify_line(&self, body: &str, line: &str) -> Option<u64> {
        let (name, blob) = line.strip_prefix("\u{2014} ")?.split_once(' ')?;
        if name != self.name {
            return None;
        }
        let blob = BASE64.decode(blob.trim_end_matches('\n')).ok()?;
        let (id, rest) = blob.split_first_chunk::<4>()?;
        let (timestamp, signature) = rest.split_first_chunk::<8>()?;
        let signature = <[u8; 64]>::try_from(signature).ok()?;
        let timestamp = u64::from_be_bytes(*timestamp);
        if u32::from_be_bytes(*id) != self.key_id || timestamp > MAX_TIMESTAMP {
            return None;
        }
        self.key
            .verify_strict(
                signed_message(body, timestamp).as_bytes(),
                &Signature::from_bytes(&signature),
            )
            .ok()?;
        Some(timestamp)
    }
}

impl fmt::Display for CosignerVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&key_text(
            "",
            &self.name,
            self.key_id,
            ALG_COSIGNATURE_V1,
            self.key.as_bytes(),
        ))
    }
}

/// One valid cosignature found on a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The witness's name.
    pub witness: String,
    /// When it cosigned (POSIX seconds).
    pub timestamp: u64,
}

/// The witnesses among `witnesses` that validly cosigned the checkpoint `note`, each counted
/// once however many lines it has and however often it is listed.
pub fn cosigners(note: &str, witnesses: &[CosignerVerifier]) -> Vec<Cosigned> {
    let Some((body, lines)) = split_note(note) else {
        return Vec::new();
    };
    let lines: Vec<&str> = lines.collect();
    let mut found: Vec<(&CosignerVerifier, Cosigned)> = Vec::new();
    for witness in witnesses {
        if found.iter().any(|(seen, _)| seen.key == witness.key) {
            continue;
        }
        let newest = lines
            .iter()
            .filter_map(|line| witness.verify_line(body, line))
            .max();
        if let Some(timestamp) = newest {
            let cosigned = Cosigned {
                witness: witness.name.clone(),
                timestamp,
            };
            found.push((witness, cosigned));
        }
    }
    found.into_iter().map(|(_, cosigned)| cosigned).collect()
}

/// Fewer witnesses cosigned a checkpoint than required.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the checkpoint has valid cosignatures from {} of the required {required} witnesses{}",
    found.len(),
    if found.is_empty() { String::new() } else {
        format!(" ({})", found.iter().map(|c| c.witness.as_str()).collect::<Vec<_>>().join(", "))
    }
)]
pub struct QuorumError {
    /// The witnesses that did cosign.
    pub found: Vec<Cosigned>,
    /// How many were required.
    pub required: usize,
}

/// Requires valid cosignatures from at least `required` distinct witnesses of `witnesses` on
/// the checkpoint `note`.
pub fn require_quorum(
    note: &str,
    witnesses: &[CosignerVerifier],
    required: usize,
) -> Result<Vec<Cosigned>, QuorumError> {
    let found = cosigners(note, witnesses);
    if found.len() < required {
        return Err(QuorumError { found, required });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checkpoint::Checkpoint;
    use crate::audit::keys::NoteSigner;

    fn note() -> String {
        let log = NoteSigner::from_seed("log", [1; 32]).unwrap();
        Checkpoint {
            origin: "example.com/log".into(),
            size: 5,
            root: [7; 32],
        }
        .sign(&log)
        .note
    }

    #[test]
    fn cosignature_lines_have_the_c2sp_layout_and_verify() {
        let key = CosignerKey::from_seed("w1.example", [2; 32]).unwrap();
        let note = note();
        let (body, _) = split_note(&note).unwrap();
        assert_eq!(
            body,
            "example.com/log\n5\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"
        );
        let line = key.cosign(body, 1_679_315_147);
        let blob = BASE64
            .decode(line.trim_end().rsplit(' ').next().unwrap())
            .unwrap();
        assert_eq!(blob.len(), 4 + 8 + 64);
        assert_eq!(&blob[4..12], &1_679_315_147u64.to_be_bytes());
        // The signature is an Ed25519 signature over the documented message.
        let signature = Signature::from_bytes(&blob[12..].try_into().unwrap());
        let message = format!("cosignature/v1\ntime 1679315147\n{body}");
        key.verifier()
            .key
            .verify_strict(message.as_bytes(), &signature)
            .unwrap();
        assert_eq!(key.verifier().verify_line(body, &line), Some(1_679_315_147));
        // Another body, another key or another timestamp fails.
        assert_eq!(
            key.verifier().verify_line(&body.replace('5', "6"), &line),
            None
        );
        let other = CosignerKey::from_seed("w1.example", [3; 32]).unwrap();
        assert_eq!(other.verifier().verify_line(body, &line), None);
        let mut forged = blob.clone();
        forged[11] ^= 1;
        let forged = format!("\u{2014} w1.example {}", BASE64.encode(forged));
        assert_eq!(key.verifier().verify_line(body, &forged), None);
    }

    #[test]
    fn key_texts_use_type_byte_4_and_round_trip() {
        let key = CosignerKey::from_seed("w.example", [4; 32]).unwrap();
        let text = key.verifier().to_string();
        let (_, _, material) = split_key(&text).unwrap();
        assert_eq!(BASE64.decode(material).unwrap()[0], 0x04);
        assert_eq!(CosignerVerifier::parse(&text, "t").unwrap(), key.verifier());
        // A note (type 0x01) key is not a cosigner key, and the other way round.
        let note_key = NoteSigner::from_seed("w.example", [4; 32]).unwrap();
        assert!(CosignerVerifier::parse(&note_key.verifier().to_string(), "t").is_err());
        assert!(crate::audit::keys::NoteVerifier::parse(&text, "t").is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.key");
        let public = key.write(&path).unwrap();
        assert_eq!(
            CosignerKey::read(&path).unwrap().verifier(),
            CosignerVerifier::read(&public).unwrap()
        );
        assert!(!format!("{key:?}").contains(&BASE64.encode([4u8; 32])));
    }

    #[test]
    fn a_quorum_counts_distinct_valid_witnesses() {
        let w1 = CosignerKey::from_seed("w1", [5; 32]).unwrap();
        let w2 = CosignerKey::from_seed("w2", [6; 32]).unwrap();
        let mut note = note();
        let body = split_note(&note).unwrap().0.to_string();
        let keys = [w1.verifier(), w2.verifier(), w1.verifier()];
        assert_eq!(require_quorum(&note, &keys, 1).unwrap_err().found.len(), 0);
        note.push_str(&w1.cosign(&body, 10));
        note.push_str(&w1.cosign(&body, 11));
        let found = require_quorum(&note, &keys, 1).unwrap();
        assert_eq!(
            found,
            vec![Cosigned {
                witness: "w1".into(),
                timestamp: 11
            }]
        );
        let err = require_quorum(&note, &keys, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the checkpoint has valid cosignatures from 1 of the required 2 witnesses (w1)"
        );
        note.push_str(&w2.cosign(&body, 12));
        assert_eq!(require_quorum(&note, &keys, 2).unwrap().len(), 2);
    }
}
