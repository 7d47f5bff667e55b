//! Approval latencies in bounded memory: a histogram of durations kept to three significant
//! digits (at most 900 buckets per decade of milliseconds), so a log of any length yields its
//! median and 95th percentile without keeping one sample per approval. The page shows
//! latencies to a tenth of a second; three significant digits keep that exact below 100 s and
//! within 0.5 % above.

use std::collections::BTreeMap;

/// Durations by bucket (milliseconds rounded to three significant digits) and count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    buckets: BTreeMap<u64, u64>,
    count: u64,
}

impl LatencyHistogram {
    /// Adds one duration in seconds (negative ones count as zero).
    pub fn record(&mut self, seconds: f64) {
        let millis = (seconds.max(0.0) * 1000.0).round() as u64;
        *self.buckets.entry(three_digits(millis)).or_default() += 1;
        self.count += 1;
    }

    /// Durations recorded.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Distinct buckets held (what the memory is proportional to).
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    /// The duration in seconds below which `share` of the durations fall, by nearest rank.
    pub fn percentile(&self, share: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((share * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (millis, count) in &self.buckets {
            seen += count;
            if seen >= rank {
                return Some(*millis as f64 / 1000.0);
            }
        }
        None
    }
}

/// `millis` rounded to its three most significant decimal digits (1234 -> 1230).
fn three_digits(millis: u64) -> u64 {
    let mut scale = 1;
    while millis / scale >= 1000 {
        scale *= 10;
    }
    (millis + scale / 2) / scale * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut histogram = LatencyHistogram::default();
        assert_eq!(histogram.percentile(0.5), None);
        for seconds in 1..=10 {
            histogram.record(f64::from(seconds));
        }
        assert_eq!(histogram.len(), 10);
        assert_eq!(histogram.percentile(0.5), Some(5.0));
        assert_eq!(histogram.percentile(0.95), Some(10.0));
        assert_eq!(histogram.percentile(0.0), Some(1.0));
    }

    #[test]
    fn keeps_three_significant_digits() {
        assert_eq!(three_digits(0), 0);
        assert_eq!(three_digits(999), 999);
        assert_eq!(three_digits(1234), 1230);
        assert_eq!(three_digits(1235), 1240);
        assert_eq!(three_digits(9_996), 10_000);
        assert_eq!(three_digits(86_399_999), 86_400_000);
    }

    #[test]
    fn memory_is_bounded_by_buckets_not_samples() {
        let mut histogram = LatencyHistogram::default();
        // A million approvals spread over a day, one every 86.4 ms of latency.
        for step in 0..1_000_000u32 {
            histogram.record(f64::from(step) * 0.0864);
        }
        assert_eq!(histogram.len(), 1_000_000);
        // 1..1000 ms exact, then 900 buckets per decade up to a day (8 decades).
        assert!(histogram.buckets() < 9 * 900, "{}", histogram.buckets());
        let median = histogram.percentile(0.5).unwrap_or_default();
        assert!((median - 43_200.0).abs() / 43_200.0 < 0.005, "{median}");
    }
}
