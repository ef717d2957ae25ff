//! The signed-in person's own security pages: `GET /v1/me/devices`, `DELETE
//! /v1/me/devices/{id}` (only one's own; anyone else's is 404) and `GET /v1/me/sign-ins`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::error::ApiError;
use super::extract::Authenticated;
use super::factor::{audit, ip_text};
use super::problem::Problem;
use crate::app::AppState;
use crate::storage::{DeviceId, DeviceRecord, SignInRecord};

/// How many sign-ins "my recent sign-ins" shows.
const RECENT_SIGN_INS: u32 = 50;

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    pub id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// The device this request comes from.
    pub current: bool,
}

impl DeviceView {
    pub(crate) fn new(device: DeviceRecord, current: DeviceId) -> Self {
        Self {
            id: device.id.get(),
            current: device.id == current,
            name: device.name,
            created_at: device.created_at,
            last_seen_at: device.last_seen_at,
            revoked_at: device.revoked_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Devices {
    pub devices: Vec<DeviceView>,
}

#[utoipa::path(get, path = "/v1/me/devices", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's devices, newest first, revoked ones included", body = Devices),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_devices(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
) -> Result<Json<Devices>, ApiError> {
    let devices = state.storage.list_devices(grant.account).await?;
    Ok(Json(Devices {
        devices: devices
            .into_iter()
            .map(|d| DeviceView::new(d, grant.device))
            .collect(),
    }))
}

/// Revokes one of the caller's devices: its sessions and tokens end at once.
#[utoipa::path(delete, path = "/v1/me/devices/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = i64, Path, description = "One of the caller's devices")),
    responses(
        (status = 204, description = "Revoked; its sessions ended at once"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The caller has no such device", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_device(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let missing = || ApiError::not_found("You have no device with this id");
    let id = DeviceId::new(id.parse::<i64>().map_err(|_| missing())?);
    let device = state
        .storage
        .find_device(id)
        .await?
        .filter(|d| d.account == grant.account)
        .ok_or_else(missing)?;
    let now = state.now();
    if state.storage.revoke_device(device.id, now).await? {
        crate::alerts::after_device_revoked(state.storage.as_ref(), &device, false, now).await?;
        audit(
            &state,
            Some(grant.account),
            "device.revoke",
            Some(format!("device:{}", device.id)),
            json!({"by_device": grant.device.get()}),
        )
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignInView {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub ip: String,
    pub device_id: Option<i64>,
    /// `success`, `wrong_password`, `wrong_second_factor`, `throttled`, …
    pub outcome: &'static str,
}

impl From<SignInRecord> for SignInView {
    fn from(record: SignInRecord) -> Self {
        let attempt = record.attempt;
        Self {
            at: attempt.at,
            ip: ip_text(attempt.ip),
            device_id: attempt.device.map(DeviceId::get),
            outcome: attempt.outcome.key(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignIns {
    pub sign_ins: Vec<SignInView>,
}

#[utoipa::path(get, path = "/v1/me/sign-ins", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's last 50 sign-in attempts, newest first", body = SignIns),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sign_ins(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
) -> Result<Json<SignIns>, ApiError> {
    let records = state
        .storage
        .recent_sign_ins(grant.account, RECENT_SIGN_INS)
        .await?;
    Ok(Json(SignIns {
        sign_ins: records.into_iter().map(SignInView::from).collect(),
    }))
}
