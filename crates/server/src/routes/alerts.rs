//! Security alerts (SECURITY.md #15): `GET /v1/me/alerts` (the caller's own), `GET
//! /v1/admin/alerts` (admins), and acknowledging or resolving one (admin with a step-up).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::admin::{Admin, AdminReader};
use super::error::ApiError;
use super::extract::Authenticated;
use super::factor::audit;
use super::problem::Problem;
use crate::app::AppState;
use crate::storage::{AccessGrant, AlertId, AlertRecord, AlertState};

/// How many alerts "my alerts" shows.
const MY_ALERTS: u32 = 50;
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 200;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: i64,
    /// `new_device_sign_in`, `new_ip_sign_in`, `repeated_failures`, …
    pub kind: String,
    /// What the alert says, in words.
    pub title: &'static str,
    /// `info`, `warning` or `critical`.
    pub severity: &'static str,
    /// `open`, `acknowledged` or `resolved`.
    pub state: &'static str,
    /// The account the alert is about.
    pub account_id: Option<i64>,
    /// Ids, addresses and device names behind the alert; never secrets.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    pub resolved_by: Option<i64>,
}

impl From<AlertRecord> for AlertView {
    fn from(alert: AlertRecord) -> Self {
        Self {
            id: alert.id.get(),
            title: crate::alerts::title(&alert.kind),
            severity: alert.severity.key(),
            state: alert.state().key(),
            account_id: alert.account.map(canopy_core::AccountId::get),
            kind: alert.kind,
            evidence: alert.evidence,
            created_at: alert.created_at,
            acknowledged_at: alert.acknowledged_at,
            acknowledged_by: alert.acknowledged_by.map(canopy_core::AccountId::get),
            resolved_at: alert.resolved_at,
            resolved_by: alert.resolved_by.map(canopy_core::AccountId::get),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Alerts {
    pub alerts: Vec<AlertView>,
}

fn view(records: Vec<AlertRecord>) -> Json<Alerts> {
    Json(Alerts {
        alerts: records.into_iter().map(AlertView::from).collect(),
    })
}

#[utoipa::path(get, path = "/v1/me/alerts", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's last 50 alerts (new devices and addresses that signed in), newest first", body = Alerts),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_alerts(
    State(state): State<AppState>,
    Authenticated(grant): Authenticated,
) -> Result<Json<Alerts>, ApiError> {
    let records = state
        .storage
        .list_alerts_for_account(grant.account, MY_ALERTS)
        .await?;
    Ok(view(records))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// `open` (the default), `acknowledged`, `resolved` or `all`.
    pub state: Option<String>,
    /// At most 200; 100 if left out.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/admin/alerts", tag = "admin", security(("bearer" = [])),
    params(AlertQuery),
    responses(
        (status = 200, description = "Admin alerts in the state asked for (open ones by default); with `all`, open ones first; newest first", body = Alerts),
        (status = 400, description = "Unknown state or bad limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn admin_alerts(
    State(state): State<AppState>,
    AdminReader(_grant): AdminReader,
    query: Result<Query<AlertQuery>, QueryRejection>,
) -> Result<Json<Alerts>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "Use `state` (open, acknowledged, resolved or all) and `limit` (1 to {MAX_PAGE})"
        ))
    };
    let Query(query) = query.map_err(|_| bad())?;
    let wanted = match query.state.as_deref() {
        None | Some("open") => Some(AlertState::Open),
        Some("acknowledged") => Some(AlertState::Acknowledged),
        Some("resolved") => Some(AlertState::Resolved),
        Some("all") => None,
        Some(_) => return Err(bad()),
    };
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(bad());
    }
    Ok(view(state.storage.list_admin_alerts(wanted, limit).await?))
}

fn alert_id(id: &str) -> Result<AlertId, ApiError> {
    id.parse::<i64>().map(AlertId::new).map_err(|_| missing())
}

fn missing() -> ApiError {
    ApiError::not_found("There is no admin alert with this id")
}

async fn change(
    state: &AppState,
    grant: &AccessGrant,
    id: &str,
    resolve: bool,
) -> Result<Json<AlertView>, ApiError> {
    let id = alert_id(id)?;
    let now = state.now();
    let result = if resolve {
        state.storage.resolve_alert(id, grant.account, now).await
    } else {
        state
            .storage
            .acknowledge_alert(id, grant.account, now)
            .await
    };
    let alert = result.map_err(|e| {
        if e.is_not_found() {
            missing()
        } else {
            e.into()
        }
    })?;
    let action = if resolve {
        "alert.resolve"
    } else {
        "alert.acknowledge"
    };
    audit(
        state,
        Some(grant.account),
        action,
        Some(format!("alert:{id}")),
        json!({"kind": alert.kind, "account": alert.account.map(canopy_core::AccountId::get)}),
    )
    .await?;
    Ok(Json(AlertView::from(alert)))
}

/// Marks an admin alert as seen and being looked into.
#[utoipa::path(post, path = "/v1/admin/alerts/{id}/acknowledge", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "An admin alert")),
    responses(
        (status = 200, description = "Acknowledged (the first acknowledgement is kept)", body = AlertView),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admin alert", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(id): Path<String>,
) -> Result<Json<AlertView>, ApiError> {
    change(&state, &grant, &id, false).await
}

/// Closes an admin alert; a new one of its kind may be raised again after this.
#[utoipa::path(post, path = "/v1/admin/alerts/{id}/resolve", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "An admin alert")),
    responses(
        (status = 200, description = "Resolved (the first resolution is kept)", body = AlertView),
        (status = 401, description = "No live access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or no step-up in the last ten minutes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such admin alert", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resolve(
    State(state): State<AppState>,
    Admin(grant): Admin,
    Path(id): Path<String>,
) -> Result<Json<AlertView>, ApiError> {
    change(&state, &grant, &id, true).await
}
