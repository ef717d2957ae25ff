//! Living sessions: `POST /v1/auth/refresh` (device-signed rotation with reuse detection),
//! sign-out, step-up, and `POST /v1/auth/password` (needs MFA, ends other sessions).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated};
use super::factor::{
    FactorError, SecondFactor, SessionTokens, TokenPair, audit, check_device_signature,
    check_second_factor, check_throttle, ip_text, record_failure, refresh_message,
};
use super::problem::Problem;
use crate::app::{AppState, token_hash};
use crate::auth::password::MAX_CHARS;
use crate::auth::{Identifiers, PasswordPolicy, Token, TokenKind};
use crate::storage::{DeviceId, RefreshRotation, RevokeReason, RotateOutcome, ThrottleKey};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
    pub device_id: i64,
    /// Unix seconds when the device signed; within five minutes of the server's clock.
    pub timestamp: i64,
    /// Ed25519 over `canopy-refresh\n{device_id}\n{timestamp}\n{sha256(refresh_token) hex}`,
    /// standard base64.
    pub signature: String,
}

#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair; the old refresh token is spent", body = SessionTokens),
        (status = 401, description = "Unknown, expired or reused token, or a bad device signature", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<SessionTokens>, ApiError> {
    let now = state.now();
    let token = Token::parse(&req.refresh_token, TokenKind::Refresh)
        .map_err(|e| ApiError::unauthorized(e.to_string()))?;
    let presented = token_hash(&token);
    let record = state
        .storage
        .find_refresh_token(presented)
        .await?
        .ok_or_else(ApiError::session_ended)?;
    let device_id = DeviceId::new(req.device_id);
    let not_signed = || ApiError::unauthorized("The request is not signed by this device's key");
    if record.session.device != device_id {
        return Err(not_signed());
    }
    let device = state
        .storage
        .find_device(device_id)
        .await?
        .ok_or_else(not_signed)?;
    let message = refresh_message(device_id, req.timestamp, &presented);
    if let Err(detail) =
        check_device_signature(&device, &message, req.timestamp, &req.signature, now)
    {
        // The address goes to the operational log (kept for its own short time), not into
        // the audit chain, which holds ids only.
        tracing::warn!(
            account = %record.session.account,
            ip = %ip_text(peer.ip()),
            "a refresh came with a bad device signature"
        );
        audit(
            &state,
            Some(record.session.account),
            "session.refresh_bad_signature",
            Some(format!("session:{}", record.session.family)),
            json!({"device": device_id.get()}),
        )
        .await?;
        return Err(ApiError::unauthorized(detail));
    }
    let pair = TokenPair::generate(&state, now)?;
    let rotation = RefreshRotation {
        presented,
        refresh: pair.refresh_issued,
        access: pair.access_issued,
    };
    match state.storage.rotate_refresh_token(rotation, now).await? {
        RotateOutcome::Rotated(session) => {
            state.storage.touch_device(session.device, now).await?;
            let account = state
                .storage
                .find_account(session.account)
                .await?
                .ok_or_else(ApiError::session_ended)?;
            Ok(Json(pair.response(session.device, &account)))
        }
        RotateOutcome::ReuseDetected(session) => {
            tracing::warn!(
                account = %session.account,
                session = %session.family,
                ip = %ip_text(peer.ip()),
                "a used refresh token came back; the session is revoked"
            );
            audit(
                &state,
                Some(session.account),
                "session.refresh_reuse",
                Some(format!("session:{}", session.family)),
                json!({"device": session.device.get()}),
            )
            .await?;
            Err(ApiError::unauthorized(
                "This session's refresh token was used twice, so the session has been ended \
                 to keep your account safe: sign in again",
            ))
        }
        RotateOutcome::Refused(_) => Err(ApiError::session_ended()),
    }
}

#[utoipa::path(post, path = "/v1/auth/sign-out", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "The session is ended"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sign_out(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .storage
        .revoke_session(grant.family, RevokeReason::SignOut, now)
        .await?;
    audit(
        &state,
        Some(grant.account),
        "session.sign_out",
        Some(format!("session:{}", grant.family)),
        json!({"device": grant.device.get()}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    /// A code from the authenticator app (or a recovery code).
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    /// Sessions on other devices that were ended.
    pub sessions_ended: u64,
}

#[utoipa::path(post, path = "/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; other sessions ended", body = PasswordChanged),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong current password or code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The new password breaks the policy, or no code was sent", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<Json<PasswordChanged>, ApiError> {
    let now = state.now();
    if req.current_password.chars().count() > 4 * MAX_CHARS {
        return Err(ApiError::Forbidden(
            "Your current password is not right".into(),
        ));
    }
    let keys = [ThrottleKey::AccountDevice(grant.account, grant.device)];
    check_throttle(&state, &keys, now).await?;
    let account = state
        .storage
        .find_account(grant.account)
        .await?
        .ok_or_else(ApiError::session_ended)?;
    let factor = match (&req.code, &req.recovery_code) {
        (Some(code), None) => SecondFactor::Totp(code),
        (None, Some(code)) => SecondFactor::Recovery(code),
        _ => {
            return Err(ApiError::invalid(
                "Send `code` from your authenticator app (or a `recovery_code`) to change your \
                 password",
            ));
        }
    };
    // The policy first: a refused new password costs no attempt.
    let member = match account.member {
        Some(id) => state.storage.find_member(id).await?,
        None => None,
    };
    let display = member
        .as_ref()
        .map(|m| AsRef::<str>::as_ref(&m.display_name).to_owned());
    let mut names = display.as_deref().unwrap_or("").split_whitespace();
    let ids = Identifiers {
        email: Some(account.email.as_str()),
        first_name: names.next(),
        last_name: names.next_back(),
        member_number: member.as_ref().map(|m| m.number.as_str()),
    };
    PasswordPolicy {
        has_mfa: account.mfa.enabled,
    }
    .check(&req.new_password, &ids)
    .map_err(|e| ApiError::invalid(e.to_string()))?;

    let hasher = state.hasher.clone();
    let stored = account.password_hash.clone();
    let current = zeroize::Zeroizing::new(req.current_password);
    let matched = tokio::task::spawn_blocking(move || hasher.verify(&current, &stored))
        .await
        .map_err(|e| ApiError::internal(format!("password check task: {e}")))?
        .map_err(|e| ApiError::internal(format!("password check: {e}")))?
        .is_match();
    if !matched {
        let detail = "Your current password is not right".to_owned();
        return Err(refuse(&state, &keys, &grant, detail).await);
    }
    match check_second_factor(&state, &account, factor, now).await {
        Ok(()) => {}
        Err(FactorError::Api(e)) => return Err(e),
        Err(FactorError::Malformed(detail)) => return Err(ApiError::invalid(detail)),
        Err(FactorError::Refused(detail)) => {
            return Err(refuse(&state, &keys, &grant, detail).await);
        }
    }

    let hasher = state.hasher.clone();
    let rng = state.rng.clone();
    let new = zeroize::Zeroizing::new(req.new_password);
    let hash = tokio::task::spawn_blocking(move || hasher.hash(&new, rng.as_ref()))
        .await
        .map_err(|e| ApiError::internal(format!("password hash task: {e}")))?
        .map_err(|e| ApiError::internal(format!("password hash: {e}")))?;
    let ended = state
        .storage
        .change_password(account.id, hash, Some(grant.family), now)
        .await?;
    state.storage.record_success(keys.to_vec()).await?;
    audit(
        &state,
        Some(account.id),
        "password.change",
        Some(format!("account:{}", account.id)),
        json!({"device": grant.device.get(), "sessions_ended": ended}),
    )
    .await?;
    Ok(Json(PasswordChanged {
        sessions_ended: ended,
    }))
}

/// A wrong current password or code on a password change: counted against this device's
/// throttle and audited; the answer is 403 so the client keeps its session.
async fn refuse(
    state: &AppState,
    keys: &[ThrottleKey],
    grant: &crate::storage::AccessGrant,
    detail: String,
) -> ApiError {
    let now = state.now();
    let recorded = async {
        record_failure(state, keys, now).await?;
        audit(
            state,
            Some(grant.account),
            "password.change_refused",
            Some(format!("account:{}", grant.account)),
            json!({"device": grant.device.get()}),
        )
        .await
    };
    match recorded.await {
        Ok(()) => ApiError::Forbidden(detail),
        Err(e) => e,
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepUpRequest {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SteppedUp {
    /// Actions that need a recent second factor (admin actions, changing two-step sign-in)
    /// are allowed for ten minutes from here.
    #[serde(with = "time::serde::rfc3339")]
    pub mfa_verified_at: time::OffsetDateTime,
}

/// Proves the second factor again within a session (step-up), for actions that need it.
#[utoipa::path(post, path = "/v1/auth/step-up", tag = "auth", security(("bearer" = [])),
    request_body = StepUpRequest,
    responses(
        (status = 200, description = "Second factor proven now", body = SteppedUp),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The code is not right or was used before", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No code, or a malformed one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn step_up(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    ApiJson(req): ApiJson<StepUpRequest>,
) -> Result<Json<SteppedUp>, ApiError> {
    let now = state.now();
    let factor = match (&req.code, &req.recovery_code) {
        (Some(code), None) => SecondFactor::Totp(code),
        (None, Some(code)) => SecondFactor::Recovery(code),
        _ => {
            return Err(ApiError::invalid(
                "Send either `code` (from your authenticator app) or `recovery_code`",
            ));
        }
    };
    let keys = [ThrottleKey::AccountDevice(grant.account, grant.device)];
    check_throttle(&state, &keys, now).await?;
    let account = state
        .storage
        .find_account(grant.account)
        .await?
        .ok_or_else(ApiError::session_ended)?;
    match check_second_factor(&state, &account, factor, now).await {
        Ok(()) => {}
        Err(FactorError::Api(e)) => return Err(e),
        Err(FactorError::Malformed(detail)) => return Err(ApiError::invalid(detail)),
        Err(FactorError::Refused(detail)) => {
            record_failure(&state, &keys, now).await?;
            audit(
                &state,
                Some(grant.account),
                "session.step_up_refused",
                Some(format!("session:{}", grant.family)),
                json!({"device": grant.device.get()}),
            )
            .await?;
            return Err(ApiError::Forbidden(detail));
        }
    }
    state.storage.record_step_up(grant.family, now).await?;
    audit(
        &state,
        Some(grant.account),
        "session.step_up",
        Some(format!("session:{}", grant.family)),
        json!({"device": grant.device.get()}),
    )
    .await?;
    Ok(Json(SteppedUp {
        mfa_verified_at: now,
    }))
}
