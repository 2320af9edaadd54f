//! The browser layer: the page, its training worker, and the glue between
//! them. It exists only on `wasm32`.
//!
//! One wasm binary serves both sides. Trunk loads it into the page, and
//! `worker.js` loads the same module into a Web Worker; [`start`] looks at
//! the global scope and becomes either the page app ([`page`]) or the worker
//! ([`worker`]). They talk through the typed [`messages`], encoded with
//! `serde-wasm-bindgen` (byte arrays travel as `Uint8Array`).
//!
//! Everything here is DOM, worker and canvas glue: parsing, training,
//! evaluation, the model file and the charts live in the core modules.
//!
//! | file | what it does |
//! |---|---|
//! | `messages.rs` | page ↔ worker message types |
//! | `backend.rs` | WebGPU or CPU: picking, caching, comparing |
//! | `bench.rs` | the reference workloads for the browser benchmark |
//! | `worker.rs` | the jobs the worker runs (train, load a model) |
//! | `page.rs` | page state and event handlers |
//! | `store.rs` | the current project in the browser's IndexedDB |
//! | `view.rs` | drawing state into the DOM and the canvases |
//! | `elements.rs` | the page's elements and the setup form |
//! | `dom.rs` | small DOM and JavaScript helpers |

pub mod backend;
mod bench;
mod chart;
mod dom;
mod elements;
pub mod messages;
mod page;
mod store;
mod twin_run;
pub mod view;
pub mod worker;

use std::fmt;

use wasm_bindgen::prelude::*;
use web_sys::DedicatedWorkerGlobalScope;

use crate::ingest::IngestError;
use crate::pipeline::PipelineError;

pub use backend::compare_backends;

/// Everything that can go wrong in the browser layer, phrased for the user.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A data file could not be loaded.
    #[error("could not load `{name}`: {source}")]
    Ingest {
        /// The file's name.
        name: String,
        /// What ingest found wrong, with the line where it applies.
        source: IngestError,
    },
    /// A file is larger than the page accepts; checked before reading it.
    #[error("could not load `{name}`: {source} (this page's limit)")]
    TooLarge {
        /// The file's name.
        name: String,
        /// The size and the limit.
        source: IngestError,
    },
    /// A model file does not fit the current dataset.
    #[error(
        "this model does not fit `{dataset}`: {source}. The model was trained on `{trained_on}` \
         and reads the channels {channels}"
    )]
    ModelMismatch {
        /// The current dataset.
        dataset: String,
        /// The dataset the model was trained on.
        trained_on: String,
        /// The model's input channels, quoted and comma-separated.
        channels: String,
        /// The pipeline's error (which channel is missing, or too few rows).
        source: PipelineError,
    },
    /// A project file cannot be used; nothing was changed.
    #[error("could not open `{name}`: {source}; nothing was changed")]
    Project {
        /// The file's name.
        name: String,
        /// What is wrong with it.
        source: crate::project::ProjectError,
    },
    /// A model file cannot be used.
    #[error("could not load the model `{name}`: {source}")]
    Model {
        /// The file's name.
        name: String,
        /// What is wrong with it.
        source: PipelineError,
    },
    /// Training, evaluation or the model file failed.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// WebGPU was asked for explicitly and is not there.
    #[error("WebGPU was chosen but is not available ({0}); choose Auto or CPU")]
    WebGpuUnavailable(String),
    /// A value typed into the form is not usable.
    #[error("{0}")]
    Input(String),
    /// Another job is still running in the worker.
    #[error("the worker is still busy with the previous job; wait for it or press Stop")]
    Busy,
    /// A page element the code relies on is not in `index.html`.
    #[error("the page has no element with id `{0}`")]
    MissingElement(&'static str),
    /// A message between page and worker could not be encoded or decoded.
    #[error("a message between the page and the worker is damaged: {0}")]
    Message(String),
    /// A browser API failed.
    #[error("{what} failed: {message}")]
    Js {
        /// The operation that failed.
        what: &'static str,
        /// What the browser said.
        message: String,
    },
}

impl WebError {
    /// Wraps a JavaScript exception thrown by `what`.
    #[must_use]
    pub fn js(what: &'static str, error: &JsValue) -> Self {
        Self::Js {
            what,
            message: dom::describe_js_error(error),
        }
    }
}

impl From<WebError> for JsValue {
    fn from(error: WebError) -> Self {
        js_sys::Error::new(&error.to_string()).into()
    }
}

impl From<serde_wasm_bindgen::Error> for WebError {
    fn from(error: serde_wasm_bindgen::Error) -> Self {
        Self::Message(error.to_string())
    }
}

/// Which side of the app this instance of the module is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Page,
    Worker,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Page => "page",
            Self::Worker => "worker",
        })
    }
}

fn role() -> Role {
    if js_sys::global().is_instance_of::<DedicatedWorkerGlobalScope>() {
        Role::Worker
    } else {
        Role::Page
    }
}

/// Starts the app: the page in a window, the job runner in a worker.
///
/// Called by the module's start function each time it is instantiated. A
/// window without the app's elements (the benchmark harness's page) gets
/// only the exported functions.
pub fn start() {
    let role = role();
    let app_page = dom::document()
        .ok()
        .and_then(|document| document.get_element_by_id("task-select"))
        .is_some();
    if role == Role::Page && !app_page {
        let _ = console_log::init_with_level(log::Level::Info);
        return;
    }
    install_panic_hook(role);
    // A second call (the logger is already set) is harmless, so the error is ignored.
    let _ = console_log::init_with_level(log::Level::Info);
    log::debug!("twinlab starting as the {role}");

    match role {
        Role::Worker => worker::run(),
        Role::Page => page::run(),
    }
}

/// Logs panics to the console and shows them to the user: in the page's
/// error box, or from the worker as a `failed` message the page shows.
fn install_panic_hook(role: Role) {
    std::panic::set_hook(Box::new(move |info| {
        console_error_panic_hook::hook(info);
        let message = format!("twinlab hit an internal error: {info}");
        match role {
            Role::Page => page::show_internal_error(&message),
            Role::Worker => worker::report_internal_error(&message),
        }
    }));
}
