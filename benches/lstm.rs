//! The reference LSTM workloads of `bench/README.md` on burn's flex CPU
//! backend, natively: batched inference (windows per second), single-window
//! latency, one training epoch, and a 1024 × 1024 f32 matrix product as the
//! roofline. The workloads are `twinlab::workloads`, the same code the
//! browser harness (`node bench/browser.mjs`) runs in the page.
//!
//! Run with `cargo bench --bench lstm` (`RUNS=…` changes the number of
//! timed inference runs, 5 by default).

// Native only: it blocks on futures, which the browser cannot.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Instant;

    use burn::tensor::Device;
    use twinlab::train::block_on;
    use twinlab::workloads::{self, R1, R2, Runs};

    pub fn main() {
        let runs = Runs {
            inference: std::env::var("RUNS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(5),
            ..Runs::default()
        };
        let device = Device::flex();
        println!(
            "burn flex (CPU), native, {} thread(s)",
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        );
        let started = Instant::now();
        let now = move || started.elapsed().as_secs_f64() * 1e3;
        let matmul = block_on(workloads::matmul(&device, &now, || async {})).expect("a product");
        println!(
            "matmul 1024 × 1024 f32: {:.1} ms, {:.1} GFLOP/s",
            matmul.ms, matmul.gflops
        );
        for workload in [&R1, &R2] {
            let figures = block_on(workloads::run(workload, runs, &device, &now, || async {}))
                .expect("the workload runs");
            let gflops = figures.windows_per_s * workload.flops_per_window() / 1e9;
            println!(
                "{}: inference batch 1024 {:.0} windows/s ({:.1} ms, {gflops:.1} GFLOP/s, \
                 {:.0} % of the matmul timed beside it), latency batch 1 {:.3} ms, training \
                 epoch ({} steps of {}) {:.2} s",
                workload.name,
                figures.windows_per_s,
                figures.inference_ms,
                100.0 * figures.fraction_of_matmul,
                figures.latency_ms,
                figures.steps,
                figures.batch,
                figures.epoch_s
            );
        }
    }
}

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    native::main();
}
