//! Moving the outbox to another device (a laptop that dies before it could sync): the
//! commands not yet applied exported to a passphrase-encrypted file in the Downloads
//! folder, and such a file, copied into the Downloads folder of another device of the
//! same account, imported there. The file format is `canopy_store::outbox_transfer`'s.
//!
//! Files go where the CSV exports go (`csv_export::folder`: the Downloads folder, else
//! `~/Downloads`), under a new name each time. An import names a file of that folder, never a path, so the
//! window can't make the app read anything else.

use std::path::{Path, PathBuf};

use canopy_core::ipc::{CommandError, OutboxExportView, OutboxFileView, OutboxImportView};
use canopy_store::outbox_transfer::{FILE_EXTENSION, MIN_PASSPHRASE};
use canopy_store::{Store, StoreError, TransferError};
use canopy_sync::schedule::Trigger;

use tauri::State;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use super::{blocking, csv_export, open_store};
use crate::state::AppState;

/// Exports the commands not yet applied to a new file in the Downloads folder.
#[tauri::command]
pub async fn export_outbox(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    passphrase: String,
    confirmation: String,
) -> Result<OutboxExportView, CommandError> {
    let passphrase = Zeroizing::new(passphrase);
    let confirmation = Zeroizing::new(confirmation);
    let store = open_store(&state).await?;
    let folder = csv_export::folder(&app)?;
    let now = OffsetDateTime::now_utc();
    blocking(move || export_to(&store, &folder, &passphrase, &confirmation, now)).await
}

/// [`export_outbox`]'s work without Tauri: the passphrase's rules first, then the file,
/// written crash-safely and readable by its owner only.
pub fn export_to(
    store: &Store,
    folder: &Path,
    passphrase: &str,
    confirmation: &str,
    now: OffsetDateTime,
) -> Result<OutboxExportView, CommandError> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(CommandError::Invalid(format!(
            "Use a passphrase of at least {MIN_PASSPHRASE} characters"
        )));
    }
    if passphrase != confirmation {
        return Err(CommandError::Invalid(
            "The two passphrases are not the same".into(),
        ));
    }
    std::fs::create_dir_all(folder)
        .map_err(|e| CommandError::Internal(format!("cannot save to {}: {e}", folder.display())))?;
    let path = free_name(folder, &format!("canopy-outbox-{}", now.date()));
    let summary = store
        .export_outbox(&path, passphrase, now)
        .map_err(transfer_error)?;
    tracing::info!(items = summary.items, "outbox exported");
    Ok(OutboxExportView {
        path: path.display().to_string(),
        items: summary.items as u64,
    })
}

/// The outbox files in the Downloads folder, newest first.
#[tauri::command]
pub async fn outbox_files(app: tauri::AppHandle) -> Result<Vec<OutboxFileView>, CommandError> {
    let folder = csv_export::folder(&app)?;
    blocking(move || files_in(&folder)).await
}

/// [`outbox_files`]'s work without Tauri. A folder that doesn't exist holds none.
pub fn files_in(folder: &Path) -> Result<Vec<OutboxFileView>, CommandError> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(CommandError::Internal(format!(
                "cannot read {}: {e}",
                folder.display()
            )));
        }
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_outbox_file_name(&name) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let modified = meta
            .modified()
            .ok()
            .map(OffsetDateTime::from)
            .and_then(|t| t.format(&Rfc3339).ok());
        files.push(OutboxFileView {
            name,
            modified,
            bytes: meta.len(),
        });
    }
    // RFC 3339 in UTC sorts as text; a file without a time goes last.
    files.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.name.cmp(&b.name)));
    Ok(files)
}

/// Imports an outbox file of the Downloads folder, then asks the sync to send what it
/// added.
#[tauri::command]
pub async fn import_outbox(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    name: String,
    passphrase: String,
) -> Result<OutboxImportView, CommandError> {
    let passphrase = Zeroizing::new(passphrase);
    let store = open_store(&state).await?;
    let folder = csv_export::folder(&app)?;
    let now = OffsetDateTime::now_utc();
    let view = blocking(move || import_from(&store, &folder, &name, &passphrase, now)).await?;
    if view.added > 0
        && let Some(sync) = state.session().await?.sync()
    {
        sync.trigger(Trigger::LocalWrite);
    }
    Ok(view)
}

/// [`import_outbox`]'s work without Tauri. `name` must be the bare name of an outbox file
/// in `folder`.
pub fn import_from(
    store: &Store,
    folder: &Path,
    name: &str,
    passphrase: &str,
    now: OffsetDateTime,
) -> Result<OutboxImportView, CommandError> {
    if !is_outbox_file_name(name) {
        return Err(CommandError::Invalid(
            "Choose one of the outbox files in your Downloads folder".into(),
        ));
    }
    let path = folder.join(name);
    if !path.is_file() {
        return Err(CommandError::Invalid(format!(
            "{name} is no longer in your Downloads folder"
        )));
    }
    let summary = store
        .import_outbox(&path, passphrase, now)
        .map_err(transfer_error)?;
    tracing::info!(
        added = summary.added,
        already_present = summary.already_present,
        "outbox imported"
    );
    Ok(OutboxImportView {
        added: summary.added as u64,
        already_present: summary.already_present as u64,
    })
}

/// A bare file name (no directory part, not hidden) with the outbox files' extension.
fn is_outbox_file_name(name: &str) -> bool {
    let bare = !name.contains(['/', '\\', '\0']) && !name.starts_with('.');
    let ours = Path::new(name)
        .extension()
        .is_some_and(|ext| ext == FILE_EXTENSION);
    bare && ours && name.len() <= 255
}

/// `base.canopy-outbox`, or `base (2).canopy-outbox` and so on if it exists.
fn free_name(folder: &Path, base: &str) -> PathBuf {
    let mut path = folder.join(format!("{base}.{FILE_EXTENSION}"));
    let mut n = 2;
    while path.exists() {
        path = folder.join(format!("{base} ({n}).{FILE_EXTENSION}"));
        n += 1;
    }
    path
}

/// A failed transfer as the UI shows it: a wrong passphrase is a refusal, a file or
/// passphrase that can't be used is the person's to fix, the rest is Canopy's.
fn transfer_error(error: TransferError) -> CommandError {
    match error {
        TransferError::WrongPassphrase => CommandError::Refused(error.to_string()),
        TransferError::Store(StoreError::Io { .. }) => {
            CommandError::Invalid("The file can't be read or written".into())
        }
        TransferError::Store(other) => CommandError::Internal(other.to_string()),
        other => CommandError::Invalid(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_outbox_file_names_are_accepted() {
        for (name, ok) in [
            ("canopy-outbox-2026-11-21.canopy-outbox", true),
            ("canopy-outbox-2026-11-21 (2).canopy-outbox", true),
            ("../secrets.canopy-outbox", false),
            ("/etc/x.canopy-outbox", false),
            ("..\\x.canopy-outbox", false),
            (".hidden.canopy-outbox", false),
            ("report.csv", false),
            ("canopy-outbox", false),
        ] {
            assert_eq!(is_outbox_file_name(name), ok, "{name}");
        }
    }

    #[test]
    fn a_second_export_gets_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let first = free_name(dir.path(), "x");
        std::fs::write(&first, b"").unwrap();
        let second = free_name(dir.path(), "x");
        assert!(first.ends_with("x.canopy-outbox"));
        assert!(second.ends_with("x (2).canopy-outbox"));
    }
}
