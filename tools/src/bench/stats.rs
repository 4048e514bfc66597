//! Samples and their order statistics.

use std::time::Duration;

/// Latencies of one kind of call, in nanoseconds.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    nanos: Vec<u64>,
    sorted: bool,
}

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.nanos.push(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        self.sorted = false;
    }

    pub fn len(&self) -> usize {
        self.nanos.len()
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.nanos.sort_unstable();
            self.sorted = true;
        }
    }

    /// The `q`-quantile (0..=1) by the nearest-rank method, in microseconds; NaN when empty
    /// (the JSON then carries null and the target reads as missed).
    pub fn quantile_us(&mut self, q: f64) -> f64 {
        if self.nanos.is_empty() {
            return f64::NAN;
        }
        self.sort();
        let rank = ((q * self.nanos.len() as f64).ceil() as usize).clamp(1, self.nanos.len());
        self.nanos[rank - 1] as f64 / 1000.0
    }

    pub fn median_us(&mut self) -> f64 {
        self.quantile_us(0.5)
    }

    pub fn p99_us(&mut self) -> f64 {
        self.quantile_us(0.99)
    }

    /// The samples in microseconds, sorted.
    pub fn micros(&mut self) -> Vec<f64> {
        self.sort();
        self.nanos.iter().map(|&n| n as f64 / 1000.0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut s = Samples::default();
        for us in (1..=100).rev() {
            s.push(Duration::from_micros(us));
        }
        assert_eq!(s.median_us(), 50.0);
        assert_eq!(s.p99_us(), 99.0);
        assert_eq!(s.quantile_us(1.0), 100.0);
        assert!(Samples::default().median_us().is_nan());
    }
}
