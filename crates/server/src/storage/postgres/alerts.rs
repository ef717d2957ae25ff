//! Security alerts on PostgreSQL: raising one (deduplicated against an unresolved twin in
//! the same transaction), listing them for their owner or for admins, acknowledging,
//! resolving.

use canopy_core::AccountId;
use time::OffsetDateTime;
use tokio_postgres::Row;

use super::Transaction;
use super::convert::{BadValue, opt_time_at, parsed, time_at, unix};
use crate::storage::{
    AlertAudience, AlertId, AlertRecord, AlertSeverity, AlertState, NewAlert, Result, StorageError,
};

const COLUMNS: &str = "id, account_id, audience, kind, severity, evidence, created_at, \
                       acknowledged_at, acknowledged_by, resolved_at, resolved_by";

fn alert_row(row: &Row) -> Result<AlertRecord> {
    Ok(AlertRecord {
        id: AlertId::new(row.try_get(0)?),
        account: row.try_get::<_, Option<i64>>(1)?.map(AccountId::new),
        audience: parsed(row, 2, "alert audience", |key| {
            AlertAudience::from_key(key).ok_or(BadValue("alert audience"))
        })?,
        kind: row.try_get(3)?,
        severity: parsed(row, 4, "alert severity", |key| {
            AlertSeverity::from_key(key).ok_or(BadValue("alert severity"))
        })?,
        evidence: parsed(row, 5, "alert evidence", |text| {
            serde_json::from_str::<serde_json::Value>(text)
        })?,
        created_at: time_at(row, 6)?,
        acknowledged_at: opt_time_at(row, 7)?,
        acknowledged_by: row.try_get::<_, Option<i64>>(8)?.map(AccountId::new),
        resolved_at: opt_time_at(row, 9)?,
        resolved_by: row.try_get::<_, Option<i64>>(10)?.map(AccountId::new),
    })
}

async fn find(tx: &Transaction<'_>, id: AlertId) -> Result<Option<AlertRecord>> {
    let stmt = tx
        .prepare_cached(&format!("SELECT {COLUMNS} FROM alerts WHERE id = $1"))
        .await?;
    tx.query_opt(&stmt, &[&id.get()])
        .await?
        .as_ref()
        .map(alert_row)
        .transpose()
}

/// SQLite's `account_id IS ?1` becomes one of two statements, `= $1` or `IS NULL`, so
/// PostgreSQL can use the index (it can't for `IS NOT DISTINCT FROM`).
async fn open_twin_exists(tx: &Transaction<'_>, new: &NewAlert) -> Result<bool> {
    let row = match new.account {
        Some(account) => {
            let stmt = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM alerts WHERE account_id = $1 \
                     AND audience = $2 AND kind = $3 AND resolved_at IS NULL)",
                )
                .await?;
            tx.query_one(&stmt, &[&account.get(), &new.audience.key(), &new.kind])
                .await?
        }
        None => {
            let stmt = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM alerts WHERE account_id IS NULL \
                     AND audience = $1 AND kind = $2 AND resolved_at IS NULL)",
                )
                .await?;
            tx.query_one(&stmt, &[&new.audience.key(), &new.kind])
                .await?
        }
    };
    Ok(row.try_get(0)?)
}

pub(super) async fn create(tx: &Transaction<'_>, new: &NewAlert) -> Result<Option<AlertRecord>> {
    if new.unless_open && open_twin_exists(tx, new).await? {
        return Ok(None);
    }
    let evidence = serde_json::to_string(&new.evidence).map_err(StorageError::backend)?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO alerts (account_id, audience, kind, severity, evidence, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &new.account.map(AccountId::get),
                &new.audience.key(),
                &new.kind,
                &new.severity.key(),
                &evidence,
                &unix(new.at),
            ],
        )
        .await?;
    find(tx, AlertId::new(row.try_get(0)?)).await
}

pub(super) async fn list_for_account(
    tx: &Transaction<'_>,
    account: AccountId,
    limit: u32,
) -> Result<Vec<AlertRecord>> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM alerts WHERE account_id = $1 AND audience = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .await?;
    tx.query(
        &stmt,
        &[
            &account.get(),
            &AlertAudience::User.key(),
            &i64::from(limit),
        ],
    )
    .await?
    .iter()
    .map(alert_row)
    .collect()
}

pub(super) async fn list_admin(
    tx: &Transaction<'_>,
    state: Option<AlertState>,
    limit: u32,
) -> Result<Vec<AlertRecord>> {
    let filter = match state {
        None => "",
        Some(AlertState::Open) => "AND resolved_at IS NULL AND acknowledged_at IS NULL",
        Some(AlertState::Acknowledged) => "AND resolved_at IS NULL AND acknowledged_at IS NOT NULL",
        Some(AlertState::Resolved) => "AND resolved_at IS NOT NULL",
    };
    // Booleans sort FALSE first, as SQLite's 0 before 1: open, then acknowledged, then
    // resolved.
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM alerts WHERE audience = $1 {filter} \
             ORDER BY resolved_at IS NOT NULL, acknowledged_at IS NOT NULL, \
                      created_at DESC, id DESC \
             LIMIT $2"
        ))
        .await?;
    tx.query(&stmt, &[&AlertAudience::Admin.key(), &i64::from(limit)])
        .await?
        .iter()
        .map(alert_row)
        .collect()
}

pub(super) async fn acknowledge(
    tx: &Transaction<'_>,
    id: AlertId,
    by: AccountId,
    now: OffsetDateTime,
) -> Result<AlertRecord> {
    let stmt = tx
        .prepare_cached(
            "UPDATE alerts SET \
                 acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN $2::BIGINT \
                                        ELSE acknowledged_by END, \
                 acknowledged_at = COALESCE(acknowledged_at, $3::BIGINT) \
             WHERE id = $1 AND audience = $4",
        )
        .await?;
    let changed = tx
        .execute(
            &stmt,
            &[
                &id.get(),
                &by.get(),
                &unix(now),
                &AlertAudience::Admin.key(),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StorageError::NotFound);
    }
    find(tx, id).await?.ok_or(StorageError::NotFound)
}

pub(super) async fn resolve(
    tx: &Transaction<'_>,
    id: AlertId,
    by: AccountId,
    now: OffsetDateTime,
) -> Result<AlertRecord> {
    acknowledge(tx, id, by, now).await?;
    let stmt = tx
        .prepare_cached(
            "UPDATE alerts SET \
                 resolved_by = CASE WHEN resolved_at IS NULL THEN $2::BIGINT \
                                    ELSE resolved_by END, \
                 resolved_at = COALESCE(resolved_at, $3::BIGINT) \
             WHERE id = $1",
        )
        .await?;
    tx.execute(&stmt, &[&id.get(), &by.get(), &unix(now)])
        .await?;
    find(tx, id).await?.ok_or(StorageError::NotFound)
}
