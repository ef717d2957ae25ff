//! Two-step sign-in set-up: `POST /v1/auth/mfa/enroll` (sealed secret, `otpauth://` URI),
//! `/mfa/confirm` (first code; ten recovery codes shown once), `/recovery-codes` (ten new).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, bearer};
use super::factor::{FactorError, SecondFactor, audit, check_second_factor, hex_hash};
use super::pending::{Pending, Purpose};
use super::problem::Problem;
use crate::app::{AppState, seal_totp_secret};
use crate::auth::{TotpSecret, recovery};
use crate::storage::{AccountRecord, FamilyId, RevokeReason, TokenHash};

/// The issuer authenticator apps show next to the code.
pub const TOTP_ISSUER: &str = "Canopy";
/// A session may change its second factor only this soon after proving one.
const FRESH_SECS: i64 = 10 * 60;

/// Who is enrolling: the holder of an enrollment token (`cet_…`, from a sign-in on an
/// account without MFA) or of a session that proved a second factor in the last 10 minutes.
pub struct Enroller {
    pub account: AccountRecord,
    pub session: Option<FamilyId>,
}

impl FromRequestParts<AppState> for Enroller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if bearer(parts).is_some_and(|t| Purpose::Enroll.is_prefix_of(t)) {
            let text = bearer(parts).unwrap_or_default().to_owned();
            let (_, account) = Pending::open(state, &text, Purpose::Enroll).await?;
            return Ok(Self {
                account,
                session: None,
            });
        }
        let Authenticated(grant) = Authenticated::from_request_parts(parts, state).await?;
        let fresh = grant
            .mfa_verified_at
            .is_some_and(|at| (state.now() - at).whole_seconds() <= FRESH_SECS);
        if !fresh {
            return Err(ApiError::Forbidden(
                "Sign in again to change two-step sign-in".into(),
            ));
        }
        let account = state
            .storage
            .find_account(grant.account)
            .await?
            .ok_or_else(ApiError::session_ended)?;
        Ok(Self {
            account,
            session: Some(grant.family),
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Enrollment {
    /// Base32, for typing into an authenticator app by hand.
    pub secret: String,
    /// For the QR code.
    pub otpauth_uri: String,
}

#[utoipa::path(post, path = "/v1/auth/mfa/enroll", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "A new TOTP secret, not yet on", body = Enrollment),
        (status = 401, description = "No valid enrollment token or session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The session proved its second factor too long ago", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-step sign-in is already on", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn enroll(
    State(state): State<AppState>,
    enroller: Enroller,
) -> Result<Json<Enrollment>, ApiError> {
    let account = enroller.account;
    if account.mfa.enabled {
        return Err(ApiError::Conflict(
            "Two-step sign-in is already on for this account".into(),
        ));
    }
    let secret = TotpSecret::generate(state.rng.as_ref())
        .map_err(|e| ApiError::internal(format!("TOTP secret: {e}")))?;
    let sealed = seal_totp_secret(&state.keys, account.id, &secret, &state.rng)
        .map_err(|e| ApiError::internal(format!("sealing a TOTP secret: {e}")))?;
    state
        .storage
        .set_mfa(account.id, Some(sealed), false)
        .await?;
    audit(
        &state,
        Some(account.id),
        "mfa.enroll_start",
        Some(format!("account:{}", account.id)),
        json!({}),
    )
    .await?;
    Ok(Json(Enrollment {
        secret: secret.to_base32().as_str().to_owned(),
        otpauth_uri: secret
            .otpauth_uri(TOTP_ISSUER, account.email.as_str())
            .as_str()
            .to_owned(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    pub code: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Confirmed {
    /// Shown once: the person must keep them now.
    pub recovery_codes: Vec<String>,
    pub detail: &'static str,
}

#[utoipa::path(post, path = "/v1/auth/mfa/confirm", tag = "auth", security(("bearer" = [])),
    request_body = Confirm,
    responses(
        (status = 200, description = "Two-step sign-in is on; recovery codes shown once", body = Confirmed),
        (status = 401, description = "No valid enrollment token or session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already on, or not started", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is not right", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    enroller: Enroller,
    ApiJson(req): ApiJson<Confirm>,
) -> Result<Json<Confirmed>, ApiError> {
    let now = state.now();
    let account = enroller.account;
    if account.mfa.enabled {
        return Err(ApiError::Conflict(
            "Two-step sign-in is already on for this account".into(),
        ));
    }
    let Some(sealed) = account.mfa.sealed_secret.clone() else {
        return Err(ApiError::Conflict(
            "Start with /v1/auth/mfa/enroll to get a secret first".into(),
        ));
    };
    match check_second_factor(&state, &account, SecondFactor::Totp(&req.code), now).await {
        Ok(()) => {}
        Err(FactorError::Api(e)) => return Err(e),
        Err(FactorError::Malformed(detail)) => return Err(ApiError::invalid(detail)),
        Err(FactorError::Refused(detail)) => return Err(ApiError::invalid(detail)),
    }
    let shown = new_recovery_codes(&state, &account).await?;
    state
        .storage
        .set_mfa(account.id, Some(sealed), true)
        .await?;
    let ended = state
        .storage
        .revoke_sessions_except(account.id, enroller.session, RevokeReason::MfaChanged, now)
        .await?;
    audit(
        &state,
        Some(account.id),
        "mfa.enable",
        Some(format!("account:{}", account.id)),
        json!({"sessions_ended": ended}),
    )
    .await?;
    Ok(Json(Confirmed {
        recovery_codes: shown,
        detail: "Two-step sign-in is on. Keep these recovery codes somewhere safe: they are \
                 shown only once. Then sign in again.",
    }))
}

/// Replaces every recovery code with ten new ones, shown once. Needs a second factor proven
/// in this session within the last ten minutes (sign-in or `/v1/auth/step-up`).
#[utoipa::path(post, path = "/v1/auth/recovery-codes", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "Ten new codes; the old ones no longer work", body = Confirmed),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No second factor in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-step sign-in is not on", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
) -> Result<Json<Confirmed>, ApiError> {
    let fresh = grant
        .mfa_verified_at
        .is_some_and(|at| (state.now() - at).whole_seconds() <= FRESH_SECS);
    if !fresh {
        return Err(ApiError::Forbidden(
            "Confirm it's you first: send a code from your authenticator app to \
             /v1/auth/step-up, then try again"
                .into(),
        ));
    }
    let account = state
        .storage
        .find_account(grant.account)
        .await?
        .ok_or_else(ApiError::session_ended)?;
    if !account.mfa.enabled {
        return Err(ApiError::Conflict(
            "Turn on two-step sign-in first: recovery codes belong to it".into(),
        ));
    }
    let shown = new_recovery_codes(&state, &account).await?;
    audit(
        &state,
        Some(account.id),
        "mfa.recovery_codes_regenerated",
        Some(format!("account:{}", account.id)),
        json!({"device": grant.device.get()}),
    )
    .await?;
    Ok(Json(Confirmed {
        recovery_codes: shown,
        detail: "Keep these recovery codes somewhere safe: they are shown only once, and the \
                 old ones no longer work.",
    }))
}

/// Ten fresh codes replace all of the account's codes; returns them for showing once.
async fn new_recovery_codes(
    state: &AppState,
    account: &AccountRecord,
) -> Result<Vec<String>, ApiError> {
    let (shown, hashes) = recovery::generate(state.rng.as_ref())
        .map_err(|e| ApiError::internal(format!("recovery codes: {e}")))?;
    let hashes = hashes
        .iter()
        .map(|h| hex_hash(h))
        .collect::<Option<Vec<TokenHash>>>()
        .ok_or_else(|| ApiError::internal("a recovery code hash is not 32 bytes"))?;
    state
        .storage
        .replace_recovery_codes(account.id, hashes)
        .await?;
    Ok(shown)
}
