//! Split-conformal prediction intervals around any point forecaster.
//!
//! The forecaster is run on calibration windows it was not fitted on (the
//! validation part); the absolute residuals `|y − ŷ|` of each horizon step
//! and target are the nonconformity scores. For a level `1 − α` the interval
//! half-width of that step and target is the `k`-th smallest of its `n`
//! scores with `k = ⌈(n + 1)(1 − α)⌉`, the finite-sample quantile
//! `⌈(n + 1)(1 − α)⌉ / n` that makes the coverage at least `1 − α` when the
//! calibration and test errors are exchangeable. When `k > n` (too few
//! calibration windows for the level) the interval is infinite.
//!
//! Forecast residuals of neighbouring stride-1 windows are correlated, and
//! time series drift, so exchangeability only holds roughly: the measured test
//! coverage is what tells whether the intervals can be trusted.

use serde::{Deserialize, Serialize};

/// The level used when the user chooses none: 90% intervals.
pub const DEFAULT_LEVEL: f64 = 0.9;

/// Errors of conformal calibration.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConformalError {
    /// The level is not strictly between 0 and 1.
    #[error("the interval level must be between 0 and 1 (exclusive), got {0}")]
    BadLevel(f64),
    /// Forecasts and labels do not hold whole windows of the same shape.
    #[error(
        "forecasts ({forecast} values) and labels ({labels} values) must be whole windows of \
         {per_window} values"
    )]
    Shape {
        /// Values in the forecasts.
        forecast: usize,
        /// Values in the labels.
        labels: usize,
        /// Values per window (`horizon × targets`).
        per_window: usize,
    },
    /// There was no calibration window.
    #[error("no calibration windows: conformal intervals need forecasts on held-out windows")]
    Empty,
}

/// Lower and upper bounds of prediction intervals, each `[count, horizon,
/// targets]` like the forecasts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    /// Lower bounds.
    pub lower: Vec<f32>,
    /// Upper bounds.
    pub upper: Vec<f32>,
}

/// Calibrated interval half-widths per horizon step and target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conformal {
    /// Nominal coverage, e.g. `0.9`.
    pub level: f64,
    /// Forecast steps per window.
    pub horizon: usize,
    /// Forecast values per step.
    pub targets: usize,
    /// Half-width of each step and target, `[horizon, targets]` (infinite
    /// when there were too few calibration windows for the level).
    pub radius: Vec<f32>,
    /// Calibration windows used.
    pub calibration_windows: usize,
}

/// The split-conformal quantile of `scores` at miscoverage `alpha`: the
/// `⌈(n + 1)(1 − α)⌉`-th smallest finite score, infinite when that rank is
/// past `n` (or there is no finite score). Reorders `scores`.
#[must_use]
pub fn conformal_quantile(scores: &mut Vec<f64>, alpha: f64) -> f64 {
    scores.retain(|s| s.is_finite());
    let n = scores.len();
    // The small slack keeps 0.9 × 10 from rounding up to rank 10.
    let rank = ((n as f64 + 1.0) * (1.0 - alpha) - 1e-9).ceil().max(1.0) as usize;
    if n == 0 || rank > n {
        return f64::INFINITY;
    }
    let (_, kth, _) = scores.select_nth_unstable_by(rank - 1, f64::total_cmp);
    *kth
}

impl Conformal {
    /// Calibrates on `forecast` and `labels` of held-out windows, both
    /// `[count, horizon, targets]`, for intervals of coverage `level`.
    pub fn calibrate(
        forecast: &[f32],
        labels: &[f32],
        horizon: usize,
        targets: usize,
        level: f64,
    ) -> Result<Self, ConformalError> {
        if !(level > 0.0 && level < 1.0) {
            return Err(ConformalError::BadLevel(level));
        }
        let per_window = horizon * targets;
        let whole = per_window > 0
            && forecast.len() == labels.len()
            && forecast.len().is_multiple_of(per_window);
        if !whole {
            return Err(ConformalError::Shape {
                forecast: forecast.len(),
                labels: labels.len(),
                per_window,
            });
        }
        let count = forecast.len() / per_window;
        if count == 0 {
            return Err(ConformalError::Empty);
        }

        let radius = (0..per_window)
            .map(|slot| {
                let mut scores: Vec<f64> = (0..count)
                    .map(|w| {
                        let i = w * per_window + slot;
                        (f64::from(labels[i]) - f64::from(forecast[i])).abs()
                    })
                    .collect();
                conformal_quantile(&mut scores, 1.0 - level) as f32
            })
            .collect();
        Ok(Self {
            level,
            horizon,
            targets,
            radius,
            calibration_windows: count,
        })
    }

    /// Miscoverage `α = 1 − level`, as the Winkler score takes it.
    #[must_use]
    pub fn alpha(&self) -> f64 {
        1.0 - self.level
    }

    /// Intervals around `forecast`, `[count, horizon, targets]`.
    pub fn intervals(&self, forecast: &[f32]) -> Result<Intervals, ConformalError> {
        let per_window = self.horizon * self.targets;
        if per_window == 0 || !forecast.len().is_multiple_of(per_window) {
            return Err(ConformalError::Shape {
                forecast: forecast.len(),
                labels: forecast.len(),
                per_window,
            });
        }
        let radius = self.radius.iter().cycle();
        let (lower, upper) = forecast
            .iter()
            .zip(radius)
            .map(|(&f, &r)| (f - r, f + r))
            .unzip();
        Ok(Intervals { lower, upper })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quantile_rank_is_the_finite_sample_one() {
        // n = 9 at 90%: rank ⌈10 × 0.9⌉ = 9, the largest.
        let mut scores: Vec<f64> = (1..=9).map(f64::from).collect();
        assert!((conformal_quantile(&mut scores, 0.1) - 9.0).abs() < 1e-12);
        // n = 19 at 90%: rank ⌈20 × 0.9⌉ = 18.
        let mut scores: Vec<f64> = (1..=19).rev().map(f64::from).collect();
        assert!((conformal_quantile(&mut scores, 0.1) - 18.0).abs() < 1e-12);
        // n = 8 at 90%: rank 9 > 8, so the interval is infinite.
        let mut scores: Vec<f64> = (1..=8).map(f64::from).collect();
        assert!(conformal_quantile(&mut scores, 0.1).is_infinite());
        let mut with_nan = vec![f64::NAN, 1.0, 2.0, 3.0];
        assert!((conformal_quantile(&mut with_nan, 0.5) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn radius_is_per_step_and_target() {
        // Horizon 2, targets 1, four windows: step 0 misses by 1, step 1 by 0..3.
        let forecast = [0.0; 8];
        let labels = [1.0, 0.0, -1.0, 1.0, 1.0, 2.0, -1.0, 3.0];
        let conformal = Conformal::calibrate(&forecast, &labels, 2, 1, 0.5).unwrap();
        // n = 4 at 50%: rank ⌈5 × 0.5⌉ = 3.
        assert_eq!(conformal.radius, vec![1.0, 2.0]);
        let intervals = conformal.intervals(&[10.0, 20.0]).unwrap();
        assert_eq!(intervals.lower, vec![9.0, 18.0]);
        assert_eq!(intervals.upper, vec![11.0, 22.0]);
        assert!((conformal.alpha() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(
            Conformal::calibrate(&[0.0], &[0.0], 1, 1, 1.0),
            Err(ConformalError::BadLevel(1.0))
        );
        assert!(matches!(
            Conformal::calibrate(&[0.0; 3], &[0.0; 3], 2, 1, 0.9),
            Err(ConformalError::Shape { .. })
        ));
        assert_eq!(
            Conformal::calibrate(&[], &[], 2, 1, 0.9),
            Err(ConformalError::Empty)
        );
    }
}
