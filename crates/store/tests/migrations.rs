//! The schema's migrations are forward-only and tested from every earlier version: a cache
//! built at version v with rows of that version opens in this build, is brought to
//! [`LATEST`], and still shows those rows; a cache from a newer app is refused untouched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use canopy_core::{IdempotencyKey, MemberId};
use canopy_store::migrations::{LATEST, migrate_to, version};
use canopy_store::{CacheKey, OutboxState, Store, StoreError};
use common::{key_pragma, member, period};
use rusqlite::{Connection, params};

const ADA: i64 = 7;
const OUTBOX_KEY: &str = "migration-test-key-0001";

/// Opens `path` as any SQLCipher client would, keyed with the raw key.
fn connect(path: &Path, key: &CacheKey) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&key_pragma(key)).unwrap();
    conn
}

/// Rows the app would have written at schema version `v`, into the tables that version has.
fn insert_rows_of(conn: &Connection, v: i64) {
    let november = period(11).index();
    if v >= 1 {
        conn.execute("INSERT INTO ranks (level, name) VALUES (2, 'Silver')", [])
            .unwrap();
        conn.execute(
            "INSERT INTO members (id, number, sponsor_id, placement_id, placement_slot,
                rank_level, status, joined_on, country, display_name)
             VALUES (?1, '10000007', NULL, NULL, NULL, 2, 'active', '2024-03-01', 'GB',
                'Ada Lovelace')",
            [ADA],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO member_personal (member_id, legal_name, email)
             VALUES (?1, 'Augusta Ada King', 'ada@example.com')",
            [ADA],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO volumes (member_id, period, pv, gv) VALUES (?1, ?2, 12345, 12345)",
            params![ADA, november],
        )
        .unwrap();
    }
    if v >= 2 {
        conn.execute(
            "INSERT INTO member_search (rowid, name) VALUES (?1, 'Ada Lovelace Augusta Ada King')",
            [ADA],
        )
        .unwrap();
    }
    if v >= 3 {
        conn.execute(
            "INSERT INTO statements (period, status, currency, total_minor, issued_on)
             VALUES (?1, 'final', 'EUR', 4200, '2026-12-01')",
            [november],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO earnings_lines (id, period, kind, currency, amount_minor, order_id,
                source_member_id, level, rule, rate_bp)
             VALUES (1, ?1, 'unilevel', 'EUR', 4200, NULL, ?2, 1, 'unilevel-1', 500)",
            params![november, ADA],
        )
        .unwrap();
    }
    if v >= 4 {
        conn.execute(
            "INSERT INTO outbox (idempotency_key, kind, payload, created_at, updated_at)
             VALUES (?1, 'add_note', '{\"body\":\"call back\"}', '2026-11-20T10:00:00Z',
                '2026-11-20T10:00:00Z')",
            [OUTBOX_KEY],
        )
        .unwrap();
    }
}

/// What the user sees of those rows once this build has opened the cache.
fn check_rows_of(store: &Store, v: i64) {
    let ada = store.member(MemberId::new(ADA), period(11));
    if v < 1 {
        assert!(matches!(ada, Err(StoreError::NotFound(_))), "v{v}: {ada:?}");
    } else {
        let ada = ada.unwrap();
        assert_eq!(
            (ada.row.display_name.as_str(), ada.row.rank_name.as_str()),
            ("Ada Lovelace", "Silver"),
            "v{v}"
        );
        let personal = ada.personal.unwrap();
        assert_eq!(personal.legal_name, "Augusta Ada King", "v{v}");
        assert_eq!(personal.email.as_deref(), Some("ada@example.com"), "v{v}");
        let volumes = store.volume_history(MemberId::new(ADA)).unwrap();
        assert_eq!(
            volumes.iter().map(|e| (e.period, e.pv)).collect::<Vec<_>>(),
            [(period(11), 12345)],
            "v{v}"
        );
    }
    // Members cached before the name search existed (v1) are indexed by migration 2.
    if v >= 1 {
        let hits = store.search("Lovel", period(11), 10).unwrap();
        let ids: Vec<MemberId> = hits.iter().map(|h| h.member.id).collect();
        assert_eq!(ids, [MemberId::new(ADA)], "v{v}");
    }
    let earnings = store.earnings_by_period().unwrap();
    let shown: Vec<String> = earnings
        .iter()
        .map(|e| format!("{} {}", e.period, e.total))
        .collect();
    if v >= 3 {
        assert_eq!(shown, ["2026-11 EUR 42.00"], "v{v}");
        let statement = store.statement(period(11), None, 10).unwrap();
        let lines: Vec<(String, Option<&str>)> = statement
            .lines
            .iter()
            .map(|l| (l.amount.to_string(), l.source_name.as_deref()))
            .collect();
        assert_eq!(
            lines,
            [("EUR 42.00".to_owned(), Some("Ada Lovelace"))],
            "v{v}"
        );
    } else {
        assert!(shown.is_empty(), "v{v}: {shown:?}");
    }
    // The command of that version, if any (later checks add commands of their own).
    let outbox: Vec<(String, OutboxState)> = store
        .outbox(None)
        .unwrap()
        .into_iter()
        .filter(|i| i.key.as_str() == OUTBOX_KEY)
        .map(|i| (i.key.as_str().to_owned(), i.state))
        .collect();
    if v >= 4 {
        assert_eq!(
            outbox,
            [(OUTBOX_KEY.to_owned(), OutboxState::Pending)],
            "v{v}"
        );
    } else {
        assert!(outbox.is_empty(), "v{v}: {outbox:?}");
    }
}

#[test]
fn a_cache_from_every_earlier_version_opens_with_its_rows() {
    for v in 0..=LATEST {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let key = CacheKey::generate().unwrap();
        {
            let mut conn = connect(&path, &key);
            migrate_to(&mut conn, v).unwrap();
            assert_eq!(version(&conn).unwrap(), v);
            insert_rows_of(&conn, v);
        }

        let store = Store::open(&path, key.clone()).unwrap();
        let found = store.database().read(version).unwrap();
        assert_eq!(found, LATEST, "from v{v}");
        check_rows_of(&store, v);

        // The upgraded cache takes the writes of this build: a new member under Ada, a
        // command, the sync's position.
        store
            .write(|w| w.put_member(&member(8, (v >= 1).then_some(ADA), 0)))
            .unwrap();
        store
            .enqueue(
                &IdempotencyKey::from_random_bytes([v as u8; 16]),
                canopy_store::CommandKind::Enroll,
                "{}",
                time::OffsetDateTime::UNIX_EPOCH,
            )
            .unwrap();
        assert_eq!(store.sync_state().unwrap(), Default::default(), "v{v}");
        if v >= 1 {
            let children = store.children(MemberId::new(ADA), period(11)).unwrap();
            let ids: Vec<MemberId> = children.iter().map(|c| c.id).collect();
            assert_eq!(ids, [MemberId::new(8)], "v{v}");
            let team = store.subtree(MemberId::new(ADA), period(11)).unwrap();
            assert_eq!(team.team_size, 1, "v{v}");
        }
        store.lock();

        // And it opens again as it is, the new rows with the old.
        let store = Store::open(&path, key).unwrap();
        check_rows_of(&store, v);
        assert_eq!(
            store.outbox(None).unwrap().len(),
            if v >= 4 { 2 } else { 1 }
        );
        let new = store.member(MemberId::new(8), period(11)).unwrap();
        assert_eq!(
            new.row.display_name,
            member(8, None, 0).display_name.as_str()
        );
    }
}

#[test]
fn a_cache_from_a_newer_app_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let key = CacheKey::generate().unwrap();
    Store::open(&path, key.clone()).unwrap().lock();
    {
        let conn = connect(&path, &key);
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();

    let err = Store::open(&path, key.clone()).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, known } if found == LATEST + 1 && known == LATEST),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the cache was made by a newer Canopy (schema {}, this app knows {LATEST})",
            LATEST + 1
        )
    );
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the refused cache was changed"
    );

    let mut conn = connect(&path, &key);
    let err = migrate_to(&mut conn, LATEST).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err:?}");
    assert_eq!(version(&conn).unwrap(), LATEST + 1);
}
