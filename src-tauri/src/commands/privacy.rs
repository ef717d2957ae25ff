//! The privacy card's commands (GDPR, SECURITY.md #23): download everything the company
//! keeps about me, and ask for it to be erased. Both need the server; the work is in plain
//! functions the tests call without Tauri.

use std::io::Write;
use std::path::{Path, PathBuf};

use canopy_core::ipc::{CommandError, DataExportView, ErasureRequestView};
use canopy_sync::ServerClient;
use tauri::State;

use super::csv_export;
use super::security::{sync_error, usable_token};
use crate::state::AppState;

/// The client and the access token of the unlocked session.
async fn online(state: &AppState) -> Result<(ServerClient, String), CommandError> {
    let session = state.session().await?;
    session.store().ok_or(CommandError::Locked)?;
    let status = session.sync().map(|s| s.status());
    let token = usable_token(session.access_token(), status.as_ref())?;
    Ok((session.client().clone(), token))
}

/// Downloads the person's data from the server into the Downloads folder.
#[tauri::command]
pub async fn export_my_data(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<DataExportView, CommandError> {
    let (client, token) = online(&state).await?;
    let folder = csv_export::folder(&app)?;
    export(&client, &token, &folder).await
}

/// Asks the company to erase the person's data.
#[tauri::command]
pub async fn request_erasure(
    state: State<'_, AppState>,
) -> Result<ErasureRequestView, CommandError> {
    let (client, token) = online(&state).await?;
    let alert_id = client.request_erasure(&token).await.map_err(sync_error)?;
    Ok(ErasureRequestView { alert_id })
}

/// [`export_my_data`]'s work: the server's document, saved as pretty JSON readable by the
/// person only (it holds their contact details and earnings).
pub async fn export(
    client: &ServerClient,
    token: &str,
    folder: &Path,
) -> Result<DataExportView, CommandError> {
    let document = client.my_data(token).await.map_err(sync_error)?;
    let count = |key: &str| document[key].as_array().map_or(0, |a| a.len() as u64);
    let date = document["generated_at"]
        .as_str()
        .and_then(|t| t.get(..10))
        .unwrap_or("export")
        .to_owned();
    let bytes = serde_json::to_vec_pretty(&document)
        .map_err(|e| CommandError::Internal(format!("the export can't be written: {e}")))?;
    let path = save(folder, &format!("canopy-personal-data-{date}"), &bytes)?;
    Ok(DataExportView {
        path: path.display().to_string(),
        bytes: bytes.len() as u64,
        orders: count("orders"),
        statements: count("statements"),
        sign_ins: count("sign_ins"),
    })
}

/// Writes `base.json` (or `base (2).json`, …: an earlier export is never overwritten) with
/// owner-only permissions from the start.
fn save(folder: &Path, base: &str, bytes: &[u8]) -> Result<PathBuf, CommandError> {
    let failed = |path: &Path, e: std::io::Error| {
        CommandError::Internal(format!("cannot save {}: {e}", path.display()))
    };
    std::fs::create_dir_all(folder).map_err(|e| failed(folder, e))?;
    let mut n = 1;
    loop {
        let name = if n == 1 {
            format!("{base}.json")
        } else {
            format!("{base} ({n}).json")
        };
        let path = folder.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                file.write_all(bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| failed(&path, e))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(failed(&path, e)),
        }
    }
}
