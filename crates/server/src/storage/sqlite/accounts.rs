//! Accounts, their MFA state and recovery codes, and their devices, on SQLite. Each function
//! runs inside the caller's transaction (see `SqliteStorage::write` / `read`).

use canopy_core::{AccountId, Email, MemberId, Role};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::convert::{changed_one, opt_time_at, parsed, time_at, unix};
use super::sessions;
use crate::storage::{
    AccountRecord, DeviceId, DeviceRecord, FamilyId, MfaRecord, NewAccount, NewDevice, Result,
    RevokeReason, StorageError, TokenHash, TotpPromotion, email_key,
};

const ACCOUNT_COLUMNS: &str = "id, email, password_hash, role, member_id, disabled, created_at, \
     password_changed_at, totp_secret_sealed, mfa_enabled, last_totp_step";

fn account_from_row(row: &Row<'_>) -> rusqlite::Result<AccountRecord> {
    Ok(AccountRecord {
        id: AccountId::new(row.get(0)?),
        email: parsed(row, 1, "account email", Email::parse)?,
        password_hash: row.get(2)?,
        role: parsed(row, 3, "account role", str::parse::<Role>)?,
        member: row.get::<_, Option<i64>>(4)?.map(MemberId::new),
        disabled: row.get(5)?,
        created_at: time_at(row, 6)?,
        password_changed_at: time_at(row, 7)?,
        mfa: MfaRecord {
            sealed_secret: row.get(8)?,
            enabled: row.get(9)?,
            last_step: row.get(10)?,
        },
    })
}

pub(super) fn create(
    tx: &Connection,
    new: &NewAccount,
    now: OffsetDateTime,
) -> Result<AccountRecord> {
    tx.execute(
        "INSERT INTO accounts \
             (email, email_key, password_hash, role, member_id, created_at, password_changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            new.email.as_str(),
            email_key(new.email.as_str()),
            new.password_hash,
            new.role.key(),
            new.member.map(MemberId::get),
            unix(now),
        ],
    )?;
    find(tx, AccountId::new(tx.last_insert_rowid()))?.ok_or(StorageError::NotFound)
}

pub(super) fn find(conn: &Connection, id: AccountId) -> Result<Option<AccountRecord>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.get()], account_from_row)
        .optional()?)
}

pub(super) fn find_by_email_key(conn: &Connection, key: &str) -> Result<Option<AccountRecord>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email_key = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([key], account_from_row)
        .optional()?)
}

pub(super) fn change_password(
    tx: &Connection,
    id: AccountId,
    password_hash: &str,
    keep: Option<FamilyId>,
    now: OffsetDateTime,
) -> Result<u64> {
    changed_one(tx.execute(
        "UPDATE accounts SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
        params![id.get(), password_hash, unix(now)],
    )?)?;
    sessions::revoke_for_account(tx, id, keep, RevokeReason::PasswordChanged, now)
}

pub(super) fn update_password_hash(
    tx: &Connection,
    id: AccountId,
    password_hash: &str,
) -> Result<()> {
    changed_one(tx.execute(
        "UPDATE accounts SET password_hash = ?2 WHERE id = ?1",
        params![id.get(), password_hash],
    )?)
}

pub(super) fn set_mfa(
    tx: &Connection,
    id: AccountId,
    sealed_secret: Option<&[u8]>,
    enabled: bool,
) -> Result<()> {
    if enabled && sealed_secret.is_none() {
        return Err(StorageError::Invalid(
            "two-step sign-in can't be on without a secret",
        ));
    }
    // A new secret starts a new sequence of steps; the same secret keeps its replay guard.
    changed_one(tx.execute(
        "UPDATE accounts SET \
             last_totp_step = CASE WHEN totp_secret_sealed IS ?2 THEN last_totp_step END, \
             totp_secret_sealed = ?2, mfa_enabled = ?3 \
         WHERE id = ?1",
        params![id.get(), sealed_secret, enabled],
    )?)
}

pub(super) fn accept_totp_step(tx: &Connection, id: AccountId, step: i64) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE accounts SET last_totp_step = ?2 \
         WHERE id = ?1 AND (last_totp_step IS NULL OR last_totp_step < ?2)",
        params![id.get(), step],
    )?;
    if changed == 1 {
        return Ok(true);
    }
    // Refused: tell a replay apart from an account that does not exist.
    find(tx, id)?.ok_or(StorageError::NotFound).map(|_| false)
}

/// Stores (or with `None` clears) the account's pending TOTP secret, timestamped `now`.
/// The active secret, `mfa_enabled` and the replay guard are not touched.
pub(super) fn set_pending_totp(
    tx: &Connection,
    id: AccountId,
    sealed_secret: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<()> {
    changed_one(tx.execute(
        "UPDATE accounts SET pending_totp_secret = ?2, \
             pending_totp_created_at = CASE WHEN ?2 IS NULL THEN NULL ELSE ?3 END \
         WHERE id = ?1",
        params![id.get(), sealed_secret, unix(now)],
    )?)
}

pub(super) fn find_pending_totp(
    conn: &Connection,
    id: AccountId,
) -> Result<Option<(Vec<u8>, OffsetDateTime)>> {
    let row = conn
        .prepare_cached(
            "SELECT pending_totp_secret, pending_totp_created_at FROM accounts \
             WHERE id = ?1 AND pending_totp_secret IS NOT NULL",
        )?
        .query_row([id.get()], |row| Ok((row.get(0)?, time_at(row, 1)?)))
        .optional()?;
    match row {
        Some(found) => Ok(Some(found)),
        None => find(conn, id)?.ok_or(StorageError::NotFound).map(|_| None),
    }
}

/// Makes the pending secret the active one if it still is `sealed_secret`: MFA on, the
/// replay guard at `step` (the confirming code's), the pending columns cleared, every
/// recovery code replaced by `recovery` and every other session revoked, all in the
/// caller's transaction. `None` if that secret is no longer pending.
pub(super) fn promote_pending_totp(
    tx: &Connection,
    id: AccountId,
    promotion: &TotpPromotion,
    now: OffsetDateTime,
) -> Result<Option<u64>> {
    let changed = tx.execute(
        "UPDATE accounts SET totp_secret_sealed = pending_totp_secret, mfa_enabled = 1, \
             last_totp_step = ?3, pending_totp_secret = NULL, pending_totp_created_at = NULL \
         WHERE id = ?1 AND pending_totp_secret = ?2",
        params![id.get(), promotion.sealed_secret, promotion.step],
    )?;
    if changed == 0 {
        return find(tx, id)?.ok_or(StorageError::NotFound).map(|_| None);
    }
    replace_recovery_codes(tx, id, &promotion.recovery_codes)?;
    sessions::revoke_for_account(tx, id, promotion.keep, RevokeReason::MfaChanged, now).map(Some)
}

pub(super) fn set_disabled(
    tx: &Connection,
    id: AccountId,
    disabled: bool,
    now: OffsetDateTime,
) -> Result<()> {
    changed_one(tx.execute(
        "UPDATE accounts SET disabled = ?2 WHERE id = ?1",
        params![id.get(), disabled],
    )?)?;
    if disabled {
        sessions::revoke_for_account(tx, id, None, RevokeReason::AccountDisabled, now)?;
    }
    Ok(())
}

pub(super) fn set_role(tx: &Connection, id: AccountId, role: Role) -> Result<()> {
    changed_one(tx.execute(
        "UPDATE accounts SET role = ?2 WHERE id = ?1",
        params![id.get(), role.key()],
    )?)
}

fn require_account(conn: &Connection, id: AccountId) -> Result<()> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?1)")?
        .query_row([id.get()], |row| row.get(0))?;
    if exists {
        Ok(())
    } else {
        Err(StorageError::NotFound)
    }
}

pub(super) fn replace_recovery_codes(
    tx: &Connection,
    id: AccountId,
    hashes: &[TokenHash],
) -> Result<()> {
    require_account(tx, id)?;
    tx.execute(
        "DELETE FROM recovery_codes WHERE account_id = ?1",
        [id.get()],
    )?;
    let mut insert =
        tx.prepare_cached("INSERT INTO recovery_codes (account_id, code_hash) VALUES (?1, ?2)")?;
    for hash in hashes {
        insert.execute(params![id.get(), hash.0])?;
    }
    Ok(())
}

pub(super) fn consume_recovery_code(
    tx: &Connection,
    id: AccountId,
    hash: TokenHash,
    now: OffsetDateTime,
) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE recovery_codes SET used_at = ?3 \
         WHERE account_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
        params![id.get(), hash.0, unix(now)],
    )?;
    Ok(changed == 1)
}

pub(super) fn count_unused_recovery_codes(conn: &Connection, id: AccountId) -> Result<u32> {
    require_account(conn, id)?;
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM recovery_codes WHERE account_id = ?1 AND used_at IS NULL",
        )?
        .query_row([id.get()], |row| row.get(0))?)
}

const DEVICE_COLUMNS: &str =
    "id, account_id, name, public_key, created_at, last_seen_at, revoked_at";

fn device_from_row(row: &Row<'_>) -> rusqlite::Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: DeviceId::new(row.get(0)?),
        account: AccountId::new(row.get(1)?),
        name: row.get(2)?,
        public_key: row.get(3)?,
        created_at: time_at(row, 4)?,
        last_seen_at: opt_time_at(row, 5)?,
        revoked_at: opt_time_at(row, 6)?,
    })
}

pub(super) fn register_device(
    tx: &Connection,
    new: &NewDevice,
    now: OffsetDateTime,
) -> Result<DeviceRecord> {
    tx.execute(
        "INSERT INTO devices (account_id, name, public_key, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![new.account.get(), new.name, new.public_key, unix(now)],
    )?;
    find_device(tx, DeviceId::new(tx.last_insert_rowid()))?.ok_or(StorageError::NotFound)
}

pub(super) fn list_devices(conn: &Connection, account: AccountId) -> Result<Vec<DeviceRecord>> {
    let sql = format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE account_id = ?1 \
         ORDER BY created_at DESC, id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([account.get()], device_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn find_device(conn: &Connection, id: DeviceId) -> Result<Option<DeviceRecord>> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.get()], device_from_row)
        .optional()?)
}

pub(super) fn touch_device(tx: &Connection, id: DeviceId, now: OffsetDateTime) -> Result<()> {
    changed_one(tx.execute(
        "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1",
        params![id.get(), unix(now)],
    )?)
}

pub(super) fn revoke_device(tx: &Connection, id: DeviceId, now: OffsetDateTime) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id.get(), unix(now)],
    )?;
    if changed == 0 {
        return find_device(tx, id)?
            .ok_or(StorageError::NotFound)
            .map(|_| false);
    }
    sessions::revoke_for_device(tx, id, now)?;
    Ok(true)
}
