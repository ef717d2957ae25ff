//! The server's storage, behind the object-safe [`Storage`] trait so handlers never know the
//! database: SQLite ([`sqlite`], the default) or PostgreSQL ([`postgres`], several instances
//! on one database), chosen at start-up by [`open`] from the database URL.
//!
//! Conventions every backend keeps:
//! - Instants are UTC unix seconds in the database (`INTEGER`/`BIGINT`) and
//!   [`OffsetDateTime`] in Rust; sub-second precision and the offset are not kept. Dates
//!   (join date, birth date) are `YYYY-MM-DD` text.
//! - The caller passes `now`, so tests and several server instances agree on time.
//! - Security state (sessions, tokens, used TOTP steps, throttling counters) lives only in
//!   the database; every call that changes several rows does so in one transaction.

pub mod audit;
mod error;
pub mod gdpr;
mod keys;
pub mod postgres;
mod records;
pub mod sqlite;
pub mod testing;
pub mod throttle;

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use canopy_core::sync::VolumeRow;
use canopy_core::sync::push::{Contact, Outcome};
use canopy_core::{
    AccountId, Email, Enrollment, MemberId, MemberNumber, Order, OrderId, Period, PersonName,
    PersonalDetails, Product, Role,
};
use time::OffsetDateTime;

pub use error::{BackendError, Conflict, StorageError};
pub use gdpr::{ConsentRecord, Erasure, ErasureRecord, NoteRecord, PurgeCounts, PushRecord};
pub use records::{
    AccessGrant, AccountRecord, AlertAudience, AlertId, AlertRecord, AlertSeverity, AlertState,
    AuditRecord, DeviceId, DeviceRecord, FailureSummary, FamilyId, IssuedToken, MemberRecord,
    MfaRecord, NewAccount, NewAlert, NewAuditEvent, NewDevice, NewMember, NewOrder, NewSession,
    RefreshRefusal, RefreshRotation, RefreshTokenRecord, RevokeReason, RotateOutcome,
    SessionRecord, SignInAttempt, SignInOutcome, SignInRecord, SnapshotRecord, TokenHash, Tree,
};
pub use throttle::{ThrottleKey, ThrottlePolicy, ThrottleState, ThrottleStatus};

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The key an account's email is unique by and found by, whatever the backend: trimmed,
/// lowercased (full Unicode) and NFC, so `Zoë@X.de` typed either way finds the account.
pub fn email_key(email: &str) -> String {
    canopy_core::auth::email_key(email)
}

/// The network an address belongs to, for "a sign-in from a new network" and its alert's
/// evidence: the /24 of an IPv4 address, the /48 of an IPv6 one (a home or office line
/// keeps its prefix when the provider changes the address), as `192.0.2.0/24`.
pub fn network_of(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{net}/48")
        }
    }
}

/// Everything the server keeps. Methods returning `Result<()>` on a single row report
/// [`StorageError::NotFound`] when the row does not exist.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    // --- Accounts -------------------------------------------------------------------

    /// [`Conflict::EmailTaken`] if the email matches another account's, ignoring case.
    async fn create_account(&self, new: NewAccount, now: OffsetDateTime) -> Result<AccountRecord>;
    /// Matches on [`email_key`]: case and Unicode form are ignored.
    async fn find_account_by_email(&self, email: &str) -> Result<Option<AccountRecord>>;
    async fn find_account(&self, id: AccountId) -> Result<Option<AccountRecord>>;
    /// A new password: stores the hash, bumps `password_changed_at` and revokes every
    /// session of the account except `keep` (the one making the change), in one
    /// transaction. Returns how many sessions were revoked.
    async fn change_password(
        &self,
        id: AccountId,
        password_hash: String,
        keep: Option<FamilyId>,
        now: OffsetDateTime,
    ) -> Result<u64>;
    /// The same password re-hashed with stronger parameters: no session is touched.
    async fn update_password_hash(&self, id: AccountId, password_hash: String) -> Result<()>;
    /// Sets the sealed TOTP secret and whether MFA is on. A different secret forgets the
    /// last used step. Enabling without a secret is [`StorageError::Invalid`].
    async fn set_mfa(
        &self,
        id: AccountId,
        sealed_secret: Option<Vec<u8>>,
        enabled: bool,
    ) -> Result<()>;
    /// The TOTP replay guard: records `step` only if it is newer than the last accepted
    /// one (compare-and-set). `false` means a replayed or older code.
    async fn accept_totp_step(&self, id: AccountId, step: i64) -> Result<bool>;
    /// Stores a new sealed TOTP secret as pending (replacing one already pending), or
    /// clears it with `None`; the active secret and `mfa_enabled` stay as they are.
    async fn set_pending_totp(
        &self,
        id: AccountId,
        sealed_secret: Option<Vec<u8>>,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// The pending sealed TOTP secret and when it was stored, if any.
    async fn find_pending_totp(&self, id: AccountId) -> Result<Option<(Vec<u8>, OffsetDateTime)>>;
    /// In one transaction: the pending secret (if it still is `promotion.sealed_secret`)
    /// becomes the active one with MFA on, the replay guard restarts at `promotion.step`,
    /// the pending one is cleared, the recovery codes are replaced and every session but
    /// `promotion.keep` is revoked. Returns how many sessions ended; `None` (nothing
    /// changed) if that secret is no longer pending.
    async fn promote_pending_totp(
        &self,
        id: AccountId,
        promotion: TotpPromotion,
        now: OffsetDateTime,
    ) -> Result<Option<u64>>;
    /// Disabling also revokes every session at once.
    async fn set_account_disabled(
        &self,
        id: AccountId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> Result<()>;
    async fn set_role(&self, id: AccountId, role: Role) -> Result<()>;
    /// For the admin's account list: accounts whose [`email_key`] starts with `prefix`
    /// (every account when it is empty), in email-key order, after the account `after`
    /// (keyset paging: one index range however many accounts), at most `limit`.
    /// [`StorageError::NotFound`] when `after` is no account.
    async fn list_accounts(
        &self,
        prefix: &str,
        after: Option<AccountId>,
        limit: u32,
    ) -> Result<Vec<AccountSummary>>;

    // --- Recovery codes ---------------------------------------------------------------

    /// Replaces every recovery code of the account (used or not) with these.
    async fn replace_recovery_codes(&self, id: AccountId, hashes: Vec<TokenHash>) -> Result<()>;
    /// Marks an unused code as used; `false` if no unused code has this hash.
    async fn consume_recovery_code(
        &self,
        id: AccountId,
        hash: TokenHash,
        now: OffsetDateTime,
    ) -> Result<bool>;
    async fn count_unused_recovery_codes(&self, id: AccountId) -> Result<u32>;

    // --- Devices ----------------------------------------------------------------------

    async fn register_device(&self, new: NewDevice, now: OffsetDateTime) -> Result<DeviceRecord>;
    /// Newest first, revoked ones included.
    async fn list_devices(&self, account: AccountId) -> Result<Vec<DeviceRecord>>;
    async fn find_device(&self, id: DeviceId) -> Result<Option<DeviceRecord>>;
    async fn touch_device(&self, id: DeviceId, now: OffsetDateTime) -> Result<()>;
    /// Revokes the device, its sessions and their tokens in one transaction. `false` if it
    /// was already revoked. The caller checks who owns it.
    async fn revoke_device(&self, id: DeviceId, now: OffsetDateTime) -> Result<bool>;

    // --- Sessions and tokens -------------------------------------------------------------

    /// Opens a session (refresh-token family) with its first refresh and access tokens. The
    /// device must belong to the account and be live, and the account enabled.
    async fn create_session(&self, new: NewSession, now: OffsetDateTime) -> Result<SessionRecord>;
    async fn find_refresh_token(&self, hash: TokenHash) -> Result<Option<RefreshTokenRecord>>;
    /// Rotates atomically: an unused token of a live session is marked used and the new pair
    /// stored; an already used one revokes its whole session ([`RotateOutcome::ReuseDetected`]).
    async fn rotate_refresh_token(
        &self,
        rotation: RefreshRotation,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome>;
    /// The grant of an access token that is unexpired and unrevoked, in a live session, on
    /// a live device, of an enabled account; `None` otherwise.
    async fn find_access_token(
        &self,
        hash: TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AccessGrant>>;
    /// Records a second factor proven within this session (for admin step-up).
    async fn record_step_up(&self, family: FamilyId, now: OffsetDateTime) -> Result<()>;
    /// Whether this access token was issued to a device that has since been revoked.
    async fn token_device_revoked(&self, hash: TokenHash) -> Result<bool>;
    /// `false` if it was already revoked.
    async fn revoke_session(
        &self,
        family: FamilyId,
        reason: RevokeReason,
        now: OffsetDateTime,
    ) -> Result<bool>;
    /// Revokes every live session of the account except `keep`; returns how many.
    async fn revoke_sessions_except(
        &self,
        account: AccountId,
        keep: Option<FamilyId>,
        reason: RevokeReason,
        now: OffsetDateTime,
    ) -> Result<u64>;

    // --- Sign-in history ----------------------------------------------------------------

    async fn record_sign_in(&self, attempt: SignInAttempt) -> Result<SignInRecord>;
    /// Newest first.
    async fn recent_sign_ins(&self, account: AccountId, limit: u32) -> Result<Vec<SignInRecord>>;
    /// Whether the account ever signed in successfully from this address's network
    /// ([`network_of`]; for "new network" alerts).
    async fn has_signed_in_from(&self, account: AccountId, ip: IpAddr) -> Result<bool>;
    /// Whether the account ever completed a sign-in at all.
    async fn has_signed_in(&self, account: AccountId) -> Result<bool>;
    /// Failed password attempts from `ip` after `since` (wrong passwords, unknown emails,
    /// attempts refused by throttling), and for how many different emails typed
    /// (`distinct_ips` holds that count).
    async fn count_failures_from(
        &self,
        ip: IpAddr,
        since: OffsetDateTime,
    ) -> Result<FailureSummary>;
    /// Wrong passwords typed for the account after `since`, and from how many addresses.
    async fn count_failed_sign_ins(
        &self,
        account: AccountId,
        since: OffsetDateTime,
    ) -> Result<FailureSummary>;

    // --- Throttling -----------------------------------------------------------------------

    /// Counts a failure against each key and returns their new state; the delays follow
    /// `policy`. One transaction for all keys.
    async fn record_failure(
        &self,
        keys: Vec<ThrottleKey>,
        policy: ThrottlePolicy,
        now: OffsetDateTime,
    ) -> Result<ThrottleStatus>;
    /// Forgets the failures of these keys (e.g. the account on this device after a
    /// successful sign-in; never the IP, or one good account would reset an attacker's IP).
    async fn record_success(&self, keys: Vec<ThrottleKey>) -> Result<()>;
    async fn throttle_status(
        &self,
        keys: Vec<ThrottleKey>,
        policy: ThrottlePolicy,
        now: OffsetDateTime,
    ) -> Result<ThrottleStatus>;

    // --- Genealogy and orders -------------------------------------------------------------

    /// Inserts members (with their personal details) in one transaction, in any order: a
    /// sponsor or placement parent may come later in the batch. Returns how many.
    async fn insert_members(&self, members: Vec<NewMember>) -> Result<u64>;
    async fn find_member(&self, id: MemberId) -> Result<Option<MemberRecord>>;
    async fn find_member_personal(&self, id: MemberId) -> Result<Option<PersonalDetails>>;
    /// Members enrolled by `sponsor`, by id, after `after` (keyset paging).
    async fn list_enrollees(
        &self,
        sponsor: MemberId,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<MemberRecord>>;
    /// How many members are below `root` in `tree` (not counting `root`).
    async fn count_downline(&self, root: MemberId, tree: Tree) -> Result<u64>;
    /// Whether `ancestor` is on `member`'s sponsor chain (enroller, enroller's enroller, …),
    /// looking at most `max_depth` levels up, in one query whatever the depth.
    async fn is_in_sponsor_line(
        &self,
        member: MemberId,
        ancestor: MemberId,
        max_depth: u32,
    ) -> Result<bool>;
    /// Inserts orders with their lines in one transaction; every line must be in its
    /// order's currency. Returns how many orders.
    async fn insert_orders(&self, orders: Vec<Order>) -> Result<u64>;
    async fn find_order(&self, id: OrderId) -> Result<Option<Order>>;

    // --- Alerts ---------------------------------------------------------------------------

    /// Raises an alert. `None` when [`NewAlert::unless_open`] found an unresolved one of the
    /// same kind, audience and account, so nothing was raised.
    async fn create_alert(&self, new: NewAlert) -> Result<Option<AlertRecord>>;
    /// The account's own (user-audience) alerts, newest first, at most `limit`.
    async fn list_alerts_for_account(
        &self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<AlertRecord>>;
    /// Admin alerts in `state` (every state if `None`): open ones first, then
    /// acknowledged, then resolved, newest first within each; at most `limit`.
    async fn list_admin_alerts(
        &self,
        state: Option<AlertState>,
        limit: u32,
    ) -> Result<Vec<AlertRecord>>;
    /// Marks an admin alert acknowledged by `by` (the first acknowledgement is kept).
    /// [`StorageError::NotFound`] for an unknown id or a user alert.
    async fn acknowledge_alert(
        &self,
        id: AlertId,
        by: AccountId,
        now: OffsetDateTime,
    ) -> Result<AlertRecord>;
    /// Marks an admin alert resolved by `by` (acknowledging it too if nobody had); the
    /// first resolution is kept. [`StorageError::NotFound`] for an unknown id or a user alert.
    async fn resolve_alert(
        &self,
        id: AlertId,
        by: AccountId,
        now: OffsetDateTime,
    ) -> Result<AlertRecord>;

    // --- Sync -----------------------------------------------------------------------------

    /// Lists, in member-id order, `root` and its sponsor downline (everyone when `root` is
    /// `None`) as a new snapshot of `account`'s; the account's older snapshots are dropped.
    async fn create_snapshot(
        &self,
        account: AccountId,
        root: Option<MemberId>,
        now: OffsetDateTime,
    ) -> Result<SnapshotRecord>;
    async fn find_snapshot(&self, id: i64) -> Result<Option<SnapshotRecord>>;
    /// The members at positions `from..from + limit` of a snapshot, with their personal
    /// details if on file (the caller minimises them).
    async fn snapshot_members(
        &self,
        snapshot: i64,
        from: u64,
        limit: u32,
    ) -> Result<Vec<MemberWithPersonal>>;

    /// Moves a member (and their whole downline) under `sponsor`, logging a change for
    /// each of them. Refuses a sponsor in the member's own downline.
    async fn move_member(
        &self,
        id: MemberId,
        sponsor: MemberId,
        now: OffsetDateTime,
    ) -> Result<u64>;
    /// The change log after position `after`, oldest first, at most `limit`: each entry's
    /// position and the member it is about (`None`: the catalogue changed).
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<(i64, Option<MemberId>)>>;
    /// The change log's latest position (0 when empty).
    async fn latest_change(&self) -> Result<i64>;
    /// Adds or replaces catalogue products and logs the change for the sync.
    async fn put_products(&self, products: Vec<Product>, now: OffsetDateTime) -> Result<()>;
    /// The whole catalogue, withdrawn products included, by SKU.
    async fn products(&self) -> Result<Vec<Product>>;
    /// `member`'s own orders, oldest first.
    async fn orders_of(&self, member: MemberId) -> Result<Vec<Order>>;
    /// The personal volume of each of `members` in each period from `since` on in which
    /// they have an order, summed from the orders that count for volume
    /// ([`canopy_core::OrderStatus::counts_for_volume`]; zero when none does), by member
    /// then period. One read for the whole list.
    async fn volumes_of(&self, members: Vec<MemberId>, since: Period) -> Result<Vec<VolumeRow>>;
    /// [`Storage::volumes_of`] the members at positions `from..from + limit` of a snapshot
    /// (those [`Storage::snapshot_members`] reads), without listing them first.
    async fn snapshot_volumes(
        &self,
        snapshot: i64,
        from: u64,
        limit: u32,
        since: Period,
    ) -> Result<Vec<VolumeRow>>;
    /// Places an order priced by the catalogue (or refuses it with a reason), logs it for
    /// the sync, and keeps the answer under the order's key, all in one transaction.
    async fn place_order(&self, order: NewOrder, now: OffsetDateTime) -> Result<Outcome>;
    /// The change-log position now and the checksum of the scope under `root` (everyone
    /// when `None`) at that position (`canopy_core::sync::scope_checksum`), read together.
    async fn scope_checksum(&self, root: Option<MemberId>) -> Result<(i64, String)>;
    /// For a delta: each member of `ids` as it is now, if it still exists and is `root` or
    /// in `root`'s sponsor downline (any member when `root` is `None`), with its personal
    /// details; `None` for the others. One read for the whole batch.
    async fn members_in_scope(
        &self,
        ids: Vec<MemberId>,
        root: Option<MemberId>,
    ) -> Result<Vec<Option<MemberWithPersonal>>>;

    /// The answer already given to `account`'s command `key`, if any.
    async fn find_outcome(&self, account: AccountId, key: &str) -> Result<Option<Outcome>>;
    /// Keeps `outcome` as the answer to `account`'s command `key` (the first answer wins).
    async fn record_outcome(
        &self,
        account: AccountId,
        key: &str,
        outcome: &Outcome,
        now: OffsetDateTime,
    ) -> Result<Outcome>;
    /// Enrolls a validated distributor under a sponsor the caller may enroll under, and
    /// keeps the answer under `key`, in one transaction: the new member (next id and
    /// member number, next unilevel position), their personal details and consent, a
    /// change for the sync. An email already enrolled is a rejection; a key already
    /// answered returns that answer and changes nothing.
    async fn enroll_member(
        &self,
        account: AccountId,
        key: &str,
        enrollment: Enrollment,
        now: OffsetDateTime,
    ) -> Result<Outcome>;
    /// Keeps `account`'s private note on `member`, and the answer under `key`, in one
    /// transaction; a key already answered returns that answer.
    async fn add_note(
        &self,
        account: AccountId,
        key: &str,
        member: MemberId,
        body: String,
        now: OffsetDateTime,
    ) -> Result<Outcome>;
    /// Replaces `member`'s contact details (email, phone, address), logs the change for
    /// the sync, and keeps the answer under `key`. An email another member uses is a
    /// rejection.
    async fn update_contact(
        &self,
        account: AccountId,
        key: &str,
        member: MemberId,
        contact: Contact,
        now: OffsetDateTime,
    ) -> Result<Outcome>;
    /// [`Storage::enroll_member`] for a batch, in one transaction (one disk sync for a
    /// whole push): each enrollment and its answer still all-or-nothing on their own.
    async fn enroll_members(
        &self,
        account: AccountId,
        batch: Vec<(String, Enrollment)>,
        now: OffsetDateTime,
    ) -> Result<Vec<Outcome>>;

    // --- Audit ----------------------------------------------------------------------------

    /// Appends an event, chaining its hash to the previous one.
    async fn append_audit(&self, event: NewAuditEvent) -> Result<AuditRecord>;
    /// Events with `seq > after`, in order, at most `limit`.
    async fn list_audit(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>>;

    // --- GDPR (SECURITY.md #23, #24) ------------------------------------------------------

    /// The consent recorded with the member's enrollment, if they were enrolled through the
    /// app.
    async fn consent_of(&self, member: MemberId) -> Result<Option<ConsentRecord>>;
    /// The private notes the account wrote, oldest first.
    async fn notes_by(&self, account: AccountId) -> Result<Vec<NoteRecord>>;
    /// What the account's devices pushed and from where, oldest first.
    async fn pushes_by(&self, account: AccountId) -> Result<Vec<PushRecord>>;
    /// Every sign-in of the account on file, newest first (the retention purge bounds it).
    async fn all_sign_ins(&self, account: AccountId) -> Result<Vec<SignInRecord>>;
    /// In one transaction: the member is pseudonymised (name, personal details, notes about
    /// them), their account made unreachable (email, password, MFA, recovery codes,
    /// devices revoked and renamed, sessions ended, sign-ins and kept answers deleted,
    /// alert evidence redacted), the change logged for every device's next delta, and an
    /// audit event `gdpr.erasure` appended. The node, its orders, earnings and consent
    /// stay. [`StorageError::NotFound`] if there is no such member; `None`, with nothing
    /// written, if the member is erased already.
    async fn erase_member(&self, erasure: Erasure) -> Result<Option<ErasureRecord>>;
    /// The retention purge: sign-ins older than `sign_ins_before` and alerts resolved
    /// before `alerts_before` (`None` keeps them), in one transaction.
    async fn purge_history(
        &self,
        sign_ins_before: Option<OffsetDateTime>,
        alerts_before: Option<OffsetDateTime>,
    ) -> Result<PurgeCounts>;

    // --- Commissions (see the Commissions section at the end of this file) ---------------

    /// What a run of `period` reads, in one consistent snapshot: see [`CommissionInput`].
    async fn commission_input(&self, period: Period) -> Result<CommissionInput>;
    /// In one transaction: the period's earlier lines and results are replaced by these,
    /// the plan and the run row are recorded, and an audit event `commissions.run` (ids and
    /// counts only) is appended. `None`, with nothing written, when the period is closed.
    async fn record_commission_run(
        &self,
        run: NewCommissionRun,
    ) -> Result<Option<CommissionRunRecord>>;
    /// Marks a period final, with an audit event `commissions.close`.
    /// [`StorageError::NotFound`] if it was never run; `None` if it already is closed.
    async fn close_commission_period(
        &self,
        period: Period,
        by: Option<AccountId>,
        now: OffsetDateTime,
    ) -> Result<Option<CommissionPeriodRecord>>;
    /// The period's state, last run and totals by kind; `None` if it was never run.
    async fn commission_period(&self, period: Period) -> Result<Option<CommissionPeriodRecord>>;
    /// A member's lines in a period, in line-id order.
    async fn earnings_of(&self, member: MemberId, period: Period) -> Result<Vec<StoredLine>>;
    /// At most `limit` of a member's lines in a period after line `after`, in line-id order.
    async fn earnings_page(
        &self,
        member: MemberId,
        period: Period,
        after: Option<canopy_core::EarningsLineId>,
        limit: u32,
    ) -> Result<Vec<StoredLine>>;
    /// A member's statement in every period the company has run, oldest first.
    async fn statements_of(&self, member: MemberId) -> Result<Vec<StatementRecord>>;
    /// A member's period result and those of their direct enrollees (their legs).
    async fn period_result_with_legs(
        &self,
        member: MemberId,
        period: Period,
    ) -> Result<Option<(PeriodResultRecord, Vec<PeriodResultRecord>)>>;
    /// Claims `period`'s run for `holder` until `until`: `false` if another holder's claim
    /// is still unexpired at `now`. One run of a period at a time across every instance on
    /// the database; the claim is a lease, so a run whose process died stops blocking
    /// when it lapses.
    async fn claim_commission_run(
        &self,
        period: Period,
        holder: String,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool>;
    /// Gives up `holder`'s claim on `period` (nothing if it holds none).
    async fn release_commission_run(&self, period: Period, holder: String) -> Result<()>;
    /// A plan recorded by a run, by its hash.
    async fn commission_plan(&self, hash: String) -> Result<Option<PlanRecord>>;
    /// Moves an order to `status` (e.g. paid → refunded) if [`OrderStatus::can_become`]
    /// allows it, else [`StorageError::Invalid`]; logs the buyer for the sync, since their
    /// volume changes. A refund after close reaches the next run as clawbacks.
    ///
    /// [`OrderStatus::can_become`]: canopy_core::OrderStatus::can_become
    async fn set_order_status(
        &self,
        order: OrderId,
        status: canopy_core::OrderStatus,
        now: OffsetDateTime,
    ) -> Result<()>;

    // --- Transaction watch ----------------------------------------------------------------
    // What pushes applied, by whom and from where, for the watch's rules (crate::watch).

    /// Records what a push applied, in one transaction; an order or an enrollment recorded
    /// before (a push repeated after a lost answer) is skipped. An order's member, total and
    /// volume are read from the order. Events before `forget_before` are deleted. Returns
    /// what was recorded now.
    async fn record_push_events(
        &self,
        events: Vec<crate::watch::NewPushEvent>,
        forget_before: OffsetDateTime,
    ) -> Result<crate::watch::Recorded>;
    /// The totals (minor units) of `member`'s orders in `currency` placed before `order`,
    /// cancelled ones left out, newest first, at most `limit`.
    async fn earlier_order_totals(
        &self,
        member: MemberId,
        order: OrderId,
        currency: String,
        limit: u32,
    ) -> Result<Vec<i64>>;
    /// Enrollments recorded after `since` from `device` and from `ip`, with at most
    /// `max_ids` of each one's member ids (oldest first).
    async fn count_enrollments_since(
        &self,
        device: DeviceId,
        ip: IpAddr,
        since: OffsetDateTime,
        max_ids: u32,
    ) -> Result<crate::watch::EnrollmentCounts>;
    /// The orders `account` placed in `[from, to)`, their volume, and at most `max_ids` of
    /// their ids (oldest first).
    async fn orders_placed_by(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        max_ids: u32,
    ) -> Result<crate::watch::OrderActivity>;
    /// The links in `[from, to)` (one account's orders for another account's member) a
    /// loop of two or three through `account` is made of: its own, those into it, and
    /// those from an account it ordered for.
    async fn order_links_around(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<crate::watch::OrderLink>>;
    /// Raises an admin alert; with [`NewAlert::unless_open`], nothing while an unresolved
    /// alert of the same kind about the same situation (its evidence's `subject`) exists,
    /// checked in the same transaction.
    async fn raise_watch_alert(&self, alert: NewAlert) -> Result<Option<AlertRecord>>;
}

/// An account as the admin's list shows it: no password hash, no TOTP secret, no tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: AccountId,
    pub email: Email,
    pub role: Role,
    /// The genealogy member the account is, with their number and display name.
    pub member: Option<(MemberId, MemberNumber, PersonName)>,
    pub disabled: bool,
    pub mfa_enabled: bool,
    /// Devices not revoked.
    pub live_devices: u32,
    /// The last completed sign-in.
    pub last_sign_in: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// A member with their personal details if on file.
pub type MemberWithPersonal = (MemberRecord, Option<PersonalDetails>);

/// A confirmed replacement authenticator, for [`Storage::promote_pending_totp`].
pub struct TotpPromotion {
    /// The pending sealed secret the confirming code was checked against.
    pub sealed_secret: Vec<u8>,
    /// The TOTP step of the confirming code: it can't be used again.
    pub step: i64,
    /// Hashes of the new recovery codes; every old code is deleted.
    pub recovery_codes: Vec<TokenHash>,
    /// The session making the change, which stays signed in.
    pub keep: Option<FamilyId>,
}

/// Opens (and migrates) the storage a database URL names:
/// `postgres://user:password@host:port/database` (or `postgresql://`, with libpq's query
/// options), `sqlite:///absolute/path.db`, `sqlite://relative/path.db` or `sqlite::memory:`.
/// The URL is never echoed in errors, since a real one may hold a password.
pub async fn open(url: &str) -> Result<Arc<dyn Storage>> {
    match parse_url(url)? {
        Location::SqliteMemory => Ok(Arc::new(sqlite::SqliteStorage::open_in_memory().await?)),
        Location::SqliteFile(path) => Ok(Arc::new(
            sqlite::SqliteStorage::open(path, sqlite::Options::default()).await?,
        )),
        Location::Postgres(url) => Ok(Arc::new(
            postgres::PgStorage::open(&url, postgres::Options::default()).await?,
        )),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Location {
    SqliteMemory,
    SqliteFile(std::path::PathBuf),
    Postgres(String),
}

/// The file a `sqlite://` database URL names; `None` for `sqlite::memory:`; an error for
/// any other URL.
pub fn sqlite_file(url: &str) -> Result<Option<std::path::PathBuf>> {
    Ok(match parse_url(url)? {
        Location::SqliteFile(path) => Some(path),
        Location::SqliteMemory | Location::Postgres(_) => None,
    })
}

fn parse_url(url: &str) -> Result<Location> {
    let url = url.trim();
    if url == "sqlite::memory:" {
        return Ok(Location::SqliteMemory);
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() || path == "/" {
            return Err(StorageError::Unsupported(
                "the sqlite:// database URL has no file path".to_owned(),
            ));
        }
        return Ok(Location::SqliteFile(path.into()));
    }
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    if scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql") {
        return Ok(Location::Postgres(url.to_owned()));
    }
    Err(StorageError::Unsupported(
        "unknown database URL; expected postgres://user@host/database, \
         sqlite:///path/to/file.db or sqlite::memory:"
            .to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_keys_ignore_case_and_unicode_form() {
        let cases = [
            (" Zoë@Example.DE ", "zoë@example.de"),
            ("ZOE\u{308}@example.de", "zoë@example.de"),
            ("İlker@example.tr", "i\u{307}lker@example.tr"),
        ];
        for (email, key) in cases {
            assert_eq!(email_key(email), key, "{email}");
        }
    }

    #[test]
    fn database_urls() {
        let cases: [(&str, Result<Location, &str>); 7] = [
            ("sqlite::memory:", Ok(Location::SqliteMemory)),
            (
                "sqlite:///var/lib/canopy/canopy.db",
                Ok(Location::SqliteFile("/var/lib/canopy/canopy.db".into())),
            ),
            (
                "sqlite://data/canopy.db",
                Ok(Location::SqliteFile("data/canopy.db".into())),
            ),
            (
                "sqlite://",
                Err("the sqlite:// database URL has no file path"),
            ),
            (
                "postgres://canopy:hunter2@db/canopy",
                Ok(Location::Postgres(
                    "postgres://canopy:hunter2@db/canopy".into(),
                )),
            ),
            (
                "postgresql://db/canopy",
                Ok(Location::Postgres("postgresql://db/canopy".into())),
            ),
            (
                "mysql://db",
                Err(
                    "unknown database URL; expected postgres://user@host/database, \
                     sqlite:///path/to/file.db or sqlite::memory:",
                ),
            ),
        ];
        for (url, expected) in cases {
            let got = parse_url(url).map_err(|e| e.to_string());
            assert_eq!(got, expected.map_err(str::to_owned), "{url}");
        }
    }
}

// --- Commissions ------------------------------------------------------------------------
// Records of the commission engine's server side (crates/server/src/commissions).

/// What a commission run reads. `members` carry the highest rank held before the period
/// (the rank on file or the best of earlier runs); `orders` are the period's orders that
/// count for volume (paid, shipped: a returned or refunded order of the period reverses
/// itself by not counting); `refunded_after_close` are the lines ever issued, in periods
/// before this one, for orders refunded or returned after their period closed.
#[derive(Debug, Clone, Default)]
pub struct CommissionInput {
    pub members: Vec<canopy_core::comp::TreeMember>,
    pub orders: Vec<canopy_core::comp::PeriodOrder>,
    pub refunded_after_close: Vec<canopy_core::EarningsLine>,
}

/// An earnings line as stored, with the line it reverses for a correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    pub line: canopy_core::EarningsLine,
    pub reverses: Option<canopy_core::EarningsLineId>,
}

/// A member's statement for one run period: its totals and what identifies its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRecord {
    pub period: Period,
    pub closed: bool,
    /// The period's latest run (a statement changes only with a run or the closing).
    pub last_run: i64,
    pub currency: String,
    pub total_minor: i64,
    pub lines: u64,
}

/// A compensation plan as a run used it: the TOML text and its SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRecord {
    pub hash: String,
    pub version: u32,
    pub name: String,
    pub toml: String,
}

/// Everything one run of a period writes.
#[derive(Debug, Clone)]
pub struct NewCommissionRun {
    pub period: Period,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub by: Option<AccountId>,
    pub plan: PlanRecord,
    pub input_members: u64,
    pub input_orders: u64,
    pub currency: canopy_core::Currency,
    pub results: Vec<canopy_core::comp::MemberResult>,
    /// Numbered from the period's id range (see `commissions::ids`), so a rerun replaces
    /// each line under the same id.
    pub lines: Vec<StoredLine>,
    pub total_minor: i64,
    /// SHA-256 (hex) of the results and lines: equal hashes, equal runs.
    pub result_hash: String,
}

/// One run, as the audit keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionRunRecord {
    pub id: i64,
    pub period: Period,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub by: Option<AccountId>,
    pub plan_hash: String,
    pub input_members: u64,
    pub input_orders: u64,
    pub lines: u64,
    pub total_minor: i64,
    pub currency: String,
    pub result_hash: String,
}

/// A period's state, last run and what its lines add up to per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionPeriodRecord {
    pub period: Period,
    pub closed: bool,
    pub closed_at: Option<OffsetDateTime>,
    pub closed_by: Option<AccountId>,
    pub plan_hash: String,
    pub last_run: Option<CommissionRunRecord>,
    /// (kind, minor units, lines) in kind order, kinds with no line left out.
    pub totals: Vec<(canopy_core::EarningsKind, i64, u64)>,
}

/// A member's outcome of a period's run, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodResultRecord {
    pub member: MemberId,
    pub pv: canopy_core::Pv,
    pub gv: canopy_core::Gv,
    pub rank: canopy_core::RankLevel,
    pub best_rank_in_group: canopy_core::RankLevel,
    pub active: bool,
}
