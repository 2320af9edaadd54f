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
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use serde::{Deserialize, Serialize};

use crate::model::{ForecasterConfig, ModelError, OutputKind, read_values, windows_tensor};
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
    let cfg = workload.config();
    let network = cfg.init_seeded(0.0, 7, device)?;

    let batch = random(INFERENCE_BATCH * cfg.input_len(), 1);
    let mut times = Vec::new();
    for run in 0..runs.inference + 2 {
        let started = now();
        let out = network.predict(&cfg, &batch, device).await?;
        if out.len() != INFERENCE_BATCH * workload.outputs {
            return Err(ModelError::Backend(
                "a batch forecast of the wrong size".into(),
            ));
        }
        if run >= 2 {
            times.push(now() - started);
        }
        breathe().await;
    }
    let inference_ms = median(times);

    let one = random(cfg.input_len(), 2);
    let mut times = Vec::new();
    for run in 0..runs.latency + 2 {
        let started = now();
        network.predict(&cfg, &one, device).await?;
        if run >= 2 {
            times.push(now() - started);
        }
    }
    let latency_ms = median(times);
    breathe().await;

    let autodiff = device.clone().autodiff();
    let mut model = cfg.init_seeded(0.0, 7, &autodiff)?;
    let mut optimizer = AdamConfig::new().init();
    let inputs = random(workload.batch * cfg.input_len(), 3);
    let labels = random(workload.batch * workload.outputs, 4);
    let steps = workload.train_windows / workload.batch;
    let mut epochs = Vec::new();
    for epoch in 0..=runs.epochs {
        let started = now();
        for _ in 0..steps {
            let x = windows_tensor(
                &inputs,
                workload.batch,
                workload.lookback,
                workload.features,
                &autodiff,
            );
            let y = windows_tensor(&labels, workload.batch, workload.outputs, 1, &autodiff);
            let loss = (model.forward(x) - y).square().mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(1e-3, model, grads);
        }
        // One value read back, so the epoch's work is done.
        let probe = model.valid().forward(windows_tensor(
            &inputs[..cfg.input_len()],
            1,
            workload.lookback,
            workload.features,
            device,
        ));
        read_values(probe).await?;
        if epoch > 0 {
            epochs.push((now() - started) / 1e3);
        }
        breathe().await;
    }
    Ok(WorkloadFigures {
        inference_ms,
        windows_per_s: INFERENCE_BATCH as f64 / (inference_ms / 1e3),
        latency_ms,
        epoch_s: median(epochs),
        steps,
        batch: workload.batch,
    })
}

/// Times a 1024 × 1024 × 1024 f32 product on `device`.
pub async fn matmul<B>(
    device: &Device,
    now: &dyn Fn() -> f64,
    breathe: impl Fn() -> B,
) -> Result<MatmulFigures, ModelError>
where
    B: Future<Output = ()>,
{
    let a = Tensor::<2>::random([1024, 1024], Distribution::Normal(0.0, 1.0), device);
    let b = Tensor::<2>::random([1024, 1024], Distribution::Normal(0.0, 1.0), device);
    let mut times = Vec::new();
    for run in 0..7 {
        let started = now();
        read_values(a.clone().matmul(b.clone())).await?;
        if run >= 2 {
            times.push(now() - started);
        }
        breathe().await;
    }
    let ms = median(times);
    Ok(MatmulFigures {
        ms,
        gflops: 2.0 * 1024f64.powi(3) / (ms / 1e3) / 1e9,
    })
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
