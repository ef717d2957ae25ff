//! Sessions (refresh-token families), rotating refresh tokens with reuse detection, and
//! access tokens whose every lookup re-checks session, device and account on SQLite.

use canopy_core::{AccountId, MemberId, Role};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

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

fn session_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        family: FamilyId::new(row.get(idx)?),
        account: AccountId::new(row.get(idx + 1)?),
        device: DeviceId::new(row.get(idx + 2)?),
        created_at: time_at(row, idx + 3)?,
        mfa_verified_at: opt_time_at(row, idx + 4)?,
        revoked_at: opt_time_at(row, idx + 5)?,
        revoked_reason: match row.get::<_, Option<String>>(idx + 6)? {
            None => None,
            Some(key) => Some(RevokeReason::from_key(&key).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    idx + 6,
                    rusqlite::types::Type::Text,
                    Box::new(BadValue("revoke reason")),
                )
            })?),
        },
    })
}

fn find_session(conn: &Connection, family: FamilyId) -> Result<Option<SessionRecord>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM session_families f WHERE f.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([family.get()], |row| session_at(row, 0))
        .optional()?)
}

fn insert_tokens(
    tx: &Connection,
    session: &SessionRecord,
    refresh: &IssuedToken,
    access: &IssuedToken,
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        refresh.hash.0,
        session.family.get(),
        now,
        unix(refresh.expires_at)
    ])?;
    tx.prepare_cached(
        "INSERT INTO access_tokens \
             (token_hash, account_id, device_id, family_id, issued_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        access.hash.0,
        session.account.get(),
        session.device.get(),
        session.family.get(),
        now,
        unix(access.expires_at)
    ])?;
    Ok(())
}

pub(super) fn create(
    tx: &Connection,
    new: &NewSession,
    now: OffsetDateTime,
) -> Result<SessionRecord> {
    let device: Option<(i64, Option<i64>, bool)> = tx
        .query_row(
            "SELECT d.account_id, d.revoked_at, a.disabled \
             FROM devices d JOIN accounts a ON a.id = d.account_id WHERE d.id = ?1",
            [new.device.get()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
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
    tx.execute(
        "INSERT INTO session_families (account_id, device_id, created_at, mfa_verified_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![
            new.account.get(),
            new.device.get(),
            now,
            new.mfa_verified.then_some(now)
        ],
    )?;
    let session =
        find_session(tx, FamilyId::new(tx.last_insert_rowid()))?.ok_or(StorageError::NotFound)?;
    insert_tokens(tx, &session, &new.refresh, &new.access, now)?;
    Ok(session)
}

/// A refresh token with its session and the liveness of its device and account.
struct RefreshRow {
    record: RefreshTokenRecord,
    id: i64,
    device_revoked: bool,
    account_disabled: bool,
}

fn find_refresh_row(conn: &Connection, hash: TokenHash) -> Result<Option<RefreshRow>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS}, r.id, r.issued_at, r.used_at, r.expires_at, \
                d.revoked_at IS NOT NULL, a.disabled \
         FROM refresh_tokens r \
         JOIN session_families f ON f.id = r.family_id \
         JOIN devices d ON d.id = f.device_id \
         JOIN accounts a ON a.id = f.account_id \
         WHERE r.token_hash = ?1"
    );
    let w = SESSION_WIDTH;
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([hash.0], |row| {
            Ok(RefreshRow {
                record: RefreshTokenRecord {
                    hash,
                    session: session_at(row, 0)?,
                    issued_at: time_at(row, w + 1)?,
                    used_at: opt_time_at(row, w + 2)?,
                    expires_at: time_at(row, w + 3)?,
                },
                id: row.get(w)?,
                device_revoked: row.get(w + 4)?,
                account_disabled: row.get(w + 5)?,
            })
        })
        .optional()?)
}

pub(super) fn find_refresh(
    conn: &Connection,
    hash: TokenHash,
) -> Result<Option<RefreshTokenRecord>> {
    Ok(find_refresh_row(conn, hash)?.map(|r| r.record))
}

pub(super) fn rotate(
    tx: &Connection,
    rotation: &RefreshRotation,
    now: OffsetDateTime,
) -> Result<RotateOutcome> {
    let Some(found) = find_refresh_row(tx, rotation.presented)? else {
        return Ok(RotateOutcome::Refused(RefreshRefusal::Unknown));
    };
    let session = found.record.session;
    // A used token coming back means two parties hold it: end the session for both.
    if found.record.used_at.is_some() {
        revoke(tx, session.family, RevokeReason::RefreshReuse, now)?;
        let session = find_session(tx, session.family)?.ok_or(StorageError::NotFound)?;
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
    tx.execute(
        "UPDATE refresh_tokens SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
        params![found.id, now],
    )?;
    insert_tokens(tx, &session, &rotation.refresh, &rotation.access, now)?;
    Ok(RotateOutcome::Rotated(session))
}

pub(super) fn token_device_revoked(conn: &Connection, hash: TokenHash) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM access_tokens t JOIN devices d ON d.id = t.device_id \
             WHERE t.token_hash = ?1 AND d.revoked_at IS NOT NULL)",
        )?
        .query_row(params![hash.0], |r| r.get(0))?)
}

pub(super) fn find_access(
    conn: &Connection,
    hash: TokenHash,
    now: OffsetDateTime,
) -> Result<Option<AccessGrant>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.account_id, a.role, a.member_id, t.device_id, t.family_id, t.expires_at, \
                f.created_at, f.mfa_verified_at \
         FROM access_tokens t \
         JOIN session_families f ON f.id = t.family_id \
         JOIN devices d ON d.id = t.device_id \
         JOIN accounts a ON a.id = t.account_id \
         WHERE t.token_hash = ?1 AND t.revoked = 0 AND t.expires_at > ?2 \
           AND f.revoked_at IS NULL AND d.revoked_at IS NULL AND a.disabled = 0",
    )?;
    Ok(stmt
        .query_row(params![hash.0, unix(now)], |row| {
            Ok(AccessGrant {
                account: AccountId::new(row.get(0)?),
                role: parsed(row, 1, "account role", str::parse::<Role>)?,
                member: row.get::<_, Option<i64>>(2)?.map(MemberId::new),
                device: DeviceId::new(row.get(3)?),
                family: FamilyId::new(row.get(4)?),
                expires_at: time_at(row, 5)?,
                session_created_at: time_at(row, 6)?,
                mfa_verified_at: opt_time_at(row, 7)?,
            })
        })
        .optional()?)
}

pub(super) fn record_step_up(tx: &Connection, family: FamilyId, now: OffsetDateTime) -> Result<()> {
    let changed = tx.execute(
        "UPDATE session_families SET mfa_verified_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![family.get(), unix(now)],
    )?;
    if changed == 1 {
        Ok(())
    } else if find_session(tx, family)?.is_some() {
        Err(StorageError::Invalid("the session has ended"))
    } else {
        Err(StorageError::NotFound)
    }
}

/// Revokes the live sessions matching `filter` (a condition on `session_families` with
/// `?1` bound to `arg`) and every access token in them; returns how many sessions.
fn revoke_where(
    tx: &Connection,
    filter: &str,
    arg: i64,
    keep: Option<FamilyId>,
    reason: RevokeReason,
    now: OffsetDateTime,
) -> Result<u64> {
    let sessions = tx.execute(
        &format!(
            "UPDATE session_families SET revoked_at = ?3, revoked_reason = ?4 \
             WHERE {filter} AND id IS NOT ?2 AND revoked_at IS NULL"
        ),
        params![arg, keep.map(FamilyId::get), unix(now), reason.key()],
    )?;
    tx.execute(
        &format!(
            "UPDATE access_tokens SET revoked = 1 WHERE revoked = 0 AND family_id IN \
             (SELECT id FROM session_families WHERE {filter} AND id IS NOT ?2)"
        ),
        params![arg, keep.map(FamilyId::get)],
    )?;
    Ok(u64::try_from(sessions).unwrap_or(u64::MAX))
}

pub(super) fn revoke(
    tx: &Connection,
    family: FamilyId,
    reason: RevokeReason,
    now: OffsetDateTime,
) -> Result<bool> {
    let revoked = revoke_where(tx, "id = ?1", family.get(), None, reason, now)?;
    if revoked == 0 && find_session(tx, family)?.is_none() {
        return Err(StorageError::NotFound);
    }
    Ok(revoked > 0)
}

pub(super) fn revoke_for_account(
    tx: &Connection,
    account: AccountId,
    keep: Option<FamilyId>,
    reason: RevokeReason,
    now: OffsetDateTime,
) -> Result<u64> {
    revoke_where(tx, "account_id = ?1", account.get(), keep, reason, now)
}

pub(super) fn revoke_for_device(
    tx: &Connection,
    device: DeviceId,
    now: OffsetDateTime,
) -> Result<u64> {
    revoke_where(
        tx,
        "device_id = ?1",
        device.get(),
        None,
        RevokeReason::DeviceRevoked,
        now,
    )
}
