//! Replacing a lost authenticator (SECURITY.md #10): sign in with a recovery code, step up,
//! enroll a new secret (pending: the old one keeps working), confirm it with a code from the
//! new one; then the old codes and recovery codes stop working and other sessions end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_server::auth::TotpSecret;
use common::{Api, Device, Session, User, expect_json, expect_problem};
use data_encoding::BASE32_NOPAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Password then a recovery code on `device` (registered if new); the response.
async fn sign_in_with_recovery(
    api: &Api,
    user: &User,
    device: &mut Device,
    code: &str,
) -> reqwest::Response {
    let body = api.sign_in_body(&user.email, &user.password, Some(device));
    let first = expect_json(api.post("/v1/auth/sign-in", body).await, StatusCode::OK).await;
    let mut mfa = json!({"mfa_token": first["mfa_token"], "recovery_code": code});
    if device.id.is_none() {
        mfa["device"] = json!({"name": "New phone", "public_key": device.public_key()});
    }
    api.post("/v1/auth/mfa", mfa).await
}

/// Password then a TOTP `code` on a registered `device`; the response.
async fn sign_in_with_code(api: &Api, user: &User, device: &Device, code: &str) -> StatusCode {
    let body = api.sign_in_body(&user.email, &user.password, Some(device));
    let first = expect_json(api.post("/v1/auth/sign-in", body).await, StatusCode::OK).await;
    let mfa = json!({"mfa_token": first["mfa_token"], "code": code});
    api.post("/v1/auth/mfa", mfa).await.status()
}

fn codes_of(body: &Value) -> Vec<String> {
    serde_json::from_value(body["recovery_codes"].clone()).unwrap()
}

/// The secret an enrollment response carries, as a user with the new authenticator.
fn with_secret(user: &User, enrollment: &Value) -> User {
    let text = enrollment["secret"].as_str().unwrap();
    User {
        account: user.account.clone(),
        email: user.email.clone(),
        password: user.password.clone(),
        totp: TotpSecret::from_bytes(&BASE32_NOPAD.decode(text.as_bytes()).unwrap()).unwrap(),
    }
}

#[tokio::test]
async fn a_lost_phone_is_replaced_after_a_recovery_sign_in_and_a_step_up() {
    let api = Api::start().await;
    let user = api.user("nia@example.com").await;
    let mut laptop = Device::new();
    let on_laptop = api.sign_in(&user, &mut laptop).await;
    let old_codes = codes_of(
        &expect_json(
            api.post_auth("/v1/auth/recovery-codes", &on_laptop.access, json!({}))
                .await,
            StatusCode::OK,
        )
        .await,
    );

    // The phone is lost: sign in on a new device with a recovery code.
    let mut phone = Device::new();
    let response = sign_in_with_recovery(&api, &user, &mut phone, &old_codes[0]).await;
    let on_phone = Session::from_json(&expect_json(response, StatusCode::OK).await);
    let enroll = || api.post_auth("/v1/auth/mfa/enroll", &on_phone.access, json!({}));

    // Eleven minutes on, the second factor is too old: step up first.
    api.clock.advance(660);
    let detail = expect_problem(enroll().await, StatusCode::FORBIDDEN).await;
    assert!(detail.contains("/v1/auth/step-up"), "{detail}");
    expect_json(
        api.post_auth(
            "/v1/auth/step-up",
            &on_phone.access,
            json!({"recovery_code": old_codes[1]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let enrollment = expect_json(enroll().await, StatusCode::OK).await;
    assert!(
        enrollment["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Canopy:nia%40example.com?secret=")
    );
    let new_user = with_secret(&user, &enrollment);
    let account = api
        .state
        .storage
        .find_account(user.account.id)
        .await
        .unwrap()
        .unwrap();
    assert!(account.mfa.enabled);
    assert_eq!(account.mfa.sealed_secret, user.account.mfa.sealed_secret);
    assert!(
        api.state
            .storage
            .find_pending_totp(user.account.id)
            .await
            .unwrap()
            .is_some()
    );

    // Until confirmed, the old authenticator still signs in, and the new one does not.
    let mut tablet = Device::new();
    let on_tablet = api.sign_in(&user, &mut tablet).await;
    let new_code = api.code(&new_user);
    assert_eq!(
        sign_in_with_code(&api, &user, &tablet, &new_code).await,
        StatusCode::UNAUTHORIZED
    );

    // A code from the old authenticator does not confirm the new one.
    let confirm = |code: String| {
        api.post_auth(
            "/v1/auth/mfa/confirm",
            &on_phone.access,
            json!({"code": code}),
        )
    };
    let detail = expect_problem(
        confirm(api.code(&user)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(detail.contains("new authenticator"), "{detail}");
    let new_code = api.code(&new_user);
    let confirmed = expect_json(confirm(new_code.clone()).await, StatusCode::OK).await;
    let new_codes = codes_of(&confirmed);
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !old_codes.contains(c)));
    // The confirming code can't be used again.
    assert_eq!(
        sign_in_with_code(&api, &user, &laptop, &new_code).await,
        StatusCode::UNAUTHORIZED
    );

    // Every other session ended at once; this one lives on.
    for (other, device) in [(&on_laptop, &laptop), (&on_tablet, &tablet)] {
        expect_problem(
            api.get_auth("/v1/me/devices", &other.access).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        let refreshed = api.refresh(other, device).await;
        assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
    }
    expect_json(
        api.get_auth("/v1/me/devices", &on_phone.access).await,
        StatusCode::OK,
    )
    .await;
    // Confirming again finds nothing pending.
    expect_problem(confirm(api.code(&new_user)).await, StatusCode::CONFLICT).await;

    // Old codes and recovery codes are refused; new ones work.
    let old_code = api.code(&user);
    assert_eq!(
        sign_in_with_code(&api, &user, &laptop, &old_code).await,
        StatusCode::UNAUTHORIZED
    );
    api.sign_in(&new_user, &mut laptop).await;
    let response = sign_in_with_recovery(&api, &user, &mut laptop, &old_codes[2]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Past the throttle's delay after four failures.
    api.clock.advance(60);
    let response = sign_in_with_recovery(&api, &user, &mut laptop, &new_codes[0]).await;
    assert_eq!(response.status(), StatusCode::OK);

    let audit = api.state.storage.list_audit(0, 500).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"mfa.replace_start"), "{actions:?}");
    assert!(actions.contains(&"mfa.replace"), "{actions:?}");
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_replacement_not_confirmed_within_15_minutes_is_discarded() {
    let api = Api::start().await;
    let user = api.user("omar@example.com").await;
    let mut laptop = Device::new();
    let session = api.sign_in(&user, &mut laptop).await;
    let enrollment = expect_json(
        api.post_auth("/v1/auth/mfa/enroll", &session.access, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let new_user = with_secret(&user, &enrollment);
    // Sixteen minutes old (backdated, so the session's step-up is still fresh).
    let storage = &api.state.storage;
    let (sealed, _) = storage
        .find_pending_totp(user.account.id)
        .await
        .unwrap()
        .unwrap();
    let then = api.clock.now() - time::Duration::minutes(16);
    storage
        .set_pending_totp(user.account.id, Some(sealed), then)
        .await
        .unwrap();

    let detail = expect_problem(
        api.post_auth(
            "/v1/auth/mfa/confirm",
            &session.access,
            json!({"code": api.code(&new_user)}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(detail.contains("15 minutes"), "{detail}");
    assert!(
        storage
            .find_pending_totp(user.account.id)
            .await
            .unwrap()
            .is_none()
    );
    // Nothing changed: the old authenticator still signs in, the session still works.
    api.sign_in(&user, &mut laptop).await;
    expect_json(
        api.get_auth("/v1/me/devices", &session.access).await,
        StatusCode::OK,
    )
    .await;
    api.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn promotion_swaps_the_secret_only_if_it_is_still_the_pending_one() {
    use canopy_server::storage::TotpPromotion;
    let api = Api::start().await;
    let user = api.user("pia@example.com").await;
    let id = user.account.id;
    let storage = &api.state.storage;
    let promotion = |sealed: &[u8]| TotpPromotion {
        sealed_secret: sealed.to_vec(),
        step: 42,
        recovery_codes: Vec::new(),
        keep: None,
    };
    // Nothing pending: nothing changes.
    let none = storage
        .promote_pending_totp(id, promotion(b"pending"), api.clock.now())
        .await
        .unwrap();
    assert_eq!(none, None);
    storage
        .set_pending_totp(id, Some(b"pending".to_vec()), api.clock.now())
        .await
        .unwrap();
    let stale = storage
        .promote_pending_totp(id, promotion(b"other"), api.clock.now())
        .await
        .unwrap();
    assert_eq!(stale, None);
    let account = storage.find_account(id).await.unwrap().unwrap();
    assert_eq!(account.mfa, user.account.mfa);

    let ended = storage
        .promote_pending_totp(id, promotion(b"pending"), api.clock.now())
        .await
        .unwrap();
    assert_eq!(ended, Some(0));
    let account = storage.find_account(id).await.unwrap().unwrap();
    assert_eq!(account.mfa.sealed_secret.as_deref(), Some(&b"pending"[..]));
    assert!(account.mfa.enabled);
    assert_eq!(account.mfa.last_step, Some(42));
    assert!(storage.find_pending_totp(id).await.unwrap().is_none());
    api.running.shutdown().await.unwrap();
}
