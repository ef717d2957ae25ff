//! Encrypted backups against real SQLite files in a temp dir: the recovery drill (a backup
//! under write load, the database destroyed, restored, nothing committed before the backup
//! lost), verification, a wrong key, a tampered archive, and restores that would overwrite.

// The helpers outside `#[test]` fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use canopy_server::backup::{self, BackupError, BackupOptions, Identities};
use canopy_server::seed::{self, Company};
use canopy_server::storage::sqlite::SqliteStorage;
use canopy_server::storage::{self, NewAuditEvent};
use serde_json::json;
use tempfile::TempDir;
use time::OffsetDateTime;

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn event(n: u64) -> NewAuditEvent {
    NewAuditEvent {
        at: OffsetDateTime::now_utc(),
        actor: None,
        action: "drill.write".to_owned(),
        target: Some(format!("write:{n}")),
        details: json!({ "n": n }),
    }
}

/// A temp dir with a key pair, and a database path inside it.
struct Setup {
    dir: TempDir,
    db: PathBuf,
    identities: Identities,
    recipient: age::x25519::Recipient,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("live").join("canopy.db");
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        let key = dir.path().join("backup-key.txt");
        let recipient = backup::keygen(&key).unwrap();
        Self {
            identities: Identities::from_file(&key).unwrap(),
            recipient,
            db,
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A database with a few audit events, closed again.
    async fn small_database(&self, events: u64) {
        let storage = storage::open(&url(&self.db)).await.unwrap();
        for n in 0..events {
            storage.append_audit(event(n)).await.unwrap();
        }
    }

    fn backup(&self, out: &Path) -> backup::BackupReport {
        backup::backup(
            &self.db,
            out,
            std::slice::from_ref(&self.recipient),
            &BackupOptions::default(),
        )
        .unwrap()
    }
}

/// The names in a directory: what a crash or an error could have left behind.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// An audit event as the drill compares them: seq and hash.
type Link = (i64, [u8; 32]);

async fn audit_log(db: &Path) -> Vec<Link> {
    let storage = storage::open(&url(db)).await.unwrap();
    let mut out = Vec::new();
    loop {
        let after = out.last().map_or(0, |(seq, _)| *seq);
        let page = storage.list_audit(after, 1_000).await.unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page.iter().map(|e| (e.seq, e.hash)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_backup_under_load_destroy_restore_loses_nothing_committed_before() {
    let setup = Setup::new();
    let live = storage::open(&url(&setup.db)).await.unwrap();
    // A company, so the copy has pages enough to span many writes.
    let company = Company::generate(2_000, 7).unwrap();
    seed::insert(&*live, &company, 20_000, |_| {})
        .await
        .unwrap();

    // Writes in a loop on another task, each recorded once its commit returned.
    let committed: Arc<Mutex<Vec<Link>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let (live, committed, stop) = (Arc::clone(&live), Arc::clone(&committed), stop.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let record = live.append_audit(event(n)).await.unwrap();
                committed.lock().unwrap().push((record.seq, record.hash));
                n += 1;
            }
        }
    });
    while committed.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let archive = setup.path("canopy-backup.age");
    let before_backup = committed.lock().unwrap().clone();
    let report = tokio::task::spawn_blocking({
        let (db, archive, recipient) = (setup.db.clone(), archive.clone(), setup.recipient.clone());
        move || {
            // Small steps with a pause: the copy takes long enough for writes to land.
            let options = BackupOptions {
                pages_per_step: 8,
                pause_between_steps: Duration::from_millis(1),
            };
            backup::backup(&db, &archive, &[recipient], &options)
        }
    })
    .await
    .unwrap()
    .unwrap();
    let after_backup = committed.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let all_committed = committed.lock().unwrap().clone();
    assert!(
        after_backup > before_backup.len(),
        "no write committed while the backup ran ({after_backup} writes)"
    );

    // The archive: owner-only, no plaintext SQLite inside, no plaintext copy left anywhere.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&archive).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let bytes = std::fs::read(&archive).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert!(!bytes.windows(15).any(|w| w == b"SQLite format 3"));
    assert_eq!(report.archive_bytes, bytes.len() as u64);
    let live_dir = setup.db.parent().unwrap();
    assert!(
        names(live_dir).iter().all(|n| n.starts_with("canopy.db")),
        "{:?}",
        names(live_dir)
    );

    // Disaster: every file of the database is gone.
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", setup.db.display()));
        if file.exists() {
            std::fs::remove_file(&file).unwrap();
        }
    }
    drop(live);
    assert_eq!(names(live_dir), Vec::<String>::new());

    let restored = backup::restore(&archive, &setup.identities, &setup.db, false).unwrap();
    assert_eq!(restored.manifest, report.manifest);
    let size = std::fs::metadata(&setup.db).unwrap().len();
    eprintln!(
        "restored {size} bytes ({} bytes encrypted) in {:.3} s; backup took {:.3} s",
        report.archive_bytes,
        restored.elapsed.as_secs_f64(),
        report.elapsed.as_secs_f64()
    );

    let log = audit_log(&setup.db).await;
    // Everything committed before the backup started is there, hash for hash…
    for write in &before_backup {
        assert!(log.contains(write), "write {} was lost", write.0);
    }
    // …and the copy is one consistent moment: exactly the first N commits, none torn.
    assert_eq!(log[..], all_committed[..log.len()]);
    let head = report.manifest.audit.clone().unwrap();
    assert_eq!(log.last().unwrap().0, head.last_seq);
    assert!(head.last_seq >= before_backup.last().unwrap().0);
    let members = storage::open(&url(&setup.db))
        .await
        .unwrap()
        .find_member(canopy_core::MemberId::new(2_000))
        .await
        .unwrap();
    assert!(members.is_some(), "the seeded members are back");

    // And the archive verifies: integrity, migrations, the audit chain up to the manifest.
    let verified = backup::verify(&archive, &setup.identities).await.unwrap();
    assert_eq!(verified.audit_events, head.last_seq as u64);
    assert_eq!(verified.schema_version, SqliteStorage::schema_version());
    assert_eq!(
        verified.manifest.schema_version,
        SqliteStorage::schema_version()
    );
}

#[tokio::test]
async fn a_wrong_identity_fails_cleanly() {
    let setup = Setup::new();
    setup.small_database(3).await;
    let archive = setup.path("b.age");
    setup.backup(&archive);
    let other = setup.path("other-key.txt");
    backup::keygen(&other).unwrap();
    let wrong = Identities::from_file(&other).unwrap();
    let target = setup.path("restore").join("canopy.db");

    let error = backup::restore(&archive, &wrong, &target, false).unwrap_err();
    assert!(matches!(error, BackupError::WrongIdentity), "{error:?}");
    assert_eq!(
        error.to_string(),
        "none of the identities can open this backup: it was encrypted to other keys \
         (or its header is damaged)"
    );
    assert!(!target.exists());
    assert_eq!(names(target.parent().unwrap()), Vec::<String>::new());
    let error = backup::verify(&archive, &wrong).await.unwrap_err();
    assert!(matches!(error, BackupError::WrongIdentity), "{error:?}");
}

#[tokio::test]
async fn a_tampered_or_truncated_archive_is_refused() {
    let setup = Setup::new();
    setup.small_database(50).await;
    let archive = setup.path("b.age");
    setup.backup(&archive);
    let good = std::fs::read(&archive).unwrap();
    let len = good.len();

    let flip = |at: usize| {
        let mut bytes = good.clone();
        bytes[at] ^= 0x01;
        bytes
    };
    // The header is text: another base64 character keeps it parseable but wrong.
    let swap = |at: usize| {
        let mut bytes = good.clone();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        bytes
    };
    let mac_line = good.windows(4).position(|w| w == b"--- ").unwrap();
    // (what, the bytes, what restore must say)
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "a byte of the recipient stanza's ephemeral key",
            swap(40),
            "none of the identities can open this backup",
        ),
        (
            "a byte of the header's MAC line",
            swap(mac_line + 10),
            "the backup is damaged or was altered",
        ),
        (
            "a bit in the middle of the payload",
            flip(len / 2),
            "the backup is damaged or was altered",
        ),
        (
            "the last byte",
            flip(len - 1),
            "the backup is damaged or was altered",
        ),
        (
            "the last 100 bytes cut off",
            good[..len - 100].to_vec(),
            "the backup is damaged or was altered",
        ),
    ];
    for (i, (what, bytes, expected)) in cases.into_iter().enumerate() {
        let tampered = setup.path(&format!("tampered-{i}.age"));
        std::fs::write(&tampered, bytes).unwrap();
        let target = setup.path(&format!("restore-{i}")).join("canopy.db");
        let error = backup::restore(&tampered, &setup.identities, &target, false).unwrap_err();
        assert!(
            error.to_string().starts_with(expected),
            "{what}: {error} ({error:?})"
        );
        assert!(!target.exists(), "{what}: a database was restored");
        assert_eq!(
            names(target.parent().unwrap()),
            Vec::<String>::new(),
            "{what}: plaintext left behind"
        );
        let error = backup::verify(&tampered, &setup.identities)
            .await
            .unwrap_err();
        assert!(error.to_string().starts_with(expected), "{what}: {error}");
    }

    // The untouched archive still restores.
    let target = setup.path("restore-good").join("canopy.db");
    backup::restore(&archive, &setup.identities, &target, false).unwrap();
    assert_eq!(audit_log(&target).await.len(), 50);
}

#[tokio::test]
async fn restore_refuses_to_overwrite_without_force() {
    let setup = Setup::new();
    setup.small_database(5).await;
    let archive = setup.path("b.age");
    setup.backup(&archive);
    // The live database moves on after the backup.
    setup.small_database(2).await;
    assert_eq!(audit_log(&setup.db).await.len(), 7);

    let error = backup::restore(&archive, &setup.identities, &setup.db, false).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{} already exists; pass --force to replace it (stop the server first)",
            setup.db.display()
        )
    );
    assert_eq!(
        audit_log(&setup.db).await.len(),
        7,
        "the database was touched"
    );

    // A stray WAL beside a missing database counts as existing too: it would be replayed.
    let elsewhere = setup.path("elsewhere").join("canopy.db");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::write(format!("{}-wal", elsewhere.display()), b"stale").unwrap();
    let error = backup::restore(&archive, &setup.identities, &elsewhere, false).unwrap_err();
    assert!(matches!(error, BackupError::Exists(_)), "{error:?}");

    let restored = backup::restore(&archive, &setup.identities, &setup.db, true).unwrap();
    assert_eq!(restored.manifest.audit.unwrap().last_seq, 5);
    assert_eq!(audit_log(&setup.db).await.len(), 5);
    let restored = backup::restore(&archive, &setup.identities, &elsewhere, true).unwrap();
    assert_eq!(restored.manifest.audit.unwrap().last_seq, 5);
    assert_eq!(audit_log(&elsewhere).await.len(), 5);
}

#[tokio::test]
async fn verify_finds_an_edited_audit_event_in_the_backup() {
    let setup = Setup::new();
    setup.small_database(10).await;
    // Someone with the file edits event 4 behind the triggers' back, then a backup is made.
    let conn = rusqlite::Connection::open(&setup.db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_events_no_update;
         UPDATE audit_events SET target = 'write:999' WHERE seq = 4;",
    )
    .unwrap();
    drop(conn);
    let archive = setup.path("b.age");
    setup.backup(&archive);

    let error = backup::verify(&archive, &setup.identities)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the restored audit chain fails verification: audit log broken at event 4: \
         event 4 was edited: its hash does not match its fields"
    );
}

#[test]
fn backup_refuses_what_it_cannot_do() {
    let setup = Setup::new();
    let out = setup.path("b.age");
    let check = |database: &Path, recipients: &[age::x25519::Recipient], expected: &str| {
        let error = backup::backup(database, &out, recipients, &BackupOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(error, expected);
        assert!(!out.exists());
    };
    check(
        &setup.db,
        &[],
        "give at least one age public key (--recipient or --recipients-file)",
    );
    check(
        &setup.db,
        std::slice::from_ref(&setup.recipient),
        &format!("there is no database at {}", setup.db.display()),
    );
    assert_eq!(
        backup::sqlite_path("sqlite::memory:")
            .unwrap_err()
            .to_string(),
        "backups need a database file: use a sqlite:///path/to/file.db database URL"
    );
    let postgres = backup::sqlite_path("postgres://canopy:secret@db/canopy")
        .unwrap_err()
        .to_string();
    assert!(postgres.contains("pg_dump"), "{postgres}");
    assert!(!postgres.contains("secret"), "{postgres}");
    assert_eq!(
        backup::sqlite_path("sqlite:///var/lib/canopy/canopy.db").unwrap(),
        PathBuf::from("/var/lib/canopy/canopy.db")
    );
    assert!(
        backup::parse_recipient("age1notakey")
            .unwrap_err()
            .to_string()
            .starts_with("\"age1notakey\" is not an age public key")
    );
    let error = backup::keygen(&setup.path("backup-key.txt"))
        .unwrap_err()
        .to_string();
    assert!(error.ends_with("already exists; keygen never replaces a key (backups made for it would become unreadable)"), "{error}");
}

/// Not a benchmark: the restore time the README quotes for a larger database. Run with
/// `cargo test -p canopy-server --test backup -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "slow: seeds a larger company to measure the restore time"]
async fn measure_restore_of_a_larger_database() {
    let setup = Setup::new();
    let live = storage::open(&url(&setup.db)).await.unwrap();
    let members = std::env::var("CANOPY_BACKUP_MEASURE_MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let company = Company::generate(members, 1).unwrap();
    seed::insert(&*live, &company, 20_000, |_| {})
        .await
        .unwrap();
    drop(live);
    let archive = setup.path("b.age");
    let report = setup.backup(&archive);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", setup.db.display()));
    }
    let started = Instant::now();
    backup::restore(&archive, &setup.identities, &setup.db, false).unwrap();
    eprintln!(
        "{members} members: database {} bytes, archive {} bytes; backup {:.2} s, restore {:.2} s",
        report.manifest.database_bytes,
        report.archive_bytes,
        report.elapsed.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
