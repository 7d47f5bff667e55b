//! The record payload: the canonical JSON (RFC 8785) of
//! `{"event": ..., "index": N, "prev": "<hex>", "timestamp": "<RFC 3339>"}`.
//!
//! `prev` is the leaf hash of the previous record (64 zeros for the first), so a verifier
//! names the exact record that was changed, dropped, inserted or moved, not only a range.
//! Canonical member order puts `index`, `prev` and `timestamp` after the event, so the
//! streaming verifier reads them from the end of the payload without parsing the event.

use serde::{Deserialize, Serialize};

use super::merkle::Hash;
use super::AuditEvent;
use crate::canonical;

/// One record, decoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The event.
    pub event: AuditEvent,
    /// Its position in the log, from 0.
    pub index: u64,
    /// Hex leaf hash of the previous record; 64 zeros for record 0.
    pub prev: String,
    /// When it was appended, RFC 3339 UTC.
    pub timestamp: String,
}

/// Why a payload is not a well-formed record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The payload does not have the `index`, `prev`, `timestamp` members at its end.
    #[error("the payload does not end with the index, prev and timestamp members: {0}")]
    Trailer(&'static str),
    /// The payload is not a record (bad JSON, unknown event kind, missing field).
    #[error("the payload is not a valid record: {0}")]
    Json(String),
}

/// The members the verifier checks on every record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// The record's own index.
    pub index: u64,
    /// The previous record's leaf hash, as recorded.
    pub prev: Hash,
}

/// Builds the canonical payload. `event` must already be the canonical JSON of the event,
/// `timestamp` an RFC 3339 string (no character needs escaping in either).
pub fn encode(event: &[u8], index: u64, prev: &Hash, timestamp: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(event.len() + 128);
    out.extend_from_slice(b"{\"event\":");
    out.extend_from_slice(event);
    out.extend_from_slice(b",\"index\":");
    out.extend_from_slice(itoa::Buffer::new().format(index).as_bytes());
    out.extend_from_slice(b",\"prev\":\"");
    canonical::write_lower_hex(prev, &mut out);
    out.extend_from_slice(b"\",\"timestamp\":\"");
    out.extend_from_slice(timestamp.as_bytes());
    out.extend_from_slice(b"\"}");
    out
}

/// Reads `index` and `prev` from the end of a payload without parsing the event.
pub fn trailer(payload: &[u8]) -> Result<Trailer, RecordError> {
    const TIMESTAMP: &[u8] = b",\"timestamp\":\"";
    const PREV: &[u8] = b",\"prev\":\"";
    const INDEX: &[u8] = b",\"index\":";
    if !payload.starts_with(b"{\"event\":{") {
        return Err(RecordError::Trailer("does not start with the event"));
    }
    let body = payload
        .strip_suffix(b"\"}")
        .ok_or(RecordError::Trailer("does not end with the timestamp"))?;
    // The timestamp holds no quote or backslash, so the last quote opens its value.
    let value_at = body
        .iter()
        .rposition(|b| *b == b'"')
        .ok_or(RecordError::Trailer("no timestamp"))?;
    let timestamp = &body[value_at + 1..];
    if timestamp.is_empty() || timestamp.contains(&b'\\') {
        return Err(RecordError::Trailer("bad timestamp"));
    }
    let before_ts = body[..=value_at]
        .strip_suffix(TIMESTAMP)
        .ok_or(RecordError::Trailer("no timestamp"))?;
    let prev_hex = before_ts
        .strip_suffix(b"\"")
        .filter(|rest| rest.len() >= 64)
        .map(|rest| rest.split_at(rest.len() - 64))
        .ok_or(RecordError::Trailer("no prev"))?;
    let before_prev = prev_hex
        .0
        .strip_suffix(PREV)
        .ok_or(RecordError::Trailer("no prev"))?;
    let prev =
        decode_lower_hex(prev_hex.1).ok_or(RecordError::Trailer("prev is not lower-case hex"))?;
    let digits_start = before_prev
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |at| at + 1);
    let digits = &before_prev[digits_start..];
    if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return Err(RecordError::Trailer("bad index"));
    }
    if !before_prev[..digits_start].ends_with(INDEX) {
        return Err(RecordError::Trailer("no index"));
    }
    let index = std::str::from_utf8(digits)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or(RecordError::Trailer("bad index"))?;
    Ok(Trailer { index, prev })
}

/// The value of each lower-case hex digit; [`NOT_HEX`] for every other byte.
const HEX_VALUES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut digit = 0;
    while digit < 16 {
        table[b"0123456789abcdef"[digit] as usize] = digit as u8;
        digit += 1;
    }
    table
};
const NOT_HEX: u8 = 0x10;

/// Decodes 64 lower-case hex digits. Every record's `prev` goes through here when a log is
/// verified or opened, so it is a table lookup per digit without a branch per digit (data-
/// dependent branches cost more than the lookups on random hashes).
fn decode_lower_hex(digits: &[u8]) -> Option<Hash> {
    let mut out = [0u8; 32];
    if digits.len() != 64 {
        return None;
    }
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (high, low) = (HEX_VALUES[pair[0] as usize], HEX_VALUES[pair[1] as usize]);
        invalid |= high | low;
        *byte = (high << 4) | (low & 0x0f);
    }
    (invalid & NOT_HEX == 0).then_some(out)
}

/// True when the payload holds a `checkpoint` event (the verifier parses those in full).
pub fn is_checkpoint(payload: &[u8]) -> bool {
    payload.starts_with(b"{\"event\":{\"kind\":\"checkpoint\",")
}

/// True when the payload holds a `key_rotated` event (its members sort before `kind`).
pub fn is_key_rotation(payload: &[u8]) -> bool {
    payload.starts_with(b"{\"event\":{\"endorsement\":")
}

/// Decodes a payload in full.
pub fn decode(payload: &[u8]) -> Result<Record, RecordError> {
    serde_json::from_slice(payload).map_err(|err| RecordError::Json(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{CheckpointEvent, PolicyLoadedEvent};
    use crate::canonical;

    fn event() -> AuditEvent {
        AuditEvent::PolicyLoaded(PolicyLoadedEvent {
            policy_version: "ab".repeat(32),
            source: "inline \"index\":1,\"prev\":".into(),
            rules: 3,
            previous_version: None,
        })
    }

    #[test]
    fn encoding_is_the_canonical_json_of_the_record() {
        let event = event();
        let event_json = canonical::to_vec(&serde_json::to_value(&event).unwrap());
        let prev = [7u8; 32];
        let payload = encode(&event_json, 42, &prev, "2026-11-23T18:00:00.123Z");
        let record = decode(&payload).unwrap();
        assert_eq!(record.index, 42);
        assert_eq!(record.event, event);
        assert_eq!(
            canonical::to_vec(&serde_json::to_value(&record).unwrap()),
            payload
        );
        assert_eq!(trailer(&payload).unwrap(), Trailer { index: 42, prev });
        assert!(!is_checkpoint(&payload));
    }

    #[test]
    fn recognises_checkpoint_records() {
        let event = AuditEvent::Checkpoint(CheckpointEvent {
            tree_size: 5,
            root_hash: "00".repeat(32),
        });
        let event_json = canonical::to_vec(&serde_json::to_value(&event).unwrap());
        assert!(is_checkpoint(&encode(&event_json, 5, &[0; 32], "t")));
    }

    #[test]
    fn rejects_damaged_trailers() {
        let payload = encode(b"{\"kind\":\"x\"}", 7, &[1; 32], "2026");
        let text = String::from_utf8(payload).unwrap();
        for bad in [
            text.replace("\"index\":7", "\"index\":07"),
            text.replace("\"index\":7", "\"index\":"),
            text.replace("\"index\":7", "\"indx\":7"),
            text.replace("0101", "010"),
            text.replace("0101", "01G1"),
            text.replace("\"timestamp\":\"2026\"", "\"timestamp\":\"\""),
            text.trim_end_matches('}').to_string(),
            text.replacen("{\"event\":", "{\"evnt\":", 1),
        ] {
            assert!(trailer(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn prev_is_decoded_as_lower_case_hex_only() {
        let hash: Hash = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0xa5);
        let digits = hex::encode(hash);
        assert_eq!(decode_lower_hex(digits.as_bytes()), Some(hash));
        assert_eq!(decode_lower_hex(&digits.as_bytes()[..62]), None);
        for (at, bad) in [(0, b'A'), (13, b'F'), (63, b'g'), (31, b' '), (40, 0xff)] {
            let mut damaged = digits.clone().into_bytes();
            damaged[at] = bad;
            assert_eq!(decode_lower_hex(&damaged), None, "{bad:#x} at {at}");
        }
    }
}
