//! The live twin: readings arrive one at a time (a replayed dataset or the
//! simulator), a stream forecaster predicts the next `horizon` readings of
//! every channel, the residuals drive the [`Twin`], and the forecaster and
//! its bands adapt as new data arrives.
//!
//! Per reading, [`LiveTwin::push`]:
//!
//! 1. takes the forecast of this reading from the last forecast path (made
//!    `lead` readings ago) and its residual;
//! 2. scores it against the recent residuals at the same lead — the band is
//!    **split-conformal, recalibrated on a rolling window** of residuals, so
//!    it follows the data as it changes — and feeds the twin;
//! 3. every `refresh` readings makes a new path of `horizon` forecasts with
//!    its band, which the page draws ahead of "now";
//! 4. when adaptation is on, every `every` readings fits the forecaster to
//!    the recent readings: the linear AR is refitted on them; the LSTM takes
//!    a few optimiser steps on windows of them (bounded fine-tuning).
//!
//! Two forecasters: a ridge linear autoregression per channel (fast, the
//! default for replay at high speed) and the LSTM of [`crate::model`] over
//! all channels at once. Both work on values normalised with the statistics
//! of the commissioning history they were first fitted on.

use std::collections::VecDeque;
use std::ops::Range;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::baselines::{ArConfig, LinearAr};
use crate::ingest::Dataset;
use crate::model::{Forecaster, ForecasterConfig, OutputKind};
use crate::prep::{Normalizer, WindowSpec, Windows, make_windows};
use crate::train::{self, Control, TrainConfig};
use crate::twin::{
    AlarmState, ChannelConfig, Event, Forecast, HealthState, Reading, RulEstimate, Twin, TwinConfig,
};

/// Gaps between readings the step of a forecast path is the median of.
const STEP_READINGS: usize = 64;

/// Residuals needed at a lead before its band is given.
const MIN_CALIBRATION: usize = 20;

/// Errors of the live twin.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The commissioning history is too short to fit the forecaster.
    #[error(
        "{rows} commissioning reading(s) are too few: the forecaster needs at least {needed} \
         (look-back {lookback} + horizon {horizon} and some more)"
    )]
    TooShort {
        /// Readings given.
        rows: usize,
        /// Readings needed.
        needed: usize,
        /// The look-back.
        lookback: usize,
        /// The horizon.
        horizon: usize,
    },
    /// A reading has another number of channels than the history.
    #[error("a reading has {found} value(s); the twin has {expected} channel(s)")]
    Shape {
        /// Channels of the twin.
        expected: usize,
        /// Values in the reading.
        found: usize,
    },
    /// The linear AR failed.
    #[error("the linear AR: {0}")]
    Ar(#[from] crate::baselines::BaselineError),
    /// The network failed.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] crate::train::TrainError),
    /// The twin refused a reading.
    #[error(transparent)]
    Twin(#[from] crate::twin::TwinError),
}

/// Which forecaster drives the twin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// A ridge linear autoregression per channel.
    #[default]
    LinearAr,
    /// The LSTM over all channels.
    Lstm,
}

/// How the forecaster follows new data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Adaptation {
    /// Whether it adapts at all.
    pub enabled: bool,
    /// Readings between two adaptations.
    pub every: usize,
    /// Recent readings an adaptation learns from. The linear AR is refitted
    /// on all of them, so this is long (more than a day of 1-minute
    /// readings, a week of 5-minute ones): refitted on a few hours it
    /// chases noise and forecasts worse than the commissioning fit where
    /// nothing changed. The LSTM fine-tunes on the newest windows only.
    pub window: usize,
    /// Optimiser steps of one LSTM adaptation.
    pub steps: usize,
    /// Learning rate of the LSTM's fine-tuning.
    pub learning_rate: f64,
}

impl Default for Adaptation {
    fn default() -> Self {
        Self {
            enabled: true,
            every: 50,
            window: 2_000,
            steps: 4,
            learning_rate: 5e-4,
        }
    }
}

/// Settings of the live twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveConfig {
    /// Readings of history each forecast reads.
    pub lookback: usize,
    /// Readings forecast ahead (drawn ahead of now; the score uses the lead
    /// the forecast was made at).
    pub horizon: usize,
    /// Readings between two forecast paths.
    pub refresh: usize,
    /// Lead the twin scores at: each reading is compared with the forecast
    /// made at least this many readings before it (the newest such path).
    /// A one-step forecast follows a fast but smooth change of level (a
    /// machine cooling down over an hour) closely, so its residuals stay
    /// small; the forecast made several readings earlier does not, while a
    /// sudden jump stands out at every lead.
    pub score_lead: usize,
    /// Nominal coverage of the bands.
    pub level: f64,
    /// Residuals kept per lead and channel for the bands.
    pub calibration: usize,
    /// Which forecaster.
    pub model: ModelKind,
    /// Hidden units of the LSTM.
    pub hidden: usize,
    /// Most epochs of the LSTM's first training.
    pub epochs: usize,
    /// How it adapts.
    pub adaptation: Adaptation,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            lookback: 24,
            horizon: 12,
            refresh: 1,
            score_lead: 6,
            level: 0.9,
            calibration: 300,
            model: ModelKind::LinearAr,
            hidden: 24,
            epochs: 12,
            adaptation: Adaptation::default(),
        }
    }
}

/// `rows` (`[row][channel]`) with every non-finite value replaced by the
/// channel's last finite one (or its mean before the first).
fn filled(rows: &[Vec<f64>], fallback: &[f32]) -> Vec<Vec<f32>> {
    let channels = fallback.len();
    let mut last: Vec<f32> = fallback.to_vec();
    let mut columns = vec![Vec::with_capacity(rows.len()); channels];
    for row in rows {
        for (c, column) in columns.iter_mut().enumerate() {
            let value = row.get(c).copied().unwrap_or(f64::NAN) as f32;
            if value.is_finite() {
                last[c] = value;
            }
            column.push(last[c]);
        }
    }
    columns
}

/// The forecaster of a stream.
#[derive(Debug, Clone)]
pub enum StreamModel {
    /// One linear AR per channel, on that channel's own history.
    LinearAr {
        /// The fitted models, one per channel.
        channels: Vec<LinearAr>,
    },
    /// One LSTM over all channels.
    Lstm {
        /// The network (boxed: far larger than the other variant).
        network: Box<Forecaster>,
        /// Its shape.
        config: ForecasterConfig,
    },
}

/// A forecaster with the statistics it normalises with.
#[derive(Debug, Clone)]
pub struct StreamForecaster {
    model: StreamModel,
    normalizer: Normalizer,
    lookback: usize,
    horizon: usize,
    device: Device,
}

impl StreamForecaster {
    /// Fits a forecaster of `kind` on the commissioning `history`
    /// (`[row][channel]`).
    pub async fn fit(
        history: &[Vec<f64>],
        config: &LiveConfig,
        device: &Device,
    ) -> Result<Self, LiveError> {
        let needed = 3 * (config.lookback + config.horizon);
        if history.len() < needed {
            return Err(LiveError::TooShort {
                rows: history.len(),
                needed,
                lookback: config.lookback,
                horizon: config.horizon,
            });
        }
        let channels = history.first().map_or(0, Vec::len);
        let columns = filled(history, &vec![0.0; channels]);
        let slices: Vec<&[f32]> = columns.iter().map(Vec::as_slice).collect();
        let normalizer = Normalizer::fit(&slices, 0..history.len());
        let series: Vec<Vec<f32>> = (0..channels)
            .map(|c| normalizer.normalize(c, &columns[c]))
            .collect();
        let model = match config.model {
            ModelKind::LinearAr => StreamModel::LinearAr {
                channels: fit_ars(&series, config.lookback, config.horizon)?,
            },
            ModelKind::Lstm => fit_lstm(&series, config, device).await?,
        };
        Ok(Self {
            model,
            normalizer,
            lookback: config.lookback,
            horizon: config.horizon,
            device: device.clone(),
        })
    }

    /// The normalised history's last look-back, `[channel][lookback]`,
    /// forward-filled.
    fn recent(&self, history: &[Vec<f64>]) -> Vec<Vec<f32>> {
        let start = history.len().saturating_sub(self.lookback);
        let columns = filled(&history[start..], &self.normalizer.mean);
        columns
            .iter()
            .enumerate()
            .map(|(c, values)| {
                let mut values = self.normalizer.normalize(c, values);
                // Too little history: repeat the first value in front.
                while values.len() < self.lookback {
                    values.insert(0, values.first().copied().unwrap_or(0.0));
                }
                values
            })
            .collect()
    }

    /// Forecasts the next `horizon` readings after `history`, `[step][channel]`
    /// in the data's units.
    pub async fn forecast(&self, history: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, LiveError> {
        let recent = self.recent(history);
        let channels = recent.len();
        let normalised: Vec<Vec<f32>> = match &self.model {
            StreamModel::LinearAr { channels: ars } => {
                let mut out = vec![vec![0.0; channels]; self.horizon];
                for (c, ar) in ars.iter().enumerate() {
                    let windows = Windows {
                        lookback: self.lookback,
                        features: 1,
                        horizon: self.horizon,
                        targets: 1,
                        inputs: recent[c].clone(),
                        labels: vec![0.0; self.horizon],
                        origins: vec![self.lookback],
                    };
                    for (step, value) in ar.forecast(&windows)?.into_iter().enumerate() {
                        out[step][c] = value;
                    }
                }
                out
            }
            StreamModel::Lstm { network, config } => {
                let inputs: Vec<f32> = (0..self.lookback)
                    .flat_map(|t| recent.iter().map(move |values| values[t]))
                    .collect();
                let values = network.predict(config, &inputs, &self.device).await?;
                values.chunks(channels).map(<[f32]>::to_vec).collect()
            }
        };
        Ok(normalised
            .iter()
            .map(|step| {
                step.iter()
                    .enumerate()
                    .map(|(c, &v)| f64::from(self.normalizer.denormalize_value(c, v)))
                    .collect()
            })
            .collect())
    }

    /// Fits the forecaster to `recent` readings: refits the linear AR, or
    /// fine-tunes the LSTM for a few steps. Returns `false` (and changes
    /// nothing) when `recent` is too short to learn from.
    pub fn adapt(
        &mut self,
        recent: &[Vec<f64>],
        adaptation: &Adaptation,
    ) -> Result<bool, LiveError> {
        if recent.len() < 2 * (self.lookback + self.horizon) {
            return Ok(false);
        }
        let columns = filled(recent, &self.normalizer.mean);
        let series: Vec<Vec<f32>> = columns
            .iter()
            .enumerate()
            .map(|(c, values)| self.normalizer.normalize(c, values))
            .collect();
        match &mut self.model {
            StreamModel::LinearAr { channels } => {
                *channels = fit_ars(&series, self.lookback, self.horizon)?;
            }
            StreamModel::Lstm { network, .. } => {
                let features: Vec<usize> = (0..series.len()).collect();
                let spec = WindowSpec {
                    lookback: self.lookback,
                    horizon: self.horizon,
                    stride: 1,
                };
                let windows = make_windows(&series, &features, &features, 0..recent.len(), spec)
                    .map_err(|err| crate::model::ModelError::Config(err.to_string()))?;
                **network = fine_tune(network, &windows, adaptation, &self.device);
            }
        }
        Ok(true)
    }
}

/// One linear AR per channel on its own normalised history.
fn fit_ars(
    series: &[Vec<f32>],
    lookback: usize,
    horizon: usize,
) -> Result<Vec<LinearAr>, LiveError> {
    let spec = WindowSpec {
        lookback,
        horizon,
        stride: 1,
    };
    series
        .iter()
        .map(|values| {
            let one = vec![values.clone()];
            let windows = make_windows(&one, &[0], &[0], 0..values.len(), spec)
                .map_err(|err| crate::model::ModelError::Config(err.to_string()))?;
            let mut ar = LinearAr::new(ArConfig::default());
            ar.fit(&windows)?;
            Ok(ar)
        })
        .collect()
}

/// Trains the LSTM on the commissioning history: the first 80% to fit, the
/// rest to stop early.
async fn fit_lstm(
    series: &[Vec<f32>],
    config: &LiveConfig,
    device: &Device,
) -> Result<StreamModel, LiveError> {
    let channels = series.len();
    let rows = series.first().map_or(0, Vec::len);
    let features: Vec<usize> = (0..channels).collect();
    let spec = WindowSpec {
        lookback: config.lookback,
        horizon: config.horizon,
        stride: 1,
    };
    let cut = rows * 4 / 5;
    let windows = |part| {
        make_windows(series, &features, &features, part, spec)
            .map_err(|err| crate::model::ModelError::Config(err.to_string()))
    };
    let (train_windows, validation) = (windows(0..cut)?, windows(cut..rows)?);
    let network_config = ForecasterConfig {
        features: channels,
        lookback: config.lookback,
        hidden: config.hidden,
        layers: 1,
        horizon: config.horizon,
        targets: channels,
        output: OutputKind::Residual,
        dropout: 0.0,
    };
    let settings = TrainConfig {
        epochs: config.epochs,
        batch_size: 64,
        learning_rate: 3e-3,
        patience: 4,
        ..TrainConfig::default()
    };
    let (network, _) = train::fit(
        &network_config,
        &settings,
        &train_windows,
        &validation,
        device,
        async |_| Control::Continue,
    )
    .await?;
    Ok(StreamModel::Lstm {
        network: Box::new(network),
        config: network_config,
    })
}

/// A few Adam steps of the LSTM on `windows` (on the CPU backend, whose
/// reads need no waiting), newest windows first; returns the tuned network.
fn fine_tune(
    network: &Forecaster,
    windows: &Windows,
    adaptation: &Adaptation,
    device: &Device,
) -> Forecaster {
    if windows.is_empty() {
        return network.clone();
    }
    let autodiff = device.clone().autodiff();
    let mut model = network.clone().fork(&autodiff).train();
    let mut optimizer = AdamConfig::new().init();
    let batch = 64.min(windows.len());
    for step in 0..adaptation.steps {
        // Walk back from the newest windows, one batch per step.
        let end = windows.len().saturating_sub(step * batch);
        let start = end.saturating_sub(batch);
        if end <= start {
            break;
        }
        let indices: Vec<usize> = (start..end).collect();
        let (x, y) = train::batch_tensors(windows, &indices, &autodiff);
        let loss = (model.forward(x) - y).square().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(adaptation.learning_rate, model, grads);
    }
    model.valid()
}

/// A path of forecasts made at one reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ahead {
    /// Index of the reading after which it was made.
    pub made_at: u64,
    /// Time of that reading.
    pub made_at_secs: f64,
    /// Seconds between readings it assumes (the median step so far).
    pub step_secs: f64,
    /// Forecast of each following reading, `[step][channel]`.
    pub values: Vec<Vec<f64>>,
    /// Band edges, `[step][channel]`; NaN where too few residuals are known.
    pub lower: Vec<Vec<f64>>,
    /// Band edges, `[step][channel]`.
    pub upper: Vec<Vec<f64>>,
}

/// What one reading did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Index of the reading (0-based).
    pub index: u64,
    /// The reading.
    pub reading: Reading,
    /// Its forecast (from the last path), when there was one.
    pub predicted: Option<Vec<f64>>,
    /// The anomaly score the twin gave it.
    pub score: Option<f64>,
    /// Events it caused.
    pub events: Vec<Event>,
    /// The health state after it.
    pub state: HealthState,
    /// The alarm after it.
    pub alarm: AlarmState,
}

/// The twin of one asset with its forecaster, fed one reading at a time.
#[derive(Debug, Clone)]
pub struct LiveTwin {
    twin: Twin,
    forecaster: StreamForecaster,
    config: LiveConfig,
    history: VecDeque<Vec<f64>>,
    times: VecDeque<f64>,
    ahead: Option<Ahead>,
    /// The paths whose horizon still reaches the next reading, oldest first.
    paths: VecDeque<Ahead>,
    /// Absolute residuals per lead and channel: `[lead][channel]`.
    residuals: Vec<Vec<VecDeque<f64>>>,
    next_index: u64,
    since_adapt: usize,
    adaptations: usize,
}

impl LiveTwin {
    /// A live twin whose forecaster was fitted on its commissioning history.
    #[must_use]
    pub fn new(twin: Twin, forecaster: StreamForecaster, config: LiveConfig) -> Self {
        let channels = forecaster.normalizer.mean.len();
        Self {
            residuals: vec![vec![VecDeque::new(); channels]; config.horizon],
            twin,
            forecaster,
            history: VecDeque::new(),
            times: VecDeque::new(),
            ahead: None,
            paths: VecDeque::new(),
            next_index: 0,
            since_adapt: 0,
            adaptations: 0,
            config,
        }
    }

    /// The twin (state, alarm, event log).
    #[must_use]
    pub fn twin(&self) -> &Twin {
        &self.twin
    }

    /// The twin, for operator actions.
    pub fn twin_mut(&mut self) -> &mut Twin {
        &mut self.twin
    }

    /// The latest forecast path with its band.
    #[must_use]
    pub fn ahead(&self) -> Option<&Ahead> {
        self.ahead.as_ref()
    }

    /// Time of the last reading, epoch seconds.
    #[must_use]
    pub fn last_time_secs(&self) -> Option<f64> {
        self.times.back().copied()
    }

    /// Adaptations done so far.
    #[must_use]
    pub fn adaptations(&self) -> usize {
        self.adaptations
    }

    /// Turns adaptation on or off.
    pub fn set_adaptation(&mut self, enabled: bool) {
        self.config.adaptation.enabled = enabled;
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &LiveConfig {
        &self.config
    }

    /// The band's half-width at `lead` (1-based) for `channel`, or `None`
    /// with too few residuals.
    fn radius(&self, lead: usize, channel: usize) -> Option<f64> {
        let residuals = self.residuals.get(lead.checked_sub(1)?)?.get(channel)?;
        if residuals.len() < MIN_CALIBRATION {
            return None;
        }
        let mut scores: Vec<f64> = residuals.iter().copied().collect();
        Some(crate::conformal::conformal_quantile(
            &mut scores,
            1.0 - self.config.level,
        ))
        .filter(|q| q.is_finite())
    }

    /// Takes one reading (and a RUL estimate, if there is one).
    pub async fn push(
        &mut self,
        reading: Reading,
        rul: Option<RulEstimate>,
    ) -> Result<Step, LiveError> {
        let channels = self.forecaster.normalizer.mean.len();
        if reading.values.len() != channels {
            return Err(LiveError::Shape {
                expected: channels,
                found: reading.values.len(),
            });
        }
        let index = self.next_index;
        self.next_index += 1;

        // The forecast of this reading from the newest path, as before, and
        // the one the twin scores: from the newest path made at least
        // `score_lead` readings ago.
        while self
            .paths
            .front()
            .is_some_and(|path| index - path.made_at > path.values.len() as u64)
        {
            self.paths.pop_front();
        }
        let lead = self.ahead.as_ref().map(|a| (index - a.made_at) as usize);
        let predicted = match (&self.ahead, lead) {
            (Some(ahead), Some(lead)) if lead >= 1 && lead <= ahead.values.len() => {
                Some(ahead.values[lead - 1].clone())
            }
            _ => None,
        };
        let score_lead = self.config.score_lead.clamp(1, self.config.horizon.max(1)) as u64;
        let scored = self
            .paths
            .iter()
            .rev()
            .find(|path| index - path.made_at >= score_lead)
            .map(|path| {
                let lead = (index - path.made_at) as usize;
                (lead, path.values[lead - 1].clone())
            });
        let forecast = scored.map(|(lead, values)| {
            let quantiles: Option<Vec<f64>> = (0..channels).map(|c| self.radius(lead, c)).collect();
            Forecast {
                values,
                quantiles,
                time_to_limit: None,
            }
        });
        let events = self.twin.observe(&reading, forecast.as_ref(), rul)?;

        // Every path that forecast this reading calibrates the band at its
        // lead.
        for path in &self.paths {
            let lead = (index - path.made_at) as usize;
            let Some(values) = lead.checked_sub(1).and_then(|step| path.values.get(step)) else {
                continue;
            };
            for (c, (&p, &a)) in values.iter().zip(&reading.values).enumerate() {
                let residual = (a - p).abs();
                if residual.is_finite() {
                    let kept = &mut self.residuals[lead - 1][c];
                    kept.push_back(residual);
                    if kept.len() > self.config.calibration {
                        kept.pop_front();
                    }
                }
            }
        }

        let cap = self.config.adaptation.window.max(self.config.lookback * 4);
        self.history.push_back(reading.values.clone());
        self.times.push_back(reading.time_secs);
        while self.history.len() > cap {
            self.history.pop_front();
            self.times.pop_front();
        }

        self.since_adapt += 1;
        let adaptation = self.config.adaptation;
        if adaptation.enabled && self.since_adapt >= adaptation.every.max(1) {
            self.since_adapt = 0;
            let recent: Vec<Vec<f64>> = self.history.iter().cloned().collect();
            let start = recent.len().saturating_sub(adaptation.window);
            if self.forecaster.adapt(&recent[start..], &adaptation)? {
                self.adaptations += 1;
            }
        }

        let due = lead.is_none_or(|lead| lead >= self.config.refresh.max(1));
        if due && self.history.len() >= self.config.lookback {
            let ahead = self.make_ahead(index, reading.time_secs).await?;
            self.paths.push_back(ahead.clone());
            self.ahead = Some(ahead);
        }

        let score = self
            .twin
            .last_observation()
            .and_then(|o| o.score.as_ref().map(|s| s.value));
        Ok(Step {
            index,
            predicted,
            score,
            events,
            state: self.twin.state(),
            alarm: self.twin.alarm(),
            reading,
        })
    }

    async fn make_ahead(&self, index: u64, time_secs: f64) -> Result<Ahead, LiveError> {
        // The forecaster reads the last look-back readings only.
        let tail = self
            .history
            .len()
            .saturating_sub(self.config.lookback.max(1));
        let history: Vec<Vec<f64>> = self.history.iter().skip(tail).cloned().collect();
        let values = self.forecaster.forecast(&history).await?;
        // The step: the median of the last few gaps between readings.
        let recent = self.times.len().saturating_sub(STEP_READINGS);
        let mut steps: Vec<f64> = self
            .times
            .iter()
            .skip(recent)
            .zip(self.times.iter().skip(recent + 1))
            .map(|(a, b)| b - a)
            .filter(|d| d.is_finite() && *d > 0.0)
            .collect();
        steps.sort_by(f64::total_cmp);
        let step_secs = steps.get(steps.len() / 2).copied().unwrap_or(1.0);
        // One quantile per lead and channel, for both edges.
        let radii: Vec<Vec<Option<f64>>> = (1..=values.len())
            .map(|lead| {
                (0..values.first().map_or(0, Vec::len))
                    .map(|c| self.radius(lead, c))
                    .collect()
            })
            .collect();
        let band = |sign: f64| -> Vec<Vec<f64>> {
            values
                .iter()
                .zip(&radii)
                .map(|(step, radii)| {
                    step.iter()
                        .zip(radii)
                        .map(|(&v, r)| r.map_or(f64::NAN, |r| v + sign * r))
                        .collect()
                })
                .collect()
        };
        Ok(Ahead {
            made_at: index,
            made_at_secs: time_secs,
            step_secs,
            lower: band(-1.0),
            upper: band(1.0),
            values,
        })
    }
}

/// The readings of `channels` (indices into [`Dataset::channels`]) in
/// `rows` of `dataset`, for replay; bad cells stay `NaN` (the twin's data
/// quality check sees them).
#[must_use]
pub fn dataset_readings(dataset: &Dataset, channels: &[usize], rows: Range<usize>) -> Vec<Reading> {
    let end = rows.end.min(dataset.len());
    (rows.start.min(end)..end)
        .map(|row| Reading {
            time_secs: dataset.time_secs[row],
            values: channels
                .iter()
                .map(|&c| {
                    dataset
                        .channels
                        .get(c)
                        .and_then(|channel| channel.values.get(row))
                        .map_or(f64::NAN, |&v| f64::from(v))
                })
                .collect(),
        })
        .collect()
}

/// Twin settings for `channels` of a loaded dataset, whose physical limits
/// are not known: each channel counts as out of range (a sensor fault)
/// beyond its range over the `commissioning` rows widened by three times
/// that range on both sides. Everything else is [`TwinConfig::default`].
#[must_use]
pub fn twin_config_for(
    dataset: &Dataset,
    channels: &[usize],
    commissioning: Range<usize>,
) -> TwinConfig {
    let end = commissioning.end.min(dataset.len());
    let start = commissioning.start.min(end);
    let configs = channels
        .iter()
        .filter_map(|&c| dataset.channels.get(c))
        .map(|channel| {
            let (low, high) = channel.values[start..end]
                .iter()
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(f64::from(v)), hi.max(f64::from(v)))
                });
            let (low, high) = if low <= high {
                (low, high)
            } else {
                (-1.0e9, 1.0e9)
            };
            let span = (high - low).max(high.abs().max(1.0) * 1.0e-3);
            ChannelConfig {
                name: channel.name.clone(),
                unit: String::new(),
                min: low - 3.0 * span,
                max: high + 3.0 * span,
                scored: true,
                alarm_above: None,
                failure_above: None,
                failure_below: None,
            }
        })
        .collect();
    TwinConfig {
        channels: configs,
        ..TwinConfig::default()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::train::block_on;
    use crate::twin::{SimConfig, Simulator, TwinConfig};

    fn history(sim: &mut Simulator, rows: usize) -> Vec<Vec<f64>> {
        sim.run(rows).into_iter().map(|r| r.values).collect()
    }

    #[test]
    fn the_ar_twin_forecasts_ahead_and_its_band_covers() {
        let mut sim = Simulator::new(SimConfig::default()).unwrap();
        let commissioning = history(&mut sim, 400);
        let config = LiveConfig::default();
        let device = Device::flex();
        let forecaster = block_on(StreamForecaster::fit(&commissioning, &config, &device)).unwrap();
        let twin = Twin::new(TwinConfig::default()).unwrap();
        let mut live = LiveTwin::new(twin, forecaster, config.clone());

        let (mut inside, mut scored) = (0, 0);
        for _ in 0..400 {
            let reading = sim.step();
            let ahead = live.ahead().cloned();
            let step = block_on(live.push(reading.clone(), None)).unwrap();
            if let (Some(ahead), Some(_)) = (ahead, step.predicted) {
                let (lo, hi) = (ahead.lower[0][1], ahead.upper[0][1]);
                if lo.is_finite() {
                    scored += 1;
                    if (lo..=hi).contains(&reading.values[1]) {
                        inside += 1;
                    }
                }
            }
        }
        let ahead = live.ahead().expect("a path");
        assert_eq!(ahead.values.len(), config.horizon);
        assert!(scored > 300, "{scored}");
        let coverage = f64::from(inside) / f64::from(scored);
        assert!(
            (0.8..=0.97).contains(&coverage),
            "one-step coverage {coverage}"
        );
        assert!(live.adaptations() >= 7);
        assert_ne!(live.twin().state(), HealthState::Commissioning);
    }

    #[test]
    fn too_little_history_is_refused_and_a_wrong_reading_too() {
        let device = Device::flex();
        let config = LiveConfig::default();
        let short = vec![vec![1.0, 2.0, 3.0, 4.0]; 20];
        let err = block_on(StreamForecaster::fit(&short, &config, &device)).unwrap_err();
        assert!(err.to_string().contains("too few"), "{err}");

        let mut sim = Simulator::new(SimConfig::default()).unwrap();
        let commissioning = history(&mut sim, 300);
        let forecaster = block_on(StreamForecaster::fit(&commissioning, &config, &device)).unwrap();
        let mut live = LiveTwin::new(
            Twin::new(TwinConfig::default()).unwrap(),
            forecaster,
            config,
        );
        let bad = Reading {
            time_secs: 0.0,
            values: vec![1.0],
        };
        let err = block_on(live.push(bad, None)).unwrap_err();
        assert!(err.to_string().contains("1 value(s)"), "{err}");
    }

    #[test]
    fn the_lstm_twin_trains_forecasts_and_fine_tunes() {
        let mut sim = Simulator::new(SimConfig::default()).unwrap();
        let commissioning = history(&mut sim, 500);
        let config = LiveConfig {
            model: ModelKind::Lstm,
            hidden: 8,
            epochs: 2,
            refresh: 4,
            adaptation: Adaptation {
                every: 30,
                ..Adaptation::default()
            },
            ..LiveConfig::default()
        };
        let device = Device::flex();
        let forecaster = block_on(StreamForecaster::fit(&commissioning, &config, &device)).unwrap();
        let before = block_on(forecaster.forecast(&commissioning)).unwrap();
        let mut live = LiveTwin::new(
            Twin::new(TwinConfig::default()).unwrap(),
            forecaster,
            config,
        );
        // Adaptation needs 2 × (look-back + horizon) = 72 readings: the
        // turns at 30 and 60 pass, those at 90 and 120 tune.
        for _ in 0..130 {
            block_on(live.push(sim.step(), None)).unwrap();
        }
        assert_eq!(live.adaptations(), 2);
        let after = block_on(live.forecaster.forecast(&commissioning)).unwrap();
        assert_eq!(after.len(), before.len());
        assert_ne!(after, before, "fine-tuning changed nothing");
        assert!(after.iter().flatten().all(|v| v.is_finite()));
    }
}
