//! The server's configuration: a typed struct read from a TOML file, with
//! environment overrides, validated at start-up with messages that say what to fix.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything `canopy-server serve` needs. Unknown keys are refused so a typo
/// in a deployment's file is an error, not a silently ignored setting.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on, e.g. `0.0.0.0:8443`; port 0 picks a free port.
    pub listen: SocketAddr,
    pub tls: TlsConfig,
    pub database: DatabaseConfig,
    pub secrets: SecretsConfig,
    /// Signed app updates served from a releases folder (`[updates]`); none when absent.
    #[serde(default)]
    pub updates: Option<UpdatesConfig>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub commissions: CommissionsConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub alerts: AlertsConfig,
}

/// How long the server keeps history that names people (GDPR art. 5(1)(e)): see
/// `retention`. 0 keeps it for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days a sign-in (time, network address, device, outcome) is kept (default 365).
    #[serde(default = "RetentionConfig::default_days")]
    pub sign_in_days: u32,
    /// Days an alert is kept after it was resolved (default 365); open ones always stay.
    #[serde(default = "RetentionConfig::default_days")]
    pub closed_alert_days: u32,
}

impl RetentionConfig {
    /// The longest retention a setting may ask for: a century, which is "for ever".
    pub const MAX_DAYS: u32 = 36_500;

    const fn default_days() -> u32 {
        365
    }
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            sign_in_days: Self::default_days(),
            closed_alert_days: Self::default_days(),
        }
    }
}

/// How the server keeps the open period's projection current (see `projection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommissionsConfig {
    /// Minutes between looks at the change log; when anything moved, the current period
    /// is run again. 0 turns projections off (runs then happen only when an admin asks).
    #[serde(default = "CommissionsConfig::default_projection_minutes")]
    pub projection_minutes: u32,
}

impl CommissionsConfig {
    const fn default_projection_minutes() -> u32 {
        60
    }
}

impl Default for CommissionsConfig {
    fn default() -> Self {
        Self {
            projection_minutes: Self::default_projection_minutes(),
        }
    }
}

/// Where the server keeps its data: `sqlite:///var/lib/canopy/canopy.db`,
/// `postgres://canopy:…@db/canopy` (several instances on one database), or
/// `sqlite::memory:` (tests).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
}

/// Secrets read from files, never written in the configuration itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// The key that seals TOTP secrets at rest (see `auth::sealed`).
    pub totp_key_file: PathBuf,
    /// Earlier keys, still able to open secrets sealed before a rotation.
    #[serde(default)]
    pub old_totp_key_files: Vec<PathBuf>,
}

/// The server's certificate chain and private key, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the server certificate first, then any intermediates.
    pub cert: PathBuf,
    /// PEM file with the server's private key (PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
}

/// Request limits that protect every handler from oversized input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted, in bytes (default 1 MiB).
    #[serde(default = "Limits::default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// The largest total one order may come to, in minor units of the catalogue's currency
    /// (default 500000: 5,000.00). A bigger order pushed from a device is refused with the
    /// figures, for the person to split or to order through the company.
    #[serde(default = "Limits::default_max_order_minor")]
    pub max_order_minor: i64,
}

impl Limits {
    const fn default_max_body_bytes() -> usize {
        1024 * 1024
    }

    pub const fn default_max_order_minor() -> i64 {
        500_000
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: Self::default_max_body_bytes(),
            max_order_minor: Self::default_max_order_minor(),
        }
    }
}

/// The transaction watch (SECURITY.md #15, see `watch`): when an order, an enrollment burst,
/// a burst before a period closes or a loop of orders between accounts raises an admin
/// alert. Every threshold has a default chosen for a direct-selling company's usual rhythm
/// (a monthly order of about 100 PV, enrollments typed by hand); `enabled = false` turns
/// the watch off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    pub enabled: bool,
    /// An order is unusual when its total is more than this many times the median of the
    /// member's earlier orders (default 5). Orders vary with promotions and restocks, two
    /// or three times the usual is common; five times is rare in honest buying and typical
    /// of a stolen payment or of volume bought to qualify. The median, not the mean, so one
    /// earlier big order does not raise the bar.
    pub order_multiple: u32,
    /// Earlier orders needed before a member's habits are judged (default 3): the median
    /// of one or two orders says little, and a newcomer's first orders are unknown anyway.
    pub order_min_history: u32,
    /// Orders below this total, in minor units of their currency, are never unusual
    /// (default 25000: 250.00, about two and a half monthly orders): below it the money
    /// at stake is not worth an admin's time, whatever the ratio.
    pub order_min_minor: i64,
    /// This many enrollments (default 8) from one device, or from one network address ...
    pub enroll_burst_count: u32,
    /// ... within this many minutes (default 15) raise an alert. Typing an enrollment
    /// (identity, address, date of birth, consent) takes a few minutes, so one person
    /// manages three to five in a quarter of an hour; eight is a script, fake sign-ups
    /// for a headcount bonus, or an offline event's batch worth a glance.
    pub enroll_burst_minutes: u32,
    /// The last hours of a calendar-month period (default 48) watched for bursts: ranks
    /// and commissions are decided on the month's volume, so buying to qualify happens
    /// in its last two days.
    pub close_hours: u32,
    /// Orders one account places in those hours that make a burst (default 5, more than
    /// an account's usual orders in a whole month) ...
    pub close_min_orders: u32,
    /// ... or the volume they carry, in whole PV (default 500: five monthly orders) ...
    pub close_min_pv: u32,
    /// ... when that is also more than this many times (default 3) what the account's
    /// own rate over the baseline would bring in as many hours.
    pub close_multiple: u32,
    /// The days before the watched hours over which an account's usual rate is measured
    /// (default 90: three months of its rhythm).
    pub close_baseline_days: u32,
    /// A loop of orders between two or three accounts (each ordering for the next one's
    /// member) in one period raises an alert when every link carries at least this volume
    /// in whole PV (default 100: a monthly order, what keeps a member active), the amount
    /// such loops are made to pass around.
    pub loop_min_pv: u32,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            order_multiple: 5,
            order_min_history: 3,
            order_min_minor: 25_000,
            enroll_burst_count: 8,
            enroll_burst_minutes: 15,
            close_hours: 48,
            close_min_orders: 5,
            close_min_pv: 500,
            close_multiple: 3,
            close_baseline_days: 90,
            loop_min_pv: 100,
        }
    }
}

impl AlertsConfig {
    /// Each threshold within a range where the rule still means something.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(&str, i64, i64, i64); 11] = [
            ("order_multiple", self.order_multiple.into(), 2, 1_000),
            ("order_min_history", self.order_min_history.into(), 1, 100),
            ("order_min_minor", self.order_min_minor, 1, i64::MAX),
            (
                "enroll_burst_count",
                self.enroll_burst_count.into(),
                2,
                10_000,
            ),
            (
                "enroll_burst_minutes",
                self.enroll_burst_minutes.into(),
                1,
                1_440,
            ),
            ("close_hours", self.close_hours.into(), 1, 240),
            ("close_min_orders", self.close_min_orders.into(), 1, 10_000),
            ("close_min_pv", self.close_min_pv.into(), 1, 100_000_000),
            ("close_multiple", self.close_multiple.into(), 1, 1_000),
            (
                "close_baseline_days",
                self.close_baseline_days.into(),
                7,
                366,
            ),
            ("loop_min_pv", self.loop_min_pv.into(), 1, 100_000_000),
        ];
        for (key, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::Invalid(format!(
                    "alerts.{key} must be between {min} and {max}, not {value}"
                )));
            }
        }
        Ok(())
    }
}

/// Where the app's signed releases are (`cargo xtask release` writes them) and how much
/// the update routes will read. The routes are unauthenticated, so they only ever read
/// the files the folder's `latest.json` names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatesConfig {
    /// The releases folder: `latest.json`, the artifacts and their `.sig` files.
    pub dir: PathBuf,
    /// The largest artifact served, in MiB (default 512).
    #[serde(default = "UpdatesConfig::default_max_artifact_mib")]
    pub max_artifact_mib: u64,
}

impl UpdatesConfig {
    const fn default_max_artifact_mib() -> u64 {
        512
    }

    /// Releases from `dir` with the default limits.
    pub fn in_dir(dir: PathBuf) -> Self {
        Self {
            dir,
            max_artifact_mib: Self::default_max_artifact_mib(),
        }
    }

    pub fn max_artifact_bytes(&self) -> u64 {
        self.max_artifact_mib.saturating_mul(1024 * 1024)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        const MAX_MIB: u64 = 4096;
        if !(1..=MAX_MIB).contains(&self.max_artifact_mib) {
            return Err(ConfigError::Invalid(format!(
                "updates.max_artifact_mib must be between 1 and {MAX_MIB}, not {}",
                self.max_artifact_mib
            )));
        }
        if !self.dir.is_dir() {
            return Err(ConfigError::Invalid(format!(
                "updates.dir points to {}, which is not a folder",
                self.dir.display()
            )));
        }
        Ok(())
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("the environment variable {name} is not valid: {message}")]
    Env { name: &'static str, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Read `path`, apply `CANOPY_SERVER_*` overrides from the environment, validate.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::parse(&text, path)?;
        config.apply_env(|name| std::env::var(name).ok())?;
        config.resolve_relative_to(path.parent().unwrap_or(Path::new(".")));
        config.validate()?;
        Ok(config)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })
    }

    /// Environment overrides, so containers and systemd units can change the
    /// listen address or the certificate paths without editing the file.
    pub fn apply_env(
        &mut self,
        var: impl Fn(&'static str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(listen) = var("CANOPY_SERVER_LISTEN") {
            self.listen = listen.parse().map_err(|_| ConfigError::Env {
                name: "CANOPY_SERVER_LISTEN",
                message: format!("{listen:?} is not an address like 0.0.0.0:8443"),
            })?;
        }
        if let Some(cert) = var("CANOPY_SERVER_TLS_CERT") {
            self.tls.cert = PathBuf::from(cert);
        }
        if let Some(key) = var("CANOPY_SERVER_TLS_KEY") {
            self.tls.key = PathBuf::from(key);
        }
        if let Some(url) = var("CANOPY_SERVER_DATABASE_URL") {
            self.database.url = url;
        }
        if let Some(file) = var("CANOPY_SERVER_TOTP_KEY_FILE") {
            self.secrets.totp_key_file = PathBuf::from(file);
        }
        if let Some(limit) = var("CANOPY_SERVER_MAX_BODY_BYTES") {
            self.limits.max_body_bytes = limit.parse().map_err(|_| ConfigError::Env {
                name: "CANOPY_SERVER_MAX_BODY_BYTES",
                message: format!("{limit:?} is not a number of bytes"),
            })?;
        }
        Ok(())
    }

    /// Relative paths in the file are relative to the file, not to wherever
    /// the server happened to be started.
    fn resolve_relative_to(&mut self, dir: &Path) {
        let paths = [
            &mut self.tls.cert,
            &mut self.tls.key,
            &mut self.secrets.totp_key_file,
        ]
        .into_iter()
        .chain(self.secrets.old_totp_key_files.iter_mut())
        .chain(self.updates.as_mut().map(|u| &mut u.dir));
        for path in paths {
            if path.is_relative() {
                *path = dir.join(&*path);
            }
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        const MIN_BODY: usize = 1024;
        const MAX_BODY: usize = 64 * 1024 * 1024;
        if !(MIN_BODY..=MAX_BODY).contains(&self.limits.max_body_bytes) {
            return Err(ConfigError::Invalid(format!(
                "limits.max_body_bytes must be between {MIN_BODY} and {MAX_BODY}, not {}",
                self.limits.max_body_bytes
            )));
        }
        if self.limits.max_order_minor <= 0 {
            return Err(ConfigError::Invalid(format!(
                "limits.max_order_minor must be above 0, not {}",
                self.limits.max_order_minor
            )));
        }
        self.alerts.validate()?;
        for (what, days) in [
            ("retention.sign_in_days", self.retention.sign_in_days),
            (
                "retention.closed_alert_days",
                self.retention.closed_alert_days,
            ),
        ] {
            if days > RetentionConfig::MAX_DAYS {
                return Err(ConfigError::Invalid(format!(
                    "{what} must be at most {} days (0 keeps the history for ever), not {days}",
                    RetentionConfig::MAX_DAYS
                )));
            }
        }
        if let Some(updates) = &self.updates {
            updates.validate()?;
        }
        if self.database.url.trim().is_empty() {
            return Err(ConfigError::Invalid("database.url is empty".to_owned()));
        }
        let files = [
            ("tls.cert", &self.tls.cert),
            ("tls.key", &self.tls.key),
            ("secrets.totp_key_file", &self.secrets.totp_key_file),
        ]
        .into_iter()
        .chain(
            self.secrets
                .old_totp_key_files
                .iter()
                .map(|p| ("secrets.old_totp_key_files", p)),
        );
        for (what, path) in files {
            if !path.is_file() {
                return Err(ConfigError::Invalid(format!(
                    "{what} points to {}, which is not a file",
                    path.display()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
listen = "127.0.0.1:8443"
[tls]
cert = "server.pem"
key = "server.key"
[database]
url = "sqlite:///var/lib/canopy/canopy.db"
[secrets]
totp_key_file = "totp.key"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("canopy.toml"))
    }

    #[test]
    fn reads_a_minimal_file_with_defaults() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8443".parse().unwrap());
        assert_eq!(config.limits.max_body_bytes, 1024 * 1024);
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        let cases = [
            (format!("{GOOD}\ncolour = \"blue\""), "unknown field"),
            (
                GOOD.replace("127.0.0.1:8443", "localhost"),
                "invalid socket address",
            ),
            (
                GOOD.replace("[tls]\ncert = \"server.pem\"\n", "[tls]\n"),
                "missing field `cert`",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(&text).unwrap_err().to_string();
            assert!(
                error.contains(expected),
                "{error:?} should mention {expected:?}"
            );
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut config = parse(GOOD).unwrap();
        config
            .apply_env(|name| match name {
                "CANOPY_SERVER_LISTEN" => Some("0.0.0.0:9443".to_owned()),
                "CANOPY_SERVER_MAX_BODY_BYTES" => Some("4096".to_owned()),
                "CANOPY_SERVER_DATABASE_URL" => Some("sqlite::memory:".to_owned()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.listen, "0.0.0.0:9443".parse().unwrap());
        assert_eq!(config.limits.max_body_bytes, 4096);
        assert_eq!(config.database.url, "sqlite::memory:");
        let error = config
            .apply_env(|name| (name == "CANOPY_SERVER_LISTEN").then(|| "nowhere".to_owned()))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the environment variable CANOPY_SERVER_LISTEN is not valid: \"nowhere\" is not an address like 0.0.0.0:8443"
        );
    }

    #[test]
    fn the_alerts_section_is_optional_strict_and_checked() {
        assert_eq!(parse(GOOD).unwrap().alerts, AlertsConfig::default());
        let config = parse(&format!(
            "{GOOD}\n[alerts]\norder_multiple = 8\nenabled = false\n"
        ))
        .unwrap();
        assert_eq!(config.alerts.order_multiple, 8);
        assert!(!config.alerts.enabled);
        assert_eq!(
            config.alerts.enroll_burst_count, 8,
            "the others keep their defaults"
        );
        let error = parse(&format!("{GOOD}\n[alerts]\norder_multipel = 8\n"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `order_multipel`"), "{error}");
        let cases = [
            (
                AlertsConfig {
                    order_multiple: 1,
                    ..AlertsConfig::default()
                },
                "alerts.order_multiple must be between 2 and 1000, not 1",
            ),
            (
                AlertsConfig {
                    close_baseline_days: 3,
                    ..AlertsConfig::default()
                },
                "alerts.close_baseline_days must be between 7 and 366, not 3",
            ),
            (
                AlertsConfig {
                    order_min_minor: 0,
                    ..AlertsConfig::default()
                },
                "alerts.order_min_minor must be between 1 and 9223372036854775807, not 0",
            ),
        ];
        for (alerts, expected) in cases {
            assert_eq!(alerts.validate().unwrap_err().to_string(), expected);
        }
        assert!(AlertsConfig::default().validate().is_ok());
    }

    #[test]
    fn the_updates_section_is_optional_and_checked() {
        assert_eq!(parse(GOOD).unwrap().updates, None);
        let config = parse(&format!("{GOOD}\n[updates]\ndir = \"releases\"\n")).unwrap();
        let updates = config.updates.clone().unwrap();
        assert_eq!(updates, UpdatesConfig::in_dir(PathBuf::from("releases")));
        assert_eq!(updates.max_artifact_bytes(), 512 * 1024 * 1024);
        let error = parse(&format!("{GOOD}\n[updates]\ndir = \"r\"\nurl = \"x\"\n"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `url`"), "{error}");
        let mut config = config;
        config.resolve_relative_to(Path::new("/nonexistent"));
        let updates = config.updates.clone().unwrap();
        assert_eq!(updates.dir, Path::new("/nonexistent/releases"));
        assert_eq!(
            updates.validate().unwrap_err().to_string(),
            "updates.dir points to /nonexistent/releases, which is not a folder"
        );
        let too_big = UpdatesConfig {
            dir: std::env::temp_dir(),
            max_artifact_mib: 0,
        };
        assert_eq!(
            too_big.validate().unwrap_err().to_string(),
            "updates.max_artifact_mib must be between 1 and 4096, not 0"
        );
    }

    #[test]
    fn validation_names_the_missing_certificate() {
        let mut config = parse(GOOD).unwrap();
        config.resolve_relative_to(Path::new("/nonexistent"));
        let error = config.validate().unwrap_err().to_string();
        assert_eq!(
            error,
            "tls.cert points to /nonexistent/server.pem, which is not a file"
        );
    }
}
