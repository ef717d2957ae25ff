//! The one managed state object every command receives, built once at
//! start-up: commands never read files or configuration themselves.

use std::path::Path;
use std::time::Instant;

use canopy_core::ipc::ProvisioningStatus;
use canopy_core::provisioning::Provisioning;

/// Everything the commands share. Later issues add the store handle, the
/// sync client and the lock timer here.
#[derive(Debug)]
pub struct AppState {
    started_at: Instant,
    provisioning: ProvisioningStatus,
}

/// The environment variable naming the company's provisioning file
/// (`cargo xtask run` points it at the demo server's `demo.json`).
pub const PROVISIONING_ENV: &str = "CANOPY_PROVISIONING";

impl AppState {
    /// Build the state from the process environment.
    pub fn from_env() -> Self {
        let provisioning = match std::env::var_os(PROVISIONING_ENV) {
            None => ProvisioningStatus::Missing,
            Some(path) => load_provisioning(Path::new(&path)),
        };
        Self {
            started_at: Instant::now(),
            provisioning,
        }
    }

    /// How long the app has been running, for the about box and diagnostics.
    pub fn uptime_secs(&self) -> u64 {
        self.started_at.elapsed().as_secs()
    }

    pub fn provisioning(&self) -> &ProvisioningStatus {
        &self.provisioning
    }
}

/// Read and check a provisioning file; every failure becomes a message the
/// signed-out screen shows instead of the company's details.
pub fn load_provisioning(path: &Path) -> ProvisioningStatus {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read the provisioning file");
            return ProvisioningStatus::Invalid {
                message: format!(
                    "Canopy cannot read the provisioning file {}: {error}",
                    path.display()
                ),
            };
        }
    };
    let parsed = serde_json::from_str::<Provisioning>(&text)
        .map_err(|error| {
            format!(
                "The provisioning file {} is not valid: {error}",
                path.display()
            )
        })
        .and_then(|file| {
            file.validate().map(|()| file).map_err(|error| {
                format!(
                    "The provisioning file {} is not usable: {error}",
                    path.display()
                )
            })
        });
    match parsed {
        Ok(file) => ProvisioningStatus::Loaded {
            company: file.company,
            server_url: file.server_url,
            pins: file.pins,
        },
        Err(message) => {
            tracing::warn!(path = %path.display(), "provisioning file refused");
            ProvisioningStatus::Invalid { message }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    const BACKUP: &str = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

    fn load(text: &str) -> ProvisioningStatus {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.json");
        std::fs::write(&path, text).unwrap();
        load_provisioning(&path)
    }

    #[test]
    fn a_valid_file_is_loaded() {
        let status = load(&format!(
            r#"{{"company":"Demo Co.","server_url":"https://127.0.0.1:8443","pins":["{PIN}","{BACKUP}"]}}"#
        ));
        assert_eq!(
            status,
            ProvisioningStatus::Loaded {
                company: "Demo Co.".to_owned(),
                server_url: "https://127.0.0.1:8443".to_owned(),
                pins: vec![PIN.to_owned(), BACKUP.to_owned()],
            }
        );
    }

    #[test]
    fn bad_files_explain_themselves() {
        let cases = [
            ("{", "is not valid"),
            (
                &format!(r#"{{"company":"D","server_url":"http://x","pins":["{PIN}","{BACKUP}"]}}"#)
                    as &str,
                "is not usable: The server address must start with https://",
            ),
        ];
        for (text, expected) in cases {
            match load(text) {
                ProvisioningStatus::Invalid { message } => {
                    assert!(message.contains(expected), "{message:?} lacks {expected:?}")
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
        match load_provisioning(Path::new("/nonexistent/demo.json")) {
            ProvisioningStatus::Invalid { message } => {
                assert!(
                    message.starts_with(
                        "Canopy cannot read the provisioning file /nonexistent/demo.json"
                    )
                )
            }
            other => panic!("a missing file gave {other:?}"),
        }
    }
}
