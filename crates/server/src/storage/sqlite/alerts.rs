//! Security alerts on SQLite: raising one (deduplicated against an unresolved twin in the
//! same transaction), listing them for their owner or for admins, acknowledging, resolving.

use canopy_core::AccountId;
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::convert::{BadValue, opt_time_at, parsed, time_at, unix};
use crate::storage::{
    AlertAudience, AlertId, AlertRecord, AlertSeverity, AlertState, NewAlert, Result, StorageError,
};

const COLUMNS: &str = "id, account_id, audience, kind, severity, evidence, created_at, \
                       acknowledged_at, acknowledged_by, resolved_at, resolved_by";

fn alert_row(row: &Row<'_>) -> rusqlite::Result<AlertRecord> {
    Ok(AlertRecord {
        id: AlertId::new(row.get(0)?),
        account: row.get::<_, Option<i64>>(1)?.map(AccountId::new),
        audience: parsed(row, 2, "alert audience", |key| {
            AlertAudience::from_key(key).ok_or(BadValue("alert audience"))
        })?,
        kind: row.get(3)?,
        severity: parsed(row, 4, "alert severity", |key| {
            AlertSeverity::from_key(key).ok_or(BadValue("alert severity"))
        })?,
        evidence: parsed(row, 5, "alert evidence", |text| {
            serde_json::from_str::<serde_json::Value>(text)
        })?,
        created_at: time_at(row, 6)?,
        acknowledged_at: opt_time_at(row, 7)?,
        acknowledged_by: row.get::<_, Option<i64>>(8)?.map(AccountId::new),
        resolved_at: opt_time_at(row, 9)?,
        resolved_by: row.get::<_, Option<i64>>(10)?.map(AccountId::new),
    })
}

fn find(conn: &Connection, id: AlertId) -> Result<Option<AlertRecord>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"))?
        .query_row([id.get()], alert_row)
        .optional()?)
}

pub(super) fn create(tx: &Connection, new: &NewAlert) -> Result<Option<AlertRecord>> {
    if new.unless_open {
        let open: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE account_id IS ?1 AND audience = ?2 \
                 AND kind = ?3 AND resolved_at IS NULL)",
            )?
            .query_row(
                params![
                    new.account.map(AccountId::get),
                    new.audience.key(),
                    new.kind
                ],
                |row| row.get(0),
            )?;
        if open {
            return Ok(None);
        }
    }
    let evidence = serde_json::to_string(&new.evidence).map_err(StorageError::backend)?;
    tx.prepare_cached(
        "INSERT INTO alerts (account_id, audience, kind, severity, evidence, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        new.account.map(AccountId::get),
        new.audience.key(),
        new.kind,
        new.severity.key(),
        evidence,
        unix(new.at),
    ])?;
    find(tx, AlertId::new(tx.last_insert_rowid()))
}

pub(super) fn list_for_account(
    conn: &Connection,
    account: AccountId,
    limit: u32,
) -> Result<Vec<AlertRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE account_id = ?1 AND audience = ?2 \
         ORDER BY created_at DESC, id DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(
        params![account.get(), AlertAudience::User.key(), i64::from(limit)],
        alert_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn list_admin(
    conn: &Connection,
    state: Option<AlertState>,
    limit: u32,
) -> Result<Vec<AlertRecord>> {
    let filter = match state {
        None => "",
        Some(AlertState::Open) => "AND resolved_at IS NULL AND acknowledged_at IS NULL",
        Some(AlertState::Acknowledged) => "AND resolved_at IS NULL AND acknowledged_at IS NOT NULL",
        Some(AlertState::Resolved) => "AND resolved_at IS NOT NULL",
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE audience = ?1 {filter} \
         ORDER BY resolved_at IS NOT NULL, acknowledged_at IS NOT NULL, \
                  created_at DESC, id DESC \
         LIMIT ?2"
    ))?;
    let rows = stmt.query_map(
        params![AlertAudience::Admin.key(), i64::from(limit)],
        alert_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn acknowledge(
    tx: &Connection,
    id: AlertId,
    by: AccountId,
    now: OffsetDateTime,
) -> Result<AlertRecord> {
    let changed = tx
        .prepare_cached(
            "UPDATE alerts SET \
                 acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN ?2 \
                                        ELSE acknowledged_by END, \
                 acknowledged_at = COALESCE(acknowledged_at, ?3) \
             WHERE id = ?1 AND audience = ?4",
        )?
        .execute(params![
            id.get(),
            by.get(),
            unix(now),
            AlertAudience::Admin.key()
        ])?;
    if changed == 0 {
        return Err(StorageError::NotFound);
    }
    find(tx, id)?.ok_or(StorageError::NotFound)
}

pub(super) fn resolve(
    tx: &Connection,
    id: AlertId,
    by: AccountId,
    now: OffsetDateTime,
) -> Result<AlertRecord> {
    acknowledge(tx, id, by, now)?;
    tx.prepare_cached(
        "UPDATE alerts SET \
             resolved_by = CASE WHEN resolved_at IS NULL THEN ?2 ELSE resolved_by END, \
             resolved_at = COALESCE(resolved_at, ?3) \
         WHERE id = ?1",
    )?
    .execute(params![id.get(), by.get(), unix(now)])?;
    find(tx, id)?.ok_or(StorageError::NotFound)
}
