//! twinlab: a digital-twin simulator for sensor data.
//!
//! The core (ingest, preprocessing, model, training, metrics, charts) is plain
//! Rust that compiles and is tested natively; [`web`] is the thin browser layer
//! and exists only on `wasm32`. See `ARCHITECTURE.md` for the module map.

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
pub mod rul;
pub mod session;
pub mod train;
pub mod twin;

#[cfg(target_arch = "wasm32")]
pub mod web;
