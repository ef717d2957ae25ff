//! Sessions (refresh-token families), rotating refresh tokens with reuse detection, and
//! access tokens whose every lookup re-checks session, device and account on PostgreSQL.

use canopy_core::{AccountId, MemberId, Role};
use time::OffsetDateTime;
use tokio_postgres::Row;

use deadpool_postgres::GenericClient;

use super::Transaction;
use super::convert::{BadValue, opt_time_at, parsed, time_at, unix};
use crate::storage::keys::refresh_refusal;
use crate::storage::{
    AccessGrant, DeviceId, FamilyId, IssuedToken, NewSession, RefreshRefusal, RefreshRotation,
    RefreshTokenRecord, Result, RevokeReason, RotateOutcome, SessionRecord, StorageError,
    TokenHash,
};

/// Columns of `session_families f`, in [`session_at`]'s order.
const SESSION_COLUMNS: &str = "f.id, f.account_id, f.device_id, f.created_at, f.mfa_verified_at, f.revoked_at, f.revoked_reason";
const SESSION_WIDTH: usize = 7;

fn session_at(row: &Row, idx: usize) -> Result<SessionRecord> {
    Ok(SessionRecord {
        family: FamilyId::new(row.try_get(idx)?),
        account: AccountId::new(row.try_get(idx + 1)?),
        device: DeviceId::new(row.try_get(idx + 2)?),
        created_at: time_at(row, idx + 3)?,
        mfa_verified_at: opt_time_at(row, idx + 4)?,
        revoked_at: opt_time_at(row, idx + 5)?,
        revoked_reason: super::convert::opt_parsed(row, idx + 6, "revoke reason", |key| {
            RevokeReason::from_key(key).ok_or(BadValue("revoke reason"))
        })?,
    })
}

async fn find_session(tx: &Transaction<'_>, family: FamilyId) -> Result<Option<SessionRecord>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM session_families f WHERE f.id = $1");
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query_opt(&stmt, &[&family.get()])
        .await?
        .map(|row| session_at(&row, 0))
        .transpose()
}

async fn insert_tokens(
    tx: &Transaction<'_>,
    session: &SessionRecord,
    refresh: &IssuedToken,
    access: &IssuedToken,
    now: i64,
) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &&refresh.hash.0[..],
            &session.family.get(),
            &now,
            &unix(refresh.expires_at),
        ],
    )
    .await?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO access_tokens \
                 (token_hash, account_id, device_id, family_id, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &&access.hash.0[..],
            &session.account.get(),
            &session.device.get(),
            &session.family.get(),
            &now,
            &unix(access.expires_at),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn create(
    tx: &Transaction<'_>,
    new: &NewSession,
    now: OffsetDateTime,
) -> Result<SessionRecord> {
    let stmt = tx
        .prepare_cached(
            "SELECT d.account_id, d.revoked_at, a.disabled \
             FROM devices d JOIN accounts a ON a.id = d.account_id WHERE d.id = $1",
        )
        .await?;
    let device = match tx.query_opt(&stmt, &[&new.device.get()]).await? {
        None => None,
        Some(row) => Some((
            row.try_get::<_, i64>(0)?,
            row.try_get::<_, Option<i64>>(1)?,
            row.try_get::<_, bool>(2)?,
        )),
    };
    match device {
        None => return Err(StorageError::Invalid("the device is not registered")),
        Some((owner, _, _)) if owner != new.account.get() => {
            return Err(StorageError::Invalid(
                "the device belongs to another account",
            ));
        }
        Some((_, Some(_), _)) => return Err(StorageError::Invalid("the device has been revoked")),
        Some((_, _, true)) => return Err(StorageError::Invalid("the account is disabled")),
        Some(_) => {}
    }
    let now = unix(now);
    let stmt = tx
        .prepare_cached(
            "INSERT INTO session_families (account_id, device_id, created_at, mfa_verified_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &new.account.get(),
                &new.device.get(),
                &now,
                &new.mfa_verified.then_some(now),
            ],
        )
        .await?;
    let session = find_session(tx, FamilyId::new(row.try_get(0)?))
        .await?
        .ok_or(StorageError::NotFound)?;
    insert_tokens(tx, &session, &new.refresh, &new.access, now).await?;
    Ok(session)
}

/// A refresh token with its session and the liveness of its device and account.
struct RefreshRow {
    record: RefreshTokenRecord,
    id: i64,
    device_revoked: bool,
    account_disabled: bool,
}

async fn find_refresh_row(tx: &Transaction<'_>, hash: TokenHash) -> Result<Option<RefreshRow>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS}, r.id, r.issued_at, r.used_at, r.expires_at, \
                d.revoked_at IS NOT NULL, a.disabled \
         FROM refresh_tokens r \
         JOIN session_families f ON f.id = r.family_id \
         JOIN devices d ON d.id = f.device_id \
         JOIN accounts a ON a.id = f.account_id \
         WHERE r.token_hash = $1"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let Some(row) = tx.query_opt(&stmt, &[&&hash.0[..]]).await? else {
        return Ok(None);
    };
    let w = SESSION_WIDTH;
    Ok(Some(RefreshRow {
        record: RefreshTokenRecord {
            hash,
            session: session_at(&row, 0)?,
            issued_at: time_at(&row, w + 1)?,
            used_at: opt_time_at(&row, w + 2)?,
            expires_at: time_at(&row, w + 3)?,
        },
        id: row.try_get(w)?,
        device_revoked: row.try_get(w + 4)?,
        account_disabled: row.try_get(w + 5)?,
    }))
}

pub(super) async fn find_refresh(
    tx: &Transaction<'_>,
    hash: TokenHash,
) -> Result<Option<RefreshTokenRecord>> {
    Ok(find_refresh_row(tx, hash).await?.map(|r| r.record))
}

pub(super) async fn rotate(
    tx: &Transaction<'_>,
    rotation: &RefreshRotation,
    now: OffsetDateTime,
) -> Result<RotateOutcome> {
    let Some(found) = find_refresh_row(tx, rotation.presented).await? else {
        return Ok(RotateOutcome::Refused(RefreshRefusal::Unknown));
    };
    let session = found.record.session;
    // A used token coming back means two parties hold it: end the session for both.
    if found.record.used_at.is_some() {
        revoke(tx, session.family, RevokeReason::RefreshReuse, now).await?;
        let session = find_session(tx, session.family)
            .await?
            .ok_or(StorageError::NotFound)?;
        return Ok(RotateOutcome::ReuseDetected(session));
    }
    let refusal = refresh_refusal(
        &found.record,
        found.device_revoked,
        found.account_disabled,
        now,
    );
    if let Some(refusal) = refusal {
        return Ok(RotateOutcome::Refused(refusal));
    }
    let now = unix(now);
    let stmt = tx
        .prepare_cached("UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
        .await?;
    tx.execute(&stmt, &[&found.id, &now]).await?;
    insert_tokens(tx, &session, &rotation.refresh, &rotation.access, now).await?;
    Ok(RotateOutcome::Rotated(session))
}

pub(super) async fn token_device_revoked(tx: &impl GenericClient, hash: TokenHash) -> Result<bool> {
    let stmt = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM access_tokens t JOIN devices d ON d.id = t.device_id \
             WHERE t.token_hash = $1 AND d.revoked_at IS NOT NULL)",
        )
        .await?;
    Ok(tx.query_one(&stmt, &[&&hash.0[..]]).await?.try_get(0)?)
}

pub(super) async fn find_access(
    tx: &impl GenericClient,
    hash: TokenHash,
    now: OffsetDateTime,
) -> Result<Option<AccessGrant>> {
    let stmt = tx
        .prepare_cached(
            "SELECT t.account_id, a.role, a.member_id, t.device_id, t.family_id, t.expires_at, \
                    f.created_at, f.mfa_verified_at \
             FROM access_tokens t \
             JOIN session_families f ON f.id = t.family_id \
             JOIN devices d ON d.id = t.device_id \
             JOIN accounts a ON a.id = t.account_id \
             WHERE t.token_hash = $1 AND NOT t.revoked AND t.expires_at > $2 \
               AND f.revoked_at IS NULL AND d.revoked_at IS NULL AND NOT a.disabled",
        )
        .await?;
    let Some(row) = tx.query_opt(&stmt, &[&&hash.0[..], &unix(now)]).await? else {
        return Ok(None);
    };
    Ok(Some(AccessGrant {
        account: AccountId::new(row.try_get(0)?),
        role: parsed(&row, 1, "account role", str::parse::<Role>)?,
        member: row.try_get::<_, Option<i64>>(2)?.map(MemberId::new),
        device: DeviceId::new(row.try_get(3)?),
        family: FamilyId::new(row.try_get(4)?),
        expires_at: time_at(&row, 5)?,
        session_created_at: time_at(&row, 6)?,
        mfa_verified_at: opt_time_at(&row, 7)?,
    }))
}

pub(super) async fn record_step_up(
    tx: &Transaction<'_>,
    family: FamilyId,
    now: OffsetDateTime,
) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "UPDATE session_families SET mfa_verified_at = $2 \
             WHERE id = $1 AND revoked_at IS NULL",
        )
        .await?;
    let changed = tx.execute(&stmt, &[&family.get(), &unix(now)]).await?;
    if changed == 1 {
        Ok(())
    } else if find_session(tx, family).await?.is_some() {
        Err(StorageError::Invalid("the session has ended"))
    } else {
        Err(StorageError::NotFound)
    }
}

/// Which sessions [`revoke_where`] ends.
#[derive(Clone, Copy)]
enum Sessions {
    Family,
    Account,
    Device,
}

impl Sessions {
    /// The condition on `session_families`, with `$1` the id.
    const fn filter(self) -> &'static str {
        match self {
            Sessions::Family => "id = $1",
            Sessions::Account => "account_id = $1",
            Sessions::Device => "device_id = $1",
        }
    }
}

/// Revokes the live sessions matching `which` (`$1` bound to `arg`) and every access token
/// in them; returns how many sessions.
async fn revoke_where(
    tx: &Transaction<'_>,
    which: Sessions,
    arg: i64,
    keep: Option<FamilyId>,
    reason: RevokeReason,
    now: OffsetDateTime,
) -> Result<u64> {
    let filter = which.filter();
    let keep = keep.map(FamilyId::get);
    let stmt = tx
        .prepare_cached(&format!(
            "UPDATE session_families SET revoked_at = $3, revoked_reason = $4 \
             WHERE {filter} AND id IS DISTINCT FROM $2::BIGINT AND revoked_at IS NULL"
        ))
        .await?;
    let sessions = tx
        .execute(&stmt, &[&arg, &keep, &unix(now), &reason.key()])
        .await?;
    let stmt = tx
        .prepare_cached(&format!(
            "UPDATE access_tokens SET revoked = TRUE WHERE NOT revoked AND family_id IN \
             (SELECT id FROM session_families WHERE {filter} \
              AND id IS DISTINCT FROM $2::BIGINT)"
        ))
        .await?;
    tx.execute(&stmt, &[&arg, &keep]).await?;
    Ok(sessions)
}

pub(super) async fn revoke(
    tx: &Transaction<'_>,
    family: FamilyId,
    reason: RevokeReason,
    now: OffsetDateTime,
) -> Result<bool> {
    let revoked = revoke_where(tx, Sessions::Family, family.get(), None, reason, now).await?;
    if revoked == 0 && find_session(tx, family).await?.is_none() {
        return Err(StorageError::NotFound);
    }
    Ok(revoked > 0)
}

pub(super) async fn revoke_for_account(
    tx: &Transaction<'_>,
    account: AccountId,
    keep: Option<FamilyId>,
    reason: RevokeReason,
    now: OffsetDateTime,
) -> Result<u64> {
    revoke_where(tx, Sessions::Account, account.get(), keep, reason, now).await
}

pub(super) async fn revoke_for_device(
    tx: &Transaction<'_>,
    device: DeviceId,
    now: OffsetDateTime,
) -> Result<u64> {
    revoke_where(
        tx,
        Sessions::Device,
        device.get(),
        None,
        RevokeReason::DeviceRevoked,
        now,
    )
    .await
}
