//! The page's remaining-useful-life task: the fleet files (training fleet,
//! test fleet, true RUL), the RUL setup, its worker jobs and the fleet view.
//!
//! As for channel forecasting, a new file is parsed before it replaces
//! anything, so a bad file only fills the error box.

use std::rc::Rc;

use web_sys::File;

use crate::artifact::ModelMeta;
use crate::ingest::{self, FleetColumns, IngestOptions, IngestedFleet};
use crate::project::{DataFile, DataSource, FleetFiles};
use crate::rul::{RulEvaluation, RulSetup};

use super::super::messages::{
    NamedFile, RulEvaluated, RulLoadRequest, RulTrainRequest, RulTrained, ToWorker,
};
use super::super::{WebError, dom, view};
use super::{App, Job, Shared, Task};

/// The built-in fleet: NASA's C-MAPSS FD001, shipped unmodified.
pub(super) struct FleetDemo {
    /// The `value` of its `<option>` and of its credit's `data-demo`.
    pub key: &'static str,
    train: (&'static str, &'static str),
    test: (&'static str, &'static str),
    rul: (&'static str, &'static str),
}

/// The one fleet demo: (file name, URL relative to the page) of each file.
pub(super) const FLEET_DEMO: FleetDemo = FleetDemo {
    key: "fd001",
    train: ("train_FD001.txt", "data/cmapss/train_FD001.txt"),
    test: ("test_FD001.txt", "data/cmapss/test_FD001.txt"),
    rul: ("RUL_FD001.txt", "data/cmapss/RUL_FD001.txt"),
};

/// A fleet file on show.
pub(super) struct LoadedFleet {
    name: String,
    bytes: Vec<u8>,
    ingested: IngestedFleet,
}

impl LoadedFleet {
    fn file(&self) -> NamedFile {
        NamedFile {
            name: self.name.clone(),
            bytes: self.bytes.clone().into(),
        }
    }
}

/// A file of true RUL values on show.
pub(super) struct TrueRul {
    name: String,
    bytes: Vec<u8>,
    count: usize,
}

/// Which fleet a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FleetRole {
    /// The run-to-failure fleet to train on.
    Train,
    /// The fleet to predict.
    Test,
}

/// The fleet files of the RUL task.
#[derive(Default)]
pub(super) struct FleetState {
    train: Option<LoadedFleet>,
    test: Option<LoadedFleet>,
    true_rul: Option<TrueRul>,
    /// Whether the files are the shipped demo (no size limit applies).
    demo: bool,
}

/// The last RUL model and its predictions.
pub(super) struct RulResults {
    evaluation: Option<RulEvaluation>,
    meta: ModelMeta,
    /// Index into `evaluation.units` of the unit on the chart.
    unit: usize,
}

fn parse_fleet(name: &str, bytes: &[u8], max_bytes: usize) -> Result<IngestedFleet, WebError> {
    let options = IngestOptions {
        max_bytes,
        ..IngestOptions::default()
    };
    ingest::parse_fleet(name, bytes, &FleetColumns::default(), &options).map_err(|source| {
        WebError::Ingest {
            name: name.to_owned(),
            source,
        }
    })
}

fn parse_true_rul(name: &str, bytes: &[u8], max_bytes: usize) -> Result<usize, WebError> {
    let options = IngestOptions {
        max_bytes,
        ..IngestOptions::default()
    };
    ingest::parse_rul_values(bytes, &options)
        .map(|values| values.len())
        .map_err(|source| WebError::Ingest {
            name: name.to_owned(),
            source,
        })
}

/// Loads the three files of the fleet demo and switches to the RUL task.
pub(super) async fn load_fleet_demo(app: Shared) {
    app.borrow()
        .set_status("Loading the NASA turbofan demo (FD001)…");
    let demo = &FLEET_DEMO;
    let mut fetched = Vec::new();
    for (name, url) in [demo.train, demo.test, demo.rul] {
        match dom::fetch_bytes(url).await {
            Ok(bytes) => fetched.push((name.to_owned(), bytes)),
            Err(err) => return app.borrow().reject(&err),
        }
    }
    let parsed = (|| {
        let mut files = fetched.into_iter();
        let mut next = || {
            files
                .next()
                .ok_or(WebError::Input("a demo file is missing".into()))
        };
        let (train_name, train_bytes) = next()?;
        let (test_name, test_bytes) = next()?;
        let (rul_name, rul_bytes) = next()?;
        let train = parse_fleet(&train_name, &train_bytes, usize::MAX)?;
        let test = parse_fleet(&test_name, &test_bytes, usize::MAX)?;
        let count = parse_true_rul(&rul_name, &rul_bytes, usize::MAX)?;
        Ok::<_, WebError>(FleetState {
            train: Some(LoadedFleet {
                name: train_name,
                bytes: train_bytes,
                ingested: train,
            }),
            test: Some(LoadedFleet {
                name: test_name,
                bytes: test_bytes,
                ingested: test,
            }),
            true_rul: Some(TrueRul {
                name: rul_name,
                bytes: rul_bytes,
                count,
            }),
            demo: true,
        })
    })();
    match parsed {
        Ok(state) => {
            let mut app = app.borrow_mut();
            app.fleet = state;
            app.rul_results = None;
            app.set_task(Task::Rul);
            app.fleet_changed(true);
        }
        Err(err) => app.borrow().reject(&err),
    }
}

/// The fleet files of a saved project, read and checked; `None` when the
/// project has none.
pub(super) async fn read_fleet_files(files: &FleetFiles) -> Result<Option<FleetState>, WebError> {
    async fn bytes_of(file: &DataFile) -> Result<Option<Vec<u8>>, WebError> {
        match &file.source {
            DataSource::Embedded { bytes } => Ok(Some(bytes.to_vec())),
            DataSource::Demo { .. } => {
                let demo = &FLEET_DEMO;
                let url = [demo.train, demo.test, demo.rul]
                    .into_iter()
                    .find(|(name, _)| *name == file.name)
                    .map(|(_, url)| url)
                    .ok_or_else(|| {
                        WebError::Input(format!("the project names no demo file `{}`", file.name))
                    })?;
                dom::fetch_bytes(url).await.map(Some)
            }
            // The page keeps fleet files inside its saves.
            DataSource::Omitted { .. } | DataSource::Browser { .. } => Ok(None),
        }
    }
    let demo = [&files.train, &files.test, &files.true_rul]
        .into_iter()
        .flatten()
        .any(|file| matches!(file.source, DataSource::Demo { .. }));
    let mut state = FleetState {
        demo,
        ..FleetState::default()
    };
    for (file, role) in [
        (&files.train, FleetRole::Train),
        (&files.test, FleetRole::Test),
    ] {
        let Some(file) = file else { continue };
        let Some(bytes) = bytes_of(file).await? else {
            continue;
        };
        let ingested = parse_fleet(&file.name, &bytes, usize::MAX)?;
        let loaded = LoadedFleet {
            name: file.name.clone(),
            bytes,
            ingested,
        };
        match role {
            FleetRole::Train => state.train = Some(loaded),
            FleetRole::Test => state.test = Some(loaded),
        }
    }
    if let Some(file) = &files.true_rul
        && let Some(bytes) = bytes_of(file).await?
    {
        let count = parse_true_rul(&file.name, &bytes, usize::MAX)?;
        state.true_rul = Some(TrueRul {
            name: file.name.clone(),
            bytes,
            count,
        });
    }
    let any = state.train.is_some() || state.test.is_some() || state.true_rul.is_some();
    Ok(any.then_some(state))
}

/// Reads a training or test fleet file chosen by the user.
pub(super) async fn load_fleet_file(app: Shared, file: File, role: FleetRole) {
    let Some(bytes) = read_checked_with_status(&app, &file).await else {
        return;
    };
    let name = file.name();
    let max_bytes = app.borrow().max_bytes;
    match parse_fleet(&name, &bytes, max_bytes) {
        Ok(ingested) => {
            let mut app = app.borrow_mut();
            let loaded = LoadedFleet {
                name,
                bytes,
                ingested,
            };
            app.fleet.demo = false;
            match role {
                FleetRole::Train => app.fleet.train = Some(loaded),
                FleetRole::Test => app.fleet.test = Some(loaded),
            }
            app.rul_results = None;
            app.fleet_changed(role == FleetRole::Train);
        }
        Err(err) => app.borrow().reject(&err),
    }
}

/// Reads a file of true RUL values chosen by the user.
pub(super) async fn load_true_rul(app: Shared, file: File) {
    let Some(bytes) = read_checked_with_status(&app, &file).await else {
        return;
    };
    let name = file.name();
    let max_bytes = app.borrow().max_bytes;
    match parse_true_rul(&name, &bytes, max_bytes) {
        Ok(count) => {
            let mut app = app.borrow_mut();
            app.fleet.demo = false;
            app.fleet.true_rul = Some(TrueRul { name, bytes, count });
            app.fleet_changed(false);
        }
        Err(err) => app.borrow().reject(&err),
    }
}

/// The bytes of `file` (see [`super::read_checked`]), saying first that it
/// is being read.
async fn read_checked_with_status(app: &Shared, file: &File) -> Option<Vec<u8>> {
    app.borrow()
        .set_status(&format!("Reading {}…", file.name()));
    super::read_checked(app, file).await
}

/// Sends the RUL training job to the worker.
pub(super) fn start_training(app: &Shared) {
    let mut app = app.borrow_mut();
    match app.rul_train_request() {
        Ok(request) => {
            let epochs = request.setup.training.epochs;
            app.clear_error();
            app.post_job(ToWorker::TrainRul(Box::new(request)));
            app.begin_training();
            app.set_status(&format!(
                "Training the RUL model for up to {epochs} epochs…"
            ));
        }
        Err(err) => app.reject(&err),
    }
}

/// Sends a RUL model file to the worker to predict the test fleet.
pub(super) fn load_model(app: &mut App, model: Vec<u8>, name: &str) {
    let request = app.rul_load_request(&model);
    match request {
        Ok(request) => {
            app.clear_error();
            app.post_job(ToWorker::LoadRulModel(Box::new(request)));
            app.job = Job::LoadingModel(model);
            app.set_busy(true);
            app.set_status(&format!("Loading the RUL model {name}…"));
        }
        Err(err) => app.reject(&err),
    }
}

impl App {
    fn fleet_limit(&self) -> usize {
        if self.fleet.demo {
            usize::MAX
        } else {
            self.max_bytes
        }
    }

    fn rul_train_request(&self) -> Result<RulTrainRequest, WebError> {
        let train = self.fleet.train.as_ref().ok_or_else(|| {
            WebError::Input("load a training fleet (a run-to-failure file) first".to_owned())
        })?;
        self.check_worker()?;
        Ok(RulTrainRequest {
            train: train.file(),
            test: self.fleet.test.as_ref().map(LoadedFleet::file),
            true_rul: self.fleet.true_rul.as_ref().map(|t| t.bytes.clone().into()),
            max_bytes: self.fleet_limit(),
            setup: self.el.read_rul_setup(&train.ingested.fleet)?,
            backend: self.el.backend_choice(),
        })
    }

    fn rul_load_request(&self, model: &[u8]) -> Result<RulLoadRequest, WebError> {
        let test = self
            .fleet
            .test
            .as_ref()
            .or(self.fleet.train.as_ref())
            .ok_or_else(|| {
                WebError::Input("load a fleet to predict before loading a RUL model".to_owned())
            })?;
        self.check_worker()?;
        let true_rul = self
            .fleet
            .test
            .as_ref()
            .and(self.fleet.true_rul.as_ref())
            .map(|t| t.bytes.clone().into());
        Ok(RulLoadRequest {
            model: model.to_vec().into(),
            test: test.file(),
            true_rul,
            max_bytes: self.fleet_limit(),
            backend: self.el.backend_choice(),
        })
    }

    /// The fleet files on show, for the project.
    pub(super) fn fleet_files(&self) -> FleetFiles {
        let demo = self.fleet.demo;
        let file = |name: &str, bytes: &[u8]| {
            if demo {
                DataFile::demo(name, FLEET_DEMO.key)
            } else {
                DataFile::keep(name, bytes)
            }
        };
        FleetFiles {
            train: self.fleet.train.as_ref().map(|f| file(&f.name, &f.bytes)),
            test: self.fleet.test.as_ref().map(|f| file(&f.name, &f.bytes)),
            true_rul: self
                .fleet
                .true_rul
                .as_ref()
                .map(|f| file(&f.name, &f.bytes)),
        }
    }

    /// Shows a restored fleet.
    pub(super) fn set_fleet(&mut self, fleet: FleetState) {
        self.fleet = fleet;
        self.rul_results = None;
        self.fleet_changed(true);
    }

    /// Points the demo selector back at the fleet on show; whether one is.
    pub(super) fn restore_fleet_source(&self) -> bool {
        self.el.show_fleet_source(
            self.fleet.demo,
            self.fleet.train.as_ref().map(|t| t.name.as_str()),
        );
        self.fleet.train.is_some() || self.fleet.test.is_some()
    }

    /// Redraws the fleet report and, when the training fleet changed, the
    /// RUL setup form.
    pub(super) fn fleet_changed(&mut self, refill_setup: bool) {
        self.clear_error();
        self.revision += 1;
        let mut reports = Vec::new();
        if let Some(train) = &self.fleet.train {
            reports.push((
                format!("Training fleet: {}", train.name),
                train.ingested.report.clone(),
            ));
            if refill_setup {
                let fleet = &train.ingested.fleet;
                self.el.fill_rul_setup(fleet, &RulSetup::suggest(fleet));
            }
        }
        if let Some(test) = &self.fleet.test {
            reports.push((
                format!("Test fleet: {}", test.name),
                test.ingested.report.clone(),
            ));
        }
        let true_rul = self
            .fleet
            .true_rul
            .as_ref()
            .map(|t| (t.name.as_str(), t.count));
        if let Err(err) =
            view::render_fleet_report(&self.el.document, &self.el.report, &reports, true_rul)
        {
            self.show_error(&err.to_string());
        }
        self.restore_fleet_source();
        let status = match (&self.fleet.train, &self.fleet.test) {
            (Some(train), _) => format!(
                "Loaded the fleet {} ({} units). Choose the sensors and press Train.",
                train.name, train.ingested.report.units
            ),
            (None, Some(test)) => format!(
                "Loaded the fleet {}; load a training fleet, or a RUL model to predict it.",
                test.name
            ),
            (None, None) => "Load a fleet file: one row per unit and cycle.".to_owned(),
        };
        self.set_status(&status);
        self.draw_rul();
    }

    pub(super) fn on_rul_trained(&mut self, trained: RulTrained) {
        let history = &trained.meta.history;
        let kept = history
            .best_epoch
            .map_or("the starting weights".to_owned(), |best| {
                format!("epoch {}", best + 1)
            });
        self.el.progress.set_value(self.el.progress.max());
        self.set_status(&format!(
            "Trained the RUL model in {:.0} s over {} epoch(s); kept {kept}. Ran on {}.",
            trained.train_seconds,
            history.train_loss.len(),
            trained.backend.label
        ));
        self.el
            .backend_label
            .set_text_content(Some(&trained.backend.describe()));
        self.show_rul_results(trained.evaluation, trained.meta, trained.model.into_vec());
    }

    pub(super) fn on_rul_evaluated(&mut self, evaluated: RulEvaluated) {
        let model = match std::mem::replace(&mut self.job, Job::Idle) {
            Job::LoadingModel(model) => model,
            _ => Vec::new(),
        };
        self.set_status(&format!(
            "Loaded a RUL model trained on {} and predicted {} unit(s). Ran on {}.",
            evaluated.meta.dataset,
            evaluated.evaluation.units.len(),
            evaluated.backend.label
        ));
        self.el
            .backend_label
            .set_text_content(Some(&evaluated.backend.describe()));
        self.show_rul_results(Some(evaluated.evaluation), evaluated.meta, model);
    }

    fn show_rul_results(
        &mut self,
        evaluation: Option<RulEvaluation>,
        meta: ModelMeta,
        model: Vec<u8>,
    ) {
        self.job = Job::Idle;
        self.set_busy(false);
        self.losses = crate::chart::LossView {
            train: meta.history.train_loss.clone(),
            validation: meta.history.validation_loss.clone(),
            best_epoch: meta.history.best_epoch,
        };
        // The most urgent unit first on the chart.
        let unit = evaluation
            .as_ref()
            .and_then(|e| {
                let first = e.ranking().first().map(|r| r.unit)?;
                e.units.iter().position(|u| u.unit == first)
            })
            .unwrap_or(0);
        self.set_model(&meta, model);
        self.rul_results = Some(RulResults {
            evaluation,
            meta,
            unit,
        });
        self.render_rul_tables();
        self.draw_charts();
    }

    /// Shows unit `index` of the predictions on the chart.
    pub(super) fn select_unit(&mut self, index: usize) {
        if let Some(results) = self.rul_results.as_mut()
            && results
                .evaluation
                .as_ref()
                .is_some_and(|e| index < e.units.len())
        {
            results.unit = index;
            self.render_rul_tables();
            self.draw_rul();
        }
    }

    fn render_rul_tables(&self) {
        let el = &self.el;
        let rendered = if let Some(RulResults {
            evaluation: Some(evaluation),
            meta,
            unit,
        }) = &self.rul_results
        {
            view::render_rul_metrics(&el.document, &el.rul_metrics, evaluation, meta)
                .and_then(|()| {
                    view::render_fleet_ranking(&el.document, &el.rul_fleet, evaluation, *unit)
                })
                .map(|()| el.fill_units(&evaluation.units, *unit))
        } else {
            dom::clear(&el.rul_metrics);
            dom::clear(&el.rul_fleet);
            el.fill_units(&[], 0);
            Ok(())
        };
        if let Err(err) = rendered {
            self.show_error(&err.to_string());
        }
    }

    /// Draws the chart of the selected unit, or an empty one.
    pub(super) fn draw_rul(&self) {
        let view = self
            .rul_results
            .as_ref()
            .and_then(|results| {
                let rul = results.meta.rul.as_ref()?;
                let unit = results.evaluation.as_ref()?.units.get(results.unit)?;
                Some(unit.view(rul))
            })
            .unwrap_or_else(|| crate::chart::ForecastView {
                title: "Train a RUL model or load one to see a unit's remaining life".to_owned(),
                ..crate::chart::ForecastView::default()
            });
        if let Err(err) = view::draw_forecast(&self.el.rul_chart, &view) {
            self.show_error(&err.to_string());
        }
    }
}

/// Installs the handlers of the RUL task's inputs.
pub(super) fn install_handlers(app: &Shared) -> Result<(), WebError> {
    let el = app.borrow().el.clone();

    let shared = Rc::clone(app);
    dom::listen(&el.test_fleet_input, "change", move |event| {
        if let Some(file) = super::first_file(&event) {
            wasm_bindgen_futures::spawn_local(load_fleet_file(
                Rc::clone(&shared),
                file,
                FleetRole::Test,
            ));
        }
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.rul_file_input, "change", move |event| {
        if let Some(file) = super::first_file(&event) {
            wasm_bindgen_futures::spawn_local(load_true_rul(Rc::clone(&shared), file));
        }
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.rul_unit_select, "change", move |_| {
        let index = shared.borrow().el.rul_unit_select.selected_index().max(0) as usize;
        shared.borrow_mut().select_unit(index);
    })?;

    // A click on a row of the fleet table shows that unit.
    let shared = Rc::clone(app);
    dom::listen(&el.rul_fleet, "click", move |event| {
        let index = event
            .target()
            .and_then(|target| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(target).ok())
            .and_then(|target| target.closest("[data-unit-index]").ok().flatten())
            .and_then(|row| row.get_attribute("data-unit-index"))
            .and_then(|text| text.parse::<usize>().ok());
        if let Some(index) = index {
            shared.borrow_mut().select_unit(index);
        }
    })?;
    Ok(())
}
