//! Evidence that the yardsticks measure what they claim: the baselines, the
//! metrics, conformal intervals and the backtest, each on a series whose
//! right answer is known.

// Native only: the wasm32 test runner has its own tests.
#![cfg(not(target_arch = "wasm32"))]

use std::f64::consts::TAU;
use std::ops::Range;

use twinlab::backtest::{self, BacktestConfig, BacktestData, CallbackMethod, ForecastMethod};
use twinlab::baselines::{
    ArConfig, Baseline, BaselineError, LinearAr, SeasonChoice, SeasonSearch, SeasonalNaive,
    TrainingData, detect_season, drift_forecast,
};
use twinlab::conformal::Conformal;
use twinlab::metrics::{self, HorizonScorer, Scaling, error_metrics};
use twinlab::prep::{WindowSpec, Windows, make_windows};
use twinlab::train::SplitMix64;

/// Standard normal draws (Box–Muller on a seeded generator).
struct Gaussian(SplitMix64);

impl Gaussian {
    fn new(seed: u64) -> Self {
        Self(SplitMix64::new(seed))
    }

    fn uniform(&mut self) -> f64 {
        // 53 random bits in (0, 1].
        ((self.0.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (TAU * v).cos()
    }
}

fn windows(series: &[Vec<f32>], rows: Range<usize>, lookback: usize, horizon: usize) -> Windows {
    let spec = WindowSpec {
        lookback,
        horizon,
        stride: 1,
    };
    make_windows(series, &[0], &[0], rows, spec).expect("the spec is valid")
}

/// A period-24 pattern with two harmonics, so that no shorter lag matches.
fn periodic(t: usize) -> f32 {
    let phase = TAU * (t % 24) as f64 / 24.0;
    (phase.sin() + 0.5 * (2.0 * phase + 1.0).cos()) as f32
}

#[test]
fn seasonal_naive_is_exact_on_a_periodic_series_and_finds_its_period() {
    let series = vec![(0..2_000).map(periodic).collect::<Vec<_>>()];
    assert_eq!(
        detect_season(&series[0][..1_200], SeasonSearch::default()),
        Some(24)
    );

    // Look-back 16 is shorter than the season, horizon 30 longer.
    let train = windows(&series, 0..1_200, 16, 30);
    let mut naive = Baseline::SeasonalNaive(SeasonalNaive::new(SeasonChoice::Detect(
        SeasonSearch::default(),
    )));
    let data = TrainingData {
        series: &series,
        rows: 0..1_200,
        windows: &train,
    };
    naive.fit(&data).expect("seasonal naive fits");
    let test = windows(&series, 1_200..2_000, 16, 30);
    let forecast = naive.forecast(&test, &series).expect("it forecasts");
    let error = error_metrics(&forecast, &test.labels);
    assert!(error.mae < 1e-6, "{error:?}");
    let persistence = Baseline::Persistence
        .forecast(&test, &series)
        .expect("it forecasts");
    assert!(error_metrics(&persistence, &test.labels).mae > 0.3);
}

#[test]
fn the_season_survives_noise() {
    let mut noise = Gaussian::new(11);
    let values: Vec<f32> = (0..3_000)
        .map(|t| periodic(t) + 0.3 * noise.next() as f32)
        .collect();
    assert_eq!(detect_season(&values, SeasonSearch::default()), Some(24));
}

#[test]
fn no_season_in_a_trend_or_white_noise() {
    let trend: Vec<f32> = (0..500).map(|t| t as f32).collect();
    assert_eq!(detect_season(&trend, SeasonSearch::default()), None);
    let mut noise = Gaussian::new(5);
    let values: Vec<f32> = (0..2_000).map(|_| noise.next() as f32).collect();
    assert_eq!(detect_season(&values, SeasonSearch::default()), None);
}

#[test]
fn drift_extends_a_line_exactly() {
    let series = vec![(0..40).map(|t| 0.5 * t as f32 - 3.0).collect::<Vec<_>>()];
    let w = windows(&series, 0..40, 6, 4);
    let forecast = drift_forecast(&w);
    let error = error_metrics(&forecast, &w.labels);
    assert!(error.rmse < 1e-5, "{error:?}");
    let persistence = Baseline::Persistence
        .forecast(&w, &series)
        .expect("it forecasts");
    assert!(error_metrics(&persistence, &w.labels).mae > 0.5);
}

#[test]
fn linear_ar_refuses_other_shapes_and_unfitted_use() {
    let series = vec![(0..60).map(|t| (t as f32 * 0.1).sin()).collect::<Vec<_>>()];
    let mut ar = LinearAr::new(ArConfig::default());
    let w = windows(&series, 0..60, 5, 2);
    assert_eq!(ar.forecast(&w), Err(BaselineError::NotFitted("linear AR")));
    ar.fit(&w).expect("the AR fits");
    let other = windows(&series, 0..60, 6, 2);
    assert!(matches!(
        ar.forecast(&other),
        Err(BaselineError::Shape { .. })
    ));
}

#[test]
fn linear_ar_recovers_an_ar2_process_and_beats_persistence() {
    // x_t = 0.5 x_{t−1} + 0.3 x_{t−2} + e_t, e_t ~ N(0, 1).
    let mut noise = Gaussian::new(3);
    let mut values = vec![0.0f64, 0.0];
    for t in 2..8_200 {
        values.push(0.5 * values[t - 1] + 0.3 * values[t - 2] + noise.next());
    }
    let series = vec![values[200..].iter().map(|&v| v as f32).collect::<Vec<_>>()];
    let train = windows(&series, 0..5_000, 6, 4);
    let test = windows(&series, 5_000..8_000, 6, 4);

    let mut ar = LinearAr::new(ArConfig {
        ridge: 1e-6,
        other_features: false,
    });
    ar.fit(&train).expect("the AR fits");
    let (lags, intercept) = ar.lag_coefficients(0, 0).expect("fitted, one target");
    let expected = [0.0, 0.0, 0.0, 0.0, 0.3, 0.5];
    for (got, want) in lags.iter().zip(expected) {
        assert!((got - want).abs() < 0.06, "{lags:?}");
    }
    assert!(intercept.abs() < 0.06, "{intercept}");

    let forecast = ar.forecast(&test).expect("it forecasts");
    let persistence = Baseline::Persistence
        .forecast(&test, &series)
        .expect("it forecasts");
    let ar_mse = error_metrics(&forecast, &test.labels).rmse.powi(2);
    let persistence_mse = error_metrics(&persistence, &test.labels).rmse.powi(2);
    assert!(
        ar_mse < 0.8 * persistence_mse,
        "AR {ar_mse}, persistence {persistence_mse}"
    );
    // One step ahead, the best possible MSE is the noise variance, 1.
    let mut scorer = HorizonScorer::new(4, 1, 0.1, Scaling::default());
    scorer.add_points(&forecast, &test.labels);
    let first_step = scorer.finish().per_step[0].mse;
    assert!((first_step - 1.0).abs() < 0.1, "{first_step}");
}

#[test]
fn conformal_coverage_on_iid_noise_is_near_nominal() {
    let mut noise = Gaussian::new(21);
    let mut draw = |n: usize| (0..n).map(|_| noise.next() as f32).collect::<Vec<_>>();
    let (horizon, calibration_windows, test_windows) = (3, 4_000, 10_000);
    let calibration = draw(calibration_windows * horizon);
    let test = draw(test_windows * horizon);
    let zeros = vec![0.0; test.len()];

    for level in [0.9, 0.5] {
        let conformal =
            Conformal::calibrate(&zeros[..calibration.len()], &calibration, horizon, 1, level)
                .expect("calibrates");
        let intervals = conformal.intervals(&zeros).expect("whole windows");
        let mut scorer = HorizonScorer::new(horizon, 1, conformal.alpha(), Scaling::default());
        scorer.add_intervals(&intervals.lower, &intervals.upper, &test);
        let scores = scorer.finish();
        for step in &scores.interval_per_step {
            assert!((step.coverage - level).abs() < 0.03, "{level}: {step:?}");
        }
        // The half-width estimates the normal quantile (1.645 at 90%).
        if level > 0.8 {
            for &radius in &conformal.radius {
                assert!((radius - 1.645).abs() < 0.2, "{:?}", conformal.radius);
            }
        }
    }
}

#[test]
fn winkler_and_mase_on_hand_computed_cases() {
    // Training part 1, 3, 2, 4: naive MAE (season 1) = (2 + 1 + 2) / 3.
    let scale = metrics::seasonal_naive_scale(&[1.0, 3.0, 2.0, 4.0], 1).expect("has a scale");
    assert!((scale - 5.0 / 3.0).abs() < 1e-12);
    let scaling = Scaling {
        mase_scale: vec![Some(scale)],
        original_units: None,
    };
    // One window of two steps: errors 1 and 2, MAE 1.5, MASE 0.9.
    let mut scorer = HorizonScorer::new(2, 1, 0.2, scaling);
    scorer.add_points(&[5.0, 4.0], &[4.0, 6.0]);
    // Intervals [4, 6] holds 4; [3, 5] misses 6 by 1: 2 + (2 / 0.2) × 1 = 12.
    scorer.add_intervals(&[4.0, 3.0], &[6.0, 5.0], &[4.0, 6.0]);
    let scores = scorer.finish();
    assert!((scores.overall.mase.expect("scaled") - 0.9).abs() < 1e-12);
    let interval = scores.interval.expect("intervals were scored");
    // Mean of the two scores, 2 and 12.
    assert!((interval.winkler - 7.0).abs() < 1e-12);
    assert!((interval.coverage - 0.5).abs() < 1e-12);
    assert!((metrics::skill(1.5, 3.0).expect("positive reference") - 0.5).abs() < 1e-12);
}

#[test]
fn backtest_origins_and_refits_are_as_asked() {
    let series = vec![(0..1_000).map(periodic).collect::<Vec<_>>()];
    let config = BacktestConfig {
        origins: 10,
        stride: 7,
        refit_every: 4,
        fit_stride: 3,
    };
    let data = BacktestData {
        series: &series,
        targets: 1,
        lookback: 12,
        horizon: 6,
        test: 900..1_000,
        scaling: Scaling::default(),
    };
    let mut seen_rows = Vec::new();
    let mut zero = CallbackMethod::new(
        "zero",
        |training: &TrainingData<'_>| {
            seen_rows.push(training.rows.end);
            Ok(())
        },
        |windows: &Windows| Ok(vec![0.0; windows.labels.len()]),
    );
    let mut naive = Baseline::SeasonalNaive(SeasonalNaive::new(SeasonChoice::Fixed(24)));
    let mut methods: [&mut dyn ForecastMethod; 2] = [&mut zero, &mut naive];
    let report = backtest::run(&config, &data, &mut methods).expect("the backtest runs");
    drop(zero);

    let expected: Vec<usize> = (0..10).map(|k| 900 + 7 * k).collect();
    assert_eq!(report.origins, expected);
    assert_eq!(report.methods[0].fits, 3);
    assert_eq!(seen_rows, vec![900, 928, 956]);
    assert_eq!(report.methods[1].fits, 10);
    assert!(report.methods[1].scores.overall.mae < 1e-6);
    assert!(report.methods[0].scores.overall.mae > 0.3);
    assert_eq!(report.methods[0].scores.overall.count, 10 * 6);
}
