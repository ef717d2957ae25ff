//! Short-lived tokens between a correct password and a session: `cmt_` (prove the second
//! factor) and `cet_` (enroll one first). Sealed with the server key, so nothing is stored.
//!
//! Why sealed rather than a table: the token only grants the right to *try* a second factor
//! for five minutes; every effect it leads to is guarded in the database (the TOTP step
//! compare-and-set, single-use recovery codes, throttling). It is bound to the account, the
//! proven device and the password's change time, so a password change voids it at once.

use canopy_core::AccountId;
use data_encoding::BASE64URL_NOPAD;
use time::OffsetDateTime;

use super::error::ApiError;
use crate::app::AppState;
use crate::storage::{AccountRecord, DeviceId};

/// Prove the second factor.
pub const MFA_TTL_SECS: i64 = 5 * 60;
/// Enroll a second factor (scan the QR code, type the first code).
pub const ENROLL_TTL_SECS: i64 = 15 * 60;
/// Far above a real token's ~90 characters; refuse before decoding anything bigger.
const MAX_TEXT_LEN: usize = 256;
const VERSION: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Mfa,
    Enroll,
}

impl Purpose {
    fn prefix(self) -> &'static str {
        match self {
            Purpose::Mfa => "cmt_",
            Purpose::Enroll => "cet_",
        }
    }

    fn aad(self) -> Vec<u8> {
        format!("canopy-pending-v{VERSION}:{}", self.prefix()).into_bytes()
    }

    fn ttl(self) -> i64 {
        match self {
            Purpose::Mfa => MFA_TTL_SECS,
            Purpose::Enroll => ENROLL_TTL_SECS,
        }
    }

    /// Whether a bearer text is meant as this kind of token.
    pub fn is_prefix_of(self, text: &str) -> bool {
        text.starts_with(self.prefix())
    }
}

/// What a pending token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub account: AccountId,
    /// A known device whose key signed the sign-in, if any.
    pub device: Option<DeviceId>,
    pub expires_at: i64,
    password_changed_at: i64,
}

impl Pending {
    pub fn new(
        account: &AccountRecord,
        device: Option<DeviceId>,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            account: account.id,
            device,
            expires_at: now.unix_timestamp().saturating_add(purpose.ttl()),
            password_changed_at: account.password_changed_at.unix_timestamp(),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(34);
        out.push(VERSION);
        out.extend_from_slice(&self.account.get().to_be_bytes());
        out.push(u8::from(self.device.is_some()));
        out.extend_from_slice(&self.device.map_or(0, DeviceId::get).to_be_bytes());
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.extend_from_slice(&self.password_changed_at.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let int = |at: usize| -> Option<i64> {
            Some(i64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
        };
        if bytes.len() != 34 || bytes.first() != Some(&VERSION) {
            return None;
        }
        let device = match bytes.get(9) {
            Some(0) => None,
            Some(1) => Some(DeviceId::new(int(10)?)),
            _ => return None,
        };
        Some(Self {
            account: AccountId::new(int(1)?),
            device,
            expires_at: int(18)?,
            password_changed_at: int(26)?,
        })
    }

    /// Seals this into the text handed to the client.
    pub fn seal(&self, state: &AppState, purpose: Purpose) -> Result<String, ApiError> {
        let sealed = state
            .keys
            .seal(&self.encode(), &purpose.aad(), state.rng.as_ref())
            .map_err(|e| ApiError::internal(format!("sealing a pending token: {e}")))?;
        Ok(format!(
            "{}{}",
            purpose.prefix(),
            BASE64URL_NOPAD.encode(&sealed)
        ))
    }

    /// Opens a token the client sent back and checks it has not expired and still matches
    /// its account (enabled, same password). Returns the pending sign-in and the account.
    pub async fn open(
        state: &AppState,
        text: &str,
        purpose: Purpose,
    ) -> Result<(Self, AccountRecord), ApiError> {
        let expired =
            || ApiError::unauthorized("This sign-in has expired or is not valid: sign in again");
        let body = text
            .strip_prefix(purpose.prefix())
            .filter(|b| b.len() <= MAX_TEXT_LEN)
            .ok_or_else(expired)?;
        let sealed = BASE64URL_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| expired())?;
        let plain = state
            .keys
            .open(&sealed, &purpose.aad())
            .map_err(|_| expired())?;
        let pending = Self::decode(&plain).ok_or_else(expired)?;
        if pending.expires_at <= state.now().unix_timestamp() {
            return Err(expired());
        }
        let account = state
            .storage
            .find_account(pending.account)
            .await?
            .filter(|a| {
                !a.disabled && a.password_changed_at.unix_timestamp() == pending.password_changed_at
            })
            .ok_or_else(expired)?;
        Ok((pending, account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        for device in [None, Some(DeviceId::new(7))] {
            let pending = Pending {
                account: AccountId::new(42),
                device,
                expires_at: 1_700_000_300,
                password_changed_at: 1_690_000_000,
            };
            assert_eq!(Pending::decode(&pending.encode()), Some(pending));
        }
        assert_eq!(Pending::decode(&[1; 10]), None);
    }
}
