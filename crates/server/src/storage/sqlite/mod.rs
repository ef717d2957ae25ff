//! The SQLite implementation of [`Storage`]: one writer connection and a few read-only
//! readers on a WAL database, every call run on tokio's blocking pool in one transaction.
//!
//! Writes go through the single writer with `BEGIN IMMEDIATE`, which serialises them within
//! this process and (through SQLite's lock and the busy timeout) across processes, so each
//! compare-and-set below is atomic. Readers see a consistent snapshot per call.

mod accounts;
mod admin;
mod alerts;
mod audit;
mod claims;
mod commands;
mod commissions;
mod convert;
mod gdpr;
mod members;
mod migrate;
mod products;
mod security;
mod sessions;
mod sync;
mod volumes;
mod watch;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use canopy_core::sync::VolumeRow;
use canopy_core::sync::push::{Contact, Outcome};
use canopy_core::{
    AccountId, Enrollment, MemberId, Order, OrderId, Period, PersonalDetails, Product, Role,
};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use time::OffsetDateTime;

use super::{
    AccessGrant, AccountRecord, AccountSummary, AlertId, AlertRecord, AlertState, AuditRecord,
    DeviceId, DeviceRecord, FailureSummary, FamilyId, MemberRecord, MemberWithPersonal, NewAccount,
    NewAlert, NewAuditEvent, NewDevice, NewMember, NewOrder, NewSession, RefreshRotation,
    RefreshTokenRecord, Result, RevokeReason, RotateOutcome, SessionRecord, SignInAttempt,
    SignInRecord, SnapshotRecord, Storage, StorageError, ThrottleKey, ThrottlePolicy,
    ThrottleStatus, TokenHash, TotpPromotion, Tree,
};

/// How to open a database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Read-only connections besides the writer (0 sends reads to the writer too).
    pub readers: usize,
    /// How long a statement waits for another process's lock before failing.
    pub busy_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            readers: 2,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Storage in one SQLite database. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct SqliteStorage {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

/// A panic inside a call leaves its transaction rolled back (rusqlite rolls back on drop),
/// so the connection behind a poisoned lock is still sound to use.
fn lock(mutex: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn configure(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // FULL: a committed sign-in, revocation or audit event survives a power cut too.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

impl SqliteStorage {
    /// Opens (creating if needed) the database file, switches it to WAL and migrates it.
    pub async fn open(path: impl Into<PathBuf>, options: Options) -> Result<Self> {
        let path = path.into();
        blocking(move || Self::open_blocking(&path, options)).await
    }

    /// A private in-memory database (one connection), for tests and throwaway demos.
    pub async fn open_in_memory() -> Result<Self> {
        blocking(|| {
            let mut writer = Connection::open_in_memory()?;
            configure(&writer, Duration::from_secs(5))?;
            migrate::migrate(&mut writer)?;
            Ok(Self::from_connections(writer, Vec::new()))
        })
        .await
    }

    fn open_blocking(path: &Path, options: Options) -> Result<Self> {
        let mut writer = Connection::open(path)?;
        configure(&writer, options.busy_timeout)?;
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StorageError::Unsupported(format!(
                "the database file can't use write-ahead logging (journal mode {mode})"
            )));
        }
        migrate::migrate(&mut writer)?;
        let readers = (0..options.readers)
            .map(|_| {
                let reader = Connection::open(path)?;
                configure(&reader, options.busy_timeout)?;
                // A reader that tries to write is a bug; make it fail loudly.
                reader.pragma_update(None, "query_only", true)?;
                Ok(Mutex::new(reader))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::from_connections(writer, readers))
    }

    fn from_connections(writer: Connection, readers: Vec<Mutex<Connection>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        }
    }

    /// The schema version this build migrates to.
    pub fn schema_version() -> i64 {
        migrate::latest_version()
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer; commits if it returns Ok.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Runs `f` in one read transaction (a consistent snapshot) on a reader.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let mutex = if inner.readers.is_empty() {
                &inner.writer
            } else {
                let start = inner.next_reader.fetch_add(1, Ordering::Relaxed);
                let n = inner.readers.len();
                // Take the first idle reader from a rotating start, else wait for one.
                (0..n)
                    .map(|i| &inner.readers[(start + i) % n])
                    .find(|m| m.try_lock().is_ok())
                    .unwrap_or(&inner.readers[start % n])
            };
            let mut conn = lock(mutex);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let out = f(&tx)?;
            tx.rollback()?;
            Ok(out)
        })
        .await
    }
}

async fn blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(StorageError::backend)?
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn create_account(&self, new: NewAccount, now: OffsetDateTime) -> Result<AccountRecord> {
        self.write(move |tx| accounts::create(tx, &new, now)).await
    }

    async fn find_account_by_email(&self, email: &str) -> Result<Option<AccountRecord>> {
        let key = super::email_key(email);
        self.read(move |tx| accounts::find_by_email_key(tx, &key))
            .await
    }

    async fn find_account(&self, id: AccountId) -> Result<Option<AccountRecord>> {
        self.read(move |tx| accounts::find(tx, id)).await
    }

    async fn change_password(
        &self,
        id: AccountId,
        password_hash: String,
        keep: Option<FamilyId>,
        now: OffsetDateTime,
    ) -> Result<u64> {
        self.write(move |tx| accounts::change_password(tx, id, &password_hash, keep, now))
            .await
    }

    async fn update_password_hash(&self, id: AccountId, password_hash: String) -> Result<()> {
        self.write(move |tx| accounts::update_password_hash(tx, id, &password_hash))
            .await
    }

    async fn set_mfa(
        &self,
        id: AccountId,
        sealed_secret: Option<Vec<u8>>,
        enabled: bool,
    ) -> Result<()> {
        self.write(move |tx| accounts::set_mfa(tx, id, sealed_secret.as_deref(), enabled))
            .await
    }

    async fn accept_totp_step(&self, id: AccountId, step: i64) -> Result<bool> {
        self.write(move |tx| accounts::accept_totp_step(tx, id, step))
            .await
    }

    async fn set_pending_totp(
        &self,
        id: AccountId,
        sealed_secret: Option<Vec<u8>>,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.write(move |tx| accounts::set_pending_totp(tx, id, sealed_secret.as_deref(), now))
            .await
    }

    async fn find_pending_totp(&self, id: AccountId) -> Result<Option<(Vec<u8>, OffsetDateTime)>> {
        self.read(move |tx| accounts::find_pending_totp(tx, id))
            .await
    }

    async fn promote_pending_totp(
        &self,
        id: AccountId,
        promotion: TotpPromotion,
        now: OffsetDateTime,
    ) -> Result<Option<u64>> {
        self.write(move |tx| accounts::promote_pending_totp(tx, id, &promotion, now))
            .await
    }

    async fn set_account_disabled(
        &self,
        id: AccountId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.write(move |tx| accounts::set_disabled(tx, id, disabled, now))
            .await
    }

    async fn set_role(&self, id: AccountId, role: Role) -> Result<()> {
        self.write(move |tx| accounts::set_role(tx, id, role)).await
    }

    async fn list_accounts(
        &self,
        prefix: &str,
        after: Option<AccountId>,
        limit: u32,
    ) -> Result<Vec<AccountSummary>> {
        let prefix = super::email_key(prefix);
        self.read(move |tx| admin::list_accounts(tx, &prefix, after, limit))
            .await
    }

    async fn replace_recovery_codes(&self, id: AccountId, hashes: Vec<TokenHash>) -> Result<()> {
        self.write(move |tx| accounts::replace_recovery_codes(tx, id, &hashes))
            .await
    }

    async fn consume_recovery_code(
        &self,
        id: AccountId,
        hash: TokenHash,
        now: OffsetDateTime,
    ) -> Result<bool> {
        self.write(move |tx| accounts::consume_recovery_code(tx, id, hash, now))
            .await
    }

    async fn count_unused_recovery_codes(&self, id: AccountId) -> Result<u32> {
        self.read(move |tx| accounts::count_unused_recovery_codes(tx, id))
            .await
    }

    async fn register_device(&self, new: NewDevice, now: OffsetDateTime) -> Result<DeviceRecord> {
        self.write(move |tx| accounts::register_device(tx, &new, now))
            .await
    }

    async fn list_devices(&self, account: AccountId) -> Result<Vec<DeviceRecord>> {
        self.read(move |tx| accounts::list_devices(tx, account))
            .await
    }

    async fn find_device(&self, id: DeviceId) -> Result<Option<DeviceRecord>> {
        self.read(move |tx| accounts::find_device(tx, id)).await
    }

    async fn touch_device(&self, id: DeviceId, now: OffsetDateTime) -> Result<()> {
        self.write(move |tx| accounts::touch_device(tx, id, now))
            .await
    }

    async fn revoke_device(&self, id: DeviceId, now: OffsetDateTime) -> Result<bool> {
        self.write(move |tx| accounts::revoke_device(tx, id, now))
            .await
    }

    async fn create_session(&self, new: NewSession, now: OffsetDateTime) -> Result<SessionRecord> {
        self.write(move |tx| sessions::create(tx, &new, now)).await
    }

    async fn find_refresh_token(&self, hash: TokenHash) -> Result<Option<RefreshTokenRecord>> {
        self.read(move |tx| sessions::find_refresh(tx, hash)).await
    }

    async fn rotate_refresh_token(
        &self,
        rotation: RefreshRotation,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome> {
        self.write(move |tx| sessions::rotate(tx, &rotation, now))
            .await
    }

    async fn find_access_token(
        &self,
        hash: TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AccessGrant>> {
        self.read(move |tx| sessions::find_access(tx, hash, now))
            .await
    }

    async fn token_device_revoked(&self, hash: TokenHash) -> Result<bool> {
        self.read(move |tx| sessions::token_device_revoked(tx, hash))
            .await
    }

    async fn record_step_up(&self, family: FamilyId, now: OffsetDateTime) -> Result<()> {
        self.write(move |tx| sessions::record_step_up(tx, family, now))
            .await
    }

    async fn revoke_session(
        &self,
        family: FamilyId,
        reason: RevokeReason,
        now: OffsetDateTime,
    ) -> Result<bool> {
        self.write(move |tx| sessions::revoke(tx, family, reason, now))
            .await
    }

    async fn revoke_sessions_except(
        &self,
        account: AccountId,
        keep: Option<FamilyId>,
        reason: RevokeReason,
        now: OffsetDateTime,
    ) -> Result<u64> {
        self.write(move |tx| sessions::revoke_for_account(tx, account, keep, reason, now))
            .await
    }

    async fn record_sign_in(&self, attempt: SignInAttempt) -> Result<SignInRecord> {
        self.write(move |tx| security::record_sign_in(tx, &attempt))
            .await
    }

    async fn recent_sign_ins(&self, account: AccountId, limit: u32) -> Result<Vec<SignInRecord>> {
        self.read(move |tx| security::recent_sign_ins(tx, account, limit))
            .await
    }

    async fn has_signed_in_from(&self, account: AccountId, ip: IpAddr) -> Result<bool> {
        self.read(move |tx| security::has_signed_in_from(tx, account, ip))
            .await
    }

    async fn count_failures_from(
        &self,
        ip: IpAddr,
        since: OffsetDateTime,
    ) -> Result<FailureSummary> {
        self.read(move |tx| security::count_failures_from(tx, ip, since))
            .await
    }

    async fn has_signed_in(&self, account: AccountId) -> Result<bool> {
        self.read(move |tx| security::has_signed_in(tx, account))
            .await
    }

    async fn count_failed_sign_ins(
        &self,
        account: AccountId,
        since: OffsetDateTime,
    ) -> Result<FailureSummary> {
        self.read(move |tx| security::count_failed_sign_ins(tx, account, since))
            .await
    }

    async fn record_failure(
        &self,
        keys: Vec<ThrottleKey>,
        policy: ThrottlePolicy,
        now: OffsetDateTime,
    ) -> Result<ThrottleStatus> {
        self.write(move |tx| security::record_failure(tx, &keys, &policy, now))
            .await
    }

    async fn record_success(&self, keys: Vec<ThrottleKey>) -> Result<()> {
        self.write(move |tx| security::record_success(tx, &keys))
            .await
    }

    async fn throttle_status(
        &self,
        keys: Vec<ThrottleKey>,
        policy: ThrottlePolicy,
        now: OffsetDateTime,
    ) -> Result<ThrottleStatus> {
        self.read(move |tx| security::throttle_status(tx, &keys, &policy, now))
            .await
    }

    async fn insert_members(&self, members: Vec<NewMember>) -> Result<u64> {
        self.write(move |tx| members::insert_members(tx, &members))
            .await
    }

    async fn find_member(&self, id: MemberId) -> Result<Option<MemberRecord>> {
        self.read(move |tx| members::find_member(tx, id)).await
    }

    async fn find_member_personal(&self, id: MemberId) -> Result<Option<PersonalDetails>> {
        self.read(move |tx| members::find_personal(tx, id)).await
    }

    async fn list_enrollees(
        &self,
        sponsor: MemberId,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<MemberRecord>> {
        self.read(move |tx| members::list_enrollees(tx, sponsor, after, limit))
            .await
    }

    async fn count_downline(&self, root: MemberId, tree: Tree) -> Result<u64> {
        self.read(move |tx| members::count_downline(tx, root, tree))
            .await
    }

    async fn is_in_sponsor_line(
        &self,
        member: MemberId,
        ancestor: MemberId,
        max_depth: u32,
    ) -> Result<bool> {
        self.read(move |tx| members::is_in_sponsor_line(tx, member, ancestor, max_depth))
            .await
    }

    async fn insert_orders(&self, orders: Vec<Order>) -> Result<u64> {
        self.write(move |tx| members::insert_orders(tx, &orders))
            .await
    }

    async fn find_order(&self, id: OrderId) -> Result<Option<Order>> {
        self.read(move |tx| members::find_order(tx, id)).await
    }

    async fn create_alert(&self, new: NewAlert) -> Result<Option<AlertRecord>> {
        self.write(move |tx| alerts::create(tx, &new)).await
    }

    async fn list_alerts_for_account(
        &self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<AlertRecord>> {
        self.read(move |tx| alerts::list_for_account(tx, account, limit))
            .await
    }

    async fn list_admin_alerts(
        &self,
        state: Option<AlertState>,
        limit: u32,
    ) -> Result<Vec<AlertRecord>> {
        self.read(move |tx| alerts::list_admin(tx, state, limit))
            .await
    }

    async fn acknowledge_alert(
        &self,
        id: AlertId,
        by: AccountId,
        now: OffsetDateTime,
    ) -> Result<AlertRecord> {
        self.write(move |tx| alerts::acknowledge(tx, id, by, now))
            .await
    }

    async fn resolve_alert(
        &self,
        id: AlertId,
        by: AccountId,
        now: OffsetDateTime,
    ) -> Result<AlertRecord> {
        self.write(move |tx| alerts::resolve(tx, id, by, now)).await
    }

    async fn append_audit(&self, event: NewAuditEvent) -> Result<AuditRecord> {
        self.write(move |tx| audit::append(tx, &event)).await
    }

    async fn list_audit(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        self.read(move |tx| audit::list(tx, after, limit)).await
    }

    // --- Commissions ----------------------------------------------------------------------

    async fn commission_input(&self, period: Period) -> Result<super::CommissionInput> {
        self.read(move |tx| commissions::input(tx, period)).await
    }

    async fn record_commission_run(
        &self,
        run: super::NewCommissionRun,
    ) -> Result<Option<super::CommissionRunRecord>> {
        self.write(move |tx| commissions::record_run(tx, &run))
            .await
    }

    async fn close_commission_period(
        &self,
        period: Period,
        by: Option<AccountId>,
        now: OffsetDateTime,
    ) -> Result<Option<super::CommissionPeriodRecord>> {
        self.write(move |tx| commissions::close(tx, period, by, now))
            .await
    }

    async fn commission_period(
        &self,
        period: Period,
    ) -> Result<Option<super::CommissionPeriodRecord>> {
        self.read(move |tx| commissions::find_period(tx, period))
            .await
    }

    async fn earnings_of(
        &self,
        member: MemberId,
        period: Period,
    ) -> Result<Vec<super::StoredLine>> {
        self.read(move |tx| commissions::earnings_of(tx, member, period))
            .await
    }

    async fn earnings_page(
        &self,
        member: MemberId,
        period: Period,
        after: Option<canopy_core::EarningsLineId>,
        limit: u32,
    ) -> Result<Vec<super::StoredLine>> {
        self.read(move |tx| commissions::earnings_page(tx, member, period, after, limit))
            .await
    }

    async fn statements_of(&self, member: MemberId) -> Result<Vec<super::StatementRecord>> {
        self.read(move |tx| commissions::statements_of(tx, member))
            .await
    }

    async fn period_result_with_legs(
        &self,
        member: MemberId,
        period: Period,
    ) -> Result<Option<(super::PeriodResultRecord, Vec<super::PeriodResultRecord>)>> {
        self.read(move |tx| commissions::result_with_legs(tx, member, period))
            .await
    }

    async fn commission_plan(&self, hash: String) -> Result<Option<super::PlanRecord>> {
        self.read(move |tx| commissions::plan(tx, &hash)).await
    }

    async fn claim_commission_run(
        &self,
        period: Period,
        holder: String,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool> {
        self.write(move |tx| claims::claim(tx, period, &holder, now, until))
            .await
    }

    async fn release_commission_run(&self, period: Period, holder: String) -> Result<()> {
        self.write(move |tx| claims::release(tx, period, &holder))
            .await
    }

    async fn set_order_status(
        &self,
        order: OrderId,
        status: canopy_core::OrderStatus,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.write(move |tx| commissions::set_order_status(tx, order, status, now))
            .await
    }

    async fn create_snapshot(
        &self,
        account: AccountId,
        root: Option<MemberId>,
        now: OffsetDateTime,
    ) -> Result<SnapshotRecord> {
        self.write(move |tx| sync::create_snapshot(tx, account, root, now))
            .await
    }

    async fn find_snapshot(&self, id: i64) -> Result<Option<SnapshotRecord>> {
        self.read(move |tx| sync::find_snapshot(tx, id)).await
    }

    async fn snapshot_members(
        &self,
        snapshot: i64,
        from: u64,
        limit: u32,
    ) -> Result<Vec<MemberWithPersonal>> {
        self.read(move |tx| sync::snapshot_members(tx, snapshot, from, limit))
            .await
    }

    async fn move_member(
        &self,
        id: MemberId,
        sponsor: MemberId,
        now: OffsetDateTime,
    ) -> Result<u64> {
        self.write(move |tx| sync::move_member(tx, id, sponsor, now))
            .await
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<(i64, Option<MemberId>)>> {
        self.read(move |tx| sync::changes_since(tx, after, limit))
            .await
    }

    async fn latest_change(&self) -> Result<i64> {
        self.read(|tx| sync::latest_change(tx)).await
    }

    async fn put_products(&self, list: Vec<Product>, now: OffsetDateTime) -> Result<()> {
        self.write(move |tx| products::put(tx, &list, now)).await
    }

    async fn products(&self) -> Result<Vec<Product>> {
        self.read(|tx| products::all(tx)).await
    }

    async fn orders_of(&self, member: MemberId) -> Result<Vec<Order>> {
        self.read(move |tx| members::orders_of(tx, member)).await
    }

    async fn volumes_of(&self, members: Vec<MemberId>, since: Period) -> Result<Vec<VolumeRow>> {
        self.read(move |tx| volumes::volumes_of(tx, &members, since))
            .await
    }

    async fn snapshot_volumes(
        &self,
        snapshot: i64,
        from: u64,
        limit: u32,
        since: Period,
    ) -> Result<Vec<VolumeRow>> {
        self.read(move |tx| volumes::snapshot_volumes(tx, snapshot, from, limit, since))
            .await
    }

    async fn place_order(&self, order: NewOrder, now: OffsetDateTime) -> Result<Outcome> {
        self.write(move |tx| commands::place_order(tx, &order, now))
            .await
    }

    async fn scope_checksum(&self, root: Option<MemberId>) -> Result<(i64, String)> {
        self.read(move |tx| sync::scope_checksum(tx, root)).await
    }

    async fn members_in_scope(
        &self,
        ids: Vec<MemberId>,
        root: Option<MemberId>,
    ) -> Result<Vec<Option<MemberWithPersonal>>> {
        self.read(move |tx| sync::members_in_scope(tx, &ids, root))
            .await
    }

    async fn add_note(
        &self,
        account: AccountId,
        key: &str,
        member: MemberId,
        body: String,
        now: OffsetDateTime,
    ) -> Result<Outcome> {
        let key = key.to_owned();
        self.write(move |tx| commands::add_note(tx, account, &key, member, &body, now))
            .await
    }

    async fn update_contact(
        &self,
        account: AccountId,
        key: &str,
        member: MemberId,
        contact: Contact,
        now: OffsetDateTime,
    ) -> Result<Outcome> {
        let key = key.to_owned();
        self.write(move |tx| commands::update_contact(tx, account, &key, member, &contact, now))
            .await
    }

    async fn enroll_members(
        &self,
        account: AccountId,
        batch: Vec<(String, Enrollment)>,
        now: OffsetDateTime,
    ) -> Result<Vec<Outcome>> {
        self.write(move |tx| commands::enroll_members(tx, account, batch, now))
            .await
    }

    async fn consent_of(&self, member: MemberId) -> Result<Option<super::ConsentRecord>> {
        self.read(move |tx| gdpr::consent_of(tx, member)).await
    }

    async fn notes_by(&self, account: AccountId) -> Result<Vec<super::NoteRecord>> {
        self.read(move |tx| gdpr::notes_by(tx, account)).await
    }

    async fn pushes_by(&self, account: AccountId) -> Result<Vec<super::PushRecord>> {
        self.read(move |tx| gdpr::pushes_by(tx, account)).await
    }

    async fn all_sign_ins(&self, account: AccountId) -> Result<Vec<SignInRecord>> {
        self.read(move |tx| security::recent_sign_ins(tx, account, u32::MAX))
            .await
    }

    async fn erase_member(&self, erasure: super::Erasure) -> Result<Option<super::ErasureRecord>> {
        self.write(move |tx| gdpr::erase_member(tx, &erasure)).await
    }

    async fn purge_history(
        &self,
        sign_ins_before: Option<OffsetDateTime>,
        alerts_before: Option<OffsetDateTime>,
    ) -> Result<super::PurgeCounts> {
        self.write(move |tx| gdpr::purge(tx, sign_ins_before, alerts_before))
            .await
    }

    async fn find_outcome(&self, account: AccountId, key: &str) -> Result<Option<Outcome>> {
        let key = key.to_owned();
        self.read(move |tx| commands::find_outcome(tx, account, &key))
            .await
    }

    async fn record_outcome(
        &self,
        account: AccountId,
        key: &str,
        outcome: &Outcome,
        now: OffsetDateTime,
    ) -> Result<Outcome> {
        let (key, outcome) = (key.to_owned(), outcome.clone());
        self.write(move |tx| commands::record_outcome(tx, account, &key, &outcome, now))
            .await
    }

    async fn enroll_member(
        &self,
        account: AccountId,
        key: &str,
        enrollment: Enrollment,
        now: OffsetDateTime,
    ) -> Result<Outcome> {
        let key = key.to_owned();
        self.write(move |tx| commands::enroll_member(tx, account, &key, enrollment, now))
            .await
    }

    // --- Transaction watch ----------------------------------------------------------------

    async fn record_push_events(
        &self,
        events: Vec<crate::watch::NewPushEvent>,
        forget_before: OffsetDateTime,
    ) -> Result<crate::watch::Recorded> {
        self.write(move |tx| watch::record(tx, &events, forget_before))
            .await
    }

    async fn earlier_order_totals(
        &self,
        member: MemberId,
        order: OrderId,
        currency: String,
        limit: u32,
    ) -> Result<Vec<i64>> {
        self.read(move |tx| watch::earlier_order_totals(tx, member, order, &currency, limit))
            .await
    }

    async fn count_enrollments_since(
        &self,
        device: DeviceId,
        ip: IpAddr,
        since: OffsetDateTime,
        max_ids: u32,
    ) -> Result<crate::watch::EnrollmentCounts> {
        self.read(move |tx| watch::count_enrollments_since(tx, device, ip, since, max_ids))
            .await
    }

    async fn orders_placed_by(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        max_ids: u32,
    ) -> Result<crate::watch::OrderActivity> {
        self.read(move |tx| watch::orders_placed_by(tx, account, from, to, max_ids))
            .await
    }

    async fn order_links_around(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<crate::watch::OrderLink>> {
        self.read(move |tx| watch::order_links_around(tx, account, from, to))
            .await
    }

    async fn raise_watch_alert(&self, alert: NewAlert) -> Result<Option<AlertRecord>> {
        self.write(move |tx| watch::raise(tx, &alert)).await
    }
}
