//! The training worker: takes jobs from the page, runs them through the
//! core pipeline, and posts progress and results back.
//!
//! One job runs at a time. While training, the progress callback yields to
//! the worker's event loop after every batch, so a `stop` message is seen
//! within one batch; it sets a flag that the callback turns into
//! [`Control::Stop`], and the core keeps the best weights so far.
//!
//! The jobs ([`train`], [`load_model`]) take a `send` function rather than
//! posting themselves, so the browser tests can run them on the page's
//! thread and look at every message.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::ingest::{self, Dataset, Fleet, FleetColumns, IngestOptions};
use crate::pipeline::{self, PipelineError, TrainedModel};
use crate::rul::{self, RulEvaluation};
use crate::train::Control;

use super::messages::{
    self, BackendChoice, BackendKind, BlobFile, Evaluated, FromWorker, LoadModelRequest, NamedFile,
    ParseRequest, Parsed, RulEvaluated, RulLoadRequest, RulTrainRequest, RulTrained, ToWorker,
    TrainRequest, Trained,
};
use super::{WebError, backend, dom};

/// State shared by the message handler and the running job.
#[derive(Debug, Default)]
struct Jobs {
    /// A job is running.
    busy: Cell<bool>,
    /// The page asked the running training to stop.
    stop: Rc<Cell<bool>>,
    /// The twin session, which runs beside the jobs.
    twin: Rc<super::twin_run::TwinRunner>,
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts `message` to the page, transferring its byte arrays.
fn post(message: &FromWorker) {
    let posted = messages::encode(message).and_then(|(value, transfer)| {
        scope()
            .post_message_with_transfer(&value, &transfer)
            .map_err(|err| WebError::js("posting to the page", &err))
    });
    if let Err(err) = posted {
        log::error!("the worker could not post a message: {err}");
    }
}

/// Tells the page about a panic; the module is unusable afterwards.
pub(super) fn report_internal_error(message: &str) {
    let failed = FromWorker::Failed {
        message: message.to_owned(),
        internal: true,
    };
    post(&failed);
}

/// Installs the message handler and tells the page the worker is ready.
pub(super) fn run() {
    let jobs = Rc::new(Jobs::default());
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        handle(&jobs, event.data());
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&FromWorker::Ready);
}

fn handle(jobs: &Rc<Jobs>, data: JsValue) {
    let message: ToWorker = match messages::decode(data) {
        Ok(message) => message,
        Err(err) => {
            post(&FromWorker::failed(&err));
            return;
        }
    };

    match message {
        ToWorker::Stop => jobs.stop.set(true),
        ToWorker::CompareBackends => wasm_bindgen_futures::spawn_local(async move {
            let outcome = backend::compare()
                .await
                .map(Box::new)
                .map_err(|err| err.to_string());
            post(&FromWorker::BackendCheck { outcome });
        }),
        ToWorker::Probe { backend } => wasm_bindgen_futures::spawn_local(async move {
            match backend::select(backend).await {
                Ok(selected) => post(&FromWorker::Backend(selected.info)),
                Err(err) => post(&FromWorker::failed(&err)),
            }
        }),
        ToWorker::Parse(request) => spawn_job(jobs, move |_| async move {
            parse_for_page(&request, &post)
                .await
                .map(|parsed| FromWorker::Parsed(Box::new(parsed)))
        }),
        ToWorker::Train(_)
        | ToWorker::LoadModel(_)
        | ToWorker::TrainRul(_)
        | ToWorker::LoadRulModel(_) => spawn_job(jobs, move |stop| async move {
            let choice = message.backend().unwrap_or(BackendChoice::Cpu);
            with_cpu_fallback(choice, |backend| {
                run_job(message.clone().on_backend(backend), Rc::clone(&stop))
            })
            .await
        }),
        ToWorker::SimulateGpuLoss => {
            let destroyed = backend::destroy_device_for_test();
            log::warn!("simulated GPU loss: device destroyed: {destroyed}");
        }
        ToWorker::TwinStart(request) => jobs.twin.start(*request, post),
        ToWorker::TwinControl { command } => jobs.twin.command(command),
    }
}

/// Runs one of the jobs that run on a backend, to its answer.
async fn run_job(job: ToWorker, stop: Rc<Cell<bool>>) -> Result<FromWorker, WebError> {
    match job {
        ToWorker::Train(request) => train(request, &stop, &post)
            .await
            .map(|done| FromWorker::Trained(Box::new(done))),
        ToWorker::LoadModel(request) => load_model(request, &post)
            .await
            .map(|done| FromWorker::Evaluated(Box::new(done))),
        ToWorker::TrainRul(request) => train_rul(*request, &stop, &post)
            .await
            .map(|done| FromWorker::RulTrained(Box::new(done))),
        ToWorker::LoadRulModel(request) => load_rul_model(*request, &post)
            .await
            .map(|done| FromWorker::RulEvaluated(Box::new(done))),
        _ => Err(WebError::Message(
            "this message is not a job that runs on a backend".to_owned(),
        )),
    }
}

/// Runs `job` on the `choice` of backend; when it fails on WebGPU it runs
/// again on the CPU. If that works, the GPU was at fault (lost, reset,
/// broken): WebGPU is not used again in this worker and the page is told.
/// If the CPU fails too, the job itself was at fault and its error stands.
async fn with_cpu_fallback<T, Fut>(
    choice: BackendChoice,
    mut job: impl FnMut(BackendChoice) -> Fut,
) -> Result<T, WebError>
where
    Fut: Future<Output = Result<T, WebError>>,
{
    let on_gpu = choice != BackendChoice::Cpu
        && backend::select(choice)
            .await
            .is_ok_and(|selected| selected.info.kind == BackendKind::Webgpu);
    match job(choice).await {
        Err(err) if on_gpu => {
            log::warn!("a job failed on WebGPU ({err}); running it again on the CPU");
            let again = job(BackendChoice::Cpu).await;
            if again.is_ok() {
                let reason = err.to_string();
                backend::mark_lost(&reason);
                post(&FromWorker::GpuLost { reason });
            }
            again
        }
        outcome => outcome,
    }
}

/// Runs `job` unless another one is running, and posts its outcome.
fn spawn_job<F, Fut>(jobs: &Rc<Jobs>, job: F)
where
    F: FnOnce(Rc<Cell<bool>>) -> Fut + 'static,
    Fut: Future<Output = Result<FromWorker, WebError>> + 'static,
{
    if jobs.busy.replace(true) {
        post(&FromWorker::failed(&WebError::Busy));
        return;
    }
    jobs.stop.set(false);
    let jobs = Rc::clone(jobs);
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = job(Rc::clone(&jobs.stop)).await;
        jobs.busy.set(false);
        match outcome {
            Ok(message) => post(&message),
            Err(err) => {
                log::warn!("job failed: {err}");
                post(&FromWorker::failed(&err));
            }
        }
    });
}

/// Reads a data file for the page, posting progress as it goes.
pub async fn parse_for_page(
    request: &ParseRequest,
    send: &dyn Fn(&FromWorker),
) -> Result<Parsed, WebError> {
    let started = js_sys::Date::now();
    let options = IngestOptions {
        max_bytes: request.max_bytes,
        ..IngestOptions::default()
    };
    let file = &request.file;
    // Checked before reading, as ingest would after.
    if file.size() > request.max_bytes {
        let source = ingest::IngestError::TooLarge {
            size: file.size(),
            limit: request.max_bytes,
        };
        let name = file.name.clone();
        return Err(WebError::TooLarge { name, source });
    }
    let bytes = file.bytes().await?;
    let mut report = |progress| send(&FromWorker::ParseProgress { progress });
    let ingested = ingest::parse_with_progress(&file.name, &bytes, &options, &mut report).map_err(
        |source| WebError::Ingest {
            name: file.name.clone(),
            source,
        },
    )?;
    let dataset = &ingested.dataset;
    Ok(Parsed {
        name: dataset.name.clone(),
        channels: dataset.channels.iter().map(|c| c.name.clone()).collect(),
        rows: dataset.len(),
        setup: pipeline::Setup::suggest(dataset),
        report: ingested.report,
        seconds: (js_sys::Date::now() - started) / 1000.0,
        worker_memory: dom::wasm_memory_bytes(),
    })
}

async fn read_blob(name: &str, data: &web_sys::Blob) -> Result<Vec<u8>, WebError> {
    let file = BlobFile {
        name: name.to_owned(),
        data: data.clone(),
    };
    file.bytes().await
}

fn parse(name: &str, bytes: &[u8], max_bytes: usize) -> Result<Dataset, WebError> {
    let options = IngestOptions {
        max_bytes,
        ..IngestOptions::default()
    };
    ingest::parse(name, bytes, &options)
        .map(|ingested| ingested.dataset)
        .map_err(|source| WebError::Ingest {
            name: name.to_owned(),
            source,
        })
}

fn parse_fleet(file: &NamedFile, max_bytes: usize) -> Result<Fleet, WebError> {
    let options = IngestOptions {
        max_bytes,
        ..IngestOptions::default()
    };
    ingest::parse_fleet(&file.name, &file.bytes, &FleetColumns::default(), &options)
        .map(|ingested| ingested.fleet)
        .map_err(|source| WebError::Ingest {
            name: file.name.clone(),
            source,
        })
}

fn parse_true_rul(bytes: Option<&[u8]>, max_bytes: usize) -> Result<Option<Vec<f32>>, WebError> {
    let options = IngestOptions {
        max_bytes,
        ..IngestOptions::default()
    };
    bytes
        .map(|bytes| {
            ingest::parse_rul_values(bytes, &options).map_err(|source| WebError::Ingest {
                name: "the true RUL file".to_owned(),
                source,
            })
        })
        .transpose()
}

/// Trains a RUL model as `request` says and, when a test fleet is sent,
/// predicts it.
pub async fn train_rul(
    request: RulTrainRequest,
    stop: &Cell<bool>,
    send: &dyn Fn(&FromWorker),
) -> Result<RulTrained, WebError> {
    let selected = backend::select(request.backend).await?;
    send(&FromWorker::Backend(selected.info.clone()));
    let train_fleet = parse_fleet(&request.train, request.max_bytes)?;
    let test_fleet = request
        .test
        .as_ref()
        .map(|file| parse_fleet(file, request.max_bytes))
        .transpose()?;
    let true_rul = parse_true_rul(
        request.true_rul.as_ref().map(|b| b.as_slice()),
        request.max_bytes,
    )?;
    let device = &selected.device;

    let started = js_sys::Date::now();
    let model = rul::train(
        &train_fleet,
        &request.setup,
        device,
        selected.info.kind.file_name(),
        async |progress| {
            send(&FromWorker::Progress { progress });
            dom::yield_now().await;
            if stop.get() {
                Control::Stop
            } else {
                Control::Continue
            }
        },
    )
    .await?;
    let train_seconds = (js_sys::Date::now() - started) / 1000.0;

    let evaluation = match &test_fleet {
        Some(fleet) => Some(rul_evaluation(&model, fleet, true_rul.as_deref(), device).await?),
        None => None,
    };
    let bytes = model.to_file_bytes().await?;
    Ok(RulTrained {
        evaluation,
        meta: model.meta,
        model: bytes.into(),
        backend: selected.info,
        train_seconds,
    })
}

/// Scores a RUL model, naming the channels a fleet lacks.
async fn rul_evaluation(
    model: &TrainedModel,
    fleet: &Fleet,
    true_rul: Option<&[f32]>,
    device: &burn::tensor::Device,
) -> Result<RulEvaluation, WebError> {
    match rul::evaluate(model, fleet, true_rul, device).await {
        Ok(evaluation) => Ok(evaluation),
        Err(source @ PipelineError::MissingChannels { .. }) => Err(WebError::ModelMismatch {
            dataset: fleet.name.clone(),
            trained_on: model.meta.dataset.clone(),
            channels: quoted(&model.meta.input_channels),
            source,
        }),
        Err(other) => Err(other.into()),
    }
}

/// Reads a RUL model file and predicts the fleet in `request`.
pub async fn load_rul_model(
    request: RulLoadRequest,
    send: &dyn Fn(&FromWorker),
) -> Result<RulEvaluated, WebError> {
    let selected = backend::select(request.backend).await?;
    send(&FromWorker::Backend(selected.info.clone()));
    let fleet = parse_fleet(&request.test, request.max_bytes)?;
    let true_rul = parse_true_rul(
        request.true_rul.as_ref().map(|b| b.as_slice()),
        request.max_bytes,
    )?;
    let device = &selected.device;
    let model = TrainedModel::from_file_bytes(&request.model, device).await?;
    let evaluation = rul_evaluation(&model, &fleet, true_rul.as_deref(), device).await?;
    Ok(RulEvaluated {
        evaluation,
        meta: model.meta,
        backend: selected.info,
    })
}

fn quoted(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

/// Trains a model as `request` says and scores it on the test part.
///
/// `send` gets the backend and every progress report; setting `stop` ends
/// training after the current batch.
pub async fn train(
    request: TrainRequest,
    stop: &Cell<bool>,
    send: &dyn Fn(&FromWorker),
) -> Result<Trained, WebError> {
    let selected = backend::select(request.backend).await?;
    send(&FromWorker::Backend(selected.info.clone()));
    let bytes = read_blob(&request.name, &request.data).await?;
    let dataset = parse(&request.name, &bytes, request.max_bytes)?;
    let device = &selected.device;

    let model = pipeline::train(
        &dataset,
        &request.setup,
        device,
        selected.info.kind.file_name(),
        async |progress| {
            send(&FromWorker::Progress { progress });
            dom::yield_now().await;
            if stop.get() {
                Control::Stop
            } else {
                Control::Continue
            }
        },
    )
    .await?;

    let evaluation = pipeline::evaluate(&model, &dataset, device).await?;
    let bytes = model.to_file_bytes().await?;
    Ok(Trained {
        evaluation,
        meta: model.meta,
        model: bytes.into(),
        backend: selected.info,
    })
}

/// Reads a model file and scores it on the dataset in `request`.
///
/// A model whose channels are not all in the dataset is a
/// [`WebError::ModelMismatch`] that names the missing channel.
pub async fn load_model(
    request: LoadModelRequest,
    send: &dyn Fn(&FromWorker),
) -> Result<Evaluated, WebError> {
    let selected = backend::select(request.backend).await?;
    send(&FromWorker::Backend(selected.info.clone()));
    let bytes = read_blob(&request.name, &request.data).await?;
    let dataset = parse(&request.name, &bytes, request.max_bytes)?;
    let device = &selected.device;

    let model = TrainedModel::from_file_bytes(&request.model, device).await?;
    let evaluation = match pipeline::evaluate(&model, &dataset, device).await {
        Ok(evaluation) => evaluation,
        Err(source @ (PipelineError::UnknownChannel(_) | PipelineError::Prep(_))) => {
            return Err(WebError::ModelMismatch {
                dataset: dataset.name,
                trained_on: model.meta.dataset,
                channels: quoted(&model.meta.input_channels),
                source,
            });
        }
        Err(other) => return Err(other.into()),
    };
    Ok(Evaluated {
        evaluation,
        meta: model.meta,
        backend: selected.info,
    })
}
