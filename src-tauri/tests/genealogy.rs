//! The genealogy command's work over a real cache bootstrapped from the real server:
//! paging a manager's whole downline through the command's cursors gives exactly the
//! server's scope, in order; filters narrow it; levels count from the list's root; a
//! damaged cursor or a member outside the cache is a clear error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use canopy_app::commands::genealogy::downline;
use canopy_core::Role;
use canopy_core::ipc::{CommandError, DownlineFilterView, DownlineRequest, SortKey};
use canopy_sync::ServerClient;
use common::{NOW, account, company, fresh_store, member_of, scope_of, serve, sign_in};

#[tokio::test(flavor = "multi_thread")]
async fn pages_of_the_downline_cover_the_scope_in_order_and_filters_narrow_them() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let token = sign_in(&p, account(&c, Role::Manager)).await;
    let store = fresh_store(c.dir.path(), "manager.db");
    ServerClient::new(&p)
        .unwrap()
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
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
