//! The bulk load of a bootstrap: the cache's contents replaced by a server snapshot that
//! arrives in pages. Each page is one transaction of plain inserts that also records the
//! progress, so a cut bootstrap resumes at the next page; the secondary indexes, the name
//! search and the tree index are built once, at the end, instead of row by row.

use canopy_core::{EarningsLine, Member, MemberId, Period, Pv, RankLevel};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::StoreError;
use crate::store::{Store, SyncState};
use crate::tree;

/// Tables whose secondary indexes are dropped during a load and rebuilt after it.
const BULK_TABLES: &[&str] = &[
    "members",
    "member_personal",
    "volumes",
    "earnings_lines",
    "rank_history",
];

/// What a bootstrap replaces. The outbox and the user's notes are never touched: they hold
/// what the user typed and the server hasn't confirmed.
const SNAPSHOT_TABLES: &[&str] = &[
    "members",
    "member_personal",
    "volumes",
    "subtree_stats",
    "rank_history",
    "ranks",
    "statements",
    "earnings_lines",
    "orders",
    "customers",
    "alerts",
    "member_search",
    "products",
];

/// The `meta` key holding the dropped indexes' SQL while a load runs.
const SAVED_INDEXES: &str = "bulk_indexes";

/// How far a bootstrap has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapProgress {
    pub checkpoint: String,
    /// The next page to ask the server for.
    pub next_page: u64,
    pub rows_done: u64,
    pub rows_total: Option<u64>,
}

/// Plain inserts into a bootstrap page's transaction.
pub struct BulkWriter<'a> {
    tx: &'a Transaction<'a>,
    rows: u64,
    /// Rank levels already written in this page (a page holds thousands of members and a
    /// ladder has a dozen ranks).
    ranks: Vec<u16>,
}

impl Store {
    /// Starts a bootstrap at `checkpoint`, or resumes the one already under way at the same
    /// checkpoint. A different checkpoint starts over (the old snapshot is stale).
    pub fn bootstrap_begin(
        &self,
        checkpoint: &str,
        rows_total: Option<u64>,
        started_at: &str,
    ) -> Result<BootstrapProgress, StoreError> {
        if let Some(p) = self.bootstrap_progress()?
            && p.checkpoint == checkpoint
        {
            return Ok(p);
        }
        self.database().write(|tx| {
            for table in SNAPSHOT_TABLES {
                tx.execute(&format!("DELETE FROM {table}"), [])?;
            }
            let saved = saved_indexes(tx)?;
            if saved.is_none() {
                let indexes = secondary_indexes(tx)?;
                for (name, _) in &indexes {
                    tx.execute(&format!("DROP INDEX {name}"), [])?;
                }
                let sql: Vec<&String> = indexes.iter().map(|(_, sql)| sql).collect();
                let json = serde_json::to_string(&sql)
                    .map_err(|e| StoreError::Invalid(format!("index list: {e}")))?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![SAVED_INDEXES, json],
                )?;
            }
            tx.execute(
                "UPDATE sync_state SET cursor = NULL, checkpoint = NULL, checksum = NULL
                 WHERE id = 1",
                [],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO bootstrap
                    (id, checkpoint, next_page, rows_done, rows_total, started_at)
                 VALUES (1, ?1, 0, 0, ?2, ?3)",
                params![checkpoint, rows_total.map(|t| t as i64), started_at],
            )?;
            Ok(())
        })?;
        self.bootstrap_progress()?
            .ok_or(StoreError::NotFound("bootstrap"))
    }

    /// Forgets the bootstrap under way (the server lost its snapshot): the next page 0
    /// starts a new one. What was loaded stays until then.
    pub fn bootstrap_abandon(&self) -> Result<(), StoreError> {
        self.database().write(|tx| {
            tx.execute("DELETE FROM bootstrap", [])?;
            Ok(())
        })
    }

    /// The bootstrap under way, if any.
    pub fn bootstrap_progress(&self) -> Result<Option<BootstrapProgress>, StoreError> {
        self.database().read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT checkpoint, next_page, rows_done, rows_total FROM bootstrap WHERE id = 1",
                    [],
                    |r| {
                        Ok(BootstrapProgress {
                            checkpoint: r.get(0)?,
                            next_page: r.get::<_, i64>(1)? as u64,
                            rows_done: r.get::<_, i64>(2)? as u64,
                            rows_total: r.get::<_, Option<i64>>(3)?.map(|t| t as u64),
                        })
                    },
                )
                .optional()?)
        })
    }

    /// Appends page `page` in one transaction. A page already applied (a resend after a
    /// cut) is skipped; a page out of order is refused.
    pub fn bootstrap_page(
        &self,
        page: u64,
        fill: impl FnOnce(&mut BulkWriter<'_>) -> Result<(), StoreError>,
    ) -> Result<BootstrapProgress, StoreError> {
        self.database().write(|tx| {
            let (checkpoint, next, done, total): (String, i64, i64, Option<i64>) = tx
                .query_row(
                    "SELECT checkpoint, next_page, rows_done, rows_total FROM bootstrap WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::Invalid("no bootstrap is under way".into()))?;
            let progress = |next: i64, done: i64| BootstrapProgress {
                checkpoint: checkpoint.clone(),
                next_page: next as u64,
                rows_done: done as u64,
                rows_total: total.map(|t| t as u64),
            };
            let page = page as i64;
            if page < next {
                return Ok(progress(next, done));
            }
            if page > next {
                return Err(StoreError::Invalid(format!(
                    "bootstrap page {page} arrived before page {next}"
                )));
            }
            let mut writer = BulkWriter {
                tx,
                rows: 0,
                ranks: Vec::new(),
            };
            fill(&mut writer)?;
            let done = done + writer.rows as i64;
            tx.execute(
                "UPDATE bootstrap SET next_page = ?1, rows_done = ?2 WHERE id = 1",
                params![page + 1, done],
            )?;
            Ok(progress(page + 1, done))
        })
    }

    /// Ends the bootstrap: builds the tree index, the name search and the secondary
    /// indexes, and records `state`, all in one transaction.
    ///
    /// The build runs on a connection of its own, opened for it on a thread of its own and
    /// closed before that thread ends: each index build scans and sorts a whole table, and
    /// a large page cache keeps the table in memory across the builds (each page decrypted
    /// once) while sorter threads put the other cores to work. Built on the app's writer,
    /// that memory stayed in the sync thread's glibc arenas for good once SQLite freed it
    /// (P11, the 1M cache: the app at 483 MiB); a thread's own arena, emptied when its
    /// connection closes, is given back instead (541 MiB during the build, 182 MiB once
    /// its thread ended). The app's writer is held meanwhile, so its writes wait for the
    /// build as they did when the writer built the indexes itself.
    pub fn bootstrap_finish(&self, state: &SyncState) -> Result<(), StoreError> {
        let writer = self.database().writer();
        let path = self.database().path();
        let key = self.key();
        let built = std::thread::scope(|scope| {
            let build = std::thread::Builder::new()
                .name("canopy-index-build".into())
                .spawn_scoped(scope, || {
                    let mut conn = crate::db::open_bulk_connection(path, key)?;
                    finish_on(&mut conn, state)
                })
                .map_err(|e| StoreError::Invalid(format!("cannot start the index build: {e}")))?;
            build
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        // The writer's page cache holds the load's pages, stale now: let them go.
        let released = writer.release_memory();
        drop(writer);
        built?;
        released?;
        Ok(())
    }
}

/// The end of a bootstrap on the bulk connection `conn` (see [`Store::bootstrap_finish`]).
fn finish_on(conn: &mut rusqlite::Connection, state: &SyncState) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tree::rebuild(&tx)?;
    if let Some(saved) = saved_indexes(&tx)? {
        let indexes: Vec<String> = serde_json::from_str(&saved)
            .map_err(|e| StoreError::Invalid(format!("saved index list: {e}")))?;
        for sql in indexes {
            tx.execute_batch(&sql)?;
        }
        tx.execute("DELETE FROM meta WHERE key = ?1", [SAVED_INDEXES])?;
    }
    // Members in rowid order (NOT INDEXED): the planner would otherwise walk a covering
    // index in name order and look personal rows up at random — one page decrypted per
    // member, ten times slower at 1M.
    tx.execute(
        "INSERT INTO member_search (rowid, name)
         SELECT m.id, m.display_name || coalesce(' ' || p.legal_name, '')
         FROM members m NOT INDEXED LEFT JOIN member_personal p ON p.member_id = m.id",
        [],
    )?;
    // One segment: the deltas' small inserts then merge among themselves, not into the
    // bulk load's large segments (which cost a 1,000-member delta 0.4 s).
    tx.execute(
        "INSERT INTO member_search (member_search) VALUES ('optimize')",
        [],
    )?;
    tx.execute("DELETE FROM bootstrap", [])?;
    crate::write::Writer::new(&tx).set_sync_state(state)?;
    tx.commit()?;
    // Fresh statistics for the query planner over the new data, from a sample of each
    // index (a full ANALYZE of a 1M-member cache takes seconds for little gain: the
    // downline pages choose their plans themselves).
    conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")?;
    Ok(())
}

/// The dropped indexes' SQL (JSON), while a load runs.
fn saved_indexes(tx: &Transaction<'_>) -> Result<Option<String>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [SAVED_INDEXES],
            |r| r.get(0),
        )
        .optional()?)
}

/// Secondary indexes of the bulk tables (not the automatic ones of primary keys).
fn secondary_indexes(tx: &Transaction<'_>) -> Result<Vec<(String, String)>, StoreError> {
    let marks = vec!["?"; BULK_TABLES.len()].join(", ");
    let mut stmt = tx.prepare(&format!(
        "SELECT name, sql FROM sqlite_master
         WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY name"
    ))?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(BULK_TABLES), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<Vec<(String, String)>, _>>()?;
    Ok(rows)
}

impl BulkWriter<'_> {
    /// Appends a member; the tree index and search are built at the end of the load.
    pub fn member(&mut self, m: &Member) -> Result<(), StoreError> {
        let level = m.rank.level.get();
        if !self.ranks.contains(&level) {
            self.tx
                .prepare_cached("INSERT OR IGNORE INTO ranks (level, name) VALUES (?1, ?2)")?
                .execute(params![level, m.rank.name])?;
            self.ranks.push(level);
        }
        crate::write::upsert_member_row(self.tx, m)?;
        if m.personal.is_some() {
            crate::write::Writer::new(self.tx).put_personal(m)?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Appends a member's personal volume in a period (group volumes come at the end).
    /// Not counted in the progress: volumes ride with their members, and the server's
    /// `rows_total` counts members.
    pub fn volume(&mut self, member: MemberId, period: Period, pv: Pv) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO volumes (member_id, period, pv, gv) VALUES (?1, ?2, ?3, ?3)",
            )?
            .execute(params![member.get(), period.index(), pv.hundredths()])?;
        Ok(())
    }

    pub fn rank_history(
        &mut self,
        member: MemberId,
        period: Period,
        rank: RankLevel,
    ) -> Result<(), StoreError> {
        crate::write::Writer::new(self.tx).put_rank_history(member, period, rank)?;
        self.rows += 1;
        Ok(())
    }

    pub fn earnings_line(&mut self, line: &EarningsLine) -> Result<(), StoreError> {
        crate::write::Writer::new(self.tx).put_earnings_line(line)?;
        self.rows += 1;
        Ok(())
    }

    /// Everything else a snapshot holds (statements, orders…), through the normal writer.
    pub fn writer(&self) -> crate::write::Writer<'_> {
        crate::write::Writer::new(self.tx)
    }
}
