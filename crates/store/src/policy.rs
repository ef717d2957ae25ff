//! The company's device policy, kept in the cache: how long the app may sit idle before it
//! locks (the user picks, the company caps), and how many days the cache may be used
//! offline before an online sign-in is required again (SECURITY.md #19).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, params};

use crate::error::StoreError;
use crate::store::Store;
use crate::write::Writer;

/// The company's limits, as the server sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockPolicy {
    /// The longest idle time before auto-lock any user may choose.
    pub max_idle: Duration,
    /// Days since the last online sign-in after which the cache won't unlock offline.
    pub max_offline_days: u32,
}

impl LockPolicy {
    /// Until the server says otherwise: 15 minutes idle (Bitwarden's default vault
    /// timeout), 30 days offline.
    pub const DEFAULT: LockPolicy = LockPolicy {
        max_idle: Duration::from_secs(15 * 60),
        max_offline_days: 30,
    };
    /// Auto-lock never comes sooner than this, whatever is chosen.
    pub const MIN_IDLE: Duration = Duration::from_secs(60);

    /// The idle time after which the app locks: the user's choice (15 minutes if none),
    /// never longer than the company allows nor shorter than a minute.
    pub fn auto_lock_after(&self, chosen: Option<Duration>) -> Duration {
        chosen
            .unwrap_or(Self::DEFAULT.max_idle)
            .min(self.max_idle)
            .max(Self::MIN_IDLE)
    }
}

impl Default for LockPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

const MAX_IDLE: &str = "policy.max_idle_secs";
const MAX_OFFLINE_DAYS: &str = "policy.max_offline_days";
const LAST_ONLINE: &str = "last_online_sign_in";
/// The idle time the user chose on this device (seconds), kept apart from the company's
/// cap so a later, looser policy gives back what they chose.
const AUTO_LOCK: &str = "auto_lock_secs";

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Writer<'_> {
    /// Stores the company's policy (from the server).
    pub fn put_lock_policy(&self, p: &LockPolicy) -> Result<(), StoreError> {
        let mut stmt = self.tx().prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?;
        stmt.execute(params![MAX_IDLE, p.max_idle.as_secs().to_string()])?;
        stmt.execute(params![MAX_OFFLINE_DAYS, p.max_offline_days.to_string()])?;
        Ok(())
    }

    /// Records a successful online sign-in: the offline allowance starts again.
    pub fn put_online_sign_in(&self, at: SystemTime) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![LAST_ONLINE, unix_secs(at).to_string()])?;
        Ok(())
    }

    /// Keeps the idle time the user chose (never under [`LockPolicy::MIN_IDLE`]); the
    /// company's cap is applied when it is used ([`LockPolicy::auto_lock_after`]).
    pub fn put_auto_lock(&self, chosen: Duration) -> Result<(), StoreError> {
        let secs = chosen.max(LockPolicy::MIN_IDLE).as_secs();
        self.tx()
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![AUTO_LOCK, secs.to_string()])?;
        Ok(())
    }
}

impl Store {
    fn meta_number(&self, key: &str) -> Result<Option<i64>, StoreError> {
        let text: Option<String> = self.database().read(|c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })?;
        text.map(|t| {
            t.parse()
                .map_err(|_| StoreError::Invalid(format!("the cache's {key} is {t:?}")))
        })
        .transpose()
    }

    /// The company's policy, or [`LockPolicy::DEFAULT`] before the server sent one.
    pub fn lock_policy(&self) -> Result<LockPolicy, StoreError> {
        let d = LockPolicy::DEFAULT;
        Ok(LockPolicy {
            max_idle: self
                .meta_number(MAX_IDLE)?
                .and_then(|s| u64::try_from(s).ok())
                .map_or(d.max_idle, Duration::from_secs),
            max_offline_days: self
                .meta_number(MAX_OFFLINE_DAYS)?
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(d.max_offline_days),
        })
    }

    /// The idle time the user chose, if they chose one (not yet capped by the company: pass
    /// it to [`LockPolicy::auto_lock_after`]).
    pub fn auto_lock(&self) -> Result<Option<Duration>, StoreError> {
        Ok(self
            .meta_number(AUTO_LOCK)?
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs))
    }

    /// When the user last signed in online, if ever on this cache.
    pub fn last_online_sign_in(&self) -> Result<Option<SystemTime>, StoreError> {
        Ok(self
            .meta_number(LAST_ONLINE)?
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| UNIX_EPOCH + Duration::from_secs(s)))
    }

    /// Refuses offline use once the last online sign-in is older than the policy allows.
    /// A cache with no online sign-in recorded is refused too: it has to start online.
    pub fn check_offline_allowance(&self, now: SystemTime) -> Result<(), StoreError> {
        let days = self.lock_policy()?.max_offline_days;
        let limit = Duration::from_secs(u64::from(days) * 86_400);
        match self.last_online_sign_in()? {
            Some(last) if now.duration_since(last).unwrap_or_default() <= limit => Ok(()),
            _ => Err(StoreError::OnlineSignInRequired { days }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::CacheKey;

    #[test]
    fn the_chosen_auto_lock_is_kept_then_capped_and_floored() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::open(&dir.path().join("cache.db"), CacheKey::generate().unwrap()).unwrap();
        assert_eq!(store.auto_lock().unwrap(), None, "nothing chosen yet");
        store
            .write(|w| {
                w.put_lock_policy(&LockPolicy {
                    max_idle: Duration::from_secs(30 * 60),
                    max_offline_days: 7,
                })
            })
            .unwrap();
        // (chosen, kept, then applied under the company's 30-minute cap)
        let cases = [
            (5 * 60, 5 * 60, 5 * 60),
            (60 * 60, 60 * 60, 30 * 60),
            (10, 60, 60),
        ];
        for (chosen, kept, applied) in cases {
            store
                .write(|w| w.put_auto_lock(Duration::from_secs(chosen)))
                .unwrap();
            let stored = store.auto_lock().unwrap();
            assert_eq!(stored, Some(Duration::from_secs(kept)), "{chosen}");
            assert_eq!(
                store.lock_policy().unwrap().auto_lock_after(stored),
                Duration::from_secs(applied),
                "{chosen}"
            );
        }
    }

    #[test]
    fn the_user_chooses_within_the_companys_cap() {
        let company = LockPolicy {
            max_idle: Duration::from_secs(10 * 60),
            max_offline_days: 7,
        };
        let cases = [
            (None, 10 * 60),
            (Some(5 * 60), 5 * 60),
            (Some(60 * 60), 10 * 60),
            (Some(5), 60),
        ];
        for (chosen, expected) in cases {
            assert_eq!(
                company.auto_lock_after(chosen.map(Duration::from_secs)),
                Duration::from_secs(expected),
                "{chosen:?}"
            );
        }
        assert_eq!(
            LockPolicy::DEFAULT.auto_lock_after(None),
            Duration::from_secs(900)
        );
    }
}
