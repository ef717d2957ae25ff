//! The bootstrap's bulk load: pages of plain inserts that resume after a cut (the app closed,
//! the network gone), refuse pages out of order, never touch the outbox, and end with the
//! indexes, the search and the tree index rebuilt.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_core::{IdempotencyKey, MemberId};
use canopy_store::{CacheKey, CommandKind, Store, StoreError, SyncState};
use common::{member, period};
use time::macros::datetime;

fn indexes(store: &Store) -> Vec<String> {
    store
        .database()
        .read(|c| {
            let mut stmt = c.prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
            )?;
            let names = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(names)
        })
        .unwrap()
}

fn page_of(store: &Store, page: u64, ids: std::ops::Range<i64>) -> Result<u64, StoreError> {
    store
        .bootstrap_page(page, |b| {
            for id in ids {
                b.member(&member(
                    id,
                    (id > 1).then_some((id - 1) / 3 + 1),
                    (id % 4) as u16,
                ))?;
            }
            Ok(())
        })
        .map(|p| p.next_page)
}

#[test]
fn a_cut_bootstrap_resumes_at_the_next_page_and_builds_everything_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let key = CacheKey::generate().unwrap();
    let copy = || CacheKey::from_slice(key.as_bytes()).unwrap();
    let store = Store::open(&path, copy()).unwrap();
    let before = indexes(&store);
    assert!(before.contains(&"members_pre".to_owned()), "{before:?}");
    // Something typed offline before the bootstrap: it must survive it.
    let typed = IdempotencyKey::from_random_bytes([7; 16]);
    store
        .enqueue(
            &typed,
            CommandKind::AddNote,
            r#"{"member":2,"body":"call back"}"#,
            datetime!(2026-11-01 9:00 UTC),
        )
        .unwrap();

    let progress = store
        .bootstrap_begin("cp-1", Some(300), "2026-11-01T10:00:00Z")
        .unwrap();
    assert_eq!((progress.next_page, progress.rows_done), (0, 0));
    assert!(indexes(&store).is_empty() || !indexes(&store).contains(&"members_pre".to_owned()));
    assert_eq!(page_of(&store, 0, 1..101).unwrap(), 1);
    assert_eq!(page_of(&store, 1, 101..201).unwrap(), 2);
    drop(store); // the app is closed mid-bootstrap

    let store = Store::open(&path, copy()).unwrap();
    let resumed = store
        .bootstrap_begin("cp-1", Some(300), "2026-11-01T11:00:00Z")
        .unwrap();
    assert_eq!(
        (resumed.next_page, resumed.rows_done, resumed.rows_total),
        (2, 200, Some(300))
    );
    // The server resends the last page it isn't sure about: skipped, not doubled.
    assert_eq!(page_of(&store, 1, 101..201).unwrap(), 2);
    let early = page_of(&store, 3, 301..401).unwrap_err();
    assert!(
        early.to_string().contains("page 3 arrived before page 2"),
        "{early}"
    );
    assert_eq!(page_of(&store, 2, 201..301).unwrap(), 3);
    store
        .bootstrap_finish(&SyncState {
            cursor: Some("c-42".into()),
            checkpoint: Some("cp-1".into()),
            checksum: Some("abc".into()),
            last_sync_at: Some("2026-11-01T11:00:05Z".into()),
        })
        .unwrap();

    assert_eq!(indexes(&store), before, "every index is back");
    assert!(store.bootstrap_progress().unwrap().is_none());
    assert_eq!(store.sync_state().unwrap().cursor.as_deref(), Some("c-42"));
    let root = store.subtree(MemberId::new(1), period(10)).unwrap();
    assert_eq!(root.team_size, 299);
    let hits = store.search("Zoë", period(10), 50).unwrap();
    assert!(
        !hits.is_empty()
            && hits
                .iter()
                .all(|h| h.member.display_name.starts_with("Zoë"))
    );
    let outbox = store.outbox(None).unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].key, typed);
}

#[test]
fn a_new_checkpoint_starts_over_and_pages_need_a_bootstrap() {
    let (_dir, store) = common::fresh_store();
    let err = page_of(&store, 0, 1..3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid data for the cache: no bootstrap is under way"
    );
    store.bootstrap_begin("cp-1", None, "t").unwrap();
    page_of(&store, 0, 1..50).unwrap();
    let fresh = store.bootstrap_begin("cp-2", None, "t").unwrap();
    assert_eq!((fresh.checkpoint.as_str(), fresh.next_page), ("cp-2", 0));
    page_of(&store, 0, 1..11).unwrap();
    store.bootstrap_finish(&SyncState::default()).unwrap();
    assert_eq!(
        store
            .subtree(MemberId::new(1), period(10))
            .unwrap()
            .team_size,
        9
    );
}

#[test]
fn customers_alerts_and_notes_read_back_as_written() {
    use canopy_core::CustomerId;
    use canopy_store::{AlertRow, CustomerRow, NoteRow};
    let (_dir, store) = common::fresh_store();
    store
        .write(|w| {
            w.put_member(&member(1, None, 0))?;
            for (id, name) in [(2, "zed"), (1, "Ana")] {
                w.put_customer(&CustomerRow {
                    id: CustomerId::new(id),
                    member: MemberId::new(1),
                    display_name: name.into(),
                    email: None,
                    phone: Some("+49 30 1234567".into()),
                    joined_on: "2026-10-02".into(),
                })?;
            }
            for (id, at) in [(1, "2026-10-01T08:00:00Z"), (2, "2026-10-03T08:00:00Z")] {
                w.put_alert(&AlertRow {
                    id,
                    kind: "new_device".into(),
                    severity: "warning".into(),
                    created_at: at.into(),
                    message: "A new device signed in".into(),
                    state: "open".into(),
                    evidence: None,
                })?;
            }
            w.put_note(&NoteRow {
                id: 5,
                member: MemberId::new(1),
                body: "prefers calls".into(),
                created_at: "2026-10-04T08:00:00Z".into(),
            })
        })
        .unwrap();
    let names: Vec<String> = store
        .customers()
        .unwrap()
        .into_iter()
        .map(|c| c.display_name)
        .collect();
    assert_eq!(names, ["Ana", "zed"]);
    let alerts: Vec<i64> = store.alerts().unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(alerts, [2, 1], "newest first");
    store.write(|w| w.remove_alert(2)).unwrap();
    assert_eq!(store.alerts().unwrap().len(), 1);
    assert_eq!(
        store.notes(MemberId::new(1)).unwrap()[0].body,
        "prefers calls"
    );
    store.write(|w| w.remove_member(MemberId::new(1))).unwrap();
    assert!(
        store.notes(MemberId::new(1)).unwrap().is_empty(),
        "notes leave with the member"
    );
}
