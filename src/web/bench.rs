//! The reference workloads ([`crate::workloads`]) in the browser, for the
//! benchmark harness (`node bench/browser.mjs`), which runs them beside
//! TensorFlow.js in the same Chromium.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::workloads::{self, MatmulFigures, R1, R2, Runs, WorkloadFigures};

use super::messages::{BackendChoice, BackendKind};
use super::{WebError, backend, dom};

/// What `bench_workloads` returns.
#[derive(Debug, Serialize)]
struct Report {
    backend: &'static str,
    label: String,
    matmul: MatmulFigures,
    #[serde(rename = "R1")]
    r1: WorkloadFigures,
    #[serde(rename = "R2")]
    r2: WorkloadFigures,
}

/// Runs the matmul roofline, R1 and R2 on `backend` (`"cpu"` or
/// `"webgpu"`) with `runs` timed batched-inference runs, and returns
/// `{backend, label, matmul: {ms, gflops}, R1: {inference_ms,
/// windows_per_s, fraction_of_matmul, latency_ms, epoch_s, steps, batch},
/// R2: {…}}`.
#[wasm_bindgen]
pub async fn bench_workloads(backend: String, runs: u32) -> Result<JsValue, JsValue> {
    let choice = match backend.as_str() {
        "webgpu" => BackendChoice::Webgpu,
        "cpu" => BackendChoice::Cpu,
        other => {
            let message = format!("no backend `{other}`: use \"cpu\" or \"webgpu\"");
            return Err(WebError::Input(message).into());
        }
    };
    let selected = backend::select(choice).await?;
    let device = &selected.device;
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into())?;
    let clock: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into())?.into();
    let now = move || {
        clock
            .call0(&performance)
            .ok()
            .and_then(|value| value.as_f64())
            .unwrap_or(f64::NAN)
    };
    let runs = Runs {
        inference: runs.max(1) as usize,
        ..Runs::default()
    };
    let failed = |err: crate::model::ModelError| JsValue::from(WebError::Input(err.to_string()));
    let matmul = workloads::matmul(device, &now, dom::yield_now)
        .await
        .map_err(failed)?;
    let r1 = workloads::run(&R1, runs, device, &now, dom::yield_now)
        .await
        .map_err(failed)?;
    let r2 = workloads::run(&R2, runs, device, &now, dom::yield_now)
        .await
        .map_err(failed)?;
    let report = Report {
        backend: match selected.info.kind {
            BackendKind::Webgpu => "webgpu",
            BackendKind::Cpu => "cpu",
        },
        label: selected.info.label,
        matmul,
        r1,
        r2,
    };
    report
        .serialize(&serde_wasm_bindgen::Serializer::new())
        .map_err(|err| JsValue::from(WebError::from(err)))
}
