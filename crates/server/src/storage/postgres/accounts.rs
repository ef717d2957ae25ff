//! Accounts, their MFA state and recovery codes, and their devices, on PostgreSQL. Each
//! function runs inside the caller's transaction (see `write_tx!` / `read_tx!` in mod.rs).

use canopy_core::{AccountId, Email, MemberId, Role};
use time::OffsetDateTime;
use tokio_postgres::Row;

use super::Transaction;
use super::convert::{bad, changed_one, count, opt_time_at, parsed, time_at, unix};
use super::sessions;
use crate::storage::{
    AccountRecord, DeviceId, DeviceRecord, FamilyId, MfaRecord, NewAccount, NewDevice, Result,
    RevokeReason, StorageError, TokenHash, TotpPromotion, email_key,
};

const ACCOUNT_COLUMNS: &str = "id, email, password_hash, role, member_id, disabled, created_at, \
     password_changed_at, totp_secret_sealed, mfa_enabled, last_totp_step";

fn account_from_row(row: &Row) -> Result<AccountRecord> {
    Ok(AccountRecord {
        id: AccountId::new(row.try_get(0)?),
        email: parsed(row, 1, "account email", Email::parse)?,
        password_hash: row.try_get(2)?,
        role: parsed(row, 3, "account role", str::parse::<Role>)?,
        member: row.try_get::<_, Option<i64>>(4)?.map(MemberId::new),
        disabled: row.try_get(5)?,
        created_at: time_at(row, 6)?,
        password_changed_at: time_at(row, 7)?,
        mfa: MfaRecord {
            sealed_secret: row.try_get(8)?,
            enabled: row.try_get(9)?,
            last_step: row.try_get(10)?,
        },
    })
}

pub(super) async fn create(
    tx: &Transaction<'_>,
    new: &NewAccount,
    now: OffsetDateTime,
) -> Result<AccountRecord> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO accounts \
                 (email, email_key, password_hash, role, member_id, created_at, \
                  password_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &new.email.as_str(),
                &email_key(new.email.as_str()),
                &new.password_hash,
                &new.role.key(),
                &new.member.map(MemberId::get),
                &unix(now),
            ],
        )
        .await?;
    find(tx, AccountId::new(row.try_get(0)?))
        .await?
        .ok_or(StorageError::NotFound)
}

pub(super) async fn find(tx: &Transaction<'_>, id: AccountId) -> Result<Option<AccountRecord>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query_opt(&stmt, &[&id.get()])
        .await?
        .as_ref()
        .map(account_from_row)
        .transpose()
}

/// PostgreSQL text can't hold NUL, which no stored key contains: such a key matches nothing
/// here instead of failing the statement (SQLite would simply find no row).
pub(super) async fn find_by_email_key(
    tx: &Transaction<'_>,
    key: &str,
) -> Result<Option<AccountRecord>> {
    if key.contains('\0') {
        return Ok(None);
    }
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email_key = $1");
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query_opt(&stmt, &[&key])
        .await?
        .as_ref()
        .map(account_from_row)
        .transpose()
}

pub(super) async fn change_password(
    tx: &Transaction<'_>,
    id: AccountId,
    password_hash: &str,
    keep: Option<FamilyId>,
    now: OffsetDateTime,
) -> Result<u64> {
    let stmt = tx
        .prepare_cached(
            "UPDATE accounts SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
        )
        .await?;
    changed_one(
        tx.execute(&stmt, &[&id.get(), &password_hash, &unix(now)])
            .await?,
    )?;
    sessions::revoke_for_account(tx, id, keep, RevokeReason::PasswordChanged, now).await
}

pub(super) async fn update_password_hash(
    tx: &Transaction<'_>,
    id: AccountId,
    password_hash: &str,
) -> Result<()> {
    let stmt = tx
        .prepare_cached("UPDATE accounts SET password_hash = $2 WHERE id = $1")
        .await?;
    changed_one(tx.execute(&stmt, &[&id.get(), &password_hash]).await?)
}

pub(super) async fn set_mfa(
    tx: &Transaction<'_>,
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
    let stmt = tx
        .prepare_cached(
            "UPDATE accounts SET \
                 last_totp_step = CASE WHEN totp_secret_sealed IS NOT DISTINCT FROM $2::BYTEA \
                                       THEN last_totp_step END, \
                 totp_secret_sealed = $2, mfa_enabled = $3 \
             WHERE id = $1",
        )
        .await?;
    changed_one(
        tx.execute(&stmt, &[&id.get(), &sealed_secret, &enabled])
            .await?,
    )
}

pub(super) async fn accept_totp_step(
    tx: &Transaction<'_>,
    id: AccountId,
    step: i64,
) -> Result<bool> {
    let stmt = tx
        .prepare_cached(
            "UPDATE accounts SET last_totp_step = $2 \
             WHERE id = $1 AND (last_totp_step IS NULL OR last_totp_step < $2)",
        )
        .await?;
    let changed = tx.execute(&stmt, &[&id.get(), &step]).await?;
    if changed == 1 {
        return Ok(true);
    }
    // Refused: tell a replay apart from an account that does not exist.
    find(tx, id)
        .await?
        .ok_or(StorageError::NotFound)
        .map(|_| false)
}

/// Stores (or with `None` clears) the account's pending TOTP secret, timestamped `now`.
/// The active secret, `mfa_enabled` and the replay guard are not touched.
pub(super) async fn set_pending_totp(
    tx: &Transaction<'_>,
    id: AccountId,
    sealed_secret: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "UPDATE accounts SET pending_totp_secret = $2, \
                 pending_totp_created_at = CASE WHEN $2::BYTEA IS NULL THEN NULL \
                                                ELSE $3::BIGINT END \
             WHERE id = $1",
        )
        .await?;
    changed_one(
        tx.execute(&stmt, &[&id.get(), &sealed_secret, &unix(now)])
            .await?,
    )
}

pub(super) async fn find_pending_totp(
    tx: &Transaction<'_>,
    id: AccountId,
) -> Result<Option<(Vec<u8>, OffsetDateTime)>> {
    let stmt = tx
        .prepare_cached(
            "SELECT pending_totp_secret, pending_totp_created_at FROM accounts \
             WHERE id = $1 AND pending_totp_secret IS NOT NULL",
        )
        .await?;
    match tx.query_opt(&stmt, &[&id.get()]).await? {
        Some(row) => Ok(Some((row.try_get(0)?, time_at(&row, 1)?))),
        None => find(tx, id)
            .await?
            .ok_or(StorageError::NotFound)
            .map(|_| None),
    }
}

/// Makes the pending secret the active one if it still is `sealed_secret`: MFA on, the
/// replay guard at `step` (the confirming code's), the pending columns cleared, every
/// recovery code replaced by `recovery` and every other session revoked, all in the
/// caller's transaction. `None` if that secret is no longer pending.
pub(super) async fn promote_pending_totp(
    tx: &Transaction<'_>,
    id: AccountId,
    promotion: &TotpPromotion,
    now: OffsetDateTime,
) -> Result<Option<u64>> {
    let stmt = tx
        .prepare_cached(
            "UPDATE accounts SET totp_secret_sealed = pending_totp_secret, mfa_enabled = TRUE, \
                 last_totp_step = $3, pending_totp_secret = NULL, \
                 pending_totp_created_at = NULL \
             WHERE id = $1 AND pending_totp_secret = $2",
        )
        .await?;
    let changed = tx
        .execute(
            &stmt,
            &[&id.get(), &promotion.sealed_secret, &promotion.step],
        )
        .await?;
    if changed == 0 {
        return find(tx, id)
            .await?
            .ok_or(StorageError::NotFound)
            .map(|_| None);
    }
    replace_recovery_codes(tx, id, &promotion.recovery_codes).await?;
    sessions::revoke_for_account(tx, id, promotion.keep, RevokeReason::MfaChanged, now)
        .await
        .map(Some)
}

pub(super) async fn set_disabled(
    tx: &Transaction<'_>,
    id: AccountId,
    disabled: bool,
    now: OffsetDateTime,
) -> Result<()> {
    let stmt = tx
        .prepare_cached("UPDATE accounts SET disabled = $2 WHERE id = $1")
        .await?;
    changed_one(tx.execute(&stmt, &[&id.get(), &disabled]).await?)?;
    if disabled {
        sessions::revoke_for_account(tx, id, None, RevokeReason::AccountDisabled, now).await?;
    }
    Ok(())
}

pub(super) async fn set_role(tx: &Transaction<'_>, id: AccountId, role: Role) -> Result<()> {
    let stmt = tx
        .prepare_cached("UPDATE accounts SET role = $2 WHERE id = $1")
        .await?;
    changed_one(tx.execute(&stmt, &[&id.get(), &role.key()]).await?)
}

async fn require_account(tx: &Transaction<'_>, id: AccountId) -> Result<()> {
    let stmt = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)")
        .await?;
    let exists: bool = tx.query_one(&stmt, &[&id.get()]).await?.try_get(0)?;
    if exists {
        Ok(())
    } else {
        Err(StorageError::NotFound)
    }
}

/// The codes go in as one array through `unnest`: one round trip whatever their number.
pub(super) async fn replace_recovery_codes(
    tx: &Transaction<'_>,
    id: AccountId,
    hashes: &[TokenHash],
) -> Result<()> {
    require_account(tx, id).await?;
    let delete = tx
        .prepare_cached("DELETE FROM recovery_codes WHERE account_id = $1")
        .await?;
    tx.execute(&delete, &[&id.get()]).await?;
    if hashes.is_empty() {
        return Ok(());
    }
    let codes: Vec<&[u8]> = hashes.iter().map(|hash| &hash.0[..]).collect();
    let insert = tx
        .prepare_cached(
            "INSERT INTO recovery_codes (account_id, code_hash) \
             SELECT $1, code FROM unnest($2::BYTEA[]) AS codes (code)",
        )
        .await?;
    tx.execute(&insert, &[&id.get(), &codes]).await?;
    Ok(())
}

pub(super) async fn consume_recovery_code(
    tx: &Transaction<'_>,
    id: AccountId,
    hash: TokenHash,
    now: OffsetDateTime,
) -> Result<bool> {
    let stmt = tx
        .prepare_cached(
            "UPDATE recovery_codes SET used_at = $3 \
             WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .await?;
    let changed = tx
        .execute(&stmt, &[&id.get(), &&hash.0[..], &unix(now)])
        .await?;
    Ok(changed == 1)
}

pub(super) async fn count_unused_recovery_codes(
    tx: &Transaction<'_>,
    id: AccountId,
) -> Result<u32> {
    require_account(tx, id).await?;
    let stmt = tx
        .prepare_cached(
            "SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL",
        )
        .await?;
    count(tx.query_one(&stmt, &[&id.get()]).await?.try_get(0)?)
}

const DEVICE_COLUMNS: &str =
    "id, account_id, name, public_key, created_at, last_seen_at, revoked_at";

fn device_from_row(row: &Row) -> Result<DeviceRecord> {
    let key: &[u8] = row.try_get(3)?;
    Ok(DeviceRecord {
        id: DeviceId::new(row.try_get(0)?),
        account: AccountId::new(row.try_get(1)?),
        name: row.try_get(2)?,
        public_key: key.try_into().map_err(|_| bad("device public key"))?,
        created_at: time_at(row, 4)?,
        last_seen_at: opt_time_at(row, 5)?,
        revoked_at: opt_time_at(row, 6)?,
    })
}

pub(super) async fn register_device(
    tx: &Transaction<'_>,
    new: &NewDevice,
    now: OffsetDateTime,
) -> Result<DeviceRecord> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO devices (account_id, name, public_key, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &new.account.get(),
                &new.name,
                &&new.public_key[..],
                &unix(now),
            ],
        )
        .await?;
    find_device(tx, DeviceId::new(row.try_get(0)?))
        .await?
        .ok_or(StorageError::NotFound)
}

pub(super) async fn list_devices(
    tx: &Transaction<'_>,
    account: AccountId,
) -> Result<Vec<DeviceRecord>> {
    let sql = format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE account_id = $1 \
         ORDER BY created_at DESC, id DESC"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query(&stmt, &[&account.get()])
        .await?
        .iter()
        .map(device_from_row)
        .collect()
}

pub(super) async fn find_device(
    tx: &Transaction<'_>,
    id: DeviceId,
) -> Result<Option<DeviceRecord>> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1");
    let stmt = tx.prepare_cached(&sql).await?;
    tx.query_opt(&stmt, &[&id.get()])
        .await?
        .as_ref()
        .map(device_from_row)
        .transpose()
}

pub(super) async fn touch_device(
    tx: &Transaction<'_>,
    id: DeviceId,
    now: OffsetDateTime,
) -> Result<()> {
    let stmt = tx
        .prepare_cached("UPDATE devices SET last_seen_at = $2 WHERE id = $1")
        .await?;
    changed_one(tx.execute(&stmt, &[&id.get(), &unix(now)]).await?)
}

pub(super) async fn revoke_device(
    tx: &Transaction<'_>,
    id: DeviceId,
    now: OffsetDateTime,
) -> Result<bool> {
    let stmt = tx
        .prepare_cached("UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .await?;
    let changed = tx.execute(&stmt, &[&id.get(), &unix(now)]).await?;
    if changed == 0 {
        return find_device(tx, id)
            .await?
            .ok_or(StorageError::NotFound)
            .map(|_| false);
    }
    sessions::revoke_for_device(tx, id, now).await?;
    Ok(true)
}
