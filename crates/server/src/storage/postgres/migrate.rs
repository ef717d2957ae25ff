//! Versioned, forward-only schema migrations for PostgreSQL: SQL files embedded at build
//! time, each applied in its own transaction with the row recording its version. PostgreSQL
//! started at the SQLite schema's version 14, so its history starts there as one file; from
//! now on both backends gain each change as their own next migration.

use time::OffsetDateTime;

use crate::storage::StorageError;

pub(super) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Append only: never edit a migration that has shipped; add the next one.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "schema",
        sql: include_str!("migrations/0001_schema.sql"),
    },
    Migration {
        version: 2,
        name: "commission_run_claims",
        sql: include_str!("migrations/0002_commission_run_claims.sql"),
    },
];

/// Held while migrating, so instances starting together migrate one at a time.
const MIGRATION_LOCK: i64 = 0x63_61_6e_6f_70_79_6d;

pub(super) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the database up to [`latest_version`]; returns the version it was at. Safe to run
/// from several instances at once: each step runs under an advisory lock and re-reads the
/// version first.
pub(super) async fn migrate(client: &mut deadpool_postgres::Client) -> Result<i64, StorageError> {
    let mut started_at = None;
    for migration in MIGRATIONS {
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        let exists: bool = tx
            .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
            .await?
            .try_get(0)?;
        if !exists {
            tx.batch_execute(
                "CREATE TABLE schema_migrations (
                     version    BIGINT PRIMARY KEY,
                     name       TEXT   NOT NULL,
                     applied_at BIGINT NOT NULL
                 )",
            )
            .await?;
        }
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        if current > latest_version() {
            return Err(StorageError::Unsupported(format!(
                "the database schema is version {current}, newer than this server knows \
                 ({}); upgrade the server",
                latest_version()
            )));
        }
        started_at.get_or_insert(current);
        if current >= migration.version {
            continue;
        }
        tx.batch_execute(migration.sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[
                &migration.version,
                &migration.name,
                &OffsetDateTime::now_utc().unix_timestamp(),
            ],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied database migration"
        );
    }
    Ok(started_at.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, i as i64 + 1, "{}", migration.name);
        }
    }
}
