//! The reference LSTM workloads of `bench/README.md` (R1, R2 and the
//! 1024² matrix-product roofline), written once for every place that
//! measures them: `cargo bench --bench lstm` natively, and the page's
//! `bench_workloads` export in the browser (CPU and WebGPU), beside
//! TensorFlow.js in `bench/browser.mjs`.
//!
//! Every timing waits until the result is read back. The clock and the way
//! to let the event loop breathe between runs come from the caller, so the
//! same code runs natively and in a browser.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Tensor};
use serde::{Deserialize, Serialize};

use crate::model::{
    Forecaster, ForecasterConfig, ModelError, OutputKind, read_values, windows_tensor,
};
use crate::train::SplitMix64;

/// One reference workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// `R1` or `R2`.
    pub name: &'static str,
    /// Steps per window.
    pub lookback: usize,
    /// Features per step.
    pub features: usize,
    /// LSTM hidden units.
    pub hidden: usize,
    /// Outputs of the dense head.
    pub outputs: usize,
    /// Windows in one training epoch.
    pub train_windows: usize,
    /// Windows per training step.
    pub batch: usize,
}

/// RUL style: 30 steps × 14 features, LSTM 64, one output.
pub const R1: Workload = Workload {
    name: "R1",
    lookback: 30,
    features: 14,
    hidden: 64,
    outputs: 1,
    train_windows: 16_384,
    batch: 256,
};

/// Forecasting: 96 steps × 7 features, LSTM 64, 24 outputs.
pub const R2: Workload = Workload {
    name: "R2",
    lookback: 96,
    features: 7,
    hidden: 64,
    outputs: 24,
    train_windows: 8_192,
    batch: 128,
};

/// Windows of a batched inference run.
pub const INFERENCE_BATCH: usize = 1024;

impl Workload {
    /// The network of this workload.
    #[must_use]
    pub fn config(&self) -> ForecasterConfig {
        ForecasterConfig {
            features: self.features,
            lookback: self.lookback,
            hidden: self.hidden,
            layers: 1,
            horizon: self.outputs,
            targets: 1,
            output: OutputKind::Direct,
            dropout: 0.0,
        }
    }

    /// Floating-point operations of one window's forward pass: per step the
    /// four gates' `[features + hidden] × 4·hidden` product, then the head.
    #[must_use]
    pub fn flops_per_window(&self) -> f64 {
        let gates = 2.0 * (self.features + self.hidden) as f64 * 4.0 * self.hidden as f64;
        self.lookback as f64 * gates + 2.0 * (self.hidden * self.outputs) as f64
    }
}

/// What one workload measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadFigures {
    /// Milliseconds for a batch of [`INFERENCE_BATCH`] windows (median).
    pub inference_ms: f64,
    /// Windows per second at that batch.
    pub windows_per_s: f64,
    /// The batched inference's GFLOP/s over the 1024² product's, the
    /// product timed right after each inference run: the median of those
    /// pairs. Both halves of a pair see the same load on the machine,
    /// which a product timed once, a minute apart, does not.
    pub fraction_of_matmul: f64,
    /// Milliseconds for one window (median of 50).
    pub latency_ms: f64,
    /// Seconds per training epoch (median).
    pub epoch_s: f64,
    /// Training steps per epoch.
    pub steps: usize,
    /// Windows per training step.
    pub batch: usize,
}

/// The matrix-product roofline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatmulFigures {
    /// Milliseconds per 1024 × 1024 × 1024 product (median of 5).
    pub ms: f64,
    /// Its rate.
    pub gflops: f64,
}

/// How many times to run each part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runs {
    /// Timed batched-inference runs (after 2 warm-ups).
    pub inference: usize,
    /// Timed single-window runs (after 2 warm-ups).
    pub latency: usize,
    /// Timed training epochs (after a warm-up epoch).
    pub epochs: usize,
}

impl Default for Runs {
    fn default() -> Self {
        Self {
            inference: 5,
            latency: 50,
            epochs: 3,
        }
    }
}

/// The median of `values` (the upper one of an even count); `NaN` when
/// there are none.
#[must_use]
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Seeded inputs uniform in ±1.
#[must_use]
pub fn random(count: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    (0..count)
        .map(|_| (rng.next_unit() * 2.0 - 1.0) as f32)
        .collect()
}

/// A workload's network and seeded inputs on one device, ready to run one
/// part at a time: what [`run`] times, and what the native criterion
/// benchmark (`benches/criterion.rs`) samples.
pub struct Prepared {
    workload: Workload,
    cfg: ForecasterConfig,
    network: Forecaster,
    batch: Vec<f32>,
    one: Vec<f32>,
    device: Device,
}

impl Prepared {
    /// Builds the network (weights from seed 7) and the inputs.
    pub fn new(workload: &Workload, device: &Device) -> Result<Self, ModelError> {
        let cfg = workload.config();
        Ok(Self {
            workload: *workload,
            network: cfg.init_seeded(0.0, 7, device)?,
            batch: random(INFERENCE_BATCH * cfg.input_len(), 1),
            one: random(cfg.input_len(), 2),
            cfg,
            device: device.clone(),
        })
    }

    /// Forecasts the batch of [`INFERENCE_BATCH`] windows, read back.
    pub async fn infer_batch(&self) -> Result<(), ModelError> {
        let out = self
            .network
            .predict(&self.cfg, &self.batch, &self.device)
            .await?;
        if out.len() == INFERENCE_BATCH * self.workload.outputs {
            Ok(())
        } else {
            Err(ModelError::Backend(
                "a batch forecast of the wrong size".into(),
            ))
        }
    }

    /// Forecasts one window, read back.
    pub async fn infer_one(&self) -> Result<(), ModelError> {
        self.network
            .predict(&self.cfg, &self.one, &self.device)
            .await?;
        Ok(())
    }

    /// A fresh network (the same seed) with Adam, to train on the device
    /// with autodiff.
    pub fn trainer(&self) -> Result<Trainer, ModelError> {
        let autodiff = self.device.clone().autodiff();
        Ok(Trainer {
            model: self.cfg.init_seeded(0.0, 7, &autodiff)?,
            optimizer: AdamConfig::new().init(),
            inputs: random(self.workload.batch * self.cfg.input_len(), 3),
            labels: random(self.workload.batch * self.workload.outputs, 4),
            workload: self.workload,
            autodiff,
            device: self.device.clone(),
        })
    }
}

/// Training steps of a workload: MSE, Adam with learning rate 1e-3, the
/// same seeded batch every step.
pub struct Trainer {
    model: Forecaster,
    optimizer: ModuleOptimizer,
    inputs: Vec<f32>,
    labels: Vec<f32>,
    workload: Workload,
    autodiff: Device,
    device: Device,
}

impl Trainer {
    /// Gradient steps in one epoch.
    #[must_use]
    pub fn steps_per_epoch(&self) -> usize {
        self.workload.train_windows / self.workload.batch
    }

    /// One gradient step (on the CPU it is done when this returns; on a
    /// GPU it may still be queued).
    pub fn step(&mut self) {
        let w = &self.workload;
        let x = windows_tensor(
            &self.inputs,
            w.batch,
            w.lookback,
            w.features,
            &self.autodiff,
        );
        let y = windows_tensor(&self.labels, w.batch, w.outputs, 1, &self.autodiff);
        let loss = (self.model.forward(x) - y).square().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let model = self.model.clone();
        self.model = self.optimizer.step(1e-3, model, grads);
    }

    /// One epoch of steps, then one forecast read back, so that the work
    /// is done when this returns on any backend.
    pub async fn epoch(&mut self) -> Result<(), ModelError> {
        for _ in 0..self.steps_per_epoch() {
            self.step();
        }
        let w = &self.workload;
        let len = w.lookback * w.features;
        let probe = self.model.valid().forward(windows_tensor(
            &self.inputs[..len],
            1,
            w.lookback,
            w.features,
            &self.device,
        ));
        read_values(probe).await?;
        Ok(())
    }
}

/// Measures `workload` on `device`; `now` is a clock in milliseconds and
/// `breathe` is awaited between runs (the browser's event loop).
pub async fn run<B>(
    workload: &Workload,
    runs: Runs,
    device: &Device,
    now: &dyn Fn() -> f64,
    breathe: impl Fn() -> B,
) -> Result<WorkloadFigures, ModelError>
where
    B: Future<Output = ()>,
{
    let prepared = Prepared::new(workload, device)?;
    let roofline = Roofline::new(device);

    let mut times = Vec::new();
    let mut fractions = Vec::new();
    for run in 0..runs.inference + 2 {
        let started = now();
        prepared.infer_batch().await?;
        let ms = now() - started;
        let matmul_ms = roofline.time(now).await?;
        if run >= 2 {
            times.push(ms);
            let gflops = INFERENCE_BATCH as f64 * workload.flops_per_window() / (ms * 1e6);
            fractions.push(gflops / Roofline::gflops(matmul_ms));
        }
        breathe().await;
    }
    let inference_ms = median(times);

    let mut times = Vec::new();
    for run in 0..runs.latency + 2 {
        let started = now();
        prepared.infer_one().await?;
        if run >= 2 {
            times.push(now() - started);
        }
    }
    let latency_ms = median(times);
    breathe().await;

    let mut trainer = prepared.trainer()?;
    let mut epochs = Vec::new();
    for epoch in 0..=runs.epochs {
        let started = now();
        trainer.epoch().await?;
        if epoch > 0 {
            epochs.push((now() - started) / 1e3);
        }
        breathe().await;
    }
    Ok(WorkloadFigures {
        inference_ms,
        windows_per_s: INFERENCE_BATCH as f64 / (inference_ms / 1e3),
        fraction_of_matmul: median(fractions),
        latency_ms,
        epoch_s: median(epochs),
        steps: trainer.steps_per_epoch(),
        batch: workload.batch,
    })
}

/// Times a 1024 × 1024 × 1024 f32 product on `device`: the median of 5
/// after 2 warm-ups.
pub async fn matmul<B>(
    device: &Device,
    now: &dyn Fn() -> f64,
    breathe: impl Fn() -> B,
) -> Result<MatmulFigures, ModelError>
where
    B: Future<Output = ()>,
{
    let roofline = Roofline::new(device);
    let mut times = Vec::new();
    for run in 0..7 {
        let ms = roofline.time(now).await?;
        if run >= 2 {
            times.push(ms);
        }
        breathe().await;
    }
    let ms = median(times);
    Ok(MatmulFigures {
        ms,
        gflops: Roofline::gflops(ms),
    })
}

/// The two 1024 × 1024 factors of the roofline product.
struct Roofline {
    a: Tensor<2>,
    b: Tensor<2>,
}

impl Roofline {
    fn new(device: &Device) -> Self {
        let factor = || Tensor::<2>::random([1024, 1024], Distribution::Normal(0.0, 1.0), device);
        Self {
            a: factor(),
            b: factor(),
        }
    }

    /// Milliseconds for one product, read back.
    async fn time(&self, now: &dyn Fn() -> f64) -> Result<f64, ModelError> {
        let started = now();
        read_values(self.a.clone().matmul(self.b.clone())).await?;
        Ok(now() - started)
    }

    /// The rate of a product that took `ms`.
    fn gflops(ms: f64) -> f64 {
        2.0 * 1024f64.powi(3) / (ms / 1e3) / 1e9
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::train::block_on;

    #[test]
    fn a_tiny_workload_measures_every_figure() {
        let tiny = Workload {
            name: "tiny",
            lookback: 4,
            features: 2,
            hidden: 3,
            outputs: 2,
            train_windows: 8,
            batch: 4,
        };
        let runs = Runs {
            inference: 1,
            latency: 1,
            epochs: 1,
        };
        let started = std::time::Instant::now();
        let now = move || started.elapsed().as_secs_f64() * 1e3;
        let device = Device::flex();
        let figures = block_on(run(&tiny, runs, &device, &now, || async {})).unwrap();
        assert_eq!(figures.steps, 2);
        assert!(figures.windows_per_s.is_finite() && figures.windows_per_s > 0.0);
        assert!(figures.latency_ms >= 0.0 && figures.epoch_s >= 0.0);
        assert!(figures.fraction_of_matmul.is_finite() && figures.fraction_of_matmul > 0.0);
    }

    #[test]
    fn flops_follow_the_shapes() {
        // 30 steps × 2 × (14 + 64) × 256, plus the head's 2 × 64.
        let expected = 30.0 * 2.0 * 78.0 * 256.0 + 128.0;
        assert!((R1.flops_per_window() - expected).abs() < 1e-6);
        assert!((median(vec![3.0, 1.0, 2.0]) - 2.0).abs() < 1e-12);
        assert!(median(Vec::new()).is_nan());
    }
}
