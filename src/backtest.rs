//! Rolling-origin evaluation: forecast from many origins across the test part,
//! refitting as time moves on, and score every method on the same windows.
//!
//! Origin `k` is row `o_k = start + k × stride` of the series, the first
//! forecast step, where `start` is the first test row that has a full
//! look-back; there are at most [`BacktestConfig::origins`] of them, and every
//! forecast row lies inside the test part. At each origin a method may be
//! refitted on everything known then: the windows whose forecast rows all lie
//! before `o_k` (an expanding window from row 0, cut with
//! [`BacktestConfig::fit_stride`]). Cheap methods (the baselines) are refitted
//! at every origin; expensive ones (the LSTM) only at origins `0, n, 2n, …`
//! for `n =` [`BacktestConfig::refit_every`], or never when it is 0, in which
//! case they must come fitted. Then each method forecasts the one window at
//! `o_k`, and its errors are scored per horizon step and overall.
//!
//! Any forecaster takes part through [`ForecastMethod`]; [`CallbackMethod`]
//! wraps two closures (fit and forecast a batch of windows), which is how the
//! CLI brings in the LSTM.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::baselines::{Baseline, TrainingData};
use crate::metrics::{HorizonScorer, HorizonScores, Scaling};
use crate::prep::{self, PrepError, WindowSpec, Windows};

/// The error a method may fail with: any error, boxed.
pub type MethodError = Box<dyn std::error::Error + Send + Sync>;

/// Errors of a backtest.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// Windowing failed.
    #[error(transparent)]
    Prep(#[from] PrepError),
    /// The test part has no origin with a full look-back and horizon.
    #[error(
        "the test rows {rows:?} leave no forecast origin for look-back {lookback} and horizon \
         {horizon}"
    )]
    NoOrigins {
        /// The test part.
        rows: Range<usize>,
        /// Look-back steps.
        lookback: usize,
        /// Horizon steps.
        horizon: usize,
    },
    /// Stride or origin count is zero.
    #[error("the backtest needs at least one origin and a stride of at least 1")]
    ZeroOrigins,
    /// A method failed to fit or forecast.
    #[error("{method} failed at origin row {origin}: {source}")]
    Method {
        /// The method's name.
        method: String,
        /// The origin row at which it failed.
        origin: usize,
        /// What went wrong.
        source: MethodError,
    },
    /// A method returned a forecast of the wrong length.
    #[error("{method} returned {got} values, expected {expected}")]
    Shape {
        /// The method's name.
        method: String,
        /// Values expected (`horizon × targets`).
        expected: usize,
        /// Values returned.
        got: usize,
    },
}

/// How costly a method is to refit, which decides how often it is refitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefitCost {
    /// Refitted at every origin.
    Cheap,
    /// Refitted every [`BacktestConfig::refit_every`] origins.
    Expensive,
}

/// A forecaster that can take part in a backtest.
pub trait ForecastMethod {
    /// A short name for tables and JSON.
    fn name(&self) -> String;

    /// How often it is refitted.
    fn cost(&self) -> RefitCost;

    /// Fits on everything known at an origin.
    fn fit(&mut self, data: &TrainingData<'_>) -> Result<(), MethodError>;

    /// Forecasts `windows`, returning `[count, horizon, targets]`; `series`
    /// is the full normalised series the windows were cut from.
    fn forecast(&mut self, windows: &Windows, series: &[Vec<f32>])
    -> Result<Vec<f32>, MethodError>;
}

impl ForecastMethod for Baseline {
    fn name(&self) -> String {
        Baseline::name(self).to_owned()
    }

    fn cost(&self) -> RefitCost {
        RefitCost::Cheap
    }

    fn fit(&mut self, data: &TrainingData<'_>) -> Result<(), MethodError> {
        Ok(Baseline::fit(self, data)?)
    }

    fn forecast(
        &mut self,
        windows: &Windows,
        series: &[Vec<f32>],
    ) -> Result<Vec<f32>, MethodError> {
        Ok(Baseline::forecast(self, windows, series)?)
    }
}

/// An expensive method made of two closures: `fit` trains on the data known
/// at an origin, `forecast` forecasts a batch of windows (`[count, lookback,
/// features]` in, `[count, horizon, targets]` out).
pub struct CallbackMethod<F, P> {
    name: String,
    fit: F,
    forecast: P,
}

impl<F, P> CallbackMethod<F, P>
where
    F: FnMut(&TrainingData<'_>) -> Result<(), MethodError>,
    P: FnMut(&Windows) -> Result<Vec<f32>, MethodError>,
{
    /// A method called `name` from its two callbacks.
    pub fn new(name: impl Into<String>, fit: F, forecast: P) -> Self {
        Self {
            name: name.into(),
            fit,
            forecast,
        }
    }
}

impl<F, P> ForecastMethod for CallbackMethod<F, P>
where
    F: FnMut(&TrainingData<'_>) -> Result<(), MethodError>,
    P: FnMut(&Windows) -> Result<Vec<f32>, MethodError>,
{
    fn name(&self) -> String {
        self.name.clone()
    }

    fn cost(&self) -> RefitCost {
        RefitCost::Expensive
    }

    fn fit(&mut self, data: &TrainingData<'_>) -> Result<(), MethodError> {
        (self.fit)(data)
    }

    fn forecast(&mut self, windows: &Windows, _: &[Vec<f32>]) -> Result<Vec<f32>, MethodError> {
        (self.forecast)(windows)
    }
}

/// Where the origins go and how often methods are refitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacktestConfig {
    /// Most origins.
    pub origins: usize,
    /// Steps between consecutive origins.
    pub stride: usize,
    /// Expensive methods are refitted every this many origins, starting at
    /// the first; 0 never refits them.
    pub refit_every: usize,
    /// Stride of the windows cut for refitting (1 uses every window).
    pub fit_stride: usize,
}

/// The data a backtest runs on.
#[derive(Debug, Clone)]
pub struct BacktestData<'a> {
    /// Normalised series; channel `i` is window feature `i`, targets first.
    pub series: &'a [Vec<f32>],
    /// Number of target channels (the first of `series`).
    pub targets: usize,
    /// Look-back steps.
    pub lookback: usize,
    /// Horizon steps.
    pub horizon: usize,
    /// Rows of the test part: every forecast row lies inside.
    pub test: Range<usize>,
    /// MASE and sMAPE scaling, fixed from the training part.
    pub scaling: Scaling,
}

/// One method's backtest result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodReport {
    /// The method's name.
    pub name: String,
    /// How often it was fitted.
    pub fits: usize,
    /// Its errors, per horizon step and overall.
    pub scores: HorizonScores,
}

/// The result of a backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    /// The origin rows, in order.
    pub origins: Vec<usize>,
    /// One report per method, in the order given.
    pub methods: Vec<MethodReport>,
}

/// The origin rows of a backtest over `data.test`.
pub fn origins(
    config: &BacktestConfig,
    data: &BacktestData<'_>,
) -> Result<Vec<usize>, BacktestError> {
    if config.origins == 0 || config.stride == 0 {
        return Err(BacktestError::ZeroOrigins);
    }
    let start = data.test.start.max(data.lookback);
    let rows: Vec<usize> = (0..config.origins)
        .map(|k| start + k * config.stride)
        .take_while(|&origin| origin + data.horizon <= data.test.end)
        .collect();
    if rows.is_empty() || data.horizon == 0 || data.lookback == 0 {
        return Err(BacktestError::NoOrigins {
            rows: data.test.clone(),
            lookback: data.lookback,
            horizon: data.horizon,
        });
    }
    Ok(rows)
}

/// Runs the backtest of `methods` (see the module docs for the schedule).
pub fn run(
    config: &BacktestConfig,
    data: &BacktestData<'_>,
    methods: &mut [&mut dyn ForecastMethod],
) -> Result<BacktestReport, BacktestError> {
    let origin_rows = origins(config, data)?;
    let features: Vec<usize> = (0..data.series.len()).collect();
    let targets: Vec<usize> = (0..data.targets).collect();
    let spec = |stride: usize| WindowSpec {
        lookback: data.lookback,
        horizon: data.horizon,
        stride: stride.max(1),
    };
    let mut scorers = vec![
        HorizonScorer::new(data.horizon, data.targets, 0.1, data.scaling.clone());
        methods.len()
    ];
    let mut fits = vec![0; methods.len()];

    for (k, &origin) in origin_rows.iter().enumerate() {
        let due: Vec<bool> = methods
            .iter()
            .map(|method| match method.cost() {
                RefitCost::Cheap => true,
                RefitCost::Expensive => config.refit_every > 0 && k % config.refit_every == 0,
            })
            .collect();
        if due.iter().any(|&d| d) {
            let known = prep::make_windows(
                data.series,
                &features,
                &targets,
                0..origin,
                spec(config.fit_stride),
            )?;
            let training = TrainingData {
                series: data.series,
                rows: 0..origin,
                windows: &known,
            };
            for ((method, fit_count), _) in methods
                .iter_mut()
                .zip(&mut fits)
                .zip(&due)
                .filter(|(_, d)| **d)
            {
                method
                    .fit(&training)
                    .map_err(|source| BacktestError::Method {
                        method: method.name(),
                        origin,
                        source,
                    })?;
                *fit_count += 1;
            }
        }

        let window = prep::make_windows(
            data.series,
            &features,
            &targets,
            origin..origin + data.horizon,
            spec(1),
        )?;
        for (method, scorer) in methods.iter_mut().zip(&mut scorers) {
            let forecast =
                method
                    .forecast(&window, data.series)
                    .map_err(|source| BacktestError::Method {
                        method: method.name(),
                        origin,
                        source,
                    })?;
            if forecast.len() != window.labels.len() {
                return Err(BacktestError::Shape {
                    method: method.name(),
                    expected: window.labels.len(),
                    got: forecast.len(),
                });
            }
            scorer.add_points(&forecast, &window.labels);
        }
    }

    let reports = methods
        .iter()
        .zip(&scorers)
        .zip(fits)
        .map(|((method, scorer), fits)| MethodReport {
            name: method.name(),
            fits,
            scores: scorer.finish(),
        })
        .collect();
    Ok(BacktestReport {
        origins: origin_rows,
        methods: reports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forecasts zeros and records where it was fitted and what it saw.
    struct Recorder {
        cost: RefitCost,
        fitted_at: Vec<usize>,
        last_label_rows: Vec<usize>,
    }

    impl ForecastMethod for Recorder {
        fn name(&self) -> String {
            format!("{:?}", self.cost)
        }

        fn cost(&self) -> RefitCost {
            self.cost
        }

        fn fit(&mut self, data: &TrainingData<'_>) -> Result<(), MethodError> {
            self.fitted_at.push(data.rows.end);
            let last = data
                .windows
                .origins
                .last()
                .map_or(0, |o| o + data.windows.horizon);
            self.last_label_rows.push(last);
            Ok(())
        }

        fn forecast(&mut self, windows: &Windows, _: &[Vec<f32>]) -> Result<Vec<f32>, MethodError> {
            Ok(vec![0.0; windows.labels.len()])
        }
    }

    fn recorder(cost: RefitCost) -> Recorder {
        Recorder {
            cost,
            fitted_at: Vec::new(),
            last_label_rows: Vec::new(),
        }
    }

    fn data(series: &[Vec<f32>]) -> BacktestData<'_> {
        BacktestData {
            series,
            targets: 1,
            lookback: 5,
            horizon: 4,
            test: 60..100,
            scaling: Scaling::default(),
        }
    }

    #[test]
    fn origins_and_refits_follow_the_config() {
        let series = vec![(0..100).map(|t| t as f32).collect::<Vec<_>>()];
        let config = BacktestConfig {
            origins: 7,
            stride: 5,
            refit_every: 3,
            fit_stride: 1,
        };
        let mut cheap = recorder(RefitCost::Cheap);
        let mut expensive = recorder(RefitCost::Expensive);
        let report = run(&config, &data(&series), &mut [&mut cheap, &mut expensive]).unwrap();
        assert_eq!(report.origins, vec![60, 65, 70, 75, 80, 85, 90]);
        assert_eq!(report.methods[0].fits, 7);
        assert_eq!(report.methods[1].fits, 3);
        assert_eq!(expensive.fitted_at, vec![60, 75, 90]);
        // Nothing at or after the origin is seen while fitting.
        for (&origin, &last) in cheap.fitted_at.iter().zip(&cheap.last_label_rows) {
            assert_eq!(last, origin);
        }
        // One window of 4 steps per origin.
        assert_eq!(report.methods[0].scores.overall.count, 7 * 4);
        assert_eq!(report.methods[0].scores.per_step.len(), 4);
    }

    #[test]
    fn origins_stop_at_the_end_of_the_test_part() {
        let series = vec![vec![0.0; 100]];
        let config = BacktestConfig {
            origins: 100,
            stride: 10,
            refit_every: 0,
            fit_stride: 2,
        };
        let mut expensive = recorder(RefitCost::Expensive);
        let report = run(&config, &data(&series), &mut [&mut expensive]).unwrap();
        assert_eq!(report.origins, vec![60, 70, 80, 90]);
        assert_eq!(report.methods[0].fits, 0);
        let short = BacktestData {
            test: 60..63,
            ..data(&series)
        };
        assert!(matches!(
            origins(&config, &short),
            Err(BacktestError::NoOrigins { .. })
        ));
    }
}
