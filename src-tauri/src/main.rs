//! The `canopy-app` binary: sets up logging and hands over to the library.
//! Kept tiny so the whole app can be driven from tests through `canopy_app::run`.

// No console window beside the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

/// jemalloc returns freed memory to the system (see `Cargo.toml`); with its `malloc`
/// unprefixed, the C code in the process (SQLCipher, GTK, WebKit's UI side) allocates from
/// it too. The library's tests keep the system allocator.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    canopy_app::init_logging();
    match canopy_app::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "Canopy stopped with an error");
            eprintln!("Canopy could not start: {error}");
            ExitCode::FAILURE
        }
    }
}
