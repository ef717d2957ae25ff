//! Types that cross the IPC boundary between the Tauri shell and the UI.
//! Both sides compile them from here, so a renamed field breaks the build, not the app.

mod admin;
mod dashboard;
mod earnings;
mod genealogy;
mod orders;
mod outbox;
mod privacy;
mod security;
mod team;
mod updates;

pub use admin::*;
pub use dashboard::*;
pub use earnings::*;
pub use genealogy::*;
pub use orders::*;
pub use outbox::*;
pub use privacy::*;
pub use security::*;
pub use team::*;
pub use updates::*;

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

/// Where the person's session on this device stands: which screen the UI shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum SessionView {
    /// Nobody is signed in. `has_cache`: this device holds a cache, so an online sign-in
    /// also asks for the device's password (its key signs the sign-in).
    SignedOut { has_cache: bool },
    /// The password was right: the code from the authenticator (or a recovery code).
    Code,
    /// The account has no second factor: add this authenticator, then confirm a code.
    SetUp { secret: String, otpauth_uri: String },
    /// Signed in online for the first time here: choose the device's password.
    LocalPassword { min_length: usize },
    /// The cache is open. `role`: the account's, as the server last stated it, for the
    /// menus (the server enforces what each role may do).
    Unlocked { role: crate::Role },
    /// The cache is closed: unlock with the device's password.
    Locked,
}

/// After an authenticator is set up: sign in again with a code; the recovery codes are
/// shown once and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetUpDone {
    pub email: String,
    pub recovery_codes: Vec<String>,
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
    /// A form's fields failed validation: each message goes next to its field.
    #[error("Some fields need attention")]
    Fields(Vec<crate::FieldMessage>),
    /// The server or the cache refused (a wrong password or code): its own words.
    #[error("{0}")]
    Refused(String),
    /// Too many attempts: the message says how long to wait.
    #[error("{0}")]
    Throttled(String),
    /// The server can't be reached: try again when online.
    #[error("{0}")]
    Offline(String),
    /// The server did not prove it is the company's (a certificate pin mismatch): a
    /// security warning, never a generic error.
    #[error("{0}")]
    Security(String),
    /// Something failed inside the app; the message is safe to show.
    #[error("Something went wrong inside Canopy: {0}")]
    Internal(String),
}
