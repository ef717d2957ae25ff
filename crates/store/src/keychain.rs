//! "Remember on this device": the cache key kept in the operating system's keychain
//! (macOS Keychain, Windows Credential Manager, the Secret Service on Linux), so the app
//! can open the cache without asking for the password.
//!
//! Every keychain failure is an error the caller answers by asking for the password: the
//! key is never written anywhere else in plain form.

use data_encoding::BASE64;
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::key::CacheKey;

/// Shown when the keychain holds something that is not one of our keys (edited by hand,
/// or left by another program under the same name).
const NOT_A_KEY: &str = "the saved key is not a valid cache key";

/// Somewhere to keep the cache key between runs.
pub trait Keychain: Send + Sync {
    /// The saved key, or `None` if none was saved.
    fn load(&self) -> Result<Option<CacheKey>, StoreError>;
    /// Saves the key, replacing any earlier one.
    fn store(&self, key: &CacheKey) -> Result<(), StoreError>;
    /// Removes the saved key; nothing to remove is not an error.
    fn forget(&self) -> Result<(), StoreError>;
}

/// The operating system's keychain, through the `keyring` crate. The key is saved as the
/// base64 text of its 32 bytes under `service` and `account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsKeychain {
    service: String,
    account: String,
}

impl OsKeychain {
    /// An entry named by the app (`service`, e.g. its bundle identifier) and the user
    /// (`account`). Nothing is touched until the first call.
    pub fn new(service: impl Into<String>, account: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            account: account.into(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// `keyring` connects to the platform's store once per process, on the first entry;
    /// with no store (no Secret Service on a headless Linux) every call fails cleanly.
    fn entry(&self) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(&self.service, &self.account).map_err(keychain_error)
    }
}

impl Keychain for OsKeychain {
    fn load(&self) -> Result<Option<CacheKey>, StoreError> {
        load_from(&self.entry()?)
    }

    fn store(&self, key: &CacheKey) -> Result<(), StoreError> {
        store_in(&self.entry()?, key)
    }

    fn forget(&self) -> Result<(), StoreError> {
        forget_in(&self.entry()?)
    }
}

/// No keychain at all (unsupported platform, CI, or the user turned the option off):
/// nothing is ever remembered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoKeychain;

impl Keychain for NoKeychain {
    fn load(&self) -> Result<Option<CacheKey>, StoreError> {
        Ok(None)
    }

    fn store(&self, _key: &CacheKey) -> Result<(), StoreError> {
        Err(StoreError::Keychain("not available".into()))
    }

    fn forget(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn load_from(entry: &keyring::Entry) -> Result<Option<CacheKey>, StoreError> {
    let text = match entry.get_password() {
        Ok(text) => Zeroizing::new(text),
        Err(keyring::Error::NoEntry) => return Ok(None),
        Err(e) => return Err(keychain_error(e)),
    };
    let raw = Zeroizing::new(
        BASE64
            .decode(text.trim().as_bytes())
            .map_err(|_| StoreError::Keychain(NOT_A_KEY.into()))?,
    );
    CacheKey::from_slice(&raw)
        .map(Some)
        .ok_or_else(|| StoreError::Keychain(NOT_A_KEY.into()))
}

fn store_in(entry: &keyring::Entry, key: &CacheKey) -> Result<(), StoreError> {
    let text = Zeroizing::new(BASE64.encode(key.as_bytes()));
    entry.set_password(&text).map_err(keychain_error)
}

fn forget_in(entry: &keyring::Entry) -> Result<(), StoreError> {
    match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keychain_error(e)),
    }
}

/// Words the error without ever including what the keychain returned: some variants
/// carry the stored bytes, which may be a key.
fn keychain_error(e: keyring::Error) -> StoreError {
    let reason = match e {
        keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..) => NOT_A_KEY.into(),
        keyring::Error::NoDefaultStore => "no keychain service is available".into(),
        keyring::Error::NoStorageAccess(inner) => format!("access denied or locked ({inner})"),
        keyring::Error::PlatformFailure(inner) => inner.to_string(),
        keyring::Error::Ambiguous(entries) => {
            format!("{} saved keys match this account", entries.len())
        }
        other => other.to_string(),
    };
    StoreError::Keychain(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry in keyring's in-memory mock store, driven through the same code paths as
    /// the OS keychain.
    fn mock_entry() -> keyring::Entry {
        use keyring_core::api::CredentialStoreApi;
        let store = keyring_core::mock::Store::new().unwrap();
        keyring::Entry {
            inner: store
                .build("canopy-test", "someone@example.com", None)
                .unwrap(),
        }
    }

    fn check_round_trip(entry: &keyring::Entry) {
        assert!(load_from(entry).unwrap().is_none());
        let key = CacheKey::generate().unwrap();
        store_in(entry, &key).unwrap();
        assert_eq!(load_from(entry).unwrap(), Some(key));
        forget_in(entry).unwrap();
        assert!(load_from(entry).unwrap().is_none());
        // Forgetting twice is fine: the user may press the button again.
        forget_in(entry).unwrap();
    }

    #[test]
    fn a_key_is_stored_loaded_and_forgotten() {
        check_round_trip(&mock_entry());
    }

    #[test]
    fn anything_but_a_key_is_refused_without_showing_it() {
        let cases: [(&str, Vec<u8>); 4] = [
            ("text", b"hunter2".to_vec()),
            ("31 bytes", BASE64.encode(&[1; 31]).into_bytes()),
            ("33 bytes", BASE64.encode(&[1; 33]).into_bytes()),
            ("not utf-8", vec![0xff, 0xfe, 0x00, 0x80]),
        ];
        for (what, saved) in cases {
            let entry = mock_entry();
            entry.set_secret(&saved).unwrap();
            let err = load_from(&entry).unwrap_err();
            assert_eq!(
                err.to_string(),
                "the OS keychain failed: the saved key is not a valid cache key",
                "{what}"
            );
        }
    }

    #[test]
    fn no_keychain_remembers_nothing() {
        let key = CacheKey::generate().unwrap();
        assert!(NoKeychain.load().unwrap().is_none());
        let err = NoKeychain.store(&key).unwrap_err();
        assert_eq!(err.to_string(), "the OS keychain failed: not available");
        NoKeychain.forget().unwrap();
    }

    /// On a machine without a keychain service (this CI container has no D-Bus session)
    /// every call is a clean `Keychain` error; on a desktop with one, the round trip works.
    #[test]
    fn the_os_keychain_works_or_fails_cleanly() {
        let keychain = OsKeychain::new("canopy-store-test", "os-keychain-test");
        match keychain.load() {
            Ok(None) => {
                let key = CacheKey::generate().unwrap();
                keychain.store(&key).unwrap();
                assert_eq!(keychain.load().unwrap(), Some(key));
                keychain.forget().unwrap();
                assert!(keychain.load().unwrap().is_none());
            }
            Ok(Some(_)) => panic!("a key was left over from an earlier run"),
            Err(StoreError::Keychain(reason)) => {
                let key = CacheKey::generate().unwrap();
                assert!(matches!(keychain.store(&key), Err(StoreError::Keychain(_))));
                assert!(matches!(keychain.forget(), Err(StoreError::Keychain(_))));
                eprintln!("no OS keychain here: {reason}");
            }
            Err(other) => panic!("expected a keychain error, got {other:?}"),
        }
    }

    /// A real OS store that needs no D-Bus: the Linux kernel keyring (keyutils). Ignored
    /// by default because it writes to the user's session keyring, and because in
    /// containers without a login session (no `pam_keyinit`) the store can add a key but
    /// then gets EACCES finding it again, so it could not even clean up after itself. Run
    /// it on a Linux desktop with `cargo test -p canopy-store -- --ignored kernel`.
    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "writes to the user's kernel keyring; needs a login session"]
    fn a_real_round_trip_through_the_kernel_keyring() {
        use keyring_core::api::CredentialStoreApi;
        let store = linux_keyutils_keyring_store::Store::new().unwrap();
        let account = format!("pid-{}", std::process::id());
        let entry = keyring::Entry {
            inner: store.build("canopy-store-test", &account, None).unwrap(),
        };
        check_round_trip(&entry);
    }
}
