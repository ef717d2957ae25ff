//! The SQLCipher database itself: opening a connection with the raw key, the pragmas every
//! connection gets, and the one writer plus small pool of readers the app shares.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::StoreError;
use crate::key::CacheKey;
use crate::migrations;

/// How many read connections the app keeps open: the screens query in parallel with a
/// sync writing, and two cores gain nothing from more.
pub const READERS: usize = 2;

/// Page cache of the writer and of each reader, in KiB (SQLite's negative `cache_size`:
/// an upper bound, filled only as pages are read). Decrypted pages live here, so a page
/// in the cache costs SQLCipher nothing. The first reader serves the screens' queries one
/// after another and gets the big one: measured on the 1M-member cache, the P2 query mix
/// costs 1.75x plain SQLite with 32 MiB, 0.97x with 128 MiB (and the same
/// with 256 MiB). At most 176 MiB in all, reached only by heavy use.
const WRITER_CACHE_KIB: i64 = 32 * 1024;
/// The page cache of the connection that builds a bulk load's indexes, closed after.
const BULK_CACHE_KIB: i64 = 256 * 1024;
const READER_CACHE_KIB: [i64; READERS] = [128 * 1024, 16 * 1024];

/// SQLite's "file is not a database": what SQLCipher answers on a wrong key.
const SQLITE_NOTADB: i32 = 26;

/// The open cache: one writer, [`READERS`] readers, all keyed with the same raw key.
pub struct Database {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish()
    }
}

impl Database {
    /// Opens (or creates) the encrypted cache at `path` with `key` and brings its schema
    /// up to date. A wrong key is [`StoreError::WrongKey`], before anything is written.
    pub fn open(path: &Path, key: &CacheKey) -> Result<Self, StoreError> {
        Self::open_with(path, Some(key))
    }

    /// Opens an unencrypted database with the same schema and pragmas: the baseline of the
    /// SQLCipher overhead benchmark (P2), never the app's cache.
    pub fn open_plain(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, None)
    }

    fn open_with(path: &Path, key: Option<&CacheKey>) -> Result<Self, StoreError> {
        let mut writer = open_connection(path, key, Role::Writer)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        migrations::migrate(&mut writer)?;
        let readers = READER_CACHE_KIB
            .into_iter()
            .map(|cache| open_connection(path, key, Role::Reader(cache)).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a reader connection (read-only: `query_only` is on).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // The first idle reader, always in the same order: queries one after another then
        // share one warm page cache (each decrypted page stays decrypted there), and only
        // concurrent ones spill to the next. If all are busy, wait for one in turn.
        for slot in &self.readers {
            if let Ok(conn) = slot.try_lock() {
                return f(&conn);
            }
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let conn = lock(&self.readers[start % self.readers.len()]);
        f(&conn)
    }

    /// Runs `f` in one `IMMEDIATE` transaction on the writer: committed if `f` returns
    /// `Ok`, rolled back otherwise. With `synchronous = FULL` the commit is on disk before
    /// this returns.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Whether the writer zeroes the content it deletes (`PRAGMA secure_delete`).
    pub(crate) fn set_secure_delete(&self, on: bool) -> Result<(), StoreError> {
        lock(&self.writer).pragma_update(None, "secure_delete", on)?;
        Ok(())
    }

    /// Merges the member search index into one segment (dropping deleted rows' words) and
    /// checkpoints the WAL into the database, truncating it. A checkpoint a busy reader
    /// holds back is left for SQLite's next automatic one.
    pub(crate) fn scrub_search_index(&self) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        conn.execute(
            "INSERT INTO member_search (member_search) VALUES ('optimize')",
            [],
        )?;
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy != 0 {
            tracing::debug!("the WAL checkpoint after an erasure waited on a reader");
        }
        Ok(())
    }

    /// Gives back the memory of the connections' page caches (SQLite's
    /// `sqlite3_db_release_memory`), as the app does when nobody has used the window for a
    /// while: the caches grow to 176 MiB of decrypted pages under heavy use of a big cache, worth keeping while someone browses, not while the window sits idle. A
    /// connection in use keeps its cache; the next reads decrypt their pages again.
    pub fn release_memory(&self) -> Result<(), StoreError> {
        for slot in self.readers.iter().chain(std::iter::once(&self.writer)) {
            if let Ok(conn) = slot.try_lock() {
                conn.release_memory()?;
            }
        }
        Ok(())
    }

    /// The writer connection itself, for work that manages its own transactions (the bulk
    /// load) or pragmas.
    pub(crate) fn writer(&self) -> MutexGuard<'_, Connection> {
        lock(&self.writer)
    }

    /// Rewrites the file compactly (SQLite's `VACUUM`), e.g. after a bootstrap replaced
    /// most of it.
    pub fn vacuum(&self) -> Result<(), StoreError> {
        self.writer().execute_batch("VACUUM")?;
        Ok(())
    }

    /// Writes a decrypted copy of the whole cache to `plain` (SQLCipher's
    /// `sqlcipher_export`): the benchmark's unencrypted twin. Refuses an existing file.
    pub fn export_plaintext(&self, plain: &Path) -> Result<(), StoreError> {
        if plain.exists() {
            return Err(StoreError::CacheExists);
        }
        let target = plain
            .to_str()
            .ok_or_else(|| StoreError::Invalid("the export path is not UTF-8".into()))?;
        let conn = self.writer();
        conn.execute("ATTACH DATABASE ?1 AS plaintext KEY ''", [target])?;
        // sqlcipher_export copies schema and rows but not the schema version.
        let exported = conn
            .query_row("SELECT sqlcipher_export('plaintext')", [], |_| Ok(()))
            .and_then(|()| {
                let version =
                    migrations::version(&conn).map_err(|_| rusqlite::Error::InvalidQuery)?;
                conn.execute_batch(&format!("PRAGMA plaintext.user_version = {version}"))
            });
        conn.execute_batch("DETACH DATABASE plaintext")?;
        exported?;
        Ok(())
    }
}

/// What a connection is for: its page cache and whether it may write.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// The app's one writer.
    Writer,
    /// A reader with this page cache (KiB), `query_only`.
    Reader(i64),
    /// A bulk job's own writer (the end of a bootstrap), closed when the job ends.
    Bulk,
}

/// Opens the connection of a bulk job: a writer with [`BULK_CACHE_KIB`] of page cache and
/// sorter threads for the other cores (SQLite's `PRAGMA threads`), for a job that scans
/// and sorts whole tables. Close it when the job is done: its cache goes with it.
pub(crate) fn open_bulk_connection(
    path: &Path,
    key: Option<&CacheKey>,
) -> Result<Connection, StoreError> {
    let conn = open_connection(path, key, Role::Bulk)?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    conn.execute_batch(&format!("PRAGMA threads = {cores};"))?;
    Ok(conn)
}

/// Opens one connection: keys it first (nothing may touch the file before), checks the key
/// by reading the schema, then sets the pragmas every connection shares and those of its
/// `role`.
fn open_connection(
    path: &Path,
    key: Option<&CacheKey>,
    role: Role,
) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = keyed(path, flags, key)?;
    // The first read decrypts page 1: a wrong key fails here, cleanly, before any write.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.extended_code == SQLITE_NOTADB => {
            return Err(StoreError::WrongKey);
        }
        Err(e) => return Err(e.into()),
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // FULL: a committed outbox row survives a power cut, not only a crash of the app.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    let cache_kib = match role {
        Role::Writer => WRITER_CACHE_KIB,
        Role::Reader(kib) => kib,
        Role::Bulk => BULK_CACHE_KIB,
    };
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if let Role::Reader(_) = role {
        conn.pragma_update(None, "query_only", "ON")?;
    }
    Ok(conn)
}

/// How often keying a new connection is tried before its error is reported.
const KEY_ATTEMPTS: u32 = 3;

/// Opens a connection and keys it. SQLCipher's `PRAGMA key` has now and then failed with
/// "An error occurred with PRAGMA key or rekey" on a good key, seen only among many test
/// threads opening caches at once (about one open in some thousands; the cause is inside
/// SQLCipher's keying and not found yet). Nothing has touched the file at that point, so
/// a fresh connection is tried again; a key that keeps failing is still an error.
fn keyed(path: &Path, flags: OpenFlags, key: Option<&CacheKey>) -> Result<Connection, StoreError> {
    let mut attempt = 1;
    loop {
        let conn = Connection::open_with_flags(path, flags)?;
        let Some(key) = key else {
            return Ok(conn);
        };
        match conn.execute_batch(&key.pragma()) {
            Ok(()) => return Ok(conn),
            Err(rusqlite::Error::SqliteFailure(e, Some(message)))
                if attempt < KEY_ATTEMPTS && message.contains("PRAGMA key") =>
            {
                tracing::warn!(
                    attempt,
                    code = e.extended_code,
                    "keying the cache failed; trying again"
                );
                drop(conn);
                std::thread::sleep(std::time::Duration::from_millis(20 * u64::from(attempt)));
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A poisoned lock only means another thread panicked mid-call; SQLite's own transaction
/// rolled that work back, so the connection is still consistent.
fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
