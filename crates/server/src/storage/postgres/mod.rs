//! The PostgreSQL implementation of [`Storage`], for a company that outgrows one SQLite
//! file and for several server instances behind one address.
//!
//! Every call takes a connection from a pool and runs in one transaction:
//! - **Writes** run at READ COMMITTED after taking one transaction-scoped advisory lock
//!   ([`WRITE_LOCK`]), so writes are serialised across every instance on the database,
//!   exactly as the SQLite backend's single writer serialises them in one process: each
//!   compare-and-set (a refresh-token rotation, a TOTP step, an idempotency key, the audit
//!   chain's head, the change log's next position) sees every write committed before it.
//!   Change-log positions are therefore taken and committed in order, and a delta reading
//!   `seq > cursor` never skips one that commits later. Reads never wait for the lock.
//! - **Reads** run at REPEATABLE READ, read-only: one consistent snapshot per call; a
//!   read of one statement runs outside a transaction (`read_one!`).
//! - The transaction watch's own events (`record_push_events`) are written without the lock
//!   (`write_unordered!`): they log no change, touch no audit chain and decide nothing by
//!   compare-and-set (a second event for one order is skipped by a unique index), and
//!   every push writes them, so taking turns for them would double each push's wait.
//!
//! The pool's connections keep their prepared statements (`prepare_cached`). Bulk writes
//! (seeding, commission lines) send whole columns as arrays through `unnest`, one round
//! trip per chunk instead of one per row.

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
mod tls;
mod volumes;
mod watch;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use canopy_core::sync::VolumeRow;
use canopy_core::sync::push::{Contact, Outcome};
use canopy_core::{
    AccountId, Enrollment, MemberId, Order, OrderId, Period, PersonalDetails, Product, Role,
};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::IsolationLevel;

use super::{
    AccessGrant, AccountRecord, AccountSummary, AlertId, AlertRecord, AlertState, AuditRecord,
    DeviceId, DeviceRecord, FailureSummary, FamilyId, MemberRecord, MemberWithPersonal, NewAccount,
    NewAlert, NewAuditEvent, NewDevice, NewMember, NewOrder, NewSession, RefreshRotation,
    RefreshTokenRecord, Result, RevokeReason, RotateOutcome, SessionRecord, SignInAttempt,
    SignInRecord, SnapshotRecord, Storage, StorageError, ThrottleKey, ThrottlePolicy,
    ThrottleStatus, TokenHash, TotpPromotion, Tree,
};

/// The transaction every module function runs in.
pub(super) type Transaction<'a> = deadpool_postgres::Transaction<'a>;

/// The advisory lock every write transaction holds until it ends ("canopy" in ASCII).
const WRITE_LOCK: i64 = 0x63_61_6e_6f_70_79;

/// How to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Connections in the pool (reads run in parallel; writes take turns on the lock).
    pub max_connections: usize,
    /// How long a call waits for a free connection, and to connect, before failing.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_connections: 16,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Storage in one PostgreSQL database. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct PgStorage {
    pool: Pool,
    /// Write transactions of this instance under way at once (see [`Self::writer`]).
    writers: Arc<Semaphore>,
}

impl PgStorage {
    /// Connects to the database a `postgres://` URL names (libpq's URL and key-value forms)
    /// and migrates it. Several instances may start at once: migrations take a lock.
    ///
    /// TLS follows the URL's `sslmode`, verified against its `sslrootcert` (a PEM file of CA
    /// certificates) or the system's roots: see [`tls`].
    pub async fn open(url: &str, options: Options) -> Result<Self> {
        let (url, root_cert) = tls::split_root_cert(url);
        let config: tokio_postgres::Config = url.parse().map_err(|_| {
            StorageError::Unsupported("the postgres:// database URL is malformed".to_owned())
        })?;
        let tls = tls::connector(root_cert.as_deref().map(std::path::Path::new))?;
        Self::connect(config, tls, options).await
    }

    pub async fn connect(
        mut config: tokio_postgres::Config,
        tls: tokio_postgres_rustls::MakeRustlsConnect,
        options: Options,
    ) -> Result<Self> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("canopy-server");
        }
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                // One cheap query on reuse: a connection the database dropped (a restart)
                // is replaced instead of failing the next call.
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections)
            .wait_timeout(Some(options.timeout))
            .create_timeout(Some(options.timeout))
            .recycle_timeout(Some(options.timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(StorageError::backend)?;
        let storage = Self {
            pool,
            writers: Arc::new(Semaphore::new(writers_for(options.max_connections))),
        };
        let mut client = storage.client().await?;
        migrate::migrate(&mut client).await?;
        drop(client);
        Ok(storage)
    }

    /// The schema version this build migrates to.
    pub fn schema_version() -> i64 {
        migrate::latest_version()
    }

    /// A pooled connection. None in time, or the database not answering (restarting,
    /// down), is [`StorageError::Unavailable`]; a connection refused for a reason that
    /// won't pass (a certificate that doesn't verify, a wrong password) is a backend error.
    async fn client(&self) -> Result<deadpool_postgres::Client> {
        use deadpool_postgres::PoolError;
        self.pool.get().await.map_err(|error| match error {
            PoolError::Backend(error) => StorageError::from(error),
            other => StorageError::unavailable(other),
        })
    }

    /// A connection for a write, once fewer than [`writers_for`] of this instance's writes
    /// are under way; the permit is held until the write ends. Waiting longer than the
    /// pool's wait timeout is [`StorageError::Unavailable`], as for a connection.
    async fn writer(&self) -> Result<(OwnedSemaphorePermit, deadpool_postgres::Client)> {
        let turn = self.writers.clone().acquire_owned();
        let permit = match self.pool.timeouts().wait {
            Some(wait) => tokio::time::timeout(wait, turn)
                .await
                .map_err(|_| StorageError::unavailable("no turn to write in time"))?,
            None => turn.await,
        }
        .map_err(StorageError::unavailable)?;
        Ok((permit, self.client().await?))
    }
}

/// How many writes of one instance may hold connections at once: writes take turns on
/// [`WRITE_LOCK`] anyway, and a burst of them waiting for it in the pool would leave no
/// connection for the reads every other request makes. A quarter of the pool, at least one.
fn writers_for(max_connections: usize) -> usize {
    (max_connections / 4).max(1)
}

/// Begins a write: READ COMMITTED, holding [`WRITE_LOCK`] until commit or rollback.
async fn begin_write(client: &mut deadpool_postgres::Client) -> Result<Transaction<'_>> {
    let tx = begin_unordered(client).await?;
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1)")
        .await?;
    tx.execute(&lock, &[&WRITE_LOCK]).await?;
    Ok(tx)
}

/// Begins a write that needs no turn on [`WRITE_LOCK`]: READ COMMITTED.
async fn begin_unordered(client: &mut deadpool_postgres::Client) -> Result<Transaction<'_>> {
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?)
}

/// Begins a read: one consistent snapshot, read-only.
async fn begin_read(client: &mut deadpool_postgres::Client) -> Result<Transaction<'_>> {
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?)
}

/// `write_tx!(self, |tx| module::call(tx, …))`: the call in one write transaction, committed
/// if it returns `Ok`, rolled back (by drop) otherwise. A macro rather than a method taking
/// a closure, because the call's future borrows the transaction the helper would own.
macro_rules! write_tx {
    ($self:ident, |$tx:ident| $call:expr) => {{
        let (_turn, mut client) = $self.writer().await?;
        let transaction = begin_write(&mut client).await?;
        let out = {
            let $tx = &transaction;
            $call.await?
        };
        transaction.commit().await?;
        Ok(out)
    }};
}

/// `write_unordered!(self, |tx| module::call(tx, …))`: as `write_tx!` without taking
/// [`WRITE_LOCK`], for writes that need no turn (see the module's documentation).
macro_rules! write_unordered {
    ($self:ident, |$tx:ident| $call:expr) => {{
        let mut client = $self.client().await?;
        let transaction = begin_unordered(&mut client).await?;
        let out = {
            let $tx = &transaction;
            $call.await?
        };
        transaction.commit().await?;
        Ok(out)
    }};
}

/// `read_tx!(self, |tx| module::call(tx, …))`: the call in one read-only snapshot.
macro_rules! read_tx {
    ($self:ident, |$tx:ident| $call:expr) => {{
        let mut client = $self.client().await?;
        let transaction = begin_read(&mut client).await?;
        let out = {
            let $tx = &transaction;
            $call.await?
        };
        transaction.commit().await?;
        Ok(out)
    }};
}

/// `read_one!(self, |db| module::call(db, …))`: a call that runs one statement, outside any
/// transaction: one statement reads one snapshot anyway, and BEGIN and COMMIT would double
/// the round trips of the reads every request makes (its access token, a delta's changes
/// and volumes). The call must only read.
macro_rules! read_one {
    ($self:ident, |$db:ident| $call:expr) => {{
        let client = $self.client().await?;
        let $db: &deadpool_postgres::Client = &client;
        Ok($call.await?)
    }};
}

#[async_trait]
impl Storage for PgStorage {
    async fn create_account(&self, new: NewAccount, now: OffsetDateTime) -> Result<AccountRecord> {
        write_tx!(self, |tx| accounts::create(tx, &new, now))
    }

    async fn find_account_by_email(&self, email: &str) -> Result<Option<AccountRecord>> {
        let key = super::email_key(email);
        read_tx!(self, |tx| accounts::find_by_email_key(tx, &key))
    }

    async fn find_account(&self, id: AccountId) -> Result<Option<AccountRecord>> {
        read_tx!(self, |tx| accounts::find(tx, id))
    }

    async fn change_password(
        &self,
        id: AccountId,
        password_hash: String,
        keep: Option<FamilyId>,
        now: OffsetDateTime,
    ) -> Result<u64> {
        write_tx!(self, |tx| accounts::change_password(
            tx,
            id,
            &password_hash,
            keep,
            now
        ))
    }

    async fn update_password_hash(&self, id: AccountId, password_hash: String) -> Result<()> {
        write_tx!(self, |tx| accounts::update_password_hash(
            tx,
            id,
            &password_hash
        ))
    }

    async fn set_mfa(
        &self,
        id: AccountId,
        sealed_secret: Option<Vec<u8>>,
        enabled: bool,
    ) -> Result<()> {
        write_tx!(self, |tx| accounts::set_mfa(
            tx,
            id,
            sealed_secret.as_deref(),
            enabled
        ))
    }

    async fn accept_totp_step(&self, id: AccountId, step: i64) -> Result<bool> {
        write_tx!(self, |tx| accounts::accept_totp_step(tx, id, step))
    }

    async fn set_pending_totp(
        &self,
        id: AccountId,
        sealed_secret: Option<Vec<u8>>,
        now: OffsetDateTime,
    ) -> Result<()> {
        write_tx!(self, |tx| accounts::set_pending_totp(
            tx,
            id,
            sealed_secret.as_deref(),
            now
        ))
    }

    async fn find_pending_totp(&self, id: AccountId) -> Result<Option<(Vec<u8>, OffsetDateTime)>> {
        read_tx!(self, |tx| accounts::find_pending_totp(tx, id))
    }

    async fn promote_pending_totp(
        &self,
        id: AccountId,
        promotion: TotpPromotion,
        now: OffsetDateTime,
    ) -> Result<Option<u64>> {
        write_tx!(self, |tx| accounts::promote_pending_totp(
            tx, id, &promotion, now
        ))
    }

    async fn set_account_disabled(
        &self,
        id: AccountId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> Result<()> {
        write_tx!(self, |tx| accounts::set_disabled(tx, id, disabled, now))
    }

    async fn set_role(&self, id: AccountId, role: Role) -> Result<()> {
        write_tx!(self, |tx| accounts::set_role(tx, id, role))
    }

    async fn list_accounts(
        &self,
        prefix: &str,
        after: Option<AccountId>,
        limit: u32,
    ) -> Result<Vec<AccountSummary>> {
        let prefix = super::email_key(prefix);
        read_tx!(self, |tx| admin::list_accounts(tx, &prefix, after, limit))
    }

    async fn replace_recovery_codes(&self, id: AccountId, hashes: Vec<TokenHash>) -> Result<()> {
        write_tx!(self, |tx| accounts::replace_recovery_codes(tx, id, &hashes))
    }

    async fn consume_recovery_code(
        &self,
        id: AccountId,
        hash: TokenHash,
        now: OffsetDateTime,
    ) -> Result<bool> {
        write_tx!(self, |tx| accounts::consume_recovery_code(
            tx, id, hash, now
        ))
    }

    async fn count_unused_recovery_codes(&self, id: AccountId) -> Result<u32> {
        read_tx!(self, |tx| accounts::count_unused_recovery_codes(tx, id))
    }

    async fn register_device(&self, new: NewDevice, now: OffsetDateTime) -> Result<DeviceRecord> {
        write_tx!(self, |tx| accounts::register_device(tx, &new, now))
    }

    async fn list_devices(&self, account: AccountId) -> Result<Vec<DeviceRecord>> {
        read_tx!(self, |tx| accounts::list_devices(tx, account))
    }

    async fn find_device(&self, id: DeviceId) -> Result<Option<DeviceRecord>> {
        read_tx!(self, |tx| accounts::find_device(tx, id))
    }

    async fn touch_device(&self, id: DeviceId, now: OffsetDateTime) -> Result<()> {
        write_tx!(self, |tx| accounts::touch_device(tx, id, now))
    }

    async fn revoke_device(&self, id: DeviceId, now: OffsetDateTime) -> Result<bool> {
        write_tx!(self, |tx| accounts::revoke_device(tx, id, now))
    }

    async fn create_session(&self, new: NewSession, now: OffsetDateTime) -> Result<SessionRecord> {
        write_tx!(self, |tx| sessions::create(tx, &new, now))
    }

    async fn find_refresh_token(&self, hash: TokenHash) -> Result<Option<RefreshTokenRecord>> {
        read_tx!(self, |tx| sessions::find_refresh(tx, hash))
    }

    async fn rotate_refresh_token(
        &self,
        rotation: RefreshRotation,
        now: OffsetDateTime,
    ) -> Result<RotateOutcome> {
        write_tx!(self, |tx| sessions::rotate(tx, &rotation, now))
    }

    async fn find_access_token(
        &self,
        hash: TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AccessGrant>> {
        read_one!(self, |db| sessions::find_access(db, hash, now))
    }

    async fn token_device_revoked(&self, hash: TokenHash) -> Result<bool> {
        read_one!(self, |db| sessions::token_device_revoked(db, hash))
    }

    async fn record_step_up(&self, family: FamilyId, now: OffsetDateTime) -> Result<()> {
        write_tx!(self, |tx| sessions::record_step_up(tx, family, now))
    }

    async fn revoke_session(
        &self,
        family: FamilyId,
        reason: RevokeReason,
        now: OffsetDateTime,
    ) -> Result<bool> {
        write_tx!(self, |tx| sessions::revoke(tx, family, reason, now))
    }

    async fn revoke_sessions_except(
        &self,
        account: AccountId,
        keep: Option<FamilyId>,
        reason: RevokeReason,
        now: OffsetDateTime,
    ) -> Result<u64> {
        write_tx!(self, |tx| sessions::revoke_for_account(
            tx, account, keep, reason, now
        ))
    }

    async fn record_sign_in(&self, attempt: SignInAttempt) -> Result<SignInRecord> {
        write_tx!(self, |tx| security::record_sign_in(tx, &attempt))
    }

    async fn recent_sign_ins(&self, account: AccountId, limit: u32) -> Result<Vec<SignInRecord>> {
        read_tx!(self, |tx| security::recent_sign_ins(tx, account, limit))
    }

    async fn has_signed_in_from(&self, account: AccountId, ip: IpAddr) -> Result<bool> {
        read_tx!(self, |tx| security::has_signed_in_from(tx, account, ip))
    }

    async fn count_failures_from(
        &self,
        ip: IpAddr,
        since: OffsetDateTime,
    ) -> Result<FailureSummary> {
        read_tx!(self, |tx| security::count_failures_from(tx, ip, since))
    }

    async fn has_signed_in(&self, account: AccountId) -> Result<bool> {
        read_tx!(self, |tx| security::has_signed_in(tx, account))
    }

    async fn count_failed_sign_ins(
        &self,
        account: AccountId,
        since: OffsetDateTime,
    ) -> Result<FailureSummary> {
        read_tx!(self, |tx| security::count_failed_sign_ins(
            tx, account, since
        ))
    }

    async fn record_failure(
        &self,
        keys: Vec<ThrottleKey>,
        policy: ThrottlePolicy,
        now: OffsetDateTime,
    ) -> Result<ThrottleStatus> {
        write_tx!(self, |tx| security::record_failure(tx, &keys, &policy, now))
    }

    async fn record_success(&self, keys: Vec<ThrottleKey>) -> Result<()> {
        write_tx!(self, |tx| security::record_success(tx, &keys))
    }

    async fn throttle_status(
        &self,
        keys: Vec<ThrottleKey>,
        policy: ThrottlePolicy,
        now: OffsetDateTime,
    ) -> Result<ThrottleStatus> {
        read_tx!(self, |tx| security::throttle_status(
            tx, &keys, &policy, now
        ))
    }

    async fn insert_members(&self, members: Vec<NewMember>) -> Result<u64> {
        write_tx!(self, |tx| members::insert_members(tx, &members))
    }

    async fn find_member(&self, id: MemberId) -> Result<Option<MemberRecord>> {
        read_tx!(self, |tx| members::find_member(tx, id))
    }

    async fn find_member_personal(&self, id: MemberId) -> Result<Option<PersonalDetails>> {
        read_tx!(self, |tx| members::find_personal(tx, id))
    }

    async fn list_enrollees(
        &self,
        sponsor: MemberId,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<MemberRecord>> {
        read_tx!(self, |tx| members::list_enrollees(
            tx, sponsor, after, limit
        ))
    }

    async fn count_downline(&self, root: MemberId, tree: Tree) -> Result<u64> {
        read_tx!(self, |tx| members::count_downline(tx, root, tree))
    }

    async fn is_in_sponsor_line(
        &self,
        member: MemberId,
        ancestor: MemberId,
        max_depth: u32,
    ) -> Result<bool> {
        read_tx!(self, |tx| members::is_in_sponsor_line(
            tx, member, ancestor, max_depth
        ))
    }

    async fn insert_orders(&self, orders: Vec<Order>) -> Result<u64> {
        write_tx!(self, |tx| members::insert_orders(tx, &orders))
    }

    async fn find_order(&self, id: OrderId) -> Result<Option<Order>> {
        read_tx!(self, |tx| members::find_order(tx, id))
    }

    async fn create_alert(&self, new: NewAlert) -> Result<Option<AlertRecord>> {
        write_tx!(self, |tx| alerts::create(tx, &new))
    }

    async fn list_alerts_for_account(
        &self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<AlertRecord>> {
        read_tx!(self, |tx| alerts::list_for_account(tx, account, limit))
    }

    async fn list_admin_alerts(
        &self,
        state: Option<AlertState>,
        limit: u32,
    ) -> Result<Vec<AlertRecord>> {
        read_tx!(self, |tx| alerts::list_admin(tx, state, limit))
    }

    async fn acknowledge_alert(
        &self,
        id: AlertId,
        by: AccountId,
        now: OffsetDateTime,
    ) -> Result<AlertRecord> {
        write_tx!(self, |tx| alerts::acknowledge(tx, id, by, now))
    }

    async fn resolve_alert(
        &self,
        id: AlertId,
        by: AccountId,
        now: OffsetDateTime,
    ) -> Result<AlertRecord> {
        write_tx!(self, |tx| alerts::resolve(tx, id, by, now))
    }

    async fn append_audit(&self, event: NewAuditEvent) -> Result<AuditRecord> {
        write_tx!(self, |tx| audit::append(tx, &event))
    }

    async fn list_audit(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        read_tx!(self, |tx| audit::list(tx, after, limit))
    }

    // --- Commissions ----------------------------------------------------------------------

    async fn commission_input(&self, period: Period) -> Result<super::CommissionInput> {
        read_tx!(self, |tx| commissions::input(tx, period))
    }

    async fn record_commission_run(
        &self,
        run: super::NewCommissionRun,
    ) -> Result<Option<super::CommissionRunRecord>> {
        write_tx!(self, |tx| commissions::record_run(tx, &run))
    }

    async fn close_commission_period(
        &self,
        period: Period,
        by: Option<AccountId>,
        now: OffsetDateTime,
    ) -> Result<Option<super::CommissionPeriodRecord>> {
        write_tx!(self, |tx| commissions::close(tx, period, by, now))
    }

    async fn commission_period(
        &self,
        period: Period,
    ) -> Result<Option<super::CommissionPeriodRecord>> {
        read_tx!(self, |tx| commissions::find_period(tx, period))
    }

    async fn earnings_of(
        &self,
        member: MemberId,
        period: Period,
    ) -> Result<Vec<super::StoredLine>> {
        read_tx!(self, |tx| commissions::earnings_of(tx, member, period))
    }

    async fn earnings_page(
        &self,
        member: MemberId,
        period: Period,
        after: Option<canopy_core::EarningsLineId>,
        limit: u32,
    ) -> Result<Vec<super::StoredLine>> {
        read_tx!(self, |tx| commissions::earnings_page(
            tx, member, period, after, limit
        ))
    }

    async fn statements_of(&self, member: MemberId) -> Result<Vec<super::StatementRecord>> {
        read_tx!(self, |tx| commissions::statements_of(tx, member))
    }

    async fn period_result_with_legs(
        &self,
        member: MemberId,
        period: Period,
    ) -> Result<Option<(super::PeriodResultRecord, Vec<super::PeriodResultRecord>)>> {
        read_tx!(self, |tx| commissions::result_with_legs(tx, member, period))
    }

    async fn commission_plan(&self, hash: String) -> Result<Option<super::PlanRecord>> {
        read_tx!(self, |tx| commissions::plan(tx, &hash))
    }

    async fn claim_commission_run(
        &self,
        period: Period,
        holder: String,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool> {
        write_tx!(self, |tx| claims::claim(tx, period, &holder, now, until))
    }

    async fn release_commission_run(&self, period: Period, holder: String) -> Result<()> {
        write_tx!(self, |tx| claims::release(tx, period, &holder))
    }

    async fn set_order_status(
        &self,
        order: OrderId,
        status: canopy_core::OrderStatus,
        now: OffsetDateTime,
    ) -> Result<()> {
        write_tx!(self, |tx| commissions::set_order_status(
            tx, order, status, now
        ))
    }

    async fn create_snapshot(
        &self,
        account: AccountId,
        root: Option<MemberId>,
        now: OffsetDateTime,
    ) -> Result<SnapshotRecord> {
        write_tx!(self, |tx| sync::create_snapshot(tx, account, root, now))
    }

    async fn find_snapshot(&self, id: i64) -> Result<Option<SnapshotRecord>> {
        read_tx!(self, |tx| sync::find_snapshot(tx, id))
    }

    async fn snapshot_members(
        &self,
        snapshot: i64,
        from: u64,
        limit: u32,
    ) -> Result<Vec<MemberWithPersonal>> {
        read_tx!(self, |tx| sync::snapshot_members(tx, snapshot, from, limit))
    }

    async fn move_member(
        &self,
        id: MemberId,
        sponsor: MemberId,
        now: OffsetDateTime,
    ) -> Result<u64> {
        write_tx!(self, |tx| sync::move_member(tx, id, sponsor, now))
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<(i64, Option<MemberId>)>> {
        read_one!(self, |db| sync::changes_since(db, after, limit))
    }

    async fn latest_change(&self) -> Result<i64> {
        read_tx!(self, |tx| sync::latest_change(tx))
    }

    async fn put_products(&self, list: Vec<Product>, now: OffsetDateTime) -> Result<()> {
        write_tx!(self, |tx| products::put(tx, &list, now))
    }

    async fn products(&self) -> Result<Vec<Product>> {
        read_tx!(self, |tx| products::all(tx))
    }

    async fn orders_of(&self, member: MemberId) -> Result<Vec<Order>> {
        read_tx!(self, |tx| members::orders_of(tx, member))
    }

    async fn volumes_of(&self, members: Vec<MemberId>, since: Period) -> Result<Vec<VolumeRow>> {
        read_one!(self, |db| volumes::volumes_of(db, &members, since))
    }

    async fn snapshot_volumes(
        &self,
        snapshot: i64,
        from: u64,
        limit: u32,
        since: Period,
    ) -> Result<Vec<VolumeRow>> {
        read_tx!(self, |tx| volumes::snapshot_volumes(
            tx, snapshot, from, limit, since
        ))
    }

    async fn place_order(&self, order: NewOrder, now: OffsetDateTime) -> Result<Outcome> {
        write_tx!(self, |tx| commands::place_order(tx, &order, now))
    }

    async fn scope_checksum(&self, root: Option<MemberId>) -> Result<(i64, String)> {
        read_tx!(self, |tx| sync::scope_checksum(tx, root))
    }

    async fn members_in_scope(
        &self,
        ids: Vec<MemberId>,
        root: Option<MemberId>,
    ) -> Result<Vec<Option<MemberWithPersonal>>> {
        // Most delta batches change no member: no transaction for them.
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        read_tx!(self, |tx| sync::members_in_scope(tx, &ids, root))
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
        write_tx!(self, |tx| commands::add_note(
            tx, account, &key, member, &body, now
        ))
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
        write_tx!(self, |tx| commands::update_contact(
            tx, account, &key, member, &contact, now
        ))
    }

    async fn enroll_members(
        &self,
        account: AccountId,
        batch: Vec<(String, Enrollment)>,
        now: OffsetDateTime,
    ) -> Result<Vec<Outcome>> {
        write_tx!(self, |tx| commands::enroll_members(tx, account, batch, now))
    }

    async fn consent_of(&self, member: MemberId) -> Result<Option<super::ConsentRecord>> {
        read_tx!(self, |tx| gdpr::consent_of(tx, member))
    }

    async fn notes_by(&self, account: AccountId) -> Result<Vec<super::NoteRecord>> {
        read_tx!(self, |tx| gdpr::notes_by(tx, account))
    }

    async fn pushes_by(&self, account: AccountId) -> Result<Vec<super::PushRecord>> {
        read_tx!(self, |tx| gdpr::pushes_by(tx, account))
    }

    async fn all_sign_ins(&self, account: AccountId) -> Result<Vec<SignInRecord>> {
        read_tx!(self, |tx| security::recent_sign_ins(tx, account, u32::MAX))
    }

    async fn erase_member(&self, erasure: super::Erasure) -> Result<Option<super::ErasureRecord>> {
        write_tx!(self, |tx| gdpr::erase_member(tx, &erasure))
    }

    async fn purge_history(
        &self,
        sign_ins_before: Option<OffsetDateTime>,
        alerts_before: Option<OffsetDateTime>,
    ) -> Result<super::PurgeCounts> {
        write_tx!(self, |tx| gdpr::purge(tx, sign_ins_before, alerts_before))
    }

    async fn find_outcome(&self, account: AccountId, key: &str) -> Result<Option<Outcome>> {
        let key = key.to_owned();
        read_tx!(self, |tx| commands::find_outcome(tx, account, &key))
    }

    async fn record_outcome(
        &self,
        account: AccountId,
        key: &str,
        outcome: &Outcome,
        now: OffsetDateTime,
    ) -> Result<Outcome> {
        let (key, outcome) = (key.to_owned(), outcome.clone());
        write_tx!(self, |tx| commands::record_outcome(
            tx, account, &key, &outcome, now
        ))
    }

    async fn enroll_member(
        &self,
        account: AccountId,
        key: &str,
        enrollment: Enrollment,
        now: OffsetDateTime,
    ) -> Result<Outcome> {
        let key = key.to_owned();
        write_tx!(self, |tx| commands::enroll_member(
            tx, account, &key, enrollment, now
        ))
    }

    // --- Transaction watch ----------------------------------------------------------------

    async fn record_push_events(
        &self,
        events: Vec<crate::watch::NewPushEvent>,
        forget_before: OffsetDateTime,
    ) -> Result<crate::watch::Recorded> {
        write_unordered!(self, |tx| watch::record(tx, &events, forget_before))
    }

    async fn earlier_order_totals(
        &self,
        member: MemberId,
        order: OrderId,
        currency: String,
        limit: u32,
    ) -> Result<Vec<i64>> {
        read_tx!(self, |tx| watch::earlier_order_totals(
            tx, member, order, &currency, limit
        ))
    }

    async fn count_enrollments_since(
        &self,
        device: DeviceId,
        ip: IpAddr,
        since: OffsetDateTime,
        max_ids: u32,
    ) -> Result<crate::watch::EnrollmentCounts> {
        read_tx!(self, |tx| watch::count_enrollments_since(
            tx, device, ip, since, max_ids
        ))
    }

    async fn orders_placed_by(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        max_ids: u32,
    ) -> Result<crate::watch::OrderActivity> {
        read_tx!(self, |tx| watch::orders_placed_by(
            tx, account, from, to, max_ids
        ))
    }

    async fn order_links_around(
        &self,
        account: AccountId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<crate::watch::OrderLink>> {
        read_tx!(self, |tx| watch::order_links_around(tx, account, from, to))
    }

    async fn raise_watch_alert(&self, alert: NewAlert) -> Result<Option<AlertRecord>> {
        write_tx!(self, |tx| watch::raise(tx, &alert))
    }
}
