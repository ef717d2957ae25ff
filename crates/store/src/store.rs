//! The unlocked cache: the open database and its key, the one handle the app holds between
//! unlock and lock. Dropping it closes every connection and zeroizes the key.

use std::path::Path;

use crate::db::Database;
use crate::error::StoreError;
use crate::key::CacheKey;
use crate::tree;
use crate::write::Writer;

/// The sync's position, opaque to the store: the delta cursor, the bootstrap checkpoint,
/// the scope checksum at that checkpoint, and when the last sync succeeded (RFC 3339).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    pub cursor: Option<String>,
    pub checkpoint: Option<String>,
    pub checksum: Option<String>,
    pub last_sync_at: Option<String>,
}

/// An unlocked cache.
#[derive(Debug)]
pub struct Store {
    db: Database,
    /// `None` only for the benchmarks' unencrypted twin.
    key: Option<CacheKey>,
    /// The downline list's read-ahead (see `queries::downline`).
    pub(crate) ahead: crate::queries::downline::ReadAhead,
}

impl Store {
    /// Opens the cache file at `path` with `key` (creating an empty cache if the file is
    /// new). A key that does not open an existing file is [`StoreError::WrongKey`].
    pub fn open(path: &Path, key: CacheKey) -> Result<Self, StoreError> {
        let db = Database::open(path, &key)?;
        Ok(Self {
            db,
            key: Some(key),
            ahead: Default::default(),
        })
    }

    /// Wraps an already open database (the benchmarks' unencrypted twin, which has no key).
    #[doc(hidden)]
    pub fn from_database(db: Database) -> Self {
        Self {
            db,
            key: None,
            ahead: Default::default(),
        }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The raw key, to keep it in the OS keychain ("remember on this device").
    pub fn key(&self) -> Option<&CacheKey> {
        self.key.as_ref()
    }

    /// Runs a batch of changes in one transaction; the tree index is exact when it commits.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.write(|tx| {
            let writer = Writer::new(tx);
            let value = f(&writer)?;
            writer.finish()?;
            Ok(value)
        })
    }

    /// [`Store::write`] for a batch that erases people's personal data (GDPR art. 17): the
    /// transaction runs with `secure_delete`, so the pages it frees or rewrites keep no copy
    /// of what it removed; then the search index is merged (a deleted row's words otherwise
    /// linger in older index segments until a merge) and the WAL checkpointed and truncated,
    /// so no older page image survives there either. Costs about one rewrite of the search
    /// index; erasures are rare.
    pub fn write_erasing<T>(
        &self,
        f: impl FnOnce(&Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.set_secure_delete(true)?;
        let result = self.write(f).and_then(|value| {
            self.db.scrub_search_index()?;
            Ok(value)
        });
        let reset = self.db.set_secure_delete(false);
        let value = result?;
        reset?;
        Ok(value)
    }

    /// Recomputes the whole tree index (a repair tool; deltas keep it exact on their own).
    pub fn rebuild_tree(&self) -> Result<(), StoreError> {
        self.db.write(tree::rebuild)
    }

    /// The checksum of the cached scope, to compare with the server's
    /// (`canopy_core::sync::scope_checksum`).
    pub fn scope_checksum(&self) -> Result<String, StoreError> {
        self.db.read(|conn| {
            let pairs: Vec<(i64, Option<i64>)> = conn
                .prepare_cached("SELECT id, sponsor_id FROM members")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(canopy_core::sync::scope_checksum(pairs))
        })
    }

    /// Where the sync stands (all `None` before the first bootstrap).
    pub fn sync_state(&self) -> Result<SyncState, StoreError> {
        self.db.read(|conn| {
            Ok(conn.query_row(
                "SELECT cursor, checkpoint, checksum, last_sync_at FROM sync_state WHERE id = 1",
                [],
                |r| {
                    Ok(SyncState {
                        cursor: r.get(0)?,
                        checkpoint: r.get(1)?,
                        checksum: r.get(2)?,
                        last_sync_at: r.get(3)?,
                    })
                },
            )?)
        })
    }

    /// Locks: closes every connection and wipes the key from memory.
    pub fn lock(self) {
        drop(self);
    }
}
