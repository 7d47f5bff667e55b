//! CREDIT_CARD: 12-19 digits, optionally grouped by spaces (also no-break and ideographic
//! ones), dashes or dots (one kind of separator), ASCII or fullwidth, whose issuer prefix and
//! length belong to a known network and whose Luhn check digit holds.

use super::pattern::{char_at, isolated_number, Hit, Pattern};
use super::Entity;

pub(crate) const PATTERNS: &[Pattern] = &[Pattern {
    entity: Entity::CreditCard,
    regex: "[0-9](?:[ .\u{a0}\u{202f}-]?[0-9]){11,18}(?-u:\\b)|[\u{ff10}-\u{ff19}](?:[ \u{3000}\u{ff0d}]?[\u{ff10}-\u{ff19}]){11,18}",
    validate,
}];

/// One issuer range: card numbers whose first `prefix_len` digits lie in `low..=high` and
/// whose length lies in `lengths`.
struct IssuerRange {
    low: u32,
    high: u32,
    prefix_len: usize,
    lengths: (usize, usize),
}

const fn range(low: u32, high: u32, prefix_len: usize, min: usize, max: usize) -> IssuerRange {
    IssuerRange {
        low,
        high,
        prefix_len,
        lengths: (min, max),
    }
}

/// Issuer identification number ranges of the card networks (ISO/IEC 7812 as published by
/// the networks), including Mastercard's 2-series and the legacy 15-digit JCB and 12-digit
/// Maestro ranges still produced by test-data generators.
const ISSUERS: &[IssuerRange] = &[
    range(4, 4, 1, 13, 19),           // Visa (13, 16 and 19 in practice)
    range(51, 55, 2, 16, 16),         // Mastercard
    range(2221, 2720, 4, 16, 16),     // Mastercard 2-series
    range(34, 34, 2, 15, 15),         // American Express
    range(37, 37, 2, 15, 15),         // American Express
    range(300, 305, 3, 14, 19),       // Diners Club International
    range(3095, 3095, 4, 14, 19),     // Diners Club International
    range(36, 36, 2, 14, 19),         // Diners Club International
    range(38, 39, 2, 14, 19),         // Diners Club
    range(3528, 3589, 4, 15, 19),     // JCB
    range(35, 35, 2, 16, 16),         // JCB as test-data generators draw it (any 35xx)
    range(1800, 1800, 4, 15, 15),     // JCB (legacy)
    range(2131, 2131, 4, 15, 15),     // JCB (legacy)
    range(6011, 6011, 4, 16, 19),     // Discover
    range(644, 649, 3, 16, 19),       // Discover
    range(65, 65, 2, 16, 19),         // Discover, RuPay
    range(622126, 622925, 6, 16, 19), // Discover co-branded UnionPay
    range(62, 62, 2, 16, 19),         // UnionPay
    range(81, 82, 2, 16, 16),         // RuPay
    range(60, 60, 2, 16, 16),         // RuPay
    range(2200, 2204, 4, 16, 19),     // Mir
    range(50, 50, 2, 12, 19),         // Maestro (5018, 5020, 5038, ...), Verve (506099-506198)
    range(56, 58, 2, 12, 19),         // Maestro
    range(6304, 6304, 4, 12, 19),     // Maestro UK
    range(6390, 6390, 4, 12, 19),     // Maestro (legacy)
    range(6759, 6759, 4, 12, 19),     // Maestro UK
    range(6761, 6763, 4, 12, 19),     // Maestro
    range(604, 604, 4, 12, 19),       // Maestro 0604 (legacy, still in generators)
    range(639, 639, 3, 12, 19),       // Maestro
    range(1, 1, 1, 15, 15),           // UATP
    range(9792, 9792, 4, 16, 16),     // Troy
    range(6, 6, 1, 16, 16),           // other 6-series issuers (InstaPayment 637-639, ...)
];

fn validate(text: &str, start: usize, end: usize) -> Option<Hit> {
    // A number that runs on ("4111 1111 1111 1111 177") is one longer number, not a card
    // followed by something: no shorter span is tried.
    let runs_on = char_at(text, end).is_some_and(|c| c == ' ')
        && char_at(text, end + 1).is_some_and(|c| c.is_ascii_digit());
    (is_card(&text[start..end]) && isolated_number(text, start, end) && !runs_on)
        .then(|| Hit::validated(start, end))
}

/// Whether `span` (digits with at most one kind of separator) is a card number.
pub(crate) fn is_card(span: &str) -> bool {
    let mut separators = span
        .chars()
        .filter(|c| super::pattern::digit_value(*c).is_none());
    if let Some(first) = separators.next() {
        let mut count = 1;
        for separator in separators {
            if separator != first {
                return false;
            }
            count += 1;
        }
        // One dot is a decimal number (`4111111111.111111`); cards are written in groups.
        if first == '.' && count < 3 {
            return false;
        }
    }
    let digits = super::pattern::digits(span);
    if !(12..=19).contains(&digits.len()) || digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    known_issuer(&digits) && luhn(&digits)
}

fn known_issuer(digits: &[u8]) -> bool {
    ISSUERS.iter().any(|issuer| {
        let prefix = digits
            .iter()
            .take(issuer.prefix_len)
            .fold(0u32, |acc, d| acc * 10 + u32::from(*d));
        (issuer.low..=issuer.high).contains(&prefix)
            && (issuer.lengths.0..=issuer.lengths.1).contains(&digits.len())
    })
}

/// The Luhn (mod 10) check over all digits, the last one being the check digit.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published test numbers of each network.
    const CARDS: &[&str] = &[
        "4111111111111111",    // Visa
        "4222222222222",       // Visa 13
        "4111 1111 1111 1111", // Visa, grouped
        "5555555555554444",    // Mastercard
        "2223003122003222",    // Mastercard 2-series
        "2720 9900 0000 0007", // Mastercard 2-series upper bound
        "378282246310005",     // American Express
        "3714 496353 98431",   // American Express, 4-6-5
        "30569309025904",      // Diners Club
        "36227206271667",      // Diners Club
        "6011111111111117",    // Discover
        "6445644564456445",    // Discover 644-649
        "3530111333300000",    // JCB
        "180061388939823",     // JCB 15 (legacy)
        "6200000000000005",    // UnionPay
        "6759649826438453",    // Maestro UK
        "2200-0000-0000-0004", // Mir
        "6521 1111 1111 1110", // RuPay
        "4111.1111.1111.1111", // Visa, grouped by dots
        "4111\u{a0}1111\u{a0}1111\u{a0}1111", // no-break spaces
        "\u{ff14}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}", // fullwidth
    ];

    #[test]
    fn accepts_test_numbers_of_every_network() {
        for card in CARDS {
            assert!(is_card(card), "{card}");
        }
    }

    #[test]
    fn rejects_changed_digits_mixed_separators_and_unknown_issuers() {
        for card in CARDS {
            // Changing any one digit breaks Luhn.
            let bytes = card.as_bytes();
            for (i, b) in bytes.iter().enumerate().filter(|(_, b)| b.is_ascii_digit()) {
                let mut changed = bytes.to_vec();
                changed[i] = b'0' + (b - b'0' + 1) % 10;
                let changed = String::from_utf8(changed).unwrap();
                assert!(!is_card(&changed), "{changed}");
            }
        }
        assert!(!is_card("4111 1111-1111 1111"));
        assert!(!is_card("4111.1111 1111.1111"));
        assert!(!is_card("4111111111.111111")); // a decimal, not a grouping
        assert!(!is_card("7111111111111114")); // 7 is no issuer, though Luhn holds
        assert!(!is_card("0000000000000000"));
        assert!(!is_card("5555555555554444555")); // Mastercard is 16 digits only
    }

    #[test]
    fn validator_needs_a_number_of_its_own() {
        let text = "card 4111 1111 1111 1111.";
        assert!(validate(text, 5, 24).is_some());
        for text in [
            "id 1.4111111111111111",
            "id 4111 1111 1111 1111 177",
            "x4111111111111111",
        ] {
            let start = text.find('4').unwrap();
            let end = start + text[start..].find("1111 177").map_or(16, |at| at + 4);
            assert_eq!(validate(text, start, end), None, "{text}");
        }
    }
}
