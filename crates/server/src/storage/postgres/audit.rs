//! The audit log on PostgreSQL: appends chained to the last event under the write lock,
//! reads in sequence order. Triggers in the schema refuse every UPDATE, DELETE and
//! TRUNCATE.

use canopy_core::AccountId;
use time::OffsetDateTime;
use tokio_postgres::Row;

use super::Transaction;
use super::convert::{bad, time_at, unix};
use crate::storage::audit::{EventFields, GENESIS, canonical_json};
use crate::storage::{AuditRecord, NewAuditEvent, Result, StorageError};

/// A 32-byte hash column.
fn hash_at(row: &Row, idx: usize, what: &'static str) -> Result<[u8; 32]> {
    let bytes: &[u8] = row.try_get(idx)?;
    bytes.try_into().map_err(|_| bad(what))
}

pub(super) async fn append(tx: &Transaction<'_>, event: &NewAuditEvent) -> Result<AuditRecord> {
    // Every write transaction holds the global advisory lock until it ends (mod.rs), so no
    // other append, on this instance or another, can slip in between reading the last link
    // and adding the next.
    let stmt = tx
        .prepare_cached("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .await?;
    let (seq, prev_hash) = match tx.query_opt(&stmt, &[]).await? {
        None => (1, GENESIS),
        Some(row) => {
            let seq: i64 = row.try_get(0)?;
            (seq + 1, hash_at(&row, 1, "audit hash")?)
        }
    };
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
    let stmt = tx
        .prepare_cached(
            "INSERT INTO audit_events \
                 (seq, at, actor_account_id, action, target, details, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &seq,
            &unix(at),
            &event.actor.map(AccountId::get),
            &event.action,
            &event.target,
            &details,
            &&prev_hash[..],
            &&hash[..],
        ],
    )
    .await?;
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

pub(super) async fn list(tx: &Transaction<'_>, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
    let stmt = tx
        .prepare_cached(
            "SELECT seq, at, actor_account_id, action, target, details, prev_hash, hash \
             FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .await?;
    tx.query(&stmt, &[&after, &i64::from(limit)])
        .await?
        .iter()
        .map(|row| {
            Ok(AuditRecord {
                seq: row.try_get(0)?,
                at: time_at(row, 1)?,
                actor: row.try_get::<_, Option<i64>>(2)?.map(AccountId::new),
                action: row.try_get(3)?,
                target: row.try_get(4)?,
                details: row.try_get(5)?,
                prev_hash: hash_at(row, 6, "audit prev_hash")?,
                hash: hash_at(row, 7, "audit hash")?,
            })
        })
        .collect()
}
