//! Wrapper of `src-tauri/src/commands/dashboard.rs`: the dashboard's figures.

use canopy_core::ipc::DashboardView;

use super::{ApiError, invoke::call};

/// This period's volumes, rank, earnings, new enrollees, alerts and the sync's state.
pub async fn dashboard() -> Result<DashboardView, ApiError> {
    call("dashboard", &()).await
}
