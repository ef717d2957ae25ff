//! Two-step sign-in set-up: `POST /v1/auth/mfa/enroll` (sealed secret, `otpauth://` URI),
//! `/mfa/confirm` (first code; ten recovery codes shown once), `/recovery-codes` (ten new).
//!
//! Replacing an authenticator (a lost phone) goes through the same two calls with a session
//! that proved its second factor in the last ten minutes: the new secret waits as pending
//! (the current one keeps working) until a code from it confirms it within 15 minutes; then
//! it becomes the active secret, the recovery codes are replaced and every other session ends.

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
use crate::app::{AppState, open_totp_secret, seal_totp_secret};
use crate::auth::{TotpError, TotpSecret, recovery};
use crate::storage::{AccountRecord, FamilyId, RevokeReason, TokenHash, TotpPromotion};

/// The issuer authenticator apps show next to the code.
pub const TOTP_ISSUER: &str = "Canopy";
/// A session may change its second factor only this soon after proving one.
const FRESH_SECS: i64 = 10 * 60;
/// A replacement secret must be confirmed this soon after it was issued.
const PENDING_TTL_SECS: i64 = 15 * 60;

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
                "Confirm it's you first: send a code from your authenticator app (or a \
                 recovery code) to /v1/auth/step-up, or sign in again, then change two-step \
                 sign-in"
                    .into(),
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
        (status = 200, description = "A new TOTP secret, not yet on. With two-step sign-in already on (a session with a second factor in the last ten minutes) it replaces the current authenticator once confirmed within 15 minutes; until then the current one keeps working", body = Enrollment),
        (status = 401, description = "No valid enrollment token or session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The session proved its second factor too long ago: step up first", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-step sign-in is already on (with an enrollment token)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn enroll(
    State(state): State<AppState>,
    enroller: Enroller,
) -> Result<Json<Enrollment>, ApiError> {
    let account = enroller.account;
    // Replacing needs a session (the extractor checked its second factor is fresh).
    let replacing = match (account.mfa.enabled, enroller.session) {
        (false, _) => false,
        (true, Some(_)) => true,
        (true, None) => {
            return Err(ApiError::Conflict(
                "Two-step sign-in is already on for this account".into(),
            ));
        }
    };
    let secret = TotpSecret::generate(state.rng.as_ref())
        .map_err(|e| ApiError::internal(format!("TOTP secret: {e}")))?;
    let sealed = seal_totp_secret(&state.keys, account.id, &secret, &state.rng)
        .map_err(|e| ApiError::internal(format!("sealing a TOTP secret: {e}")))?;
    let action = if replacing {
        // Only pending: the current authenticator and MFA stay as they are until confirmed.
        state
            .storage
            .set_pending_totp(account.id, Some(sealed), state.now())
            .await?;
        "mfa.replace_start"
    } else {
        state
            .storage
            .set_mfa(account.id, Some(sealed), false)
            .await?;
        "mfa.enroll_start"
    };
    audit(
        &state,
        Some(account.id),
        action,
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
        (status = 200, description = "Two-step sign-in is on (or the new authenticator replaced the old one: new recovery codes, other sessions ended); recovery codes shown once", body = Confirmed),
        (status = 401, description = "No valid enrollment token or session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The session proved its second factor too long ago: step up first", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already on with no replacement pending, not started, or the replacement expired (15 minutes)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is not right (when replacing: it must come from the new authenticator)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    enroller: Enroller,
    ApiJson(req): ApiJson<Confirm>,
) -> Result<Json<Confirmed>, ApiError> {
    let now = state.now();
    let account = enroller.account;
    if account.mfa.enabled {
        return match enroller.session {
            Some(session) => confirm_replacement(&state, &account, session, &req.code).await,
            None => Err(already_on()),
        };
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

fn already_on() -> ApiError {
    ApiError::Conflict("Two-step sign-in is already on for this account".into())
}

/// Confirms a pending replacement secret with a code from the new authenticator: promotes
/// it, replaces the recovery codes and ends every other session in one transaction.
async fn confirm_replacement(
    state: &AppState,
    account: &AccountRecord,
    session: FamilyId,
    code: &str,
) -> Result<Json<Confirmed>, ApiError> {
    let now = state.now();
    let Some((sealed, created_at)) = state.storage.find_pending_totp(account.id).await? else {
        return Err(already_on());
    };
    if (now - created_at).whole_seconds() > PENDING_TTL_SECS {
        state
            .storage
            .set_pending_totp(account.id, None, now)
            .await?;
        audit(
            state,
            Some(account.id),
            "mfa.replace_expired",
            Some(format!("account:{}", account.id)),
            json!({}),
        )
        .await?;
        return Err(ApiError::Conflict(
            "The new authenticator was not confirmed within 15 minutes, so it was discarded: \
             start again with /v1/auth/mfa/enroll (your current one still works)"
                .into(),
        ));
    }
    let secret = open_totp_secret(&state.keys, account.id, &sealed).map_err(|e| {
        ApiError::internal(format!(
            "opening the pending TOTP secret of account {}: {e}",
            account.id
        ))
    })?;
    let now_secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    // A fresh secret has no used steps; promotion records this code's step as used.
    let step = secret.verify(code, now_secs, None).map_err(|e| match e {
        TotpError::Malformed => ApiError::invalid(e.to_string()),
        _ => ApiError::invalid(format!(
            "{e} (use a code from the new authenticator you just set up)"
        )),
    })?;
    let step =
        i64::try_from(step).map_err(|_| ApiError::invalid(TotpError::Incorrect.to_string()))?;
    let (shown, hashes) = recovery_codes(state)?;
    let promotion = TotpPromotion {
        sealed_secret: sealed,
        step,
        recovery_codes: hashes,
        keep: Some(session),
    };
    let Some(ended) = state
        .storage
        .promote_pending_totp(account.id, promotion, now)
        .await?
    else {
        return Err(ApiError::Conflict(
            "The new authenticator was replaced or discarded meanwhile: start again with \
             /v1/auth/mfa/enroll"
                .into(),
        ));
    };
    audit(
        state,
        Some(account.id),
        "mfa.replace",
        Some(format!("account:{}", account.id)),
        json!({"sessions_ended": ended}),
    )
    .await?;
    Ok(Json(Confirmed {
        recovery_codes: shown,
        detail: "Your new authenticator is set up and the old one no longer works. Keep these \
                 new recovery codes somewhere safe: they are shown only once, and the old ones \
                 no longer work. Other sessions were signed out.",
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
    let (shown, hashes) = recovery_codes(state)?;
    state
        .storage
        .replace_recovery_codes(account.id, hashes)
        .await?;
    Ok(shown)
}

/// Ten fresh recovery codes: the texts to show once and the hashes to store.
fn recovery_codes(state: &AppState) -> Result<(Vec<String>, Vec<TokenHash>), ApiError> {
    let (shown, hashes) = recovery::generate(state.rng.as_ref())
        .map_err(|e| ApiError::internal(format!("recovery codes: {e}")))?;
    let hashes = hashes
        .iter()
        .map(|h| hex_hash(h))
        .collect::<Option<Vec<TokenHash>>>()
        .ok_or_else(|| ApiError::internal("a recovery code hash is not 32 bytes"))?;
    Ok((shown, hashes))
}
