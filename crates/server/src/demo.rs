//! The demo installation: a private CA, a server certificate for loopback,
//! a backup key whose pin ships ahead of its use, and `demo.json` for the app.
//! Files are reused when present, so the pins stay the same across restarts; the demo
//! company and its three accounts are made on the first run ([`prepare`]) and kept. The
//! company's last period is the month of that first run, so a fresh demo has this month's
//! figures.

use std::path::{Path, PathBuf};

use canopy_core::provisioning::{DemoAccount, Provisioning};
use canopy_core::{MemberId, Period};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde::{Deserialize, Serialize};

use crate::commissions::{self, CommissionPlan};
use crate::config::{CommissionsConfig, Config, DatabaseConfig, Limits, SecretsConfig, TlsConfig};
use crate::secrets::{SecretsError, totp_sealing_keys};
use crate::seed::accounts::{AccountsError, create_demo_accounts};
use crate::seed::{self, Company, SeedError};
use crate::storage::{self, Storage, StorageError};
use crate::tls::spki_pin;

/// Why the demo files could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot write or read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make the demo certificates: {0}")]
    Cert(#[from] rcgen::Error),
    #[error("the system random number generator failed")]
    Random,
    #[error("cannot write demo.json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot open the demo database: {0}")]
    Storage(#[from] StorageError),
    #[error("cannot make the demo company: {0}")]
    Seed(#[from] SeedError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("cannot make the demo accounts: {0}")]
    Accounts(#[from] AccountsError),
    #[error("{0}")]
    Mismatch(String),
    #[error("cannot pay the demo company's periods: {0}")]
    Commissions(String),
}

/// The size and seed of the demo company (used on the first run only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoCompany {
    pub members: usize,
    pub seed: u64,
}

impl Default for DemoCompany {
    fn default() -> Self {
        Self {
            members: 5_000,
            seed: 1,
        }
    }
}

/// What the first run made, kept in `DIR/demo-accounts.json` (owner-readable only) so
/// later runs can list the same accounts: only their hashes are in the database.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedDemo {
    members: usize,
    seed: u64,
    /// The day the company was generated as of (`YYYY-MM-DD`); absent in demos made
    /// before it was recorded (they were generated as of [`seed::REFERENCE_DATE`]).
    #[serde(default)]
    reference: Option<String>,
    accounts: Vec<DemoAccount>,
}

/// The paths and pins of a demo directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFiles {
    pub dir: PathBuf,
    /// The CA certificate clients trust (`ca.pem`).
    pub ca_cert: PathBuf,
    /// The server certificate chain (`server.pem`) and key (`server.key`).
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// A key kept for the next certificate (`backup.key`); only its pin is published.
    pub backup_key: PathBuf,
    /// The key sealing TOTP secrets at rest (`totp.key`, 32 random bytes in hex).
    pub totp_key: PathBuf,
    /// The demo's SQLite database (`canopy.db`).
    pub database: PathBuf,
    /// Current pin first, then the backup's.
    pub pins: [String; 2],
}

impl DemoFiles {
    /// The server configuration that serves this demo on `listen`.
    pub fn config(&self, listen: std::net::SocketAddr) -> Config {
        Config {
            listen,
            tls: TlsConfig {
                cert: self.server_cert.clone(),
                key: self.server_key.clone(),
            },
            database: DatabaseConfig {
                url: format!("sqlite://{}", self.database.display()),
            },
            secrets: SecretsConfig {
                totp_key_file: self.totp_key.clone(),
                old_totp_key_files: Vec::new(),
            },
            limits: Limits::default(),
            commissions: CommissionsConfig::default(),
            // `cargo xtask release --demo` publishes here; an empty folder offers nothing.
            updates: Some(crate::config::UpdatesConfig::in_dir(
                self.dir.join("releases"),
            )),
            retention: crate::config::RetentionConfig::default(),
            alerts: crate::config::AlertsConfig::default(),
        }
    }
}

const CA_KEY: &str = "ca.key";
const CA_CERT: &str = "ca.pem";
const SERVER_KEY: &str = "server.key";
const SERVER_CERT: &str = "server.pem";
const BACKUP_KEY: &str = "backup.key";
const TOTP_KEY: &str = "totp.key";
const DATABASE: &str = "canopy.db";
const SAVED_ACCOUNTS: &str = "demo-accounts.json";
const PROVISIONING: &str = "demo.json";

/// Make (or reuse) the demo CA, server certificate and backup key in `dir`.
pub fn ensure_files(dir: &Path) -> Result<DemoFiles, DemoError> {
    std::fs::create_dir_all(dir).map_err(|source| DemoError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let ca_key = load_or_make_key(&dir.join(CA_KEY))?;
    let server_key = load_or_make_key(&dir.join(SERVER_KEY))?;
    let backup_key = load_or_make_key(&dir.join(BACKUP_KEY))?;

    let ca_params = ca_params()?;
    let ca_cert_path = dir.join(CA_CERT);
    let server_cert_path = dir.join(SERVER_CERT);
    if !ca_cert_path.is_file() || !server_cert_path.is_file() {
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, &ca_key);
        let server_cert = server_params()?.signed_by(&server_key, &issuer)?;
        write(&ca_cert_path, &ca_cert.pem(), false)?;
        // The chain a client receives: the server certificate, then the CA's.
        write(
            &server_cert_path,
            &format!("{}{}", server_cert.pem(), ca_cert.pem()),
            false,
        )?;
    }
    let totp_key = dir.join(TOTP_KEY);
    if !totp_key.is_file() {
        let mut bytes = zeroize::Zeroizing::new([0_u8; 32]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), bytes.as_mut())
            .map_err(|_| DemoError::Random)?;
        let hex = zeroize::Zeroizing::new(data_encoding::HEXLOWER.encode(bytes.as_ref()));
        write(&totp_key, &hex, true)?;
    }
    Ok(DemoFiles {
        dir: dir.to_owned(),
        totp_key,
        database: dir.join(DATABASE),
        ca_cert: ca_cert_path,
        server_cert: server_cert_path,
        server_key: dir.join(SERVER_KEY),
        backup_key: dir.join(BACKUP_KEY),
        pins: [spki_pin(&server_key), spki_pin(&backup_key)],
    })
}

/// On the first run (no `DIR/demo-accounts.json`), fills the empty demo database with
/// `company` as of today (the clock's UTC date) and creates the distributor, manager and
/// admin accounts; later runs check that those accounts are still there and return them
/// unchanged.
pub async fn prepare(
    files: &DemoFiles,
    config: &Config,
    company: DemoCompany,
) -> Result<Vec<DemoAccount>, DemoError> {
    let today = time::OffsetDateTime::now_utc().date();
    prepare_at(files, config, company, today).await
}

/// [`prepare`] with the company generated as of `today` on the first run (recorded in
/// `DIR/demo-accounts.json`; later runs keep the company made then).
pub async fn prepare_at(
    files: &DemoFiles,
    config: &Config,
    company: DemoCompany,
    today: time::Date,
) -> Result<Vec<DemoAccount>, DemoError> {
    // The database holds personal data and password hashes: owner-readable only. SQLite
    // gives its -wal and -shm files the same mode as the database file.
    if !files.database.exists() {
        write(&files.database, "", true)?;
    }
    let storage = storage::open(&config.database.url).await?;
    let saved_path = files.dir.join(SAVED_ACCOUNTS);
    if saved_path.is_file() {
        let text = std::fs::read_to_string(&saved_path).map_err(|source| DemoError::Io {
            path: saved_path.clone(),
            source,
        })?;
        let saved: SavedDemo = serde_json::from_str(&text)?;
        for account in &saved.accounts {
            if storage
                .find_account_by_email(&account.email)
                .await?
                .is_none()
            {
                return Err(DemoError::Mismatch(format!(
                    "{} lists {}, which the demo database does not have; delete {} and {} \
                     to start the demo over",
                    saved_path.display(),
                    account.email,
                    saved_path.display(),
                    files.database.display()
                )));
            }
        }
        if (saved.members, saved.seed) != (company.members, company.seed) {
            tracing::info!(
                members = saved.members,
                seed = saved.seed,
                "reusing the demo company made earlier"
            );
        }
        let as_of = saved
            .reference
            .clone()
            .unwrap_or_else(|| canopy_core::format_date(seed::REFERENCE_DATE));
        tracing::info!(%as_of, "the demo company's figures run up to the day it was made");
        return Ok(saved.accounts);
    }
    if storage.find_member(MemberId::new(1)).await?.is_some() {
        return Err(DemoError::Mismatch(format!(
            "{} already holds a company but {} is missing; delete {} to start the demo over",
            files.database.display(),
            saved_path.display(),
            files.database.display()
        )));
    }
    let generated = Company::generate_at(company.members, company.seed, today)?;
    let picks = generated.demo_members()?;
    seed::insert(&*storage, &generated, 20_000, |_| {}).await?;
    pay_history(&*storage, today).await?;
    let keys = totp_sealing_keys(&config.secrets)?;
    let rng = ring::rand::SystemRandom::new();
    let accounts = create_demo_accounts(
        &*storage,
        &keys,
        &picks,
        &rng,
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    let saved = SavedDemo {
        members: company.members,
        seed: company.seed,
        reference: Some(canopy_core::format_date(today)),
        accounts,
    };
    write(&saved_path, &serde_json::to_string_pretty(&saved)?, true)?;
    Ok(saved.accounts)
}

/// Pays the new company's periods as its history would have: each of the
/// [`seed::PERIODS`] periods run with the plan in force, every one but today's closed, so
/// distributors open the app to their statements and the open period's projection.
async fn pay_history(storage: &dyn Storage, today: time::Date) -> Result<(), DemoError> {
    let plan = CommissionPlan::load(None).map_err(|e| DemoError::Commissions(e.to_string()))?;
    let current = Period::containing(today).map_err(|e| DemoError::Commissions(e.to_string()))?;
    let mut periods = vec![current];
    while periods.len() < seed::PERIODS as usize {
        match periods.last().and_then(|p| p.previous()) {
            Some(p) => periods.push(p),
            None => break,
        }
    }
    let now = time::OffsetDateTime::now_utc;
    for &period in periods.iter().rev() {
        commissions::run(storage, &plan, period, None, now)
            .await
            .map_err(|e| DemoError::Commissions(format!("{period}: {e}")))?;
        if period != current {
            commissions::close(storage, period, None, now())
                .await
                .map_err(|e| DemoError::Commissions(format!("closing {period}: {e}")))?;
        }
    }
    Ok(())
}

/// Write `DIR/demo.json`: the provisioning file the app loads.
pub fn write_provisioning(files: &DemoFiles, server_url: &str) -> Result<Provisioning, DemoError> {
    write_provisioning_with_accounts(files, server_url, &[])
}

/// Write `DIR/demo.json` listing the demo accounts. It holds their passwords and TOTP
/// secrets, so it is readable by its owner only.
pub fn write_provisioning_with_accounts(
    files: &DemoFiles,
    server_url: &str,
    accounts: &[DemoAccount],
) -> Result<Provisioning, DemoError> {
    let path = files.dir.join(CA_CERT);
    let ca_pem = std::fs::read_to_string(&path).map_err(|source| DemoError::Io { path, source })?;
    let provisioning = Provisioning {
        company: "Canopy Demo Company".to_owned(),
        server_url: server_url.to_owned(),
        pins: files.pins.to_vec(),
        ca_pem: Some(ca_pem),
        demo_accounts: accounts.to_vec(),
    };
    let json = serde_json::to_string_pretty(&provisioning)?;
    write(&files.dir.join(PROVISIONING), &json, true)?;
    Ok(provisioning)
}

fn ca_params() -> Result<CertificateParams, DemoError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "Canopy Demo CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Canopy Demo Company");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn server_params() -> Result<CertificateParams, DemoError> {
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "Canopy demo server");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params)
}

fn load_or_make_key(path: &Path) -> Result<KeyPair, DemoError> {
    if path.is_file() {
        let pem = std::fs::read_to_string(path).map_err(|source| DemoError::Io {
            path: path.to_owned(),
            source,
        })?;
        return Ok(KeyPair::from_pem(&pem)?);
    }
    let key = KeyPair::generate()?;
    write(path, &key.serialize_pem(), true)?;
    Ok(key)
}

/// Write `text` to `path`; private files (keys, anything with a secret) are readable by
/// their owner only, also when they already existed with a wider mode.
fn write(path: &Path, text: &str, private: bool) -> Result<(), DemoError> {
    let io = |source| DemoError::Io {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(io)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}
