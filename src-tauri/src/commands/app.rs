//! Commands about the app itself: its name, version and platform, shown in the
//! window's header and the about box.

use canopy_core::ipc::{AppInfo, CommandError, ProvisioningStatus};
use tauri::State;

use crate::state::AppState;

/// What the UI shows about this build. Reads only compile-time facts and the
/// managed state, so it cannot fail today; the `Result` keeps every command's
/// shape the same for the UI's typed wrappers.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    Ok(AppInfo {
        name: "Canopy".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        os: std::env::consts::OS.to_owned(),
        arch: std::env::consts::ARCH.to_owned(),
        tauri_version: tauri::VERSION.to_owned(),
        uptime_secs: state.uptime_secs(),
    })
}

/// Which company's server this device is set up for, read at start-up from
/// the provisioning file, so the person can check the address and the key
/// fingerprints before trusting them.
#[tauri::command]
pub fn provisioning_status(state: State<'_, AppState>) -> Result<ProvisioningStatus, CommandError> {
    Ok(state.provisioning().clone())
}
