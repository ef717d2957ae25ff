//! The security center's work without the window, against the real server over pinned TLS
//! and a real vault and cache: the person's devices (this one marked and not revocable
//! from here, another revoked), sign-ins with the new-device flag, the alert a new device
//! raised, new recovery codes and a new account password behind a second factor; then,
//! offline, the server's parts say so while this device's password and auto-lock still
//! work, and the idle lock follows the chosen time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use canopy_app::commands::security::{
    account_password, auto_lock, device_password, new_recovery_codes, overview, revoke,
    usable_token,
};
use canopy_app::session::{Guarded, MIN_LOCAL_PASSWORD, Session};
use canopy_core::Role;
use canopy_core::ipc::{AutoLockChoice, CommandError, MIN_DEVICE_PASSWORD, SecurityView};
use canopy_core::provisioning::{DemoAccount, Provisioning};
use canopy_server::auth::TotpSecret;
use canopy_store::NoKeychain;
use canopy_store::Vault;
use canopy_sync::ServerClient;
use canopy_sync::auth::{DeviceKey, DeviceToUse, SecondFactor, SignInStep};
use common::{account, company, serve};
use data_encoding::BASE32_NOPAD;

const LOCAL: &str = "a long local password";

/// The authenticator's code `steps_ahead` 30-second steps from now.
fn code_at(who: &DemoAccount, steps_ahead: u64) -> String {
    let secret =
        TotpSecret::from_bytes(&BASE32_NOPAD.decode(who.totp_secret.as_bytes()).unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    secret.code_at(now + 30 * steps_ahead)
}

/// A session signed in for the first time on a fresh device, its cache open.
async fn signed_in(p: &Provisioning, dir: &std::path::Path, who: &DemoAccount) -> Session {
    let mut session = Session::new(
        ServerClient::new(p).unwrap(),
        Vault::new(dir.join("cache"), Box::new(NoKeychain)),
        "Test laptop",
    );
    session
        .sign_in(&who.email, &who.password, None)
        .await
        .unwrap();
    session
        .second_factor(&SecondFactor::Code(code_at(who, 0)))
        .await
        .unwrap();
    session.open_cache(LOCAL, false).await.unwrap();
    session
}

/// The person signs in on their phone too, with a recovery code: the phone's device id.
async fn sign_in_on_phone(p: &Provisioning, who: &DemoAccount, recovery: &str) -> i64 {
    let client = ServerClient::new(p).unwrap();
    let SignInStep::SecondFactor { mfa_token, .. } = client
        .sign_in(&who.email, &who.password, None)
        .await
        .unwrap()
    else {
        panic!("expected the code step");
    };
    let key = DeviceKey::generate().unwrap();
    client
        .second_factor(
            &mfa_token,
            &SecondFactor::RecoveryCode(recovery.into()),
            DeviceToUse::New {
                name: "Phone",
                key: &key,
            },
        )
        .await
        .unwrap()
        .device_id
}

async fn look(session: &Session) -> SecurityView {
    let status = session.sync().map(|s| s.status());
    let token = usable_token(session.access_token(), status.as_ref());
    overview(session.client(), session.store().unwrap(), token)
        .await
        .unwrap()
}

fn message(error: CommandError) -> (String, String) {
    let json = serde_json::to_value(&error).unwrap();
    (
        json["code"].as_str().unwrap().to_owned(),
        json["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_sign_ins_alerts_and_the_second_factor_changes() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let who = account(&c, Role::Distributor);
    let dir = tempfile::tempdir().unwrap();
    let session = signed_in(&p, dir.path(), who).await;
    let phone = sign_in_on_phone(&p, who, &who.recovery_codes[0]).await;
    let here = session
        .store()
        .unwrap()
        .credentials()
        .unwrap()
        .unwrap()
        .device_id;

    let view = look(&session).await;
    assert_eq!(view.this_device_id, Some(here));
    let activity = view.activity.unwrap();
    let devices: Vec<(i64, &str, bool)> = activity
        .devices
        .iter()
        .map(|d| (d.id, d.name.as_str(), d.this_device))
        .collect();
    assert_eq!(
        devices,
        [(phone, "Phone", false), (here, "Test laptop", true)]
    );
    let sign_ins: Vec<(Option<&str>, &str, bool, bool)> = activity
        .sign_ins
        .iter()
        .map(|s| {
            (
                s.device_name.as_deref(),
                s.outcome_text.as_str(),
                s.new_device,
                s.this_device,
            )
        })
        .collect();
    assert_eq!(
        sign_ins,
        [
            (Some("Phone"), "Signed in", true, false),
            (Some("Test laptop"), "Signed in", true, true),
        ]
    );
    assert_eq!(activity.sign_ins[0].ip, "127.0.0.1");
    let alert = &activity.alerts[0];
    assert_eq!(alert.kind, "new_device_sign_in");
    assert_eq!(alert.details.as_deref(), Some("From 127.0.0.1 on “Phone”"));

    // This very device is not revoked from here; the phone is.
    let token = session.access_token().unwrap();
    let (code, words) = message(
        revoke(session.client(), &token, Some(here), here)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "invalid");
    assert!(words.contains("lock it"), "{words}");
    revoke(session.client(), &token, Some(here), phone)
        .await
        .unwrap();
    let activity = look(&session).await.activity.unwrap();
    let revoked: Vec<bool> = activity
        .devices
        .iter()
        .map(|d| d.revoked_at.is_some())
        .collect();
    assert_eq!(revoked, [true, false]);

    // New recovery codes: a wrong code is refused in the server's words, the next step's
    // code is accepted and ten codes come back once.
    let (code, _) = message(
        new_recovery_codes(session.client(), &token, "000000")
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "refused");
    let fresh = new_recovery_codes(session.client(), &token, &code_at(who, 1))
        .await
        .unwrap();
    assert_eq!(fresh.codes.len(), 10);

    // The account's password, proven with one of the new recovery codes.
    let (code, words) = message(
        account_password(
            session.client(),
            &token,
            "not my password",
            "a long new passphrase 2026",
            &fresh.codes[0],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (code.as_str(), words.as_str()),
        ("refused", "Your current password is not right")
    );
    let changed = account_password(
        session.client(),
        &token,
        &who.password,
        "a long new passphrase 2026",
        &fresh.codes[0],
    )
    .await
    .unwrap();
    assert_eq!(
        changed.sessions_ended, 0,
        "the phone's session was revoked already"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_the_local_settings_still_work_and_the_idle_lock_follows_the_choice() {
    assert_eq!(MIN_DEVICE_PASSWORD, MIN_LOCAL_PASSWORD);
    let c = company().await;
    let (running, p) = serve(&c).await;
    let who = account(&c, Role::Manager);
    let dir = tempfile::tempdir().unwrap();
    let mut session = signed_in(&p, dir.path(), who).await;
    running.shutdown().await.unwrap();

    // The server's parts say the server can't be reached; the local ones are there.
    let view = look(&session).await;
    let (code, words) = message(view.activity.unwrap_err());
    assert_eq!(code, "offline");
    assert!(words.contains("still work offline"), "{words}");
    assert_eq!(
        (view.auto_lock.minutes, view.auto_lock.max_minutes),
        (15, 15)
    );
    let allowed: Vec<(u32, bool)> = view
        .auto_lock
        .choices
        .iter()
        .map(|&AutoLockChoice { minutes, allowed }| (minutes, allowed))
        .collect();
    assert_eq!(
        allowed,
        [(1, true), (5, true), (15, true), (30, false), (60, false)]
    );
    let token = session.access_token().unwrap();
    let (code, _) = message(
        revoke(session.client(), &token, Some(1), 2)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "offline");

    // Auto-lock: only the offered times, within the company's 15 minutes.
    let store = session.store().unwrap().clone();
    for (minutes, expected) in [(60, "at most 15 minutes"), (7, "Choose one of")] {
        let (code, words) = message(auto_lock(&store, minutes).unwrap_err());
        assert_eq!(code, "invalid");
        assert!(words.contains(expected), "{words}");
    }
    let chosen = auto_lock(&store, 1).unwrap();
    assert_eq!((chosen.minutes, chosen.chosen_minutes), (1, Some(1)));
    drop(store);
    // The idle lock now comes after one minute, not fifteen.
    let now = Instant::now();
    session.touch(now);
    assert_eq!(
        session.guard(now + Duration::from_secs(30)).await,
        Guarded::Nothing
    );
    assert_eq!(
        session.guard(now + Duration::from_secs(61)).await,
        Guarded::Locked
    );

    // This device's password: the current one must be right, the new one long enough.
    session.unlock(LOCAL).await.unwrap();
    let cases = [
        ("not the password", "another long password", "refused"),
        (LOCAL, "short", "invalid"),
    ];
    for (current, new, expected) in cases {
        let (code, words) = message(device_password(session.vault(), current, new).unwrap_err());
        assert_eq!(code, expected, "{words}");
    }
    device_password(session.vault(), LOCAL, "another long password").unwrap();
    session.lock().await;
    assert!(session.unlock(LOCAL).await.is_err());
    session.unlock("another long password").await.unwrap();
    session.lock().await;
}
