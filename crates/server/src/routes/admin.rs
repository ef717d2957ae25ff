//! Admin actions (disable/enable an account, change its role, end its sessions, revoke any
//! device): the admin role plus a step-up within ten minutes; endings take effect at once.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use canopy_core::{AccountId, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated};
use super::factor::audit;
use super::problem::Problem;
use crate::app::AppState;
use crate::rbac::{self, Denied};
use crate::storage::{AccessGrant, AccountRecord, DeviceId, RevokeReason};

/// The caller of an admin endpoint: an admin whose session proved a second factor in the
/// last ten minutes. As an extractor it runs before the body is read, so a refused caller
/// learns nothing from body validation.
pub struct Admin(pub AccessGrant);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(grant) = Authenticated::from_request_parts(parts, state).await?;
        allow(&grant, state)?;
        Ok(Self(grant))
    }
}

/// The caller of an admin endpoint that only reads: the admin role, no step-up needed.
pub struct AdminReader(pub AccessGrant);

impl FromRequestParts<AppState> for AdminReader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(grant) = Authenticated::from_request_parts(parts, state).await?;
        rbac::admin_view(&grant).map_err(denial)?;
        Ok(Self(grant))
    }
}

fn allow(grant: &AccessGrant, state: &AppState) -> Result<(), ApiError> {
    rbac::admin_action(grant, state.now()).map_err(denial)
}

fn denial(denied: Denied) -> ApiError {
    ApiError::Forbidden(match denied {
        Denied::Role => "Only an admin can do this".into(),
        Denied::StepUp => "Confirm it's you first: send a code from your authenticator app to \
             /v1/auth/step-up, then try again"
            .into(),
    })
}

async fn set_disabled(
    state: AppState,
    grant: AccessGrant,
    id: String,
    disabled: bool,
) -> Result<StatusCode, ApiError> {
    let missing = || ApiError::not_found("There is no account with this id");
    let id = AccountId::new(id.parse::<i64>().map_err(|_| missing())?);
    if id == grant.account && disabled {
        return Err(ApiError::Conflict(
            "You can't disable your own account".into(),
        ));
    }
    state.storage.find_account(id).await?.ok_or_else(missing)?;
    state
        .storage
        .set_account_disabled(id, disabled, state.now())
        .await?;
    let action = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    audit(
        &state,
        Some(grant.account),
        action,
        Some(format!("account:{id}")),
        json!({"by_device": grant.device.get()}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables an account: its sessions and tokens stop working at once.
#[utoipa::path(post, path = "/v1/admin/accounts/{id}/disable", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account to disable")),
    responses(
        (status = 204, description = "Disabled; its sessions are ended"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's own account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn disable_account(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_disabled(state, grant, id, true).await
}

/// Enables a disabled account again; its owner signs in afresh.
#[utoipa::path(post, path = "/v1/admin/accounts/{id}/enable", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account to enable")),
    responses(
        (status = 204, description = "Enabled"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn enable_account(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_disabled(state, grant, id, false).await
}

async fn target_account(state: &AppState, id: &str) -> Result<AccountRecord, ApiError> {
    let missing = || ApiError::not_found("There is no account with this id");
    let id = AccountId::new(id.parse::<i64>().map_err(|_| missing())?);
    state.storage.find_account(id).await?.ok_or_else(missing)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// `distributor`, `manager` or `admin`.
    #[schema(value_type = String)]
    pub role: Role,
}

/// Gives an account another role; it applies to the account's very next request.
#[utoipa::path(post, path = "/v1/admin/accounts/{id}/role", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account")),
    request_body = RoleChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's own account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown role", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_role(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RoleChange>,
) -> Result<StatusCode, ApiError> {
    let account = target_account(&state, &id).await?;
    if account.id == grant.account {
        return Err(ApiError::Conflict("You can't change your own role".into()));
    }
    state.storage.set_role(account.id, req.role).await?;
    audit(
        &state,
        Some(grant.account),
        "role.change",
        Some(format!("account:{}", account.id)),
        json!({"from": account.role.key(), "to": req.role.key()}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionsEnded {
    pub sessions_ended: u64,
}

/// Ends every session of an account at once (the account stays enabled).
#[utoipa::path(post, path = "/v1/admin/accounts/{id}/sign-out", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account")),
    responses(
        (status = 200, description = "Its sessions are ended", body = SessionsEnded),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn end_sessions(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(id): Path<String>,
) -> Result<Json<SessionsEnded>, ApiError> {
    let account = target_account(&state, &id).await?;
    // An admin ending their own sessions keeps the one making the call.
    let keep = (account.id == grant.account).then_some(grant.family);
    let ended = state
        .storage
        .revoke_sessions_except(account.id, keep, RevokeReason::Admin, state.now())
        .await?;
    audit(
        &state,
        Some(grant.account),
        "session.admin_kill",
        Some(format!("account:{}", account.id)),
        json!({"sessions_ended": ended}),
    )
    .await?;
    Ok(Json(SessionsEnded {
        sessions_ended: ended,
    }))
}

/// Revokes any account's device: its sessions and tokens end at once.
#[utoipa::path(delete, path = "/v1/admin/devices/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The device")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such device", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_device(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let missing = || ApiError::not_found("There is no device with this id");
    let id = DeviceId::new(id.parse::<i64>().map_err(|_| missing())?);
    let device = state.storage.find_device(id).await?.ok_or_else(missing)?;
    if state.storage.revoke_device(device.id, state.now()).await? {
        audit(
            &state,
            Some(grant.account),
            "device.revoke",
            Some(format!("device:{}", device.id)),
            json!({"owner": device.account.get(), "by_admin": true}),
        )
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberMove {
    /// The new sponsor; not the member nor anyone in their downline.
    pub sponsor_id: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberMoved {
    /// The member and their downline, who all moved.
    pub members_moved: u64,
}

/// Moves a member and their whole downline under another sponsor (a placement correction
/// or a transfer between teams). Every device whose scope they enter or leave gets the
/// change with its next delta.
#[utoipa::path(post, path = "/v1/admin/members/{id}/move", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The member to move")),
    request_body = MemberMove,
    responses(
        (status = 200, description = "Moved", body = MemberMoved),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member or sponsor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The sponsor is in the member's own downline", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn move_member(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MemberMove>,
) -> Result<Json<MemberMoved>, ApiError> {
    let missing = || ApiError::not_found("There is no such member");
    let id = canopy_core::MemberId::new(id.parse::<i64>().map_err(|_| missing())?);
    let sponsor = canopy_core::MemberId::new(req.sponsor_id);
    let member = state.storage.find_member(id).await?.ok_or_else(missing)?;
    state
        .storage
        .find_member(sponsor)
        .await?
        .ok_or_else(missing)?;
    if sponsor == id
        || state
            .storage
            .is_in_sponsor_line(sponsor, id, 100_000)
            .await?
    {
        return Err(ApiError::Invalid(
            "A member can't move under themselves or their own downline".into(),
        ));
    }
    let moved = state.storage.move_member(id, sponsor, state.now()).await?;
    audit(
        &state,
        Some(grant.account),
        "member.move",
        Some(format!("member:{}", id.get())),
        json!({
            "from": member.sponsor.map(canopy_core::MemberId::get),
            "to": sponsor.get(),
            "members": moved,
        }),
    )
    .await?;
    Ok(Json(MemberMoved {
        members_moved: moved,
    }))
}
