//! National identifiers: US_SSN, US_ITIN, UK_NHS and UK_NINO, each with the structural rules
//! its issuer publishes (SSA allocation rules, IRS ITIN group ranges, NHS mod 11, HMRC
//! prefix and suffix letters).

use super::pattern::{
    digits, isolated, isolated_number, keyword_after, keyword_before, Hit, Pattern, Tier,
};
use super::Entity;

pub(crate) const PATTERNS: &[Pattern] = &[
    Pattern {
        entity: Entity::UsSsn,
        regex: r"[0-9]{3}[- .]?[0-9]{2}[- .]?[0-9]{4}(?-u:\b)",
        validate: validate_ssn,
    },
    Pattern {
        entity: Entity::UsItin,
        regex: r"9[0-9]{2}[- ]?[5-9][0-9][- ]?[0-9]{4}(?-u:\b)",
        validate: validate_itin,
    },
    Pattern {
        entity: Entity::UkNhs,
        regex: r"[0-9]{3}[- ]?[0-9]{3}[- ]?[0-9]{4}(?-u:\b)",
        validate: validate_nhs,
    },
    Pattern {
        entity: Entity::UkNino,
        regex: r"(?i)[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D](?-u:\b)",
        validate: validate_nino,
    },
];

/// How far before a bare number a context keyword is looked for.
const CONTEXT_WINDOW: usize = 40;

/// The separator between the three digit groups: `Some(None)` when there is none, `None` when
/// the groups are separated unevenly (`123-45 6789`, or only one of two gaps: `16087 1031`).
fn uniform_separators(span: &str) -> Option<Option<char>> {
    let separators: Vec<char> = span
        .chars()
        .filter(|c| !c.is_ascii_alphanumeric())
        .collect();
    match separators.as_slice() {
        [] => Some(None),
        [first, second] if first == second => Some(Some(*first)),
        _ => None,
    }
}

fn validate_ssn(text: &str, start: usize, end: usize) -> Option<Hit> {
    let span = &text[start..end];
    let separator = uniform_separators(span)?;
    if !isolated_number(text, start, end) || !is_ssn(&digits(span)) {
        return None;
    }
    // Nine bare digits are an SSN only when the text says so nearby.
    // The 3-2-4 grouping is the SSN's own: written so, it outranks a phone reading of the
    // same digits. Nine bare digits are an SSN only when the text says so nearby.
    if separator.is_some() {
        return Some(Hit {
            tier: Some(Tier::Strong),
            ..Hit::structural(start, end)
        });
    }
    keyword_before(text, start, CONTEXT_WINDOW, &["ssn", "social security"])
        .then(|| Hit::structural(start, end))
}

/// The SSA's rules: area not 000, 666 or 900-999, group not 00, serial not 0000, and not one
/// of the numbers published in advertisements or used as examples.
pub(crate) fn is_ssn(digits: &[u8]) -> bool {
    if digits.len() != 9 || digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    let area = &digits[..3];
    let advertised: [&[u8]; 3] = [
        &[0, 7, 8, 0, 5, 1, 1, 2, 0],
        &[2, 1, 9, 0, 9, 9, 9, 9, 9],
        &[1, 2, 3, 4, 5, 6, 7, 8, 9],
    ];
    area != [0, 0, 0]
        && area != [6, 6, 6]
        && area[0] != 9
        && digits[3..5] != [0, 0]
        && digits[5..] != [0, 0, 0, 0]
        && !advertised.contains(&digits)
}

fn validate_itin(text: &str, start: usize, end: usize) -> Option<Hit> {
    let span = &text[start..end];
    let separator = uniform_separators(span)?;
    let digits = digits(span);
    let group = digits[3] * 10 + digits[4];
    // IRS ITIN group ranges: 50-65, 70-88, 90-92, 94-99.
    let group_ok = matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99);
    let context = keyword_before(text, start, CONTEXT_WINDOW, &["itin", "taxpayer"]);
    (group_ok && isolated_number(text, start, end) && (separator.is_some() || context))
        .then(|| Hit::structural(start, end))
}

fn validate_nhs(text: &str, start: usize, end: usize) -> Option<Hit> {
    let span = &text[start..end];
    uniform_separators(span)?;
    if !isolated_number(text, start, end) || !is_nhs(&digits(span)) {
        return None;
    }
    // One random ten-digit number in eleven passes mod 11, phone numbers included: without
    // the word NHS nearby the finding yields to anything it overlaps.
    let hit = Hit::validated(start, end);
    // Context words before or after the number, as Presidio's context enhancer reads them.
    let keywords = &["nhs", "health service"];
    if keyword_before(text, start, CONTEXT_WINDOW, keywords)
        || keyword_after(text, end, CONTEXT_WINDOW, keywords)
    {
        Some(hit)
    } else {
        Some(hit.weak())
    }
}

/// NHS number check digit: weights 10..2 over the first nine digits, 11 - (sum mod 11),
/// where 11 means 0 and 10 means the number is invalid.
pub(crate) fn is_nhs(digits: &[u8]) -> bool {
    if digits.len() != 10 || digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10u32).rev())
        .map(|(d, weight)| u32::from(*d) * weight)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        check => check,
    };
    u32::from(digits[9]) == check
}

fn validate_nino(text: &str, start: usize, end: usize) -> Option<Hit> {
    let span = &text[start..end];
    let upper = span.to_ascii_uppercase();
    let letters: Vec<u8> = upper.bytes().filter(u8::is_ascii_alphabetic).collect();
    // Spaces either everywhere (AB 12 34 56 C) or nowhere, and one letter case throughout.
    let spaces = span.bytes().filter(|b| *b == b' ').count();
    let one_case = span == upper || span == span.to_ascii_lowercase();
    (is_nino_letters(&letters)
        && (spaces == 0 || spaces == 4)
        && one_case
        && isolated(text, start, end))
    .then(|| Hit::structural(start, end))
}

/// HMRC rules: first letter not D F I Q U V, second not D F I O Q U V, prefixes BG GB KN NK
/// NT TN ZZ never issued, suffix A-D.
fn is_nino_letters(letters: &[u8]) -> bool {
    let [first, second, suffix] = letters else {
        return false;
    };
    let never_issued: [&[u8; 2]; 7] = [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"];
    !b"DFIQUV".contains(first)
        && !b"DFIOQUV".contains(second)
        && !never_issued.contains(&&[*first, *second])
        && (b'A'..=b'D').contains(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssn_rules() {
        let ok = |s: &str| is_ssn(&digits(s));
        assert!(ok("536-90-4399"));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "536-00-4399",
            "536-90-0000",
            "078-05-1120",
            "111-11-1111",
        ] {
            assert!(!ok(bad), "{bad}");
        }
        assert!(validate_ssn("ssn 536-90-4399", 4, 15).is_some());
        assert!(
            validate_ssn("x 536-90 4399", 2, 13).is_none(),
            "mixed delimiters"
        );
        assert!(
            validate_ssn("order 536904399", 6, 15).is_none(),
            "bare, no context"
        );
        assert!(
            validate_ssn("SSN: 536904399", 5, 14).is_some(),
            "bare, with context"
        );
    }

    #[test]
    fn itin_groups() {
        assert!(validate_itin("912-70-1234", 0, 11).is_some());
        assert!(validate_itin("912-93-1234", 0, 11).is_none());
        assert!(validate_itin("912701234", 0, 9).is_none());
        assert!(validate_itin("ITIN 912701234", 5, 14).is_some());
    }

    #[test]
    fn nhs_check_digit_and_context() {
        assert!(is_nhs(&digits("943 476 5919")));
        assert!(!is_nhs(&digits("943 476 5918")));
        assert!(!is_nhs(&digits("943 476 5910")));
        let hit = validate_nhs("NHS number 943 476 5919", 11, 23).unwrap();
        assert_eq!(hit.tier, None);
        let hit = validate_nhs("call 943 476 5919", 5, 17).unwrap();
        assert!(hit.tier.is_some(), "no context keyword: weak");
        let hit = validate_nhs("9434765919 (NHS number)", 0, 10).unwrap();
        assert_eq!(hit.tier, None, "context after the number counts too");
    }

    #[test]
    fn nino_letters() {
        assert!(validate_nino("AB 12 34 56 C", 0, 13).is_some());
        assert!(validate_nino("ab123456c", 0, 9).is_some());
        for bad in [
            "GB123456A",
            "DA123456A",
            "AO123456A",
            "AB123456E",
            "AB 123456A",
            "Ab123456c",
        ] {
            assert!(validate_nino(bad, 0, bad.len()).is_none(), "{bad}");
        }
    }
}
