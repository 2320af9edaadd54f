//! The reference LSTM workloads of `bench/README.md` on burn's flex CPU
//! backend, natively: batched inference (windows per second), single-window
//! latency, one training epoch, and a 1024 × 1024 f32 matrix product as the
//! roofline. Every timing waits for the result to be read back.
//!
//! Run with `cargo bench --bench lstm` (`RUNS=…` changes the number of
//! timed inference runs, 5 by default).

// Native only: it blocks on futures, which the browser cannot.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Instant;

    use burn::module::Module;
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::{Device, Distribution, Tensor};
    use twinlab::model::{ForecasterConfig, OutputKind, windows_tensor};
    use twinlab::train::{SplitMix64, block_on};

    /// One reference workload.
    struct Workload {
        name: &'static str,
        lookback: usize,
        features: usize,
        hidden: usize,
        outputs: usize,
        train_windows: usize,
        batch: usize,
    }

    const R1: Workload = Workload {
        name: "R1",
        lookback: 30,
        features: 14,
        hidden: 64,
        outputs: 1,
        train_windows: 16_384,
        batch: 256,
    };

    const R2: Workload = Workload {
        name: "R2",
        lookback: 96,
        features: 7,
        hidden: 64,
        outputs: 24,
        train_windows: 8_192,
        batch: 128,
    };

    fn median(mut values: Vec<f64>) -> f64 {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    fn random(count: usize, seed: u64) -> Vec<f32> {
        let mut rng = SplitMix64::new(seed);
        (0..count)
            .map(|_| (rng.next_unit() * 2.0 - 1.0) as f32)
            .collect()
    }

    fn config(w: &Workload) -> ForecasterConfig {
        ForecasterConfig {
            features: w.features,
            lookback: w.lookback,
            hidden: w.hidden,
            layers: 1,
            horizon: w.outputs,
            targets: 1,
            output: OutputKind::Direct,
            dropout: 0.0,
        }
    }

    fn run(w: &Workload, runs: usize, device: &Device) {
        let cfg = config(w);
        let network = cfg.init_seeded(0.0, 7, device).expect("a valid network");

        // Batched inference: 1024 windows, 2 warm-ups, median of `runs`.
        let batch = random(1024 * cfg.input_len(), 1);
        let mut times = Vec::new();
        for run in 0..runs + 2 {
            let started = Instant::now();
            let out = block_on(network.predict(&cfg, &batch, device)).expect("forecasts");
            assert_eq!(out.len(), 1024 * w.outputs);
            if run >= 2 {
                times.push(started.elapsed().as_secs_f64());
            }
        }
        let batched = median(times);

        // Latency of one window: median of 50.
        let one = random(cfg.input_len(), 2);
        let mut times = Vec::new();
        for _ in 0..52 {
            let started = Instant::now();
            block_on(network.predict(&cfg, &one, device)).expect("a forecast");
            times.push(started.elapsed().as_secs_f64());
        }
        let latency = median(times[2..].to_vec());

        // Training: one epoch of `train_windows / batch` Adam steps on MSE,
        // median of 3 after a warm-up epoch.
        let autodiff = device.clone().autodiff();
        let mut model = cfg.init_seeded(0.0, 7, &autodiff).expect("a valid network");
        let mut optimizer = AdamConfig::new().init();
        let inputs = random(w.batch * cfg.input_len(), 3);
        let labels = random(w.batch * w.outputs, 4);
        let steps = w.train_windows / w.batch;
        let mut epochs = Vec::new();
        for epoch in 0..4 {
            let started = Instant::now();
            for _ in 0..steps {
                let x = windows_tensor(&inputs, w.batch, w.lookback, w.features, &autodiff);
                let y = windows_tensor(&labels, w.batch, w.outputs, 1, &autodiff);
                let loss = (model.forward(x) - y).square().mean();
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optimizer.step(1e-3, model, grads);
            }
            // Read one value back so the epoch's work is done.
            let probe = model.valid().forward(windows_tensor(
                &inputs[..cfg.input_len()],
                1,
                w.lookback,
                w.features,
                device,
            ));
            let _ = probe.into_data();
            if epoch > 0 {
                epochs.push(started.elapsed().as_secs_f64());
            }
        }
        let epoch = median(epochs);

        println!(
            "{}: inference batch 1024 {:.0} windows/s ({:.1} ms), latency batch 1 {:.3} ms, \
             training epoch ({} steps of {}) {:.2} s",
            w.name,
            1024.0 / batched,
            batched * 1e3,
            latency * 1e3,
            steps,
            w.batch,
            epoch
        );
    }

    fn matmul(device: &Device) {
        let a = Tensor::<2>::random([1024, 1024], Distribution::Normal(0.0, 1.0), device);
        let b = Tensor::<2>::random([1024, 1024], Distribution::Normal(0.0, 1.0), device);
        let mut times = Vec::new();
        for run in 0..7 {
            let started = Instant::now();
            let c = a.clone().matmul(b.clone());
            let _ = c.into_data();
            if run >= 2 {
                times.push(started.elapsed().as_secs_f64());
            }
        }
        let secs = median(times);
        println!(
            "matmul 1024 × 1024 f32: {:.1} ms, {:.1} GFLOP/s",
            secs * 1e3,
            2.0 * 1024f64.powi(3) / secs / 1e9
        );
    }

    pub fn main() {
        let runs = std::env::var("RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5);
        let device = Device::flex();
        println!(
            "burn flex (CPU), native, {} thread(s)",
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        );
        matmul(&device);
        for workload in [&R1, &R2] {
            run(workload, runs, &device);
        }
    }
}

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    native::main();
}
