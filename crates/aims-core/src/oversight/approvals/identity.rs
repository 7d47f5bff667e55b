//! Who is who in an approval: identities (agents, users, approvers) and roles are compared in
//! one normal form, so "alice", "Alice", "alice " and a fullwidth "ａｌｉｃｅ" are one person
//! for the two-person rule and for self-approval.
//!
//! The form is Unicode NFKC case folding (`NFKC(casefold(NFKC(trim(text))))`), the form
//! UTS #39 and RFC 8265 use for comparing user names. Stored votes and requests keep the
//! normal form, so the store's primary key on (request, approver) enforces one vote per person.

use unicode_normalization::UnicodeNormalization;

/// The normal form of an identity or role, `None` when nothing is left of it (empty, blank, or
/// only characters that fold away).
pub fn normalize_identity(text: &str) -> Option<String> {
    let compatible: String = text.trim().nfkc().collect();
    let folded = caseless::default_case_fold_str(&compatible);
    let normal: String = folded.nfkc().collect();
    let normal = normal.trim();
    let visible = normal
        .chars()
        .any(|c| !c.is_whitespace() && !is_invisible(c));
    visible.then(|| normal.to_owned())
}

/// Format characters that render as nothing (zero-width space and joiners, BOM, soft hyphen):
/// an id made only of them is blank.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_width_and_surrounding_space_do_not_make_another_person() {
        let alice = normalize_identity("alice").unwrap();
        for variant in ["Alice", "alice ", " ALICE\t", "ａｌｉｃｅ", "Ａｌｉｃｅ"] {
            assert_eq!(normalize_identity(variant).unwrap(), alice, "{variant:?}");
        }
        // Full case folding, not just lowercase: ß folds to ss.
        assert_eq!(normalize_identity("STRASSE"), normalize_identity("straße"));
        assert_ne!(normalize_identity("bob"), normalize_identity("alice"));
    }

    #[test]
    fn empty_and_blank_identities_have_no_normal_form() {
        for blank in ["", " ", "\t\n", "\u{3000}", "\u{200b}", " \u{feff} "] {
            assert_eq!(normalize_identity(blank), None, "{blank:?}");
        }
    }
}
