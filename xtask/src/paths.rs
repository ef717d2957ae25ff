//! Where things live: the checkout, the cache of tools and build output
//! (outside the checkout, so a fresh clone in CI reuses a warm machine's work).

use std::path::PathBuf;

/// The workspace root (the parent of this crate's directory).
///
/// Read at run time (`cargo run` sets `CARGO_MANIFEST_DIR` for the process too): checkouts
/// that share a target directory, like CI's fresh clone and the working one, share one
/// xtask binary, and the path compiled into it may be the other checkout's.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.parent().unwrap_or(&manifest).to_path_buf()
}

/// `$CANOPY_CACHE_DIR`, else `~/.cache/canopy` (`%LOCALAPPDATA%\canopy` on Windows).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CANOPY_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if cfg!(windows)
        && let Some(local) = std::env::var_os("LOCALAPPDATA")
    {
        return PathBuf::from(local).join("canopy");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("canopy"),
        None => root().join("target").join("canopy-cache"),
    }
}

/// Tools installed at pinned versions (`cargo install --root`).
pub fn tools_dir() -> PathBuf {
    cache_dir().join("tools")
}

pub fn tools_bin() -> PathBuf {
    tools_dir().join("bin")
}

/// Cargo's target directory for everything xtask builds.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CANOPY_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    cache_dir().join("target")
}

/// The UI's built assets, embedded into the app by `tauri.conf.json`.
pub fn ui_dist() -> PathBuf {
    root().join("src-ui").join("dist")
}

/// The debug app binary that `run` opens and the end-to-end suite drives.
pub fn app_binary() -> PathBuf {
    let name = if cfg!(windows) {
        "canopy-app.exe"
    } else {
        "canopy-app"
    };
    target_dir().join("debug").join(name)
}

/// Outputs people look at, kept inside the checkout: screenshots, bench reports.
pub fn e2e_out() -> PathBuf {
    root().join("target").join("e2e")
}

pub fn bench_out() -> PathBuf {
    root().join("target").join("bench")
}
