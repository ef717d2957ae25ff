//! The security center's types: the person's devices, sign-ins and alerts (from the
//! server), and this device's own settings (auto-lock), which work offline too.

use serde::{Deserialize, Serialize};

use super::CommandError;

/// The auto-lock times a person may choose, in minutes.
pub const AUTO_LOCK_CHOICES: [u32; 5] = [1, 5, 15, 30, 60];

/// The shortest password for this device's encrypted data (kept in step with the shell's
/// rule, so the form can say it before asking).
pub const MIN_DEVICE_PASSWORD: usize = 10;

/// Everything the security center shows. `activity` needs the server; the rest is local.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityView {
    /// This device's id at the server (to mark it in the device list).
    pub this_device_id: Option<i64>,
    pub auto_lock: AutoLockView,
    /// The devices, sign-ins and alerts, or why they can't be shown now (offline, the
    /// session ended, a security warning).
    pub activity: Result<AccountActivityView, CommandError>,
}

/// What the server knows of the person's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountActivityView {
    /// Newest first, revoked ones too.
    pub devices: Vec<DeviceView>,
    /// Newest first.
    pub sign_ins: Vec<SignInView>,
    /// Newest first.
    pub alerts: Vec<AlertView>,
}

/// One of the person's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    pub id: i64,
    pub name: String,
    /// RFC 3339: when it first signed in.
    pub created_at: String,
    /// RFC 3339.
    pub last_seen_at: Option<String>,
    /// RFC 3339: set once revoked.
    pub revoked_at: Option<String>,
    /// The device this app runs on.
    pub this_device: bool,
}

/// One attempt to sign in to the person's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInView {
    /// RFC 3339.
    pub at: String,
    pub ip: String,
    pub device_id: Option<i64>,
    /// The device's name when it is one of the person's.
    pub device_name: Option<String>,
    /// The server's key: `success`, `wrong_password`, `wrong_second_factor`, …
    pub outcome: String,
    /// The outcome in words ("Signed in", "Wrong password").
    pub outcome_text: String,
    pub succeeded: bool,
    /// This sign-in registered a device the account had not used before.
    pub new_device: bool,
    /// It came from this device.
    pub this_device: bool,
}

/// A security alert about the person's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: i64,
    pub kind: String,
    /// The server's words.
    pub title: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// RFC 3339.
    pub created_at: String,
    /// The address and device behind it, in words ("From 203.0.113.7 on Phone").
    pub details: Option<String>,
}

/// This device's auto-lock: what the person chose within the company's limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoLockView {
    /// The idle minutes after which Canopy locks now (the choice, capped).
    pub minutes: u32,
    /// What the person chose, if they chose.
    pub chosen_minutes: Option<u32>,
    /// The longest the company allows.
    pub max_minutes: u32,
    /// Each choice and whether the company allows it.
    pub choices: Vec<AutoLockChoice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoLockChoice {
    pub minutes: u32,
    pub allowed: bool,
}

/// New recovery codes, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodesView {
    pub codes: Vec<String>,
    /// What to do with them, in the server's words.
    pub detail: String,
}

/// The codes are secrets: never printed.
impl std::fmt::Debug for RecoveryCodesView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryCodesView")
            .field("count", &self.codes.len())
            .finish_non_exhaustive()
    }
}

/// After the account's password changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPasswordChanged {
    /// Sessions on other devices that were signed out.
    pub sessions_ended: u64,
}
