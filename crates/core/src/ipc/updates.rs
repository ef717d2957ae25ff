//! Signed app updates as the UI sees them: whether a newer release of Canopy is offered by
//! the company's server, and what installing it did. The shell verifies every signature.

use serde::{Deserialize, Serialize};

/// The answer to "check for updates".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpdateCheck {
    /// Nothing newer than the running version (an older or equal release is never offered).
    UpToDate { current: String },
    /// A newer release; its signature is checked when it is downloaded.
    Available {
        current: String,
        version: String,
        notes: String,
        /// RFC 3339, when the server gave one.
        date: Option<String>,
    },
}

/// After an update was downloaded, verified and installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateInstalled {
    pub version: String,
    /// The new version runs after Canopy is restarted.
    pub restart_needed: bool,
}
