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

/// How many trailing digit groups may be dropped when the whole run is not a number
/// ("call 020 7946 0958 2024" is a number followed by a year).
const MAX_DROPPED_GROUPS: usize = 2;

fn validate(text: &str, start: usize, end: usize) -> Option<Hit> {
    let mut end = end;
    for _ in 0..=MAX_DROPPED_GROUPS {
        let span = text[start..end].trim_end_matches([' ', '.', '-', '(', '/']);
        let span_end = start + span.len();
        if standalone(text, start, span_end) && is_phone(span) {
            return Some(Hit::validated(start, span_end));
        }
        end = start + span.rfind([' ', '.', '-', '/'])?;
    }
    None
}

/// Not glued to a word, a longer number or a `+`.
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let before = char_before(text, start)
        .is_some_and(|c| c.is_alphanumeric() || matches!(c, '+' | '_' | '/' | '@'));
    let before_glued_number = char_before(text, start).is_some_and(|c| matches!(c, '.' | '-'))
        && char_before(text, start - 1).is_some_and(|c| c.is_ascii_digit());
    let after = char_at(text, end).is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '@'));
    !before && !before_glued_number && !after
}

/// Whether `span` is a valid phone number in international form, or in the national form
/// of one of the supported regions.
pub(crate) fn is_phone(span: &str) -> bool {
    let digits = span
        .bytes()
        .take_while(|b| !b.is_ascii_alphabetic() && *b != b'#');
    let digit_count = digits.filter(u8::is_ascii_digit).count();
    if !(7..=15).contains(&digit_count) || looks_like_date(span) {
        return false;
    }
    let national = span.trim_start_matches('(');
    if span.starts_with('+') {
        return phonenumber::parse(None, span).is_ok_and(|number| phonenumber::is_valid(&number));
    }
    let regions: &[Id] = if national.starts_with("011") {
        &[Id::US]
    } else if national.starts_with("00") {
        &[Id::GB]
    } else if national.starts_with('0') {
        &[Id::GB, Id::DE, Id::FR, Id::IN]
    } else {
        &[Id::US, Id::IN]
    };
    regions.iter().any(|region| {
        phonenumber::parse(Some(*region), span).is_ok_and(|number| phonenumber::is_valid(&number))
    })
}

/// `2024-05-17`, `17/05/2024`, `05.17.24`: three groups, one of them a year.
fn looks_like_date(span: &str) -> bool {
    let groups: Vec<&str> = span.split(['-', '/', '.']).collect();
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
    fn validator_drops_a_trailing_group_and_needs_isolation() {
        let text = "call 020 7946 0958 2024";
        let hit = validate(text, 5, text.len()).unwrap();
        assert_eq!(&text[hit.start..hit.end], "020 7946 0958");
        let glued = "id A4155550132";
        assert_eq!(validate(glued, 4, glued.len()), None);
    }
}
