//! The cache's schema as numbered, forward-only migrations (`migrations/NNNN_*.sql`), each
//! applied in its own transaction together with `PRAGMA user_version`.

use rusqlite::Connection;

use crate::error::StoreError;

/// Every migration in order; the schema version is the number of migrations applied.
/// Never edit or reorder a shipped one: add the next.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "genealogy",
        include_str!("../migrations/0001_genealogy.sql"),
    ),
    (
        "search_indexes",
        include_str!("../migrations/0002_search_indexes.sql"),
    ),
    ("money", include_str!("../migrations/0003_money.sql")),
    (
        "sync_outbox",
        include_str!("../migrations/0004_sync_outbox.sql"),
    ),
    (
        "catalogue",
        include_str!("../migrations/0005_catalogue.sql"),
    ),
    (
        "downline_plans",
        include_str!("../migrations/0006_downline_plans.sql"),
    ),
    (
        "statement_sync",
        include_str!("../migrations/0007_statement_sync.sql"),
    ),
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// A fingerprint of the whole schema (every migration's text): data generated for one
/// schema, like the benchmarks' cache, is stale under another.
pub fn schema_fingerprint() -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for (name, sql) in MIGRATIONS {
        ctx.update(name.as_bytes());
        ctx.update(sql.as_bytes());
    }
    data_encoding::HEXLOWER.encode(&ctx.finish().as_ref()[..8])
}

/// The schema version of `conn`'s database.
pub fn version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the schema up to [`LATEST`]; refuses a cache written by a newer app.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, LATEST)
}

/// Applies the migrations after the current version up to `target`. Public for the tests
/// that build a cache at every earlier version.
#[doc(hidden)]
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), StoreError> {
    let found = version(conn)?;
    if found > LATEST {
        return Err(StoreError::TooNew {
            found,
            known: LATEST,
        });
    }
    for (number, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let number = number as i64 + 1;
        if number <= found || number > target {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
        tracing::info!(number, name, "applied cache migration");
    }
    Ok(())
}
