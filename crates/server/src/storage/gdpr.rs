//! What GDPR asks of storage (SECURITY.md #23, #24): a person's consent and notes for their
//! data export, the erasure that pseudonymises a member and everything that names them,
//! and the retention purge of sign-in history and closed alerts.

use canopy_core::{AccountId, MemberId};
use time::OffsetDateTime;

use super::DeviceId;

/// The name an erased member keeps in the tree: the node, its number and its money stay,
/// the person is gone.
pub const ERASED_NAME: &str = "Erased member";

/// The email an erased account keeps: unique per account, in a domain that can't receive
/// mail (RFC 2606 `.invalid`), so nothing can reach or find the person through it.
pub fn erased_email(account: AccountId) -> String {
    format!("erased-{account}@erased.invalid")
}

/// The consent given with an enrollment (GDPR art. 7), kept after an erasure: it names no
/// one, and it is the record that the processing before the erasure was lawful.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub member: MemberId,
    pub text_version: String,
    pub purposes: Vec<String>,
    pub given_at: OffsetDateTime,
    pub given_offline: bool,
    /// The account that enrolled the member.
    pub enrolled_by: AccountId,
}

/// A private note an account wrote about a member of its downline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRecord {
    pub id: i64,
    pub member: MemberId,
    pub body: String,
    pub created_at: OffsetDateTime,
}

/// An admin's erasure of a member, applied in one transaction with its audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub member: MemberId,
    /// The admin processing the request.
    pub by: AccountId,
    /// Replaces the member's account's password hash: a hash of random bytes nobody knows,
    /// so the account can never be signed in to again (and is disabled besides).
    pub unusable_password_hash: String,
    pub at: OffsetDateTime,
}

/// What an erasure removed, for the admin and the audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRecord {
    pub member: MemberId,
    /// The member's own account, pseudonymised and disabled, if they had one.
    pub account: Option<AccountId>,
    /// The account's devices, revoked (each wipes its cache at its next contact).
    pub devices_revoked: Vec<DeviceId>,
    pub sessions_ended: u64,
    pub sign_ins_deleted: u64,
    pub notes_deleted: u64,
    /// The audit event that records the erasure.
    pub audit_seq: i64,
}

/// How many rows a retention purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    pub sign_ins: u64,
    pub alerts: u64,
}

/// An enrollment or order an account's device pushed, and from which network address (the
/// transaction watch keeps these for a few months).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRecord {
    pub at: OffsetDateTime,
    /// `enroll` or `order`.
    pub kind: String,
    pub device: DeviceId,
    pub ip: String,
    /// The member enrolled, or ordered for.
    pub member: MemberId,
    pub order: Option<i64>,
}
