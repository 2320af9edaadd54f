//! twinlab: a digital-twin simulator for sensor data.
//!
//! The core (ingest, preprocessing, model, training, metrics, charts) is plain
//! Rust that compiles and is tested natively; [`web`] is the thin browser layer
//! and exists only on `wasm32`. See `ARCHITECTURE.md` for the module map.

/// Starts the page, or its worker, when the WebAssembly module loads
/// (the module built by Trunk with the `page` feature).
#[cfg(all(target_arch = "wasm32", feature = "page"))]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start_page() {
    constructors::run();
    web::start();
}

/// The module's static constructors (a dependency of burn's GPU compiler
/// registers its operations with `inventory`, which runs at start-up).
///
/// Unless something calls `__wasm_call_ctors` itself, the linker makes
/// every export of the module run them again, and every call from
/// JavaScript into the module (each JS value it creates or drops
/// included) paid about a tenth of a millisecond for that. Calling them
/// once here, before anything else, is what the linker then expects.
#[cfg(all(target_arch = "wasm32", feature = "page"))]
#[allow(unsafe_code)]
mod constructors {
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }

    pub(super) fn run() {
        // SAFETY: the linker's start-up function, called once, first, on
        // the module's own thread; it takes nothing and returns nothing.
        unsafe { __wasm_call_ctors() }
    }
}

pub mod artifact;
pub mod backtest;
pub mod baselines;
pub mod chart;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod conformal;
pub mod detect;
pub mod evidence;
pub mod ingest;
pub mod live;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod prep;
pub mod project;
pub mod rul;
pub mod session;
pub mod train;
pub mod twin;
pub mod workloads;

#[cfg(target_arch = "wasm32")]
pub mod web;
