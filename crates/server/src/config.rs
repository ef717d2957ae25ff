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
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub commissions: CommissionsConfig,
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
/// `sqlite::memory:` (tests), later `postgres://…`.
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
        .chain(self.secrets.old_totp_key_files.iter_mut());
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
