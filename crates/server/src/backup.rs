//! Encrypted online backups of the server's SQLite database: a consistent copy taken with
//! SQLite's backup API while the server keeps writing, archived with a manifest and encrypted
//! to operators' age keys; restore, verify (integrity, migrations, audit chain) and keygen.
//!
//! The archive is an [age](https://age-encryption.org/v1) file (x25519 recipients) whose
//! plaintext is a ustar archive of exactly two entries, in this order: [`MANIFEST_ENTRY`]
//! (a [`Manifest`] as JSON) and [`DATABASE_ENTRY`] (the database as one self-contained file
//! in rollback-journal mode). `age -d -i key.txt backup.age | tar x` recovers both without
//! this program. Plaintext only ever exists in a private (0700) scratch directory that is
//! removed on success, error and panic alike.

pub mod cli;

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use age::secrecy::ExposeSecret;
use age::x25519;
use data_encoding::HEXLOWER;
use ring::digest;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use tempfile::TempDir;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use crate::storage::StorageError;
use crate::storage::sqlite::{Options, SqliteStorage};

/// The archive entry holding the [`Manifest`].
pub const MANIFEST_ENTRY: &str = "manifest.json";
/// The archive entry holding the database file.
pub const DATABASE_ENTRY: &str = "canopy.db";
/// [`Manifest::format`].
pub const FORMAT: &str = "canopy-server-backup";
/// [`Manifest::format_version`] this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// A manifest is a few hundred bytes; anything much larger is not ours.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// Why a backup, restore, verification or key generation failed. `Display` is the message
/// an operator sees; the underlying error, if any, is the `source`.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Usage(String),
    #[error("there is no database at {}", .0.display())]
    NoDatabase(PathBuf),
    #[error("{} already exists; pass --force to replace it (stop the server first)", .0.display())]
    Exists(PathBuf),
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("SQLite failed to {action}")]
    Sqlite {
        action: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the database stayed locked for 60 s; the backup gave up")]
    Busy,
    #[error("{0:?} is not an age public key (age1…): {1}")]
    BadRecipient(String, &'static str),
    #[error(
        "none of the identities can open this backup: it was encrypted to other keys \
         (or its header is damaged)"
    )]
    WrongIdentity,
    #[error("the backup is damaged or was altered: {0}")]
    Damaged(String),
    #[error("the archive is not a Canopy server backup: {0}")]
    Format(String),
    #[error("cannot encrypt the backup: {0}")]
    Encrypt(String),
    #[error("the {which} fails SQLite's integrity check: {detail}")]
    Integrity { which: &'static str, detail: String },
    #[error("the restored database does not open with this server")]
    Storage(#[source] StorageError),
    #[error("the restored audit chain fails verification: {0}")]
    AuditChain(String),
    #[error("the restored audit chain ends at {found}, but the backup's manifest says {expected}")]
    AuditHead { found: String, expected: String },
}

type Result<T, E = BackupError> = std::result::Result<T, E>;

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BackupError + use<> {
    let path = path.to_owned();
    move |source| BackupError::Io {
        action,
        path,
        source,
    }
}

fn sql_error(action: &'static str) -> impl FnOnce(rusqlite::Error) -> BackupError {
    move |source| BackupError::Sqlite { action, source }
}

/// What a backup holds, written beside the database in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// RFC 3339, UTC, taken just before the snapshot: every transaction committed before
    /// this instant is in the backup.
    pub created_at: String,
    /// The `canopy-server` version that wrote the backup.
    pub server_version: String,
    /// The highest version in `schema_migrations`.
    pub schema_version: i64,
    /// Size and SHA-256 (hex) of [`DATABASE_ENTRY`].
    pub database_bytes: u64,
    pub database_sha256: String,
    /// The audit log's last event, if it has any.
    pub audit: Option<AuditHead>,
}

/// The last link of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub last_seq: i64,
    /// SHA-256, hex.
    pub last_hash: String,
}

impl std::fmt::Display for AuditHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event {} ({})", self.last_seq, self.last_hash)
    }
}

/// The path a `sqlite://` database URL names. Mirrors `storage::open`'s parsing (kept
/// private there); an in-memory or non-SQLite URL has no file to back up.
pub fn sqlite_path(url: &str) -> Result<PathBuf> {
    match crate::storage::sqlite_file(url) {
        Ok(Some(path)) => Ok(path),
        Ok(None)
            if url
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("postgres") =>
        {
            Err(BackupError::Usage(
                "canopy-server backup copies SQLite database files; back PostgreSQL up with \
                 its own tools (pg_dump, or pg_basebackup with WAL archiving: see the README)"
                    .to_owned(),
            ))
        }
        Ok(None) => Err(BackupError::Usage(
            "backups need a database file: use a sqlite:///path/to/file.db database URL".to_owned(),
        )),
        Err(e) => Err(BackupError::Usage(e.to_string())),
    }
}

// --- Keys -------------------------------------------------------------------------------

/// Parses an age x25519 public key (`age1…`).
pub fn parse_recipient(text: &str) -> Result<x25519::Recipient> {
    let text = text.trim();
    text.parse()
        .map_err(|why| BackupError::BadRecipient(text.to_owned(), why))
}

/// Reads a recipients file as `age -R` does: one `age1…` key a line; blank lines and lines
/// starting with `#` are skipped.
pub fn read_recipients_file(path: &Path) -> Result<Vec<x25519::Recipient>> {
    let text = fs::read_to_string(path).map_err(io_error("read the recipients file", path))?;
    let recipients = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(parse_recipient)
        .collect::<Result<Vec<_>>>()?;
    if recipients.is_empty() {
        return Err(BackupError::Usage(format!(
            "{} holds no age public key",
            path.display()
        )));
    }
    Ok(recipients)
}

/// The private keys a backup is opened with. Cheap to clone.
#[derive(Clone)]
pub struct Identities(Arc<Vec<Box<dyn age::Identity + Send + Sync>>>);

impl Identities {
    /// Reads an age identity file (as written by [`keygen`] or `age-keygen`).
    pub fn from_file(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(io_error("read the identity file", path))?;
        let parsed = age::IdentityFile::from_buffer(BufReader::new(file))
            .map_err(io_error("read the identity file", path))?
            .into_identities()
            .map_err(|e| BackupError::Usage(format!("{}: {e}", path.display())))?;
        if parsed.is_empty() {
            return Err(BackupError::Usage(format!(
                "{} holds no age identity (AGE-SECRET-KEY-1…)",
                path.display()
            )));
        }
        Ok(Self(Arc::new(parsed)))
    }

    /// One identity already in memory.
    pub fn from_identity(identity: x25519::Identity) -> Self {
        Self(Arc::new(vec![Box::new(identity)]))
    }

    fn iter(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.0.iter().map(|i| &**i as &dyn age::Identity)
    }
}

/// Makes a new x25519 identity, writes it to `out` (owner-only, in `age-keygen`'s format,
/// refusing to replace an existing file) and returns its public key.
pub fn keygen(out: &Path) -> Result<x25519::Recipient> {
    let identity = x25519::Identity::generate();
    let recipient = identity.to_public();
    let created = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let text = Zeroizing::new(format!(
        "# created: {created}\n# public key: {recipient}\n{}\n",
        identity.to_string().expose_secret()
    ));
    let mut file = private_temp_file(out)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(io_error("write", file.path()))?;
    // Never silently replace a key: backups made for it would become unreadable.
    file.persist_noclobber(out).map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            BackupError::Usage(format!(
                "{} already exists; keygen never replaces a key (backups made for it would \
                 become unreadable)",
                out.display()
            ))
        } else {
            io_error("write", out)(e.error)
        }
    })?;
    sync_dir(parent_of(out))?;
    Ok(recipient)
}

// --- Backup -----------------------------------------------------------------------------

/// How the copy is stepped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupOptions {
    /// Pages copied per `sqlite3_backup_step`.
    pub pages_per_step: i32,
    /// A pause between steps. WAL never blocks the server's writers on the backup's read
    /// snapshot, so none is needed; tests use one to stretch a copy over many writes.
    pub pause_between_steps: Duration,
}

impl Default for BackupOptions {
    fn default() -> Self {
        Self {
            pages_per_step: 1024,
            pause_between_steps: Duration::ZERO,
        }
    }
}

/// What [`backup`] wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub manifest: Manifest,
    /// The encrypted archive's size.
    pub archive_bytes: u64,
    pub elapsed: Duration,
}

/// Backs up the live database at `database` into the encrypted archive `out` (replaced
/// atomically if it exists, owner-only). The server may keep writing meanwhile.
pub fn backup(
    database: &Path,
    out: &Path,
    recipients: &[x25519::Recipient],
    options: &BackupOptions,
) -> Result<BackupReport> {
    let started = Instant::now();
    if recipients.is_empty() {
        return Err(BackupError::Usage(
            "give at least one age public key (--recipient or --recipients-file)".to_owned(),
        ));
    }
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database.to_owned()));
    }
    // The plaintext copy sits next to the database (same disk, same protection), never in
    // a shared temp dir; dropping `scratch` removes it whatever happens below.
    let scratch = scratch_dir(parent_of(database))?;
    let copy = scratch.path().join(DATABASE_ENTRY);
    let created_at = snapshot(database, &copy, options)?;
    let (schema_version, audit) = describe(&copy)?;
    let (database_bytes, database_sha256) = hash_file(&copy)?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        created_at: created_at.format(&Rfc3339).unwrap_or_default(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        database_bytes,
        database_sha256,
        audit,
    };
    let archive_bytes = write_archive(out, recipients, &manifest, &copy, created_at)?;
    scratch.close().map_err(io_error(
        "remove the plaintext copy in",
        parent_of(database),
    ))?;
    Ok(BackupReport {
        manifest,
        archive_bytes,
        elapsed: started.elapsed(),
    })
}

/// Copies the database as of one instant into `copy`; returns an instant before it.
fn snapshot(database: &Path, copy: &Path, options: &BackupOptions) -> Result<OffsetDateTime> {
    let source = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_error("open the database"))?;
    source
        .busy_timeout(Duration::from_secs(10))
        .map_err(sql_error("set a busy timeout"))?;
    let mut dest = Connection::open(copy).map_err(sql_error("create the copy"))?;

    let before = OffsetDateTime::now_utc();
    // One read transaction across every step: each step reads the same WAL snapshot, so the
    // server's commits meanwhile neither restart the copy nor leak into it.
    source
        .execute_batch("BEGIN DEFERRED")
        .map_err(sql_error("begin a read transaction"))?;
    source
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| {
            row.get::<_, i64>(0)
        })
        .map_err(sql_error("read the database"))?;
    {
        let backup = Backup::new(&source, &mut dest).map_err(sql_error("start the backup"))?;
        let busy_deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match backup
                .step(options.pages_per_step)
                .map_err(sql_error("copy the database"))?
            {
                StepResult::Done => break,
                StepResult::More => {
                    if !options.pause_between_steps.is_zero() {
                        std::thread::sleep(options.pause_between_steps);
                    }
                }
                // Busy, Locked (and any later kind): transient by SQLite's contract.
                _ => {
                    if Instant::now() > busy_deadline {
                        return Err(BackupError::Busy);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
    source
        .execute_batch("COMMIT")
        .map_err(sql_error("end the read transaction"))?;
    // The copied header says WAL; a rollback-journal file stands alone (no -wal beside it).
    dest.pragma_update_and_check(None, "journal_mode", "DELETE", |row| {
        row.get::<_, String>(0)
    })
    .map_err(sql_error("finish the copy"))?;
    dest.close()
        .map_err(|(_, e)| sql_error("close the copy")(e))?;
    Ok(before)
}

/// Checks the copy and reads what the manifest says about it.
fn describe(copy: &Path) -> Result<(i64, Option<AuditHead>)> {
    let conn = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sql_error("open the copy"))?;
    integrity_check(&conn, "database copy")?;
    if !table_exists(&conn, "schema_migrations")? {
        return Err(BackupError::Usage(
            "the database has no schema_migrations table: it is not a Canopy server database"
                .to_owned(),
        ));
    }
    let schema_version = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(sql_error("read the schema version"))?;
    let audit = if table_exists(&conn, "audit_events")? {
        conn.query_row(
            "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)),
        )
        .optional()
        .map_err(sql_error("read the audit log"))?
        .map(|(last_seq, hash)| AuditHead {
            last_seq,
            last_hash: HEXLOWER.encode(&hash),
        })
    } else {
        None
    };
    Ok((schema_version, audit))
}

fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
        [name],
        |row| row.get(0),
    )
    .map_err(sql_error("read the schema"))
}

fn integrity_check(conn: &Connection, which: &'static str) -> Result<()> {
    let mut stmt = conn
        .prepare("PRAGMA integrity_check")
        .map_err(sql_error("check integrity"))?;
    let problems = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(sql_error("check integrity"))?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(BackupError::Integrity {
        which,
        detail: problems.into_iter().take(5).collect::<Vec<_>>().join("; "),
    })
}

fn write_archive(
    out: &Path,
    recipients: &[x25519::Recipient],
    manifest: &Manifest,
    copy: &Path,
    created_at: OffsetDateTime,
) -> Result<u64> {
    let mut file = private_temp_file(out)?;
    let temp_path = file.path().to_owned();
    let write_error = io_error("write", &temp_path);
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| BackupError::Encrypt(e.to_string()))?;
    let manifest_json =
        serde_json::to_vec_pretty(manifest).map_err(|e| BackupError::Encrypt(e.to_string()))?;
    let database = File::open(copy).map_err(io_error("read", copy))?;
    let written = (|| -> io::Result<u64> {
        let encrypted = encryptor.wrap_output(BufWriter::new(file.as_file_mut()))?;
        let mut tar = tar::Builder::new(encrypted);
        let mtime = u64::try_from(created_at.unix_timestamp()).unwrap_or(0);
        tar.append_data(
            &mut entry_header(manifest_json.len() as u64, mtime),
            MANIFEST_ENTRY,
            manifest_json.as_slice(),
        )?;
        tar.append_data(
            &mut entry_header(manifest.database_bytes, mtime),
            DATABASE_ENTRY,
            database,
        )?;
        // `finish` writes age's last chunk: without it the file would not decrypt.
        tar.into_inner()?
            .finish()?
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        file.as_file().sync_all()?;
        Ok(file.as_file().metadata()?.len())
    })()
    .map_err(write_error)?;
    file.persist(out)
        .map_err(|e| io_error("write", out)(e.error))?;
    sync_dir(parent_of(out))?;
    Ok(written)
}

fn entry_header(size: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header
}

// --- Restore ----------------------------------------------------------------------------

/// What [`restore`] put in place.
#[derive(Debug, Clone)]
pub struct Restored {
    pub manifest: Manifest,
    pub elapsed: Duration,
}

/// Decrypts `archive`, checks it (hash, `PRAGMA integrity_check`) and moves the database
/// into `target` atomically. An existing database (or a stray `-wal`/`-shm`/`-journal`
/// beside it) is refused unless `force`; stop the server before forcing.
pub fn restore(
    archive: &Path,
    identities: &Identities,
    target: &Path,
    force: bool,
) -> Result<Restored> {
    let started = Instant::now();
    // Refuse before decrypting what may be gigabytes.
    if !force {
        refuse_existing(target)?;
    }
    let file = File::open(archive).map_err(io_error("read", archive))?;
    let dir = parent_of(target);
    fs::create_dir_all(dir).map_err(io_error("create", dir))?;
    let scratch = scratch_dir(dir)?;
    let (manifest, copy) = unpack(file, identities, scratch.path())?;
    if !force {
        refuse_existing(target)?;
    }
    // A stale WAL or journal would be replayed into the restored file on its first open.
    for side in side_files(target) {
        match fs::remove_file(&side) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(io_error("remove", &side)(e));
            }
            _ => {}
        }
    }
    fs::rename(&copy, target).map_err(io_error("move the restored database to", target))?;
    sync_dir(dir)?;
    scratch
        .close()
        .map_err(io_error("remove the scratch directory in", dir))?;
    Ok(Restored {
        manifest,
        elapsed: started.elapsed(),
    })
}

fn side_files(target: &Path) -> [PathBuf; 3] {
    ["-wal", "-shm", "-journal"].map(|suffix| {
        let mut name = target.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

fn refuse_existing(target: &Path) -> Result<()> {
    let sides = side_files(target);
    match std::iter::once(target)
        .chain(sides.iter().map(PathBuf::as_path))
        .find(|path| path.exists())
    {
        Some(found) => Err(BackupError::Exists(found.to_owned())),
        None => Ok(()),
    }
}

/// Decrypts and unpacks `archive` into `dir`, checking everything a restore relies on;
/// returns the manifest and the database file's path.
fn unpack(file: File, identities: &Identities, dir: &Path) -> Result<(Manifest, PathBuf)> {
    let decryptor = age::Decryptor::new_buffered(BufReader::new(file)).map_err(opening_error)?;
    let plaintext = decryptor
        .decrypt(identities.iter())
        .map_err(opening_error)?;
    // Every read below goes through age's authenticated chunks: a failure there is a
    // damaged or altered file.
    let damaged = |e: io::Error| BackupError::Damaged(e.to_string());
    let mut tar = tar::Archive::new(plaintext);
    let mut manifest: Option<Manifest> = None;
    let mut database: Option<(PathBuf, u64, String)> = None;
    for entry in tar.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let name = entry
            .path()
            .map_err(damaged)?
            .to_string_lossy()
            .into_owned();
        let regular = entry.header().entry_type() == tar::EntryType::Regular;
        match name.as_str() {
            MANIFEST_ENTRY if regular && manifest.is_none() && database.is_none() => {
                let mut json = Vec::new();
                (&mut entry)
                    .take(MAX_MANIFEST_BYTES + 1)
                    .read_to_end(&mut json)
                    .map_err(damaged)?;
                if json.len() as u64 > MAX_MANIFEST_BYTES {
                    return Err(BackupError::Format("the manifest is too large".to_owned()));
                }
                manifest = Some(
                    serde_json::from_slice(&json)
                        .map_err(|e| BackupError::Format(format!("unreadable manifest: {e}")))?,
                );
            }
            DATABASE_ENTRY if regular && manifest.is_some() && database.is_none() => {
                let path = dir.join(DATABASE_ENTRY);
                let mut out = Hashing::new(create_private(&path)?);
                io::copy(&mut entry, &mut out).map_err(damaged)?;
                let (out, bytes, sha256) = out.finish();
                out.sync_all().map_err(io_error("write", &path))?;
                database = Some((path, bytes, sha256));
            }
            _ => {
                return Err(BackupError::Format(format!(
                    "unexpected entry {name:?} (expected {MANIFEST_ENTRY} then {DATABASE_ENTRY})"
                )));
            }
        }
    }
    // Read to the end so age authenticates the final chunk too (a truncated file fails here).
    io::copy(&mut tar.into_inner(), &mut io::sink()).map_err(damaged)?;

    let manifest = manifest.ok_or_else(|| BackupError::Format("no manifest".to_owned()))?;
    if manifest.format != FORMAT || manifest.format_version > FORMAT_VERSION {
        return Err(BackupError::Format(format!(
            "format {:?} version {}; this server reads {FORMAT:?} up to version {FORMAT_VERSION}",
            manifest.format, manifest.format_version
        )));
    }
    let (path, bytes, sha256) =
        database.ok_or_else(|| BackupError::Format("no database".to_owned()))?;
    if bytes != manifest.database_bytes || sha256 != manifest.database_sha256 {
        return Err(BackupError::Damaged(
            "the database does not match the manifest's size and SHA-256".to_owned(),
        ));
    }
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sql_error("open the restored database"))?;
    integrity_check(&conn, "restored database")?;
    conn.close()
        .map_err(|(_, e)| sql_error("close the restored database")(e))?;
    Ok((manifest, path))
}

fn opening_error(error: age::DecryptError) -> BackupError {
    match error {
        age::DecryptError::NoMatchingKeys => BackupError::WrongIdentity,
        other => BackupError::Damaged(other.to_string()),
    }
}

// --- Verify -----------------------------------------------------------------------------

/// What [`verify`] found.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    /// The schema version after this server's migrations ran on the scratch copy.
    pub schema_version: i64,
    /// Audit events whose chain was recomputed.
    pub audit_events: u64,
    pub elapsed: Duration,
}

/// Restores `archive` into a private scratch directory (under the system temp dir, removed
/// afterwards) and checks it: integrity, that the server's storage opens and migrates it,
/// and the audit hash chain from the first event to the manifest's last (with
/// [`crate::audit_log::verify`]).
pub async fn verify(archive: &Path, identities: &Identities) -> Result<Verified> {
    let started = Instant::now();
    let scratch = tempfile::Builder::new()
        .prefix("canopy-backup-verify-")
        .tempdir()
        .map_err(io_error(
            "create a scratch directory in",
            &std::env::temp_dir(),
        ))?;
    let file = File::open(archive).map_err(io_error("read", archive))?;
    let (identities, dir) = (identities.clone(), scratch.path().to_owned());
    let (manifest, copy) = tokio::task::spawn_blocking(move || unpack(file, &identities, &dir))
        .await
        .map_err(|e| BackupError::Usage(format!("the verification task failed: {e}")))??;

    let storage = SqliteStorage::open(
        &copy,
        Options {
            readers: 0,
            ..Options::default()
        },
    )
    .await
    .map_err(BackupError::Storage)?;
    // The audit tool's own walk, told the manifest's count and last hash so that a cut
    // tail (which leaves a shorter chain that is still whole) is caught too.
    let expected = match &manifest.audit {
        Some(head) => Some((
            u64::try_from(head.last_seq).unwrap_or(0),
            crate::audit_log::parse_hash(&head.last_hash)
                .map_err(|e| BackupError::Format(format!("manifest audit hash: {e}")))?,
        )),
        None => None,
    };
    let report = crate::audit_log::verify(
        &storage,
        crate::audit_log::VerifyOptions {
            expect_count: expected.map(|(count, _)| count),
            expect_last: expected.map(|(_, hash)| hash),
            ..crate::audit_log::VerifyOptions::default()
        },
    )
    .await
    .map_err(BackupError::Storage)?;
    drop(storage);
    if !report.is_intact() {
        return Err(BackupError::AuditChain(report.to_string()));
    }
    let found = (report.events > 0).then(|| AuditHead {
        last_seq: i64::try_from(report.events).unwrap_or(i64::MAX),
        last_hash: HEXLOWER.encode(&report.last_hash),
    });
    if found != manifest.audit {
        let show = |head: &Option<AuditHead>| {
            head.as_ref()
                .map_or_else(|| "no event".to_owned(), ToString::to_string)
        };
        return Err(BackupError::AuditHead {
            found: show(&found),
            expected: show(&manifest.audit),
        });
    }
    scratch.close().map_err(io_error(
        "remove the scratch directory in",
        &std::env::temp_dir(),
    ))?;
    Ok(Verified {
        manifest,
        schema_version: SqliteStorage::schema_version(),
        audit_events: report.events,
        elapsed: started.elapsed(),
    })
}

// --- Files ------------------------------------------------------------------------------

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A 0700 directory beside `dir`'s other files, removed when dropped.
fn scratch_dir(dir: &Path) -> Result<TempDir> {
    tempfile::Builder::new()
        .prefix(".canopy-backup-")
        .tempdir_in(dir)
        .map_err(io_error("create a scratch directory in", dir))
}

/// An owner-only temp file beside `path`, to be renamed over it.
fn private_temp_file(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = parent_of(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".canopy-").suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o600));
    }
    builder
        .tempfile_in(dir)
        .map_err(io_error("create a file in", dir))
}

fn create_private(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(io_error("create", path))
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("sync", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut file = File::open(path).map_err(io_error("read", path))?;
    let mut sink = Hashing::new(io::sink());
    io::copy(&mut file, &mut sink).map_err(io_error("read", path))?;
    let (_, bytes, sha256) = sink.finish();
    Ok((bytes, sha256))
}

/// A writer that counts and hashes (SHA-256) what passes through.
struct Hashing<W> {
    inner: W,
    digest: digest::Context,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            digest: digest::Context::new(&digest::SHA256),
            bytes: 0,
        }
    }

    fn finish(self) -> (W, u64, String) {
        let hex = HEXLOWER.encode(self.digest.finish().as_ref());
        (self.inner, self.bytes, hex)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
