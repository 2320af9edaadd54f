//! Forecast error metrics and the persistence baseline.
//!
//! Every metric here works on plain slices so that the model, the baselines
//! and the CLI all score forecasts the same way.
//!
//! Point forecasts get MAE, MSE/RMSE, MASE and sMAPE; prediction intervals
//! get empirical coverage and the Winkler (interval) score. [`HorizonScorer`]
//! accumulates all of them per horizon step and overall from flat forecasts
//! of shape `[count, horizon, targets]`, the layout of
//! [`crate::prep::Windows::labels`].
//!
//! - MASE divides the MAE by the in-sample MAE of the seasonal-naive forecast
//!   on the training part ([`seasonal_naive_scale`]), per target; season 1
//!   (the previous value) when the series has no season.
//! - sMAPE is `200 / n · Σ |f − a| / (|f| + |a|)` in percent, skipping pairs
//!   where both are zero. It is meaningless on z-scores (values cross zero),
//!   so [`Scaling::original_units`] lets it be computed in the data's units.
//! - The headline skill against a reference (seasonal naive) is
//!   `1 − MAE / MAE_reference` ([`skill`]): MAE rather than RMSE because it is
//!   in the data's units, is not dominated by a few large misses, and equals
//!   `1 − MASE / MASE_reference` on the same windows.

use serde::{Deserialize, Serialize};

use crate::prep::Normalizer;

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

/// Mean absolute scaled error denominator: the in-sample MAE of the seasonal
/// naive forecast `x[t − season]` over `values` (the training part).
///
/// `season` 0 is treated as 1. `None` when `values` has no more than `season`
/// values or the scale is zero or not finite (a constant series), where MASE is
/// undefined.
#[must_use]
pub fn seasonal_naive_scale(values: &[f32], season: usize) -> Option<f64> {
    let season = season.max(1);
    if values.len() <= season {
        return None;
    }
    let mut acc = ErrorAccumulator::default();
    for (now, before) in values[season..].iter().zip(values) {
        acc.add(*before, *now);
    }
    let scale = acc.finish().mae;
    (acc.count > 0 && scale.is_finite() && scale > 0.0).then_some(scale)
}

/// One symmetric absolute percentage error term in percent, `None` when both
/// values are zero or a value is not finite.
fn smape_term(forecast: f64, actual: f64) -> Option<f64> {
    let denominator = forecast.abs() + actual.abs();
    let term = 200.0 * (forecast - actual).abs() / denominator;
    (denominator > 0.0 && term.is_finite()).then_some(term)
}

/// Symmetric mean absolute percentage error in percent over pairs of values
/// (up to the shorter slice); `None` when no pair counts.
#[must_use]
pub fn smape(forecast: &[f32], actual: &[f32]) -> Option<f64> {
    let terms: Vec<f64> = forecast
        .iter()
        .zip(actual)
        .filter_map(|(&f, &a)| smape_term(f64::from(f), f64::from(a)))
        .collect();
    (!terms.is_empty()).then(|| terms.iter().sum::<f64>() / terms.len() as f64)
}

/// The Winkler (interval) score of one interval `[lower, upper]` at
/// miscoverage `alpha` (0.1 for a 90% interval): its width plus `2 / alpha`
/// times the distance by which `actual` falls outside it. Lower is better.
#[must_use]
pub fn winkler_score(lower: f64, upper: f64, actual: f64, alpha: f64) -> f64 {
    let width = upper - lower;
    let penalty = 2.0 / alpha;
    if actual < lower {
        width + penalty * (lower - actual)
    } else if actual > upper {
        width + penalty * (actual - upper)
    } else {
        width
    }
}

/// Skill of a forecast against a reference: `1 − error / reference_error`.
///
/// 1 is perfect, 0 is as good as the reference, negative is worse. `None`
/// when the reference error is zero or not finite.
#[must_use]
pub fn skill(error: f64, reference_error: f64) -> Option<f64> {
    let value = 1.0 - error / reference_error;
    (reference_error > 0.0 && value.is_finite()).then_some(value)
}

/// Point-forecast metrics over a set of forecast values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PointMetrics {
    /// Mean absolute error.
    pub mae: f64,
    /// Mean squared error.
    pub mse: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute scaled error (see [`seasonal_naive_scale`]); `None` when
    /// a target has no scale.
    pub mase: Option<f64>,
    /// Symmetric MAPE in percent; `None` when no pair counts.
    pub smape: Option<f64>,
    /// Number of forecast values scored.
    pub count: usize,
}

/// Interval metrics over a set of prediction intervals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct IntervalMetrics {
    /// Fraction of actual values inside their interval.
    pub coverage: f64,
    /// Mean Winkler score at miscoverage `alpha`.
    pub winkler: f64,
    /// Mean interval width.
    pub mean_width: f64,
    /// Number of intervals scored.
    pub count: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct PointSums {
    errors: ErrorAccumulator,
    scaled_abs: f64,
    scaled_count: usize,
    unscaled: bool,
    smape: f64,
    smape_count: usize,
}

impl PointSums {
    fn finish(&self) -> PointMetrics {
        let errors = self.errors.finish();
        let mase = (self.scaled_count > 0 && !self.unscaled)
            .then(|| self.scaled_abs / self.scaled_count as f64);
        let smape = (self.smape_count > 0).then(|| self.smape / self.smape_count as f64);
        PointMetrics {
            mae: errors.mae,
            mse: errors.rmse * errors.rmse,
            rmse: errors.rmse,
            mase,
            smape,
            count: errors.count,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct IntervalSums {
    covered: usize,
    winkler: f64,
    width: f64,
    count: usize,
}

impl IntervalSums {
    fn finish(&self) -> IntervalMetrics {
        if self.count == 0 {
            return IntervalMetrics::default();
        }
        let n = self.count as f64;
        IntervalMetrics {
            coverage: self.covered as f64 / n,
            winkler: self.winkler / n,
            mean_width: self.width / n,
            count: self.count,
        }
    }
}

/// How errors of each target are put on a common footing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scaling {
    /// MASE denominator of each target (see [`seasonal_naive_scale`]), in the
    /// units the forecasts are given in; `None` leaves MASE undefined.
    pub mase_scale: Vec<Option<f64>>,
    /// Statistics to turn z-scores back into the data's units for sMAPE
    /// (feature `t` of the normaliser is target `t`); `None` computes sMAPE
    /// on the values as given.
    pub original_units: Option<Normalizer>,
}

/// Point and interval metrics per horizon step and over all steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HorizonScores {
    /// Point metrics of each horizon step, `[horizon]`.
    pub per_step: Vec<PointMetrics>,
    /// Point metrics over every step and target.
    pub overall: PointMetrics,
    /// Interval metrics of each horizon step, `[horizon]`; empty when no
    /// interval was scored.
    pub interval_per_step: Vec<IntervalMetrics>,
    /// Interval metrics over every step and target, `None` when no interval
    /// was scored.
    pub interval: Option<IntervalMetrics>,
}

/// Accumulates [`HorizonScores`] from windows of forecasts.
///
/// Forecasts, labels and interval bounds are flat `[count, horizon, targets]`
/// (or one window, `[horizon, targets]`). Non-finite pairs are skipped.
#[derive(Debug, Clone)]
pub struct HorizonScorer {
    horizon: usize,
    targets: usize,
    alpha: f64,
    scaling: Scaling,
    steps: Vec<PointSums>,
    overall: PointSums,
    interval_steps: Vec<IntervalSums>,
    interval: IntervalSums,
}

impl HorizonScorer {
    /// A scorer for `horizon` steps of `targets` values, scoring intervals at
    /// miscoverage `alpha` (0.1 for 90% intervals).
    #[must_use]
    pub fn new(horizon: usize, targets: usize, alpha: f64, scaling: Scaling) -> Self {
        Self {
            horizon,
            targets,
            alpha,
            scaling,
            steps: vec![PointSums::default(); horizon],
            overall: PointSums::default(),
            interval_steps: vec![IntervalSums::default(); horizon],
            interval: IntervalSums::default(),
        }
    }

    fn step_and_target(&self, index: usize) -> (usize, usize) {
        let targets = self.targets.max(1);
        ((index / targets) % self.horizon.max(1), index % targets)
    }

    /// Adds point forecasts and their labels, both `[count, horizon, targets]`.
    pub fn add_points(&mut self, forecast: &[f32], labels: &[f32]) {
        for (index, (&f, &a)) in forecast.iter().zip(labels).enumerate() {
            let (step, target) = self.step_and_target(index);
            let error = f64::from(f) - f64::from(a);
            if !error.is_finite() {
                continue;
            }
            let scale = self.scaling.mase_scale.get(target).copied().flatten();
            let smape = match &self.scaling.original_units {
                Some(norm) if target < norm.mean.len() => smape_term(
                    f64::from(norm.denormalize_value(target, f)),
                    f64::from(norm.denormalize_value(target, a)),
                ),
                _ => smape_term(f64::from(f), f64::from(a)),
            };
            for sums in [&mut self.steps[step], &mut self.overall] {
                sums.errors.add(f, a);
                match scale {
                    Some(scale) => {
                        sums.scaled_abs += error.abs() / scale;
                        sums.scaled_count += 1;
                    }
                    None => sums.unscaled = true,
                }
                if let Some(term) = smape {
                    sums.smape += term;
                    sums.smape_count += 1;
                }
            }
        }
    }

    /// Adds prediction intervals `[lower, upper]` and their labels, all
    /// `[count, horizon, targets]`.
    pub fn add_intervals(&mut self, lower: &[f32], upper: &[f32], labels: &[f32]) {
        for (index, ((&l, &u), &a)) in lower.iter().zip(upper).zip(labels).enumerate() {
            let (l, u, a) = (f64::from(l), f64::from(u), f64::from(a));
            let score = winkler_score(l, u, a, self.alpha);
            if !score.is_finite() {
                continue;
            }
            let (step, _) = self.step_and_target(index);
            for sums in [&mut self.interval_steps[step], &mut self.interval] {
                sums.covered += usize::from(l <= a && a <= u);
                sums.winkler += score;
                sums.width += u - l;
                sums.count += 1;
            }
        }
    }

    /// The scores so far.
    #[must_use]
    pub fn finish(&self) -> HorizonScores {
        let scored_intervals = self.interval.count > 0;
        HorizonScores {
            per_step: self.steps.iter().map(PointSums::finish).collect(),
            overall: self.overall.finish(),
            interval_per_step: if scored_intervals {
                self.interval_steps
                    .iter()
                    .map(IntervalSums::finish)
                    .collect()
            } else {
                Vec::new()
            },
            interval: scored_intervals.then(|| self.interval.finish()),
        }
    }
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

    #[test]
    fn seasonal_naive_scale_by_hand() {
        // Season 2: |3 − 1|, |2 − 2|, |7 − 3| → mean 2.
        let values = [1.0, 2.0, 3.0, 2.0, 7.0];
        assert!((seasonal_naive_scale(&values, 2).unwrap() - 2.0).abs() < 1e-12);
        // Season 0 means 1: |1|, |1|, |1|, |5| → 2.
        assert!((seasonal_naive_scale(&values, 0).unwrap() - 2.0).abs() < 1e-12);
        assert_eq!(seasonal_naive_scale(&[4.0; 6], 1), None);
        assert_eq!(seasonal_naive_scale(&values, 5), None);
    }

    #[test]
    fn smape_by_hand() {
        // 200·|1 − 3| / 4 = 100, 200·|2 − 2| / 4 = 0, the zero pair is skipped.
        let value = smape(&[1.0, 2.0, 0.0], &[3.0, 2.0, 0.0]).unwrap();
        assert!((value - 50.0).abs() < 1e-9, "{value}");
        assert_eq!(smape(&[0.0], &[0.0]), None);
    }

    #[test]
    fn winkler_score_by_hand() {
        // Inside: the width. Below by 1 at alpha 0.1: 2 + 20 · 1.
        assert!((winkler_score(1.0, 3.0, 2.0, 0.1) - 2.0).abs() < 1e-12);
        assert!((winkler_score(1.0, 3.0, 0.0, 0.1) - 22.0).abs() < 1e-12);
        assert!((winkler_score(1.0, 3.0, 3.5, 0.5) - 4.0).abs() < 1e-12);
    }

    #[test]
    fn skill_against_a_reference() {
        assert!((skill(0.5, 2.0).unwrap() - 0.75).abs() < 1e-12);
        assert!(skill(3.0, 2.0).unwrap() < 0.0);
        assert_eq!(skill(1.0, 0.0), None);
    }

    #[test]
    fn horizon_scorer_splits_steps_and_scales_targets() {
        // One window, horizon 2, two targets; MASE scales 1 and 2.
        let scaling = Scaling {
            mase_scale: vec![Some(1.0), Some(2.0)],
            original_units: None,
        };
        let mut scorer = HorizonScorer::new(2, 2, 0.5, scaling);
        let labels = [0.0, 0.0, 1.0, 1.0];
        scorer.add_points(&[1.0, 2.0, 1.0, 5.0], &labels);
        scorer.add_intervals(&[-1.0, -1.0, 0.0, 0.0], &[1.0, 1.0, 2.0, 0.5], &labels);
        let scores = scorer.finish();
        assert_eq!(scores.per_step.len(), 2);
        assert!((scores.per_step[0].mae - 1.5).abs() < 1e-12);
        assert!((scores.per_step[1].mae - 2.0).abs() < 1e-12);
        assert!((scores.overall.mse - (1.0 + 4.0 + 0.0 + 16.0) / 4.0).abs() < 1e-12);
        // Scaled errors: 1/1, 2/2, 0/1, 4/2 → mean 1.
        assert!((scores.overall.mase.unwrap() - 1.0).abs() < 1e-12);
        let interval = scores.interval.unwrap();
        assert_eq!(interval.count, 4);
        assert!((interval.coverage - 0.75).abs() < 1e-12);
        // Widths 2, 2, 2, 0.5; the last misses by 0.5 at alpha 0.5: + 2.
        assert!((interval.winkler - (2.0 + 2.0 + 2.0 + 2.5) / 4.0).abs() < 1e-12);
        assert!((scores.interval_per_step[1].coverage - 0.5).abs() < 1e-12);
    }

    #[test]
    fn mase_is_undefined_without_a_scale() {
        let mut scorer = HorizonScorer::new(1, 1, 0.1, Scaling::default());
        scorer.add_points(&[1.0], &[0.0]);
        let scores = scorer.finish();
        assert_eq!(scores.overall.mase, None);
        assert_eq!(scores.interval, None);
        assert!(scores.interval_per_step.is_empty());
    }
}
