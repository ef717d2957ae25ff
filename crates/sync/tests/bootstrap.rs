//! Bootstrap end to end: the real server (seeded demo company, SQLite) over real TLS with
//! pins, signed in as the demo distributor, manager and admin, into real SQLCipher caches.
//! Each cache holds exactly the scope a direct server-side query gives, with exactly the
//! personal fields `rbac` allows; a bootstrap cut by a server restart resumes where it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use canopy_core::{MemberId, Period, Role};
use canopy_server::rbac::{self, Relation};
use canopy_sync::ServerClient;
use common::{
    MEMBERS, NOW, account, admin_revokes, cached_ids, company, fresh_store, member_of, scope_of,
    serve, sign_in, sign_in_with_device,
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn each_role_bootstraps_exactly_its_scope_and_the_fields_it_may_see() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let period = Period::parse("2026-10").unwrap();
    for role in [Role::Distributor, Role::Manager, Role::Admin] {
        let demo = account(&c, role);
        let token = sign_in(&p, demo).await;
        let store = fresh_store(c.dir.path(), &format!("{role:?}.db"));
        let mut pages = Vec::new();
        client
            .bootstrap(&store, &token, NOW, |progress| {
                pages.push(progress);
                ControlFlow::Continue(())
            })
            .await
            .unwrap();
        let me = c
            .storage
            .find_account_by_email(&demo.email)
            .await
            .unwrap()
            .unwrap()
            .member;
        let root = if role == Role::Admin { None } else { me };
        let expected = scope_of(&*c.storage, root).await;
        assert_eq!(cached_ids(&store), expected, "{role:?}'s scope");
        let last = pages.last().unwrap();
        assert_eq!(
            (last.rows_done, last.rows_total),
            (expected.len() as u64, expected.len() as u64)
        );
        assert!(
            pages.windows(2).all(|w| w[0].rows_done < w[1].rows_done),
            "{pages:?}"
        );

        // Every member's personal fields: exactly what rbac allows, as the server has them.
        let (mut shown, mut hidden) = (0, 0);
        for &id in &expected {
            let record = c
                .storage
                .find_member(MemberId::new(id))
                .await
                .unwrap()
                .unwrap();
            let relation = if Some(record.id) == me {
                Relation::Own
            } else if record.sponsor.is_some() && record.sponsor == me {
                Relation::PersonallyEnrolled
            } else {
                Relation::Downline
            };
            let allowed = c
                .storage
                .find_member_personal(record.id)
                .await
                .unwrap()
                .and_then(|d| rbac::minimise(d, rbac::visibility(role, relation)));
            let cached = store.member(MemberId::new(id), period).unwrap().personal;
            match (&allowed, &cached) {
                (None, None) => hidden += 1,
                (Some(a), Some(got)) => {
                    shown += 1;
                    assert_eq!(got.legal_name, a.legal_name.to_string(), "{role:?} {id}");
                    assert_eq!(
                        got.email,
                        a.email.as_ref().map(|e| e.to_string()),
                        "{role:?} {id}"
                    );
                    assert_eq!(got.address, a.address, "{role:?} {id}");
                    assert_eq!(
                        got.date_of_birth,
                        a.date_of_birth.map(canopy_core::format_date),
                        "{role:?} {id}"
                    );
                    assert_eq!(
                        got.tax_id,
                        a.tax_id.as_ref().map(|t| t.to_string()),
                        "{role:?} {id}"
                    );
                }
                _ => panic!("{role:?} {id}: allowed {allowed:?}, cached {cached:?}"),
            }
        }
        match role {
            Role::Distributor => assert!(shown >= 1 && hidden > 0, "{shown}/{hidden}"),
            Role::Manager | Role::Admin => assert!(shown > 0, "{role:?}: {shown}/{hidden}"),
        }
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bootstrap_cut_by_a_server_restart_resumes_without_doubles_or_gaps() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let token = sign_in(&p, account(&c, Role::Admin)).await;
    let store = fresh_store(c.dir.path(), "admin.db");
    let mut first_run = Vec::new();
    ServerClient::new(&p)
        .unwrap()
        .bootstrap(&store, &token, NOW, |progress| {
            first_run.push(progress);
            ControlFlow::Break(()) // the network drops after the first page
        })
        .await
        .unwrap();
    assert_eq!(first_run.len(), 1);
    assert_eq!(store.bootstrap_progress().unwrap().unwrap().next_page, 1);
    running.shutdown().await.unwrap();

    // The server comes back (another port, the same database); the session survived.
    let (running, p) = serve(&c).await;
    let mut second_run = Vec::new();
    ServerClient::new(&p)
        .unwrap()
        .bootstrap(&store, &token, NOW, |progress| {
            second_run.push(progress);
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    assert_eq!(
        second_run.first().unwrap().page,
        1,
        "resumed at the next page"
    );
    assert_eq!(
        cached_ids(&store),
        (1..=MEMBERS as i64).collect::<BTreeSet<_>>()
    );
    assert!(store.bootstrap_progress().unwrap().is_none());
    let root = store
        .subtree(MemberId::new(1), Period::parse("2026-10").unwrap())
        .unwrap();
    assert_eq!(root.team_size, MEMBERS as u64 - 1);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_moved_away_vanishes_from_the_managers_cache_on_the_next_delta() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let period = Period::parse("2026-10").unwrap();
    let mut caches = Vec::new();
    for role in [Role::Manager, Role::Admin] {
        let token = sign_in(&p, account(&c, role)).await;
        let store = fresh_store(c.dir.path(), &format!("{role:?}.db"));
        client
            .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
            .await
            .unwrap();
        caches.push((role, token, store));
    }
    let manager = member_of(&c, Role::Manager).await;
    // One of the manager's enrollees with a team of their own moves to the founder.
    let (_, _, manager_cache) = &caches[0];
    let leg = manager_cache
        .children(manager, period)
        .unwrap()
        .into_iter()
        .max_by_key(|r| r.team_size)
        .unwrap();
    let team: BTreeSet<i64> = scope_of(&*c.storage, Some(leg.id)).await;
    assert!(team.len() > 1, "the leg has a team");
    let (_, admin_token, admin_cache) = &caches[1];
    let moved: Value = reqwest::Client::builder()
        .use_preconfigured_tls(canopy_sync::tls::client_config(&p).unwrap())
        .build()
        .unwrap()
        .post(format!(
            "{}/v1/admin/members/{}/move",
            p.server_url,
            leg.id.get()
        ))
        .bearer_auth(admin_token)
        .json(&json!({"sponsor_id": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["members_moved"], team.len(), "{moved}");

    let before = cached_ids(manager_cache);
    let (_, manager_token, _) = &caches[0];
    let applied = client
        .pull_changes(manager_cache, manager_token, NOW)
        .await
        .unwrap();
    assert_eq!(applied, team.len() as u64);
    let after = cached_ids(manager_cache);
    assert_eq!(
        after,
        before.difference(&team).copied().collect::<BTreeSet<_>>()
    );
    assert_eq!(after, scope_of(&*c.storage, Some(manager)).await);
    let summary = manager_cache.subtree(manager, period).unwrap();
    assert_eq!(summary.team_size, after.len() as u64 - 1);

    // The admin still sees everyone, the leg now under the founder.
    client
        .pull_changes(admin_cache, admin_token, NOW)
        .await
        .unwrap();
    assert_eq!(cached_ids(admin_cache).len(), MEMBERS);
    let row = admin_cache.member(leg.id, period).unwrap().row;
    assert_eq!(row.sponsor, Some(MemberId::new(1)));
    assert_eq!(row.team_size, team.len() as u64 - 1);
    // Nothing more to pull: the cursor is at the end.
    assert_eq!(
        client
            .pull_changes(admin_cache, admin_token, NOW)
            .await
            .unwrap(),
        0
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_device_is_told_so_and_its_cache_is_wiped() {
    use canopy_store::{KdfParams, NoKeychain, Vault};
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let (token, device) = sign_in_with_device(&p, account(&c, Role::Distributor)).await;
    let vault = Vault::new(c.dir.path().join("laptop"), Box::new(NoKeychain));
    let store = vault
        .create(
            "a device password",
            KdfParams::DEFAULT,
            std::time::SystemTime::now(),
        )
        .unwrap();
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();

    // The laptop is reported stolen: an admin revokes it.
    admin_revokes(&c, &p, device).await;

    let err = client.pull_changes(&store, &token, NOW).await.unwrap_err();
    assert!(
        matches!(err, canopy_sync::SyncError::DeviceRevoked),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    // What the app does on that answer: the remote wipe.
    vault.wipe(Some(store)).unwrap();
    assert!(!vault.exists());
    assert!(!vault.db_path().exists());
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn verification_catches_a_drifted_cache_and_a_scope_shrunk_by_a_role_change() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();

    // A healthy cache verifies, and the match is recorded.
    let token = sign_in(&p, account(&c, Role::Manager)).await;
    let store = fresh_store(c.dir.path(), "manager.db");
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    client.pull_and_verify(&store, &token, NOW).await.unwrap();
    let verified = store.sync_state().unwrap().checksum.unwrap();
    assert_eq!(verified, store.scope_checksum().unwrap());

    // A member lost behind the app's back: the next verification says bootstrap again,
    // and the bootstrap brings the cache back to the server's scope.
    let manager = member_of(&c, Role::Manager).await;
    let scope = scope_of(&*c.storage, Some(manager)).await;
    let lost = *scope.iter().next_back().unwrap();
    store
        .write(|w| w.remove_member(MemberId::new(lost)))
        .unwrap();
    let err = client
        .pull_and_verify(&store, &token, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, canopy_sync::SyncError::Restart(_)), "{err}");
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    assert_eq!(cached_ids(&store), scope);
    client.pull_and_verify(&store, &token, NOW).await.unwrap();

    // The admin's whole-company cache, then the admin demoted to distributor: no member
    // changed, so no delta would say so, but the cursor was issued for the admin's scope,
    // so the next sync bootstraps again, and the cache keeps only what a distributor may
    // see (here the same members, far fewer personal fields).
    let admin = account(&c, Role::Admin);
    let account_id = c
        .storage
        .find_account_by_email(&admin.email)
        .await
        .unwrap()
        .unwrap()
        .id;
    let token = sign_in(&p, admin).await;
    let store = fresh_store(c.dir.path(), "admin.db");
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let with_personal = |store: &canopy_store::Store| {
        cached_ids(store)
            .into_iter()
            .filter(|&id| {
                store
                    .member(
                        MemberId::new(id),
                        canopy_core::Period::parse("2026-10").unwrap(),
                    )
                    .unwrap()
                    .personal
                    .is_some()
            })
            .count()
    };
    let before = with_personal(&store);
    assert!(
        before > MEMBERS / 2,
        "an admin sees personal fields: {before}"
    );
    c.storage
        .set_role(account_id, Role::Distributor)
        .await
        .unwrap();
    let err = client.pull_changes(&store, &token, NOW).await.unwrap_err();
    assert!(matches!(err, canopy_sync::SyncError::Restart(_)), "{err}");
    client
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let after = with_personal(&store);
    assert!(
        after < before / 10,
        "a distributor sees far fewer: {after} of {before}"
    );
    client.pull_and_verify(&store, &token, NOW).await.unwrap();
    running.shutdown().await.unwrap();
}
