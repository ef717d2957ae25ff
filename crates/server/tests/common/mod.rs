//! Shared by the `api_*` tests: the real server over TLS on a loopback port with a SQLite
//! file in a temp dir and a manual clock, accounts made through storage, device keys.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use canopy_core::{Email, MemberId, Role};
use canopy_server::app::{AppState, Clock, seal_totp_secret};
use canopy_server::auth::TotpSecret;
use canopy_server::config::Limits;
use canopy_server::demo;
use canopy_server::server::{self, RunningServer};
use canopy_server::storage::{AccountRecord, NewAccount};
use canopy_server::tls;
use data_encoding::{BASE64, HEXLOWER};
use reqwest::{Response, StatusCode};
use ring::signature::{Ed25519KeyPair, KeyPair};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use tempfile::TempDir;

/// 2027-01-15T08:00:00Z: the manual clock's start; TOTP codes are computed for it.
pub const T0: i64 = 1_800_000_000;
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Api {
    pub running: RunningServer,
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub clock: Clock,
    /// The demo CA the server's certificate chains to, and the SPKI pins (current, backup).
    pub ca: std::path::PathBuf,
    pub pins: [String; 2],
    _dir: TempDir,
}

/// A person with an account, a TOTP secret and (once signed in) a device key.
pub struct User {
    pub account: AccountRecord,
    pub email: String,
    pub password: String,
    pub totp: TotpSecret,
}

pub struct Device {
    pub key: Ed25519KeyPair,
    pub id: Option<i64>,
}

impl Device {
    pub fn new() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        Self {
            key: Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap(),
            id: None,
        }
    }

    pub fn public_key(&self) -> String {
        BASE64.encode(self.key.public_key().as_ref())
    }

    pub fn sign(&self, message: &str) -> String {
        BASE64.encode(self.key.sign(message.as_bytes()).as_ref())
    }
}

/// Tokens of a session as the client keeps them.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub device_id: i64,
}

impl Session {
    pub fn from_json(body: &Value) -> Self {
        Self {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
            device_id: body["device_id"].as_i64().unwrap(),
        }
    }
}

pub fn client(ca: &Path, local: Option<IpAddr>) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder().use_preconfigured_tls(config);
    if let Some(ip) = local {
        builder = builder.local_address(ip);
    }
    builder.build().unwrap()
}

impl Api {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = canopy_server::storage::testing::database_url(dir.path(), "api").await;
        Self::start_in(dir, url).await
    }

    /// Like [`Api::start`], with the database at `url` instead of a fresh one in the temp
    /// dir (e.g. a SQLite file on a small filesystem the test mounted).
    pub async fn start_with_database(url: String) -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), url).await
    }

    /// The demo's certificate and keys in `dir`, the database at `url`, a manual clock at T0.
    async fn start_in(dir: tempfile::TempDir, url: String) -> Self {
        let files = demo::ensure_files(dir.path()).unwrap();
        let mut config = files.config(SocketAddr::from(([127, 0, 0, 1], 0)));
        config.database.url = url;
        config.limits = Limits {
            max_body_bytes: 16 * 1024,
            ..Limits::default()
        };
        let clock = Clock::manual(T0);
        let state = server::state_for(&config, clock.clone()).await.unwrap();
        let running = server::start_with(&config, state.clone()).await.unwrap();
        let base = format!("https://localhost:{}", running.addr.port());
        Self {
            http: client(&files.ca_cert, None),
            ca: files.ca_cert.clone(),
            pins: files.pins.clone(),
            running,
            base,
            state,
            clock,
            _dir: dir,
        }
    }

    /// A client whose connections come from `ip` (any 127.0.0.0/8 address routes on loopback).
    pub fn client_from(&self, ip: IpAddr) -> reqwest::Client {
        client(&self.ca, Some(ip))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// An account with MFA on (a sealed TOTP secret), made through storage.
    pub async fn user(&self, email: &str) -> User {
        self.user_as(email, Role::Distributor, None).await
    }

    /// A user with this role, linked to this genealogy member.
    pub async fn user_as(&self, email: &str, role: Role, member: Option<MemberId>) -> User {
        let account = self.account_as(email, PASSWORD, role, member).await;
        let totp = TotpSecret::generate(self.state.rng.as_ref()).unwrap();
        let sealed =
            seal_totp_secret(&self.state.keys, account.id, &totp, &self.state.rng).unwrap();
        self.state
            .storage
            .set_mfa(account.id, Some(sealed), true)
            .await
            .unwrap();
        let account = self
            .state
            .storage
            .find_account(account.id)
            .await
            .unwrap()
            .unwrap();
        User {
            account,
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            totp,
        }
    }

    /// An account without MFA.
    pub async fn account(&self, email: &str, password: &str) -> AccountRecord {
        self.account_as(email, password, Role::Distributor, None)
            .await
    }

    pub async fn account_as(
        &self,
        email: &str,
        password: &str,
        role: Role,
        member: Option<MemberId>,
    ) -> AccountRecord {
        let hash = self
            .state
            .hasher
            .hash(password, self.state.rng.as_ref())
            .unwrap();
        let new = NewAccount {
            email: Email::parse(email).unwrap(),
            password_hash: hash,
            role,
            member,
        };
        self.state
            .storage
            .create_account(new, self.clock.now())
            .await
            .unwrap()
    }

    /// The current TOTP code; moves the clock on a step first so no code is a replay.
    pub fn code(&self, user: &User) -> String {
        self.clock.advance(30);
        user.totp.code_at(u64::try_from(self.now()).unwrap())
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// The sign-in body, with a signed proof of `device` when it is registered.
    pub fn sign_in_body(&self, email: &str, password: &str, device: Option<&Device>) -> Value {
        let mut body = json!({"email": email, "password": password});
        if let Some(Device { id: Some(id), .. }) = device {
            let ts = self.now();
            let message = format!(
                "canopy-sign-in\n{id}\n{ts}\n{}",
                email.trim().to_lowercase()
            );
            body["device"] = json!({
                "id": id,
                "timestamp": ts,
                "signature": device.unwrap().sign(&message),
            });
        }
        body
    }

    /// Password then TOTP; registers `device` if it is new. Panics on any refusal.
    pub async fn sign_in(&self, user: &User, device: &mut Device) -> Session {
        let body = self.sign_in_body(&user.email, &user.password, Some(device));
        let first = expect_json(self.post("/v1/auth/sign-in", body).await, StatusCode::OK).await;
        assert_eq!(first["mfa_required"], true);
        let mut body = json!({
            "mfa_token": first["mfa_token"],
            "code": self.code(user),
        });
        if device.id.is_none() {
            body["device"] = json!({"name": "Test laptop", "public_key": device.public_key()});
        }
        let second = expect_json(self.post("/v1/auth/mfa", body).await, StatusCode::OK).await;
        let session = Session::from_json(&second);
        device.id = Some(session.device_id);
        session
    }

    /// A refresh call signed by `device` (or by `signer` instead, to forge one).
    pub async fn refresh(&self, session: &Session, signer: &Device) -> Response {
        self.refresh_at(session, signer, self.now()).await
    }

    /// A refresh call signed at unix time `ts`.
    pub async fn refresh_at(&self, session: &Session, signer: &Device, ts: i64) -> Response {
        let digest = ring::digest::digest(&ring::digest::SHA256, session.refresh.as_bytes());
        let message = format!(
            "canopy-refresh\n{}\n{ts}\n{}",
            session.device_id,
            HEXLOWER.encode(digest.as_ref())
        );
        self.post(
            "/v1/auth/refresh",
            json!({
                "refresh_token": session.refresh,
                "device_id": session.device_id,
                "timestamp": ts,
                "signature": signer.sign(&message),
            }),
        )
        .await
    }
}

/// Asserts the status and returns the JSON body (a problem document for errors).
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Asserts a problem document with this status, returning its `detail`.
pub async fn expect_problem(response: Response, status: StatusCode) -> String {
    let got = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["status"], status.as_u16());
    body["detail"].as_str().unwrap().to_owned()
}
