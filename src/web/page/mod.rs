//! The page app: owns the loaded dataset, the last result and the training
//! worker, and wires the form, the file inputs and the worker's messages to
//! them.
//!
//! A new file is parsed into a temporary first; only when that succeeds does
//! it replace the dataset, so a bad file leaves the dataset, the model and
//! the charts as they were and only fills the error box.

mod gpu;
mod project;
mod rul;
mod twin;

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{
    DragEvent, Event, File, HtmlInputElement, MessageEvent, Url, UrlSearchParams, Worker,
};

use crate::artifact::ModelMeta;
use crate::chart::{ForecastView, LossView};
use crate::ingest::{IngestError, ParseProgress};
use crate::pipeline::Evaluation;
use crate::train::{Progress, StopReason};

use super::backend::BackendComparison;
use super::chart::{self as chart_ui, ChartElements, ChartHost, ChartState};
use super::elements::{Demo, Elements};
use super::messages::{
    self, BackendKind, BlobFile, Evaluated, FromWorker, LoadModelRequest, ParseRequest, Parsed,
    ToWorker, TrainRequest, Trained,
};
use super::{WebError, dom, view};

/// Largest data or model file the page reads, unless `?max_mb=` says
/// otherwise (the end-to-end tests lower it).
const DEFAULT_MAX_BYTES: usize = 200 * 1024 * 1024;

/// The dataset on show, with the file it came from. The page keeps what
/// the worker reported of it; the worker reads the bytes again for a job.
struct Loaded {
    file: BlobFile,
    parsed: Parsed,
    demo: Option<&'static Demo>,
    /// Tells this file from another of the same name in the saved project.
    id: u32,
}

/// A file the worker is reading for the page.
struct Reading {
    file: BlobFile,
    demo: Option<&'static Demo>,
}

impl Loaded {
    /// The size limit the worker parses these bytes under.
    fn limit(&self, page_limit: usize) -> usize {
        file_limit(self.demo, page_limit)
    }
}

/// The size limit of a data file: the page's limit for the user's files,
/// none for the demos that ship with the page.
fn file_limit(demo: Option<&Demo>, page_limit: usize) -> usize {
    if demo.is_some() {
        usize::MAX
    } else {
        page_limit
    }
}

/// The error for `file` when it is larger than the page's limit (checked
/// before reading, so a huge file is never pulled into memory).
fn check_size(app: &App, file: &File) -> Result<(), WebError> {
    let size = file.size() as usize;
    if size > app.max_bytes {
        let source = IngestError::TooLarge {
            size,
            limit: app.max_bytes,
        };
        return Err(WebError::TooLarge {
            name: file.name(),
            source,
        });
    }
    Ok(())
}

/// The bytes of `file`, or `None` after showing why they cannot be read
/// (too large, unreadable).
async fn read_checked(app: &Shared, file: &File) -> Option<Vec<u8>> {
    let checked = check_size(&app.borrow(), file);
    if let Err(err) = checked {
        app.borrow().reject(&err);
        return None;
    }
    match dom::read_file(file).await {
        Ok(bytes) => Some(bytes),
        Err(err) => {
            app.borrow().reject(&err);
            None
        }
    }
}

/// The last trained or loaded model and how it scored.
struct Results {
    evaluation: Evaluation,
    meta: ModelMeta,
    view: usize,
}

/// What the user is doing: forecasting channels of one series, or the
/// remaining useful life of a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    Twin,
    Forecast,
    Rul,
}

impl Task {
    /// The value of the task `<select>` and of the `data-task` attributes.
    fn key(self) -> &'static str {
        match self {
            Self::Twin => "twin",
            Self::Forecast => "forecast",
            Self::Rul => "rul",
        }
    }
}

/// What the worker is doing for the page.
enum Job {
    Idle,
    /// Reading a data file; it becomes the dataset on success.
    Parsing(Reading),
    Training,
    /// Loading a model file; its bytes become the current model on success.
    LoadingModel(Vec<u8>),
}

/// The worker and the handlers that must live as long as it.
struct WorkerHandle {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

struct App {
    el: Elements,
    worker: Option<WorkerHandle>,
    worker_ready: bool,
    max_bytes: usize,
    dataset: Option<Loaded>,
    job: Job,
    losses: LossView,
    results: Option<Results>,
    model: Option<Vec<u8>>,
    model_url: Option<String>,
    task: Task,
    fleet: rul::FleetState,
    rul_results: Option<rul::RulResults>,
    chart: ChartState,
    chart_el: ChartElements,
    /// Messages waiting for the worker to start.
    queued: Vec<ToWorker>,
    /// Bumped by every change worth saving.
    revision: u64,
    /// Whether changes are saved (off until the saved project is back).
    autosave: bool,
    /// What a project restore does once its series is read.
    restore: project::RestorePlan,
    /// The last job posted, to send again on the CPU if its worker dies
    /// on WebGPU.
    last_job: Option<ToWorker>,
    /// Whether the worker's last job ran on WebGPU.
    on_webgpu: bool,
}

impl ChartHost for App {
    fn chart_parts(&mut self) -> (Option<&ForecastView>, &mut ChartState) {
        let view = self
            .results
            .as_ref()
            .and_then(|results| results.evaluation.views.get(results.view));
        (view, &mut self.chart)
    }

    fn redraw_chart(&mut self) {
        self.draw_charts();
    }
}

type Shared = Rc<RefCell<App>>;

/// Shows `message` in the error box without touching the app's state (for
/// the panic hook, which may run while that state is borrowed).
pub(super) fn show_internal_error(message: &str) {
    let element = dom::document()
        .ok()
        .and_then(|document| document.get_element_by_id(Elements::ERROR_ID));
    if let Some(element) = element {
        element.set_text_content(Some(message));
        let _ = element.remove_attribute("hidden");
    }
}

/// Starts the page app.
pub(super) fn run() {
    if let Err(err) = start() {
        log::error!("twinlab could not start: {err}");
        show_internal_error(&format!("twinlab could not start: {err}"));
    }
}

fn start() -> Result<(), WebError> {
    let document = dom::document()?;
    let el = Elements::find(&document)?;
    let chart_el = ChartElements::find(&document)?;
    let app = Rc::new(RefCell::new(App {
        el,
        worker: None,
        worker_ready: false,
        max_bytes: max_bytes_from_query(),
        dataset: None,
        job: Job::Idle,
        losses: LossView::default(),
        results: None,
        model: None,
        model_url: None,
        task: Task::Forecast,
        fleet: rul::FleetState::default(),
        rul_results: None,
        chart: ChartState::default(),
        chart_el: chart_el.clone(),
        queued: Vec::new(),
        revision: 0,
        autosave: false,
        restore: project::RestorePlan::default(),
        last_job: None,
        on_webgpu: false,
    }));

    {
        let app = app.borrow();
        app.draw_charts();
        app.set_busy(false);
    }
    spawn_worker(&app)?;
    dom::register_service_worker();
    install_handlers(&app)?;
    rul::install_handlers(&app)?;
    super::chart::install(&app, &chart_el)?;
    project::install(&app)?;
    gpu::install(&app)?;
    // The page opens on the project saved in this browser, if any (not
    // when the address asks for a task or a demo); otherwise on the live
    // twin of the simulated pump, unless `?task=forecast` or a `?demo=` (a
    // forecast or fleet demo) says otherwise; the forecast demo loads
    // either way.
    let wanted = query_param("demo");
    let asked = query_param("task");
    let task = match asked.as_deref() {
        Some("forecast") => Task::Forecast,
        Some("rul") => Task::Rul,
        _ if wanted.is_some() => Task::Forecast,
        _ => Task::Twin,
    };
    app.borrow_mut().set_task(task);
    twin::install(false)?;
    let explicit = wanted.is_some() || asked.is_some();
    wasm_bindgen_futures::spawn_local(async move {
        let restored = if explicit {
            Ok(false)
        } else {
            project::open_saved(&app).await
        };
        match restored {
            Ok(true) => {}
            Ok(false) => open_default(&app, task, wanted.as_deref()).await,
            Err(err) => {
                app.borrow()
                    .show_error(&format!("{err}; the page starts afresh instead."));
                open_default(&app, task, wanted.as_deref()).await;
            }
        }
        app.borrow_mut().autosave = true;
    });
    Ok(())
}

/// Opens the page's default: the twin on the simulator (when it is the
/// task) and a demo.
async fn open_default(app: &Shared, task: Task, wanted: Option<&str>) {
    if task == Task::Twin {
        twin::shown();
    }
    if wanted == Some(rul::FLEET_DEMO.key) {
        rul::load_fleet_demo(Rc::clone(app)).await;
    } else {
        let demo = wanted
            .and_then(|key| Elements::DEMOS.iter().find(|demo| demo.key == key))
            .or_else(|| app.borrow().el.selected_demo())
            .unwrap_or(&Elements::DEMOS[0]);
        load_demo(Rc::clone(app), demo).await;
    }
}

/// The value of `name` in the page's query string.
fn query_param(name: &str) -> Option<String> {
    dom::window()
        .ok()
        .and_then(|window| window.location().search().ok())
        .and_then(|search| UrlSearchParams::new_with_str(&search).ok())
        .and_then(|params| params.get(name))
}

fn max_bytes_from_query() -> usize {
    let query = query_param("max_mb")
        .and_then(|text| text.parse::<f64>().ok())
        .filter(|mb| mb.is_finite() && *mb > 0.0);
    query.map_or(DEFAULT_MAX_BYTES, |mb| (mb * 1024.0 * 1024.0) as usize)
}

fn spawn_worker(app: &Shared) -> Result<(), WebError> {
    let worker = messages::start_worker("starting the training worker", true)?;

    let weak = Rc::downgrade(app);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(app) = weak.upgrade() {
            on_worker_message(&app, event.data());
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));

    let weak = Rc::downgrade(app);
    let on_error = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
        let detail = event
            .dyn_ref::<web_sys::ErrorEvent>()
            .map(web_sys::ErrorEvent::message)
            .unwrap_or_default();
        if let Some(app) = weak.upgrade() {
            let mut app = app.borrow_mut();
            app.job = Job::Idle;
            app.set_busy(false);
            app.show_error(&format!("the training worker failed: {detail}"));
        }
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));

    let mut app = app.borrow_mut();
    if let Some(old) = app.worker.take() {
        old.worker.terminate();
    }
    app.worker = Some(WorkerHandle {
        worker,
        _on_message: on_message,
        _on_error: on_error,
    });
    app.worker_ready = false;
    Ok(())
}

fn install_handlers(app: &Shared) -> Result<(), WebError> {
    let el = app.borrow().el.clone();

    let shared = Rc::clone(app);
    dom::listen(&el.demo_select, "change", move |_| {
        let key = shared.borrow().el.demo_select.value();
        if key == rul::FLEET_DEMO.key {
            wasm_bindgen_futures::spawn_local(rul::load_fleet_demo(Rc::clone(&shared)));
            return;
        }
        let demo = shared.borrow().el.selected_demo();
        if let Some(demo) = demo {
            shared.borrow_mut().set_task(Task::Forecast);
            wasm_bindgen_futures::spawn_local(load_demo(Rc::clone(&shared), demo));
        }
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.task_select, "change", move |_| {
        let value = shared.borrow().el.task_select.value();
        let task = [Task::Twin, Task::Forecast, Task::Rul]
            .into_iter()
            .find(|task| task.key() == value)
            .unwrap_or(Task::Forecast);
        shared.borrow_mut().set_task(task);
        if task == Task::Twin {
            twin::shown();
        }
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.dataset_input, "change", move |event| {
        if let Some(file) = first_file(&event) {
            wasm_bindgen_futures::spawn_local(load_any(Rc::clone(&shared), file));
        }
    })?;

    let zone = el.drop_zone.clone();
    dom::listen(&el.drop_zone, "dragover", move |event| {
        event.prevent_default();
        let _ = zone.class_list().add_1("dragging");
    })?;
    let zone = el.drop_zone.clone();
    dom::listen(&el.drop_zone, "dragleave", move |_| {
        let _ = zone.class_list().remove_1("dragging");
    })?;
    let shared = Rc::clone(app);
    let zone = el.drop_zone.clone();
    dom::listen(&el.drop_zone, "drop", move |event| {
        event.prevent_default();
        let _ = zone.class_list().remove_1("dragging");
        let file = event
            .dyn_ref::<DragEvent>()
            .and_then(DragEvent::data_transfer)
            .and_then(|transfer| transfer.files())
            .and_then(|files| files.get(0));
        let busy = !matches!(shared.borrow().job, Job::Idle);
        if let (Some(file), false) = (file, busy) {
            wasm_bindgen_futures::spawn_local(load_any(Rc::clone(&shared), file));
        }
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.setup_form, "submit", move |event| {
        event.prevent_default();
        let task = shared.borrow().task;
        match task {
            Task::Forecast | Task::Twin => start_training(&shared),
            Task::Rul => rul::start_training(&shared),
        }
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.stop, "click", move |_| {
        let app = shared.borrow();
        if matches!(app.job, Job::Training) {
            app.post(&ToWorker::Stop);
            app.el.stop.set_disabled(true);
            app.set_status("Stopping after this batch…");
        }
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.check_backends, "click", move |_| {
        check_backends(&shared);
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.view_select, "change", move |_| {
        let mut app = shared.borrow_mut();
        let index = app.el.view_select.selected_index().max(0) as usize;
        if let Some(results) = app.results.as_mut() {
            results.view = index;
        }
        app.chart.reset_range();
        app.draw_charts();
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.model_input, "change", move |event| {
        if let Some(file) = first_file(&event) {
            wasm_bindgen_futures::spawn_local(load_model_file(Rc::clone(&shared), file));
        }
    })?;

    let shared = Rc::clone(app);
    let window = dom::window()?;
    dom::listen(&window, "resize", move |_| shared.borrow().draw_charts())?;
    Ok(())
}

/// The first file of a file input's `change` event; the input is cleared so
/// that picking the same file again fires again.
fn first_file(event: &Event) -> Option<File> {
    let input = event.target()?.dyn_into::<HtmlInputElement>().ok()?;
    let file = input.files()?.get(0);
    input.set_value("");
    file
}

/// The data file input's file: a series to forecast, or in the RUL task the
/// training fleet.
async fn load_any(app: Shared, file: File) {
    let task = app.borrow().task;
    match task {
        Task::Forecast | Task::Twin => load_file(&app, file),
        Task::Rul => rul::load_fleet_file(app, file, rul::FleetRole::Train).await,
    }
}

async fn load_demo(app: Shared, demo: &'static Demo) {
    app.borrow()
        .set_status(&format!("Loading the demo data {}…", demo.file_name));
    match dom::fetch_blob(demo.url).await {
        Ok(data) => {
            let file = BlobFile {
                name: demo.file_name.to_owned(),
                data,
            };
            accept_file(&app, file, Some(demo));
        }
        Err(err) => app.borrow().reject(&err),
    }
}

fn load_file(app: &Shared, file: File) {
    let checked = check_size(&app.borrow(), &file);
    if let Err(err) = checked {
        return app.borrow().reject(&err);
    }
    let name = file.name();
    // A `File` is a `Blob`: the worker reads it, the page never does.
    let data: web_sys::Blob = file.unchecked_into();
    accept_file(app, BlobFile { name, data }, None);
}

/// Has the worker read `file`; if that works it becomes the dataset
/// ([`App::on_parsed`]). The page only hands the worker the browser's
/// handle on the file, so a file of a million rows does not freeze it.
fn accept_file(app: &Shared, file: BlobFile, demo: Option<&'static Demo>) {
    let mut app = app.borrow_mut();
    if !matches!(app.job, Job::Idle) {
        return app.reject(&WebError::Busy);
    }
    let request = ToWorker::Parse(ParseRequest {
        file: file.clone(),
        max_bytes: file_limit(demo, app.max_bytes),
    });
    app.clear_error();
    app.set_status(&format!("Reading {}…", file.name));
    app.job = Job::Parsing(Reading { file, demo });
    app.set_busy(true);
    app.el.progress.set_value(0.0);
    app.send(request);
}

async fn load_model_file(app: Shared, file: File) {
    if let Some(model) = read_checked(&app, &file).await {
        load_model_bytes(&app, file.name(), model);
    }
}

/// Takes a model file: scores it on the data of its task.
fn load_model_bytes(app: &Shared, name: String, model: Vec<u8>) {
    let mut app = app.borrow_mut();
    // The header says which task the model is for; a file that is no
    // model at all is refused here, before anything changes.
    let meta = match crate::artifact::decode(&model) {
        Ok((meta, _)) => meta,
        Err(err) => {
            let source = crate::pipeline::PipelineError::from(err);
            return app.reject(&WebError::Model { name, source });
        }
    };
    if meta.rul.is_some() {
        app.set_task(Task::Rul);
        return rul::load_model(&mut app, model, &name);
    }
    app.set_task(Task::Forecast);
    let request = match (&app.dataset, app.worker_ready, &app.job) {
        (None, ..) => Err(WebError::Input(
            "load a dataset before loading a model".to_owned(),
        )),
        (_, false, _) => Err(WebError::Input(
            "the worker is still starting; try again".to_owned(),
        )),
        (_, _, Job::Training | Job::LoadingModel(_) | Job::Parsing(_)) => Err(WebError::Busy),
        (Some(loaded), true, Job::Idle) => Ok(app.load_model_request(loaded, &model)),
    };
    match request {
        Ok(request) => {
            app.clear_error();
            app.post_job(ToWorker::LoadModel(request));
            app.job = Job::LoadingModel(model);
            app.set_busy(true);
            app.set_status(&format!("Loading the model {name}…"));
        }
        Err(err) => app.reject(&err),
    }
}

fn start_training(app: &Shared) {
    let mut app = app.borrow_mut();
    let request = app.train_request();
    match request {
        Ok(request) => {
            app.clear_error();
            let epochs = request.setup.training.epochs;
            app.post_job(ToWorker::Train(request));
            app.begin_training();
            app.set_status(&format!("Training for up to {epochs} epochs…"));
        }
        Err(err) => app.reject(&err),
    }
}

/// Asks the training worker, which has the WebGPU build when the browser
/// has an adapter, to compare the CPU and WebGPU on a tiny network; the
/// answer comes back as [`FromWorker::BackendCheck`].
fn check_backends(app: &Shared) {
    let mut app = app.borrow_mut();
    app.el.check_backends.set_disabled(true);
    app.el
        .backend_check
        .set_text_content(Some("Comparing CPU and WebGPU on a tiny network…"));
    app.send(ToWorker::CompareBackends);
}

/// Shows the outcome of [`check_backends`].
fn show_backend_check(el: &Elements, outcome: Result<Box<BackendComparison>, String>) {
    let text = match outcome {
        Ok(report) if report.webgpu => format!(
            "WebGPU ({}) {} the CPU: largest difference {:.1e} over {} values (tolerance {:.0e}); \
             CPU {:.0} ms, WebGPU {:.0} ms.",
            report.adapter.as_deref().unwrap_or("unnamed adapter"),
            if report.agrees() {
                "agrees with"
            } else {
                "DISAGREES with"
            },
            report.max_abs_diff.unwrap_or(f64::NAN),
            report.values,
            report.tolerance,
            report.cpu_ms,
            report.gpu_ms.unwrap_or(f64::NAN),
        ),
        Ok(report) => format!(
            "No WebGPU here ({}); the CPU ran the check in {:.0} ms.",
            report.reason.as_deref().unwrap_or("reason unknown"),
            report.cpu_ms
        ),
        Err(err) => format!("The backend check failed: {err}"),
    };
    el.backend_check.set_text_content(Some(&text));
    el.check_backends.set_disabled(false);
}

fn on_worker_message(app: &Shared, data: JsValue) {
    let message: FromWorker = match messages::decode(data) {
        Ok(message) => message,
        Err(err) => return app.borrow().show_error(&err.to_string()),
    };
    let mut restart = false;
    {
        let mut app = app.borrow_mut();
        match message {
            FromWorker::Ready => {
                app.worker_ready = true;
                let backend = app.el.backend_choice();
                app.post(&ToWorker::Probe { backend });
                for message in std::mem::take(&mut app.queued) {
                    app.post(&message);
                }
            }
            FromWorker::ParseProgress { progress } => app.on_parse_progress(progress),
            FromWorker::Parsed(parsed) => app.on_parsed(*parsed),
            FromWorker::Backend(info) => {
                app.on_webgpu = info.kind == BackendKind::Webgpu;
                app.el
                    .backend_label
                    .set_text_content(Some(&info.describe()));
            }
            FromWorker::BackendCheck { outcome } => show_backend_check(&app.el, outcome),
            FromWorker::GpuLost { reason } => app.on_gpu_lost(&reason),
            FromWorker::Progress { progress } => app.on_progress(&progress),
            FromWorker::Trained(trained) => app.on_trained(*trained),
            FromWorker::Evaluated(evaluated) => app.on_evaluated(*evaluated),
            FromWorker::RulTrained(trained) => app.on_rul_trained(*trained),
            FromWorker::RulEvaluated(evaluated) => app.on_rul_evaluated(*evaluated),
            // The twin has a worker of its own.
            FromWorker::TwinUpdate { .. } => {}
            FromWorker::Failed { internal: true, .. } if app.retry_on_cpu() => restart = true,
            FromWorker::Failed { message, internal } => {
                let job = std::mem::replace(&mut app.job, Job::Idle);
                app.set_busy(false);
                if matches!(job, Job::Parsing(_)) {
                    // The file was not taken: what was loaded stays.
                    app.reject(&WebError::Input(message));
                } else {
                    app.show_error(&message);
                    app.set_status("Ready.");
                }
                restart = internal;
            }
        }
    }
    if restart {
        // A panic leaves the worker's module unusable: start a fresh one
        // (a job sent again waits for it to be ready).
        if let Err(err) = spawn_worker(app) {
            app.borrow().show_error(&err.to_string());
        }
    }
}

impl App {
    /// Posts `message` now, or as soon as the worker is ready.
    fn send(&mut self, message: ToWorker) {
        if self.worker_ready {
            self.post(&message);
        } else {
            self.queued.push(message);
        }
    }

    fn load_model_request(&self, loaded: &Loaded, model: &[u8]) -> LoadModelRequest {
        LoadModelRequest {
            model: model.to_vec().into(),
            name: loaded.parsed.name.clone(),
            data: loaded.file.data.clone(),
            max_bytes: loaded.limit(self.max_bytes),
            backend: self.el.backend_choice(),
        }
    }

    /// Scores a restored project's forecast model on the series just read.
    fn restore_model(&mut self, model: Vec<u8>) {
        let request = match (&self.dataset, self.worker_ready, &self.job) {
            (Some(loaded), true, Job::Idle) => self.load_model_request(loaded, &model),
            _ => return,
        };
        self.post_job(ToWorker::LoadModel(request));
        self.job = Job::LoadingModel(model);
        self.set_busy(true);
        self.set_status("Scoring the project's model on its data…");
    }

    fn on_parse_progress(&self, progress: ParseProgress) {
        let Job::Parsing(reading) = &self.job else {
            return;
        };
        let total = progress.bytes_total.max(1) as f64;
        self.el.progress.set_max(total);
        self.el.progress.set_value(progress.bytes_done as f64);
        let text = format!(
            "Reading {}: {:.0} % ({} rows)",
            reading.file.name,
            100.0 * progress.bytes_done as f64 / total,
            progress.rows
        );
        self.el.progress_text.set_text_content(Some(&text));
    }

    fn on_parsed(&mut self, parsed: Parsed) {
        let Job::Parsing(reading) = std::mem::replace(&mut self.job, Job::Idle) else {
            return;
        };
        self.set_busy(false);
        self.el.progress.set_value(self.el.progress.max());
        // The twin can replay what the Forecast task loaded.
        let limit = file_limit(reading.demo, self.max_bytes);
        twin::dataset_loaded(reading.file.clone(), limit, parsed.rows);
        // Figures for the big-file test.
        let figures = [
            ("data-parse-seconds", parsed.seconds),
            ("data-worker-memory", parsed.worker_memory),
            ("data-page-memory", dom::wasm_memory_bytes()),
        ];
        for (name, value) in figures {
            let _ = self.el.report.set_attribute(name, &value.to_string());
        }
        self.set_dataset(Loaded {
            file: reading.file,
            parsed,
            demo: reading.demo,
            id: (js_sys::Math::random() * f64::from(u32::MAX)) as u32,
        });
    }

    fn post(&self, message: &ToWorker) {
        let posted = self.worker.as_ref().map_or(
            Err(WebError::Input(
                "the training worker is not running".to_owned(),
            )),
            |handle| messages::post_to(&handle.worker, message),
        );
        if let Err(err) = posted {
            self.show_error(&err.to_string());
        }
    }

    fn set_status(&self, text: &str) {
        self.el.status.set_text_content(Some(text));
    }

    fn show_error(&self, message: &str) {
        self.el.error.set_text_content(Some(message));
        self.el.error.set_hidden(false);
    }

    fn clear_error(&self) {
        self.el.error.set_text_content(None);
        self.el.error.set_hidden(true);
    }

    /// Shows `error` and puts the demo selector back to what is loaded.
    fn reject(&self, error: &WebError) {
        log::warn!("{error}");
        self.show_error(&error.to_string());
        let loaded = match self.task {
            Task::Forecast | Task::Twin => {
                self.el.show_source(
                    self.dataset
                        .as_ref()
                        .map(|d| (d.demo, d.parsed.name.as_str())),
                );
                self.dataset.is_some()
            }
            Task::Rul => self.restore_fleet_source(),
        };
        self.set_status(if loaded { "Ready." } else { "No data loaded." });
    }

    fn set_busy(&self, busy: bool) {
        let training = busy && matches!(self.job, Job::Training);
        self.el.set_busy(busy, training);
    }

    fn set_dataset(&mut self, loaded: Loaded) {
        self.clear_error();
        let parsed = &loaded.parsed;
        if let Err(err) = view::render_report(
            &self.el.document,
            &self.el.report,
            &parsed.name,
            &parsed.report,
        ) {
            self.show_error(&err.to_string());
        }
        // A restored project brings its own column roles and settings.
        let setup = match self.restore.setup.take() {
            Some(setup)
                if setup
                    .input_channels()
                    .iter()
                    .all(|c| parsed.channels.contains(c)) =>
            {
                setup
            }
            _ => parsed.setup.clone(),
        };
        self.el.fill_setup(&parsed.channels, &setup);
        self.el
            .show_source(Some((loaded.demo, parsed.name.as_str())));
        self.set_status(&format!(
            "Loaded {} ({} rows, {} channels). Choose the targets and press Train.",
            parsed.name,
            parsed.rows,
            parsed.channels.len()
        ));
        // The old forecast belongs to the old data; the model itself stays.
        self.results = None;
        self.losses = LossView::default();
        self.el.progress.set_value(0.0);
        self.el.progress_text.set_text_content(None);
        dom::clear(&self.el.metrics);
        dom::clear(&self.el.baselines);
        self.el.verdict.set_text_content(None);
        self.el.fill_views(&[]);
        self.dataset = Some(loaded);
        self.draw_charts();
        self.revision += 1;
        if let Some(model) = self.restore.model.take() {
            self.restore_model(model);
        }
    }

    /// Whether the worker can take a job now.
    fn check_worker(&self) -> Result<(), WebError> {
        if !self.worker_ready {
            return Err(WebError::Input(
                "the training worker is still starting; try again".to_owned(),
            ));
        }
        if !matches!(self.job, Job::Idle) {
            return Err(WebError::Busy);
        }
        Ok(())
    }

    /// Resets the progress bar and the loss chart for a new training job.
    fn begin_training(&mut self) {
        self.job = Job::Training;
        self.losses = LossView::default();
        self.el.progress.set_value(0.0);
        self.el.progress.set_max(1.0);
        self.el.progress_text.set_text_content(None);
        self.draw_charts();
        self.set_busy(true);
    }

    /// Shows the elements of `task` and hides those of the other.
    fn set_task(&mut self, task: Task) {
        self.task = task;
        self.revision += 1;
        self.el.show_task(task.key());
        self.draw_charts();
    }

    fn train_request(&self) -> Result<TrainRequest, WebError> {
        let loaded = self
            .dataset
            .as_ref()
            .ok_or_else(|| WebError::Input("load a dataset first".to_owned()))?;
        self.check_worker()?;
        Ok(TrainRequest {
            name: loaded.parsed.name.clone(),
            data: loaded.file.data.clone(),
            max_bytes: loaded.limit(self.max_bytes),
            setup: self
                .el
                .read_setup(&loaded.parsed.channels, &loaded.parsed.setup)?,
            backend: self.el.backend_choice(),
        })
    }

    fn on_progress(&mut self, progress: &Progress) {
        match *progress {
            Progress::Batch {
                epoch,
                epochs,
                batch,
                batches,
            } => {
                let total = (epochs * batches).max(1) as f64;
                self.el.progress.set_max(total);
                self.el
                    .progress
                    .set_value(((epoch - 1) * batches + batch) as f64);
                let text = format!("Epoch {epoch} of {epochs}, batch {batch} of {batches}");
                self.el.progress_text.set_text_content(Some(&text));
            }
            Progress::Epoch {
                epoch,
                train_loss,
                validation_loss,
                best_epoch,
                ..
            } => {
                self.losses.train.push(train_loss);
                self.losses.validation.push(validation_loss);
                self.losses.best_epoch = best_epoch.checked_sub(1);
                self.draw_charts();
                self.set_status(&format!(
                    "Epoch {epoch}: training loss {train_loss:.4}, validation loss \
                     {validation_loss:.4} (best so far: epoch {best_epoch})"
                ));
            }
        }
    }

    fn on_trained(&mut self, trained: Trained) {
        let history = &trained.meta.history;
        let epochs = history.train_loss.len();
        let kept = history
            .best_epoch
            .map_or("the starting weights".to_owned(), |best| {
                format!("epoch {}", best + 1)
            });
        let summary = match history.stop {
            StopReason::EpochsDone => format!("Trained for {epochs} epochs; kept {kept}."),
            StopReason::EarlyStop => format!(
                "Stopped early after epoch {epochs}: the validation loss stopped improving; \
                 kept {kept}."
            ),
            StopReason::Cancelled => format!("Stopped after {epochs} full epoch(s); kept {kept}."),
        };
        self.el.progress.set_value(self.el.progress.max());
        self.set_status(&format!("{summary} Ran on {}.", trained.backend.label));
        self.el
            .backend_label
            .set_text_content(Some(&trained.backend.describe()));
        self.show_results(trained.evaluation, trained.meta, trained.model.into_vec());
    }

    fn on_evaluated(&mut self, evaluated: Evaluated) {
        let model = match std::mem::replace(&mut self.job, Job::Idle) {
            Job::LoadingModel(model) => model,
            _ => Vec::new(),
        };
        self.set_status(&format!(
            "Loaded a model trained on {} (targets: {}) and scored it on this data. Ran on {}.",
            evaluated.meta.dataset,
            evaluated.meta.target_channels.join(", "),
            evaluated.backend.label
        ));
        self.el
            .backend_label
            .set_text_content(Some(&evaluated.backend.describe()));
        self.show_results(evaluated.evaluation, evaluated.meta, model);
    }

    fn show_results(&mut self, evaluation: Evaluation, meta: ModelMeta, model: Vec<u8>) {
        self.job = Job::Idle;
        self.set_busy(false);
        self.losses = LossView {
            train: meta.history.train_loss.clone(),
            validation: meta.history.validation_loss.clone(),
            best_epoch: meta.history.best_epoch,
        };
        let rendered = view::render_metrics(&self.el.document, &self.el.metrics, &evaluation)
            .and_then(|()| {
                view::render_baselines(&self.el.document, &self.el.baselines, &evaluation)
            });
        if let Err(err) = rendered {
            self.show_error(&err.to_string());
        }
        self.el
            .verdict
            .set_text_content(Some(&evaluation.verdict.sentence));
        self.el.fill_views(&evaluation.views);
        self.set_model(&meta, model);
        self.results = Some(Results {
            evaluation,
            meta,
            view: 0,
        });
        self.chart.reset_range();
        self.draw_charts();
    }

    /// Offers `model` for download under a name made from its dataset.
    fn set_model(&mut self, meta: &ModelMeta, model: Vec<u8>) {
        if let Some(url) = self.model_url.take() {
            let _ = Url::revoke_object_url(&url);
        }
        let url = dom::blob_of(&model, Some("application/octet-stream")).and_then(|blob| {
            Url::create_object_url_with_blob(&blob)
                .map_err(|err| WebError::js("preparing the download", &err))
        });
        match url {
            Ok(url) => {
                self.el.show_download(&url, &model_file_name(meta));
                self.model_url = Some(url);
            }
            Err(err) => self.show_error(&err.to_string()),
        }
        self.model = Some(model);
        self.revision += 1;
    }

    fn draw_charts(&self) {
        if self.task == Task::Rul {
            if let Err(err) = view::draw_loss(&self.el.loss_chart, &self.losses) {
                self.show_error(&err.to_string());
            }
            self.draw_rul();
            return;
        }
        let forecast = self
            .results
            .as_ref()
            .and_then(|results| results.evaluation.views.get(results.view))
            .cloned()
            .unwrap_or_else(|| ForecastView {
                title: "Train a model or load one to see its forecast".to_owned(),
                ..ForecastView::default()
            });
        let drawn = view::draw_loss(&self.el.loss_chart, &self.losses).and_then(|()| {
            view::draw_forecast_with(&self.el.forecast_chart, &forecast, &self.chart.options)
        });
        match drawn {
            Ok(layout) => self.chart.layout.set(Some(layout)),
            Err(err) => self.show_error(&err.to_string()),
        }
        if !self.chart.dragging() {
            let shown = self.results.as_ref().map(|_| &forecast);
            chart_ui::render_table(&self.chart_el, shown, &self.chart.options);
        }
        if let Some(results) = &self.results {
            log::trace!("drew view {} of {}", results.view, results.meta.dataset);
        }
    }
}

/// `ETTh2-OT.twinlab`: the dataset's stem and the targets, made safe for
/// file names.
fn model_file_name(meta: &ModelMeta) -> String {
    let stem = meta
        .dataset
        .rsplit_once('.')
        .map_or(meta.dataset.as_str(), |(stem, _)| stem);
    let name = format!("{stem}-{}", meta.target_channels.join("-"));
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{safe}.twinlab")
}
