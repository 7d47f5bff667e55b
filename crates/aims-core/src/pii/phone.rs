//! PHONE_NUMBER: digit runs that the `phonenumber` crate (Google's libphonenumber metadata)
//! declares valid, either in international form (`+` or an international call prefix) or in
//! the national form of the US, India, the UK, Germany or France.

use phonenumber::country::Id;

use super::pattern::{char_at, char_before, Hit, Pattern};
use super::Entity;

pub(crate) const PATTERNS: &[Pattern] = &[Pattern {
    entity: Entity::PhoneNumber,
    regex: r"(?:\+[ ]?)?\(?[0-9][0-9() .\-/]{5,22}[0-9](?:[ ]?(?:x|ext\.?|#)[ ]?[0-9]{1,6})?",
    validate,
}];

fn validate(text: &str, start: usize, end: usize) -> Option<Hit> {
    let span = text[start..end].trim_end_matches([' ', '.', '-', '(', '/']);
    let end = start + span.len();
    (standalone(text, start, end) && is_phone(span)).then(|| Hit::validated(start, end))
}

/// Not glued to a word, a `+`, or a longer number or timestamp (`12:04.262892`,
/// `3710-672432-95019`).
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let joiner = |c: char| matches!(c, '.' | '-' | '/' | ':' | ',');
    let before = char_before(text, start)
        .is_some_and(|c| c.is_alphanumeric() || matches!(c, '+' | '_' | '@' | ':' | '/'));
    let before_glued_number = char_before(text, start).is_some_and(joiner)
        && char_before(text, start - 1).is_some_and(|c| c.is_ascii_digit());
    let after =
        char_at(text, end).is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '@' | ':'));
    let after_glued_number = char_at(text, end).is_some_and(|c| joiner(c) || c == ' ')
        && char_at(text, end + 1).is_some_and(|c| c.is_ascii_digit());
    !before && !before_glued_number && !after && !after_glued_number
}

/// Whether `span` is a valid phone number in international form, or in the national form
/// of one of the supported regions (US, India and Brazil without a trunk prefix; the UK,
/// Germany, France and India with their leading `0`).
pub(crate) fn is_phone(span: &str) -> bool {
    // The metadata validates the number without its extension (`x123`, `ext. 12`, `#12`).
    let span = span
        .find(|c: char| c.is_ascii_alphabetic() || c == '#')
        .map_or(span, |at| span[..at].trim_end());
    let digit_count = span.bytes().filter(u8::is_ascii_digit).count();
    if !(7..=15).contains(&digit_count) || looks_like_date(span) {
        return false;
    }
    if span.starts_with('+') {
        // `+41 (0)44 ...`: the national trunk prefix in brackets is not dialled from abroad.
        let international = span.replacen("(0)", "", 1);
        return phonenumber::parse(None, international)
            .is_ok_and(|number| phonenumber::is_valid(&number));
    }
    // National numbers are at least nine digits in the supported regions' usual writing;
    // shorter runs after a postcode or in an address are not worth the false positives.
    if digit_count < 9 {
        return false;
    }
    let national = span.trim_start_matches('(');
    // Twelve or more digits in one run without a country code are an account or order
    // number far more often than a national phone number.
    if digit_count > 11 && span.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    regions_for(national, digit_count).iter().any(|region| {
        phonenumber::parse(Some(*region), span).is_ok_and(|number| phonenumber::is_valid(&number))
    })
}

/// The regions whose national numbers have this prefix and digit count: parsing is the
/// expensive step, so only plausible regions are tried.
fn regions_for(national: &str, digits: usize) -> &'static [Id] {
    if national.starts_with("011") {
        &[Id::US]
    } else if national.starts_with("00") {
        &[Id::GB]
    } else if national.starts_with('0') {
        match digits {
            10 => &[Id::GB, Id::FR, Id::DE],
            11 => &[Id::GB, Id::IN, Id::DE],
            _ => &[Id::DE],
        }
    } else {
        match digits {
            10 => &[Id::US, Id::IN, Id::BR],
            11 if national.starts_with('1') => &[Id::US],
            11 => &[Id::BR],
            _ => &[],
        }
    }
}

/// `2024-05-17`, `17/05/2024`, `05.17.24`, or a timestamp starting with a date
/// (`2010-12-14 01:19`): three groups, one of them a year.
fn looks_like_date(span: &str) -> bool {
    let head = span.split(' ').next().unwrap_or(span);
    let groups: Vec<&str> = head.split(['-', '/', '.']).collect();
    if groups.len() != 3 || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let short = |g: &str| (1..=2).contains(&g.len());
    (groups[0].len() == 4 && short(groups[1]) && short(groups[2]))
        || (short(groups[0]) && short(groups[1]) && matches!(groups[2].len(), 2 | 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers_of_each_region() {
        for number in [
            "+1 415-555-0132",
            "(415) 555-0132",
            "415.555.0132",
            "+44 20 7946 0958",
            "020 7946 0958",
            "+49 30 901820",
            "030 901820",
            "+33 1 42 68 53 00",
            "01 42 68 53 00",
            "+41 (0)44 668 18 00",
            "(11) 3456-7890",
            "+91 98765 43210",
            "98765 43210",
            "001-415-555-0132",
        ] {
            assert!(is_phone(number), "{number}");
        }
    }

    #[test]
    fn invalid_numbers_dates_and_short_runs() {
        for not_phone in [
            "123 4567",
            "2024-05-17",
            "17/05/2024",
            "000 000 0000",
            "+1 555",
        ] {
            assert!(!is_phone(not_phone), "{not_phone}");
        }
    }

    #[test]
    fn validator_keeps_extensions_and_needs_isolation() {
        let text = "call 650-253-0000x549.";
        let hit = validate(text, 5, text.len()).unwrap();
        assert_eq!(&text[hit.start..hit.end], "650-253-0000x549");
        for glued in [
            "id A4155550132",
            "at 12:04.4155550132",
            "ref 3710-415555-0132",
        ] {
            let start = glued.find(|c: char| c.is_ascii_digit()).unwrap();
            assert_eq!(validate(glued, start, start + 10), None, "{glued}");
        }
    }
}
