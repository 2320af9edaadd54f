//! Remaining useful life (RUL) of the assets of a fleet.
//!
//! Training data follows the run-to-failure convention of NASA's C-MAPSS:
//! every training unit runs until it fails, so the RUL of a row is the
//! number of cycles until that unit's last row. It is capped with the usual
//! piecewise-linear ceiling ([`RulSetup::cap`], 125 cycles by default): early
//! in life, wear cannot be seen in the sensors, so the target is flat until
//! the cap and falls by one per cycle after it.
//!
//! [`train`] picks the sensors, normalises them with statistics of the
//! training units, cuts windows inside each unit (no window crosses two
//! units), holds some units out for early stopping and fits the same LSTM as
//! the channel forecaster with a direct (not residual) head. [`evaluate`]
//! predicts the RUL of every test unit at every cycle and at its last one,
//! with a band from the validation residuals, and scores it against the true
//! RUL: RMSE and the PHM08 score (see [`phm08_score`]).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use burn::tensor::Device;

use crate::artifact::ModelMeta;
use crate::chart::{BandSegment, ForecastSegment, ForecastView, SeriesLabels};
use crate::ingest::{Fleet, Unit};
use crate::model::{ForecasterConfig, OutputKind};
use crate::pipeline::{PipelineError, TrainedModel};
use crate::prep::{Normalizer, Sequences, SplitFractions, WindowSpec, Windows};
use crate::train::{self, Control, Progress, SplitMix64, TrainConfig};

/// Name of the target in model files.
pub const RUL_TARGET: &str = "RUL";

/// Windows predicted per call to the network.
const PREDICT_CHUNK: usize = 1024;

/// Whole unit histories predicted per call to the network.
const SEQUENCE_BATCH: usize = 64;

/// A sensor whose absolute correlation with the capped RUL of the training
/// units is below this carries no sign of wear and is left out by default.
const MIN_CORRELATION: f64 = 0.1;

fn no_smoothing() -> f32 {
    1.0
}

fn one_member() -> usize {
    1
}

/// Everything the user chooses before training a RUL model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulSetup {
    /// Sensor channels fed to the network.
    pub inputs: Vec<String>,
    /// When above 0, each sensor is also fed as its deviation from the
    /// unit's own mean over its first this many cycles (its baseline when
    /// new), which takes out the differences between units that are not
    /// wear. Causal: before that many cycles, the mean so far.
    #[serde(default)]
    pub baseline_cycles: usize,
    /// Cycles of history per window; 0 reads each unit's whole history from
    /// its first cycle (one sequence per unit, a RUL at every cycle).
    pub window: usize,
    /// Ceiling of the RUL target, in cycles.
    pub cap: f32,
    /// Hidden units per LSTM layer.
    pub hidden: usize,
    /// Stacked LSTM layers.
    pub layers: usize,
    /// Dropout share of hidden activations while training.
    #[serde(default)]
    pub dropout: f32,
    /// Share of the training units held out for early stopping.
    pub validation_units: f32,
    /// Weight of the newest reading in the causal exponential smoothing of
    /// every sensor (1 = no smoothing). Smoothing runs forward in time
    /// within each unit, so a live twin can apply it as readings arrive.
    #[serde(default = "no_smoothing")]
    pub smoothing: f32,
    /// Networks trained and averaged (a deep ensemble saved as one
    /// network). Above 1, the units are cut into this many seeded folds and
    /// each network holds out one of them for early stopping instead of
    /// [`RulSetup::validation_units`]; training takes this many times as
    /// long.
    #[serde(default = "one_member")]
    pub members: usize,
    /// Optimiser settings (the seed also picks the validation units).
    pub training: TrainConfig,
}

impl RulSetup {
    /// Defaults for `fleet`: the sensors that move with wear and the unit's
    /// age (its cycle column), each unit's whole history read as one
    /// sequence (a RUL at every cycle), a cap of 125 cycles, and a deep
    /// ensemble of ten small networks, each holding out a tenth of the
    /// units for early stopping.
    ///
    /// On NASA C-MAPSS FD001 this was the best setting found that trains
    /// in about two minutes natively (see `twinlab rul`): whole histories
    /// cost far less per epoch than 30-cycle windows and predict as well,
    /// the forget-gate bias shortens the plateau before the networks use
    /// the history, and the ensemble takes out most of the seed-to-seed
    /// spread. The age took the capped RMSE from 13.4 to 12.4 (five
    /// members, 30 epochs); with it, the networks go on improving: 12.2 at
    /// 60 epochs, 12.05 at 100, and 11.7 with ten members that each train
    /// on nine tenths of the units instead of four fifths (seeds 1–5).
    #[must_use]
    pub fn suggest(fleet: &Fleet) -> Self {
        let cap = 125.0;
        let inputs = default_inputs(fleet, cap);
        Self {
            inputs,
            baseline_cycles: 0,
            window: 0,
            cap,
            hidden: 32,
            layers: 1,
            dropout: 0.0,
            validation_units: 0.2,
            smoothing: 1.0,
            members: 10,
            training: TrainConfig {
                epochs: 100,
                batch_size: 8,
                learning_rate: 5e-3,
                patience: 15,
                seed: 42,
                decay_after: 4,
                weight_decay: 0.0,
                late_weight: 1.0,
                forget_bias: 1.0,
            },
        }
    }
}

/// The inputs [`RulSetup::suggest`] picks with a cap of `cap`: the
/// [`informative_channels`], then the unit's age (the cycle column). The
/// age tells a network how long the unit has run already, which the sensor
/// readings of a young unit do not.
#[must_use]
pub fn default_inputs(fleet: &Fleet, cap: f32) -> Vec<String> {
    let mut inputs = informative_channels(fleet, cap);
    inputs.push(fleet.cycle_column.clone());
    inputs
}

/// The channels whose correlation with the capped RUL is at least
/// [`MIN_CORRELATION`] in absolute value, in file order.
#[must_use]
pub fn informative_channels(fleet: &Fleet, cap: f32) -> Vec<String> {
    let labels: Vec<f64> = fleet
        .units
        .iter()
        .flat_map(|unit| rul_labels(unit, None, cap))
        .map(f64::from)
        .collect();
    fleet
        .channel_names
        .iter()
        .enumerate()
        .filter(|(_, name)| !fleet.constant_channels.contains(name))
        .filter(|&(index, _)| {
            let values: Vec<f64> = fleet
                .units
                .iter()
                .flat_map(|unit| unit.channels[index].iter().map(|&v| f64::from(v)))
                .collect();
            correlation(&values, &labels).is_some_and(|r| r.abs() >= MIN_CORRELATION)
        })
        .map(|(_, name)| name.clone())
        .collect()
}

/// Pearson correlation, or `None` when either side has no spread.
fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len().min(b.len());
    if n < 2 {
        return None;
    }
    let mean = |v: &[f64]| v[..n].iter().sum::<f64>() / n as f64;
    let (ma, mb) = (mean(a), mean(b));
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (da, db) = (a[i] - ma, b[i] - mb);
        cov += da * db;
        va += da * da;
        vb += db * db;
    }
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// The RUL of every row of `unit`, capped at `cap`.
///
/// From the file's RUL column when it has one; otherwise `end_rul` (the true
/// RUL at the last row, 0 for run-to-failure data) plus the cycles between
/// the row and the last row.
#[must_use]
pub fn rul_labels(unit: &Unit, end_rul: Option<f32>, cap: f32) -> Vec<f32> {
    if let Some(given) = &unit.rul {
        return given.iter().map(|&v| v.min(cap)).collect();
    }
    let last = unit.cycles.last().copied().unwrap_or_default();
    let end = f64::from(end_rul.unwrap_or(0.0));
    unit.cycles
        .iter()
        .map(|&cycle| ((last - cycle + end) as f32).min(cap))
        .collect()
}

/// The PHM08 score of one prediction: with `d = predicted − true`,
/// `exp(−d/13) − 1` when early (`d < 0`) and `exp(d/10) − 1` when late, so a
/// late prediction (the asset fails before the model said) costs more.
#[must_use]
pub fn phm08_score(predicted: f32, truth: f32) -> f64 {
    let d = f64::from(predicted) - f64::from(truth);
    if d < 0.0 {
        (-d / 13.0).exp() - 1.0
    } else {
        (d / 10.0).exp() - 1.0
    }
}

/// Errors of RUL predictions against the truth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RulScores {
    /// Units scored.
    pub units: usize,
    /// Root mean squared error, cycles.
    pub rmse: f64,
    /// Mean absolute error, cycles.
    pub mae: f64,
    /// Sum of [`phm08_score`] over the units.
    pub score: f64,
}

impl RulScores {
    /// Scores `predicted` against `truth`, pair by pair.
    #[must_use]
    pub fn of(predicted: &[f32], truth: &[f32]) -> Self {
        let n = predicted.len().min(truth.len());
        if n == 0 {
            return Self::default();
        }
        let (mut squared, mut absolute, mut score) = (0.0, 0.0, 0.0);
        for (&p, &t) in predicted.iter().zip(truth) {
            let d = f64::from(p) - f64::from(t);
            squared += d * d;
            absolute += d.abs();
            score += phm08_score(p, t);
        }
        Self {
            units: n,
            rmse: (squared / n as f64).sqrt(),
            mae: absolute / n as f64,
            score,
        }
    }
}

/// What a remaining-useful-life model keeps in its file beyond the network
/// and the normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulMeta {
    /// Ceiling of the RUL target, cycles.
    pub cap: f32,
    /// The unit column of the training fleet.
    pub unit_column: String,
    /// The cycle column of the training fleet.
    pub cycle_column: String,
    /// The training units held out for early stopping and the band.
    pub validation_units: Vec<i64>,
    /// The prediction band fitted on them.
    pub band: RulBand,
    /// The sensor smoothing used in training ([`RulSetup::smoothing`]).
    #[serde(default = "no_smoothing")]
    pub smoothing: f32,
    /// The baseline length used in training ([`RulSetup::baseline_cycles`]).
    #[serde(default)]
    pub baseline_cycles: usize,
    /// Networks averaged in the model ([`RulSetup::members`]); the network
    /// in the file holds them all.
    #[serde(default = "one_member")]
    pub members: usize,
}

impl RulMeta {
    /// Network input features for `channels` input channels.
    #[must_use]
    pub fn features(&self, channels: usize) -> usize {
        if self.baseline_cycles > 0 {
            2 * channels
        } else {
            channels
        }
    }
}

/// A prediction band from residuals, per range of predicted RUL.
///
/// Residuals (`true − predicted`) of the validation units are binned by the
/// predicted RUL; each bin keeps the quantiles that bound the middle
/// `level` of them, so the band is wide where the model is unsure (high RUL)
/// and narrow near failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulBand {
    /// Share of residuals inside the band, e.g. `0.9`.
    pub level: f32,
    /// Upper edges of the predicted-RUL bins (the last bin is open).
    pub edges: Vec<f32>,
    /// Lower and upper residual quantile of each bin.
    pub offsets: Vec<(f32, f32)>,
}

impl RulBand {
    /// Fits the band from `(predicted, true)` pairs.
    #[must_use]
    pub fn fit(predicted: &[f32], truth: &[f32], cap: f32, level: f32) -> Self {
        let edges = vec![cap * 0.3, cap * 0.6, cap * 0.85];
        let mut bins: Vec<Vec<f32>> = vec![Vec::new(); edges.len() + 1];
        for (&p, &t) in predicted.iter().zip(truth) {
            bins[bin_of(&edges, p)].push(t - p);
        }
        let all: Vec<f32> = predicted.iter().zip(truth).map(|(&p, &t)| t - p).collect();
        let tail = (1.0 - level) / 2.0;
        let offsets = bins
            .iter()
            .map(|residuals| {
                // Few residuals in a bin give unstable quantiles: use all.
                let source = if residuals.len() >= 20 {
                    residuals
                } else {
                    &all
                };
                (quantile(source, tail), quantile(source, 1.0 - tail))
            })
            .collect();
        Self {
            level,
            edges,
            offsets,
        }
    }

    /// The band `(lower, upper)` around a predicted RUL, never below 0.
    #[must_use]
    pub fn around(&self, predicted: f32) -> (f32, f32) {
        let (lo, hi) = self
            .offsets
            .get(bin_of(&self.edges, predicted))
            .copied()
            .unwrap_or((0.0, 0.0));
        ((predicted + lo).max(0.0), (predicted + hi).max(0.0))
    }
}

fn bin_of(edges: &[f32], value: f32) -> usize {
    edges.iter().take_while(|&&edge| value >= edge).count()
}

/// The `q` quantile of `values` (linear between order statistics), 0 when empty.
fn quantile(values: &[f32], q: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f32;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let share = position - below as f32;
    sorted[below] + (sorted[above] - sorted[below]) * share
}

/// The RUL estimate of one unit at one cycle, with its band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RulEstimate {
    /// The unit.
    pub unit: i64,
    /// The cycle the estimate is made at.
    pub cycle: f64,
    /// Predicted RUL, cycles.
    pub rul: f32,
    /// Lower edge of the band, cycles.
    pub lower: f32,
    /// Upper edge of the band, cycles.
    pub upper: f32,
}

/// One test unit's predictions over its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitPrediction {
    /// The unit.
    pub unit: i64,
    /// Cycle of each prediction (every row of the unit).
    pub cycles: Vec<f64>,
    /// Predicted RUL at each cycle.
    pub predicted: Vec<f32>,
    /// Band edges at each cycle.
    pub lower: Vec<f32>,
    /// Band edges at each cycle.
    pub upper: Vec<f32>,
    /// True RUL at each cycle (uncapped), when known.
    pub truth: Option<Vec<f32>>,
    /// The estimate at the last observed cycle.
    pub last: RulEstimate,
}

impl UnitPrediction {
    /// The chart of this unit over its life: predicted RUL with its band
    /// against the true RUL capped like the training target (what the model
    /// was trained to say), on a cycle axis.
    #[must_use]
    pub fn view(&self, meta: &RulMeta) -> ForecastView {
        let cap = meta.cap;
        let capped = |values: &[f32]| values.iter().map(|&v| v.min(cap)).collect();
        ForecastView {
            title: format!(
                "Unit {}: remaining useful life over its observed life",
                self.unit
            ),
            channel: "remaining useful life (cycles)".to_owned(),
            time_is_datetime: false,
            time_secs: self.cycles.clone(),
            actual: self
                .truth
                .as_deref()
                .map_or_else(|| vec![f32::NAN; self.cycles.len()], capped),
            forecasts: vec![ForecastSegment {
                time_secs: self.cycles.clone(),
                values: self.predicted.clone(),
            }],
            baseline: None,
            bands: vec![BandSegment {
                time_secs: self.cycles.clone(),
                lower: self.lower.clone(),
                upper: self.upper.clone(),
            }],
            labels: SeriesLabels {
                actual: format!("true RUL (capped at {cap})"),
                forecast: "predicted RUL".to_owned(),
                band: format!("{:.0}% band", meta.band.level * 100.0),
                x_axis: "cycle".to_owned(),
                ..SeriesLabels::default()
            },
        }
    }
}

/// How a RUL model did on a test fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulEvaluation {
    /// Every test unit, in file order.
    pub units: Vec<UnitPrediction>,
    /// Scores at the last cycle against the true RUL capped like the
    /// training target (the convention of most published results).
    pub last_capped: Option<RulScores>,
    /// Scores at the last cycle against the true RUL as given.
    pub last_uncapped: Option<RulScores>,
    /// Scores over every cycle of every unit, true RUL capped.
    pub all_cycles_capped: Option<RulScores>,
    /// Share of last-cycle true RULs (capped) inside the band.
    pub band_coverage: Option<f64>,
}

impl RulEvaluation {
    /// Units ranked by predicted RUL at their last cycle, the most urgent
    /// first.
    #[must_use]
    pub fn ranking(&self) -> Vec<RulEstimate> {
        let mut ranked: Vec<RulEstimate> = self.units.iter().map(|u| u.last).collect();
        ranked.sort_by(|a, b| a.rul.total_cmp(&b.rul).then(a.unit.cmp(&b.unit)));
        ranked
    }
}

/// Where an input feature comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A sensor channel of the fleet.
    Channel(usize),
    /// The cycle column itself: the unit's age, which the network may use.
    Cycle,
    /// A sensor channel minus its mean over the unit's first cycles.
    Deviation(usize, usize),
    /// Cycles since the unit's first row (the deviation of the cycle).
    Age,
}

impl Source {
    /// The feature's values over `unit`'s rows, sensors smoothed by `alpha`.
    fn values(self, unit: &Unit, alpha: f32) -> Vec<f32> {
        match self {
            Self::Channel(c) => smooth(&unit.channels[c], alpha),
            Self::Cycle => unit.cycles.iter().map(|&c| c as f32).collect(),
            Self::Age => {
                let first = unit.cycles.first().copied().unwrap_or_default();
                unit.cycles.iter().map(|&c| (c - first) as f32).collect()
            }
            Self::Deviation(c, cycles) => {
                let smoothed = smooth(&unit.channels[c], alpha);
                let raw = &unit.channels[c];
                let mut sum = 0.0f64;
                smoothed
                    .iter()
                    .enumerate()
                    .map(|(row, &value)| {
                        if row < cycles {
                            sum += f64::from(raw[row]);
                        }
                        let seen = (row + 1).min(cycles).max(1);
                        value - (sum / seen as f64) as f32
                    })
                    .collect()
            }
        }
    }
}

/// The source of each input named in `names`: a channel of the fleet, or
/// its cycle column, which a model also finds under `trained_cycle`, the
/// name the cycle column had in its training fleet (a fleet whose cycle
/// column is named otherwise still has an age). Every missing name is
/// listed in the error.
fn input_sources(
    fleet: &Fleet,
    names: &[String],
    trained_cycle: Option<&str>,
    baseline_cycles: usize,
) -> Result<Vec<Source>, PipelineError> {
    let find = |name: &String| {
        if *name == fleet.cycle_column || trained_cycle == Some(name.as_str()) {
            Some(Source::Cycle)
        } else {
            fleet.channel_index(name).map(Source::Channel)
        }
    };
    let missing: Vec<String> = names
        .iter()
        .filter(|name| find(name).is_none())
        .map(|name| format!("`{name}`"))
        .collect();
    if !missing.is_empty() {
        return Err(PipelineError::MissingChannels {
            dataset: fleet.name.clone(),
            missing: missing.join(", "),
        });
    }
    let mut sources: Vec<Source> = names.iter().filter_map(find).collect();
    if baseline_cycles > 0 {
        // One deviation per input, so the network has twice the inputs.
        let deviations: Vec<Source> = sources
            .iter()
            .map(|source| match source {
                Source::Channel(c) => Source::Deviation(*c, baseline_cycles),
                _ => Source::Age,
            })
            .collect();
        sources.extend(deviations);
    }
    Ok(sources)
}

/// Causal exponential smoothing: each value becomes `alpha` times itself
/// plus `1 − alpha` times the smoothed value before it.
#[must_use]
pub fn smooth(values: &[f32], alpha: f32) -> Vec<f32> {
    if alpha >= 1.0 {
        return values.to_vec();
    }
    let alpha = alpha.max(0.0);
    let mut state = None;
    values
        .iter()
        .map(|&v| {
            let next = state.map_or(v, |s: f32| alpha * v + (1.0 - alpha) * s);
            state = Some(next);
            next
        })
        .collect()
}

/// z-score statistics of the chosen channels over the rows of `units`,
/// smoothed as the network will see them.
fn fit_normalizer(fleet: &Fleet, inputs: &[Source], units: &[usize], alpha: f32) -> Normalizer {
    let columns: Vec<Vec<f32>> = inputs
        .iter()
        .map(|&source| {
            units
                .iter()
                .flat_map(|&u| source.values(&fleet.units[u], alpha))
                .collect()
        })
        .collect();
    let slices: Vec<&[f32]> = columns.iter().map(Vec::as_slice).collect();
    let rows = columns.first().map_or(0, Vec::len);
    Normalizer::fit(&slices, 0..rows)
}

/// Cuts the windows ending at each row in `ends` of one unit.
///
/// A window that would start before the unit's first row repeats that first
/// row, so short test units still get a prediction. Labels are `rul / cap`.
struct WindowCutter<'a> {
    inputs: &'a [Source],
    normalizer: &'a Normalizer,
    window: usize,
    cap: f32,
    smoothing: f32,
}

impl WindowCutter<'_> {
    /// Each input of `unit`, smoothed and normalised, one column per input.
    fn columns(&self, unit: &Unit) -> Vec<Vec<f32>> {
        self.inputs
            .iter()
            .enumerate()
            .map(|(feature, &source)| {
                let values = source.values(unit, self.smoothing);
                self.normalizer.normalize(feature, &values)
            })
            .collect()
    }

    fn cut(&self, unit: &Unit, labels: &[f32], ends: Range<usize>, out: &mut Windows) {
        let normalized = self.columns(unit);
        for end in ends {
            for step in 0..self.window {
                let row = (end + step + 1).saturating_sub(self.window);
                out.inputs
                    .extend(normalized.iter().map(|values| values[row]));
            }
            out.labels.push(labels[end] / self.cap);
            out.origins.push(end);
        }
    }

    /// Each unit's whole history as one sequence, labelled at every cycle
    /// with its capped RUL (`rul / cap`); `labels_of` gives a unit's RUL.
    fn sequences_with(&self, units: &[&Unit], labels_of: impl Fn(&Unit) -> Vec<f32>) -> Sequences {
        let mut set = Sequences {
            features: self.inputs.len(),
            targets: 1,
            ..Sequences::default()
        };
        for unit in units {
            let columns = self.columns(unit);
            let inputs = (0..unit.len())
                .flat_map(|row| columns.iter().map(move |values| values[row]))
                .collect();
            set.inputs.push(inputs);
            set.labels
                .push(labels_of(unit).into_iter().map(|v| v / self.cap).collect());
        }
        set
    }

    /// The run-to-failure `units` as whole sequences with capped labels.
    fn sequences(&self, fleet: &Fleet, units: &[usize]) -> Sequences {
        let chosen: Vec<&Unit> = units.iter().map(|&u| &fleet.units[u]).collect();
        self.sequences_with(&chosen, |unit| rul_labels(unit, None, self.cap))
    }

    /// Every whole window (from the window-th row on) of run-to-failure
    /// `units`, labelled with their capped RUL.
    fn cut_whole(&self, fleet: &Fleet, units: &[usize]) -> Windows {
        let mut windows = self.empty();
        for &u in units {
            let unit = &fleet.units[u];
            let labels = rul_labels(unit, None, self.cap);
            let first = self.window.saturating_sub(1).min(unit.len());
            self.cut(unit, &labels, first..unit.len(), &mut windows);
        }
        windows
    }

    fn empty(&self) -> Windows {
        Windows {
            lookback: self.window,
            features: self.inputs.len(),
            horizon: 1,
            targets: 1,
            ..Windows::default()
        }
    }
}

/// Mixed into the seed so that the validation units do not follow the same
/// random stream as the batch order.
const VALIDATION_SALT: u64 = 0x5EED_0A11_0F0A_11ED;

/// Picks the validation units: a seeded shuffle, the last share held out.
fn split_units(count: usize, share: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..count).collect();
    SplitMix64::new(seed ^ VALIDATION_SALT).shuffle(&mut order);
    let held = ((count as f32 * share).round() as usize).clamp(1, count.saturating_sub(1));
    let validation = order.split_off(count - held);
    order.sort_unstable();
    let mut validation = validation;
    validation.sort_unstable();
    (order, validation)
}

/// Splits `count` units into `folds` seeded folds of (nearly) equal size,
/// each sorted.
fn fold_units(count: usize, folds: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..count).collect();
    SplitMix64::new(seed ^ VALIDATION_SALT).shuffle(&mut order);
    let folds = folds.clamp(1, count.max(1));
    let mut out = vec![Vec::new(); folds];
    for (position, unit) in order.into_iter().enumerate() {
        out[position % folds].push(unit);
    }
    for fold in &mut out {
        fold.sort_unstable();
    }
    out
}

/// Mixed into the seed to draw the seeds of an ensemble's members.
const MEMBER_SALT: u64 = 0x3E3B_E125_0F0A_11ED;

/// Every unit's training and validation split for each network trained:
/// one seeded hold-out for a single network, one fold each (cross-fitting)
/// for an ensemble.
fn member_splits(count: usize, setup: &RulSetup) -> Vec<(Vec<usize>, Vec<usize>)> {
    let seed = setup.training.seed;
    if setup.members <= 1 {
        return vec![split_units(count, setup.validation_units, seed)];
    }
    let folds = fold_units(count, setup.members, seed);
    (0..folds.len())
        .map(|held| {
            let train = folds
                .iter()
                .enumerate()
                .filter(|&(fold, _)| fold != held)
                .flat_map(|(_, units)| units.iter().copied())
                .collect::<Vec<_>>();
            let mut train = train;
            train.sort_unstable();
            (train, folds[held].clone())
        })
        .collect()
}

/// One network trained, its history and its predictions (cycles) of its
/// validation units with their true capped RUL.
struct Member {
    network: crate::model::Forecaster,
    history: train::History,
    predicted: Vec<f32>,
    truth: Vec<f32>,
}

/// Trains one network of `network`'s shape on `train_units`, stopping early
/// on `validation_units`.
async fn fit_member<P>(
    fleet: &Fleet,
    cutter: &WindowCutter<'_>,
    network: &ForecasterConfig,
    training: &TrainConfig,
    (train_units, validation_units): (&[usize], &[usize]),
    device: &Device,
    progress: P,
) -> Result<Member, PipelineError>
where
    P: AsyncFnMut(Progress) -> Control,
{
    let cap = cutter.cap;
    if cutter.window == 0 {
        let train_set = cutter.sequences(fleet, train_units);
        let val_set = cutter.sequences(fleet, validation_units);
        log::debug!(
            "training RUL {network:?} on {} whole units, validating on {}",
            train_set.len(),
            val_set.len()
        );
        let (model, history) =
            train::fit(network, training, &train_set, &val_set, device, progress).await?;
        let predicted = predict_sequences(&model, &val_set, cap, device).await?;
        let truth = val_set.labels.iter().flatten().map(|&v| v * cap).collect();
        Ok(Member {
            network: model,
            history,
            predicted: predicted.concat(),
            truth,
        })
    } else {
        let train_windows = cutter.cut_whole(fleet, train_units);
        let val_windows = cutter.cut_whole(fleet, validation_units);
        log::debug!(
            "training RUL {network:?} on {} windows from {} units, validating on {} windows",
            train_windows.len(),
            train_units.len(),
            val_windows.len(),
        );
        let (model, history) = train::fit(
            network,
            training,
            &train_windows,
            &val_windows,
            device,
            progress,
        )
        .await?;
        let predicted = predict_windows(&model, network, &val_windows, cap, device).await?;
        let truth = val_windows.labels.iter().map(|&v| v * cap).collect();
        Ok(Member {
            network: model,
            history,
            predicted,
            truth,
        })
    }
}

/// `progress` of member `member` as part of the whole run: epochs count on
/// from the members before it.
fn shift_progress(progress: &Progress, offset: usize, members: usize) -> Progress {
    match *progress {
        Progress::Batch {
            epoch,
            epochs,
            batch,
            batches,
        } => Progress::Batch {
            epoch: epoch + offset,
            epochs: epochs * members,
            batch,
            batches,
        },
        Progress::Epoch {
            epoch,
            epochs,
            train_loss,
            validation_loss,
            best_epoch,
        } => Progress::Epoch {
            epoch: epoch + offset,
            epochs: epochs * members,
            train_loss,
            validation_loss,
            best_epoch: best_epoch + offset,
        },
    }
}

/// Refuses a setup that cannot train on `fleet`.
fn check_setup(fleet: &Fleet, setup: &RulSetup) -> Result<(), PipelineError> {
    if setup.inputs.is_empty() {
        return Err(PipelineError::NoTarget);
    }
    if setup.cap.is_nan() || setup.cap <= 0.0 {
        return Err(PipelineError::Setup(
            "the RUL cap must be above 0".to_owned(),
        ));
    }
    if fleet.units.len() < 2 {
        return Err(PipelineError::Setup(format!(
            "`{}` has {} unit(s); training needs at least 2 (one is held out for validation)",
            fleet.name,
            fleet.units.len()
        )));
    }
    Ok(())
}

/// The network of `setup` over `features` inputs: a RUL after the window,
/// or at every step of a whole history (window 0).
fn network_config(setup: &RulSetup, features: usize) -> ForecasterConfig {
    ForecasterConfig {
        features,
        lookback: setup.window.max(1),
        hidden: setup.hidden,
        layers: setup.layers,
        horizon: 1,
        targets: 1,
        output: if setup.window == 0 {
            OutputKind::PerStep
        } else {
            OutputKind::Direct
        },
        dropout: setup.dropout,
    }
}

/// Trains a RUL model on a run-to-failure fleet.
///
/// With [`RulSetup::members`] above 1 it trains that many networks, each
/// holding out its own fold of the units for early stopping (so every unit
/// trains all members but one), and joins them into one network that
/// predicts their mean ([`crate::model::Forecaster::ensemble`]). The band
/// is then fitted on every unit's prediction by the member that did not
/// train on it.
pub async fn train<P>(
    fleet: &Fleet,
    setup: &RulSetup,
    device: &Device,
    backend: &str,
    mut progress: P,
) -> Result<TrainedModel, PipelineError>
where
    P: AsyncFnMut(Progress) -> Control,
{
    check_setup(fleet, setup)?;
    let inputs = input_sources(fleet, &setup.inputs, None, setup.baseline_cycles)?;
    let splits = member_splits(fleet.units.len(), setup);
    // One normalisation serves every member: fitted on the training units
    // of a single network, on all units (sensor values only, no labels) for
    // an ensemble whose members each hold out different ones.
    let normalized_units: Vec<usize> = if splits.len() == 1 {
        splits[0].0.clone()
    } else {
        (0..fleet.units.len()).collect()
    };
    let normalizer = fit_normalizer(fleet, &inputs, &normalized_units, setup.smoothing);
    let cutter = WindowCutter {
        inputs: &inputs,
        normalizer: &normalizer,
        window: setup.window,
        cap: setup.cap,
        smoothing: setup.smoothing,
    };

    let network = network_config(setup, inputs.len());

    let count = splits.len();
    let mut members = Vec::with_capacity(count);
    let mut seeds = SplitMix64::new(setup.training.seed ^ MEMBER_SALT);
    let mut validation_units = Vec::new();
    for (index, (train_units, held_units)) in splits.iter().enumerate() {
        let mut training = setup.training.clone();
        if count > 1 {
            training.seed = seeds.next_u64();
        }
        let offset = index * setup.training.epochs;
        let member = fit_member(
            fleet,
            &cutter,
            &network,
            &training,
            (train_units, held_units),
            device,
            async |p| progress(shift_progress(&p, offset, count)).await,
        )
        .await?;
        let cancelled = member.history.stop == train::StopReason::Cancelled;
        validation_units.extend_from_slice(held_units);
        members.push(member);
        if cancelled {
            break;
        }
    }

    let predicted: Vec<f32> = members.iter().flat_map(|m| m.predicted.clone()).collect();
    let truth: Vec<f32> = members.iter().flat_map(|m| m.truth.clone()).collect();
    let band = RulBand::fit(&predicted, &truth, setup.cap, 0.9);
    let history = members
        .iter()
        .map(|m| m.history.clone())
        .reduce(train::History::then)
        .unwrap_or_else(|| unreachable!("at least one member is trained"));
    let (network, model) = if members.len() == 1 {
        let member = members.pop().unwrap_or_else(|| unreachable!("one member"));
        (network, member.network)
    } else {
        let networks: Vec<_> = members.into_iter().map(|m| m.network).collect();
        crate::model::Forecaster::ensemble(&network, &networks, device).await?
    };
    validation_units.sort_unstable();

    let meta = ModelMeta {
        network,
        target_channels: vec![RUL_TARGET.to_owned()],
        input_channels: setup.inputs.clone(),
        normalizer,
        windows: WindowSpec {
            lookback: setup.window.max(1),
            horizon: 1,
            stride: 1,
        },
        split: SplitFractions::default(),
        training: setup.training.clone(),
        history,
        dataset: fleet.name.clone(),
        backend: backend.to_owned(),
        rul: Some(RulMeta {
            cap: setup.cap,
            unit_column: fleet.unit_column.clone(),
            cycle_column: fleet.cycle_column.clone(),
            validation_units: validation_units
                .iter()
                .map(|&u| fleet.units[u].id)
                .collect(),
            band,
            smoothing: setup.smoothing,
            baseline_cycles: setup.baseline_cycles,
            members: count,
        }),
    };
    Ok(TrainedModel {
        meta,
        network: model,
    })
}

/// Predicted RUL (cycles, clamped to `0..=cap`) at every step of every
/// sequence.
async fn predict_sequences(
    model: &crate::model::Forecaster,
    sequences: &Sequences,
    cap: f32,
    device: &Device,
) -> Result<Vec<Vec<f32>>, PipelineError> {
    let outputs = model
        .predict_sequences(sequences, SEQUENCE_BATCH, device)
        .await?;
    Ok(outputs
        .into_iter()
        .map(|values| {
            values
                .into_iter()
                .map(|v| (v * cap).clamp(0.0, cap))
                .collect()
        })
        .collect())
}

/// Predicted RUL (cycles, clamped to `0..=cap`) of every window.
async fn predict_windows(
    model: &crate::model::Forecaster,
    network: &ForecasterConfig,
    windows: &Windows,
    cap: f32,
    device: &Device,
) -> Result<Vec<f32>, PipelineError> {
    let mut out = Vec::with_capacity(windows.len());
    let per_window = windows.lookback * windows.features;
    for chunk in windows.inputs.chunks(PREDICT_CHUNK * per_window) {
        let values = model.predict(network, chunk, device).await?;
        out.extend(values.into_iter().map(|v| (v * cap).clamp(0.0, cap)));
    }
    Ok(out)
}

/// Predicts the RUL of every unit of `fleet` at every cycle and scores the
/// last cycle against `true_rul` (one value per unit, in unit order) when it
/// is given, or against the fleet's own RUL column.
pub async fn evaluate(
    model: &TrainedModel,
    fleet: &Fleet,
    true_rul: Option<&[f32]>,
    device: &Device,
) -> Result<RulEvaluation, PipelineError> {
    let meta = &model.meta;
    let rul = meta.rul.as_ref().ok_or(PipelineError::NotRul)?;
    let inputs = input_sources(
        fleet,
        &meta.input_channels,
        Some(&rul.cycle_column),
        rul.baseline_cycles,
    )?;
    if let Some(values) = true_rul
        && values.len() != fleet.units.len()
    {
        return Err(PipelineError::Setup(format!(
            "the RUL file has {} value(s) but `{}` has {} unit(s); they must match one to one",
            values.len(),
            fleet.name,
            fleet.units.len()
        )));
    }
    let cutter = WindowCutter {
        inputs: &inputs,
        normalizer: &meta.normalizer,
        window: meta.network.lookback,
        cap: rul.cap,
        smoothing: rul.smoothing,
    };

    // Every cycle of every unit, predicted in large batches, then split back
    // per unit.
    let mut predictions = if meta.network.output == OutputKind::PerStep {
        let units: Vec<&Unit> = fleet.units.iter().collect();
        let sequences = cutter.sequences_with(&units, |unit| vec![0.0; unit.len()]);
        predict_sequences(&model.network, &sequences, rul.cap, device)
            .await?
            .concat()
    } else {
        let mut windows = cutter.empty();
        for unit in &fleet.units {
            cutter.cut(unit, &vec![0.0; unit.len()], 0..unit.len(), &mut windows);
        }
        predict_windows(&model.network, &meta.network, &windows, rul.cap, device).await?
    }
    .into_iter();

    let mut units = Vec::with_capacity(fleet.units.len());
    let (mut last_pred, mut last_capped, mut last_raw) = (Vec::new(), Vec::new(), Vec::new());
    let (mut all_pred, mut all_truth) = (Vec::new(), Vec::new());
    let mut inside = 0usize;
    for (index, unit) in fleet.units.iter().enumerate() {
        let known = true_rul.map(|values| values[index]);
        let has_truth = known.is_some() || unit.rul.is_some();
        // Uncapped truth for the chart, capped for the scores.
        let truth = has_truth.then(|| rul_labels(unit, known, f32::INFINITY));
        let predicted: Vec<f32> = predictions.by_ref().take(unit.len()).collect();
        if predicted.len() != unit.len() {
            return Err(PipelineError::Setup(
                "the network returned fewer predictions than windows".to_owned(),
            ));
        }
        let (lower, upper): (Vec<f32>, Vec<f32>) =
            predicted.iter().map(|&p| rul.band.around(p)).unzip();
        let end = unit.len() - 1;
        let last = RulEstimate {
            unit: unit.id,
            cycle: unit.cycles[end],
            rul: predicted[end],
            lower: lower[end],
            upper: upper[end],
        };
        if let Some(truth) = &truth {
            let capped_end = truth[end].min(rul.cap);
            last_pred.push(predicted[end]);
            last_capped.push(capped_end);
            last_raw.push(truth[end]);
            if (last.lower..=last.upper).contains(&capped_end) {
                inside += 1;
            }
            all_pred.extend_from_slice(&predicted);
            all_truth.extend(truth.iter().map(|&t| t.min(rul.cap)));
        }
        units.push(UnitPrediction {
            unit: unit.id,
            cycles: unit.cycles.clone(),
            predicted,
            lower,
            upper,
            truth,
            last,
        });
    }

    let scored = !last_pred.is_empty();
    Ok(RulEvaluation {
        units,
        last_capped: scored.then(|| RulScores::of(&last_pred, &last_capped)),
        last_uncapped: scored.then(|| RulScores::of(&last_pred, &last_raw)),
        all_cycles_capped: scored.then(|| RulScores::of(&all_pred, &all_truth)),
        band_coverage: scored.then(|| inside as f64 / last_pred.len() as f64),
    })
}

// The tests drive futures with the native `block_on`, and their expected
// values are exact in binary floating point.
#[cfg(all(test, not(target_arch = "wasm32")))]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn unit(id: i64, len: usize) -> Unit {
        Unit {
            id,
            cycles: (1..=len).map(|c| c as f64).collect(),
            lines: (2..len + 2).collect(),
            channels: vec![(0..len).map(|c| c as f32).collect()],
            rul: None,
        }
    }

    fn fleet_of(units: Vec<Unit>) -> Fleet {
        Fleet {
            name: "test".to_owned(),
            unit_column: "unit".to_owned(),
            cycle_column: "cycle".to_owned(),
            rul_column: None,
            channel_names: vec!["wear".to_owned()],
            constant_channels: Vec::new(),
            units,
        }
    }

    #[test]
    fn labels_count_down_to_failure_under_the_cap() {
        let u = unit(1, 200);
        let labels = rul_labels(&u, None, 125.0);
        assert_eq!(labels[0], 125.0);
        assert_eq!(labels[199], 0.0);
        assert_eq!(labels[150], 49.0);

        let test = rul_labels(&unit(2, 10), Some(30.0), f32::INFINITY);
        assert_eq!(test[9], 30.0);
        assert_eq!(test[0], 39.0);
    }

    #[test]
    fn the_phm08_score_punishes_late_more_than_early() {
        assert_eq!(phm08_score(50.0, 50.0), 0.0);
        let late = phm08_score(60.0, 50.0);
        let early = phm08_score(40.0, 50.0);
        assert!((late - (1.0f64.exp() - 1.0)).abs() < 1e-9);
        assert!((early - ((10.0f64 / 13.0).exp() - 1.0)).abs() < 1e-9);
        assert!(late > early);

        let scores = RulScores::of(&[10.0, 20.0], &[13.0, 16.0]);
        assert!((scores.rmse - 12.5f64.sqrt()).abs() < 1e-9);
        assert!((scores.mae - 3.5).abs() < 1e-9);
    }

    #[test]
    fn short_units_repeat_their_first_row() {
        let normalizer = Normalizer {
            mean: vec![0.0],
            std: vec![1.0],
        };
        let cutter = WindowCutter {
            inputs: &[Source::Channel(0)],
            normalizer: &normalizer,
            window: 4,
            cap: 100.0,
            smoothing: 1.0,
        };
        let u = unit(1, 3);
        let mut windows = cutter.empty();
        cutter.cut(&u, &[50.0, 40.0, 30.0], 0..3, &mut windows);
        assert_eq!(windows.len(), 3);
        assert_eq!(windows.input(0), &[0.0, 0.0, 0.0, 0.0]);
        assert_eq!(windows.input(2), &[0.0, 0.0, 1.0, 2.0]);
        assert_eq!(windows.labels, [0.5, 0.4, 0.3]);
    }

    #[test]
    fn validation_units_are_a_seeded_share() {
        let (train, validation) = split_units(100, 0.2, 1);
        assert_eq!((train.len(), validation.len()), (80, 20));
        assert!(validation.iter().all(|v| !train.contains(v)));
        assert_eq!(split_units(100, 0.2, 1), (train, validation.clone()));
        assert_ne!(split_units(100, 0.2, 2).1, validation);
        assert_eq!(split_units(2, 0.2, 1).1.len(), 1);
    }

    #[test]
    fn ensemble_members_each_hold_out_their_own_fold() {
        let setup = RulSetup {
            members: 3,
            ..RulSetup::suggest(&fleet_of(vec![unit(1, 10), unit(2, 20)]))
        };
        let splits = member_splits(10, &setup);
        assert_eq!(splits.len(), 3);
        let mut held: Vec<usize> = splits.iter().flat_map(|(_, v)| v.clone()).collect();
        held.sort_unstable();
        assert_eq!(held, (0..10).collect::<Vec<_>>());
        for (train, validation) in &splits {
            assert_eq!(train.len() + validation.len(), 10);
            assert!(validation.iter().all(|v| !train.contains(v)));
            assert!((3..=4).contains(&validation.len()));
        }
        let single = RulSetup {
            members: 1,
            ..setup
        };
        assert_eq!(member_splits(10, &single), vec![split_units(10, 0.2, 42)]);
    }

    #[test]
    fn setups_and_metadata_from_older_files_read_with_defaults() {
        let mut setup =
            serde_json::to_value(RulSetup::suggest(&fleet_of(vec![unit(1, 9)]))).unwrap();
        let object = setup.as_object_mut().unwrap();
        object.remove("members");
        object["training"]
            .as_object_mut()
            .unwrap()
            .remove("forget_bias");
        let setup: RulSetup = serde_json::from_value(setup).unwrap();
        assert_eq!((setup.members, setup.training.forget_bias), (1, 0.0));

        let meta = RulMeta {
            cap: 125.0,
            unit_column: "unit".to_owned(),
            cycle_column: "cycle".to_owned(),
            validation_units: vec![1],
            band: RulBand::fit(&[1.0], &[2.0], 125.0, 0.9),
            smoothing: 1.0,
            baseline_cycles: 0,
            members: 5,
        };
        let mut value = serde_json::to_value(&meta).unwrap();
        value.as_object_mut().unwrap().remove("members");
        let old: RulMeta = serde_json::from_value(value).unwrap();
        assert_eq!(old.members, 1);
    }

    #[test]
    fn the_band_holds_its_share_of_residuals() {
        let predicted: Vec<f32> = (0..1000).map(|i| (i % 125) as f32).collect();
        let truth: Vec<f32> = predicted
            .iter()
            .enumerate()
            .map(|(i, &p)| p + ((i * 7919 % 1000) as f32 / 50.0 - 10.0))
            .collect();
        let band = RulBand::fit(&predicted, &truth, 125.0, 0.9);
        let inside = predicted
            .iter()
            .zip(&truth)
            .filter(|&(&p, &t)| {
                let (lo, hi) = band.around(p);
                (lo..=hi).contains(&t) || (t < 0.0 && lo == 0.0)
            })
            .count();
        assert!((850..=950).contains(&inside), "{inside} of 1000 inside");
        assert_eq!(band.around(0.0).0, 0.0);
    }
}
