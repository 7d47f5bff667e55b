//! IP_ADDRESS (v4 and v6, confirmed by `std::net`'s parsers) and MAC_ADDRESS (six colon- or
//! dash-separated octets with one separator throughout, or Cisco's dotted triplets).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::pattern::{char_at, char_before, Hit, Pattern};
use super::Entity;

pub(crate) const PATTERNS: &[Pattern] = &[
    Pattern {
        entity: Entity::IpAddress,
        regex: r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?-u:\b)",
        validate: validate_ipv4,
    },
    Pattern {
        entity: Entity::IpAddress,
        regex: r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?",
        validate: validate_ipv6,
    },
    Pattern {
        entity: Entity::MacAddress,
        regex: r"(?:[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?-u:\b)",
        validate: validate_mac,
    },
];

/// Not part of a longer token: no letter, digit, `.` or `:` glued to either side (so version
/// numbers `1.2.3.4.5` and `std::vec` are not addresses).
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let glue = |c: char| c.is_alphanumeric() || matches!(c, '.' | ':' | '_');
    let before = char_before(text, start).is_some_and(glue);
    // A sentence may end right after an address: a trailing `.` or `:` not followed by more
    // of the token is fine.
    let after = char_at(text, end).is_some_and(|c| {
        c.is_alphanumeric()
            || c == '_'
            || (matches!(c, '.' | ':') && char_at(text, end + 1).is_some_and(char::is_alphanumeric))
    });
    !before && !after
}

fn validate_ipv4(text: &str, start: usize, end: usize) -> Option<Hit> {
    let parsed = text[start..end].parse::<Ipv4Addr>().ok()?;
    (standalone(text, start, end) && !parsed.is_unspecified()).then(|| Hit::validated(start, end))
}

fn validate_ipv6(text: &str, start: usize, end: usize) -> Option<Hit> {
    // The pattern may take the `:` that ends a sentence ("host fe80::1: down").
    let mut end = end;
    while text[start..end].parse::<Ipv6Addr>().is_err() {
        if !text[start..end].ends_with(':') {
            return None;
        }
        end -= 1;
    }
    let span = &text[start..end];
    // At least two groups with digits: `d::` in `std::` or a bare `::` are not addresses.
    let groups = span.split(':').filter(|group| !group.is_empty()).count();
    (groups >= 2 && standalone(text, start, end)).then(|| Hit::validated(start, end))
}

fn validate_mac(text: &str, start: usize, end: usize) -> Option<Hit> {
    let span = &text[start..end];
    let mut separators = span.chars().filter(|c| !c.is_ascii_hexdigit());
    let first = separators.next()?;
    (separators.all(|c| c == first) && standalone(text, start, end))
        .then(|| Hit::structural(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<&str> {
        let at = text.find(|c: char| c.is_ascii_hexdigit() || c == ':')?;
        let hit =
            validate_ipv4(text, at, text.len()).or_else(|| validate_ipv6(text, at, text.len()))?;
        Some(&text[hit.start..hit.end])
    }

    #[test]
    fn addresses_parse_or_are_rejected() {
        assert_eq!(ip("192.168.0.1"), Some("192.168.0.1"));
        assert_eq!(
            ip("2001:db8::8a2e:370:7334"),
            Some("2001:db8::8a2e:370:7334")
        );
        assert_eq!(ip("fe80::1:"), Some("fe80::1"));
        assert_eq!(ip("::ffff:192.0.2.128"), Some("::ffff:192.0.2.128"));
        for bad in [
            "256.1.1.1",
            "01.2.3.4",
            "0.0.0.0",
            "10:30:00",
            "d::",
            "1:2:3:4:5:6:7:8:9",
        ] {
            assert_eq!(ip(bad), None, "{bad}");
        }
        let version = "v 1.2.3.4.5";
        assert_eq!(validate_ipv4(version, 2, 9), None);
    }

    #[test]
    fn mac_separators_are_uniform() {
        assert!(validate_mac("00:1A:2B:3C:4D:5E", 0, 17).is_some());
        assert!(validate_mac("00-1a-2b-3c-4d-5e", 0, 17).is_some());
        assert!(validate_mac("001a.2b3c.4d5e", 0, 14).is_some());
        assert!(validate_mac("00:1A-2B:3C:4D:5E", 0, 17).is_none());
    }
}
