//! Rate-limit and budget counters: sliding windows per rule and key.
//!
//! Each counter keeps the time (and, for budgets, the amount) of the calls it let through in
//! its window, so the window slides exactly and the state can be saved to a file and loaded by
//! the next process (`aims check --log DIR`). Only calls that may proceed are counted.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::guard::ToolCall;
use crate::policy::{as_number, KeyPart, Rule, Window};

/// Above this many counters, expired ones are swept on every commit.
const SWEEP_ABOVE: usize = 10_000;

/// Every counter, by key. Serializable so it can persist between processes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitState {
    counters: BTreeMap<String, Counter>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Counter {
    window_ms: u64,
    /// `(unix ms, amount)` of each counted call, oldest first.
    entries: VecDeque<(i64, f64)>,
}

impl Counter {
    fn evict(&mut self, now_ms: i64) {
        let window = i64::try_from(self.window_ms).unwrap_or(i64::MAX);
        let oldest_kept = now_ms.saturating_sub(window);
        while self
            .entries
            .front()
            .is_some_and(|(at, _)| *at <= oldest_kept)
        {
            self.entries.pop_front();
        }
    }
}

/// What one limit says about one call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LimitOutcome {
    /// `within_limit`, `rate_limited`, `budget_exceeded` or `budget_unreadable`.
    pub(crate) code: &'static str,
    /// Whether the limit denies the call.
    pub(crate) exceeded: bool,
    /// The limit and its use, in words (never the call's argument values).
    pub(crate) message: String,
    /// What to count if the call proceeds.
    pending: Option<Pending>,
}

#[derive(Debug, Clone, PartialEq)]
struct Pending {
    key: String,
    window_ms: u64,
    amount: f64,
}

impl LimitState {
    /// Drops every entry older than its window, and counters left empty.
    pub fn prune(&mut self, now_ms: i64) {
        self.counters.retain(|_, counter| {
            counter.evict(now_ms);
            !counter.entries.is_empty()
        });
    }

    /// Number of live counters.
    pub fn len(&self) -> usize {
        self.counters.len()
    }

    /// Whether there is no counter.
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty()
    }

    /// The outcomes of a matched rule's rate limit and budget for this call, without counting it.
    pub(crate) fn assess(
        &mut self,
        rule: &Rule,
        call: &ToolCall,
        now_ms: i64,
    ) -> Vec<LimitOutcome> {
        let mut outcomes = Vec::new();
        if let Some(rate) = &rule.rate_limit {
            let key = key(rule.id(), "rate", &rate.per, call);
            let used = self.window_entries(&key, rate.window, now_ms).len() as u64;
            let exceeded = used >= rate.max;
            outcomes.push(LimitOutcome {
                code: if exceeded {
                    "rate_limited"
                } else {
                    "within_limit"
                },
                exceeded,
                message: format!(
                    "rate limit of {} calls per {} ({used} used)",
                    rate.max, rate.window
                ),
                pending: Some(Pending {
                    key,
                    window_ms: rate.window.0,
                    amount: 1.0,
                }),
            });
        }
        if let Some(budget) = &rule.budget {
            let key = key(rule.id(), "budget", &budget.per, call);
            let used: f64 = self
                .window_entries(&key, budget.window, now_ms)
                .iter()
                .map(|(_, amount)| amount)
                // An empty f64 sum is -0.0, which would print as "-0 used".
                .sum::<f64>()
                + 0.0;
            let limit = format!("budget of {} per {}", budget.max, budget.window);
            let outcome = match budget
                .pointer()
                .resolve(&call.args)
                .and_then(as_number)
                .filter(|amount| *amount >= 0.0)
            {
                Some(amount) => {
                    let exceeded = used + amount > budget.max;
                    LimitOutcome {
                        code: if exceeded {
                            "budget_exceeded"
                        } else {
                            "within_limit"
                        },
                        exceeded,
                        message: format!("{limit} ({used} used)"),
                        pending: Some(Pending {
                            key,
                            window_ms: budget.window.0,
                            amount,
                        }),
                    }
                }
                None => LimitOutcome {
                    code: "budget_unreadable",
                    exceeded: true,
                    message: format!(
                        "{limit}: args{} is missing, negative or not a number",
                        budget.pointer().as_str()
                    ),
                    pending: None,
                },
            };
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Counts a call that proceeds.
    pub(crate) fn commit(&mut self, outcomes: &[LimitOutcome], now_ms: i64) {
        for pending in outcomes.iter().filter_map(|o| o.pending.as_ref()) {
            let counter = self
                .counters
                .entry(pending.key.clone())
                .or_insert_with(|| Counter {
                    window_ms: pending.window_ms,
                    entries: VecDeque::new(),
                });
            counter.window_ms = pending.window_ms;
            counter.evict(now_ms);
            counter.entries.push_back((now_ms, pending.amount));
        }
        if self.counters.len() > SWEEP_ABOVE {
            self.prune(now_ms);
        }
    }

    fn window_entries(&mut self, key: &str, window: Window, now_ms: i64) -> &VecDeque<(i64, f64)> {
        static EMPTY: VecDeque<(i64, f64)> = VecDeque::new();
        match self.counters.get_mut(key) {
            Some(counter) => {
                // The policy may have been reloaded with a different window.
                counter.window_ms = window.0;
                counter.evict(now_ms);
                &counter.entries
            }
            None => &EMPTY,
        }
    }
}

/// The counter key: rule, limit kind, and the call's value of each `per` part.
fn key(rule_id: &str, kind: &str, per: &[KeyPart], call: &ToolCall) -> String {
    let mut key = format!("{rule_id}\u{1f}{kind}");
    for part in per {
        key.push('\u{1f}');
        key.push_str(match part {
            KeyPart::Agent => &call.agent_id,
            KeyPart::Tool => &call.tool,
            KeyPart::Conversation => call.conversation_id.as_deref().unwrap_or(""),
            KeyPart::AiSystem => call.ai_system_id.as_deref().unwrap_or(""),
        });
    }
    key
}

/// The guard's counters behind a lock: assessing and committing one call happen under one
/// lock, so concurrent calls cannot both take the last unit of a limit.
#[derive(Debug, Default)]
pub struct LimitStore {
    state: Mutex<LimitState>,
}

/// The store's lock was poisoned by a panic while it was held; the guard denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("limit counters are unavailable after an earlier failure")]
pub struct LimitsUnavailable;

impl LimitStore {
    /// A store holding `state` (e.g. loaded from a file).
    pub fn new(state: LimitState) -> Self {
        Self {
            state: Mutex::new(state),
        }
    }

    /// Locks the counters.
    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, LimitState>, LimitsUnavailable> {
        self.state.lock().map_err(|_| LimitsUnavailable)
    }

    /// A copy of the counters, pruned to their windows at `now_ms`.
    pub fn snapshot(&self, now_ms: i64) -> Result<LimitState, LimitsUnavailable> {
        let mut state = self.lock()?;
        state.prune(now_ms);
        Ok(state.clone())
    }
}
