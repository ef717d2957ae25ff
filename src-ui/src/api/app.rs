//! Wrappers of `src-tauri/src/commands/app.rs`: facts about the app itself.

use canopy_core::ipc::{AppInfo, ProvisioningStatus};

use super::{ApiError, invoke::call};

/// The app's name, version and platform.
pub async fn app_info() -> Result<AppInfo, ApiError> {
    call("app_info", &()).await
}

/// The company and server this device is set up for, if any.
pub async fn provisioning_status() -> Result<ProvisioningStatus, ApiError> {
    call("provisioning_status", &()).await
}
