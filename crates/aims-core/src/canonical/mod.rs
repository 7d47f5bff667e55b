//! Canonical JSON (RFC 8785, JSON Canonicalization Scheme) and the hashes built on it.
//!
//! Everything that is hashed or signed (policy versions, approval bindings, audit payloads)
//! goes through [`to_vec`] (for a `serde_json::Value`) or [`to_canonical_vec`] (for any
//! `Serialize` type, without building a `Value`), so the same value always yields the same
//! bytes in every language.

mod serializer;

pub use serializer::{to_canonical_vec, CanonicalError};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The RFC 8785 canonical serialization of a JSON value: object members sorted by their
/// UTF-16 code units, no whitespace, numbers in ECMAScript form, minimal string escapes.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write_value(value, &mut out);
    out
}

/// sha256 (lower-case hex) of the canonical form.
pub fn sha256_hex(value: &Value) -> String {
    lower_hex(&Sha256::digest(to_vec(value)))
}

/// Appends the lower-case hex digits of `bytes`: a table lookup per digit. Hashes are
/// printed on every record, and the `hex` crate's char-by-char encoder cost about as much
/// as hashing a short value.
pub(crate) fn write_lower_hex(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)]);
        out.push(DIGITS[usize::from(byte & 0x0f)]);
    }
}

/// The lower-case hex digits of `bytes`.
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    let mut digits = Vec::with_capacity(bytes.len() * 2);
    write_lower_hex(bytes, &mut digits);
    // Hex digits are ASCII.
    String::from_utf8(digits).unwrap_or_default()
}

/// HMAC-SHA256 (lower-case hex) of the canonical form, keyed with `secret`.
pub fn keyed_hash(secret: &[u8], value: &Value) -> String {
    KeyedHasher::new(secret).hash(value)
}

/// HMAC-SHA256 with its key schedule done once: a sink hashes the raw arguments of every call
/// with the same secret, and keying costs as much as hashing a short value.
#[derive(Clone)]
pub struct KeyedHasher {
    keyed: Hmac<Sha256>,
}

impl KeyedHasher {
    /// A hasher keyed with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        // HMAC accepts keys of any length, so this cannot fail.
        let keyed = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
            Ok(keyed) => keyed,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        Self { keyed }
    }

    /// HMAC-SHA256 (lower-case hex) of the canonical form of `value`.
    pub fn hash(&self, value: &Value) -> String {
        let mut mac = self.keyed.clone();
        mac.update(&to_vec(value));
        lower_hex(&mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for KeyedHasher {
    /// Never shows the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyedHasher(..)")
    }
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(number, out),
        Value::String(string) => write_string(string, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            out.push(b'{');
            // Members already in canonical order (one member, or sorted by the sender) are
            // written as they are, without collecting and sorting them.
            let in_order = members
                .keys()
                .zip(members.keys().skip(1))
                .all(|(a, b)| utf16_order(a, b).is_lt());
            if in_order {
                write_members(members.iter(), out);
            } else {
                let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
                sorted.sort_by(|(a, _), (b, _)| utf16_order(a, b));
                write_members(sorted.into_iter(), out);
            }
            out.push(b'}');
        }
    }
}

fn write_members<'a>(members: impl Iterator<Item = (&'a String, &'a Value)>, out: &mut Vec<u8>) {
    for (i, (key, item)) in members.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(key, out);
        out.push(b':');
        write_value(item, out);
    }
}

/// Orders member names by their UTF-16 code units (RFC 8785 3.2.3). For ASCII names, the
/// common case, that is plain byte order, which is much cheaper to compute.
fn utf16_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

fn write_string(string: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    // Most strings need no escape: copy them whole.
    if !string.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.extend_from_slice(string.as_bytes());
        out.push(b'"');
        return;
    }
    for ch in string.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn write_number(number: &serde_json::Number, out: &mut Vec<u8>) {
    if let Some(i) = number.as_i64() {
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Some(u) = number.as_u64() {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(f) = number.as_f64() {
        write_f64(f, out);
    }
}

fn write_f64(f: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(ecmascript_number(f).as_bytes());
}

/// ECMAScript `Number.prototype.toString` for finite doubles (JSON has no others).
fn ecmascript_number(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    // `{:e}` gives the shortest round-trip digits: "d.ddde-7".
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exponent + 1;
    let sign = if f < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let exp_sign = if n - 1 < 0 { "-" } else { "+" };
        let tail = if k == 1 {
            String::new()
        } else {
            format!(".{}", &digits[1..])
        };
        format!("{}{tail}e{exp_sign}{}", &digits[..1], (n - 1).abs())
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(value: Value) -> String {
        String::from_utf8(to_vec(&value)).unwrap()
    }

    #[test]
    fn sorts_members_by_utf16_and_drops_whitespace() {
        // RFC 8785 section 3.2.3: sorting is by UTF-16 code units, so U+1F600 (a surrogate
        // pair starting 0xD83D) sorts before U+FB33.
        let value = json!({"\u{20ac}": 1, "\r": 2, "\u{fb33}": 3, "1": 4, "\u{1f600}": 5, "\u{0080}": 6, "\u{00f6}": 7});
        assert_eq!(canon(value), "{\"\\r\":2,\"1\":4,\"\u{0080}\":6,\"\u{00f6}\":7,\"\u{20ac}\":1,\"\u{1f600}\":5,\"\u{fb33}\":3}");
        assert_eq!(
            canon(json!({"b": [1, {"z": null, "a": true}], "a": "x"})),
            r#"{"a":"x","b":[1,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn formats_numbers_as_ecmascript() {
        // RFC 8785 appendix B samples.
        let cases = [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (333333333.3333333, "333333333.3333333"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (-1.5, "-1.5"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (4.5, "4.5"),
            (0.1, "0.1"),
        ];
        for (value, expected) in cases {
            assert_eq!(ecmascript_number(value), expected, "{value}");
        }
        assert_eq!(canon(json!(-0.0)), "0");
        assert_eq!(canon(json!(42)), "42");
        assert_eq!(canon(json!(u64::MAX)), "18446744073709551615");
    }

    #[test]
    fn escapes_strings_minimally() {
        assert_eq!(
            canon(json!("a\"b\\c\n\u{1}é")),
            "\"a\\\"b\\\\c\\n\\u0001é\""
        );
    }

    #[test]
    fn hex_digits_are_lower_case_and_in_order() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(lower_hex(&bytes), hex::encode(&bytes));
        assert_eq!(lower_hex(&[]), "");
    }

    #[test]
    fn keyed_hash_depends_on_key_and_value_not_member_order() {
        let a = keyed_hash(b"k1", &json!({"x": 1, "y": 2}));
        assert_eq!(a, keyed_hash(b"k1", &json!({"y": 2, "x": 1})));
        assert_ne!(a, keyed_hash(b"k2", &json!({"x": 1, "y": 2})));
        assert_ne!(a, keyed_hash(b"k1", &json!({"x": 1, "y": 3})));
        assert_eq!(a.len(), 64);
    }
}
