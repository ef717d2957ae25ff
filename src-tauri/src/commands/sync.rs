//! The sync center's commands: where the sync stands, and "sync now".

use canopy_core::ipc::{BootstrapView, CommandError, SyncStatusView};
use canopy_store::{OutboxState, Store};
use canopy_sync::runner::SyncStatus;
use canopy_sync::schedule::Trigger;
use tauri::State;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::blocking;
use crate::state::AppState;

/// The sync's figures for the sync center.
#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatusView, CommandError> {
    let session = state.session().await?;
    let store = session.store().ok_or(CommandError::Locked)?.clone();
    let status = session.sync().map(|s| s.status()).unwrap_or_default();
    drop(session);
    blocking(move || view(&store, &status)).await
}

/// Syncs at once (also after a halt: the person asked).
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<(), CommandError> {
    let session = state.session().await?;
    let sync = session.sync().ok_or(CommandError::Locked)?;
    sync.trigger(Trigger::Requested);
    Ok(())
}

/// [`sync_status`]'s work without Tauri.
pub fn view(store: &Store, status: &SyncStatus) -> Result<SyncStatusView, CommandError> {
    let rejected = store
        .outbox(Some(OutboxState::Rejected))
        .map_err(|e| CommandError::Internal(e.to_string()))?
        .len();
    let bootstrap = status.bootstrap.as_ref().map(|p| {
        let rate = p.rate();
        BootstrapView {
            rows_done: p.rows_done,
            rows_total: p.rows_total,
            rate,
            remaining_secs: (rate > 0.0)
                .then(|| (p.rows_total.saturating_sub(p.rows_done) as f64 / rate).ceil() as u64),
        }
    });
    Ok(SyncStatusView {
        running: status.running,
        bootstrap,
        last_success: status.last_success.map(rfc3339),
        pending: status.pending,
        rejected,
        offline: status.offline,
        last_error: status.last_error.clone(),
        next_at: status.next_at.map(rfc3339),
        halted: status.halted.clone(),
        security_warning: status.security_warning,
        sign_in_needed: status.sign_in_needed,
        revoked: status.revoked,
    })
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}
