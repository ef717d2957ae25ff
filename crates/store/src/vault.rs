//! The cache's directory on this device and the ways into it: create with a password,
//! unlock offline with the password (throttled) or from the OS keychain, change the
//! password, and wipe. The only place that joins the envelope, the keychain and the file.
//!
//! Layout: `cache.db` (+ SQLite's `-wal`/`-shm`), `envelope.json` (the wrapped key),
//! `unlock-throttle.json` (failed attempts).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::envelope::{Envelope, KdfParams};
use crate::error::StoreError;
use crate::key::CacheKey;
use crate::keychain::Keychain;
use crate::store::Store;
use crate::throttle::{self, UnlockThrottle};

pub const DB_FILE: &str = "cache.db";
pub const ENVELOPE_FILE: &str = "envelope.json";

/// A device's cache directory and its keychain entry.
pub struct Vault {
    dir: PathBuf,
    keychain: Box<dyn Keychain>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("dir", &self.dir).finish()
    }
}

impl Vault {
    pub fn new(dir: impl Into<PathBuf>, keychain: Box<dyn Keychain>) -> Self {
        Self {
            dir: dir.into(),
            keychain,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    fn envelope_path(&self) -> PathBuf {
        self.dir.join(ENVELOPE_FILE)
    }

    fn throttle(&self) -> UnlockThrottle {
        UnlockThrottle::load(self.dir.join(throttle::FILE_NAME))
    }

    /// Whether this device has a cache (its envelope is what makes it one).
    pub fn exists(&self) -> bool {
        self.envelope_path().exists()
    }

    /// Makes a new, empty cache under a fresh random key wrapped by `password`. Leftovers of
    /// an earlier attempt that crashed before its envelope was written are removed first.
    /// `now` is when the online sign-in that made it happened: the offline allowance
    /// starts there.
    pub fn create(
        &self,
        password: &str,
        params: KdfParams,
        now: SystemTime,
    ) -> Result<Store, StoreError> {
        if password.is_empty() {
            return Err(StoreError::Invalid(
                "choose a password for this device".into(),
            ));
        }
        if self.exists() {
            return Err(StoreError::CacheExists);
        }
        std::fs::create_dir_all(&self.dir).map_err(StoreError::io(&self.dir))?;
        remove_db_files(&self.db_path())?;
        let key = CacheKey::generate()?;
        let envelope = Envelope::seal(&key, password, params)?;
        let store = Store::open(&self.db_path(), key)?;
        // A cache is made right after an online sign-in: its offline allowance starts now.
        store.write(|w| w.put_online_sign_in(now))?;
        // Written last: until it exists, the directory is not a cache.
        envelope.write_atomic(&self.envelope_path())?;
        Ok(store)
    }

    /// Offline unlock: the password unwraps the key, the key opens the cache. Failed
    /// attempts wait longer and longer ([`throttle`]); a wrong password never opens anything.
    /// Past the company's offline allowance it is [`StoreError::OnlineSignInRequired`].
    pub fn unlock(&self, password: &str, now: SystemTime) -> Result<Store, StoreError> {
        let store = self.open_with_password(password, now)?;
        store.check_offline_allowance(now)?;
        Ok(store)
    }

    /// Unlock right after the server accepted an online sign-in: the offline allowance
    /// starts again from `now`.
    pub fn unlock_online(&self, password: &str, now: SystemTime) -> Result<Store, StoreError> {
        let store = self.open_with_password(password, now)?;
        store.write(|w| w.put_online_sign_in(now))?;
        Ok(store)
    }

    /// Opens the cache for an online sign-in on this device, before the server has
    /// accepted it: the password is checked (and throttled) as for an unlock, but the
    /// offline allowance is neither checked nor restarted — the caller shows nothing from
    /// the cache until the sign-in succeeds, then records it (`put_online_sign_in`).
    pub fn open_for_sign_in(&self, password: &str, now: SystemTime) -> Result<Store, StoreError> {
        self.open_with_password(password, now)
    }

    fn open_with_password(&self, password: &str, now: SystemTime) -> Result<Store, StoreError> {
        let mut throttle = self.throttle();
        throttle.check(now)?;
        let envelope = Envelope::read(&self.envelope_path())?;
        let key = match envelope.open(password) {
            Ok(key) => key,
            Err(StoreError::WrongPassword) => {
                throttle.record_failure(now)?;
                return Err(StoreError::WrongPassword);
            }
            Err(e) => return Err(e),
        };
        throttle.record_success()?;
        Store::open(&self.db_path(), key)
    }

    /// Unlock without a password, from the OS keychain ("remember on this device"). `None`
    /// means "ask for the password": no entry, no keychain, or a key that no longer opens
    /// this cache (which is then forgotten). There is no other way in.
    pub fn unlock_remembered(&self, now: SystemTime) -> Result<Option<Store>, StoreError> {
        if !self.exists() {
            return Err(StoreError::NoCache);
        }
        let key = match self.keychain.load() {
            Ok(Some(key)) => key,
            Ok(None) => return Ok(None),
            Err(e) => {
                tracing::warn!(error = %e, "keychain unavailable: asking for the password");
                return Ok(None);
            }
        };
        match Store::open(&self.db_path(), key) {
            Ok(store) => {
                store.check_offline_allowance(now)?;
                Ok(Some(store))
            }
            Err(StoreError::WrongKey) => {
                tracing::warn!("the keychain's key does not open this cache: forgetting it");
                if let Err(e) = self.keychain.forget() {
                    tracing::warn!(error = %e, "could not forget the stale keychain entry");
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Keeps the open cache's key in the OS keychain.
    pub fn remember(&self, store: &Store) -> Result<(), StoreError> {
        let key = store
            .key()
            .ok_or_else(|| StoreError::Invalid("an unencrypted database has no key".into()))?;
        self.keychain.store(key)
    }

    /// Removes the key from the OS keychain (the password is needed again).
    pub fn forget_remembered(&self) -> Result<(), StoreError> {
        self.keychain.forget()
    }

    /// Re-wraps the key under `new_password`. Crash-safe: the new envelope replaces the old
    /// one by an atomic rename, so either password (never neither) opens the cache.
    pub fn change_password(
        &self,
        old_password: &str,
        new_password: &str,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        if new_password.is_empty() {
            return Err(StoreError::Invalid(
                "choose a password for this device".into(),
            ));
        }
        let mut throttle = self.throttle();
        throttle.check(now)?;
        let envelope = Envelope::read(&self.envelope_path())?;
        let rewrapped = match envelope.rewrap(old_password, new_password) {
            Ok(e) => e,
            Err(StoreError::WrongPassword) => {
                throttle.record_failure(now)?;
                return Err(StoreError::WrongPassword);
            }
            Err(e) => return Err(e),
        };
        throttle.record_success()?;
        rewrapped.write_atomic(&self.envelope_path())
    }

    /// Removes the cache from this device (remote wipe, or sign-out with "forget this
    /// device"). The key is destroyed first — keychain entry, then the envelope, overwritten
    /// before it is deleted — so whatever of the encrypted file an SSD keeps is unreadable;
    /// then the database files go. `open` is closed (and its key zeroized) before.
    pub fn wipe(&self, open: Option<Store>) -> Result<(), StoreError> {
        drop(open);
        if let Err(e) = self.keychain.forget() {
            tracing::warn!(error = %e, "could not reach the keychain while wiping");
        }
        let envelope = self.envelope_path();
        if let Ok(meta) = std::fs::metadata(&envelope) {
            let zeros = vec![0u8; usize::try_from(meta.len()).unwrap_or(0)];
            crate::fsutil::overwrite(&envelope, &zeros)?;
            std::fs::remove_file(&envelope).map_err(StoreError::io(&envelope))?;
        }
        remove_db_files(&self.db_path())?;
        let throttle_file = self.dir.join(throttle::FILE_NAME);
        remove_if_present(&throttle_file)?;
        // The directory goes too if nothing else is in it.
        let _ = std::fs::remove_dir(&self.dir);
        Ok(())
    }
}

fn remove_db_files(db: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        remove_if_present(Path::new(&name))?;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(path)(e)),
        _ => Ok(()),
    }
}
