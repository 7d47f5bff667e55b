//! Anomaly monitoring: per agent, the rate of denied calls and the rate of calls sent for
//! approval, each followed by an EWMA (what the rate is now) and a Bernoulli CUSUM (whether it
//! has shifted up from the agent's baseline).
//!
//! Each guard decision is one observation per signal: 1 when the verdict is the signal's
//! (deny, or require_approval), else 0. The CUSUM accumulates the log-likelihood ratio of
//! "rate is `p1`" against "rate is the baseline `p0`" and raises an alarm when it passes `h`;
//! see `docs/oversight.md` for the parameters and how they were chosen.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::guard::Verdict;

/// The tuning of every detector. Defaults are documented (and justified) in `docs/oversight.md`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnomalyConfig {
    /// Observations used to learn an agent's baseline rate before any alarm can be raised.
    pub warmup: u64,
    /// Weight of each new observation in the slowly adapting baseline (after warm-up).
    pub baseline_lambda: f64,
    /// Weight of each new observation in the current-rate EWMA.
    pub rate_lambda: f64,
    /// Floor of the baseline rate: keeps the likelihood ratio finite for agents never denied.
    pub min_rate: f64,
    /// The shift to detect: `p1 = max(p0 * shift_ratio, p0 + min_shift)`, capped at 0.99.
    pub shift_ratio: f64,
    /// See `shift_ratio`.
    pub min_shift: f64,
    /// The CUSUM decision threshold `h` (in nats of evidence).
    pub threshold: f64,
    /// A detected shift whose current rate is at least this is raised as an incident, not a
    /// warning.
    pub incident_rate: f64,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self {
            warmup: 200,
            baseline_lambda: 0.002,
            rate_lambda: 0.05,
            min_rate: 0.01,
            shift_ratio: 3.0,
            min_shift: 0.05,
            threshold: 8.0,
            incident_rate: 0.5,
        }
    }
}

/// Above this baseline no upward shift is looked for: `p1` would be squeezed against 1.
const MAX_BASELINE: f64 = 0.9;
const MAX_SHIFTED: f64 = 0.99;

/// What a detector watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// The share of the agent's calls that were denied.
    DenyRate,
    /// The share of the agent's calls sent for human approval.
    ApprovalRequestRate,
}

impl Signal {
    /// The snake_case name used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::DenyRate => "deny_rate",
            Signal::ApprovalRequestRate => "approval_request_rate",
        }
    }
}

/// How serious a detected shift is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyLevel {
    /// A shift: worth a look.
    Warning,
    /// A shift to a rate at or above `incident_rate`: open (or extend) an incident.
    Incident,
}

/// A detected upward shift of one agent's rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// The agent.
    pub agent_id: String,
    /// Which rate shifted.
    pub signal: Signal,
    /// Warning or incident.
    pub level: AnomalyLevel,
    /// The agent's baseline rate `p0`.
    pub baseline_rate: f64,
    /// The rate now (EWMA).
    pub current_rate: f64,
    /// The CUSUM statistic when the alarm fired.
    pub cusum: f64,
    /// Observations of this signal for this agent so far.
    pub observations: u64,
}

/// What a detector knows at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateSnapshot {
    /// Observations so far.
    pub observations: u64,
    /// The baseline rate (the warm-up mean until warm-up ends).
    pub baseline_rate: f64,
    /// The rate now (EWMA).
    pub current_rate: f64,
    /// The CUSUM statistic.
    pub cusum: f64,
}

/// A shift found by a [`RateDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// The baseline it shifted from.
    pub baseline_rate: f64,
    /// The rate now.
    pub current_rate: f64,
    /// The CUSUM statistic at the alarm.
    pub cusum: f64,
}

/// EWMA and CUSUM over one stream of 0/1 observations.
#[derive(Debug, Clone)]
pub struct RateDetector {
    config: AnomalyConfig,
    observations: u64,
    warmup_hits: u64,
    baseline: f64,
    rate: f64,
    cusum: f64,
}

impl RateDetector {
    /// A detector that has seen nothing.
    pub fn new(config: AnomalyConfig) -> Self {
        Self {
            config,
            observations: 0,
            warmup_hits: 0,
            baseline: 0.0,
            rate: 0.0,
            cusum: 0.0,
        }
    }

    /// Feeds one observation (`hit`: the call was denied, or sent for approval) and returns the
    /// shift it revealed, if any. After an alarm the CUSUM restarts from zero, so a shift that
    /// persists raises an alarm again every few dozen observations.
    pub fn observe(&mut self, hit: bool) -> Option<Shift> {
        let x = if hit { 1.0 } else { 0.0 };
        self.observations += 1;
        if self.observations <= self.config.warmup {
            self.warmup_hits += u64::from(hit);
            // During warm-up both estimates are the plain mean so far.
            self.rate = self.warmup_hits as f64 / self.observations as f64;
            self.baseline = self.rate;
            return None;
        }
        // The baseline is an estimate from finitely many observations; taking it one standard
        // error high keeps a baseline learned from few calls from mistaking ordinary variation
        // for a shift.
        let memory = (self.observations as f64).min(1.0 / self.config.baseline_lambda);
        let standard_error = (self.baseline * (1.0 - self.baseline) / memory).sqrt();
        let p0 = (self.baseline + standard_error).max(self.config.min_rate);
        if p0 >= MAX_BASELINE {
            // An agent (almost) always denied has no room to shift up.
            self.cusum = 0.0;
            self.learn(x);
            return None;
        }
        let p1 = (p0 * self.config.shift_ratio)
            .max(p0 + self.config.min_shift)
            .min(MAX_SHIFTED);
        let evidence = if hit {
            (p1 / p0).ln()
        } else {
            ((1.0 - p1) / (1.0 - p0)).ln()
        };
        self.cusum = (self.cusum + evidence).max(0.0);
        self.learn(x);
        if self.cusum <= self.config.threshold {
            return None;
        }
        let shift = Shift {
            baseline_rate: p0,
            current_rate: self.rate,
            cusum: self.cusum,
        };
        self.cusum = 0.0;
        Some(shift)
    }

    /// Updates both rates with one observation after warm-up. The baseline is the plain mean
    /// until it has seen `1 / baseline_lambda` observations, then an EWMA with that memory:
    /// it adapts far slower than the CUSUM reacts (hundreds of observations against tens), so
    /// a sudden shift is caught before it is learned as normal.
    fn learn(&mut self, x: f64) {
        self.rate += self.config.rate_lambda * (x - self.rate);
        let weight = (1.0 / self.observations as f64).max(self.config.baseline_lambda);
        self.baseline += weight * (x - self.baseline);
    }

    /// What the detector knows now.
    pub fn snapshot(&self) -> RateSnapshot {
        RateSnapshot {
            observations: self.observations,
            baseline_rate: self.baseline,
            current_rate: self.rate,
            cusum: self.cusum,
        }
    }
}

/// The detectors of every agent: feed it each guard decision.
#[derive(Debug)]
pub struct AnomalyMonitor {
    config: AnomalyConfig,
    agents: Mutex<HashMap<String, AgentDetectors>>,
}

#[derive(Debug)]
struct AgentDetectors {
    deny: RateDetector,
    approval: RateDetector,
}

impl AnomalyMonitor {
    /// A monitor with `config` for every agent and signal.
    pub fn new(config: AnomalyConfig) -> Self {
        Self {
            config,
            agents: Mutex::new(HashMap::new()),
        }
    }

    /// Feeds one decision on a call by `agent_id` and returns the shifts it revealed.
    pub fn observe(&self, agent_id: &str, verdict: Verdict) -> Vec<Anomaly> {
        let mut agents = self
            .agents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let detectors = agents
            .entry(agent_id.to_string())
            .or_insert_with(|| AgentDetectors {
                deny: RateDetector::new(self.config),
                approval: RateDetector::new(self.config),
            });
        let observed = [
            (
                Signal::DenyRate,
                detectors.deny.observe(verdict == Verdict::Deny),
                detectors.deny.observations,
            ),
            (
                Signal::ApprovalRequestRate,
                detectors
                    .approval
                    .observe(verdict == Verdict::RequireApproval),
                detectors.approval.observations,
            ),
        ];
        observed
            .into_iter()
            .filter_map(|(signal, shift, observations)| {
                let shift = shift?;
                let level = if shift.current_rate >= self.config.incident_rate {
                    AnomalyLevel::Incident
                } else {
                    AnomalyLevel::Warning
                };
                Some(Anomaly {
                    agent_id: agent_id.to_string(),
                    signal,
                    level,
                    baseline_rate: shift.baseline_rate,
                    current_rate: shift.current_rate,
                    cusum: shift.cusum,
                    observations,
                })
            })
            .collect()
    }

    /// What the detector of `agent_id` for `signal` knows now, if the agent was seen.
    pub fn snapshot(&self, agent_id: &str, signal: Signal) -> Option<RateSnapshot> {
        let agents = self
            .agents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let detectors = agents.get(agent_id)?;
        Some(match signal {
            Signal::DenyRate => detectors.deny.snapshot(),
            Signal::ApprovalRequestRate => detectors.approval.snapshot(),
        })
    }
}

impl Default for AnomalyMonitor {
    fn default() -> Self {
        Self::new(AnomalyConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64: a small deterministic generator, so every synthetic stream is reproducible.
    struct Stream(u64);

    impl Stream {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64
        }

        fn hit(&mut self, rate: f64) -> bool {
            self.uniform() < rate
        }
    }

    /// Feeds `before` observations at `p_before`, then `after` at `p_after`; returns the
    /// indices (from 0) of every alarm.
    fn alarms(seed: u64, p_before: f64, before: usize, p_after: f64, after: usize) -> Vec<usize> {
        let mut stream = Stream(seed);
        let mut detector = RateDetector::new(AnomalyConfig::default());
        (0..before + after)
            .filter(|&i| {
                let rate = if i < before { p_before } else { p_after };
                detector.observe(stream.hit(rate)).is_some()
            })
            .collect()
    }

    /// The calibration table of `docs/oversight.md`: false alarms on stationary streams and
    /// detection delays after a known change point, over 50 seeded streams per row. Print it
    /// with `cargo test --workspace --lib anomaly_calibration -- --nocapture`.
    #[test]
    fn anomaly_calibration_meets_the_documented_bounds() {
        const STREAMS: u64 = 50;
        const LENGTH: usize = 20_000;
        const CHANGE: usize = 1_000;
        const WINDOW: usize = 2_000;
        println!(
            "| p0 | false alarms per 10^6 | p0 + 0.1: median / max / missed | p0 + 0.3 | 0.8 |"
        );
        println!("|---|---|---|---|---|");
        for p0 in [0.0, 0.02, 0.05, 0.1, 0.3] {
            let false_alarms: usize = (1..=STREAMS)
                .map(|seed| alarms(seed, p0, LENGTH, p0, 0).len())
                .sum();
            let per_million = false_alarms as f64 * 1e6 / (STREAMS as f64 * LENGTH as f64);
            // Detecting the 0.8 shift is required of every row; the others are reported.
            let mut row = format!("| {p0} | {per_million:.0} |");
            for p1 in [p0 + 0.1, p0 + 0.3, 0.8] {
                let mut delays: Vec<usize> = Vec::new();
                let mut missed = 0;
                for seed in 1..=STREAMS {
                    let found = alarms(seed + 1_000, p0, CHANGE, p1, WINDOW);
                    match found.into_iter().find(|&i| i >= CHANGE) {
                        Some(i) => delays.push(i - CHANGE),
                        None => missed += 1,
                    }
                }
                delays.sort_unstable();
                let median = delays.get(delays.len() / 2).copied().unwrap_or(0);
                let max = delays.last().copied().unwrap_or(0);
                row.push_str(&format!(" {median} / {max} / {missed} |"));
                if p1 == 0.8 {
                    assert_eq!(missed, 0, "p0 {p0}: a shift to 0.8 was missed");
                }
            }
            println!("{row}");
            if p0 <= 0.05 {
                assert!(per_million < 5.0, "p0 {p0}: {per_million} false alarms");
            }
        }
    }

    #[test]
    fn cusum_finds_a_known_change_point_quickly_and_never_before_it() {
        const CHANGE: usize = 1_000;
        for (p_before, p_after, max_delay) in [(0.02, 0.2, 80), (0.05, 0.3, 80), (0.0, 0.5, 30)] {
            for seed in 1..=20 {
                let found = alarms(seed, p_before, CHANGE, p_after, 500);
                let first = found.first().copied();
                assert!(
                    matches!(first, Some(i) if i >= CHANGE && i < CHANGE + max_delay),
                    "{p_before}->{p_after} seed {seed}: first alarm at {first:?}"
                );
            }
        }
    }

    #[test]
    fn cusum_stays_quiet_on_stationary_streams() {
        for rate in [0.0, 0.01, 0.02, 0.05] {
            for seed in 1..=10 {
                let found = alarms(seed, rate, 20_000, rate, 0);
                assert!(found.is_empty(), "rate {rate} seed {seed}: {found:?}");
            }
        }
    }

    #[test]
    fn nothing_fires_during_warm_up_even_when_everything_is_denied() {
        let mut detector = RateDetector::new(AnomalyConfig::default());
        for _ in 0..AnomalyConfig::default().warmup {
            assert!(detector.observe(true).is_none());
        }
        let snapshot = detector.snapshot();
        assert_eq!(snapshot.baseline_rate, 1.0);
        assert_eq!(snapshot.current_rate, 1.0);
        // An agent denied all the time is its own normal: more denies are no shift.
        for _ in 0..1_000 {
            assert!(detector.observe(true).is_none());
        }
    }

    #[test]
    fn ewma_tracks_the_current_rate() {
        let mut stream = Stream(7);
        let mut detector = RateDetector::new(AnomalyConfig::default());
        for _ in 0..5_000 {
            detector.observe(stream.hit(0.3));
        }
        let snapshot = detector.snapshot();
        assert!((snapshot.current_rate - 0.3).abs() < 0.12, "{snapshot:?}");
        assert!((snapshot.baseline_rate - 0.3).abs() < 0.05, "{snapshot:?}");
        assert_eq!(snapshot.observations, 5_000);
    }

    #[test]
    fn the_monitor_keeps_agents_and_signals_apart_and_grades_the_shift() {
        let monitor = AnomalyMonitor::default();
        let mut stream = Stream(11);
        // Both agents: 2% denies, 5% approval requests, for 1,000 calls.
        let normal = |stream: &mut Stream| {
            let u = stream.uniform();
            if u < 0.02 {
                Verdict::Deny
            } else if u < 0.07 {
                Verdict::RequireApproval
            } else {
                Verdict::Allow
            }
        };
        for _ in 0..1_000 {
            for agent in ["steady", "drifting"] {
                let verdict = normal(&mut stream);
                let found = monitor.observe(agent, verdict);
                assert!(found.is_empty(), "{found:?}");
            }
        }
        // Then "drifting" starts sending most calls to approval; "steady" carries on.
        let mut raised = Vec::new();
        for _ in 0..300 {
            let verdict = normal(&mut stream);
            assert!(monitor.observe("steady", verdict).is_empty());
            let verdict = if stream.hit(0.8) {
                Verdict::RequireApproval
            } else {
                Verdict::Allow
            };
            raised.extend(monitor.observe("drifting", verdict));
        }
        assert!(!raised.is_empty());
        assert!(raised.iter().all(|a| a.agent_id == "drifting"
            && a.signal == Signal::ApprovalRequestRate
            && a.current_rate > a.baseline_rate));
        assert_eq!(raised[0].level, AnomalyLevel::Warning);
        assert_eq!(raised.last().map(|a| a.level), Some(AnomalyLevel::Incident));
        let deny = monitor.snapshot("drifting", Signal::DenyRate).unwrap();
        assert!(deny.current_rate < 0.05, "{deny:?}");
        assert!(monitor.snapshot("unknown", Signal::DenyRate).is_none());
    }
}
