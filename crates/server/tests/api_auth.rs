//! The auth API over real TLS against a SQLite file: sign-in and MFA, no enumeration, TOTP
//! replay, enrollment and recovery codes, refresh rotation and reuse, revocation, sign-out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_server::auth::TotpSecret;
use common::{Api, Device, Session, expect_json, expect_problem};
use data_encoding::BASE32_NOPAD;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn sign_in_with_mfa_opens_a_session_on_a_new_device() {
    let api = Api::start().await;
    let user = api.user("ana@example.com").await;
    let mut laptop = Device::new();
    let session = api.sign_in(&user, &mut laptop).await;
    assert!(session.access.starts_with("cat_"));
    assert!(session.refresh.starts_with("crt_"));

    let devices = expect_json(
        api.get_auth("/v1/me/devices", &session.access).await,
        StatusCode::OK,
    )
    .await;
    let list = devices["devices"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "Test laptop");
    assert_eq!(list[0]["current"], true);

    // Signing in again from the same (now known) device proves it and registers nothing.
    let again = api.sign_in(&user, &mut laptop).await;
    assert_eq!(again.device_id, session.device_id);

    let history = expect_json(
        api.get_auth("/v1/me/sign-ins", &session.access).await,
        StatusCode::OK,
    )
    .await;
    let outcomes: Vec<_> = history["sign_ins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(outcomes, ["success", "success"]);

    // The audit log has the story and none of the secrets.
    let events = api.state.storage.list_audit(0, 100).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"sign_in.success"), "{actions:?}");
    for event in &events {
        for secret in [
            &user.email,
            &user.password,
            &session.access,
            &session.refresh,
        ] {
            assert!(
                !event.details.contains(secret.as_str()),
                "{}",
                event.details
            );
        }
    }
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn wrong_password_unknown_email_and_disabled_account_look_the_same() {
    let api = Api::start().await;
    let user = api.user("ben@example.com").await;
    let disabled = api.user("cleo@example.com").await;
    api.state
        .storage
        .set_account_disabled(disabled.account.id, true, api.clock.now())
        .await
        .unwrap();
    let cases = [
        ("ben@example.com", "not the password at all"),
        ("nobody@example.com", "not the password at all"),
        ("cleo@example.com", common::PASSWORD),
    ];
    for (email, password) in cases {
        let body = api.sign_in_body(email, password, None);
        let detail = expect_problem(
            api.post("/v1/auth/sign-in", body).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(detail, "The email or password is not right", "{email}");
    }
    // The right password still works, typed with other case and spaces.
    let body = api.sign_in_body(" BEN@Example.com ", &user.password, None);
    let ok = expect_json(api.post("/v1/auth/sign-in", body).await, StatusCode::OK).await;
    assert_eq!(ok["mfa_required"], true);
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_totp_code_works_only_once() {
    let api = Api::start().await;
    let user = api.user("dev@example.com").await;
    let mut laptop = Device::new();
    api.sign_in(&user, &mut laptop).await;
    let used = user.totp.code_at(u64::try_from(api.now()).unwrap());

    let body = api.sign_in_body(&user.email, &user.password, Some(&laptop));
    let first = expect_json(api.post("/v1/auth/sign-in", body).await, StatusCode::OK).await;
    let replay = json!({"mfa_token": first["mfa_token"], "code": used});
    let detail = expect_problem(
        api.post("/v1/auth/mfa", replay).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        detail,
        "That code has already been used: wait for the next one"
    );

    let wrong = json!({"mfa_token": first["mfa_token"], "code": "000000"});
    let response = api.post("/v1/auth/mfa", wrong).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let malformed = json!({"mfa_token": first["mfa_token"], "code": "12ab"});
    let detail = expect_problem(
        api.post("/v1/auth/mfa", malformed).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(detail, "Enter the 6-digit code from your authenticator app");

    let forged = json!({"mfa_token": "cmt_AAAA", "code": api.code(&user)});
    expect_problem(
        api.post("/v1/auth/mfa", forged).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn enrollment_gives_a_secret_and_recovery_codes_that_work_once() {
    let api = Api::start().await;
    let email = "eve@example.com";
    let password = "a long passphrase without mfa";
    api.account(email, password).await;

    let body = api.sign_in_body(email, password, None);
    let first = expect_json(api.post("/v1/auth/sign-in", body).await, StatusCode::OK).await;
    assert_eq!(first["mfa_required"], false);
    let token = first["enrollment_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("cet_"));
    // An enrollment token is not an MFA token.
    let misuse = json!({"mfa_token": token, "code": "123456"});
    expect_problem(
        api.post("/v1/auth/mfa", misuse).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let enrollment = expect_json(
        api.post_auth("/v1/auth/mfa/enroll", &token, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let secret_text = enrollment["secret"].as_str().unwrap();
    assert!(
        enrollment["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Canopy:eve%40example.com?secret=")
    );
    let secret =
        TotpSecret::from_bytes(&BASE32_NOPAD.decode(secret_text.as_bytes()).unwrap()).unwrap();
    let user = common::User {
        account: api
            .state
            .storage
            .find_account_by_email(email)
            .await
            .unwrap()
            .unwrap(),
        email: email.to_owned(),
        password: password.to_owned(),
        totp: secret,
    };
    assert!(!user.account.mfa.enabled);

    let wrong = json!({"code": "000000"});
    expect_problem(
        api.post_auth("/v1/auth/mfa/confirm", &token, wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let confirmed = expect_json(
        api.post_auth(
            "/v1/auth/mfa/confirm",
            &token,
            json!({"code": api.code(&user)}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let codes: Vec<String> = serde_json::from_value(confirmed["recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    // Enrolling twice is refused once MFA is on.
    expect_problem(
        api.post_auth("/v1/auth/mfa/enroll", &token, json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    // A recovery code instead of the app, once.
    let mut phone = Device::new();
    for (attempt, status) in [(1, StatusCode::OK), (2, StatusCode::UNAUTHORIZED)] {
        let body = api.sign_in_body(email, password, None);
        let first = expect_json(api.post("/v1/auth/sign-in", body).await, StatusCode::OK).await;
        assert_eq!(first["mfa_required"], true);
        let mfa = json!({
            "mfa_token": first["mfa_token"],
            "recovery_code": codes[0].to_lowercase(),
            "device": {"name": format!("Phone {attempt}"), "public_key": phone.public_key()},
        });
        let response = api.post("/v1/auth/mfa", mfa).await;
        assert_eq!(response.status(), status, "attempt {attempt}");
        if status == StatusCode::OK {
            phone.id = Some(
                response.json::<serde_json::Value>().await.unwrap()["device_id"]
                    .as_i64()
                    .unwrap(),
            );
        }
    }
    // And the app's codes work too.
    api.sign_in(&user, &mut phone).await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_ends_the_whole_session() {
    let api = Api::start().await;
    let user = api.user("finn@example.com").await;
    let mut laptop = Device::new();
    let first = api.sign_in(&user, &mut laptop).await;

    api.clock.advance(60);
    let second =
        Session::from_json(&expect_json(api.refresh(&first, &laptop).await, StatusCode::OK).await);
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.access, first.access);
    expect_json(
        api.get_auth("/v1/me/devices", &second.access).await,
        StatusCode::OK,
    )
    .await;

    // The old refresh token comes back (a stolen copy): the family is revoked.
    let detail = expect_problem(api.refresh(&first, &laptop).await, StatusCode::UNAUTHORIZED).await;
    assert!(detail.ends_with("sign in again"), "{detail}");
    expect_problem(
        api.refresh(&second, &laptop).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_problem(
        api.get_auth("/v1/me/devices", &second.access).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let actions: Vec<_> = api
        .state
        .storage
        .list_audit(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.iter().any(|a| a == "session.refresh_reuse"),
        "{actions:?}"
    );
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_refresh_not_signed_by_the_device_key_is_refused() {
    let api = Api::start().await;
    let user = api.user("gia@example.com").await;
    let mut laptop = Device::new();
    let session = api.sign_in(&user, &mut laptop).await;
    let thief = Device::new();
    let detail = expect_problem(
        api.refresh(&session, &thief).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(detail, "The request is not signed by this device's key");

    // A signature from ten minutes ago is refused too.
    let stale = api.refresh_at(&session, &laptop, api.now() - 600).await;
    let detail = expect_problem(stale, StatusCode::UNAUTHORIZED).await;
    assert!(detail.contains("clock"), "{detail}");

    // Neither spent the token: the real device still refreshes.
    expect_json(api.refresh(&session, &laptop).await, StatusCode::OK).await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn revoking_a_device_or_signing_out_ends_its_tokens_at_once() {
    let api = Api::start().await;
    let user = api.user("hal@example.com").await;
    let other = api.user("ida@example.com").await;
    let mut laptop = Device::new();
    let mut phone = Device::new();
    let on_laptop = api.sign_in(&user, &mut laptop).await;
    let on_phone = api.sign_in(&user, &mut phone).await;
    let mut stranger_device = Device::new();
    let stranger = api.sign_in(&other, &mut stranger_device).await;

    // Someone else's device is not found, and stays live.
    let path = format!("/v1/me/devices/{}", stranger.device_id);
    let response = api
        .http
        .delete(api.url(&path))
        .bearer_auth(&on_laptop.access)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    let response = api
        .http
        .delete(api.url("/v1/me/devices/abc"))
        .bearer_auth(&on_laptop.access)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    expect_json(
        api.get_auth("/v1/me/devices", &stranger.access).await,
        StatusCode::OK,
    )
    .await;

    let path = format!("/v1/me/devices/{}", on_phone.device_id);
    let response = api
        .http
        .delete(api.url(&path))
        .bearer_auth(&on_laptop.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    expect_problem(
        api.get_auth("/v1/me/devices", &on_phone.access).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_problem(
        api.refresh(&on_phone, &phone).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // A revoked device can't prove itself at sign-in any more; it would register anew.
    let body = api.sign_in_body(&user.email, &user.password, Some(&phone));
    let first = expect_json(api.post("/v1/auth/sign-in", body).await, StatusCode::OK).await;
    let mfa = json!({"mfa_token": first["mfa_token"], "code": api.code(&user), "device_id": on_phone.device_id});
    expect_problem(
        api.post("/v1/auth/mfa", mfa).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let response = api
        .post_auth("/v1/auth/sign-out", &on_laptop.access, json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    expect_problem(
        api.get_auth("/v1/me/devices", &on_laptop.access).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_problem(
        api.refresh(&on_laptop, &laptop).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_problem(
        api.get_auth("/v1/me/devices", "cat_nonsense").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn changing_the_password_needs_mfa_and_ends_other_sessions() {
    let api = Api::start().await;
    let user = api.user("jo@example.com").await;
    let mut laptop = Device::new();
    let mut phone = Device::new();
    let on_laptop = api.sign_in(&user, &mut laptop).await;
    let on_phone = api.sign_in(&user, &mut phone).await;
    let new_password = "a brand new passphrase 2027";

    let cases = [
        (
            json!({"current_password": user.password, "new_password": new_password}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"current_password": "wrong", "new_password": new_password, "code": api.code(&user)}),
            StatusCode::FORBIDDEN,
        ),
        (
            json!({"current_password": user.password, "new_password": "password", "code": api.code(&user)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"current_password": user.password, "new_password": "jo@example.com!!", "code": api.code(&user)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"current_password": user.password, "new_password": new_password, "code": "000000"}),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (body, status) in cases {
        expect_problem(
            api.post_auth("/v1/auth/password", &on_laptop.access, body)
                .await,
            status,
        )
        .await;
    }
    let body = json!({"current_password": user.password, "new_password": new_password, "code": api.code(&user)});
    let changed = expect_json(
        api.post_auth("/v1/auth/password", &on_laptop.access, body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["sessions_ended"], 1);
    expect_json(
        api.get_auth("/v1/me/devices", &on_laptop.access).await,
        StatusCode::OK,
    )
    .await;
    expect_problem(
        api.get_auth("/v1/me/devices", &on_phone.access).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let old = api.sign_in_body(&user.email, &user.password, Some(&laptop));
    expect_problem(
        api.post("/v1/auth/sign-in", old).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let user = common::User {
        password: new_password.to_owned(),
        ..user
    };
    api.sign_in(&user, &mut laptop).await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn step_up_proves_the_second_factor_again_once_per_code() {
    let api = Api::start().await;
    let user = api.user("kai@example.com").await;
    let mut laptop = Device::new();
    let session = api.sign_in(&user, &mut laptop).await;
    // Ten minutes later (the access token lives 15), the session proves MFA again.
    api.clock.advance(570);
    let code = api.code(&user);
    let body = json!({"code": code});
    let stepped = expect_json(
        api.post_auth("/v1/auth/step-up", &session.access, body.clone())
            .await,
        StatusCode::OK,
    )
    .await;
    let at = time::OffsetDateTime::parse(
        stepped["mfa_verified_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(at.unix_timestamp(), api.now());

    let detail = expect_problem(
        api.post_auth("/v1/auth/step-up", &session.access, body)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        detail,
        "That code has already been used: wait for the next one"
    );
    expect_problem(
        api.post_auth("/v1/auth/step-up", &session.access, json!({}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn recovery_codes_are_regenerated_on_demand_and_the_old_ones_stop_working() {
    let api = Api::start().await;
    let user = api.user("lu@example.com").await;
    let mut laptop = Device::new();
    let session = api.sign_in(&user, &mut laptop).await;
    let regenerate = || api.post_auth("/v1/auth/recovery-codes", &session.access, json!({}));

    let first = expect_json(regenerate().await, StatusCode::OK).await;
    let first: Vec<String> = serde_json::from_value(first["recovery_codes"].clone()).unwrap();
    let second = expect_json(regenerate().await, StatusCode::OK).await;
    let second: Vec<String> = serde_json::from_value(second["recovery_codes"].clone()).unwrap();
    assert_eq!((first.len(), second.len()), (10, 10));
    assert!(first.iter().all(|code| !second.contains(code)));

    for (code, status) in [
        (&first[0], StatusCode::UNAUTHORIZED),
        (&second[0], StatusCode::OK),
    ] {
        let body = api.sign_in_body(&user.email, &user.password, Some(&laptop));
        let pending = expect_json(api.post("/v1/auth/sign-in", body).await, StatusCode::OK).await;
        let mfa = json!({"mfa_token": pending["mfa_token"], "recovery_code": code});
        assert_eq!(api.post("/v1/auth/mfa", mfa).await.status(), status);
    }

    // Eleven minutes after the last second factor, regenerating needs a step-up first.
    api.clock.advance(660);
    let detail = expect_problem(regenerate().await, StatusCode::FORBIDDEN).await;
    assert!(detail.contains("/v1/auth/step-up"), "{detail}");
    api.running.shutdown().await.unwrap();
}
