//! Versioned, forward-only schema migrations: SQL files embedded at build time, each applied
//! in its own transaction together with the row that records its version.
//!
//! A dozen lines rather than `rusqlite_migration`, so the workspace's single rusqlite
//! version (shared with the desktop's SQLCipher cache) never waits on a helper crate.

use rusqlite::{Connection, TransactionBehavior, params};
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
        name: "genealogy",
        sql: include_str!("migrations/0001_genealogy.sql"),
    },
    Migration {
        version: 2,
        name: "accounts",
        sql: include_str!("migrations/0002_accounts.sql"),
    },
    Migration {
        version: 3,
        name: "audit",
        sql: include_str!("migrations/0003_audit.sql"),
    },
    Migration {
        version: 4,
        name: "alerts",
        sql: include_str!("migrations/0004_alerts.sql"),
    },
    Migration {
        version: 5,
        name: "pending_totp",
        sql: include_str!("migrations/0005_pending_totp.sql"),
    },
    Migration {
        version: 6,
        name: "sync_snapshots",
        sql: include_str!("migrations/0006_sync_snapshots.sql"),
    },
    Migration {
        version: 7,
        name: "member_changes",
        sql: include_str!("migrations/0007_member_changes.sql"),
    },
    Migration {
        version: 8,
        name: "outbox_commands",
        sql: include_str!("migrations/0008_outbox_commands.sql"),
    },
    Migration {
        version: 9,
        name: "member_notes",
        sql: include_str!("migrations/0009_member_notes.sql"),
    },
    Migration {
        version: 10,
        name: "products",
        sql: include_str!("migrations/0010_products.sql"),
    },
    Migration {
        version: 11,
        name: "commissions",
        sql: include_str!("migrations/0011_commissions.sql"),
    },
    Migration {
        version: 12,
        name: "earnings_by_period",
        sql: include_str!("migrations/0012_earnings_by_period.sql"),
    },
    Migration {
        version: 13,
        name: "push_events",
        sql: include_str!("migrations/0013_push_events.sql"),
    },
    Migration {
        version: 14,
        name: "retention",
        sql: include_str!("migrations/0014_retention.sql"),
    },
    Migration {
        version: 15,
        name: "commission_run_claims",
        sql: include_str!("migrations/0015_commission_run_claims.sql"),
    },
];

pub(super) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )
}

/// Brings the database up to [`latest_version`]; returns the version it was at. Safe to run
/// from several processes at once: each step re-reads the version under the write lock.
pub(super) fn migrate(conn: &mut Connection) -> Result<i64, StorageError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at INTEGER NOT NULL
         )",
    )?;
    let started_at = current_version(conn)?;
    if started_at > latest_version() {
        return Err(StorageError::Unsupported(format!(
            "the database schema is version {started_at}, newer than this server knows \
             ({}); upgrade the server",
            latest_version()
        )));
    }
    for migration in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if current_version(&tx)? >= migration.version {
            continue;
        }
        tx.execute_batch(migration.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![
                migration.version,
                migration.name,
                OffsetDateTime::now_utc().unix_timestamp()
            ],
        )?;
        tx.commit()?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied database migration"
        );
    }
    Ok(started_at)
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

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)", [])
            .unwrap();
        let error = migrate(&mut conn).unwrap_err().to_string();
        assert!(
            error.contains("version 99, newer than this server"),
            "{error}"
        );
    }
}
