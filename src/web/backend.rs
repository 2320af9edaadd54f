//! Choosing the compute backend: WebGPU when the browser has an adapter,
//! burn's flex backend on the CPU otherwise, and a check that both give the
//! same numbers.
//!
//! burn can start its WebGPU runtime only once per module instance, so the
//! outcome of the first attempt (the device, or why there is none) is kept
//! for the life of the page or the worker. A device that is lost later
//! ([`mark_lost`], after a job failed on it and then ran on the CPU) stays
//! lost: `Auto` gives the CPU from then on.

use std::cell::RefCell;

use burn::tensor::Device;
use js_sys::{Function, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::model::{ForecasterConfig, OutputKind};

use super::WebError;
use super::dom;
use super::messages::{BackendChoice, BackendInfo, BackendKind};

/// Largest difference between the CPU and the WebGPU forecast of the same
/// network that still counts as agreement.
pub const AGREEMENT_TOLERANCE: f64 = 1e-4;

/// A device with the words that describe it.
#[derive(Debug, Clone)]
pub struct Selected {
    /// Where tensors go.
    pub device: Device,
    /// What to tell the user.
    pub info: BackendInfo,
}

/// The WebGPU device of this module instance, once tried.
#[derive(Debug, Clone)]
enum GpuState {
    Untried,
    Starting,
    Ready { device: Device, adapter: String },
    Unavailable(String),
}

thread_local! {
    static WEBGPU: RefCell<GpuState> = const { RefCell::new(GpuState::Untried) };
    /// The browser's device behind burn's, to destroy when a test
    /// simulates losing it.
    #[cfg(feature = "gpu")]
    static WGPU_DEVICE: RefCell<Option<burn::tensor::wgpu::wgpu::Device>> =
        const { RefCell::new(None) };
}

/// From now on WebGPU is not used in this module instance: its device was
/// lost (`reason`).
pub fn mark_lost(reason: &str) {
    log::warn!("WebGPU is lost: {reason}");
    WEBGPU.with(|cell| {
        *cell.borrow_mut() = GpuState::Unavailable(format!("the WebGPU device was lost: {reason}"));
    });
}

/// Destroys the WebGPU device, as a driver reset or an unplugged GPU would
/// (the page's `?simulate=gpu-loss` test hook). Returns whether there was
/// one to destroy.
#[must_use]
pub fn destroy_device_for_test() -> bool {
    #[cfg(feature = "gpu")]
    {
        WGPU_DEVICE.with(|cell| {
            cell.borrow().as_ref().is_some_and(|device| {
                device.destroy();
                true
            })
        })
    }
    #[cfg(not(feature = "gpu"))]
    {
        false
    }
}

/// The WebGPU device and its adapter's name, or why there is none.
///
/// Starts burn's WebGPU runtime on the first call; later calls get the same
/// answer. A call made while the first is still starting waits for it.
pub async fn webgpu() -> Result<(Device, String), String> {
    loop {
        let state = WEBGPU.with(|cell| cell.borrow().clone());
        match state {
            GpuState::Ready { device, adapter } => return Ok((device, adapter)),
            GpuState::Unavailable(reason) => return Err(reason),
            GpuState::Starting => dom::sleep(20).await,
            GpuState::Untried => {
                WEBGPU.with(|cell| *cell.borrow_mut() = GpuState::Starting);
                let outcome = start_webgpu().await;
                let state = match &outcome {
                    Ok((device, adapter)) => GpuState::Ready {
                        device: device.clone(),
                        adapter: adapter.clone(),
                    },
                    Err(reason) => GpuState::Unavailable(reason.clone()),
                };
                WEBGPU.with(|cell| *cell.borrow_mut() = state);
                match &outcome {
                    Ok((_, adapter)) => log::info!("WebGPU ready on {adapter}"),
                    Err(reason) => log::info!("WebGPU not used: {reason}"),
                }
                return outcome;
            }
        }
    }
}

#[cfg(feature = "gpu")]
async fn start_webgpu() -> Result<(Device, String), String> {
    let adapter = adapter_name().await?;
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|err| format!("WebGPU did not start: {err}"))?;
    WGPU_DEVICE.with(|cell| *cell.borrow_mut() = Some(setup.device));
    Ok((device, adapter))
}

/// The module without WebGPU code (the page's, and a worker's where the
/// WebGPU module did not load): says why there is no WebGPU here, the
/// browser's reason first.
#[cfg(not(feature = "gpu"))]
async fn start_webgpu() -> Result<(Device, String), String> {
    let adapter = adapter_name().await?;
    Err(format!(
        "the adapter ({adapter}) is there, but this part of twinlab runs the module without \
         WebGPU (the WebGPU module, twinlab_gpu.js, did not load)"
    ))
}

/// Asks the browser for an adapter and names it, without keeping it: burn
/// requests its own. Errors say why there is none.
async fn adapter_name() -> Result<String, String> {
    let get = |target: &JsValue, key: &str| {
        Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    };
    let navigator = get(&js_sys::global(), "navigator");
    let gpu = get(&navigator, "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser does not offer WebGPU".to_owned());
    }
    let request: Function = get(&gpu, "requestAdapter")
        .dyn_into()
        .map_err(|_| "this browser's WebGPU cannot request adapters".to_owned())?;
    let promise: Promise = request
        .call0(&gpu)
        .and_then(JsCast::dyn_into)
        .map_err(|err| {
            format!(
                "requesting a WebGPU adapter failed: {}",
                dom::describe_js_error(&err)
            )
        })?;
    let adapter = JsFuture::from(promise).await.map_err(|err| {
        format!(
            "requesting a WebGPU adapter failed: {}",
            dom::describe_js_error(&err)
        )
    })?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("no WebGPU adapter".to_owned());
    }

    let info = get(&adapter, "info");
    let text = |key: &str| get(&info, key).as_string().filter(|s| !s.is_empty());
    let parts: Vec<String> = [text("vendor"), text("architecture")]
        .into_iter()
        .flatten()
        .collect();
    let mut name = if parts.is_empty() {
        text("description").unwrap_or_else(|| "unnamed adapter".to_owned())
    } else {
        parts.join(" / ")
    };
    let fallback = get(&info, "isFallbackAdapter")
        .as_bool()
        .or_else(|| get(&adapter, "isFallbackAdapter").as_bool())
        .unwrap_or(false);
    if fallback {
        name.push_str(", software");
    }
    Ok(name)
}

/// The label of the CPU backend.
const CPU_LABEL: &str = "CPU (flex)";

/// Resolves the user's choice to a device.
///
/// `Auto` falls back to the CPU and says why; `Webgpu` without an adapter is
/// an error, so that nothing runs on a backend the user did not want.
pub async fn select(choice: BackendChoice) -> Result<Selected, WebError> {
    let cpu = |reason: String| Selected {
        device: Device::flex(),
        info: BackendInfo {
            kind: BackendKind::Cpu,
            label: CPU_LABEL.to_owned(),
            reason: Some(reason),
        },
    };
    let gpu = |device: Device, adapter: String| Selected {
        device,
        info: BackendInfo {
            kind: BackendKind::Webgpu,
            label: format!("WebGPU ({adapter})"),
            reason: None,
        },
    };

    match choice {
        BackendChoice::Cpu => Ok(cpu("chosen in the settings".to_owned())),
        BackendChoice::Webgpu => match webgpu().await {
            Ok((device, adapter)) => Ok(gpu(device, adapter)),
            Err(reason) => Err(WebError::WebGpuUnavailable(reason)),
        },
        BackendChoice::Auto => Ok(match webgpu().await {
            Ok((device, adapter)) => gpu(device, adapter),
            Err(reason) => cpu(reason),
        }),
    }
}

/// The outcome of [`compare`]: the same network and input on the CPU and
/// on WebGPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendComparison {
    /// Whether WebGPU ran.
    pub webgpu: bool,
    /// The adapter's name, when there is one.
    pub adapter: Option<String>,
    /// Why WebGPU did not run, when it did not.
    pub reason: Option<String>,
    /// Largest absolute difference between the two forecasts.
    pub max_abs_diff: Option<f64>,
    /// The largest difference that counts as agreement.
    pub tolerance: f64,
    /// Forecast values compared.
    pub values: usize,
    /// Wall time of the CPU forecast, in milliseconds.
    pub cpu_ms: f64,
    /// Wall time of the WebGPU forecast (weights copied, first run), in
    /// milliseconds.
    pub gpu_ms: Option<f64>,
}

impl BackendComparison {
    /// Whether WebGPU ran and agreed with the CPU.
    #[must_use]
    pub fn agrees(&self) -> bool {
        self.max_abs_diff.is_some_and(|diff| diff <= self.tolerance)
    }
}

/// Runs a tiny seeded forecaster on the CPU and, with the same weights, on
/// WebGPU, and compares the forecasts.
///
/// The shapes are small on purpose: a software WebGPU adapter is very slow.
pub async fn compare() -> Result<BackendComparison, WebError> {
    let config = ForecasterConfig {
        features: 3,
        lookback: 16,
        hidden: 16,
        layers: 1,
        horizon: 4,
        targets: 1,
        output: OutputKind::Residual,
        dropout: 0.0,
    };
    let windows = 4;
    let inputs: Vec<f32> = (0..windows * config.input_len())
        .map(|i| (i as f32 * 0.37).sin())
        .collect();

    let cpu = Device::flex();
    cpu.seed(7);
    let network = config
        .init(&cpu)
        .map_err(crate::pipeline::PipelineError::from)?;
    let started = js_sys::Date::now();
    let on_cpu = network
        .predict(&config, &inputs, &cpu)
        .await
        .map_err(crate::pipeline::PipelineError::from)?;
    let cpu_ms = js_sys::Date::now() - started;

    let mut report = BackendComparison {
        webgpu: false,
        adapter: None,
        reason: None,
        max_abs_diff: None,
        tolerance: AGREEMENT_TOLERANCE,
        values: on_cpu.len(),
        cpu_ms,
        gpu_ms: None,
    };
    let (gpu, adapter) = match webgpu().await {
        Ok(found) => found,
        Err(reason) => {
            report.reason = Some(reason);
            return Ok(report);
        }
    };

    let started = js_sys::Date::now();
    let copied = network
        .copy_to(&gpu)
        .await
        .map_err(crate::pipeline::PipelineError::from)?;
    let on_gpu = copied
        .predict(&config, &inputs, &gpu)
        .await
        .map_err(crate::pipeline::PipelineError::from)?;
    report.gpu_ms = Some(js_sys::Date::now() - started);
    report.webgpu = true;
    report.adapter = Some(adapter);
    report.max_abs_diff = Some(
        on_cpu
            .iter()
            .zip(&on_gpu)
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(
                if on_cpu.len() == on_gpu.len() {
                    0.0
                } else {
                    f64::INFINITY
                },
                f64::max,
            ),
    );
    Ok(report)
}

/// Runs the same tiny network on the CPU and on WebGPU and returns
/// `{ webgpu, adapter, reason, max_abs_diff, tolerance, values, cpu_ms,
/// gpu_ms }` (see [`BackendComparison`]).
#[wasm_bindgen]
pub async fn compare_backends() -> Result<JsValue, JsValue> {
    let report = compare().await?;
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    report
        .serialize(&serializer)
        .map_err(|err| JsValue::from(WebError::from(err)))
}
