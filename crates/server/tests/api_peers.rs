//! The API against peers made elsewhere: `oathtool` codes enroll and sign in (issue 3's
//! "done when"), and `curl --pinnedpubkey` fetches `/v1/openapi.json` only with the right pin.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Device, expect_json};
use reqwest::StatusCode;
use serde_json::json;

fn oathtool(secret_base32: &str, unix_time: i64) -> String {
    let output = std::process::Command::new("oathtool")
        .args(["--totp", "--base32", "--now"])
        .arg(format!("@{unix_time}"))
        .arg(secret_base32)
        .output()
        .expect("oathtool is installed by `cargo xtask test` (Debian package oathtool)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn oathtool_codes_enroll_and_sign_in() {
    let api = Api::start().await;
    let (email, password) = ("pia@example.com", "a long passphrase for pia");
    api.account(email, password).await;
    let first = expect_json(
        api.post(
            "/v1/auth/sign-in",
            json!({"email": email, "password": password}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let token = first["enrollment_token"].as_str().unwrap();
    let enrollment = expect_json(
        api.post_auth("/v1/auth/mfa/enroll", token, json!({})).await,
        StatusCode::OK,
    )
    .await;
    let secret = enrollment["secret"].as_str().unwrap();
    let code = oathtool(secret, api.now());
    expect_json(
        api.post_auth("/v1/auth/mfa/confirm", token, json!({"code": code}))
            .await,
        StatusCode::OK,
    )
    .await;

    api.clock.advance(30);
    let first = expect_json(
        api.post(
            "/v1/auth/sign-in",
            json!({"email": email, "password": password}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let device = Device::new();
    let body = json!({
        "mfa_token": first["mfa_token"],
        "code": oathtool(secret, api.now()),
        "device": {"name": "Pia's laptop", "public_key": device.public_key()},
    });
    let session = expect_json(api.post("/v1/auth/mfa", body).await, StatusCode::OK).await;
    assert!(
        session["access_token"]
            .as_str()
            .unwrap()
            .starts_with("cat_")
    );
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn curl_fetches_the_openapi_document_only_with_the_published_pin() {
    let api = Api::start().await;
    let url = api.url("/v1/openapi.json");
    let curl = |pin: String| {
        let (ca, url) = (api.ca.clone(), url.clone());
        async move {
            tokio::process::Command::new("curl")
                .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
                .arg(ca)
                .arg("--pinnedpubkey")
                .arg(format!("sha256//{pin}"))
                .arg(url)
                .output()
                .await
                .expect("curl is installed by `cargo xtask test` (Debian package curl)")
        }
    };
    let good = curl(api.pins[0].clone()).await;
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&good.stdout).unwrap();
    assert!(doc["paths"]["/v1/auth/sign-in"].is_object());
    let wrong = curl(api.pins[1].clone()).await;
    assert_eq!(
        wrong.status.code(),
        Some(90),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    api.running.shutdown().await.unwrap();
}
