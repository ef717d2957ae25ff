//! The admin screens' work without the window, against the real server over pinned TLS and
//! a real vault and cache: the accounts list (searched and typed), an account's devices,
//! role changes, disabling and enabling, ending sessions, revoking a device, the admin
//! alerts with their evidence in words; and a distributor refused before any call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use canopy_app::commands::admin::{
    account_devices, accounts, acknowledge_alert, alerts, change_role, end_sessions, require_admin,
    resolve_alert, revoke_device, set_disabled,
};
use canopy_app::session::Session;
use canopy_core::ipc::{AdminAlertFilter, CommandError, EvidenceItem};
use canopy_core::provisioning::{DemoAccount, Provisioning};
use canopy_core::{AccountId, Role};
use canopy_server::auth::TotpSecret;
use canopy_server::storage::{AlertAudience, AlertSeverity, NewAlert};
use canopy_store::{NoKeychain, Vault};
use canopy_sync::ServerClient;
use canopy_sync::auth::SecondFactor;
use common::{account, company, serve, sign_in_with_device};
use data_encoding::BASE32_NOPAD;
use serde_json::json;

const LOCAL: &str = "a long local password";

fn code_at(who: &DemoAccount, steps_ahead: u64) -> String {
    let secret =
        TotpSecret::from_bytes(&BASE32_NOPAD.decode(who.totp_secret.as_bytes()).unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    secret.code_at(now + 30 * steps_ahead)
}

/// A session signed in for the first time on a fresh device, its cache open; the code is
/// `steps` ahead (the account's earlier sign-in spent the current one).
async fn signed_in(
    p: &Provisioning,
    dir: &std::path::Path,
    who: &DemoAccount,
    steps: u64,
) -> Session {
    let mut session = Session::new(
        ServerClient::new(p).unwrap(),
        Vault::new(dir.join("cache"), Box::new(NoKeychain)),
        "Admin laptop",
    );
    session
        .sign_in(&who.email, &who.password, None)
        .await
        .unwrap();
    session
        .second_factor(&SecondFactor::Code(code_at(who, steps)))
        .await
        .unwrap();
    session.open_cache(LOCAL, false).await.unwrap();
    session
}

fn refused(error: CommandError) -> String {
    match error {
        CommandError::Refused(message) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_works_through_accounts_devices_and_alerts() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let admin = signed_in(&p, dir.path(), account(&c, Role::Admin), 0).await;
    require_admin(admin.store().unwrap()).unwrap();
    let client = admin.client().clone();
    let token = admin.access_token().unwrap();
    let (_, laptop) = sign_in_with_device(&p, account(&c, Role::Distributor)).await;

    // The list, typed, in email order; searched by the start of the email.
    let page = accounts(&client, &token, "", None).await.unwrap();
    let rows: Vec<(&str, Role)> = page
        .accounts
        .iter()
        .map(|a| (a.email.as_str(), a.role))
        .collect();
    assert_eq!(
        rows,
        [
            ("admin@demo.canopy.example", Role::Admin),
            ("distributor@demo.canopy.example", Role::Distributor),
            ("manager@demo.canopy.example", Role::Manager),
        ]
    );
    assert_eq!(page.next_after, None);
    let seller = page.accounts[1].clone();
    assert!(seller.member_number.is_some() && seller.mfa_enabled && !seller.disabled);
    assert_eq!(seller.devices, 1);
    assert!(seller.last_sign_in_at.is_some());
    assert!(
        time::OffsetDateTime::parse(
            &seller.created_at,
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );
    let found = accounts(&client, &token, "Manager@", None).await.unwrap();
    assert_eq!(found.accounts, page.accounts[2..]);

    // Devices; a revoke, then the list says it.
    let devices = account_devices(&client, &token, seller.id).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].id, laptop);
    assert_eq!(devices[0].revoked_at, None);
    // The sign-in just proved the second factor, so no code is needed yet.
    revoke_device(&client, &token, laptop, "").await.unwrap();
    let devices = account_devices(&client, &token, seller.id).await.unwrap();
    assert!(devices[0].revoked_at.is_some());

    // Role, disable, enable, end sessions; the admin's own role is refused in words.
    change_role(&client, &token, seller.id, Role::Manager, "")
        .await
        .unwrap();
    set_disabled(&client, &token, seller.id, true, "")
        .await
        .unwrap();
    let now = accounts(&client, &token, "distributor", None)
        .await
        .unwrap();
    assert_eq!(now.accounts[0].role, Role::Manager);
    assert!(now.accounts[0].disabled);
    set_disabled(&client, &token, seller.id, false, "")
        .await
        .unwrap();
    change_role(&client, &token, seller.id, Role::Distributor, "")
        .await
        .unwrap();
    let message = refused(
        change_role(&client, &token, page.accounts[0].id, Role::Manager, "")
            .await
            .unwrap_err(),
    );
    assert_eq!(message, "You can't change your own role");
    let manager = page.accounts[2].id;
    common::sign_in(&p, account(&c, Role::Manager)).await;
    assert_eq!(end_sessions(&client, &token, manager, "").await.unwrap(), 1);

    // Alerts: evidence in words; acknowledged, then resolved.
    c.storage
        .create_alert(NewAlert {
            account: Some(AccountId::new(seller.id)),
            audience: AlertAudience::Admin,
            kind: "repeated_failures".into(),
            severity: AlertSeverity::Critical,
            evidence: json!({"failures": 10, "addresses": 2}),
            at: time::OffsetDateTime::now_utc(),
            unless_open: false,
        })
        .await
        .unwrap()
        .unwrap();
    let open = alerts(&client, &token, AdminAlertFilter::Open)
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    let alert = &open[0];
    assert_eq!(
        (alert.severity.as_str(), alert.state.as_str()),
        ("critical", "open")
    );
    assert_eq!(alert.account_id, Some(seller.id));
    assert_eq!(
        alert.evidence,
        [
            EvidenceItem {
                label: "Addresses".into(),
                value: "2".into()
            },
            EvidenceItem {
                label: "Failures".into(),
                value: "10".into()
            },
        ]
    );
    let seen = acknowledge_alert(&client, &token, alert.id, "")
        .await
        .unwrap();
    assert_eq!(seen.state, "acknowledged");
    assert!(seen.acknowledged_at.is_some());
    let done = resolve_alert(&client, &token, alert.id, "").await.unwrap();
    assert_eq!(done.state, "resolved");
    assert!(
        alerts(&client, &token, AdminAlertFilter::Open)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        alerts(&client, &token, AdminAlertFilter::Resolved)
            .await
            .unwrap(),
        [done]
    );

    // A distributor is refused by the app before any call, and by the server anyway.
    let other_dir = tempfile::tempdir().unwrap();
    let distributor = signed_in(&p, other_dir.path(), account(&c, Role::Distributor), 1).await;
    let message = refused(require_admin(distributor.store().unwrap()).unwrap_err());
    assert_eq!(
        message,
        "Only an admin can see and change accounts and security alerts."
    );
    let their_token = distributor.access_token().unwrap();
    let message = refused(
        accounts(distributor.client(), &their_token, "", None)
            .await
            .unwrap_err(),
    );
    assert_eq!(message, "Only an admin can do this");

    running.shutdown().await.unwrap();
}
