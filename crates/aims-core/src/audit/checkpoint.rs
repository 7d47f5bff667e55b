//! Checkpoints: the log's size and root hash in the C2SP `tlog-checkpoint` form, signed as a
//! C2SP signed note:
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root hash>\n\n— <key name> <base64(key id || signature)>\n
//! ```
//!
//! The signature covers the note text (the first three lines with their newlines).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::keys::{NoteSigner, NoteVerifier};
use super::merkle::Hash;

/// Why a checkpoint note is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text is not a signed checkpoint note.
    #[error("not a signed checkpoint: {0}")]
    Format(&'static str),
    /// No signature on the note verifies with the key.
    #[error("the checkpoint is not signed by key {0}")]
    NotSigned(String),
}

/// A tree head: which log, how many records, which root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, unique per log.
    pub origin: String,
    /// The number of records covered.
    pub size: u64,
    /// The RFC 9162 root of those records.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text the signature covers.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// The signed note.
    pub fn sign(&self, signer: &NoteSigner) -> SignedCheckpoint {
        let text = self.text();
        let signature = signer.signature_line(&text);
        SignedCheckpoint {
            checkpoint: self.clone(),
            note: format!("{text}\n{signature}"),
        }
    }
}

/// A checkpoint with its signed note text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// What the note says.
    pub checkpoint: Checkpoint,
    /// The whole note, as stored and exchanged.
    pub note: String,
}

impl SignedCheckpoint {
    /// Parses a note; signatures are checked separately by [`SignedCheckpoint::verify`].
    pub fn parse(note: &str) -> Result<Self, CheckpointError> {
        let (text, signatures) = note.split_once("\n\n").ok_or(CheckpointError::Format(
            "no blank line before the signatures",
        ))?;
        if signatures.is_empty() || !signatures.ends_with('\n') {
            return Err(CheckpointError::Format("no signature line"));
        }
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|origin| !origin.is_empty())
            .ok_or(CheckpointError::Format("empty origin"))?;
        let size = lines
            .next()
            .filter(|size| !size.is_empty() && (size.len() == 1 || !size.starts_with('0')))
            .and_then(|size| size.parse::<u64>().ok())
            .ok_or(CheckpointError::Format(
                "the second line is not a tree size",
            ))?;
        let root = lines
            .next()
            .and_then(|root| BASE64.decode(root).ok())
            .and_then(|root| Hash::try_from(root).ok())
            .ok_or(CheckpointError::Format(
                "the third line is not a base64 SHA-256 root",
            ))?;
        Ok(Self {
            checkpoint: Checkpoint {
                origin: origin.to_string(),
                size,
                root,
            },
            note: note.to_string(),
        })
    }

    /// Succeeds when a signature line of the note verifies with `key`.
    pub fn verify(&self, key: &NoteVerifier) -> Result<(), CheckpointError> {
        let Some((text, signatures)) = self.note.split_once("\n\n") else {
            return Err(CheckpointError::Format(
                "no blank line before the signatures",
            ));
        };
        let text = format!("{text}\n");
        let signed = signatures
            .lines()
            .any(|line| key.verify_signature_line(&text, line));
        if signed {
            Ok(())
        } else {
            Err(CheckpointError::NotSigned(key.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_parses_and_verifies() {
        let signer = NoteSigner::from_seed("aims-test", [3; 32]).unwrap();
        let checkpoint = Checkpoint {
            origin: "example.com/log".into(),
            size: 12,
            root: [5; 32],
        };
        let signed = checkpoint.sign(&signer);
        assert!(signed
            .note
            .starts_with("example.com/log\n12\nBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=\n\n\u{2014} aims-test "));
        let parsed = SignedCheckpoint::parse(&signed.note).unwrap();
        assert_eq!(parsed.checkpoint, checkpoint);
        parsed.verify(&signer.verifier()).unwrap();

        let other = NoteSigner::from_seed("aims-test", [4; 32]).unwrap();
        assert!(parsed.verify(&other.verifier()).is_err());
        let altered =
            SignedCheckpoint::parse(&signed.note.replacen("\n12\n", "\n13\n", 1)).unwrap();
        assert!(altered.verify(&signer.verifier()).is_err());
    }

    #[test]
    fn rejects_malformed_notes() {
        for bad in [
            "",
            "origin\n1\nAAAA\n",
            "origin\n01\nBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=\n\n\u{2014} k x\n",
            "origin\nx\nBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=\n\n\u{2014} k x\n",
            "origin\n1\nBQUF\n\n\u{2014} k x\n",
            "\n1\nBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=\n\n\u{2014} k x\n",
        ] {
            assert!(SignedCheckpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
