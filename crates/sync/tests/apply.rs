//! Pages and deltas, through the binary codec, into a real SQLCipher cache: a bootstrap cut
//! after any page resumes with nothing doubled or lost; deltas move the cursor with their
//! rows; a team leaving the scope vanishes; a batch from the wrong cursor or with a bad
//! row changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use canopy_core::sync::codec;
use canopy_core::sync::{BootstrapPage, DeltaBatch, DeltaOp, PROTOCOL, Row, VolumeRow};
use canopy_core::{
    CountryCode, Member, MemberId, MemberNumber, MemberStatus, Period, PersonName, Pv, Rank,
};
use canopy_store::{CacheKey, DownlineQuery, Sort, Store, Tree};
use canopy_sync::SyncError;
use canopy_sync::apply::{apply_delta, apply_page};

const NOW: &str = "2026-11-21T10:00:00Z";

fn period() -> Period {
    Period::parse("2026-10").unwrap()
}

/// Member `id`, enrolled by `(id - 2) / 3 + 1`.
fn member(id: i64) -> Member {
    let sponsor = (id > 1).then(|| MemberId::new((id - 2) / 3 + 1));
    Member {
        id: MemberId::new(id),
        number: MemberNumber::parse(&format!("{}", 10_000_000 + id)).unwrap(),
        sponsor,
        placement: None,
        rank: Rank::new(
            (id % 3) as u16,
            ["Member", "Bronze", "Silver"][(id % 3) as usize],
        ),
        status: MemberStatus::Active,
        joined_on: time::macros::date!(2025 - 01 - 01) + time::Duration::days(id % 300),
        country: CountryCode::parse("FR").unwrap(),
        display_name: PersonName::parse("Jeanne D.").unwrap(),
        personal: None,
    }
}

/// A snapshot of `n` members and their volumes in pages of `per_page` rows, through the
/// binary form, as the server would send it.
fn snapshot(checkpoint: &str, n: i64, per_page: usize) -> Vec<Vec<u8>> {
    let mut rows: Vec<Row> = (1..=n)
        .map(|id| Row::Member(Box::new(member(id))))
        .collect();
    rows.extend((1..=n).map(|id| {
        Row::Volume(VolumeRow {
            member: MemberId::new(id),
            period: period(),
            pv: Pv::from_hundredths(100 * id),
        })
    }));
    let chunks: Vec<Vec<Row>> = rows.chunks(per_page).map(<[Row]>::to_vec).collect();
    let pages = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, rows)| {
            codec::encode_page(&BootstrapPage {
                protocol: PROTOCOL,
                checkpoint: checkpoint.into(),
                page: i as u64,
                rows_total: 2 * n as u64,
                last: i + 1 == pages,
                rows,
            })
            .unwrap()
        })
        .collect()
}

fn downline(store: &Store, root: i64) -> BTreeSet<i64> {
    let page = store
        .downline(&DownlineQuery {
            root: MemberId::new(root),
            tree: Tree::Sponsor,
            period: period(),
            filter: Default::default(),
            sort: Sort::JoinDate,
            descending: false,
            after: None,
            limit: 1_000,
        })
        .unwrap();
    page.rows.iter().map(|r| r.id.get()).collect()
}

#[test]
fn a_bootstrap_cut_after_any_page_resumes_without_doubles_or_gaps() {
    let pages = snapshot("cp-1", 300, 70);
    for cut in 0..pages.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let key = CacheKey::generate().unwrap();
        let reopen = || Store::open(&path, CacheKey::from_slice(key.as_bytes()).unwrap()).unwrap();
        let store = reopen();
        for body in &pages[..=cut] {
            apply_page(&store, &codec::decode_page(body).unwrap(), NOW).unwrap();
        }
        drop(store); // the app is closed, the network lost
        let store = reopen();
        let resume_at = store
            .bootstrap_progress()
            .unwrap()
            .map_or(pages.len(), |p| p.next_page as usize);
        assert_eq!(resume_at, cut + 1, "cut after page {cut}");
        // The server resends the page it isn't sure arrived, then the rest.
        for body in &pages[cut..] {
            apply_page(&store, &codec::decode_page(body).unwrap(), NOW).unwrap();
        }
        // Even the first page again, after the whole snapshot is in, changes nothing.
        apply_page(&store, &codec::decode_page(&pages[0]).unwrap(), NOW).unwrap();
        let s = store.subtree(MemberId::new(1), period()).unwrap();
        assert_eq!(s.team_size, 299, "cut after page {cut}");
        assert_eq!(
            s.gv,
            (1..=300).map(|id| 100 * id).sum::<i64>(),
            "cut after page {cut}"
        );
        assert_eq!(store.sync_state().unwrap().cursor.as_deref(), Some("cp-1"));
    }
}

#[test]
fn a_page_of_another_snapshot_restarts_the_bootstrap() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.db"), CacheKey::generate().unwrap()).unwrap();
    let old = snapshot("cp-1", 100, 50);
    let new = snapshot("cp-2", 100, 50);
    apply_page(&store, &codec::decode_page(&old[0]).unwrap(), NOW).unwrap();
    let err = apply_page(&store, &codec::decode_page(&new[1]).unwrap(), NOW).unwrap_err();
    assert!(matches!(err, SyncError::Restart(_)), "{err:?}");
    for body in &new {
        apply_page(&store, &codec::decode_page(body).unwrap(), NOW).unwrap();
    }
    assert_eq!(
        store.subtree(MemberId::new(1), period()).unwrap().team_size,
        99
    );
}

#[test]
fn deltas_move_the_cursor_with_their_rows_and_a_team_leaving_vanishes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.db"), CacheKey::generate().unwrap()).unwrap();
    for body in snapshot("cp-1", 40, 100) {
        apply_page(&store, &codec::decode_page(&body).unwrap(), NOW).unwrap();
    }
    let before = downline(&store, 1);
    // Member 2's team (2, 5-7, 14-22) is moved away: the server sends removals, root first
    // (the client applies them deepest first), plus a new member elsewhere.
    let team: Vec<i64> = [2].into_iter().chain(downline(&store, 2)).collect();
    let mut ops: Vec<DeltaOp> = team
        .iter()
        .map(|&id| DeltaOp::RemoveMember(MemberId::new(id)))
        .collect();
    let mut newcomer = member(41);
    newcomer.sponsor = Some(MemberId::new(3));
    ops.push(DeltaOp::Put(Row::Member(Box::new(newcomer))));
    let batch = DeltaBatch {
        protocol: PROTOCOL,
        from: "cp-1".into(),
        to: "c-2".into(),
        ops,
        more: false,
        checksum: Some("sum-2".into()),
    };
    let body = codec::encode_delta(&batch).unwrap();
    apply_delta(&store, &codec::decode_delta(&body).unwrap(), NOW).unwrap();
    let after = downline(&store, 1);
    let expected: BTreeSet<i64> = before
        .iter()
        .copied()
        .filter(|id| !team.contains(id))
        .chain([41])
        .collect();
    assert_eq!(after, expected);
    for id in &team {
        assert!(
            store.member(MemberId::new(*id), period()).is_err(),
            "{id} is still cached"
        );
    }
    let state = store.sync_state().unwrap();
    assert_eq!(
        (state.cursor.as_deref(), state.checksum.as_deref()),
        (Some("c-2"), Some("sum-2"))
    );

    // The same batch again (a lost response): the cursor no longer matches, nothing changes.
    let err = apply_delta(&store, &batch, NOW).unwrap_err();
    assert!(matches!(err, SyncError::Restart(_)), "{err:?}");
    assert_eq!(downline(&store, 1), expected);
}

#[test]
fn a_batch_with_a_row_the_cache_refuses_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.db"), CacheKey::generate().unwrap()).unwrap();
    for body in snapshot("cp-1", 10, 100) {
        apply_page(&store, &codec::decode_page(&body).unwrap(), NOW).unwrap();
    }
    // A member moved under their own downline: impossible, and refused by the store.
    let mut looped = member(2);
    looped.sponsor = Some(MemberId::new(5));
    let batch = DeltaBatch {
        protocol: PROTOCOL,
        from: "cp-1".into(),
        to: "c-2".into(),
        ops: vec![
            DeltaOp::Put(Row::Member(Box::new(member(11)))),
            DeltaOp::Put(Row::Member(Box::new(looped))),
        ],
        more: false,
        checksum: None,
    };
    let err = apply_delta(&store, &batch, NOW).unwrap_err();
    assert!(
        err.to_string()
            .contains("can't move under their own downline"),
        "{err}"
    );
    assert!(
        store.member(MemberId::new(11), period()).is_err(),
        "half a batch was applied"
    );
    assert_eq!(store.sync_state().unwrap().cursor.as_deref(), Some("cp-1"));
}
