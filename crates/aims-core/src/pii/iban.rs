//! IBAN_CODE: a country code, two check digits and a BBAN of the country's registered length
//! (SWIFT IBAN registry), optionally grouped by spaces or dashes, passing ISO 7064 mod 97-10.

use super::pattern::{isolated, Hit, Pattern};
use super::Entity;

pub(crate) const PATTERNS: &[Pattern] = &[Pattern {
    entity: Entity::IbanCode,
    regex: r"[A-Za-z]{2}[0-9]{2}(?:[ -]?[A-Za-z0-9]){11,30}",
    validate,
}];

/// IBAN lengths by country (SWIFT IBAN registry).
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

fn validate(text: &str, start: usize, end: usize) -> Option<Hit> {
    // People type IBANs in lower case too (the regex only matches ASCII, so byte offsets
    // are the same in upper case).
    let candidate = &text[start..end].to_ascii_uppercase();
    let expected = LENGTHS
        .iter()
        .find(|(country, _)| candidate.starts_with(country))
        .map(|(_, len)| *len)?;
    // The match is greedy and may run into a following code or word: cut it at exactly the
    // country's length, which must then end the token.
    let mut seen = 0;
    let mut cut = None;
    for (at, c) in candidate.char_indices() {
        if c.is_ascii_alphanumeric() {
            seen += 1;
            if seen == expected {
                cut = Some(at + 1);
                break;
            }
        }
    }
    let len = cut?;
    let span = &candidate[..len];
    // Letters of mixed case are a word, not an IBAN.
    let written = &text[start..start + len];
    if written.bytes().any(|b| b.is_ascii_lowercase())
        && written.bytes().any(|b| b.is_ascii_uppercase())
    {
        return None;
    }
    (isolated(text, start, start + len) && is_iban(span))
        .then(|| Hit::validated(start, start + len))
}

/// Whether `span` (an IBAN, spaces or dashes allowed but not mixed) is valid.
pub(crate) fn is_iban(span: &str) -> bool {
    if span.contains(' ') && span.contains('-') {
        return false;
    }
    let compact: Vec<u8> = span.bytes().filter(u8::is_ascii_alphanumeric).collect();
    let Some(country) = compact.get(..2) else {
        return false;
    };
    let registered = LENGTHS
        .iter()
        .any(|(code, len)| code.as_bytes() == country && *len == compact.len());
    registered && mod97(&compact) == 1
}

/// ISO 7064 mod 97-10 over the rearranged IBAN (first four characters moved to the end,
/// letters as 10-35).
fn mod97(compact: &[u8]) -> u32 {
    let (head, tail) = compact.split_at(4.min(compact.len()));
    tail.iter().chain(head).fold(0u32, |acc, b| match b {
        b'0'..=b'9' => (acc * 10 + u32::from(b - b'0')) % 97,
        b'A'..=b'Z' => (acc * 100 + u32::from(b - b'A') + 10) % 97,
        _ => acc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Example IBANs of the SWIFT registry.
    const IBANS: &[&str] = &[
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "BE68539007547034",
        "CH9300762011623852957",
        "NO9386011117947",
        "PL61109010140000071219812874",
        "SE4550000000058398257466",
        "AT611904300234573201",
        "MT84MALT011000012345MTLCAST001S",
        "BR1800360305000010009795493C1",
        "SA0380000000608010167519",
        "LC55HEMM000100010012001200023015",
        "RU0204452560040702810412345678901",
    ];

    #[test]
    fn accepts_registry_examples() {
        for iban in IBANS {
            assert!(is_iban(iban), "{iban}");
        }
    }

    #[test]
    fn finds_lower_case_ibans_but_not_mixed_case_words() {
        for text in [
            "iban gb82west12345698765432",
            "iban gb82 west 1234 5698 7654 32",
        ] {
            let start = text.find("gb").unwrap();
            assert!(validate(text, start, text.len()).is_some(), "{text}");
        }
        let text = "iban Gb82West12345698765432";
        assert!(validate(text, 5, text.len()).is_none());
        let text = "GB82WEST12345698765432 is ok";
        assert_eq!(validate(text, 0, text.len()).map(|hit| hit.end), Some(22));
    }

    #[test]
    fn rejects_changed_digits_wrong_lengths_and_unknown_countries() {
        for iban in IBANS {
            let bytes = iban.as_bytes();
            for i in (2..bytes.len()).filter(|i| bytes[*i].is_ascii_digit()) {
                let mut changed = bytes.to_vec();
                changed[i] = b'0' + (bytes[i] - b'0' + 1) % 10;
                let changed = String::from_utf8(changed).unwrap();
                assert!(!is_iban(&changed), "{changed}");
            }
        }
        assert!(!is_iban("DE89 3704 0044 0532 0130 0"));
        assert!(!is_iban("ZZ89370400440532013000"));
        assert!(!is_iban("DE89-3704 0044 0532 0130 00"));
    }

    #[test]
    fn validator_cuts_at_the_country_length() {
        let text = "pay GB82 WEST 1234 5698 7654 32 NOW";
        let start = text.find("GB").unwrap();
        let hit = validate(text, start, text.len()).unwrap();
        assert_eq!(&text[hit.start..hit.end], "GB82 WEST 1234 5698 7654 32");
        assert_eq!(validate("GB82WEST123456987654321", 0, 23), None);
    }
}
