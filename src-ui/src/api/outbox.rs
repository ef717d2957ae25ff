//! Wrappers of `src-tauri/src/commands/outbox.rs` and `sync.rs`: enrolling offline, the
//! outbox, and the sync center's figures.

use canopy_core::ipc::{
    ConsentTextView, EnrollRequest, OutboxExportView, OutboxFileView, OutboxImportView,
    OutboxItemView, SyncStatusView,
};
use serde::Serialize;

use super::{ApiError, invoke::call};

/// The consent text the enrollment form shows, and its version.
pub async fn consent_text() -> Result<ConsentTextView, ApiError> {
    call("consent_text", &()).await
}

#[derive(Serialize)]
struct Enroll<'a> {
    request: &'a EnrollRequest,
}

/// Saves an enrollment to the outbox (refused with each field's problem when invalid).
pub async fn enroll(request: &EnrollRequest) -> Result<OutboxItemView, ApiError> {
    call("enroll", &Enroll { request }).await
}

/// Every command in the outbox, oldest first.
pub async fn outbox_items() -> Result<Vec<OutboxItemView>, ApiError> {
    call("outbox_items", &()).await
}

#[derive(Serialize)]
struct Seq {
    seq: i64,
}

/// Gives up a command the server refused.
pub async fn discard_outbox_item(seq: i64) -> Result<(), ApiError> {
    call("discard_outbox_item", &Seq { seq }).await
}

/// Where the sync stands.
pub async fn sync_status() -> Result<SyncStatusView, ApiError> {
    call("sync_status", &()).await
}

/// Syncs at once.
pub async fn sync_now() -> Result<(), ApiError> {
    call("sync_now", &()).await
}

/// A refused enrollment, back in the form's shape.
pub async fn refused_enrollment(seq: i64) -> Result<EnrollRequest, ApiError> {
    call("refused_enrollment", &Seq { seq }).await
}

#[derive(Serialize)]
struct Resend<'a> {
    seq: i64,
    request: &'a EnrollRequest,
}

/// Replaces a refused enrollment with its fixed form and queues it again.
pub async fn resend_enrollment(seq: i64, request: &EnrollRequest) -> Result<(), ApiError> {
    call("resend_enrollment", &Resend { seq, request }).await
}

// Moving the outbox to another device (`src-tauri/src/commands/outbox_transfer.rs`).

#[derive(Serialize)]
struct Export<'a> {
    passphrase: &'a str,
    confirmation: &'a str,
}

/// Exports what is not applied yet to a new encrypted file in the Downloads folder.
pub async fn export_outbox(
    passphrase: &str,
    confirmation: &str,
) -> Result<OutboxExportView, ApiError> {
    call(
        "export_outbox",
        &Export {
            passphrase,
            confirmation,
        },
    )
    .await
}

/// The outbox files in the Downloads folder, newest first.
pub async fn outbox_files() -> Result<Vec<OutboxFileView>, ApiError> {
    call("outbox_files", &()).await
}

#[derive(Serialize)]
struct Import<'a> {
    name: &'a str,
    passphrase: &'a str,
}

/// Imports one of those files (by its name) into this device's outbox.
pub async fn import_outbox(name: &str, passphrase: &str) -> Result<OutboxImportView, ApiError> {
    call("import_outbox", &Import { name, passphrase }).await
}
