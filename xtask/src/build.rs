//! Building the UI (Trunk, release, offline) and the app (cargo), and opening
//! the app for `cargo xtask run`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::{demo, paths, proc, setup};

/// `cargo xtask run`: set up, build, open the app and wait until it closes.
pub fn run() -> Result<()> {
    let app = build_all()?;
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        bail!(
            "no display: neither DISPLAY nor WAYLAND_DISPLAY is set.\n\
             On a machine without a screen, start a virtual one first:\n    \
             Xvfb :99 -screen 0 1280x800x24 & DISPLAY=:99 cargo xtask run"
        );
    }
    let server = demo::start(&demo::dir())?;
    demo::print_details(&server)?;
    proc::step("Opening Canopy");
    proc::info("close the window to stop the app and the demo server");
    let mut cmd = proc::command(&app.to_string_lossy());
    cmd.env("CANOPY_PROVISIONING", &server.provisioning);
    proc::run(&mut cmd)
}

/// Set up the machine, build the UI and the debug app; returns the app binary.
pub fn build_all() -> Result<PathBuf> {
    setup::ensure(setup::Purpose::Run)?;
    build_ui()?;
    build_app()
}

/// Build the Leptos UI for wasm32 with Trunk into `src-ui/dist` (release).
pub fn build_ui() -> Result<()> {
    proc::step("Building the UI (Leptos → wasm32, Trunk, release)");
    // --offline: Trunk must use the pinned tools on PATH, never download its own.
    let mut trunk = proc::command("trunk");
    trunk
        .current_dir(paths::root().join("src-ui"))
        .args(["build", "--release", "--offline"]);
    proc::run(&mut trunk)?;
    let index = paths::ui_dist().join("index.html");
    if !index.is_file() {
        bail!("Trunk finished but {} is missing", index.display());
    }
    Ok(())
}

/// Build the desktop app (debug profile, assets embedded from `src-ui/dist`).
pub fn build_app() -> Result<PathBuf> {
    proc::step("Building the desktop app (Tauri)");
    let mut cargo = proc::cargo();
    cargo.args(["build", "--package", "canopy-app"]);
    // Once `cargo xtask release --demo` made its throwaway key, the demo app trusts it.
    if let Some(config) = crate::release::demo_tauri_config()? {
        cargo.env("TAURI_CONFIG", config);
    }
    proc::run(&mut cargo)?;
    let app = paths::app_binary();
    std::fs::metadata(&app)
        .with_context(|| format!("the app was built but {} is missing", app.display()))?;
    Ok(app)
}
