//! The admin's lists through the real endpoints over TLS: accounts (searched by the start of
//! the email, paged by keyset) and one account's devices; admins only, and nothing secret
//! in the answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use canopy_core::{CountryCode, MemberId, MemberNumber, MemberStatus, PersonName, RankLevel, Role};
use canopy_server::storage::{MemberRecord, NewMember};
use common::{Api, Device, Session, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::Value;

const ACCOUNT_KEYS: [&str; 11] = [
    "created_at",
    "devices",
    "disabled",
    "email",
    "id",
    "last_sign_in_at",
    "member_id",
    "member_name",
    "member_number",
    "mfa_enabled",
    "role",
];

async fn page(api: &Api, session: &Session, query: &str) -> Value {
    expect_json(
        api.get_auth(&format!("/v1/admin/accounts{query}"), &session.access)
            .await,
        StatusCode::OK,
    )
    .await
}

fn emails(page: &Value) -> Vec<String> {
    page["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap().to_owned())
        .collect()
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

async fn add_member(api: &Api, id: i64, name: &str) {
    let member = MemberRecord {
        id: MemberId::new(id),
        number: MemberNumber::parse(&(10_000_000 + id).to_string()).unwrap(),
        sponsor: None,
        placement: None,
        rank: RankLevel::new(1),
        status: MemberStatus::Active,
        joined_on: time::macros::date!(2025 - 03 - 01),
        country: CountryCode::parse("DE").unwrap(),
        display_name: PersonName::parse(name).unwrap(),
    };
    api.state
        .storage
        .insert_members(vec![NewMember {
            member,
            personal: None,
        }])
        .await
        .unwrap();
}

#[tokio::test]
async fn an_admin_pages_through_accounts_and_searches_by_email() {
    let api = Api::start().await;
    add_member(&api, 1, "Ana Lima").await;
    let admin = api.user_as("root@example.com", Role::Admin, None).await;
    let ana = api
        .user_as("Ana@Example.com", Role::Distributor, Some(MemberId::new(1)))
        .await;
    for email in [
        "anna@example.com",
        "ben@example.com",
        "bob@example.com",
        "carla@example.com",
    ] {
        api.account(email, common::PASSWORD).await;
    }
    api.state
        .storage
        .set_account_disabled(
            api.state
                .storage
                .find_account_by_email("bob@example.com")
                .await
                .unwrap()
                .unwrap()
                .id,
            true,
            api.clock.now(),
        )
        .await
        .unwrap();
    api.sign_in(&ana, &mut Device::new()).await;
    let session = api.sign_in(&admin, &mut Device::new()).await;

    // Two at a time, in email order, until there is no next page.
    let mut all = Vec::new();
    let mut query = "?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let body = page(&api, &session, &query).await;
        pages += 1;
        all.extend(emails(&body));
        match body["next_after"].as_i64() {
            Some(after) => query = format!("?limit=2&after={after}"),
            None => break,
        }
    }
    assert_eq!(
        all,
        [
            "Ana@example.com",
            "anna@example.com",
            "ben@example.com",
            "bob@example.com",
            "carla@example.com",
            "root@example.com",
        ]
    );
    assert_eq!(pages, 3);

    // The default page holds them all; every field is there and nothing else.
    let body = page(&api, &session, "").await;
    assert!(body["next_after"].is_null(), "{body}");
    let accounts = body["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 6);
    for account in accounts {
        assert_eq!(keys(account), BTreeSet::from(ACCOUNT_KEYS), "{account}");
    }
    let first = &accounts[0];
    assert_eq!(first["id"], ana.account.id.get());
    assert_eq!(first["role"], "distributor");
    assert_eq!(first["member_id"], 1);
    assert_eq!(first["member_number"], "10000001");
    assert_eq!(first["member_name"], "Ana Lima");
    assert_eq!(first["disabled"], false);
    assert_eq!(first["mfa_enabled"], true);
    assert_eq!(first["devices"], 1);
    assert!(first["last_sign_in_at"].is_string(), "{first}");
    let bob = &accounts[3];
    assert_eq!(bob["email"], "bob@example.com");
    assert_eq!(bob["disabled"], true);
    assert_eq!(bob["mfa_enabled"], false);
    assert_eq!(bob["devices"], 0);
    assert!(bob["last_sign_in_at"].is_null());
    assert!(bob["member_number"].is_null());
    assert_eq!(accounts[5]["role"], "admin");

    // Nothing secret anywhere in the answer.
    let text = body.to_string();
    for secret in [
        "argon2",
        "password",
        "totp",
        "secret",
        "token",
        &session.access,
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    // Search: the start of the email, any case; the pages stay inside it.
    assert_eq!(
        emails(&page(&api, &session, "?query=AN").await),
        ["Ana@example.com", "anna@example.com"]
    );
    let first = page(&api, &session, "?query=b&limit=1").await;
    assert_eq!(emails(&first), ["ben@example.com"]);
    let after = first["next_after"].as_i64().unwrap();
    let second = page(&api, &session, &format!("?query=b&limit=1&after={after}")).await;
    assert_eq!(emails(&second), ["bob@example.com"]);
    assert!(second["next_after"].is_null(), "{second}");
    assert!(emails(&page(&api, &session, "?query=zed").await).is_empty());

    // Bad limits, cursors and parameters are refused clearly.
    for query in [
        "?limit=0",
        "?limit=201",
        "?after=999999",
        "?after=x",
        "?role=admin",
    ] {
        let detail = expect_problem(
            api.get_auth(&format!("/v1/admin/accounts{query}"), &session.access)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(detail.contains("`limit` (1 to 200)"), "{query}: {detail}");
    }
}

#[tokio::test]
async fn an_admin_sees_an_accounts_devices() {
    let api = Api::start().await;
    let admin = api.user_as("root@example.com", Role::Admin, None).await;
    let ana = api.user("ana@example.com").await;
    let mut laptop = Device::new();
    api.sign_in(&ana, &mut laptop).await;
    let mut phone = Device::new();
    api.sign_in(&ana, &mut phone).await;
    api.state
        .storage
        .revoke_device(
            canopy_server::storage::DeviceId::new(laptop.id.unwrap()),
            api.clock.now(),
        )
        .await
        .unwrap();
    let session = api.sign_in(&admin, &mut Device::new()).await;

    let path = format!("/v1/admin/accounts/{}/devices", ana.account.id);
    let body = expect_json(api.get_auth(&path, &session.access).await, StatusCode::OK).await;
    assert_eq!(body["account_id"], ana.account.id.get());
    let devices = body["devices"].as_array().unwrap();
    let ids: Vec<i64> = devices.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [phone.id.unwrap(), laptop.id.unwrap()]);
    for device in devices {
        assert_eq!(
            keys(device),
            BTreeSet::from(["created_at", "id", "last_seen_at", "name", "revoked_at"])
        );
        assert_eq!(device["name"], "Test laptop");
    }
    assert!(devices[0]["revoked_at"].is_null());
    assert!(devices[1]["revoked_at"].is_string());
    assert!(!body.to_string().contains(&phone.public_key()));

    // The list shows one live device.
    let list = page(&api, &session, "?query=ana").await;
    assert_eq!(list["accounts"][0]["devices"], 1);

    for path in [
        "/v1/admin/accounts/999999/devices",
        "/v1/admin/accounts/x/devices",
    ] {
        let detail = expect_problem(
            api.get_auth(path, &session.access).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(detail, "There is no account with this id");
    }
}

#[tokio::test]
async fn managers_and_distributors_are_refused() {
    let api = Api::start().await;
    let admin = api.user_as("root@example.com", Role::Admin, None).await;
    let manager = api.user_as("meg@example.com", Role::Manager, None).await;
    let distributor = api.user("dan@example.com").await;
    for user in [&manager, &distributor] {
        let session = api.sign_in(user, &mut Device::new()).await;
        for path in [
            "/v1/admin/accounts".to_owned(),
            "/v1/admin/accounts?query=root".to_owned(),
            format!("/v1/admin/accounts/{}/devices", admin.account.id),
            format!("/v1/admin/accounts/{}/devices", user.account.id),
        ] {
            let detail = expect_problem(
                api.get_auth(&path, &session.access).await,
                StatusCode::FORBIDDEN,
            )
            .await;
            assert_eq!(
                detail, "Only an admin can do this",
                "{}: {path}",
                user.email
            );
        }
    }
    // No token at all.
    let response = api
        .http
        .get(api.url("/v1/admin/accounts"))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED).await;
}
