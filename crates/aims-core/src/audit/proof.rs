//! Self-contained proof documents a third party checks offline with only the public key:
//! an inclusion proof carries the record, its audit path and the signed checkpoint; a
//! consistency proof carries both roots, the path between them and the newer checkpoint.

use serde::{Deserialize, Serialize};

use super::checkpoint::SignedCheckpoint;
use super::error::{AuditError, Integrity};
use super::keys::NoteVerifier;
use super::merkle::{self, Hash, MerkleTree};
use super::record;

/// Proof that one record is in the log at a signed tree size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The record's index.
    pub index: u64,
    /// The size of the signed tree the proof is for.
    pub tree_size: u64,
    /// The record payload (canonical JSON text).
    pub record: String,
    /// Its RFC 9162 leaf hash, hex.
    pub leaf_hash: String,
    /// The audit path, hex, leaf to root.
    pub hashes: Vec<String>,
    /// The signed checkpoint note of `tree_size`.
    pub checkpoint: String,
}

/// Proof that the tree of `old_size` records is a prefix of the signed tree of `new_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The older size.
    pub old_size: u64,
    /// The older root, hex.
    pub old_root: String,
    /// The newer (signed) size.
    pub new_size: u64,
    /// The newer root, hex.
    pub new_root: String,
    /// The RFC 9162 consistency path, hex.
    pub hashes: Vec<String>,
    /// The signed checkpoint note of `new_size`.
    pub checkpoint: String,
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hex::encode).collect()
}

fn parse_hash(text: &str, what: &str) -> Result<Hash, Integrity> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash)
        .map_err(|_| Integrity::whole(format!("{what} is not a hex SHA-256 hash")))?;
    Ok(hash)
}

fn parse_hashes(texts: &[String]) -> Result<Vec<Hash>, Integrity> {
    texts
        .iter()
        .map(|text| parse_hash(text, "a proof hash"))
        .collect()
}

/// Parses a checkpoint note and checks its signature.
fn signed_checkpoint(note: &str, key: &NoteVerifier) -> Result<SignedCheckpoint, Integrity> {
    let signed = SignedCheckpoint::parse(note).map_err(|err| Integrity::whole(err.to_string()))?;
    signed
        .verify(key)
        .map_err(|err| Integrity::whole(err.to_string()))?;
    Ok(signed)
}

impl InclusionProof {
    /// Builds the proof of `index` against the signed checkpoint `signed`.
    pub fn build(
        tree: &MerkleTree,
        signed: &SignedCheckpoint,
        index: u64,
        payload: &[u8],
    ) -> Result<Self, AuditError> {
        let size = signed.checkpoint.size;
        let hashes = tree.inclusion_proof(index, size)?;
        let record = String::from_utf8(payload.to_vec()).map_err(|_| {
            AuditError::Integrity(Integrity::at(index, "the record is not UTF-8 text"))
        })?;
        Ok(Self {
            index,
            tree_size: size,
            leaf_hash: hex::encode(merkle::leaf_hash(payload)),
            record,
            hashes: hexes(&hashes),
            checkpoint: signed.note.clone(),
        })
    }

    /// Checks the proof: the record hashes to the leaf, holds the index, the path leads to
    /// the checkpoint's root, and `key` signed the checkpoint.
    pub fn verify(&self, key: &NoteVerifier) -> Result<(), Integrity> {
        let signed = signed_checkpoint(&self.checkpoint, key)?;
        if signed.checkpoint.size != self.tree_size {
            return Err(Integrity::whole(format!(
                "the proof is for size {} but the checkpoint is for size {}",
                self.tree_size, signed.checkpoint.size
            )));
        }
        let leaf = merkle::leaf_hash(self.record.as_bytes());
        if hex::encode(leaf) != self.leaf_hash {
            return Err(Integrity::at(
                self.index,
                "the record does not hash to leaf_hash",
            ));
        }
        let trailer = record::trailer(self.record.as_bytes())
            .map_err(|err| Integrity::at(self.index, err.to_string()))?;
        if trailer.index != self.index {
            return Err(Integrity::at(
                self.index,
                format!("the record says it is record {}", trailer.index),
            ));
        }
        merkle::verify_inclusion(
            self.index,
            self.tree_size,
            &leaf,
            &parse_hashes(&self.hashes)?,
            &signed.checkpoint.root,
        )
        .map_err(|err| Integrity::at(self.index, err.to_string()))
    }
}

impl ConsistencyProof {
    /// Builds the proof from `old_size` to the signed checkpoint `signed`.
    pub fn build(
        tree: &MerkleTree,
        signed: &SignedCheckpoint,
        old_size: u64,
    ) -> Result<Self, AuditError> {
        let new_size = signed.checkpoint.size;
        let hashes = tree.consistency_proof(old_size, new_size)?;
        Ok(Self {
            old_size,
            old_root: hex::encode(tree.root_at(old_size)?),
            new_size,
            new_root: hex::encode(signed.checkpoint.root),
            hashes: hexes(&hashes),
            checkpoint: signed.note.clone(),
        })
    }

    /// Checks the proof and that `key` signed the newer checkpoint. To tie the old root to
    /// a checkpoint you hold, compare it with [`ConsistencyProof::old_root`].
    pub fn verify(&self, key: &NoteVerifier) -> Result<(), Integrity> {
        let signed = signed_checkpoint(&self.checkpoint, key)?;
        if signed.checkpoint.size != self.new_size
            || hex::encode(signed.checkpoint.root) != self.new_root
        {
            return Err(Integrity::whole(
                "new_size and new_root are not those of the signed checkpoint",
            ));
        }
        merkle::verify_consistency(
            self.old_size,
            self.new_size,
            &parse_hash(&self.old_root, "old_root")?,
            &signed.checkpoint.root,
            &parse_hashes(&self.hashes)?,
        )
        .map_err(|err| Integrity::whole(err.to_string()))
    }
}
