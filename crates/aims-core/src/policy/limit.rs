//! Rate limits and budgets as written on a rule: what is counted, over which sliding window,
//! and per what key. The counting itself lives in [`crate::guard`], which owns the state.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::condition::{Pointer, PointerSource};

/// A sliding window length in milliseconds, written `30s`, `15m`, `1h`, `1d` or `500ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window(pub u64);

impl Window {
    /// Parses `<positive integer><unit>` with unit `ms`, `s`, `m`, `h` or `d`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits_end = text
            .find(|ch: char| !ch.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(digits_end);
        let unit_ms: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => {
                return Err(format!(
                    "invalid window `{text}` (expected a number and a unit ms, s, m, h or d, such as `1h`)"
                ))
            }
        };
        let count: u64 = digits
            .parse()
            .ok()
            .filter(|count| *count > 0)
            .ok_or_else(|| {
                format!("invalid window `{text}` (expected a positive length such as `1h`)")
            })?;
        count
            .checked_mul(unit_ms)
            .map(Window)
            .ok_or_else(|| format!("window `{text}` is too long"))
    }
}

impl fmt::Display for Window {
    /// The largest unit that divides the window: `1h`, `90m`, `1500ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1_000, "s"),
        ];
        for (unit_ms, unit) in units {
            if self.0.is_multiple_of(unit_ms) {
                return write!(f, "{}{unit}", self.0 / unit_ms);
            }
        }
        write!(f, "{}ms", self.0)
    }
}

struct WindowVisitor;

impl Visitor<'_> for WindowVisitor {
    type Value = Window;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a window such as `1h`, `15m` or `30s`")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Window, E> {
        Window::parse(value).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(WindowVisitor)
    }
}

/// One component of a limit's key: a separate counter is kept per distinct value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyPart {
    /// The calling agent.
    Agent,
    /// The tool called.
    Tool,
    /// The conversation (calls without one share a counter).
    Conversation,
    /// The AI system (calls without one share a counter).
    AiSystem,
}

fn default_key() -> Vec<KeyPart> {
    vec![KeyPart::Agent, KeyPart::Tool]
}

/// At most `max` calls per sliding `window`, per key.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// The most calls allowed in any window.
    pub max: u64,
    /// The window.
    pub window: Window,
    /// What a counter is kept per (default: agent and tool).
    #[serde(default = "default_key")]
    pub per: Vec<KeyPart>,
}

/// At most `max` as the sum of a numeric argument per sliding `window`, per key.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// The argument summed (a JSON pointer into the call's arguments).
    pub sum: PointerSource,
    /// The most the sum may reach in any window.
    pub max: f64,
    /// The window.
    pub window: Window,
    /// What a sum is kept per (default: agent and tool).
    #[serde(default = "default_key")]
    pub per: Vec<KeyPart>,
}

impl Budget {
    /// The pointer to the summed argument.
    pub fn pointer(&self) -> &Pointer {
        &self.sum.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_with_units() {
        assert_eq!(Window::parse("500ms"), Ok(Window(500)));
        assert_eq!(Window::parse("30s"), Ok(Window(30_000)));
        assert_eq!(Window::parse("15m"), Ok(Window(900_000)));
        assert_eq!(Window::parse("1h"), Ok(Window(3_600_000)));
        assert_eq!(Window::parse("2d"), Ok(Window(172_800_000)));
        for text in ["1h", "90m", "1500ms", "2d", "45s"] {
            assert_eq!(Window::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "",
            "h",
            "0h",
            "1",
            "1w",
            "-1h",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(Window::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_default_to_per_agent_and_tool() {
        let rate: RateLimit = serde_yaml_ng::from_str("{max: 3, window: 1m}").unwrap();
        assert_eq!(rate.per, vec![KeyPart::Agent, KeyPart::Tool]);
        let budget: Budget =
            serde_yaml_ng::from_str("{sum: /amount, max: 1000, window: 1h, per: [agent]}").unwrap();
        assert_eq!(budget.pointer().as_str(), "/amount");
        assert_eq!(budget.per, vec![KeyPart::Agent]);
        assert!(serde_yaml_ng::from_str::<Budget>("{sum: amount, max: 1, window: 1h}").is_err());
    }
}
