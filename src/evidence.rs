//! The evidence behind a forecast: the LSTM and every baseline scored on the
//! same windows, each with split-conformal intervals, and a plain verdict on
//! whether the network earns its cost.
//!
//! A teaching tool must show when the neural network is not better than a
//! simple rule. [`fit_baselines`] fits persistence, seasonal naive, drift and
//! the ridge linear AR on the training windows (the AR's ridge chosen on the
//! validation windows); [`score`] calibrates a method's intervals on its
//! validation forecasts and scores its test forecasts; [`compare`] does both
//! for every method and says which is best ([`Verdict`]).
//!
//! Errors are z-scores of the targets unless said otherwise; sMAPE is in the
//! data's units; skill is `1 − MAE / MAE(seasonal naive)`.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::baselines::{ArConfig, Baseline, SeasonChoice, TrainingData};
use crate::conformal::{Conformal, Intervals};
use crate::metrics::{self, HorizonScorer, HorizonScores, Scaling};
use crate::prep::{Normalizer, Windows};

/// Ridge penalties tried for the linear AR, chosen on the validation windows.
const RIDGE_GRID: [f64; 6] = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0];

/// The name of the network in comparisons.
pub const LSTM: &str = "lstm";

/// The reference method of the skill score.
pub const REFERENCE: &str = "seasonal_naive";

/// Why the evidence could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// A baseline could not be fitted or run.
    #[error("baseline: {0}")]
    Baseline(#[from] crate::baselines::BaselineError),
    /// Intervals could not be calibrated.
    #[error("intervals: {0}")]
    Conformal(#[from] crate::conformal::ConformalError),
}

/// What every method is scored on.
#[derive(Debug, Clone)]
pub struct EvidenceData<'a> {
    /// Normalised channels, targets first, `[features][rows]`.
    pub series: &'a [Vec<f32>],
    /// Rows of the training part (for the MASE scale and the season).
    pub train_rows: Range<usize>,
    /// Windows the baselines are fitted on (training part).
    pub train: &'a Windows,
    /// Windows the intervals are calibrated on (validation part).
    pub validation: &'a Windows,
    /// Windows every method is scored on (test part).
    pub test: &'a Windows,
    /// The statistics of `series` (targets first), for sMAPE in data units.
    pub normalizer: &'a Normalizer,
    /// Nominal coverage of the intervals, e.g. `0.9`.
    pub level: f64,
}

/// The fitted baselines and what was found while fitting them.
#[derive(Debug, Clone)]
pub struct FittedBaselines {
    /// Persistence, seasonal naive, drift and linear AR, fitted.
    pub methods: Vec<Baseline>,
    /// The season of the seasonal-naive baseline of the first target, in
    /// steps, if one was found (or set).
    pub season: Option<usize>,
    /// The linear AR's ridge penalty chosen on the validation windows.
    pub ar_ridge: f64,
}

/// Fits every baseline on the training windows of `data`.
pub fn fit_baselines(
    data: &EvidenceData<'_>,
    season: SeasonChoice,
) -> Result<FittedBaselines, EvidenceError> {
    let training = TrainingData {
        series: data.series,
        rows: data.train_rows.clone(),
        windows: data.train,
    };
    let mut methods = Baseline::standard(season, ArConfig::default());
    let mut found_season = None;
    let mut ar_ridge = ArConfig::default().ridge;
    for method in &mut methods {
        match method {
            Baseline::LinearAr(ar) => {
                ar_ridge = ar.fit_select_ridge(data.train, data.validation, &RIDGE_GRID)?;
            }
            Baseline::SeasonalNaive(naive) => {
                naive.fit(&training);
                found_season = naive.seasons.first().copied().flatten();
            }
            other => other.fit(&training)?,
        }
    }
    Ok(FittedBaselines {
        methods,
        season: found_season,
        ar_ridge,
    })
}

/// One method's scores on the test windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodEvidence {
    /// `lstm` or the baseline's name.
    pub name: String,
    /// Point and interval metrics per horizon step and overall.
    pub scores: HorizonScores,
    /// `1 − MAE / MAE(seasonal naive)`, once known.
    pub skill_mae: Option<f64>,
    /// `1 − MSE / MSE(seasonal naive)`, once known.
    pub skill_mse: Option<f64>,
    /// The calibrated interval half-widths.
    pub conformal: Conformal,
    /// The test forecasts, `[count, horizon, targets]`.
    pub forecast: Vec<f32>,
    /// Their intervals.
    pub intervals: Intervals,
}

/// How the MASE and sMAPE of `data`'s targets are scaled.
fn scaling(data: &EvidenceData<'_>, season: Option<usize>) -> Scaling {
    let targets = data.test.targets;
    let mase_scale = (0..targets)
        .map(|t| {
            let rows = data.train_rows.start..data.train_rows.end.min(data.series[t].len());
            metrics::seasonal_naive_scale(&data.series[t][rows], season.unwrap_or(1))
        })
        .collect();
    let targets_only = Normalizer {
        mean: data.normalizer.mean[..targets].to_vec(),
        std: data.normalizer.std[..targets].to_vec(),
    };
    Scaling {
        mase_scale,
        original_units: Some(targets_only),
    }
}

/// Calibrates a method's intervals on its `calibration` forecasts of the
/// validation windows and scores its `forecast` of the test windows.
pub fn score(
    name: &str,
    calibration: &[f32],
    forecast: Vec<f32>,
    data: &EvidenceData<'_>,
    season: Option<usize>,
) -> Result<MethodEvidence, EvidenceError> {
    let (validation, test) = (data.validation, data.test);
    let conformal = Conformal::calibrate(
        calibration,
        &validation.labels,
        validation.horizon,
        validation.targets,
        data.level,
    )?;
    let intervals = conformal.intervals(&forecast)?;
    let mut scorer = HorizonScorer::new(
        test.horizon,
        test.targets,
        conformal.alpha(),
        scaling(data, season),
    );
    scorer.add_points(&forecast, &test.labels);
    scorer.add_intervals(&intervals.lower, &intervals.upper, &test.labels);
    Ok(MethodEvidence {
        name: name.to_owned(),
        scores: scorer.finish(),
        skill_mae: None,
        skill_mse: None,
        conformal,
        forecast,
        intervals,
    })
}

/// Fills in every method's skill against the seasonal-naive reference.
pub fn add_skill(methods: &mut [MethodEvidence]) {
    let reference = methods
        .iter()
        .find(|m| m.name == REFERENCE)
        .map(|m| m.scores.overall);
    for method in methods {
        let overall = method.scores.overall;
        method.skill_mae = reference.and_then(|r| metrics::skill(overall.mae, r.mae));
        method.skill_mse = reference.and_then(|r| metrics::skill(overall.mse, r.mse));
    }
}

/// Whether the LSTM earns its cost, said plainly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The method with the lowest test MAE.
    pub best: String,
    /// Baselines the LSTM has a lower MAE than.
    pub lstm_beats: Vec<String>,
    /// Baselines with a lower (or equal) MAE than the LSTM.
    pub lstm_loses_to: Vec<String>,
    /// One sentence for people.
    pub sentence: String,
}

/// A method's name for people.
#[must_use]
pub fn label(name: &str) -> &str {
    match name {
        LSTM => "LSTM",
        "persistence" => "persistence (last value)",
        REFERENCE => "seasonal naive",
        "drift" => "drift",
        "linear_ar" => "linear autoregression",
        other => other,
    }
}

/// The verdict on `methods` (with the LSTM among them, if it was scored).
#[must_use]
pub fn verdict(methods: &[MethodEvidence]) -> Verdict {
    let mae = |m: &MethodEvidence| m.scores.overall.mae;
    let best = methods
        .iter()
        .filter(|m| mae(m).is_finite())
        .min_by(|a, b| mae(a).total_cmp(&mae(b)))
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let Some(lstm) = methods.iter().find(|m| m.name == LSTM) else {
        return Verdict {
            sentence: format!("Best baseline: {} (no LSTM scored).", label(&best)),
            best,
            lstm_beats: Vec::new(),
            lstm_loses_to: Vec::new(),
        };
    };
    let (beats, loses): (Vec<&MethodEvidence>, Vec<&MethodEvidence>) = methods
        .iter()
        .filter(|m| m.name != LSTM)
        .partition(|m| mae(lstm) < mae(m));
    let sentence = match loses.iter().min_by(|a, b| mae(a).total_cmp(&mae(b))) {
        None => format!(
            "The LSTM beats every baseline on the test windows (MAE {:.3} against {:.3} for \
             the best baseline).",
            mae(lstm),
            beats.iter().map(|m| mae(m)).fold(f64::INFINITY, f64::min)
        ),
        Some(better) => format!(
            "The LSTM is not better than {} on this data (MAE {:.3} against {:.3}, z-scores): \
             {} simpler method forecasts as well or better.",
            label(&better.name),
            mae(lstm),
            mae(better),
            if loses.len() > 1 { "a" } else { "the" }
        ),
    };
    Verdict {
        best,
        lstm_beats: beats.iter().map(|m| m.name.clone()).collect(),
        lstm_loses_to: loses.iter().map(|m| m.name.clone()).collect(),
        sentence,
    }
}

/// Every method's evidence, the skill scores and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The LSTM first (when scored), then the baselines.
    pub methods: Vec<MethodEvidence>,
    /// The season used by seasonal naive and MASE, if any.
    pub season: Option<usize>,
    /// The linear AR's ridge.
    pub ar_ridge: f64,
    /// Whether the LSTM earns its cost.
    pub verdict: Verdict,
}

/// Scores the LSTM (its `(validation, test)` forecasts, when given) and
/// every fitted baseline on `data`.
pub fn compare(
    lstm: Option<(&[f32], Vec<f32>)>,
    baselines: &FittedBaselines,
    data: &EvidenceData<'_>,
) -> Result<Comparison, EvidenceError> {
    let mut methods = Vec::with_capacity(baselines.methods.len() + 1);
    if let Some((calibration, forecast)) = lstm {
        methods.push(score(LSTM, calibration, forecast, data, baselines.season)?);
    }
    for baseline in &baselines.methods {
        let calibration = baseline.forecast(data.validation, data.series)?;
        let forecast = baseline.forecast(data.test, data.series)?;
        methods.push(score(
            baseline.name(),
            &calibration,
            forecast,
            data,
            baselines.season,
        )?);
    }
    add_skill(&mut methods);
    Ok(Comparison {
        verdict: verdict(&methods),
        methods,
        season: baselines.season,
        ar_ridge: baselines.ar_ridge,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prep::{WindowSpec, make_windows};

    /// A noisy daily cycle: seasonal naive and the AR do well, persistence
    /// less so.
    fn series(rows: usize) -> Vec<Vec<f32>> {
        let mut noise = 7u64;
        vec![
            (0..rows)
                .map(|t| {
                    noise = noise
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    let jitter = ((noise >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2;
                    (t as f32 * std::f32::consts::TAU / 24.0).sin() + jitter
                })
                .collect(),
        ]
    }

    #[test]
    fn baselines_are_compared_on_the_same_windows_with_a_verdict() {
        let series = series(900);
        let spec = WindowSpec {
            lookback: 48,
            horizon: 12,
            stride: 1,
        };
        let cut = |rows: Range<usize>| make_windows(&series, &[0], &[0], rows, spec).unwrap();
        let (train, validation, test) = (cut(0..600), cut(600..750), cut(750..900));
        let normalizer = Normalizer {
            mean: vec![0.0],
            std: vec![1.0],
        };
        let data = EvidenceData {
            series: &series,
            train_rows: 0..600,
            train: &train,
            validation: &validation,
            test: &test,
            normalizer: &normalizer,
            level: 0.9,
        };
        let baselines = fit_baselines(
            &data,
            SeasonChoice::Detect(crate::baselines::SeasonSearch::default()),
        )
        .unwrap();
        assert_eq!(baselines.season, Some(24));

        // A "network" that forecasts the persistence value: it must lose.
        let persistence = |windows: &Windows| {
            crate::metrics::persistence_forecast(
                &windows.inputs,
                windows.lookback,
                windows.features,
                windows.horizon,
                windows.targets,
            )
        };
        let comparison = compare(
            Some((&persistence(&validation), persistence(&test))),
            &baselines,
            &data,
        )
        .unwrap();
        let names: Vec<&str> = comparison.methods.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [LSTM, "persistence", REFERENCE, "drift", "linear_ar"]
        );
        let verdict = &comparison.verdict;
        assert!(
            verdict.lstm_loses_to.contains(&REFERENCE.to_owned()),
            "{verdict:?}"
        );
        assert!(
            verdict.sentence.starts_with("The LSTM is not better than"),
            "{verdict:?}"
        );
        assert_ne!(verdict.best, LSTM);

        let reference = &comparison.methods[2];
        assert_eq!(reference.skill_mae, Some(0.0));
        for method in &comparison.methods {
            let coverage = method.scores.interval.expect("intervals scored").coverage;
            assert!(
                (0.75..=1.0).contains(&coverage),
                "{}: {coverage}",
                method.name
            );
            assert_eq!(method.forecast.len(), test.labels.len());
        }
    }
}
