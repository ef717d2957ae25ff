//! Secrets the server reads from files at start-up: today the keys that seal
//! TOTP secrets at rest. A key file holds 32 bytes as 64 hex characters.

use std::path::Path;

use zeroize::Zeroizing;

use crate::auth::sealed::{SealError, SealingKey, SealingKeys};
use crate::config::SecretsConfig;

/// Why a secret could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the key file {path} is not usable: {source}")]
    Key { path: String, source: SealError },
}

/// The TOTP sealing keys: the current one seals, older ones only open.
///
/// A key's id (the byte written in front of each sealed value) is the first
/// byte of the SHA-256 of the key itself, so it stays the same when the key
/// moves from `totp_key_file` to `old_totp_key_files` at a rotation, with no
/// id to keep in the file. Two keys whose ids collide (1 in 256) are refused
/// at start-up; make another key.
pub fn totp_sealing_keys(config: &SecretsConfig) -> Result<SealingKeys, SecretsError> {
    let current = load_key(&config.totp_key_file)?;
    let older = config
        .old_totp_key_files
        .iter()
        .map(|path| load_key(path))
        .collect::<Result<Vec<_>, _>>()?;
    SealingKeys::new(current, older).map_err(|source| SecretsError::Key {
        path: config.totp_key_file.display().to_string(),
        source,
    })
}

fn load_key(path: &Path) -> Result<SealingKey, SecretsError> {
    let shown = || path.display().to_string();
    let text =
        Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| SecretsError::Read {
                path: shown(),
                source,
            })?,
        );
    let bytes = Zeroizing::new(
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.trim().as_bytes())
            .map_err(|_| SecretsError::Key {
                path: shown(),
                source: SealError::KeyEncoding("hex"),
            })?,
    );
    let id = ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref()[0];
    SealingKey::new(id, &bytes).map_err(|source| SecretsError::Key {
        path: shown(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_file(dir: &Path, name: &str, hex: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("{hex}\n")).unwrap();
        path
    }

    #[test]
    fn a_rotated_key_still_opens_what_it_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let rng = ring::rand::SystemRandom::new();
        let first = key_file(dir.path(), "a.key", &"11".repeat(32));
        let second = key_file(dir.path(), "b.key", &"22".repeat(32));
        let before = totp_sealing_keys(&SecretsConfig {
            totp_key_file: first.clone(),
            old_totp_key_files: vec![],
        })
        .unwrap();
        let sealed = before.seal(b"secret", b"account 7", &rng).unwrap();
        let after = totp_sealing_keys(&SecretsConfig {
            totp_key_file: second,
            old_totp_key_files: vec![first],
        })
        .unwrap();
        assert_eq!(
            after.open(&sealed, b"account 7").unwrap().as_slice(),
            b"secret"
        );
        assert!(after.needs_reseal(&sealed));
    }

    #[test]
    fn bad_key_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let short = key_file(dir.path(), "short.key", "abcd");
        let config = SecretsConfig {
            totp_key_file: short.clone(),
            old_totp_key_files: vec![],
        };
        let error = totp_sealing_keys(&config).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("the key file {} is not usable", short.display())),
            "{error}"
        );
        let missing = SecretsConfig {
            totp_key_file: dir.path().join("none.key"),
            old_totp_key_files: vec![],
        };
        assert!(
            totp_sealing_keys(&missing)
                .unwrap_err()
                .to_string()
                .starts_with("cannot read the key file")
        );
    }
}
