//! Baseline forecasts on the same windows as the LSTM, so that its scores
//! mean something.
//!
//! Every baseline reads [`Windows`] (inputs `[count, lookback, features]`,
//! targets as the first features, z-scored) and returns forecasts of shape
//! `[count, horizon, targets]`, like the labels. Baselines that need more
//! history than the look-back (a season longer than the window) read it from
//! the full normalised series: channel `i` of `series` is feature `i` of the
//! windows, and [`Windows::origins`] says where each window sits in it.
//!
//! - [`Baseline::Persistence`]: every step repeats the last observed value.
//! - [`Baseline::SeasonalNaive`]: every step repeats the value one season
//!   earlier, `x[r − m·⌈(h + 1) / m⌉]` for forecast row `r` at step `h`
//!   (0-based) and season `m`, so it only uses values before the origin. The
//!   season is given or detected by [`detect_season`] on the training part;
//!   without one it is persistence.
//! - [`Baseline::Drift`]: the line through the first and the last value of the
//!   look-back, extended past the origin.
//! - [`Baseline::LinearAr`]: a linear autoregressive model per target and
//!   horizon step, fitted by ridge least squares (see [`LinearAr`]).
//!
//! Fitting ([`Baseline::fit`]) sees only training data ([`TrainingData`]).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::prep::Windows;

/// Errors of the baselines.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BaselineError {
    /// A fitted baseline is asked to forecast windows of another shape.
    #[error(
        "windows are (look-back, features, horizon, targets) = {got:?}, the baseline was fitted on \
         {fitted:?}"
    )]
    Shape {
        /// The shape of the fitting windows.
        fitted: (usize, usize, usize, usize),
        /// The shape of the windows given now.
        got: (usize, usize, usize, usize),
    },
    /// A baseline that needs fitting was asked to forecast before it.
    #[error("the {0} baseline must be fitted before it forecasts")]
    NotFitted(&'static str),
    /// There are no training windows to fit on.
    #[error("no training windows to fit the {0} baseline on")]
    NoWindows(&'static str),
    /// The normal equations could not be solved (use a positive ridge).
    #[error("the least-squares system of the linear AR baseline is singular; use a positive ridge")]
    Singular,
    /// The windows have fewer features than targets.
    #[error("windows have {features} features but {targets} targets; targets must be features")]
    TargetsNotInputs {
        /// Features per step.
        features: usize,
        /// Targets per step.
        targets: usize,
    },
}

/// What a baseline is fitted on: the training part only.
#[derive(Debug, Clone)]
pub struct TrainingData<'a> {
    /// The normalised series; channel `i` is feature `i` of the windows.
    pub series: &'a [Vec<f32>],
    /// The rows of the training part (season detection reads these).
    pub rows: Range<usize>,
    /// Training windows cut from those rows.
    pub windows: &'a Windows,
}

/// How [`detect_season`] looks for a season.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeasonSearch {
    /// Longest season considered, in steps.
    pub max_lag: usize,
    /// Least autocorrelation a season must reach.
    pub min_correlation: f64,
}

impl Default for SeasonSearch {
    fn default() -> Self {
        Self {
            max_lag: 400,
            min_correlation: 0.3,
        }
    }
}

/// The sample autocorrelation of `values` at lags `0..=max_lag`.
///
/// Uses the usual biased estimator `Σ (x_t − m)(x_{t+k} − m) / Σ (x_t − m)²`,
/// which shrinks long lags towards zero. A constant series has correlation 0
/// at every lag but 0. Lags at or past `values.len()` are 0.
#[must_use]
pub fn autocorrelation(values: &[f32], max_lag: usize) -> Vec<f64> {
    let n = values.len();
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n.max(1) as f64;
    let centred: Vec<f64> = values.iter().map(|&v| f64::from(v) - mean).collect();
    let variance: f64 = centred.iter().map(|v| v * v).sum();
    (0..=max_lag)
        .map(|lag| {
            if lag == 0 {
                1.0
            } else if lag >= n || variance <= 0.0 {
                0.0
            } else {
                let sum: f64 = centred[lag..]
                    .iter()
                    .zip(&centred)
                    .map(|(a, b)| a * b)
                    .sum();
                sum / variance
            }
        })
        .collect()
}

/// Detects the season of `values` (the training part of one channel).
///
/// The season is the lag in `2..=max_lag` (and below half the series) with
/// the highest autocorrelation among local peaks (higher than the lag before,
/// at least the lag after), if that correlation is at least
/// `min_correlation`; otherwise `None`. Requiring a peak keeps a slowly
/// decaying autocorrelation (a trend or a random walk) from reading as a
/// season of 2; on ties the shorter lag wins, so a pure periodic series gives
/// its period, not a multiple of it.
#[must_use]
pub fn detect_season(values: &[f32], search: SeasonSearch) -> Option<usize> {
    let max_lag = search.max_lag.min(values.len() / 2);
    if max_lag < 2 {
        return None;
    }
    // One lag past the last to decide whether the last is a peak.
    let acf = autocorrelation(values, max_lag + 1);
    let mut best: Option<(usize, f64)> = None;
    for lag in 2..=max_lag {
        let is_peak = acf[lag] > acf[lag - 1] && acf[lag] >= acf[lag + 1];
        let better = best.is_none_or(|(_, r)| acf[lag] > r + 1e-9);
        if is_peak && acf[lag] >= search.min_correlation && better {
            best = Some((lag, acf[lag]));
        }
    }
    best.map(|(lag, _)| lag)
}

/// Where the season of the seasonal-naive baseline comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeasonChoice {
    /// Detected per target on the training part with [`detect_season`].
    Detect(SeasonSearch),
    /// Set by the user, in steps (0 means no season).
    Fixed(usize),
}

/// Settings of the linear autoregressive baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArConfig {
    /// Ridge penalty relative to the mean diagonal of the Gram matrix, so it
    /// does not depend on the scale of the data; must be positive for a
    /// look-back longer than the number of windows.
    pub ridge: f64,
    /// Also regress on the look-back of the other features (every feature but
    /// the target, raw z-scores), not only on the target's own look-back.
    pub other_features: bool,
}

impl Default for ArConfig {
    fn default() -> Self {
        Self {
            ridge: 1e-2,
            other_features: false,
        }
    }
}

/// A linear autoregressive forecaster, one ridge regression per target and
/// horizon step (the direct strategy: no forecast is fed back).
///
/// For target `t` with look-back values `x_0 … x_{L−1}` (the last is the
/// newest), the regressors are the differences `x_j − x_{L−1}` for `j < L−1`,
/// the last value `x_{L−1}` itself, optionally the look-back of the other
/// features, and an intercept; the response of step `h` is
/// `y_h − x_{L−1}`. This is an invertible change of the plain lag regression,
/// so any linear AR of order up to `L` can be represented; what it changes is
/// the ridge prior: every coefficient shrinks towards zero, which here is
/// the persistence forecast rather than the mean. The intercept is not
/// penalised. The normal equations `(ZᵀZ / n + λ D) B = ZᵀY / n` are solved by
/// Cholesky, with `λ = ridge × mean diag(ZᵀZ / n)` and `D` the identity
/// without the intercept.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearAr {
    /// The settings.
    pub config: ArConfig,
    fitted: Option<ArFit>,
}

#[derive(Debug, Clone, PartialEq)]
struct ArFit {
    shape: (usize, usize, usize, usize),
    /// Per target, `[regressors, horizon]` row-major.
    coefficients: Vec<Vec<f64>>,
}

impl LinearAr {
    /// An unfitted model with `config`.
    #[must_use]
    pub fn new(config: ArConfig) -> Self {
        Self {
            config,
            fitted: None,
        }
    }

    /// Fits on the training windows.
    pub fn fit(&mut self, train: &Windows) -> Result<(), BaselineError> {
        let systems = self.systems(train)?;
        let mut coefficients = Vec::with_capacity(systems.len());
        for system in &systems {
            coefficients.push(system.solve(self.config.ridge)?);
        }
        self.fitted = Some(ArFit {
            shape: shape_of(train),
            coefficients,
        });
        Ok(())
    }

    /// Fits on `train` once for every ridge in `grid` and keeps the one with
    /// the lowest mean squared error on `validation`; returns that ridge.
    pub fn fit_select_ridge(
        &mut self,
        train: &Windows,
        validation: &Windows,
        grid: &[f64],
    ) -> Result<f64, BaselineError> {
        let systems = self.systems(train)?;
        let mut best: Option<(f64, f64, ArFit)> = None;
        for &ridge in grid {
            let mut coefficients = Vec::with_capacity(systems.len());
            for system in &systems {
                coefficients.push(system.solve(ridge)?);
            }
            let fit = ArFit {
                shape: shape_of(train),
                coefficients,
            };
            let forecast = self.forecast_with(&fit, validation)?;
            let mse = crate::metrics::error_metrics(&forecast, &validation.labels)
                .rmse
                .powi(2);
            if best.as_ref().is_none_or(|(_, b, _)| mse < *b) {
                best = Some((ridge, mse, fit));
            }
        }
        let (ridge, _, fit) = best.ok_or(BaselineError::NoWindows("linear AR"))?;
        self.config.ridge = ridge;
        self.fitted = Some(fit);
        Ok(ridge)
    }

    fn systems(&self, train: &Windows) -> Result<Vec<NormalEquations>, BaselineError> {
        if train.is_empty() {
            return Err(BaselineError::NoWindows("linear AR"));
        }
        check_targets(train)?;
        let regressors = self.regressor_count(train);
        let mut systems = Vec::with_capacity(train.targets);
        let mut row = Vec::with_capacity(regressors);
        for target in 0..train.targets {
            let mut system = NormalEquations::new(regressors, train.horizon);
            let mut response = vec![0.0; train.horizon];
            for i in 0..train.len() {
                let last = self.regressors(train.input(i), train, target, &mut row);
                let label = train.label(i);
                for (step, value) in response.iter_mut().enumerate() {
                    *value = f64::from(label[step * train.targets + target]) - last;
                }
                system.add(&row, &response);
            }
            systems.push(system);
        }
        Ok(systems)
    }

    fn regressor_count(&self, windows: &Windows) -> usize {
        let own = windows.lookback;
        let others = if self.config.other_features {
            (windows.features - 1) * windows.lookback
        } else {
            0
        };
        own + others + 1
    }

    /// Writes the regressors of one window's `input` for `target` into `row`
    /// and returns the target's last look-back value.
    fn regressors(
        &self,
        input: &[f32],
        windows: &Windows,
        target: usize,
        row: &mut Vec<f64>,
    ) -> f64 {
        let features = windows.features;
        let lookback = windows.lookback;
        let value = |step: usize, feature: usize| f64::from(input[step * features + feature]);
        let last = value(lookback - 1, target);
        row.clear();
        row.extend((0..lookback - 1).map(|step| value(step, target) - last));
        row.push(last);
        if self.config.other_features {
            for feature in (0..features).filter(|&f| f != target) {
                row.extend((0..lookback).map(|step| value(step, feature)));
            }
        }
        row.push(1.0);
        last
    }

    /// Forecasts `windows`, `[count, horizon, targets]`.
    pub fn forecast(&self, windows: &Windows) -> Result<Vec<f32>, BaselineError> {
        let fit = self
            .fitted
            .as_ref()
            .ok_or(BaselineError::NotFitted("linear AR"))?;
        self.forecast_with(fit, windows)
    }

    fn forecast_with(&self, fit: &ArFit, windows: &Windows) -> Result<Vec<f32>, BaselineError> {
        check_shape(fit.shape, windows)?;
        let (horizon, targets) = (windows.horizon, windows.targets);
        let mut out = vec![0.0; windows.len() * horizon * targets];
        let mut row = Vec::new();
        for (i, forecast) in out.chunks_exact_mut(horizon * targets).enumerate() {
            for (target, coefficients) in fit.coefficients.iter().enumerate() {
                let last = self.regressors(windows.input(i), windows, target, &mut row);
                for step in 0..horizon {
                    let change: f64 = row
                        .iter()
                        .enumerate()
                        .map(|(r, z)| z * coefficients[r * horizon + step])
                        .sum();
                    forecast[step * targets + target] = (last + change) as f32;
                }
            }
        }
        Ok(out)
    }

    /// The fitted model of `target` at horizon step `step` as coefficients on
    /// the plain look-back values, `[lookback]` (oldest first), and the
    /// intercept; `None` before fitting, for another target or step, or with
    /// [`ArConfig::other_features`].
    #[must_use]
    pub fn lag_coefficients(&self, target: usize, step: usize) -> Option<(Vec<f64>, f64)> {
        let fit = self.fitted.as_ref()?;
        let (lookback, _, horizon, _) = fit.shape;
        let coefficients = fit.coefficients.get(target)?;
        if step >= horizon || self.config.other_features {
            return None;
        }
        let beta = |r: usize| coefficients[r * horizon + step];
        // y − x_last = Σ_{j<L−1} β_j (x_j − x_last) + γ x_last + c, so the
        // plain coefficient of x_last is 1 + γ − Σ β_j.
        let mut lags: Vec<f64> = (0..lookback - 1).map(beta).collect();
        let sum: f64 = lags.iter().sum();
        lags.push(1.0 + beta(lookback - 1) - sum);
        Some((lags, beta(lookback)))
    }
}

/// Accumulated normal equations `ZᵀZ / n`, `ZᵀY / n` of a least-squares fit
/// whose last regressor is the unpenalised intercept.
#[derive(Debug, Clone)]
struct NormalEquations {
    regressors: usize,
    outputs: usize,
    /// `[regressors, regressors]`, upper triangle filled.
    gram: Vec<f64>,
    /// `[regressors, outputs]`.
    cross: Vec<f64>,
    rows: usize,
}

impl NormalEquations {
    fn new(regressors: usize, outputs: usize) -> Self {
        Self {
            regressors,
            outputs,
            gram: vec![0.0; regressors * regressors],
            cross: vec![0.0; regressors * outputs],
            rows: 0,
        }
    }

    fn add(&mut self, row: &[f64], response: &[f64]) {
        let p = self.regressors;
        for (a, &za) in row.iter().enumerate() {
            let gram_row = &mut self.gram[a * p..(a + 1) * p];
            for (g, &zb) in gram_row[a..].iter_mut().zip(&row[a..]) {
                *g += za * zb;
            }
            let cross_row = &mut self.cross[a * self.outputs..(a + 1) * self.outputs];
            for (c, &y) in cross_row.iter_mut().zip(response) {
                *c += za * y;
            }
        }
        self.rows += 1;
    }

    /// Solves the ridge system; coefficients `[regressors, outputs]`.
    fn solve(&self, ridge: f64) -> Result<Vec<f64>, BaselineError> {
        let p = self.regressors;
        let n = self.rows.max(1) as f64;
        let mut a: Vec<f64> = self.gram.iter().map(|g| g / n).collect();
        // Mirror the upper triangle.
        for i in 0..p {
            for j in 0..i {
                a[i * p + j] = a[j * p + i];
            }
        }
        let penalised = p - 1;
        let mean_diag = (0..penalised).map(|i| a[i * p + i]).sum::<f64>() / penalised.max(1) as f64;
        let lambda = ridge * if mean_diag > 0.0 { mean_diag } else { 1.0 };
        for i in 0..penalised {
            a[i * p + i] += lambda;
        }
        let mut b: Vec<f64> = self.cross.iter().map(|c| c / n).collect();
        cholesky_solve(&mut a, p, &mut b, self.outputs)?;
        Ok(b)
    }
}

/// Solves `A X = B` in place for a symmetric positive definite `a`
/// (`[n, n]`) and `b` (`[n, m]`, overwritten by `X`) by Cholesky.
fn cholesky_solve(a: &mut [f64], n: usize, b: &mut [f64], m: usize) -> Result<(), BaselineError> {
    // Factor A = L Lᵀ, L in the lower triangle of `a`.
    for j in 0..n {
        let mut diag = a[j * n + j];
        for k in 0..j {
            diag -= a[j * n + k] * a[j * n + k];
        }
        if diag.is_nan() || diag <= 1e-12 * a[j * n + j].abs().max(1e-300) {
            return Err(BaselineError::Singular);
        }
        let diag = diag.sqrt();
        a[j * n + j] = diag;
        for i in j + 1..n {
            let mut value = a[i * n + j];
            for k in 0..j {
                value -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = value / diag;
        }
    }
    // Forward: L Y = B.
    for i in 0..n {
        for k in 0..i {
            let l = a[i * n + k];
            for c in 0..m {
                b[i * m + c] -= l * b[k * m + c];
            }
        }
        for c in 0..m {
            b[i * m + c] /= a[i * n + i];
        }
    }
    // Backward: Lᵀ X = Y.
    for i in (0..n).rev() {
        for k in i + 1..n {
            let l = a[k * n + i];
            for c in 0..m {
                b[i * m + c] -= l * b[k * m + c];
            }
        }
        for c in 0..m {
            b[i * m + c] /= a[i * n + i];
        }
    }
    Ok(())
}

fn shape_of(windows: &Windows) -> (usize, usize, usize, usize) {
    (
        windows.lookback,
        windows.features,
        windows.horizon,
        windows.targets,
    )
}

fn check_shape(
    fitted: (usize, usize, usize, usize),
    windows: &Windows,
) -> Result<(), BaselineError> {
    let got = shape_of(windows);
    if got == fitted {
        Ok(())
    } else {
        Err(BaselineError::Shape { fitted, got })
    }
}

fn check_targets(windows: &Windows) -> Result<(), BaselineError> {
    if windows.targets <= windows.features && windows.lookback > 0 {
        Ok(())
    } else {
        Err(BaselineError::TargetsNotInputs {
            features: windows.features,
            targets: windows.targets,
        })
    }
}

/// The seasonal-naive baseline and the seasons it found.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalNaive {
    /// Where the season comes from.
    pub choice: SeasonChoice,
    /// The season of each target after fitting (`None`: persistence).
    pub seasons: Vec<Option<usize>>,
}

impl SeasonalNaive {
    /// An unfitted seasonal-naive baseline.
    #[must_use]
    pub fn new(choice: SeasonChoice) -> Self {
        Self {
            choice,
            seasons: Vec::new(),
        }
    }

    /// Sets the season of every target from the training rows.
    pub fn fit(&mut self, data: &TrainingData<'_>) {
        let targets = data.windows.targets;
        self.seasons = (0..targets)
            .map(|target| match self.choice {
                SeasonChoice::Fixed(0) => None,
                SeasonChoice::Fixed(season) => Some(season),
                SeasonChoice::Detect(search) => data
                    .series
                    .get(target)
                    .and_then(|values| values.get(data.rows.clone()))
                    .and_then(|part| detect_season(part, search)),
            })
            .collect();
    }

    /// Forecasts `windows`, reading history older than the look-back from
    /// `series`. Where even `series` does not reach back far enough (the
    /// first season of the data), that step falls back to persistence.
    pub fn forecast(
        &self,
        windows: &Windows,
        series: &[Vec<f32>],
    ) -> Result<Vec<f32>, BaselineError> {
        check_targets(windows)?;
        if self.seasons.len() != windows.targets {
            return Err(BaselineError::NotFitted("seasonal naive"));
        }
        let (lookback, features, horizon, targets) = shape_of(windows);
        let mut out = Vec::with_capacity(windows.len() * horizon * targets);
        for (i, &origin) in windows.origins.iter().enumerate() {
            let input = windows.input(i);
            let window_start = origin - lookback;
            for step in 0..horizon {
                for (target, season) in self.seasons.iter().enumerate() {
                    let last = input[(lookback - 1) * features + target];
                    let value = season.and_then(|m| {
                        let back = m * (step + 1).div_ceil(m);
                        let row = (origin + step).checked_sub(back)?;
                        if row >= window_start {
                            Some(input[(row - window_start) * features + target])
                        } else {
                            series.get(target)?.get(row).copied()
                        }
                    });
                    out.push(value.unwrap_or(last));
                }
            }
        }
        Ok(out)
    }
}

/// The drift forecast: the line through the first and last look-back value of
/// each target, `[count, horizon, targets]`.
#[must_use]
pub fn drift_forecast(windows: &Windows) -> Vec<f32> {
    let (lookback, features, horizon, targets) = shape_of(windows);
    let mut out = Vec::with_capacity(windows.len() * horizon * targets);
    if lookback == 0 || targets > features {
        return out;
    }
    for i in 0..windows.len() {
        let input = windows.input(i);
        for step in 0..horizon {
            for target in 0..targets {
                let first = f64::from(input[target]);
                let last = f64::from(input[(lookback - 1) * features + target]);
                let slope = if lookback > 1 {
                    (last - first) / (lookback - 1) as f64
                } else {
                    0.0
                };
                out.push((last + slope * (step + 1) as f64) as f32);
            }
        }
    }
    out
}

/// One baseline forecaster.
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// The last observed value.
    Persistence,
    /// The value one season earlier.
    SeasonalNaive(SeasonalNaive),
    /// The line through the first and last look-back value.
    Drift,
    /// Ridge-regularised linear autoregression per horizon step.
    LinearAr(LinearAr),
}

impl Baseline {
    /// The four baselines in their usual order: persistence, seasonal naive,
    /// drift, linear AR.
    #[must_use]
    pub fn standard(season: SeasonChoice, ar: ArConfig) -> Vec<Self> {
        vec![
            Self::Persistence,
            Self::SeasonalNaive(SeasonalNaive::new(season)),
            Self::Drift,
            Self::LinearAr(LinearAr::new(ar)),
        ]
    }

    /// A short name for tables and JSON.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Persistence => "persistence",
            Self::SeasonalNaive(_) => "seasonal_naive",
            Self::Drift => "drift",
            Self::LinearAr(_) => "linear_ar",
        }
    }

    /// Fits on the training part (a no-op for persistence and drift).
    pub fn fit(&mut self, data: &TrainingData<'_>) -> Result<(), BaselineError> {
        match self {
            Self::Persistence | Self::Drift => Ok(()),
            Self::SeasonalNaive(naive) => {
                naive.fit(data);
                Ok(())
            }
            Self::LinearAr(ar) => ar.fit(data.windows),
        }
    }

    /// Forecasts `windows`, `[count, horizon, targets]`; `series` is the full
    /// normalised series the windows were cut from.
    pub fn forecast(
        &self,
        windows: &Windows,
        series: &[Vec<f32>],
    ) -> Result<Vec<f32>, BaselineError> {
        check_targets(windows)?;
        match self {
            Self::Persistence => Ok(crate::metrics::persistence_forecast(
                &windows.inputs,
                windows.lookback,
                windows.features,
                windows.horizon,
                windows.targets,
            )),
            Self::SeasonalNaive(naive) => naive.forecast(windows, series),
            Self::Drift => Ok(drift_forecast(windows)),
            Self::LinearAr(ar) => ar.forecast(windows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prep::{WindowSpec, make_windows};

    fn windows(
        series: &[Vec<f32>],
        part: Range<usize>,
        lookback: usize,
        horizon: usize,
    ) -> Windows {
        let features: Vec<usize> = (0..series.len()).collect();
        let spec = WindowSpec {
            lookback,
            horizon,
            stride: 1,
        };
        make_windows(series, &features, &[0], part, spec).unwrap()
    }

    #[test]
    fn autocorrelation_of_an_alternating_series() {
        let values: Vec<f32> = (0..100)
            .map(|t| if t % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let acf = autocorrelation(&values, 3);
        assert!((acf[0] - 1.0).abs() < 1e-12);
        assert!((acf[1] + 0.99).abs() < 1e-9, "{acf:?}");
        assert!((acf[2] - 0.98).abs() < 1e-9, "{acf:?}");
        assert_eq!(autocorrelation(&[2.0; 10], 2), vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn seasonal_naive_reaches_before_a_short_look_back() {
        // Period 10, look-back 4: every forecast needs rows before the window.
        let period = |t: usize| ((t * 7) % 10) as f32;
        let series = vec![(0..120).map(period).collect::<Vec<_>>()];
        let train = windows(&series, 0..80, 4, 15);
        let mut naive = SeasonalNaive::new(SeasonChoice::Fixed(10));
        naive.fit(&TrainingData {
            series: &series,
            rows: 0..80,
            windows: &train,
        });
        let test = windows(&series, 80..120, 4, 15);
        let forecast = naive.forecast(&test, &series).unwrap();
        assert_eq!(forecast, test.labels);
        // Without the series, the first windows fall back to persistence.
        let train_forecast = naive.forecast(&train, &series).unwrap();
        assert_ne!(train_forecast, train.labels);
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        // [[4, 2], [2, 3]] x = [[2, 0], [1, 1]]ᵀ columns.
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, 0.0, 1.0, 1.0];
        cholesky_solve(&mut a, 2, &mut b, 2).unwrap();
        // Column 0: x = [0.5, 0]; column 1: x = [-0.25, 0.5].
        let expected = [0.5, -0.25, 0.0, 0.5];
        for (got, want) in b.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{b:?}");
        }
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        let mut rhs = vec![1.0, 1.0];
        assert_eq!(
            cholesky_solve(&mut singular, 2, &mut rhs, 1),
            Err(BaselineError::Singular)
        );
    }

    #[test]
    fn a_huge_ridge_shrinks_the_ar_to_persistence() {
        let series = vec![(0..300).map(|t| (t as f32 * 0.3).sin()).collect::<Vec<_>>()];
        let train = windows(&series, 0..200, 8, 3);
        let test = windows(&series, 200..300, 8, 3);
        let mut ar = LinearAr::new(ArConfig {
            ridge: 1e9,
            other_features: false,
        });
        ar.fit(&train).unwrap();
        let persistence = Baseline::Persistence.forecast(&test, &series).unwrap();
        let forecast = ar.forecast(&test).unwrap();
        let gap = crate::metrics::error_metrics(&forecast, &persistence);
        // Only the unpenalised intercept (the mean change) is left.
        assert!(gap.mae < 0.05, "{gap:?}");
        let mut sharp = LinearAr::new(ArConfig {
            ridge: 1e-8,
            other_features: false,
        });
        sharp.fit(&train).unwrap();
        let sharp_error =
            crate::metrics::error_metrics(&sharp.forecast(&test).unwrap(), &test.labels);
        assert!(sharp_error.rmse < 0.01, "{sharp_error:?}");
    }
}
