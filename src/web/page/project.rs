//! The project: the user's work kept in the browser and put back when the
//! page opens again, exported as one file and imported from one.
//!
//! The page saves a few seconds after anything changed (the data, the
//! setup form, a model, the twin's updates), never before the saved
//! project was restored, so a reload cannot overwrite it with an empty
//! page. An import is checked whole before anything changes: the file
//! itself ([`Project::decode`], embedded models included), then its fleet
//! files, then its series (read by the worker); only then does it replace
//! what is on show.

use std::rc::Rc;

use serde_bytes::ByteBuf;
use wasm_bindgen::JsCast;
use web_sys::{Document, HtmlButtonElement, HtmlInputElement};

use crate::artifact;
use crate::pipeline::Setup;
use crate::project::{self, DataFile, DataSource, Project};

use super::super::elements::{Demo, Elements};
use super::super::messages::BlobFile;
use super::super::{WebError, dom, store};
use super::{App, Job, Shared, Task, rul, twin};

/// Milliseconds between two looks at whether there is something to save.
const SAVE_EVERY_MS: i32 = 2_000;

/// What a restore still has to do once the series is read.
#[derive(Default)]
pub(super) struct RestorePlan {
    /// Column roles and settings for the series.
    pub(super) setup: Option<Setup>,
    /// A forecast model to score on the series.
    pub(super) model: Option<Vec<u8>>,
}

#[derive(Clone)]
struct ProjectElements {
    export: HtmlButtonElement,
    import: HtmlInputElement,
    new: HtmlButtonElement,
}

impl ProjectElements {
    fn find(document: &Document) -> Result<Self, WebError> {
        Ok(Self {
            export: dom::by_id(document, "project-export")?,
            import: dom::by_id(document, "project-input")?,
            new: dom::by_id(document, "project-new")?,
        })
    }
}

fn note(text: &str) {
    let element = dom::document()
        .ok()
        .and_then(|document| document.get_element_by_id("project-status"));
    if let Some(element) = element {
        element.set_text_content(Some(text));
    }
}

/// Wires the project buttons.
pub(super) fn install(app: &Shared) -> Result<(), WebError> {
    let el = ProjectElements::find(&dom::document()?)?;

    let shared = Rc::clone(app);
    dom::listen(&el.export, "click", move |_| {
        wasm_bindgen_futures::spawn_local(export(Rc::clone(&shared)));
    })?;

    // The setup form is part of the project.
    let shared = Rc::clone(app);
    let form = shared.borrow().el.setup_form.clone();
    dom::listen(&form, "change", move |_| {
        shared.borrow_mut().revision += 1;
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.import, "change", move |event| {
        if let Some(file) = super::first_file(&event) {
            wasm_bindgen_futures::spawn_local(import(Rc::clone(&shared), file));
        }
    })?;

    let shared = Rc::clone(app);
    dom::listen(&el.new, "click", move |_| {
        shared.borrow_mut().autosave = false;
        wasm_bindgen_futures::spawn_local(async {
            if let Err(err) = store::clear().await {
                log::warn!("the saved project could not be removed: {err}");
            }
            if let Ok(window) = dom::window() {
                let _ = window.location().reload();
            }
        });
    })?;
    start_autosave(app);
    Ok(())
}

/// Offers the project for download, its data file inside it.
async fn export(app: Shared) {
    let offered = async {
        let series = series_for_export(&app).await?;
        let bytes = snapshot(&app.borrow(), series)
            .encode()
            .map_err(|err| WebError::Input(err.to_string()))?;
        let blob = dom::blob_of(&bytes, Some("application/octet-stream"))?;
        let document = dom::document()?;
        super::super::chart::download(&document, &blob, "twinlab-project.twinproj")
    };
    match offered.await {
        Ok(()) => note("Exported the project as twinlab-project.twinproj."),
        Err(err) => app.borrow().show_error(&err.to_string()),
    }
}

/// Puts the saved project back, if there is one; `Ok(false)` when there
/// is none.
pub(super) async fn open_saved(app: &Shared) -> Result<bool, WebError> {
    let Some(bytes) = store::load(store::PROJECT).await? else {
        return Ok(false);
    };
    let project = Project::decode(&bytes).map_err(|source| WebError::Project {
        name: "the project saved in this browser".to_owned(),
        source,
    })?;
    restore(app, project).await?;
    note("Restored the project saved in this browser.");
    Ok(true)
}

async fn import(app: Shared, file: web_sys::File) {
    let name = file.name();
    let Some(bytes) = super::read_checked(&app, &file).await else {
        return;
    };
    if project::is_model_file(&bytes) {
        return super::load_model_bytes(&app, name, bytes);
    }
    let project = match Project::decode(&bytes) {
        Ok(project) => project,
        Err(source) => return app.borrow().reject(&WebError::Project { name, source }),
    };
    match restore(&app, project).await {
        Ok(()) => note(&format!("Imported the project {name}.")),
        Err(err) => app.borrow().reject(&err),
    }
}

/// The series for an export: as for the page's save, with the user's file
/// inside the project instead of beside it.
async fn series_for_export(app: &Shared) -> Result<Option<DataFile>, WebError> {
    let (series, file) = {
        let app = app.borrow();
        let file = app.dataset.as_ref().map(|loaded| loaded.file.clone());
        (series_for_save(&app), file)
    };
    match (series, file) {
        (Some(series), Some(file)) if matches!(series.source, DataSource::Browser { .. }) => {
            Ok(Some(DataFile::keep(&series.name, &file.bytes().await?)))
        }
        (series, _) => Ok(series),
    }
}

/// The series for the page's own save: a demo by name, the user's file in
/// a record beside the project.
fn series_for_save(app: &App) -> Option<DataFile> {
    let loaded = app.dataset.as_ref()?;
    let name = loaded.file.name.clone();
    let size = loaded.file.size() as u64;
    Some(match loaded.demo {
        Some(demo) => DataFile::demo(&name, demo.key),
        None if loaded.file.size() <= project::MAX_EMBEDDED_BYTES => DataFile {
            name,
            source: DataSource::Browser {
                size,
                id: loaded.id,
            },
        },
        None => DataFile {
            name,
            source: DataSource::Omitted { size },
        },
    })
}

/// The page's work as a project, with `series` as its data file.
fn snapshot(app: &App, series: Option<DataFile>) -> Project {
    let setup = app.dataset.as_ref().and_then(|loaded| {
        app.el
            .read_setup(&loaded.parsed.channels, &loaded.parsed.setup)
            .ok()
    });
    Project {
        task: app.task.key().to_owned(),
        series,
        setup,
        fleet: app.fleet_files(),
        model: app.model.clone().map(ByteBuf::from),
        twin: twin::snapshot(),
    }
}

/// Replaces what is on show with `project`, after checking that its files
/// can be read.
async fn restore(app: &Shared, project: Project) -> Result<(), WebError> {
    if !matches!(app.borrow().job, Job::Idle) {
        return Err(WebError::Busy);
    }
    let fleet = rul::read_fleet_files(&project.fleet).await?;
    let model_meta = match &project.model {
        Some(model) => Some(
            artifact::decode(model)
                .map(|(meta, _)| meta)
                .map_err(|err| WebError::Project {
                    name: "the project".to_owned(),
                    source: project::ProjectError::Model(err.to_string()),
                })?,
        ),
        None => None,
    };
    let rul_model = model_meta.as_ref().is_some_and(|meta| meta.rul.is_some());

    // The series first: when the worker cannot read it, nothing changed.
    let mut omitted = None;
    if let Some(series) = &project.series {
        let fetched = series_file(series).await?;
        if fetched.is_none() {
            omitted = Some(format!(
                "{} was too large to keep with the project: load it again",
                series.name
            ));
        }
        if let Some((file, demo)) = fetched {
            {
                let mut app = app.borrow_mut();
                app.restore = RestorePlan {
                    setup: project.setup.clone(),
                    model: project
                        .model
                        .clone()
                        .filter(|_| !rul_model)
                        .map(ByteBuf::into_vec),
                };
            }
            read_series(app, file, demo).await?;
        }
    }

    let task = match project.task.as_str() {
        "forecast" => Task::Forecast,
        "rul" => Task::Rul,
        _ => Task::Twin,
    };
    {
        let mut app = app.borrow_mut();
        if let Some(fleet) = fleet {
            app.set_fleet(fleet);
        }
        app.set_task(task);
        app.revision += 1;
    }
    if let (true, Some(model)) = (rul_model, &project.model) {
        wait_for_worker(app).await;
        let mut app = app.borrow_mut();
        rul::load_model(&mut app, model.to_vec(), "the project's RUL model");
    } else if let (Some(model), Some(meta), true) =
        (&project.model, &model_meta, app.borrow().dataset.is_none())
    {
        // No series to score it on: keep it on offer.
        app.borrow_mut().set_model(meta, model.to_vec());
    }
    match project.twin {
        Some(saved) => twin::restore(saved),
        None if task == Task::Twin => twin::shown(),
        None => {}
    }
    if let Some(text) = omitted {
        app.borrow().show_error(&text);
    }
    Ok(())
}

/// The project's series as a file, and the demo it is; `None` when it was
/// too large to keep.
async fn series_file(
    series: &DataFile,
) -> Result<Option<(BlobFile, Option<&'static Demo>)>, WebError> {
    let name = series.name.clone();
    Ok(match &series.source {
        DataSource::Demo { key } => {
            let demo = Elements::DEMOS
                .iter()
                .find(|demo| demo.key == key)
                .ok_or_else(|| WebError::Input(format!("the project names no demo `{key}`")))?;
            let data = dom::fetch_blob(demo.url).await?;
            Some((BlobFile { name, data }, Some(demo)))
        }
        DataSource::Embedded { bytes } => Some((BlobFile::from_bytes(&name, bytes)?, None)),
        DataSource::Browser { size, id } => {
            let key = store::series_key(&name, *size, *id);
            let data = store::load_value(&key)
                .await?
                .and_then(|value| value.dyn_into::<web_sys::Blob>().ok())
                .ok_or_else(|| {
                    WebError::Input(format!(
                        "the data file {name} is no longer kept in this browser"
                    ))
                })?;
            Some((BlobFile { name, data }, None))
        }
        DataSource::Omitted { .. } => None,
    })
}

/// Has the worker read a series and waits for the outcome.
async fn read_series(
    app: &Shared,
    file: BlobFile,
    demo: Option<&'static Demo>,
) -> Result<(), WebError> {
    let name = file.name.clone();
    let data = file.data.clone();
    super::accept_file(app, file, demo);
    loop {
        let parsing = matches!(app.borrow().job, Job::Parsing(_));
        if !parsing {
            break;
        }
        dom::sleep(50).await;
    }
    let loaded = app
        .borrow()
        .dataset
        .as_ref()
        .is_some_and(|loaded| loaded.file.data == data);
    if loaded {
        Ok(())
    } else {
        app.borrow_mut().restore = RestorePlan::default();
        Err(WebError::Input(format!(
            "the project's data `{name}` could not be read; nothing was changed"
        )))
    }
}

async fn wait_for_worker(app: &Shared) {
    while !app.borrow().worker_ready {
        dom::sleep(50).await;
    }
}

/// Saves the project a little after each change, once saving is on.
fn start_autosave(app: &Shared) {
    let weak = Rc::downgrade(app);
    wasm_bindgen_futures::spawn_local(async move {
        let mut saved = None;
        // The record of the data file written last.
        let mut series_saved: Option<String> = None;
        loop {
            dom::sleep(SAVE_EVERY_MS).await;
            let Some(app) = weak.upgrade() else {
                break;
            };
            let revision = (app.borrow().revision, twin::revision());
            let idle = matches!(app.borrow().job, Job::Idle);
            if !app.borrow().autosave || !idle || saved == Some(revision) {
                continue;
            }
            let project = {
                let app = app.borrow();
                snapshot(&app, series_for_save(&app))
            };
            let series = project.series.as_ref().and_then(|file| match file.source {
                DataSource::Browser { size, id } => Some(store::series_key(&file.name, size, id)),
                _ => None,
            });
            let outcome = save(&app, &project, series.as_deref(), &mut series_saved).await;
            match outcome {
                Ok(()) => {
                    saved = Some(revision);
                    let time = String::from(js_sys::Date::new_0().to_locale_time_string("en-GB"));
                    note(&format!("Saved in this browser at {time}."));
                }
                Err(err) => note(&format!("Not saved in this browser: {err}")),
            }
        }
    });
}

/// Writes `project`, and the data file under `series` when that is not the
/// one written last.
async fn save(
    app: &Shared,
    project: &Project,
    series: Option<&str>,
    series_saved: &mut Option<String>,
) -> Result<(), WebError> {
    if series != series_saved.as_deref() {
        if let Some(key) = series {
            let data = app
                .borrow()
                .dataset
                .as_ref()
                .map(|loaded| loaded.file.data.clone());
            if let Some(data) = data {
                store::save_value(key, &data).await?;
            }
        }
        if let Some(old) = series_saved.take() {
            store::remove(&old).await?;
        }
        *series_saved = series.map(str::to_owned);
    }
    let bytes = project
        .encode()
        .map_err(|err| WebError::Input(err.to_string()))?;
    store::save(store::PROJECT, &bytes).await
}
