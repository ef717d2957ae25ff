//! Wrappers of `src-tauri/src/commands/privacy.rs`: the person's data export and erasure
//! request.

use canopy_core::ipc::{DataExportView, ErasureRequestView};

use super::{ApiError, invoke::call};

/// Saves everything the company keeps about the person to the Downloads folder.
pub async fn export_my_data() -> Result<DataExportView, ApiError> {
    call("export_my_data", &()).await
}

/// Asks the company to erase the person's data.
pub async fn request_erasure() -> Result<ErasureRequestView, ApiError> {
    call("request_erasure", &()).await
}
