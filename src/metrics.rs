//! Forecast error metrics and the persistence baseline.
//!
//! Every metric here works on plain slices so that the model, the baselines
//! and the CLI all score forecasts the same way.

use serde::{Deserialize, Serialize};

/// Mean absolute and root mean squared error over a set of forecast values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorMetrics {
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Number of forecast values scored.
    pub count: usize,
}

/// Accumulates absolute and squared errors, skipping non-finite pairs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorAccumulator {
    abs_sum: f64,
    sq_sum: f64,
    count: usize,
}

impl ErrorAccumulator {
    /// Adds one forecast value and its actual value.
    pub fn add(&mut self, forecast: f32, actual: f32) {
        let error = f64::from(forecast) - f64::from(actual);
        if error.is_finite() {
            self.abs_sum += error.abs();
            self.sq_sum += error * error;
            self.count += 1;
        }
    }

    /// The metrics so far; all zero when nothing was added.
    #[must_use]
    pub fn finish(&self) -> ErrorMetrics {
        if self.count == 0 {
            return ErrorMetrics::default();
        }
        let n = self.count as f64;
        ErrorMetrics {
            mae: self.abs_sum / n,
            rmse: (self.sq_sum / n).sqrt(),
            count: self.count,
        }
    }
}

/// Scores `forecast` against `actual`, pairing values up to the shorter slice.
#[must_use]
pub fn error_metrics(forecast: &[f32], actual: &[f32]) -> ErrorMetrics {
    let mut acc = ErrorAccumulator::default();
    for (&f, &a) in forecast.iter().zip(actual) {
        acc.add(f, a);
    }
    acc.finish()
}

/// The persistence (last value) forecast for flat windows.
///
/// `inputs` is `[count, lookback, features]` with the targets as the first
/// `targets` features, as the pipeline builds them; the result is `[count,
/// horizon, targets]`, every step repeating the last observed value.
#[must_use]
pub fn persistence_forecast(
    inputs: &[f32],
    lookback: usize,
    features: usize,
    horizon: usize,
    targets: usize,
) -> Vec<f32> {
    let per_window = lookback * features;
    if per_window == 0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(inputs.len() / per_window * horizon * targets);
    for window in inputs.chunks_exact(per_window) {
        let last_step = &window[(lookback - 1) * features..];
        for _ in 0..horizon {
            out.extend_from_slice(&last_step[..targets]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_of_known_errors() {
        let m = error_metrics(&[1.0, 2.0, 3.0, 4.0], &[1.0, 0.0, 3.0, 8.0]);
        assert_eq!(m.count, 4);
        assert!((m.mae - 1.5).abs() < 1e-12);
        assert!((m.rmse - 5.0f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn non_finite_pairs_are_skipped() {
        let m = error_metrics(&[1.0, f32::NAN, 2.0], &[0.0, 1.0, f32::INFINITY]);
        assert_eq!(m.count, 1);
        assert!((m.mae - 1.0).abs() < 1e-12);
        assert_eq!(error_metrics(&[], &[]), ErrorMetrics::default());
    }

    #[test]
    fn persistence_repeats_the_last_step_of_each_target() {
        // Two windows, look-back 2, features 3 (two targets first), horizon 2.
        let inputs = [
            1.0, 10.0, 100.0, 2.0, 20.0, 200.0, //
            3.0, 30.0, 300.0, 4.0, 40.0, 400.0,
        ];
        let out = persistence_forecast(&inputs, 2, 3, 2, 2);
        assert_eq!(out, [2.0, 20.0, 2.0, 20.0, 4.0, 40.0, 4.0, 40.0]);
    }
}
