//! EMAIL_ADDRESS and URL. URLs with a scheme or `www.` are taken whole; bare domains only
//! with a common top-level domain, so file names (`report.pdf`) are not URLs. A URL never
//! overlaps an e-mail address: the scanner gives the e-mail precedence.

use super::pattern::{char_at, char_before, Hit, Pattern};
use super::Entity;

pub(crate) const PATTERNS: &[Pattern] = &[
    Pattern {
        entity: Entity::EmailAddress,
        regex: r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+",
        validate: validate_email,
    },
    Pattern {
        entity: Entity::Url,
        regex: r#"(?i)(?:https?|ftps?|wss?|sftp)://[^\s<>"'`{}|\\^]+"#,
        validate: validate_scheme_url,
    },
    Pattern {
        entity: Entity::Url,
        regex: r#"(?i)www\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+[^\s<>"'`{}|\\^]*"#,
        validate: validate_bare_url,
    },
    Pattern {
        entity: Entity::Url,
        regex: r#"(?i)[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.(?:com|org|net|edu|gov|mil|int|info|biz|io|ai|app|dev|co|me|tv|xyz|online|site|tech|store|cloud|blog|shop|uk|de|fr|it|es|nl|be|ch|at|se|no|dk|fi|pl|cz|ru|cn|jp|kr|in|au|nz|ca|us|br|mx|ar|za|ie|pt|gr|tr|il|sg|hk|tw|eu)(?-u:\b)(?:/[^\s<>"'`{}|\\^]*)?"#,
        validate: validate_bare_url,
    },
];

fn validate_email(text: &str, start: usize, end: usize) -> Option<Hit> {
    // The local-part class admits dots, so trim the ones that end a sentence before it.
    let start = start + text[start..end].bytes().take_while(|b| *b == b'.').count();
    let span = &text[start..end];
    let (local, domain) = span.split_once('@')?;
    let tld = domain.rsplit('.').next()?;
    let local_ok =
        !local.is_empty() && local.len() <= 64 && !local.ends_with('.') && !local.contains("..");
    let tld_ok =
        (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())) || tld.starts_with("xn--");
    let glued = char_before(text, start).is_some_and(|c| c.is_alphanumeric())
        || char_at(text, end).is_some_and(|c| c.is_alphanumeric() || c == '@');
    (local_ok && tld_ok && span.len() <= 254 && !glued).then(|| Hit::structural(start, end))
}

fn validate_scheme_url(text: &str, start: usize, end: usize) -> Option<Hit> {
    let end = start + trimmed_len(&text[start..end]);
    let (_, rest) = text[start..end].split_once("://")?;
    let host_ok = rest
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|authority| authority.rsplit('@').next().is_some_and(|h| !h.is_empty()));
    host_ok.then(|| Hit::structural(start, end))
}

fn validate_bare_url(text: &str, start: usize, end: usize) -> Option<Hit> {
    // Part of an e-mail address, a longer dotted name or a path: not a URL of its own.
    if char_before(text, start).is_some_and(|c| c.is_alphanumeric() || "@./-_".contains(c)) {
        return None;
    }
    let end = start + trimmed_len(&text[start..end]);
    if char_at(text, end).is_some_and(|c| c == '@') {
        return None;
    }
    Some(Hit::structural(start, end))
}

/// The length of `url` without the punctuation that ends the sentence around it; a closing
/// bracket stays when the URL opened it (`https://en.wikipedia.org/wiki/Rust_(language)`).
fn trimmed_len(url: &str) -> usize {
    let mut end = url.len();
    while let Some(last) = url[..end].chars().next_back() {
        let unbalanced =
            |open: char| url[..end].matches(open).count() < url[..end].matches(last).count();
        let drop = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '*' => true,
            ')' => unbalanced('('),
            ']' => unbalanced('['),
            _ => false,
        };
        if !drop {
            break;
        }
        end -= last.len_utf8();
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(text: &str) -> Option<&str> {
        let start = text.find(|c: char| c.is_ascii_alphanumeric() || c == '.')?;
        validate_email(text, start, text.len()).map(|hit| &text[hit.start..hit.end])
    }

    #[test]
    fn email_structure() {
        assert_eq!(
            email("john.smith+tag@example.co.uk"),
            Some("john.smith+tag@example.co.uk")
        );
        assert_eq!(email("..john@example.com"), Some("john@example.com"));
        assert_eq!(email("john.@example.com"), None);
        assert_eq!(email("jo..hn@example.com"), None);
        assert_eq!(email("john@example.c0m"), None);
        assert_eq!(email("john@localhost.x"), None);
    }

    #[test]
    fn url_trimming_keeps_balanced_brackets() {
        let text = "see https://en.wikipedia.org/wiki/Rust_(language)).";
        let start = text.find("https").unwrap();
        let hit = validate_scheme_url(text, start, text.len()).unwrap();
        assert_eq!(
            &text[hit.start..hit.end],
            "https://en.wikipedia.org/wiki/Rust_(language)"
        );
        assert_eq!(validate_scheme_url("http://", 0, 7), None);
    }

    #[test]
    fn bare_domains_inside_emails_are_not_urls() {
        let text = "a@example.com";
        assert_eq!(validate_bare_url(text, 2, text.len()), None);
        let text = "example.com.";
        let hit = validate_bare_url(text, 0, text.len()).unwrap();
        assert_eq!(hit.end, 11);
    }
}
