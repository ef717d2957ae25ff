//! The SQLite database's disk fills up: the real server over TLS, its database on a small
//! tmpfs this test mounts and fills. A write is refused whole with a clear 503 (an outbox
//! command is answered "retry later", so the device keeps it), nothing of it is kept, the
//! database stays sound (`PRAGMA integrity_check`), reads go on, and once space is freed
//! the same writes succeed.
//!
//! Mounting needs root on Linux; anywhere else the test says so and returns.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use canopy_core::{CountryCode, MemberId, MemberNumber, MemberStatus, PersonName, RankLevel, Role};
use canopy_server::routes::error::DISK_FULL;
use canopy_server::storage::{MemberRecord, NewAuditEvent, NewMember, testing};
use common::{Api, Device, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A tmpfs of `size` mounted on a fresh temp dir; unmounted on drop (also when the test
/// panics), lazily if something still holds a file open, so no mount outlives the test.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let output = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("can't run mount: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
        }
        Ok(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `filler` until the filesystem has no room left; returns the bytes written.
    fn fill(&self) -> u64 {
        let mut file = std::fs::File::create(self.filler()).unwrap();
        let chunk = vec![0x5a_u8; 64 * 1024];
        let mut written = 0_u64;
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        written
    }

    fn free(&self) {
        std::fs::remove_file(self.filler()).unwrap();
    }

    fn filler(&self) -> PathBuf {
        self.path().join("filler")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// Reads `sql` (one integer) on a connection of its own, beside the server's.
fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Every count a refused write could have changed.
fn counts(db: &Path) -> [i64; 5] {
    [
        "SELECT count(*) FROM members",
        "SELECT count(*) FROM alerts",
        "SELECT count(*) FROM audit_events",
        "SELECT count(*) FROM enrollment_consents",
        "SELECT count(*) FROM member_changes",
    ]
    .map(|sql| count(db, sql))
}

fn integrity(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn enrollment(key: &str) -> Value {
    json!({"commands": [{"key": key, "command": {"type": "enroll", "form": {
        "kind": "distributor",
        "sponsor": 1,
        "legal_name": "Robin Newcomer",
        "email": "newcomer@example.com",
        "date_of_birth": "1990-04-25",
        "address_line1": "1 Main Street",
        "city": "Springfield",
        "country": "US",
        "consent_version": "2026-03",
        "consent_purposes": ["terms", "privacy_notice"],
        "consent_given_at": "2027-01-15T08:00:00Z",
        "consent_given_offline": false,
    }}}]})
}

#[tokio::test]
async fn a_full_disk_refuses_writes_clearly_and_corrupts_nothing() {
    if !cfg!(target_os = "linux") || !is_root() {
        eprintln!("disk_full: skipped, needs root to mount a tmpfs (Linux)");
        return;
    }
    if testing::backend() == "postgres" {
        eprintln!("disk_full: skipped, only the SQLite backend is tested here");
        return;
    }
    let disk = match Tmpfs::mount("4m") {
        Ok(disk) => disk,
        Err(e) => {
            eprintln!("disk_full: skipped, can't mount a tmpfs here: {e}");
            return;
        }
    };
    let db = disk.path().join("canopy.db");
    let api = Api::start_with_database(format!("sqlite://{}", db.display())).await;
    api.state
        .storage
        .insert_members(vec![NewMember {
            member: MemberRecord {
                id: MemberId::new(1),
                number: MemberNumber::parse("20000001").unwrap(),
                sponsor: None,
                placement: None,
                rank: RankLevel::new(0),
                status: MemberStatus::Active,
                joined_on: time::macros::date!(2025 - 03 - 01),
                country: CountryCode::parse("US").unwrap(),
                display_name: PersonName::parse("Pat Member").unwrap(),
            },
            personal: None,
        }])
        .await
        .unwrap();
    let user = api
        .user_as("pat@example.com", Role::Distributor, Some(MemberId::new(1)))
        .await;
    let session = api.sign_in(&user, &mut Device::new()).await;

    // Fill the filesystem, then write (audit events, straight to storage) until SQLite
    // has used up any room its files already had.
    let filled = disk.fill();
    let mut refused = None;
    for n in 0_i64..20_000 {
        let event = NewAuditEvent {
            at: api.clock.now(),
            actor: None,
            action: "test.fill".to_owned(),
            target: None,
            details: json!({"n": n, "padding": "x".repeat(2_000)}),
        };
        if let Err(e) = api.state.storage.append_audit(event).await {
            refused = Some((n, e));
            break;
        }
    }
    let (accepted, error) = refused.expect("writes never failed on a full disk");
    assert!(error.is_full(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the server's disk is full: nothing was saved"
    );
    eprintln!("disk_full: filler {filled} bytes, then {accepted} writes before the first refusal");

    // What SQLite itself answers a write on this disk.
    let probe = rusqlite::Connection::open(&db).unwrap();
    let sqlite_error = probe
        .execute_batch("CREATE TABLE probe (x BLOB); INSERT INTO probe VALUES (zeroblob(65536))")
        .expect_err("a write on a full disk succeeded");
    eprintln!("disk_full: SQLite says {sqlite_error:?}");
    match &sqlite_error {
        rusqlite::Error::SqliteFailure(failure, _) => {
            assert_eq!(
                failure.code,
                rusqlite::ErrorCode::DiskFull,
                "{sqlite_error}"
            );
        }
        other => panic!("not a SQLite failure: {other:?}"),
    }
    drop(probe);

    // Through the API: a clear 503 and nothing of the write kept.
    let before = counts(&db);
    let detail = expect_problem(
        api.post_auth("/v1/me/erasure-request", &session.access, json!({}))
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(detail, DISK_FULL);
    assert_eq!(
        counts(&db),
        before,
        "the refused erasure request left something"
    );

    // An outbox command is answered "retry later": the device keeps it and sends it again.
    let key = "disk-full-enroll-0001";
    let answer = expect_json(
        api.post_auth("/v1/sync/push", &session.access, enrollment(key))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["results"][0]["outcome"], "retry_later", "{answer}");
    assert_eq!(counts(&db), before, "the refused enrollment left something");

    // Reads go on, and the file is sound while the disk is still full.
    let me = expect_json(
        api.get_auth("/v1/members/1", &session.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["display_name"], "Pat Member", "{me}");
    expect_json(
        api.get_auth("/v1/me/devices", &session.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(integrity(&db), "ok");

    // Space again: the same writes now succeed.
    disk.free();
    let requested = expect_json(
        api.post_auth("/v1/me/erasure-request", &session.access, json!({}))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert!(requested["alert_id"].as_i64().is_some(), "{requested}");
    let answer = expect_json(
        api.post_auth("/v1/sync/push", &session.access, enrollment(key))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["results"][0]["outcome"], "applied", "{answer}");
    let after = counts(&db);
    assert_eq!(after[0], before[0] + 1, "one member enrolled");
    assert_eq!(after[1], before[1] + 1, "one erasure request raised");
    assert_eq!(after[3], before[3] + 1, "one consent kept");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM audit_events WHERE action = 'test.fill'"
        ),
        accepted,
        "only the accepted fill writes are in the audit log"
    );

    api.running.shutdown().await.unwrap();
    drop(api.state);
    assert_eq!(integrity(&db), "ok");
}
