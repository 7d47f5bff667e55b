//! The RFC 9162 (Certificate Transparency v2) Merkle tree over the log's records: leaf and
//! node hashing with domain separation, the in-memory tree the writer and the prover keep,
//! the compact range a streaming verifier keeps, and inclusion and consistency proofs with
//! their verification (RFC 9162 sections 2.1.1 to 2.1.4).
//!
//! Checked against the transparency-dev known-answer vectors in the tests below.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// RFC 9162 leaf hash: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// RFC 9162 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut block = [0u8; 65];
    block[0] = 0x01;
    block[1..33].copy_from_slice(left);
    block[33..].copy_from_slice(right);
    Sha256::digest(block).into()
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly less than `n` (n >= 2): RFC 9162's split point `k`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Anything that accumulates leaves and can give the current root: the full tree or a
/// compact range. The record scanner is generic over it.
pub trait Accumulator {
    /// Appends a leaf hash.
    fn push(&mut self, leaf: Hash);
    /// The number of leaves.
    fn len(&self) -> u64;
    /// True when no leaf was pushed.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The root of the tree of every leaf pushed so far.
    fn root(&self) -> Hash;
}

/// The compact range of a tree: the roots of its perfect subtrees, left to right. Enough to
/// compute the root while streaming, in O(log n) memory.
#[derive(Debug, Clone, Default)]
pub struct CompactRange {
    /// (height, hash) of each perfect subtree; heights strictly decrease.
    peaks: Vec<(u32, Hash)>,
    len: u64,
}

impl CompactRange {
    /// An empty range.
    pub fn new() -> Self {
        Self::default()
    }

    /// The range of a tree of `size` leaves from its perfect-subtree roots, left to right (one
    /// per set bit of `size`, largest first): what [`CompactRange::peaks`] gives.
    pub fn from_peaks(size: u64, peaks: &[Hash]) -> Result<Self, ProofError> {
        if peaks.len() != size.count_ones() as usize {
            return Err(ProofError::WrongLength);
        }
        let heights = (0..u64::BITS).rev().filter(|bit| size & (1 << bit) != 0);
        Ok(Self {
            peaks: heights.zip(peaks.iter().copied()).collect(),
            len: size,
        })
    }

    /// The perfect-subtree roots, left to right: with the size, enough to go on appending
    /// leaves elsewhere and reach the same roots.
    pub fn peaks(&self) -> Vec<Hash> {
        self.peaks.iter().map(|(_, hash)| *hash).collect()
    }
}

impl Accumulator for CompactRange {
    fn push(&mut self, leaf: Hash) {
        let mut height = 0;
        let mut hash = leaf;
        while let Some(&(top_height, top)) = self.peaks.last() {
            if top_height != height {
                break;
            }
            self.peaks.pop();
            hash = node_hash(&top, &hash);
            height += 1;
        }
        self.peaks.push((height, hash));
        self.len += 1;
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(&(_, mut root)) = peaks.next() else {
            return empty_root();
        };
        for (_, peak) in peaks {
            root = node_hash(peak, &root);
        }
        root
    }
}

/// Why a proof could not be produced or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The index is not below the tree size.
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The tree size asked for is larger than the tree.
    #[error("tree size {size} is larger than the log ({len} entries)")]
    SizeOutOfRange {
        /// The size asked for.
        size: u64,
        /// The number of leaves held.
        len: u64,
    },
    /// The old size of a consistency proof exceeds the new size.
    #[error("old size {old} is larger than new size {new}")]
    SizesReversed {
        /// The old size.
        old: u64,
        /// The new size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for the sizes.
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    /// The proof does not lead to the expected root.
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// The whole tree in memory: every leaf hash and every perfect-subtree node, so any root and
/// any proof is O(log n) lookups. Costs 64 bytes per leaf (64 MB for a million entries).
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    /// `levels[h][i]` is the root of the perfect subtree of height `h` covering leaves
    /// `i * 2^h .. (i + 1) * 2^h`; `levels[0]` holds the leaf hashes.
    levels: Vec<Vec<Hash>>,
}

impl Accumulator for MerkleTree {
    fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut height = 0;
        while self.levels[height].len().is_multiple_of(2) {
            let level = &self.levels[height];
            let parent = node_hash(&level[level.len() - 2], &level[level.len() - 1]);
            if self.levels.len() == height + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[height + 1].push(parent);
            height += 1;
        }
    }

    fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    fn root(&self) -> Hash {
        self.subtree(0, self.len())
    }
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// The root of the tree made of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        Ok(self.subtree(0, size))
    }

    /// The RFC 9162 inclusion proof (audit path) of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// The RFC 9162 consistency proof between the trees of `old` and `new` leaves.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(new)?;
        if old > new {
            return Err(ProofError::SizesReversed { old, new });
        }
        let mut proof = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut proof);
        }
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.len() {
            return Err(ProofError::SizeOutOfRange {
                size,
                len: self.len(),
            });
        }
        Ok(())
    }

    /// MTH(D[start:end]) per RFC 9162 2.1.1. Perfect aligned subtrees are looked up; others
    /// split at the largest power of two, so the recursion is O(log n) deep and wide.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let height = n.trailing_zeros() as usize;
            return self.levels[height][(start >> height) as usize];
        }
        let k = split_point(n);
        node_hash(
            &self.subtree(start, start + k),
            &self.subtree(start + k, end),
        )
    }

    /// PATH(m, D[start:end]) per RFC 9162 2.1.3.1, with `m` relative to `start`.
    fn path(&self, m: u64, start: u64, end: u64, proof: &mut Vec<Hash>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, start + k, proof);
            proof.push(self.subtree(start + k, end));
        } else {
            self.path(m - k, start + k, end, proof);
            proof.push(self.subtree(start, start + k));
        }
    }

    /// SUBPROOF(m, D[start:end], b) per RFC 9162 2.1.4.1.
    fn subproof(&self, m: u64, start: u64, end: u64, complete: bool, proof: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !complete {
                proof.push(self.subtree(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, complete, proof);
            proof.push(self.subtree(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, proof);
            proof.push(self.subtree(start, start + k));
        }
    }
}

/// Verifies an inclusion proof (RFC 9162 2.1.3.2): `leaf` is at `index` in the tree of
/// `size` leaves whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if root_from_inclusion(index, size, leaf, proof)? != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The root an RFC 9162 audit path leads to from `leaf` at `index` in a tree of `size`
/// (what a COSE receipt's detached payload must be).
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    Ok(r)
}

/// Verifies a consistency proof (RFC 9162 2.1.4.2): the tree of `old` leaves with root
/// `old_root` is a prefix of the tree of `new` leaves with root `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::SizesReversed { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if old == 0 {
        // The empty tree is a prefix of every tree, but only the empty tree's root is its
        // root: a proof from size 0 must not vouch for any other.
        return if !proof.is_empty() {
            Err(ProofError::WrongLength)
        } else if *old_root != empty_root() {
            Err(ProofError::RootMismatch)
        } else {
            Ok(())
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let mut fn_ = old - 1;
    let mut sn = new - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut fr = *first;
    let mut sr = *first;
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(hex_str: &str) -> Hash {
        hex::decode(hex_str).unwrap().try_into().unwrap()
    }

    // transparency-dev/merkle proof/verify_test.go: the eight leaves and the roots of the
    // trees of 1 to 8 of them.
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn kat_tree() -> MerkleTree {
        let mut tree = MerkleTree::new();
        for leaf in LEAVES {
            tree.push(leaf_hash(&hex::decode(leaf).unwrap()));
        }
        tree
    }

    #[test]
    fn roots_match_known_answers() {
        let tree = kat_tree();
        let mut compact = CompactRange::new();
        assert_eq!(
            hex::encode(compact.root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        for (size, expected) in ROOTS.iter().enumerate() {
            compact.push(tree.leaf(size as u64).unwrap());
            assert_eq!(
                tree.root_at(size as u64 + 1).unwrap(),
                h(expected),
                "size {size}"
            );
            assert_eq!(compact.root(), h(expected), "compact size {size}");
        }
    }

    #[test]
    fn inclusion_proofs_match_known_answers() {
        let tree = kat_tree();
        // (zero-based index, size, proof)
        let cases: [(u64, u64, &[&str]); 4] = [
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (index, size, expected) in cases {
            let expected: Vec<Hash> = expected.iter().map(|e| h(e)).collect();
            let proof = tree.inclusion_proof(index, size).unwrap();
            assert_eq!(proof, expected, "index {index} size {size}");
            let root = h(ROOTS[size as usize - 1]);
            let leaf = tree.leaf(index).unwrap();
            verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
            // Corruptions from the same suite must all fail.
            assert!(verify_inclusion(index + 1, size, &leaf, &proof, &root).is_err());
            assert!(verify_inclusion(index, size * 2, &leaf, &proof, &root).is_err());
            assert!(verify_inclusion(index, size / 2, &leaf, &proof, &root).is_err());
            assert!(verify_inclusion(index, size, &empty_root(), &proof, &root).is_err());
            assert!(
                verify_inclusion(index, size, &leaf, &proof[..proof.len() - 1], &root).is_err()
            );
            let mut longer = proof.clone();
            longer.push(root);
            assert!(verify_inclusion(index, size, &leaf, &longer, &root).is_err());
            for i in 0..proof.len() {
                let mut flipped = proof.clone();
                flipped[i][0] ^= 8;
                assert!(verify_inclusion(index, size, &leaf, &flipped, &root).is_err());
            }
        }
        assert!(tree.inclusion_proof(0, 1).unwrap().is_empty());
        assert_eq!(
            tree.inclusion_proof(8, 8),
            Err(ProofError::IndexOutOfRange { index: 8, size: 8 })
        );
    }

    #[test]
    fn consistency_proofs_match_known_answers() {
        let tree = kat_tree();
        let cases: [(u64, u64, &[&str]); 5] = [
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                6,
                7,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (old, new, expected) in cases {
            let expected: Vec<Hash> = expected.iter().map(|e| h(e)).collect();
            let proof = tree.consistency_proof(old, new).unwrap();
            assert_eq!(proof, expected, "{old} -> {new}");
            let old_root = h(ROOTS[old as usize - 1]);
            let new_root = h(ROOTS[new as usize - 1]);
            verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();
            if proof.is_empty() {
                continue;
            }
            assert!(verify_consistency(old, new, &new_root, &old_root, &proof).is_err());
            assert!(verify_consistency(old - 1, new, &old_root, &new_root, &proof).is_err());
            assert!(verify_consistency(old + 1, new, &old_root, &new_root, &proof).is_err());
            assert!(verify_consistency(old, new * 2, &old_root, &new_root, &proof).is_err());
            assert!(verify_consistency(old, new, &old_root, &new_root, &[]).is_err());
            assert!(
                verify_consistency(old, new, &old_root, &new_root, &proof[..proof.len() - 1])
                    .is_err()
            );
            for i in 0..proof.len() {
                let mut flipped = proof.clone();
                flipped[i][0] ^= 16;
                assert!(verify_consistency(old, new, &old_root, &new_root, &flipped).is_err());
            }
        }
        // Edge cases from the same suite.
        let (a, b) = (h(ROOTS[0]), h(ROOTS[1]));
        assert!(verify_consistency(0, 1, &empty_root(), &b, &[]).is_ok());
        // From size 0, only the empty tree's root is a valid old root.
        assert!(verify_consistency(0, 1, &a, &b, &[]).is_err());
        assert!(verify_consistency(1, 1, &a, &b, &[]).is_err());
        assert!(verify_consistency(0, 0, &a, &a, &[a]).is_err());
        assert!(verify_consistency(2, 1, &a, &b, &[]).is_err());
        assert!(verify_consistency(1, 2, &a, &b, &[]).is_err());
    }

    #[test]
    fn every_proof_of_a_larger_tree_verifies_and_matches_the_compact_root() {
        let mut tree = MerkleTree::new();
        let mut compact = CompactRange::new();
        for i in 0u32..70 {
            let leaf = leaf_hash(&i.to_le_bytes());
            tree.push(leaf);
            compact.push(leaf);
            assert_eq!(tree.root(), compact.root());
        }
        for size in 1..=70 {
            let root = tree.root_at(size).unwrap();
            for index in 0..size {
                let proof = tree.inclusion_proof(index, size).unwrap();
                verify_inclusion(index, size, &tree.leaf(index).unwrap(), &proof, &root).unwrap();
            }
            for old in 0..=size {
                let proof = tree.consistency_proof(old, size).unwrap();
                let old_root = tree.root_at(old).unwrap();
                verify_consistency(old, size, &old_root, &root, &proof).unwrap();
            }
        }
    }
}
