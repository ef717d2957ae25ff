//! The operator's tools for the audit log: `verify` re-walks the whole hash chain in pages
//! and names the first broken event; `export` copies events out as JSON lines.
//!
//! Both stream [`Storage::list_audit`] pages, so memory stays constant however long the log.
//! The chain proves every event up to the last one is as it was written, but not that the
//! last one *is* the last: a cut tail leaves a shorter chain that is still whole. Only a
//! count and hash recorded outside the database ([`VerifyOptions::expect_count`],
//! [`VerifyOptions::expect_last`]) can show that, and likewise a chain rewritten from
//! some event onwards by someone who recomputed every later hash.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use data_encoding::{HEXLOWER, HEXLOWER_PERMISSIVE};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::storage::audit::{EventFields, GENESIS};
use crate::storage::{self, AuditRecord, Storage, StorageError};

/// Events read per page: big enough to keep round trips few, small enough to stay light.
pub const PAGE: u32 = 1_000;

/// The `audit` subcommands of `canopy-server`.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute the whole hash chain and report the first broken event (exit 1), or the
    /// event count and last hash to record elsewhere (exit 0).
    Verify {
        /// e.g. sqlite:///var/lib/canopy/canopy.db
        #[arg(long, value_name = "URL")]
        database: String,
        /// The log must still hold at least N events: fewer means its tail was cut.
        #[arg(long, value_name = "N")]
        expect_count: Option<u64>,
        /// A last hash recorded earlier: it must still be in the chain (as event N's hash
        /// with --expect-count N), else the log was cut or rewritten.
        #[arg(long, value_name = "HASH")]
        expect_last: Option<String>,
    },
    /// Write events as JSON lines (one per event, in order) to a new owner-only file.
    Export {
        /// e.g. sqlite:///var/lib/canopy/canopy.db
        #[arg(long, value_name = "URL")]
        database: String,
        /// A new file (never overwritten), created readable by its owner only.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Only events after this seq, for incremental exports.
        #[arg(long, value_name = "SEQ", default_value_t = 0)]
        after: i64,
    },
}

/// What a verification must also find, from a count and hash kept outside the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    pub expect_count: Option<u64>,
    pub expect_last: Option<[u8; 32]>,
    /// Events per page (at least 1).
    pub page: u32,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            expect_count: None,
            expect_last: None,
            page: PAGE,
        }
    }
}

/// The first thing wrong with the log, named by the event's seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An event's stored hash is not the hash of its stored fields: it was edited.
    Altered { seq: i64 },
    /// Events `seq` up to `next - 1` are not there: deleted (or renumbered).
    Missing { seq: i64, next: i64 },
    /// The event's `prev_hash` is not the previous event's hash: an event before it was
    /// deleted and the rest renumbered, or events were swapped or replaced.
    BrokenLink {
        seq: i64,
        prev_hash: [u8; 32],
        expected: [u8; 32],
    },
    /// The row after `after` can't be read back as an event (a hand-edited value).
    Unreadable { after: i64, reason: String },
    /// Fewer events than the `recorded` count: the tail from `seq` on was cut.
    TailCut { seq: i64, recorded: u64 },
    /// The recorded hash isn't event `seq`'s hash: the chain was rewritten up to it.
    NotTheRecordedHash {
        seq: i64,
        hash: [u8; 32],
        recorded: [u8; 32],
    },
    /// No event has the recorded hash: the log was cut or rewritten.
    RecordedHashGone { recorded: [u8; 32], last: i64 },
}

impl Problem {
    /// The seq of the first event found wrong (or missing).
    pub fn seq(&self) -> i64 {
        match self {
            Self::Altered { seq }
            | Self::Missing { seq, .. }
            | Self::BrokenLink { seq, .. }
            | Self::TailCut { seq, .. }
            | Self::NotTheRecordedHash { seq, .. } => *seq,
            Self::Unreadable { after, .. } => after + 1,
            Self::RecordedHashGone { last, .. } => last + 1,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Altered { seq } => write!(
                f,
                "event {seq} was edited: its hash does not match its fields"
            ),
            Self::Missing { seq: 1, next } => write!(
                f,
                "the log starts at event {next}, not 1: events before {next} were deleted"
            ),
            Self::Missing { seq, next } if *seq + 1 == *next => write!(
                f,
                "event {seq} is missing: the log goes from {} to {next} (an event was deleted)",
                seq - 1
            ),
            Self::Missing { seq, next } => write!(
                f,
                "events {seq} to {} are missing: the log goes from {} to {next} (events were deleted)",
                next - 1,
                seq - 1
            ),
            Self::BrokenLink {
                seq: 1, prev_hash, ..
            } => write!(
                f,
                "event 1 does not start from the genesis hash (its prev_hash is {}): \
                 the start of the log was replaced",
                hex(prev_hash)
            ),
            Self::BrokenLink {
                seq,
                prev_hash,
                expected,
            } => write!(
                f,
                "event {seq} does not follow event {}: its prev_hash is {} but event {}'s hash \
                 is {} (an event was deleted and the rest renumbered, or events were reordered \
                 or replaced)",
                seq - 1,
                hex(prev_hash),
                seq - 1,
                hex(expected)
            ),
            Self::Unreadable { after, reason } => write!(
                f,
                "the event after event {after} can't be read back as an event ({reason}): it was \
                 edited or the database is damaged"
            ),
            Self::TailCut { seq, recorded } => write!(
                f,
                "the log ends at event {} but {recorded} events were recorded: events {seq} to \
                 {recorded} are missing (the tail was cut)",
                seq - 1
            ),
            Self::NotTheRecordedHash {
                seq,
                hash,
                recorded,
            } => write!(
                f,
                "event {seq}'s hash is {} but {} was recorded: the log was rewritten up to event \
                 {seq}",
                hex(hash),
                hex(recorded)
            ),
            Self::RecordedHashGone { recorded, last } => write!(
                f,
                "no event has the recorded hash {}: the log (now ending at event {last}) was cut \
                 or rewritten",
                hex(recorded)
            ),
        }
    }
}

/// What a walk of the log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events checked and found whole (all of them when there is no problem).
    pub events: u64,
    /// The last whole event's hash ([`GENESIS`] for an empty log).
    pub last_hash: [u8; 32],
    /// The first problem; `None` when the log is intact.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            None => write!(
                f,
                "audit log intact: {} events, last hash {}",
                self.events,
                hex(&self.last_hash)
            ),
            Some(problem) => write!(f, "audit log broken at event {}: {problem}", problem.seq()),
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub events: u64,
    /// The first and last seq written; `None` when there was nothing after `after`.
    pub seqs: Option<(i64, i64)>,
    /// The last written event's hash: the next incremental export's first `prev_hash`.
    pub last_hash: Option<[u8; 32]>,
}

/// Why an `audit` command failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditLogError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The log is broken: the report names where.
    #[error("{0}")]
    Broken(VerifyReport),
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{0} already exists: export to a new file (nothing was overwritten)")]
    OutExists(PathBuf),
    #[error("cannot write the export")]
    Write(#[from] std::io::Error),
    #[error("event {seq}'s details are not JSON: the log was edited (run `audit verify`)")]
    BadDetails {
        seq: i64,
        #[source]
        source: serde_json::Error,
    },
    #[error("event {seq}'s time can't be written as RFC 3339")]
    BadTime { seq: i64 },
    #[error("--expect-last must be a SHA-256 hash: 64 hex characters")]
    BadHash,
}

/// Walks the whole log from event 1, recomputing every hash from the stored fields and
/// the previous event's hash, and stops at the first problem.
///
/// Only a failure to read the database is an `Err`; a broken log is an `Ok` report with
/// its [`VerifyReport::problem`].
pub async fn verify(
    storage: &dyn Storage,
    options: VerifyOptions,
) -> Result<VerifyReport, StorageError> {
    let mut walk = Walk::new(options);
    let page_size = options.page.max(1);
    // Rows still to read one at a time after a page failed to read.
    let mut singly = 0u32;
    loop {
        let after = walk.last_seq;
        let size = if singly > 0 { 1 } else { page_size };
        let page = match storage.list_audit(after, size).await {
            Ok(page) => page,
            // One bad row fails its whole page: read that page again row by row to find it.
            Err(_) if size > 1 => {
                singly = page_size;
                continue;
            }
            Err(error) => return Ok(walk.unreadable(after, &error)),
        };
        singly = singly.saturating_sub(1);
        let full = page.len() == size as usize;
        for event in &page {
            if let Err(problem) = walk.check(event) {
                return Ok(walk.report(Some(problem)));
            }
        }
        if !full {
            let problem = walk.finish();
            return Ok(walk.report(problem));
        }
    }
}

/// The chain walked so far: constant state whatever the log's length.
struct Walk {
    options: VerifyOptions,
    last_seq: i64,
    last_hash: [u8; 32],
    saw_recorded: bool,
}

impl Walk {
    fn new(options: VerifyOptions) -> Self {
        Self {
            options,
            last_seq: 0,
            last_hash: GENESIS,
            saw_recorded: false,
        }
    }

    fn check(&mut self, event: &AuditRecord) -> Result<(), Problem> {
        let expected_seq = self.last_seq + 1;
        if event.seq != expected_seq {
            // Pages come in seq order, so a wrong seq is always a later one.
            return Err(Problem::Missing {
                seq: expected_seq,
                next: event.seq,
            });
        }
        if event.prev_hash != self.last_hash {
            return Err(Problem::BrokenLink {
                seq: event.seq,
                prev_hash: event.prev_hash,
                expected: self.last_hash,
            });
        }
        if EventFields::from(event).hash(&self.last_hash) != event.hash {
            return Err(Problem::Altered { seq: event.seq });
        }
        if let Some(recorded) = self.options.expect_last {
            let at_recorded_count = self
                .options
                .expect_count
                .is_some_and(|n| u64::try_from(event.seq) == Ok(n));
            if at_recorded_count && event.hash != recorded {
                return Err(Problem::NotTheRecordedHash {
                    seq: event.seq,
                    hash: event.hash,
                    recorded,
                });
            }
            self.saw_recorded |= event.hash == recorded;
        }
        self.last_seq = event.seq;
        self.last_hash = event.hash;
        Ok(())
    }

    /// The end of the log: it must reach what was recorded.
    fn finish(&self) -> Option<Problem> {
        if let Some(count) = self.options.expect_count
            && u64::try_from(self.last_seq).is_ok_and(|n| n < count)
        {
            return Some(Problem::TailCut {
                seq: self.last_seq + 1,
                recorded: count,
            });
        }
        match self.options.expect_last {
            Some(recorded) if !self.saw_recorded => Some(Problem::RecordedHashGone {
                recorded,
                last: self.last_seq,
            }),
            _ => None,
        }
    }

    fn unreadable(&self, after: i64, error: &StorageError) -> VerifyReport {
        self.report(Some(Problem::Unreadable {
            after,
            reason: error_chain(error),
        }))
    }

    fn report(&self, problem: Option<Problem>) -> VerifyReport {
        VerifyReport {
            events: u64::try_from(self.last_seq).unwrap_or(0),
            last_hash: self.last_hash,
            problem,
        }
    }
}

/// One exported line. Field order is fixed so lines diff and grep predictably.
#[derive(Serialize)]
struct Line<'a> {
    seq: i64,
    at: String,
    actor: Option<i64>,
    action: &'a str,
    target: Option<&'a str>,
    details: serde_json::Value,
    prev_hash: String,
    hash: String,
}

/// Writes the events after `after` to `out`, one JSON object per line, in pages.
pub async fn export(
    storage: &dyn Storage,
    after: i64,
    out: &mut dyn Write,
    page: u32,
) -> Result<ExportReport, AuditLogError> {
    let page_size = page.max(1);
    let mut report = ExportReport {
        events: 0,
        seqs: None,
        last_hash: None,
    };
    let mut cursor = after;
    loop {
        let events = storage.list_audit(cursor, page_size).await?;
        for event in &events {
            let details = serde_json::from_str(&event.details).map_err(|source| {
                AuditLogError::BadDetails {
                    seq: event.seq,
                    source,
                }
            })?;
            let line = Line {
                seq: event.seq,
                // Whole seconds since 1970 always format; `Z` because they are stored UTC.
                at: event
                    .at
                    .format(&Rfc3339)
                    .map_err(|_| AuditLogError::BadTime { seq: event.seq })?,
                actor: event.actor.map(canopy_core::AccountId::get),
                action: &event.action,
                target: event.target.as_deref(),
                details,
                prev_hash: hex(&event.prev_hash),
                hash: hex(&event.hash),
            };
            serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
            report.events += 1;
            report.seqs = Some((report.seqs.map_or(event.seq, |(first, _)| first), event.seq));
            report.last_hash = Some(event.hash);
            cursor = event.seq;
        }
        if events.len() < page_size as usize {
            out.flush()?;
            return Ok(report);
        }
    }
}

/// [`export`] into a new file at `path`, created owner-only (0600 on unix) because the
/// log is security data. A failed export removes its partial file, so a log shipper
/// never picks up half an export.
pub async fn export_to_file(
    storage: &dyn Storage,
    after: i64,
    path: &Path,
) -> Result<ExportReport, AuditLogError> {
    let file = create_private(path)?;
    let mut out = BufWriter::new(file);
    let written = async {
        let report = export(storage, after, &mut out, PAGE).await?;
        out.into_inner()
            .map_err(std::io::IntoInnerError::into_error)?
            .sync_all()?;
        Ok(report)
    }
    .await;
    if written.is_err() {
        // Best effort: the error being reported matters more than a failed clean-up.
        let _ = std::fs::remove_file(path);
    }
    written
}

fn create_private(path: &Path) -> Result<File, AuditLogError> {
    let mut options = OpenOptions::new();
    // `create_new` never follows a planted symlink nor keeps an old file's looser mode.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => AuditLogError::OutExists(path.to_owned()),
        _ => AuditLogError::Write(error),
    })
}

/// Runs one `canopy-server audit …` command and returns what to print; a broken log is
/// [`AuditLogError::Broken`], so the process exits non-zero.
pub async fn run(command: AuditCommand) -> Result<String, AuditLogError> {
    match command {
        AuditCommand::Verify {
            database,
            expect_count,
            expect_last,
        } => {
            let expect_last = expect_last.as_deref().map(parse_hash).transpose()?;
            let storage = open_existing(&database).await?;
            let options = VerifyOptions {
                expect_count,
                expect_last,
                page: PAGE,
            };
            let report = verify(&*storage, options).await?;
            if !report.is_intact() {
                return Err(AuditLogError::Broken(report));
            }
            let mut text = report.to_string();
            if expect_count.is_none() && expect_last.is_none() {
                text.push_str(&format!(
                    "\n(the log alone can't show a cut tail: keep this count and hash outside \
                     the database and pass them later as --expect-count {} --expect-last {})",
                    report.events,
                    hex(&report.last_hash)
                ));
            }
            Ok(text)
        }
        AuditCommand::Export {
            database,
            out,
            after,
        } => {
            let storage = open_existing(&database).await?;
            let report = export_to_file(&*storage, after, &out).await?;
            Ok(match (report.seqs, report.last_hash) {
                (Some((first, last)), Some(hash)) => format!(
                    "exported {} audit events ({first} to {last}) to {}, last hash {}",
                    report.events,
                    out.display(),
                    hex(&hash)
                ),
                _ => format!("no audit events after {after}: {} is empty", out.display()),
            })
        }
    }
}

/// Opens the database a URL names, refusing a SQLite file that isn't there: opening
/// would create an empty database, whose empty log would verify as intact.
async fn open_existing(url: &str) -> Result<std::sync::Arc<dyn Storage>, AuditLogError> {
    if let Some(path) = url.trim().strip_prefix("sqlite://") {
        let path = Path::new(path);
        if !path.is_file() {
            return Err(AuditLogError::NoDatabase(path.to_owned()));
        }
    }
    Ok(storage::open(url).await?)
}

/// A hash as operators copy it: 64 hex characters, either case.
pub fn parse_hash(text: &str) -> Result<[u8; 32], AuditLogError> {
    HEXLOWER_PERMISSIVE
        .decode(text.trim().as_bytes())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(AuditLogError::BadHash)
}

pub fn hex(hash: &[u8; 32]) -> String {
    HEXLOWER.encode(hash)
}

/// An error and its sources on one line (the storage error alone only says "failed").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
