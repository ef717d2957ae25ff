//! The one managed state object every command receives, built once at
//! start-up: commands never read files or configuration themselves.

use std::path::Path;
use std::time::Instant;

use canopy_core::ipc::{CommandError, ProvisioningStatus};
use canopy_core::provisioning::Provisioning;
use canopy_store::{OsKeychain, Vault};
use canopy_sync::{ServerClient, SyncError};
use tokio::sync::{MappedMutexGuard, MutexGuard};

use crate::session::Session;

/// Everything the commands share: the provisioning file as read, and the person's
/// session (which holds the open cache and the running sync).
pub struct AppState {
    started_at: Instant,
    provisioning: ProvisioningStatus,
    file: Option<Provisioning>,
    /// Set once the app knows where its data lives (Tauri's `setup`); `None` inside while
    /// the device has no usable provisioning file.
    session: tokio::sync::Mutex<Option<Session>>,
}

/// Where the app keeps its cache when `CANOPY_DATA_DIR` doesn't say (tests and the e2e
/// suite point it at a scratch directory).
pub const DATA_DIR_ENV: &str = "CANOPY_DATA_DIR";

/// The environment variable naming the company's provisioning file
/// (`cargo xtask run` points it at the demo server's `demo.json`).
pub const PROVISIONING_ENV: &str = "CANOPY_PROVISIONING";

impl AppState {
    /// Build the state from the process environment.
    pub fn from_env() -> Self {
        let (provisioning, file) = match std::env::var_os(PROVISIONING_ENV) {
            None => (ProvisioningStatus::Missing, None),
            Some(path) => read_provisioning(Path::new(&path)),
        };
        Self {
            started_at: Instant::now(),
            provisioning,
            file,
            session: tokio::sync::Mutex::new(None),
        }
    }

    /// Opens the session over the cache under `data_dir`, talking to the provisioned
    /// server. Without a usable provisioning file there is no session: the signed-out
    /// screen says why.
    pub async fn start_session(&self, data_dir: &Path) -> Result<(), SyncError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let client = ServerClient::new(file)?;
        let keychain = OsKeychain::new("Canopy", file.server_url.clone());
        let vault = Vault::new(data_dir.join("cache"), Box::new(keychain));
        *self.session.lock().await = Some(Session::new(client, vault, device_name()));
        Ok(())
    }

    /// The session, for one command at a time.
    pub async fn session(&self) -> Result<MappedMutexGuard<'_, Session>, CommandError> {
        let guard = self.session.lock().await;
        MutexGuard::try_map(guard, Option::as_mut).map_err(|_| {
            CommandError::Invalid(
                "This device has no usable provisioning file from the company yet".into(),
            )
        })
    }

    /// How long the app has been running, for the about box and diagnostics.
    pub fn uptime_secs(&self) -> u64 {
        self.started_at.elapsed().as_secs()
    }

    pub fn provisioning(&self) -> &ProvisioningStatus {
        &self.provisioning
    }

    /// The provisioning file itself, when it was usable (the updater talks to its server).
    pub fn provisioning_file(&self) -> Option<&Provisioning> {
        self.file.as_ref()
    }
}

/// How the server lists this device among the person's devices.
fn device_name() -> String {
    let os = match std::env::consts::OS {
        "macos" => "Mac",
        "windows" => "Windows PC",
        "linux" => "Linux PC",
        other => other,
    };
    format!("Canopy on a {os}")
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("provisioning", &self.provisioning)
            .finish_non_exhaustive()
    }
}

/// The status to show and, when usable, the file itself.
fn read_provisioning(path: &Path) -> (ProvisioningStatus, Option<Provisioning>) {
    let status = load_provisioning(path);
    let file = match status {
        ProvisioningStatus::Loaded { .. } => std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str::<Provisioning>(&text).ok()),
        _ => None,
    };
    (status, file)
}

/// Read and check a provisioning file; every failure becomes a message the
/// signed-out screen shows instead of the company's details.
pub fn load_provisioning(path: &Path) -> ProvisioningStatus {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read the provisioning file");
            return ProvisioningStatus::Invalid {
                message: format!(
                    "Canopy cannot read the provisioning file {}: {error}",
                    path.display()
                ),
            };
        }
    };
    let parsed = serde_json::from_str::<Provisioning>(&text)
        .map_err(|error| {
            format!(
                "The provisioning file {} is not valid: {error}",
                path.display()
            )
        })
        .and_then(|file| {
            file.validate().map(|()| file).map_err(|error| {
                format!(
                    "The provisioning file {} is not usable: {error}",
                    path.display()
                )
            })
        });
    match parsed {
        Ok(file) => ProvisioningStatus::Loaded {
            company: file.company,
            server_url: file.server_url,
            pins: file.pins,
        },
        Err(message) => {
            tracing::warn!(path = %path.display(), "provisioning file refused");
            ProvisioningStatus::Invalid { message }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    const BACKUP: &str = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

    fn load(text: &str) -> ProvisioningStatus {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.json");
        std::fs::write(&path, text).unwrap();
        load_provisioning(&path)
    }

    #[test]
    fn a_valid_file_is_loaded() {
        let status = load(&format!(
            r#"{{"company":"Demo Co.","server_url":"https://127.0.0.1:8443","pins":["{PIN}","{BACKUP}"]}}"#
        ));
        assert_eq!(
            status,
            ProvisioningStatus::Loaded {
                company: "Demo Co.".to_owned(),
                server_url: "https://127.0.0.1:8443".to_owned(),
                pins: vec![PIN.to_owned(), BACKUP.to_owned()],
            }
        );
    }

    #[test]
    fn bad_files_explain_themselves() {
        let cases = [
            ("{", "is not valid"),
            (
                &format!(r#"{{"company":"D","server_url":"http://x","pins":["{PIN}","{BACKUP}"]}}"#)
                    as &str,
                "is not usable: The server address must start with https://",
            ),
        ];
        for (text, expected) in cases {
            match load(text) {
                ProvisioningStatus::Invalid { message } => {
                    assert!(message.contains(expected), "{message:?} lacks {expected:?}")
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
        match load_provisioning(Path::new("/nonexistent/demo.json")) {
            ProvisioningStatus::Invalid { message } => {
                assert!(
                    message.starts_with(
                        "Canopy cannot read the provisioning file /nonexistent/demo.json"
                    )
                )
            }
            other => panic!("a missing file gave {other:?}"),
        }
    }
}
