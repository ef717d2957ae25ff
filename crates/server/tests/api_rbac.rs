//! The member endpoint as each role sees it (SECURITY.md #13, #14): a table of role × member
//! with the expected status and the personal fields that may (and may not) come back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_core::{
    AddressLine, CountryCode, Email, MemberId, MemberNumber, MemberStatus, PersonName,
    PersonalDetails, Phone, PostalAddress, PostalCode, RankLevel, Role, TaxId,
};
use canopy_server::storage::{MemberRecord, NewMember};
use common::{Api, Device, expect_json, expect_problem};
use reqwest::StatusCode;

/// 1 company top; 2 the manager (under 1); 3 the distributor (enrolled by 2); 4 enrolled
/// by 3; 5 enrolled by 4; 6 another leg under 1. Everyone has personal details on file.
fn tree() -> Vec<NewMember> {
    let sponsors = [None, Some(1), Some(2), Some(3), Some(4), Some(1)];
    (1..=6)
        .zip(sponsors)
        .map(|(id, sponsor)| NewMember {
            member: MemberRecord {
                id: MemberId::new(id),
                number: MemberNumber::parse(&(10_000_000 + id).to_string()).unwrap(),
                sponsor: sponsor.map(MemberId::new),
                placement: None,
                rank: RankLevel::new(1),
                status: MemberStatus::Active,
                joined_on: time::macros::date!(2025 - 03 - 01),
                country: CountryCode::parse("DE").unwrap(),
                display_name: PersonName::parse(&format!("Member {}", NAMES[id as usize])).unwrap(),
            },
            personal: Some(PersonalDetails {
                email: Some(Email::parse(&format!("m{id}@example.de")).unwrap()),
                phone: Some(Phone::parse(&format!("+49151000000{id}")).unwrap()),
                date_of_birth: Some(time::macros::date!(1990 - 01 - 01)),
                tax_id: Some(TaxId::parse(&format!("DE12345678{id}")).unwrap()),
                address: Some(PostalAddress {
                    line1: AddressLine::parse("Hauptstraße 1").unwrap(),
                    line2: None,
                    city: AddressLine::parse("Berlin").unwrap(),
                    region: None,
                    postal_code: Some(PostalCode::parse("10115").unwrap()),
                }),
                ..PersonalDetails::with_name(
                    PersonName::parse(&format!("Legal {}", NAMES[id as usize])).unwrap(),
                )
            }),
        })
        .collect()
}

const NAMES: [&str; 7] = ["", "Ada", "Bea", "Cid", "Dov", "Eli", "Fay"];

/// What comes back: `None` for a 404, else the personal fields present.
type Seen = Option<&'static [&'static str]>;

const BASIC: Seen = Some(&[]);
const CONTACT: Seen = Some(&["email", "legal_name", "phone"]);
const PERSONAL: Seen = Some(&["address", "email", "legal_name", "phone"]);
const FULL: Seen = Some(&[
    "address",
    "date_of_birth",
    "email",
    "legal_name",
    "phone",
    "tax_id",
]);

#[tokio::test]
async fn each_role_sees_its_scope_and_only_the_fields_it_may() {
    let api = Api::start().await;
    api.state.storage.insert_members(tree()).await.unwrap();
    let mut sessions = Vec::new();
    for (email, role, member) in [
        ("dist@example.com", Role::Distributor, Some(3)),
        ("mgr@example.com", Role::Manager, Some(2)),
        ("admin@example.com", Role::Admin, None),
    ] {
        let user = api.user_as(email, role, member.map(MemberId::new)).await;
        let session = api.sign_in(&user, &mut Device::new()).await;
        sessions.push((role, session));
    }
    // Targets: members 1..=6 and one that does not exist.
    let matrix: [(Role, [Seen; 7]); 3] = [
        (
            Role::Distributor,
            [None, None, FULL, PERSONAL, BASIC, None, None],
        ),
        (
            Role::Manager,
            [None, FULL, CONTACT, CONTACT, CONTACT, None, None],
        ),
        (Role::Admin, [FULL, FULL, FULL, FULL, FULL, FULL, None]),
    ];
    for ((role, expected), (session_role, session)) in matrix.iter().zip(&sessions) {
        assert_eq!(role, session_role);
        for (target, seen) in (1..=7).zip(expected) {
            let response = api
                .get_auth(&format!("/v1/members/{target}"), &session.access)
                .await;
            let case = format!("{role:?} looking at member {target}");
            match seen {
                None => {
                    let detail = expect_problem(response, StatusCode::NOT_FOUND).await;
                    assert_eq!(
                        detail, "There is no member with this id that you can see",
                        "{case}"
                    );
                }
                Some(fields) => {
                    let body = expect_json(response, StatusCode::OK).await;
                    assert_eq!(body["id"], target, "{case}");
                    let mut got: Vec<String> = body
                        .get("personal")
                        .and_then(|p| p.as_object())
                        .map(|p| p.keys().cloned().collect())
                        .unwrap_or_default();
                    got.sort();
                    assert_eq!(got, *fields, "{case}");
                }
            }
        }
    }
    // No token, no member.
    let response = api.http.get(api.url("/v1/members/3")).send().await.unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED).await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn admin_actions_need_the_admin_role_and_a_recent_step_up() {
    let api = Api::start().await;
    let admin = api.user_as("root@example.com", Role::Admin, None).await;
    let admin_session = api.sign_in(&admin, &mut Device::new()).await;
    let mut others = Vec::new();
    for (email, role) in [
        ("d@example.com", Role::Distributor),
        ("m@example.com", Role::Manager),
    ] {
        let user = api.user_as(email, role, None).await;
        others.push(api.sign_in(&user, &mut Device::new()).await);
    }
    let target = api.user("target@example.com").await;
    let mut target_device = Device::new();
    let target_session = api.sign_in(&target, &mut target_device).await;
    let disable = format!("/v1/admin/accounts/{}/disable", target.account.id);
    let enable = format!("/v1/admin/accounts/{}/enable", target.account.id);

    for session in &others {
        let detail = expect_problem(
            api.post_auth(&disable, &session.access, serde_json::json!({}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(detail, "Only an admin can do this");
    }
    let own = format!("/v1/admin/accounts/{}/disable", admin.account.id);
    expect_problem(
        api.post_auth(&own, &admin_session.access, serde_json::json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    expect_problem(
        api.post_auth(
            "/v1/admin/accounts/999/disable",
            &admin_session.access,
            serde_json::json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Fresh from signing in, the admin disables the account: its session ends at once.
    let response = api
        .post_auth(&disable, &admin_session.access, serde_json::json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    expect_problem(
        api.get_auth("/v1/me/devices", &target_session.access).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let body = api.sign_in_body(&target.email, &target.password, Some(&target_device));
    let detail = expect_problem(
        api.post("/v1/auth/sign-in", body).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(detail, "The email or password is not right");

    // Ten minutes on, the admin must step up again.
    api.clock.advance(600);
    let detail = expect_problem(
        api.post_auth(&enable, &admin_session.access, serde_json::json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(detail.contains("/v1/auth/step-up"), "{detail}");
    let step_up = serde_json::json!({"code": api.code(&admin)});
    expect_json(
        api.post_auth("/v1/auth/step-up", &admin_session.access, step_up)
            .await,
        StatusCode::OK,
    )
    .await;
    let response = api
        .post_auth(&enable, &admin_session.access, serde_json::json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    api.sign_in(&target, &mut target_device).await;

    let actions: Vec<_> = api
        .state
        .storage
        .list_audit(0, 200)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.iter().any(|a| a == "account.disable"),
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a == "account.enable"), "{actions:?}");
    api.running.shutdown().await.unwrap();
}

/// Who may call an endpoint at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Public,
    /// Any signed-in role (own data only, or scoped by `rbac`).
    Session,
    /// Admin role with a recent step-up.
    Admin,
}

/// One row per documented endpoint: a new endpoint without a row fails the matrix.
const RULES: [(&str, &str, Access); 43] = [
    ("get", "/v1/health", Access::Public),
    ("get", "/v1/openapi.json", Access::Public),
    (
        "get",
        "/v1/updates/{target}/{arch}/{current_version}",
        Access::Public,
    ),
    ("get", "/v1/releases/{file}", Access::Public),
    ("post", "/v1/auth/sign-in", Access::Public),
    ("post", "/v1/auth/mfa", Access::Public),
    ("post", "/v1/auth/refresh", Access::Public),
    ("post", "/v1/auth/mfa/enroll", Access::Session),
    ("post", "/v1/auth/mfa/confirm", Access::Session),
    ("post", "/v1/auth/recovery-codes", Access::Session),
    ("post", "/v1/auth/password", Access::Session),
    ("post", "/v1/auth/step-up", Access::Session),
    ("get", "/v1/me/devices", Access::Session),
    ("delete", "/v1/me/devices/{id}", Access::Session),
    ("get", "/v1/me/sign-ins", Access::Session),
    ("get", "/v1/me/export", Access::Session),
    ("post", "/v1/me/erasure-request", Access::Session),
    ("post", "/v1/admin/members/{id}/erase", Access::Admin),
    ("get", "/v1/members/{id}", Access::Session),
    ("get", "/v1/members/{id}/enrollees", Access::Session),
    ("post", "/v1/sync/bootstrap", Access::Session),
    ("post", "/v1/sync/changes", Access::Session),
    ("post", "/v1/sync/push", Access::Session),
    ("post", "/v1/admin/members/{id}/move", Access::Admin),
    ("post", "/v1/admin/accounts/{id}/disable", Access::Admin),
    ("post", "/v1/admin/accounts/{id}/enable", Access::Admin),
    ("post", "/v1/admin/accounts/{id}/role", Access::Admin),
    ("post", "/v1/admin/accounts/{id}/sign-out", Access::Admin),
    ("delete", "/v1/admin/devices/{id}", Access::Admin),
    ("get", "/v1/me/alerts", Access::Session),
    ("get", "/v1/admin/alerts", Access::Admin),
    ("post", "/v1/admin/alerts/{id}/acknowledge", Access::Admin),
    ("post", "/v1/admin/alerts/{id}/resolve", Access::Admin),
    ("get", "/v1/admin/accounts", Access::Admin),
    ("get", "/v1/admin/accounts/{id}/devices", Access::Admin),
    ("get", "/v1/admin/commissions/{period}", Access::Admin),
    ("post", "/v1/admin/commissions/{period}/run", Access::Admin),
    (
        "post",
        "/v1/admin/commissions/{period}/close",
        Access::Admin,
    ),
    ("get", "/v1/me/earnings/{period}", Access::Session),
    (
        "get",
        "/v1/admin/commissions/{period}/members/{id}",
        Access::Admin,
    ),
    ("post", "/v1/sync/statements", Access::Session),
    ("get", "/v1/sync/statements/{period}/lines", Access::Session),
    ("post", "/v1/auth/sign-out", Access::Session),
];

#[tokio::test]
async fn every_documented_endpoint_against_every_role() {
    let api = Api::start().await;
    let doc: serde_json::Value = api
        .http
        .get(api.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    for (method, path) in &documented {
        assert!(
            RULES.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} has no row in the RBAC matrix"
        );
    }
    assert_eq!(documented.len(), RULES.len());

    let mut callers = vec![(None, None)];
    for (email, role) in [
        ("d@example.com", Role::Distributor),
        ("m@example.com", Role::Manager),
        ("a@example.com", Role::Admin),
    ] {
        let user = api.user_as(email, role, None).await;
        let session = api.sign_in(&user, &mut Device::new()).await;
        callers.push((Some(role), Some(session.access)));
    }
    // Sign-out is last in the table, so every caller's session lives through the others.
    for (method, path, access) in RULES {
        for (role, token) in &callers {
            let url = api.url(&path.replace("{id}", "999").replace("{period}", "2026-10"));
            let request = match method {
                "get" => api.http.get(&url),
                "delete" => api.http.delete(&url),
                _ => api.http.post(&url).json(&serde_json::json!({})),
            };
            let request = match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            };
            let status = request.send().await.unwrap().status();
            let case = format!("{role:?} {method} {path}: {status}");
            let expected_denial = match (access, role) {
                (Access::Public, _) => None,
                (_, None) => Some(StatusCode::UNAUTHORIZED),
                (Access::Admin, Some(Role::Distributor | Role::Manager)) => {
                    Some(StatusCode::FORBIDDEN)
                }
                (Access::Session | Access::Admin, Some(_)) => None,
            };
            match expected_denial {
                Some(denial) => assert_eq!(status, denial, "{case}"),
                None => assert!(
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !status.is_server_error(),
                    "{case}"
                ),
            }
        }
    }
    api.running.shutdown().await.unwrap();
}

/// Enrollees as (id, personal fields shown); `None` for a 404.
type Listing = Option<&'static [(i64, usize)]>;

#[tokio::test]
async fn enrollee_lists_follow_the_same_scope_and_fields() {
    let api = Api::start().await;
    api.state.storage.insert_members(tree()).await.unwrap();
    let mut sessions = Vec::new();
    for (email, role, member) in [
        ("dist@example.com", Role::Distributor, Some(3)),
        ("mgr@example.com", Role::Manager, Some(2)),
        ("admin@example.com", Role::Admin, None),
    ] {
        let user = api.user_as(email, role, member.map(MemberId::new)).await;
        sessions.push(api.sign_in(&user, &mut Device::new()).await);
    }
    // (caller, parent, enrollees listed with their personal field count, or 404)
    let cases: [(usize, i64, Listing); 8] = [
        (0, 3, Some(&[(4, 4)])),
        (0, 4, Some(&[(5, 0)])),
        (0, 5, Some(&[])),
        (0, 2, None),
        (1, 2, Some(&[(3, 3)])),
        (1, 1, None),
        (2, 1, Some(&[(2, 6), (6, 6)])),
        (2, 99, None),
    ];
    for (caller, parent, expected) in cases {
        let path = format!("/v1/members/{parent}/enrollees");
        let response = api.get_auth(&path, &sessions[caller].access).await;
        let case = format!("caller {caller} parent {parent}");
        match expected {
            None => {
                expect_problem(response, StatusCode::NOT_FOUND).await;
            }
            Some(expected) => {
                let body = expect_json(response, StatusCode::OK).await;
                let got: Vec<(i64, usize)> = body["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| {
                        let fields = m
                            .get("personal")
                            .map_or(0, |p| p.as_object().unwrap().len());
                        (m["id"].as_i64().unwrap(), fields)
                    })
                    .collect();
                assert_eq!(got, expected, "{case}");
            }
        }
    }
    // Paging: one at a time through the company top's two enrollees.
    let admin = &sessions[2].access;
    let page = expect_json(
        api.get_auth("/v1/members/1/enrollees?limit=1", admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["members"][0]["id"], 2);
    let next = page["next_after"].as_i64().unwrap();
    let page = expect_json(
        api.get_auth(
            &format!("/v1/members/1/enrollees?limit=1&after={next}"),
            admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["members"][0]["id"], 6);
    for bad in ["limit=0", "limit=201", "limit=x", "colour=blue"] {
        let path = format!("/v1/members/1/enrollees?{bad}");
        expect_problem(api.get_auth(&path, admin).await, StatusCode::BAD_REQUEST).await;
    }
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn admins_change_roles_end_sessions_and_revoke_devices_at_once() {
    let api = Api::start().await;
    api.state.storage.insert_members(tree()).await.unwrap();
    let admin = api.user_as("root@example.com", Role::Admin, None).await;
    let target = api
        .user_as(
            "dist@example.com",
            Role::Distributor,
            Some(MemberId::new(3)),
        )
        .await;
    let admin_session = api.sign_in(&admin, &mut Device::new()).await;
    let mut laptop = Device::new();
    let session = api.sign_in(&target, &mut laptop).await;
    let personal_fields = |body: serde_json::Value| {
        body.get("personal")
            .map_or(0, |p| p.as_object().unwrap().len())
    };
    let seen = expect_json(
        api.get_auth("/v1/members/5", &session.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(personal_fields(seen), 0);

    let role = format!("/v1/admin/accounts/{}/role", target.account.id);
    let cases = [
        (
            role.clone(),
            serde_json::json!({"role": "king"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            format!("/v1/admin/accounts/{}/role", admin.account.id),
            serde_json::json!({"role": "manager"}),
            StatusCode::CONFLICT,
        ),
        (
            "/v1/admin/accounts/999/role".to_owned(),
            serde_json::json!({"role": "manager"}),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (path, body, status) in cases {
        expect_problem(
            api.post_auth(&path, &admin_session.access, body).await,
            status,
        )
        .await;
    }
    let response = api
        .post_auth(
            &role,
            &admin_session.access,
            serde_json::json!({"role": "manager"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // The same access token now speaks for a manager: contact fields appear.
    let seen = expect_json(
        api.get_auth("/v1/members/5", &session.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(personal_fields(seen), 3);

    let revoke = format!("/v1/admin/devices/{}", session.device_id);
    let response = api
        .http
        .delete(api.url(&revoke))
        .bearer_auth(&admin_session.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    expect_problem(
        api.get_auth("/v1/me/devices", &session.access).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let response = api
        .http
        .delete(api.url("/v1/admin/devices/999"))
        .bearer_auth(&admin_session.access)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;

    let again = api.sign_in(&target, &mut Device::new()).await;
    let kill = format!("/v1/admin/accounts/{}/sign-out", target.account.id);
    let ended = expect_json(
        api.post_auth(&kill, &admin_session.access, serde_json::json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended["sessions_ended"], 1);
    expect_problem(
        api.get_auth("/v1/me/devices", &again.access).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let actions: Vec<_> = api
        .state
        .storage
        .list_audit(0, 200)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in ["role.change", "device.revoke", "session.admin_kill"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} missing from {actions:?}"
        );
    }
    api.running.shutdown().await.unwrap();
}
