//! The admin's calls against the real server over pinned TLS: the account list (paged and
//! searched), an account's devices, revoking one (its token then fails as revoked), a role
//! change, disabling and enabling, ending sessions, the admin alerts acknowledged and
//! resolved; and the refusals other roles get, in the server's words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use canopy_core::provisioning::DemoAccount;
use canopy_core::{AccountId, Role};
use canopy_server::auth::TotpSecret;
use canopy_server::storage::{AlertAudience, AlertSeverity, NewAlert};
use canopy_sync::admin::AlertFilter;
use canopy_sync::auth::SecondFactor;
use canopy_sync::{ServerClient, SyncError};
use common::{account, company, serve, sign_in, sign_in_with_device};
use data_encoding::BASE32_NOPAD;
use serde_json::json;
use time::OffsetDateTime;

/// The authenticator's code `steps_ahead` 30-second steps from now (the sign-in spent the
/// current one; the server accepts the next).
fn code_for(who: &DemoAccount, steps_ahead: u64) -> SecondFactor {
    let secret =
        TotpSecret::from_bytes(&BASE32_NOPAD.decode(who.totp_secret.as_bytes()).unwrap()).unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    SecondFactor::Code(secret.code_at(now + 30 * steps_ahead))
}

fn server_refusal(error: SyncError) -> (u16, String) {
    match error {
        SyncError::Server { status, message } => (status, message),
        other => panic!("expected the server's refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_manages_accounts_devices_and_alerts() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    let admin_who = account(&c, Role::Admin);
    let admin = sign_in(&p, admin_who).await;
    let (distributor, laptop) = sign_in_with_device(&p, account(&c, Role::Distributor)).await;
    let manager = sign_in(&p, account(&c, Role::Manager)).await;

    // Other roles are refused, in the server's words.
    for token in [&distributor, &manager] {
        let (status, message) = server_refusal(
            client
                .admin_accounts(token, "", None, None)
                .await
                .unwrap_err(),
        );
        assert_eq!(
            (status, message.as_str()),
            (403, "Only an admin can do this")
        );
        let (status, _) = server_refusal(
            client
                .admin_alerts(token, AlertFilter::Open)
                .await
                .unwrap_err(),
        );
        assert_eq!(status, 403);
    }

    // The list, in email order, one page or a page at a time, and searched.
    let all = client.admin_accounts(&admin, "", None, None).await.unwrap();
    let emails: Vec<&str> = all.accounts.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "admin@demo.canopy.example",
            "distributor@demo.canopy.example",
            "manager@demo.canopy.example",
        ]
    );
    assert_eq!(all.next_after, None);
    let seller = all.accounts[1].clone();
    assert_eq!(seller.role, "distributor");
    assert!(seller.member_number.is_some() && seller.member_name.is_some());
    assert!(seller.mfa_enabled && !seller.disabled);
    assert_eq!(seller.devices, 1);
    assert!(seller.last_sign_in_at.is_some());
    let first = client
        .admin_accounts(&admin, "", None, Some(2))
        .await
        .unwrap();
    assert_eq!(first.accounts.len(), 2);
    let rest = client
        .admin_accounts(&admin, "", first.next_after, Some(2))
        .await
        .unwrap();
    assert_eq!(rest.accounts, all.accounts[2..]);
    assert_eq!(rest.next_after, None);
    let found = client
        .admin_accounts(&admin, " MAN", None, None)
        .await
        .unwrap();
    assert_eq!(found.accounts, all.accounts[2..]);

    // An account's devices; revoking one ends its session at once.
    let devices = client
        .admin_account_devices(&admin, seller.id)
        .await
        .unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].id, laptop);
    assert_eq!(devices[0].name, "Test laptop");
    let (status, message) = server_refusal(
        client
            .admin_account_devices(&admin, 999_999)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (status, message.as_str()),
        (404, "There is no account with this id")
    );

    client
        .step_up(&admin, &code_for(admin_who, 1))
        .await
        .unwrap();
    client.admin_revoke_device(&admin, laptop).await.unwrap();
    assert!(matches!(
        client.my_devices(&distributor).await.unwrap_err(),
        SyncError::DeviceRevoked
    ));
    let devices = client
        .admin_account_devices(&admin, seller.id)
        .await
        .unwrap();
    assert!(devices[0].revoked_at.is_some());

    // A role, there and back; never the admin's own.
    client
        .admin_change_role(&admin, seller.id, Role::Manager)
        .await
        .unwrap();
    let now = client
        .admin_accounts(&admin, "distributor@", None, None)
        .await
        .unwrap();
    assert_eq!(now.accounts[0].role, "manager");
    assert_eq!(now.accounts[0].devices, 0);
    client
        .admin_change_role(&admin, seller.id, Role::Distributor)
        .await
        .unwrap();
    let (status, message) = server_refusal(
        client
            .admin_change_role(&admin, all.accounts[0].id, Role::Manager)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (status, message.as_str()),
        (409, "You can't change your own role")
    );

    // Disabled, then enabled again.
    client
        .admin_set_disabled(&admin, seller.id, true)
        .await
        .unwrap();
    let now = client
        .admin_accounts(&admin, "distributor", None, None)
        .await
        .unwrap();
    assert!(now.accounts[0].disabled);
    client
        .admin_set_disabled(&admin, seller.id, false)
        .await
        .unwrap();
    let now = client
        .admin_accounts(&admin, "distributor", None, None)
        .await
        .unwrap();
    assert!(!now.accounts[0].disabled);

    // The manager's sessions end; their token stops working.
    let ended = client
        .admin_end_sessions(&admin, all.accounts[2].id)
        .await
        .unwrap();
    assert_eq!(ended, 1);
    let (status, _) = server_refusal(client.my_devices(&manager).await.unwrap_err());
    assert_eq!(status, 401);

    // An alert for the admins: open, acknowledged, resolved.
    let raised = c
        .storage
        .create_alert(NewAlert {
            account: Some(AccountId::new(seller.id)),
            audience: AlertAudience::Admin,
            kind: "repeated_failures".into(),
            severity: AlertSeverity::Critical,
            evidence: json!({"failures": 10, "addresses": 1}),
            at: OffsetDateTime::now_utc(),
            unless_open: false,
        })
        .await
        .unwrap()
        .unwrap();
    let open = client
        .admin_alerts(&admin, AlertFilter::Open)
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, raised.id.get());
    assert_eq!(open[0].severity, "critical");
    assert_eq!(open[0].state, "open");
    assert_eq!(open[0].account_id, Some(seller.id));
    assert_eq!(open[0].evidence["failures"], 10);
    let seen = client
        .admin_acknowledge_alert(&admin, open[0].id)
        .await
        .unwrap();
    assert_eq!(seen.state, "acknowledged");
    assert_eq!(seen.acknowledged_by, Some(all.accounts[0].id));
    assert_eq!(
        client
            .admin_alerts(&admin, AlertFilter::Acknowledged)
            .await
            .unwrap(),
        [seen]
    );
    let done = client
        .admin_resolve_alert(&admin, open[0].id)
        .await
        .unwrap();
    assert_eq!(done.state, "resolved");
    assert!(
        client
            .admin_alerts(&admin, AlertFilter::Open)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        client
            .admin_alerts(&admin, AlertFilter::All)
            .await
            .unwrap()
            .len(),
        1
    );

    running.shutdown().await.unwrap();
}
