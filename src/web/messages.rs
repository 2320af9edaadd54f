//! The messages between the page and the training worker.
//!
//! Both sides are this crate, so the messages are Rust enums, turned into
//! JavaScript objects with `serde-wasm-bindgen` and posted with
//! `postMessage`. Each has a `type` field (`train`, `progress`, …); byte
//! arrays (a CSV file, a model file) become `Uint8Array`s, whose buffers are
//! transferred rather than copied.
//!
//! The worker is sent the raw bytes of the data file and parses them again:
//! ingest is fast, and a `Dataset` would be larger to send than its file.

use js_sys::{Array, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Blob;

use crate::artifact::ModelMeta;
use crate::ingest::{DataReport, ParseProgress};
use crate::live::{Ahead, Step};
use crate::pipeline::{Evaluation, Setup};
use crate::rul::{RulEvaluation, RulSetup};
use crate::session::{OperatorAction, SessionConfig, SessionHistory};
use crate::train::Progress;
use crate::twin::{
    AlarmState, Event, FaultKind, HealthState, LimitForecast, SimConfig, TwinConfig,
};

use super::WebError;
use super::backend::BackendComparison;

/// Which compute backend the user asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// WebGPU when the browser has an adapter, the CPU otherwise.
    #[default]
    Auto,
    /// WebGPU or an error.
    Webgpu,
    /// The CPU (burn's flex backend).
    Cpu,
}

impl BackendChoice {
    /// Reads the value of the backend `<select>` (`auto`, `webgpu`, `cpu`).
    #[must_use]
    pub fn from_form_value(value: &str) -> Self {
        match value {
            "webgpu" => Self::Webgpu,
            "cpu" => Self::Cpu,
            _ => Self::Auto,
        }
    }
}

/// The backend that actually runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// burn's wgpu backend on the browser's WebGPU.
    Webgpu,
    /// burn's flex backend on the CPU.
    Cpu,
}

impl BackendKind {
    /// The name recorded in the model file.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Webgpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }
}

/// Which backend runs a job, said for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// Which backend.
    pub kind: BackendKind,
    /// `WebGPU (vendor / architecture)` or `CPU (flex)`.
    pub label: String,
    /// Why the CPU runs, when it does (`no WebGPU adapter`, `chosen in the
    /// settings`).
    pub reason: Option<String>,
}

impl BackendInfo {
    /// The label with its reason, as the page shows it.
    #[must_use]
    pub fn describe(&self) -> String {
        match &self.reason {
            Some(reason) => format!("{}: {reason}", self.label),
            None => self.label.clone(),
        }
    }
}

/// Train a model on a data file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainRequest {
    /// The data file's name.
    pub name: String,
    /// The data file, as the browser holds it: it crosses to the worker
    /// without a copy, and the worker reads it.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub data: Blob,
    /// Largest data file accepted, in bytes.
    pub max_bytes: usize,
    /// What to train.
    pub setup: Setup,
    /// Where to train it.
    pub backend: BackendChoice,
}

/// Load a model file and score it on a data file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadModelRequest {
    /// The model file.
    pub model: ByteBuf,
    /// The data file's name.
    pub name: String,
    /// The data file, as the browser holds it.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub data: Blob,
    /// Largest data file accepted, in bytes.
    pub max_bytes: usize,
    /// Where to run the model.
    pub backend: BackendChoice,
}

/// A data file as the browser holds it (a `File` the user picked, a
/// fetched demo): a `Blob` crosses to a worker without a copy, so the page
/// never handles the bytes of a big file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlobFile {
    /// The file's name.
    pub name: String,
    /// Its contents.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub data: Blob,
}

impl BlobFile {
    /// A file holding `bytes`.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, WebError> {
        Ok(Self {
            name: name.to_owned(),
            data: super::dom::blob_of(bytes, None)?,
        })
    }

    /// Its size in bytes.
    #[must_use]
    pub fn size(&self) -> usize {
        self.data.size() as usize
    }

    /// Reads its bytes (asynchronously: the browser does the reading).
    pub async fn bytes(&self) -> Result<Vec<u8>, WebError> {
        let buffer = wasm_bindgen_futures::JsFuture::from(self.data.array_buffer())
            .await
            .map_err(|err| WebError::js("reading the file", &err))?;
        Ok(Uint8Array::new(&buffer).to_vec())
    }
}

/// A file sent to the worker: its name and bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedFile {
    /// The file's name.
    pub name: String,
    /// Its bytes.
    pub bytes: ByteBuf,
}

/// Train a remaining-useful-life model on a fleet file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulTrainRequest {
    /// The run-to-failure training fleet.
    pub train: NamedFile,
    /// A test fleet to score the model on, when there is one.
    pub test: Option<NamedFile>,
    /// The true RUL of each test unit at its last cycle, when given.
    pub true_rul: Option<ByteBuf>,
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// What to train.
    pub setup: RulSetup,
    /// Where to train it.
    pub backend: BackendChoice,
}

/// Load a RUL model file and score it on a test fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulLoadRequest {
    /// The model file.
    pub model: ByteBuf,
    /// The fleet to predict.
    pub test: NamedFile,
    /// Its true RUL at the last cycle, when given.
    pub true_rul: Option<ByteBuf>,
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Where to run the model.
    pub backend: BackendChoice,
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Externally tagged (`{"train": {…}}`, as are all the messages): the body
// deserializes in one go, which the `Blob`s it carries need, where an
// internally or adjacently tagged enum may buffer its fields and lose them.
// Buffering is also code: serde instantiates it for every type a tagged
// enum holds, about 130 KB of the page's gzip size when these were tagged.
#[serde(rename_all = "snake_case")]
pub enum ToWorker {
    /// Run the same tiny network on the CPU and on WebGPU and compare
    /// (answered with [`FromWorker::BackendCheck`]).
    CompareBackends,
    /// Find out which backend `backend` gives (starts WebGPU if it can).
    Probe {
        /// The choice to resolve.
        backend: BackendChoice,
    },
    /// Read a data file off the page's thread; answered by
    /// `parse_progress` messages, then `parsed`.
    Parse(ParseRequest),
    /// Train a model; answered by `progress` messages, then `trained`.
    Train(TrainRequest),
    /// Stop training after the current batch, keeping the best weights.
    Stop,
    /// Score a model file on a dataset; answered by `evaluated`.
    LoadModel(LoadModelRequest),
    /// Train a RUL model; answered by `progress` messages, then `rul_trained`.
    TrainRul(Box<RulTrainRequest>),
    /// Score a RUL model file on a fleet; answered by `rul_evaluated`.
    LoadRulModel(Box<RulLoadRequest>),
    /// Start a twin session (ending any running one); answered by
    /// `twin_update` messages while it runs.
    TwinStart(Box<TwinStartRequest>),
    /// Destroy the WebGPU device, as a driver reset would (a test hook of
    /// the page's `?simulate=gpu-loss`).
    SimulateGpuLoss,
    /// Control the running twin session.
    TwinControl {
        /// What to do.
        command: TwinCommand,
    },
}

/// Where a twin session's readings come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwinSource {
    /// The simulated pump.
    Simulator {
        /// Its settings.
        config: SimConfig,
    },
    /// A data file replayed row by row.
    Replay {
        /// The file.
        file: BlobFile,
        /// The channels the twin watches; empty: every channel (up to 8).
        channels: Vec<String>,
        /// Labelled anomaly windows (start, end, epoch seconds), drawn
        /// behind the state strip.
        labels: Vec<(f64, f64)>,
        /// Largest file accepted, in bytes.
        max_bytes: usize,
    },
}

/// Start a twin session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinStartRequest {
    /// The readings.
    pub source: TwinSource,
    /// Commissioning, forecaster, bands and adaptation.
    pub config: SessionConfig,
    /// Replay speed: data seconds per wall-clock second.
    pub speed: f64,
    /// Whether it plays at once.
    pub playing: bool,
    /// A saved session to rebuild (its faults, operator actions and
    /// position) instead of starting afresh.
    #[serde(default)]
    pub resume: Option<SessionHistory>,
}

/// A command to the running twin session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwinCommand {
    /// Stream readings at the set speed.
    Play,
    /// Stop streaming.
    Pause,
    /// Stream one reading (while paused).
    Step,
    /// Set the replay speed (data seconds per wall-clock second).
    Speed {
        /// The factor, 1 to 10 000.
        factor: f64,
    },
    /// Go to reading `to` (after commissioning).
    Seek {
        /// The reading.
        to: u64,
    },
    /// Inject a simulator fault from the next reading.
    Inject {
        /// The fault.
        kind: FaultKind,
        /// For how many readings.
        duration: u64,
    },
    /// An operator action (acknowledge, maintenance, adaptation on or off),
    /// which the session records and replays when it is rebuilt.
    Act {
        /// What to do.
        action: OperatorAction,
    },
}

/// What a twin session did since the last update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinUpdate {
    /// The page should forget what it kept (a new session, or a seek).
    pub reset: bool,
    /// The channels, in the order of a reading's values.
    pub channels: Vec<String>,
    /// Readings streamed since the last update (after a reset: the latest
    /// ones), each with its forecast, score, events and state.
    pub steps: Vec<Step>,
    /// Events of operator actions since the last update (the twin's own
    /// events are in `steps`); after a reset, the whole log instead.
    pub events: Vec<Event>,
    /// The latest forecast path with its band.
    pub ahead: Option<Ahead>,
    /// The health state now.
    pub state: HealthState,
    /// The alarm now.
    pub alarm: AlarmState,
    /// Predicted time until a channel crosses its alarm limit.
    pub time_to_limit: Option<LimitForecast>,
    /// Readings streamed so far.
    pub position: u64,
    /// Readings a replay has in all; `None` for the simulator.
    pub total: Option<u64>,
    /// Whether it is streaming.
    pub playing: bool,
    /// Replay speed.
    pub speed: f64,
    /// Model adaptations so far.
    pub adaptations: usize,
    /// Seconds between readings.
    pub step_secs: f64,
    /// Labelled anomaly windows of a replay.
    pub labels: Vec<(f64, f64)>,
    /// What the last command did, for the status line.
    pub note: Option<String>,
    /// The twin's settings, sent with a reset.
    pub twin_config: Option<TwinConfig>,
    /// What the session did so far, for the saved project.
    pub history: SessionHistory,
}

/// A finished RUL training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulTrained {
    /// Predictions and scores on the test fleet, when one was sent.
    pub evaluation: Option<RulEvaluation>,
    /// The model's metadata.
    pub meta: ModelMeta,
    /// The model file.
    pub model: ByteBuf,
    /// The backend that trained it.
    pub backend: BackendInfo,
    /// Wall time of the training loop, in seconds.
    pub train_seconds: f64,
}

/// A RUL model file scored on a fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulEvaluated {
    /// Predictions and scores.
    pub evaluation: RulEvaluation,
    /// The model's metadata.
    pub meta: ModelMeta,
    /// The backend that ran it.
    pub backend: BackendInfo,
}

/// A finished training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trained {
    /// Scores and chart data on the test part.
    pub evaluation: Evaluation,
    /// The model's metadata, its loss history included.
    pub meta: ModelMeta,
    /// The model file.
    pub model: ByteBuf,
    /// The backend that trained it.
    pub backend: BackendInfo,
}

/// A loaded model scored on the current dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluated {
    /// Scores and chart data on the test part.
    pub evaluation: Evaluation,
    /// The model's metadata.
    pub meta: ModelMeta,
    /// The backend that ran it.
    pub backend: BackendInfo,
}

/// Read a data file for the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParseRequest {
    /// The file.
    pub file: BlobFile,
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
}

/// What the page needs of a data file the worker read: the report and the
/// shape of the table, not its values (which stay in the worker's copy of
/// the bytes and are read again for each job).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parsed {
    /// The dataset's name.
    pub name: String,
    /// What was found in the file and done about it.
    pub report: DataReport,
    /// The numeric channels, in order.
    pub channels: Vec<String>,
    /// Rows after repair.
    pub rows: usize,
    /// The suggested setup ([`Setup::suggest`]).
    pub setup: Setup,
    /// Seconds the worker took to read it.
    pub seconds: f64,
    /// The worker's WebAssembly memory after reading it, in bytes.
    pub worker_memory: f64,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker has started and takes messages.
    Ready,
    /// The backend a probe or a job resolved to.
    Backend(BackendInfo),
    /// The outcome of [`ToWorker::CompareBackends`].
    BackendCheck {
        /// The comparison, or why it could not run.
        outcome: Result<Box<BackendComparison>, String>,
    },
    /// Training made progress.
    Progress {
        /// A batch or an epoch.
        progress: Progress,
    },
    /// Reading a data file made progress.
    ParseProgress {
        /// Bytes and rows read so far.
        progress: ParseProgress,
    },
    /// A data file was read.
    Parsed(Box<Parsed>),
    /// Training finished (all epochs, early stop, or Stop).
    Trained(Box<Trained>),
    /// A model file was scored.
    Evaluated(Box<Evaluated>),
    /// RUL training finished.
    RulTrained(Box<RulTrained>),
    /// A RUL model file was scored.
    RulEvaluated(Box<RulEvaluated>),
    /// The twin session moved on: a [`TwinUpdate`] in CBOR
    /// ([`encode_twin_update`]). Several of these arrive every second, and
    /// one byte array crosses to the page far faster than the many small
    /// values a `serde-wasm-bindgen` object is made of.
    TwinUpdate {
        /// The update, CBOR-encoded.
        bytes: ByteBuf,
    },
    /// A job failed on WebGPU and then ran on the CPU: WebGPU is not used
    /// in this worker any more.
    GpuLost {
        /// What failed on WebGPU.
        reason: String,
    },
    /// A job failed; `internal` is set when the worker panicked and is gone.
    Failed {
        /// What went wrong, for the user.
        message: String,
        /// Whether it was a bug (a panic) rather than bad input.
        internal: bool,
    },
}

impl FromWorker {
    /// A failure from an error.
    #[must_use]
    pub fn failed(error: &WebError) -> Self {
        Self::Failed {
            message: error.to_string(),
            internal: false,
        }
    }
}

/// Encodes a message as a JavaScript object, with the buffers of its byte
/// arrays listed for transfer.
pub fn encode<T: Serialize>(message: &T) -> Result<(JsValue, Array), WebError> {
    let value = message.serialize(&serde_wasm_bindgen::Serializer::new())?;
    let transfer = Array::new();
    // Byte arrays at the top (worker → page) or in the body (page → worker).
    let body = Reflect::get(&value, &JsValue::from_str("body")).unwrap_or(JsValue::UNDEFINED);
    for holder in [&value, &body] {
        for key in ["bytes", "model"] {
            let field = Reflect::get(holder, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
            if let Some(array) = field.dyn_ref::<Uint8Array>() {
                transfer.push(&array.buffer());
            }
        }
    }
    Ok((value, transfer))
}

/// Starts a module worker running `./worker.js` (relative to the page, so
/// the app works under any sub-path); `what` names it in errors.
///
/// The page's module has no WebGPU code. With `gpu` set, the worker loads
/// the WebGPU build of twinlab instead (`twinlab_gpu.js`, built by
/// `tools/post-build.sh`) when the browser has a WebGPU adapter, and the
/// page's module otherwise.
pub fn start_worker(what: &'static str, gpu: bool) -> Result<web_sys::Worker, WebError> {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options("./worker.js", &options)
        .map_err(|err| WebError::js(what, &err))?;
    // The page's compiled module, so that the worker instantiates it
    // instead of fetching and compiling the wasm again (`worker.js` waits
    // for this first message).
    let boot = js_sys::Object::new();
    Reflect::set(&boot, &JsValue::from_str("module"), &wasm_bindgen::module())
        .map_err(|err| WebError::js(what, &err))?;
    Reflect::set(&boot, &JsValue::from_str("gpu"), &JsValue::from_bool(gpu))
        .map_err(|err| WebError::js(what, &err))?;
    worker
        .post_message(&boot)
        .map_err(|err| WebError::js(what, &err))?;
    Ok(worker)
}

/// Posts `message` to `worker`, transferring its byte arrays.
pub fn post_to(worker: &web_sys::Worker, message: &ToWorker) -> Result<(), WebError> {
    let (value, transfer) = encode(message)?;
    worker
        .post_message_with_transfer(&value, &transfer)
        .map_err(|err| WebError::js("sending to the worker", &err))
}

/// A twin update as CBOR bytes (NaN, the mark of a missing value, survives).
pub fn encode_twin_update(update: &TwinUpdate) -> Result<Vec<u8>, WebError> {
    let mut bytes = Vec::new();
    ciborium::into_writer(update, &mut bytes)
        .map_err(|err| WebError::Message(format!("encoding a twin update: {err}")))?;
    Ok(bytes)
}

/// Reads a twin update written by [`encode_twin_update`].
pub fn decode_twin_update(bytes: &[u8]) -> Result<TwinUpdate, WebError> {
    ciborium::from_reader(bytes)
        .map_err(|err| WebError::Message(format!("decoding a twin update: {err}")))
}

/// Decodes a message posted by the other side.
pub fn decode<T: for<'de> Deserialize<'de>>(value: JsValue) -> Result<T, WebError> {
    Ok(serde_wasm_bindgen::from_value(value)?)
}

impl ToWorker {
    /// The same job on `backend` (a job that has none is returned as it is).
    #[must_use]
    pub fn on_backend(mut self, backend: BackendChoice) -> Self {
        match &mut self {
            Self::Train(request) => request.backend = backend,
            Self::LoadModel(request) => request.backend = backend,
            Self::TrainRul(request) => request.backend = backend,
            Self::LoadRulModel(request) => request.backend = backend,
            _ => {}
        }
        self
    }

    /// The backend of a job that runs on one; `None` for other messages.
    #[must_use]
    pub fn backend(&self) -> Option<BackendChoice> {
        match self {
            Self::Train(request) => Some(request.backend),
            Self::LoadModel(request) => Some(request.backend),
            Self::TrainRul(request) => Some(request.backend),
            Self::LoadRulModel(request) => Some(request.backend),
            _ => None,
        }
    }

    /// Whether this is a job that runs on a backend.
    #[must_use]
    pub fn is_job(&self) -> bool {
        self.backend().is_some()
    }
}
