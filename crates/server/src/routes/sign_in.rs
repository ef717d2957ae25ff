//! Signing in: `POST /v1/auth/sign-in` (email + password, throttled, no enumeration) and
//! `POST /v1/auth/mfa` (second factor, device registration, the session's first tokens).
//! Both hand the outcome to [`crate::alerts`] (new device or address, repeated failures).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use canopy_core::AccountId;
use data_encoding::BASE64;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::error::ApiError;
use super::extract::ApiJson;
use super::factor::{
    FactorError, SecondFactor, SessionTokens, TokenPair, audit, check_device_signature,
    check_second_factor, check_throttle, record_failure, sign_in_message,
};
use super::pending::{Pending, Purpose};
use super::problem::Problem;
use crate::alerts;
use crate::app::AppState;
use crate::auth::Verification;
use crate::auth::password::MAX_CHARS;
use crate::storage::{
    AccountRecord, DeviceId, NewDevice, NewSession, SignInAttempt, SignInOutcome, ThrottleKey,
    TokenHash,
};

/// Longest device name kept.
const MAX_DEVICE_NAME_CHARS: usize = 100;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
    /// Proof that the sign-in comes from a device registered before: its key's signature
    /// over [`sign_in_message`]. Such a sign-in is not slowed by failures elsewhere.
    #[serde(default)]
    pub device: Option<DeviceProof>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceProof {
    pub id: i64,
    pub timestamp: i64,
    /// Ed25519, standard base64.
    pub signature: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignInResponse {
    /// `true`: send the second factor with `mfa_token` to `/v1/auth/mfa`. `false`: the
    /// account has no second factor yet; enroll one with `enrollment_token` first.
    pub mfa_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_token: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Unknown emails are throttled like accounts, under a stable id derived from the keyed
/// email hash (negative, so it never meets a real account), or the 429s would tell which
/// addresses exist.
fn pseudo_account(email_hash: &TokenHash) -> AccountId {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&email_hash.0[..8]);
    AccountId::new(-1 - (i64::from_be_bytes(bytes) & i64::MAX))
}

#[utoipa::path(post, path = "/v1/auth/sign-in", tag = "auth", request_body = SignInRequest,
    responses(
        (status = 200, description = "Password right: go on with the second factor or enroll one", body = SignInResponse),
        (status = 401, description = "The email or password is not right", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body has the wrong shape", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; `Retry-After` says how long to wait", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Json<SignInResponse>, ApiError> {
    if req.password.chars().count() > 4 * MAX_CHARS {
        return Err(ApiError::invalid("The password is too long"));
    }
    let now = state.now();
    let ip = peer.ip().to_canonical();
    let email_hash = state.email_hash(&req.email);
    let account = state.storage.find_account_by_email(&req.email).await?;
    let device = match (&account, &req.device) {
        (Some(account), Some(proof)) => {
            proven_device(&state, account, proof, &req.email, now).await?
        }
        _ => None,
    };
    let account_key = match (&account, device) {
        (Some(a), Some(d)) => ThrottleKey::AccountDevice(a.id, d),
        (Some(a), None) => ThrottleKey::Account(a.id),
        (None, _) => ThrottleKey::Account(pseudo_account(&email_hash)),
    };
    let keys = [account_key, ThrottleKey::Ip(ip)];
    let actor = account.as_ref().map(|a| a.id);
    let attempt = |outcome| SignInAttempt {
        account: actor,
        email_hash: Some(email_hash),
        ip,
        device,
        outcome,
        at: now,
    };

    if let Err(throttled) = check_throttle(&state, &keys, now).await {
        let record = state
            .storage
            .record_sign_in(attempt(SignInOutcome::Throttled))
            .await?;
        audit(
            &state,
            actor,
            "sign_in.throttled",
            actor.map(|a| format!("account:{a}")),
            json!({"sign_in": record.id, "device": device.map(DeviceId::get)}),
        )
        .await?;
        alerts::after_failure_from(state.storage.as_ref(), ip, now).await?;
        return Err(throttled);
    }

    // The same Argon2 work whether or not the account exists.
    let hasher = state.hasher.clone();
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let password = zeroize::Zeroizing::new(req.password);
    let (verification, password) = tokio::task::spawn_blocking(move || {
        let result = match &stored {
            Some(hash) => hasher.verify(&password, hash).map_err(|e| e.to_string()),
            None => {
                hasher.dummy_verify(&password);
                Ok(Verification::Mismatch)
            }
        };
        (result, password)
    })
    .await
    .map_err(|e| ApiError::internal(format!("password check task: {e}")))?;
    let verification =
        verification.map_err(|e| ApiError::internal(format!("password check: {e}")))?;

    let outcome = match &account {
        None => SignInOutcome::UnknownAccount,
        Some(_) if !verification.is_match() => SignInOutcome::WrongPassword,
        Some(a) if a.disabled => SignInOutcome::AccountDisabled,
        Some(_) => SignInOutcome::Success,
    };
    let account = match (account, outcome) {
        (Some(account), SignInOutcome::Success) => account,
        (_, outcome) => {
            record_failure(&state, &keys, now).await?;
            let record = state.storage.record_sign_in(attempt(outcome)).await?;
            if let (Some(id), SignInOutcome::WrongPassword) = (actor, outcome) {
                alerts::after_wrong_password(state.storage.as_ref(), id, ip, now).await?;
            }
            if matches!(
                outcome,
                SignInOutcome::WrongPassword | SignInOutcome::UnknownAccount
            ) {
                alerts::after_failure_from(state.storage.as_ref(), ip, now).await?;
            }
            let target = actor.map(|a| format!("account:{a}"));
            audit(
                &state,
                actor,
                "sign_in.failure",
                target,
                json!({"reason": outcome.key(), "sign_in": record.id, "device": device.map(DeviceId::get)}),
            )
            .await?;
            return Err(ApiError::sign_in_failed());
        }
    };
    if verification == Verification::MatchNeedsRehash {
        rehash(&state, &account, password).await;
    }
    audit(
        &state,
        Some(account.id),
        "sign_in.password_ok",
        Some(format!("account:{}", account.id)),
        json!({"device": device.map(DeviceId::get), "mfa_enabled": account.mfa.enabled}),
    )
    .await?;
    let purpose = if account.mfa.enabled {
        Purpose::Mfa
    } else {
        Purpose::Enroll
    };
    let pending = Pending::new(&account, device, purpose, now);
    let token = pending.seal(&state, purpose)?;
    let expires_at = OffsetDateTime::from_unix_timestamp(pending.expires_at)
        .map_err(|e| ApiError::internal(format!("pending token expiry: {e}")))?;
    Ok(Json(SignInResponse {
        mfa_required: account.mfa.enabled,
        mfa_token: account.mfa.enabled.then(|| token.clone()),
        enrollment_token: (!account.mfa.enabled).then_some(token),
        expires_at,
    }))
}

/// The device a sign-in proved with its key, if the proof holds: registered to this
/// account, not revoked, signature good. A bad proof is treated as no device at all.
async fn proven_device(
    state: &AppState,
    account: &AccountRecord,
    proof: &DeviceProof,
    email: &str,
    now: OffsetDateTime,
) -> Result<Option<DeviceId>, ApiError> {
    let id = DeviceId::new(proof.id);
    let Some(device) = state.storage.find_device(id).await? else {
        return Ok(None);
    };
    if device.account != account.id || device.revoked_at.is_some() {
        return Ok(None);
    }
    let message = sign_in_message(id, proof.timestamp, email);
    Ok(
        check_device_signature(&device, &message, proof.timestamp, &proof.signature, now)
            .ok()
            .map(|()| id),
    )
}

/// Stronger parameters than the stored hash: re-hash while the password is at hand. A
/// failure here must not fail the sign-in, so it is only logged.
async fn rehash(state: &AppState, account: &AccountRecord, password: zeroize::Zeroizing<String>) {
    let hasher = state.hasher.clone();
    let rng = state.rng.clone();
    let hashed = tokio::task::spawn_blocking(move || hasher.hash(&password, rng.as_ref())).await;
    match hashed {
        Ok(Ok(hash)) => {
            if let Err(e) = state.storage.update_password_hash(account.id, hash).await {
                tracing::warn!(account = %account.id, error = %e, "could not store a re-hashed password");
            }
        }
        Ok(Err(e)) => tracing::warn!(account = %account.id, error = %e, "re-hashing failed"),
        Err(e) => tracing::warn!(account = %account.id, error = %e, "re-hashing task failed"),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaRequest {
    pub mfa_token: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
    /// A new device to register for this session.
    #[serde(default)]
    pub device: Option<DeviceRegistration>,
    /// The known device the sign-in proved (may be left out: the token remembers it).
    #[serde(default)]
    pub device_id: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRegistration {
    pub name: String,
    /// Ed25519 public key, 32 bytes in standard base64.
    pub public_key: String,
}

impl DeviceRegistration {
    fn validate(&self, account: AccountId) -> Result<NewDevice, ApiError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(ApiError::invalid(
                "Give the device a name, like \"Work laptop\"",
            ));
        }
        if name.chars().count() > MAX_DEVICE_NAME_CHARS {
            return Err(ApiError::invalid(format!(
                "A device name can be at most {MAX_DEVICE_NAME_CHARS} characters"
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(ApiError::invalid(
                "A device name can't hold control characters",
            ));
        }
        let key_error =
            || ApiError::invalid("The device public key must be 32 bytes of Ed25519 key in base64");
        if self.public_key.len() > 100 {
            return Err(key_error());
        }
        let key = BASE64
            .decode(self.public_key.trim().as_bytes())
            .map_err(|_| key_error())?;
        let public_key: [u8; 32] = key.try_into().map_err(|_| key_error())?;
        Ok(NewDevice {
            account,
            name: name.to_owned(),
            public_key,
        })
    }
}

#[utoipa::path(post, path = "/v1/auth/mfa", tag = "auth", request_body = MfaRequest,
    responses(
        (status = 200, description = "The session's first tokens", body = SessionTokens),
        (status = 401, description = "Wrong, used or expired code or token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The device key is already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed code or device", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn mfa(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<MfaRequest>,
) -> Result<Json<SessionTokens>, ApiError> {
    let now = state.now();
    let ip = peer.ip().to_canonical();
    let (pending, account) = Pending::open(&state, &req.mfa_token, Purpose::Mfa).await?;
    if !account.mfa.enabled {
        return Err(ApiError::unauthorized(
            "This sign-in has expired or is not valid: sign in again",
        ));
    }
    // Which device the session is for, checked before any code is spent.
    enum Target {
        Known(DeviceId),
        New(NewDevice),
    }
    let target = match (&req.device, req.device_id, pending.device) {
        (Some(_), Some(_), _) => {
            return Err(ApiError::invalid(
                "Send either `device` or `device_id`, not both",
            ));
        }
        (Some(new), None, _) => Target::New(new.validate(account.id)?),
        (None, Some(id), Some(proven)) if id == proven.get() => Target::Known(proven),
        (None, Some(_), _) => {
            return Err(ApiError::invalid(
                "This device was not proven at sign-in: sign in with its signed `device` proof, \
                 or register it as a new device",
            ));
        }
        (None, None, Some(proven)) => Target::Known(proven),
        (None, None, None) => {
            return Err(ApiError::invalid(
                "Send the device to register: `device` with a name and an Ed25519 public key",
            ));
        }
    };
    let factor = match (&req.code, &req.recovery_code) {
        (Some(code), None) => SecondFactor::Totp(code),
        (None, Some(code)) => SecondFactor::Recovery(code),
        _ => {
            return Err(ApiError::invalid(
                "Send either `code` (from your authenticator app) or `recovery_code`",
            ));
        }
    };
    let method = match factor {
        SecondFactor::Totp(_) => "totp",
        SecondFactor::Recovery(_) => "recovery_code",
    };
    let account_key = match pending.device {
        Some(d) => ThrottleKey::AccountDevice(account.id, d),
        None => ThrottleKey::Account(account.id),
    };
    let keys = [account_key, ThrottleKey::Ip(ip)];
    check_throttle(&state, &keys, now).await?;

    let attempt = |outcome, device| SignInAttempt {
        account: Some(account.id),
        email_hash: None,
        ip,
        device,
        outcome,
        at: now,
    };
    match check_second_factor(&state, &account, factor, now).await {
        Ok(()) => {}
        Err(FactorError::Api(e)) => return Err(e),
        Err(FactorError::Malformed(detail)) => return Err(ApiError::invalid(detail)),
        Err(FactorError::Refused(detail)) => {
            record_failure(&state, &keys, now).await?;
            let record = state
                .storage
                .record_sign_in(attempt(SignInOutcome::WrongSecondFactor, pending.device))
                .await?;
            audit(
                &state,
                Some(account.id),
                "sign_in.mfa_failure",
                Some(format!("account:{}", account.id)),
                json!({"method": method, "sign_in": record.id}),
            )
            .await?;
            return Err(ApiError::unauthorized(detail));
        }
    }

    let (device, new_device_name) = match target {
        Target::Known(id) => (id, None),
        Target::New(new) => {
            let registered = state.storage.register_device(new, now).await?;
            (registered.id, Some(registered.name))
        }
    };
    let new_device = new_device_name.is_some();
    let pair = TokenPair::generate(&state, now)?;
    let session = state
        .storage
        .create_session(
            NewSession {
                account: account.id,
                device,
                mfa_verified: true,
                refresh: pair.refresh_issued,
                access: pair.access_issued,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            // A device revoked between sign-in and now, or an account disabled.
            crate::storage::StorageError::Invalid(_) => ApiError::session_ended(),
            other => other.into(),
        })?;
    state
        .storage
        .record_success(vec![
            ThrottleKey::Account(account.id),
            ThrottleKey::AccountDevice(account.id, device),
        ])
        .await?;
    state.storage.touch_device(device, now).await?;
    // Read before this sign-in is recorded, or it would count as the one before.
    let facts = alerts::sign_in_facts(state.storage.as_ref(), account.id, ip, new_device).await?;
    let record = state
        .storage
        .record_sign_in(attempt(SignInOutcome::Success, Some(device)))
        .await?;
    alerts::after_sign_in(
        state.storage.as_ref(),
        facts,
        alerts::SignInContext {
            account: account.id,
            ip,
            device,
            device_name: new_device_name.as_deref(),
            session: session.family,
            at: now,
        },
    )
    .await?;
    audit(
        &state,
        Some(account.id),
        "sign_in.success",
        Some(format!("account:{}", account.id)),
        json!({
            "method": method,
            "sign_in": record.id,
            "device": device.get(),
            "new_device": new_device,
            "session": session.family.get(),
        }),
    )
    .await?;
    Ok(Json(pair.response(device, &account)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_accounts_are_negative_and_stable() {
        for fill in [0u8, 0x7f, 0x80, 0xff] {
            let id = pseudo_account(&TokenHash([fill; 32]));
            assert!(id.get() < 0, "{id}");
            assert_eq!(id, pseudo_account(&TokenHash([fill; 32])));
        }
    }
}
