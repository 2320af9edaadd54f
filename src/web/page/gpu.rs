//! Losing the GPU: a job that fails on WebGPU runs again on the CPU.
//!
//! Two ways it shows. A job that fails with an error on WebGPU is run
//! again on the CPU by the worker itself, which then says `gpu_lost`. A
//! job whose worker panicked (wgpu panics on some errors of a device that
//! is going away) is sent again by the page, to a fresh worker, on the
//! CPU. Either way the page switches its backend choice to the CPU and says
//! so; the data, the last model and its results stay in the page, and the
//! twin runs in a worker of its own on the CPU, so none of them is lost.
//!
//! `?simulate=gpu-loss` shows a button that destroys the worker's WebGPU
//! device, as a driver reset would, for the browser tests.

use std::rc::Rc;

use web_sys::HtmlButtonElement;

use super::super::messages::{BackendChoice, ToWorker};
use super::super::{WebError, dom};
use super::{App, Job, Shared};

/// Shows the test hook's button when the address asks for it.
pub(super) fn install(app: &Shared) -> Result<(), WebError> {
    if super::query_param("simulate").as_deref() != Some("gpu-loss") {
        return Ok(());
    }
    let button: HtmlButtonElement = dom::by_id(&dom::document()?, "simulate-gpu-loss")?;
    button.set_hidden(false);
    let shared = Rc::clone(app);
    let clicked = button.clone();
    dom::listen(&button, "click", move |_| {
        shared.borrow().post(&ToWorker::SimulateGpuLoss);
        clicked.set_text_content(Some("GPU device destroyed"));
        clicked.set_disabled(true);
    })
}

impl App {
    /// Posts a job, keeping it to send again on the CPU if its worker dies
    /// while it runs on WebGPU.
    pub(super) fn post_job(&mut self, message: ToWorker) {
        self.post(&message);
        self.last_job = Some(message);
    }

    /// The worker gave up WebGPU after a job failed on it and worked on
    /// the CPU.
    pub(super) fn on_gpu_lost(&mut self, reason: &str) {
        self.on_webgpu = false;
        self.el.backend_select.set_value("cpu");
        self.set_gpu_note(reason);
    }

    /// The worker panicked: when its job ran on WebGPU, sends it again to
    /// the fresh worker on the CPU. Returns whether it did.
    pub(super) fn retry_on_cpu(&mut self) -> bool {
        let running = matches!(self.job, Job::Training | Job::LoadingModel(_));
        let job = self.last_job.take();
        let Some(job) = job.filter(|job| running && self.on_webgpu && job.is_job()) else {
            return false;
        };
        self.on_webgpu = false;
        self.el.backend_select.set_value("cpu");
        self.set_gpu_note("the worker stopped while it ran on WebGPU");
        self.send(job.on_backend(BackendChoice::Cpu));
        true
    }

    fn set_gpu_note(&self, reason: &str) {
        // The first line says it; the rest is the chain of causes.
        let reason = reason
            .lines()
            .next()
            .unwrap_or(reason)
            .trim_end_matches(':');
        let note = format!(
            "WebGPU was lost ({reason}); the job ran again on the CPU, which is used from now \
             on. The data, the model and the twin are as they were."
        );
        log::warn!("{note}");
        self.el.backend_check.set_text_content(Some(&note));
    }
}
