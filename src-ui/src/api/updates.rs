//! Wrappers of `src-tauri/src/commands/updates.rs`: asking the company's server for a newer
//! Canopy, and installing it (the shell verifies its signature first).

use canopy_core::ipc::{UpdateCheck, UpdateInstalled};

use super::{ApiError, invoke::call};

/// Whether a newer release is published for this computer.
pub async fn check_for_update() -> Result<UpdateCheck, ApiError> {
    call("check_for_update", &()).await
}

/// Downloads, verifies and installs the newer release; it runs after a restart.
pub async fn install_update() -> Result<UpdateInstalled, ApiError> {
    call("install_update", &()).await
}
