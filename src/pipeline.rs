//! From a dataset to a trained, scored forecaster: the steps the page and the
//! CLI share.
//!
//! [`Setup::suggest`] picks defaults from the data, [`train`] splits,
//! normalises, windows and fits, [`evaluate`] scores the model and the
//! persistence baseline on the same test windows and builds the chart views,
//! and [`TrainedModel`] reads and writes the model file.

use std::ops::Range;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use crate::artifact::{self, ArtifactError, ModelMeta};
use crate::baselines::{SeasonChoice, SeasonSearch};
use crate::chart::{BandSegment, ForecastSegment, ForecastView, SeriesLabels};
use crate::evidence::{self, EvidenceData, EvidenceError, Verdict};
use crate::ingest::{Dataset, TimeKind};
use crate::metrics::{ErrorAccumulator, ErrorMetrics, HorizonScores, persistence_forecast};
use crate::model::{Forecaster, ForecasterConfig, ModelError, OutputKind};
use crate::prep::{self, Normalizer, PrepError, Split, SplitFractions, WindowSpec, Windows};
use crate::train::{self, Control, Progress, TrainConfig, TrainError};

/// Windows scored per call to the network (bounds memory on any backend).
const PREDICT_CHUNK: usize = 256;

/// Most validation windows scored after each epoch.
const MAX_VALIDATION_WINDOWS: usize = 2_000;

/// Most test windows scored; the stride grows to stay under it.
pub const MAX_TEST_WINDOWS: usize = 2_000;

/// Most training windows the baselines are fitted on.
const MAX_BASELINE_WINDOWS: usize = 4_000;

/// Nominal coverage of the forecast intervals.
pub const INTERVAL_LEVEL: f64 = 0.9;

/// Most input channels used by default; wider files use only the targets.
const MAX_DEFAULT_INPUTS: usize = 32;

/// Errors of the pipeline, each naming what to change.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A channel named in the setup or the model is not in the dataset.
    #[error("the dataset has no channel `{0}`")]
    UnknownChannel(String),
    /// No target was chosen.
    #[error("choose at least one target channel")]
    NoTarget,
    /// A channel was named twice.
    #[error("channel `{0}` is listed twice")]
    DuplicateChannel(String),
    /// Splitting or windowing failed.
    #[error(transparent)]
    Prep(#[from] PrepError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The network failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A model file could not be read or written.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The baselines or the intervals could not be computed.
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    /// Channels a model reads are not in the data it is given.
    #[error("`{dataset}` lacks the channel(s) {missing} that the model reads")]
    MissingChannels {
        /// The data.
        dataset: String,
        /// The missing channels, quoted and comma-separated.
        missing: String,
    },
    /// The setup cannot work on this data.
    #[error("{0}")]
    Setup(String),
    /// A channel forecaster was given where a RUL model is needed.
    #[error("this model forecasts channels; it does not estimate remaining useful life")]
    NotRul,
    /// A RUL model was given where a channel forecaster is needed.
    #[error("this model estimates remaining useful life; it does not forecast channels")]
    IsRul,
}

/// Everything the user chooses before training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// Channels to forecast.
    pub targets: Vec<String>,
    /// Other channels fed to the network as inputs (the targets always are).
    pub extra_inputs: Vec<String>,
    /// Time steps of history per window.
    pub lookback: usize,
    /// Time steps forecast at once.
    pub horizon: usize,
    /// Hidden units per LSTM layer.
    pub hidden: usize,
    /// Stacked LSTM layers.
    pub layers: usize,
    /// Chronological split.
    pub split: SplitFractions,
    /// Most training windows (the stride grows to stay under it).
    pub max_train_windows: usize,
    /// Optimiser settings.
    pub training: TrainConfig,
}

impl Setup {
    /// Sensible defaults for `dataset`: the last channel as target, the other
    /// channels as inputs, and a window sized from the sampling step.
    #[must_use]
    pub fn suggest(dataset: &Dataset) -> Self {
        let names: Vec<String> = dataset.channels.iter().map(|c| c.name.clone()).collect();
        let targets: Vec<String> = names.last().cloned().into_iter().collect();
        let extra_inputs = if names.len() <= MAX_DEFAULT_INPUTS {
            names[..names.len().saturating_sub(1)].to_vec()
        } else {
            Vec::new()
        };

        let step = median_step(dataset);
        let (lookback, horizon) = match (dataset.time_kind, step) {
            (TimeKind::RowIndex, _) | (_, None) => (32, 8),
            // Hourly or slower: two days of history, a day ahead.
            (_, Some(s)) if s >= 3_000.0 => (48, 24),
            // Minutes: a few hundred steps of history is hours; forecast an hour.
            (_, Some(s)) if s >= 60.0 => (72, (3_600.0 / s).round().clamp(1.0, 24.0) as usize),
            _ => (64, 16),
        };
        // Keep windows well inside the shortest part of small series.
        let rows = dataset.time_secs.len();
        let lookback = lookback.min(rows / 8).max(2);
        let horizon = horizon.min(rows / 20).max(1);

        Self {
            targets,
            extra_inputs,
            lookback,
            horizon,
            hidden: 32,
            layers: 1,
            split: SplitFractions::default(),
            max_train_windows: 2_000,
            training: TrainConfig {
                epochs: 20,
                ..TrainConfig::default()
            },
        }
    }

    /// Input channel names in feature order: targets first.
    #[must_use]
    pub fn input_channels(&self) -> Vec<String> {
        let mut all = self.targets.clone();
        all.extend(
            self.extra_inputs
                .iter()
                .filter(|name| !self.targets.contains(name))
                .cloned(),
        );
        all
    }
}

fn median_step(dataset: &Dataset) -> Option<f64> {
    let mut steps: Vec<f64> = dataset
        .time_secs
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| d.is_finite() && *d > 0.0)
        .collect();
    if steps.is_empty() {
        return None;
    }
    let mid = steps.len() / 2;
    let (_, median, _) = steps.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*median)
}

/// A trained forecaster with its metadata.
#[derive(Debug)]
pub struct TrainedModel {
    /// What the model is and how it was trained.
    pub meta: ModelMeta,
    /// The network, on the device it was trained or loaded on.
    pub network: Forecaster,
}

impl TrainedModel {
    /// Writes the model file (see [`crate::artifact`]).
    pub async fn to_file_bytes(&self) -> Result<Vec<u8>, PipelineError> {
        let cpu = self.network.copy_to(&Device::flex()).await?;
        let weights = cpu
            .into_record()
            .into_bytes()
            .map_err(|err| ArtifactError::Weights(format!("{err:?}")))?;
        Ok(artifact::encode(&self.meta, &weights)?)
    }

    /// Reads a model file onto `device`.
    pub async fn from_file_bytes(bytes: &[u8], device: &Device) -> Result<Self, PipelineError> {
        let (meta, weights) = artifact::decode(bytes)?;
        let cpu = Device::flex();
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec()))
            .map_err(|err| ArtifactError::Weights(format!("{err:?}")))?;
        let network = meta
            .network
            .init(&cpu)?
            .try_load_record(record)
            .map_err(|err| ArtifactError::Weights(format!("{err:?}")))?;
        let network = network.copy_to(device).await?;
        Ok(Self { meta, network })
    }
}

/// The series prepared for one model: normalised input channels (targets
/// first) and the split.
struct Prepared {
    series: Vec<Vec<f32>>,
    split: Split,
}

fn channel_indices(dataset: &Dataset, names: &[String]) -> Result<Vec<usize>, PipelineError> {
    let mut indices = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(PipelineError::DuplicateChannel(name.clone()));
        }
        let index = dataset
            .channels
            .iter()
            .position(|c| &c.name == name)
            .ok_or_else(|| PipelineError::UnknownChannel(name.clone()))?;
        indices.push(index);
    }
    Ok(indices)
}

fn prepare(
    dataset: &Dataset,
    inputs: &[usize],
    normalizer: &Normalizer,
    fractions: SplitFractions,
) -> Result<Prepared, PipelineError> {
    let split = Split::chronological(dataset.time_secs.len(), fractions)?;
    let series = inputs
        .iter()
        .enumerate()
        .map(|(feature, &channel)| normalizer.normalize(feature, &dataset.channels[channel].values))
        .collect();
    Ok(Prepared { series, split })
}

fn windows(
    prepared: &Prepared,
    targets: usize,
    part: Range<usize>,
    spec: WindowSpec,
    name: &'static str,
) -> Result<Windows, PipelineError> {
    let features: Vec<usize> = (0..prepared.series.len()).collect();
    let target_features: Vec<usize> = (0..targets).collect();
    let made = prep::make_windows(
        &prepared.series,
        &features,
        &target_features,
        part.clone(),
        spec,
    )?;
    if made.is_empty() {
        return Err(PrepError::TooShort {
            part: name,
            rows: part.len(),
            lookback: spec.lookback,
            horizon: spec.horizon,
        }
        .into());
    }
    Ok(made)
}

/// Splits, normalises, windows and trains on `dataset`.
///
/// `backend` is recorded in the model file (`cpu` or `webgpu`); `progress`
/// sees every batch and epoch and may stop training early.
pub async fn train<P>(
    dataset: &Dataset,
    setup: &Setup,
    device: &Device,
    backend: &str,
    progress: P,
) -> Result<TrainedModel, PipelineError>
where
    P: AsyncFnMut(Progress) -> Control,
{
    if setup.targets.is_empty() {
        return Err(PipelineError::NoTarget);
    }
    let input_names = setup.input_channels();
    let inputs = channel_indices(dataset, &input_names)?;
    let split = Split::chronological(dataset.time_secs.len(), setup.split)?;
    let columns: Vec<&[f32]> = inputs
        .iter()
        .map(|&c| dataset.channels[c].values.as_slice())
        .collect();
    let normalizer = Normalizer::fit(&columns, split.train.clone());
    let prepared = prepare(dataset, &inputs, &normalizer, setup.split)?;

    let spec = WindowSpec {
        lookback: setup.lookback,
        horizon: setup.horizon,
        stride: 1,
    };
    let train_spec = WindowSpec {
        stride: prep::stride_for_part(split.train.clone(), spec, setup.max_train_windows),
        ..spec
    };
    let val_spec = WindowSpec {
        stride: prep::stride_for_part(split.validation.clone(), spec, MAX_VALIDATION_WINDOWS),
        ..spec
    };
    let targets = setup.targets.len();
    let train_windows = windows(
        &prepared,
        targets,
        split.train.clone(),
        train_spec,
        "training",
    )?;
    let val_windows = windows(
        &prepared,
        targets,
        split.validation.clone(),
        val_spec,
        "validation",
    )?;

    let network = ForecasterConfig {
        features: inputs.len(),
        lookback: setup.lookback,
        hidden: setup.hidden,
        layers: setup.layers,
        horizon: setup.horizon,
        targets,
        output: OutputKind::Residual,
        dropout: 0.0,
    };
    log::debug!(
        "training {network:?} on {} windows (stride {}), validating on {}",
        train_windows.len(),
        train_spec.stride,
        val_windows.len()
    );
    let (model, history) = train::fit(
        &network,
        &setup.training,
        &train_windows,
        &val_windows,
        device,
        progress,
    )
    .await?;

    let meta = ModelMeta {
        network,
        target_channels: setup.targets.clone(),
        input_channels: input_names,
        normalizer,
        windows: train_spec,
        split: setup.split,
        training: setup.training.clone(),
        history,
        dataset: dataset.name.clone(),
        backend: backend.to_owned(),
        rul: None,
    };
    Ok(TrainedModel {
        meta,
        network: model,
    })
}

/// Scores of one target channel, in its original units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetScore {
    /// The channel.
    pub channel: String,
    /// The LSTM forecast.
    pub lstm: ErrorMetrics,
    /// The persistence (last value) forecast on the same windows.
    pub persistence: ErrorMetrics,
}

/// One method's scores on the test windows, without its forecasts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodSummary {
    /// `lstm` or the baseline's name (see [`evidence::label`]).
    pub name: String,
    /// Point metrics (z-scores; sMAPE in data units) and interval metrics,
    /// per horizon step and overall.
    pub scores: HorizonScores,
    /// `1 − MAE / MAE(seasonal naive)`.
    pub skill_mae: Option<f64>,
}

/// How the model did on the test part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Per target, in original units.
    pub targets: Vec<TargetScore>,
    /// All targets together in normalised (z-score) units.
    pub overall_lstm: ErrorMetrics,
    /// Persistence on all targets in normalised units.
    pub overall_persistence: ErrorMetrics,
    /// Test windows scored.
    pub windows: usize,
    /// Steps between the origins of the scored test windows.
    pub stride: usize,
    /// Rows of the test part.
    pub test_rows: Range<usize>,
    /// The LSTM and every baseline on the same test windows.
    pub methods: Vec<MethodSummary>,
    /// Whether the LSTM beats the baselines, said plainly.
    pub verdict: Verdict,
    /// Nominal coverage of the intervals.
    pub level: f64,
    /// The season found in the training part (steps), if any.
    pub season: Option<usize>,
    /// Forecast-vs-actual chart data, one view per target.
    pub views: Vec<ForecastView>,
}

/// Windows of one part, its stride chosen to keep at most `max` of them.
fn part_windows(
    prepared: &Prepared,
    targets: usize,
    part: Range<usize>,
    spec: WindowSpec,
    max: usize,
    name: &'static str,
) -> Result<Windows, PipelineError> {
    let stride = prep::stride_for_part(part.clone(), spec, max);
    windows(prepared, targets, part, WindowSpec { stride, ..spec }, name)
}

/// Forecasts every window of `set`, in chunks.
async fn forecast_all(
    model: &TrainedModel,
    set: &Windows,
    device: &Device,
) -> Result<Vec<f32>, PipelineError> {
    let mut forecast = Vec::with_capacity(set.labels.len());
    let per_window = set.lookback * set.features;
    for chunk in set.inputs.chunks(PREDICT_CHUNK * per_window) {
        forecast.extend(
            model
                .network
                .predict(&model.meta.network, chunk, device)
                .await?,
        );
    }
    Ok(forecast)
}

/// Forecasts the test part of `dataset` with `model` and scores it against
/// the actual values, the persistence forecast and every other baseline on
/// the same windows, with split-conformal intervals calibrated on the
/// validation part.
///
/// Scored test windows are spread over the whole test part (stride 1 up to
/// [`MAX_TEST_WINDOWS`]); the chart shows back-to-back windows (stride =
/// horizon), so it has one forecast for every test step.
pub async fn evaluate(
    model: &TrainedModel,
    dataset: &Dataset,
    device: &Device,
) -> Result<Evaluation, PipelineError> {
    let meta = &model.meta;
    if meta.rul.is_some() {
        return Err(PipelineError::IsRul);
    }
    let inputs = channel_indices(dataset, &meta.input_channels)?;
    let prepared = prepare(dataset, &inputs, &meta.normalizer, meta.split)?;
    let spec = WindowSpec {
        lookback: meta.network.lookback,
        horizon: meta.network.horizon,
        stride: 1,
    };
    let targets = meta.network.targets;
    let split = &prepared.split;
    let test = part_windows(
        &prepared,
        targets,
        split.test.clone(),
        spec,
        MAX_TEST_WINDOWS,
        "test",
    )?;
    let fit = part_windows(
        &prepared,
        targets,
        split.train.clone(),
        spec,
        MAX_BASELINE_WINDOWS,
        "training",
    )?;
    let calibration = part_windows(
        &prepared,
        targets,
        split.validation.clone(),
        spec,
        MAX_VALIDATION_WINDOWS,
        "validation",
    )?;

    let forecast = forecast_all(model, &test, device).await?;
    let calibration_forecast = forecast_all(model, &calibration, device).await?;
    let data = EvidenceData {
        series: &prepared.series,
        train_rows: split.train.clone(),
        train: &fit,
        validation: &calibration,
        test: &test,
        normalizer: &meta.normalizer,
        level: INTERVAL_LEVEL,
    };
    let baselines = evidence::fit_baselines(&data, SeasonChoice::Detect(SeasonSearch::default()))?;
    let comparison = evidence::compare(
        Some((&calibration_forecast, forecast.clone())),
        &baselines,
        &data,
    )?;

    let persistence = persistence_forecast(
        &test.inputs,
        test.lookback,
        test.features,
        test.horizon,
        targets,
    );
    let (targets_scores, overall_lstm, overall_persistence) =
        target_scores(meta, &test, &forecast, &persistence);

    let radius = comparison
        .methods
        .iter()
        .find(|m| m.name == evidence::LSTM)
        .map(|m| m.conformal.radius.clone())
        .unwrap_or_default();
    let views = chart_views(model, dataset, &inputs, &prepared, &radius, device).await?;

    Ok(Evaluation {
        targets: targets_scores,
        overall_lstm,
        overall_persistence,
        windows: test.len(),
        stride: test
            .origins
            .get(1)
            .map_or(1, |second| second - test.origins[0]),
        test_rows: split.test.clone(),
        methods: comparison
            .methods
            .iter()
            .map(|m| MethodSummary {
                name: m.name.clone(),
                scores: m.scores.clone(),
                skill_mae: m.skill_mae,
            })
            .collect(),
        verdict: comparison.verdict,
        level: INTERVAL_LEVEL,
        season: comparison.season,
        views,
    })
}

/// The chart of each target: back-to-back test windows (stride = horizon)
/// with the LSTM's forecast and interval and the persistence forecast.
async fn chart_views(
    model: &TrainedModel,
    dataset: &Dataset,
    inputs: &[usize],
    prepared: &Prepared,
    radius: &[f32],
    device: &Device,
) -> Result<Vec<ForecastView>, PipelineError> {
    let network = &model.meta.network;
    let spec = WindowSpec {
        lookback: network.lookback,
        horizon: network.horizon,
        stride: network.horizon,
    };
    let targets = network.targets;
    let chart = windows(prepared, targets, prepared.split.test.clone(), spec, "test")?;
    let forecast = forecast_all(model, &chart, device).await?;
    let persistence = persistence_forecast(
        &chart.inputs,
        chart.lookback,
        chart.features,
        chart.horizon,
        targets,
    );
    let series = ChartSeries {
        forecast: &forecast,
        persistence: &persistence,
        radius,
    };
    Ok((0..targets)
        .map(|target| forecast_view(model, dataset, inputs, &chart, &series, target))
        .collect())
}

/// The LSTM's and persistence's errors per target in original units, and
/// over all targets in z-scores.
fn target_scores(
    meta: &ModelMeta,
    test: &Windows,
    forecast: &[f32],
    persistence: &[f32],
) -> (Vec<TargetScore>, ErrorMetrics, ErrorMetrics) {
    let targets = meta.network.targets;
    let mut overall_lstm = ErrorAccumulator::default();
    let mut overall_persistence = ErrorAccumulator::default();
    let mut per_target = vec![(ErrorAccumulator::default(), ErrorAccumulator::default()); targets];
    for (i, &actual) in test.labels.iter().enumerate() {
        let target = i % targets;
        overall_lstm.add(forecast[i], actual);
        overall_persistence.add(persistence[i], actual);
        let denorm = |v: f32| meta.normalizer.denormalize_value(target, v);
        per_target[target]
            .0
            .add(denorm(forecast[i]), denorm(actual));
        per_target[target]
            .1
            .add(denorm(persistence[i]), denorm(actual));
    }
    let scores = per_target
        .iter()
        .zip(&meta.target_channels)
        .map(|((lstm, naive), channel)| TargetScore {
            channel: channel.clone(),
            lstm: lstm.finish(),
            persistence: naive.finish(),
        })
        .collect();
    (scores, overall_lstm.finish(), overall_persistence.finish())
}

/// What the chart draws of each back-to-back test window, z-scored.
struct ChartSeries<'a> {
    forecast: &'a [f32],
    persistence: &'a [f32],
    /// The LSTM's interval half-width per step and target.
    radius: &'a [f32],
}

/// Builds the chart view of one target over the test part.
fn forecast_view(
    model: &TrainedModel,
    dataset: &Dataset,
    inputs: &[usize],
    test: &Windows,
    series: &ChartSeries<'_>,
    target: usize,
) -> ForecastView {
    let meta = &model.meta;
    let channel = &dataset.channels[inputs[target]];
    let start = test.origins.first().copied().unwrap_or(0);
    let end = test.origins.last().map_or(start, |&o| o + test.horizon);
    let at = |w: usize, step: usize| (w * test.horizon + step) * test.targets + target;
    let denorm = |v: f32| meta.normalizer.denormalize_value(target, v);
    let times = |origin: usize| dataset.time_secs[origin..origin + test.horizon].to_vec();
    let segments = |values: &[f32]| -> Vec<ForecastSegment> {
        test.origins
            .iter()
            .enumerate()
            .map(|(w, &origin)| ForecastSegment {
                time_secs: times(origin),
                values: (0..test.horizon)
                    .map(|step| denorm(values[at(w, step)]))
                    .collect(),
            })
            .collect()
    };
    let radius = |step: usize| {
        series
            .radius
            .get(step * test.targets + target)
            .copied()
            .unwrap_or(f32::NAN)
    };
    let bands = test
        .origins
        .iter()
        .enumerate()
        .map(|(w, &origin)| {
            let edge = |sign: f32| {
                (0..test.horizon)
                    .map(|step| denorm(series.forecast[at(w, step)] + sign * radius(step)))
                    .collect()
            };
            BandSegment {
                time_secs: times(origin),
                lower: edge(-1.0),
                upper: edge(1.0),
            }
        })
        .collect();
    ForecastView {
        title: format!("{}: LSTM forecast against actual (test part)", channel.name),
        channel: channel.name.clone(),
        time_is_datetime: !matches!(dataset.time_kind, TimeKind::RowIndex),
        time_secs: dataset.time_secs[start..end].to_vec(),
        actual: channel.values[start..end].to_vec(),
        forecasts: segments(series.forecast),
        baseline: Some(segments(series.persistence)),
        bands,
        labels: SeriesLabels {
            band: format!("{:.0}% interval", INTERVAL_LEVEL * 100.0),
            ..SeriesLabels::default()
        },
    }
}
