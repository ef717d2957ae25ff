//! What keeps this device's session with the server alive across restarts: the device's
//! id and signing key, and the current refresh token. Kept only inside the encrypted
//! cache (never in a plain file), so a locked or stolen laptop gives neither away; a
//! bootstrap never replaces them.

use canopy_core::Role;
use data_encoding::BASE64;
use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::store::Store;
use crate::write::Writer;

const DEVICE_ID: &str = "device_id";
const DEVICE_KEY: &str = "device_key";
const REFRESH_TOKEN: &str = "refresh_token";
const ACCOUNT_ROLE: &str = "account_role";

/// The device's session material.
pub struct Credentials {
    pub device_id: i64,
    /// The device key's PKCS#8 bytes.
    pub device_key: Zeroizing<Vec<u8>>,
    pub refresh_token: Zeroizing<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

impl Writer<'_> {
    /// Keeps the device's id, key and refresh token (replacing any earlier ones).
    pub fn put_credentials(&self, c: &Credentials) -> Result<(), StoreError> {
        let key = Zeroizing::new(BASE64.encode(&c.device_key));
        let mut stmt = self
            .tx()
            .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
        stmt.execute(params![DEVICE_ID, c.device_id.to_string()])?;
        stmt.execute(params![DEVICE_KEY, key.as_str()])?;
        stmt.execute(params![REFRESH_TOKEN, c.refresh_token.as_str()])?;
        Ok(())
    }

    /// Keeps the account's role as the server last stated it, so a locked-then-unlocked
    /// app offline still shows the menus of that role (the server enforces them anyway).
    pub fn put_account_role(&self, role: Role) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
            .execute(params![ACCOUNT_ROLE, role.key()])?;
        Ok(())
    }

    /// Keeps the refresh token a refresh handed out (the previous one is spent).
    pub fn put_refresh_token(&self, token: &str) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
            .execute(params![REFRESH_TOKEN, token])?;
        Ok(())
    }
}

impl Store {
    /// The account's role as the server last stated it; `None` before the first sign-in
    /// stored it.
    pub fn account_role(&self) -> Result<Option<Role>, StoreError> {
        self.database().read(|conn| {
            let key: Option<String> = conn
                .query_row(
                    "SELECT value FROM meta WHERE key = ?1",
                    [ACCOUNT_ROLE],
                    |r| r.get(0),
                )
                .optional()?;
            key.map(|k| {
                k.parse()
                    .map_err(|_| StoreError::Invalid("the cache's account role is damaged".into()))
            })
            .transpose()
        })
    }

    /// The device's session material, if a sign-in on this device stored it.
    pub fn credentials(&self) -> Result<Option<Credentials>, StoreError> {
        self.database().read(|conn| {
            let get = |key: &str| -> Result<Option<Zeroizing<String>>, StoreError> {
                Ok(conn
                    .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                        r.get::<_, String>(0)
                    })
                    .optional()?
                    .map(Zeroizing::new))
            };
            let (Some(id), Some(key), Some(refresh)) =
                (get(DEVICE_ID)?, get(DEVICE_KEY)?, get(REFRESH_TOKEN)?)
            else {
                return Ok(None);
            };
            let bad = |what: &str| StoreError::Invalid(format!("the cache's {what} is damaged"));
            Ok(Some(Credentials {
                device_id: id.parse().map_err(|_| bad("device id"))?,
                device_key: Zeroizing::new(
                    BASE64
                        .decode(key.as_bytes())
                        .map_err(|_| bad("device key"))?,
                ),
                refresh_token: refresh,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CacheKey;

    #[test]
    fn credentials_round_trip_and_survive_a_bootstrap() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db"), CacheKey::generate().unwrap()).unwrap();
        assert!(store.credentials().unwrap().is_none());
        let c = Credentials {
            device_id: 42,
            device_key: Zeroizing::new(vec![1, 2, 3, 250]),
            refresh_token: Zeroizing::new("r1".into()),
        };
        store.write(|w| w.put_credentials(&c)).unwrap();
        store.write(|w| w.put_refresh_token("r2")).unwrap();
        store
            .bootstrap_begin("cp", Some(0), "2026-11-21T00:00:00Z")
            .unwrap();
        let back = store.credentials().unwrap().unwrap();
        assert_eq!(back.device_id, 42);
        assert_eq!(back.device_key.as_slice(), &[1, 2, 3, 250]);
        assert_eq!(back.refresh_token.as_str(), "r2");
        assert!(!format!("{back:?}").contains("r2"));
        assert_eq!(store.account_role().unwrap(), None);
        store.write(|w| w.put_account_role(Role::Manager)).unwrap();
        assert_eq!(store.account_role().unwrap(), Some(Role::Manager));
    }
}
