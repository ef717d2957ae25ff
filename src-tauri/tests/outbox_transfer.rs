//! A field rep's laptop dies before it could sync: the outbox is exported on device A
//! (offline), imported on device B of the same account and pushed from there — applied
//! once on the real server; then A comes back online and pushes the same commands, and
//! nothing is doubled (the server answers each idempotency key once per account); a
//! command the server had refused comes back refused on B, with the same reason. Also the
//! commands' own checks: the passphrase's rules, a file named outside the folder, a wrong
//! passphrase as a refusal, another account's cache.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use std::ops::ControlFlow;

use canopy_app::commands::orders::{products, save_order};
use canopy_app::commands::outbox::{CONSENT_VERSION, list, save_enrollment};
use canopy_app::commands::outbox_transfer::{export_to, files_in, import_from};
use canopy_core::ipc::{
    CommandError, EnrollRequest, OrderLineRequest, OrderRequest, OutboxStateView,
};
use canopy_core::provisioning::{DemoAccount, Provisioning};
use canopy_core::{EnrollmentKind, Role};
use canopy_server::auth::TotpSecret;
use canopy_server::storage::Tree;
use canopy_sync::ServerClient;
use common::{NOW, account, cached, company, fresh_store, member_of, serve};
use data_encoding::{BASE32_NOPAD, BASE64};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use time::OffsetDateTime;

const PASSPHRASE: &str = "blue heron at the lake";

/// The same account from a second new device, with the authenticator's next code (the
/// server takes each code once, and accepts one step ahead).
async fn sign_in_again(p: &Provisioning, account: &DemoAccount) -> String {
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(canopy_sync::tls::client_config(p).unwrap())
        .build()
        .unwrap();
    let post = |path: &str, body: Value| {
        http.post(format!("{}{path}", p.server_url))
            .json(&body)
            .send()
    };
    let first: Value = post(
        "/v1/auth/sign-in",
        json!({"email": account.email, "password": account.password}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let secret =
        TotpSecret::from_bytes(&BASE32_NOPAD.decode(account.totp_secret.as_bytes()).unwrap())
            .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let second: Value = post(
        "/v1/auth/mfa",
        json!({
            "mfa_token": first["mfa_token"],
            "code": secret.code_at(now + 30),
            "device": {"name": "Borrowed laptop", "public_key": BASE64.encode(key.public_key().as_ref())},
        }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    second["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("the second sign-in failed: {second}"))
        .to_owned()
}

fn enrollment(email: &str) -> EnrollRequest {
    EnrollRequest {
        kind: EnrollmentKind::Distributor,
        sponsor: None,
        legal_name: "Inês Duarte".into(),
        email: email.into(),
        date_of_birth: "1988-06-02".into(),
        address_line1: "Rua das Flores 7".into(),
        city: "Braga".into(),
        postal_code: "4700-001".into(),
        country: "pt".into(),
        consent_version: CONSENT_VERSION.into(),
        accepted: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outbox_moved_to_another_device_is_applied_once_even_when_the_old_one_returns() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let client = ServerClient::new(&p).unwrap();
    // Two devices of the same distributor, each with its own cache and session.
    let (a, token_a) = cached(&c, &p, Role::Distributor, "a.db").await;
    let token_b = sign_in_again(&p, account(&c, Role::Distributor)).await;
    let b = fresh_store(c.dir.path(), "b.db");
    client
        .bootstrap(&b, &token_b, NOW, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let me = member_of(&c, Role::Distributor).await;
    let now = OffsetDateTime::now_utc();

    // Online on A first: an enrollment applied, and the same person again, refused.
    save_enrollment(&a, &enrollment("joao.twice@example.pt"), now, true).unwrap();
    client.push_outbox(&a, &token_a, now).await.unwrap();
    save_enrollment(&a, &enrollment("joao.twice@example.pt"), now, true).unwrap();
    let pushed = client.push_outbox(&a, &token_a, now).await.unwrap();
    assert_eq!(pushed.rejected, 1, "{pushed:?}");
    let enrollees_before = c.storage.count_downline(me, Tree::Sponsor).await.unwrap();
    let orders_before = c.storage.orders_of(me).await.unwrap().len();

    // Offline on A: two enrollments and an order, never pushed.
    save_enrollment(&a, &enrollment("ines.duarte@example.pt"), now, true).unwrap();
    save_enrollment(&a, &enrollment("ines.duarte.2@example.pt"), now, true).unwrap();
    let sku = products(&a).unwrap()[0].sku.clone();
    save_order(
        &a,
        &OrderRequest {
            member: None,
            lines: vec![OrderLineRequest { sku, quantity: 2 }],
        },
        now,
    )
    .unwrap();
    let made = list(&a).unwrap();
    assert_eq!(made.len(), 5);
    let refusal = made[1].last_error.clone();
    assert!(refusal.is_some());
    // What goes: the refused one (to fix on the other device) and the three pending.
    let made = made[1..].to_vec();

    // Exported to the "Downloads" folder (a USB stick carries it to B's).
    let downloads = c.dir.path().join("Downloads");
    for (passphrase, confirmation, message) in [
        (
            "short",
            "short",
            "Use a passphrase of at least 12 characters",
        ),
        (
            PASSPHRASE,
            "blue heron at the lake.",
            "The two passphrases are not the same",
        ),
    ] {
        assert_eq!(
            export_to(&a, &downloads, passphrase, confirmation, now).unwrap_err(),
            CommandError::Invalid(message.into())
        );
    }
    assert!(files_in(&downloads).unwrap().is_empty(), "nothing written");
    let exported = export_to(&a, &downloads, PASSPHRASE, PASSPHRASE, now).unwrap();
    assert_eq!(exported.items, 4);
    let files = files_in(&downloads).unwrap();
    assert_eq!(files.len(), 1);
    assert!(exported.path.ends_with(&files[0].name), "{exported:?}");
    assert!(files[0].name.ends_with(".canopy-outbox"));
    let name = files[0].name.clone();

    // On B: a name outside the folder and a wrong passphrase are refused, then it goes in.
    assert!(matches!(
        import_from(&b, &downloads, "../a.db", PASSPHRASE, now),
        Err(CommandError::Invalid(_))
    ));
    assert_eq!(
        import_from(&b, &downloads, &name, "blue heron at the lakes", now).unwrap_err(),
        CommandError::Refused("The passphrase does not open this file".into())
    );
    assert!(list(&b).unwrap().is_empty());
    let imported = import_from(&b, &downloads, &name, PASSPHRASE, now).unwrap();
    assert_eq!((imported.added, imported.already_present), (4, 0));
    let again = import_from(&b, &downloads, &name, PASSPHRASE, now).unwrap();
    assert_eq!((again.added, again.already_present), (0, 4));
    let on_b = list(&b).unwrap();
    assert_eq!(
        on_b.iter().map(|i| &i.summary).collect::<Vec<_>>(),
        made.iter().map(|i| &i.summary).collect::<Vec<_>>(),
        "the same commands, in the same order"
    );
    assert!(on_b.iter().all(|i| i.state == OutboxStateView::Pending));
    assert_eq!(
        on_b.iter().map(|i| &i.created_at).collect::<Vec<_>>(),
        made.iter().map(|i| &i.created_at).collect::<Vec<_>>(),
        "made when they were made on A"
    );

    // B syncs: each applied once on the server; the refused one gets the refusal the
    // server keeps under its key.
    let pushed = client.push_outbox(&b, &token_b, now).await.unwrap();
    assert_eq!((pushed.applied, pushed.rejected), (3, 1), "{pushed:?}");
    let on_b = list(&b).unwrap();
    assert_eq!(on_b[0].state, OutboxStateView::Rejected);
    assert_eq!(on_b[0].last_error, refusal);
    let enrollees = c.storage.count_downline(me, Tree::Sponsor).await.unwrap();
    let orders = c.storage.orders_of(me).await.unwrap().len();
    assert_eq!(enrollees, enrollees_before + 2);
    assert_eq!(orders, orders_before + 1);

    // A comes back online and pushes the same commands: the server answers each key with
    // what it answered B, and makes nothing new.
    let pushed = client.push_outbox(&a, &token_a, now).await.unwrap();
    assert_eq!(pushed.applied, 3, "{pushed:?}");
    assert_eq!(
        c.storage.count_downline(me, Tree::Sponsor).await.unwrap(),
        enrollees,
        "no member enrolled twice"
    );
    assert_eq!(
        c.storage.orders_of(me).await.unwrap().len(),
        orders,
        "no order placed twice"
    );
    let refs = |items: Vec<canopy_core::ipc::OutboxItemView>| {
        items
            .into_iter()
            .map(|i| (i.state, i.server_ref))
            .collect::<Vec<_>>()
    };
    let on_a = refs(list(&a).unwrap())[1..].to_vec();
    assert_eq!(
        on_a,
        refs(list(&b).unwrap()),
        "the same member and order ids"
    );
    assert!(
        on_a[1..]
            .iter()
            .all(|(state, r)| *state == OutboxStateView::Applied && r.is_some())
    );

    // Once the refused one is given up, nothing is left to export.
    a.outbox_discard(made[0].seq).unwrap();
    assert_eq!(
        export_to(&a, &downloads, PASSPHRASE, PASSPHRASE, now).unwrap_err(),
        CommandError::Invalid("There is nothing waiting to be sent: nothing to export".into())
    );

    // A manager's cache (another account) refuses the file.
    let (other, _) = cached(&c, &p, Role::Manager, "manager.db").await;
    let refused = import_from(&other, &downloads, &name, PASSPHRASE, now).unwrap_err();
    let CommandError::Invalid(message) = &refused else {
        panic!("{refused:?}");
    };
    assert!(
        message.contains("it can only be imported on a device of the same account"),
        "{message}"
    );
    assert!(list(&other).unwrap().is_empty());
    running.shutdown().await.unwrap();
}
