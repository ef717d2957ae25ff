//! Tauri commands, one module per domain (auth, genealogy, earnings, outbox,
//! security, settings as they arrive). Each returns `Result<_, CommandError>`.

pub mod admin;
pub mod app;
pub mod auth;
pub(crate) mod csv_export;
pub mod dashboard;
pub mod earnings;
pub mod genealogy;
pub mod orders;
pub mod outbox;
pub mod outbox_transfer;
pub mod privacy;
pub mod security;
pub mod sync;
pub mod team;
pub mod updates;

use std::sync::Arc;

use canopy_core::ipc::CommandError;
use canopy_store::Store;

use crate::state::AppState;

/// The open cache, or [`CommandError::Locked`]. The session is released at once, so a
/// long query never holds up a lock or a sign-in.
pub(crate) async fn open_store(state: &AppState) -> Result<Arc<Store>, CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    Ok(store)
}

/// Runs a query off the async runtime's threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| CommandError::Internal(e.to_string()))?
}
