//! The privacy card (GDPR, SECURITY.md #23): the person's data export and erasure request,
//! and the admin's erasure of a member.

use serde::{Deserialize, Serialize};

/// Where the person's data export was saved, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataExportView {
    pub path: String,
    pub bytes: u64,
    pub orders: u64,
    pub statements: u64,
    pub sign_ins: u64,
}

/// An erasure request on its way to the company's admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRequestView {
    /// The admin alert that carries it.
    pub alert_id: i64,
}

/// What an admin's erasure of a member removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureView {
    pub member_id: i64,
    pub account_id: Option<i64>,
    pub devices_revoked: u64,
    pub sessions_ended: u64,
    pub sign_ins_deleted: u64,
}
