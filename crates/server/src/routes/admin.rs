//! Admin actions (disable/enable an account, change its role, end its sessions, revoke any
//! device): the admin role plus a step-up within ten minutes; endings take effect at once.
//! Listing accounts and an account's devices needs the admin role only.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use canopy_core::{AccountId, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated};
use super::factor::audit;
use super::problem::Problem;
use crate::app::AppState;
use crate::rbac::{self, Denied};
use crate::storage::{
    AccessGrant, AccountRecord, AccountSummary, DeviceId, DeviceRecord, RevokeReason, StorageError,
};

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

/// Accounts per page when the caller does not say, and at most.
const ACCOUNTS_PAGE: u32 = 50;
const MAX_ACCOUNTS_PAGE: u32 = 200;
/// The longest email search (an email address is at most 254 characters).
const MAX_QUERY_CHARS: usize = 254;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccountQuery {
    /// The start of the email address, any case; every account if left out.
    pub query: Option<String>,
    /// The `next_after` of the previous page.
    pub after: Option<i64>,
    /// At most 200; 50 if left out.
    pub limit: Option<u32>,
}

/// An account as the admin sees it in the list: never a password hash, secret or token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: i64,
    pub email: String,
    /// `distributor`, `manager` or `admin`.
    pub role: &'static str,
    /// The genealogy member the account is, if any.
    pub member_id: Option<i64>,
    pub member_number: Option<String>,
    pub member_name: Option<String>,
    pub disabled: bool,
    /// Whether the account has an authenticator app set up.
    pub mfa_enabled: bool,
    /// Devices not revoked.
    pub devices: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sign_in_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<AccountSummary> for AccountView {
    fn from(account: AccountSummary) -> Self {
        let (member_id, member_number, member_name) = match account.member {
            Some((id, number, name)) => (
                Some(id.get()),
                Some(number.as_str().to_owned()),
                Some(name.as_str().to_owned()),
            ),
            None => (None, None, None),
        };
        Self {
            id: account.id.get(),
            email: account.email.as_str().to_owned(),
            role: account.role.key(),
            member_id,
            member_number,
            member_name,
            disabled: account.disabled,
            mfa_enabled: account.mfa_enabled,
            devices: account.live_devices,
            last_sign_in_at: account.last_sign_in,
            created_at: account.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountPage {
    /// In email order.
    pub accounts: Vec<AccountView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

/// Lists accounts by email, a page at a time, optionally only those whose email starts
/// with `query`.
#[utoipa::path(get, path = "/v1/admin/accounts", tag = "admin", security(("bearer" = [])),
    params(AccountQuery),
    responses(
        (status = 200, description = "A page of accounts in email order", body = AccountPage),
        (status = 400, description = "Bad query, cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_accounts(
    State(state): State<AppState>,
    AdminReader(grant): AdminReader,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Result<Json<AccountPage>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "Use `query` (the start of an email, at most {MAX_QUERY_CHARS} characters), \
             `after` (the `next_after` of the page before) and `limit` (1 to \
             {MAX_ACCOUNTS_PAGE})"
        ))
    };
    let Query(query) = query.map_err(|_| bad())?;
    let prefix = query.query.unwrap_or_default();
    let limit = query.limit.unwrap_or(ACCOUNTS_PAGE);
    if prefix.chars().count() > MAX_QUERY_CHARS || !(1..=MAX_ACCOUNTS_PAGE).contains(&limit) {
        return Err(bad());
    }
    let after = query.after.map(AccountId::new);
    // One more than asked for tells whether another page follows.
    let mut accounts = state
        .storage
        .list_accounts(&prefix, after, limit + 1)
        .await
        .map_err(|e| match e {
            StorageError::NotFound => bad(),
            e => e.into(),
        })?;
    let more = accounts.len() > limit as usize;
    accounts.truncate(limit as usize);
    let next_after = more.then(|| accounts.last().map(|a| a.id.get())).flatten();
    // Who looked, not what they looked for: the search text is personal data.
    tracing::info!(
        admin = grant.account.get(),
        shown = accounts.len(),
        searched = !prefix.is_empty(),
        "admin listed accounts"
    );
    Ok(Json(AccountPage {
        accounts: accounts.into_iter().map(AccountView::from).collect(),
        next_after,
    }))
}

/// One of an account's devices as the admin sees it (no key).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AdminDeviceView {
    pub id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<DeviceRecord> for AdminDeviceView {
    fn from(device: DeviceRecord) -> Self {
        Self {
            id: device.id.get(),
            name: device.name,
            created_at: device.created_at,
            last_seen_at: device.last_seen_at,
            revoked_at: device.revoked_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountDevices {
    pub account_id: i64,
    /// Newest first, revoked ones included.
    pub devices: Vec<AdminDeviceView>,
}

/// An account's devices, to see what is signed in and revoke one.
#[utoipa::path(get, path = "/v1/admin/accounts/{id}/devices", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account")),
    responses(
        (status = 200, description = "The account's devices, newest first, revoked ones included", body = AccountDevices),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn account_devices(
    State(state): State<AppState>,
    AdminReader(grant): AdminReader,
    Path(id): Path<String>,
) -> Result<Json<AccountDevices>, ApiError> {
    let account = target_account(&state, &id).await?;
    let devices = state.storage.list_devices(account.id).await?;
    tracing::info!(
        admin = grant.account.get(),
        account = account.id.get(),
        "admin listed an account's devices"
    );
    Ok(Json(AccountDevices {
        account_id: account.id.get(),
        devices: devices.into_iter().map(AdminDeviceView::from).collect(),
    }))
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
        crate::alerts::after_device_revoked(state.storage.as_ref(), &device, true, state.now())
            .await?;
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
