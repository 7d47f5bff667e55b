//! Secrets: provider keys recognised by their documented prefixes and shapes (AWS, GitHub with
//! its CRC32 checksum, Slack, Stripe, `sk-` API keys, Google), JWTs whose header decodes, PEM
//! private keys, credentials inside URLs, and a keyword-plus-entropy rule for the rest.

use base64::Engine;

use super::pattern::{
    char_at, char_before, contains_ignore_ascii_case, isolated, keyword_before, Hit, Pattern,
};
use super::Entity;

pub(crate) const PATTERNS: &[Pattern] = &[
    Pattern {
        entity: Entity::AwsAccessKey,
        regex: r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z2-7]{16}(?-u:\b)",
        validate: validate_token,
    },
    Pattern {
        // An AWS secret access key: 40 characters of base64 with no prefix of its own, so it
        // is only taken next to the words that name it.
        entity: Entity::AwsAccessKey,
        regex: r"[A-Za-z0-9/+]{40}",
        validate: validate_aws_secret,
    },
    Pattern {
        entity: Entity::GithubToken,
        regex: r"(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?-u:\b)",
        validate: validate_github,
    },
    Pattern {
        entity: Entity::SlackToken,
        regex: r"(?:xox[abposr]-[0-9A-Za-z\-]{10,250}|https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,})",
        validate: validate_token,
    },
    Pattern {
        entity: Entity::StripeKey,
        regex: r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,99}(?-u:\b)",
        validate: validate_token,
    },
    Pattern {
        entity: Entity::ApiKey,
        regex: r"sk-[A-Za-z0-9_\-]{20,200}",
        validate: validate_sk_key,
    },
    Pattern {
        entity: Entity::GoogleApiKey,
        regex: r"AIza[0-9A-Za-z_\-]{35}",
        validate: validate_token,
    },
    Pattern {
        entity: Entity::Jwt,
        regex: r"eyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*",
        validate: validate_jwt,
    },
    Pattern {
        entity: Entity::PrivateKey,
        regex: r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)",
        validate: validate_pem,
    },
    Pattern {
        entity: Entity::UrlCredentials,
        regex: r"(?i)[a-z][a-z0-9+.\-]*://[^\s/:@]+:[^\s/@]+@",
        validate: validate_url_credentials,
    },
    Pattern {
        entity: Entity::GenericSecret,
        regex: r#"(?i)(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|credentials?|private[_\-]?key)[a-z0-9_.\-]*["']?[ \t]*[:=][ \t]*["']?[^\s"',;]{8,}"#,
        validate: validate_generic,
    },
];

/// Keywords that make a JSON member's value a secret candidate (see [`secret_key_name`]).
const SECRET_KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "credential",
    "private_key",
    "privatekey",
];

fn validate_token(text: &str, start: usize, end: usize) -> Option<Hit> {
    isolated(text, start, end).then(|| Hit::structural(start, end))
}

/// A 40-character base64 run is an AWS secret access key when it stands alone, mixes upper
/// case, lower case and digits (hex digests and words do not), and the words around it name
/// AWS or the key (`aws_secret_access_key = ...`, `"SecretAccessKey": "..."`).
fn validate_aws_secret(text: &str, start: usize, end: usize) -> Option<Hit> {
    let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '/' | '+' | '=');
    if char_before(text, start).is_some_and(base64) || char_at(text, end).is_some_and(base64) {
        return None;
    }
    let key = &text[start..end];
    let mixed = key.bytes().any(|b| b.is_ascii_lowercase())
        && key.bytes().any(|b| b.is_ascii_uppercase())
        && key.bytes().any(|b| b.is_ascii_digit());
    let keywords = &[
        "aws",
        "secret_access_key",
        "secretaccesskey",
        "secret access key",
    ];
    let named = keyword_before(text, start, AWS_CONTEXT_WINDOW, keywords);
    (mixed && named).then(|| Hit::structural(start, end))
}

/// How far before an AWS secret key its name may be written (`aws_secret_access_key = `,
/// or an AWS key id and then the secret on the next line of a credentials file).
const AWS_CONTEXT_WINDOW: usize = 80;

/// GitHub's current tokens end in a base62 CRC32 of their 30 random characters: a token whose
/// checksum holds is validated, one whose checksum does not is still reported (structural).
fn validate_github(text: &str, start: usize, end: usize) -> Option<Hit> {
    if !isolated(text, start, end) {
        return None;
    }
    let token = &text[start..end];
    let checksum_ok = token
        .get(4..)
        .filter(|_| !token.starts_with("github_pat_"))
        .is_some_and(|body| body.len() == 36 && base62_crc32(&body[..30]) == body[30..]);
    let hit = Hit::structural(start, end);
    Some(Hit {
        validated: checksum_ok,
        ..hit
    })
}

fn base62_crc32(body: &str) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut value = crc32(body.as_bytes());
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `sk-` keys are long random strings: letters and digits both present, not a word run.
fn validate_sk_key(text: &str, start: usize, end: usize) -> Option<Hit> {
    let key = &text[start..end];
    let body = key.trim_start_matches("sk-");
    let random = body.bytes().any(|b| b.is_ascii_digit())
        && body.bytes().any(|b| b.is_ascii_alphabetic())
        && shannon_entropy(body) >= 3.5;
    (random && isolated(text, start, end)).then(|| Hit::structural(start, end))
}

/// A JWT is `header.payload.signature` whose header and payload decode (base64url) to JSON
/// objects and whose header names an `alg`.
fn validate_jwt(text: &str, start: usize, end: usize) -> Option<Hit> {
    if char_before(text, start).is_some_and(char::is_alphanumeric) {
        return None;
    }
    let mut parts = text[start..end].split('.');
    let header = decode_json_object(parts.next()?)?;
    decode_json_object(parts.next()?)?;
    header
        .get("alg")
        .is_some_and(serde_json::Value::is_string)
        .then(|| Hit::validated(start, end))
}

fn decode_json_object(part: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A PEM block with its END line is validated; a truncated one (no END) is masked to the end
/// of the text all the same.
fn validate_pem(text: &str, start: usize, end: usize) -> Option<Hit> {
    let complete = text[start..end].trim_end().ends_with("PRIVATE KEY-----")
        && text[start..end].matches("PRIVATE KEY-----").count() == 2;
    let hit = Hit::structural(start, end);
    Some(Hit {
        validated: complete,
        ..hit
    })
}

/// `scheme://user:password@host`: the finding covers `user:password`.
fn validate_url_credentials(text: &str, start: usize, end: usize) -> Option<Hit> {
    let span = &text[start..end];
    let user_start = start + span.find("://")? + 3;
    let credentials_end = end - 1;
    (credentials_end > user_start).then(|| Hit::structural(user_start, credentials_end))
}

/// `keyword = value`: the finding covers the value when it looks random enough to be a
/// secret rather than a word or a placeholder.
fn validate_generic(text: &str, start: usize, end: usize) -> Option<Hit> {
    if char_before(text, start).is_some_and(char::is_alphanumeric) {
        return None;
    }
    let span = &text[start..end];
    let assignment = span.find([':', '='])?;
    let value_offset = span[assignment + 1..]
        .find(|c: char| !matches!(c, ' ' | '\t' | '"' | '\''))?
        + assignment
        + 1;
    let value_start = start + value_offset;
    looks_secret(&text[value_start..end]).then(|| Hit::structural(value_start, end))
}

/// Whether a JSON member name says its value is a secret (`password`, `apiKey`, `x-api-token`).
pub(crate) fn secret_key_name(name: &str) -> bool {
    SECRET_KEY_WORDS
        .iter()
        .any(|word| contains_ignore_ascii_case(name, word))
}

/// Whether a value next to a secret keyword is random enough to be the secret itself:
/// at least 8 characters, two character classes, some entropy, and not a placeholder.
pub(crate) fn looks_secret(value: &str) -> bool {
    let classes = [
        value.bytes().any(|b| b.is_ascii_lowercase()),
        value.bytes().any(|b| b.is_ascii_uppercase()),
        value.bytes().any(|b| b.is_ascii_digit()),
        value.bytes().any(|b| !b.is_ascii_alphanumeric()),
    ];
    value.chars().count() >= 8
        && classes.iter().filter(|c| **c).count() >= 2
        && shannon_entropy(value) >= 2.5
        && !is_placeholder(value)
}

/// Whether the value of a member named like a secret (`"password": ...`) is one: the name
/// already says so, so only empty values, placeholders and short plain words are spared.
pub(crate) fn looks_like_keyed_secret(value: &str) -> bool {
    let value = value.trim();
    let plain_word = value.bytes().all(|b| b.is_ascii_lowercase()) && value.len() < 12;
    value.chars().count() >= 6 && !plain_word && !is_placeholder(value)
}

fn is_placeholder(value: &str) -> bool {
    value.starts_with(['$', '<', '{', '%'])
        || value.contains("***")
        || contains_ignore_ascii_case(value, "redacted")
        || contains_ignore_ascii_case(value, "xxxx")
        || value
            .chars()
            .all(|c| c == value.chars().next().unwrap_or(c))
}

/// Shannon entropy in bits per character.
pub(crate) fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|count| {
            let p = *count as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic_secret_regex() -> &'static str {
        PATTERNS
            .iter()
            .find(|pattern| pattern.entity == Entity::GenericSecret)
            .unwrap()
            .regex
    }

    #[test]
    fn aws_secret_keys_are_found_where_they_are_named() {
        let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        for text in [
            format!("aws_secret_access_key = {key}"),
            format!("{{\"SecretAccessKey\": \"{key}\"}}"),
            format!("AWS creds: AKIAIOSFODNN7EXAMPLE {key}"),
        ] {
            let start = text.find(key).unwrap();
            assert!(
                validate_aws_secret(&text, start, start + 40).is_some(),
                "{text}"
            );
        }
        let unnamed = format!("blob {key}");
        assert!(validate_aws_secret(&unnamed, 5, 45).is_none());
        let digest = "aws sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12";
        assert!(
            validate_aws_secret(digest, 9, 49).is_none(),
            "hex digests are not keys"
        );
        let longer = format!("aws {key}AAAA");
        assert!(
            validate_aws_secret(&longer, 4, 44).is_none(),
            "part of a longer run"
        );
    }

    #[test]
    fn github_checksum() {
        // crc32("123456789") is the CRC-32 check value 0xCBF43926.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let body = "abcdefghijklmnopqrstuvwxyz0123";
        let token = format!("ghp_{body}{}", base62_crc32(body));
        assert!(validate_github(&token, 0, token.len()).unwrap().validated);
        let forged = format!("ghp_{body}000000");
        let hit = validate_github(&forged, 0, forged.len()).unwrap();
        assert!(!hit.validated);
    }

    #[test]
    fn jwt_header_must_decode() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert!(validate_jwt(jwt, 0, jwt.len()).unwrap().validated);
        // A header that is base64 of JSON without `alg`.
        let no_alg = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.sig";
        assert_eq!(validate_jwt(no_alg, 0, no_alg.len()), None);
        let garbage = "eyJhbGciOiJIUzI1NiIsInR5cCI6.eyJzdWIiOiIxMjM0NTY3ODkwIn0.x";
        assert_eq!(validate_jwt(garbage, 0, garbage.len()), None);
    }

    #[test]
    fn generic_secret_needs_randomness() {
        let text = "password = \"Xk29_fLq8vZ\"";
        let regex = regex::Regex::new(generic_secret_regex()).unwrap();
        let m = regex.find(text).unwrap();
        let hit = validate_generic(text, m.start(), m.end()).unwrap();
        assert_eq!(&text[hit.start..hit.end], "Xk29_fLq8vZ");
        for value in [
            "aaaaaaaaaa",
            "${DB_PASSWORD}",
            "<redacted>",
            "********",
            "short1",
        ] {
            assert!(!looks_secret(value), "{value}");
        }
        assert!(looks_like_keyed_secret("hunter22"));
        assert!(!looks_like_keyed_secret("bearer"));
        assert!(!looks_like_keyed_secret("${TOKEN}"));
        assert!(secret_key_name("X-Api-Key"));
        assert!(secret_key_name("dbPassword"));
        assert!(!secret_key_name("username"));
    }

    #[test]
    fn url_credentials_cover_user_and_password() {
        let text = "postgres://admin:s3cr3t@db.internal:5432/app";
        let hit = validate_url_credentials(text, 0, text.find('@').unwrap() + 1).unwrap();
        assert_eq!(&text[hit.start..hit.end], "admin:s3cr3t");
    }

    #[test]
    fn sk_keys_must_look_random() {
        let key = "sk-proj-4fJ9aQ2mZ8xL1vB7nT3kR6wY0pD5sH";
        assert!(validate_sk_key(key, 0, key.len()).is_some());
        let words = "sk-this-is-not-a-real-key-at-all";
        assert!(validate_sk_key(words, 0, words.len()).is_none());
    }
}
