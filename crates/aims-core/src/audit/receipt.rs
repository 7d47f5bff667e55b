//! COSE receipts (RFC 9942, as SCITT uses them) for one record's inclusion: a tagged
//! COSE_Sign1 signed with the log's Ed25519 key, whose protected header names the
//! RFC9162_SHA256 verifiable data structure (label 395 = 1), whose unprotected header carries
//! the inclusion proof (label 396: `{-1: [bstr .cbor [tree_size, leaf_index, [hashes]]]}`),
//! and whose payload is detached: the tree root the proof leads to. The record itself travels
//! beside the receipt.

use coset::cbor::value::Value;
use coset::{
    iana, CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, Label,
    TaggedCborSerializable,
};

use super::keys::{NoteSigner, NoteVerifier};
use super::merkle::{leaf_hash, root_from_inclusion, Hash};

/// Header label of the verifiable data structure (RFC 9942).
pub const VDS_LABEL: i64 = 395;
/// Header label of the verifiable data proofs (RFC 9942).
pub const VDP_LABEL: i64 = 396;
/// The RFC9162_SHA256 verifiable data structure.
pub const RFC9162_SHA256: i64 = 1;
/// The key of inclusion proofs in the proofs map.
const INCLUSION_PROOFS: i64 = -1;
/// The most hashes an inclusion path of a 64-bit tree can hold.
const MAX_PATH: usize = 64;

/// Why a receipt could not be made or does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The bytes are not a receipt of the expected shape.
    #[error("not an RFC9162_SHA256 COSE receipt: {0}")]
    Format(String),
    /// The inclusion path does not fit the record, index and size.
    #[error("the inclusion proof does not hold: {0}")]
    Proof(String),
    /// The signature does not verify with the key.
    #[error("the receipt is not signed by key {0}")]
    Signature(String),
}

/// What a valid receipt proves: the record is leaf `leaf_index` of the log's tree of
/// `tree_size` records, whose root is `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The tree size.
    pub tree_size: u64,
    /// The record's index.
    pub leaf_index: u64,
    /// The root (the detached payload).
    pub root: Hash,
}

fn format_error(what: impl ToString) -> ReceiptError {
    ReceiptError::Format(what.to_string())
}

/// The receipt for the record at `leaf_index` with audit path `path` in the tree of
/// `tree_size` records with root `root`, signed by `signer` (the log's key).
pub fn issue(
    signer: &NoteSigner,
    tree_size: u64,
    leaf_index: u64,
    path: &[Hash],
    root: &Hash,
) -> Result<Vec<u8>, ReceiptError> {
    let proof = Value::Array(vec![
        Value::from(tree_size),
        Value::from(leaf_index),
        Value::Array(
            path.iter()
                .map(|hash| Value::Bytes(hash.to_vec()))
                .collect(),
        ),
    ]);
    let mut encoded = Vec::new();
    coset::cbor::ser::into_writer(&proof, &mut encoded).map_err(format_error)?;
    let proofs = Value::Map(vec![(
        Value::from(INCLUSION_PROOFS),
        Value::Array(vec![Value::Bytes(encoded)]),
    )]);
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(signer.key_id().to_be_bytes().to_vec())
        .value(VDS_LABEL, Value::from(RFC9162_SHA256))
        .build();
    let unprotected = HeaderBuilder::new().value(VDP_LABEL, proofs).build();
    CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .create_detached_signature(root, &[], |message| signer.sign_bytes(message).to_vec())
        .build()
        .to_tagged_vec()
        .map_err(format_error)
}

/// Checks that `receipt` proves `record` (the payload bytes) is in the log whose key is
/// `key`: the shape, the inclusion path from the record's leaf hash to a root, and the
/// signature over that root.
pub fn verify(receipt: &[u8], key: &NoteVerifier, record: &[u8]) -> Result<Receipt, ReceiptError> {
    let sign1 = CoseSign1::from_tagged_slice(receipt)
        .or_else(|_| CoseSign1::from_slice(receipt))
        .map_err(format_error)?;
    let protected = &sign1.protected.header;
    if protected.alg
        != Some(coset::RegisteredLabelWithPrivate::Assigned(
            iana::Algorithm::EdDSA,
        ))
    {
        return Err(format_error("the algorithm is not EdDSA"));
    }
    if protected.key_id != key.key_id().to_be_bytes() {
        return Err(ReceiptError::Signature(key.to_string()));
    }
    if header_value(&protected.rest, VDS_LABEL) != Some(&Value::from(RFC9162_SHA256)) {
        return Err(format_error(
            "the verifiable data structure is not RFC9162_SHA256",
        ));
    }
    if sign1.payload.is_some() {
        return Err(format_error("the payload is not detached"));
    }
    let (tree_size, leaf_index, path) = inclusion_proof(&sign1)?;
    let root = root_from_inclusion(leaf_index, tree_size, &leaf_hash(record), &path)
        .map_err(|err| ReceiptError::Proof(err.to_string()))?;
    sign1.verify_detached_signature(&root, &[], |signature, message| {
        key.verify_bytes(message, signature)
            .then_some(())
            .ok_or_else(|| ReceiptError::Signature(key.to_string()))
    })?;
    Ok(Receipt {
        tree_size,
        leaf_index,
        root,
    })
}

fn header_value(rest: &[(Label, Value)], label: i64) -> Option<&Value> {
    rest.iter()
        .find(|(found, _)| *found == Label::Int(label))
        .map(|(_, value)| value)
}

/// The one inclusion proof of the unprotected header: (tree size, leaf index, path).
fn inclusion_proof(sign1: &CoseSign1) -> Result<(u64, u64, Vec<Hash>), ReceiptError> {
    let proofs = header_value(&sign1.unprotected.rest, VDP_LABEL)
        .and_then(Value::as_map)
        .ok_or_else(|| format_error("no verifiable data proofs (396) map"))?;
    let encoded = proofs
        .iter()
        .find(|(key, _)| *key == Value::from(INCLUSION_PROOFS))
        .and_then(|(_, value)| value.as_array())
        .and_then(|list| match list.as_slice() {
            [one] => one.as_bytes(),
            _ => None,
        })
        .ok_or_else(|| format_error("not exactly one inclusion proof (-1)"))?;
    let proof: Value = coset::cbor::de::from_reader(encoded.as_slice()).map_err(format_error)?;
    let bad = || format_error("the inclusion proof is not [tree_size, leaf_index, [hashes]]");
    let [size, index, hashes] = proof.as_array().map(Vec::as_slice).ok_or_else(bad)? else {
        return Err(bad());
    };
    let number = |value: &Value| {
        value
            .as_integer()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(bad)
    };
    let hashes = hashes.as_array().ok_or_else(bad)?;
    if hashes.len() > MAX_PATH {
        return Err(bad());
    }
    let path = hashes
        .iter()
        .map(|hash| {
            hash.as_bytes()
                .and_then(|bytes| Hash::try_from(bytes.as_slice()).ok())
                .ok_or_else(bad)
        })
        .collect::<Result<Vec<Hash>, _>>()?;
    Ok((number(size)?, number(index)?, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle::{Accumulator, MerkleTree};

    #[test]
    fn receipts_verify_only_for_their_record_key_and_shape() {
        let signer = NoteSigner::from_seed("log", [1; 32]).unwrap();
        let mut tree = MerkleTree::new();
        let records: Vec<Vec<u8>> = (0..13u8).map(|i| vec![b'r', i]).collect();
        for record in &records {
            tree.push(leaf_hash(record));
        }
        let path = tree.inclusion_proof(6, 13).unwrap();
        let receipt = issue(&signer, 13, 6, &path, &tree.root()).unwrap();
        // A tagged COSE_Sign1 (tag 18 = 0xd2) of four items.
        assert_eq!(&receipt[..2], &[0xd2, 0x84]);
        let proved = verify(&receipt, &signer.verifier(), &records[6]).unwrap();
        assert_eq!(
            proved,
            Receipt {
                tree_size: 13,
                leaf_index: 6,
                root: tree.root()
            }
        );
        assert!(matches!(
            verify(&receipt, &signer.verifier(), &records[5]),
            Err(ReceiptError::Signature(_))
        ));
        let other = NoteSigner::from_seed("log", [2; 32]).unwrap();
        assert!(verify(&receipt, &other.verifier(), &records[6]).is_err());
        let mut flipped = receipt.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(verify(&flipped, &signer.verifier(), &records[6]).is_err());
        assert!(matches!(
            verify(
                &receipt[..receipt.len() - 3],
                &signer.verifier(),
                &records[6]
            ),
            Err(ReceiptError::Format(_))
        ));
        // An index out of the tree is a proof error, not a panic.
        let wrong = issue(&signer, 13, 13, &path, &tree.root()).unwrap();
        assert!(matches!(
            verify(&wrong, &signer.verifier(), &records[6]),
            Err(ReceiptError::Proof(_))
        ));
    }
}
