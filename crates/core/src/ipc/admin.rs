//! The admin screens' types: accounts (a page at a time), one account's devices, and the
//! admin alerts. The server decides who may see them; these only carry what it sent.

use serde::{Deserialize, Serialize};

use crate::Role;

/// Accounts per page on the admin's list.
pub const ADMIN_ACCOUNTS_PAGE: u32 = 50;

/// An account as the admin's list shows it. Never a password hash, secret or token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAccountView {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// The genealogy member the account is, if any: their number and name.
    pub member_number: Option<String>,
    pub member_name: Option<String>,
    pub disabled: bool,
    /// Whether an authenticator app is set up.
    pub mfa_enabled: bool,
    /// Devices not revoked.
    pub devices: u32,
    /// RFC 3339: the last completed sign-in.
    pub last_sign_in_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// One page of accounts, in email order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAccountPage {
    pub accounts: Vec<AdminAccountView>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next_after: Option<i64>,
}

/// One of an account's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminDeviceView {
    pub id: i64,
    pub name: String,
    /// RFC 3339: when it first signed in.
    pub created_at: String,
    /// RFC 3339.
    pub last_seen_at: Option<String>,
    /// RFC 3339: set once revoked.
    pub revoked_at: Option<String>,
}

/// Which admin alerts to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminAlertFilter {
    #[default]
    Open,
    Acknowledged,
    Resolved,
    /// Every state, open ones first.
    All,
}

impl AdminAlertFilter {
    pub const ALL: [AdminAlertFilter; 4] = [
        AdminAlertFilter::Open,
        AdminAlertFilter::Acknowledged,
        AdminAlertFilter::Resolved,
        AdminAlertFilter::All,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            AdminAlertFilter::Open => "Open",
            AdminAlertFilter::Acknowledged => "Acknowledged",
            AdminAlertFilter::Resolved => "Resolved",
            AdminAlertFilter::All => "All",
        }
    }
}

/// A security alert raised for the admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAlertView {
    pub id: i64,
    pub kind: String,
    /// The server's words.
    pub title: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// The account the alert is about.
    pub account_id: Option<i64>,
    /// What lies behind it (addresses, counts, device names), in the server's order.
    pub evidence: Vec<EvidenceItem>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub acknowledged_at: Option<String>,
    /// RFC 3339.
    pub resolved_at: Option<String>,
    /// For an erasure request (kind `gdpr_erasure_request`) not processed yet: the member
    /// whose data to erase.
    #[serde(default)]
    pub erasure_member: Option<i64>,
}

/// One fact behind an alert, ready to show ("Ip", "203.0.113.7").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub label: String,
    pub value: String,
}
