//! Shared proofs for the auth handlers: second factors (TOTP with the database replay guard,
//! single-use recovery codes), device-key signatures, throttling checks and token issuing.

use std::net::IpAddr;

use canopy_core::{AccountId, Role};
use data_encoding::{BASE64, HEXLOWER};
use ring::signature::{ED25519, UnparsedPublicKey};
use serde::Serialize;
use time::OffsetDateTime;

use super::error::ApiError;
use crate::app::{AppState, open_totp_secret, token_hash};
use crate::auth::{Token, TokenKind, TotpError, recovery};
use crate::storage::{
    AccountRecord, DeviceId, DeviceRecord, IssuedToken, NewAuditEvent, ThrottleKey, ThrottlePolicy,
    TokenHash,
};

/// Access tokens live 15 minutes (SECURITY.md #11).
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// A refresh token not used for 30 days expires; each use rotates it.
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
/// How far a device's signed timestamp may be from the server's clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 5 * 60;

/// A second factor as the client sent it.
pub enum SecondFactor<'a> {
    Totp(&'a str),
    Recovery(&'a str),
}

/// Why a second factor was refused: `Malformed` is a typing problem (no failure counted),
/// the others count as failed attempts.
#[derive(Debug)]
pub enum FactorError {
    Malformed(String),
    Refused(String),
    Api(ApiError),
}

impl From<ApiError> for FactorError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<crate::storage::StorageError> for FactorError {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Api(error.into())
    }
}

/// Checks a TOTP code or consumes a recovery code. A TOTP step is accepted through the
/// database's compare-and-set, so a code works once even across server instances.
pub async fn check_second_factor(
    state: &AppState,
    account: &AccountRecord,
    factor: SecondFactor<'_>,
    now: OffsetDateTime,
) -> Result<(), FactorError> {
    match factor {
        SecondFactor::Totp(code) => {
            let sealed = account.mfa.sealed_secret.as_deref().ok_or_else(|| {
                FactorError::Malformed("Two-step sign-in is not set up for this account".into())
            })?;
            let secret = open_totp_secret(&state.keys, account.id, sealed).map_err(|e| {
                ApiError::internal(format!(
                    "opening the TOTP secret of account {}: {e}",
                    account.id
                ))
            })?;
            let now_secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
            let last = account.mfa.last_step.and_then(|s| u64::try_from(s).ok());
            let step = secret.verify(code, now_secs, last).map_err(|e| match e {
                TotpError::Malformed => FactorError::Malformed(e.to_string()),
                _ => FactorError::Refused(e.to_string()),
            })?;
            let step = i64::try_from(step)
                .map_err(|_| FactorError::Refused(TotpError::Incorrect.to_string()))?;
            if !state.storage.accept_totp_step(account.id, step).await? {
                return Err(FactorError::Refused(TotpError::Replayed.to_string()));
            }
            Ok(())
        }
        SecondFactor::Recovery(code) => {
            let hex = recovery::hash(code).map_err(|e| FactorError::Malformed(e.to_string()))?;
            let hash = hex_hash(&hex).ok_or_else(|| {
                FactorError::Api(ApiError::internal("a recovery code hash is not 32 bytes"))
            })?;
            if state
                .storage
                .consume_recovery_code(account.id, hash, now)
                .await?
            {
                Ok(())
            } else {
                Err(FactorError::Refused(
                    "That recovery code is not right or has already been used".into(),
                ))
            }
        }
    }
}

/// A 64-character lowercase hex hash as stored bytes.
pub fn hex_hash(hex: &str) -> Option<TokenHash> {
    let bytes = HEXLOWER.decode(hex.as_bytes()).ok()?;
    Some(TokenHash(bytes.try_into().ok()?))
}

/// Checks an Ed25519 signature (standard base64, 64 bytes) by the device's key over
/// `message`, and that `timestamp` is within [`MAX_CLOCK_SKEW_SECS`] of now.
pub fn check_device_signature(
    device: &DeviceRecord,
    message: &str,
    timestamp: i64,
    signature: &str,
    now: OffsetDateTime,
) -> Result<(), &'static str> {
    if (now.unix_timestamp().saturating_sub(timestamp)).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(
            "The device's clock is more than five minutes off: set it to update automatically",
        );
    }
    let bad = "The request is not signed by this device's key";
    if signature.len() > 200 {
        return Err(bad);
    }
    let signature = BASE64
        .decode(signature.trim().as_bytes())
        .map_err(|_| bad)?;
    UnparsedPublicKey::new(&ED25519, &device.public_key)
        .verify(message.as_bytes(), &signature)
        .map_err(|_| bad)
}

/// What a sign-in's device key signs to prove the device: `canopy-sign-in\n{device_id}\n
/// {timestamp}\n{email as typed, trimmed and lowercased}`.
pub fn sign_in_message(device: DeviceId, timestamp: i64, email: &str) -> String {
    canopy_core::auth::sign_in_message(device.get(), timestamp, email)
}

/// What a refresh call's device key signs: `canopy-refresh\n{device_id}\n{timestamp}\n
/// {SHA-256 of the refresh token, lowercase hex}`.
pub fn refresh_message(device: DeviceId, timestamp: i64, refresh_hash: &TokenHash) -> String {
    canopy_core::auth::refresh_message(device.get(), timestamp, &HEXLOWER.encode(&refresh_hash.0))
}

/// Refuses with 429 while any of `keys` owes a delay.
pub async fn check_throttle(
    state: &AppState,
    keys: &[ThrottleKey],
    now: OffsetDateTime,
) -> Result<(), ApiError> {
    let status = state
        .storage
        .throttle_status(keys.to_vec(), ThrottlePolicy::default(), now)
        .await?;
    match status.blocked_until(now) {
        Some(until) => Err(ApiError::Throttled {
            retry_after: u64::try_from((until - now).whole_seconds())
                .unwrap_or(1)
                .max(1),
        }),
        None => Ok(()),
    }
}

pub async fn record_failure(
    state: &AppState,
    keys: &[ThrottleKey],
    now: OffsetDateTime,
) -> Result<(), ApiError> {
    state
        .storage
        .record_failure(keys.to_vec(), ThrottlePolicy::default(), now)
        .await?;
    Ok(())
}

/// Appends an audit event; `details` must hold no secrets and no email addresses.
pub async fn audit(
    state: &AppState,
    actor: Option<AccountId>,
    action: &str,
    target: Option<String>,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    state
        .storage
        .append_audit(NewAuditEvent {
            at: state.now(),
            actor,
            action: action.to_owned(),
            target,
            details,
        })
        .await?;
    Ok(())
}

pub fn ip_text(ip: IpAddr) -> String {
    ip.to_canonical().to_string()
}

/// A fresh access + refresh pair: the texts for the client and the hashes to store.
pub struct TokenPair {
    pub access: Token,
    pub refresh: Token,
    pub access_issued: IssuedToken,
    pub refresh_issued: IssuedToken,
}

impl TokenPair {
    pub fn generate(state: &AppState, now: OffsetDateTime) -> Result<Self, ApiError> {
        let random = |_| ApiError::internal("the system random number generator failed");
        let access = Token::generate(TokenKind::Access, state.rng.as_ref()).map_err(random)?;
        let refresh = Token::generate(TokenKind::Refresh, state.rng.as_ref()).map_err(random)?;
        Ok(Self {
            access_issued: IssuedToken {
                hash: token_hash(&access),
                expires_at: now + time::Duration::seconds(ACCESS_TTL_SECS),
            },
            refresh_issued: IssuedToken {
                hash: token_hash(&refresh),
                expires_at: now + time::Duration::seconds(REFRESH_TTL_SECS),
            },
            access,
            refresh,
        })
    }

    pub fn response(&self, device: DeviceId, account: &AccountRecord) -> SessionTokens {
        SessionTokens {
            token_type: "Bearer",
            access_token: self.access.as_str().to_owned(),
            access_expires_at: self.access_issued.expires_at,
            refresh_token: self.refresh.as_str().to_owned(),
            refresh_expires_at: self.refresh_issued.expires_at,
            device_id: device.get(),
            role: account.role,
            member: account.member.map(|m| m.get()),
        }
    }
}

/// A session's tokens as the client receives them (after MFA and after each refresh).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionTokens {
    pub token_type: &'static str,
    pub access_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub access_expires_at: OffsetDateTime,
    pub refresh_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub refresh_expires_at: OffsetDateTime,
    pub device_id: i64,
    /// The account's role now, so the app shows only the menus it may use (the server
    /// enforces them anyway).
    #[schema(value_type = String)]
    pub role: Role,
    /// The member the account is linked to, if any.
    pub member: Option<i64>,
}
