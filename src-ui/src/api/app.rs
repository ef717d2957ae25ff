//! Wrappers of `src-tauri/src/commands/app.rs`: facts about the app itself.

use canopy_core::ipc::AppInfo;

use super::{ApiError, invoke::call};

/// The app's name, version and platform.
pub async fn app_info() -> Result<AppInfo, ApiError> {
    call("app_info", &()).await
}
