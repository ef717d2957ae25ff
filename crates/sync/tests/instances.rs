//! Two server instances on one database, as behind a load balancer: a session made on one
//! works on the other, a push whose answer was lost and is sent again to the other instance
//! is applied once, pushes racing through both are all applied with distinct ids, and the
//! change log both write reaches a device syncing from either. Runs on SQLite (two
//! connections to one file) and, in `cargo xtask test`'s second pass, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use canopy_core::provisioning::Provisioning;
use canopy_core::sync::push::{Command, Outcome, PushCommand, PushRequest, PushResponse};
use canopy_core::{IdempotencyKey, MemberId, Period, Role};
use canopy_server::storage::Tree;
use canopy_sync::ServerClient;
use common::{NOW, account, company, enrollment_form, fresh_store, member_of, serve, sign_in};

fn key(instance: u8, n: u32) -> IdempotencyKey {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes[14] = instance;
    bytes[15] = 0x1B;
    IdempotencyKey::from_random_bytes(bytes)
}

/// `count` enrollments under `sponsor`, numbered from `first`, keyed for `instance`.
fn enrollments(instance: u8, sponsor: MemberId, first: u32, count: u32) -> PushRequest {
    PushRequest {
        commands: (first..first + count)
            .map(|n| PushCommand {
                key: key(instance, n),
                command: Command::Enroll(Box::new(enrollment_form(sponsor.get(), n))),
            })
            .collect(),
    }
}

async fn push(p: &Provisioning, token: &str, request: &PushRequest) -> PushResponse {
    let response = reqwest::Client::builder()
        .use_preconfigured_tls(canopy_sync::tls::client_config(p).unwrap())
        .build()
        .unwrap()
        .post(format!("{}/v1/sync/push", p.server_url))
        .bearer_auth(token)
        .json(request)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

fn member_refs(response: &PushResponse) -> Vec<String> {
    response
        .results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Applied { server_ref } => server_ref.clone(),
            other => panic!("not applied: {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_sessions_idempotency_keys_and_the_change_log() {
    let c = company().await;
    let (first, p_a) = serve(&c).await;
    let (second, p_b) = serve(&c).await;
    assert_ne!(p_a.server_url, p_b.server_url);
    let me = member_of(&c, Role::Distributor).await;
    let team_before = c.storage.count_downline(me, Tree::Sponsor).await.unwrap();

    // Signed in on the first instance; the second takes the same token (sessions live in
    // the database, not in either process) and bootstraps the device.
    let token = sign_in(&p_a, account(&c, Role::Distributor)).await;
    let store = fresh_store(c.dir.path(), "rep.db");
    ServerClient::new(&p_b)
        .unwrap()
        .bootstrap(&store, &token, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();

    // A push applied by the first instance whose answer was lost, sent again to the
    // second: the same answers, nothing applied twice.
    let request = enrollments(1, me, 0, 40);
    let answered = push(&p_a, &token, &request).await;
    let again = push(&p_b, &token, &request).await;
    assert_eq!(member_refs(&answered), member_refs(&again));
    assert_eq!(
        c.storage.count_downline(me, Tree::Sponsor).await.unwrap(),
        team_before + 40
    );

    // Pushes racing through both instances at once: every one applied, no id given twice.
    let (left, right) = tokio::join!(
        async {
            let mut refs = Vec::new();
            for batch in 0..5 {
                let request = enrollments(2, me, 1_000 + batch * 30, 30);
                refs.extend(member_refs(&push(&p_a, &token, &request).await));
            }
            refs
        },
        async {
            let mut refs = Vec::new();
            for batch in 0..5 {
                let request = enrollments(3, me, 2_000 + batch * 30, 30);
                refs.extend(member_refs(&push(&p_b, &token, &request).await));
            }
            refs
        },
    );
    let all: BTreeSet<&String> = left.iter().chain(&right).collect();
    assert_eq!(all.len(), 300, "300 enrollments, 300 different members");
    assert_eq!(
        c.storage.count_downline(me, Tree::Sponsor).await.unwrap(),
        team_before + 340
    );

    // The change log written by both reaches the device from either instance: everything
    // enrolled above is in the cache after one delta from the first.
    ServerClient::new(&p_a)
        .unwrap()
        .pull_changes(&store, &token, NOW)
        .await
        .unwrap();
    let period = Period::parse("2026-10").unwrap();
    let cached_team = store.subtree(me, period).unwrap().team_size;
    let enrolled: Vec<i64> = all
        .iter()
        .map(|r| r.strip_prefix("member:").unwrap().parse().unwrap())
        .chain(
            member_refs(&answered)
                .iter()
                .map(|r| r.strip_prefix("member:").unwrap().parse().unwrap()),
        )
        .collect();
    for id in &enrolled {
        assert!(
            store.member(MemberId::new(*id), period).is_ok(),
            "member {id} reached the cache"
        );
    }
    assert_eq!(
        cached_team,
        team_before + 340,
        "the cached team counts every enrollment once"
    );
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}
