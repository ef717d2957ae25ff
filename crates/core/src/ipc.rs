//! Types that cross the IPC boundary between the Tauri shell and the UI.
//! Both sides compile them from here, so a renamed field breaks the build, not the app.

use serde::{Deserialize, Serialize};

/// What the app tells the UI about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    pub os: String,
    pub arch: String,
    pub tauri_version: String,
    pub uptime_secs: u64,
}

/// Whether this device has been given its company's provisioning file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProvisioningStatus {
    /// No provisioning file was given.
    Missing,
    /// The file was read and is well-formed: what the person should check.
    Loaded {
        company: String,
        server_url: String,
        pins: Vec<String>,
    },
    /// The file could not be used; `message` says why.
    Invalid { message: String },
}

/// The error every command returns: a stable machine-readable `code` for the
/// UI to branch on and a `message` a person can read. Never carries secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "message", rename_all = "snake_case")]
pub enum CommandError {
    /// The app is locked; unlock with the local password first.
    #[error("Canopy is locked. Unlock it to continue.")]
    Locked,
    /// Input failed validation; the message says which field and why.
    #[error("{0}")]
    Invalid(String),
    /// Something failed inside the app; the message is safe to show.
    #[error("Something went wrong inside Canopy: {0}")]
    Internal(String),
}
