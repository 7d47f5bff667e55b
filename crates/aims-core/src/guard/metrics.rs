//! Guard metrics: decision counters by phase, verdict, tool and agent, and an evaluation
//! latency histogram; snapshots as data and as Prometheus text.
//!
//! Counters are atomics behind a read-mostly lock, so concurrent checks only contend when a
//! new agent/tool pair first appears. Pairs beyond [`MAX_SERIES`] are counted under `_other`
//! so a caller inventing tool names cannot grow memory without bound, and label values longer
//! than [`MAX_LABEL_BYTES`] are counted under `_oversized`, so neither can one long name.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Phase, Verdict};

/// The most distinct (agent, tool) pairs tracked before new ones go to `_other`.
pub const MAX_SERIES: usize = 1024;

/// The longest agent or tool name kept as a label value (the guard's default id limit).
pub const MAX_LABEL_BYTES: usize = 256;

fn label(value: &str) -> &str {
    if value.len() <= MAX_LABEL_BYTES {
        value
    } else {
        "_oversized"
    }
}

/// Upper bounds of the latency buckets, in nanoseconds.
const BUCKETS_NS: [u64; 12] = [
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

const VERDICTS: [Verdict; 5] = [
    Verdict::Allow,
    Verdict::Warn,
    Verdict::Redact,
    Verdict::RequireApproval,
    Verdict::Deny,
];

fn verdict_slot(verdict: Verdict) -> usize {
    verdict as usize
}

fn phase_slot(phase: Phase) -> usize {
    match phase {
        Phase::Pre => 0,
        Phase::Post => 1,
    }
}

#[derive(Debug, Default)]
struct Counts([[AtomicU64; 5]; 2]);

/// Live metrics, updated by every decision.
#[derive(Debug, Default)]
pub struct Metrics {
    series: RwLock<HashMap<String, HashMap<String, Counts>>>,
    series_len: AtomicU64,
    buckets: [AtomicU64; BUCKETS_NS.len() + 1],
    latency_sum_ns: AtomicU64,
}

impl Metrics {
    /// Counts one decision and its evaluation time.
    pub(crate) fn observe(&self, phase: Phase, verdict: Verdict, agent: &str, tool: &str, ns: u64) {
        let bucket = BUCKETS_NS
            .iter()
            .position(|bound| ns <= *bound)
            .unwrap_or(BUCKETS_NS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ns.fetch_add(ns, Ordering::Relaxed);
        let (agent, tool) = (label(agent), label(tool));
        let bump = |counts: &Counts| {
            counts.0[phase_slot(phase)][verdict_slot(verdict)].fetch_add(1, Ordering::Relaxed);
        };
        let Ok(series) = self.series.read() else {
            return;
        };
        if let Some(counts) = series.get(agent).and_then(|tools| tools.get(tool)) {
            bump(counts);
            return;
        }
        drop(series);
        let Ok(mut series) = self.series.write() else {
            return;
        };
        let full = self.series_len.load(Ordering::Relaxed) as usize >= MAX_SERIES;
        let (agent, tool) = if full {
            ("_other", "_other")
        } else {
            (agent, tool)
        };
        let tools = series.entry(agent.to_owned()).or_default();
        if !tools.contains_key(tool) {
            self.series_len.fetch_add(1, Ordering::Relaxed);
        }
        bump(tools.entry(tool.to_owned()).or_default());
    }

    /// A consistent-enough copy of the counters (each value is read atomically).
    pub fn snapshot(&self) -> MetricsSnapshot {
        let mut decisions = Vec::new();
        if let Ok(series) = self.series.read() {
            for (agent, tools) in series.iter() {
                for (tool, counts) in tools {
                    for phase in [Phase::Pre, Phase::Post] {
                        for verdict in VERDICTS {
                            let count = counts.0[phase_slot(phase)][verdict_slot(verdict)]
                                .load(Ordering::Relaxed);
                            if count > 0 {
                                decisions.push(DecisionCount {
                                    agent: agent.clone(),
                                    tool: tool.clone(),
                                    phase,
                                    verdict,
                                    count,
                                });
                            }
                        }
                    }
                }
            }
        }
        decisions.sort_by(|a, b| {
            (&a.agent, &a.tool, a.phase as u8, a.verdict).cmp(&(
                &b.agent,
                &b.tool,
                b.phase as u8,
                b.verdict,
            ))
        });
        let mut cumulative = 0;
        let buckets = self
            .buckets
            .iter()
            .enumerate()
            .map(|(i, count)| {
                cumulative += count.load(Ordering::Relaxed);
                LatencyBucket {
                    le_ns: BUCKETS_NS.get(i).copied(),
                    count: cumulative,
                }
            })
            .collect();
        MetricsSnapshot {
            decisions,
            latency: LatencySnapshot {
                buckets,
                count: cumulative,
                sum_ns: self.latency_sum_ns.load(Ordering::Relaxed),
            },
        }
    }
}

/// Metrics at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricsSnapshot {
    /// Non-zero decision counts.
    pub decisions: Vec<DecisionCount>,
    /// Evaluation latency.
    pub latency: LatencySnapshot,
}

/// Decisions of one phase and verdict for one agent and tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionCount {
    /// `gen_ai.agent.id` (or `_other`).
    pub agent: String,
    /// `gen_ai.tool.name` (or `_other`).
    pub tool: String,
    /// Pre-call or post-call.
    pub phase: Phase,
    /// The verdict.
    pub verdict: Verdict,
    /// How many.
    pub count: u64,
}

/// The latency histogram, cumulative as in Prometheus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LatencySnapshot {
    /// Cumulative counts; the last bucket (no bound) counts everything.
    pub buckets: Vec<LatencyBucket>,
    /// Number of observations.
    pub count: u64,
    /// Sum of observations in nanoseconds.
    pub sum_ns: u64,
}

/// Observations at or below `le_ns` (all of them when `le_ns` is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LatencyBucket {
    /// Upper bound in nanoseconds; absent for `+Inf`.
    pub le_ns: Option<u64>,
    /// Cumulative count.
    pub count: u64,
}

impl MetricsSnapshot {
    /// The Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP aims_guard_decisions_total Guard decisions by phase, verdict, tool and agent.\n");
        out.push_str("# TYPE aims_guard_decisions_total counter\n");
        for d in &self.decisions {
            let phase = match d.phase {
                Phase::Pre => "pre",
                Phase::Post => "post",
            };
            let _ = writeln!(
                out,
                "aims_guard_decisions_total{{agent=\"{}\",tool=\"{}\",phase=\"{phase}\",verdict=\"{}\"}} {}",
                escape(&d.agent),
                escape(&d.tool),
                d.verdict.as_str(),
                d.count
            );
        }
        out.push_str("# HELP aims_guard_evaluation_seconds Time the guard took to decide.\n");
        out.push_str("# TYPE aims_guard_evaluation_seconds histogram\n");
        for bucket in &self.latency.buckets {
            let le = match bucket.le_ns {
                Some(ns) => format!("{}", ns as f64 / 1e9),
                None => "+Inf".to_owned(),
            };
            let _ = writeln!(
                out,
                "aims_guard_evaluation_seconds_bucket{{le=\"{le}\"}} {}",
                bucket.count
            );
        }
        let _ = writeln!(
            out,
            "aims_guard_evaluation_seconds_sum {}",
            self.latency.sum_ns as f64 / 1e9
        );
        let _ = writeln!(
            out,
            "aims_guard_evaluation_seconds_count {}",
            self.latency.count
        );
        out
    }
}

/// Label values escape backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_pair_phase_and_verdict_and_buckets_latency() {
        let metrics = Metrics::default();
        metrics.observe(Phase::Pre, Verdict::Allow, "a", "t", 800);
        metrics.observe(Phase::Pre, Verdict::Allow, "a", "t", 3_000);
        metrics.observe(Phase::Pre, Verdict::Deny, "a", "shell", 200_000_000);
        metrics.observe(Phase::Post, Verdict::Redact, "a", "t", 1_000);
        let snapshot = metrics.snapshot();
        let counts: Vec<(&str, Phase, Verdict, u64)> = snapshot
            .decisions
            .iter()
            .map(|d| (d.tool.as_str(), d.phase, d.verdict, d.count))
            .collect();
        assert_eq!(
            counts,
            [
                ("shell", Phase::Pre, Verdict::Deny, 1),
                ("t", Phase::Pre, Verdict::Allow, 2),
                ("t", Phase::Post, Verdict::Redact, 1),
            ]
        );
        assert_eq!(snapshot.latency.count, 4);
        assert_eq!(snapshot.latency.buckets[0].count, 2);
        assert_eq!(snapshot.latency.buckets[1].count, 2);
        assert_eq!(snapshot.latency.buckets[2].count, 3);
        assert_eq!(snapshot.latency.buckets.last().unwrap().count, 4);
        assert_eq!(snapshot.latency.sum_ns, 200_004_800);
    }

    #[test]
    fn prometheus_text_is_well_formed_and_escaped() {
        let metrics = Metrics::default();
        metrics.observe(Phase::Pre, Verdict::RequireApproval, "a\"b", "t\\x", 5);
        let text = metrics.snapshot().prometheus();
        assert!(text.contains(
            "aims_guard_decisions_total{agent=\"a\\\"b\",tool=\"t\\\\x\",phase=\"pre\",verdict=\"require_approval\"} 1\n"
        ));
        assert!(text.contains("aims_guard_evaluation_seconds_bucket{le=\"0.000001\"} 1\n"));
        assert!(text.contains("aims_guard_evaluation_seconds_bucket{le=\"+Inf\"} 1\n"));
        assert!(text.contains("aims_guard_evaluation_seconds_count 1\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn huge_names_do_not_reach_the_exposition() {
        let metrics = Metrics::default();
        let huge = "x".repeat(1 << 20);
        for i in 0..1_100 {
            metrics.observe(Phase::Pre, Verdict::Deny, &format!("{huge}{i}"), &huge, 1);
        }
        let text = metrics.snapshot().prometheus();
        assert!(text.len() < 4_096, "{} bytes", text.len());
        assert!(text.contains(
            "agent=\"_oversized\",tool=\"_oversized\",phase=\"pre\",verdict=\"deny\"} 1100"
        ));
    }

    #[test]
    fn series_are_capped() {
        let metrics = Metrics::default();
        for i in 0..MAX_SERIES + 10 {
            metrics.observe(Phase::Pre, Verdict::Deny, "a", &format!("tool{i}"), 1);
        }
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.decisions.len(), MAX_SERIES + 1);
        let other = snapshot
            .decisions
            .iter()
            .find(|d| d.tool == "_other")
            .unwrap();
        assert_eq!(other.count, 10);
    }
}
