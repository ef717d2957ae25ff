//! The genealogy commands' work over a real cache bootstrapped from the real server:
//! paging a manager's whole downline through the command's cursors gives exactly the
//! server's scope, in order; filters narrow it; levels count from the list's root; a
//! damaged cursor or a member outside the cache is a clear error. For a distributor: the
//! tree's children pages, search, the member panel (contact fields exactly where the
//! server sent them) and the breadcrumbs from the user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;

use canopy_app::commands::genealogy::{children, detail, downline, path, search};
use canopy_core::ipc::{
    ChildrenRequest, CommandError, DownlineFilterView, DownlineRequest, MemberRowView, SearchMatch,
    SearchRequest, SortKey, TreeKind,
};
use canopy_core::{MemberId, Period, Role};
use common::{cached, cached_ids, company, member_of, scope_of, serve};

#[tokio::test(flavor = "multi_thread")]
async fn pages_of_the_downline_cover_the_scope_in_order_and_filters_narrow_them() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let (store, _token) = cached(&c, &p, Role::Manager, "manager.db").await;
    running.shutdown().await.unwrap();
    let me = member_of(&c, Role::Manager).await;
    let today = time::macros::date!(2026 - 11 - 21);

    // The whole downline by name, 500 at a time: every member once, sorted.
    let mut request = DownlineRequest {
        sort: SortKey::Name,
        limit: 500,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = downline(&store, &request, today).unwrap();
        seen.extend(page.rows);
        match page.next {
            Some(next) => request.after = Some(next),
            None => break,
        }
    }
    let ids: BTreeSet<i64> = seen.iter().map(|r| r.id).collect();
    let mut scope = scope_of(&*c.storage, Some(me)).await;
    scope.remove(&me.get());
    assert_eq!(ids.len(), seen.len(), "no member twice");
    assert_eq!(ids, scope, "exactly the downline");
    let names: Vec<String> = seen.iter().map(|r| r.display_name.to_lowercase()).collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "sorted by name");
    assert!(seen.iter().all(|r| r.level >= 1));

    // Direct enrollees only: level 1, sponsored by the manager.
    let firsts = downline(
        &store,
        &DownlineRequest {
            filter: DownlineFilterView {
                levels: Some((1, 1)),
                ..Default::default()
            },
            limit: 1_000,
            ..Default::default()
        },
        today,
    )
    .unwrap();
    let children: BTreeSet<i64> = store
        .children(me, canopy_core::Period::parse("2026-11").unwrap())
        .unwrap()
        .into_iter()
        .map(|r| r.id.get())
        .collect();
    assert!(!children.is_empty());
    assert_eq!(
        firsts.rows.iter().map(|r| r.id).collect::<BTreeSet<_>>(),
        children
    );
    assert!(firsts.rows.iter().all(|r| r.level == 1));

    // Bad input is a clear error, not a panic or an empty page.
    let bad = |request: DownlineRequest| downline(&store, &request, today).unwrap_err();
    assert!(matches!(
        bad(DownlineRequest {
            after: Some("i:x:1".into()),
            ..Default::default()
        }),
        CommandError::Invalid(_)
    ));
    assert!(matches!(
        bad(DownlineRequest {
            root: Some(999_999),
            ..Default::default()
        }),
        CommandError::Invalid(_)
    ));
    assert!(matches!(
        bad(DownlineRequest {
            filter: DownlineFilterView {
                countries: vec!["Atlantis".into()],
                ..Default::default()
            },
            ..Default::default()
        }),
        CommandError::Invalid(_)
    ));
}

/// Every child of `parent` in `tree`, paged `per_page` at a time through the command.
fn all_children(
    store: &canopy_store::Store,
    parent: i64,
    tree: TreeKind,
    per_page: u32,
) -> Vec<MemberRowView> {
    let mut request = ChildrenRequest {
        parent,
        tree,
        limit: per_page,
        ..Default::default()
    };
    let mut out = Vec::new();
    loop {
        let page = children(store, &request, TODAY).unwrap();
        assert!(page.rows.len() <= per_page as usize);
        out.extend(page.rows);
        match page.next {
            Some(next) => request.after = Some(next),
            None => return out,
        }
    }
}

const TODAY: time::Date = time::macros::date!(2026 - 11 - 21);

#[tokio::test(flavor = "multi_thread")]
async fn a_distributor_browses_the_tree_searches_and_opens_members() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let (store, _token) = cached(&c, &p, Role::Distributor, "distributor.db").await;
    running.shutdown().await.unwrap();
    let me = member_of(&c, Role::Distributor).await;
    let period = Period::parse("2026-11").unwrap();
    let cached = cached_ids(&store);

    // The tree's first level, two at a time: exactly the enrollees, in order, each once.
    let firsts = all_children(&store, me.get(), TreeKind::Sponsor, 1);
    let enrollees: Vec<i64> = store
        .children(me, period)
        .unwrap()
        .iter()
        .map(|r| r.id.get())
        .collect();
    assert!(!enrollees.is_empty(), "the demo distributor has a team");
    assert_eq!(firsts.iter().map(|r| r.id).collect::<Vec<_>>(), enrollees);
    assert!(firsts.iter().all(|r| r.level == 1));
    // The placement tree's children, by position, with "has children" of that tree.
    let placed = all_children(&store, me.get(), TreeKind::Placement, 1);
    let expected: Vec<i64> = store
        .placement_children(me, period)
        .unwrap()
        .iter()
        .map(|r| r.id.get())
        .collect();
    assert_eq!(placed.iter().map(|r| r.id).collect::<Vec<_>>(), expected);
    for row in &placed {
        let below = store
            .placement_children(MemberId::new(row.id), period)
            .unwrap();
        assert_eq!(row.has_children, !below.is_empty(), "{}", row.display_name);
    }

    // A grandchild: enrolled by one of the distributor's own enrollees.
    let child = firsts
        .iter()
        .find(|r| r.has_children)
        .expect("an enrollee with a team");
    let grandchild = all_children(&store, child.id, TreeKind::Sponsor, 200)
        .into_iter()
        .next()
        .unwrap();

    // The panel: the user and their own enrollees come with contact fields, the rest of
    // the downline without, exactly as the server sent them.
    let mine = detail(&store, me.get(), None, TODAY).unwrap();
    assert_eq!(mine.member.id, me.get());
    assert_eq!(mine.member.level, 0);
    assert!(mine.contact.is_some(), "the user's own details");
    assert_eq!(mine.subtree.team_size, cached.len() as u64 - 1);
    assert_eq!(mine.subtree.legs_total, enrollees.len() as u64);
    assert_eq!(
        mine.subtree.legs.iter().map(|l| l.members).sum::<u64>(),
        mine.subtree.team_size,
        "the legs make up the team"
    );
    assert!(mine.sponsor.is_none(), "the upline is not in the cache");
    let enrolled = detail(&store, child.id, None, TODAY).unwrap();
    let sent = c
        .storage
        .find_member_personal(MemberId::new(child.id))
        .await
        .unwrap();
    assert!(sent.is_some(), "the demo has personal details on file");
    assert_eq!(enrolled.contact.is_some(), sent.is_some());
    if let (Some(contact), Some(sent)) = (&enrolled.contact, &sent) {
        assert_eq!(contact.legal_name, sent.legal_name.as_str());
        assert!(contact.tax_id.is_none(), "no tax id below full visibility");
    }
    assert_eq!(enrolled.sponsor.as_ref().map(|s| s.id), Some(me.get()));
    assert_eq!(enrolled.member.level, 1);
    let below = detail(&store, grandchild.id, Some("2026-11"), TODAY).unwrap();
    assert_eq!(below.member.number, grandchild.number);
    assert_eq!(below.member.level, 2);
    assert!(below.contact.is_none(), "no contact fields deeper down");
    assert!(
        store
            .member(MemberId::new(grandchild.id), period)
            .unwrap()
            .personal
            .is_none()
    );

    // Breadcrumbs: from the user down to the member.
    let crumbs = path(&store, Some(grandchild.id), TODAY).unwrap();
    let ids: Vec<i64> = crumbs.members.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![me.get(), child.id, grandchild.id]);
    assert_eq!(
        crumbs.members.iter().map(|m| m.level).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert_eq!(
        path(&store, None, TODAY)
            .unwrap()
            .members
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![me.get()]
    );

    // Search: part of a name, and an exact member number.
    let find = |query: &str| {
        search(
            &store,
            &SearchRequest {
                query: query.into(),
                limit: 100,
                ..Default::default()
            },
            TODAY,
        )
        .unwrap()
    };
    let words: Vec<&str> = grandchild.display_name.split_whitespace().collect();
    let partial = match words.as_slice() {
        [first, second, ..] => format!("{first} {}", second.chars().take(3).collect::<String>()),
        _ => grandchild.display_name.chars().take(4).collect(),
    };
    let by_name = find(&partial);
    assert!(
        by_name.iter().any(|h| h.member.id == grandchild.id),
        "{partial:?} finds {}",
        grandchild.display_name
    );
    assert!(by_name.iter().all(|h| cached.contains(&h.member.id)));
    let by_number = find(&grandchild.number);
    assert_eq!(by_number[0].member.id, grandchild.id);
    assert_eq!(by_number[0].matched, SearchMatch::Number);
    assert_eq!(by_number[0].member.level, 2);
    // Someone outside the distributor's scope is not found, by number or by name.
    let outside = (1..=common::MEMBERS as i64)
        .find(|id| !cached.contains(id))
        .unwrap();
    let stranger = c
        .storage
        .find_member(MemberId::new(outside))
        .await
        .unwrap()
        .unwrap();
    let hits = find(stranger.number.as_str());
    assert!(hits.iter().all(|h| h.member.id != outside));
    assert!(
        find(stranger.display_name.as_str())
            .iter()
            .all(|h| cached.contains(&h.member.id))
    );
    assert!(find("   ").is_empty());

    // Bad input is a clear error, never a panic.
    let not_cached = CommandError::Invalid("That member is not in this device's cache".into());
    for id in [outside, 999_999, -1, 0] {
        assert_eq!(detail(&store, id, None, TODAY).unwrap_err(), not_cached);
        assert_eq!(path(&store, Some(id), TODAY).unwrap_err(), not_cached);
        let request = ChildrenRequest {
            parent: id,
            ..Default::default()
        };
        assert_eq!(children(&store, &request, TODAY).unwrap_err(), not_cached);
    }
    let invalid = |e: CommandError| matches!(e, CommandError::Invalid(m) if !m.is_empty());
    assert!(invalid(
        detail(&store, me.get(), Some("November"), TODAY).unwrap_err()
    ));
    assert!(invalid(
        children(
            &store,
            &ChildrenRequest {
                parent: me.get(),
                after: Some("junk".into()),
                ..Default::default()
            },
            TODAY
        )
        .unwrap_err()
    ));
    assert!(invalid(
        children(
            &store,
            &ChildrenRequest {
                parent: me.get(),
                limit: 5_000,
                ..Default::default()
            },
            TODAY
        )
        .unwrap_err()
    ));
    assert!(invalid(
        search(
            &store,
            &SearchRequest {
                query: "x".repeat(500),
                ..Default::default()
            },
            TODAY
        )
        .unwrap_err()
    ));
}
