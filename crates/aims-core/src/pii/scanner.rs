//! The scanner: every enabled detector's candidate regex runs in one `RegexSet` pass over the
//! text; only the patterns that matched are run again to locate candidates, and only those
//! candidates reach the validators. Overlapping findings are resolved so that each byte of the
//! text belongs to at most one finding. Tool-call arguments are mostly short texts that hold
//! nothing (`"EUR"`, `"o-1"`, `50`): a text shorter than the shortest match of every pattern
//! and deny-list word (derived from the patterns' syntax) is not searched at all, and one that
//! no pattern matches costs a single `is_match` pass.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

use super::pattern::{default_tier, isolated, Hit, Pattern, Tier};
use super::{cards, crypto, iban, national_ids, network, phone, secrets, web, Entity, PiiError};

/// Cache for the prefilter's lazy DFA. The default (2 MiB) is too small for every pattern at
/// once: the DFA keeps clearing its cache and the scan runs several times slower.
const PREFILTER_DFA_BYTES: usize = 64 << 20;

/// What a scanner looks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerConfig {
    /// The entities to detect; `None` means all of them.
    #[serde(default)]
    pub entities: Option<BTreeSet<Entity>>,
    /// Extra words or phrases to report as [`Entity::DenyList`] (case-insensitive, whole
    /// words), e.g. project code names.
    #[serde(default)]
    pub deny_list: Vec<String>,
}

/// One piece of PII or one secret found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What was found.
    pub entity: Entity,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// A check beyond the pattern confirmed it: a checksum (Luhn, mod 97, mod 11, Base58Check,
    /// Bech32, EIP-55, GitHub CRC32), a parser (IP addresses, phone metadata) or a decodable
    /// structure (JWT header, complete PEM block).
    pub validated: bool,
}

/// A compiled, immutable detector. Build it once and share it: scanning takes `&self`.
#[derive(Debug, Clone)]
pub struct Scanner {
    detectors: Arc<Detectors>,
    deny_list: Option<Arc<AhoCorasick>>,
    /// Length in bytes of the shortest text any pattern or deny-list word matches: shorter
    /// texts hold no finding.
    shortest_match: usize,
}

#[derive(Debug)]
struct Detectors {
    prefilter: RegexSet,
    patterns: Vec<(Pattern, Regex)>,
    /// Length in bytes of the shortest text any of `patterns` matches (`usize::MAX` when none
    /// can match anything).
    shortest_match: usize,
}

/// Every detector family's patterns.
fn all_patterns() -> impl Iterator<Item = &'static Pattern> {
    [
        cards::PATTERNS,
        iban::PATTERNS,
        national_ids::PATTERNS,
        network::PATTERNS,
        phone::PATTERNS,
        crypto::PATTERNS,
        web::PATTERNS,
        secrets::PATTERNS,
    ]
    .into_iter()
    .flatten()
}

impl Detectors {
    fn compile(enabled: impl Fn(Entity) -> bool) -> Result<Self, PiiError> {
        let selected: Vec<Pattern> = all_patterns()
            .filter(|pattern| enabled(pattern.entity))
            .copied()
            .collect();
        let mut patterns = Vec::with_capacity(selected.len());
        let mut shortest_match = usize::MAX;
        for pattern in selected {
            let regex = Regex::new(pattern.regex).map_err(|err| PiiError::Pattern {
                entity: pattern.entity,
                reason: err.to_string(),
            })?;
            if let Some(len) = shortest_match_len(&pattern)? {
                shortest_match = shortest_match.min(len);
            }
            patterns.push((pattern, regex));
        }
        let prefilter = RegexSetBuilder::new(patterns.iter().map(|(pattern, _)| pattern.regex))
            .dfa_size_limit(PREFILTER_DFA_BYTES)
            .build()
            .map_err(|err| PiiError::Prefilter(err.to_string()))?;
        Ok(Self {
            prefilter,
            patterns,
            shortest_match,
        })
    }

    /// The all-entities detector set, compiled once per process.
    fn shared_all() -> Result<Arc<Self>, PiiError> {
        static ALL: OnceLock<Result<Arc<Detectors>, String>> = OnceLock::new();
        ALL.get_or_init(|| {
            Detectors::compile(|_| true)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|reason| PiiError::Pattern {
            entity: Entity::CreditCard,
            reason,
        })
    }
}

impl Scanner {
    /// Compiles a scanner. Scanners for all entities share one compiled pattern set.
    pub fn new(config: ScannerConfig) -> Result<Self, PiiError> {
        let detectors = match &config.entities {
            None => Detectors::shared_all()?,
            Some(entities) => Arc::new(Detectors::compile(|entity| entities.contains(&entity))?),
        };
        let deny_list = compile_deny_list(&config.deny_list)?.map(Arc::new);
        // The deny list matches its words ASCII-case-insensitively: a match is as long as the
        // (trimmed) word.
        let shortest_word = config.deny_list.iter().map(|word| word.trim().len()).min();
        let shortest_match = shortest_word.map_or(detectors.shortest_match, |word| {
            word.min(detectors.shortest_match)
        });
        Ok(Self {
            detectors,
            deny_list,
            shortest_match,
        })
    }

    /// Every finding in `text`, ordered by start offset, never overlapping.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        if text.len() < self.shortest_match {
            return Vec::new();
        }
        let mut candidates = Vec::new();
        // Most texts match no pattern: `is_match` says so without the allocation and the
        // overlapping search of `matches`.
        let prefilter = &self.detectors.prefilter;
        if prefilter.is_match(text) {
            for index in prefilter.matches(text).iter() {
                let (pattern, regex) = &self.detectors.patterns[index];
                for found in regex.find_iter(text) {
                    if let Some(hit) = (pattern.validate)(text, found.start(), found.end()) {
                        candidates.push(Candidate::new(pattern.entity, hit));
                    }
                }
            }
        }
        if let Some(deny_list) = &self.deny_list {
            for found in deny_list.find_iter(text) {
                if isolated(text, found.start(), found.end()) {
                    let hit = Hit::structural(found.start(), found.end());
                    candidates.push(Candidate::new(Entity::DenyList, hit));
                }
            }
        }
        resolve_overlaps(candidates)
    }

    /// Whether this scanner reports `entity` at all.
    pub fn detects(&self, entity: Entity) -> bool {
        match entity {
            Entity::DenyList => self.deny_list.is_some(),
            _ => self
                .detectors
                .patterns
                .iter()
                .any(|(pattern, _)| pattern.entity == entity),
        }
    }

    /// `text` with every finding the policy covers masked.
    pub fn mask(&self, text: &str, policy: &super::MaskPolicy) -> String {
        let findings = self.scan(text);
        policy.apply(text, &findings)
    }

    /// Findings in a string that is the value of the JSON member `key`: a member named like a
    /// secret (`password`, `apiKey`, ...) whose value holds nothing more specific is reported
    /// whole as a [`Entity::GenericSecret`] when it looks like one.
    pub(crate) fn scan_member(&self, key: Option<&str>, text: &str) -> Vec<Finding> {
        let findings = self.scan(text);
        // Cheapest test first: most values are too short or too plain to be a keyed secret.
        let secret_member = || {
            key.is_some_and(|key| {
                secrets::looks_like_keyed_secret(text) && secrets::secret_key_name(key)
            }) && self.detects(Entity::GenericSecret)
        };
        if findings.is_empty() && secret_member() {
            return vec![Finding {
                entity: Entity::GenericSecret,
                start: 0,
                end: text.len(),
                validated: false,
            }];
        }
        findings
    }
}

impl Default for Scanner {
    /// A scanner for every entity, without a deny list.
    fn default() -> Self {
        match Scanner::new(ScannerConfig::default()) {
            Ok(scanner) => scanner,
            // The built-in patterns are constants compiled by the tests; failing here is a
            // defect in this crate, not bad input.
            Err(err) => panic!("built-in PII patterns do not compile: {err}"),
        }
    }
}

/// Length in bytes of the shortest text `pattern` matches, from its syntax tree; `None` when
/// it matches nothing at all.
fn shortest_match_len(pattern: &Pattern) -> Result<Option<usize>, PiiError> {
    let hir = regex_syntax::parse(pattern.regex).map_err(|err| PiiError::Pattern {
        entity: pattern.entity,
        reason: err.to_string(),
    })?;
    Ok(hir.properties().minimum_len())
}

fn compile_deny_list(words: &[String]) -> Result<Option<AhoCorasick>, PiiError> {
    if words.is_empty() {
        return Ok(None);
    }
    if let Some(index) = words.iter().position(|word| word.trim().is_empty()) {
        return Err(PiiError::EmptyDenyWord { index });
    }
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(words.iter().map(|word| word.trim()))
        .map(Some)
        .map_err(|err| PiiError::DenyList(err.to_string()))
}

/// A validated candidate with its precedence.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    finding: Finding,
    tier: Tier,
}

impl Candidate {
    fn new(entity: Entity, hit: Hit) -> Self {
        Self {
            finding: Finding {
                entity,
                start: hit.start,
                end: hit.end,
                validated: hit.validated,
            },
            tier: hit.tier.unwrap_or_else(|| default_tier(entity)),
        }
    }
}

/// Keeps, among overlapping candidates, the strongest: lower tier first, then validated, then
/// longer, then earlier. Greedy over that order with an interval map: O(n log n).
fn resolve_overlaps(mut candidates: Vec<Candidate>) -> Vec<Finding> {
    candidates.sort_by_key(|c| {
        let f = c.finding;
        (
            c.tier,
            !f.validated,
            std::cmp::Reverse(f.end - f.start),
            f.start,
            f.entity,
        )
    });
    let mut taken: BTreeMap<usize, Finding> = BTreeMap::new();
    for candidate in candidates {
        let finding = candidate.finding;
        if finding.start >= finding.end {
            continue;
        }
        let overlaps_before = taken
            .range(..finding.end)
            .next_back()
            .is_some_and(|(_, before)| before.end > finding.start);
        if !overlaps_before {
            taken.insert(finding.start, finding);
        }
    }
    taken.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entities(text: &str) -> Vec<(Entity, &str)> {
        Scanner::default()
            .scan(text)
            .into_iter()
            .map(|f| (f.entity, &text[f.start..f.end]))
            .collect()
    }

    #[test]
    fn finds_each_first_entity_in_running_text() {
        let text = "Mail john.doe@example.com, card 4111 1111 1111 1111, \
                    IBAN DE89 3704 0044 0532 0130 00, SSN 536-90-4399, key AKIAIOSFODNN7EXAMPLE.";
        assert_eq!(
            entities(text),
            vec![
                (Entity::EmailAddress, "john.doe@example.com"),
                (Entity::CreditCard, "4111 1111 1111 1111"),
                (Entity::IbanCode, "DE89 3704 0044 0532 0130 00"),
                (Entity::UsSsn, "536-90-4399"),
                (Entity::AwsAccessKey, "AKIAIOSFODNN7EXAMPLE"),
            ]
        );
    }

    #[test]
    fn finds_phones_addresses_and_wallets() {
        let text =
            "Call +44 20 7946 0958 or (415) 555-0132 from 10.0.0.7 / fe80::1ff:fe23:4567:890a \
                    (MAC 00:1A:2B:3C:4D:5E), send to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa.";
        assert_eq!(
            entities(text),
            vec![
                (Entity::PhoneNumber, "+44 20 7946 0958"),
                (Entity::PhoneNumber, "(415) 555-0132"),
                (Entity::IpAddress, "10.0.0.7"),
                (Entity::IpAddress, "fe80::1ff:fe23:4567:890a"),
                (Entity::MacAddress, "00:1A:2B:3C:4D:5E"),
                (Entity::Crypto, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            ]
        );
    }

    #[test]
    fn plain_text_and_checksum_failures_yield_nothing() {
        assert!(entities("The quick brown fox jumps over the lazy dog. Version 1.2.3.").is_empty());
        assert!(
            entities("Built 2024-05-17 at 09:30:00, 48213 rows, std::vec::Vec, 3.14159").is_empty()
        );
        assert!(
            entities("card 4111 1111 1111 1112 and IBAN DE89 3704 0044 0532 0130 01").is_empty()
        );
    }

    #[test]
    fn email_wins_over_the_url_inside_it() {
        assert_eq!(
            entities("write to ops@example.com or visit example.com"),
            vec![
                (Entity::EmailAddress, "ops@example.com"),
                (Entity::Url, "example.com"),
            ]
        );
    }

    #[test]
    fn overlaps_resolve_by_tier_then_validation_then_length() {
        let weak = Candidate::new(Entity::UkNhs, Hit::validated(0, 10).weak());
        let phone = Candidate::new(Entity::PhoneNumber, Hit::validated(0, 12));
        let url = Candidate::new(Entity::Url, Hit::structural(0, 30));
        let email = Candidate::new(Entity::EmailAddress, Hit::structural(5, 20));
        let kept = resolve_overlaps(vec![weak, url, phone, email]);
        assert_eq!(
            kept.iter().map(|f| f.entity).collect::<Vec<_>>(),
            vec![Entity::PhoneNumber]
        );
    }

    #[test]
    fn config_restricts_entities_and_adds_deny_words() {
        let scanner = Scanner::new(ScannerConfig {
            entities: Some([Entity::EmailAddress].into()),
            deny_list: vec!["Project Falcon".into()],
        })
        .unwrap();
        let text = "project falcon: a@b.io 4111111111111111 Project Falconry";
        let found: Vec<_> = scanner
            .scan(text)
            .into_iter()
            .map(|f| (f.entity, &text[f.start..f.end]))
            .collect();
        assert_eq!(
            found,
            vec![
                (Entity::DenyList, "project falcon"),
                (Entity::EmailAddress, "a@b.io")
            ]
        );
        assert!(!scanner.detects(Entity::CreditCard));
        let err = Scanner::new(ScannerConfig {
            entities: None,
            deny_list: vec![" ".into()],
        })
        .unwrap_err();
        assert!(matches!(err, PiiError::EmptyDenyWord { index: 0 }));
    }

    #[test]
    fn short_texts_are_skipped_but_a_shorter_deny_word_is_still_found() {
        let plain = Scanner::default();
        assert!(
            plain.shortest_match > 1,
            "the skip must not hide a 1-byte word"
        );
        assert!(plain.scan("7").is_empty());
        let with_word = Scanner::new(ScannerConfig {
            entities: None,
            deny_list: vec![" Z ".into()],
        })
        .unwrap();
        assert_eq!(with_word.shortest_match, 1);
        let found = |text: &str| -> Vec<(Entity, usize, usize)> {
            with_word
                .scan(text)
                .into_iter()
                .map(|f| (f.entity, f.start, f.end))
                .collect()
        };
        assert_eq!(found("z"), vec![(Entity::DenyList, 0, 1)]);
        assert_eq!(found("Z 7"), vec![(Entity::DenyList, 0, 1)]);
        // Restricting the entities raises the bound to the remaining patterns' shortest match,
        // and the shortest texts those patterns find are still scanned.
        let email = Scanner::new(ScannerConfig {
            entities: Some([Entity::EmailAddress].into()),
            deny_list: vec![],
        })
        .unwrap();
        assert!(email.shortest_match > plain.shortest_match);
        assert!(email.shortest_match <= "a@b.io".len());
        assert_eq!(email.scan("a@b.io").len(), 1);
    }

    #[test]
    fn config_parses_entity_names() {
        let config: ScannerConfig =
            serde_json::from_str(r#"{"entities": ["EMAIL_ADDRESS", "IBAN_CODE"]}"#).unwrap();
        assert_eq!(
            config.entities,
            Some([Entity::EmailAddress, Entity::IbanCode].into())
        );
        let err = serde_json::from_str::<ScannerConfig>(r#"{"entities": ["EMAIL"]}"#).unwrap_err();
        assert!(err.to_string().contains("EMAIL"));
    }
}
