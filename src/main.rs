//! The `twinlab` command line. In the browser the page is the library
//! itself (its start function, built by Trunk with the `page` feature), so
//! this binary has no entry point on wasm32.

#![cfg_attr(target_arch = "wasm32", no_main)]

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    twinlab::cli::run()
}
