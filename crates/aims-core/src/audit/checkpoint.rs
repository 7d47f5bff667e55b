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

/// The longest note accepted: a checkpoint with a few dozen cosignatures is far shorter.
const MAX_NOTE_BYTES: usize = 64 * 1024;
/// The most signature lines a note may carry (as Go's `sumdb/note`).
const MAX_SIGNATURES: usize = 100;

/// Checks the signature lines of a note: at least one, at most [`MAX_SIGNATURES`], each
/// `— NAME BASE64` with a valid key name and a blob of a key id and a signature, each ending
/// in a newline, no blank line.
fn check_signature_lines(signatures: &str) -> Result<(), CheckpointError> {
    if signatures.is_empty() || !signatures.ends_with('\n') {
        return Err(CheckpointError::Format("no signature line"));
    }
    let mut count = 0;
    for line in signatures.split_terminator('\n') {
        count += 1;
        let well_formed = line
            .strip_prefix("\u{2014} ")
            .and_then(|rest| rest.split_once(' '))
            .is_some_and(|(name, blob)| {
                !name.is_empty()
                    && !name.contains('+')
                    && !name.chars().any(char::is_whitespace)
                    && BASE64.decode(blob).is_ok_and(|bytes| bytes.len() > 4)
            });
        if !well_formed {
            return Err(CheckpointError::Format(
                "a signature line is not \"\u{2014} NAME BASE64\"",
            ));
        }
    }
    if count > MAX_SIGNATURES {
        return Err(CheckpointError::Format("too many signature lines"));
    }
    Ok(())
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
    /// Parses a note as strictly as the reference note parsers (Go's `sumdb/note`, the C2SP
    /// spec): exactly three body lines (origin, a decimal size without sign or leading zero,
    /// the padded base64 of 32 bytes), one blank line, then one or more signature lines
    /// `— NAME BASE64`, each ending in a newline; no other control character anywhere.
    /// Signatures are checked separately by [`SignedCheckpoint::verify`].
    pub fn parse(note: &str) -> Result<Self, CheckpointError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(CheckpointError::Format("the note is too long"));
        }
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(CheckpointError::Format(
                "the note holds a control character other than newline",
            ));
        }
        let (text, signatures) = note.split_once("\n\n").ok_or(CheckpointError::Format(
            "no blank line before the signatures",
        ))?;
        check_signature_lines(signatures)?;
        let lines: Vec<&str> = text.split('\n').collect();
        let [origin, size, root] = lines[..] else {
            return Err(CheckpointError::Format(
                "the body is not exactly three lines (origin, size, root)",
            ));
        };
        if origin.is_empty() {
            return Err(CheckpointError::Format("empty origin"));
        }
        let canonical_size = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size.len() == 1 || !size.starts_with('0'));
        let size = canonical_size
            .then(|| size.parse::<u64>().ok())
            .flatten()
            .ok_or(CheckpointError::Format(
                "the second line is not a tree size (decimal digits, no sign or leading zero)",
            ))?;
        let root = BASE64
            .decode(root)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes).ok())
            .filter(|hash| BASE64.encode(hash) == root)
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
        // What Go's and Rust's note parsers reject, given a well-formed note to start from.
        let signer = NoteSigner::from_seed("k", [3; 32]).unwrap();
        let good = Checkpoint {
            origin: "o".into(),
            size: 4,
            root: [5; 32],
        }
        .sign(&signer)
        .note;
        SignedCheckpoint::parse(&good).unwrap();
        let signature = good.split("\n\n").nth(1).unwrap();
        for bad in [
            good.replacen("\n4\n", "\n+4\n", 1),
            good.replacen("\n4\n", "\n 4\n", 1),
            good.replacen("\n4\n", "\n4 \n", 1),
            good.replacen("\n\n", "\n\n\n", 1),
            good.replacen("\n\n", "\nextension\n\n", 1),
            format!("{good}\n"),
            format!("{good}{signature}\n"),
            good.trim_end().to_string(),
            good.replacen('\n', "\r\n", 1),
            good.replacen("=\n", "\n", 1),
            good.replacen("\u{2014} k ", "\u{2014} k+x ", 1),
            good.replacen("\u{2014} k ", "- k ", 1),
            "o\n18446744073709551616\nBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=\n\n\u{2014} k AAAAAAA=\n"
                .to_string(),
        ] {
            assert!(SignedCheckpoint::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
