//! The training loop: mini-batches, MSE loss, Adam, validation after every
//! epoch, early stopping that keeps the best weights.
//!
//! burn-train's `Learner` does not run on wasm32, so the loop is written here
//! with autodiff and an optimizer. It is `async` only so that the caller can
//! report progress and read results back on backends (WebGPU) that can only
//! do that asynchronously; natively [`block_on`] drives it.

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::model::{Forecaster, ForecasterConfig, ModelError, OutputKind, windows_tensor};
use crate::prep::{Sequences, Windows};

/// Errors from training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// There is nothing to train or validate on.
    #[error("no {0} windows: the series is too short for this look-back and horizon")]
    NoWindows(&'static str),
    /// The windows do not fit the network.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The loss became NaN or infinite.
    #[error("training diverged at epoch {epoch} (loss is not a number); lower the learning rate")]
    Diverged {
        /// The 1-based epoch in which it happened.
        epoch: usize,
    },
}

/// Settings of the optimisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Most passes over the training windows.
    pub epochs: usize,
    /// Windows per gradient step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Epochs without a better validation loss before training stops.
    pub patience: usize,
    /// Seed of the weight initialisation and of the batch order.
    pub seed: u64,
    /// Epochs without a better validation loss after which the learning
    /// rate is halved (again after as many more); 0 keeps it fixed.
    #[serde(default)]
    pub decay_after: usize,
    /// L2 penalty on the weights (Adam's weight decay); 0 turns it off.
    #[serde(default)]
    pub weight_decay: f32,
    /// Weight of squared errors where the forecast is above the label
    /// (a late RUL estimate); 1 is plain MSE.
    #[serde(default = "plain_mse")]
    pub late_weight: f32,
    /// Added to the initial bias of every LSTM forget gate (see
    /// [`ForecasterConfig::init_seeded`]); 0 is burn's plain
    /// initialisation.
    #[serde(default)]
    pub forget_bias: f32,
}

fn plain_mse() -> f32 {
    1.0
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 64,
            learning_rate: 2e-3,
            patience: 4,
            seed: 42,
            decay_after: 0,
            weight_decay: 0.0,
            late_weight: 1.0,
            forget_bias: 0.0,
        }
    }
}

/// What the loop reports while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// A gradient step finished.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// Most epochs.
        epochs: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// Batches per epoch.
        batches: usize,
    },
    /// An epoch finished and was validated.
    Epoch {
        /// 1-based epoch.
        epoch: usize,
        /// Most epochs.
        epochs: usize,
        /// Mean training loss (MSE, normalised units) over the epoch.
        train_loss: f32,
        /// Validation loss (MSE, normalised units).
        validation_loss: f32,
        /// 1-based epoch with the lowest validation loss so far.
        best_epoch: usize,
    },
}

/// Whether the loop should go on after a progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep training.
    Continue,
    /// Stop now and keep the best weights so far (the user pressed stop).
    Stop,
}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every epoch ran.
    EpochsDone,
    /// The validation loss stopped improving.
    EarlyStop,
    /// The caller asked to stop.
    Cancelled,
}

/// Loss per epoch and how training ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Mean training loss of each epoch.
    pub train_loss: Vec<f32>,
    /// Validation loss after each epoch.
    pub validation_loss: Vec<f32>,
    /// Validation loss before the first step (the starting point).
    pub initial_validation_loss: f32,
    /// 0-based epoch whose weights were kept.
    pub best_epoch: Option<usize>,
    /// Why the loop ended.
    pub stop: StopReason,
}

impl History {
    /// This history followed by `next` (the run of another network): the
    /// curves one after the other, the best epoch and the stop of `next`.
    #[must_use]
    pub fn then(mut self, next: Self) -> Self {
        let offset = self.validation_loss.len();
        self.train_loss.extend(next.train_loss);
        self.validation_loss.extend(next.validation_loss);
        self.best_epoch = next.best_epoch.map(|epoch| epoch + offset);
        self.stop = next.stop;
        self
    }

    /// The validation loss of the kept weights.
    #[must_use]
    pub fn best_validation_loss(&self) -> f32 {
        self.best_epoch
            .and_then(|epoch| self.validation_loss.get(epoch).copied())
            .unwrap_or(self.initial_validation_loss)
    }
}

/// What the loop trains and validates on: windows (one forecast each) or
/// whole sequences (a value at every step).
pub trait TrainingSet {
    /// Number of items (windows or sequences).
    fn count(&self) -> usize;

    /// Checks that the items fit the network.
    fn check(&self, config: &ForecasterConfig) -> Result<(), ModelError>;

    /// Cuts the shuffled `order` into mini-batches of at most `batch_size`
    /// items. By default consecutive items; sets whose items differ in cost
    /// may group similar items to waste less work.
    fn batches(&self, order: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
        order
            .chunks(batch_size.max(1))
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// The mean squared error of `model` over the items at `indices`, as a
    /// one-value tensor, and the number of values it averages. Errors above
    /// the label count `late_weight` times (1 weighs both sides alike).
    fn batch_loss(
        &self,
        model: &Forecaster,
        indices: &[usize],
        late_weight: f32,
        device: &Device,
    ) -> (Tensor<1>, usize);
}

/// Batches per pool of sequences sorted by length (see
/// [`TrainingSet::batches`] for [`Sequences`]).
const LENGTH_POOL: usize = 4;

/// Squared errors, those where the forecast is above the label weighted by
/// `late_weight`.
fn weighted_square<const D: usize>(error: Tensor<D>, late_weight: f32) -> Tensor<D> {
    let squared = error.clone().square();
    if (late_weight - 1.0).abs() < f32::EPSILON {
        return squared;
    }
    let late = error.greater_elem(0.0).float();
    squared * (late * (late_weight - 1.0) + 1.0)
}

impl TrainingSet for Windows {
    fn count(&self) -> usize {
        self.len()
    }

    fn check(&self, config: &ForecasterConfig) -> Result<(), ModelError> {
        check_windows(config, self)
    }

    fn batch_loss(
        &self,
        model: &Forecaster,
        indices: &[usize],
        late_weight: f32,
        device: &Device,
    ) -> (Tensor<1>, usize) {
        let (x, y) = batch_tensors(self, indices, device);
        let squared = weighted_square(model.forward(x) - y, late_weight);
        (squared.mean(), indices.len())
    }
}

impl TrainingSet for Sequences {
    fn count(&self) -> usize {
        self.len()
    }

    fn check(&self, config: &ForecasterConfig) -> Result<(), ModelError> {
        let expected = (config.features, config.targets);
        if (self.features, self.targets) == expected && config.output == OutputKind::PerStep {
            Ok(())
        } else {
            Err(ModelError::Config(format!(
                "sequences of (features, targets) = {:?} need a per-step network with {expected:?}",
                (self.features, self.targets)
            )))
        }
    }

    /// Sequences of similar length together, so that padding costs little:
    /// the shuffled order is taken in pools of [`LENGTH_POOL`] batches, each
    /// pool sorted by length and cut into batches, and the batches of the
    /// epoch are put back in an order that depends on the shuffle only.
    fn batches(&self, order: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
        let batch_size = batch_size.max(1);
        let mut batches = Vec::with_capacity(order.len().div_ceil(batch_size));
        for pool in order.chunks(batch_size * LENGTH_POOL) {
            let mut pool = pool.to_vec();
            pool.sort_by_key(|&i| self.steps(i));
            batches.extend(pool.chunks(batch_size).map(<[usize]>::to_vec));
        }
        // Mix long and short batches: order them by the earliest shuffled
        // position of their items, which is as random as the shuffle.
        let mut rank = vec![0; self.len()];
        for (position, &i) in order.iter().enumerate() {
            rank[i] = position;
        }
        batches.sort_by_key(|batch| batch.iter().map(|&i| rank[i]).min());
        batches
    }

    fn batch_loss(
        &self,
        model: &Forecaster,
        indices: &[usize],
        late_weight: f32,
        device: &Device,
    ) -> (Tensor<1>, usize) {
        let padded = self.padded(indices);
        let shape = [indices.len(), padded.steps, self.features];
        let x = Tensor::from_data(TensorData::new(padded.inputs, shape), device);
        let label_shape = [indices.len(), padded.steps, self.targets];
        let y = Tensor::<3>::from_data(TensorData::new(padded.labels, label_shape), device);
        let mask = Tensor::<3>::from_data(TensorData::new(padded.mask, label_shape), device);
        let squared = weighted_square(model.forward_sequence(x) - y, late_weight) * mask;
        let valid = padded.valid.max(1);
        (squared.sum() / valid as f32, valid)
    }
}

/// Trains a fresh network on `train`, validating on `validation`.
///
/// `device` is the plain (non-autodiff) device; training runs on its autodiff
/// twin. `progress` is called after every batch and epoch and may stop the
/// loop. Returns the weights of the best validation epoch on `device`.
pub async fn fit<S, P>(
    config: &ForecasterConfig,
    settings: &TrainConfig,
    train: &S,
    validation: &S,
    device: &Device,
    mut progress: P,
) -> Result<(Forecaster, History), TrainError>
where
    S: TrainingSet,
    P: AsyncFnMut(Progress) -> Control,
{
    if train.count() == 0 {
        return Err(TrainError::NoWindows("training"));
    }
    if validation.count() == 0 {
        return Err(TrainError::NoWindows("validation"));
    }
    train.check(config)?;
    validation.check(config)?;

    device.seed(settings.seed);
    let autodiff = device.clone().autodiff();
    let mut model = config.init_seeded(settings.forget_bias, settings.seed, &autodiff)?;
    let decay =
        (settings.weight_decay > 0.0).then(|| WeightDecayConfig::new(settings.weight_decay));
    let mut optimizer = AdamConfig::new().with_weight_decay(decay).init();

    let initial_validation_loss = validation_loss(&model.valid(), validation, device).await?;
    let mut best = model.valid();
    let mut history = History {
        train_loss: Vec::new(),
        validation_loss: Vec::new(),
        initial_validation_loss,
        best_epoch: None,
        stop: StopReason::EpochsDone,
    };
    let mut best_loss = initial_validation_loss;
    let mut since_best = 0;
    let mut rng = SplitMix64::new(settings.seed);
    let batch_size = settings.batch_size.max(1);
    let mut order: Vec<usize> = (0..train.count()).collect();

    let mut learning_rate = settings.learning_rate;

    'epochs: for epoch in 1..=settings.epochs {
        rng.shuffle(&mut order);
        let epoch_batches = train.batches(&order, batch_size);
        let batches = epoch_batches.len();
        let (mut loss_sum, mut loss_count) = (0.0f64, 0usize);
        for (index, chunk) in epoch_batches.iter().enumerate() {
            let (loss, values) = train.batch_loss(&model, chunk, settings.late_weight, &autodiff);
            let value = read_scalar(loss.clone()).await?;
            if !value.is_finite() {
                return Err(TrainError::Diverged { epoch });
            }
            loss_sum += f64::from(value) * values as f64;
            loss_count += values;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(learning_rate, model, grads);

            let report = Progress::Batch {
                epoch,
                epochs: settings.epochs,
                batch: index + 1,
                batches,
            };
            if progress(report).await == Control::Stop {
                history.stop = StopReason::Cancelled;
                break 'epochs;
            }
        }

        let train_loss = (loss_sum / loss_count.max(1) as f64) as f32;
        let valid = model.valid();
        let val_loss = validation_loss(&valid, validation, device).await?;
        history.train_loss.push(train_loss);
        history.validation_loss.push(val_loss);
        if val_loss < best_loss {
            best_loss = val_loss;
            best = valid;
            history.best_epoch = Some(epoch - 1);
            since_best = 0;
        } else {
            since_best += 1;
            if settings.decay_after > 0 && since_best % settings.decay_after == 0 {
                learning_rate *= 0.5;
                log::debug!("epoch {epoch}: learning rate halved to {learning_rate:e}");
            }
        }

        let report = Progress::Epoch {
            epoch,
            epochs: settings.epochs,
            train_loss,
            validation_loss: val_loss,
            best_epoch: history.best_epoch.map_or(0, |best| best + 1),
        };
        if progress(report).await == Control::Stop {
            history.stop = StopReason::Cancelled;
            break;
        }
        if since_best >= settings.patience.max(1) {
            history.stop = StopReason::EarlyStop;
            break;
        }
    }

    Ok((best, history))
}

/// Mean squared error of `model` over `set`, in normalised units.
pub async fn validation_loss<S: TrainingSet>(
    model: &Forecaster,
    set: &S,
    device: &Device,
) -> Result<f32, TrainError> {
    const CHUNK: usize = 512;
    let (mut sum, mut count) = (0.0f64, 0usize);
    let indices: Vec<usize> = (0..set.count()).collect();
    for chunk in indices.chunks(CHUNK) {
        // Validation is plain MSE, whatever the training loss weighs.
        let (loss, values) = set.batch_loss(model, chunk, 1.0, device);
        sum += f64::from(read_scalar(loss).await?) * values as f64;
        count += values;
    }
    Ok((sum / count.max(1) as f64) as f32)
}

fn check_windows(config: &ForecasterConfig, windows: &Windows) -> Result<(), ModelError> {
    let shape = (
        windows.lookback,
        windows.features,
        windows.horizon,
        windows.targets,
    );
    let expected = (
        config.lookback,
        config.features,
        config.horizon,
        config.targets,
    );
    if shape == expected {
        Ok(())
    } else {
        Err(ModelError::Config(format!(
            "windows are (look-back, features, horizon, targets) = {shape:?}, the network expects \
             {expected:?}"
        )))
    }
}

/// Gathers the windows at `indices` into `[n, lookback, features]` inputs and
/// `[n, horizon, targets]` labels.
pub(crate) fn batch_tensors(
    windows: &Windows,
    indices: &[usize],
    device: &Device,
) -> (Tensor<3>, Tensor<3>) {
    let mut inputs = Vec::with_capacity(indices.len() * windows.lookback * windows.features);
    let mut labels = Vec::with_capacity(indices.len() * windows.horizon * windows.targets);
    for &i in indices {
        inputs.extend_from_slice(windows.input(i));
        labels.extend_from_slice(windows.label(i));
    }
    let x = windows_tensor(
        &inputs,
        indices.len(),
        windows.lookback,
        windows.features,
        device,
    );
    let y = Tensor::from_data(
        TensorData::new(labels, [indices.len(), windows.horizon, windows.targets]),
        device,
    );
    (x, y)
}

async fn read_scalar(tensor: Tensor<1>) -> Result<f32, ModelError> {
    crate::model::read_values(tensor)
        .await?
        .first()
        .copied()
        .ok_or_else(|| ModelError::Backend("a loss came back empty".to_owned()))
}

/// A small seeded generator for the batch order (`SplitMix64`), so that a run
/// repeats exactly on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw from `[0, 1)` (53 random bits).
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Drives a future to completion on the current thread (native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}

// The tests drive futures with the native `block_on`.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::prep::{WindowSpec, make_windows};

    fn sine_windows(start: usize, end: usize) -> Windows {
        let series: Vec<Vec<f32>> = vec![(0..600).map(|t| (t as f32 * 0.2).sin()).collect()];
        let spec = WindowSpec {
            lookback: 12,
            horizon: 3,
            stride: 1,
        };
        make_windows(&series, &[0], &[0], start..end, spec).unwrap()
    }

    #[test]
    fn training_lowers_the_validation_loss() {
        let config = ForecasterConfig {
            features: 1,
            lookback: 12,
            hidden: 16,
            layers: 1,
            horizon: 3,
            targets: 1,
            output: OutputKind::Residual,
            dropout: 0.0,
        };
        let settings = TrainConfig {
            epochs: 8,
            batch_size: 32,
            learning_rate: 1e-2,
            patience: 8,
            seed: 7,
            decay_after: 0,
            weight_decay: 0.0,
            late_weight: 1.0,
            forget_bias: 0.0,
        };
        let train = sine_windows(0, 450);
        let validation = sine_windows(450, 600);
        let device = Device::flex();
        let mut epochs_seen = 0;
        let (_, history) = block_on(fit(
            &config,
            &settings,
            &train,
            &validation,
            &device,
            async |p| {
                if matches!(p, Progress::Epoch { .. }) {
                    epochs_seen += 1;
                }
                Control::Continue
            },
        ))
        .unwrap();
        assert_eq!(epochs_seen, history.validation_loss.len());
        assert!(
            history.best_validation_loss() < 0.2 * history.initial_validation_loss,
            "{history:?}"
        );
    }

    #[test]
    fn stop_keeps_the_starting_weights_when_nothing_improved() {
        let config = ForecasterConfig {
            features: 1,
            lookback: 12,
            hidden: 4,
            layers: 1,
            horizon: 3,
            targets: 1,
            output: OutputKind::Residual,
            dropout: 0.0,
        };
        let train = sine_windows(0, 300);
        let validation = sine_windows(300, 400);
        let device = Device::flex();
        let (_, history) = block_on(fit(
            &config,
            &TrainConfig::default(),
            &train,
            &validation,
            &device,
            async |_| Control::Stop,
        ))
        .unwrap();
        assert_eq!(history.stop, StopReason::Cancelled);
        assert!(history.train_loss.is_empty());
        assert_eq!(history.best_epoch, None);
    }

    #[test]
    fn sequence_batches_group_similar_lengths_and_cover_every_item() {
        let lengths = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10, 11];
        let set = Sequences {
            features: 1,
            targets: 1,
            inputs: lengths.iter().map(|&n| vec![0.0; n]).collect(),
            labels: lengths.iter().map(|&n| vec![0.0; n]).collect(),
        };
        let mut order: Vec<usize> = (0..lengths.len()).collect();
        SplitMix64::new(5).shuffle(&mut order);
        let batches = set.batches(&order, 2);
        assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 2));
        let mut seen: Vec<usize> = batches.concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
        // Inside a pool of `LENGTH_POOL` batches, each batch is a run of
        // the pool sorted by length.
        let pool: Vec<usize> = order[..2 * LENGTH_POOL].to_vec();
        for batch in batches
            .iter()
            .filter(|b| b.iter().all(|i| pool.contains(i)))
        {
            let (lo, hi) = (set.steps(batch[0]), set.steps(batch[batch.len() - 1]));
            let between = pool
                .iter()
                .filter(|&&i| set.steps(i) > lo && set.steps(i) < hi)
                .count();
            assert_eq!(between, 0, "{batch:?} of {pool:?}");
        }
    }

    #[test]
    fn shuffle_is_repeatable_and_a_permutation() {
        let mut a: Vec<usize> = (0..50).collect();
        let mut b = a.clone();
        SplitMix64::new(3).shuffle(&mut a);
        SplitMix64::new(3).shuffle(&mut b);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(a, sorted);
    }
}
