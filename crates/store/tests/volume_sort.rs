//! The downline sorted by personal and group volume, paged through cursor tokens, against a
//! sort in Rust of the same rows: negative, zero and positive volumes, members without a
//! volume row in the period, filters, both directions, big teams and small ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use canopy_core::{MemberId, MemberStatus, Pv, RankLevel};
use canopy_store::{Cursor, DownlineFilter, DownlineQuery, Sort, Store, Tree};
use common::{fresh_store, member, period};

const N: i64 = 6_500;

fn sponsor(id: i64) -> Option<i64> {
    (id > 1).then_some((id - 2) / 4 + 1)
}

/// The PV each member orders in October (hundredths), or `None` for no row at all: a third
/// without a row, some explicit zeros, a few returns (negative), the rest positive with
/// many ties.
fn october_pv(id: i64) -> Option<i64> {
    match id % 9 {
        0 | 4 | 7 => None,
        1 => Some(0),
        5 if id % 2 == 0 => Some(-(id % 7 + 1) * 100),
        _ => Some((id % 13) * 2_500),
    }
}

/// 6,500 members, each enrolled by `(id - 2) / 4 + 1`, with October's volumes; November has
/// no volume rows at all.
fn company() -> (tempfile::TempDir, Store) {
    let (dir, store) = fresh_store();
    store.bootstrap_begin("volumes", None, "t").unwrap();
    store
        .bootstrap_page(0, |b| {
            for id in 1..=N {
                b.member(&member(id, sponsor(id), (id % 5) as u16))?;
            }
            for id in 1..=N {
                if let Some(pv) = october_pv(id) {
                    b.volume(MemberId::new(id), period(10), Pv::from_hundredths(pv))?;
                }
            }
            Ok(())
        })
        .unwrap();
    store.bootstrap_finish(&Default::default()).unwrap();
    (dir, store)
}

/// Every page of `q`, each next one asked for with the previous page's cursor token, as
/// the UI does.
fn all_pages(store: &Store, mut q: DownlineQuery) -> Vec<(i64, i64, i64)> {
    let mut got = Vec::new();
    loop {
        let page = store.downline(&q).unwrap();
        assert!(page.rows.len() <= q.limit as usize);
        got.extend(page.rows.iter().map(|r| (r.id.get(), r.pv, r.gv)));
        match page.next {
            Some(next) => q.after = Some(Cursor::from_token(&next.token()).unwrap()),
            None => break,
        }
    }
    got
}

#[test]
fn volume_sorts_page_exactly_like_a_naive_sort() {
    let (_dir, store) = company();

    // The model: everyone's PV and GV in October (GV: own PV plus the whole downline's).
    let mut gv: BTreeMap<i64, i64> = (1..=N).map(|id| (id, 0)).collect();
    for id in (1..=N).rev() {
        let own = october_pv(id).unwrap_or(0) + gv[&id];
        gv.insert(id, own);
        if let Some(s) = sponsor(id) {
            *gv.get_mut(&s).unwrap() += own;
        }
    }
    let pv = |id: i64| october_pv(id).unwrap_or(0);
    assert!(
        gv.values().any(|&v| v < 0),
        "the data must hold negative GVs"
    );
    let below = |root: i64| -> Vec<i64> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            let first = (v - 1) * 4 + 2;
            for c in first..first + 4 {
                if c <= N {
                    out.push(c);
                    stack.push(c);
                }
            }
        }
        out
    };

    let active = DownlineFilter {
        statuses: vec![MemberStatus::Active],
        ..Default::default()
    };
    let ranked = DownlineFilter {
        ranks: vec![RankLevel::new(2)],
        ..Default::default()
    };
    // The founder's team is read run by run; member 3's (about 1,600) is sorted whole; a
    // rank filter's candidates are read from the facets index and sorted.
    let cases = [
        (1, ranked, 10),
        (1, DownlineFilter::default(), 10),
        (1, DownlineFilter::default(), 11),
        (1, active.clone(), 10),
        (3, DownlineFilter::default(), 10),
        (3, active, 10),
    ];
    for (root, filter, month) in cases {
        for sort in [Sort::GroupVolume, Sort::PersonalVolume] {
            for descending in [false, true] {
                // Page sizes that cross the runs' boundaries mid-page, and one that is big.
                for limit in [37, 1_000] {
                    let mut want: Vec<(i64, i64, i64)> = below(root)
                        .into_iter()
                        .filter(|&id| {
                            (filter.statuses.is_empty()
                                || member(id, sponsor(id), 0).status == MemberStatus::Active)
                                && (filter.ranks.is_empty()
                                    || filter.ranks.contains(&RankLevel::new((id % 5) as u16)))
                        })
                        .map(|id| {
                            if month == 10 {
                                (id, pv(id), gv[&id])
                            } else {
                                (id, 0, 0)
                            }
                        })
                        .collect();
                    // Ties (zero above all: no row and an explicit zero alike) by member id.
                    want.sort_by_key(|&(id, pv, gv)| {
                        let value = if sort == Sort::GroupVolume { gv } else { pv };
                        (value, id)
                    });
                    if descending {
                        want.reverse();
                    }
                    let q = DownlineQuery {
                        root: MemberId::new(root),
                        tree: Tree::Sponsor,
                        period: period(month),
                        filter: filter.clone(),
                        sort,
                        descending,
                        after: None,
                        limit,
                    };
                    let got = all_pages(&store, q);
                    let what = format!("root {root} {sort:?} desc={descending} limit {limit}");
                    assert_eq!(got.len(), want.len(), "{what}");
                    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
                        panic!(
                            "{what} {:?}: row {i} is {:?}, want {:?}",
                            filter.statuses, got[i], want[i]
                        );
                    }
                }
            }
        }
    }
}

/// A cursor whose value is not a volume is refused, not guessed at.
#[test]
fn a_volume_cursor_must_hold_a_volume() {
    let (_dir, store) = company();
    let q = DownlineQuery {
        root: MemberId::new(1),
        tree: Tree::Sponsor,
        period: period(10),
        filter: DownlineFilter::default(),
        sort: Sort::GroupVolume,
        descending: true,
        after: Some(Cursor::from_token("t:lots:12").unwrap()),
        limit: 50,
    };
    let err = store.downline(&q).unwrap_err();
    assert!(err.to_string().contains("start again"), "{err}");
}
