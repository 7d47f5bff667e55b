//! The contract between detector families and the scanner: a detector is a candidate regex
//! (cheap, run through the scanner's shared `RegexSet` prefilter) plus a validator that decides,
//! on each candidate only, whether it is really the entity (checksums, registries, parsers).

use super::Entity;

/// How strongly a finding holds its span when it overlaps another finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tier {
    /// Checksummed identifiers and secrets: nearly never a coincidence.
    Strong,
    /// Structured personal data (phone, e-mail, SSN, addresses of machines).
    Structured,
    /// URLs: they yield to anything they overlap, e-mail addresses above all.
    Url,
    /// A checksum that random digits pass often (1 in 11) and no context keyword nearby.
    Weak,
}

/// A candidate accepted by a validator, possibly narrowed to a sub-span of the regex match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    /// A check beyond the pattern passed (checksum, parser, decodable structure).
    pub validated: bool,
    /// Overrides the entity's tier (e.g. demoted without a context keyword).
    pub tier: Option<Tier>,
}

impl Hit {
    /// A hit that passed only structural rules.
    pub fn structural(start: usize, end: usize) -> Self {
        Self {
            start,
            end,
            validated: false,
            tier: None,
        }
    }

    /// A hit confirmed by a checksum, a parser or a decodable structure.
    pub fn validated(start: usize, end: usize) -> Self {
        Self {
            validated: true,
            ..Self::structural(start, end)
        }
    }

    /// The same hit, yielding to whatever it overlaps.
    pub fn weak(self) -> Self {
        Self {
            tier: Some(Tier::Weak),
            ..self
        }
    }
}

/// Decides whether the regex match `text[start..end]` is the entity.
pub(crate) type Validator = fn(text: &str, start: usize, end: usize) -> Option<Hit>;

/// One candidate pattern of a detector family.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pattern {
    pub entity: Entity,
    /// A regex in the `regex` crate's syntax. ASCII classes (`[0-9]`, `(?-u:\b)`) keep the
    /// prefilter on the fast DFA path.
    pub regex: &'static str,
    pub validate: Validator,
}

/// The tier an entity's findings have unless the validator says otherwise.
pub(crate) fn default_tier(entity: Entity) -> Tier {
    match entity {
        Entity::Url => Tier::Url,
        Entity::UsSsn
        | Entity::UsItin
        | Entity::UkNino
        | Entity::IpAddress
        | Entity::MacAddress
        | Entity::EmailAddress
        | Entity::PhoneNumber
        | Entity::GenericSecret
        | Entity::DenyList => Tier::Structured,
        _ => Tier::Strong,
    }
}

/// The character just before byte offset `at`, if any. A JSON or C escape for a line break or
/// tab written out as text (`\n`, `\r`, `\t`, common in logged payloads) counts as a space,
/// so `"Phone:\n+1 415..."` still starts a number.
pub(crate) fn char_before(text: &str, at: usize) -> Option<char> {
    let head = text.get(..at)?;
    if head.len() >= 2 && (head.ends_with("\\n") || head.ends_with("\\r") || head.ends_with("\\t"))
    {
        return Some(' ');
    }
    head.chars().next_back()
}

/// The character starting at byte offset `at`, if any.
pub(crate) fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|tail| tail.chars().next())
}

/// Whether `text[start..end]` stands alone: no letter or digit glued to either side.
pub(crate) fn isolated(text: &str, start: usize, end: usize) -> bool {
    !char_before(text, start).is_some_and(char::is_alphanumeric)
        && !char_at(text, end).is_some_and(char::is_alphanumeric)
}

/// Whether a number `text[start..end]` stands alone: `isolated`, and not one part of a longer
/// dotted or dashed number (`1.4111...`, `4111...-7`).
pub(crate) fn isolated_number(text: &str, start: usize, end: usize) -> bool {
    if !isolated(text, start, end) {
        return false;
    }
    let glued_before = char_before(text, start).is_some_and(|c| matches!(c, '.' | '-' | '/'))
        && char_before(text, start - 1).is_some_and(|c| c.is_ascii_digit());
    let glued_after = char_at(text, end).is_some_and(|c| matches!(c, '.' | '-' | '/'))
        && char_at(text, end + 1).is_some_and(|c| c.is_ascii_digit());
    !glued_before && !glued_after
}

/// Whether one of `keywords` (lower-case ASCII) occurs in the `window` bytes before `start`.
pub(crate) fn keyword_before(text: &str, start: usize, window: usize, keywords: &[&str]) -> bool {
    let mut from = start.saturating_sub(window);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = &text[from..start];
    keywords
        .iter()
        .any(|keyword| contains_ignore_ascii_case(before, keyword))
}

/// Whether `haystack` contains `needle` (ASCII), ignoring ASCII case, without allocating.
pub(crate) fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    needle.is_empty()
        || haystack
            .as_bytes()
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

/// Whether one of `keywords` (lower-case ASCII) occurs in the `window` bytes after `end`
/// (context that follows the value: "9434765919 (NHS number)").
pub(crate) fn keyword_after(text: &str, end: usize, window: usize, keywords: &[&str]) -> bool {
    let mut to = end.saturating_add(window).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    let after = text.get(end..to).unwrap_or("");
    keywords
        .iter()
        .any(|keyword| contains_ignore_ascii_case(after, keyword))
}

/// The value of a decimal digit, ASCII or fullwidth (`０`-`９`, as typed with East Asian input
/// methods).
pub(crate) fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '\u{ff10}'..='\u{ff19}' => u8::try_from(u32::from(c) - 0xff10).ok(),
        _ => None,
    }
}

/// The digits of `s` (ASCII or fullwidth), as numbers 0-9.
pub(crate) fn digits(s: &str) -> Vec<u8> {
    s.chars().filter_map(digit_value).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolation_looks_at_both_neighbours() {
        let text = "a 1234 b x1234 1234y 1.1234 é1234";
        assert!(isolated(text, 2, 6));
        assert!(!isolated(text, 10, 14));
        assert!(!isolated(text, 15, 19));
        assert!(isolated(text, 23, 27));
        assert!(!isolated_number(text, 23, 27));
        let accented = text.len() - 4;
        assert!(!isolated(text, accented, text.len()));
        let escaped = r"Phone:\n4155550132";
        assert!(isolated(escaped, 8, escaped.len()));
    }

    #[test]
    fn keyword_window_is_bounded_and_unicode_safe() {
        let text = "ééé SSN: 123";
        let at = text.find("123").unwrap();
        assert!(keyword_before(text, at, 6, &["ssn"]));
        assert!(!keyword_before(text, at, 3, &["ssn"]));
        assert!(!keyword_before(text, at, 12, &["nhs"]));
    }

    #[test]
    fn ascii_case_insensitive_contains() {
        assert!(contains_ignore_ascii_case("X-Api-KEY", "api-key"));
        assert!(contains_ignore_ascii_case("ééPassWord", "password"));
        assert!(contains_ignore_ascii_case("any", ""));
        assert!(!contains_ignore_ascii_case("pass", "password"));
        assert!(!contains_ignore_ascii_case("api_key", "api-key"));
    }
}
