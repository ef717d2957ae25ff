//! Signing in from the app against the real server over pinned TLS: password then code
//! from a new device (which registers its key), a known device signing its sign-in,
//! a recovery code, refreshing with the device's key (the old refresh token spent), the
//! server's own words for a wrong password and a wait after too many, and setting up
//! two-step sign-in for an account without it (secret, QR URI, recovery codes once).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_core::Role;
use canopy_core::provisioning::DemoAccount;
use canopy_server::auth::{HashParams, PasswordHasher, TotpSecret};
use canopy_server::storage::NewAccount;
use canopy_sync::ServerClient;
use canopy_sync::SyncError;
use canopy_sync::auth::{DeviceKey, DeviceToUse, KnownDevice, SecondFactor, SignInStep};
use common::{account, company, member_of, serve};
use data_encoding::BASE32_NOPAD;
use time::OffsetDateTime;

fn code_for(secret_base32: &str) -> String {
    let secret =
        TotpSecret::from_bytes(&BASE32_NOPAD.decode(secret_base32.as_bytes()).unwrap()).unwrap();
    secret.code_at(OffsetDateTime::now_utc().unix_timestamp() as u64)
}

async fn mfa_token(
    client: &ServerClient,
    who: &DemoAccount,
    device: Option<&KnownDevice>,
) -> String {
    match client
        .sign_in(&who.email, &who.password, device)
        .await
        .unwrap()
    {
        SignInStep::SecondFactor { mfa_token, .. } => mfa_token,
        other => panic!("expected the code step, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_signs_in_with_a_code_then_with_its_key_and_refreshes() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let who = account(&c, Role::Distributor);

    // First sign-in on this device: password, code, the device's key registered.
    let key = DeviceKey::generate().unwrap();
    let token = mfa_token(&client, who, None).await;
    let wrong = client
        .second_factor(
            &token,
            &SecondFactor::Code("000000".into()),
            DeviceToUse::New {
                name: "Field laptop",
                key: &key,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, SyncError::Server { status: 401, .. }),
        "{wrong:?}"
    );
    let session = client
        .second_factor(
            &token,
            &SecondFactor::Code(code_for(&who.totp_secret)),
            DeviceToUse::New {
                name: "Field laptop",
                key: &key,
            },
        )
        .await
        .unwrap();
    assert!(session.access_expires_at > OffsetDateTime::now_utc());
    // The tokens state the account's role and member, for the app's menus.
    assert_eq!(session.role, Role::Distributor);
    assert_eq!(
        session.member,
        Some(member_of(&c, Role::Distributor).await.get())
    );
    let debug = format!("{session:?}");
    assert!(!debug.contains(&session.access_token) && !debug.contains(&session.refresh_token));

    // The key kept (in the cache, by the app) and read back: it signs the next sign-in.
    let device = KnownDevice {
        id: session.device_id,
        key: DeviceKey::from_pkcs8(key.pkcs8()).unwrap(),
    };
    let token = mfa_token(&client, who, Some(&device)).await;
    let again = client
        .second_factor(
            &token,
            &SecondFactor::RecoveryCode(who.recovery_codes[0].clone()),
            DeviceToUse::Known(device.id),
        )
        .await
        .unwrap();
    assert_eq!(again.device_id, device.id, "the same device, not a new one");

    // Refresh with the device's key: a new pair; the old refresh token is spent.
    let refreshed = client.refresh(&again.refresh_token, &device).await.unwrap();
    assert_ne!(refreshed.access_token, again.access_token);
    assert_eq!(
        refreshed.role,
        Role::Distributor,
        "a refresh states the role too"
    );
    assert!(client.refresh(&again.refresh_token, &device).await.is_err());
    // Another device's key can't refresh this session.
    let thief = KnownDevice {
        id: device.id,
        key: DeviceKey::generate().unwrap(),
    };
    assert!(
        client
            .refresh(&refreshed.refresh_token, &thief)
            .await
            .is_err()
    );

    client.sign_out(&session.access_token).await.unwrap();
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_get_the_servers_words_then_a_wait() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let who = account(&c, Role::Manager);
    let first = client
        .sign_in(&who.email, "not the password", None)
        .await
        .unwrap_err();
    let SyncError::Server {
        status: 401,
        message,
    } = &first
    else {
        panic!("expected a refusal, got {first:?}");
    };
    assert!(!message.is_empty());
    let mut throttled = None;
    for _ in 0..30 {
        match client.sign_in(&who.email, "not the password", None).await {
            Err(SyncError::Throttled { wait, message }) => {
                throttled = Some((wait, message));
                break;
            }
            Err(SyncError::Server { status: 401, .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let (wait, message) = throttled.expect("repeated failures are slowed down");
    assert!(wait.as_secs() > 0, "{wait:?}");
    assert!(message.to_lowercase().contains("try again"), "{message}");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_without_a_second_factor_sets_one_up() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let password = "correct horse battery staple 42";
    let hash = PasswordHasher::new(HashParams::MINIMUM)
        .unwrap()
        .hash(password, &ring::rand::SystemRandom::new())
        .unwrap();
    let email = "new.rep@example.com";
    c.storage
        .create_account(
            NewAccount {
                email: canopy_core::Email::parse(email).unwrap(),
                password_hash: hash,
                role: Role::Distributor,
                member: None,
            },
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let SignInStep::SetUpSecondFactor {
        enrollment_token, ..
    } = client.sign_in(email, password, None).await.unwrap()
    else {
        panic!("an account without a second factor sets one up first");
    };
    let setup = client.set_up_mfa(&enrollment_token).await.unwrap();
    assert!(
        setup.otpauth_uri.starts_with("otpauth://totp/"),
        "{}",
        setup.otpauth_uri
    );
    assert!(setup.otpauth_uri.contains(&setup.secret));
    let codes = client
        .confirm_mfa(&enrollment_token, &code_for(&setup.secret))
        .await
        .unwrap();
    assert!(codes.len() >= 8, "{codes:?}");
    // Two-step sign-in is on: the next sign-in asks for a code, and the code works.
    let key = DeviceKey::generate().unwrap();
    let step = client.sign_in(email, password, None).await.unwrap();
    let SignInStep::SecondFactor { mfa_token, .. } = step else {
        panic!("expected the code step, got {step:?}");
    };
    let session = client
        .second_factor(
            &mfa_token,
            &SecondFactor::Code(code_for(&setup.secret)),
            DeviceToUse::New {
                name: "New laptop",
                key: &key,
            },
        )
        .await;
    // The code just used to confirm may not be used twice in its 30 s window.
    let session = match session {
        Ok(session) => session,
        Err(_) => {
            let token = match client.sign_in(email, password, None).await.unwrap() {
                SignInStep::SecondFactor { mfa_token, .. } => mfa_token,
                other => panic!("{other:?}"),
            };
            client
                .second_factor(
                    &token,
                    &SecondFactor::RecoveryCode(codes[0].clone()),
                    DeviceToUse::New {
                        name: "New laptop",
                        key: &key,
                    },
                )
                .await
                .unwrap()
        }
    };
    assert!(session.device_id > 0);
    running.shutdown().await.unwrap();
}
