//! The screens' questions on a small known tree: search, downline pages (filters, sorts,
//! keyset paging), the member panel with and without personal fields, statements and rank
//! history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use canopy_core::{
    BasisPoints, CountryCode, Currency, EarningsKind, EarningsLine, EarningsLineId, EarningsSource,
    Email, MemberId, MemberStatus, Money, OrderId, PersonName, PersonalDetails, RankLevel,
};
use canopy_store::{DownlineFilter, DownlineQuery, Match, Sort, StatementStatus, Store, Tree};
use common::{fresh_store, member, period};

/// 1 at the top; 2..=40 below, each enrolled by `(id - 1) / 3 + 1`.
fn company() -> (tempfile::TempDir, Store) {
    let (dir, store) = fresh_store();
    store
        .write(|w| {
            for id in 1..=40 {
                let mut m = member(id, (id > 1).then_some((id - 2) / 3 + 1), (id % 4) as u16);
                if id % 2 == 0 {
                    m.personal = Some(PersonalDetails {
                        email: Some(Email::parse(&format!("person{id}@example.com")).unwrap()),
                        ..PersonalDetails::with_name(PersonName::parse("Zoë Müller").unwrap())
                    });
                }
                w.put_member(&m)?;
            }
            Ok(())
        })
        .unwrap();
    (dir, store)
}

fn query(root: i64) -> DownlineQuery {
    DownlineQuery {
        root: MemberId::new(root),
        tree: Tree::Sponsor,
        period: period(10),
        filter: DownlineFilter::default(),
        sort: Sort::JoinDate,
        descending: false,
        after: None,
        limit: 7,
    }
}

#[test]
fn search_finds_numbers_emails_and_names_and_nothing_else() {
    let (_dir, store) = company();
    let cases: &[(&str, &[i64], Match)] = &[
        ("1000-0012", &[12], Match::Number),
        ("10000003", &[3], Match::Number),
        (
            "1000003",
            &[30, 31, 32, 33, 34, 35, 36, 37, 38, 39],
            Match::Number,
        ),
        ("person1", &[10, 12, 14, 16, 18], Match::Email),
        ("PERSON22@", &[22], Match::Email),
        (
            "zoe mul",
            &[2, 4, 6, 8, 10, 12, 14, 16, 18, 20],
            Match::Name,
        ),
    ];
    for &(text, expected, matched) in cases {
        let hits = store.search(text, period(10), 10).unwrap();
        let ids: Vec<i64> = hits.iter().map(|h| h.member.id.get()).collect();
        let want: BTreeSet<i64> = expected.iter().copied().collect();
        assert_eq!(ids.iter().copied().collect::<BTreeSet<_>>(), want, "{text}");
        assert!(
            hits.iter().all(|h| h.matched == matched),
            "{text}: {hits:?}"
        );
    }
    for nothing in ["", "   ", "\"*) OR (", "qqqq"] {
        assert!(
            store.search(nothing, period(10), 10).unwrap().is_empty(),
            "{nothing:?}"
        );
    }
    let long = "a".repeat(201);
    assert!(store.search(&long, period(10), 10).is_err());
}

#[test]
fn downline_pages_follow_filters_sorts_and_cursors() {
    let (_dir, store) = company();
    // Everyone below 1, page by page, in join order, with no row twice or lost.
    let mut q = query(1);
    let mut seen = Vec::new();
    loop {
        let page = store.downline(&q).unwrap();
        assert!(page.rows.len() <= 7);
        seen.extend(page.rows.iter().map(|r| r.id.get()));
        match page.next {
            Some(next) => q.after = Some(next),
            None => break,
        }
    }
    let mut by_join: Vec<i64> = (2..=40).collect();
    by_join.sort_by_key(|&id| (member(id, None, 0).joined_on, id));
    assert_eq!(seen, by_join);

    // Levels 1-2 below member 2, highest rank first, only active ones.
    let mut q = query(2);
    q.filter = DownlineFilter {
        levels: Some((1, 2)),
        statuses: vec![MemberStatus::Active],
        ..DownlineFilter::default()
    };
    q.sort = Sort::Rank;
    q.descending = true;
    q.limit = 100;
    let rows = store.downline(&q).unwrap().rows;
    let ids: BTreeSet<i64> = rows.iter().map(|r| r.id.get()).collect();
    let want: BTreeSet<i64> = [5, 6, 7, 14, 15, 16, 17, 18, 19, 20, 21, 22]
        .into_iter()
        .filter(|id| id % 5 != 0)
        .collect();
    assert_eq!(ids, want);
    assert!(rows.windows(2).all(|w| w[0].rank >= w[1].rank));

    let mut bad = query(1);
    bad.limit = 0;
    assert!(store.downline(&bad).is_err());
    assert!(store.downline(&query(999)).is_err());
}

#[test]
fn the_member_panel_shows_personal_fields_only_where_sent() {
    let (_dir, store) = company();
    let with = store.member(MemberId::new(4), period(10)).unwrap();
    assert_eq!(
        with.personal.unwrap().email.as_deref(),
        Some("person4@example.com")
    );
    let without = store.member(MemberId::new(5), period(10)).unwrap();
    assert!(without.personal.is_none());
    // The server stops sending them (a role change): they vanish from the cache.
    store
        .write(|w| w.put_member(&member(4, Some(1), 0)))
        .unwrap();
    assert!(
        store
            .member(MemberId::new(4), period(10))
            .unwrap()
            .personal
            .is_none()
    );
    assert!(store.search("person4@", period(10), 10).unwrap().is_empty());
    let path: Vec<i64> = store
        .path_to(MemberId::new(40), period(10))
        .unwrap()
        .iter()
        .map(|r| r.id.get())
        .collect();
    assert_eq!(path, [1, 4, 13, 40]);
}

#[test]
fn statements_page_through_lines_traced_to_orders() {
    let (_dir, store) = company();
    let usd = Currency::parse("USD").unwrap();
    store
        .write(|w| {
            for id in 1..=25 {
                w.put_earnings_line(&EarningsLine {
                    id: EarningsLineId::new(id),
                    period: period(10),
                    member: MemberId::new(1),
                    amount: Money::new(100 * id, usd),
                    kind: EarningsKind::Unilevel,
                    source: EarningsSource {
                        order: Some(OrderId::new(1000 + id)),
                        member: Some(MemberId::new(id + 1)),
                        level: Some(1),
                        rule: "unilevel".into(),
                        rate: Some(BasisPoints::new(500)),
                    },
                })?;
            }
            w.put_statement(period(10), StatementStatus::Open, Money::new(32_500, usd))?;
            w.put_rank_history(MemberId::new(1), period(9), RankLevel::new(1))?;
            w.put_rank_history(MemberId::new(1), period(10), RankLevel::new(0))
        })
        .unwrap();
    let first = store.statement(period(10), None, 10).unwrap();
    assert_eq!(
        first.summary.total.to_string(),
        Money::new(32_500, usd).to_string()
    );
    assert_eq!(first.lines.len(), 10);
    assert_eq!(first.lines[0].order, Some(OrderId::new(1001)));
    assert_eq!(
        first.lines[0].source_name.as_deref(),
        Some(member(2, None, 0).display_name.as_str())
    );
    let rest = store.statement(period(10), first.next, 100).unwrap();
    assert_eq!(rest.lines.len(), 15);
    assert!(rest.next.is_none());
    assert!(
        store.statement(period(9), None, 10).is_err(),
        "no statement for September"
    );
    let history: Vec<(String, u16)> = store
        .rank_history(MemberId::new(1))
        .unwrap()
        .into_iter()
        .map(|h| (h.period.to_string(), h.rank.get()))
        .collect();
    assert_eq!(
        history,
        [("2026-09".to_owned(), 1), ("2026-10".to_owned(), 0)]
    );
}

/// Every sort, direction and plan against a sort in Rust, on a team big enough that the
/// store reads it through the sort's index (over 5,000 below the founder).
#[test]
fn every_sort_pages_exactly_like_a_naive_sort() {
    use std::collections::BTreeMap;
    let (_dir, store) = fresh_store();
    let n = 6_500i64;
    let sponsor = |id: i64| (id > 1).then_some((id - 2) / 4 + 1);
    store.bootstrap_begin("big", None, "t").unwrap();
    store
        .bootstrap_page(0, |b| {
            for id in 1..=n {
                b.member(&member(id, sponsor(id), (id % 5) as u16))?;
            }
            Ok(())
        })
        .unwrap();
    store.bootstrap_finish(&Default::default()).unwrap();

    // The naive model: depths and pre-order positions (children in id order).
    let mut children: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for id in 2..=n {
        children.entry(sponsor(id).unwrap()).or_default().push(id);
    }
    let (mut order, mut depth) = (BTreeMap::new(), BTreeMap::new());
    let mut stack = vec![(1i64, 0u32)];
    while let Some((v, d)) = stack.pop() {
        order.insert(v, order.len());
        depth.insert(v, d);
        for &c in children
            .get(&v)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .rev()
        {
            stack.push((c, d + 1));
        }
    }
    let below = |root: i64| -> Vec<i64> {
        let mut out = Vec::new();
        let mut stack = children.get(&root).cloned().unwrap_or_default();
        while let Some(v) = stack.pop() {
            out.push(v);
            stack.extend(children.get(&v).cloned().unwrap_or_default());
        }
        out
    };
    let sorts = [
        Sort::JoinDate,
        Sort::Name,
        Sort::Rank,
        Sort::Level,
        Sort::Country,
        Sort::Status,
    ];
    // Founder: the sort's index; member 3: a small team, its interval; levels 2-3 of the
    // founder: the (depth, pre) ranges; a rank filter: the candidates from the facets
    // index, sorted; a join-date filter: the sort's index, skipping in it.
    let levels = |from, to| DownlineFilter {
        levels: Some((from, to)),
        ..Default::default()
    };
    let ranked = DownlineFilter {
        ranks: vec![RankLevel::new(3), RankLevel::new(1)],
        countries: vec![CountryCode::parse("US").unwrap()],
        ..Default::default()
    };
    let joined = DownlineFilter {
        joined_from: Some(time::macros::date!(2024 - 06 - 01)),
        joined_to: Some(time::macros::date!(2024 - 07 - 15)),
        ..Default::default()
    };
    let cases = [
        (1, DownlineFilter::default()),
        (3, DownlineFilter::default()),
        (1, levels(2, 3)),
        (1, ranked),
        (3, joined.clone()),
        (1, joined),
    ];
    for (root, filter) in cases {
        for sort in sorts {
            for descending in [false, true] {
                let m = |id: i64| member(id, sponsor(id), (id % 5) as u16);
                let mut want: Vec<i64> = below(root)
                    .into_iter()
                    .filter(|v| {
                        let x = m(*v);
                        filter
                            .levels
                            .is_none_or(|(a, b)| (a..=b).contains(&(depth[v] - depth[&root])))
                            && (filter.ranks.is_empty() || filter.ranks.contains(&x.rank.level))
                            && (filter.countries.is_empty()
                                || filter.countries.contains(&x.country))
                            && filter.joined_from.is_none_or(|d| x.joined_on >= d)
                            && filter.joined_to.is_none_or(|d| x.joined_on <= d)
                    })
                    .collect();
                want.sort_by_key(|&id| {
                    let x = m(id);
                    let key = match sort {
                        Sort::JoinDate => x.joined_on.to_string(),
                        Sort::Name => x.display_name.as_str().to_ascii_lowercase(),
                        Sort::Rank => format!("{:05}", x.rank.level.get()),
                        Sort::Level => format!("{:05}", depth[&id]),
                        Sort::Country => x.country.as_str().to_owned(),
                        Sort::Status => format!("{:?}", x.status).to_lowercase(),
                        _ => unreachable!(),
                    };
                    let tie = if sort == Sort::Level {
                        order[&id] as i64
                    } else {
                        id
                    };
                    (key, tie)
                });
                if descending {
                    want.reverse();
                }
                let mut q = query(root);
                q.sort = sort;
                q.descending = descending;
                q.limit = 400;
                q.filter = filter.clone();
                let mut got = Vec::new();
                loop {
                    let page = store.downline(&q).unwrap();
                    got.extend(page.rows.iter().map(|r| r.id.get()));
                    match page.next {
                        Some(next) => q.after = Some(next),
                        None => break,
                    }
                }
                assert!(
                    !want.is_empty(),
                    "{root} {filter:?}: the case must hold rows"
                );
                assert_eq!(
                    got.len(),
                    want.len(),
                    "{root} {sort:?} {descending} {filter:?}"
                );
                assert!(
                    got == want,
                    "{root} {sort:?} desc={descending} {filter:?}: order differs"
                );
            }
        }
    }
}
