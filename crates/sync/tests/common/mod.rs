//! Shared by the end-to-end sync tests: a seeded demo company on the real server over
//! real TLS, demo accounts signed in with their TOTP codes, and fresh SQLCipher caches.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use canopy_core::provisioning::{DemoAccount, Provisioning};
use canopy_core::{ConsentPurpose, EnrollmentForm, EnrollmentKind, MemberId, Role};
use canopy_server::auth::TotpSecret;
use canopy_server::config::Config;
use canopy_server::demo::{self, DemoCompany, DemoFiles};
use canopy_server::server::{self, RunningServer};
use canopy_server::storage::{self, Storage};
use canopy_store::{CacheKey, Store};
use data_encoding::{BASE32_NOPAD, BASE64};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use time::OffsetDateTime;

pub const NOW: &str = "2026-11-21T10:00:00Z";
/// More than two pages of 5,000 for the admin.
pub const MEMBERS: usize = 12_000;

pub struct Company {
    pub dir: tempfile::TempDir,
    pub files: DemoFiles,
    pub config: Config,
    pub accounts: Vec<DemoAccount>,
    pub storage: Arc<dyn Storage>,
}

pub async fn company() -> Company {
    let dir = tempfile::tempdir().unwrap();
    let files = demo::ensure_files(dir.path()).unwrap();
    let mut config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.database.url = storage::testing::database_url(dir.path(), "company").await;
    let accounts = demo::prepare(
        &files,
        &config,
        DemoCompany {
            members: MEMBERS,
            seed: 11,
        },
    )
    .await
    .unwrap();
    let storage = storage::open(&config.database.url).await.unwrap();
    Company {
        dir,
        files,
        config,
        accounts,
        storage,
    }
}

pub async fn serve(c: &Company) -> (RunningServer, Provisioning) {
    let running = server::start(&c.config).await.unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    let provisioning = demo::write_provisioning(&c.files, &url).unwrap();
    (running, provisioning)
}

/// Password, then the TOTP code, from a new device: the session's access token.
pub async fn sign_in(p: &Provisioning, account: &DemoAccount) -> String {
    sign_in_with_device(p, account).await.0
}

/// The access token and the id the server gave the new device.
pub async fn sign_in_with_device(p: &Provisioning, account: &DemoAccount) -> (String, i64) {
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
            "code": secret.code_at(now),
            "device": {"name": "Test laptop", "public_key": BASE64.encode(key.public_key().as_ref())},
        }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let token = second["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("sign-in of {} failed: {second}", account.email))
        .to_owned();
    (token, second["device_id"].as_i64().unwrap())
}

pub fn account(c: &Company, role: Role) -> &DemoAccount {
    c.accounts.iter().find(|a| a.role == role).unwrap()
}

/// The laptop is reported stolen: the demo admin revokes `device` through the API.
pub async fn admin_revokes(c: &Company, p: &Provisioning, device: i64) {
    let admin = sign_in(p, account(c, Role::Admin)).await;
    let status = reqwest::Client::builder()
        .use_preconfigured_tls(canopy_sync::tls::client_config(p).unwrap())
        .build()
        .unwrap()
        .delete(format!("{}/v1/admin/devices/{device}", p.server_url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
}

/// The member id of the demo account with `role`.
pub async fn member_of(c: &Company, role: Role) -> MemberId {
    c.storage
        .find_account_by_email(&account(c, role).email)
        .await
        .unwrap()
        .unwrap()
        .member
        .unwrap()
}

/// The scope straight from the server's storage: the member and everyone below, by id.
pub async fn scope_of(storage: &dyn Storage, root: Option<MemberId>) -> BTreeSet<i64> {
    let Some(root) = root else {
        return (1..=MEMBERS as i64).collect();
    };
    let mut out = BTreeSet::from([root.get()]);
    let mut queue = vec![root];
    while let Some(m) = queue.pop() {
        let mut after = None;
        loop {
            let page = storage.list_enrollees(m, after, 200).await.unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|r| r.id);
            for r in page {
                out.insert(r.id.get());
                queue.push(r.id);
            }
        }
    }
    out
}

pub fn cached_ids(store: &Store) -> BTreeSet<i64> {
    store
        .database()
        .read(|c| {
            let mut stmt = c.prepare("SELECT id FROM members")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<BTreeSet<i64>, _>>()?;
            Ok(ids)
        })
        .unwrap()
}

/// A new cache named `name`, bootstrapped from the server by `role`'s demo account, and
/// that account's access token.
pub async fn cached(c: &Company, p: &Provisioning, role: Role, name: &str) -> (Store, String) {
    let token = sign_in(p, account(c, role)).await;
    let store = fresh_store(c.dir.path(), name);
    canopy_sync::ServerClient::new(p)
        .unwrap()
        .bootstrap(&store, &token, NOW, |_| std::ops::ControlFlow::Continue(()))
        .await
        .unwrap();
    (store, token)
}

pub fn fresh_store(dir: &std::path::Path, name: &str) -> Store {
    Store::open(&dir.join(name), CacheKey::generate().unwrap()).unwrap()
}

/// A distributor's enrollment under `sponsor`, as a field rep types it offline; `n` makes
/// the email unique.
pub fn enrollment_form(sponsor: i64, n: u32) -> EnrollmentForm {
    EnrollmentForm {
        kind: EnrollmentKind::Distributor,
        sponsor: Some(MemberId::new(sponsor)),
        legal_name: "Ana Lima".into(),
        display_name: String::new(),
        email: format!("ana.lima.{n}@example.pt"),
        phone: String::new(),
        date_of_birth: "1990-04-25".into(),
        address_line1: "Rua Augusta 1".into(),
        address_line2: String::new(),
        city: "Lisboa".into(),
        region: String::new(),
        postal_code: String::new(),
        country: "PT".into(),
        tax_id: String::new(),
        consent_version: "2026-01".into(),
        consent_purposes: vec![ConsentPurpose::Terms, ConsentPurpose::PrivacyNotice],
        consent_given_at: OffsetDateTime::now_utc(),
        consent_given_offline: true,
    }
}
