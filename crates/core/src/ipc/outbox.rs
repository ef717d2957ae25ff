//! The enrollment form, the outbox and the sync center's types.

use serde::{Deserialize, Serialize};

use crate::enrollment::EnrollmentKind;

/// The consent text an enrollment form shows, and its version, recorded with each
/// enrollment so what the person agreed to can be reproduced later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentTextView {
    pub version: String,
    pub terms: String,
    pub privacy: String,
}

/// An enrollment as the form sends it: the text of each field, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnrollRequest {
    pub kind: EnrollmentKind,
    /// `None`: the user themself.
    pub sponsor: Option<i64>,
    pub legal_name: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    pub address_line1: String,
    pub address_line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    /// ISO 3166 alpha-2.
    pub country: String,
    pub tax_id: String,
    /// The version of the consent text the form showed ([`ConsentTextView::version`]).
    pub consent_version: String,
    /// The terms and the privacy notice were accepted (both are required).
    pub accepted: bool,
    pub marketing_email: bool,
    pub marketing_sms: bool,
}

impl Default for EnrollRequest {
    fn default() -> Self {
        Self {
            kind: EnrollmentKind::Distributor,
            sponsor: None,
            legal_name: String::new(),
            display_name: String::new(),
            email: String::new(),
            phone: String::new(),
            date_of_birth: String::new(),
            address_line1: String::new(),
            address_line2: String::new(),
            city: String::new(),
            region: String::new(),
            postal_code: String::new(),
            country: String::new(),
            tax_id: String::new(),
            consent_version: String::new(),
            accepted: false,
            marketing_email: false,
            marketing_sms: false,
        }
    }
}

/// Where a command in the outbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStateView {
    /// Saved on this device, waiting to be sent.
    Pending,
    /// Sent; the answer hasn't come back.
    Sending,
    /// The server applied it.
    Applied,
    /// The server refused it: fix and resend, or discard.
    Rejected,
}

/// One command in the outbox, described for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItemView {
    pub seq: i64,
    /// "Enrollment", "Order", "Contact details", "Note".
    pub kind: String,
    /// What it does ("Enroll Ana Lima as a distributor under Maria S.").
    pub summary: String,
    pub state: OutboxStateView,
    /// RFC 3339.
    pub created_at: String,
    pub attempts: u32,
    /// Why it was refused, or the last transient failure.
    pub last_error: Option<String>,
    /// What the server made of it (the new member's number), once applied.
    pub server_ref: Option<String>,
}

/// A bootstrap's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapView {
    pub rows_done: u64,
    pub rows_total: u64,
    /// Rows per second so far.
    pub rate: f64,
    /// Seconds left at that rate; `None` before there is a rate.
    pub remaining_secs: Option<u64>,
}

/// The sync center's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncStatusView {
    pub running: bool,
    pub bootstrap: Option<BootstrapView>,
    /// RFC 3339.
    pub last_success: Option<String>,
    /// Commands waiting to be sent or answered.
    pub pending: usize,
    /// Commands the server refused, waiting for the user.
    pub rejected: usize,
    pub offline: bool,
    pub last_error: Option<String>,
    /// RFC 3339.
    pub next_at: Option<String>,
    /// Why syncing stopped until "sync now".
    pub halted: Option<String>,
    /// The halt is a pin mismatch: show it as a security warning.
    pub security_warning: bool,
    pub sign_in_needed: bool,
    pub revoked: bool,
}

/// What an outbox export wrote, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxExportView {
    pub path: String,
    pub items: u64,
}

/// What an outbox import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxImportView {
    pub added: u64,
    pub already_present: u64,
}

/// An outbox file in the folder imports are read from (the Downloads folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxFileView {
    pub name: String,
    /// When the file was last written (RFC 3339), if the system says.
    pub modified: Option<String>,
    pub bytes: u64,
}
