//! Bad input at every auth endpoint (SECURITY.md #26): broken, oversized, mistyped or
//! over-specified bodies get a problem document with a readable detail, never a 500.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Device, expect_problem};
use reqwest::StatusCode;
use serde_json::json;

const ENDPOINTS: [&str; 8] = [
    "/v1/auth/sign-in",
    "/v1/auth/mfa",
    "/v1/auth/mfa/enroll",
    "/v1/auth/mfa/confirm",
    "/v1/auth/refresh",
    "/v1/auth/sign-out",
    "/v1/auth/password",
    "/v1/auth/step-up",
];

#[tokio::test]
async fn bad_bodies_get_problem_documents() {
    let api = Api::start().await;
    let user = api.user("max@example.com").await;
    let mut laptop = Device::new();
    let session = api.sign_in(&user, &mut laptop).await;

    let send = |path: &'static str, body: Vec<u8>, content_type: &'static str| {
        api.http
            .post(api.url(path))
            .bearer_auth(&session.access)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let json_type = "application/json";
    let cases: Vec<(&str, Vec<u8>, &str, StatusCode, &str)> = vec![
        ("/v1/auth/sign-in", b"{not json".to_vec(), json_type, StatusCode::BAD_REQUEST, "The request body is not valid JSON"),
        ("/v1/auth/sign-in", br#"{"email":"a@b.cd","password":"x","colour":"blue"}"#.to_vec(), json_type, StatusCode::UNPROCESSABLE_ENTITY, "unknown field `colour`"),
        ("/v1/auth/sign-in", br#"{"email":"a@b.cd"}"#.to_vec(), json_type, StatusCode::UNPROCESSABLE_ENTITY, "missing field `password`"),
        ("/v1/auth/sign-in", br#"{"email":7,"password":"x"}"#.to_vec(), json_type, StatusCode::UNPROCESSABLE_ENTITY, "invalid type"),
        ("/v1/auth/sign-in", br#"{"email":"a@b.cd","password":"x"}"#.to_vec(), "text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type: application/json"),
        ("/v1/auth/sign-in", vec![b' '; 100_000], json_type, StatusCode::PAYLOAD_TOO_LARGE, "too large"),
        ("/v1/auth/sign-in", json!({"email": "a@b.cd", "password": "x".repeat(10_000)}).to_string().into_bytes(), json_type, StatusCode::UNPROCESSABLE_ENTITY, "The password is too long"),
        ("/v1/auth/sign-in", json!({"email": "a@b.cd", "password": "x", "device": {"id": -1, "timestamp": i64::MIN, "signature": "!!"}}).to_string().into_bytes(), json_type, StatusCode::UNAUTHORIZED, "The email or password is not right"),
        ("/v1/auth/mfa", json!({"mfa_token": "cmt_".to_owned() + &"A".repeat(5000), "code": "123456"}).to_string().into_bytes(), json_type, StatusCode::UNAUTHORIZED, "sign in again"),
        ("/v1/auth/refresh", json!({"refresh_token": "crt_x", "device_id": 1, "timestamp": 0, "signature": ""}).to_string().into_bytes(), json_type, StatusCode::UNAUTHORIZED, "This is not a refresh token"),
        ("/v1/auth/refresh", json!({"refresh_token": session.refresh, "device_id": i64::MAX, "timestamp": i64::MIN, "signature": "%%%"}).to_string().into_bytes(), json_type, StatusCode::UNAUTHORIZED, "not signed by this device's key"),
        ("/v1/auth/password", b"[]".to_vec(), json_type, StatusCode::UNPROCESSABLE_ENTITY, "wrong shape"),
        ("/v1/auth/mfa/confirm", br#"{"code":"123456","extra":1}"#.to_vec(), json_type, StatusCode::UNPROCESSABLE_ENTITY, "unknown field `extra`"),
    ];
    for (path, body, content_type, status, fragment) in cases {
        let detail = expect_problem(send(path, body, content_type).await.unwrap(), status).await;
        assert!(
            detail.contains(fragment),
            "{path}: {detail:?} lacks {fragment:?}"
        );
    }

    // A new device with a bad key or name is refused before any code is spent.
    let body = api.sign_in_body(&user.email, &user.password, None);
    let first: serde_json::Value = api
        .post("/v1/auth/sign-in", body)
        .await
        .json()
        .await
        .unwrap();
    for (device, fragment) in [
        (json!({"name": "Phone", "public_key": "AAAA"}), "32 bytes"),
        (
            json!({"name": " ", "public_key": laptop.public_key()}),
            "Give the device a name",
        ),
        (
            json!({"name": "x".repeat(101), "public_key": laptop.public_key()}),
            "at most 100",
        ),
        (
            json!({"name": "a\u{7}b", "public_key": laptop.public_key()}),
            "control characters",
        ),
    ] {
        let body = json!({"mfa_token": first["mfa_token"], "code": "123456", "device": device});
        let detail = expect_problem(
            api.post("/v1/auth/mfa", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(detail.contains(fragment), "{detail:?}");
    }

    // No endpoint answers 500 to an empty body or a missing token.
    for path in ENDPOINTS {
        for response in [
            api.http.post(api.url(path)).send().await.unwrap(),
            api.http
                .post(api.url(path))
                .header("authorization", "Bearer")
                .json(&json!({}))
                .send()
                .await
                .unwrap(),
            api.http
                .post(api.url(path))
                .header("authorization", "Basic abc")
                .body("\u{0}")
                .send()
                .await
                .unwrap(),
        ] {
            let status = response.status();
            assert!(status.is_client_error(), "{path}: {status}");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{path}"
            );
        }
    }
    api.running.shutdown().await.unwrap();
}
