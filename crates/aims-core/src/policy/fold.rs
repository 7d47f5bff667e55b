//! Folding text to the form two lenient readers would agree on: Unicode compatibility
//! normalisation (NFKC, so fullwidth `ｓｈｅｌｌ` is `shell`), without invisible format
//! characters (zero-width spaces and joiners, soft hyphens, variation selectors), lower case.
//!
//! Used where a name or key that differs only in such ways must not be treated as different:
//! tool and agent names matched by restricting rules, and argument keys checked for collisions.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// The folded form of `text`; borrowed when folding changes nothing (ASCII without upper case).
pub fn fold(text: &str) -> Cow<'_, str> {
    if text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        return Cow::Borrowed(text);
    }
    if text.is_ascii() {
        return Cow::Owned(text.to_ascii_lowercase());
    }
    let lowered: String = text
        .nfkc()
        .filter(|ch| !is_default_ignorable(*ch))
        .flat_map(char::to_lowercase)
        .collect();
    // Lower-casing can produce text that normalises further (e.g. a capital with a combining
    // mark); one more pass reaches the fixed point.
    Cow::Owned(lowered.nfkc().collect())
}

/// Unicode's Default_Ignorable_Code_Point: characters that render as nothing, so a name with
/// one looks identical to the name without it.
fn is_default_ignorable(ch: char) -> bool {
    matches!(
        u32::from(ch),
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_fold_to_one_name() {
        for variant in [
            "shell",
            "Shell",
            "SHELL",
            "shell\u{200b}",
            "sh\u{ad}ell",
            "\u{ff53}\u{ff48}\u{ff45}\u{ff4c}\u{ff4c}",
            "\u{feff}shell",
        ] {
            assert_eq!(fold(variant), "shell", "{variant:?}");
        }
        assert_eq!(fold("Amount"), fold("amount"));
        assert_eq!(fold("\u{212a}ey"), "key"); // KELVIN SIGN
        assert_ne!(fold("shell2"), fold("shell"));
        assert!(matches!(fold("plain_name"), Cow::Borrowed(_)));
    }
}
