//! Agent and tool name patterns: anchored globs compiled once at load.
//!
//! Most patterns in real policies are plain names (`issue_refund`), `*`, or a prefix or suffix
//! (`db_*`, `*_file`). Those get string comparisons, which keeps a 100-rule evaluation under a
//! microsecond; anything else (`?`, `[...]`, `{a,b}`) is compiled by `globset` (a glob matched
//! against the whole name, so every pattern is anchored).
//!
//! Each pattern is also kept folded (see [`super::fold`]): restricting rules match the folded
//! name, so `Shell`, `shell` with a zero-width space or fullwidth `ｓｈｅｌｌ` cannot dodge
//! `deny: shell`; allow rules match the name exactly as written, so folding never widens an
//! allow.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::fold;

/// One compiled name pattern.
#[derive(Clone)]
pub enum Pattern {
    /// `*`: every name.
    Any,
    /// A name without glob metacharacters.
    Exact(String),
    /// `prefix*` with no other metacharacter.
    Prefix(String),
    /// `*suffix` with no other metacharacter.
    Suffix(String),
    /// Anything else, compiled by globset.
    Glob {
        /// The pattern as written.
        source: String,
        /// The compiled matcher.
        matcher: globset::GlobMatcher,
    },
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source())
    }
}

fn is_meta(ch: char) -> bool {
    matches!(ch, '*' | '?' | '[' | ']' | '{' | '}' | '\\' | '!')
}

impl Pattern {
    /// Compiles a pattern, or says why it is not a valid glob.
    pub fn compile(source: &str) -> Result<Self, String> {
        if source.is_empty() {
            return Err("empty name pattern (expected a name or a glob such as `db_*`)".into());
        }
        if source == "*" {
            return Ok(Pattern::Any);
        }
        if !source.contains(is_meta) {
            return Ok(Pattern::Exact(source.to_owned()));
        }
        if let Some(prefix) = source.strip_suffix('*') {
            if !prefix.contains(is_meta) {
                return Ok(Pattern::Prefix(prefix.to_owned()));
            }
        }
        if let Some(suffix) = source.strip_prefix('*') {
            if !suffix.contains(is_meta) {
                return Ok(Pattern::Suffix(suffix.to_owned()));
            }
        }
        let glob = globset::GlobBuilder::new(source)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map_err(|err| format!("invalid glob `{source}`: {}", err.kind()))?;
        Ok(Pattern::Glob {
            source: source.to_owned(),
            matcher: glob.compile_matcher(),
        })
    }

    /// Whether `name` matches the whole pattern.
    pub fn is_match(&self, name: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(exact) => exact == name,
            Pattern::Prefix(prefix) => name.starts_with(prefix.as_str()),
            Pattern::Suffix(suffix) => name.ends_with(suffix.as_str()),
            Pattern::Glob { matcher, .. } => matcher.is_match(name),
        }
    }

    /// The pattern as written.
    pub fn source(&self) -> String {
        match self {
            Pattern::Any => "*".into(),
            Pattern::Exact(exact) => exact.clone(),
            Pattern::Prefix(prefix) => format!("{prefix}*"),
            Pattern::Suffix(suffix) => format!("*{suffix}"),
            Pattern::Glob { source, .. } => source.clone(),
        }
    }
}

/// One pattern or a list of them (`tool: issue_refund` or `tool: [shell, "*_shell"]`): a name
/// matches when any pattern does.
#[derive(Debug, Clone)]
pub struct Patterns {
    written: Vec<Pattern>,
    folded: Vec<Pattern>,
}

impl Patterns {
    /// Every name.
    pub fn any() -> Self {
        Patterns {
            written: vec![Pattern::Any],
            folded: vec![Pattern::Any],
        }
    }

    fn new(written: Vec<Pattern>) -> Result<Self, String> {
        let folded = written
            .iter()
            .map(|pattern| Pattern::compile(&fold(&pattern.source())))
            .collect::<Result<_, _>>()?;
        Ok(Patterns { written, folded })
    }

    /// Whether `name` matches a pattern exactly as written.
    pub fn is_match(&self, name: &str) -> bool {
        self.written.iter().any(|pattern| pattern.is_match(name))
    }

    /// Whether a folded name matches a folded pattern.
    pub fn is_match_folded(&self, folded_name: &str) -> bool {
        self.folded
            .iter()
            .any(|pattern| pattern.is_match(folded_name))
    }

    /// The patterns as written, or folded.
    pub fn patterns(&self, folded: bool) -> &[Pattern] {
        if folded {
            &self.folded
        } else {
            &self.written
        }
    }
}

struct PatternsVisitor;

impl<'de> Visitor<'de> for PatternsVisitor {
    type Value = Patterns;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name pattern or a list of name patterns")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Patterns, E> {
        Pattern::compile(value)
            .and_then(|pattern| Patterns::new(vec![pattern]))
            .map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Patterns, A::Error> {
        let mut patterns = Vec::new();
        while let Some(source) = seq.next_element::<PatternSource>()? {
            patterns.push(source.0);
        }
        if patterns.is_empty() {
            return Err(de::Error::custom(
                "empty pattern list (expected at least one name or glob)",
            ));
        }
        Patterns::new(patterns).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Patterns {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PatternsVisitor)
    }
}

/// One pattern inside a list; compiled inside the visitor so a bad glob is reported at its
/// own line and column.
struct PatternSource(Pattern);

struct PatternVisitor;

impl Visitor<'_> for PatternVisitor {
    type Value = PatternSource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name pattern")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<PatternSource, E> {
        Pattern::compile(value)
            .map(PatternSource)
            .map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for PatternSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(PatternVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(source: &str) -> Pattern {
        Pattern::compile(source).unwrap()
    }

    #[test]
    fn fast_paths_are_chosen_for_common_shapes() {
        assert!(matches!(compiled("*"), Pattern::Any));
        assert!(matches!(compiled("issue_refund"), Pattern::Exact(_)));
        assert!(matches!(compiled("db_*"), Pattern::Prefix(_)));
        assert!(matches!(compiled("*_file"), Pattern::Suffix(_)));
        assert!(matches!(compiled("d?_*"), Pattern::Glob { .. }));
    }

    #[test]
    fn globs_are_anchored_at_both_ends() {
        let cases = [
            ("issue_refund", "issue_refund", true),
            ("issue_refund", "issue_refund_v2", false),
            ("db_*", "db_query", true),
            ("db_*", "my_db_query", false),
            ("*_file", "delete_file", true),
            ("*_file", "delete_file_now", false),
            ("d?lete_*", "delete_file", true),
            ("d?lete_*", "ddelete_file", false),
            ("{shell,bash}", "bash", true),
            ("{shell,bash}", "zsh", false),
            ("[sb]ash", "bash", true),
            ("[sb]ash", "dash", false),
            ("*", "", true),
            ("a*b", "a/x/b", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                compiled(pattern).is_match(name),
                expected,
                "{pattern} vs {name}"
            );
        }
    }

    #[test]
    fn bad_globs_and_empty_patterns_are_rejected() {
        assert!(Pattern::compile("[abc").unwrap_err().contains("[abc"));
        assert!(Pattern::compile("{a,b").is_err());
        assert!(Pattern::compile("").is_err());
    }

    #[test]
    fn folded_matching_sees_through_case_and_look_alikes() {
        let patterns = Patterns::new(vec![compiled("Shell"), compiled("db_*")]).unwrap();
        for name in [
            "shell",
            "SHELL",
            "shell\u{200b}",
            "\u{ff53}\u{ff48}\u{ff45}\u{ff4c}\u{ff4c}",
            "DB_drop",
        ] {
            assert!(patterns.is_match_folded(&fold(name)), "{name:?}");
        }
        assert!(!patterns.is_match("shell"));
        assert!(patterns.is_match("Shell"));
        assert!(!patterns.is_match_folded(&fold("shell2")));
    }

    #[test]
    fn source_round_trips() {
        for source in ["*", "x", "db_*", "*_file", "d?_*"] {
            assert_eq!(compiled(source).source(), source);
        }
    }
}
