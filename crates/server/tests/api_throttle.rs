//! Throttling through the real endpoint (SECURITY.md #5, #6): 1,000 wrong passwords from 50
//! loopback addresses lock the attacker out, not the owner signing in from a known device.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{Api, Device, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_thousand_wrong_passwords_from_many_ips_do_not_lock_out_the_owner() {
    let api = Api::start().await;
    let user = api.user("kim@example.com").await;
    let mut laptop = Device::new();
    api.sign_in(&user, &mut laptop).await;

    // 50 attacking addresses, 20 attempts each, spread over about an hour.
    let attackers: Vec<_> = (2..52)
        .map(|last| api.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))))
        .collect();
    let (mut refused, mut throttled) = (0, 0);
    for attempt in 0..1000 {
        api.clock.advance(3);
        let body = api.sign_in_body(&user.email, &format!("guess number {attempt}"), None);
        let response = attackers[attempt % attackers.len()]
            .post(api.url("/v1/auth/sign-in"))
            .json(&body)
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(response.headers().contains_key("retry-after"));
                throttled += 1;
            }
            other => panic!("attempt {attempt}: {other}"),
        }
    }
    assert_eq!(refused + throttled, 1000);
    assert!(
        refused <= 100,
        "{refused} passwords were checked in an hour"
    );
    assert!(throttled >= 900, "{throttled}");
    let history = api
        .state
        .storage
        .recent_sign_ins(user.account.id, 2000)
        .await
        .unwrap();
    let ips: std::collections::HashSet<_> = history.iter().map(|s| s.attempt.ip).collect();
    assert_eq!(
        ips.len(),
        51,
        "the attempts came from 50 attacking addresses and the owner's"
    );

    // The owner, from an unknown device, is slowed down with everyone else…
    let body = api.sign_in_body(&user.email, &user.password, None);
    let detail = expect_problem(
        api.post("/v1/auth/sign-in", body).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(
        detail.starts_with("Too many attempts: try again in "),
        "{detail}"
    );
    // …but their known device, proven by its key, gets straight through.
    let session = api.sign_in(&user, &mut laptop).await;
    expect_json(
        api.get_auth("/v1/me/devices", &session.access).await,
        StatusCode::OK,
    )
    .await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn throttling_says_how_long_to_wait_and_does_not_reveal_accounts() {
    let api = Api::start().await;
    api.user("lea@example.com").await;
    let mut waits = Vec::new();
    for email in ["lea@example.com", "nobody@example.com"] {
        // A fresh source address each, so only the account (or pseudo-account) key counts.
        let client = api.client_from(if email.starts_with("lea") {
            IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1))
        } else {
            IpAddr::V4(Ipv4Addr::new(127, 0, 1, 2))
        });
        let mut statuses = Vec::new();
        for _ in 0..6 {
            let response = client
                .post(api.url("/v1/auth/sign-in"))
                .json(&json!({"email": email, "password": "wrong password"}))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                waits.push(
                    response.headers()["retry-after"]
                        .to_str()
                        .unwrap()
                        .to_owned(),
                );
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["retry_after"], 1);
            }
        }
        // Three free failures, a fourth that starts the delay, then waiting.
        assert_eq!(statuses, [401, 401, 401, 401, 429, 429], "{email}");
    }
    assert_eq!(waits, ["1", "1", "1", "1"]);
    api.running.shutdown().await.unwrap();
}
