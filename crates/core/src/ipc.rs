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
    /// The cache is open.
    Unlocked,
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

/// One member as the genealogy's lists and tree show them: public fields only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRowView {
    pub id: i64,
    pub number: String,
    pub display_name: String,
    pub rank: u16,
    pub rank_name: String,
    pub status: crate::MemberStatus,
    /// `YYYY-MM-DD`.
    pub joined_on: String,
    pub country: String,
    /// Levels below the list's root (1: enrolled by them).
    pub level: u32,
    pub team_size: u64,
    pub has_children: bool,
    /// Personal and group volume in the list's period, in hundredths of a point.
    pub pv: i64,
    pub gv: i64,
}

/// Which tree a list follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreeKind {
    #[default]
    Sponsor,
    Placement,
}

/// What a downline list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    JoinDate,
    Name,
    Rank,
    Level,
    Country,
    Status,
    PersonalVolume,
    GroupVolume,
}

/// Narrows a downline list; empty lists and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DownlineFilterView {
    pub ranks: Vec<u16>,
    pub statuses: Vec<crate::MemberStatus>,
    /// ISO 3166 alpha-2 codes.
    pub countries: Vec<String>,
    /// Levels below the root, inclusive.
    pub levels: Option<(u32, u32)>,
    /// `YYYY-MM-DD`, inclusive.
    pub joined_from: Option<String>,
    pub joined_to: Option<String>,
}

/// One page of a downline list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DownlineRequest {
    /// Whose downline; `None`: the top of this device's scope (the user).
    pub root: Option<i64>,
    pub tree: TreeKind,
    /// `YYYY-MM` for the volumes shown; `None`: this month.
    pub period: Option<String>,
    pub filter: DownlineFilterView,
    pub sort: SortKey,
    pub descending: bool,
    /// The previous page's `next`.
    pub after: Option<String>,
    /// Rows per page (1 to 1,000; 0 means 200).
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownlinePageView {
    pub rows: Vec<MemberRowView>,
    /// Hand back as `after` for the next page; `None` on the last.
    pub next: Option<String>,
}
