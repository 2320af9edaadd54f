//! The live twin task: the page side. The session runs in a worker of its
//! own (the training worker stays free); this module sends it the source
//! and the user's commands and draws what it reports: the state badge, the
//! chart with the forecast ahead of now and the state strip, the event log.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{
    Document, Element, Event, HtmlButtonElement, HtmlCanvasElement, HtmlElement, HtmlInputElement,
    HtmlSelectElement, MessageEvent, Worker,
};

use crate::chart::live::{LiveView, StateSpan};
use crate::chart::{BandSegment, ForecastSegment, ForecastView, SeriesLabels};
use crate::live::{Ahead, ModelKind, Step};
use crate::project::TwinProject;
use crate::session::{OperatorAction, SessionConfig, SessionHistory};
use crate::twin::{
    Event as TwinEvent, EventLog, FaultKind, HealthState, SimChannel, SimConfig, TwinConfig,
};

use super::super::messages::{
    self, BlobFile, FromWorker, ToWorker, TwinCommand, TwinSource, TwinStartRequest, TwinUpdate,
};
use super::super::{WebError, dom, view};

/// Readings the chart shows.
const SHOWN: usize = 720;

/// Milliseconds between two redraws of the chart while streaming.
const DRAW_EVERY_MS: i32 = 150;

/// Event rows the table shows (newest first); the export has them all.
const EVENT_ROWS: usize = 200;

/// The NAB demo: data and labels.
const NAB_DATA: &str = "data/nab/machine_temperature_system_failure.csv";
const NAB_LABELS: &str = "data/nab/combined_windows.json";
const NAB_FILE: &str = "machine_temperature_system_failure.csv";

thread_local! {
    static PAGE: RefCell<Option<Rc<RefCell<TwinPage>>>> = const { RefCell::new(None) };
}

#[derive(Clone)]
struct TwinElements {
    document: Document,
    error: HtmlElement,
    source: HtmlSelectElement,
    model: HtmlSelectElement,
    state: HtmlElement,
    alarm: HtmlElement,
    limit: HtmlElement,
    play: HtmlButtonElement,
    pause: HtmlButtonElement,
    step: HtmlButtonElement,
    speed: HtmlSelectElement,
    scrubber: HtmlInputElement,
    position: HtmlElement,
    channel: HtmlSelectElement,
    chart: HtmlCanvasElement,
    faults: HtmlElement,
    fault_kind: HtmlSelectElement,
    fault_channel: HtmlSelectElement,
    fault_magnitude: HtmlInputElement,
    fault_duration: HtmlInputElement,
    inject: HtmlButtonElement,
    ack: HtmlButtonElement,
    maintenance_start: HtmlButtonElement,
    maintenance_finish: HtmlButtonElement,
    reset: HtmlInputElement,
    adapt: HtmlInputElement,
    note: HtmlElement,
    events: Element,
    config: Element,
    config_apply: HtmlButtonElement,
    export_csv: HtmlButtonElement,
    export_json: HtmlButtonElement,
}

impl TwinElements {
    fn find(document: &Document) -> Result<Self, WebError> {
        let by_id = |id| dom::by_id::<HtmlElement>(document, id);
        Ok(Self {
            document: document.clone(),
            error: by_id("twin-error")?,
            source: dom::by_id(document, "twin-source")?,
            model: dom::by_id(document, "twin-model")?,
            state: by_id("twin-state")?,
            alarm: by_id("twin-alarm")?,
            limit: by_id("twin-limit")?,
            play: dom::by_id(document, "twin-play")?,
            pause: dom::by_id(document, "twin-pause")?,
            step: dom::by_id(document, "twin-step")?,
            speed: dom::by_id(document, "twin-speed")?,
            scrubber: dom::by_id(document, "twin-scrubber")?,
            position: by_id("twin-position")?,
            channel: dom::by_id(document, "twin-channel")?,
            chart: dom::by_id(document, "twin-chart")?,
            faults: by_id("fault-controls")?,
            fault_kind: dom::by_id(document, "fault-kind")?,
            fault_channel: dom::by_id(document, "fault-channel")?,
            fault_magnitude: dom::by_id(document, "fault-magnitude")?,
            fault_duration: dom::by_id(document, "fault-duration")?,
            inject: dom::by_id(document, "fault-inject")?,
            ack: dom::by_id(document, "twin-ack")?,
            maintenance_start: dom::by_id(document, "twin-maintenance-start")?,
            maintenance_finish: dom::by_id(document, "twin-maintenance-finish")?,
            reset: dom::by_id(document, "twin-reset")?,
            adapt: dom::by_id(document, "twin-adapt")?,
            note: by_id("twin-note")?,
            events: dom::by_id(document, "twin-events")?,
            config: dom::by_id(document, "twin-config")?,
            config_apply: dom::by_id(document, "twin-config-apply")?,
            export_csv: dom::by_id(document, "twin-export-csv")?,
            export_json: dom::by_id(document, "twin-export-json")?,
        })
    }
}

/// The worker and the handlers that must live as long as it.
struct TwinWorker {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

/// A file the Forecast task loaded, for replay (the same bytes as the
/// task's, not a copy).
struct LoadedFile {
    file: BlobFile,
    max_bytes: usize,
    rows: usize,
}

struct TwinPage {
    el: TwinElements,
    worker: Option<TwinWorker>,
    ready: bool,
    /// A start request waiting for the worker to be ready.
    pending: Option<ToWorker>,
    /// Whether a session was asked for.
    started: bool,
    channels: Vec<String>,
    steps: VecDeque<Step>,
    spans: Vec<StateSpan>,
    events: Vec<TwinEvent>,
    ahead: Option<Ahead>,
    labels: Vec<(f64, f64)>,
    dataset: Option<LoadedFile>,
    /// Events in the table.
    events_shown: usize,
    /// A redraw is scheduled.
    draw_pending: bool,
    /// Settings the user applied, for the next sessions of this source.
    custom_config: Option<TwinConfig>,
    /// The running session, for the project.
    session: Option<Running>,
    /// Bumped by every update, so the project knows when to save.
    revision: u64,
}

/// A running session as the project keeps it, or a saved one to rebuild.
#[derive(Clone)]
struct Running {
    /// The settings it started with.
    config: SessionConfig,
    /// What it did since.
    history: SessionHistory,
    /// Whether it streams.
    playing: bool,
}

type Shared = Rc<RefCell<TwinPage>>;

/// Sets the twin task up; with `play` the simulator starts at once.
pub(super) fn install(play: bool) -> Result<(), WebError> {
    let document = dom::document()?;
    let page = Rc::new(RefCell::new(TwinPage {
        el: TwinElements::find(&document)?,
        worker: None,
        ready: false,
        pending: None,
        started: false,
        channels: Vec::new(),
        steps: VecDeque::new(),
        spans: Vec::new(),
        events: Vec::new(),
        ahead: None,
        labels: Vec::new(),
        dataset: None,
        events_shown: 0,
        draw_pending: false,
        custom_config: None,
        session: None,
        revision: 0,
    }));
    spawn_worker(&page)?;
    install_handlers(&page)?;
    PAGE.with(|cell| *cell.borrow_mut() = Some(Rc::clone(&page)));
    page.borrow().draw();
    if play {
        start(&page);
    }
    Ok(())
}

/// The twin task was chosen: start the simulator if nothing runs yet.
pub(super) fn shown() {
    if let Some(page) = PAGE.with(|cell| cell.borrow().clone()) {
        if page.borrow().started {
            page.borrow().draw();
        } else {
            start(&page);
        }
    }
}

/// The Forecast task loaded `name`: it can be replayed.
pub(super) fn dataset_loaded(file: BlobFile, max_bytes: usize, rows: usize) {
    if let Some(page) = PAGE.with(|cell| cell.borrow().clone()) {
        page.borrow_mut().dataset = Some(LoadedFile {
            file,
            max_bytes,
            rows,
        });
    }
}

fn spawn_worker(page: &Shared) -> Result<(), WebError> {
    let worker = messages::start_worker("starting the twin's worker", false)?;
    let weak = Rc::downgrade(page);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(page) = weak.upgrade() {
            on_message(&page, event.data());
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let mut page = page.borrow_mut();
    if let Some(old) = page.worker.take() {
        old.worker.terminate();
    }
    page.worker = Some(TwinWorker {
        worker,
        _on_message: on_message,
    });
    page.ready = false;
    Ok(())
}

fn on_message(page: &Shared, data: JsValue) {
    let message: FromWorker = match messages::decode(data) {
        Ok(message) => message,
        Err(err) => return page.borrow().show_error(&err.to_string()),
    };
    let mut restart = false;
    {
        let mut page = page.borrow_mut();
        match message {
            FromWorker::Ready => {
                page.ready = true;
                if let Some(pending) = page.pending.take() {
                    page.post(&pending);
                }
            }
            FromWorker::TwinUpdate { bytes } => match messages::decode_twin_update(&bytes) {
                Ok(update) => page.apply(update),
                Err(err) => page.show_error(&err.to_string()),
            },
            FromWorker::Failed { message, internal } => {
                page.show_error(&message);
                restart = internal;
            }
            _ => {}
        }
    }
    if restart {
        let _ = spawn_worker(page);
        page.borrow_mut().started = false;
    }
}

fn listen<T: AsRef<web_sys::EventTarget>>(
    page: &Shared,
    target: &T,
    event: &str,
    mut handler: impl FnMut(&Shared, &Event) + 'static,
) -> Result<(), WebError> {
    let shared = Rc::clone(page);
    dom::listen(target.as_ref(), event, move |event| {
        handler(&shared, &event);
    })
}

fn install_handlers(page: &Shared) -> Result<(), WebError> {
    let el = page.borrow().el.clone();
    listen(page, &el.source, "change", |page, _| {
        // Settings written for one asset do not fit another.
        page.borrow_mut().custom_config = None;
        start(page);
    })?;
    listen(page, &el.model, "change", |page, _| start(page))?;
    listen(page, &el.play, "click", |page, _| {
        command(page, TwinCommand::Play);
    })?;
    listen(page, &el.pause, "click", |page, _| {
        command(page, TwinCommand::Pause);
    })?;
    listen(page, &el.step, "click", |page, _| {
        command(page, TwinCommand::Step);
    })?;
    listen(page, &el.speed, "change", |page, _| {
        let factor = page.borrow().speed();
        // A session still waiting for the worker starts at the new speed.
        if let Some(ToWorker::TwinStart(request)) = page.borrow_mut().pending.as_mut() {
            request.speed = factor;
            return;
        }
        command(page, TwinCommand::Speed { factor });
    })?;
    listen(page, &el.scrubber, "change", |page, _| {
        let to = page
            .borrow()
            .el
            .scrubber
            .value()
            .parse::<u64>()
            .unwrap_or(0);
        command(page, TwinCommand::Seek { to });
    })?;
    listen(page, &el.channel, "change", |page, _| page.borrow().draw())?;
    listen(page, &el.inject, "click", |page, _| {
        let fault = page.borrow().read_fault();
        match fault {
            Ok((kind, duration)) => command(page, TwinCommand::Inject { kind, duration }),
            Err(err) => page.borrow().show_error(&err.to_string()),
        }
    })?;
    listen(page, &el.ack, "click", |page, _| {
        act(page, OperatorAction::Acknowledge);
    })?;
    listen(page, &el.maintenance_start, "click", |page, _| {
        act(page, OperatorAction::StartMaintenance);
    })?;
    listen(page, &el.maintenance_finish, "click", |page, _| {
        let reset_baseline = page.borrow().el.reset.checked();
        act(page, OperatorAction::FinishMaintenance { reset_baseline });
    })?;
    listen(page, &el.adapt, "change", |page, _| {
        let enabled = page.borrow().el.adapt.checked();
        act(page, OperatorAction::Adaptation { enabled });
    })?;
    listen(page, &el.config_apply, "click", |page, _| {
        let config = page.borrow().read_config();
        match config {
            Ok(config) => {
                page.borrow_mut().custom_config = Some(config);
                start(page);
            }
            Err(err) => page.borrow().show_error(&err.to_string()),
        }
    })?;
    listen(page, &el.export_csv, "click", |page, _| {
        page.borrow().export(false);
    })?;
    listen(page, &el.export_json, "click", |page, _| {
        page.borrow().export(true);
    })?;
    let window = dom::window()?;
    listen(page, &window, "resize", |page, _| page.borrow().draw())?;
    Ok(())
}

fn act(page: &Shared, action: OperatorAction) {
    command(page, TwinCommand::Act { action });
}

fn command(page: &Shared, command: TwinCommand) {
    let page = page.borrow();
    page.clear_error();
    page.post(&ToWorker::TwinControl { command });
}

/// Starts a session on the chosen source (fetching the NAB demo first).
fn start(page: &Shared) {
    start_with(page, None);
}

/// Starts a session on the chosen source, or rebuilds a saved one.
fn start_with(page: &Shared, resume: Option<Running>) {
    let source = page.borrow().el.source.value();
    page.borrow_mut().started = true;
    page.borrow().clear_error();
    match source.as_str() {
        "nab" => {
            let page = Rc::clone(page);
            wasm_bindgen_futures::spawn_local(async move {
                page.borrow()
                    .set_note("Loading the NAB machine temperature series…");
                match nab_source().await {
                    Ok(source) => send_start(&page, source, 2000, resume),
                    Err(err) => page.borrow().show_error(&err.to_string()),
                }
            });
        }
        "dataset" => {
            let source = page
                .borrow()
                .dataset
                .as_ref()
                .map(|loaded| TwinSource::Replay {
                    file: loaded.file.clone(),
                    channels: Vec::new(),
                    labels: Vec::new(),
                    max_bytes: loaded.max_bytes,
                });
            match source {
                Some(source) => {
                    let rows = page.borrow().dataset_rows();
                    send_start(page, source, (rows / 5).clamp(100, 2000), resume);
                }
                None => page.borrow().show_error(
                    "no data is loaded yet: load a file or a demo in the Forecast task first",
                ),
            }
        }
        _ => send_start(
            page,
            TwinSource::Simulator {
                config: SimConfig::default(),
            },
            720,
            resume,
        ),
    }
}

async fn nab_source() -> Result<TwinSource, WebError> {
    let data = dom::fetch_blob(NAB_DATA).await?;
    let json = dom::fetch_bytes(NAB_LABELS).await?;
    let text = String::from_utf8_lossy(&json);
    let labels = crate::detect::parse_windows(&text, NAB_FILE)
        .map_err(|err| WebError::Input(format!("the NAB label file: {err}")))?
        .into_iter()
        .map(|window| (window.start_secs, window.end_secs))
        .collect();
    Ok(TwinSource::Replay {
        file: BlobFile {
            name: NAB_FILE.to_owned(),
            data,
        },
        channels: Vec::new(),
        labels,
        // A demo shipped with the page.
        max_bytes: usize::MAX,
    })
}

/// The twin's part of the project, once a session runs.
pub(super) fn snapshot() -> Option<TwinProject> {
    let page = PAGE.with(|cell| cell.borrow().clone())?;
    let page = page.borrow();
    let running = page.session.clone()?;
    Some(TwinProject {
        source: page.el.source.value(),
        config: running.config,
        custom: page.custom_config.is_some(),
        speed: page.speed(),
        playing: running.playing,
        history: running.history,
        events: page.events.clone(),
    })
}

/// Counts the twin's updates: a new value means there is more to save.
pub(super) fn revision() -> u64 {
    PAGE.with(|cell| {
        cell.borrow()
            .as_ref()
            .map_or(0, |page| page.borrow().revision)
    })
}

/// Rebuilds a saved session: the same source, settings, faults and
/// operator actions, up to the same reading.
pub(super) fn restore(saved: TwinProject) {
    let Some(page) = PAGE.with(|cell| cell.borrow().clone()) else {
        return;
    };
    {
        let mut page = page.borrow_mut();
        let el = &page.el;
        el.source.set_value(&saved.source);
        if el.source.selected_index() < 0 {
            el.source.set_value("sim");
        }
        let model = match saved.config.live.model {
            ModelKind::Lstm => "lstm",
            ModelKind::LinearAr => "linear_ar",
        };
        el.model.set_value(model);
        // The box shows the last choice: the start's, or a later toggle.
        let adapting = saved
            .history
            .actions
            .iter()
            .rev()
            .find_map(|timed| match timed.action {
                OperatorAction::Adaptation { enabled } => Some(enabled),
                _ => None,
            })
            .unwrap_or(saved.config.live.adaptation.enabled);
        el.adapt.set_checked(adapting);
        el.speed.set_value(&saved.speed.to_string());
        if el.speed.selected_index() < 0 {
            el.speed.set_value("1000");
        }
        page.custom_config = saved.custom.then(|| saved.config.twin.clone()).flatten();
        page.events = saved.events;
        page.render_events();
        page.events_shown = page.events.len();
    }
    let resume = Running {
        config: saved.config,
        history: saved.history,
        playing: saved.playing,
    };
    start_with(&page, Some(resume));
}

fn send_start(page: &Shared, source: TwinSource, commissioning: usize, resume: Option<Running>) {
    let simulator = matches!(source, TwinSource::Simulator { .. });
    let mut page = page.borrow_mut();
    let mut config = SessionConfig {
        commissioning,
        ..SessionConfig::default()
    };
    config.live.adaptation.enabled = page.el.adapt.checked();
    config.live.model = if page.el.model.value() == "lstm" {
        ModelKind::Lstm
    } else {
        ModelKind::LinearAr
    };
    config.twin.clone_from(&page.custom_config);
    let (config, resume, playing) = match resume {
        Some(saved) => (saved.config, Some(saved.history), saved.playing),
        None => (config, None, true),
    };
    page.session = Some(Running {
        config: config.clone(),
        history: resume.clone().unwrap_or_default(),
        playing,
    });
    let request = ToWorker::TwinStart(Box::new(TwinStartRequest {
        source,
        config,
        speed: page.speed(),
        playing,
        resume,
    }));
    page.el.faults.set_hidden(!simulator);
    page.set_note("Commissioning: fitting the forecaster on the first readings…");
    if page.ready {
        page.post(&request);
    } else {
        page.pending = Some(request);
    }
}

impl TwinPage {
    fn post(&self, message: &ToWorker) {
        let posted = self.worker.as_ref().map_or(
            Err(WebError::Input(
                "the twin's worker is not running".to_owned(),
            )),
            |handle| messages::post_to(&handle.worker, message),
        );
        if let Err(err) = posted {
            self.show_error(&err.to_string());
        }
    }

    fn show_error(&self, message: &str) {
        self.el.error.set_text_content(Some(message));
        self.el.error.set_hidden(false);
    }

    fn clear_error(&self) {
        self.el.error.set_hidden(true);
    }

    fn set_note(&self, note: &str) {
        self.el.note.set_text_content(Some(note));
    }

    fn speed(&self) -> f64 {
        self.el.speed.value().parse().unwrap_or(1000.0)
    }

    fn dataset_rows(&self) -> usize {
        self.dataset.as_ref().map_or(0, |file| file.rows)
    }

    /// The settings in the JSON editor, checked: they must parse, fit
    /// together and name as many channels as the running twin has.
    fn read_config(&self) -> Result<TwinConfig, WebError> {
        let text = js_sys::Reflect::get(&self.el.config, &JsValue::from_str("value"))
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default();
        let config: TwinConfig = serde_json::from_str(&text).map_err(|err| {
            WebError::Input(format!(
                "the twin settings are not valid: {err} (nothing was changed)"
            ))
        })?;
        config.validate().map_err(|err| {
            WebError::Input(format!(
                "the twin settings do not fit together: {err} (nothing was changed)"
            ))
        })?;
        if config.channels.len() != self.channels.len() {
            return Err(WebError::Input(format!(
                "the twin settings name {} channel(s) but the asset has {} ({}); nothing was \
                 changed",
                config.channels.len(),
                self.channels.len(),
                self.channels.join(", ")
            )));
        }
        Ok(config)
    }

    /// The fault the fault controls describe.
    fn read_fault(&self) -> Result<(FaultKind, u64), WebError> {
        let channel_name = self.el.fault_channel.value();
        let channel = SimChannel::ALL
            .iter()
            .copied()
            .find(|channel| channel.name() == channel_name)
            .ok_or_else(|| WebError::Input(format!("no simulator channel `{channel_name}`")))?;
        let magnitude: f64 = self
            .el
            .fault_magnitude
            .value()
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| WebError::Input("the fault's size must be a number".to_owned()))?;
        let duration: u64 = self
            .el
            .fault_duration
            .value()
            .trim()
            .parse()
            .ok()
            .filter(|&d| d >= 1)
            .ok_or_else(|| {
                WebError::Input("the fault lasts a whole number of readings, at least 1".to_owned())
            })?;
        let kind = match self.el.fault_kind.value().as_str() {
            "spike" => FaultKind::Spike { channel, magnitude },
            "stuck" => FaultKind::Stuck { channel },
            "noise_burst" => FaultKind::NoiseBurst {
                channel,
                factor: magnitude.abs().max(1.0),
            },
            "dropout" => FaultKind::Dropout { channel },
            "load_change" => FaultKind::LoadChange {
                load_pct: magnitude.clamp(0.0, 100.0),
            },
            "sudden_failure" => FaultKind::SuddenFailure,
            _ => FaultKind::Drift {
                channel,
                rate_per_hour: magnitude,
            },
        };
        Ok((kind, duration))
    }

    /// Takes in what the worker reports and shows it.
    fn apply(&mut self, update: TwinUpdate) {
        self.revision += 1;
        if let Some(running) = self.session.as_mut() {
            running.history.clone_from(&update.history);
            running.playing = update.playing;
        }
        if update.reset {
            self.steps.clear();
            self.spans.clear();
            self.events.clear();
        }
        if update.channels != self.channels {
            self.channels.clone_from(&update.channels);
            self.fill_channels();
        }
        self.labels.clone_from(&update.labels);
        if let Some(config) = &update.twin_config {
            let text = serde_json::to_string_pretty(config).unwrap_or_default();
            let _ = js_sys::Reflect::set(
                &self.el.config,
                &JsValue::from_str("value"),
                &JsValue::from_str(&text),
            );
        }
        let reset = update.reset;
        for step in update.steps {
            if !reset {
                self.events.extend(step.events.iter().cloned());
            }
            self.extend_spans(step.reading.time_secs, step.state);
            self.steps.push_back(step);
            if self.steps.len() > SHOWN {
                self.steps.pop_front();
            }
        }
        self.events.extend(update.events);
        self.ahead = update.ahead;

        let state = update.state;
        self.el.state.set_text_content(Some(state_words(state)));
        self.el
            .state
            .set_class_name(&format!("state-badge state-{}", state_key(state)));
        self.el
            .alarm
            .set_text_content(Some(&format!("alarm: {}", alarm_words(update.alarm))));
        let limit = update.time_to_limit.map_or_else(String::new, |limit| {
            format!(
                "{} reaches {} in about {} (earliest {})",
                limit.channel,
                view::format_metric(limit.limit),
                hours(limit.secs),
                hours(limit.lower_secs)
            )
        });
        self.el.limit.set_text_content(Some(&limit));
        let total = update.total.unwrap_or(update.position);
        self.el.scrubber.set_max(&total.to_string());
        self.el.scrubber.set_value(&update.position.to_string());
        let position = match update.total {
            Some(total) => format!("{} of {total}", update.position),
            None => format!("{} streamed", update.position),
        };
        self.el.position.set_text_content(Some(&format!(
            "{position} · {} · {} adaptation(s)",
            if update.playing { "playing" } else { "paused" },
            update.adaptations
        )));
        self.el.play.set_disabled(update.playing);
        self.el.pause.set_disabled(!update.playing);
        if let Some(note) = &update.note {
            self.set_note(note);
        } else if update.reset {
            self.set_note("");
        }
        if self.events.len() != self.events_shown || update.reset {
            self.render_events();
            self.events_shown = self.events.len();
        }
        self.schedule_draw();
    }

    /// Redraws the chart soon, once however many updates arrive meanwhile:
    /// at high speed the worker reports faster than a chart is worth
    /// redrawing.
    fn schedule_draw(&mut self) {
        if self.draw_pending {
            return;
        }
        self.draw_pending = true;
        wasm_bindgen_futures::spawn_local(async {
            dom::sleep(DRAW_EVERY_MS).await;
            if let Some(page) = PAGE.with(|cell| cell.borrow().clone()) {
                page.borrow_mut().draw_pending = false;
                page.borrow().draw();
            }
        });
    }

    fn extend_spans(&mut self, time: f64, state: HealthState) {
        let key = state_key(state);
        match self.spans.last_mut() {
            Some(last) if last.state == key => last.end_secs = time,
            Some(last) => {
                last.end_secs = time;
                self.spans.push(StateSpan {
                    start_secs: time,
                    end_secs: time,
                    state: key.to_owned(),
                });
            }
            None => self.spans.push(StateSpan {
                start_secs: time,
                end_secs: time,
                state: key.to_owned(),
            }),
        }
    }

    fn fill_channels(&self) {
        dom::clear(&self.el.channel);
        for name in &self.channels {
            if let Ok(option) = dom::element_with_text(&self.el.document, "option", name) {
                let _ = option.set_attribute("value", name);
                let _ = dom::append(&self.el.channel, &option);
            }
        }
        // The simulator's vibration shows wear best.
        if self.channels.iter().any(|c| c == "vibration_mm_s") {
            self.el.channel.set_value("vibration_mm_s");
        }
    }

    fn render_events(&self) {
        let table = &self.el.events;
        dom::clear(table);
        let header = ["Time (UTC)", "From", "To", "Alarm", "Why"].map(str::to_owned);
        if let Ok(row) = view::table_row(&self.el.document, &header, true) {
            let _ = dom::append(table, &row);
        }
        for event in self.events.iter().rev().take(EVENT_ROWS) {
            let cells = [
                crate::chart::format_time(event.time_secs),
                state_words(event.from).to_owned(),
                state_words(event.to).to_owned(),
                alarm_words(event.alarm_to).to_owned(),
                event.reason.clone(),
            ];
            if let Ok(row) = view::table_row(&self.el.document, &cells, false) {
                row.set_class_name(&format!("state-{}", state_key(event.to)));
                let _ = dom::append(table, &row);
            }
        }
    }

    /// Offers the whole event log for download as CSV or JSON.
    fn export(&self, json: bool) {
        let mut log = EventLog::new();
        log.extend(self.events.iter().cloned());
        let (bytes, kind, name) = if json {
            (
                log.to_json().map(String::into_bytes),
                "application/json",
                "twin-events.json",
            )
        } else {
            (log.to_csv(), "text/csv", "twin-events.csv")
        };
        let offered = bytes
            .map_err(|err| WebError::Input(format!("the event log could not be written: {err}")))
            .and_then(|bytes| dom::blob_of(&bytes, Some(kind)))
            .and_then(|blob| super::super::chart::download(&self.el.document, &blob, name));
        if let Err(err) = offered {
            self.show_error(&err.to_string());
        }
    }

    fn draw(&self) {
        let channel = self.el.channel.selected_index().max(0) as usize;
        let live = self.live_view(channel);
        if let Err(err) = view::draw_live(&self.el.chart, &live) {
            self.show_error(&err.to_string());
        }
    }

    /// The chart of `channel`: its readings, the forecast made for each and
    /// the path ahead with its band.
    fn live_view(&self, channel: usize) -> LiveView {
        let name = self.channels.get(channel).cloned().unwrap_or_default();
        let times: Vec<f64> = self.steps.iter().map(|s| s.reading.time_secs).collect();
        let value = |values: &[f64]| values.get(channel).map_or(f32::NAN, |&v| v as f32);
        let actual = self
            .steps
            .iter()
            .map(|s| value(&s.reading.values))
            .collect();
        let predicted = ForecastSegment {
            time_secs: times.clone(),
            values: self
                .steps
                .iter()
                .map(|s| s.predicted.as_deref().map_or(f32::NAN, value))
                .collect(),
        };
        let mut forecasts = vec![predicted];
        let mut bands = Vec::new();
        if let Some(ahead) = &self.ahead {
            let ahead_times: Vec<f64> = (1..=ahead.values.len())
                .map(|k| ahead.made_at_secs + k as f64 * ahead.step_secs)
                .collect();
            forecasts.push(ForecastSegment {
                time_secs: ahead_times.clone(),
                values: ahead.values.iter().map(|v| value(v)).collect(),
            });
            bands.push(BandSegment {
                time_secs: ahead_times,
                lower: ahead.lower.iter().map(|v| value(v)).collect(),
                upper: ahead.upper.iter().map(|v| value(v)).collect(),
            });
        }
        let start = times.first().copied().unwrap_or(0.0);
        LiveView {
            forecast: ForecastView {
                title: String::new(),
                channel: name,
                time_is_datetime: true,
                time_secs: times.clone(),
                actual,
                forecasts,
                baseline: None,
                bands,
                labels: SeriesLabels {
                    forecast: "forecast".to_owned(),
                    band: "band (90%)".to_owned(),
                    ..SeriesLabels::default()
                },
            },
            states: self
                .spans
                .iter()
                .filter(|span| span.end_secs >= start)
                .cloned()
                .collect(),
            labels: self.labels.clone(),
            now_secs: times.last().copied(),
        }
    }
}

fn hours(secs: f64) -> String {
    if secs < 3600.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

fn state_key(state: HealthState) -> &'static str {
    match state {
        HealthState::Commissioning => "commissioning",
        HealthState::Healthy => "healthy",
        HealthState::Watch => "watch",
        HealthState::Warning => "warning",
        HealthState::Critical => "critical",
        HealthState::Failed => "failed",
        HealthState::Maintenance => "maintenance",
        HealthState::SensorFault => "sensor_fault",
    }
}

fn state_words(state: HealthState) -> &'static str {
    match state {
        HealthState::Commissioning => "Commissioning",
        HealthState::Healthy => "Healthy",
        HealthState::Watch => "Watch",
        HealthState::Warning => "Warning",
        HealthState::Critical => "Critical",
        HealthState::Failed => "Failed",
        HealthState::Maintenance => "Maintenance",
        HealthState::SensorFault => "Sensor fault",
    }
}

fn alarm_words(alarm: crate::twin::AlarmState) -> &'static str {
    use crate::twin::AlarmState;
    match alarm {
        AlarmState::Normal => "none",
        AlarmState::ActiveUnacked => "active, unacknowledged",
        AlarmState::ActiveAcked => "active, acknowledged",
        AlarmState::ClearedUnacked => "cleared, unacknowledged",
    }
}
