//! The privacy card's and the admin's GDPR work without the window, against the real
//! server over pinned TLS with real vaults and caches: a distributor downloads their data
//! (a JSON file only they can read, never overwriting an earlier one) and asks for erasure;
//! the admin sees the request, erases the member and closes the request; the distributor's
//! session ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/sync/tests/common/mod.rs"]
mod common;

use canopy_app::commands::admin::{alerts, erase_member, resolve_alert};
use canopy_app::commands::privacy::export;
use canopy_app::session::Session;
use canopy_core::ipc::AdminAlertFilter;
use canopy_core::provisioning::{DemoAccount, Provisioning};
use canopy_core::{MemberStatus, Role};
use canopy_server::auth::TotpSecret;
use canopy_store::{NoKeychain, Vault};
use canopy_sync::ServerClient;
use canopy_sync::auth::SecondFactor;
use common::{account, company, member_of, serve};
use data_encoding::BASE32_NOPAD;
use serde_json::Value;

const LOCAL: &str = "a long local password";

fn code_at(who: &DemoAccount, steps_ahead: u64) -> String {
    let secret =
        TotpSecret::from_bytes(&BASE32_NOPAD.decode(who.totp_secret.as_bytes()).unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    secret.code_at(now + 30 * steps_ahead)
}

async fn signed_in(p: &Provisioning, dir: &std::path::Path, who: &DemoAccount) -> Session {
    let mut session = Session::new(
        ServerClient::new(p).unwrap(),
        Vault::new(dir.join(&who.email), Box::new(NoKeychain)),
        "Laptop",
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

#[tokio::test(flavor = "multi_thread")]
async fn a_distributor_downloads_their_data_and_an_admin_erases_them_on_request() {
    let c = company().await;
    let (running, p) = serve(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let distributor = account(&c, Role::Distributor);
    let member = member_of(&c, Role::Distributor).await;
    let session = signed_in(&p, dir.path(), distributor).await;
    let client = session.client().clone();
    let token = session.access_token().unwrap();

    // The download: the server's document, saved for the person only.
    let downloads = dir.path().join("Downloads");
    let saved = export(&client, &token, &downloads).await.unwrap();
    let path = std::path::PathBuf::from(&saved.path);
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        name.starts_with("canopy-personal-data-") && name.ends_with(".json"),
        "{name}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let document: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(document["format"], "canopy-personal-data");
    assert_eq!(document["account"]["email"], distributor.email.as_str());
    assert_eq!(document["member"]["id"], member.get());
    let orders = c.storage.orders_of(member).await.unwrap();
    assert_eq!(saved.orders, orders.len() as u64);
    assert_eq!(
        saved.statements,
        c.storage.statements_of(member).await.unwrap().len() as u64
    );
    assert!(saved.sign_ins >= 1);
    assert_eq!(saved.bytes, std::fs::metadata(&path).unwrap().len());
    // A second download is a second file; the first is left as it was.
    let again = export(&client, &token, &downloads).await.unwrap();
    assert_ne!(again.path, saved.path);
    assert!(again.path.ends_with(" (2).json"), "{}", again.path);

    // The request reaches the admins as an alert naming the member.
    let request = client.request_erasure(&token).await.unwrap();
    let admin_who = account(&c, Role::Admin);
    let admin = signed_in(&p, dir.path(), admin_who).await;
    let admin_client = admin.client().clone();
    let admin_token = admin.access_token().unwrap();
    let open = alerts(&admin_client, &admin_token, AdminAlertFilter::Open)
        .await
        .unwrap();
    let alert = open.iter().find(|a| a.id == request).unwrap();
    assert_eq!(alert.kind, "gdpr_erasure_request");
    assert_eq!(alert.erasure_member, Some(member.get()));

    // The admin erases (the sign-in just now counts as the step-up) and closes it.
    let code = code_at(admin_who, 1);
    let erased = erase_member(&admin_client, &admin_token, member.get(), &code)
        .await
        .unwrap();
    assert_eq!(erased.member_id, member.get());
    assert!(erased.devices_revoked >= 1);
    let closed = resolve_alert(&admin_client, &admin_token, request, &code)
        .await
        .unwrap();
    assert_eq!(closed.state, "resolved");
    let stored = c.storage.find_member(member).await.unwrap().unwrap();
    assert_eq!(stored.status, MemberStatus::Erased);
    assert!(
        c.storage
            .find_member_personal(member)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(c.storage.orders_of(member).await.unwrap(), orders);
    // A processed request offers no second erasure.
    let resolved = alerts(&admin_client, &admin_token, AdminAlertFilter::Resolved)
        .await
        .unwrap();
    let processed = resolved.iter().find(|a| a.id == request).unwrap();
    assert_eq!(
        processed.erasure_member, None,
        "its evidence went with the erasure"
    );

    // The distributor's session is over.
    assert!(client.my_devices(&token).await.is_err());
    running.shutdown().await.unwrap();
}
