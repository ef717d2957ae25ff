//! The plain records the [`Storage`](super::Storage) trait reads and writes: accounts,
//! devices, sessions and tokens, sign-ins, members, audit events and security alerts. No
//! database types here.

use std::fmt;
use std::net::IpAddr;

use canopy_core::{
    AccountId, CountryCode, Email, MemberId, MemberNumber, MemberStatus, PersonName,
    PersonalDetails, Placement, RankLevel, Role,
};
use time::{Date, OffsetDateTime};

macro_rules! storage_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

storage_id!(
    /// A registered device (an app install holding an Ed25519 key).
    DeviceId
);
storage_id!(
    /// A session: one sign-in on one device, i.e. a family of rotating refresh tokens.
    FamilyId
);
storage_id!(
    /// A security alert, for a user or for admins.
    AlertId
);

/// The SHA-256 of a token or recovery code. Only hashes are stored, so a copy of the
/// database does not hand out live credentials.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Enough to tell two hashes apart in a test failure, not enough to matter.
        write!(f, "TokenHash({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// A sign-in account to create. The password is already hashed (a PHC string).
#[derive(Clone)]
pub struct NewAccount {
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    /// The genealogy member this person is; `None` for company staff who are not members.
    pub member: Option<MemberId>,
}

impl fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAccount")
            .field("role", &self.role)
            .field("member", &self.member)
            .finish_non_exhaustive()
    }
}

/// A person who signs in.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: AccountId,
    /// As the person typed it (local part keeps its case); matched case-insensitively.
    pub email: Email,
    /// PHC string (`$argon2id$v=19$…`).
    pub password_hash: String,
    pub role: Role,
    pub member: Option<MemberId>,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
    pub password_changed_at: OffsetDateTime,
    pub mfa: MfaRecord,
}

impl fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountRecord")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("member", &self.member)
            .field("disabled", &self.disabled)
            .field("mfa_enabled", &self.mfa.enabled)
            .finish_non_exhaustive()
    }
}

/// An account's two-step sign-in state.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct MfaRecord {
    /// The TOTP secret sealed with the server's key (never the raw secret).
    pub sealed_secret: Option<Vec<u8>>,
    /// Set once the person has confirmed the secret with a first code.
    pub enabled: bool,
    /// The last TOTP time step accepted; a code for this step or an older one is a replay.
    pub last_step: Option<i64>,
}

impl fmt::Debug for MfaRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaRecord")
            .field("has_secret", &self.sealed_secret.is_some())
            .field("enabled", &self.enabled)
            .field("last_step", &self.last_step)
            .finish()
    }
}

/// A device to register for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub account: AccountId,
    /// What the person calls it ("Work laptop").
    pub name: String,
    /// The Ed25519 public key that signs this device's refresh calls.
    pub public_key: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub account: AccountId,
    pub name: String,
    pub public_key: [u8; 32],
    pub created_at: OffsetDateTime,
    pub last_seen_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token handed to a client, as stored: its hash and when it stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuedToken {
    pub hash: TokenHash,
    pub expires_at: OffsetDateTime,
}

/// A session to open after a successful sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSession {
    pub account: AccountId,
    pub device: DeviceId,
    /// Whether the sign-in included a second factor (starts the step-up clock).
    pub mfa_verified: bool,
    pub refresh: IssuedToken,
    pub access: IssuedToken,
}

/// Why a session ended; kept with the session for "my devices" and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevokeReason {
    SignOut,
    /// An already-used refresh token came back: someone holds a copy.
    RefreshReuse,
    DeviceRevoked,
    PasswordChanged,
    MfaChanged,
    AccountDisabled,
    /// An admin ended it.
    Admin,
}

impl RevokeReason {
    pub const ALL: [RevokeReason; 7] = [
        RevokeReason::SignOut,
        RevokeReason::RefreshReuse,
        RevokeReason::DeviceRevoked,
        RevokeReason::PasswordChanged,
        RevokeReason::MfaChanged,
        RevokeReason::AccountDisabled,
        RevokeReason::Admin,
    ];

    /// The stable key kept in the database.
    pub const fn key(self) -> &'static str {
        match self {
            RevokeReason::SignOut => "sign_out",
            RevokeReason::RefreshReuse => "refresh_reuse",
            RevokeReason::DeviceRevoked => "device_revoked",
            RevokeReason::PasswordChanged => "password_changed",
            RevokeReason::MfaChanged => "mfa_changed",
            RevokeReason::AccountDisabled => "account_disabled",
            RevokeReason::Admin => "admin",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// A session (refresh-token family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRecord {
    pub family: FamilyId,
    pub account: AccountId,
    pub device: DeviceId,
    pub created_at: OffsetDateTime,
    /// The last time this session proved a second factor (sign-in or step-up).
    pub mfa_verified_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_reason: Option<RevokeReason>,
}

/// A refresh token with the session it belongs to, for the handler to check the device's
/// signature before rotating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub hash: TokenHash,
    pub session: SessionRecord,
    pub issued_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub expires_at: OffsetDateTime,
}

/// A refresh call: the token presented and the pair that replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshRotation {
    pub presented: TokenHash,
    pub refresh: IssuedToken,
    pub access: IssuedToken,
}

/// What came of a refresh call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token is now used and the new pair is live.
    Rotated(SessionRecord),
    /// The presented token had been used before: the whole session is now revoked.
    ReuseDetected(SessionRecord),
    /// Nothing changed; the call is refused.
    Refused(RefreshRefusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    Unknown,
    Expired,
    SessionRevoked,
    DeviceRevoked,
    AccountDisabled,
}

/// Who a live access token speaks for, read in the same query that checks it is live
/// (not expired, not revoked, session live, device not revoked, account not disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessGrant {
    pub account: AccountId,
    pub role: Role,
    pub member: Option<MemberId>,
    pub device: DeviceId,
    pub family: FamilyId,
    pub expires_at: OffsetDateTime,
    pub session_created_at: OffsetDateTime,
    pub mfa_verified_at: Option<OffsetDateTime>,
}

/// How a sign-in attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignInOutcome {
    Success,
    WrongPassword,
    WrongSecondFactor,
    UnknownAccount,
    AccountDisabled,
    DeviceRevoked,
    Throttled,
}

impl SignInOutcome {
    pub const ALL: [SignInOutcome; 7] = [
        SignInOutcome::Success,
        SignInOutcome::WrongPassword,
        SignInOutcome::WrongSecondFactor,
        SignInOutcome::UnknownAccount,
        SignInOutcome::AccountDisabled,
        SignInOutcome::DeviceRevoked,
        SignInOutcome::Throttled,
    ];

    pub const fn key(self) -> &'static str {
        match self {
            SignInOutcome::Success => "success",
            SignInOutcome::WrongPassword => "wrong_password",
            SignInOutcome::WrongSecondFactor => "wrong_second_factor",
            SignInOutcome::UnknownAccount => "unknown_account",
            SignInOutcome::AccountDisabled => "account_disabled",
            SignInOutcome::DeviceRevoked => "device_revoked",
            SignInOutcome::Throttled => "throttled",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.key() == key)
    }
}

/// One sign-in attempt to remember.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInAttempt {
    /// `None` when the email matched no account.
    pub account: Option<AccountId>,
    /// A keyed hash of the email typed, so attempts on unknown addresses can be grouped
    /// without storing the address.
    pub email_hash: Option<TokenHash>,
    pub ip: IpAddr,
    pub device: Option<DeviceId>,
    pub outcome: SignInOutcome,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInRecord {
    pub id: i64,
    pub attempt: SignInAttempt,
}

/// An order pushed from a device: for whom, which products and how many, answered under
/// the device's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub account: AccountId,
    pub key: String,
    pub member: MemberId,
    pub lines: Vec<(canopy_core::Sku, std::num::NonZeroU32)>,
    /// `limits.max_order_minor`, in the catalogue's currency.
    pub max_total_minor: i64,
}

/// A member's place in the genealogy: what every viewer in scope may see. Personal
/// fields live apart (see [`NewMember::personal`]); the rank's name comes from the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub id: MemberId,
    pub number: MemberNumber,
    pub sponsor: Option<MemberId>,
    pub placement: Option<Placement>,
    pub rank: RankLevel,
    pub status: MemberStatus,
    pub joined_on: Date,
    pub country: CountryCode,
    pub display_name: PersonName,
}

/// A member to insert, with their personal details if on file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMember {
    pub member: MemberRecord,
    pub personal: Option<PersonalDetails>,
}

/// Which tree a downline follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tree {
    /// Who enrolled whom.
    Sponsor,
    /// Where each member was placed.
    Placement,
}

/// A security event to append to the audit log. `details` must hold no secrets
/// (passwords, codes, tokens, keys) and no personal data beyond ids.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub at: OffsetDateTime,
    pub actor: Option<AccountId>,
    /// e.g. `sign_in.failure`, `role.change`, `device.revoke`.
    pub action: String,
    /// What it was done to, e.g. `account:42`.
    pub target: Option<String>,
    pub details: serde_json::Value,
}

/// A bootstrap snapshot: the ordered list of what one account may see, at a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRecord {
    pub id: i64,
    pub account: AccountId,
    /// Whose downline (the member included); `None` for the whole company.
    pub root: Option<MemberId>,
    pub rows_total: u64,
    pub created_at: OffsetDateTime,
    /// The change log's position when the scope was listed: deltas start after it.
    pub change_seq: i64,
}

/// An appended audit event with its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// 1, 2, 3, … with no gaps.
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: Option<AccountId>,
    pub action: String,
    pub target: Option<String>,
    /// Canonical JSON (object keys sorted), exactly the bytes that were hashed.
    pub details: String,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// Failed password checks on one account in a time span (from the sign-in history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureSummary {
    pub failures: u32,
    /// How many source addresses they came from.
    pub distinct_ips: u32,
}

/// Who an alert is for: the account's owner, or the company's admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertAudience {
    User,
    Admin,
}

impl AlertAudience {
    pub const fn key(self) -> &'static str {
        match self {
            AlertAudience::User => "user",
            AlertAudience::Admin => "admin",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [AlertAudience::User, AlertAudience::Admin]
            .into_iter()
            .find(|a| a.key() == key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertSeverity {
    Info,
    Warning,
    Critical,
}

impl AlertSeverity {
    pub const fn key(self) -> &'static str {
        match self {
            AlertSeverity::Info => "info",
            AlertSeverity::Warning => "warning",
            AlertSeverity::Critical => "critical",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [
            AlertSeverity::Info,
            AlertSeverity::Warning,
            AlertSeverity::Critical,
        ]
        .into_iter()
        .find(|s| s.key() == key)
    }
}

/// Where an alert stands: open until someone acknowledges it, done once resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertState {
    Open,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub const fn key(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }
}

/// An alert to raise. `evidence` holds ids, addresses and device names only: never
/// passwords, codes, tokens or keys.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// The account the alert is about, if any.
    pub account: Option<AccountId>,
    pub audience: AlertAudience,
    /// e.g. `new_device_sign_in`, `repeated_failures`.
    pub kind: String,
    pub severity: AlertSeverity,
    pub evidence: serde_json::Value,
    pub at: OffsetDateTime,
    /// Raise nothing while an unresolved alert of the same kind, audience and account
    /// exists (checked in the same transaction as the insert).
    pub unless_open: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    pub id: AlertId,
    pub account: Option<AccountId>,
    pub audience: AlertAudience,
    pub kind: String,
    pub severity: AlertSeverity,
    pub evidence: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by: Option<AccountId>,
    pub resolved_at: Option<OffsetDateTime>,
    pub resolved_by: Option<AccountId>,
}

impl AlertRecord {
    pub fn state(&self) -> AlertState {
        match (self.acknowledged_at, self.resolved_at) {
            (_, Some(_)) => AlertState::Resolved,
            (Some(_), None) => AlertState::Acknowledged,
            (None, None) => AlertState::Open,
        }
    }
}
