//! The reference LSTM workloads of `bench/README.md` under criterion, on
//! burn's flex CPU backend natively: for each of R1 and R2, a batch of 1024
//! windows, one window, and one training step (an epoch is 64 of them),
//! plus the 1024 × 1024 matrix product. The pieces are
//! `twinlab::workloads`, the code the browser harness times too; criterion
//! adds confidence intervals and the change from the previous run.
//!
//! Run with `cargo bench --bench criterion` (a filter narrows it, e.g.
//! `cargo bench --bench criterion -- R1`). `cargo bench --bench lstm`
//! prints the same workloads as the page does, in one table.

#![allow(
    missing_docs,
    reason = "criterion's macros write the public entry points"
)]

// Native only: it blocks on futures, which the browser cannot.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Duration;

    use burn::tensor::{Device, Distribution, Tensor};
    use criterion::{BenchmarkId, Criterion, Throughput};
    use twinlab::train::block_on;
    use twinlab::workloads::{INFERENCE_BATCH, Prepared, R1, R2};

    pub fn lstm(c: &mut Criterion) {
        let device = Device::flex();
        for workload in [&R1, &R2] {
            let prepared = Prepared::new(workload, &device).expect("the workload builds");
            let mut group = c.benchmark_group(workload.name);
            group
                .sample_size(20)
                .measurement_time(Duration::from_secs(8))
                .warm_up_time(Duration::from_secs(2));

            group.throughput(Throughput::Elements(INFERENCE_BATCH as u64));
            group.bench_function(BenchmarkId::new("inference", INFERENCE_BATCH), |b| {
                b.iter(|| block_on(prepared.infer_batch()).expect("a forecast"));
            });

            group.throughput(Throughput::Elements(1));
            group.bench_function(BenchmarkId::new("latency", 1), |b| {
                b.iter(|| block_on(prepared.infer_one()).expect("a forecast"));
            });

            let mut trainer = prepared.trainer().expect("a trainer");
            group.throughput(Throughput::Elements(workload.batch as u64));
            group.bench_function(BenchmarkId::new("training step", workload.batch), |b| {
                b.iter(|| trainer.step());
            });
            group.finish();
        }
    }

    pub fn matmul(c: &mut Criterion) {
        let device = Device::flex();
        let a = Tensor::<2>::random([1024, 1024], Distribution::Normal(0.0, 1.0), &device);
        let m = Tensor::<2>::random([1024, 1024], Distribution::Normal(0.0, 1.0), &device);
        let mut group = c.benchmark_group("matmul");
        // Counted in floating-point operations: criterion prints GFLOP/s
        // as "Gelem/s".
        group.throughput(Throughput::Elements(2 * 1024u64.pow(3)));
        group.bench_function("1024x1024x1024", |b| {
            b.iter(|| a.clone().matmul(m.clone()).into_data());
        });
        group.finish();
    }
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_group!(benches, native::matmul, native::lstm);
#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
