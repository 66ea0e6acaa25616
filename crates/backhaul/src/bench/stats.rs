//! Latency statistics: nearest-rank percentiles over every sample (no histogram buckets, so
//! the figures are exact for the run).

use std::time::Duration;

/// The percentiles the report shows, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Percentiles {
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

impl Percentiles {
    /// The percentiles of `samples` (in any order); `None` without samples.
    pub(crate) fn of(mut samples: Vec<Duration>) -> Option<Self> {
        samples.sort_unstable();
        let ms = |p: f64| percentile(&samples, p).map(|d| d.as_secs_f64() * 1000.0);
        Some(Self {
            p50_ms: ms(50.0)?,
            p95_ms: ms(95.0)?,
            p99_ms: ms(99.0)?,
            max_ms: ms(100.0)?,
        })
    }
}

/// The nearest-rank `p`-th percentile of `sorted` (ascending): the smallest sample with at
/// least `p` % of the samples at or below it. `None` when empty.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    // Rank in 1..=n; the float is exact for any sample count a run can reach.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `count` per second over `elapsed` (zero for an empty interval).
pub(crate) fn rate(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// `calls` per 1,000 `labels` (zero without labels).
pub(crate) fn per_thousand(calls: u64, labels: u64) -> f64 {
    if labels == 0 {
        0.0
    } else {
        calls as f64 * 1000.0 / labels as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: impl IntoIterator<Item = u64>) -> Vec<Duration> {
        values.into_iter().map(Duration::from_millis).collect()
    }

    #[test]
    fn percentiles_of_one_to_one_hundred_are_their_ranks() {
        let samples = ms(1..=100);
        assert_eq!(percentile(&samples, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&samples, 95.0), Some(Duration::from_millis(95)));
        assert_eq!(percentile(&samples, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(
            percentile(&samples, 100.0),
            Some(Duration::from_millis(100))
        );
    }

    #[test]
    fn nearest_rank_rounds_up_to_a_real_sample() {
        let samples = ms([10, 20, 30]);
        assert_eq!(percentile(&samples, 50.0), Some(Duration::from_millis(20)));
        assert_eq!(percentile(&samples, 99.0), Some(Duration::from_millis(30)));
        assert_eq!(percentile(&samples, 0.0), Some(Duration::from_millis(10)));
    }

    #[test]
    fn a_single_sample_is_every_percentile() {
        let one = Percentiles::of(ms([7])).unwrap();
        assert_eq!((one.p50_ms, one.p99_ms, one.max_ms), (7.0, 7.0, 7.0));
    }

    #[test]
    fn samples_need_not_be_sorted() {
        let shuffled = Percentiles::of(ms([90, 10, 50, 30, 70, 20, 100, 40, 80, 60])).unwrap();
        assert_eq!(shuffled.p50_ms, 50.0);
        assert_eq!(shuffled.p95_ms, 100.0);
        assert_eq!(shuffled.max_ms, 100.0);
    }

    #[test]
    fn no_samples_have_no_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(Percentiles::of(Vec::new()), None);
    }

    #[test]
    fn a_slow_tail_shows_in_p99_not_in_p50() {
        let mut samples = ms(std::iter::repeat_n(5, 990));
        samples.extend(ms(std::iter::repeat_n(200, 10)));
        let tail = Percentiles::of(samples).unwrap();
        assert_eq!(tail.p50_ms, 5.0);
        assert_eq!(tail.p99_ms, 5.0);
        assert_eq!(tail.max_ms, 200.0);
        let mut samples = ms(std::iter::repeat_n(5, 980));
        samples.extend(ms(std::iter::repeat_n(200, 20)));
        assert_eq!(Percentiles::of(samples).unwrap().p99_ms, 200.0);
    }

    #[test]
    fn rates_and_ratios_guard_against_zero() {
        assert_eq!(rate(500, Duration::from_secs(2)), 250.0);
        assert_eq!(rate(5, Duration::ZERO), 0.0);
        assert_eq!(per_thousand(3, 6000), 0.5);
        assert_eq!(per_thousand(3, 0), 0.0);
    }
}
