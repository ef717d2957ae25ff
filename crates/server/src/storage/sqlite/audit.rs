//! The audit log on SQLite: appends chained to the last event under the write lock, reads
//! in sequence order. Triggers in the schema refuse every UPDATE and DELETE.

use canopy_core::AccountId;
use rusqlite::{Connection, OptionalExtension, params};

use super::convert::{time_at, unix};
use crate::storage::audit::{EventFields, GENESIS, canonical_json};
use crate::storage::{AuditRecord, NewAuditEvent, Result, StorageError};
use time::OffsetDateTime;

pub(super) fn append(tx: &Connection, event: &NewAuditEvent) -> Result<AuditRecord> {
    // The writer holds the database's write lock for the whole transaction, so no other
    // append can slip in between reading the last link and adding the next.
    let last: Option<(i64, [u8; 32])> = tx
        .prepare_cached("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = last.map_or((1, GENESIS), |(seq, hash)| (seq + 1, hash));
    // Whole seconds, as stored, so the returned record verifies like one read back.
    let at = OffsetDateTime::from_unix_timestamp(unix(event.at)).map_err(StorageError::backend)?;
    let details = canonical_json(&event.details);
    let fields = EventFields {
        seq,
        at,
        actor: event.actor,
        action: &event.action,
        target: event.target.as_deref(),
        details: &details,
    };
    let hash = fields.hash(&prev_hash);
    tx.prepare_cached(
        "INSERT INTO audit_events \
             (seq, at, actor_account_id, action, target, details, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        seq,
        unix(at),
        event.actor.map(AccountId::get),
        event.action,
        event.target,
        details,
        prev_hash,
        hash,
    ])?;
    Ok(AuditRecord {
        seq,
        at,
        actor: event.actor,
        action: event.action.clone(),
        target: event.target.clone(),
        details,
        prev_hash,
        hash,
    })
}

pub(super) fn list(conn: &Connection, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor_account_id, action, target, details, prev_hash, hash \
         FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, i64::from(limit)], |row| {
        Ok(AuditRecord {
            seq: row.get(0)?,
            at: time_at(row, 1)?,
            actor: row.get::<_, Option<i64>>(2)?.map(AccountId::new),
            action: row.get(3)?,
            target: row.get(4)?,
            details: row.get(5)?,
            prev_hash: row.get(6)?,
            hash: row.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
