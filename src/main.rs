//! The `twinlab` binary: the command line natively, the page (and its
//! training worker) when built for the browser by Trunk.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    twinlab::cli::run()
}

#[cfg(target_arch = "wasm32")]
fn main() {
    twinlab::web::start();
}
