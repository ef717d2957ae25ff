//! The state every handler shares (storage, sealing keys, password hasher, randomness,
//! clock) and the small conventions built on it: token hashes, TOTP sealing, email hashes.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use canopy_core::AccountId;
use ring::digest::{SHA256, digest};
use ring::hmac;
use ring::rand::SystemRandom;
use time::OffsetDateTime;

use crate::auth::{HashParams, PasswordHasher, SealError, SealingKeys, Token, TotpSecret};
use crate::storage::{Storage, TokenHash};

/// What the server's handlers share. Cheap to clone: everything is behind an `Arc`.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    /// Seal TOTP secrets at rest and the short-lived pending sign-in tokens.
    pub keys: Arc<SealingKeys>,
    pub hasher: Arc<PasswordHasher>,
    pub rng: Arc<SystemRandom>,
    pub clock: Clock,
    /// The largest total of one order pushed from a device (`limits.max_order_minor`).
    pub max_order_minor: i64,
    /// The releases folder the update routes serve (`[updates]`); `None` offers no update.
    pub updates: Option<Arc<crate::config::UpdatesConfig>>,
    /// The transaction watch's thresholds (`[alerts]`, see `watch`).
    pub alerts: crate::config::AlertsConfig,
    /// Keys the hash of a typed email (sign-in history, throttling of unknown addresses),
    /// so the database never holds an address nobody registered.
    email_key: Arc<hmac::Key>,
}

impl AppState {
    /// `email_secret` should be derived from a server secret (see `server::start`), so every
    /// instance and every restart groups the same address the same way.
    pub fn new(
        storage: Arc<dyn Storage>,
        keys: SealingKeys,
        email_secret: &[u8],
        clock: Clock,
    ) -> Result<Self, crate::auth::HashError> {
        Ok(Self {
            storage,
            keys: Arc::new(keys),
            hasher: Arc::new(PasswordHasher::new(HashParams::MINIMUM)?),
            rng: Arc::new(SystemRandom::new()),
            clock,
            max_order_minor: crate::config::Limits::default_max_order_minor(),
            updates: None,
            alerts: crate::config::AlertsConfig::default(),
            email_key: Arc::new(hmac::Key::new(hmac::HMAC_SHA256, email_secret)),
        })
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The keyed hash of an email as typed (after [`crate::storage::email_key`]).
    pub fn email_hash(&self, email: &str) -> TokenHash {
        let key = crate::storage::email_key(email);
        TokenHash(to_array(
            hmac::sign(&self.email_key, key.as_bytes()).as_ref(),
        ))
    }
}

/// The server's idea of now: the system clock, or a manual one that tests set and advance
/// (TOTP steps, token expiry, throttling delays).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock standing still at `unix` seconds until [`Clock::set`] or [`Clock::advance`].
    pub fn manual(unix: i64) -> Self {
        Self {
            manual: Some(Arc::new(AtomicI64::new(unix))),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        match &self.manual {
            None => OffsetDateTime::now_utc(),
            Some(secs) => OffsetDateTime::from_unix_timestamp(secs.load(Ordering::SeqCst))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }
    }

    /// Only moves a manual clock; the system clock ignores it.
    pub fn set(&self, unix: i64) {
        if let Some(secs) = &self.manual {
            secs.store(unix, Ordering::SeqCst);
        }
    }

    pub fn advance(&self, secs: i64) {
        if let Some(now) = &self.manual {
            now.fetch_add(secs, Ordering::SeqCst);
        }
    }
}

/// The stored form of a token: SHA-256 of its whole text (the same bytes as
/// [`Token::hash`]'s hex).
pub fn token_hash(token: &Token) -> TokenHash {
    TokenHash(to_array(
        digest(&SHA256, token.as_str().as_bytes()).as_ref(),
    ))
}

fn to_array(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SHA-256 and HMAC-SHA256 both give exactly 32 bytes; `zip` never panics anyway.
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// The associated data a TOTP secret is sealed with: binds it to its account, so a sealed
/// secret copied onto another account's row does not open. Seeding and the API share it.
pub fn totp_aad(account: AccountId) -> Vec<u8> {
    format!("canopy-totp-v1:account:{account}").into_bytes()
}

/// Seals a TOTP secret for `account`'s row.
pub fn seal_totp_secret(
    keys: &SealingKeys,
    account: AccountId,
    secret: &TotpSecret,
    rng: &SystemRandom,
) -> Result<Vec<u8>, SealError> {
    keys.seal(secret.as_bytes(), &totp_aad(account), rng)
}

/// Opens a TOTP secret sealed by [`seal_totp_secret`].
pub fn open_totp_secret(
    keys: &SealingKeys,
    account: AccountId,
    sealed: &[u8],
) -> Result<TotpSecret, SealError> {
    let bytes = keys.open(sealed, &totp_aad(account))?;
    TotpSecret::from_bytes(&bytes).map_err(|_| SealError::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now().unix_timestamp(), 1_000);
        clock.advance(30);
        assert_eq!(clock.now().unix_timestamp(), 1_030);
        clock.set(5);
        assert_eq!(clock.now().unix_timestamp(), 5);
    }

    #[test]
    fn token_hashes_match_the_auth_hex() {
        let rng = SystemRandom::new();
        let token = Token::generate(crate::auth::TokenKind::Access, &rng).unwrap();
        let hex = data_encoding::HEXLOWER.encode(&token_hash(&token).0);
        assert_eq!(hex, token.hash().as_str());
    }
}
