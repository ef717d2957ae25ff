//! The person's own security calls against the real server over pinned TLS: their devices
//! (this one marked, another revoked, whose token then fails as revoked), their sign-ins
//! and the alert a new device raised, step-up, new recovery codes (the old ones stop
//! working), a new account password (the server's words for a wrong one and a weak one),
//! and the client's usual refusals: wrong pins, no server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_core::Role;
use canopy_core::provisioning::DemoAccount;
use canopy_server::auth::TotpSecret;
use canopy_sync::auth::{DeviceKey, DeviceToUse, SecondFactor, SignInStep};
use canopy_sync::{ServerClient, SyncError};
use common::{account, company, serve, sign_in_with_device};
use data_encoding::{BASE32_NOPAD, BASE64};
use time::OffsetDateTime;

/// The authenticator's code `steps_ahead` 30-second steps from now (the server accepts the
/// next step, so a test can prove its second factor twice without waiting).
fn code_for(who: &DemoAccount, steps_ahead: u64) -> SecondFactor {
    let secret =
        TotpSecret::from_bytes(&BASE32_NOPAD.decode(who.totp_secret.as_bytes()).unwrap()).unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    SecondFactor::Code(secret.code_at(now + 30 * steps_ahead))
}

/// A second device signs in with a recovery code (the TOTP step is spent): its token and id.
async fn sign_in_elsewhere(
    client: &ServerClient,
    who: &DemoAccount,
    recovery: &str,
) -> (String, i64) {
    let SignInStep::SecondFactor { mfa_token, .. } = client
        .sign_in(&who.email, &who.password, None)
        .await
        .unwrap()
    else {
        panic!("expected the code step");
    };
    let key = DeviceKey::generate().unwrap();
    let session = client
        .second_factor(
            &mfa_token,
            &SecondFactor::RecoveryCode(recovery.into()),
            DeviceToUse::New {
                name: "Phone in a drawer",
                key: &key,
            },
        )
        .await
        .unwrap();
    (session.access_token, session.device_id)
}

fn server_refusal(error: SyncError) -> (u16, String) {
    match error {
        SyncError::Server { status, message } => (status, message),
        other => panic!("expected the server's refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_sign_ins_and_alerts_then_revoking_another_device() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let who = account(&c, Role::Distributor);
    let (token, here) = sign_in_with_device(&p, who).await;
    let (other_token, other) = sign_in_elsewhere(&client, who, &who.recovery_codes[0]).await;

    let devices = client.my_devices(&token).await.unwrap();
    let ids: Vec<(i64, bool)> = devices.iter().map(|d| (d.id, d.current)).collect();
    assert_eq!(
        ids,
        [(other, false), (here, true)],
        "newest first, this one marked"
    );
    assert_eq!(devices[0].name, "Phone in a drawer");
    assert!(devices.iter().all(|d| d.revoked_at.is_none()));

    let sign_ins = client.my_sign_ins(&token).await.unwrap();
    let seen: Vec<(Option<i64>, &str)> = sign_ins
        .iter()
        .map(|s| (s.device_id, s.outcome.as_str()))
        .collect();
    assert_eq!(
        seen[..2],
        [(Some(other), "success"), (Some(here), "success")]
    );
    // Each of the two sign-ins registered its device.
    for (sign_in, device) in sign_ins.iter().zip(&devices) {
        assert!(sign_in.registered(device), "{sign_in:?} {device:?}");
        assert!(!sign_in.ip.is_empty());
    }

    // The second device is new to an account that signed in before: an alert.
    let alerts = client.my_alerts(&token).await.unwrap();
    let alert = alerts
        .iter()
        .find(|a| a.kind == "new_device_sign_in")
        .unwrap_or_else(|| panic!("no new-device alert in {alerts:?}"));
    assert_eq!(alert.evidence["device_id"], other);
    assert_eq!(alert.evidence["device_name"], "Phone in a drawer");
    assert!(alert.title.contains("new device"), "{}", alert.title);

    // Revoke the other device: listed as revoked, and its token now fails as revoked.
    client.revoke_my_device(&token, other).await.unwrap();
    let devices = client.my_devices(&token).await.unwrap();
    assert!(
        devices
            .iter()
            .find(|d| d.id == other)
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(
        devices
            .iter()
            .find(|d| d.id == here)
            .unwrap()
            .revoked_at
            .is_none()
    );
    let refused = client.my_devices(&other_token).await.unwrap_err();
    assert!(matches!(refused, SyncError::DeviceRevoked), "{refused:?}");

    // Someone else's device, or none at all, is not found.
    let (_, admins) = sign_in_with_device(&p, account(&c, Role::Admin)).await;
    for id in [admins, 999_999] {
        let (status, message) =
            server_refusal(client.revoke_my_device(&token, id).await.unwrap_err());
        assert_eq!(
            (status, message.as_str()),
            (404, "You have no device with this id")
        );
    }
    // A made-up token is a 401 the app reads as "sign in again".
    let (status, _) = server_refusal(client.my_alerts("cat_not-a-token").await.unwrap_err());
    assert_eq!(status, 401);

    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn step_up_new_recovery_codes_and_a_new_password() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let who = account(&c, Role::Manager);
    let token = common::sign_in(&p, who).await;

    // A wrong code is refused in the server's words; the next step's code passes.
    let (status, _) = server_refusal(
        client
            .step_up(&token, &SecondFactor::Code("000000".into()))
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 403);
    let at = client.step_up(&token, &code_for(who, 1)).await.unwrap();
    assert!((OffsetDateTime::now_utc() - at).whole_seconds().abs() < 60);

    let fresh = client.regenerate_recovery_codes(&token).await.unwrap();
    assert_eq!(fresh.codes.len(), 10);
    assert!(fresh.detail.contains("shown only once"), "{}", fresh.detail);
    assert!(
        !format!("{fresh:?}").contains(&fresh.codes[0]),
        "codes are never printed"
    );
    // The old codes no longer work; a new one does (once).
    let old = SecondFactor::RecoveryCode(who.recovery_codes[1].clone());
    let (status, message) = server_refusal(client.step_up(&token, &old).await.unwrap_err());
    assert_eq!(status, 403, "{message}");
    let new = SecondFactor::RecoveryCode(fresh.codes[0].clone());
    client.step_up(&token, &new).await.unwrap();

    // The password: the current one must be right, the new one must pass the policy.
    let second = SecondFactor::RecoveryCode(fresh.codes[1].clone());
    let cases = [
        (
            "not my password",
            "a long new passphrase 2026",
            403,
            "Your current password is not right",
        ),
        (who.password.as_str(), "password", 422, ""),
    ];
    for (current, new_password, status, words) in cases {
        let (got, message) = server_refusal(
            client
                .change_account_password(&token, current, new_password, &second)
                .await
                .unwrap_err(),
        );
        assert_eq!(got, status, "{message}");
        assert!(message.contains(words), "{message}");
    }
    let changed = client
        .change_account_password(&token, &who.password, "a long new passphrase 2026", &second)
        .await
        .unwrap();
    assert_eq!(changed.sessions_ended, 0, "no other session was open");
    // The new password signs in; the old one no longer does.
    assert!(matches!(
        client
            .sign_in(&who.email, "a long new passphrase 2026", None)
            .await,
        Ok(SignInStep::SecondFactor { .. })
    ));
    let (status, _) = server_refusal(
        client
            .sign_in(&who.email, &who.password, None)
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 401);

    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_pins_and_no_server_are_the_clients_usual_failures() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let token = common::sign_in(&p, account(&c, Role::Distributor)).await;

    let mut wrong = p.clone();
    wrong.pins = vec![BASE64.encode(&[8; 32]), BASE64.encode(&[9; 32])];
    let err = ServerClient::new(&wrong)
        .unwrap()
        .my_devices(&token)
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::PinMismatch), "{err:?}");
    assert!(!err.is_retryable());

    running.shutdown().await.unwrap();
    let err = ServerClient::new(&p)
        .unwrap()
        .my_sign_ins(&token)
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable());
}
