//! `audit verify` and `audit export` against a real SQLite file, tampered with through a
//! plain rusqlite connection the way someone holding the file would: edits, deletions,
//! swapped events, a cut tail and a fully recomputed chain.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use canopy_core::AccountId;
use canopy_server::audit_log::{
    self, AuditLogError, Problem, VerifyOptions, VerifyReport, export_to_file, hex, verify,
};
use canopy_server::storage::audit::{EventFields, GENESIS, canonical_json};
use canopy_server::storage::{self, AuditRecord, NewAuditEvent, Storage};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use tempfile::TempDir;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const EVENTS: i64 = 8;
/// Small pages, so every walk crosses page boundaries.
const PAGE: u32 = 3;

/// A database file holding [`EVENTS`] audit events of the shapes the server writes.
struct Log {
    dir: TempDir,
    path: PathBuf,
    url: String,
    storage: Arc<dyn Storage>,
    /// The events as appended, before any tampering.
    events: Vec<AuditRecord>,
}

impl Log {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("canopy.db");
        let url = format!("sqlite://{}", path.display());
        let storage = storage::open(&url).await.unwrap();
        let mut events = Vec::new();
        for i in 1..=EVENTS {
            let (action, target, details) = match i % 4 {
                0 => (
                    "sign_in.success",
                    format!("account:{i}"),
                    json!({"method": "totp", "ip": "192.0.2.7", "device": i, "new_device": false}),
                ),
                1 => (
                    "sign_in.failure",
                    format!("account:{i}"),
                    json!({"reason": "wrong_password", "ip": "192.0.2.8", "device": null}),
                ),
                2 => (
                    "role.change",
                    format!("account:{i}"),
                    json!({"from": "distributor", "to": "manager"}),
                ),
                _ => (
                    "device.revoke",
                    format!("device:{i}"),
                    json!({"by_device": 1}),
                ),
            };
            let event = NewAuditEvent {
                at: OffsetDateTime::from_unix_timestamp(1_800_000_000 + i * 60).unwrap(),
                actor: Some(AccountId::new(i)),
                action: action.to_owned(),
                target: Some(target),
                details,
            };
            events.push(storage.append_audit(event).await.unwrap());
        }
        Self {
            dir,
            path,
            url,
            storage,
            events,
        }
    }

    fn hash_of(&self, seq: i64) -> [u8; 32] {
        self.events[usize::try_from(seq - 1).unwrap()].hash
    }

    async fn verify(&self, options: VerifyOptions) -> VerifyReport {
        verify(
            &*self.storage,
            VerifyOptions {
                page: PAGE,
                ..options
            },
        )
        .await
        .unwrap()
    }

    /// Runs `sql` on the file with its own connection. The schema's triggers refuse every
    /// UPDATE and DELETE on `audit_events`; anyone who can write the file can drop them,
    /// so the tampering here does exactly that first.
    fn tamper(&self, sql: &str) {
        let conn = Connection::open(&self.path).unwrap();
        conn.execute_batch(
            "DROP TRIGGER IF EXISTS audit_events_no_update; \
             DROP TRIGGER IF EXISTS audit_events_no_delete;",
        )
        .unwrap();
        conn.execute_batch(sql).unwrap();
    }
}

#[tokio::test]
async fn an_intact_log_verifies_and_reports_its_end() {
    let log = Log::new().await;
    let report = log.verify(VerifyOptions::default()).await;
    let last = log.hash_of(EVENTS);
    assert_eq!(
        report,
        VerifyReport {
            events: 8,
            last_hash: last,
            problem: None
        }
    );
    assert_eq!(
        report.to_string(),
        format!("audit log intact: 8 events, last hash {}", hex(&last))
    );

    // The end recorded now, and an earlier one: a log that grew since is still fine.
    for (count, hash) in [(8, last), (5, log.hash_of(5))] {
        let options = VerifyOptions {
            expect_count: Some(count),
            expect_last: Some(hash),
            ..VerifyOptions::default()
        };
        assert!(log.verify(options).await.is_intact(), "{count}");
    }
    let options = VerifyOptions {
        expect_last: Some(log.hash_of(3)),
        ..VerifyOptions::default()
    };
    assert!(log.verify(options).await.is_intact());

    // One page exactly, and pages of one.
    for page in [8, 1] {
        let report = verify(
            &*log.storage,
            VerifyOptions {
                page,
                ..VerifyOptions::default()
            },
        )
        .await
        .unwrap();
        assert!(report.is_intact(), "page {page}: {report}");
    }
}

#[tokio::test]
async fn an_empty_log_is_intact_at_the_genesis_hash() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("empty.db").display());
    let storage = storage::open(&url).await.unwrap();
    let report = verify(&*storage, VerifyOptions::default()).await.unwrap();
    assert_eq!((report.events, report.last_hash), (0, GENESIS));
    assert!(report.is_intact());
}

/// One way of tampering, what verify is told, and what it must find.
struct Case {
    name: &'static str,
    sql: &'static str,
    /// From the untampered events (for recorded counts and hashes).
    options: fn(&Log) -> VerifyOptions,
    problem: fn(&Log) -> Problem,
    says: &'static str,
}

fn nothing_recorded(_: &Log) -> VerifyOptions {
    VerifyOptions::default()
}

#[tokio::test]
async fn every_kind_of_tampering_names_the_first_bad_event() {
    let cases = [
        Case {
            name: "details edited",
            sql: r#"UPDATE audit_events SET details = '{"ip":"203.0.113.9"}' WHERE seq = 4"#,
            options: nothing_recorded,
            problem: |_| Problem::Altered { seq: 4 },
            says: "audit log broken at event 4: event 4 was edited: its hash does not match its fields",
        },
        Case {
            name: "actor edited",
            sql: "UPDATE audit_events SET actor_account_id = 1 WHERE seq = 6",
            options: nothing_recorded,
            problem: |_| Problem::Altered { seq: 6 },
            says: "event 6 was edited",
        },
        Case {
            name: "an event deleted from the middle",
            sql: "DELETE FROM audit_events WHERE seq = 4",
            options: nothing_recorded,
            problem: |_| Problem::Missing { seq: 4, next: 5 },
            says: "audit log broken at event 4: event 4 is missing: the log goes from 3 to 5",
        },
        Case {
            name: "two events deleted",
            sql: "DELETE FROM audit_events WHERE seq IN (3, 4)",
            options: nothing_recorded,
            problem: |_| Problem::Missing { seq: 3, next: 5 },
            says: "events 3 to 4 are missing",
        },
        Case {
            name: "the first event deleted",
            sql: "DELETE FROM audit_events WHERE seq = 1",
            options: nothing_recorded,
            problem: |_| Problem::Missing { seq: 1, next: 2 },
            says: "the log starts at event 2, not 1",
        },
        Case {
            name: "an event deleted and the rest renumbered to close the gap",
            sql: "DELETE FROM audit_events WHERE seq = 4; \
                  UPDATE audit_events SET seq = 4 WHERE seq = 5; \
                  UPDATE audit_events SET seq = 5 WHERE seq = 6; \
                  UPDATE audit_events SET seq = 6 WHERE seq = 7; \
                  UPDATE audit_events SET seq = 7 WHERE seq = 8;",
            options: nothing_recorded,
            problem: |log| Problem::BrokenLink {
                seq: 4,
                prev_hash: log.hash_of(4),
                expected: log.hash_of(3),
            },
            says: "event 4 does not follow event 3",
        },
        Case {
            name: "two events' seq swapped",
            sql: "UPDATE audit_events SET seq = 100 WHERE seq = 3; \
                  UPDATE audit_events SET seq = 3 WHERE seq = 6; \
                  UPDATE audit_events SET seq = 6 WHERE seq = 100;",
            options: nothing_recorded,
            problem: |log| Problem::BrokenLink {
                seq: 3,
                prev_hash: log.hash_of(5),
                expected: log.hash_of(2),
            },
            says: "audit log broken at event 3: event 3 does not follow event 2",
        },
        Case {
            name: "a value that no longer reads back",
            sql: "UPDATE audit_events SET at = 'yesterday' WHERE seq = 5",
            options: nothing_recorded,
            problem: |_| Problem::Unreadable {
                after: 4,
                reason: String::new(),
            },
            says: "audit log broken at event 5: the event after event 4 can't be read back",
        },
        Case {
            name: "the tail cut, with the count recorded",
            sql: "DELETE FROM audit_events WHERE seq > 6",
            options: |_| VerifyOptions {
                expect_count: Some(8),
                ..VerifyOptions::default()
            },
            problem: |_| Problem::TailCut {
                seq: 7,
                recorded: 8,
            },
            says: "audit log broken at event 7: the log ends at event 6 but 8 events were \
                   recorded: events 7 to 8 are missing (the tail was cut)",
        },
        Case {
            name: "the tail cut, with the last hash recorded",
            sql: "DELETE FROM audit_events WHERE seq > 6",
            options: |log| VerifyOptions {
                expect_last: Some(log.hash_of(8)),
                ..VerifyOptions::default()
            },
            problem: |log| Problem::RecordedHashGone {
                recorded: log.hash_of(8),
                last: 6,
            },
            says: "audit log broken at event 7: no event has the recorded hash",
        },
    ];
    for case in &cases {
        let log = Log::new().await;
        assert!(log.verify((case.options)(&log)).await.is_intact());
        log.tamper(case.sql);
        let report = log.verify((case.options)(&log)).await;
        let mut found = report.problem.clone().expect(case.name);
        if let Problem::Unreadable { reason, .. } = &mut found {
            assert!(!reason.is_empty(), "{}", case.name);
            reason.clear();
        }
        assert_eq!(found, (case.problem)(&log), "{}", case.name);
        let text = report.to_string();
        assert!(text.contains(case.says), "{}: {text}", case.name);
    }
}

#[tokio::test]
async fn a_cut_tail_is_invisible_without_a_recorded_end() {
    let log = Log::new().await;
    log.tamper("DELETE FROM audit_events WHERE seq > 6");
    let report = log.verify(VerifyOptions::default()).await;
    assert_eq!(
        report.to_string(),
        format!(
            "audit log intact: 6 events, last hash {}",
            hex(&log.hash_of(6))
        )
    );
}

/// Someone who knows the hashing edits event 4 and recomputes every later link: the chain
/// is whole again, and only the end recorded outside the database gives it away.
#[tokio::test]
async fn a_recomputed_chain_is_caught_by_the_recorded_end() {
    let log = Log::new().await;
    let conn = Connection::open(&log.path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_events_no_update;")
        .unwrap();
    let mut prev = log.hash_of(3);
    for mut event in log.events[3..].iter().cloned() {
        if event.seq == 4 {
            event.details = canonical_json(&json!({"from": "distributor", "to": "admin"}));
        }
        let hash = EventFields::from(&event).hash(&prev);
        conn.execute(
            "UPDATE audit_events SET details = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?1",
            params![event.seq, event.details, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
    assert!(log.verify(VerifyOptions::default()).await.is_intact());

    let recorded = VerifyOptions {
        expect_count: Some(8),
        expect_last: Some(log.hash_of(8)),
        ..VerifyOptions::default()
    };
    let report = log.verify(recorded).await;
    assert_eq!(
        report.problem,
        Some(Problem::NotTheRecordedHash {
            seq: 8,
            hash: prev,
            recorded: log.hash_of(8),
        })
    );
    assert!(
        report
            .to_string()
            .contains("the log was rewritten up to event 8"),
        "{report}"
    );
}

/// Reads an export back, checking every line links to the one before and that its hash
/// can be recomputed from the line alone (what an external log system can do).
fn read_export(path: &Path, mut prev: [u8; 32]) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for line in &lines {
        let object = line.as_object().unwrap();
        // Sorted: serde_json keeps insertion order when another crate of the build turns
        // on its `preserve_order` feature.
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected_keys = vec![
            "action",
            "actor",
            "at",
            "details",
            "hash",
            "prev_hash",
            "seq",
            "target",
        ];
        expected_keys.sort_unstable();
        assert_eq!(keys, expected_keys);
        assert_eq!(line["prev_hash"], hex(&prev));
        let details = canonical_json(&line["details"]);
        let fields = EventFields {
            seq: line["seq"].as_i64().unwrap(),
            at: OffsetDateTime::parse(line["at"].as_str().unwrap(), &Rfc3339).unwrap(),
            actor: line["actor"].as_i64().map(AccountId::new),
            action: line["action"].as_str().unwrap(),
            target: line["target"].as_str(),
            details: &details,
        };
        let hash = fields.hash(&prev);
        assert_eq!(line["hash"], hex(&hash));
        prev = hash;
    }
    lines
}

#[tokio::test]
async fn export_writes_one_private_json_line_per_event() {
    let log = Log::new().await;
    let all = log.dir.path().join("audit.jsonl");
    let report = export_to_file(&*log.storage, 0, &all).await.unwrap();
    assert_eq!(report.events, 8);
    assert_eq!(report.seqs, Some((1, 8)));
    assert_eq!(report.last_hash, Some(log.hash_of(8)));

    let lines = read_export(&all, GENESIS);
    assert_eq!(lines.len(), 8);
    for (line, event) in lines.iter().zip(&log.events) {
        assert_eq!(line["seq"], event.seq);
        assert_eq!(line["hash"], hex(&event.hash));
    }
    assert_eq!(
        lines[3],
        json!({
            "seq": 4,
            "at": "2027-01-15T08:04:00Z",
            "actor": 4,
            "action": "sign_in.success",
            "target": "account:4",
            "details": {"method": "totp", "ip": "192.0.2.7", "device": 4, "new_device": false},
            "prev_hash": hex(&log.hash_of(3)),
            "hash": hex(&log.hash_of(4)),
        })
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&all).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Incremental: the next file starts where the last one ended.
    let later = log.dir.path().join("audit-after-5.jsonl");
    let report = export_to_file(&*log.storage, 5, &later).await.unwrap();
    assert_eq!((report.events, report.seqs), (3, Some((6, 8))));
    let lines = read_export(&later, log.hash_of(5));
    assert_eq!(lines.len(), 3);

    let none = log.dir.path().join("nothing.jsonl");
    let report = export_to_file(&*log.storage, 8, &none).await.unwrap();
    assert_eq!((report.events, report.seqs), (0, None));
    assert_eq!(std::fs::read_to_string(&none).unwrap(), "");

    // An existing file is never overwritten.
    let error = export_to_file(&*log.storage, 0, &later).await.unwrap_err();
    assert!(matches!(error, AuditLogError::OutExists(_)), "{error}");
    assert_eq!(read_export(&later, log.hash_of(5)).len(), 3);
}

fn cli(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_canopy-server"))
        .args(args)
        .env("CANOPY_LOG", "warn")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test]
async fn the_commands_exit_non_zero_on_a_broken_log() {
    let log = Log::new().await;
    let last = hex(&log.hash_of(8));

    let (ok, out, err) = cli(&["audit", "verify", "--database", &log.url]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!("audit log intact: 8 events, last hash {last}\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!("--expect-count 8 --expect-last {last}")),
        "{out}"
    );

    let file = log.dir.path().join("cli.jsonl");
    let file_text = file.to_str().unwrap();
    let (ok, out, err) = cli(&[
        "audit",
        "export",
        "--database",
        &log.url,
        "--out",
        file_text,
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        format!("exported 8 audit events (1 to 8) to {file_text}, last hash {last}\n")
    );
    assert_eq!(read_export(&file, GENESIS).len(), 8);

    log.tamper("DELETE FROM audit_events WHERE seq > 6");
    let (ok, _, err) = cli(&[
        "audit",
        "verify",
        "--database",
        &log.url,
        "--expect-count",
        "8",
        "--expect-last",
        &last.to_uppercase(),
    ]);
    assert!(!ok);
    assert!(
        err.contains("audit log broken at event 7: the log ends at event 6"),
        "{err}"
    );

    log.tamper("UPDATE audit_events SET target = 'account:1' WHERE seq = 2");
    let (ok, out, err) = cli(&["audit", "verify", "--database", &log.url]);
    assert!(!ok);
    assert_eq!(out, "");
    assert!(
        err.contains("audit log broken at event 2: event 2 was edited"),
        "{err}"
    );

    let missing = log.dir.path().join("typo.db");
    let url = format!("sqlite://{}", missing.display());
    let (ok, _, err) = cli(&["audit", "verify", "--database", &url]);
    assert!(!ok);
    assert!(err.contains("there is no database at"), "{err}");
    assert!(!missing.exists(), "verify must not create a database");

    let (ok, _, err) = cli(&[
        "audit",
        "verify",
        "--database",
        &log.url,
        "--expect-last",
        "abc",
    ]);
    assert!(!ok);
    assert!(err.contains("64 hex characters"), "{err}");
}

/// Events the server itself writes, from a real sign-in over TLS, verify and export.
#[tokio::test]
async fn a_real_sign_in_leaves_a_verifiable_log() {
    let api = common::Api::start().await;
    let user = api.user("ada@example.com").await;
    let mut device = common::Device::new();
    api.sign_in(&user, &mut device).await;

    let storage = api.state.storage.as_ref();
    let report = verify(storage, VerifyOptions::default()).await.unwrap();
    assert!(report.is_intact(), "{report}");
    assert!(report.events >= 2, "{report}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    audit_log::export_to_file(storage, 0, &path).await.unwrap();
    let lines = read_export(&path, GENESIS);
    let actions: Vec<&str> = lines
        .iter()
        .map(|line| line["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"sign_in.success"), "{actions:?}");
    // Ids, not addresses: the account's email is nowhere in the export.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("ada@example.com"), "{text}");
}
