//! Security alerts through the real endpoints (SECURITY.md #15): a sign-in from a new device
//! or address tells the user, repeated wrong passwords tell the admins, once, and admins
//! acknowledge and resolve them only after a step-up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use canopy_core::Role;
use common::{Api, Device, Session, User, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn my_alerts(api: &Api, session: &Session) -> Vec<Value> {
    let body = expect_json(
        api.get_auth("/v1/me/alerts", &session.access).await,
        StatusCode::OK,
    )
    .await;
    body["alerts"].as_array().unwrap().clone()
}

async fn admin_alerts(api: &Api, session: &Session, query: &str) -> Vec<Value> {
    let body = expect_json(
        api.get_auth(&format!("/v1/admin/alerts{query}"), &session.access)
            .await,
        StatusCode::OK,
    )
    .await;
    body["alerts"].as_array().unwrap().clone()
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// Password then TOTP through `client`, on a device registered before.
async fn sign_in_via(
    api: &Api,
    client: &reqwest::Client,
    user: &User,
    device: &Device,
) -> (Session, String) {
    let body = api.sign_in_body(&user.email, &user.password, Some(device));
    let response = client
        .post(api.url("/v1/auth/sign-in"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let first = expect_json(response, StatusCode::OK).await;
    let code = api.code(user);
    let response = client
        .post(api.url("/v1/auth/mfa"))
        .json(&json!({"mfa_token": first["mfa_token"], "code": code}))
        .send()
        .await
        .unwrap();
    let second = expect_json(response, StatusCode::OK).await;
    (Session::from_json(&second), code)
}

#[tokio::test]
async fn a_second_device_tells_the_user_once_and_the_first_sign_in_does_not() {
    let api = Api::start().await;
    let user = api.user("ana@example.com").await;
    let mut laptop = Device::new();
    let first = api.sign_in(&user, &mut laptop).await;
    assert_eq!(my_alerts(&api, &first).await, Vec::<Value>::new());

    let mut phone = Device::new();
    let second = api.sign_in(&user, &mut phone).await;
    // The known laptop again, from the known address: nothing new.
    let third = api.sign_in(&user, &mut laptop).await;
    let alerts = my_alerts(&api, &third).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["kind"], "new_device_sign_in");
    assert_eq!(
        alert["title"],
        "New sign-in to your account from a new device"
    );
    assert_eq!(alert["severity"], "warning");
    assert_eq!(alert["state"], "open");
    assert_eq!(alert["account_id"], user.account.id.get());
    let evidence = &alert["evidence"];
    assert_eq!(
        keys(evidence),
        BTreeSet::from(["device_id", "device_name", "ip", "network", "session"])
    );
    assert_eq!(evidence["device_id"], second.device_id);
    assert_eq!(evidence["device_name"], "Test laptop");
    assert_eq!(evidence["ip"], "127.0.0.1");
    assert!(!evidence.to_string().contains(&user.password));

    // Nobody else sees it, and admins don't get user alerts.
    let other = api.user("ben@example.com").await;
    let other_session = api.sign_in(&other, &mut Device::new()).await;
    assert_eq!(my_alerts(&api, &other_session).await, Vec::<Value>::new());
    let admin = api.user_as("root@example.com", Role::Admin, None).await;
    let admin_session = api.sign_in(&admin, &mut Device::new()).await;
    assert_eq!(
        admin_alerts(&api, &admin_session, "?state=all").await,
        Vec::<Value>::new()
    );
    // A user alert is not one an admin can acknowledge.
    let path = format!("/v1/admin/alerts/{}/acknowledge", alert["id"]);
    let detail = expect_problem(
        api.post_auth(&path, &admin_session.access, json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(detail, "There is no admin alert with this id");
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_sign_in_from_a_new_address_tells_the_user() {
    let api = Api::start().await;
    let user = api.user("cai@example.com").await;
    let mut laptop = Device::new();
    api.sign_in(&user, &mut laptop).await;

    // Another address on the same network (a /24) is no news.
    let next_door = api.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 8)));
    sign_in_via(&api, &next_door, &user, &laptop).await;
    let elsewhere = api.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 1, 7)));
    let (session, code) = sign_in_via(&api, &elsewhere, &user, &laptop).await;
    // Once the address is known, signing in from it again is quiet.
    sign_in_via(&api, &elsewhere, &user, &laptop).await;
    let alerts = my_alerts(&api, &session).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["kind"], "new_ip_sign_in");
    assert_eq!(
        alert["title"],
        "New sign-in to your account from a new network"
    );
    assert_eq!(alert["severity"], "info");
    let evidence = &alert["evidence"];
    assert_eq!(
        keys(evidence),
        BTreeSet::from(["device_id", "ip", "network", "session"])
    );
    assert_eq!(evidence["ip"], "127.0.1.7");
    assert_eq!(evidence["network"], "127.0.1.0/24");
    assert_eq!(evidence["device_id"], laptop.id.unwrap());
    let text = evidence.to_string();
    assert!(
        !text.contains(&code) && !text.contains(&user.password),
        "{text}"
    );
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn ten_wrong_passwords_raise_one_admin_alert_that_admins_handle_with_a_step_up() {
    let api = Api::start().await;
    let target = api.user("dan@example.com").await;
    let attackers = [2, 3].map(|last| api.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))));
    let mut guesses = Vec::new();
    // Twelve wrong passwords from two addresses, spaced past the throttle's delays.
    for attempt in 0..12 {
        api.clock.advance(200);
        let guess = format!("wrong guess {attempt}");
        let body = api.sign_in_body(&target.email, &guess, None);
        let response = attackers[attempt % 2]
            .post(api.url("/v1/auth/sign-in"))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::UNAUTHORIZED).await;
        guesses.push(guess);
        let raised = api
            .state
            .storage
            .list_admin_alerts(None, 10)
            .await
            .unwrap()
            .len();
        assert_eq!(
            raised,
            usize::from(attempt >= 9),
            "after {} failures",
            attempt + 1
        );
    }

    let admin = api.user_as("root@example.com", Role::Admin, None).await;
    let admin_session = api.sign_in(&admin, &mut Device::new()).await;
    let alerts = admin_alerts(&api, &admin_session, "").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = alerts[0].clone();
    assert_eq!(alert["kind"], "repeated_failures");
    assert_eq!(alert["severity"], "warning");
    assert_eq!(alert["state"], "open");
    assert_eq!(alert["account_id"], target.account.id.get());
    let evidence = &alert["evidence"];
    assert_eq!(
        keys(evidence),
        BTreeSet::from([
            "account_id",
            "distinct_ips",
            "failures",
            "last_ip",
            "window_secs"
        ])
    );
    assert_eq!(evidence["account_id"], target.account.id.get());
    assert_eq!(evidence["failures"], 10);
    assert_eq!(evidence["distinct_ips"], 2);
    let text = evidence.to_string();
    assert!(
        guesses.iter().all(|g| !text.contains(g)) && !text.contains(&target.password),
        "{text}"
    );

    // Not for distributors, and not shown to the account's owner either.
    let distributor = api.user("eve@example.com").await;
    let distributor_session = api.sign_in(&distributor, &mut Device::new()).await;
    let detail = expect_problem(
        api.get_auth("/v1/admin/alerts", &distributor_session.access)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(detail, "Only an admin can do this");
    let acknowledge = format!("/v1/admin/alerts/{}/acknowledge", alert["id"]);
    let resolve = format!("/v1/admin/alerts/{}/resolve", alert["id"]);
    expect_problem(
        api.post_auth(&acknowledge, &distributor_session.access, json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Ten minutes on, changing an alert needs a step-up; reading it does not.
    api.clock.advance(601);
    // The owner, past the throttle's delay, does not see the admins' alert.
    let target_session = api.sign_in(&target, &mut Device::new()).await;
    assert_eq!(my_alerts(&api, &target_session).await, Vec::<Value>::new());
    for path in [&acknowledge, &resolve] {
        let detail = expect_problem(
            api.post_auth(path, &admin_session.access, json!({})).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(detail.contains("/v1/auth/step-up"), "{detail}");
    }
    assert_eq!(
        admin_alerts(&api, &admin_session, "").await[0]["state"],
        "open"
    );
    expect_json(
        api.post_auth(
            "/v1/auth/step-up",
            &admin_session.access,
            json!({"code": api.code(&admin)}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let acknowledged = expect_json(
        api.post_auth(&acknowledge, &admin_session.access, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(acknowledged["state"], "acknowledged");
    assert_eq!(acknowledged["acknowledged_by"], admin.account.id.get());
    assert_eq!(
        admin_alerts(&api, &admin_session, "").await,
        Vec::<Value>::new()
    );
    let listed = admin_alerts(&api, &admin_session, "?state=acknowledged").await;
    assert_eq!(listed[0]["id"], alert["id"]);

    let resolved = expect_json(
        api.post_auth(&resolve, &admin_session.access, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(resolved["resolved_by"], admin.account.id.get());
    assert_eq!(resolved["acknowledged_by"], admin.account.id.get());
    let listed = admin_alerts(&api, &admin_session, "?state=resolved").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        admin_alerts(&api, &admin_session, "?state=all").await.len(),
        1
    );

    expect_problem(
        api.post_auth(
            "/v1/admin/alerts/999/resolve",
            &admin_session.access,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for bad in ["?state=closed", "?limit=0", "?limit=201", "?colour=blue"] {
        expect_problem(
            api.get_auth(&format!("/v1/admin/alerts{bad}"), &admin_session.access)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }

    let actions: Vec<_> = api
        .state
        .storage
        .list_audit(0, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in ["alert.acknowledge", "alert.resolve"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn many_failed_passwords_from_one_address_for_several_emails_alert_the_admins() {
    let api = Api::start().await;
    let kim = api.user("kim@example.com").await;
    let stuffer = api.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 2, 9)));
    let raised = async || {
        api.state
            .storage
            .list_admin_alerts(None, 10)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.kind == "failures_from_ip")
            .collect::<Vec<_>>()
    };
    // Twenty-five tries of leaked pairs for five emails, one a real account; the throttle
    // refuses most of them, and those count too.
    for attempt in 0..25 {
        let email = match attempt % 5 {
            0 => kim.email.clone(),
            n => format!("leaked{n}@example.com"),
        };
        let body = api.sign_in_body(&email, "Summer2024!", None);
        let response = stuffer
            .post(api.url("/v1/auth/sign-in"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&response.status()),
            "{}",
            response.status()
        );
        let alerts = raised().await;
        assert_eq!(
            alerts.len(),
            usize::from(attempt >= 19),
            "after {} failures",
            attempt + 1
        );
    }
    let alert = raised().await.remove(0);
    assert_eq!(alert.account, None);
    assert_eq!(
        alert.evidence,
        json!({
            "subject": "ip:127.0.2.9",
            "ip": "127.0.2.9",
            "failures": 20,
            "distinct_emails": 5,
            "window_secs": 3600,
        })
    );
    // One person mistyping their own password twenty times is the per-account rule's.
    let typist = api.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 2, 10)));
    for _ in 0..20 {
        api.clock.advance(1_000);
        let body = api.sign_in_body(&kim.email, "not it", None);
        typist
            .post(api.url("/v1/auth/sign-in"))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(raised().await.len(), 1);
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_revoked_device_is_on_the_owners_alerts() {
    let api = Api::start().await;
    let user = api.user("lea@example.com").await;
    let mut laptop = Device::new();
    let mut phone = Device::new();
    let mut tablet = Device::new();
    let session = api.sign_in(&user, &mut laptop).await;
    let phone_session = api.sign_in(&user, &mut phone).await;
    let tablet_session = api.sign_in(&user, &mut tablet).await;
    let response = api
        .http
        .delete(api.url(&format!("/v1/me/devices/{}", phone_session.device_id)))
        .bearer_auth(&session.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let admin = api.user_as("root@example.com", Role::Admin, None).await;
    let admin_session = api.sign_in(&admin, &mut Device::new()).await;
    let response = api
        .http
        .delete(api.url(&format!("/v1/admin/devices/{}", tablet_session.device_id)))
        .bearer_auth(&admin_session.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let revoked: Vec<Value> = my_alerts(&api, &session)
        .await
        .into_iter()
        .filter(|a| a["kind"] == "device_revoked")
        .collect();
    assert_eq!(revoked.len(), 2, "{revoked:?}");
    // Newest first: the admin's, then the person's own.
    assert_eq!(revoked[0]["severity"], "warning");
    assert_eq!(
        revoked[0]["title"],
        "A device was removed from your account"
    );
    assert_eq!(
        revoked[0]["evidence"],
        json!({"device_id": tablet_session.device_id, "device_name": "Test laptop", "revoked_by": "an administrator"})
    );
    assert_eq!(revoked[1]["severity"], "info");
    assert_eq!(revoked[1]["evidence"]["device_id"], phone_session.device_id);
    assert_eq!(revoked[1]["evidence"]["revoked_by"], "you");
    api.running.shutdown().await.unwrap();
}
