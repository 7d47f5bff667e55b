//! CRYPTO: Bitcoin addresses (Base58Check P2PKH/P2SH, Bech32/Bech32m SegWit) whose checksums
//! hold, and Ethereum addresses (EIP-55 checksum when the address is mixed-case).

use sha2::{Digest, Sha256};
use sha3::Keccak256;

use super::pattern::{isolated, Hit, Pattern};
use super::Entity;

pub(crate) const PATTERNS: &[Pattern] = &[
    Pattern {
        entity: Entity::Crypto,
        regex: r"[13][1-9A-HJ-NP-Za-km-z]{25,34}(?-u:\b)",
        validate: validate_base58,
    },
    Pattern {
        entity: Entity::Crypto,
        regex: r"(?:bc1[02-9ac-hj-np-z]{6,87}|BC1[02-9AC-HJ-NP-Z]{6,87})(?-u:\b)",
        validate: validate_bech32,
    },
    Pattern {
        entity: Entity::Crypto,
        regex: r"0x[0-9a-fA-F]{40}(?-u:\b)",
        validate: validate_ethereum,
    },
];

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32M_CONST: u32 = 0x2bc8_30a3;

fn validate_base58(text: &str, start: usize, end: usize) -> Option<Hit> {
    let bytes = base58_decode(&text[start..end])?;
    let (payload, checksum) = bytes.split_at(bytes.len().checked_sub(4)?);
    let digest = Sha256::digest(Sha256::digest(payload));
    let ok = bytes.len() == 25 && matches!(payload[0], 0x00 | 0x05) && digest[..4] == *checksum;
    (ok && isolated(text, start, end)).then(|| Hit::validated(start, end))
}

fn base58_decode(s: &str) -> Option<Vec<u8>> {
    // Big-endian base conversion; addresses are short, so quadratic is fine.
    let mut out: Vec<u8> = Vec::with_capacity(32);
    for c in s.bytes() {
        let mut carry = BASE58.iter().position(|b| *b == c)? as u32;
        for byte in out.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let leading_zeros = s.bytes().take_while(|b| *b == b'1').count();
    let mut decoded = vec![0u8; leading_zeros];
    decoded.extend(out);
    Some(decoded)
}

fn validate_bech32(text: &str, start: usize, end: usize) -> Option<Hit> {
    let address = text[start..end].to_ascii_lowercase();
    let data: Vec<u8> = address[3..]
        .bytes()
        .map(|c| BECH32.iter().position(|b| *b == c).map(|v| v as u8))
        .collect::<Option<_>>()?;
    if data.len() < 7 {
        return None;
    }
    let (values, _checksum) = data.split_at(data.len() - 6);
    let mut expanded = hrp_expand("bc");
    expanded.extend_from_slice(&data);
    let version = *values.first()?;
    let constant = if version == 0 { 1 } else { BECH32M_CONST };
    let program = convert_5_to_8(&values[1..])?;
    let program_ok = match version {
        0 => matches!(program.len(), 20 | 32),
        1..=16 => (2..=40).contains(&program.len()),
        _ => false,
    };
    (polymod(&expanded) == constant && program_ok && isolated(text, start, end))
        .then(|| Hit::validated(start, end))
}

fn hrp_expand(hrp: &str) -> Vec<u8> {
    let mut out: Vec<u8> = hrp.bytes().map(|b| b >> 5).collect();
    out.push(0);
    out.extend(hrp.bytes().map(|b| b & 31));
    out
}

/// The BIP-173 checksum polynomial.
fn polymod(values: &[u8]) -> u32 {
    const GENERATOR: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    values.iter().fold(1u32, |check, value| {
        let top = check >> 25;
        let mut check = ((check & 0x01ff_ffff) << 5) ^ u32::from(*value);
        for (i, generator) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                check ^= generator;
            }
        }
        check
    })
}

/// Regroups 5-bit values into bytes; the padding must be under 5 bits and zero.
fn convert_5_to_8(values: &[u8]) -> Option<Vec<u8>> {
    let mut acc = 0u32;
    let mut bits = 0;
    let mut out = Vec::with_capacity(values.len() * 5 / 8);
    for value in values {
        acc = (acc << 5) | u32::from(*value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    (bits < 5 && (acc << (8 - bits)) & 0xff == 0).then_some(out)
}

fn validate_ethereum(text: &str, start: usize, end: usize) -> Option<Hit> {
    if !isolated(text, start, end) {
        return None;
    }
    let hex = &text[start + 2..end];
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    if !(has_upper && has_lower) {
        // One case throughout carries no checksum.
        return Some(Hit::structural(start, end));
    }
    eip55_ok(hex).then(|| Hit::validated(start, end))
}

/// EIP-55: a letter is upper-case iff the matching nibble of keccak256(lower-case hex) >= 8.
fn eip55_ok(hex: &str) -> bool {
    let hash = Keccak256::digest(hex.to_ascii_lowercase().as_bytes());
    hex.bytes().enumerate().all(|(i, c)| {
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
        !c.is_ascii_alphabetic() || c.is_ascii_uppercase() == (nibble >= 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the validator whose pattern would have matched `address`.
    fn valid(address: &str) -> bool {
        let check = if address.starts_with("0x") {
            validate_ethereum
        } else if address.starts_with("bc1") {
            validate_bech32
        } else {
            validate_base58
        };
        check(address, 0, address.len()).is_some()
    }

    #[test]
    fn known_addresses() {
        for address in [
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",         // genesis P2PKH
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",         // P2SH
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", // BIP-173 P2WPKH
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", // BIP-350 P2TR
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", // EIP-55 example
            "0xde709f2102306220921060314715629080e2fb77", // lower case, no checksum
        ] {
            assert!(valid(address), "{address}");
        }
    }

    #[test]
    fn changed_characters_fail_their_checksums() {
        for address in [
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj1",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
        ] {
            assert!(!valid(address), "{address}");
        }
    }
}
