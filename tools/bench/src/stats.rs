//! What every driver prints: one JSON object with the rate and the latencies.

use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Answers that were what the driver asked for.
    pub ok: u64,
    /// Anything else: refusals, wrong statuses, transport errors.
    pub errors: u64,
    pub seconds: f64,
    /// `ok` per second.
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Latencies of one driver's calls, merged across its workers.
#[derive(Debug, Default)]
pub struct Samples {
    pub latencies: Vec<Duration>,
    pub errors: u64,
}

impl Samples {
    pub fn merge(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
    }

    pub fn summary(mut self, elapsed: Duration) -> Summary {
        self.latencies.sort_unstable();
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        let ok = self.latencies.len() as u64;
        Summary {
            ok,
            errors: self.errors,
            seconds,
            rate: ok as f64 / seconds,
            p50_ms: percentile_ms(&self.latencies, 0.50),
            p99_ms: percentile_ms(&self.latencies, 0.99),
            max_ms: self.latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        }
    }
}

/// The nearest-rank percentile of sorted latencies, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert!((percentile_ms(&ms, 0.5) - 50.0).abs() < 1e-9);
        assert!((percentile_ms(&ms, 0.99) - 99.0).abs() < 1e-9);
        assert!((percentile_ms(&ms[..1], 0.99) - 1.0).abs() < 1e-9);
        assert_eq!(percentile_ms(&[], 0.99), 0.0);
    }

    #[test]
    fn rate_counts_only_good_answers() {
        let samples = Samples { latencies: vec![Duration::from_millis(2); 10], errors: 3 };
        let s = samples.summary(Duration::from_secs(2));
        assert_eq!((s.ok, s.errors), (10, 3));
        assert!((s.rate - 5.0).abs() < 1e-9);
    }
}
